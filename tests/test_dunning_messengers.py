"""A dunning level whose channel is a messenger, end to end: the dunning cron (crm_receivables)
reminds the customer's accountant through ``res.partner.crm_send_message`` (crm_single_truth), the
sending runs as a journaled job (crm_exchange_log), and the local fake of the WhatsApp Cloud API or
of the Telegram Bot API receives exactly one request, checked field by field as the real API would."""

import json
from datetime import timedelta

from odoo import Command
from odoo.tests import tagged
from odoo.tools import html2plaintext

from odoo.addons.crm_single_truth.services.whatsapp_cloud import template_text
from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon
from odoo.addons.crm_single_truth.tests.messenger_common import (
    DOCUMENT_TEMPLATE,
    WA_PHONE_ID,
    WA_TOKEN,
    MessengerSetup,
)
from odoo.addons.queue_job.tests.common import trap_jobs

TELEGRAM_ID = "6120457731"


@tagged("post_install", "-at_install")
class TestDunningThroughMessengers(MessengerSetup, CrmKpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["res.lang"]._activate_lang("ru_RU")
        cls.setup_messengers(cls.env, company=cls.env.company)
        cls.customer.write({"lang": "ru_RU", "email": "office@stal.example"})
        # the accountant has a phone (no WhatsApp handle on the card) and started the Telegram bot
        cls.accountant = cls.env["res.partner"].create(
            {
                "name": "Петров Иван Петрович",
                "parent_id": cls.customer.id,
                "type": "contact",
                "crm_contact_role": "accountant",
                "mobile": "+7 701 555 77 88",
                "crm_telegram": TELEGRAM_ID,
                "lang": "ru_RU",
            }
        )
        overdue = cls.env.ref("crm_receivables.mail_template_dunning_overdue")
        cls.policy = cls.env["crm.dunning.policy"].create(
            {
                "name": "Messengers",
                "level_ids": [
                    Command.create(
                        {"name": "WhatsApp", "offset_days": 3, "channel": "whatsapp", "mail_template_id": overdue.id}
                    ),
                    Command.create(
                        {"name": "Telegram", "offset_days": 5, "channel": "telegram", "mail_template_id": overdue.id}
                    ),
                ],
            }
        )
        cls.customer.crm_dunning_policy_id = cls.policy
        cls.invoice_ = cls.invoice(1000.0, days_ago=0, due_days=10)
        cls.due = cls.invoice_.invoice_date_due

    def setUp(self):
        super().setUp()
        for fake in (self.wa, self.tg):
            fake.requests.clear()
            fake.sent.clear()
        self.wa.last_inbound.clear()  # the accountant never wrote: WhatsApp accepts a template only
        self.tg.chats.clear()

    def run_cron(self, day):
        """The dunning cron on ``day`` for the test company, its messenger jobs performed; returns
        the events of the invoice and the number of jobs it enqueued."""
        Policy = self.env["crm.dunning.policy"].with_context(force_report_rendering=True)  # a real PDF
        with trap_jobs() as trap:
            events = Policy._cron_run_dunning(date_ref=day, company_ids=self.env.company.ids)
            jobs = len(trap.enqueued_jobs)
            trap.perform_enqueued_jobs()
        return events.filtered(lambda e: e.move_id == self.invoice_), jobs

    def reminder_text(self, level):
        _subject, body = self.policy._render_reminder(self.accountant, level, self.invoice_)
        return html2plaintext(body)

    def outbound(self):
        return self.env["crm.messenger.message"].search(
            [("partner_id", "=", self.accountant.id), ("direction", "=", "out")]
        )

    def test_whatsapp_template_to_the_accountant_once(self):
        events, jobs = self.run_cron(self.due + timedelta(days=3))
        level = self.policy.level_ids.filtered(lambda lvl: lvl.channel == "whatsapp")
        self.assertEqual(
            [(e.level_id, e.channel, e.state, e.recipient_id) for e in events],
            [(level, "whatsapp", "done", self.accountant)],
        )
        self.assertEqual(jobs, 1)
        # what the Cloud API received: the invoice uploaded, then one template message
        self.assertEqual(
            [(r["method"], r["path"]) for r in self.wa.requests],
            [("POST", f"/v21.0/{WA_PHONE_ID}/media"), ("POST", f"/v21.0/{WA_PHONE_ID}/messages")],
        )
        self.assertEqual({r["headers"]["authorization"] for r in self.wa.requests}, {f"Bearer {WA_TOKEN}"})
        filename = self.invoice_._get_invoice_report_filename()
        ((media_id, (uploaded_name, content, mimetype)),) = self.wa.media.items()
        self.assertEqual((uploaded_name, mimetype), (filename, "application/pdf"))
        self.assertTrue(content.startswith(b"%PDF"))
        text = template_text(self.reminder_text(level))
        self.assertTrue(text.startswith("Уважаемый Иван Петрович! | "), text)
        self.assertIn(self.invoice_.name, text)
        self.assertEqual(
            json.loads(self.wa.requests[1]["body"]),
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "77015557788",
                "type": "template",
                "template": {
                    "name": DOCUMENT_TEMPLATE,
                    "language": {"code": "ru"},
                    "components": [
                        {
                            "type": "header",
                            "parameters": [{"type": "document", "document": {"id": media_id, "filename": filename}}],
                        },
                        {"type": "body", "parameters": [{"type": "text", "text": text}]},
                    ],
                },
            },
        )
        message = self.outbound()
        self.assertEqual(
            (message.channel, message.state, message.sent_as_template, message.chat_id.address),
            ("whatsapp", "sent", True, "+77015557788"),
        )
        self.assertEqual(message.external_id, self.wa.sent[0]["id"])
        log = self.env["crm.exchange.log"].search(
            [("res_model", "=", "crm.messenger.message"), ("res_id", "=", message.id)]
        )
        self.assertEqual((log.operation, log.state, log.attempt_count), ("send_whatsapp", "done", 1))
        self.assertNotIn(WA_TOKEN, (log.request_payload or "") + (log.response_payload or ""))
        # a rerun the same day, and the next day: nothing more reaches WhatsApp
        for day in (self.due + timedelta(days=3), self.due + timedelta(days=4)):
            self.assertEqual(self.run_cron(day), (self.env["crm.dunning.event"], 0))
        self.assertEqual(len(self.wa.requests), 2)
        self.assertEqual(self.outbound(), message)
        self.assertEqual(len(self.invoice_.crm_dunning_event_ids), 1)

    def test_telegram_document_to_the_accountant_once(self):
        self.tg.start(TELEGRAM_ID)
        self.policy.level_ids.filtered(lambda lvl: lvl.channel == "whatsapp").unlink()
        events, jobs = self.run_cron(self.due + timedelta(days=5))
        level = self.policy.level_ids
        self.assertEqual(
            [(e.level_id, e.channel, e.state, e.recipient_id) for e in events],
            [(level, "telegram", "done", self.accountant)],
        )
        self.assertEqual(jobs, 1)
        text = self.reminder_text(level)
        self.assertTrue(text.startswith("Уважаемый Иван Петрович!"), text)
        self.assertLessEqual(len(text), 1024, "the reminder fits a caption: one sendDocument")
        (request,) = self.tg.requests
        self.assertEqual((request["method"], request["path"]), ("POST", f"/bot{self.tg.token}/sendDocument"))
        filename = self.invoice_._get_invoice_report_filename()
        (sent,) = self.tg.sent
        self.assertEqual(sent["method"], "sendDocument")
        self.assertEqual(sent["params"], {"chat_id": TELEGRAM_ID, "caption": text})
        self.assertEqual(list(sent["files"]), ["document"])
        name, content, mimetype = sent["files"]["document"]
        self.assertEqual((name, mimetype), (filename, "application/pdf"))
        self.assertTrue(content.startswith(b"%PDF"))
        message = self.outbound()
        self.assertEqual((message.channel, message.state, message.chat_id.address), ("telegram", "sent", TELEGRAM_ID))
        self.assertEqual(message.external_id, f"{TELEGRAM_ID}:1000")
        # reruns: nothing more reaches Telegram
        for day in (self.due + timedelta(days=5), self.due + timedelta(days=6)):
            self.assertEqual(self.run_cron(day), (self.env["crm.dunning.event"], 0))
        self.assertEqual(len(self.tg.requests), 1)
        self.assertEqual(self.outbound(), message)
