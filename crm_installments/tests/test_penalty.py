from datetime import date, timedelta

from odoo.tests import tagged

from odoo.addons.crm_installments.tools import penalty_segments

from .common import InstallmentCommon

DUE = date(2025, 1, 31)


@tagged("post_install", "-at_install")
class TestPenalty(InstallmentCommon):
    """1,000,000 overdue, 0.1 %/day, 5 grace days, capped at 10 %. Grace days are never charged:
    day 6 is the first chargeable day."""

    def total(self, days_late, payments=()):
        segments = penalty_segments(
            DUE, 1_000_000, list(payments), 0.1, 5, 10.0, DUE + timedelta(days=days_late), self.currency.round
        )
        return sum(segment["amount"] for segment in segments)

    def test_arithmetic(self):
        self.assertEqual(self.total(3), 0.0)
        self.assertEqual(self.total(5), 0.0)
        self.assertEqual(self.total(6), 1_000.0)
        self.assertEqual(self.total(30), 25_000.0)
        self.assertEqual(self.total(105), 100_000.0)  # 100 chargeable days reach the cap exactly
        self.assertEqual(self.total(200), 100_000.0)

    def test_payment_reduces_the_base_from_its_date(self):
        # half paid on day 16: days 6-15 on 1,000,000, days 16-30 on 500,000
        self.assertEqual(self.total(30, [(DUE + timedelta(days=16), 500_000)]), 10_000.0 + 7_500.0)
        # paid in full on day 10: days 6-9 only, whatever the date of the run
        self.assertEqual(self.total(10, [(DUE + timedelta(days=10), 1_000_000)]), 4_000.0)
        self.assertEqual(self.total(200, [(DUE + timedelta(days=10), 1_000_000)]), 4_000.0)

    def plan_1m(self):
        return self.make_plan(1_000_000.0, count=1, date_first=DUE, contract_id=self.contract.id)

    def test_cron_records_reruns_and_catch_up(self):
        plan = self.plan_1m()
        line = plan.line_ids
        for days_late, expected in ((3, 0.0), (6, 1_000.0), (30, 25_000.0), (200, 100_000.0)):
            self.Plan._cron_accrue_penalties(date_ref=DUE + timedelta(days=days_late))
            self.assertEqual(line.penalty_amount, expected, days_late)
        self.assertEqual(plan.penalty_total, 100_000.0)
        # rerun the same day: nothing changes, not even the records
        records = line.penalty_ids
        self.Plan._cron_accrue_penalties(date_ref=DUE + timedelta(days=200))
        self.assertEqual(line.penalty_ids, records)
        capped = line.penalty_ids.filtered("capped")
        self.assertEqual(len(capped), 1)
        self.assertIn("capped at 10", capped.computation)
        # each record shows its computation: base × rate × days
        # one record per month: February from day 6 (the 6th) to its end, then March whole
        february = line.penalty_ids.filtered(lambda p: p.date_from == date(2025, 2, 6))
        self.assertEqual(
            (february.date, february.base, february.days, february.amount),
            (date(2025, 2, 28), 1_000_000.0, 23, 23_000.0),
        )
        self.assertIn("× 23 d", february.computation)
        march = line.penalty_ids.filtered(lambda p: p.date_from == date(2025, 3, 1))
        self.assertEqual((march.days, march.amount), (31, 31_000.0))

    def test_late_cron_catches_up_exactly(self):
        daily = self.plan_1m()
        for day in range(1, 41):
            self.Plan._cron_accrue_penalties(date_ref=DUE + timedelta(days=day))
        once = self.make_plan(1_000_000.0, count=1, date_first=DUE, contract_id=self.contract.id)
        # the second plan's cron never ran: syncing it on day 40 gives the same figures
        once.line_ids._sync_penalties(DUE + timedelta(days=40))
        self.assertEqual(daily.penalty_total, 35_000.0)
        self.assertEqual(once.penalty_total, 35_000.0)
        self.assertEqual(
            sorted(daily.penalty_ids.mapped(lambda p: (p.date_from, p.days, p.amount))),
            sorted(once.penalty_ids.mapped(lambda p: (p.date_from, p.days, p.amount))),
        )

    def test_back_dated_payment_recomputes(self):
        plan = self.plan_1m()
        self.Plan._cron_accrue_penalties(date_ref=DUE + timedelta(days=30))
        self.assertEqual(plan.penalty_total, 25_000.0)
        # a payment dated day 16 is registered on day 30: days 16-30 on half the amount
        plan.register_payment(500_000.0, DUE + timedelta(days=16))
        self.assertEqual(plan.penalty_total, 17_500.0)
        # the rest is paid on day 31 (registered later): penalties stop there
        plan.register_payment(500_000.0, DUE + timedelta(days=31))
        self.Plan._cron_accrue_penalties(date_ref=DUE + timedelta(days=60))
        self.assertEqual(plan.penalty_total, 17_500.0)
        self.assertEqual(plan.state, "done")

    def test_no_contract_no_penalty(self):
        plan = self.make_plan(1_000_000.0, count=1, date_first=DUE)
        self.Plan._cron_accrue_penalties(date_ref=DUE + timedelta(days=30))
        self.assertFalse(plan.penalty_ids)

    def test_invoice_without_plan(self):
        invoice = self.invoice(1_000_000.0, days_ago=40, due_days=10)
        invoice.crm_contract_id = self.contract
        due = invoice.invoice_date_due
        self.Plan._cron_accrue_penalties(date_ref=due + timedelta(days=30))
        self.assertEqual(invoice.crm_penalty_total, 25_000.0)
        # paid (back-dated) on day 20: 14 chargeable days
        self.pay(invoice, days_ago=(self.today - (due + timedelta(days=20))).days)
        self.assertEqual(invoice.crm_penalty_total, 14_000.0)
        # invoice the penalties of the period
        wizard = self.env["crm.installment.penalty.invoice"].create(
            {
                "partner_id": self.customer.id,
                "date_from": due,
                "date_to": due + timedelta(days=60),
            }
        )
        self.assertEqual(wizard.amount_total, 14_000.0)
        action = wizard.action_create_invoice()
        penalty_invoice = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(penalty_invoice.amount_total, 14_000.0)
        self.assertEqual(penalty_invoice.invoice_line_ids.product_id, self.env.ref("crm_installments.product_penalty"))
        self.assertTrue(all(invoice.crm_penalty_ids.mapped("is_invoiced")))
        # nothing left to invoice
        wizard = self.env["crm.installment.penalty.invoice"].create(
            {
                "partner_id": self.customer.id,
                "date_from": due,
                "date_to": due + timedelta(days=60),
            }
        )
        self.assertEqual(wizard.amount_total, 0.0)

    def test_back_dated_payment_after_invoicing_books_a_correction(self):
        plan = self.plan_1m()
        self.Plan._cron_accrue_penalties(date_ref=DUE + timedelta(days=30))
        wizard = self.env["crm.installment.penalty.invoice"].create(
            {
                "partner_id": self.customer.id,
                "date_from": DUE,
                "date_to": DUE + timedelta(days=30),
            }
        )
        self.assertEqual(wizard.amount_total, 25_000.0)
        wizard.action_create_invoice()
        # paid in full, back-dated to day 16: 10 chargeable days, 15,000 were invoiced too much
        plan.register_payment(1_000_000.0, DUE + timedelta(days=16))
        correction = plan.penalty_ids.filtered(lambda p: not p.days)
        self.assertEqual(correction.amount, -15_000.0)
        self.assertEqual(plan.penalty_total, 10_000.0)
        # reruns keep the same correction record
        self.Plan._cron_accrue_penalties(date_ref=DUE + timedelta(days=40))
        plan.line_ids._sync_penalties(DUE + timedelta(days=41))
        self.assertEqual(plan.penalty_ids.filtered(lambda p: not p.days), correction)
        self.assertEqual(plan.penalty_total, 10_000.0)

    def test_cron_works_in_batches(self):
        plans = self.plan_1m() | self.plan_1m() | self.plan_1m()
        day = DUE + timedelta(days=30)
        first, _moves = self.Plan._cron_accrue_penalties(date_ref=day, batch_size=2)
        self.assertEqual(len(first & plans.line_ids), 2)
        second, _moves = self.Plan._cron_accrue_penalties(date_ref=day, batch_size=2)
        self.assertEqual(second & plans.line_ids, plans.line_ids - first)
        self.assertEqual(plans.mapped("penalty_total"), [25_000.0] * 3)
        # all done for the day: a rerun picks nothing of them
        third, _moves = self.Plan._cron_accrue_penalties(date_ref=day, batch_size=2)
        self.assertFalse(third & plans.line_ids)
