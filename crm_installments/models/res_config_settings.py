from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_churn_days = fields.Integer(
        string="Churn Signal After (days)",
        config_parameter="crm_installments.churn_days",
        default=45,
        help="A paying subscriber with no message nor order for this many days gets an activity for the salesperson.",
    )
    crm_subscription_invoice_days = fields.Integer(related="company_id.crm_subscription_invoice_days", readonly=False)
    crm_subscription_end_reminder_days = fields.Integer(
        related="company_id.crm_subscription_end_reminder_days", readonly=False
    )
