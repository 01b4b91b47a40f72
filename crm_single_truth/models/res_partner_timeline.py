from odoo import fields, models


class ResPartner(models.Model):
    """The customer's timeline on its card: a tab and a smart button."""

    _inherit = "res.partner"

    crm_timeline_ids = fields.One2many("crm.timeline.event", "partner_id", string="Timeline", readonly=True)
    crm_timeline_count = fields.Integer(string="Timeline Events", compute="_compute_crm_timeline_count")

    def _compute_crm_timeline_count(self):
        groups = self.env["crm.timeline.event"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.crm_timeline_count = counts.get(partner.commercial_partner_id.id, 0)

    def action_crm_open_timeline(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_single_truth.crm_timeline_event_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        action["name"] = self.commercial_partner_id.display_name
        return action
