from odoo import api, models


class CrmExchangeHook(models.AbstractModel):
    """Where the inbound webhooks of the dossier report what they received. Nothing happens here;
    ``crm_exchange_log`` inherits it to journal every delivery with the other exchanges."""

    _name = "crm.exchange.hook"
    _description = "CrmAI Inbound Exchange Hook"

    @api.model
    def _crm_journal_inbound(self, channel, payload, external_id=None, res_model=None, res_id=None, error=None):
        """``channel`` is ``telegram``, ``whatsapp`` or ``call``; ``payload`` a dict without secrets."""
        return None
