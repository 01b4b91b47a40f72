from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestSettlements(CrmKpiCommon):
    """The reconciliation act and the settlement balance agree with the stock Partner Ledger."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.date_from, cls.date_to = cls.days_ago(30), cls.days_ago(3)
        # before the period: 1,000 invoiced, 400 paid -> opening balance 600
        cls.old_invoice = cls.invoice(1000.0, days_ago=60)
        cls.pay(cls.old_invoice, amount=400.0, days_ago=50)
        # in the period: an invoice of 2,500 for a contact, a credit note of 300, a partial payment of 1,000
        cls.new_invoice = cls.invoice(2500.0, days_ago=20, partner=cls.contact)
        cls.credit_note = cls.invoice(300.0, days_ago=15, move_type="out_refund")
        cls.payment = cls.pay(cls.new_invoice, amount=1000.0, days_ago=5)
        # after the period: 200 more paid
        cls.pay(cls.new_invoice, amount=200.0, days_ago=1)

    def act(self, **kwargs):
        return self.env["crm.reconciliation.act.wizard"]._crm_act_data(
            self.contact, self.env.company, kwargs.get("date_from", self.date_from), kwargs.get("date_to", self.date_to)
        )

    def ledger_balance(self, date_domain):
        # the stock "Partner Ledger" (Accounting > Reporting): posted trade receivable/payable items
        [[balance]] = self.env["account.move.line"]._read_group(
            [
                ("parent_state", "=", "posted"),
                ("partner_id", "=", self.customer.id),
                ("account_id.account_type", "in", ("asset_receivable", "liability_payable")),
                ("account_id.non_trade", "=", False),
                *date_domain,
            ],
            [],
            ["balance:sum"],
        )
        return balance

    def test_act_over_a_period_with_credit_note_and_partial_payment(self):
        act = self.act()
        self.assertEqual(act["partner"], self.customer)
        self.assertAlmostEqual(act["opening"], 600.0, places=2)
        self.assertEqual(
            [(line["date"], line["kind"], line["move"], line["debit"], line["credit"]) for line in act["lines"]],
            [
                (self.days_ago(20), "invoice", self.new_invoice, 2500.0, 0.0),
                (self.days_ago(15), "credit_note", self.credit_note, 0.0, 300.0),
                (self.days_ago(5), "payment", self.payment.move_id, 0.0, 1000.0),
            ],
        )
        self.assertAlmostEqual(act["debit"], 2500.0, places=2)
        self.assertAlmostEqual(act["credit"], 1300.0, places=2)
        self.assertAlmostEqual(act["closing"], 1800.0, places=2)
        # the same balances as the stock ledger at both ends of the period
        self.assertAlmostEqual(act["opening"], self.ledger_balance([("date", "<", self.date_from)]), places=2)
        self.assertAlmostEqual(act["closing"], self.ledger_balance([("date", "<=", self.date_to)]), places=2)

    def test_settlement_balance_is_receivable_minus_payable(self):
        # today: 3,500 invoiced - 300 credited - 1,600 paid = 1,600 owed by the customer
        self.assertAlmostEqual(self.contact.crm_settlement_balance, 1600.0, places=2)
        self.assertAlmostEqual(self.customer.credit, 1600.0, places=2)
        bill = self.init_invoice(
            "in_invoice", partner=self.customer, invoice_date=self.today, amounts=[700.0], taxes=[], post=True
        )
        self.customer.invalidate_recordset()
        self.contact.invalidate_recordset()
        self.assertAlmostEqual(self.customer.crm_settlement_balance, 900.0, places=2)
        act = self.act(date_to=self.today)
        self.assertEqual(act["lines"][-1]["move"], bill)
        self.assertEqual((act["lines"][-1]["kind"], act["lines"][-1]["credit"]), ("bill", 700.0))
        self.assertAlmostEqual(act["closing"], 900.0, places=2)
        self.assertAlmostEqual(act["closing"], self.ledger_balance([]), places=2)

    def test_latest_payments_on_the_card(self):
        self.assertEqual(len(self.customer.crm_recent_payment_ids), 3)
        self.assertEqual(self.customer.crm_recent_payment_ids[0].amount, 200.0)

    def test_report_prints_in_russian_and_kazakh(self):
        for code in ("ru_RU", "kk_KZ"):
            self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"].search([("name", "=", "crm_single_truth")])._update_translations(
            ["ru_RU", "kk_KZ"]
        )
        wizard = self.env["crm.reconciliation.act.wizard"].create(
            {
                "partner_id": self.contact.id,
                "date_from": self.date_from,
                "date_to": self.date_to,
                "lang": "ru_RU",
            }
        )
        action = wizard.with_context(discard_logo_check=True).action_print()
        self.assertEqual(action["report_name"], "crm_single_truth.report_reconciliation_act")
        self.assertEqual(action["data"]["partner_id"], self.customer.id)
        Report = self.env["ir.actions.report"]
        html_ru = Report._render_qweb_html(
            "crm_single_truth.report_reconciliation_act", self.customer.ids, data=action["data"]
        )[0].decode()
        self.assertIn("Акт сверки взаимных расчётов", html_ru)
        self.assertIn("Сальдо на начало периода", html_ru)
        self.assertIn(self.new_invoice.name, html_ru)
        html_kk = Report._render_qweb_html(
            "crm_single_truth.report_reconciliation_act", self.customer.ids, data={**action["data"], "lang": "kk_KZ"}
        )[0].decode()
        self.assertIn("Өзара есеп айырысуларды салыстыру актісі", html_kk)

    def test_period_must_not_end_before_it_starts(self):
        with self.assertRaises(ValidationError):
            self.env["crm.reconciliation.act.wizard"].create(
                {
                    "partner_id": self.customer.id,
                    "date_from": self.date_to,
                    "date_to": self.date_from,
                }
            )
