from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.crm_installments.models.crm_subscription import CrmSubscription

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestSubscription(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Subscription = cls.env["crm.subscription"]
        # invoices on the payment day unless a test says otherwise
        cls.env.company.crm_subscription_invoice_days = 0
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

    def test_invoice_issued_in_advance(self):
        """With 7 days in advance, the invoice of 15 January is issued on 8 January and due on
        the 15th: it exists on the 12th, when the customer is reminded three days before."""
        self.env.company.crm_subscription_invoice_days = 7
        self.assertFalse(self.run_on(date(2025, 1, 7)))
        first = self.run_on(date(2025, 1, 8))
        self.assertEqual((first.invoice_date, first.invoice_date_due), (date(2025, 1, 8), date(2025, 1, 15)))
        self.assertEqual(first.amount_residual, 45_000.0)
        self.assertFalse(self.run_on(date(2025, 1, 12)))
        # the dunning's "three days before the due date" level reaches it on the 12th
        self.customer.email = "student@example.com"
        self.env["crm.dunning.policy"]._cron_run_dunning(date_ref=date(2025, 1, 12))
        events = self.env["crm.dunning.event"].search([("move_id", "=", first.id)])
        self.assertEqual(events.mapped("offset_days"), [-3])
        self.assertEqual(self.subscription.date_next, date(2025, 2, 15))
        second = self.run_on(date(2025, 2, 8))
        self.assertEqual((second.invoice_date, second.invoice_date_due), (date(2025, 2, 8), date(2025, 2, 15)))
        # a cron late by weeks: the missed period's invoice is dated on its start, once
        late = self.run_on(date(2025, 4, 20))
        self.assertEqual(
            sorted(late.mapped(lambda m: (m.invoice_date, m.invoice_date_due))),
            [(date(2025, 3, 15), date(2025, 3, 15)), (date(2025, 4, 15), date(2025, 4, 15))],
        )
        self.assertEqual(self.subscription.invoice_count, 4)

    def test_one_failing_subscription_does_not_roll_back_the_batch(self):
        other = self.Subscription.create(
            {
                "name": "Course B",
                "partner_id": self.customer.id,
                "product_id": self.course.id,
                "amount": 30_000.0,
                "date_start": date(2025, 1, 15),
            }
        )
        other.action_start()
        original = CrmSubscription._prepare_invoice_vals

        def broken(subscription, period_start, date_ref):
            if subscription == self.subscription:
                raise ValueError("no income account on the tariff")
            return original(subscription, period_start, date_ref)

        with patch.object(CrmSubscription, "_prepare_invoice_vals", broken):
            moves = self.run_on(date(2025, 1, 15))
            self.assertEqual(moves.mapped("amount_total"), [30_000.0])
            self.assertFalse(self.subscription.period_ids)
            self.assertEqual(self.subscription.billing_error, "no income account on the tariff")
            self.assertEqual(self.subscription.billing_error_date, date(2025, 1, 15))
            self.assertIn("no income account", self.subscription.message_ids[0].body)
            # not retried the same day (the batch would never end), nothing billed twice
            self.assertFalse(self.run_on(date(2025, 1, 15)))
        retried = self.run_on(date(2025, 1, 16))
        self.assertEqual(retried.mapped("amount_total"), [45_000.0])
        self.assertFalse(self.subscription.billing_error)
        self.assertEqual((self.subscription.invoice_count, other.invoice_count), (1, 1))

    def test_company_local_date(self):
        """01:30 on 15 January in Almaty is still the 14th in UTC: the period of the 15th is billed."""
        self.env.company.partner_id.tz = "Asia/Almaty"
        with freeze_time(datetime(2025, 1, 14, 20, 30)):
            moves = self.Subscription._cron_generate_invoices().filtered(lambda m: m.partner_id == self.customer)
        self.assertEqual(moves.mapped("invoice_date"), [date(2025, 1, 15)])

    def test_end_reminder_once_per_end_date(self):
        self.customer.email = "student@example.com"
        self.env.company.crm_subscription_end_reminder_days = 30
        self.subscription.date_end = date(2025, 3, 31)

        def remind(day):
            return self.Subscription._cron_end_reminders(date_ref=day) & self.subscription

        self.assertFalse(remind(date(2025, 2, 28)))
        self.assertEqual(remind(date(2025, 3, 1)), self.subscription)
        self.assertFalse(remind(date(2025, 3, 2)))
        activity = self.subscription.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.date_deadline, date(2025, 3, 31))
        mail = self.subscription.message_ids.filtered(lambda m: "ends on" in (m.subject or ""))
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.partner_ids, self.customer)
        # renewed: a new end date, a new reminder
        self.subscription.renewal_months = 3
        self.subscription.action_renew()
        self.assertEqual(self.subscription.date_end, date(2025, 6, 30))
        self.assertFalse(remind(date(2025, 5, 30)))
        self.assertEqual(remind(date(2025, 5, 31)), self.subscription)
        # not renewed again: ended the day after its end date
        self.Subscription._cron_end_reminders(date_ref=date(2025, 7, 1))
        self.assertEqual(self.subscription.state, "ended")

    def test_mrr_and_churn(self):
        weekly = self.Subscription.create(
            {
                "name": "Weekly",
                "partner_id": self.customer.id,
                "product_id": self.course.id,
                "amount": 1_200.0,
                "interval": "week",
                "date_start": date(2025, 2, 1),
            }
        )
        quarterly = self.Subscription.create(
            {
                "name": "Quarterly",
                "partner_id": self.customer.id,
                "product_id": self.course.id,
                "amount": 30_000.0,
                "interval": "quarter",
                "date_start": date(2025, 3, 1),
            }
        )
        (weekly | quarterly).action_start()
        weekly.action_end(date_ref=date(2025, 3, 10))
        subscriptions = self.subscription | weekly | quarterly
        Report = self.env["crm.subscription.report"]
        rows = Report._read_group(
            [
                ("subscription_id", "in", subscriptions.ids),
                ("date", ">=", date(2025, 1, 1)),
                ("date", "<", date(2025, 5, 1)),
            ],
            ["date:month"],
            ["mrr:sum", "new_mrr:sum", "churned_mrr:sum", "active_count:sum", "churned_count:sum", "churn_rate:avg"],
        )
        figures = {day.strftime("%Y-%m"): tuple(round(value, 2) for value in values) for day, *values in rows}
        # weekly 1,200 is 5,200 a month, quarterly 30,000 is 10,000 a month
        self.assertEqual(
            figures,
            {
                "2025-01": (45_000.0, 45_000.0, 0.0, 1, 0, 0.0),
                "2025-02": (50_200.0, 5_200.0, 0.0, 2, 0, 0.0),
                "2025-03": (55_000.0, 10_000.0, 5_200.0, 2, 1, 33.33),
                "2025-04": (55_000.0, 0.0, 0.0, 2, 0, 0.0),
            },
        )
