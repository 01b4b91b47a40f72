from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

EXPIRY_ACTIVITY_TYPE = "crm_single_truth.mail_activity_type_contract_expiry"
CRON_BATCH_SIZE = 500


def renewal_dates(date_start, date_end):
    """Start and end of the period that continues ``date_start``..``date_end`` (both included)
    from the next day, for the same length: whole months stay whole months."""
    start = date_end + timedelta(days=1)
    return start, start + relativedelta(start, date_start) - timedelta(days=1)


class CrmContract(models.Model):
    _name = "crm.contract"
    _description = "Customer Contract"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Number", required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Counterparty",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="['|', ('is_company', '=', True), ('parent_id', '=', False)]",
        help="The customer company (or individual customer) that signed the contract.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        domain="[('share', '=', False)]",
        help="Gets the reminder before the contract ends.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    contract_type = fields.Selection(
        [("framework", "Framework"), ("one_off", "One-off"), ("subscription", "Subscription")],
        string="Type",
        required=True,
        default="framework",
        tracking=True,
    )
    date_start = fields.Date(string="Start Date", required=True, default=fields.Date.context_today, tracking=True)
    date_end = fields.Date(string="End Date", tracking=True, help="Last day of the contract; empty: open-ended.")
    state = fields.Selection(
        [("draft", "Draft"), ("active", "Active"), ("expired", "Expired"), ("terminated", "Terminated")],
        string="Status",
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        index=True,
    )
    payment_term_id = fields.Many2one("account.payment.term", string="Payment Terms", check_company=True)
    amount = fields.Monetary(string="Contract Amount")
    penalty_rate = fields.Float(
        string="Penalty Rate (%/day)",
        digits=(16, 4),
        help="Late-payment penalty: percent of the overdue amount per day.",
    )
    penalty_grace_days = fields.Integer(help="Days after the due date before penalties accrue.")
    penalty_cap_percent = fields.Float(
        string="Penalty Cap (%)",
        digits=(16, 2),
        help="Penalties stop at this percent of the overdue amount (0: no cap).",
    )
    expiry_reminder_days = fields.Integer(
        string="Remind Before End (days)",
        default=30,
        help="The responsible user gets an activity this many days before the end date.",
    )
    expiry_reminder_date = fields.Date(
        compute="_compute_expiry_reminder_date",
        store=True,
        index=True,
        help="Day from which the responsible user is reminded that the contract ends.",
    )
    expiry_reminder_sent = fields.Boolean(copy=False, readonly=True)
    renewed_from_id = fields.Many2one(
        "crm.contract", string="Renewal Of", copy=False, readonly=True, index="btree_not_null"
    )
    renewal_id = fields.Many2one("crm.contract", string="Renewed By", copy=False, readonly=True)
    note = fields.Html(string="Terms")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_company_uniq", "unique(name, company_id)", "A contract number must be unique per company."),
    ]

    @api.depends("date_end", "expiry_reminder_days")
    def _compute_expiry_reminder_date(self):
        for contract in self:
            contract.expiry_reminder_date = contract.date_end and (
                contract.date_end - timedelta(days=contract.expiry_reminder_days)
            )

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for contract in self:
            if contract.date_end and contract.date_end < contract.date_start:
                raise ValidationError(_("Contract %(name)s ends before it starts.", name=contract.name))

    @api.constrains("penalty_rate", "penalty_grace_days", "penalty_cap_percent", "expiry_reminder_days")
    def _check_penalty_terms(self):
        for contract in self:
            if (
                min(
                    contract.penalty_rate,
                    contract.penalty_grace_days,
                    contract.penalty_cap_percent,
                    contract.expiry_reminder_days,
                )
                < 0
            ):
                raise ValidationError(
                    _("Penalty terms and reminder days of contract %(name)s cannot be negative.", name=contract.name)
                )

    @api.constrains("partner_id")
    def _check_partner_is_commercial(self):
        for contract in self:
            commercial = contract.partner_id.commercial_partner_id
            if contract.partner_id != commercial:
                raise ValidationError(
                    _(
                        "Contract %(name)s is signed by the company, not by its contact person: "
                        "choose %(company)s as the counterparty.",
                        name=contract.name,
                        company=commercial.display_name,
                    )
                )

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        if not default or "name" not in default:
            for contract, vals in zip(self, vals_list, strict=False):
                vals["name"] = _("%(name)s (copy)", name=contract.name)
        return vals_list

    def write(self, vals):
        moved = self.browse()
        if "date_end" in vals:
            new_end = fields.Date.to_date(vals["date_end"])
            moved = self.filtered(lambda c: c.date_end != new_end)
        res = super().write(vals)
        if moved:
            # a new end date deserves a new reminder, not the stale one
            moved.activity_unlink([EXPIRY_ACTIVITY_TYPE])
            moved.filtered("expiry_reminder_sent").write({"expiry_reminder_sent": False})
        return res

    # ------------------------------------------------------------------ actions
    def action_activate(self):
        if self.filtered(lambda c: c.state != "draft"):
            raise UserError(_("Only draft contracts can be activated."))
        self.write({"state": "active"})

    def action_terminate(self):
        if self.filtered(lambda c: c.state not in ("draft", "active")):
            raise UserError(_("Only draft or active contracts can be terminated."))
        self.write({"state": "terminated"})
        self.activity_unlink([EXPIRY_ACTIVITY_TYPE])

    def _prepare_renewal_vals(self):
        self.ensure_one()
        date_start, date_end = renewal_dates(self.date_start, self.date_end)
        return {
            "name": _("%(name)s (renewal)", name=self.name),
            "date_start": date_start,
            "date_end": date_end,
            "renewed_from_id": self.id,
        }

    def action_renew(self):
        """A new draft contract continuing from the day after this one ends, for the same length
        and on the same terms. Completes the expiry reminder."""
        self.ensure_one()
        if self.state not in ("active", "expired"):
            raise UserError(_("Only active or expired contracts can be renewed."))
        if not self.date_end:
            raise UserError(_("Contract %(name)s has no end date: there is nothing to renew.", name=self.name))
        if self.renewal_id:
            raise UserError(
                _("Contract %(name)s is already renewed by %(renewal)s.", name=self.name, renewal=self.renewal_id.name)
            )
        renewal = self.copy(self._prepare_renewal_vals())
        self.renewal_id = renewal
        self.activity_feedback([EXPIRY_ACTIVITY_TYPE], feedback=_("Renewed by contract %(name)s.", name=renewal.name))
        self.message_post(body=_("Renewed by contract %(name)s.", name=renewal._get_html_link()))
        renewal.message_post(body=_("Renewal of contract %(name)s.", name=self._get_html_link()))
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.contract",
            "res_id": renewal.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    # ------------------------------------------------------------------ cron
    @api.model
    def _get_expired_domain(self, date_ref):
        return [("state", "=", "active"), ("date_end", "<", date_ref)]

    @api.model
    def _get_expiry_reminder_domain(self, date_ref):
        return [
            ("state", "=", "active"),
            ("expiry_reminder_sent", "=", False),
            ("expiry_reminder_date", "<=", date_ref),
            ("date_end", ">=", date_ref),
        ]

    @api.model
    def _cron_check_expiry(self, date_ref=None, batch_size=CRON_BATCH_SIZE):
        """Expire the active contracts past their end date and remind the responsible user, once,
        ``expiry_reminder_days`` before the end. Works on at most ``batch_size`` contracts of each
        kind and reports the rest to the scheduler, which calls again; safe to rerun."""
        date_ref = fields.Date.to_date(date_ref) if date_ref else fields.Date.context_today(self)
        expired = self.search(self._get_expired_domain(date_ref), order="date_end, id", limit=batch_size)
        expired._expire()
        to_remind = self.search(self._get_expiry_reminder_domain(date_ref), order="date_end, id", limit=batch_size)
        to_remind._schedule_expiry_reminder()
        remaining = self.search_count(self._get_expired_domain(date_ref)) + self.search_count(
            self._get_expiry_reminder_domain(date_ref)
        )
        self.env["ir.cron"]._notify_progress(done=len(expired) + len(to_remind), remaining=remaining)

    def _expire(self):
        """The contracts have ended. An open expiry reminder stays: renewing the contract, or
        marking the reminder done, is still the responsible user's call."""
        if not self:
            return
        self.write({"state": "expired"})
        self._message_log_batch(
            bodies={
                contract.id: _("The contract ended on %(date)s.", date=format_date(self.env, contract.date_end))
                for contract in self
            }
        )

    def _schedule_expiry_reminder(self):
        self.activity_unlink([EXPIRY_ACTIVITY_TYPE])  # never two reminders for one contract
        for contract in self:
            contract.activity_schedule(
                EXPIRY_ACTIVITY_TYPE,
                date_deadline=contract.date_end,
                summary=_(
                    "Contract %(name)s ends on %(date)s",
                    name=contract.name,
                    date=format_date(self.env, contract.date_end),
                ),
                user_id=(contract.user_id or contract.partner_id.user_id or self.env.user).id,
            )
        self.write({"expiry_reminder_sent": True})
