from odoo import fields, models


class CrmInstallmentAllocation(models.Model):
    """The part of a payment that went to one installment."""

    _name = "crm.installment.allocation"
    _description = "Installment Payment Allocation"
    _order = "id"

    payment_id = fields.Many2one("crm.installment.payment", required=True, index=True, ondelete="cascade")
    line_id = fields.Many2one(
        "crm.installment.line", string="Installment", required=True, index=True, ondelete="cascade"
    )
    plan_id = fields.Many2one(related="line_id.plan_id", store=True)
    company_id = fields.Many2one(related="line_id.company_id", store=True)
    currency_id = fields.Many2one(related="line_id.currency_id")
    date = fields.Date(related="payment_id.date")
    date_due = fields.Date(related="line_id.date_due")
    amount = fields.Monetary(required=True)
