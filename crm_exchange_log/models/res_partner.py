from odoo import fields, models


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "crm.exchange.consumer.mixin"]

    crm_onec_ref = fields.Char(
        string="1C Reference",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="UUID of the counterparty in 1C (EnterpriseData reference).",
    )

    def _crm_exchange_handlers(self):
        return super()._crm_exchange_handlers() | {"_crm_onec_push"}

    def action_onec_push(self):
        """Send the counterparties to 1C; the exchange is journaled whatever happens."""
        return self.env["crm.onec.connector"]._action_push(self, "push_partner")

    def _crm_onec_push(self, log):
        return self.env["crm.onec.connector"]._send(self, log)
