from odoo import fields, models


class CrmDunningEvent(models.Model):
    """A reminder acted on: one per invoice and level, never twice."""

    _name = "crm.dunning.event"
    _description = "Dunning Event"
    _order = "date desc, id desc"

    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, index=True, ondelete="cascade", readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, readonly=True)
    level_id = fields.Many2one("crm.dunning.level", required=True, ondelete="restrict", readonly=True)
    policy_id = fields.Many2one("crm.dunning.policy", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    offset_days = fields.Integer(readonly=True)
    action = fields.Selection(
        [
            ("email_customer", "Email the customer"),
            ("activity_manager", "Activity for the salesperson"),
            ("activity_supervisor", "Activity for the supervisor"),
        ],
        readonly=True,
    )
    date = fields.Date(required=True, readonly=True)

    _sql_constraints = [
        ("move_level_uniq", "unique(move_id, level_id)", "A reminder level is acted on once per invoice.")
    ]
