import base64
import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..services import sales_history as sh

CSV_ROWS = [
    "Контрагент;ИНН/БИН;Номер документа;Дата;Сумма;Валюта;Оплачено;Дата оплаты",
    "ТОО «Импорт»;971240001315;Р-1;15.01.2024;1 000,50;{currency};1000,50;20.01.2024",
    "ТОО «Импорт»;9712 4000 1315;Р-2;01.02.2024;2000;;500;",
    ";971240001316;Р-3;01.02.2024;100;;;",
    "ТОО «Импорт»;971240001315;Р-4;31.02.2024;100;;;",
    "ТОО «Импорт»;971240001315;Р-5;01.03.2024;-5;;;",
    "ТОО «Импорт»;971240001315;Р-6;01.03.2024;100;XYZ;;",
    "ТОО «Импорт»;971240001315;Р-7;01.03.2024;100;;150;",
    ";;Р-8;01.03.2024;100;;;",
    ";7707083893;Р-9;01.03.2024;100;;;",
]


@tagged("post_install", "-at_install")
class TestSalesHistoryImport(TransactionCase):
    """The "Import sales history" wizard: columns guessed from the headers, a dry run listing every
    bad row, documents mirrored once in the history journal with their payments."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id
        cls.Wizard = cls.env["crm.sales.history.import"]
        cls.integrator = new_test_user(
            cls.env,
            "history_integrator",
            groups="crm_exchange_log.group_exchange_integrator,account.group_account_invoice",
        )
        cls.salesman = new_test_user(cls.env, "history_salesman", groups="sales_team.group_sale_salesman_all_leads")

    def _csv(self, encoding="cp1251"):
        return "\r\n".join(CSV_ROWS).format(currency=self.currency.name).encode(encoding)

    def _wizard(self, data, filename, user=None):
        wizard = self.Wizard.with_user(user or self.integrator).create(
            {"data": base64.b64encode(data), "filename": filename, "company_id": self.company.id}
        )
        wizard.action_read_columns()
        return wizard

    def _partner(self, domain):
        partner = self.env["res.partner"].search(domain)
        partner.invalidate_recordset()
        return partner

    def test_csv_dry_run_then_import_twice(self):
        wizard = self._wizard(self._csv(), "history.csv")
        self.assertEqual(
            wizard.column_ids.mapped("field"),
            ["name", "legal_id", "number", "date", "amount", "currency", "paid_amount", "paid_date"],
        )
        self.assertEqual(wizard.row_count, 9)
        wizard.action_dry_run()
        self.assertEqual((wizard.row_count, wizard.error_count), (9, 7))
        self.assertEqual(
            wizard.report.splitlines(),
            [
                "Dry run: 2 row(s) can be imported, 7 row(s) are bad.",
                "Line 4: bad INN/BIN checksum: 971240001316; unknown customer: no INN/BIN match and no name",
                "Line 5: bad date: 31.02.2024",
                "Line 6: negative amount: -5",
                "Line 7: unknown currency: XYZ",
                "Line 8: paid amount 150 exceeds the amount 100",
                "Line 9: unknown customer: no INN/BIN match and no name",
                "Line 10: unknown customer: no INN/BIN match and no name",
            ],
        )
        self.assertFalse(self.env["res.partner"].search_count([("crm_bin", "=", "971240001315")]), "dry run")

        wizard.action_import()
        self.assertEqual(
            wizard.report.splitlines()[0],
            "2 document(s) imported, 0 already imported, 2 payment(s) recorded, 7 bad row(s) skipped.",
        )
        partner = self._partner([("crm_bin", "=", "971240001315")])
        self.assertEqual(partner.name, "ТОО «Импорт»")
        moves = self.env["account.move"].search(
            [("partner_id", "=", partner.id), ("move_type", "=", "out_invoice")], order="invoice_date"
        )
        self.assertEqual([move.journal_id.code for move in moves], ["1C", "1C"])
        self.assertEqual(moves.mapped("state"), ["posted", "posted"])
        self.assertEqual(moves.mapped("crm_onec_ref"), ["import:971240001315:Р-1", "import:971240001315:Р-2"])
        self.assertEqual(moves.mapped("amount_total"), [1000.5, 2000.0])
        self.assertEqual(moves.mapped("amount_residual"), [0.0, 1500.0])
        self.assertEqual(moves.mapped("payment_state"), ["paid", "partial"])
        self.assertEqual((partner.crm_ltv, partner.crm_order_count, partner.crm_debt), (3000.5, 2, 1500.0))

        # the same file again: nothing changes
        again = self._wizard(self._csv("utf-8"), "history.csv")
        again.action_import()
        self.assertEqual(
            again.report.splitlines()[0],
            "0 document(s) imported, 2 already imported, 0 payment(s) recorded, 7 bad row(s) skipped.",
        )
        self.assertEqual(self.env["res.partner"].search_count([("crm_bin", "=", "971240001315")]), 1)
        self.assertEqual(self.env["account.move"].search_count([("partner_id", "=", partner.id)]), 4, "2 + 2 payments")
        self.assertEqual(
            self.env["account.payment"].search_count([("crm_onec_ref", "=like", "import:971240001315:%")]), 2
        )
        partner = self._partner([("id", "=", partner.id)])
        self.assertEqual((partner.crm_ltv, partner.crm_order_count, partner.crm_debt), (3000.5, 2, 1500.0))

    def test_xlsx_with_english_headers(self):
        known = self.env["res.partner"].create({"name": "ООО «Известный»", "is_company": True, "crm_inn": "7707083893"})
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(
            ["Customer name", "INN/BIN", "Document number", "Date", "Amount", "Currency", "Paid amount", "Paid date"]
        )
        sheet.append(["ИП Сидоров", None, "INV-1", datetime(2024, 5, 1), 700, None, 700, datetime(2024, 5, 3)])
        sheet.append(["ИП Сидоров", None, "INV-2", datetime(2024, 6, 1), 300.25, None, None, None])
        sheet.append([None, "7707083893", "INV-3", "2024-06-02", 50, self.currency.name, 0, None])
        # a BIN typed as a number has lost its leading zero
        sheet.append(["ТОО «Нулевой»", 70340010019, "INV-4", "02.06.2024", 80, None, 80, "03.06.2024"])
        stream = io.BytesIO()
        book.save(stream)
        wizard = self._wizard(stream.getvalue(), "history.xlsx")
        wizard.action_dry_run()
        self.assertEqual(wizard.report, "Dry run: 4 row(s) can be imported, 0 row(s) are bad.")
        wizard.action_import()
        wizard.action_import()  # twice: nothing more
        sidorov = self._partner([("name", "=", "ИП Сидоров")])
        self.assertEqual(len(sidorov), 1)
        self.assertEqual((sidorov.crm_ltv, sidorov.crm_order_count, sidorov.crm_debt), (1000.25, 2, 300.25))
        known.invalidate_recordset()
        self.assertEqual((known.crm_ltv, known.crm_order_count, known.crm_debt), (50.0, 1, 50.0))
        self.assertEqual(
            self.env["account.move"].search([("partner_id", "=", known.id)]).mapped("crm_onec_ref"),
            ["import:7707083893:INV-3"],
        )

    def test_mapping_must_name_the_required_columns(self):
        wizard = self._wizard("Клиент;Номер;Дата;Сумма\nТОО «А»;1;01.01.2024;10\n".encode(), "a.csv")
        self.assertEqual(wizard.column_ids.mapped("field"), ["name", "number", "date", "amount"])
        wizard.column_ids[3].field = False
        with self.assertRaisesRegex(UserError, "Say which column holds: Amount"):
            wizard.action_dry_run()
        with self.assertRaisesRegex(UserError, "The file cannot be read"):
            self._wizard(b"PK\x03\x04broken", "a.xlsx")

    def test_salesperson_refused(self):
        with self.assertRaises(AccessError):
            self._wizard(self._csv(), "history.csv", user=self.salesman)
        wizard = self._wizard(self._csv(), "history.csv")
        for method in ("action_read_columns", "action_dry_run", "action_import"):
            with self.assertRaises(AccessError):
                getattr(wizard.with_user(self.salesman), method)()

    def test_other_company_refused(self):
        other = self.env["res.company"].create({"name": "ТОО «Чужая»"})
        wizard = self._wizard(self._csv(), "history.csv")
        wizard.company_id = other
        with self.assertRaisesRegex(AccessError, "only into your companies"):
            wizard.action_dry_run()

    def test_reading_cells(self):
        self.assertEqual(sh.parse_amount("1 234,56"), Decimal("1234.56"))
        self.assertEqual(sh.parse_amount("1,234.56"), Decimal("1234.56"))
        self.assertEqual(sh.parse_amount(300.25), Decimal("300.25"))
        for bad in ("", "abc", "NaN", "1e999999999999"):
            with self.assertRaises(ValueError, msg=bad):
                sh.parse_amount(bad)
        self.assertEqual(sh.parse_date("05.03.2024"), date(2024, 3, 5))
        self.assertEqual(sh.parse_date("2024-03-05"), date(2024, 3, 5))
        self.assertEqual(sh.parse_date(datetime(2024, 3, 5, 10, 30)), date(2024, 3, 5))
        with self.assertRaises(ValueError):
            sh.parse_date("31.02.2024")
        self.assertEqual(
            [sh.guess_field(header) for header in ("Сумма оплаты", "Дата платежа", "ИИН", "№ документа", "Итого", "X")],
            ["paid_amount", "paid_date", "legal_id", "number", "amount", False],
        )
        self.assertEqual(
            [sh.legal_id_text(value) for value in (70340010019, "0703 4001 0019", 707083893, None)],
            ["070340010019", "070340010019", "0707083893", ""],
        )

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(
        data=st.binary(max_size=400)
        | st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass"))
        | st.binary(max_size=300).map(lambda junk: b"PK\x03\x04" + junk),
        filename=st.sampled_from(["history.csv", "history.xlsx", "history.txt", ""]),
    )
    def test_any_upload_is_read_or_refused_clearly(self, data, filename):
        """Whatever the file holds (junk, invalid UTF-8, lone surrogates, a broken zip), it is read
        as (headers, rows) of text cells or refused with SheetError, never another exception."""
        try:
            headers, rows = sh.read_sheet(data, filename)
        except sh.SheetError as error:
            self.assertTrue(str(error))
            return
        self.assertIsInstance(headers, list)
        for number, cells in rows:
            self.assertIsInstance(number, int)
            self.assertIsInstance(cells, (list, tuple))
