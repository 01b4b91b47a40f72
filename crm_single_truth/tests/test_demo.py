from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoStory(TransactionCase):
    """The figures a newcomer reads on МашСтрой's card in the demo database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("crm_single_truth.company_dala_demo", raise_if_not_found=False)

    def setUp(self):
        super().setUp()
        if not self.company:
            self.skipTest("demo data not loaded")
        self.env = self.env(context=dict(self.env.context, allowed_company_ids=[self.company.id]))
        self.currency = self.company.currency_id
        self.today = fields.Date.context_today(self.env["res.partner"])

    def partner(self, name):
        return self.env.ref(f"crm_single_truth.{name}").with_company(self.company)

    def assertMoney(self, actual, expected):
        self.assertEqual(self.currency.compare_amounts(actual, expected), 0, f"{actual} != {expected}")

    def test_demo_company_is_kazakh(self):
        self.assertEqual(self.currency.name, "KZT")
        self.assertEqual(self.company.chart_template, "kz")
        self.assertEqual(self.env.ref("base.user_admin").company_id, self.company)

    def test_mashstroy_dossier(self):
        mash = self.partner("partner_mashstroy_demo")
        self.assertEqual(mash.crm_order_count, 23)
        self.assertMoney(mash.crm_ltv, 14_350_000.0)
        self.assertMoney(mash.crm_avg_check, 623_913.04)
        self.assertMoney(mash.crm_debt, 0.0)
        self.assertMoney(mash.crm_overdue_debt, 0.0)
        self.assertEqual(mash.crm_last_order_date, self.today - timedelta(days=30))
        self.assertEqual(mash.crm_days_since_last_order, 30)
        self.assertGreaterEqual((self.today - mash.crm_first_order_date).days, 3 * 365 - 60)
        self.assertEqual(mash.crm_avg_payment_delay, 0.0)
        self.assertEqual(mash.crm_payment_rating, "excellent")
        self.assertEqual(mash.crm_bin, "950124400901")
        self.assertTrue(mash.crm_legal_address)
        self.assertEqual(
            sorted(mash.child_ids.mapped("crm_contact_role")), ["accountant", "director", "engineer", "purchaser"]
        )
        # three years on the card's period switch: the first order is just under 3 years old
        kpis = mash.crm_get_kpis(date_from=self.today - timedelta(days=3 * 365))
        self.assertEqual(kpis["order_count"], 23)
        self.assertMoney(kpis["ltv"], 14_350_000.0)

    def test_the_rest_of_the_story(self):
        sleeping = [self.partner(f"partner_sleeping_{i}_demo") for i in range(1, 13)]
        for customer in sleeping:
            self.assertGreater(customer.crm_days_since_last_order, 180)
            self.assertGreater(customer.crm_ltv, 500_000)
        late = self.partner("partner_late_payer_demo")
        self.assertMoney(late.crm_overdue_debt, 310_000.0)
        self.assertEqual(late.crm_payment_rating, "poor")
        occasional = self.partner("partner_occasional_late_demo")
        self.assertEqual(occasional.crm_payment_rating, "good")
        self.assertAlmostEqual(occasional.crm_avg_payment_delay, 2.5, places=2)
        deal = self.env.ref("crm_single_truth.lead_open_deal_demo")
        self.assertTrue(deal.active)
        self.assertFalse(deal.stage_id.is_won)
        student = self.partner("partner_student_demo")
        self.assertEqual(student.crm_order_count, 8)
        self.assertMoney(student.crm_ltv, 360_000.0)
        self.assertMoney(student.crm_debt, 45_000.0)
        self.assertMoney(student.crm_overdue_debt, 0.0)
