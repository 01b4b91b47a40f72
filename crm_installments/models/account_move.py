from odoo import api, fields, models
from odoo.tools import SQL


class AccountMove(models.Model):
    """``crm_contract_id`` (from crm_receivables) brings the contract's penalty terms to a late
    invoice that no installment plan covers."""

    _inherit = "account.move"

    crm_installment_plan_ids = fields.One2many("crm.installment.plan", "invoice_id", string="Installment Plans")
    crm_installment_plan_count = fields.Integer(compute="_compute_crm_installment_plan_count")
    crm_penalty_ids = fields.One2many("crm.installment.penalty", "move_id", string="Penalties")
    crm_penalty_total = fields.Monetary(
        string="Total Penalties", compute="_compute_crm_penalty_total", currency_field="currency_id"
    )
    crm_penalty_date_ref = fields.Date(string="Penalties Computed To", readonly=True, copy=False)

    @api.depends("crm_installment_plan_ids")
    def _compute_crm_installment_plan_count(self):
        for move in self:
            move.crm_installment_plan_count = len(move.crm_installment_plan_ids)

    @api.depends("crm_penalty_ids.amount")
    def _compute_crm_penalty_total(self):
        for move in self:
            move.crm_penalty_total = sum(move.crm_penalty_ids.mapped("amount"))

    def action_crm_create_installment_plan(self):
        self.ensure_one()
        return self.env["crm.installment.plan"]._action_open_new_plan(self)

    def action_crm_open_installment_plans(self):
        self.ensure_one()
        return self.env["crm.installment.plan"]._action_open_plans(
            [("invoice_id", "=", self.id)], {"default_invoice_id": self.id}
        )

    def _crm_active_plan_by_invoice(self):
        """{invoice id: plan} of the invoices paid through an active (or paid) plan: the plan of
        the invoice, else the plan of its sale order when that plan has no invoice of its own."""
        Plan = self.env["crm.installment.plan"]
        plans = Plan.search([("invoice_id", "in", self.ids), ("state", "in", ("active", "done"))])
        result = {plan.invoice_id.id: plan for plan in plans}
        rest = self.filtered(lambda m: m.id not in result)
        orders = rest.line_ids.sale_line_ids.order_id
        if orders:
            order_plans = Plan.search(
                [("sale_order_id", "in", orders.ids), ("invoice_id", "=", False), ("state", "in", ("active", "done"))]
            )
            plan_by_order = {plan.sale_order_id.id: plan for plan in order_plans}
            for move in rest:
                for order in move.line_ids.sale_line_ids.order_id:
                    if order.id in plan_by_order:
                        result[move.id] = plan_by_order[order.id]
                        break
        return result

    @api.model
    def _crm_planned_invoice_ids(self):
        """Ids of every invoice paid through an active (or paid) plan, as
        :meth:`_crm_active_plan_by_invoice` decides it, in one query."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT plan.invoice_id FROM crm_installment_plan plan
             WHERE plan.invoice_id IS NOT NULL AND plan.state IN ('active', 'done')
            UNION
            SELECT aml.move_id
              FROM crm_installment_plan plan
              JOIN sale_order_line sol ON sol.order_id = plan.sale_order_id
              JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
              JOIN account_move_line aml ON aml.id = rel.invoice_line_id
             WHERE plan.invoice_id IS NULL AND plan.state IN ('active', 'done')
            """
            )
        )
        return {move_id for (move_id,) in rows}

    @api.model
    def _crm_dunning_exclusion_sql(self, move):
        """Invoices paid by installments are chased through their installments, not by their own due date."""
        return SQL(
            "%s AND NOT (%s.id = ANY(%s))",
            super()._crm_dunning_exclusion_sql(move),
            move,
            sorted(self._crm_planned_invoice_ids()),
        )

    def _crm_has_plan(self):
        self.ensure_one()
        return self.id in self.sudo()._crm_active_plan_by_invoice()

    # ------------------------------------------------------------------ penalties without a plan
    @api.model
    def _crm_penalty_candidates(self, date_ref, limit):
        """Late customer invoices of a contract with a penalty rate, not covered by a plan."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
            SELECT move.id
              FROM account_move move
              JOIN crm_contract contract ON contract.id = move.crm_contract_id
             WHERE move.move_type = 'out_invoice' AND move.state = 'posted'
               AND move.payment_state IN ('not_paid', 'partial')
               AND contract.penalty_rate > 0
               AND move.invoice_date_due + contract.penalty_grace_days < %(date_ref)s
               AND (move.crm_penalty_date_ref IS NULL OR move.crm_penalty_date_ref != %(date_ref)s)
               AND NOT EXISTS (SELECT 1 FROM crm_installment_plan plan
                                WHERE plan.invoice_id = move.id AND plan.state IN ('active', 'done'))
             ORDER BY move.id
             LIMIT %(limit)s
               FOR UPDATE OF move SKIP LOCKED
            """,
                date_ref=date_ref,
                limit=limit,
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _crm_payment_history(self):
        """(date, amount in the invoice currency) of what paid the invoice: the reconciliations of
        its receivable lines, dated by the payment (or credit note) entry."""
        self.ensure_one()
        receivables = self.line_ids.filtered(lambda aml: aml.account_id.account_type == "asset_receivable")
        return [
            (partial.credit_move_id.date, partial.debit_amount_currency) for partial in receivables.matched_credit_ids
        ]

    def _crm_sync_penalties(self, date_ref=None):
        Plan = self.env["crm.installment.plan"]
        Penalty = self.env["crm.installment.penalty"]
        for move in self:
            contract = move.crm_contract_id
            day = date_ref or move.crm_penalty_date_ref
            if not day or not contract.penalty_rate:
                continue
            if move._crm_has_plan():
                move.crm_penalty_date_ref = day  # its installments carry the penalties
                continue
            terms = (contract.penalty_rate, contract.penalty_grace_days, contract.penalty_cap_percent)
            segments = Plan._penalty_segments(
                move.invoice_date_due, move.amount_total, move._crm_payment_history(), terms, day, move.currency_id
            )
            Penalty._sync(move.crm_penalty_ids, segments, {"move_id": move.id}, terms, move.currency_id, day)
            move.crm_penalty_date_ref = day

    def action_crm_invoice_penalties(self):
        return self.env["crm.installment.plan"]._action_invoice_penalties(self[:1].commercial_partner_id)
