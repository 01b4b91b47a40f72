from odoo import fields, models


class CrmSubscriptionPeriod(models.Model):
    """A billed period of a subscription: one per subscription and period start."""

    _name = "crm.subscription.period"
    _description = "Subscription Period"
    _order = "date desc, id desc"

    subscription_id = fields.Many2one("crm.subscription", required=True, index=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Period Start", required=True, readonly=True)
    amount = fields.Monetary(readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True, ondelete="set null")
    payment_state = fields.Selection(related="move_id.payment_state")

    _sql_constraints = [
        ("subscription_period_uniq", "unique(subscription_id, date)", "A period is billed once."),
    ]
