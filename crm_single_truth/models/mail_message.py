from odoo import fields, models

from .crm_messenger_message import CHANNELS


class MailMessage(models.Model):
    """Chatter messages that came in through a messenger carry their channel, so that the
    timeline and the chatter show where the customer wrote."""

    _inherit = "mail.message"

    crm_channel = fields.Selection(CHANNELS, string="Messenger", readonly=True)
