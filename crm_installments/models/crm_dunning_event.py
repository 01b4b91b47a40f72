from odoo import fields, models


class CrmDunningEvent(models.Model):
    """Installment reminders are dunning events too: of an installment line instead of an
    invoice, once per line and level."""

    _inherit = "crm.dunning.event"

    move_id = fields.Many2one(required=False)
    installment_line_id = fields.Many2one(
        "crm.installment.line", string="Installment", index="btree_not_null", ondelete="cascade", readonly=True
    )
    installment_plan_id = fields.Many2one(related="installment_line_id.plan_id", string="Installment Plan")

    _sql_constraints = [
        (
            "installment_line_level_uniq",
            "unique(installment_line_id, level_id)",
            "A reminder level is acted on once per installment.",
        ),
        (
            "document_set",
            "CHECK(move_id IS NOT NULL OR installment_line_id IS NOT NULL)",
            "A reminder is about an invoice or an installment.",
        ),
    ]
