from datetime import timedelta

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
    _description = "Installment"
    _order = "date_due, sequence, id"
    _rec_name = "date_due"

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
        their company's date (``dates``: {company id: date}), oldest id first and locked (a
        second worker skips them); ``count``: how many there are instead."""
        self.env.flush_all()
        query = SQL(
            """
              FROM crm_installment_line line
              JOIN crm_installment_plan plan ON plan.id = line.plan_id
              JOIN crm_contract contract ON contract.id = plan.contract_id
              JOIN unnest(%(companies)s::int[], %(days)s::date[]) AS today(company_id, day)
                ON today.company_id = plan.company_id
             WHERE plan.state = 'active' AND contract.penalty_rate > 0
               AND line.amount_residual > 0 AND line.restructured IS NOT TRUE
               AND line.date_due < %(last_day)s
               AND line.date_due + contract.penalty_grace_days < today.day
               AND line.penalty_date_ref IS DISTINCT FROM today.day
            """,
            companies=list(dates),
            days=list(dates.values()),
            last_day=max(dates.values()),
        )
        if count:
            return self.env.execute_query(SQL("SELECT COUNT(*) %s", query))[0][0]
        rows = self.env.execute_query(
            SQL("SELECT line.id %s ORDER BY line.id LIMIT %s FOR UPDATE OF line SKIP LOCKED", query, limit)
        )
        return self.browse([row[0] for row in rows])

    def _sync_penalties(self, date_ref=None):
        """Make the stored penalty records of the lines equal to the computation up to
        ``date_ref`` (default: the date they were last computed to, or the last payment)."""
        self.env["crm.installment.penalty"].sudo()._sync_sources(lines=self, date_ref=date_ref)

    # ------------------------------------------------------------------ reminders
    @api.model
    def _get_reminder_domain(self, date_ref):
        return [("plan_state", "=", "active"), ("state", "!=", "paid"), ("restructured", "=", False)]

    @api.model
    def _send_reminders(self, date_ref, batch_size):
        policy = self.env.ref("crm_installments.dunning_policy_installments", raise_if_not_found=False)
        if not policy or not policy.level_ids:
            return self.env["crm.dunning.event"]
        levels = policy.level_ids.sorted("offset_days")
        first_offset = levels[0].offset_days
        # lines whose last level is sent are done with: the search stays the size of the work
        lines = self.search(
            self._get_reminder_domain(date_ref)
            + [
                ("date_due", "<=", date_ref - timedelta(days=first_offset)),
                ("reminder_event_ids", "not any", [("offset_days", ">=", levels[-1].offset_days)]),
            ],
            order="date_due, id",
        )
        done = self.env["crm.dunning.event"].search_fetch(
            [("installment_line_id", "in", lines.ids)], ["installment_line_id", "offset_days"]
        )
        highest = {}
        for event in done:
            key = event.installment_line_id.id
            highest[key] = max(highest.get(key, -(10**6)), event.offset_days)
        pairs = []
        for line in lines:
            days = (date_ref - line.date_due).days
            top = levels.filtered(lambda level, days=days: level.offset_days <= days)[-1:]
            if top and highest.get(line.id, -(10**6)) < top.offset_days:
                pairs.append((line, top))
            if len(pairs) >= batch_size:
                break
        return self._claim_and_remind(pairs, date_ref)

    def _claim_and_remind(self, pairs, date_ref):
        """Claim the event row first (INSERT ... ON CONFLICT DO NOTHING on the unique line and
        level), then act: two workers never send the same reminder, a rerun sends nothing."""
        claimed = []
        for line, level in pairs:
            self.env.cr.execute(
                SQL(
                    """
                INSERT INTO crm_dunning_event (installment_line_id, partner_id, level_id, policy_id, company_id,
                                               offset_days, action, date, create_uid, create_date, write_uid,
                                               write_date)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NOW() AT TIME ZONE 'UTC', %s, NOW() AT TIME ZONE 'UTC')
                ON CONFLICT (installment_line_id, level_id) DO NOTHING
                RETURNING id
                """,
                    line.id,
                    line.partner_id.id,
                    level.id,
                    level.policy_id.id,
                    line.company_id.id,
                    level.offset_days,
                    level.action,
                    date_ref,
                    self.env.uid,
                    self.env.uid,
                )
            )
            row = self.env.cr.fetchone()
            if row:
                claimed.append((line, level, row[0]))
        self.env["crm.dunning.event"].invalidate_model()
        emails = {}
        for line, level, _event_id in claimed:
            if level.action == "email_customer":
                emails.setdefault((line.partner_id, level), self.browse())
                emails[(line.partner_id, level)] |= line
            else:
                line._schedule_reminder_activity(level)
        for (partner, level), lines in emails.items():
            lines._send_reminder_email(partner, level)
        return self.env["crm.dunning.event"].browse([event_id for _l, _v, event_id in claimed])

    def _send_reminder_email(self, partner, level):
        template = level.mail_template_id
        if not template:
            return
        values = {"lines": self.sorted("date_due"), "level": level}
        body = template._render_field("body_html", partner.ids, compute_lang=True, add_context=values)[partner.id]
        subject = template._render_field("subject", partner.ids, compute_lang=True)[partner.id]
        partner.with_context(mail_notify_force_send=False).message_post(
            body=body,
            subject=subject,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=partner.ids,
        )
        for plan in self.plan_id:
            plan.message_post(
                body=Markup("%s<br/>%s")
                % (
                    _("Reminder sent to the customer: %(level)s", level=level.name),
                    ", ".join(
                        _(
                            "%(amount)s due %(date)s",
                            amount=format_amount(self.env, line.amount_residual, line.currency_id),
                            date=format_date(self.env, line.date_due),
                        )
                        for line in self.filtered(lambda item, plan=plan: item.plan_id == plan)
                    ),
                )
            )

    def _schedule_reminder_activity(self, level):
        self.ensure_one()
        plan = self.plan_id
        if level.action == "activity_supervisor":
            user = level.policy_id.supervisor_id or plan.user_id
        else:
            user = plan.user_id or plan.partner_id.user_id
        plan.activity_schedule(
            "mail.mail_activity_data_call" if level.action == "activity_manager" else "mail.mail_activity_data_todo",
            summary=level.activity_summary or level.name,
            note=_(
                "Installment of %(amount)s due %(date)s is unpaid.",
                amount=format_amount(self.env, self.amount_residual, self.currency_id),
                date=format_date(self.env, self.date_due),
            ),
            user_id=(user or self.env.user).id,
        )
