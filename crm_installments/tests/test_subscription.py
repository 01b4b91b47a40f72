from datetime import date

from odoo.tests import tagged

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestSubscription(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Subscription = cls.env["crm.subscription"]
        cls.course = cls.env["product.product"].create({"name": "Course, month", "type": "service", "taxes_id": False})
        cls.subscription = cls.Subscription.create(
            {
                "name": "Course",
                "partner_id": cls.customer.id,
                "product_id": cls.course.id,
                "amount": 45_000.0,
                "interval": "month",
                "date_start": date(2025, 1, 15),
            }
        )
        cls.subscription.action_start()

    def run_on(self, day):
        return self.Subscription._cron_generate_invoices(date_ref=day).filtered(lambda m: m.partner_id == self.customer)

    def test_three_periods_with_a_missed_run(self):
        self.assertEqual(self.subscription.date_next, date(2025, 1, 15))
        self.assertFalse(self.run_on(date(2025, 1, 14)))
        first = self.run_on(date(2025, 1, 15))
        self.assertEqual(first.mapped("invoice_date"), [date(2025, 1, 15)])
        self.assertEqual(first.amount_total, 45_000.0)
        self.assertEqual(first.state, "posted")
        self.assertFalse(self.run_on(date(2025, 1, 16)))  # rerun: nothing
        # the cron did not run in February: on 20 March it bills February and March, once each
        caught_up = self.run_on(date(2025, 3, 20))
        self.assertEqual(sorted(caught_up.mapped("invoice_date")), [date(2025, 2, 15), date(2025, 3, 15)])
        self.assertFalse(self.run_on(date(2025, 3, 20)))
        self.assertEqual(self.subscription.invoice_count, 3)
        self.assertEqual(self.subscription.date_next, date(2025, 4, 15))
        self.assertEqual(
            sorted(self.subscription.period_ids.mapped("date")),
            [date(2025, 1, 15), date(2025, 2, 15), date(2025, 3, 15)],
        )

    def test_pause_resume_end_renew(self):
        self.run_on(date(2025, 1, 15))
        self.subscription.action_pause()
        self.assertFalse(self.run_on(date(2025, 3, 1)))
        self.subscription.action_resume(date_ref=date(2025, 3, 10))
        # February fell into the pause; March is billed
        self.assertEqual(self.run_on(date(2025, 3, 20)).mapped("invoice_date"), [date(2025, 3, 15)])
        self.subscription.action_end(date_ref=date(2025, 4, 1))
        self.assertEqual(self.subscription.state, "ended")
        self.assertFalse(self.run_on(date(2025, 6, 1)))
        self.subscription.renewal_months = 3
        self.subscription.action_renew()
        self.assertEqual(self.subscription.date_end, date(2025, 7, 1))
        self.assertEqual(self.subscription.state, "running")
        self.assertEqual(
            sorted(self.run_on(date(2025, 6, 1)).mapped("invoice_date")), [date(2025, 4, 15), date(2025, 5, 15)]
        )

    def test_month_end_subscription(self):
        self.subscription.date_start = date(2024, 1, 31)
        moves = self.run_on(date(2024, 4, 30))
        self.assertEqual(
            sorted(moves.mapped("invoice_date")),
            [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)],
        )

    def test_churn_signal_once(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_installments.churn_days", 30)
        move = self.run_on(date(2025, 1, 15))
        self.pay(move)
        # no message nor order: the start date is the last sign of life
        self.env["mail.message"].search([("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]).unlink()
        self.assertFalse(self.Subscription._cron_churn_signal(date_ref=date(2025, 2, 10)))
        signalled = self.Subscription._cron_churn_signal(date_ref=date(2025, 2, 20))
        self.assertEqual(signalled, self.subscription)
        self.assertFalse(self.Subscription._cron_churn_signal(date_ref=date(2025, 2, 21)))
        self.assertEqual(len(self.subscription.activity_ids), 1)
