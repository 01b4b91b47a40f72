import json
import logging
import threading
import uuid
from unittest.mock import patch

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, HttpCase, tagged
from odoo.tests.common import get_db_name

from odoo.addons.queue_job.tests.common import trap_jobs

from ..controllers import main
from ..services.throttle import ThrottledCounter
from ..services.website_order import validate_order

URL = "/crm/exchange/website/order"
KEY = "site-key-123"


class WebsiteCommon(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.system = cls.env.ref("crm_exchange_log.exchange_system_website")
        cls.system.sudo().api_key = KEY
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

    def _post(self, payload, key=KEY, headers=None):
        body = json.dumps(payload) if isinstance(payload, (dict, list)) else payload
        headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            headers["X-Api-Key"] = key
        # always a POST (url_open makes an empty body a GET)
        return self.opener.post(self.base_url() + URL, data=body, headers=headers, timeout=30)

    def _failed(self):
        return self.Log.search([("system_id", "=", self.system.id), ("state", "=", "failed")], order="id")


@tagged("post_install", "-at_install")
class TestWebsiteOrder(WebsiteCommon):
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
        flow = answer["correlation_id"]
        self.assertEqual(
            (order.partner_id.crm_correlation_id, lead.crm_correlation_id, order.crm_correlation_id),
            (flow, flow, flow),
        )

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

    def test_customer_by_normalized_email_only(self):
        known = self.env["res.partner"].create({"name": "Айгерим", "email": '"Айгерим" <Aigerim.S@Client.KZ>'})
        lookalike = self.env["res.partner"].create({"name": "Someone else", "email": "aigerimxs@client.kz"})
        order = dict(self.order, order_id="WEB-MAIL-1", customer={"name": "Aigerim", "email": " aigerim.s@client.kz"})
        answer = self._post(order).json()
        self.assertEqual(answer["partner_id"], known.id, "the same address, whatever its case and display name")
        # '_' is a wildcard for =ilike: it must not find aigerimxs@client.kz
        wildcard = dict(self.order, order_id="WEB-MAIL-2", customer={"name": "Aigerim", "email": "aigerim_s@client.kz"})
        answer = self._post(wildcard).json()
        self.assertNotIn(answer["partner_id"], (known | lookalike).ids)
        self.assertEqual(self.env["res.partner"].browse(answer["partner_id"]).email, "aigerim_s@client.kz")

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
        self.assertEqual(len(self._failed()), 3)

    def test_hostile_bodies_are_400_and_journaled(self):
        deep = "[" * 100000 + "]" * 100000
        cases = {
            "deep": deep,
            "surrogate": json.dumps(dict(self.order, order_id="WEB-S", note="\ud800")),
            "nul": json.dumps(dict(self.order, order_id="WEB-\x00")),
            "nan": json.dumps(
                dict(self.order, order_id="WEB-N", lines=[{"sku": "DT-16", "quantity": float("nan"), "price": 1}])
            ),
            "huge int": '{"order_id": "WEB-I", "customer": {"name": "x"}, "lines": [{"sku": "DT-16", "quantity": 1'
            + "0" * 5000
            + ', "price": 1}]}',
            "bad email": json.dumps(
                dict(self.order, order_id="WEB-E", customer={"name": "x", "email": "not an address"})
            ),
            "not an object": "[1, 2]",
            "latin-1": '{"order_id": "caf\xe9"}'.encode("latin-1"),
        }
        for name, body in cases.items():
            with self.subTest(name):
                before = len(self._failed())
                response = self._post(body)
                self.assertEqual(response.status_code, 400, response.text)
                self.assertEqual(len(self._failed()), before + 1, "journaled")
        self.assertFalse(self.env["sale.order"].search([("crm_external_ref", "like", "WEB-%")]))
        self.assertIn("order.customer.email: not a valid e-mail address", self._failed().mapped("error_message"))

    def test_unexpected_error_is_400_and_journaled(self):
        with patch.object(type(self.env["crm.exchange.website"]), "_receive_order", side_effect=KeyError("boom")):
            response = self._post(self.order)
        self.assertEqual((response.status_code, response.json()["status"]), (400, "error"))
        self.assertEqual(self._failed().error_message, "KeyError: 'boom'")
        self.assertIn("WEB-1001", self._failed().request_payload)

    def test_body_limit(self):
        big = json.dumps(dict(self.order, note="x" * (1024 * 1024)))
        # refused from its Content-Length before anything is read: not journaled (the key is not checked yet)
        response = self._post(big)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self._failed())

        # just under the limit: read, and answered on its merits
        response = self._post(json.dumps(dict(self.order, note="x" * (1000 * 1000))))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._failed().error_message, "order.note: at most 2000 characters")

    def test_unauthenticated_not_journaled_but_counted(self):
        self.system.sudo().write({"alert_failure_count": 1, "alert_min_volume": 1})
        before = self.Log.search([("system_id", "=", self.system.id)])  # the demo's website order
        with (
            patch.object(main, "REJECTED", ThrottledCounter(interval=60)),
            # logging.INFO, not "INFO": Odoo renames level 25 "INFO"
            self.assertLogs("odoo.addons.crm_exchange_log.controllers.main", level=logging.INFO) as logs,
        ):
            for key in (None, "wrong", "site-key-12", KEY + "x"):
                response = self._post(self.order, key=key)
                self.assertEqual(response.status_code, 403)
        self.assertEqual(len(logs.records), 1, "one line per minute, whatever the number of requests")
        self.assertIn("1 request(s) rejected", logs.output[0])
        self.assertFalse(self.env["sale.order"].search([("crm_external_ref", "=", "WEB-1001")]))
        self.assertFalse(self.Log.search([("system_id", "=", self.system.id)]) - before, "nothing journaled")
        self.system._check_alerts()
        self.assertFalse(self.system.incident_open, "and no alert")

    def test_one_flow_from_website_order_to_1c(self):
        """Website order > deal > quotation > invoice > push to 1C: one correlation id, carried by
        the documents themselves."""
        answer = self._post(self.order).json()
        flow = answer["correlation_id"]
        order = self.env["sale.order"].browse(answer["sale_order_id"])
        order.action_confirm()
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(invoice.crm_correlation_id, flow)
        with trap_jobs():
            invoice.action_onec_push()
        push = self.Log.search([("res_model", "=", "account.move"), ("res_id", "=", invoice.id)])
        self.assertEqual((push.operation, push.correlation_id), ("push_invoice", flow))
        trace = self.Log.search(self.Log.browse(push.id).action_open_trace()["domain"], order="id")
        self.assertEqual(
            trace.mapped("operation"),
            ["website_order", "create_customer", "create_deal", "create_quotation", "push_invoice"],
        )
        self.assertEqual(
            {(log.res_model, log.res_id) for log in trace},
            {
                ("sale.order", order.id),
                ("res.partner", order.partner_id.id),
                ("crm.lead", order.opportunity_id.id),
                ("account.move", invoice.id),
            },
        )
        # a quotation made by hand from the deal carries the flow too
        quotation = self.env["sale.order"].create(
            {"partner_id": order.partner_id.id, "opportunity_id": order.opportunity_id.id}
        )
        self.assertEqual(quotation.crm_correlation_id, flow)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
ORDER_IDS = st.sampled_from(["WEB-F-1", "WEB-F-2", " WEB-F-1 "]) | st.text(min_size=1, max_size=70)
LINES = st.fixed_dictionaries(
    {
        "sku": st.sampled_from(["DT-16", "DT-16", "NOPE"]),
        "quantity": st.integers(1, 100) | st.floats(0.001, 1000) | st.integers(-5, 10**20) | st.floats(),
        "price": st.integers(0, 10**7) | st.integers(-5, 10**15) | st.floats(),
    },
    optional={"name": st.text(max_size=40)},
)
CUSTOMERS = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=40)},
    optional={
        "email": st.emails() | st.text(max_size=30),
        "bin": st.sampled_from(["180340021791", "180340021792"]),
        "phone": st.text(max_size=20),
        "is_company": st.booleans(),
    },
)
VALID_ORDERS = st.fixed_dictionaries(
    {"order_id": ORDER_IDS, "customer": CUSTOMERS, "lines": st.lists(LINES, min_size=1, max_size=3)},
    optional={"note": st.text(max_size=50)},
)
BROKEN_ORDERS = st.fixed_dictionaries(
    {
        "order_id": ORDER_IDS | JSON,
        "customer": CUSTOMERS | JSON,
        "lines": st.lists(LINES | JSON, max_size=3) | JSON,
    },
    optional={"note": JSON, "unknown": JSON},
)
ORDERS = st.one_of(VALID_ORDERS, VALID_ORDERS, BROKEN_ORDERS)
HEADER_TEXT = st.text(st.characters(min_codepoint=33, max_codepoint=255), max_size=40)
KEYS = st.one_of(st.just(KEY), st.just(KEY), st.just(KEY), st.none(), HEADER_TEXT)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "application/json; charset=latin-1",
    ]
) | HEADER_TEXT.filter(bool)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@tagged("post_install", "-at_install")
class TestWebsiteFuzz(WebsiteCommon):
    """Whatever the body and the headers: 200, 400, 403 or 413; nothing half-written; a request
    with the right key is journaled (one entry per failure, the flow of an accepted order),
    a request without it is not."""

    def _state(self):
        return {
            "orders": self.env["sale.order"].search_count([]),
            "leads": self.env["crm.lead"].with_context(active_test=False).search_count([]),
            "partners": self.env["res.partner"].with_context(active_test=False).search_count([]),
            "logs": self.Log.search_count([("system_id", "=", self.system.id)]),
            "failed": self.Log.search_count([("system_id", "=", self.system.id), ("state", "=", "failed")]),
        }

    def _check(self, body, key, content_type):
        before = self._state()
        response = self._post(body, key=key, headers={"Content-Type": content_type})
        after = self._state()
        self.assertIn(response.status_code, (200, 400, 403, 413), response.text[:500])
        # a 413 refused before the controller is Odoo's HTML page
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        event(f"{response.status_code} {response.json()['status'] if is_json else ''}")
        created = {name: after[name] - before[name] for name in before}
        if response.status_code == 200:
            answer = response.json()
            order = self.env["sale.order"].browse(answer["sale_order_id"])
            self.assertTrue(order.exists())
            if answer["status"] == "ok":
                self.assertEqual((created["orders"], created["leads"], created["logs"]), (1, 1, 4))
                self.assertIn(created["partners"], (0, 1))
                self.assertEqual(order.crm_correlation_id, answer["correlation_id"])
                self.assertEqual(len(order.order_line), len(json.loads(body)["lines"]))
            else:
                self.assertEqual(answer["status"], "duplicate")
                self.assertEqual(created, {"orders": 0, "leads": 0, "partners": 0, "logs": 1, "failed": 0})
            return
        self.assertEqual((created["orders"], created["leads"], created["partners"]), (0, 0, 0), "nothing half-written")
        if response.status_code == 400 and key == KEY:
            self.assertEqual((created["logs"], created["failed"]), (1, 1), "one failed entry")
        else:  # not authenticated, or too large to be read: nothing journaled
            self.assertEqual(created["logs"], 0)

    @FUZZ
    @given(order=ORDERS, key=KEYS)
    def test_fuzz_orders(self, order, key):
        self._check(json.dumps(order), key, "application/json")

    @FUZZ
    @given(
        body=st.binary(max_size=300)
        | JSON.map(json.dumps)
        | st.text(max_size=300)
        | st.sampled_from([main.MAX_BODY, main.MAX_BODY + 1]).map(lambda size: b"[" + b" " * (size - 2) + b"]"),
        key=KEYS,
        content_type=CONTENT_TYPES,
    )
    def test_fuzz_bodies_and_headers(self, body, key, content_type):
        self._check(body, key, content_type)


@tagged("post_install", "-at_install")
class TestWebsiteOrderConcurrency(BaseCase):
    """The same order delivered twice at the same moment by two workers (two real transactions,
    committed): one customer, one deal, one quotation, no ERROR in the log."""

    def test_concurrent_deliveries_create_once(self):
        registry = Registry(get_db_name())
        ref = f"WEB-RACE-{uuid.uuid4().hex[:8]}"
        sku = f"RACE-{uuid.uuid4().hex[:8]}"
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            product = env["product.product"].create({"name": "Race lathe", "default_code": sku, "sale_ok": True})
            system_id = env.ref("crm_exchange_log.exchange_system_website").id
            template_id = product.product_tmpl_id.id
        self.addCleanup(self._cleanup, registry, ref, template_id, system_id)
        email = f"{ref.lower()}@race.kz"
        data = {
            "order_id": ref,
            "customer": {"name": "ТОО «Гонка»", "email": email},
            "lines": [{"sku": sku, "quantity": 1, "price": 1000}],
        }
        barrier = threading.Barrier(2)
        results, errors = [], []

        def deliver():
            try:
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    system = env["crm.exchange.system"].browse(system_id)
                    system.read(["code"])  # the request's transaction has its snapshot
                    barrier.wait(timeout=30)
                    results.append(env["crm.exchange.website"]._receive_order(system, data))
            except Exception as error:  # noqa: BLE001 - reported by the test
                errors.append(error)

        # on the "odoo" logger: the test runner may have raised its level above ERROR
        with self.assertNoLogs("odoo", level=logging.ERROR):
            threads = [threading.Thread(target=deliver) for _i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        self.assertEqual(errors, [])
        self.assertEqual(sorted(result["status"] for result in results), ["duplicate", "ok"])
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(env["sale.order"].search_count([("crm_external_ref", "=", ref)]), 1)
            self.assertEqual(env["crm.lead"].search_count([("name", "ilike", ref)]), 1)
            self.assertEqual(env["res.partner"].search_count([("email_normalized", "=", email)]), 1)
            logs = env["crm.exchange.log"].search(
                [("idempotency_key", "in", [f"website:{ref}", f"website:{ref}:replay"])]
            )
            self.assertEqual(sorted(logs.mapped("idempotency_key")), [f"website:{ref}", f"website:{ref}:replay"])

    def _cleanup(self, registry, ref, template_id, system_id):
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            orders = env["sale.order"].search([("crm_external_ref", "=", ref)])
            leads = orders.opportunity_id | env["crm.lead"].search([("name", "ilike", ref)])
            partners = orders.partner_id
            logs = env["crm.exchange.log"].search(
                [("system_id", "=", system_id), ("idempotency_key", "like", f"website:{ref}")]
            )
            env["crm.exchange.log"].search([("correlation_id", "in", logs.mapped("correlation_id"))]).unlink()
            orders.unlink()
            leads.unlink()
            partners.unlink()
            env["product.template"].browse(template_id).unlink()


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


@tagged("post_install", "-at_install")
class TestWebsiteOrderRules(BaseCase):
    """The order schema and the rejection counter, without a database."""

    def test_validate_order_bounds(self):
        line = {"sku": "DT-16", "quantity": 1, "price": 10}
        order = {"order_id": "W-1", "customer": {"name": "x"}, "lines": [line]}
        self.assertEqual(validate_order(order), [])
        self.assertEqual(
            validate_order(dict(order, lines=[dict(line, quantity=float("nan"), price=10**400)])),
            [
                "order.lines[0].quantity: a finite number is expected",
                "order.lines[0].price: a finite number is expected",
            ],
        )
        self.assertEqual(
            validate_order(dict(order, lines=[dict(line, quantity=0, price=-1)])),
            [
                "order.lines[0].quantity: must be positive, at most 1000000000",
                "order.lines[0].price: must not be negative, at most 10000000000000",
            ],
        )
        self.assertEqual(
            validate_order(dict(order, note="a\x00b", customer={"name": "\udfff", "email": "nobody"})),
            [
                "order.note: NUL character",
                "order.customer.name: not valid Unicode",
                "order.customer.email: not a valid e-mail address",
            ],
        )
        self.assertEqual(len(validate_order({f"k{i}": i for i in range(500)})), 50, "errors are capped")

    def test_throttled_counter(self):
        now = [100.0]
        counter = ThrottledCounter(interval=60, clock=lambda: now[0])
        self.assertEqual(counter.hit(), 1, "the first at once")
        self.assertEqual([counter.hit() for _i in range(3)], [0, 0, 0])
        now[0] += 61
        self.assertEqual(counter.hit(), 4, "then the count since the last report")
        self.assertEqual(counter.hit(), 0)
