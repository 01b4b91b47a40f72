import json
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from ..models.crm_messenger_message import CrmMessengerMessage
from ..services.messenger_api import MessengerError
from .messenger_common import TEMPLATE, WA_TOKEN, MessengerSetup

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


@tagged("post_install", "-at_install")
class TestMessengerSend(MessengerSetup, TransactionCase):
    """Answering customers from the card through the WhatsApp Cloud API and the Telegram Bot API
    (local fakes that enforce the real APIs' rules), sent at once by this addon's own path;
    crm_exchange_log's tests cover the journaled job and its retries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Message = type(cls.env["crm.messenger.message"])
        cls.enterClassContext(patch.object(Message, "_crm_dispatch", CrmMessengerMessage._crm_dispatch))
        cls.setup_messengers(cls.env)

    def send(self, partner, channel, body, attachments=None):
        return partner.crm_send_message(channel, body, attachments.ids if attachments else None)

    def attachment(self, name="invoice.pdf", content=PDF, mimetype="application/pdf"):
        return self.env["ir.attachment"].create(
            {"name": name, "raw": content, "mimetype": mimetype, "res_model": "res.partner", "res_id": self.buyer.id}
        )

    def sent_payloads(self):
        return [item["payload"] for item in self.wa.sent]

    def setUp(self):
        super().setUp()
        self.wa.sent.clear()
        self.wa.requests.clear()
        self.wa.last_inbound.clear()
        self.tg.sent.clear()

    # ------------------------------------------------------------------ WhatsApp
    def test_whatsapp_reply_inside_the_window_is_text(self):
        received = self.whatsapp_in(self.env, hours_ago=1)
        message = self.send(self.company_partner, "whatsapp", "Отгрузим в пятницу.")
        self.assertEqual((message.state, message.direction, message.partner_id), ("sent", "out", self.buyer))
        self.assertEqual(message.chat_id, received.chat_id)
        self.assertEqual(
            self.sent_payloads(),
            [
                {
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": "77015551234",
                    "type": "text",
                    "text": {"preview_url": False, "body": "Отгрузим в пятницу."},
                }
            ],
        )
        self.assertEqual(message.external_id, self.wa.sent[0]["id"])
        self.assertEqual(self.wa.requests[-1]["headers"]["authorization"], f"Bearer {WA_TOKEN}")
        self.assertFalse(message.sent_as_template)
        # the answer is in the chatter and on the timeline, beside the customer's message
        self.assertEqual(message.mail_message_id.model, "res.partner")
        self.assertEqual(message.mail_message_id.res_id, self.buyer.id)
        self.assertEqual(message.mail_message_id.crm_channel, "whatsapp")
        self.assertEqual(message.mail_message_id.author_id, self.env.user.partner_id)
        events = self.env["crm.timeline.event"].search(
            [("partner_id", "=", self.company_partner.id), ("kind", "=", "whatsapp")], order="date desc, id desc"
        )
        self.assertEqual(events.mapped("res_id"), [message.id, received.id])
        self.assertEqual(events.mapped("state"), ["sent", "received"])
        self.assertEqual(events[0].name, "→ Отгрузим в пятницу.")
        self.assertEqual(events.mapped("contact_id"), self.buyer)

    def test_outside_the_window_an_approved_template_carries_the_text(self):
        self.whatsapp_in(self.env, hours_ago=25)
        message = self.send(self.buyer, "whatsapp", "Напоминаем о счёте №12.\nОплатите до 5-го.")
        self.assertEqual(message.state, "sent")
        self.assertTrue(message.sent_as_template)
        self.assertEqual(
            self.sent_payloads()[0]["template"],
            {
                "name": TEMPLATE,
                "language": {"code": "ru"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": "Напоминаем о счёте №12. | Оплатите до 5-го."}],
                    }
                ],
            },
        )

    def test_first_message_to_a_number_goes_as_template(self):
        # the customer never wrote: the conversation is opened from the card's WhatsApp number
        message = self.send(self.buyer, "whatsapp", "Добрый день!")
        self.assertEqual((message.state, message.chat_id.address), ("sent", "+77015551234"))
        self.assertEqual(self.sent_payloads()[0]["type"], "template")

    def test_outside_the_window_without_template_is_explained(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.whatsapp_template", "")
        message = self.send(self.buyer, "whatsapp", "Добрый день!")
        self.assertEqual(message.state, "failed")
        self.assertIn("more than 24 hours", message.error_message)
        self.assertIn("Settings > CrmAI", message.error_message)
        self.assertFalse(self.wa.sent)
        note = self.buyer.message_ids.filtered(lambda m: "not delivered" in (m.body or ""))
        self.assertEqual(len(note), 1)

    def test_window_closed_at_whatsapp_is_explained(self):
        received = self.whatsapp_in(self.env, hours_ago=1)
        # our side believes the window is open, WhatsApp does not (131047)
        self.wa.last_inbound.clear()
        message = self.send(self.buyer, "whatsapp", "Отгрузим в пятницу.")
        self.assertEqual((message.state, message.error_code), ("failed", "131047"))
        self.assertIn("More than 24 hours have passed", message.error_message)
        self.assertTrue(received.chat_id._crm_window_open())

    def test_template_refused_for_its_parameters(self):
        self.wa.approve_template(TEMPLATE, "ru", body_params=2)
        message = self.send(self.buyer, "whatsapp", "Добрый день!")
        self.assertEqual((message.state, message.error_code), ("failed", "132000"))
        self.assertIn("WhatsApp refused the template", message.error_message)
        self.wa.approve_template(TEMPLATE, "ru", body_params=1)

    def test_document_inside_the_window_is_uploaded_then_sent(self):
        self.whatsapp_in(self.env, hours_ago=2)
        document = self.attachment()
        message = self.send(self.buyer, "whatsapp", "Счёт во вложении", document)
        self.assertEqual(message.state, "sent")
        self.assertEqual(message.attachment_ids, document)
        media_id, (filename, content, mimetype) = next(iter(self.wa.media.items()))
        self.assertEqual((filename, content, mimetype), ("invoice.pdf", PDF, "application/pdf"))
        self.assertEqual(
            self.sent_payloads()[0]["document"],
            {"id": media_id, "filename": "invoice.pdf", "caption": "Счёт во вложении"},
        )

    def test_document_outside_the_window_uses_the_document_template(self):
        message = self.send(self.buyer, "whatsapp", "Счёт №12", self.attachment())
        self.assertEqual(message.state, "sent")
        components = self.sent_payloads()[0]["template"]["components"]
        self.assertEqual(components[0]["type"], "header")
        self.assertEqual(components[0]["parameters"][0]["document"]["filename"], "invoice.pdf")
        self.assertEqual(components[1]["parameters"], [{"type": "text", "text": "Счёт №12"}])

    def test_text_and_two_documents_go_as_three_messages(self):
        self.whatsapp_in(self.env, hours_ago=1)
        first_doc, second_doc = self.attachment(), self.attachment(name="act.pdf")
        first = self.send(self.buyer, "whatsapp", "Документы:", first_doc | second_doc)
        messages = self.env["crm.messenger.message"].search(
            [("chat_id", "=", first.chat_id.id), ("direction", "=", "out")]
        )
        self.assertEqual(len(messages), 3)
        self.assertEqual(first.body, "Документы:")
        self.assertEqual([p["type"] for p in self.sent_payloads()], ["text", "document", "document"])
        self.assertEqual(set(messages.mapped("state")), {"sent"})

    def test_token_refused_is_explained(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.whatsapp_token", "expired")
        message = self.send(self.buyer, "whatsapp", "Добрый день!")
        self.assertEqual((message.state, message.error_code), ("failed", "190"))
        self.assertIn("access token", message.error_message)
        self.assertNotIn("expired", message.error_message)

    def test_rate_limit_and_server_errors_are_retryable(self):
        self.whatsapp_in(self.env, hours_ago=1)
        message = (
            self.env["crm.messenger.message"]
            .sudo()
            .create(
                self.env["crm.messenger.message"]._crm_prepare_outbound_vals(
                    self.buyer._crm_messenger_chat("whatsapp"), "Тест", self.env["ir.attachment"], self.buyer
                )
            )
        )
        self.wa.throttle(1, retry_after=7)
        with self.assertRaises(MessengerError) as caught:
            message._crm_deliver()
        self.assertEqual((caught.exception.retryable, caught.exception.retry_after), (True, 7))
        self.assertEqual((caught.exception.status, caught.exception.code), (429, 130429))
        self.wa.fail(1)
        with self.assertRaises(MessengerError) as caught:
            message._crm_deliver()
        self.assertEqual((caught.exception.retryable, caught.exception.status), (True, 500))
        self.assertEqual(message.state, "queued")
        message._crm_deliver()
        self.assertEqual(message.state, "sent")

    def test_without_the_job_queue_a_short_wait_is_retried_in_place(self):
        self.whatsapp_in(self.env, hours_ago=1)
        message = (
            self.env["crm.messenger.message"]
            .sudo()
            .create(
                self.env["crm.messenger.message"]._crm_prepare_outbound_vals(
                    self.buyer._crm_messenger_chat("whatsapp"), "Тест", self.env["ir.attachment"], self.buyer
                )
            )
        )
        self.wa.throttle(1, retry_after=1)
        CrmMessengerMessage._crm_dispatch(message)  # crm_single_truth's own path, as without crm_exchange_log
        self.assertEqual(message.state, "sent")
        self.wa.throttle(2, retry_after=1)
        again = message.copy({"state": "queued", "external_id": False})
        CrmMessengerMessage._crm_dispatch(again)
        self.assertEqual(again.state, "failed")
        self.assertIn("limits how fast", again.error_message)

    # ------------------------------------------------------------------ WhatsApp status reports
    def status(self, wamid, status, error=None):
        notification = self.wa.status_notification(wamid, "77015551234", status, error)
        return self.env["crm.messenger.message"].sudo()._crm_process_whatsapp(notification)

    def test_status_reports_move_the_message_forward_only(self):
        self.whatsapp_in(self.env, hours_ago=1)
        message = self.send(self.buyer, "whatsapp", "Отгрузим в пятницу.")
        wamid = message.external_id
        self.assertEqual(self.status(wamid, "delivered"), [(message, f"{wamid}:delivered")])
        self.assertEqual(message.state, "delivered")
        self.assertEqual(self.status(wamid, "sent"), [(False, f"{wamid}:sent")])  # late report: ignored
        self.assertEqual(message.state, "delivered")
        self.status(wamid, "read")
        self.assertEqual(message.state, "read")
        self.assertEqual(self.status(wamid, "read"), [(False, f"{wamid}:read")])
        self.assertEqual(self.status("wamid.unknown", "delivered"), [(False, "wamid.unknown:delivered")])

    def test_failed_status_report_is_explained(self):
        self.whatsapp_in(self.env, hours_ago=1)
        message = self.send(self.buyer, "whatsapp", "Отгрузим в пятницу.")
        error = {
            "code": 131026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Message Undeliverable."},
        }
        self.status(message.external_id, "failed", error)
        self.assertEqual((message.state, message.error_code), ("failed", "131026"))
        self.assertIn("cannot deliver to this number", message.error_message)

    # ------------------------------------------------------------------ Telegram
    def test_telegram_reply_goes_to_the_chat_that_wrote(self):
        received = self.telegram_in(self.env)
        message = self.send(self.buyer, "telegram", "Отгрузка в пятницу.")
        self.assertEqual((message.state, message.chat_id), ("sent", received.chat_id))
        self.assertEqual(self.tg.sent[0]["method"], "sendMessage")
        self.assertEqual(self.tg.sent[0]["params"], {"chat_id": "5550001", "text": "Отгрузка в пятницу."})
        self.assertEqual(message.external_id, "5550001:1000")
        self.assertTrue(self.tg.requests[-1]["path"].startswith("/bot7000000001:"))

    def test_telegram_document_with_caption(self):
        self.telegram_in(self.env)
        message = self.send(self.buyer, "telegram", "Акт сверки", self.attachment(name="act.pdf"))
        self.assertEqual(message.state, "sent")
        sent = self.tg.sent[0]
        self.assertEqual(
            (sent["method"], sent["params"]), ("sendDocument", {"chat_id": "5550001", "caption": "Акт сверки"})
        )
        self.assertEqual(sent["files"]["document"], ("act.pdf", PDF, "application/pdf"))

    def test_telegram_blocked_by_the_user(self):
        self.telegram_in(self.env)
        self.tg.block(5550001)
        message = self.send(self.buyer, "telegram", "Отгрузка в пятницу.")
        self.assertEqual((message.state, message.error_code), ("failed", "403"))
        self.assertIn("blocked the bot", message.error_message)
        self.tg.blocked.clear()

    def test_telegram_rate_limit_says_when_to_retry(self):
        self.telegram_in(self.env)
        chat = self.buyer._crm_messenger_chat("telegram")
        message = (
            self.env["crm.messenger.message"]
            .sudo()
            .create(
                self.env["crm.messenger.message"]._crm_prepare_outbound_vals(
                    chat, "Тест", self.env["ir.attachment"], self.buyer
                )
            )
        )
        self.tg.throttle(1, retry_after=35)
        with self.assertRaises(MessengerError) as caught:
            message._crm_deliver()
        self.assertEqual(
            (caught.exception.retryable, caught.exception.retry_after, caught.exception.code), (True, 35, 429)
        )

    def test_telegram_needs_a_chat_the_customer_started(self):
        with self.assertRaisesRegex(UserError, "has not written to the Telegram bot"):
            self.send(self.buyer, "telegram", "Здравствуйте")
        # a numeric id on the card is enough; the bot API still refuses an unknown chat
        self.buyer.crm_telegram = "5550999"
        message = self.send(self.buyer, "telegram", "Здравствуйте")
        self.assertEqual(message.state, "failed")
        self.assertIn("must write to the bot first", message.error_message)

    # ------------------------------------------------------------------ what the caller gives
    def test_bad_requests_are_refused_clearly(self):
        self.whatsapp_in(self.env, hours_ago=1)
        with self.assertRaisesRegex(UserError, "WhatsApp or Telegram"):
            self.buyer.crm_send_message("sms", "x")
        with self.assertRaisesRegex(UserError, "Write a message"):
            self.buyer.crm_send_message("whatsapp", "   ")
        with self.assertRaisesRegex(UserError, "must be text"):
            self.buyer.crm_send_message("whatsapp", {"x": 1})
        with self.assertRaisesRegex(UserError, "no longer exists"):
            self.buyer.crm_send_message("whatsapp", "x", [987654321])
        with self.assertRaisesRegex(UserError, "given by their ids"):
            self.buyer.crm_send_message("whatsapp", "x", ["1; DROP TABLE"])
        lonely = self.env["res.partner"].create({"name": "Без номера"})
        with self.assertRaisesRegex(UserError, "no WhatsApp or mobile number"):
            lonely.crm_send_message("whatsapp", "x")
        self.assertFalse(self.wa.sent)

    def test_token_never_reaches_the_message_or_chatter(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.telegram_api_url", "http://127.0.0.1:9")
        self.telegram_in(self.env)
        message = self.send(self.buyer, "telegram", "Тест")
        self.assertIn(message.state, ("queued", "failed"))
        texts = json.dumps([message.error_message or "", *self.buyer.message_ids.mapped("body")])
        self.assertNotIn("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", texts)
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.telegram_api_url", self.tg.url)

    def test_reply_wizard_sends_and_shows_the_template_notice(self):
        wizard = self.env["crm.messenger.reply.wizard"].create(
            {"partner_id": self.company_partner.id, "channel": "whatsapp", "body": "Добрый день"}
        )
        self.assertIn("24 hours", wizard.template_notice)
        wizard.action_send()
        message = self.env["crm.messenger.message"].search([("direction", "=", "out")], order="id desc", limit=1)
        self.assertEqual((message.body, message.partner_id, message.state), ("Добрый день", self.buyer, "sent"))

    def test_a_named_template_is_used_even_inside_the_window(self):
        self.whatsapp_in(self.env, hours_ago=1)
        self.wa.approve_template("payment_reminder", "ru", body_params=1)
        message = self.buyer.with_context(crm_whatsapp_template="payment_reminder").crm_send_message(
            "whatsapp", "Счёт №12 на 150 000 ₸ ждёт оплаты до 5 декабря."
        )
        self.assertEqual(
            (message.state, message.template_name, message.sent_as_template), ("sent", "payment_reminder", True)
        )
        self.assertEqual(self.sent_payloads()[0]["template"]["name"], "payment_reminder")
        self.assertEqual(
            self.sent_payloads()[0]["template"]["components"][0]["parameters"][0]["text"],
            "Счёт №12 на 150 000 ₸ ждёт оплаты до 5 декабря.",
        )
        self.assertEqual(self.telegram_in(self.env).channel, "telegram")
        message = self.buyer.with_context(crm_whatsapp_template="payment_reminder").crm_send_message("telegram", "Тест")
        self.assertFalse(message.template_name)
