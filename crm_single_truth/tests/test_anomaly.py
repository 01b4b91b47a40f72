from odoo.tests import tagged

from .common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestPurchaseAnomaly(CrmKpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = cls.env["res.users"].create(
            {
                "name": "Dana Salesperson",
                "login": "dana.anomaly",
                "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        cls.customer.user_id = cls.salesperson
        cls.anomaly_type = cls.env.ref("crm_single_truth.mail_activity_type_anomaly")

    def anomaly_activities(self, record):
        return record.activity_ids.filtered(lambda a: a.activity_type_id == self.anomaly_type)

    def build_history(self):
        for days_ago in (90, 60, 30):
            self.invoice(1000.0, days_ago=days_ago)  # average check 1000

    def test_large_order_is_flagged_and_never_blocked(self):
        self.build_history()
        order = self.sale_order(5001.0, days_ago=0)
        self.assertEqual(order.state, "sale")
        self.assertIn("5.0 times the average check", order.crm_anomaly_message)
        activity = self.anomaly_activities(order)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesperson)

    def test_order_at_the_threshold_is_not_flagged(self):
        self.build_history()
        order = self.sale_order(5000.0, days_ago=0)  # exactly 5 times: not above
        self.assertFalse(order.crm_anomaly_message)
        self.assertFalse(self.anomaly_activities(order))

    def test_needs_three_past_purchases(self):
        self.invoice(1000.0, days_ago=60)
        self.invoice(1000.0, days_ago=30)
        invoice = self.invoice(50000.0, days_ago=0)
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(invoice.crm_anomaly_message)

    def test_large_invoice_without_order_is_flagged(self):
        self.build_history()
        invoice = self.invoice(7000.0, days_ago=0)
        self.assertEqual(invoice.state, "posted")
        self.assertIn("7.0 times", invoice.crm_anomaly_message)
        self.assertEqual(len(self.anomaly_activities(invoice)), 1)

    def test_factor_from_settings(self):
        self.build_history()
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.anomaly_factor", "2")
        order = self.sale_order(2500.0, days_ago=0)
        self.assertIn("2.5 times", order.crm_anomaly_message)

    def test_invoice_of_a_flagged_order_is_not_flagged_twice(self):
        self.build_history()
        order = self.sale_order(9000.0, days_ago=0)
        self.assertTrue(order.crm_anomaly_message)
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertFalse(invoice.crm_anomaly_message)

    def test_invoices_posted_together_are_judged_against_the_history_before_them(self):
        self.build_history()
        large = self.invoice(7000.0, post=False)
        usual = self.invoice(1000.0, post=False)
        (large + usual).action_post()
        self.assertIn("7.0 times the average check", large.crm_anomaly_message)
        self.assertIn("over 3 purchases", large.crm_anomaly_message)
        self.assertFalse(usual.crm_anomaly_message)
        # the posting added itself to the stored history at once: nothing waits for the commit
        Kpi = self.env["crm.partner.kpi"]
        self.assertFalse(Kpi._crm_has_pending())
        ltv, count = Kpi._crm_stored_kpis(self.customer, self.env.company)
        self.assertEqual((ltv, count), (11000, 5))

    def test_changes_waiting_in_the_transaction_count_before_the_judgement(self):
        self.build_history()
        self.customer.invoice_ids[:1].button_draft()  # two purchases left: too few to judge
        invoice = self.invoice(7000.0)
        self.assertFalse(invoice.crm_anomaly_message)
        ltv, count = self.env["crm.partner.kpi"]._crm_stored_kpis(self.customer, self.env.company)
        self.assertEqual((ltv, count), (9000, 3))
        # judged against those three (average 3,000), once the draft is applied
        self.assertIn("over 3 purchases", self.invoice(15001.0).crm_anomaly_message)
