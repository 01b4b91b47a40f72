from datetime import timedelta

from odoo.tests import TransactionCase, tagged

from odoo.addons.crm_single_truth.tools.legal_id import is_valid_kz_bin_iin


@tagged("post_install", "-at_install")
class TestDemoStory(TransactionCase):
    """The figures a newcomer reads on the partner cards of the demo database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mashstroy = cls.env.ref("crm_single_truth.partner_mashstroy_demo", raise_if_not_found=False)
        cls.company = cls.env.ref("crm_single_truth.company_dala_demo", raise_if_not_found=False)

    def setUp(self):
        super().setUp()
        if not self.mashstroy:
            self.skipTest("demo data not loaded")
        self.env = self.env(context=dict(self.env.context, allowed_company_ids=[self.company.id]))
        self.currency = self.company.currency_id
        self.today = self.company._crm_today()  # the demo company's date, the one its builder used

    def partner(self, name):
        return self.env.ref(f"crm_single_truth.{name}").with_company(self.company)

    def assertMoney(self, actual, expected):
        self.assertEqual(self.currency.compare_amounts(actual, expected), 0, f"{actual} != {expected}")

    def test_demo_company_is_kazakh(self):
        self.assertEqual(self.company.name, "ТОО «Дала Техника»")
        self.assertEqual(self.company.country_id, self.env.ref("base.kz"))
        self.assertEqual(self.currency.name, "KZT")
        self.assertEqual(self.company.city, "Алматы")
        self.assertTrue(is_valid_kz_bin_iin(self.company.partner_id.crm_bin))
        expected_chart = (
            "kz"
            if self.env["ir.module.module"].search_count([("name", "=", "l10n_kz"), ("state", "=", "installed")])
            else "generic_coa"
        )
        self.assertEqual(self.company.chart_template, expected_chart)
        admin = self.env.ref("base.user_admin")
        self.assertEqual(admin.company_id, self.company)
        self.assertIn(self.company, admin.company_ids)

    def test_mashstroy_dossier(self):
        mash = self.partner("partner_mashstroy_demo")
        self.assertEqual(mash.crm_order_count, 23)
        self.assertMoney(mash.crm_ltv, 14_350_000.0)
        self.assertMoney(mash.crm_avg_check, 623_913.04)
        self.assertMoney(mash.crm_debt, 0.0)
        self.assertMoney(mash.crm_overdue_debt, 0.0)
        self.assertEqual(mash.crm_last_order_date, self.today - timedelta(days=30))
        self.assertEqual(mash.crm_days_since_last_order, 30)
        # three years of history: the first order is a little less than three years old
        self.assertGreaterEqual((self.today - mash.crm_first_order_date).days, 3 * 365 - 60)
        self.assertLessEqual((self.today - mash.crm_first_order_date).days, 3 * 365)
        self.assertEqual(mash.crm_avg_payment_delay, 0.0)
        self.assertEqual(mash.crm_payment_rating, "excellent")
        self.assertEqual(mash.crm_bin, "950140009013")
        self.assertTrue(is_valid_kz_bin_iin(mash.crm_bin))
        self.assertEqual(mash.city, "Караганда")
        self.assertEqual(mash.country_id, self.env.ref("base.kz"))
        self.assertTrue(mash.crm_legal_address)
        self.assertEqual(mash.user_id, self.env.ref("base.user_admin"))
        self.assertEqual(len(mash.child_ids), 4)
        self.assertEqual(
            sorted(mash.child_ids.mapped("crm_contact_role")), ["accountant", "director", "engineer", "purchaser"]
        )
        self.assertTrue(all(mash.child_ids.mapped("email")) and all(mash.child_ids.mapped("phone")))
        self.assertEqual(self.env.ref("crm_single_truth.partner_mashstroy_director_demo").crm_contact_role, "director")
        # the card's "3 years" period counts the whole history
        kpis = mash.crm_get_kpis(date_from=self.today - timedelta(days=3 * 365))
        self.assertEqual(kpis["order_count"], 23)
        self.assertMoney(kpis["ltv"], 14_350_000.0)

    def test_mashstroy_documents_are_real(self):
        """Confirmed orders, their posted invoices, paid in full by the due date."""
        mash = self.partner("partner_mashstroy_demo")
        orders = self.env["sale.order"].search([("partner_id", "child_of", mash.id)])
        self.assertEqual(len(orders), 23)
        self.assertEqual(set(orders.mapped("state")), {"sale"})
        self.assertEqual(orders.company_id, self.company)
        self.assertEqual(set(orders.mapped("invoice_status")), {"invoiced"})
        invoices = orders.invoice_ids
        self.assertEqual(len(invoices), 23)
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.assertEqual(set(invoices.mapped("payment_state")) - {"in_payment"}, {"paid"})
        self.assertMoney(sum(invoices.mapped("amount_total_signed")), 14_350_000.0)
        self.assertFalse(invoices.invoice_line_ids.tax_ids)
        self.assertEqual(min(orders.mapped("date_order")).date(), mash.crm_first_order_date)
        for invoice in invoices:
            self.assertEqual(invoice.invoice_date, invoice.invoice_line_ids.sale_line_ids.order_id.date_order.date())
            payment_dates = [partial.max_date for partial in invoice.line_ids.matched_credit_ids]
            self.assertTrue(payment_dates)
            self.assertLessEqual(max(payment_dates), invoice.invoice_date_due)

    def test_sleeping_large_customers(self):
        sleeping = [self.partner(f"partner_sleeping_{i}_demo") for i in range(1, 13)]
        for customer in sleeping:
            self.assertTrue(customer.is_company)
            self.assertTrue(is_valid_kz_bin_iin(customer.crm_bin))
            self.assertGreater(customer.crm_days_since_last_order, 180)
            self.assertGreaterEqual(customer.crm_days_since_last_order, 200)
            self.assertLessEqual(customer.crm_days_since_last_order, 700)
            self.assertGreater(customer.crm_ltv, 500_000)
            self.assertIn(customer.crm_order_count, (2, 3, 4))
            self.assertMoney(customer.crm_debt, 0.0)
        # the segment domain finds exactly them in the demo company
        found = self.env["res.partner"].search(
            [
                ("id", "in", [partner.id for partner in sleeping] + [self.mashstroy.id]),
                ("crm_days_since_last_order", ">", 180),
                ("crm_ltv", ">", 500_000),
            ]
        )
        self.assertEqual(len(found), 12)

    def test_late_payers(self):
        late = self.partner("partner_late_payer_demo")
        self.assertGreater(late.crm_overdue_debt, 0)
        self.assertMoney(late.crm_overdue_debt, 300_000.0)
        self.assertGreater(late.crm_avg_payment_delay, 20)
        self.assertEqual(late.crm_payment_rating, "poor")
        overdue = self.env["account.move"].search(
            [
                ("partner_id", "=", late.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "=", "not_paid"),
            ]
        )
        self.assertEqual(len(overdue), 1)
        self.assertEqual((self.today - overdue.invoice_date_due).days, 40)
        occasional = self.partner("partner_occasional_late_demo")
        self.assertMoney(occasional.crm_overdue_debt, 0.0)
        self.assertEqual(occasional.crm_payment_rating, "good")
        self.assertAlmostEqual(occasional.crm_avg_payment_delay, 2.5, places=2)

    def test_deals(self):
        deal = self.env.ref("crm_single_truth.lead_open_deal_demo")
        self.assertEqual(deal.type, "opportunity")
        self.assertTrue(deal.active)
        self.assertGreater(deal.expected_revenue, 0)
        self.assertFalse(deal.stage_id.is_won)
        self.assertEqual(deal.partner_id, self.partner("partner_open_deal_demo"))
        lost = self.env.ref("crm_single_truth.lead_lost_deal_demo").with_context(active_test=False)
        self.assertFalse(lost.active)
        self.assertEqual(lost.probability, 0)

    def test_student_pays_monthly(self):
        student = self.partner("partner_student_demo")
        self.assertFalse(student.is_company)
        self.assertTrue(is_valid_kz_bin_iin(student.crm_iin))
        self.assertEqual(student.crm_order_count, 8)
        self.assertMoney(student.crm_ltv, 360_000.0)
        self.assertMoney(student.crm_debt, 45_000.0)
        self.assertMoney(student.crm_overdue_debt, 0.0)
        invoices = self.env["account.move"].search(
            [("partner_id", "=", student.id), ("move_type", "=", "out_invoice"), ("state", "=", "posted")]
        )
        self.assertEqual(len(invoices), 8)
        self.assertEqual(len(set((inv.invoice_date.year, inv.invoice_date.month) for inv in invoices)), 8)
        unpaid = invoices.filtered(lambda inv: inv.payment_state == "not_paid")
        self.assertEqual(len(unpaid), 1)
        self.assertEqual(unpaid.invoice_date, max(invoices.mapped("invoice_date")))
        self.assertGreaterEqual(unpaid.invoice_date_due, self.today)

    def test_contracts(self):
        framework = self.env.ref("crm_single_truth.contract_mashstroy_demo")
        self.assertEqual(framework.partner_id, self.mashstroy)
        self.assertEqual(framework.contract_type, "framework")
        self.assertEqual(framework.state, "active")
        self.assertEqual(framework.company_id, self.company)
        penalties = self.env.ref("crm_single_truth.contract_late_payer_demo")
        self.assertEqual(penalties.partner_id, self.partner("partner_late_payer_demo"))
        self.assertEqual(penalties.state, "active")
        self.assertAlmostEqual(penalties.penalty_rate, 0.1)
        self.assertTrue(penalties.payment_term_id)

    def test_telegram_conversations_use_numeric_chat_ids(self):
        """The Bot API addresses a private chat by the user's numeric id: the demo's conversations
        came in as Bot API updates and replies go to those ids, not to @usernames."""
        chats = self.env["crm.messenger.chat"].search(
            [("channel", "=", "telegram"), ("partner_id", "child_of", self.mashstroy.id)], order="address"
        )
        self.assertEqual(
            [(chat.address, chat.username, chat.partner_id.crm_telegram) for chat in chats],
            [
                ("5208471936", "saparov_mashstroy", "saparov_mashstroy"),
                ("5310284417", "buh_mashstroy", "buh_mashstroy"),
            ],
        )
        purchaser = self.env.ref("crm_single_truth.partner_mashstroy_purchaser_demo")
        self.assertEqual(purchaser._crm_messenger_chat("telegram").address, "5208471936")
        # a Bot API message is identified by (chat id, message id)
        self.assertEqual(len(chats.message_ids), 2)
        for message in chats.message_ids:
            self.assertTrue(message.external_id.startswith(f"{message.chat_id.address}:"), message.external_id)
            self.assertTrue(message.sender.startswith("@"))


class TestDemoCodeOutOfProduction(TransactionCase):
    def test_no_demo_model_is_registered(self):
        """The demo builders are plain Python under demo/, imported only when demo data loads:
        no model of the suite exists for them, with or without demo data."""
        self.assertEqual([name for name in self.env.registry if name.startswith("crm.") and "demo" in name], [])
        self.assertFalse(self.env["ir.model"].search([("model", "=like", "crm.%demo%")]))
