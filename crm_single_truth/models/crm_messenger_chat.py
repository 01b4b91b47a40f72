from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, plaintext2html

from .crm_messenger_message import CHANNELS

# WhatsApp's customer service window: free-form messages up to 24 hours after the customer's last one
SERVICE_WINDOW = timedelta(hours=24)


class CrmMessengerChat(models.Model):
    """A conversation with one messenger account: a WhatsApp number or a Telegram chat. It knows
    where replies go, when the customer last wrote (the WhatsApp 24-hour window), and who the
    customer is - a contact, or the lead opened for an unknown sender, which later messages join."""

    _name = "crm.messenger.chat"
    _description = "Messenger Conversation"
    _order = "last_message_date desc, id desc"

    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    address = fields.Char(
        required=True,
        readonly=True,
        help="Where replies go: the WhatsApp number in international format, or the Telegram chat id.",
    )
    username = fields.Char(string="Telegram Username", readonly=True)
    name = fields.Char(string="Profile Name", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Contact", index=True, ondelete="set null")
    commercial_partner_id = fields.Many2one(
        "res.partner", string="Customer", related="partner_id.commercial_partner_id", store=True, index=True
    )
    lead_id = fields.Many2one("crm.lead", string="Lead", index="btree_not_null", ondelete="set null")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    last_inbound_date = fields.Datetime(
        string="Customer Wrote On",
        readonly=True,
        help="The customer's last message: it opens WhatsApp's 24-hour window.",
    )
    last_message_date = fields.Datetime(string="Last Message", readonly=True)
    message_ids = fields.One2many("crm.messenger.message", "chat_id", string="Messages")

    _sql_constraints = [
        ("channel_address_uniq", "unique(channel, address)", "There is one conversation per messenger account."),
    ]

    @api.depends("channel", "address", "name", "partner_id")
    def _compute_display_name(self):
        labels = dict(CHANNELS)
        for chat in self:
            who = chat.partner_id.display_name or chat.name or chat.username or chat.address
            chat.display_name = f"{labels.get(chat.channel, '')}: {who}"

    def _crm_window_open(self, now=None):
        """Whether WhatsApp still accepts a free-form message (the customer wrote in the last 24 hours)."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        return bool(self.last_inbound_date) and self.last_inbound_date > now - SERVICE_WINDOW

    @api.model
    def _crm_touch(self, channel, address, date, company, username=None, name=None, inbound=True):
        """The conversation with ``address``, created or brought up to date by one message.

        One statement that takes the row lock: two deliveries from the same sender are serialized
        on it, and one that waited for the other is retried by Odoo with a fresh snapshot, in which
        the lead or contact the other one linked is visible (no second lead for one sender)."""
        date = fields.Datetime.to_datetime(date)
        self.env.cr.execute(
            SQL(
                """INSERT INTO crm_messenger_chat
                       (channel, address, company_id, username, name, last_inbound_date, last_message_date,
                        create_uid, create_date, write_uid, write_date)
                   VALUES (%(channel)s, %(address)s, %(company)s, %(username)s, %(name)s, %(inbound)s, %(date)s,
                           %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC')
              ON CONFLICT (channel, address) DO UPDATE SET
                   username = COALESCE(EXCLUDED.username, crm_messenger_chat.username),
                   name = COALESCE(EXCLUDED.name, crm_messenger_chat.name),
                   last_inbound_date = GREATEST(crm_messenger_chat.last_inbound_date, EXCLUDED.last_inbound_date),
                   last_message_date = GREATEST(crm_messenger_chat.last_message_date, EXCLUDED.last_message_date),
                   write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                RETURNING id""",
                channel=channel,
                address=address,
                company=company.id,
                username=username or None,
                name=name or None,
                inbound=date if inbound else None,
                date=date,
                uid=self.env.uid,
            ),
            log_exceptions=False,
        )
        chat = self.browse(self.env.cr.fetchone()[0])
        chat.invalidate_recordset()
        return chat

    def _crm_open_lead(self):
        """The lead of this unknown sender that is still open, if any."""
        self.ensure_one()
        lead = self.lead_id.sudo()
        if not lead.exists() or not lead.active or lead.stage_id.is_won:
            return self.env["crm.lead"]
        return self.lead_id

    def _crm_lead_for(self, body, label):
        """The open lead of this unknown sender, or a new one: one lead per sender."""
        self.ensure_one()
        lead = self._crm_open_lead()
        if lead:
            return lead
        lead = (
            self.env["crm.lead"]
            .with_context(mail_create_nosubscribe=True, mail_post_autofollow=False)
            .create(
                {
                    "name": _(
                        "%(channel)s: %(sender)s", channel=label, sender=self.name or self.username or self.address
                    ),
                    "type": "lead",
                    "user_id": False,
                    "contact_name": self.name,
                    "phone": self.address if self.channel == "whatsapp" else False,
                    "description": plaintext2html(body or ""),
                    "company_id": self.company_id.id,
                }
            )
        )
        self.lead_id = lead
        return lead
