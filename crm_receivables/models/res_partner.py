from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_aging_ids = fields.One2many("crm.receivable.aging", "partner_id", string="Receivables Aging", readonly=True)

    def action_crm_open_aging(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_receivables.crm_receivable_aging_action")
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action
