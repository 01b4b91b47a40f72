import json

from odoo.tests import HttpCase, tagged

URL = "/crm/exchange/website/order"


@tagged("post_install", "-at_install")
class TestWebsiteOrder(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system = cls.env.ref("crm_exchange_log.exchange_system_website")
        cls.system.sudo().api_key = "site-key-123"
        cls.product = cls.env["product.product"].create(
            {
                "name": "Токарный станок ДТ-16",
                "default_code": "DT-16",
                "list_price": 2350000,
                "sale_ok": True,
            }
        )
        cls.Log = cls.env["crm.exchange.log"]
        cls.order = {
            "order_id": "WEB-1001",
            "customer": {
                "name": "ТОО «Новый Клиент»",
                "email": "buy@newclient.kz",
                "bin": "180340021791",
                "phone": "+7 701 000 00 01",
                "is_company": True,
            },
            "lines": [{"sku": "DT-16", "quantity": 2, "price": 2300000}],
            "note": "Доставка в Караганду",
        }

    def _post(self, payload, key="site-key-123"):
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        headers = {"Content-Type": "application/json"}
        if key:
            headers["X-Api-Key"] = key
        return self.url_open(URL, data=body, headers=headers)

    def test_good_order_then_replay(self):
        response = self._post(self.order)
        self.assertEqual(response.status_code, 200)
        answer = response.json()
        self.assertEqual(answer["status"], "ok")
        order = self.env["sale.order"].browse(answer["sale_order_id"])
        self.assertEqual(order.crm_external_ref, "WEB-1001")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.amount_untaxed, 4600000.0)
        self.assertEqual(order.partner_id.name, "ТОО «Новый Клиент»")
        self.assertEqual(order.partner_id.crm_bin, "180340021791")
        lead = self.env["crm.lead"].browse(answer["lead_id"])
        self.assertEqual((lead.type, lead.partner_id, order.opportunity_id), ("opportunity", order.partner_id, lead))
        logs = self.Log.search([("correlation_id", "=", answer["correlation_id"])], order="id")
        self.assertEqual(
            logs.mapped("operation"), ["website_order", "create_customer", "create_deal", "create_quotation"]
        )
        self.assertEqual(set(logs.mapped("state")), {"done"})
        self.assertEqual(logs[1:].parent_id, logs[0])
        self.assertEqual((logs[0].res_model, logs[0].res_id), ("sale.order", order.id))

        replay = self._post(self.order)
        self.assertEqual(replay.status_code, 200)
        self.assertEqual(replay.json()["status"], "duplicate")
        self.assertEqual(replay.json()["sale_order_id"], order.id)
        self.assertEqual(self.env["sale.order"].search_count([("crm_external_ref", "=", "WEB-1001")]), 1)
        self.assertEqual(self.env["crm.lead"].search_count([("name", "ilike", "WEB-1001")]), 1)
        replays = self.Log.search([("idempotency_key", "=", "website:WEB-1001:replay")])
        self.assertEqual((replays.parent_id, replays.correlation_id), (logs[0], answer["correlation_id"]))

        # a second order of the same customer (found by BIN)
        second = dict(self.order, order_id="WEB-1002")
        answer2 = self._post(second).json()
        self.assertEqual(answer2["partner_id"], order.partner_id.id)
        self.assertTrue(
            self.Log.search([("correlation_id", "=", answer2["correlation_id"]), ("operation", "=", "find_customer")])
        )

    def test_malformed(self):
        response = self._post(b"{not json")
        self.assertEqual(response.status_code, 400)
        response = self._post({"order_id": "WEB-2", "customer": {"email": "x@y.kz"}, "lines": [], "extra": 1})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(
            response.json()["errors"],
            [
                "order.extra: unknown field",
                "order.customer.name: required",
                "order.lines: at least one line",
            ],
        )
        response = self._post(dict(self.order, order_id="WEB-3", lines=[{"sku": "NOPE", "quantity": 1, "price": 5}]))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["errors"], ["ValueError: Unknown products: NOPE"])
        self.assertFalse(
            self.env["res.partner"].search([("crm_bin", "=", "180340021791")]),
            "the failed order leaves no customer behind",
        )
        failed = self.Log.search([("system_id", "=", self.system.id), ("state", "=", "failed")])
        self.assertEqual(len(failed), 3)

    def test_unauthenticated(self):
        for key in (None, "wrong"):
            response = self._post(self.order, key=key)
            self.assertEqual(response.status_code, 403)
        self.assertFalse(self.env["sale.order"].search([("crm_external_ref", "=", "WEB-1001")]))
        failed = self.Log.search([("system_id", "=", self.system.id), ("state", "=", "failed")])
        self.assertEqual(failed.mapped("error_message"), ["Unauthenticated request (bad or missing X-Api-Key)"] * 2)


@tagged("post_install", "-at_install")
class TestWebhooksJournaled(HttpCase):
    """The telephony and messenger webhooks of crm_single_truth journal through the same API."""

    def test_call_webhook_journaled(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.telephony_api_key", "pbx-key")
        customer = self.env["res.partner"].create(
            {"name": "ТОО «Звонок»", "is_company": True, "phone": "+7 701 555 12 34"}
        )
        payload = {
            "call_id": "pbx-1",
            "phone": "87015551234",
            "direction": "in",
            "started_at": "2026-11-28T09:15:00+05:00",
            "duration": 60,
        }
        headers = {"Content-Type": "application/json", "X-Api-Key": "pbx-key"}
        response = self.url_open("/crm/webhook/call", data=json.dumps(payload), headers=headers)
        self.assertEqual(response.status_code, 200)
        system = self.env.ref("crm_exchange_log.exchange_system_telephony")
        log = self.env["crm.exchange.log"].search([("system_id", "=", system.id)])
        call = self.env["crm.call"].search([("external_id", "=", "pbx-1")])
        self.assertEqual((log.state, log.direction, log.operation), ("done", "in", "webhook_call"))
        self.assertEqual((log.res_model, log.res_id, log.idempotency_key), ("crm.call", call.id, "call:pbx-1"))
        self.assertEqual(log.partner_id, customer)
        bad = self.url_open("/crm/webhook/call", data=json.dumps(dict(payload, duration=-5)), headers=headers)
        self.assertEqual(bad.status_code, 400)
        failed = self.env["crm.exchange.log"].search([("system_id", "=", system.id), ("state", "=", "failed")])
        self.assertEqual(len(failed), 1)
        self.assertTrue(failed.error_message)

    def test_hook_without_document(self):
        self.env["crm.inbound.delivery"]._crm_on_delivery("telegram", {"update_id": 5, "token": "t"}, external_id="5")
        system = self.env.ref("crm_exchange_log.exchange_system_telegram")
        log = self.env["crm.exchange.log"].search([("system_id", "=", system.id)])
        self.assertEqual((log.state, log.idempotency_key), ("done", "telegram:5"))
        self.assertNotIn('"t"', log.request_payload)
