from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CrmSegmentMembersWizard(models.TransientModel):
    """Act on all current members of a segment at once."""

    _name = "crm.segment.members.wizard"
    _description = "Act on Segment Members"

    segment_id = fields.Many2one("crm.segment", required=True, ondelete="cascade")
    action = fields.Selection(
        [("assign", "Assign a salesperson"), ("call", "Schedule a call")], required=True, default="call"
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        domain="[('share', '=', False)]",
        help="For a call: leave empty to give each call to the customer's own salesperson.",
    )
    summary = fields.Char(default=lambda self: _("Call the customer"))
    date_deadline = fields.Date(string="Due Date", default=fields.Date.context_today)
    member_count = fields.Integer(related="segment_id.partner_count")

    def _members(self):
        return self.env["res.partner"].search([("crm_segment_ids", "in", self.segment_id.ids)])

    def action_apply(self):
        self.ensure_one()
        self.segment_id._check_manager()
        members = self._members()
        if not members:
            raise UserError(_("Segment %(name)s has no members.", name=self.segment_id.name))
        if self.action == "assign":
            if not self.user_id:
                raise UserError(_("Choose the salesperson to assign."))
            members.write({"user_id": self.user_id.id})
            return {"type": "ir.actions.act_window_close"}
        model_id = self.env["ir.model"]._get_id("res.partner")
        call = self.env.ref("mail.mail_activity_data_call")
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": partner.id,
                    "activity_type_id": call.id,
                    "summary": self.summary,
                    "date_deadline": self.date_deadline,
                    "user_id": (self.user_id or partner.user_id or self.env.user).id,
                }
                for partner in members
            ]
        )
        return {"type": "ir.actions.act_window_close"}

    @api.model
    def _action_for(self, segment, action):
        return {
            "type": "ir.actions.act_window",
            "name": _("Segment members"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {"default_segment_id": segment.id, "default_action": action},
        }
