from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_critical_amount = fields.Float(
        string="Critical Overdue Amount",
        config_parameter="crm_receivables.critical_amount",
        default=1000000.0,
        help="A customer is critical when its overdue debt is above this amount (company currency), "
        "or when its oldest overdue item is more than 30 days late.",
    )
    crm_unusual_delay_margin = fields.Integer(
        string="Unusual Delay Margin (days)",
        config_parameter="crm_receivables.unusual_delay_margin",
        default=5,
        help="An open invoice overdue by more than the customer's usual delay plus this margin raises an "
        "activity for the salesperson (customers with at least 3 paid invoices).",
    )
    crm_bad_debt_account_id = fields.Many2one(
        related="company_id.crm_bad_debt_account_id",
        readonly=False,
        domain="[('account_type', 'in', ('expense', 'expense_other'))]",
    )
