import base64
import contextlib
import io
import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from unittest.mock import patch
from urllib.parse import urlparse

import psycopg2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tests.common import _super_send
from odoo.tools import SQL

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon
from odoo.addons.queue_job.tests.common import trap_jobs

from ..services import enterprise_data as ed
from ..services.enterprise_data import DATA_NS
from ..services.onec_client import OneCClient, OneCError
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
        self.commits = 0
        self.startPatcher(patch.object(self.env.cr, "commit", self._commit))

    def _commit(self):
        """What a commit does, inside the test's transaction: the work kept, the cache emptied, then
        what waits for the commit runs (1C is told the file is received)."""
        self.env.cr.flush()
        self.env.invalidate_all()
        self.commits += 1
        self.env.cr.postcommit.run()

    def pull_committed(self, cron=False):
        """A pull as a request or the cron runs it: applied, then committed."""
        log = self.Connector._cron_pull() if cron else self.Connector.pull_payments()
        self._commit()
        return log

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

    def test_settings_first_load_runs_as_one_job(self):
        invoice = self.invoice(700.0, days_ago=400)
        self._from_1c(self._payment("20000000-0000-4000-8000-000000000001", 700, invoice))
        settings = self.env["res.config.settings"].create({})
        with trap_jobs() as trap:
            action = settings.action_crm_onec_initial_sync()
            settings.action_crm_onec_initial_sync()  # a second click while the first waits
            trap.assert_jobs_count(1)
            trap.assert_enqueued_job(
                self.Connector.action_initial_sync,
                properties={
                    "channel": "root.crm_onec",
                    "identity_key": f"crm_exchange_log:onec_initial_sync:{self.system.id}",
                },
            )
            self.assertEqual(invoice.amount_residual, 700.0, "nothing pulled in the request itself")
            trap.perform_enqueued_jobs()
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(
            action["params"]["next"]["domain"], [("system_id", "=", self.system.id), ("direction", "=", "in")]
        )
        pulls = self.Log.search([("system_id", "=", self.system.id), ("operation", "=", "pull_payments")])
        self.assertEqual(pulls.mapped("state"), ["done", "done"], "the file, then 1C has nothing more")

    def _document(self, kind):
        self.assertFalse(STATE.rejected, STATE.rejected and STATE.rejected[0][1])
        return STATE.applied[-1].find(f"{D}Body/{D}{kind}")

    def test_push_partner(self):
        bank = self.env["res.bank"].create({"name": "АО «Halyk Bank»", "bic": "HSBKKZKX"})
        self.env["res.partner.bank"].create(
            {"partner_id": self.customer.id, "acc_number": "KZ86125KZT5004100100", "bank_id": bank.id}
        )
        self.customer.write({"phone": "+7 701 234 56 78", "email": "buh@mashstroy.kz"})
        log = self.Connector.push_partner(self.customer)
        self.assertEqual(log.state, "done", log.error_message)
        self.assertEqual((log.res_model, log.res_id, log.operation), ("res.partner", self.customer.id, "push_partner"))
        self.assertEqual(len(STATE.applied), 1)
        node = self._document("Справочник.Контрагенты")
        self.assertEqual(
            [child.tag.replace(D, "") for child in node.find(f"{D}КлючевыеСвойства")],
            ["Ссылка", "Наименование", "НаименованиеПолное", "ИНН", "ЮридическоеФизическоеЛицо"],
        )
        self.assertEqual(node.findtext(f"{D}КлючевыеСвойства/{D}ИНН"), "950140009013")
        self.assertEqual(node.findtext(f"{D}КлючевыеСвойства/{D}Ссылка"), self.customer.crm_onec_ref)
        rows = [
            (row.findtext(f"{D}ВидКонтактнойИнформации"), row.findtext(f"{D}ЗначенияПолей"))
            for row in node.findall(f"{D}КонтактнаяИнформация/{D}Строка")
        ]
        self.assertEqual(
            rows,
            [
                ("ЮридическийАдрес", "100012, г. Караганда, ул. Ерубаева, 48"),
                ("Телефон", "+7 701 234 56 78"),
                ("АдресЭлектроннойПочты", "buh@mashstroy.kz"),
            ],
        )
        account = STATE.applied[0].find(f"{D}Body/{D}Справочник.БанковскиеСчета")
        self.assertEqual(account.findtext(f"{D}КлючевыеСвойства/{D}НомерСчета"), "KZ86125KZT5004100100")
        self.assertEqual(
            account.findtext(f"{D}КлючевыеСвойства/{D}Владелец/{D}КонтрагентыСсылка/{D}Ссылка"),
            self.customer.crm_onec_ref,
        )
        self.assertEqual(account.findtext(f"{D}ВалютаДенежныхСредств/{D}ДанныеКлассификатора/{D}Код"), "840")
        self.assertIsNone(node.find(f"{D}БанковскиеСчета"), "bank accounts are objects of their own")
        self.assertEqual(STATE.applied[0].tag, "Message", "the root has no namespace, as 1C writes it")
        self.assertEqual(len(STATE.polls), 1)
        self.assertEqual(list(STATE.polls.values()), [0], "PutDataActionResult polled while Active")
        self.assertIn("ТОО «МашСтрой»", log.request_payload)
        self.assertNotIn(onec_server.PASSWORD, log.request_payload + (log.response_payload or ""))

    def test_push_invoice(self):
        tax = self.env["account.tax"].create(
            {"name": "НДС 12%", "amount": 12, "type_tax_use": "sale", "company_id": self.env.company.id}
        )
        service = self.env["product.product"].create({"name": "Монтаж станка", "type": "service"})
        move = self.init_invoice(
            "out_invoice", partner=self.customer, invoice_date=fields.Date.today(), amounts=[1000.0], taxes=tax
        )
        move.write(
            {
                "invoice_line_ids": [
                    Command.create({"product_id": service.id, "quantity": 3, "price_unit": 0.1, "tax_ids": False}),
                    Command.create({"product_id": service.id, "quantity": 1, "price_unit": 0.0, "tax_ids": False}),
                ]
            }
        )
        move.action_post()
        log = self.Connector.push_invoice(move)
        self.assertEqual(log.state, "done", log.error_message)
        document = self._document("Документ.РеализацияТоваровУслуг")
        self.assertEqual(
            [child.tag.replace(D, "") for child in document],
            [
                "КлючевыеСвойства",
                "ВидОперации",
                "Валюта",
                "Сумма",
                "СуммаВключаетНДС",
                "Контрагент",
                "ДанныеВзаиморасчетов",
                "Товары",
                "Услуги",
            ],
        )
        keys = document.find(f"{D}КлючевыеСвойства")
        self.assertEqual(keys.findtext(f"{D}Номер"), move.name)
        self.assertEqual(keys.findtext(f"{D}Дата"), f"{move.invoice_date.isoformat()}T00:00:00")
        self.assertEqual(keys.findtext(f"{D}Организация/{D}Наименование"), self.env.company.name)
        self.assertEqual(document.findtext(f"{D}ВидОперации"), "РеализацияКлиенту")
        self.assertEqual(document.findtext(f"{D}Валюта/{D}ДанныеКлассификатора/{D}Код"), "840")
        self.assertEqual(document.findtext(f"{D}Сумма"), "1120.30")
        self.assertEqual(document.findtext(f"{D}СуммаВключаетНДС"), "false")
        self.assertEqual(document.findtext(f"{D}Контрагент/{D}Наименование"), "ТОО «МашСтрой»")
        self.assertIsNone(document.find(f"{D}Контрагент/{D}КлючевыеСвойства"))
        goods = document.find(f"{D}Товары/{D}Строка")
        self.assertEqual(
            [child.tag.replace(D, "") for child in goods],
            ["ДанныеНоменклатуры", "ЕдиницаИзмерения", "Количество", "Сумма", "Цена", "СуммаНДС"],
            "12 % is not in СтавкиНДС: the VAT amount only",
        )
        self.assertEqual(goods.findtext(f"{D}ДанныеНоменклатуры/{D}Номенклатура/{D}Наименование"), "test line")
        self.assertEqual(goods.findtext(f"{D}ЕдиницаИзмерения/{D}ДанныеКлассификатора/{D}Код"), "796")
        self.assertEqual(
            (goods.findtext(f"{D}Количество"), goods.findtext(f"{D}Сумма"), goods.findtext(f"{D}СуммаНДС")),
            ("1.000", "1000.00", "120.00"),
        )
        services = [
            (
                row.findtext(f"{D}Количество"),
                row.findtext(f"{D}Сумма"),
                row.findtext(f"{D}Цена"),
                row.findtext(f"{D}СтавкаНДС"),
            )
            for row in document.findall(f"{D}Услуги/{D}Строка")
        ]
        self.assertEqual(services, [("3.000", "0.30", "0.10", "БезНДС"), ("1.000", "0.00", "0.00", "БезНДС")])
        self.assertEqual(json.loads(log.response_payload)["vat_rates_sent_as_amount_only"], ["12%"])
        self.assertEqual(move.crm_exchange_count, 1)

    def test_push_contract_and_credit_note(self):
        self.env["crm.contract"].create(
            {
                "partner_id": self.customer.id,
                "name": "Д-17/2026",
                "contract_type": "framework",
                "date_start": fields.Date.today() - timedelta(days=30),
                "state": "active",
            }
        )
        invoice = self.invoice(5000.0)
        refund = invoice._reverse_moves([{"invoice_date": fields.Date.today()}])
        refund.action_post()
        self.assertEqual(self.Connector.push_invoice(invoice).state, "done")
        sale = self._document("Документ.РеализацияТоваровУслуг")
        agreement = sale.find(f"{D}ДанныеВзаиморасчетов/{D}Договор")
        self.assertEqual(agreement.findtext(f"{D}Номер"), "Д-17/2026")
        self.assertEqual(agreement.findtext(f"{D}ВидДоговора"), "СПокупателем")
        self.assertEqual(
            STATE.applied[-1].findtext(f"{D}Body/{D}Справочник.Договоры/{D}КлючевыеСвойства/{D}Ссылка"),
            agreement.findtext(f"{D}Ссылка"),
        )
        self.assertEqual(self.Connector.push_invoice(refund).state, "done")
        back = self._document("Документ.ВозвратТоваровОтПокупателя")
        self.assertEqual(back.findtext(f"{D}Сумма"), "5000.00")
        self.assertEqual(
            back.findtext(f"{D}ДокументРеализации/{D}РеализацияТоваровУслугСсылка/{D}Ссылка"), invoice.crm_onec_ref
        )

    def test_only_posted_customer_documents(self):
        draft = self.invoice(100.0, post=False)
        cancelled = self.invoice(100.0, post=False)
        cancelled.button_cancel()
        bill = self.init_invoice("in_invoice", partner=self.customer, invoice_date=fields.Date.today(), amounts=[10.0])
        bill.action_post()
        for move, message in (
            (draft, "is not posted"),
            (cancelled, "is not posted"),
            (bill, "is not a customer invoice"),
        ):
            with self.assertRaisesRegex(UserError, message):
                move.action_onec_push()
        self.assertFalse(STATE.put_calls)

    def test_1c_refuses_an_invalid_object(self):
        """The test double reads like 1C: one invalid object fails the whole message."""
        objects, _notes = self.Connector._objects(self.customer)
        contacts = objects[0].find(f"{D}КонтактнаяИнформация")
        contacts[0].tag = f"{D}СтрокаКонтактнойИнформации"
        client = self.Connector._get_client()
        with self.assertRaisesRegex(
            OneCError, "^1C: Ошибка преобразования данных XDTO: ЧтениеXML: Справочник.Контрагенты"
        ):
            client.put_message("bad-file", ed.build_message({"from": "CRM", "message_no": 99}, objects))
        self.assertEqual(len(STATE.rejected), 1)
        self.assertFalse(STATE.applied)

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(
        name=st.text(min_size=0, max_size=300),
        amount=st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.decimals(allow_nan=False, allow_infinity=False, places=4),
        ),
        quantity=st.one_of(st.floats(min_value=-1e6, max_value=1e18), st.integers(min_value=0, max_value=10**20)),
    )
    def test_fuzz_invoice_content(self, name, amount, quantity):
        """Any names and amounts: a message 1C reads, or a clear error before anything is sent."""
        line = {"name": name, "quantity": quantity, "amount": amount, "price": amount, "vat_rate": 12, "amount_tax": 0}
        values = {
            "ref": ed.ref_of("fuzz"),
            "date": datetime(2026, 11, 30, 10, 0),
            "number": name[:20] or "1",
            "organization": {"name": name or "ТОО"},
            "currency": {"code": 398, "name": "KZT"},
            "amount_total": amount,
            "partner": {"name": name or "ТОО", "inn": "950140009013", "is_company": True},
            "lines": [line, dict(line, service=True)],
        }
        try:
            message = ed.build_message({"from": "CRM", "message_no": 1}, [ed.sale(values)])
        except ed.FormatError as error:
            self.assertTrue(str(error))
            return
        self.assertIsNone(onec_server.read_like_1c(message))
        sale = ed.read_sale(ed.read_message(message)[1][0][1])
        self.assertEqual(sale["amount_total"], ed.decimal(amount))

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

    def test_no_password_over_plain_http_no_userinfo_in_errors(self):
        with self.assertRaisesRegex(OneCError, "^The 1C password is not sent over plain http to 1c.example.kz"):
            OneCClient("http://1c.example.kz/base/ws/EnterpriseDataExchange_1_0_1_1.1cws", username="Обмен")
        client = OneCClient("https://user:secret@127.0.0.1:9/base/ws/EnterpriseDataExchange_1_0_1_1.1cws", timeout=2)
        with self.assertRaises(OneCError) as caught:
            client.ping()
        self.assertTrue(str(caught.exception).startswith("Cannot connect to 1C at https://127.0.0.1:9/base/ws/"))
        self.assertNotIn("secret", str(caught.exception))

    def test_format_version_it_cannot_read(self):
        message = onec_server.message_from_1c(1, 0, []).replace(b"EnterpriseData/1.8<", b"EnterpriseData/1.11<")
        STATE.outgoing = zip_single("Message.xml", message)
        log = self.pull_committed()
        self.assertEqual(log.state, "failed")
        self.assertEqual(
            log.error_message,
            "Format http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.11 cannot be read: this adapter "
            "reads EnterpriseData 1.8 (http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8)",
        )
        self.assertIn("EnterpriseData/1.11", log.request_payload, "the message is kept")
        self.assertFalse(STATE.confirmed)

    def test_format_version_per_system(self):
        """The version is configured per exchange system (1.8 by default, among the versions the suite
        reads); outgoing messages list what the suite reads; a system set to a version the suite
        cannot read journals a clear error and confirms nothing."""
        self.assertEqual(self.system.format_version, "1.8")
        self.assertEqual(
            self.env["crm.exchange.system"]._fields["format_version"].get_values(self.env), list(ed.SUPPORTED_VERSIONS)
        )
        header, _objects = ed.read_message(self.Connector._message(1, []))
        self.assertEqual(header["versions"], ["1.8"])
        self.env.cr.execute(
            SQL("UPDATE crm_exchange_system SET format_version = %s WHERE id = %s", "1.11", self.system.id)
        )
        self.system.invalidate_recordset(["format_version"])
        STATE.outgoing = zip_single("Message.xml", onec_server.message_from_1c(1, 0, []))
        log = self.pull_committed()
        self.assertEqual(log.state, "failed")
        self.assertEqual(
            log.error_message,
            "The exchange system 1C (test) is set to EnterpriseData 1.11, which this suite cannot read: it reads 1.8.",
        )
        self.assertFalse(STATE.confirmed)

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
    def _organization(self):
        return {"name": self.env.company.name, "inn": False}

    def _payment(self, ref, amount, invoice=None, currency=("840", "USD"), inn="950140009013", days_ago=0, rows=None):
        """Документ.ПБДСРасчетыСКонтрагентами as 1C writes it."""
        moment = datetime.combine(self.days_ago(days_ago), datetime.min.time()).replace(hour=11, minute=5)
        return ed.payment(
            {
                "ref": ref,
                "date": moment,
                "number": f"0000-{ref[:6]}",
                "organization": self._organization(),
                "currency": {"code": currency[0], "name": currency[1]},
                "amount": amount,
                "partner": {"ref": None, "name": "ТОО «МашСтрой»", "inn": inn, "is_company": True},
                "rows": rows
                or [
                    {
                        "amount": amount,
                        "document": invoice
                        and {"ref": invoice.crm_onec_ref, "number": invoice.name, "date": invoice.invoice_date},
                    }
                ],
            }
        )

    def _machine_line(self):
        """A goods row of 1C's sale: one machine for 100.00, no VAT."""
        return {
            "name": "Станок",
            "quantity": 1,
            "amount": Decimal("100.00"),
            "price": Decimal("100.00"),
            "vat_rate": None,
        }

    def _from_1c(self, *objects):
        """Objects registered in 1C for the CRM node (sent until the CRM confirms them)."""
        STATE.pool.extend((node, 0) for node in objects)

    def _children(self, log, operation=None):
        domain = [("correlation_id", "=", log.correlation_id), ("id", "!=", log.id)]
        if operation:
            domain.append(("operation", "=", operation))
        return self.Log.search(domain, order="id")

    def test_pull_payment_in_parts_then_confirmed(self):
        invoice = self.invoice(300000.0, days_ago=10)
        other = self.invoice(1000.0, days_ago=5)
        self._from_1c(self._payment("a1b2c3d4-0000-4000-8000-000000000001", 300000, invoice))
        STATE.outgoing_part_size = 200
        log = self.pull_committed()
        self.assertEqual(log.state, "done", log.error_message)
        self.assertGreater(len(next(iter(STATE.files.values()))), 1, "the file came in several parts")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(other.amount_residual, 1000.0)
        payment = self.env["account.payment"].search([("crm_onec_ref", "=", "a1b2c3d4-0000-4000-8000-000000000001")])
        self.assertEqual((payment.amount, payment.partner_id, payment.date), (300000.0, self.customer, self.today))
        self.assertEqual(len(STATE.confirmed), 1, "the file is confirmed")
        self.assertFalse(STATE.pool, "1C got ReceivedNo 1 and cleared what it had registered")
        self.assertEqual(STATE.received_no, 1 + STATE.received_no - 1)
        child = self._children(log, "onec_payment")
        self.assertEqual((child.state, child.res_model, child.res_id), ("done", "account.payment", payment.id))
        self.assertEqual(json.loads(log.response_payload)["applied"], 1)
        # nothing more to get
        self.assertEqual(json.loads(self.pull_committed().response_payload), {"file": None})

    def test_payment_resent_under_a_new_number_applied_once(self):
        invoice = self.invoice(1000.0)
        node = self._payment("a1b2c3d4-0000-4000-8000-000000000002", 1000, invoice)
        self._from_1c(node)
        self.pull_committed()
        # 1C did not get the confirmation (lost): it sends the same object in message 2
        self._from_1c(node)
        log = self.pull_committed()
        self.assertEqual(STATE.sent_no, 2)
        self.assertEqual(json.loads(log.response_payload)["header"]["message_no"], 2)
        self.assertEqual(self._children(log, "onec_payment").response_payload.count("already applied"), 1)
        self.assertEqual(
            self.env["account.payment"].search_count([("crm_onec_ref", "=", "a1b2c3d4-0000-4000-8000-000000000002")]), 1
        )
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_payment_dated_yesterday_pulled_today(self):
        invoice = self.invoice(700.0, days_ago=3)
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_exchange_log.onec_last_pull", fields.Datetime.to_string(fields.Datetime.now())
        )
        self._from_1c(self._payment("a1b2c3d4-0000-4000-8000-000000000003", 700, invoice, days_ago=1))
        log = self.pull_committed(cron=True)
        self.assertEqual(log.state, "done", log.error_message)
        self.assertEqual(invoice.amount_residual, 0.0)
        payment = self.env["account.payment"].search([("crm_onec_ref", "=", "a1b2c3d4-0000-4000-8000-000000000003")])
        self.assertEqual(payment.date, self.days_ago(1))

    def test_poison_object_in_the_middle_then_retried(self):
        first, third = self.invoice(100.0), self.invoice(300.0)
        missing = {"ref": "f0000000-0000-4000-8000-00000000dead", "number": "НЕТ-ТАКОГО", "date": self.today}
        self._from_1c(
            self._payment("b0000000-0000-4000-8000-000000000001", 100, first),
            self._payment("b0000000-0000-4000-8000-000000000002", 200, rows=[{"amount": 200, "document": missing}]),
            self._payment("b0000000-0000-4000-8000-000000000003", 300, third),
        )
        log = self.pull_committed()
        self.assertEqual(log.state, "done", log.error_message)
        self.assertEqual((first.amount_residual, third.amount_residual), (0.0, 0.0))
        children = self._children(log, "onec_payment")
        self.assertEqual(children.mapped("state"), ["done", "failed", "done"])
        failed = children[1]
        self.assertEqual(
            failed.error_message,
            f"No posted document НЕТ-ТАКОГО of {self.env.company.name} for the payment 0000-b00000 from 1C",
        )
        self.assertIn("b0000000-0000-4000-8000-000000000002", failed.request_payload)
        self.assertEqual(len(STATE.confirmed), 1, "confirmed: every object is applied or journaled")
        self.assertEqual(json.loads(log.response_payload)["failed"], 1)
        # the document arrives, the integrator retries the object from its payload
        late = self.invoice(200.0)
        late.crm_onec_ref = "f0000000-0000-4000-8000-00000000dead"
        failed.action_retry()
        self.assertEqual((failed.state, failed.attempt_count, failed.res_model), ("done", 2, "account.payment"))
        self.assertEqual(late.amount_residual, 0.0)

    def test_payment_checks_currency_counterparty_company(self):
        invoice = self.invoice(500.0)
        self._from_1c(
            self._payment("c0000000-0000-4000-8000-000000000001", 500, invoice, currency=("978", "EUR")),
            self._payment("c0000000-0000-4000-8000-000000000002", 500, invoice, inn="971240001315"),
        )
        log = self.pull_committed()
        errors = self._children(log, "onec_payment").mapped("error_message")
        self.assertEqual(
            errors,
            [
                f"The payment 0000-c00000 is in EUR but {invoice.name} is in USD",
                f"The payment 0000-c00000 is from INN/BIN 971240001315 but {invoice.name} belongs to ТОО «МашСтрой»",
            ],
        )
        self.assertEqual(invoice.amount_residual, 500.0)
        self.assertFalse(self.env["account.payment"].search([("crm_onec_ref", "like", "c0000000-")]))

    def test_two_companies_with_the_same_invoice_numbers(self):
        other = self.setup_other_company(name="ТОО «Вторая»")["company"]
        here = self.invoice(400.0)
        there = self.init_invoice(
            "out_invoice", partner=self.customer, invoice_date=self.today, amounts=[400.0], company=other
        )
        there.action_post()
        there.name = here.name
        self._from_1c(
            self._payment(
                "d0000000-0000-4000-8000-000000000001",
                400,
                rows=[{"amount": 400, "document": {"ref": None, "number": here.name, "date": self.today}}],
            )
        )
        self.pull_committed()
        self.assertEqual((here.amount_residual, there.amount_residual), (0.0, 400.0))

    def test_overpayment_stays_as_credit(self):
        invoice = self.invoice(1000.0)
        self._from_1c(self._payment("e0000000-0000-4000-8000-000000000001", Decimal("1500.50"), invoice))
        log = self.pull_committed()
        child = self._children(log, "onec_payment")
        self.assertEqual(child.state, "done", child.error_message)
        self.assertEqual(invoice.amount_residual, 0.0)
        payment = self.env["account.payment"].search([("crm_onec_ref", "=", "e0000000-0000-4000-8000-000000000001")])
        self.assertEqual(payment.amount, 1500.5, "the payment is not cut to the invoice")
        self.assertEqual(json.loads(child.response_payload)["unapplied"], 500.5)
        self.assertEqual(self.customer.crm_debt, -500.5, "an outstanding credit of the customer")

    def _sale(self, ref, number, lines, days_ago=0, kind=ed.SALE, partner=None, origin=None):
        values = {
            "ref": ref,
            "date": datetime.combine(self.days_ago(days_ago), datetime.min.time()).replace(hour=9),
            "number": number,
            "organization": self._organization(),
            "currency": {"code": "840", "name": "USD"},
            "amount_total": sum(line["amount"] for line in lines),
            "price_include": True,
            "partner": partner
            or {
                "ref": "aaaa0000-0000-4000-8000-000000000001",
                "name": "ТОО «Новый»",
                "inn": "971240001315",
                "is_company": True,
            },
            "lines": lines,
            "origin": origin,
        }
        return (ed.sale if kind == ed.SALE else ed.sale_return)(values)

    def test_sales_made_in_1c_reach_the_card(self):
        goods = {
            "name": "Станок ТВ-4",
            "quantity": 2,
            "amount": Decimal("5000.00"),
            "price": Decimal("2500.00"),
            "vat_rate": None,
            "uom_code": "796",
            "uom_name": "шт",
        }
        service = {
            "name": "Пусконаладка",
            "service": True,
            "quantity": 3,
            "amount": Decimal("1000.00"),
            "price": Decimal("333.33"),
            "vat_rate": None,
        }
        sale = self._sale("aaaa0000-0000-4000-8000-0000000000a1", "0000-000042", [goods, service], days_ago=40)
        back = self._sale(
            "aaaa0000-0000-4000-8000-0000000000a2",
            "0000-000007",
            [dict(goods, quantity=1, amount=Decimal("2500.00"))],
            days_ago=20,
            kind=ed.SALE_RETURN,
            origin={"ref": "aaaa0000-0000-4000-8000-0000000000a1", "number": "0000-000042", "date": self.days_ago(40)},
        )
        self._from_1c(sale, back)
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.onec_auto_push", "1")
        with trap_jobs() as trap:
            log = self.pull_committed()
            trap.assert_jobs_count(0)  # what 1C made does not go back to 1C
        self.assertEqual(log.state, "done", log.error_message)
        self.assertEqual(
            self._children(log, "onec_sale").mapped("state"),
            ["done", "done"],
            self._children(log, "onec_sale").mapped("error_message"),
        )
        partner = self.env["res.partner"].search([("crm_bin", "=", "971240001315")])
        self.assertEqual((partner.name, partner.crm_onec_ref), ("ТОО «Новый»", "aaaa0000-0000-4000-8000-000000000001"))
        moves = self.env["account.move"].search([("partner_id", "=", partner.id)], order="move_type")
        self.assertEqual(moves.mapped("move_type"), ["out_invoice", "out_refund"])
        self.assertEqual(moves.mapped("state"), ["posted", "posted"])
        self.assertEqual(moves.journal_id.code, "1C")
        self.assertEqual(moves.mapped("amount_total"), [6000.0, 2500.0])
        self.assertEqual(moves[0].invoice_date, self.days_ago(40))
        self.assertEqual(moves[0].ref, "0000-000042")
        self.assertEqual((partner.crm_ltv, partner.crm_order_count), (3500.0, 1))
        with self.assertRaisesRegex(UserError, "was made in 1C: it is not sent back"):
            moves[0].action_onec_push()
        # sent again (not confirmed): the same documents, unchanged
        self._from_1c(sale)
        log = self.pull_committed()
        self.assertIn("unchanged", self._children(log, "onec_sale").response_payload)
        self.assertEqual(self.env["account.move"].search_count([("partner_id", "=", partner.id)]), 2)
        # a payment of the 1C sale closes it
        self._from_1c(
            self._payment(
                "aaaa0000-0000-4000-8000-0000000000a3",
                3500,
                inn="971240001315",
                rows=[
                    {
                        "amount": 3500,
                        "document": {
                            "ref": "aaaa0000-0000-4000-8000-0000000000a1",
                            "number": "0000-000042",
                            "date": self.days_ago(40),
                        },
                    }
                ],
            )
        )
        self.pull_committed()
        self.assertEqual(moves[0].amount_residual, 2500.0)
        # deleted in 1C: the payment and the return are cancelled, the sale is open again
        self._from_1c(
            ed.deletion("ПБДСРасчетыСКонтрагентамиСсылка", "aaaa0000-0000-4000-8000-0000000000a3"),
            ed.deletion("ВозвратТоваровОтПокупателяСсылка", "aaaa0000-0000-4000-8000-0000000000a2"),
        )
        log = self.pull_committed()
        self.assertEqual(self._children(log, "onec_deletion").mapped("state"), ["done", "done"])
        self.assertEqual(moves.mapped("state"), ["posted", "cancel"])
        self.assertEqual(moves[0].amount_residual, 6000.0)
        partner.invalidate_recordset()
        self.assertEqual(partner.crm_ltv, 6000.0)

    def test_unposted_in_1c_then_posted_again(self):
        """EnterpriseData has no posting flag: 1C sends an unposted document as УдалениеОбъекта and the
        whole document again when it is posted again; the mirror follows, once per message."""
        line = {"name": "Станок", "quantity": 2, "amount": Decimal("6000.00"), "price": Decimal("3000.00")}
        sale_ref, payment_ref = "dddd0000-0000-4000-8000-0000000000d1", "dddd0000-0000-4000-8000-0000000000d2"
        sale = self._sale(sale_ref, "0000-000314", [dict(line, vat_rate=None)], days_ago=30)
        payment = self._payment(
            payment_ref,
            3500,
            inn="971240001315",
            days_ago=10,
            rows=[{"amount": 3500, "document": {"ref": sale_ref, "number": "0000-000314", "date": self.days_ago(30)}}],
        )
        self._from_1c(sale, payment)
        self.pull_committed()
        partner = self.env["res.partner"].search([("crm_bin", "=", "971240001315")])
        move = self.env["account.move"].search([("crm_onec_ref", "=", sale_ref)])
        mirror = self.env["account.payment"].search([("crm_onec_ref", "=", payment_ref)])

        def figures():
            partner.invalidate_recordset()
            move.invalidate_recordset()
            mirror.invalidate_recordset()
            return partner.crm_ltv, partner.crm_order_count, partner.crm_debt, move.amount_residual, mirror.state

        def pull(*objects):
            self._from_1c(*objects)
            log = self.pull_committed()
            children = self._children(log).filtered(lambda child: child.operation != "pull_payments")
            self.assertEqual(children.mapped("state"), ["done"] * len(objects), children.mapped("error_message"))
            return [json.loads(child.response_payload)["result"] for child in children]

        self.assertEqual(figures(), (6000.0, 1, 2500.0, 2500.0, "in_process"))
        # the payment unposted in 1C: cancelled, the sale open again; twice the same: nothing more
        unposted = ed.deletion("ПБДСРасчетыСКонтрагентамиСсылка", payment_ref)
        self.assertEqual(pull(unposted), ["cancelled"])
        self.assertEqual(figures(), (6000.0, 1, 6000.0, 6000.0, "canceled"))
        self.assertEqual(pull(unposted), ["cancelled"])
        self.assertEqual(figures(), (6000.0, 1, 6000.0, 6000.0, "canceled"))
        # posted again in 1C: the same payment restored and reconciled again; sent again: applied once
        self.assertEqual(pull(payment), ["restored"])
        self.assertEqual(figures(), (6000.0, 1, 2500.0, 2500.0, "in_process"))
        self.assertEqual(pull(payment), ["already applied"])
        self.assertEqual(self.env["account.payment"].search_count([("crm_onec_ref", "like", "dddd0000-")]), 1)
        self.assertEqual(figures(), (6000.0, 1, 2500.0, 2500.0, "in_process"))
        # the sale unposted in 1C: no sale, the payment stays as the customer's credit
        self.assertEqual(pull(ed.deletion("РеализацияТоваровУслугСсылка", sale_ref)), ["cancelled"])
        self.assertEqual(figures(), (0.0, 0, -3500.0, 6000.0, "in_process"))
        self.assertEqual(move.state, "cancel")
        # posted again in 1C (now for 7,000): the same invoice restored with 1C's figures, and
        # matched again with the payment that names it
        sale = self._sale(sale_ref, "0000-000314", [dict(line, amount=Decimal("7000.00"), vat_rate=None)], days_ago=30)
        self.assertEqual(pull(sale), ["restored"])
        self.assertEqual(self.env["account.move"].search_count([("crm_onec_ref", "=", sale_ref)]), 1)
        self.assertEqual((move.state, move.amount_total), ("posted", 7000.0))
        self.assertEqual(figures(), (7000.0, 1, 3500.0, 3500.0, "in_process"))
        self.assertEqual(mirror.crm_onec_document_id, move)
        self.assertEqual(mirror.reconciled_invoice_ids, move)
        self.assertEqual(pull(sale), ["unchanged"])
        self.assertEqual(figures(), (7000.0, 1, 3500.0, 3500.0, "in_process"))
        # changed in 1C while posted (6,500): updated, and the payment matched again, once
        sale = self._sale(sale_ref, "0000-000314", [dict(line, amount=Decimal("6500.00"), vat_rate=None)], days_ago=30)
        self.assertEqual(pull(sale), ["updated"])
        self.assertEqual(figures(), (6500.0, 1, 3000.0, 3000.0, "in_process"))
        self.assertEqual(len(move.line_ids.matched_credit_ids), 1)

    def test_initial_sync_in_files_resumed_after_a_crash(self):
        invoices = [self.invoice(100.0 * (index + 1), days_ago=400 - index) for index in range(5)]
        self._from_1c(
            *(
                self._payment(f"10000000-0000-4000-8000-00000000000{index}", 100 * (index + 1), invoice)
                for index, invoice in enumerate(invoices)
            )
        )
        STATE.max_objects = 2
        Connector = type(self.Connector)
        apply_payments, batches = Connector._apply_payments_batch, []

        def crash_in_the_second_file(connector, company, nodes, payments=None):
            batches.append(len(nodes))
            if len(batches) == 2:
                raise psycopg2.OperationalError("server closed the connection unexpectedly")
            return apply_payments(connector, company, nodes, payments)

        with patch.object(Connector, "_apply_payments_batch", autospec=True, side_effect=crash_in_the_second_file):
            logs = self.Connector.action_initial_sync()
        self.assertEqual(logs.mapped("state"), ["done", "failed"], "stopped by the crash in the second file")
        self.assertEqual([move.amount_residual for move in invoices], [0.0, 0.0, 300.0, 400.0, 500.0])
        self.assertEqual(len(STATE.confirmed), 1, "the first file only: committed, then confirmed")
        self.assertEqual(self.commits, 3, "each file committed, and the journal of the confirmation")
        # resumed: 1C sends again what was not confirmed (under new numbers); nothing twice
        logs = self.Connector.action_initial_sync()
        self.assertEqual(logs.mapped("state"), ["done", "done", "done"])
        self.assertEqual(json.loads(logs[-1].response_payload), {"file": None})
        self.assertEqual([move.amount_residual for move in invoices], [0.0] * 5)
        self.assertEqual(self.env["account.payment"].search_count([("crm_onec_ref", "like", "10000000-")]), 5)
        self.assertFalse(STATE.pool)
        self.assertEqual(len(STATE.confirmed), 3)

    def test_objects_applied_one_by_one_journaled_together_in_order(self):
        """A batch applied object by object (a poison one among them) is journaled in 1C's order, the
        applied ones gathered in as few INSERTs as the failures allow."""
        invoices = [self.invoice(100.0 * (index + 1)) for index in range(4)]
        missing = {"ref": "f0000000-0000-4000-8000-00000000beef", "number": "НЕТ-ТАКОГО", "date": self.today}
        payments = [
            self._payment(f"40000000-0000-4000-8000-00000000000{index}", 100 * (index + 1), invoice)
            for index, invoice in enumerate(invoices)
        ]
        poison = self._payment("40000000-0000-4000-8000-000000000009", 50, rows=[{"amount": 50, "document": missing}])
        self._from_1c(payments[0], payments[1], poison, payments[2], payments[3])
        Log = type(self.Log)
        with patch.object(Log, "_insert_journal_rows", autospec=True, side_effect=Log._insert_journal_rows) as insert:
            log = self.pull_committed()
        children = self._children(log, "onec_payment")
        self.assertEqual(children.mapped("state"), ["done", "done", "failed", "done", "done"])
        self.assertEqual([invoice.amount_residual for invoice in invoices], [0.0] * 4)
        sizes = [len(call.args[1]) for call in insert.call_args_list]
        self.assertEqual(sizes, [2, 2], "two before the poison one, two after it")

    def test_file_confirmed_to_1c_only_once_committed(self):
        """1C clears what it registered when it gets ReceivedNo: that is sent after the commit of what
        was applied, never before; a rollback leaves 1C sending the same objects again."""
        invoice = self.invoice(1000.0)
        other = self.invoice(2000.0)
        self._from_1c(self._payment("20000000-0000-4000-8000-000000000001", 1000, invoice))
        log = self.Connector.pull_payments()
        self.assertEqual((log.state, invoice.amount_residual), ("done", 0.0))
        self.assertEqual((STATE.confirmed, STATE.received_no, len(STATE.pool)), ([], 0, 1), "not before the commit")
        self._commit()
        receipt = self.Log.search([("operation", "=", "confirm_receipt")])
        self.assertEqual((receipt.state, receipt.direction), ("done", "out"))
        receipt_no = json.loads(receipt.request_payload)["receipt_no"]
        self.assertEqual((len(STATE.confirmed), STATE.received_no, STATE.pool), (1, receipt_no, []))
        # applied, then rolled back (what a crash does before the commit): nothing told to 1C
        self._from_1c(self._payment("20000000-0000-4000-8000-000000000002", 2000, other))
        with self.env.cr.savepoint() as savepoint:
            self.Connector.pull_payments()
            self.assertEqual(other.amount_residual, 0.0)
            savepoint.rollback()
            self.env.cr.postcommit.clear()  # as Cursor.rollback
        self.env.invalidate_all()
        self.assertEqual((other.amount_residual, len(STATE.confirmed), len(STATE.pool)), (2000.0, 1, 1))
        # 1C sends it again: applied once
        self.pull_committed()
        self.assertEqual((other.amount_residual, len(STATE.confirmed), STATE.pool), (0.0, 2, []))
        self.assertEqual(self.env["account.payment"].search_count([("crm_onec_ref", "like", "20000000-")]), 2)

    def test_first_load_committed_step_by_step(self):
        """The first load commits each step: the journal shows it at once and a crash loses only
        the step in progress; the file is confirmed after the last commit."""
        line = self._machine_line()
        self._from_1c(
            *(
                self._sale(f"30000000-0000-4000-8000-00000000000{index}", f"0000-00030{index}", [line])
                for index in range(5)
            )
        )
        module = "odoo.addons.crm_exchange_log.models.crm_onec_connector"
        steps = []

        def commit():
            steps.append(self.env["account.move"].search_count([("crm_onec_ref", "like", "30000000-")]))
            self._commit()

        with patch(f"{module}.BATCH_SIZE", 2), patch.object(self.env.cr, "commit", commit):
            logs = self.Connector.action_initial_sync()
        self.assertEqual(logs.mapped("state"), ["done", "done"])
        self.assertEqual(
            steps,
            [2, 4, 5, 5, 5],
            "two steps of two sales, the file, the journal of its confirmation, the empty answer",
        )
        self.assertEqual(len(STATE.confirmed), 1)
        self.assertFalse(STATE.pool)

    def test_sales_in_a_batch_and_a_poison_one(self):
        line = self._machine_line()
        sales = [
            self._sale(f"bbbb0000-0000-4000-8000-00000000000{index}", f"0000-00010{index}", [line])
            for index in range(4)
        ]
        self._from_1c(*sales)
        Connector = type(self.Connector)
        with patch.object(Connector, "_apply_object", autospec=True, side_effect=Connector._apply_object) as one_by_one:
            log = self.pull_committed()
        self.assertFalse(one_by_one.called, "created and posted together")
        children = self._children(log, "onec_sale")
        self.assertEqual(children.mapped("state"), ["done"] * 4, "one batch")
        self.assertEqual(len(set(children.mapped("res_id"))), 4)
        # their payments, in a batch too; the second pays half, the fourth twice
        moves = self.env["account.move"].browse(children.mapped("res_id"))
        self._from_1c(
            *(
                self._payment(
                    f"bbbb1111-0000-4000-8000-00000000000{index}",
                    amount,
                    inn="971240001315",
                    rows=[
                        {
                            "amount": amount,
                            "document": {"ref": move.crm_onec_ref, "number": move.ref, "date": self.today},
                        }
                    ],
                )
                for index, (move, amount) in enumerate(zip(moves, (100, 50, 100, 200), strict=True))
            )
        )
        with patch.object(Connector, "_apply_object", autospec=True, side_effect=Connector._apply_object) as one_by_one:
            log = self.pull_committed()
        self.assertFalse(one_by_one.called, "created, posted and reconciled together")
        self.assertEqual(self._children(log, "onec_payment").mapped("state"), ["done"] * 4)
        self.assertEqual(moves.mapped("amount_residual"), [0.0, 50.0, 0.0, 0.0])
        # the customer follows its documents, as when they are posted one by one (subscribed per chunk)
        payment_moves = self.env["account.payment"].search([("crm_onec_ref", "like", "bbbb1111-")]).move_id
        self.assertEqual(len(payment_moves), 4)
        for move in moves | payment_moves:
            self.assertEqual(move.message_partner_ids, move.partner_id, move.name)
        self.assertEqual(json.loads(self._children(log, "onec_payment")[3].response_payload)["unapplied"], 100.0)
        # the same with one document whose total is not its lines': it alone fails
        sales = [
            self._sale(f"cccc0000-0000-4000-8000-00000000000{index}", f"0000-00020{index}", [line])
            for index in range(3)
        ]
        sales[1].find(f"{D}Сумма").text = "999.00"
        self._from_1c(*sales)
        with patch.object(Connector, "_apply_object", autospec=True, side_effect=Connector._apply_object) as one_by_one:
            log = self.pull_committed()
        self.assertEqual(one_by_one.call_count, 3, "the batch failed: applied object by object")
        children = self._children(log, "onec_sale")
        self.assertEqual(children.mapped("state"), ["done", "failed", "done"])
        self.assertEqual(
            children[1].error_message, "The document 0000-000201 of 1C totals 999.00 but its lines add up to 100.0"
        )
        self.assertEqual(
            self.env["account.move"].search_count([("crm_onec_ref", "like", "cccc0000-")]), 2, "nothing half-written"
        )
        for move in self.env["account.move"].browse(children.mapped("res_id")):
            self.assertEqual(move.message_partner_ids, move.partner_id, "one by one: subscribed on posting")

    def test_unknown_object_types_are_counted(self):
        node = etree.Element(f"{D}Справочник.Номенклатура")
        etree.SubElement(etree.SubElement(node, f"{D}КлючевыеСвойства"), f"{D}Наименование").text = "Станок"
        self._from_1c(node, node)
        log = self.pull_committed()
        self.assertEqual(json.loads(log.response_payload)["not_mapped"], {"Справочник.Номенклатура": 2})

    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        st.one_of(
            st.binary(max_size=200),
            st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
            st.sampled_from(
                [
                    b"<Message/>",
                    b"<Message><Header/></Message>",
                    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e "x">]><Message>&e;</Message>',
                ]
            ),
            st.tuples(
                st.sampled_from(["Сумма", "Дата", "ВидРасчетов", "Ссылка"]),
                st.one_of(
                    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
                    st.sampled_from(["1e400", "-0", "9" * 40, "NaN", "2026-13-40"]),
                ),
            ),
        )
    )
    def test_fuzz_pull_journals_failures(self, content):
        """Whatever 1C sends, the pull ends in the journal: a failed object (or a failed pull
        with the message kept), never an exception and never a half-written payment."""
        STATE.reset()
        invoice = self.invoice(100.0)
        if isinstance(content, tuple):
            tag, value = content
            node = self._payment(str(uuid.uuid4()), 100, invoice)
            for found in node.iter(f"{D}{tag}"):
                found.text = value
            message = onec_server.message_from_1c(1, 0, [node])
        else:
            message = content
        STATE.outgoing = zip_single("Message.xml", message)
        count = self.env["account.payment"].search_count([])
        log = self.pull_committed()
        self.assertIn(log.state, ("done", "failed"))
        if log.state == "failed":
            self.assertTrue(log.error_message)
            self.assertFalse(STATE.confirmed, "1C sends it again")
        else:
            children = self._children(log, "onec_payment")
            if children.state == "failed":
                self.assertTrue(children.request_payload)
        paid = self.env["account.payment"].search_count([]) - count
        self.assertEqual(paid, 0 if invoice.amount_residual else 1)

    def test_zip_bomb_refused(self):
        STATE.outgoing = onec_server.zip_bomb(60 * 1024 * 1024)
        STATE.outgoing_part_size = 1024 * 1024
        log = self.pull_committed()
        self.assertEqual(log.state, "failed")
        self.assertIn("is refused: Zip archive refused", log.error_message)
        self.assertFalse(STATE.confirmed)


@tagged("post_install", "-at_install")
class TestHardenedParsing(CrmKpiCommon):
    def test_parser_reads_redeclared_namespaces_in_linear_time(self):
        """Objects that each declare their namespace (as an XML writer may write every object of
        a message) cost libxml2 2.12 quadratic time: 100,000 sales took a quarter of an hour to
        read. requirements.txt pins lxml 5.4.0, whose libxml2 2.13 reads them in linear time."""
        self.assertGreaterEqual(etree.LIBXML_VERSION, (2, 13))
        objects = "".join(
            f'<ns0:Справочник.Контрагенты xmlns:ns0="{DATA_NS}"><ns0:КлючевыеСвойства><ns0:Ссылка>{n}</ns0:Ссылка>'
            "</ns0:КлючевыеСвойства></ns0:Справочник.Контрагенты>"
            for n in range(3)
        )
        header = onec_server.message_from_1c(1, 0, []).split(b"<Body")[0].split(b"?>", 1)[1].decode()
        data = f'<?xml version="1.0"?>{header}<Body xmlns="{DATA_NS}">{objects}</Body></Message>'.encode()
        items = ed.iter_message(io.BytesIO(data))
        next(items)
        self.assertEqual([kind for kind, _node in items], ["Справочник.Контрагенты"] * 3)

    def test_dtd_and_entities_refused(self):
        for data in (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>',
            b'<!DOCTYPE r SYSTEM "http://example.com/r.dtd"><r/>',
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>',
        ):
            with self.assertRaises(UnsafeContentError):
                parse_xml(data)

    def test_message_stream_hardened(self):
        """The streaming reader of 1C's messages refuses DTDs and entities as parse_xml does."""
        body = f'<Body xmlns="{DATA_NS}"><Справочник.Контрагенты>&e;</Справочник.Контрагенты></Body>'
        header = onec_server.message_from_1c(1, 0, []).split(b"<Body")[0].split(b"?>", 1)[1].decode()
        for data in (
            '<?xml version="1.0"?><!DOCTYPE Message [<!ENTITY e "x">]>' + header + body + "</Message>",
            '<!DOCTYPE Message [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + header + body + "</Message>",
            '<!DOCTYPE Message SYSTEM "http://example.com/m.dtd">' + header + "</Message>",
        ):
            with self.assertRaises(UnsafeContentError):
                ed.read_message(data.encode())
        with self.assertRaisesRegex(ed.FormatError, "root is Envelope"):
            ed.read_message(b"<Envelope/>")
        with self.assertRaisesRegex(UnsafeContentError, "not well-formed"):
            ed.read_message(onec_server.message_from_1c(1, 0, [])[:-20])
        header, objects = ed.read_message(onec_server.message_from_1c(7, 3, []))
        self.assertEqual((header["message_no"], header["received_no"], objects), (7, 3, []))
        self.assertEqual(header["versions"], ["1.8", "1.10", "1.11"])

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
