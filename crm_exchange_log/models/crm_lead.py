from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    crm_exchange_count = fields.Integer(string="Exchanges", compute="_compute_crm_exchange_count")

    def _compute_crm_exchange_count(self):
        counts = self.env["crm.exchange.log"]._count_for_documents(self)
        for lead in self:
            lead.crm_exchange_count = counts.get(lead.id, 0)

    def action_crm_open_exchanges(self):
        return self.env["crm.exchange.log"]._action_for_documents(self)
