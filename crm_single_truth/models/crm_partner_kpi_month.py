from odoo import fields, models


class CrmPartnerKpiMonth(models.Model):
    """A customer's purchases and payments of one month in one company: the period figures of
    the card (12 months, 3 years, any range) add up at most 36 of these rows."""

    _name = "crm.partner.kpi.month"
    _description = "Customer KPI Aggregate per Month"
    _order = "month desc, id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    month = fields.Date(required=True, readonly=True, help="First day of the month.")
    ltv = fields.Monetary(string="Bought", readonly=True)
    order_count = fields.Integer(string="Purchases", readonly=True)
    first_order_date = fields.Date(string="First Purchase", readonly=True)
    last_order_date = fields.Date(string="Last Purchase", readonly=True)
    paid_amount = fields.Monetary(string="Paid Invoices Amount", readonly=True)
    paid_delay_amount = fields.Float(string="Paid Amount x Days Late", digits=(16, 2), readonly=True)

    _sql_constraints = [
        (
            "partner_company_month_uniq",
            "unique(partner_id, company_id, month)",
            "One KPI row per customer, company and month.",
        ),
    ]
