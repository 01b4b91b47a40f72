import hashlib
import hmac
import json
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

TELEGRAM_SECRET = "tg-secret-0123456789"
WHATSAPP_SECRET = "wa-app-secret"
WHATSAPP_VERIFY = "wa-verify-token"
TELEPHONY_KEY = "tel-api-key-42"


@tagged("post_install", "-at_install")
class TestWebhooks(HttpCase):
    """The messenger and telephony webhooks with the payloads the real services send."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("crm_single_truth.telegram_secret_token", TELEGRAM_SECRET)
        params.set_param("crm_single_truth.whatsapp_app_secret", WHATSAPP_SECRET)
        params.set_param("crm_single_truth.whatsapp_verify_token", WHATSAPP_VERIFY)
        params.set_param("crm_single_truth.telephony_api_key", TELEPHONY_KEY)
        # the demo data may hold messages and calls already: look only at what the tests receive
        cls.seen_messages = cls.env["crm.messenger.message"].search([]).ids
        cls.seen_mail = cls.env["mail.message"].search([("crm_channel", "!=", False)]).ids
        cls.company_partner = cls.env["res.partner"].create({"name": "ТОО «Webhook Steel»", "is_company": True})
        cls.buyer = cls.env["res.partner"].create(
            {
                "name": "Асель Нурланова",
                "parent_id": cls.company_partner.id,
                "mobile": "+7 (701) 555-12-34",
                "crm_telegram": "asel_buyer",
            }
        )

    # ------------------------------------------------------------------ helpers
    def post(self, url, body, headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.url_open(url, data=raw, headers={"Content-Type": "application/json", **(headers or {})})

    def telegram_update(
        self, update_id=1001, message_id=77, username="asel_buyer", user_id=5550001, text="Когда отгрузка?"
    ):
        return {
            "update_id": update_id,
            "message": {
                "message_id": message_id,
                "from": {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": "Асель",
                    "username": username,
                    "language_code": "ru",
                },
                "chat": {"id": user_id, "first_name": "Асель", "username": username, "type": "private"},
                "date": 1796000000,
                "text": text,
            },
        }

    def whatsapp_notification(
        self, wamid="wamid.HBgLNzcwMTU1NTEyMzQVAgASGBQzQTg", phone="77015551234", text="Счёт получили, спасибо"
    ):
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "77270000000",
                                    "phone_number_id": "106540352242922",
                                },
                                "contacts": [{"profile": {"name": "Асель"}, "wa_id": phone}],
                                "messages": [
                                    {
                                        "from": phone,
                                        "id": wamid,
                                        "timestamp": "1796000100",
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }

    def signed(self, payload, secret=WHATSAPP_SECRET):
        raw = json.dumps(payload, ensure_ascii=False).encode()
        return raw, {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}

    def messages(self, channel):
        return self.env["crm.messenger.message"].search(
            [("channel", "=", channel), ("id", "not in", self.seen_messages)]
        )

    def channel_mail_count(self, channel):
        return self.env["mail.message"].search_count([("crm_channel", "=", channel), ("id", "not in", self.seen_mail)])

    # ------------------------------------------------------------------ Telegram
    def test_telegram_message_lands_in_the_chatter_of_the_sender(self):
        response = self.post(
            "/crm/webhook/telegram", self.telegram_update(), {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "accepted": 1})
        message = self.messages("telegram")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_id, self.buyer)
        self.assertEqual(message.external_id, "5550001:77")
        self.assertEqual(message.body, "Когда отгрузка?")
        self.assertEqual(message.mail_message_id.model, "res.partner")
        self.assertEqual(message.mail_message_id.res_id, self.buyer.id)
        self.assertEqual(message.mail_message_id.crm_channel, "telegram")
        self.assertEqual(message.mail_message_id.author_id, self.buyer)
        self.assertIn("Когда отгрузка?", message.mail_message_id.body)
        # the company's timeline shows its contact's message as a Telegram event
        events = self.env["crm.timeline.event"].search(
            [("partner_id", "=", self.company_partner.id), ("kind", "=", "telegram")]
        )
        self.assertEqual(len(events), 1)
        self.assertEqual((events.res_model, events.res_id), ("crm.messenger.message", message.id))
        self.assertEqual((events.contact_id, events.state), (self.buyer, "received"))

    def test_telegram_replayed_delivery_is_accepted_once(self):
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        first = self.post("/crm/webhook/telegram", self.telegram_update(), headers)
        again = self.post("/crm/webhook/telegram", self.telegram_update(), headers)
        self.assertEqual((first.status_code, again.status_code), (200, 200))
        self.assertEqual(again.json(), {"status": "ok", "accepted": 0})
        self.assertEqual(len(self.messages("telegram")), 1)
        self.assertEqual(self.channel_mail_count("telegram"), 1)

    def test_telegram_wrong_or_missing_secret_is_forbidden(self):
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
            response = self.post("/crm/webhook/telegram", self.telegram_update(), headers)
            self.assertEqual(response.status_code, 403)
        self.assertFalse(self.messages("telegram"))

    def test_telegram_unset_secret_accepts_nothing(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.telegram_secret_token", "")
        response = self.post("/crm/webhook/telegram", self.telegram_update(), {"X-Telegram-Bot-Api-Secret-Token": ""})
        self.assertEqual(response.status_code, 403)

    def test_telegram_malformed_json_and_update(self):
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        self.assertEqual(self.post("/crm/webhook/telegram", b"{not json", headers).status_code, 400)
        self.assertEqual(self.post("/crm/webhook/telegram", b"[1, 2]", headers).status_code, 400)
        broken = self.telegram_update()
        del broken["message"]["chat"]
        self.assertEqual(self.post("/crm/webhook/telegram", broken, headers).status_code, 400)
        self.assertFalse(self.messages("telegram"))
        # an update without a message (a button press, a member change) is acknowledged and ignored
        ignored = self.post("/crm/webhook/telegram", {"update_id": 5, "my_chat_member": {}}, headers)
        self.assertEqual(ignored.json(), {"status": "ok", "accepted": 0})

    def test_telegram_unknown_sender_creates_a_lead(self):
        update = self.telegram_update(username="new_customer_kz", user_id=999, text="Нужен токарный станок")
        self.post("/crm/webhook/telegram", update, {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
        message = self.messages("telegram")
        self.assertFalse(message.partner_id)
        self.assertEqual(message.lead_id.name, "Telegram: Асель")
        self.assertEqual(message.lead_id.type, "lead")
        self.assertEqual(str(message.lead_id.description), "<p>Нужен токарный станок</p>")
        self.assertEqual(message.mail_message_id.model, "crm.lead")
        self.assertEqual(message.mail_message_id.crm_channel, "telegram")

    # ------------------------------------------------------------------ WhatsApp
    def test_whatsapp_verification_handshake(self):
        ok = self.url_open(
            f"/crm/webhook/whatsapp?hub.mode=subscribe&hub.verify_token={WHATSAPP_VERIFY}&hub.challenge=1158201444"
        )
        self.assertEqual((ok.status_code, ok.text), (200, "1158201444"))
        bad = self.url_open("/crm/webhook/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        self.assertEqual(bad.status_code, 403)

    def test_whatsapp_signed_message_matches_the_phone(self):
        raw, headers = self.signed(self.whatsapp_notification())
        response = self.post("/crm/webhook/whatsapp", raw, headers)
        self.assertEqual(response.json(), {"status": "ok", "accepted": 1})
        message = self.messages("whatsapp")
        self.assertEqual(message.partner_id, self.buyer)  # +7 (701) 555-12-34 is 77015551234
        self.assertEqual(message.sender, "+77015551234")
        self.assertEqual(message.sender_name, "Асель")
        self.assertEqual(message.mail_message_id.crm_channel, "whatsapp")
        self.assertEqual(str(message.date), "2026-11-30 00:55:00")

    def test_whatsapp_bad_signature_and_replay(self):
        payload = self.whatsapp_notification()
        raw, _headers = self.signed(payload, secret="another-secret")
        self.assertEqual(
            self.post(
                "/crm/webhook/whatsapp", raw, {"X-Hub-Signature-256": _headers["X-Hub-Signature-256"]}
            ).status_code,
            403,
        )
        self.assertEqual(self.post("/crm/webhook/whatsapp", raw).status_code, 403)
        raw, headers = self.signed(payload)
        tampered = raw.replace("спасибо".encode(), "СПАСИБО".encode())
        self.assertEqual(self.post("/crm/webhook/whatsapp", tampered, headers).status_code, 403)
        self.assertFalse(self.messages("whatsapp"))
        self.assertEqual(self.post("/crm/webhook/whatsapp", raw, headers).status_code, 200)
        self.assertEqual(self.post("/crm/webhook/whatsapp", raw, headers).json(), {"status": "ok", "accepted": 0})
        self.assertEqual(len(self.messages("whatsapp")), 1)

    def test_whatsapp_malformed_changes_nothing(self):
        payload = self.whatsapp_notification()
        payload["entry"][0]["changes"][0]["value"]["messages"].append({"from": "77015551234", "type": "text"})
        raw, headers = self.signed(payload)
        response = self.post("/crm/webhook/whatsapp", raw, headers)
        self.assertEqual(response.status_code, 400)
        # the first, valid message of the same delivery is not half-written either
        self.assertFalse(self.messages("whatsapp"))
        self.assertFalse(self.channel_mail_count("whatsapp"))
        raw, headers = self.signed({"object": "page", "entry": []})
        self.assertEqual(self.post("/crm/webhook/whatsapp", raw, headers).status_code, 400)

    def test_whatsapp_status_updates_are_ignored(self):
        payload = self.whatsapp_notification()
        value = payload["entry"][0]["changes"][0]["value"]
        del value["messages"]
        value["statuses"] = [
            {"id": "wamid.X", "status": "delivered", "timestamp": "1796000200", "recipient_id": "77015551234"}
        ]
        raw, headers = self.signed(payload)
        self.assertEqual(self.post("/crm/webhook/whatsapp", raw, headers).json(), {"status": "ok", "accepted": 0})

    # ------------------------------------------------------------------ telephony
    def call_payload(self, **values):
        return {
            "call_id": "pbx-2026-000123",
            "phone": "87015551234",
            "direction": "in",
            "started_at": "2026-11-28T09:15:00+05:00",
            "duration": 185,
            "recording_url": "https://pbx.example.kz/rec/000123.mp3",
            **values,
        }

    def test_call_webhook_records_the_call_once(self):
        headers = {"X-Api-Key": TELEPHONY_KEY}
        first = self.post("/crm/webhook/call", self.call_payload(), headers)
        again = self.post("/crm/webhook/call", self.call_payload(duration=999), headers)
        self.assertEqual(
            (first.json(), again.json()), ({"status": "ok", "accepted": 1}, {"status": "ok", "accepted": 0})
        )
        call = self.env["crm.call"].search([("external_id", "=", "pbx-2026-000123")])
        self.assertEqual(len(call), 1)
        self.assertEqual(call.partner_id, self.buyer)
        self.assertEqual(call.commercial_partner_id, self.company_partner)
        self.assertEqual(call.direction, "inbound")
        self.assertEqual(call.duration, 185)
        self.assertEqual(str(call.date), "2026-11-28 04:15:00")
        self.assertEqual(call.recording_src, "https://pbx.example.kz/rec/000123.mp3")
        event = self.env["crm.timeline.event"].search(
            [("partner_id", "=", self.company_partner.id), ("kind", "=", "call")]
        )
        self.assertEqual((event.res_model, event.res_id, event.state), ("crm.call", call.id, "answered"))

    def test_call_webhook_needs_the_api_key(self):
        for headers in ({}, {"X-Api-Key": "wrong"}, {"X-Api-Key": TELEPHONY_KEY.upper()}):
            self.assertEqual(self.post("/crm/webhook/call", self.call_payload(), headers).status_code, 403)
        self.assertFalse(self.env["crm.call"].search([("external_id", "=", "pbx-2026-000123")]))

    def test_call_webhook_rejects_malformed_calls(self):
        headers = {"X-Api-Key": TELEPHONY_KEY}
        for bad in (
            {"call_id": ""},
            {"phone": "12"},
            {"direction": "sideways"},
            {"duration": -5},
            {"duration": "long"},
            {"started_at": "yesterday"},
            {"recording_url": "file:///etc/passwd"},
        ):
            response = self.post("/crm/webhook/call", self.call_payload(**bad), headers)
            self.assertEqual(response.status_code, 400, bad)
        self.assertEqual(self.post("/crm/webhook/call", b"\xff\xfe", headers).status_code, 400)
        self.assertFalse(self.env["crm.call"].search([("external_id", "=", "pbx-2026-000123")]))

    def test_call_from_unknown_number_is_kept_without_customer(self):
        self.post(
            "/crm/webhook/call", self.call_payload(call_id=17, phone="+7 777 000 00 01"), {"X-Api-Key": TELEPHONY_KEY}
        )
        call = self.env["crm.call"].search([("external_id", "=", "17")])
        self.assertEqual((call.partner_id.id, call.phone), (False, "+7 777 000 00 01"))

    # ------------------------------------------------------------------ hostile input (issue 14)
    def journaled(self):
        """Deliveries reported to the inbound hook during the test (what crm_exchange_log journals)."""
        calls = []
        Hook = type(self.env["crm.inbound.delivery"])

        def record(model, channel, payload, external_id=None, res_model=None, res_id=None, error=None):
            calls.append({"channel": channel, "external_id": external_id, "res_model": res_model, "error": error})

        patcher = patch.object(Hook, "_crm_on_delivery", record)
        patcher.start()
        self.addCleanup(patcher.stop)
        return calls

    def test_unknown_sender_is_folded_into_one_open_lead(self):
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        for message_id, text in ((11, "Нужен станок"), (12, "Токарный, ДТ-16"), (13, "С доставкой в Актобе")):
            update = self.telegram_update(
                update_id=2000 + message_id, message_id=message_id, username="new_customer_kz", user_id=999, text=text
            )
            self.assertEqual(
                self.post("/crm/webhook/telegram", update, headers).json(), {"status": "ok", "accepted": 1}
            )
        messages = self.messages("telegram")
        self.assertEqual(len(messages), 3)
        lead = messages.lead_id
        self.assertEqual(len(lead), 1)
        self.assertEqual(lead.name, "Telegram: Асель")
        self.assertEqual(
            sorted(lead.message_ids.filtered("crm_channel").mapped("body")),
            sorted(m.mail_message_id.body for m in messages),
        )
        # once the lead is won, the next message opens a new one
        lead.stage_id = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        later = self.telegram_update(update_id=2099, message_id=99, username="new_customer_kz", user_id=999)
        self.post("/crm/webhook/telegram", later, headers)
        newest = self.messages("telegram").sorted("id")[-1]
        self.assertNotEqual(newest.lead_id, lead)

    def test_telegram_usernames_are_compared_exactly(self):
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        # '_' and '%' were wildcards of =ilike: "asel%" or "asel_buye_" must not find "asel_buyer"
        for update_id, username in ((3001, "asel%"), (3002, "asel_buye_"), (3003, "asel_buyerx")):
            update = self.telegram_update(
                update_id=update_id, message_id=update_id, username=username, user_id=update_id
            )
            self.post("/crm/webhook/telegram", update, headers)
        self.assertFalse(self.messages("telegram").partner_id)
        # Telegram usernames ignore case: the same account
        update = self.telegram_update(update_id=3004, message_id=3004, username="ASEL_Buyer", user_id=3004)
        self.post("/crm/webhook/telegram", update, headers)
        self.assertEqual(self.messages("telegram").filtered("partner_id").partner_id, self.buyer)

    def test_phone_matching_keeps_countries_apart(self):
        # the same last ten digits in the USA and in Kazakhstan
        american = self.env["res.partner"].create({"name": "Fargo Parts Inc.", "phone": "+1 701 234 5678"})
        kazakh = self.env["res.partner"].create(
            {"name": "ТОО «Астана Парт»", "mobile": "8 701 234 56 78", "country_id": self.env.ref("base.kz").id}
        )
        for wamid, phone in (("wamid.US1", "17012345678"), ("wamid.KZ1", "77012345678")):
            raw, headers = self.signed(self.whatsapp_notification(wamid=wamid, phone=phone))
            self.post("/crm/webhook/whatsapp", raw, headers)
        messages = self.messages("whatsapp")
        self.assertEqual(messages.filtered(lambda m: m.external_id == "wamid.US1").partner_id, american)
        self.assertEqual(messages.filtered(lambda m: m.external_id == "wamid.KZ1").partner_id, kazakh)

    def test_hostile_bodies_are_refused_with_400_and_journaled(self):
        journal = self.journaled()
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        non_string_username = self.telegram_update()
        non_string_username["message"]["from"]["username"] = 12345
        huge_timestamp = self.telegram_update()
        huge_timestamp["message"]["date"] = 10**20
        float_id = self.telegram_update()
        float_id["message"]["message_id"] = 7.5
        nested = b'{"update_id": 1, "message": ' + b"[" * 50000 + b"]" * 50000 + b"}"
        for body in (non_string_username, huge_timestamp, float_id, nested, b"\x00" * 10, b'{"update_id": true}'):
            response = self.post("/crm/webhook/telegram", body, headers)
            self.assertEqual(response.status_code, 400, body if isinstance(body, dict) else body[:30])
            self.assertEqual(response.json()["status"], "malformed")
        self.assertFalse(self.messages("telegram"))
        self.assertEqual(len(journal), 6)
        self.assertTrue(all(entry["error"] and entry["channel"] == "telegram" for entry in journal))
        raw, signed = self.signed(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "changes": [
                            {
                                "value": {
                                    "statuses": [{"id": "x", "status": "read", "timestamp": "99999999999999999999"}]
                                }
                            }
                        ]
                    }
                ],
            }
        )
        self.assertEqual(self.post("/crm/webhook/whatsapp", raw, signed).status_code, 400)
        self.assertEqual(
            self.post(
                "/crm/webhook/call", self.call_payload(started_at="99999-01-01T00:00:00"), {"X-Api-Key": TELEPHONY_KEY}
            ).status_code,
            400,
        )

    def test_lone_surrogate_in_a_message_is_recorded(self):
        journal = self.journaled()
        body = json.dumps(self.telegram_update(text="placeholder")).replace("placeholder", "Оплата \\ud800 завтра")
        response = self.post(
            "/crm/webhook/telegram", body.encode(), {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        )
        self.assertEqual(response.json(), {"status": "ok", "accepted": 1})
        self.assertEqual(self.messages("telegram").body, "Оплата \ufffd завтра")
        self.assertEqual(len(journal), 1)
        self.assertFalse(journal[0]["error"])

    def test_body_limit_after_the_secret(self):
        big = b'{"update_id": 1, "pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        ok = self.post("/crm/webhook/telegram", big, {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
        self.assertEqual(ok.status_code, 413)
        # a wrong secret is refused before the size is even looked at
        bad = self.post("/crm/webhook/telegram", big, {"X-Telegram-Bot-Api-Secret-Token": "guess"})
        self.assertEqual(bad.status_code, 403)
        self.assertEqual(self.post("/crm/webhook/call", big, {"X-Api-Key": TELEPHONY_KEY}).status_code, 413)
        raw, headers = self.signed({"object": "whatsapp_business_account", "entry": [], "pad": "x" * (1024 * 1024)})
        self.assertEqual(self.post("/crm/webhook/whatsapp", raw, headers).status_code, 413)
        # just under the limit is read
        fits = b'{"update_id": 1, "pad": "' + b"x" * (1024 * 1024 - 100) + b'"}'
        response = self.post("/crm/webhook/telegram", fits, {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
        self.assertEqual(response.json(), {"status": "ok", "accepted": 0})

    def test_whatsapp_status_webhook_updates_a_sent_message(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.whatsapp_token", "")
        raw, headers = self.signed(self.whatsapp_notification())
        self.post("/crm/webhook/whatsapp", raw, headers)
        message = (
            self.env["crm.messenger.message"]
            .sudo()
            .create(
                {
                    "channel": "whatsapp",
                    "direction": "out",
                    "state": "sent",
                    "external_id": "wamid.OUT1",
                    "partner_id": self.buyer.id,
                    "body": "Отгрузим в пятницу",
                }
            )
        )
        payload = self.whatsapp_notification()
        value = payload["entry"][0]["changes"][0]["value"]
        del value["messages"]
        value["statuses"] = [
            {"id": "wamid.OUT1", "status": "read", "timestamp": "1796000300", "recipient_id": "77015551234"}
        ]
        raw, headers = self.signed(payload)
        self.assertEqual(self.post("/crm/webhook/whatsapp", raw, headers).json(), {"status": "ok", "accepted": 1})
        message.invalidate_recordset()
        self.assertEqual((message.state, str(message.state_date)), ("read", "2026-11-30 00:58:20"))
