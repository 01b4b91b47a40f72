from odoo import fields, models

from .crm_messenger_message import CHANNELS


class MailMessage(models.Model):
    """Chatter messages that came in or went out through a messenger carry their channel, so that
    the chatter shows where the customer wrote and offers to answer there."""

    _inherit = "mail.message"

    crm_channel = fields.Selection(CHANNELS, string="Messenger", readonly=True)

    def _to_store(self, store, /, *, fields=None, **kwargs):
        result = super()._to_store(store, fields=fields, **kwargs)
        if fields is None:
            for message in self.filtered("crm_channel"):
                store.add(message, {"crm_channel": message.crm_channel})
        return result
