"""A prefork server (two workers) under a burst of duplicate deliveries: every webhook message (Telegram,
WhatsApp, telephony) and every website order sent several times at once is recorded exactly once,
each delivery is answered 200, and the server logs no ERROR or CRITICAL line."""

import json
import secrets
import time

from odoo.tests import tagged

from .reliability.burst import (
    send_concurrently,
    telegram_request,
    telegram_update,
    whatsapp_notification,
    whatsapp_request,
)
from .reliability.common import ReliabilityCase

COPIES = 6  # deliveries of each message or order, all in flight at the same time
MESSAGES = 3  # distinct messages of each channel
ORDERS = 2  # distinct website orders


@tagged("post_install", "-at_install")
class TestDuplicateDeliveryBurst(ReliabilityCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.telegram_secret = secrets.token_urlsafe(24)
        cls.whatsapp_secret = secrets.token_urlsafe(24)
        cls.telephony_key = secrets.token_urlsafe(24)
        cls.website_key = secrets.token_urlsafe(32)
        cls.username = f"rel{cls.token}"
        # a Kazakh mobile number of its own: +7 701 NNN NN NN
        cls.phone = "7701" + "".join(str(int(c, 16) % 10) for c in cls.token[:7])
        cls.ids = {}
        cls.addClassCleanup(cls._drop_fixture)
        cls.addClassCleanup(
            cls.set_params(
                {
                    "crm_single_truth.telegram_secret_token": cls.telegram_secret,
                    "crm_single_truth.whatsapp_app_secret": cls.whatsapp_secret,
                    "crm_single_truth.telephony_api_key": cls.telephony_key,
                }
            )
        )
        with cls.committed() as env:
            cls.ids["max_log"] = max(env["crm.exchange.log"].search([], order="id desc", limit=1).ids or [0])
            customer = env["res.partner"].create({"name": f"Reliability Burst {cls.token} LLP", "is_company": True})
            buyer = env["res.partner"].create(
                {
                    "name": f"Reliability Buyer {cls.token}",
                    "parent_id": customer.id,
                    "crm_telegram": cls.username,
                    "mobile": f"+{cls.phone}",
                }
            )
            product = env["product.product"].create(
                {"name": f"Reliability Lathe {cls.token}", "default_code": f"REL-{cls.token}", "list_price": 1000}
            )
            website = env.ref("crm_exchange_log.exchange_system_website")
            cls.ids.update(customer=customer.id, buyer=buyer.id, product=product.id, website=website.id)
            cls.former_key = website.api_key
            website.api_key = cls.website_key
        cls.server = cls.prefork_server("burst")
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        # each worker answers once before the bursts (its first request fills its caches)
        warm_up = (cls.server.url("/crm/webhook/telegram"), b"{}", {"X-Telegram-Bot-Api-Secret-Token": "warm-up"})
        send_concurrently([warm_up] * cls.server.workers)

    @classmethod
    def _drop_fixture(cls):
        with cls.committed() as env:
            website = env["crm.exchange.system"].browse(cls.ids.get("website")).exists()
            if website:
                website.api_key = cls.former_key
            partners = env["res.partner"].with_context(active_test=False)
            ordered = partners.search([("email", "=ilike", f"%{cls.token}%")])
            orders = env["sale.order"].search(
                ["|", ("partner_id", "in", ordered.ids), ("crm_external_ref", "=like", f"WEB-{cls.token}-%")]
            )
            leads = (
                env["crm.lead"]
                .with_context(active_test=False)
                .search(["|", ("partner_id", "in", ordered.ids), ("id", "in", orders.opportunity_id.ids)])
            )
            orders.with_context(disable_cancel_warning=True).action_cancel()
            orders.unlink()
            leads.unlink()
            env["crm.messenger.message"].search([("body", "like", cls.token)]).unlink()
            env["crm.call"].search([("phone", "=", f"+{cls.phone}")]).unlink()
            env["crm.exchange.log"].search([("id", ">", cls.ids.get("max_log", 0))]).unlink()
            env["product.product"].browse(cls.ids.get("product")).exists().unlink()
            (partners.browse([cls.ids.get("buyer"), cls.ids.get("customer")]).exists() | ordered).unlink()

    # ------------------------------------------------------------------ helpers
    def assertNoErrorLogged(self, since):
        errors = self.server.log.records(since=since)
        self.assertEqual(errors, [], f"ERROR/CRITICAL lines in the server log {self.server.log.path}")

    def assertAllAccepted(self, answers):
        statuses = [status for status, _content, _seconds in answers]
        self.assertEqual(statuses, [200] * len(answers), [content for _s, content, _t in answers])

    def chatter_count(self, env, token):
        return env["mail.message"].search_count(
            [("model", "=", "res.partner"), ("res_id", "=", self.ids["buyer"]), ("body", "like", token)]
        )

    # ------------------------------------------------------------------ tests
    def test_webhook_deliveries_recorded_once(self):
        since = self.server.log.mark()
        now = int(time.time())
        texts = {
            "telegram": [f"Telegram {self.token} message {n}" for n in range(MESSAGES)],
            "whatsapp": [f"WhatsApp {self.token} message {n}" for n in range(MESSAGES)],
        }
        deliveries = []
        for n, text in enumerate(texts["telegram"]):
            user_id = 8800000000 + int(self.token[:6], 16)
            update = telegram_update(700000 + n, 500 + n, user_id, self.username, text, date=now)
            deliveries.append(telegram_request(self.server, update, self.telegram_secret))
        for n, text in enumerate(texts["whatsapp"]):
            wamid = f"wamid.REL{self.token.upper()}{n:04d}"
            notification = whatsapp_notification(wamid, self.phone, text, timestamp=str(now))
            deliveries.append(whatsapp_request(self.server, notification, self.whatsapp_secret))
        durations = [90 + n for n in range(MESSAGES)]  # tells the calls apart
        for n, duration in enumerate(durations):
            call = {
                "call_id": f"rel-{self.token}-{n}",
                "phone": f"+{self.phone}",
                "direction": "inbound",
                "started_at": "2026-01-15T09:30:00Z",
                "duration": duration,
                "recording_url": None,
            }
            headers = {"Content-Type": "application/json", "X-Api-Key": self.telephony_key}
            deliveries.append((self.server.url("/crm/webhook/call"), json.dumps(call).encode(), headers))
        # one burst per message: both workers receive it at the same time
        for delivery in deliveries:
            answers, _wall = send_concurrently([delivery] * COPIES)
            self.assertAllAccepted(answers)
        with self.committed() as env:
            for channel, channel_texts in texts.items():
                for text in channel_texts:
                    received = env["crm.messenger.message"].search([("channel", "=", channel), ("body", "=", text)])
                    self.assertEqual(len(received), 1, f"{channel} message {text!r} recorded once")
                    self.assertEqual(received.partner_id.id, self.ids["buyer"], "in the chatter of its sender")
                    self.assertEqual(self.chatter_count(env, text), 1, f"one chatter message for {text!r}")
            calls = env["crm.call"].search([("phone", "=", f"+{self.phone}")])
            self.assertEqual(sorted(calls.mapped("duration")), durations, "each call recorded once")
            self.assertEqual(calls.partner_id.ids, [self.ids["buyer"]])
        self.assertNoErrorLogged(since)

    def test_website_orders_recorded_once(self):
        since = self.server.log.mark()
        refs = [f"WEB-{self.token}-{n}" for n in range(ORDERS)]
        answers = []
        for n, ref in enumerate(refs):
            order = {
                "order_id": ref,
                "customer": {
                    "name": f"Reliability Web Customer {self.token} {n}",
                    "email": f"web{n}.{self.token}@example.com",
                    "phone": f"+7 702 {self.phone[4:7]} {n:02d} {n:02d}",
                },
                "lines": [{"sku": f"REL-{self.token}", "quantity": 2, "price": 1500.0}],
            }
            body = json.dumps(order).encode()
            headers = {"Content-Type": "application/json", "X-Api-Key": self.website_key}
            copies, _wall = send_concurrently(
                [(self.server.url("/crm/exchange/website/order"), body, headers)] * COPIES
            )
            self.assertAllAccepted(copies)
            answers.append(copies)
        with self.committed() as env:
            for n, ref in enumerate(refs):
                orders = env["sale.order"].search([("crm_external_ref", "=", ref)])
                self.assertEqual(len(orders), 1, f"one quotation for {ref}")
                self.assertEqual(orders.amount_untaxed, 3000.0)
                customers = env["res.partner"].search([("email", "=", f"web{n}.{self.token}@example.com")])
                self.assertEqual(len(customers), 1, f"one customer for {ref}")
                self.assertEqual(orders.partner_id, customers)
                deals = env["crm.lead"].search([("partner_id", "=", customers.id)])
                self.assertEqual(len(deals), 1, f"one deal for {ref}")
                self.assertEqual(orders.opportunity_id, deals)
                self.assertEqual(
                    {content.get("sale_order_id") for _status, content, _seconds in answers[n]},
                    {orders.id},
                    "every delivery of the order answers with the same quotation",
                )
        self.assertNoErrorLogged(since)
