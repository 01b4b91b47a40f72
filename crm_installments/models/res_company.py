from odoo import api, fields, models

from ..tools import local_date


class ResCompany(models.Model):
    _inherit = "res.company"

    crm_subscription_invoice_days = fields.Integer(
        string="Invoice Subscriptions in Advance (days)",
        default=7,
        help="A subscription period is invoiced this many days before it starts (its payment day is the "
        "due date), so that the customer can be reminded before the due date.",
    )
    crm_subscription_end_reminder_days = fields.Integer(
        string="Remind Before a Subscription Ends (days)",
        default=30,
        help="The salesperson gets a renewal activity and the subscriber an e-mail this many days before "
        "the end date of a subscription.",
    )

    @api.model
    def _crm_installments_dates(self, date_ref=None):
        """{company id: the date the daily crons work on}: ``date_ref`` for every company when
        given, else today in each company's time zone (its partner's, else the user's, else UTC),
        so that Almaty between 00:00 and 05:00 is already tomorrow, not still yesterday in UTC."""
        companies = self.sudo().search([])
        if date_ref:
            day = fields.Date.to_date(date_ref)
            return dict.fromkeys(companies.ids, day)
        now = fields.Datetime.now()
        fallback = self.env.context.get("tz") or self.env.user.tz
        return {company.id: local_date(now, company.partner_id.tz or fallback) for company in companies}
