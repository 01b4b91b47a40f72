from datetime import timedelta

from odoo.tests import new_test_user, tagged

from odoo.addons.crm_receivables.report.crm_payment_discipline import delay_trend, is_unusual_delay
from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestPaymentDiscipline(CrmKpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Discipline = cls.env["crm.payment.discipline"]
        cls.seller = new_test_user(
            cls.env, login="discipline.seller", groups="base.group_user,crm_single_truth.group_crm_user"
        )
        cls.customer.user_id = cls.seller
        cls.env["ir.config_parameter"].sudo().set_param("crm_receivables.unusual_delay_margin", "5")

    def paid_invoice(self, amount, days_late, paid_days_ago, partner=None):
        """An invoice due ``days_late + paid_days_ago`` days ago, paid ``paid_days_ago`` days ago."""
        due_ago = days_late + paid_days_ago
        invoice = self.invoice(amount, days_ago=due_ago + 10, due_days=10, partner=partner)
        self.pay(invoice, days_ago=paid_days_ago)
        return invoice

    def check_on(self, day):
        """The cron, as the scheduler runs it, restricted to this test's customer."""
        flagged = self.Discipline.sudo()._cron_check_unusual_delays(date_ref=day)
        return flagged.filtered(lambda m: m.commercial_partner_id == self.customer).with_env(self.env)

    def unusual_activities(self, invoice):
        kind = self.env.ref("crm_receivables.mail_activity_type_unusual_delay")
        return invoice.activity_ids.filtered(lambda a: a.activity_type_id == kind)

    def test_pure_rules(self):
        self.assertEqual(delay_trend(None, 3.0), "none")
        self.assertEqual(delay_trend(4.0, 3.0), "stable")
        self.assertEqual(delay_trend(4.01, 3.0), "worse")
        self.assertEqual(delay_trend(1.99, 3.0), "better")
        self.assertTrue(is_unusual_delay(6, 0.0, 3, 5))
        self.assertFalse(is_unusual_delay(5, 0.0, 3, 5))
        self.assertFalse(is_unusual_delay(6, 0.0, 2, 5))
        self.assertFalse(is_unusual_delay(8, 3.0, 3, 5))

    def test_history_rows_and_figures(self):
        on_time = self.paid_invoice(1000.0, days_late=-2, paid_days_ago=10)  # paid 2 days early
        three = self.paid_invoice(2000.0, days_late=3, paid_days_ago=20)
        ten = self.paid_invoice(1000.0, days_late=10, paid_days_ago=40)
        old = self.paid_invoice(4000.0, days_late=1, paid_days_ago=300)  # before the last 6 months
        self.invoice(999.0, days_ago=50, due_days=10)  # open: not in the history
        rows = self.Discipline.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(
            sorted((r.move_id.id, r.days_late, r.is_on_time, r.amount) for r in rows),
            sorted(
                [
                    (on_time.id, 0, True, 1000.0),
                    (three.id, 3, False, 2000.0),
                    (ten.id, 10, False, 1000.0),
                    (old.id, 1, False, 4000.0),
                ]
            ),
        )
        self.assertEqual(rows.filtered(lambda r: r.move_id == ten).date_paid, self.days_ago(40))
        self.assertEqual(rows.filtered(lambda r: r.move_id == ten).date_due, self.days_ago(50))
        self.customer.invalidate_recordset()
        partner = self.customer
        self.assertEqual(partner.crm_paid_invoice_count, 4)
        self.assertAlmostEqual(partner.crm_ontime_share, 25.0)
        # (0 * 1000 + 3 * 2000 + 10 * 1000 + 1 * 4000) / 8000
        self.assertAlmostEqual(partner.crm_avg_payment_delay, 2.5)
        self.assertEqual(partner.crm_worst_delay, 10)
        self.assertAlmostEqual(partner.crm_recent_delay, 4.0)  # (0 + 6000 + 10000) / 4000
        self.assertAlmostEqual(partner.crm_previous_delay, 1.0)
        self.assertEqual(partner.crm_delay_trend, "worse")
        # the contact's card shows its company's discipline
        self.assertEqual(self.contact.crm_worst_delay, 10)
        action = partner.action_crm_payment_history()
        self.assertEqual(self.Discipline.search(action["domain"]), rows)

    def test_partial_payment_is_not_history_until_paid(self):
        invoice = self.invoice(1000.0, days_ago=30, due_days=10)
        self.pay(invoice, amount=400.0, days_ago=15)
        self.assertFalse(self.Discipline.search([("move_id", "=", invoice.id)]))
        self.pay(invoice, amount=600.0, days_ago=5)
        row = self.Discipline.search([("move_id", "=", invoice.id)])
        self.assertEqual((row.date_paid, row.days_late), (self.days_ago(5), 15))

    def test_unusual_delay_of_a_punctual_customer(self):
        for paid_days_ago in (100, 70, 40):
            self.paid_invoice(1000.0, days_late=0, paid_days_ago=paid_days_ago)
        invoice = self.invoice(1000.0, days_ago=15, due_days=10)  # 5 days late: 5 > 0 + 5 is false
        self.assertFalse(self.check_on(self.today))
        flagged = self.check_on(self.today + timedelta(days=1))  # 6 days late
        self.assertEqual(flagged, invoice)
        activity = self.unusual_activities(invoice)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.seller)
        self.assertEqual(activity.summary, "Unusual delay: 6 days late, usually 0.0")
        # once per invoice
        self.assertFalse(self.check_on(self.today + timedelta(days=2)))
        self.assertEqual(len(self.unusual_activities(invoice)), 1)

    def test_habitually_late_customer_raises_no_alarm(self):
        for paid_days_ago in (100, 70, 40):
            self.paid_invoice(1000.0, days_late=3, paid_days_ago=paid_days_ago)
        invoice = self.invoice(1000.0, days_ago=16, due_days=10)  # 6 days late, usual 3
        for day in range(0, 3):  # 6, 7, 8 days late: within 3 + 5
            self.assertFalse(self.check_on(self.today + timedelta(days=day)))
        self.assertFalse(self.unusual_activities(invoice))
        # 9 days late is beyond the habit
        self.assertEqual(self.check_on(self.today + timedelta(days=3)), invoice)

    def test_new_customer_without_history_raises_no_alarm(self):
        self.paid_invoice(1000.0, days_late=0, paid_days_ago=40)
        invoice = self.invoice(1000.0, days_ago=40, due_days=10)  # 30 days late, one paid invoice only
        self.assertFalse(self.check_on(self.today))
        self.assertFalse(self.unusual_activities(invoice))

    def test_salesperson_sees_only_own_customers_history(self):
        other = self.env["res.partner"].create(
            {"name": "Someone Else's", "is_company": True, "user_id": self.env.user.id}
        )
        mine = self.paid_invoice(100.0, days_late=1, paid_days_ago=5)
        self.paid_invoice(100.0, days_late=1, paid_days_ago=5, partner=other)
        visible = self.Discipline.with_user(self.seller).search([("partner_id", "in", (self.customer | other).ids)])
        self.assertEqual(visible.move_id, mine)

    def test_rating_thresholds(self):
        # one invoice paid N days late: the weighted delay is N
        expected = {0: "excellent", 1: "excellent", 2: "good", 7: "good", 8: "fair", 30: "fair", 31: "poor"}
        partners = {}
        for days_late in expected:
            partner = self.env["res.partner"].create({"name": f"Rated {days_late}", "is_company": True})
            self.paid_invoice(1000.0, days_late=days_late, paid_days_ago=3, partner=partner)
            partners[days_late] = partner
        fresh = self.env["res.partner"].create({"name": "No history", "is_company": True})
        self.env["res.partner"].invalidate_model()
        self.assertEqual({days: partner.crm_payment_rating for days, partner in partners.items()}, expected)
        self.assertEqual(
            {days: partner.crm_worst_delay for days, partner in partners.items()}, {days: days for days in expected}
        )
        self.assertEqual(fresh.crm_payment_rating, "none")

    def test_payments_by_month_chart(self):
        this_month = self.today.replace(day=1)
        on_time = self.invoice(1000.0, days_ago=5, due_days=30)
        self.pay(on_time, days_ago=0)
        late = self.invoice(2500.0, days_ago=40, due_days=10)
        self.pay(late, days_ago=0)
        self.paid_invoice(4000.0, days_late=1, paid_days_ago=400)  # older than twelve months
        self.contact.invalidate_recordset()
        chart = self.contact.crm_payment_chart
        self.assertEqual(len(chart["bars"]), 12)
        self.assertEqual(chart["bars"][-1]["month"], str(this_month))
        self.assertEqual((chart["bars"][-1]["on_time"], chart["bars"][-1]["late"]), (1000.0, 2500.0))
        self.assertEqual(sum(bar["on_time"] + bar["late"] for bar in chart["bars"][:-1]), 0.0)
