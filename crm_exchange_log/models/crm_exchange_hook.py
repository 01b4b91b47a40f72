import logging

from odoo import api, models

_logger = logging.getLogger(__name__)

CHANNEL_SYSTEMS = {"telegram": "telegram", "whatsapp": "whatsapp", "call": "telephony"}


class CrmExchangeHook(models.AbstractModel):
    """The telephony and messenger webhooks of the dossier journal through the same API."""

    _inherit = "crm.exchange.hook"

    @api.model
    def _crm_journal_inbound(self, channel, payload, external_id=None, res_model=None, res_id=None, error=None):
        result = super()._crm_journal_inbound(
            channel, payload, external_id=external_id, res_model=res_model, res_id=res_id, error=error
        )
        try:
            system = self.env["crm.exchange.system"]._get_by_code(CHANNEL_SYSTEMS.get(channel, channel))
            if not system:
                return result
            vals = {"idempotency_key": f"{channel}:{external_id}" if external_id else None}
            if res_model and res_id:
                vals.update(res_model=res_model, res_id=res_id)
            self.env["crm.exchange.log"].sudo()._journal(
                system,
                "in",
                f"webhook_{channel}",
                state="failed" if error else "done",
                error=error,
                request=payload,
                **vals,
            )
        except Exception:  # noqa: BLE001 - journaling never breaks the webhook
            _logger.exception("Exchange journal: could not journal a %s delivery", channel)
        return result
