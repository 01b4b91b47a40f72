from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, format_amount, format_date
from odoo.tools.sql import create_index

# written by the code only (allocation, penalty accrual, restructuring), never through RPC
CODE_FIELDS = {
    "state",
    "amount_paid",
    "amount_residual",
    "date_paid",
    "penalty_amount",
    "penalty_date_ref",
    "generation",
    "restructured",
}


class CrmInstallmentLine(models.Model):
    _name = "crm.installment.line"
    _inherit = ["crm.dunning.document"]
    _description = "Installment"
    _order = "date_due, sequence, id"
    _rec_name = "date_due"
    _crm_dunning_lock_key = 0x43524D49  # 'CRMI'
    _crm_dunning_event_field = "installment_line_id"

    plan_id = fields.Many2one("crm.installment.plan", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    partner_id = fields.Many2one(related="plan_id.commercial_partner_id", string="Customer", store=True, index=True)
    user_id = fields.Many2one(related="plan_id.user_id", string="Salesperson", store=True)
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="plan_id.currency_id", store=True)
    plan_state = fields.Selection(related="plan_id.state", string="Plan Status", store=True)
    date_due = fields.Date(string="Due Date", required=True, index=True)
    amount = fields.Monetary(required=True)
    is_down_payment = fields.Boolean(string="Down Payment")
    allocation_ids = fields.One2many("crm.installment.allocation", "line_id", string="Paid By")
    amount_paid = fields.Monetary(compute="_compute_paid", store=True)
    amount_residual = fields.Monetary(string="Amount Due", compute="_compute_paid", store=True)
    date_paid = fields.Date(compute="_compute_paid", store=True, help="Date of the payment that completed the line.")
    state = fields.Selection(
        [("pending", "Pending"), ("partial", "Partially Paid"), ("paid", "Paid"), ("overdue", "Overdue")],
        string="Status",
        default="pending",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        help="Overdue: due date passed and not fully paid (refreshed every day by the penalty cron).",
    )
    days_late = fields.Integer(
        compute="_compute_days_late", help="Days past the due date: until it was paid, or until today."
    )
    penalty_ids = fields.One2many("crm.installment.penalty", "line_id", string="Penalties")
    reminder_event_ids = fields.One2many("crm.dunning.event", "installment_line_id", string="Reminders")
    penalty_amount = fields.Monetary(string="Penalty", compute="_compute_penalty_amount", store=True)
    penalty_date_ref = fields.Date(string="Penalties Computed To", readonly=True, copy=False)
    generation = fields.Integer(
        readonly=True, copy=False, help="Restructurings before this line: older generations are paid first."
    )
    restructured = fields.Boolean(
        readonly=True, copy=False, help="Closed by a restructuring: its unpaid part moved to new lines."
    )

    _sql_constraints = [("amount_not_negative", "CHECK(amount >= 0)", "An installment cannot be negative.")]

    def init(self):
        res = super().init()
        # the aging and the reminders look only at lines with something left to pay
        create_index(
            self.env.cr, "crm_installment_line_open_idx", self._table, ["plan_id"], where="amount_residual > 0"
        )
        # the penalty cron's candidates: open late lines, by due date
        create_index(
            self.env.cr,
            "crm_installment_line_penalty_idx",
            self._table,
            ["date_due"],
            where="amount_residual > 0 AND restructured IS NOT TRUE",
        )
        # lines becoming overdue (_refresh_overdue): the pending ones past due, not all the late ones
        create_index(
            self.env.cr,
            "crm_installment_line_pending_due_idx",
            self._table,
            ["date_due"],
            where="state IN ('pending', 'partial')",
        )
        # the penalty cron walks the lines not computed to the day yet, least recently computed
        # first: a batch reads its own lines, not those already done (see _penalty_candidates)
        due = "amount_residual > 0 AND restructured IS NOT TRUE AND plan_state = 'active'"
        create_index(
            self.env.cr,
            "crm_installment_line_penalty_behind_idx",
            self._table,
            ["(COALESCE(penalty_date_ref, date_due))", "id"],
            where=due,
        )
        create_index(
            self.env.cr,
            "crm_installment_line_penalty_ahead_idx",
            self._table,
            ["penalty_date_ref"],
            where=f"penalty_date_ref IS NOT NULL AND {due}",
        )
        return res

    @api.depends("amount", "allocation_ids.amount", "allocation_ids.payment_id.date")
    def _compute_paid(self):
        for line in self:
            currency = line.currency_id or line.plan_id.currency_id
            paid = currency.round(sum(line.allocation_ids.mapped("amount")))
            line.amount_paid = paid
            line.amount_residual = currency.round(line.amount - paid)
            complete = currency.compare_amounts(paid, line.amount) >= 0
            line.date_paid = complete and max(line.allocation_ids.payment_id.mapped("date"), default=False)

    @api.depends("penalty_ids.amount")
    def _compute_penalty_amount(self):
        for line in self:
            line.penalty_amount = sum(line.penalty_ids.mapped("amount"))

    def _compute_days_late(self):
        today = fields.Date.context_today(self)
        for line in self:
            end = line.date_paid or today
            line.days_late = max((end - line.date_due).days, 0) if line.date_due else 0

    def _state_on(self, date_ref):
        self.ensure_one()
        currency = self.currency_id or self.plan_id.currency_id
        if currency.compare_amounts(self.amount_residual, 0.0) <= 0:
            return "paid"
        if self.date_due < date_ref:
            return "overdue"
        if currency.compare_amounts(self.amount_paid, 0.0) > 0:
            return "partial"
        return "pending"

    def _refresh_state(self, date_ref=None):
        date_ref = date_ref or fields.Date.context_today(self)
        changes = {}
        for line in self:
            state = line._state_on(date_ref)
            if line.state != state:
                changes.setdefault(state, self.browse())
                changes[state] |= line
        for state, lines in changes.items():
            lines.sudo().write({"state": state})

    @api.model
    def _refresh_overdue(self, date_ref):
        """Lines whose due date passed become overdue (set-based: one search, one write per
        company). ``date_ref``: a date, or {company id: that company's date}."""
        dates = date_ref if isinstance(date_ref, dict) else {None: date_ref}
        lines = self.sudo().browse()
        for company_id, day in dates.items():
            domain = [("state", "in", ("pending", "partial")), ("date_due", "<", day), ("plan_state", "=", "active")]
            if company_id:
                domain.append(("company_id", "=", company_id))
            lines |= lines.search(domain)
        lines.write({"state": "overdue"})
        return self.browse(lines.ids)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_paid(self):
        if self.filtered(lambda line: line.allocation_ids or line.penalty_ids):
            raise UserError(
                _(
                    "An installment that received a payment or a penalty cannot be deleted: "
                    "restructure the plan instead."
                )
            )

    def _check_code_fields(self, vals, extra=()):
        """Money and state fields are the code's: a user writes them through the plan's actions."""
        forbidden = (CODE_FIELDS | set(extra)) & set(vals)
        if forbidden and not self.env.su:
            raise AccessError(
                _(
                    "Installment fields %(fields)s are computed by CrmAI and cannot be written.",
                    fields=", ".join(sorted(forbidden)),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_code_fields(vals)
        lines = super().create(vals_list)
        lines._refresh_state()
        return lines

    def write(self, vals):
        self._check_code_fields(vals, extra={"plan_id"})
        res = super().write(vals)
        if {"amount", "date_due"} & set(vals):
            self._refresh_state()
        return res

    # ------------------------------------------------------------------ penalties
    def _timeline_data(self):
        """What the timeline widget draws: one item per line, labels formatted here."""
        states = dict(self._fields["state"]._description_selection(self.env))
        return [
            {
                "id": line.id,
                "plan": line.plan_id.name,
                "date": fields.Date.to_string(line.date_due),
                "date_label": format_date(self.env, line.date_due),
                "amount": line.amount,
                "amount_label": format_amount(self.env, line.amount, line.currency_id),
                "paid_label": format_amount(self.env, line.amount_paid, line.currency_id),
                "paid_ratio": line.amount and min(line.amount_paid / line.amount, 1.0),
                "state": line.state,
                "state_label": states.get(line.state),
                "tooltip": _(
                    "%(plan)s, due %(date)s: %(amount)s, %(state)s, paid %(paid)s",
                    plan=line.plan_id.name,
                    date=format_date(self.env, line.date_due),
                    amount=format_amount(self.env, line.amount, line.currency_id),
                    state=states.get(line.state),
                    paid=format_amount(self.env, line.amount_paid, line.currency_id),
                ),
            }
            for line in self.sorted(lambda item: (item.date_due, item.sequence, item.id))
            if line.amount
        ]

    def _allocation_key(self):
        return (self.generation, self.date_due, self.sequence, self.id)

    @api.model
    def _penalty_candidates(self, dates, limit, count=False):
        """Late lines under a contract with a penalty rate whose penalties are not computed to
        their company's date (``dates``: {company id: date}), least recently computed first and
        locked (a second worker skips them); ``count``: how many there are instead (up to
        ``limit``: None for all).

        Every candidate is either behind (computed to before the latest date, or never: its due
        date is before it) or ahead (computed to that date or later, by a run of a later date):
        each is read through its own partial index, so a batch does not re-read the lines that
        earlier batches of the day already did."""
        self.env.flush_all()
        last_day = max(dates.values())
        key = SQL("COALESCE(line.penalty_date_ref, line.date_due)")
        query = SQL(
            """
              FROM crm_installment_line line
              JOIN crm_installment_plan plan ON plan.id = line.plan_id
              JOIN crm_contract contract ON contract.id = plan.contract_id
              JOIN unnest(%(companies)s::int[], %(days)s::date[]) AS today(company_id, day)
                ON today.company_id = plan.company_id
             WHERE plan.state = 'active' AND line.plan_state = 'active' AND contract.penalty_rate > 0
               AND line.amount_residual > 0 AND line.restructured IS NOT TRUE
               AND line.date_due < %(last_day)s
               AND line.date_due + contract.penalty_grace_days < today.day
               AND line.penalty_date_ref IS DISTINCT FROM today.day
            """,
            companies=list(dates),
            days=list(dates.values()),
            last_day=last_day,
        )
        # (condition, order): the behind ones by their index, then the ahead ones
        parts = [
            (SQL("%s < %s", key, last_day), SQL("%s, line.id", key)),
            (SQL("line.penalty_date_ref > %s AND %s >= %s", min(dates.values()), key, last_day), SQL("line.id")),
        ]
        if count:
            total = 0
            for part, order in parts:
                total += self.env.execute_query(
                    SQL(
                        "SELECT COUNT(*) FROM (SELECT 1 %s AND %s ORDER BY %s LIMIT %s) candidate",
                        query,
                        part,
                        order,
                        None if limit is None else limit - total,
                    )
                )[0][0]
            return total
        rows = []
        for part, order in parts:
            if len(rows) < limit:
                rows += self.env.execute_query(
                    SQL(
                        "SELECT line.id %s AND %s ORDER BY %s LIMIT %s FOR UPDATE OF line SKIP LOCKED",
                        query,
                        part,
                        order,
                        limit - len(rows),
                    )
                )
        return self.browse([row[0] for row in rows])

    def _sync_penalties(self, date_ref=None):
        """Make the stored penalty records of the lines equal to the computation up to
        ``date_ref`` (default: the date they were last computed to, or the last payment)."""
        self.env["crm.installment.penalty"].sudo()._sync_sources(lines=self, date_ref=date_ref)

    # ------------------------------------------------------------------ reminders (crm.dunning.document)
    @api.model
    def _crm_dunning_source_sql(self, days, partner_ids=None):
        """Unpaid installments of active plans, chased by the installments policy from their due date."""
        policy = self.env.ref("crm_installments.dunning_policy_installments", raise_if_not_found=False)
        return SQL(
            """
            SELECT l.id, l.partner_id, l.company_id, l.date_due AS due_date, %(policy)s::int AS policy_id
              FROM crm_installment_line l
              JOIN res_partner cp ON cp.id = l.partner_id
              JOIN %(days)s ON d.company_id = l.company_id
             WHERE l.plan_state = 'active' AND l.state != 'paid' AND l.restructured IS NOT TRUE
               AND l.amount_residual > 0 AND %(partner_ok)s AND %(partners)s
            """,
            policy=policy.id if policy else None,
            days=days,
            partner_ok=self._crm_dunning_partner_sql(SQL.identifier("cp"), SQL("d.today")),
            partners=SQL("l.partner_id = ANY(%s)", partner_ids) if partner_ids is not None else SQL("TRUE"),
        )

    def _crm_dunning_responsible(self):
        self.ensure_one()
        return self.plan_id.user_id or self.partner_id.user_id

    def _crm_dunning_team(self):
        self.ensure_one()
        return self.plan_id.sale_order_id.team_id or self.plan_id.invoice_id.team_id

    def _crm_dunning_values(self):
        format_date_, format_amount_ = self._crm_formatters()
        return [
            {
                "name": line.plan_id.name,
                "date_due": format_date_(line.date_due),
                "amount": format_amount_(line.amount_residual, line.currency_id),
                "url": False,
                "record": line,
            }
            for line in self.sorted(lambda item: (item.date_due, item.id))
        ]

    def _crm_dunning_attachments(self):
        """The PDF of the invoice the installments pay, when there is one."""
        return self.plan_id.invoice_id._crm_dunning_attachments()

    def _crm_dunning_activity_target(self):
        self.ensure_one()
        return self.plan_id

    def _crm_dunning_activity_note(self):
        self.ensure_one()
        return _(
            "Installment of %(amount)s due %(date)s is unpaid.",
            amount=format_amount(self.env, self.amount_residual, self.currency_id),
            date=format_date(self.env, self.date_due),
        )

    @api.model
    def _crm_dunning_notes(self, reminded):
        """One note per plan, level and recipient listing the installments reminded."""
        format_date_, format_amount_ = self._crm_formatters()
        grouped = defaultdict(list)
        for line, level, recipient in reminded:
            grouped[(line.plan_id, level, recipient)].append(line)
        return [
            (
                plan,
                Markup("%s<br/>%s")
                % (
                    self.env._(
                        "Reminder sent to %(recipient)s: %(level)s", recipient=recipient.display_name, level=level.name
                    ),
                    ", ".join(
                        self.env._(
                            "%(amount)s due %(date)s",
                            amount=format_amount_(line.amount_residual, line.currency_id),
                            date=format_date_(line.date_due),
                        )
                        for line in lines
                    ),
                ),
            )
            for (plan, level, recipient), lines in grouped.items()
        ]
