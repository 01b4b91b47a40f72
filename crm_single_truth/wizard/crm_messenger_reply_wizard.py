from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..models.crm_messenger_message import CHANNELS


class CrmMessengerReplyWizard(models.TransientModel):
    """Write to a customer on WhatsApp or Telegram from the card or a timeline row."""

    _name = "crm.messenger.reply.wizard"
    _description = "Reply on a Messenger"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True)
    channel = fields.Selection(CHANNELS, required=True)
    reply_to_id = fields.Many2one("crm.messenger.message", string="In Reply To", readonly=True)
    reply_to_body = fields.Text(related="reply_to_id.body", string="Customer Wrote")
    body = fields.Text(string="Message")
    attachment_ids = fields.Many2many("ir.attachment", string="Documents")
    recipient = fields.Char(compute="_compute_recipient", string="To")
    template_notice = fields.Char(compute="_compute_recipient")

    @api.depends("partner_id", "channel")
    def _compute_recipient(self):
        for wizard in self:
            wizard.recipient = False
            wizard.template_notice = False
            if not wizard.partner_id or not wizard.channel:
                continue
            try:
                wizard.partner_id._crm_check_conversation_access()
            except AccessError:
                continue  # nothing about the conversations of a customer one may not write to
            Chat = self.env["crm.messenger.chat"].sudo()
            partner = wizard.partner_id
            partners = partner if partner.parent_id or not partner.is_company else partner | partner.child_ids
            chat = Chat.search(
                [("channel", "=", wizard.channel), ("partner_id", "in", partners.ids)],
                order="last_message_date desc, id desc",
                limit=1,
            )
            wizard.recipient = chat.display_name if chat else partner.display_name
            if wizard.channel == "whatsapp" and not (chat and chat._crm_window_open()):
                wizard.template_notice = _(
                    "The customer has not written for 24 hours: WhatsApp delivers only the approved template, "
                    "with this text as its parameter."
                )

    def action_send(self):
        self.ensure_one()
        message = self.partner_id.with_context(crm_reply_to_id=self.reply_to_id.id or None).crm_send_message(
            self.channel, self.body, self.attachment_ids.ids
        )
        return {
            "type": "ir.actions.act_window_close",
            "infos": {"crm_messenger_message_id": message.id},
        }
