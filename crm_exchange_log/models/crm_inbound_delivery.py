import logging

from odoo import api, models

from odoo.addons.crm_single_truth.tools.inbound import clean

_logger = logging.getLogger(__name__)

CHANNEL_SYSTEMS = {
    "telegram": "telegram",
    "whatsapp": "whatsapp",
    "call": "telephony",
    "zadarma": "telephony",
    "mango": "telephony",
}


class CrmInboundDelivery(models.AbstractModel):
    """Every delivery the webhooks of the dossier answered is journaled with the other exchanges:
    ``done`` with the record it produced, ``failed`` with the reason it was refused (written on a
    cursor of its own, so that it stays when the delivery is rolled back)."""

    _inherit = "crm.inbound.delivery"

    @api.model
    def _crm_on_delivery(self, channel, payload, external_id=None, res_model=None, res_id=None, error=None):
        result = super()._crm_on_delivery(
            channel, payload, external_id=external_id, res_model=res_model, res_id=res_id, error=error
        )
        try:
            system = self.env["crm.exchange.system"]._get_by_code(CHANNEL_SYSTEMS.get(channel, channel))
            if not system:
                return result
            vals = {"idempotency_key": f"{channel}:{external_id}"[:256] if external_id else None}
            if res_model and res_id:
                vals.update(res_model=res_model, res_id=res_id)
            # whatever the sender put in it, the payload and the error can be stored
            self.env["crm.exchange.log"].sudo()._journal(
                system,
                "in",
                f"webhook_{channel}",
                state="failed" if error else "done",
                error=clean(error) if error else None,
                request=clean(payload),
                **vals,
            )
        except Exception:  # noqa: BLE001 - journaling never breaks the webhook
            _logger.exception("Exchange journal: could not journal a %s delivery", channel)
        return result
