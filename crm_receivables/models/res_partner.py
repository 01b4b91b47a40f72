from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models

from ..report.crm_payment_discipline import delay_trend
from ..tools.dunning import choose_recipient

CHART_MONTHS = 12


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_aging_ids = fields.One2many("crm.receivable.aging", "partner_id", string="Receivables Aging", readonly=True)
    crm_dunning_policy_id = fields.Many2one(
        "crm.dunning.policy",
        string="Dunning Policy",
        company_dependent=True,
        help="Empty: the company's default policy.",
    )
    crm_dunning_paused_until = fields.Date(
        string="Promised to Pay By", help="No reminder until this date (promise to pay)."
    )
    # payment discipline, from the paid invoices of the commercial entity in the current company
    crm_paid_invoice_count = fields.Integer(string="Paid Invoices", compute="_compute_crm_discipline")
    crm_ontime_share = fields.Float(
        string="Paid On Time (%)",
        digits=(16, 1),
        compute="_compute_crm_discipline",
        help="Share of paid invoices paid by their due date.",
    )
    crm_worst_delay = fields.Integer(string="Worst Delay (days)", compute="_compute_crm_discipline")
    crm_recent_delay = fields.Float(
        string="Delay, Last 6 Months",
        digits=(16, 1),
        compute="_compute_crm_discipline",
        help="Amount-weighted average days late of invoices paid in the last 6 months.",
    )
    crm_previous_delay = fields.Float(
        string="Delay, Before",
        digits=(16, 1),
        compute="_compute_crm_discipline",
        help="Amount-weighted average days late of invoices paid earlier.",
    )
    crm_delay_trend = fields.Selection(
        [("better", "Paying faster"), ("stable", "Stable"), ("worse", "Paying slower"), ("none", "Not enough history")],
        string="Payment Trend",
        compute="_compute_crm_discipline",
        help="Average delay of the last 6 months against the months before (a change of more than a day counts).",
    )

    crm_dunning_event_ids = fields.One2many("crm.dunning.event", "partner_id", string="Reminders Sent", readonly=True)
    crm_writeoff_ids = fields.One2many(
        "crm.bad.debt.writeoff", "partner_id", string="Bad Debts Written Off", readonly=True
    )

    @api.depends_context("company", "uid")
    def _compute_crm_discipline(self):
        today = fields.Date.context_today(self)
        # the dossier's visibility: a colleague's customer has no discipline to show
        visible = self._crm_visible()
        commercial = {partner: partner.commercial_partner_id.id if partner in visible else False for partner in self}
        stats = self.env["crm.payment.discipline"]._get_partner_stats(
            set(commercial.values()) - {False}, self._crm_company_ids(), today
        )
        for partner in self:
            row = stats.get(commercial[partner], {})
            partner.crm_paid_invoice_count = row.get("count", 0)
            partner.crm_ontime_share = row.get("on_time_share", 0.0)
            partner.crm_worst_delay = row.get("worst_delay", 0)
            partner.crm_recent_delay = row.get("recent_delay") or 0.0
            partner.crm_previous_delay = row.get("previous_delay") or 0.0
            partner.crm_delay_trend = delay_trend(row.get("recent_delay"), row.get("previous_delay"))

    def action_crm_open_aging(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_receivables.crm_receivable_aging_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def action_crm_payment_history(self):
        """The customer's paid invoices: days late per invoice, payments by month as a chart."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_receivables.crm_payment_discipline_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def action_crm_send_reminders_now(self):
        """Run the dunning of this customer's documents now: what is due today, once, in one
        message per channel, for the companies the user works in."""
        self.env["crm.dunning.policy"]._crm_check_dunning_access()
        self.check_access("read")
        self.env["crm.dunning.policy"].sudo()._cron_run_dunning(
            partners=self.commercial_partner_id, company_ids=self.env.companies.ids
        )
        return True

    def _crm_dunning_recipient(self, channel):
        """Who a reminder of this customer goes to: its contact whose role is accountant, else
        director, reachable through ``channel``; else the customer itself."""
        self.ensure_one()
        customer = self.commercial_partner_id
        address = {"email": "email", "whatsapp": "crm_whatsapp", "telegram": "crm_telegram"}.get(channel, "email")
        contacts = customer.child_ids.filtered(lambda c: c.type == "contact")
        key = choose_recipient(
            [
                (
                    contact.id,
                    contact.crm_contact_role,
                    bool(contact[address] or (channel == "whatsapp" and contact.mobile)),
                )
                for contact in contacts
            ]
        )
        return contacts.browse(key) if key else customer

    def action_crm_write_off(self):
        """A draft bad-debt write-off of this customer's overdue invoices, for a manager to approve."""
        self.ensure_one()
        self.env["crm.bad.debt.writeoff"]._check_requester()
        partner = self.commercial_partner_id
        invoices = self.env["account.move"].search(
            [
                ("commercial_partner_id", "=", partner.id),
                ("company_id", "=", self.env.company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", fields.Date.context_today(self)),
            ]
        )
        return partner._crm_writeoff_action(invoices)

    def _crm_writeoff_action(self, invoices):
        return {
            "type": "ir.actions.act_window",
            "name": _("Write Off Bad Debt"),
            "res_model": "crm.bad.debt.writeoff",
            "view_mode": "form",
            "target": "current",
            "context": {
                "default_partner_id": self.id,
                "default_company_id": self.env.company.id,
                "default_move_ids": [Command.set(invoices.ids)],
            },
        }

    # ------------------------------------------------------------------ payment history on the card: paid
    # invoices per month of payment, on time and late, for the last twelve months (one grouped query)
    crm_payment_chart = fields.Json(string="Payments by Month", compute="_compute_crm_payment_chart")

    @api.depends_context("company", "uid")
    def _compute_crm_payment_chart(self):
        today = fields.Date.context_today(self)
        first_month = today.replace(day=1) - relativedelta(months=CHART_MONTHS - 1)
        months = [first_month + relativedelta(months=index) for index in range(CHART_MONTHS)]
        groups = self.env["crm.payment.discipline"]._read_group(
            [
                ("partner_id", "in", self._crm_visible().commercial_partner_id.ids),
                ("company_id", "=", self.env.company.id),
                ("date_paid", ">=", first_month),
            ],
            ["partner_id", "date_paid:month", "is_on_time"],
            ["amount:sum"],
        )
        totals = {}
        for partner, month, on_time, amount in groups:
            entry = totals.setdefault((partner.id, month), {"on_time": 0.0, "late": 0.0})
            entry["on_time" if on_time else "late"] += amount
        currency = self.env.company.currency_id
        lang = self.env["res.lang"]._lang_get(self.env.lang or "en_US")
        for partner in self:
            bars = []
            for month in months:
                entry = totals.get((partner.commercial_partner_id.id, month), {"on_time": 0.0, "late": 0.0})
                bars.append(
                    {
                        "month": fields.Date.to_string(month),
                        "label": month.strftime("%m.%Y"),
                        "on_time": currency.round(entry["on_time"]),
                        "late": currency.round(entry["late"]),
                        "on_time_text": lang.format("%.2f", entry["on_time"], grouping=True),
                        "late_text": lang.format("%.2f", entry["late"], grouping=True),
                    }
                )
            partner.crm_payment_chart = {"currency": currency.symbol, "bars": bars}
