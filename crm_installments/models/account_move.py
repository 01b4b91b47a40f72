from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_index

from .access import MONEY_GROUPS, check_groups


class AccountMove(models.Model):
    """``crm_contract_id`` (from crm_receivables) brings the contract's penalty terms to a late
    invoice that no installment plan covers."""

    _name = "account.move"
    _inherit = ["account.move", "crm.installment.source.mixin"]

    crm_installment_plan_ids = fields.One2many("crm.installment.plan", "invoice_id", string="Installment Plans")
    crm_penalty_ids = fields.One2many("crm.installment.penalty", "move_id", string="Penalties")
    crm_penalty_total = fields.Monetary(
        string="Total Penalties", compute="_compute_crm_penalty_total", currency_field="currency_id"
    )
    crm_penalty_date_ref = fields.Date(string="Penalties Computed To", readonly=True, copy=False)

    @api.depends("crm_penalty_ids.amount")
    def _compute_crm_penalty_total(self):
        for move in self:
            move.crm_penalty_total = sum(move.crm_penalty_ids.mapped("amount"))

    def init(self):
        res = super().init()
        # the penalty cron's late invoices: open customer invoices under a contract, a small
        # part of all entries (see _crm_penalty_candidates)
        create_index(
            self.env.cr,
            "crm_account_move_penalty_idx",
            self._table,
            ["id"],
            where="crm_contract_id IS NOT NULL AND move_type = 'out_invoice' AND state = 'posted'"
            " AND payment_state IN ('not_paid', 'partial')",
        )
        return res

    def _crm_installment_plan_field(self):
        return "invoice_id"

    def write(self, vals):
        # penalties invoiced on an invoice cancelled or leaving cancellation are invoiced no more
        # or again (crm.installment.penalty.is_invoiced): looked for only then, not at a posting
        cancelled = self.filtered(lambda move: move.state == "cancel") if "state" in vals else self.browse()
        res = super().write(vals)
        if "state" in vals:
            moves = self if vals["state"] == "cancel" else cancelled
            if moves:
                penalties = (
                    self.env["crm.installment.penalty"]
                    .sudo()
                    .with_context(active_test=False)
                    .search([("invoice_line_id", "in", moves.line_ids.ids)])
                )
                penalties.modified(["invoice_line_id"])
        return res

    def _prepare_crm_installment_plan_vals(self):
        return {
            "partner_id": self.partner_id.id,
            "invoice_id": self.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "amount_total": self.amount_total,
            "user_id": (self.invoice_user_id or self.env.user).id,
            "date_first": self.invoice_date_due or self._crm_installment_first_date(),
            "contract_id": self.crm_contract_id.id,
        }

    # ------------------------------------------------------------------ covered by a plan
    @api.model
    def _crm_plan_coverage_query(self, move_ids=None):
        """The one definition of "an invoice covered by a plan", as SQL of (move_id, plan_id):
        a posted customer invoice is paid through an active (or paid) plan - the plan of the
        invoice, else the plan of its sale order when that plan has no invoice of its own.
        Each invoice appears once, with its own plan first. ``move_ids``: only these invoices, or
        SQL of the one invoice id of an outer query (a correlated subquery)."""
        if isinstance(move_ids, SQL):
            only = SQL("AND move.id = %s", move_ids)
        else:
            only = SQL("AND move.id = ANY(%s)", list(move_ids)) if move_ids is not None else SQL()
        return SQL(
            """
            SELECT DISTINCT ON (covered.move_id) covered.move_id, covered.plan_id
              FROM (
                    SELECT move.id AS move_id, plan.id AS plan_id, 0 AS priority
                      FROM crm_installment_plan plan
                      JOIN account_move move ON move.id = plan.invoice_id
                     WHERE plan.state IN ('active', 'done') AND move.move_type = 'out_invoice'
                       AND move.state = 'posted' %(only)s
                    UNION ALL
                    SELECT move.id, plan.id, 1
                      FROM crm_installment_plan plan
                      JOIN sale_order_line sol ON sol.order_id = plan.sale_order_id
                      JOIN sale_order_line_invoice_rel rel ON rel.order_line_id = sol.id
                      JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                      JOIN account_move move ON move.id = aml.move_id
                     WHERE plan.invoice_id IS NULL AND plan.state IN ('active', 'done')
                       AND move.move_type = 'out_invoice' AND move.state = 'posted' %(only)s
                   ) covered
             ORDER BY covered.move_id, covered.priority, covered.plan_id
            """,
            only=only,
        )

    def _crm_active_plan_by_invoice(self):
        """{invoice id: plan} of the invoices covered by a plan (:meth:`_crm_plan_coverage_query`)."""
        if not self.ids:
            return {}
        self.env.flush_all()
        rows = self.env.execute_query(self._crm_plan_coverage_query(self.ids))
        plans = self.env["crm.installment.plan"].browse([plan_id for _move_id, plan_id in rows])
        return {move_id: plan for (move_id, _plan_id), plan in zip(rows, plans, strict=True)}

    @api.model
    def _crm_planned_invoice_ids(self):
        """Ids of every invoice covered by a plan, in one query."""
        self.env.flush_all()
        return {move_id for move_id, _plan_id in self.env.execute_query(self._crm_plan_coverage_query())}

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
    def _crm_penalty_candidates(self, dates, limit, count=False):
        """Late customer invoices of a contract with a penalty rate, not covered by a plan, whose
        penalties are not computed to their company's date (``dates``: {company id: date}),
        locked; ``count``: how many there are instead (up to ``limit``: None for all)."""
        self.env.flush_all()
        query = SQL(
            """
              FROM account_move late
              JOIN crm_contract contract ON contract.id = late.crm_contract_id
              JOIN unnest(%(companies)s::int[], %(days)s::date[]) AS today(company_id, day)
                ON today.company_id = late.company_id
             WHERE late.crm_contract_id IS NOT NULL AND late.move_type = 'out_invoice' AND late.state = 'posted'
               AND late.payment_state IN ('not_paid', 'partial')
               AND contract.penalty_rate > 0
               AND late.invoice_date_due + contract.penalty_grace_days < today.day
               AND late.crm_penalty_date_ref IS DISTINCT FROM today.day
               AND NOT EXISTS (SELECT 1 FROM (%(covered)s) covered)
            """,
            companies=list(dates),
            days=list(dates.values()),
            covered=self._crm_plan_coverage_query(SQL("late.id")),
        )
        if count:
            return self.env.execute_query(SQL("SELECT COUNT(*) FROM (SELECT 1 %s LIMIT %s) candidate", query, limit))[
                0
            ][0]
        rows = self.env.execute_query(
            SQL("SELECT late.id %s ORDER BY late.id LIMIT %s FOR UPDATE OF late SKIP LOCKED", query, limit)
        )
        return self.browse([row[0] for row in rows])

    def _crm_sync_penalties(self, date_ref=None):
        self.env["crm.installment.penalty"].sudo()._sync_sources(moves=self, date_ref=date_ref)

    def action_crm_invoice_penalties(self):
        check_groups(self.env, MONEY_GROUPS)
        return self.env["crm.installment.plan"]._action_invoice_penalties(self[:1].commercial_partner_id)
