import base64
import contextlib
from urllib.parse import urlparse

from lxml import etree

from odoo import fields
from odoo.tests import tagged
from odoo.tests.common import _super_send

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon
from odoo.addons.queue_job.tests.common import trap_jobs

from ..services.enterprise_data import DATA_NS, build_payments_message
from ..services.safe_xml import UnsafeContentError, parse_xml, unzip_single, zip_single
from . import onec_server
from .onec_server import STATE

D = f"{{{DATA_NS}}}"


@tagged("post_install", "-at_install")
class TestOneC(CrmKpiCommon):
    """The adapter against a SOAP server on 127.0.0.1 that behaves like 1C's
    EnterpriseDataExchange_1_0_1_1: every call and every failure ends in the journal."""

    @classmethod
    def _request_handler(cls, s, r, **kw):
        # the fake 1C is local: keep the short timeouts the tests ask for (Odoo raises them to 10 s)
        if urlparse(r.url).hostname == "127.0.0.1":
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server, cls.url = onec_server.start_server()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        params = cls.env["ir.config_parameter"].sudo()
        for key, value in {
            "onec_wsdl_url": cls.url + "?wsdl",
            "onec_username": onec_server.USER,
            "onec_password": onec_server.PASSWORD,
            "onec_timeout": "10",
            "onec_exchange_plan": "СинхронизацияДанныхЧерезУниверсальныйФормат",
            "onec_peer_code": "CRM1C",
            "onec_own_peer_code": "CRM",
            "onec_part_size": "1",
            "onec_poll_interval": "0.01",
            "onec_received_no": "0",
        }.items():
            params.set_param(f"crm_exchange_log.{key}", value)
        # the accountant of AccountTestInvoicingCommon is also the integrator
        cls.env.user.groups_id |= cls.env.ref("crm_exchange_log.group_exchange_integrator")
        # the company's own 1C system, in the test transaction
        cls.system = (
            cls.env["crm.exchange.system"]
            .sudo()
            .create(
                {
                    "name": "1C (test)",
                    "code": "onec",
                    "company_id": cls.env.company.id,
                    "max_attempts": 3,
                    "channel_id": cls.env.ref("crm_exchange_log.queue_channel_onec").id,
                }
            )
        )
        cls.customer.write(
            {
                "name": "ТОО «МашСтрой»",
                "crm_bin": "950140009013",
                "is_company": True,
                "crm_legal_address": "100012, г. Караганда, ул. Ерубаева, 48",
            }
        )
        cls.Connector = cls.env["crm.onec.connector"]
        cls.Log = cls.env["crm.exchange.log"]

    def setUp(self):
        super().setUp()
        STATE.reset()

    def _applied_names(self):
        return [node.text for root in STATE.applied for node in root.iter(f"{D}Наименование")]

    # ------------------------------------------------------------------ outgoing
    def test_ping(self):
        log = self.Connector.ping()
        self.assertEqual(log.state, "done")
        self.assertEqual(log.system_id, self.system)
        self.assertTrue(STATE.last_auth.startswith("Basic "))
        self.assertEqual(
            base64.b64decode(STATE.last_auth[6:]).decode(),
            f"{onec_server.USER}:{onec_server.PASSWORD}",
            "Cyrillic credentials sent as UTF-8",
        )

    def test_settings_and_test_connection(self):
        settings = self.env["res.config.settings"].create(
            {
                "crm_onec_wsdl_url": self.url,
                "crm_onec_peer_code": "CRM1C",
                "crm_onec_timeout": 15,
            }
        )
        action = settings.action_crm_onec_ping()
        self.assertEqual(action["params"]["type"], "success")
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param("crm_exchange_log.onec_wsdl_url"), self.url)
        self.assertEqual(params.get_param("crm_exchange_log.onec_timeout"), "15")
        settings = self.env["res.config.settings"].create({"crm_onec_peer_code": "НЕТ"})
        action = settings.action_crm_onec_ping()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(
            action["params"]["message"],
            "1C: Предварительная настройка не найдена. Обратитесь к администратору приложения.",
        )

    def test_push_partner(self):
        log = self.Connector.push_partner(self.customer)
        self.assertEqual(log.state, "done", log.error_message)
        self.assertEqual((log.res_model, log.res_id, log.operation), ("res.partner", self.customer.id, "push_partner"))
        self.assertEqual(len(STATE.applied), 1)
        root = STATE.applied[0]
        self.assertEqual(
            root.findtext(f".//{D}Справочник.Контрагенты/{D}КлючевыеСвойства/{D}Наименование"), "ТОО «МашСтрой»"
        )
        self.assertEqual(root.findtext(f".//{D}ИНН"), "950140009013")
        self.assertEqual(root.findtext(f".//{D}Ссылка"), self.customer.crm_onec_ref)
        self.assertEqual(len(STATE.polls), 1)
        self.assertEqual(list(STATE.polls.values()), [0], "PutDataActionResult polled while Active")
        self.assertIn("ТОО «МашСтрой»", log.request_payload)
        self.assertNotIn(onec_server.PASSWORD, log.request_payload + (log.response_payload or ""))

    def test_push_invoice(self):
        tax = self.env["account.tax"].create(
            {"name": "НДС 12%", "amount": 12, "type_tax_use": "sale", "company_id": self.env.company.id}
        )
        move = self.init_invoice(
            "out_invoice", partner=self.customer, invoice_date=fields.Date.today(), amounts=[1000.0], taxes=tax
        )
        move.action_post()
        log = self.Connector.push_invoice(move)
        self.assertEqual(log.state, "done", log.error_message)
        document = STATE.applied[0].find(f".//{D}Документ.РеализацияТоваровУслуг")
        self.assertEqual(document.findtext(f"{D}КлючевыеСвойства/{D}Номер"), move.name)
        self.assertEqual(float(document.findtext(f"{D}Сумма")), 1120.0)
        self.assertEqual(float(document.findtext(f"{D}СуммаНДС")), 120.0)
        self.assertEqual(document.findtext(f"{D}Товары/{D}Строка/{D}СтавкаНДС"), "НДС12")
        self.assertEqual(move.crm_exchange_count, 1)

    def _push_failure(self, mode):
        STATE.mode = mode
        log = self.Connector.push_partner(self.customer)
        self.assertEqual(log.state, "retrying", "one attempt of three")
        return log.error_message

    def test_error_message_answer(self):
        self.assertEqual(
            self._push_failure("error_message"), "1C: Не удалось загрузить данные: неизвестный формат сообщения"
        )

    def test_russian_fault(self):
        self.assertEqual(
            self._push_failure("fault"),
            "1C SOAP fault in PutData: Ошибка при вызове метода контекста (PutData): нет прав на загрузку данных",
        )

    def test_timeout(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.onec_timeout", "1")
        STATE.slow_seconds = 3
        self.assertEqual(self._push_failure("slow"), "1C did not answer PutData within 1.0 s")

    def test_html_error_page(self):
        self.assertEqual(
            self._push_failure("html500"),
            "1C answered HTTP 500 to PutFilePart: Ошибка сервера 1С:Предприятия 500 "
            "Информационная база заблокирована для обновления",
        )

    def test_wrong_password(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.onec_password", "неверный")
        log = self.Connector.ping()
        self.assertEqual((log.state, log.error_message), ("failed", "1C refused the user name or password (HTTP 401)"))

    def test_dtd_refused(self):
        STATE.mode = "dtd"
        log = self.Connector.ping()
        self.assertEqual(log.state, "failed")
        self.assertEqual(log.error_message, "1C's answer to Ping is refused: XML with a DTD or entities")

    def test_bom_answer(self):
        STATE.mode = "bom"
        self.assertEqual(self.Connector.ping().state, "done")

    def test_no_url_journaled_not_raised(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.onec_wsdl_url", "")
        with trap_jobs() as trap:
            action = self.customer.action_onec_push()
            self.assertEqual(action["params"]["type"], "success")
            job = trap.enqueued_jobs[0]
            with contextlib.suppress(Exception):  # the job runner's business
                job.perform()
        log = self.Log.search([("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)])
        self.assertEqual(log.state, "retrying")
        self.assertEqual(log.error_message, "The 1C web service URL is not set (Settings > CrmAI > 1C).")

    def test_repeated_message_applied_once(self):
        """1C applies the message but the answer is lost: the retry sends the same message
        number and file, and 1C applies it once."""
        STATE.mode = "fail_once"
        with trap_jobs() as trap:
            self.customer.action_onec_push()
            job = trap.enqueued_jobs[0]
            with contextlib.suppress(Exception):  # the job runner's business
                job.perform()
            log = self.Log.search([("res_model", "=", "res.partner"), ("res_id", "=", self.customer.id)])
            self.assertEqual((log.state, log.attempt_count), ("retrying", 1))
            job.perform()
        self.assertEqual((log.state, log.attempt_count), ("done", 2))
        self.assertEqual(STATE.put_calls, 2)
        self.assertEqual(len(STATE.applied), 1, "the same message number is applied once")
        self.assertEqual(self._applied_names().count("ТОО «МашСтрой»"), 1)

    def test_auto_push_on_posting(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.onec_auto_push", "1")
        move = self.invoice(5000.0, post=False)
        with trap_jobs() as trap:
            move.action_post()
            trap.assert_jobs_count(1)
        log = self.Log.search([("res_model", "=", "account.move"), ("res_id", "=", move.id)])
        self.assertEqual((log.operation, log.state, log.system_id), ("push_invoice", "pending", self.system))

    # ------------------------------------------------------------------ incoming
    def _outgoing(self, message_no, payments, statuses=()):
        STATE.outgoing = zip_single(
            "Message.xml",
            build_payments_message(
                "СинхронизацияДанныхЧерезУниверсальныйФормат",
                "CRM1C",
                "CRM",
                message_no,
                0,
                payments,
                statuses,
            ),
        )

    def test_invoice_status(self):
        invoice = self.invoice(1000.0)
        self._outgoing(3, [], [{"number": invoice.name, "status": "Отгружен"}])
        log = self.Connector.pull_payments()
        self.assertEqual(log.state, "done", log.error_message)
        notes = self.env["mail.message"].search([("model", "=", "account.move"), ("res_id", "=", invoice.id)])
        self.assertIn("Status in 1C: Отгружен", notes.mapped("body")[0])
        status_log = self.Log.search([("operation", "=", "invoice_status"), ("res_id", "=", invoice.id)])
        self.assertEqual((status_log.correlation_id, status_log.res_model), (log.correlation_id, "account.move"))

    def test_pull_payments_multipart_applied_once(self):
        invoice = self.invoice(300000.0, days_ago=10)
        other = self.invoice(1000.0, days_ago=5)
        payment = {
            "ref": "a1b2-c3",
            "date": fields.Date.to_string(self.today),
            "number": "ПП-000123",
            "amount": 300000.0,
            "invoice_number": invoice.name,
            "partner_inn": "950140009013",
        }
        self._outgoing(
            7, [payment, {**payment, "ref": "zz-9", "number": "ПП-9", "amount": 10.0, "invoice_number": "НЕТ-ТАКОГО"}]
        )
        STATE.outgoing_part_size = 200
        log = self.Connector.pull_payments()
        self.assertEqual(log.state, "done", log.error_message)
        self.assertGreater(len(next(iter(STATE.files.values()))), 1, "the file came in several parts")
        self.assertEqual(invoice.payment_state, "in_payment" if invoice.payment_state == "in_payment" else "paid")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(other.amount_residual, 1000.0)
        self.assertEqual(len(STATE.confirmed), 1, "the file is confirmed")
        children = self.Log.search([("correlation_id", "=", log.correlation_id), ("id", "!=", log.id)])
        self.assertEqual(sorted(children.mapped("state")), ["done", "failed"])
        failed = children.filtered(lambda child: child.state == "failed")
        self.assertIn("НЕТ-ТАКОГО", failed.error_message)
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param("crm_exchange_log.onec_received_no"), "7")
        # the same message again (1C did not get our confirmation): nothing applied twice
        log = self.Connector.pull_payments()
        self.assertEqual(log.state, "done")
        self.assertIn("message already applied", log.response_payload)
        # the same payment in a new message: known by its reference
        self._outgoing(8, [payment])
        self.Connector.pull_payments()
        payments = self.env["account.payment"].search([("crm_onec_ref", "=", "a1b2-c3")])
        self.assertEqual(len(payments), 1)
        self.assertEqual(payments.amount, 300000.0)

    def test_zip_bomb_refused(self):
        STATE.outgoing = onec_server.zip_bomb(60 * 1024 * 1024)
        STATE.outgoing_part_size = 1024 * 1024
        log = self.Connector.pull_payments()
        self.assertEqual(log.state, "failed")
        self.assertIn("is refused: Zip archive refused", log.error_message)
        self.assertFalse(STATE.confirmed)


@tagged("post_install", "-at_install")
class TestHardenedParsing(CrmKpiCommon):
    def test_dtd_and_entities_refused(self):
        for data in (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>',
            b'<!DOCTYPE r SYSTEM "http://example.com/r.dtd"><r/>',
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>',
        ):
            with self.assertRaises(UnsafeContentError):
                parse_xml(data)

    def test_bom_and_cyrillic(self):
        root = parse_xml("\ufeff<?xml version='1.0' encoding='windows-1251'?><r>Привет</r>")
        self.assertEqual(root.text, "Привет")
        root = parse_xml(b"\xef\xbb\xbf<r>\xd0\x9f</r>")
        self.assertEqual(root.text, "П")
        self.assertIsInstance(root, etree._Element)

    def test_zip_limits(self):
        self.assertEqual(unzip_single(zip_single("m.xml", b"<r/>")), b"<r/>")
        with self.assertRaises(UnsafeContentError):
            unzip_single(zip_single("m.xml", b"0" * 200000), max_ratio=10)
        with self.assertRaises(UnsafeContentError):
            unzip_single(b"not a zip")

    def test_settings_password_admin_only(self):
        field = self.env["res.config.settings"]._fields["crm_onec_password"]
        self.assertEqual(field.groups, "base.group_system")
        self.assertTrue(self.env["crm.exchange.log"]._fields["request_payload"].groups)
