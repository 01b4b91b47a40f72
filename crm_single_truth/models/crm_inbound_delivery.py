from odoo import api, models


class CrmInboundDelivery(models.AbstractModel):
    """Where the webhooks of the dossier report each delivery they answered: the channel
    (``telegram``, ``whatsapp``, ``call``, ``zadarma``, ``mango``), the payload (never a secret),
    the record it produced and the error of a refused one. Nothing happens here: an addon that
    keeps a journal of exchanges inherits this model."""

    _name = "crm.inbound.delivery"
    _description = "Inbound Delivery Hook"

    @api.model
    def _crm_on_delivery(self, channel, payload, external_id=None, res_model=None, res_id=None, error=None):
        return None
