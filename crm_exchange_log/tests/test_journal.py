import copy
import json
import uuid
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.queue_job.exception import RetryableJobError

from ..services.masking import _mask_patterns, mask_secrets, mask_text
from .common import ExchangeCommon, declare_handler


@tagged("post_install", "-at_install")
class TestMasking(ExchangeCommon):
    def test_dict_recursive(self):
        masked = mask_secrets(
            {
                "login": "admin",
                "password": "s3cr3t",
                "nested": {"api_key": "AK-1", "Authorization": "Basic eDp5", "items": [{"token": "t-1", "name": "ok"}]},
            }
        )
        self.assertEqual(
            masked,
            {
                "login": "admin",
                "password": "***",
                "nested": {"api_key": "***", "Authorization": "***", "items": [{"token": "***", "name": "ok"}]},
            },
        )

    def test_json_text(self):
        text = mask_text(json.dumps({"client_secret": "abc", "data": {"X-Api-Key": "k"}, "amount": 5}))
        self.assertEqual(json.loads(text), {"client_secret": "***", "data": {"X-Api-Key": "***"}, "amount": 5})

    def test_xml_and_headers(self):
        xml = (
            '<Envelope><Header><wsse:Password Type="x">пароль</wsse:Password><Token>abc</Token></Header>'
            '<Body apiKey="zzz"><Name>ТОО</Name></Body></Envelope>'
        )
        self.assertEqual(
            mask_text(xml),
            '<Envelope><Header><wsse:Password Type="x">***</wsse:Password><Token>***</Token></Header>'
            '<Body apiKey="***"><Name>ТОО</Name></Body></Envelope>',
        )
        headers = (
            "POST /ws HTTP/1.1\nAuthorization: Basic 0J7QsdC80LXQvTrQv9Cw0YDQvtC70Yw=\nX-Api-Key: 123\nAccept: */*"
        )
        self.assertEqual(mask_text(headers), "POST /ws HTTP/1.1\nAuthorization: ***\nX-Api-Key: ***\nAccept: */*")
        self.assertEqual(mask_text("GET /x?token=abc&page=2 Bearer eyJhbGciOi.x"), "GET /x?token=***&page=2 Bearer ***")

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(
            st.sampled_from(
                [
                    "<",
                    ">",
                    "</",
                    "=",
                    '"',
                    "&",
                    "?",
                    ":",
                    " ",
                    "\n",
                    "x",
                    "Пароль",
                    "PASSwd",
                    "pwd",
                    "SeCreT",
                    "token",
                    "api-key",
                    "api_Key",
                    "apikey",
                    "Authorization",
                    "Cookie",
                    "signature",
                    "BEARER",
                    "basic",
                    "Digest",
                    "access_token",
                    "abcdef123",
                    "ТОО",
                    "Сумма",
                    # letters that the patterns' IGNORECASE equates with ASCII or Cyrillic ones
                    "paſsword",
                    "APİKEY",
                    "sıgnature",
                    "парᲂль",
                    "\u212aey",
                ]
            ),
            max_size=40,
        ).map("".join)
    )
    def test_text_without_a_secret_word_is_kept_as_the_patterns_would(self, text):
        """The one-scan shortcut never keeps what one of the five patterns would mask."""
        if text.strip()[:1] not in ("{", "["):
            self.assertEqual(mask_text(text), _mask_patterns(text))

    def test_log_never_stores_secrets(self):
        log = self.Log._journal(
            self.system,
            "out",
            "login",
            request={"user": "u", "password": "p@ss"},
            response='{"access_token": "tk-9f3", "ok": true}',
        )
        self.assertNotIn("p@ss", log.request_payload)
        self.assertNotIn("tk-9f3", log.response_payload)
        self.assertIn('"password": "***"', log.request_payload)


@tagged("post_install", "-at_install")
class TestJournal(ExchangeCommon):
    def test_track_success(self):
        with self.Log._track(self.system, "out", "push_stock", record=self.contact, request={"sku": "A"}) as exchange:
            exchange.response = {"accepted": 1}
        log = exchange.log
        self.assertEqual(log.state, "done")
        self.assertEqual(log.res_model, "res.partner")
        self.assertEqual(log.res_id, self.contact.id)
        self.assertEqual(log.partner_id, self.customer, "the log belongs to the commercial partner")
        self.assertEqual(json.loads(log.response_payload), {"accepted": 1})
        self.assertGreaterEqual(log.duration_ms, 0)
        self.assertTrue(log.correlation_id)

    def test_track_failure_reraises_and_journals(self):
        # not assertRaises: it rolls back to a savepoint, and the test system is not committed
        reraised = None
        try:
            with self.Log._track(self.system, "out", "push_stock", record=self.customer) as exchange:
                raise ConnectionError("warehouse down")
        except ConnectionError as error:
            reraised = error
        self.assertEqual(str(reraised), "warehouse down", "the exception must reach the caller")
        self.assertEqual(exchange.log.state, "failed")
        self.assertEqual(exchange.log.error_message, "ConnectionError: warehouse down")
        with self.Log._track(self.system, "out", "push_stock", record=self.customer, reraise=False) as exchange:
            raise ValueError("bad data")
        self.assertEqual(exchange.state, "failed")
        self.assertEqual(exchange.log.error_message, "ValueError: bad data")

    def test_large_payload_as_attachment(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.attachment_threshold", "1000")
        big = {"lines": [f"строка {i}" for i in range(500)], "password": "hidden"}
        log = self.Log._journal(self.system, "out", "push_big", request=big)
        self.assertTrue(log.request_payload_file)
        self.assertFalse(log.response_payload_file)
        self.assertLess(len(log.request_payload), 2100)
        raw = log._payload_text("request_payload")
        self.assertIn("строка 499", raw)
        self.assertNotIn("hidden", raw)
        attachment = self.env["ir.attachment"].search(
            [
                ("res_model", "=", "crm.exchange.log"),
                ("res_id", "=", log.id),
                ("res_field", "=", "request_payload_file"),
            ]
        )
        self.assertEqual(attachment.raw.decode(), raw)
        # a small payload afterwards replaces the file
        log.write({"request_payload": {"lines": []}})
        self.assertFalse(log.request_payload_file)
        self.assertFalse(attachment.exists())

    def test_storable_whatever_arrives(self):
        """NUL characters, lone surrogates and nesting beyond reason: journaled, never lost."""
        nested = current = {}
        for _level in range(5000):
            current["x"] = current = {}
        log = self.Log._journal(
            self.system,
            "in",
            "webhook\x00",
            error="bad \ud800 text",
            idempotency_key="key\x00\udfff",
            request={"text": "a\x00b\ud83d", "nested": nested},
            response='{"a": ' * 3000 + "1" + "}" * 3000,
        )
        log.flush_recordset()
        self.assertEqual(log.operation, "webhook\\x00")
        self.assertEqual(log.error_message, "bad \\ud800 text")
        self.assertEqual(log.idempotency_key, "key\\x00\\udfff")
        self.assertIn('"a\\u0000b\\ud83d"', log.request_payload)
        self.assertIn('"[...]"', log.request_payload)
        self.assertTrue(log.response_payload.startswith('{"a": {"a": '))

    def test_trace_and_timeline(self):
        parent = self.Log._journal(self.system, "in", "website_order", record=self.customer)
        child = self.Log._journal(self.system, "out", "push_invoice", record=self.customer, parent=parent)
        self.assertEqual(child.correlation_id, parent.correlation_id)
        action = parent.action_open_trace()
        self.assertEqual(self.Log.search(action["domain"]), parent | child)
        self.assertEqual(parent.child_ids, child)
        events = self.env["crm.timeline.event"].search(
            [("partner_id", "=", self.customer.id), ("kind", "=", "exchange")]
        )
        self.assertEqual(len(events), 2)
        self.assertEqual(set(events.mapped("res_model")), {"res.partner"})
        self.assertEqual(self.customer.crm_exchange_count, 2)
        self.assertEqual(self.Log.search(self.customer.action_crm_open_exchanges()["domain"]), parent | child)

    def test_smart_buttons_on_documents(self):
        move = self.env["account.move"].create({"move_type": "out_invoice", "partner_id": self.customer.id})
        order = self.env["sale.order"].create({"partner_id": self.customer.id})
        self.Log._journal(self.system, "out", "push_invoice", record=move)
        self.Log._journal(self.system, "out", "push_order", record=order)
        self.Log._journal(self.system, "out", "push_order", record=order)
        self.assertEqual((move.crm_exchange_count, order.crm_exchange_count), (1, 2))
        self.assertEqual(len(self.Log.search(order.action_crm_open_exchanges()["domain"])), 2)

    def test_journal_of_many_documents_reads_each_model_once(self):
        other = self.env["res.partner"].create({"name": "ТОО «Другой»", "is_company": True})
        moves = self.env["account.move"].create(
            [{"move_type": "out_invoice", "partner_id": partner.id} for partner in (self.contact, other) * 10]
        )
        orders = self.env["sale.order"].create([{"partner_id": other.id}] * 5)
        gone = self.env["sale.order"].create({"partner_id": other.id})
        gone_id = gone.id
        gone.unlink()
        documents = [(record._name, record.id) for record in [*moves, *orders]] + [("sale.order", gone_id)]
        vals_list = [
            {"system_id": self.system.id, "direction": "in", "operation": "sale", "res_model": model, "res_id": res_id}
            for model, res_id in documents
        ]
        self.env.flush_all()
        self.env.invalidate_all()
        # the documents and their customers: two queries per model, not per document
        with self.assertQueryCount(__system__=9):
            logs = self.Log.sudo().create(vals_list)
            self.env.flush_all()
        self.assertEqual(logs[:20].partner_id, self.customer | other)
        self.assertEqual(logs[:20:2].partner_id, self.customer)  # a contact's company
        self.assertEqual(logs[20:25].partner_id, other)
        self.assertFalse(logs[25].partner_id)  # a document deleted since

    def test_dashboard(self):
        for state in ("done", "done", "failed", "done"):
            self.Log._journal(self.system, "out", "sync", state=state, error="boom" if state == "failed" else None)
        row = self.env["crm.exchange.report"].search([("system_id", "=", self.system.id)])
        self.assertEqual((row.exchange_count, row.failed_count, row.done_count), (4, 1, 3))
        self.assertAlmostEqual(row.failure_rate, 25.0)
        self.assertEqual(row.last_error, "boom")
        self.assertEqual((self.system.log_count, self.system.failed_count), (4, 1))
        self.assertAlmostEqual(self.system.failure_rate, 25.0)
        self.assertEqual(self.system.last_error, "boom")


@tagged("post_install", "-at_install")
class TestJournalRows(ExchangeCommon):
    """``_create_journal_rows`` (one INSERT for the entries of a 1C step) stores what ``create``
    stores for the same values, column by column, attachments included."""

    def _vals_list(self):
        move = self.env["account.move"].create({"move_type": "out_invoice", "partner_id": self.contact.id})
        big = {"lines": [f"строка {i}" for i in range(200)], "password": "hidden"}
        journal = [
            # what the 1C load journals: a document with a customer, masked secrets, NUL characters
            self.Log._journal_vals(
                self.system,
                "in",
                "onec_sale",
                record=move,
                request='<Документ password="s3cr3t">a\x00b</Документ>',
                response={"move": move.name, "token": "tk-1", "amount": 10.5},
                correlation_id="flow-1",
            ),
            # no document; a failure (its flag), text from outside as PostgreSQL stores it
            self.Log._journal_vals(
                self.system,
                "in",
                "onec_payment\x00",
                state="failed",
                error="bad \ud800 text",
                duration_ms=12,
                request={"text": "a\x00b\ud83d", "api_key": "k"},
                idempotency_key="key\x00",
            ),
            # a document without a customer, the values of the batch's success path
            {
                **self.Log._prepare_log_vals(
                    self.system, "in", "onec_counterparty", record=self.system, request="<x/>", response=None
                ),
                "state": "done",
                "attempt_count": 1,
                "date_done": fields.Datetime.now(),
            },
            # a contact: its company's timeline
            self.Log._journal_vals(self.system, "in", "onec_counterparty", record=self.contact, response="ok"),
            # a payload over the threshold: the whole text in its attachment
            self.Log._journal_vals(self.system, "in", "onec_sale", record=move, request=big),
            # defaults to apply (state, attempts): create applies them
            {"system_id": self.system.id, "direction": "in", "operation": "onec_deletion", "correlation_id": "f"},
            self.Log._journal_vals(self.system, "in", "onec_deletion", record=self.customer),
        ]
        return journal

    def _snapshot(self, logs):
        """Every column of the entries and of their attachments, in their order (ids as positions)."""
        self.env.flush_all()
        position = {log_id: index for index, log_id in enumerate(logs.ids)}
        rows = []
        for table, key in (("crm_exchange_log", "id"), ("ir_attachment", "res_id")):
            columns = [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY 1",
                        table,
                    )
                )
                if row[0] != "id"
            ]
            where = SQL("res_model = 'crm.exchange.log' AND res_id = ANY(%s)", logs.ids)
            if table == "crm_exchange_log":
                where = SQL("id = ANY(%s)", logs.ids)
            for row in self.env.execute_query(
                SQL(
                    "SELECT %s, %s FROM %s WHERE %s ORDER BY id",
                    SQL.identifier(key),
                    SQL(", ").join(map(SQL.identifier, columns)),
                    SQL.identifier(table),
                    where,
                )
            ):
                values = dict(zip(columns, row[1:], strict=True))
                values.pop("res_id", None)
                rows.append((table, position[row[0]], values))
        return sorted(rows, key=lambda row: (row[0], row[1]))

    def test_rows_as_create_stores_them(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.attachment_threshold", "1000")
        vals_list = self._vals_list()
        Log = self.Log.sudo()
        expected = self._snapshot(Log.create(copy.deepcopy(vals_list)))
        created = []
        original = type(Log).create

        def spy(model, vals_list):
            created.append(len(vals_list))
            return original(model, vals_list)

        known = self.system.log_ids  # in cache: the new entries are added to it
        with patch.object(type(Log), "create", api.model_create_multi(spy)):
            logs = Log._create_journal_rows(copy.deepcopy(vals_list))
        self.assertEqual(self._snapshot(logs), expected)
        self.assertEqual(logs.ids, sorted(logs.ids), "in the order of the values")
        self.assertEqual(created, [2], "create for the payload kept in a file and the entry with defaults only")
        self.assertEqual(
            logs[:4].mapped(lambda log: log.partner_id.id), [self.customer.id, False, False, self.customer.id]
        )
        self.assertEqual(logs.mapped("failed"), [0, 1, 0, 0, 0, 0, 0])
        self.assertNotIn("s3cr3t", logs[0].request_payload)
        self.assertNotIn("tk-1", logs[0].response_payload)
        self.assertTrue(logs[4].request_payload_file)
        self.assertEqual(self.system.log_ids, known | logs)


@tagged("post_install", "-at_install")
class TestJournalSurvivesRollback(ExchangeCommon):
    """A failure is committed on its own cursor: it stays when the business transaction that
    recorded it is rolled back. Real cursors, real commits, cleaned up afterwards."""

    def test_failure_survives_rollback(self):
        code = f"rollback_{uuid.uuid4().hex[:8]}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            system_id = env["crm.exchange.system"].create({"name": "Bank", "code": code}).id
        self.addCleanup(self._cleanup, system_id)

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            system = env["crm.exchange.system"].browse(system_id)
            partner = env["res.partner"].create({"name": "Rolled back customer"})
            with self.assertRaises(TimeoutError):
                with env["crm.exchange.log"]._track(
                    system, "out", "send_statement", record=partner, request={"iban": "KZ00"}
                ):
                    raise TimeoutError("bank did not answer")
            with env["crm.exchange.log"]._track(system, "out", "send_ok", record=partner) as ok_exchange:
                ok_exchange.response = {"ok": True}
            partner_id = partner.id
            cr.rollback()

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            logs = env["crm.exchange.log"].search([("system_id", "=", system_id)])
            self.assertEqual(
                logs.mapped("operation"), ["send_statement"], "the success was rolled back with the business"
            )
            self.assertEqual(logs.state, "failed")
            self.assertEqual(logs.error_message, "TimeoutError: bank did not answer")
            self.assertEqual((logs.res_model, logs.res_id), ("res.partner", partner_id))
            self.assertFalse(env["res.partner"].browse(partner_id).exists())

    def test_failed_job_attempt_survives_rollback(self):
        """A job's failed attempt is written on its own cursor: queue_job rolls the job's
        transaction back before it schedules the retry, the attempt stays."""
        code = f"rollback_{uuid.uuid4().hex[:8]}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            system = env["crm.exchange.system"].create(
                {"name": "Bank", "code": code, "max_attempts": 3, "retry_delay": 10}
            )
            system_id = system.id
            log_id = (
                env["crm.exchange.log"]
                .create(
                    {
                        "system_id": system_id,
                        "direction": "out",
                        "operation": "send_statement",
                        "state": "pending",
                        "res_model": "res.partner",
                        "res_id": env.ref("base.partner_root").id,
                        "handler": "_crm_exchange_test_fail",
                        "idempotency_key": "statement:1",
                    }
                )
                .id
            )
        self.addCleanup(self._cleanup, system_id)

        def fail(record, log):
            raise ConnectionError("bank offline")

        declare_handler(self, "res.partner", "_crm_exchange_test_fail", fail)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            log = env["crm.exchange.log"].browse(log_id)
            with self.assertRaises(RetryableJobError):
                log.with_context(job_uuid="job-1")._job_run()
            self.assertEqual((log.state, log.attempt_count), ("retrying", 1), "the values are in cache")
            cr.rollback()

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            log = env["crm.exchange.log"].browse(log_id)
            self.assertEqual((log.state, log.attempt_count, log.job_uuid), ("retrying", 1, "job-1"))
            self.assertEqual(log.error_message, "ConnectionError: bank offline")
            self.assertTrue(log.next_retry_at)
            self.assertEqual(log.attempt_ids.mapped("number"), [1])
            self.assertEqual(log.attempt_ids.job_uuid, "job-1")

    def _cleanup(self, system_id):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM crm_exchange_log WHERE system_id = %s", [system_id])
            cr.execute("DELETE FROM crm_exchange_system WHERE id = %s", [system_id])
