from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

EXPIRY_BATCH = 500


class CrmContract(models.Model):
    _name = "crm.contract"
    _description = "Customer Contract"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"

    name = fields.Char(string="Number", required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner", string="Counterparty", required=True, index=True, tracking=True,
        domain="[('is_company', '=', True)]",
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True,
        domain="[('share', '=', False)]",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    contract_type = fields.Selection(
        [("framework", "Framework"), ("one_off", "One-off"), ("subscription", "Subscription")],
        string="Type", required=True, default="framework", tracking=True,
    )
    date_start = fields.Date(string="Start Date", required=True, default=fields.Date.context_today, tracking=True)
    date_end = fields.Date(string="End Date", tracking=True)
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("expired", "Expired"), ("terminated", "Terminated")],
        required=True, default="draft", tracking=True, copy=False,
    )
    payment_term_id = fields.Many2one("account.payment.term", string="Payment Terms", check_company=True)
    amount = fields.Monetary(string="Contract Amount")
    penalty_rate = fields.Float(
        string="Penalty Rate (%/day)", digits=(16, 4),
        help="Late-payment penalty (пеня): percent of the overdue amount per day.",
    )
    penalty_grace_days = fields.Integer(string="Penalty Grace Days", help="Days after the due date before penalties accrue.")
    penalty_cap_percent = fields.Float(
        string="Penalty Cap (%)", digits=(16, 2), help="Penalties stop at this percent of the overdue amount (0: no cap)."
    )
    expiry_reminder_days = fields.Integer(
        string="Remind Before End (days)", default=30,
        help="The responsible user gets an activity this many days before the end date.",
    )
    expiry_reminder_sent = fields.Boolean(copy=False, readonly=True)
    renewed_from_id = fields.Many2one("crm.contract", string="Renewal Of", copy=False, readonly=True)
    renewal_id = fields.Many2one("crm.contract", string="Renewed By", copy=False, readonly=True)
    note = fields.Html(string="Terms")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_company_uniq", "unique(name, company_id)", "A contract number must be unique per company."),
    ]

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for contract in self:
            if contract.date_end and contract.date_end < contract.date_start:
                raise ValidationError(_("Contract %(name)s ends before it starts.", name=contract.name))

    @api.constrains("penalty_rate", "penalty_grace_days", "penalty_cap_percent", "expiry_reminder_days")
    def _check_penalty_terms(self):
        for contract in self:
            if min(contract.penalty_rate, contract.penalty_grace_days, contract.penalty_cap_percent,
                   contract.expiry_reminder_days) < 0:
                raise ValidationError(_("Penalty terms and reminder days of contract %(name)s cannot be negative.", name=contract.name))

    # ------------------------------------------------------------------ actions
    def action_activate(self):
        if self.filtered(lambda c: c.state != "draft"):
            raise UserError(_("Only draft contracts can be activated."))
        self.write({"state": "active"})

    def action_terminate(self):
        if self.filtered(lambda c: c.state not in ("draft", "active")):
            raise UserError(_("Only draft or active contracts can be terminated."))
        self.write({"state": "terminated"})

    def action_renew(self):
        """A new draft contract continuing from the day after this one ends, for the same length
        and on the same terms."""
        self.ensure_one()
        if not self.date_end:
            raise UserError(_("Contract %(name)s has no end date: there is nothing to renew.", name=self.name))
        if self.renewal_id:
            raise UserError(_("Contract %(name)s is already renewed by %(renewal)s.", name=self.name, renewal=self.renewal_id.name))
        start = self.date_end + timedelta(days=1)
        length = relativedelta(self.date_end + timedelta(days=1), self.date_start)
        renewal = self.copy({
            "name": _("%(name)s (renewal)", name=self.name),
            "date_start": start,
            "date_end": start + length - timedelta(days=1),
            "renewed_from_id": self.id,
        })
        self.renewal_id = renewal
        self.message_post(body=_("Renewed by contract %(name)s.", name=renewal.name))
        renewal.message_post(body=_("Renewal of contract %(name)s.", name=self.name))
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.contract",
            "res_id": renewal.id,
            "view_mode": "form",
            "target": "current",
        }

    # ------------------------------------------------------------------ cron
    @api.model
    def _cron_check_expiry(self, date_ref=None):
        """Expire active contracts past their end date and remind the responsible user once,
        ``expiry_reminder_days`` before the end. Bounded batches; safe to rerun."""
        today = fields.Date.to_date(date_ref) if date_ref else fields.Date.context_today(self)
        expired = self.search([("state", "=", "active"), ("date_end", "<", today)], limit=EXPIRY_BATCH)
        for contract in expired:
            contract.message_post(body=_("The contract expired on %(date)s.", date=contract.date_end))
        expired.write({"state": "expired"})
        expired.activity_unlink(["crm_single_truth.mail_activity_type_contract_expiry"])

        candidates = self.search(
            [("state", "=", "active"), ("date_end", ">=", today), ("expiry_reminder_sent", "=", False)],
            limit=EXPIRY_BATCH,
        )
        to_remind = candidates.filtered(lambda c: c.date_end - timedelta(days=c.expiry_reminder_days) <= today)
        for contract in to_remind:
            contract.activity_schedule(
                "crm_single_truth.mail_activity_type_contract_expiry",
                date_deadline=contract.date_end,
                summary=_("Contract %(name)s ends on %(date)s", name=contract.name, date=contract.date_end),
                user_id=contract.user_id.id or self.env.uid,
            )
        to_remind.write({"expiry_reminder_sent": True})
        remaining = self.search_count([("state", "=", "active"), ("date_end", "<", today)])
        self.env["ir.cron"]._notify_progress(done=len(expired) + len(to_remind), remaining=remaining)

    def write(self, vals):
        # a new end date deserves a new reminder
        if "date_end" in vals and "expiry_reminder_sent" not in vals:
            vals = dict(vals, expiry_reminder_sent=False)
        return super().write(vals)
