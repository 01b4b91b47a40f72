import base64
import logging
import time
from datetime import datetime, timezone

import psycopg2.errors
from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..services import telegram_bot, whatsapp_cloud
from ..services.messenger_api import MessengerError
from ..tools.phone import e164_digits, international_to_e164, to_e164

_logger = logging.getLogger(__name__)

CHANNELS = [("whatsapp", "WhatsApp"), ("telegram", "Telegram")]
DIRECTIONS = [("in", "Received"), ("out", "Sent")]
STATES = [
    ("received", "Received"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("failed", "Failed"),
]
# WhatsApp's refusals that are about this customer, not the connection: no retry changes them
WHATSAPP_CUSTOMER_REFUSALS = {131021, 131026, 131047, 131049, 131050}
# a status report never moves a message back (WhatsApp may report "delivered" before "sent")
STATE_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
WHATSAPP_STATUSES = {"sent", "delivered", "read", "failed"}
# the oldest and latest dates a webhook may carry (a "huge timestamp" is malformed, not a crash)
MIN_TIMESTAMP = 946684800  # 2000-01-01
MAX_TIMESTAMP = 4102444800  # 2100-01-01
MAX_ID_LENGTH = 256
# without the job queue, a message the messenger asks to delay is retried once in the request
INLINE_RETRY_MAX_WAIT = 5


def utc_from_timestamp(value):
    """A naive UTC datetime from a Unix timestamp given as int or digit string; ValueError when
    it is not one or lies outside 2000-2100."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("timestamp must be a number of seconds")
    if isinstance(value, str):
        if not value.isdigit() or len(value) > 12:
            raise ValueError("timestamp must be a number of seconds")
        value = int(value)
    if not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        raise ValueError("timestamp is out of range")
    return datetime.fromtimestamp(value, tz=timezone.utc).replace(tzinfo=None)


def _short_id(value, name):
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise ValueError(f"{name} is missing")
    value = str(value).strip()
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{name} is too long")
    return value


def _optional_text(value, name):
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value[:MAX_ID_LENGTH]


class CrmMessengerMessage(models.Model):
    """A messenger message of a conversation. Received: recorded once per (channel, message id)
    and posted in the chatter of the customer it came from, or of the sender's open lead. Sent:
    queued by :meth:`res.partner.crm_send_message`, delivered through the messenger's API by
    :meth:`_crm_dispatch`, and kept up to date by the messenger's status reports."""

    _name = "crm.messenger.message"
    _description = "Messenger Message"
    _order = "date desc, id desc"
    _rec_name = "body"

    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    direction = fields.Selection(DIRECTIONS, required=True, default="in", readonly=True)
    state = fields.Selection(STATES, required=True, default="received", readonly=True, index=True)
    chat_id = fields.Many2one("crm.messenger.chat", string="Conversation", readonly=True, index="btree_not_null")
    external_id = fields.Char(
        string="Message ID", readonly=True, copy=False, help="The messenger's id of the message (received or sent)."
    )
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    state_date = fields.Datetime(string="Status Date", readonly=True)
    sender = fields.Char(readonly=True, help="Phone number, username or id of the sender.")
    sender_name = fields.Char(readonly=True)
    body = fields.Text(readonly=True)
    attachment_ids = fields.Many2many("ir.attachment", string="Documents", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    commercial_partner_id = fields.Many2one(
        "res.partner", related="partner_id.commercial_partner_id", string="Customer Company", store=True, index=True
    )
    lead_id = fields.Many2one("crm.lead", string="Lead", readonly=True, index="btree_not_null")
    user_id = fields.Many2one("res.users", string="Sent By", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, default=lambda self: self.env.company, index=True)
    reply_to_id = fields.Many2one("crm.messenger.message", string="In Reply To", readonly=True, ondelete="set null")
    template_name = fields.Char(
        string="WhatsApp Template",
        readonly=True,
        help="Approved template this message is sent with whatever the window (its body parameter is the text).",
    )
    sent_as_template = fields.Boolean(
        readonly=True, help="Sent as an approved WhatsApp template: the customer had not written for 24 hours."
    )
    error_code = fields.Char(readonly=True)
    error_message = fields.Text(string="Delivery Problem", readonly=True)
    mail_message_id = fields.Many2one("mail.message", string="Chatter Message", readonly=True, ondelete="set null")

    _sql_constraints = [
        ("channel_external_uniq", "unique(channel, external_id)", "A messenger message is recorded once."),
    ]

    @api.depends("channel", "direction", "sender_name", "sender", "chat_id")
    def _compute_display_name(self):
        labels = dict(CHANNELS)
        for message in self:
            who = (
                message.sender_name or message.sender
                if message.direction == "in"
                else message.chat_id.display_name or message.partner_id.display_name
            )
            arrow = "←" if message.direction == "in" else "→"
            message.display_name = f"{labels.get(message.channel, '')} {arrow} {who or ''}".strip()

    # ------------------------------------------------------------------ receiving
    @api.model
    def _crm_claim(self, channel, external_id):
        """Reserve (channel, message id) in this transaction; False when it was received before,
        so a repeated delivery changes nothing. A concurrent delivery of the same message waits
        for this one; if it committed after the waiting one's snapshot, PostgreSQL reports a
        serialization failure, which Odoo's request loop retries (it is not logged as an error
        here) and which the retry then sees as a repeated delivery."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO crm_messenger_message
                       (channel, external_id, direction, state, date, create_uid, create_date, write_uid, write_date)
                   VALUES (%(channel)s, %(external_id)s, 'in', 'received', now() AT TIME ZONE 'UTC',
                           %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC')
              ON CONFLICT (channel, external_id) DO NOTHING RETURNING id""",
                channel=channel,
                external_id=external_id,
                uid=self.env.uid,
            ),
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0]) if row else False

    @api.model
    def _crm_receive(
        self, channel, external_id, date, body, sender, sender_name=None, partner=None, address=None, username=None
    ):
        """Record one inbound message; returns the record, or False for a repeated delivery.
        ``address`` is where replies go (the sender's number, the Telegram chat id); an unknown
        sender's messages all go to one open lead."""
        message = self._crm_claim(channel, external_id)
        if not message:
            return False
        partner = partner or self.env["res.partner"]
        company = partner.company_id or self.env.company
        address = address or sender
        if channel == "whatsapp":
            address = next(iter(self.env["res.partner"]._crm_e164_candidates(address)), None) or address
        chat = self.env["crm.messenger.chat"]._crm_touch(
            channel, address, date, company, username=username, name=sender_name
        )
        if partner and chat.partner_id != partner:
            chat.partner_id = partner
        elif not partner and chat.partner_id.active:
            partner = chat.partner_id
        label = dict(CHANNELS)[channel]
        thread_context = {"mail_create_nosubscribe": True, "mail_post_autofollow": False}
        values = {
            "chat_id": chat.id,
            "date": date,
            "body": body,
            "sender": sender,
            "sender_name": sender_name,
            "company_id": chat.company_id.id,
        }
        lead = self.env["crm.lead"]
        if not partner:
            lead = chat._crm_open_lead()
            if lead.partner_id:
                # the lead became a customer's deal: the conversation is the customer's from now on
                partner = lead.partner_id
                chat.partner_id = partner
        if partner:
            values["partner_id"] = partner.id
            target = partner
        else:
            lead = chat._crm_lead_for(body, label)
            values["lead_id"] = lead.id
            target = lead
        html = Markup("<p><b>%s</b> %s</p><p>%s</p>") % (
            label,
            escape(sender_name or sender or ""),
            Markup("<br/>").join(escape(body or "").split("\n")),
        )
        posted = target.with_context(**thread_context).message_post(
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

    # ------------------------------------------------------------------ Telegram Bot API updates
    @api.model
    def _crm_process_telegram(self, update):
        """A Telegram ``Update``: a message (or edited message, business message) is recorded,
        other update kinds are acknowledged and ignored. Raises ValueError when malformed."""
        if not isinstance(update.get("update_id"), int) or isinstance(update.get("update_id"), bool):
            raise ValueError("update_id is missing")
        kind = next((k for k in ("message", "edited_message", "business_message") if k in update), None)
        if kind is None:
            return []
        message = update[kind]
        if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
            raise ValueError("message needs message_id, chat and date")
        message_id = _short_id(message.get("message_id"), "message_id")
        chat_id = _short_id(message["chat"].get("id"), "chat.id")
        date = utc_from_timestamp(message.get("date"))
        sender = message.get("from") if message.get("from") is not None else {}
        if not isinstance(sender, dict):
            raise ValueError("from must be an object")
        username = _optional_text(sender.get("username"), "from.username")
        first_name = _optional_text(sender.get("first_name"), "from.first_name")
        last_name = _optional_text(sender.get("last_name"), "from.last_name")
        user_id = sender.get("id")
        if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)):
            raise ValueError("from.id must be a number")
        contact = message.get("contact") if isinstance(message.get("contact"), dict) else {}
        shared_phone = _optional_text(contact.get("phone_number"), "contact.phone_number")
        text = message.get("text") if isinstance(message.get("text"), str) else None
        caption = message.get("caption") if isinstance(message.get("caption"), str) else None
        body = (
            text
            or caption
            or (shared_phone and _("Shared contact: %(phone)s", phone=shared_phone))
            or _(
                "[%(kind)s]",
                kind=next(
                    (k for k in ("photo", "document", "voice", "video", "sticker", "location") if k in message),
                    "message",
                ),
            )
        )
        Partner = self.env["res.partner"]
        partner = Partner._crm_find_by_telegram(username, user_id)
        if not partner and shared_phone:
            partner = Partner._crm_find_by_phone(shared_phone)
        name = " ".join(filter(None, (first_name, last_name))) or username
        external_id = f"{chat_id}:{message_id}"
        if kind == "edited_message":
            edit_date = message.get("edit_date")
            external_id += f":edit:{edit_date if isinstance(edit_date, int) else update['update_id']}"
        record = self._crm_receive(
            "telegram",
            external_id,
            fields.Datetime.to_string(date),
            body,
            sender=("@" + username) if username else str(user_id or ""),
            sender_name=name,
            partner=partner,
            address=chat_id,
            username=username,
        )
        return [(record, external_id)]

    # ------------------------------------------------------------------ WhatsApp Cloud API notifications
    @api.model
    def _crm_process_whatsapp(self, notification):
        """A Cloud API webhook notification: customers' messages are recorded, status reports
        update the messages we sent. Raises ValueError when malformed."""
        if notification.get("object") != "whatsapp_business_account" or not isinstance(notification.get("entry"), list):
            raise ValueError("not a whatsapp_business_account notification")
        results = []
        for entry in notification["entry"]:
            if not isinstance(entry, dict):
                raise ValueError("entry must be an object")
            changes = entry.get("changes") or []
            if not isinstance(changes, list):
                raise ValueError("changes must be a list")
            for change in changes:
                value = change.get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict):
                    raise ValueError("change without value")
                results += self._crm_whatsapp_messages(value)
                results += self._crm_whatsapp_statuses(value)
        return results

    @api.model
    def _crm_whatsapp_messages(self, value):
        contacts = value.get("contacts") or []
        messages = value.get("messages") or []
        if not isinstance(contacts, list) or not isinstance(messages, list):
            raise ValueError("contacts and messages must be lists")
        names = {}
        for contact in contacts:
            if isinstance(contact, dict) and isinstance(contact.get("profile"), dict):
                names[contact.get("wa_id")] = _optional_text(contact["profile"].get("name"), "profile.name")
        results = []
        for message in messages:
            if not isinstance(message, dict):
                raise ValueError("message must be an object")
            wamid = _short_id(message.get("id"), "message id")
            phone = international_to_e164(message.get("from"))
            if not phone:
                raise ValueError("from is not a phone number")
            date = utc_from_timestamp(message.get("timestamp"))
            kind = message.get("type", "text")
            if not isinstance(kind, str):
                raise ValueError("type must be a string")
            content = message.get(kind) if isinstance(message.get(kind), dict) else {}
            body = content.get("body") or content.get("caption")
            if not isinstance(body, str):
                body = _("[%(kind)s]", kind=kind[:32])
            record = self._crm_receive(
                "whatsapp",
                wamid,
                fields.Datetime.to_string(date),
                body,
                sender=phone,
                sender_name=names.get(message.get("from")),
                partner=self.env["res.partner"]._crm_find_by_phone(phone),
                address=phone,
            )
            results.append((record, wamid))
        return results

    @api.model
    def _crm_whatsapp_statuses(self, value):
        statuses = value.get("statuses") or []
        if not isinstance(statuses, list):
            raise ValueError("statuses must be a list")
        results = []
        for status in statuses:
            if not isinstance(status, dict):
                raise ValueError("status must be an object")
            wamid = _short_id(status.get("id"), "status id")
            state = status.get("status")
            date = utc_from_timestamp(status.get("timestamp"))
            if state not in WHATSAPP_STATUSES:
                results.append((False, f"{wamid}:{str(state)[:32]}"))
                continue
            errors = status.get("errors") if isinstance(status.get("errors"), list) else []
            error = errors[0] if errors and isinstance(errors[0], dict) else {}
            message = self.search(
                [("channel", "=", "whatsapp"), ("external_id", "=", wamid), ("direction", "=", "out")]
            )
            changed = message._crm_apply_status(state, date, error) if message else False
            results.append((message if changed else False, f"{wamid}:{state}"))
        return results

    def _crm_apply_status(self, state, date, error=None):
        """Move a sent message to what the messenger reported; never backwards. True if it changed."""
        self.ensure_one()
        if state == "failed":
            if self.state in ("failed", "delivered", "read"):
                return False
            error = error or {}
            code = error.get("code")
            detail = (
                (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
            )
            failure = MessengerError(
                str(detail or error.get("message") or error.get("title") or state)[:1000],
                code=code if isinstance(code, int) else None,
            )
            self._crm_record_failure(failure)
            return True
        if self.state == "failed" or STATE_RANK.get(state, -1) <= STATE_RANK.get(self.state, -1):
            return False
        self.write({"state": state, "state_date": date})
        return True

    # ------------------------------------------------------------------ sending
    @api.model
    def _crm_settings(self, channel):
        params = self.env["ir.config_parameter"].sudo()
        prefix = "crm_single_truth."
        if channel == "whatsapp":
            keys = ("whatsapp_api_url", "whatsapp_token", "whatsapp_phone_number_id", "whatsapp_template")
            keys += ("whatsapp_template_lang", "whatsapp_document_template")
        else:
            keys = ("telegram_api_url", "telegram_bot_token")
        return {key: params.get_param(prefix + key) or "" for key in keys}

    @api.model
    def _crm_prepare_outbound_vals(self, chat, body, attachments, partner, reply_to=None):
        return {
            "channel": chat.channel,
            "direction": "out",
            "state": "queued",
            "chat_id": chat.id,
            "date": fields.Datetime.now(),
            "body": body or False,
            "attachment_ids": [(6, 0, attachments.ids)],
            "partner_id": (chat.partner_id or partner).id,
            "lead_id": chat.lead_id.id or False,
            "user_id": self.env.uid,
            "sender_name": self.env.user.name,
            "company_id": chat.company_id.id or partner.company_id.id or self.env.company.id,
            "reply_to_id": reply_to.id if reply_to else False,
            # a reminder may ask for its own approved wording
            "template_name": (chat.channel == "whatsapp" and self.env.context.get("crm_whatsapp_template")) or False,
        }

    def _crm_post_in_chatter(self):
        """The sent message in the chatter of the customer (or lead), beside the customer's messages."""
        for message in self:
            target = message.partner_id or message.lead_id
            if not target:
                continue
            label = dict(CHANNELS)[message.channel]
            html = Markup("<p><b>%s</b> → %s</p><p>%s</p>") % (
                label,
                escape(message.chat_id.display_name or ""),
                Markup("<br/>").join(escape(message.body or "").split("\n")),
            )
            posted = target.with_context(mail_create_nosubscribe=True, mail_post_autofollow=False).message_post(
                body=html,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                author_id=message.user_id.partner_id.id or None,
                attachment_ids=message.attachment_ids.ids,
            )
            posted.crm_channel = message.channel
            message.mail_message_id = posted

    def _crm_dispatch(self):
        """Send queued messages. Here at once, in this transaction, with a short retry when the
        messenger asks to wait; ``crm_exchange_log`` overrides this to journal each sending and
        retry it with backoff as a job."""
        for message in self.filtered(lambda m: m.state == "queued"):
            for attempt in range(2):
                try:
                    message._crm_deliver()
                    break
                except MessengerError as error:
                    if not error.retryable or attempt or (error.retry_after or 0) > INLINE_RETRY_MAX_WAIT:
                        message._crm_record_failure(error)
                        break
                    time.sleep(error.retry_after or 1)

    def _crm_deliver(self):
        """One attempt to send this queued message through its messenger's API; records the
        message id and the ``sent`` state on success and returns what to journal. Raises
        :class:`MessengerError` (whose ``retryable`` tells whether trying again may help)."""
        self.ensure_one()
        if self.state != "queued":
            return {"skipped": self.state}
        settings = self._crm_settings(self.channel)
        if self.channel == "whatsapp":
            external_id, request = self._crm_deliver_whatsapp(settings)
        else:
            external_id, request = self._crm_deliver_telegram(settings)
        self.write(
            {"state": "sent", "external_id": external_id, "state_date": fields.Datetime.now(), "error_message": False}
        )
        return {"request": request, "message_id": external_id}

    def _crm_attachment(self):
        attachment = self.attachment_ids[:1].sudo()
        if not attachment:
            return None
        return attachment.name or "document", base64.b64decode(attachment.datas or b""), attachment.mimetype

    def _crm_deliver_whatsapp(self, settings):
        if not settings["whatsapp_token"] or not settings["whatsapp_phone_number_id"]:
            raise MessengerError("not configured", code="not_configured")
        client = whatsapp_cloud.WhatsAppCloudClient(
            settings["whatsapp_api_url"] or whatsapp_cloud.DEFAULT_API_URL,
            settings["whatsapp_token"],
            settings["whatsapp_phone_number_id"],
        )
        to = e164_digits(self.chat_id.address)
        document = self._crm_attachment()
        media = None
        if document:
            media = {"id": client.upload_media(*document), "filename": document[0]}
        if self.chat_id._crm_window_open() and not self.template_name:
            if media:
                payload = whatsapp_cloud.document_payload(to, media["id"], media["filename"], self.body or None)
            else:
                payload = whatsapp_cloud.text_payload(to, self.body or "")
        else:
            name = self.template_name or (
                settings["whatsapp_document_template"] if media else settings["whatsapp_template"]
            )
            if not name:
                raise MessengerError("no template", code="no_template_document" if media else "no_template")
            payload = whatsapp_cloud.template_payload(
                to, name, settings["whatsapp_template_lang"] or "ru", [self.body or "-"], document=media
            )
            self.sent_as_template = True
        return client.send(payload), payload

    def _crm_deliver_telegram(self, settings):
        if not settings["telegram_bot_token"]:
            raise MessengerError("not configured", code="not_configured")
        client = telegram_bot.TelegramBotClient(
            settings["telegram_api_url"] or telegram_bot.DEFAULT_API_URL, settings["telegram_bot_token"]
        )
        chat_id = self.chat_id.address
        document = self._crm_attachment()
        if document:
            message_id = client.send_document(chat_id, *document, caption=self.body or None)
            request = {"method": "sendDocument", "chat_id": chat_id, "document": document[0], "caption": self.body}
        else:
            message_id = client.send_message(chat_id, self.body or "")
            request = {"method": "sendMessage", "chat_id": chat_id, "text": self.body}
        return f"{chat_id}:{message_id}", request

    def _crm_refused_for_customer(self, error):
        """The messenger answered that it will not deliver to this customer (the 24-hour window,
        a number not on WhatsApp, a bot blocked by the user, a chat that never started): final for
        the message, unlike a rate limit, an outage or settings to fix."""
        self.ensure_one()
        if error.retryable:
            return False
        if self.channel == "whatsapp":
            return error.code in WHATSAPP_CUSTOMER_REFUSALS
        return error.code == 403 or (error.code == 400 and "chat not found" in error.detail)

    # ------------------------------------------------------------------ failures, explained
    def _crm_explain(self, error):
        """What the user reads when a message could not be sent, by the messenger's error code."""
        code, detail = error.code, error.detail
        if code == "not_configured":
            return _(
                "The %(channel)s connection is not set up: an administrator fills it in Settings > CrmAI.",
                channel=dict(CHANNELS)[self.channel],
            )
        if code == "no_template":
            return _(
                "The customer has not written for more than 24 hours: WhatsApp accepts only an approved template now, "
                "and none is set in Settings > CrmAI."
            )
        if code == "no_template_document":
            return _(
                "The customer has not written for more than 24 hours: a document can only be sent with an approved "
                "template whose header is a document, and none is set in Settings > CrmAI."
            )
        if error.retryable:
            return _(
                "%(channel)s is unavailable or limits how fast messages are sent (%(detail)s); the message was not "
                "sent after several attempts. Send it again later.",
                channel=dict(CHANNELS)[self.channel],
                detail=detail,
            )
        if self.channel == "whatsapp":
            if code == whatsapp_cloud.SERVICE_WINDOW_CODE:
                return _(
                    "More than 24 hours have passed since the customer's last message: WhatsApp accepts only an "
                    "approved template now. Wait for the customer to write, or set the template in Settings > CrmAI."
                )
            if code in (131026, 131030):
                return _(
                    "WhatsApp cannot deliver to this number: it is not on WhatsApp, or the customer has not accepted "
                    "WhatsApp's terms or uses an outdated app."
                )
            if code in (132000, 132001, 132005, 132007, 132012, 132015, 132016, 132018):
                return _(
                    "WhatsApp refused the template (%(detail)s): check its name, language and parameters in "
                    "Settings > CrmAI.",
                    detail=detail,
                )
            if code == 190 or error.status == 401:
                return _("WhatsApp refused the access token: an administrator renews it in Settings > CrmAI.")
            return _("WhatsApp refused the message: %(detail)s", detail=detail)
        if code == 403 and "blocked" in detail:
            return _("The customer has blocked the bot: Telegram no longer delivers messages to them.")
        if code == 403:
            return _("Telegram does not let the bot write to this chat: %(detail)s", detail=detail)
        if code == 400 and "chat not found" in detail:
            return _("Telegram does not know this chat: the customer must write to the bot first.")
        if code in (401, 404):
            return _("Telegram refused the bot token: an administrator checks it in Settings > CrmAI.")
        return _("Telegram refused the message: %(detail)s", detail=detail)

    def _crm_failure_vals(self, error):
        return {
            "state": "failed",
            "state_date": fields.Datetime.now(),
            "error_code": str(error.code) if error.code is not None else (str(error.status) if error.status else False),
            "error_message": self._crm_explain(error),
        }

    def _crm_record_failure(self, error):
        """The message failed: its state says so and its author reads why in the chatter."""
        self.ensure_one()
        self.write(self._crm_failure_vals(error))
        self._crm_notify_failure()

    def _crm_notify_failure(self):
        target = self.partner_id or self.lead_id
        if not target:
            return
        target.sudo().message_post(
            body=Markup("<p>%s</p><p>%s</p>")
            % (
                _("%(channel)s message not delivered:", channel=dict(CHANNELS)[self.channel]),
                self.error_message or "",
            ),
            message_type="notification",
            subtype_xmlid="mail.mt_note",
            partner_ids=self.user_id.partner_id.ids,
        )

    # ------------------------------------------------------------------ UI
    def action_reply(self):
        """Open the reply form for this conversation (from the message list or the timeline)."""
        self.ensure_one()
        self.check_access("read")
        partner = self.partner_id
        if not partner:
            raise UserError(_("This message is not linked to a customer: convert its lead first."))
        return partner._crm_reply_action(self.channel, reply_to=self)


def is_concurrency_error(error):
    """A PostgreSQL error that Odoo's request loop retries in a new transaction."""
    return isinstance(
        error,
        (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected),
    )


def address_of(channel, partner):
    """Where a first message to ``partner`` goes when it has never written: its WhatsApp number
    (else mobile) in E.164, or its numeric Telegram id. None when there is none."""
    region = (partner.country_id or partner.company_id.country_id or partner.env.company.country_id).code
    if channel == "whatsapp":
        return to_e164(partner.crm_whatsapp or "", region) or to_e164(partner.mobile or "", region)
    handle = (partner.crm_telegram or "").strip().lstrip("@")
    return handle if handle.isdigit() else None
