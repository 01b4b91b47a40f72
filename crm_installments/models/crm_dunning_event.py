from odoo import fields, models


class CrmDunningEvent(models.Model):
    """Installment reminders are dunning events too: of an installment line instead of an
    invoice, once per line, level and action."""

    _inherit = "crm.dunning.event"

    installment_line_id = fields.Many2one(
        "crm.installment.line", string="Installment", index="btree_not_null", ondelete="cascade", readonly=True
    )
    installment_plan_id = fields.Many2one(related="installment_line_id.plan_id", string="Installment Plan")
