from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_exchange_count = fields.Integer(string="Exchanges", compute="_compute_crm_exchange_count")
    crm_onec_ref = fields.Char(
        string="1C Reference",
        copy=False,
        readonly=True,
        help="UUID of the counterparty in 1C (EnterpriseData reference).",
    )

    def _compute_crm_exchange_count(self):
        counts = self.env["crm.exchange.log"]._count_for_documents(self)
        for partner in self:
            partner.crm_exchange_count = counts.get(partner.id, 0)

    def action_crm_open_exchanges(self):
        return self.env["crm.exchange.log"]._action_for_documents(self)

    def action_onec_push(self):
        """Send the counterparties to 1C; the exchange is journaled whatever happens."""
        return self.env["crm.onec.connector"]._action_push(self, "push_partner")

    def _crm_onec_push(self, log):
        return self.env["crm.onec.connector"]._send(self, log)
