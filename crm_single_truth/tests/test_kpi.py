from odoo.tests import tagged

from .common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestCustomerKpi(CrmKpiCommon):
    def assertMoney(self, actual, expected, msg=None):
        self.assertEqual(self.currency.compare_amounts(actual, expected), 0, msg or f"{actual} != {expected}")

    def test_ltv_counts_posted_invoices_minus_credit_notes(self):
        self.invoice(1000.0, days_ago=100)
        self.invoice(500.0, days_ago=40, partner=self.contact)  # a contact buys for its company
        self.invoice(200.0, days_ago=30, move_type="out_refund")
        self.invoice(999.0, days_ago=20, post=False)  # draft: not counted
        self.invoice(300.0, days_ago=10).button_cancel()  # posted then cancelled: not counted
        customer = self.customer
        self.assertMoney(customer.crm_ltv, 1300.0)
        self.assertEqual(customer.crm_order_count, 2)  # a credit note is no purchase
        self.assertMoney(customer.crm_avg_check, 650.0)
        self.assertEqual(customer.crm_first_order_date, self.days_ago(100))
        self.assertEqual(customer.crm_last_order_date, self.days_ago(40))
        self.assertEqual(customer.crm_days_since_last_order, 40)
        # a contact shows the dossier of its commercial entity
        self.assertMoney(self.contact.crm_ltv, 1300.0)
        self.assertEqual(self.contact.crm_order_count, 2)

    def test_sale_order_and_its_invoice_are_one_purchase(self):
        order = self.sale_order(3000.0, days_ago=15)
        self.assertEqual(self.customer.crm_order_count, 1)
        self.assertMoney(self.customer.crm_ltv, 0.0)  # not invoiced yet
        invoice = order._create_invoices()
        invoice.invoice_date = self.days_ago(14)
        invoice.action_post()
        self.assertEqual(self.customer.crm_order_count, 1)
        self.assertMoney(self.customer.crm_ltv, 3000.0)
        self.assertMoney(self.customer.crm_avg_check, 3000.0)
        self.assertEqual(self.customer.crm_last_order_date, self.days_ago(15))
        order._action_cancel()
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(self.customer.crm_order_count, 0)
        self.assertMoney(self.customer.crm_ltv, 0.0)
        self.assertFalse(self.customer.crm_last_order_date)

    def test_average_check_is_rounded_by_the_currency(self):
        for amount in (100.0, 100.0, 100.01):
            self.invoice(amount, days_ago=5)
        self.assertMoney(self.customer.crm_ltv, 300.01)
        self.assertMoney(self.customer.crm_avg_check, 100.0)  # 100.00333... rounded to the cent

    def test_debt_partial_payment_and_overdue(self):
        overdue = self.invoice(1000.0, days_ago=40, due_days=10)  # due 30 days ago
        not_due = self.invoice(700.0, days_ago=5, due_days=30)
        self.pay(overdue, amount=400.0, days_ago=1)
        customer = self.customer
        self.assertMoney(customer.crm_debt, 1300.0)
        self.assertMoney(customer.crm_overdue_debt, 600.0)
        # agrees with the stock receivable balance and with the open journal items
        customer.invalidate_recordset(["credit"])
        self.assertMoney(customer.credit, 1300.0)
        open_items = self.env["account.move.line"].search(
            [
                ("partner_id", "=", customer.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("reconciled", "=", False),
                ("parent_state", "=", "posted"),
            ]
        )
        self.assertMoney(sum(open_items.mapped("amount_residual")), 1300.0)
        self.pay(overdue + not_due, days_ago=0, group_payment=True)
        self.assertMoney(customer.crm_debt, 0.0)
        self.assertMoney(customer.crm_overdue_debt, 0.0)

    def test_payment_delay_is_amount_weighted_and_rating_follows(self):
        on_time = self.invoice(3000.0, days_ago=60, due_days=10)  # due 50 days ago
        late = self.invoice(1000.0, days_ago=60, due_days=10)
        self.pay(on_time, days_ago=52)  # two days early: counts as 0
        # open overdue items weigh in: (3000 * 0 + 1000 * 50) / 4000 = 12.5 days
        self.assertEqual(self.customer.crm_payment_rating, "fair")
        self.pay(late, days_ago=30)  # 20 days late
        # (3000 * 0 + 1000 * 20) / 4000 = 5 days
        self.assertAlmostEqual(self.customer.crm_avg_payment_delay, 5.0, places=2)
        self.assertEqual(self.customer.crm_payment_rating, "good")

    def test_rating_none_without_history_and_excellent_when_on_time(self):
        self.assertEqual(self.customer.crm_payment_rating, "none")
        inv = self.invoice(800.0, days_ago=20, due_days=10)
        self.pay(inv, days_ago=15)
        self.assertEqual(self.customer.crm_avg_payment_delay, 0.0)
        self.assertEqual(self.customer.crm_payment_rating, "excellent")

    def test_unreconciled_payment_reopens_debt_and_delay(self):
        inv = self.invoice(500.0, days_ago=50, due_days=10)
        payment = self.pay(inv, days_ago=20)  # 20 days late
        self.assertAlmostEqual(self.customer.crm_avg_payment_delay, 20.0, places=2)
        payment.move_id.line_ids.remove_move_reconcile()
        # the invoice is open and overdue again, but the unapplied payment nets the balance, and
        # the overdue debt, to zero (issue 17: overdue debt nets unapplied credits)
        self.assertMoney(self.customer.crm_debt, 0.0)
        self.assertMoney(self.customer.crm_overdue_debt, 0.0)
        self.assertEqual(inv.payment_state, "not_paid")
        self.assertEqual(self.customer.crm_avg_payment_delay, 0.0)

    def test_foreign_currency_invoice_counts_at_booked_company_value(self):
        other = self.setup_other_currency("EUR", rates=[("1900-01-01", 2.0)])
        self.invoice(1000.0, days_ago=3, currency=other)  # 1000 EUR at 2 EUR per unit = 500
        self.assertMoney(self.customer.crm_ltv, 500.0)
        self.assertMoney(self.customer.crm_debt, 500.0)

    def test_two_companies_are_kept_apart(self):
        company_2 = self.setup_other_company(name="Second Company LLP")["company"]
        self.invoice(1000.0, days_ago=10)
        self.env.user.company_ids |= company_2
        self.invoice(250.0, days_ago=8, company=company_2)
        self.assertMoney(self.customer.crm_ltv, 1000.0)
        self.assertEqual(self.customer.crm_order_count, 1)
        other = self.customer.with_company(company_2)
        self.assertMoney(other.crm_ltv, 250.0)
        self.assertEqual(other.crm_order_count, 1)
        self.assertMoney(other.crm_debt, 250.0)

    def test_kpis_for_a_period(self):
        self.invoice(1000.0, days_ago=1200)
        self.invoice(2000.0, days_ago=500)
        self.invoice(600.0, days_ago=100)
        self.invoice(100.0, days_ago=50, move_type="out_refund")
        kpis = self.customer.crm_get_kpis(date_from=self.days_ago(365))
        self.assertMoney(kpis["ltv"], 500.0)
        self.assertEqual(kpis["order_count"], 1)
        self.assertMoney(kpis["avg_check"], 500.0)
        kpis = self.customer.crm_get_kpis(self.days_ago(3 * 365), self.days_ago(400))
        self.assertMoney(kpis["ltv"], 2000.0)
        self.assertEqual(kpis["first_order_date"], self.days_ago(500))
        self.assertEqual(kpis["last_order_date"], self.days_ago(500))
        all_time = self.customer.crm_get_kpis()
        self.assertMoney(all_time["ltv"], 3500.0)
        self.assertEqual(all_time["order_count"], 3)
        # the card's period switch shows the same figures
        self.customer.crm_kpi_period = "12m"
        self.assertMoney(self.customer.crm_period_ltv, 500.0)
        self.assertEqual(self.customer.crm_period_order_count, 1)

    def test_search_and_order_by_kpis(self):
        small = self.env["res.partner"].create({"name": "Small Buyer", "is_company": True})
        self.invoice(700000.0, days_ago=10)
        self.invoice(10000.0, days_ago=200, partner=small)
        Partner = self.env["res.partner"]
        large = Partner.search([("crm_ltv", ">", 500000), ("id", "in", (self.customer | small).ids)])
        self.assertEqual(large, self.customer)
        # contacts of a large customer are found with it (commercial entity)
        self.assertIn(self.contact, Partner.search([("crm_ltv", ">", 500000)]))
        ordered = Partner.search([("id", "in", (self.customer | small).ids)], order="crm_ltv desc")
        self.assertEqual(ordered.ids, [self.customer.id, small.id])
        ordered = Partner.search([("id", "in", (self.customer | small).ids)], order="crm_last_order_date asc")
        self.assertEqual(ordered.ids, [small.id, self.customer.id])
        self.assertEqual(Partner.search([("crm_temperature", "=", "cold"), ("id", "=", small.id)]), small)
        never = Partner.create({"name": "Never Bought"})
        self.assertIn(never, Partner.search([("crm_order_count", "=", 0), ("id", "=", never.id)]))
        self.assertIn(never, Partner.search([("crm_last_order_date", "=", False), ("id", "=", never.id)]))
        self.assertTrue(Partner.fields_get(["crm_ltv"], ["sortable"])["crm_ltv"]["sortable"])

    def test_temperature_thresholds_from_settings(self):
        self.invoice(100.0, days_ago=45)
        self.assertEqual(self.customer.crm_temperature, "warm")
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.temperature_hot_days", 60)
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.crm_temperature, "hot")
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.temperature_cold_days", 20)
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.temperature_hot_days", 10)
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.crm_temperature, "cold")

    def test_reparenting_a_contact_moves_its_history(self):
        self.invoice(400.0, days_ago=10, partner=self.contact)
        new_company = self.env["res.partner"].create({"name": "New Employer LLP", "is_company": True})
        self.assertMoney(self.customer.crm_ltv, 400.0)
        # as in stock accounting, the contact's invoices follow it to its new commercial entity
        self.contact.parent_id = new_company
        self.assertMoney(self.customer.crm_ltv, 0.0)
        self.assertMoney(new_company.crm_ltv, 400.0)
        self.assertEqual(new_company.crm_order_count, 1)

    def test_full_rebuild_matches_incremental(self):
        self.invoice(1000.0, days_ago=30, due_days=5)
        self.sale_order(250.0, days_ago=3)
        Kpi = self.env["crm.partner.kpi"]
        fnames = ["ltv", "order_count", "last_order_date", "avg_payment_delay"]

        def snapshot():
            rows = Kpi.search_read([("partner_id", "=", self.customer.id)], fnames)
            return [{fname: row[fname] for fname in fnames} for row in rows]

        before = snapshot()
        Kpi._crm_refresh()
        after = snapshot()
        self.assertEqual(before, after)
        self.assertEqual(after[0]["order_count"], 2)
