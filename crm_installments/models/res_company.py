from odoo import api, fields, models


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
        given, else each company's local date (``_crm_today``)."""
        companies = self.sudo().search([])
        if date_ref:
            day = fields.Date.to_date(date_ref)
            return dict.fromkeys(companies.ids, day)
        now = fields.Datetime.now()
        return {company.id: company._crm_today(now) for company in companies}
