from datetime import timedelta

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.crm_receivables.report.crm_receivable_aging import bucket_of
from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestReceivablesAging(CrmKpiCommon):
    def aging(self, partner=None, company=None):
        Aging = self.env["crm.receivable.aging"]
        Aging.invalidate_model()  # a SQL view: read it afresh
        company = company or self.env.company
        return Aging.search([("partner_id", "=", (partner or self.customer).id), ("company_id", "=", company.id)])

    def assertMoney(self, actual, expected):
        self.assertEqual(self.currency.compare_amounts(actual, expected), 0, f"{actual} != {expected}")

    def test_bucket_function(self):
        expected = {
            0: "amount_not_due",
            -5: "amount_not_due",
            1: "amount_1_30",
            30: "amount_1_30",
            31: "amount_31_60",
            60: "amount_31_60",
            61: "amount_61_90",
            90: "amount_61_90",
            91: "amount_over_90",
            400: "amount_over_90",
        }
        for days, name in expected.items():
            self.assertEqual(bucket_of(days), name, days)

    def test_bucket_boundaries_in_the_view(self):
        # one invoice per boundary, due exactly that many days ago
        amounts = {0: 1.0, 1: 10.0, 30: 100.0, 31: 1000.0, 60: 10000.0, 61: 100000.0, 90: 1000000.0, 91: 10000000.0}
        for days, amount in amounts.items():
            self.invoice(amount, days_ago=days + 10, due_days=10)
        row = self.aging()
        self.assertEqual(len(row), 1)
        self.assertMoney(row.amount_not_due, 1.0)
        self.assertMoney(row.amount_1_30, 110.0)
        self.assertMoney(row.amount_31_60, 11000.0)
        self.assertMoney(row.amount_61_90, 1100000.0)
        self.assertMoney(row.amount_over_90, 10000000.0)
        self.assertMoney(row.amount_overdue, 11111110.0)
        self.assertMoney(row.amount_total, 11111111.0)
        self.assertEqual(row.max_days_overdue, 91)
        self.assertTrue(row.is_critical)

    def test_agrees_with_credit_partial_payment_and_credit_note(self):
        first = self.invoice(1000.0, days_ago=50, due_days=10)  # 40 days late
        self.invoice(500.0, days_ago=5, due_days=30)  # not due
        self.pay(first, amount=300.0, days_ago=1)
        refund = self.invoice(200.0, days_ago=2, move_type="out_refund")
        row = self.aging()
        # the credit note's open item sits in the bucket of its own due date
        refund_line = refund.line_ids.filtered(lambda aml: aml.account_id.account_type == "asset_receivable")
        expected = dict.fromkeys(
            ["amount_not_due", "amount_1_30", "amount_31_60", "amount_61_90", "amount_over_90"], 0.0
        )
        expected["amount_31_60"] += 700.0
        expected["amount_not_due"] += 500.0
        expected[bucket_of((self.today - refund_line.date_maturity).days)] -= 200.0
        for fname, amount in expected.items():
            self.assertMoney(row[fname], amount)
        self.assertMoney(row.amount_total, 1000.0)
        self.customer.invalidate_recordset(["credit"])
        self.assertMoney(self.customer.credit, 1000.0)
        self.assertMoney(self.customer.crm_debt, 1000.0)
        self.assertEqual(row.max_days_overdue, 40)
        self.assertTrue(row.is_critical)  # more than 30 days late
        self.assertTrue(refund)

    def test_critical_threshold_from_settings(self):
        self.invoice(5000.0, days_ago=20, due_days=10)  # 10 days late
        self.assertFalse(self.aging().is_critical)
        self.env["ir.config_parameter"].sudo().set_param("crm_receivables.critical_amount", "4999.99")
        self.assertTrue(self.aging().is_critical)

    def test_foreign_currency_in_company_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("1900-01-01", 2.0)])
        invoice = self.invoice(1000.0, days_ago=40, due_days=1, currency=eur)  # 39 days late
        self.assertMoney(invoice.amount_residual_signed, 500.0)
        row = self.aging()
        self.assertMoney(row.amount_31_60, 500.0)
        self.assertMoney(row.amount_total, 500.0)

    def test_two_companies(self):
        company_2 = self.setup_other_company(name="Aging Company Two")["company"]
        self.env.user.company_ids |= company_2
        self.invoice(100.0, days_ago=5)
        self.invoice(700.0, days_ago=5, company=company_2)
        self.assertMoney(self.aging().amount_total, 100.0)
        self.assertMoney(self.aging(company=company_2).amount_total, 700.0)

    def test_contacts_roll_up_and_drill_down(self):
        invoice = self.invoice(250.0, days_ago=3, partner=self.contact)
        row = self.aging()
        self.assertMoney(row.amount_total, 250.0)
        action = row.action_open_items()
        self.assertEqual(self.env["account.move"].search(action["domain"]), invoice)

    def test_salesperson_sees_only_own_customers(self):
        seller = new_test_user(self.env, login="aging.seller", groups="base.group_user,crm_single_truth.group_crm_user")
        other = self.env["res.partner"].create(
            {"name": "Other Seller's Customer", "is_company": True, "user_id": self.env.user.id}
        )
        self.customer.user_id = seller
        self.invoice(100.0, days_ago=5)
        self.invoice(200.0, days_ago=5, partner=other)
        visible = (
            self.env["crm.receivable.aging"]
            .with_user(seller)
            .search([("partner_id", "in", (self.customer | other).ids)])
        )
        self.assertEqual(visible.partner_id, self.customer)
        with self.assertRaises(AccessError):
            self.aging(other).with_user(seller).read(["amount_total"])

    def test_aging_date_from_context(self):
        self.invoice(100.0, days_ago=0, due_days=10)
        later = self.env["crm.receivable.aging"].with_context(crm_aging_date=self.today + timedelta(days=45))
        row = later.search([("partner_id", "=", self.customer.id)])
        self.assertMoney(row.amount_31_60, 100.0)

    def test_overdue_nets_unapplied_credits_on_card_and_aging_alike(self):
        """Issue 17: a customer owing 70,000 in total (120,000 overdue, a 50,000 credit note not
        applied yet) has 70,000 overdue - on the card and in the aging, to the cent; a credit
        dated before today nets the overdue buckets as stock's aged receivable does."""
        self.invoice(120000.0, days_ago=40, due_days=10)  # 30 days overdue
        self.invoice(50000.0, days_ago=0, move_type="out_refund")  # not applied, due today
        row = self.aging()
        self.assertMoney(row.amount_total, 70000.0)
        self.assertMoney(row.amount_overdue, 70000.0)
        self.assertMoney(row.amount_1_30, 120000.0)  # each item stays in the bucket of its date
        self.assertMoney(row.amount_not_due, -50000.0)
        self.customer.invalidate_recordset()
        self.assertMoney(self.customer.crm_debt, 70000.0)
        self.assertMoney(self.customer.crm_overdue_debt, 70000.0)
        # an older unapplied payment nets the overdue part first: 70,000 - 30,000
        self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 30000.0,
                "date": self.days_ago(5),
            }
        ).action_post()
        row = self.aging()
        self.customer.invalidate_recordset()
        self.assertMoney(row.amount_total, 40000.0)
        self.assertMoney(row.amount_overdue, 40000.0)
        self.assertMoney(self.customer.crm_overdue_debt, 40000.0)
        self.assertEqual(
            self.env["res.partner"].search([("id", "=", self.customer.id), ("crm_overdue_debt", "=", 40000.0)]),
            self.customer,
        )
