from datetime import datetime, timezone

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.tools import SQL, plaintext2html

CHANNELS = [("whatsapp", "WhatsApp"), ("telegram", "Telegram")]


class CrmMessengerMessage(models.Model):
    """An inbound messenger message: received once per (channel, message id), posted in the
    chatter of the customer it came from, or of a new lead when the sender is unknown."""

    _name = "crm.messenger.message"
    _description = "Messenger Message"
    _order = "date desc, id desc"

    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    external_id = fields.Char(string="Message ID", required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True)
    sender = fields.Char(readonly=True, help="Phone number, username or id of the sender.")
    sender_name = fields.Char(readonly=True)
    body = fields.Text(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    lead_id = fields.Many2one("crm.lead", string="Lead", readonly=True, index="btree_not_null")
    mail_message_id = fields.Many2one("mail.message", string="Chatter Message", readonly=True, ondelete="set null")

    _sql_constraints = [
        ("channel_external_uniq", "unique(channel, external_id)", "A messenger message is received once."),
    ]

    @api.model
    def _crm_claim(self, channel, external_id):
        """Reserve (channel, message id) in this transaction. False when it was already received,
        so a repeated delivery changes nothing; concurrent deliveries wait for each other."""
        rows = self.env.execute_query(
            SQL(
                """INSERT INTO crm_messenger_message
                       (channel, external_id, date, create_uid, create_date, write_uid, write_date)
               VALUES (%s, %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC')
               ON CONFLICT (channel, external_id) DO NOTHING RETURNING id""",
                channel,
                external_id,
                self.env.uid,
                self.env.uid,
            )
        )
        return self.browse(rows[0][0]) if rows else False

    @api.model
    def _crm_receive(self, channel, external_id, date, body, sender, sender_name=None, partner=None):
        """Record one inbound message; returns the record, or False for a repeated delivery."""
        message = self._crm_claim(channel, external_id)
        if not message:
            return False
        label = dict(CHANNELS)[channel]
        html = Markup("<p><b>%s</b> %s</p><p>%s</p>") % (
            label,
            escape(sender_name or sender or ""),
            Markup("<br/>").join(escape(body or "").split("\n")),
        )
        values = {"date": date, "body": body, "sender": sender, "sender_name": sender_name}
        thread_context = {"mail_create_nosubscribe": True, "mail_post_autofollow": False}
        if partner:
            values["partner_id"] = partner.id
            target = partner.with_context(**thread_context)
        else:
            lead = (
                self.env["crm.lead"]
                .with_context(**thread_context)
                .create(
                    {
                        "name": _("%(channel)s: %(sender)s", channel=label, sender=sender_name or sender),
                        "type": "lead",
                        "user_id": False,
                        "contact_name": sender_name,
                        "phone": sender if channel == "whatsapp" else False,
                        "description": plaintext2html(body or ""),
                    }
                )
            )
            values["lead_id"] = lead.id
            target = lead
        posted = target.message_post(
            body=html,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            author_id=partner.id if partner else None,
            date=date,
        )
        posted.crm_channel = channel
        values["mail_message_id"] = posted.id
        message.write(values)
        return message

    # ------------------------------------------------------------------ Telegram Bot API
    @api.model
    def _crm_process_telegram(self, update):
        """A Telegram ``Update``: a message (or edited message, channel post) is recorded, other
        update kinds are acknowledged and ignored. Raises ValueError when malformed."""
        if not isinstance(update.get("update_id"), int):
            raise ValueError("update_id is missing")
        message = update.get("message") or update.get("edited_message") or update.get("business_message")
        if message is None:
            return []
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("message_id"), int)
            or not isinstance(message.get("chat"), dict)
            or not isinstance(message.get("date"), int)
        ):
            raise ValueError("message needs message_id, chat and date")
        sender = message.get("from") or {}
        if not isinstance(sender, dict):
            raise ValueError("from must be an object")
        contact = message.get("contact") if isinstance(message.get("contact"), dict) else {}
        body = (
            message.get("text")
            or message.get("caption")
            or (contact.get("phone_number") and _("Shared contact: %(phone)s", phone=contact["phone_number"]))
            or _(
                "[%(kind)s]",
                kind=next(
                    (k for k in ("photo", "document", "voice", "video", "sticker", "location") if k in message),
                    "message",
                ),
            )
        )
        username = sender.get("username")
        partner = self.env["res.partner"]._crm_find_by_telegram(username, sender.get("id"))
        if not partner and contact.get("phone_number"):
            partner = self.env["res.partner"]._crm_find_by_phone(contact["phone_number"])
        name = " ".join(filter(None, (sender.get("first_name"), sender.get("last_name")))) or username
        external_id = f"{message['chat'].get('id')}:{message['message_id']}"
        if "edited_message" in update:
            external_id += f":edit:{message.get('edit_date', update['update_id'])}"
        record = self._crm_receive(
            "telegram",
            external_id,
            fields.Datetime.to_string(_utc_from_timestamp(message["date"])),
            body,
            sender=("@" + username) if username else str(sender.get("id") or ""),
            sender_name=name,
            partner=partner,
        )
        return [(record, external_id)]

    # ------------------------------------------------------------------ WhatsApp Cloud API
    @api.model
    def _crm_process_whatsapp(self, notification):
        """A Cloud API webhook notification; status updates are acknowledged and ignored."""
        if notification.get("object") != "whatsapp_business_account" or not isinstance(notification.get("entry"), list):
            raise ValueError("not a whatsapp_business_account notification")
        results = []
        for entry in notification["entry"]:
            for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
                value = change.get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict):
                    raise ValueError("change without value")
                names = {
                    contact.get("wa_id"): (contact.get("profile") or {}).get("name")
                    for contact in value.get("contacts") or []
                    if isinstance(contact, dict)
                }
                for message in value.get("messages") or []:
                    if (
                        not isinstance(message, dict)
                        or not message.get("id")
                        or not message.get("from")
                        or not str(message.get("timestamp", "")).isdigit()
                    ):
                        raise ValueError("message needs id, from and timestamp")
                    kind = message.get("type", "text")
                    content = message.get(kind) if isinstance(message.get(kind), dict) else {}
                    body = content.get("body") or content.get("caption") or _("[%(kind)s]", kind=kind)
                    phone = "+" + message["from"].lstrip("+")
                    record = self._crm_receive(
                        "whatsapp",
                        message["id"],
                        fields.Datetime.to_string(_utc_from_timestamp(int(message["timestamp"]))),
                        body,
                        sender=phone,
                        sender_name=names.get(message["from"]),
                        partner=self.env["res.partner"]._crm_find_by_phone(phone),
                    )
                    results.append((record, message["id"]))
        return results


def _utc_from_timestamp(timestamp):
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).replace(tzinfo=None)
