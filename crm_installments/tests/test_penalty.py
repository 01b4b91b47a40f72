from datetime import date, datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.crm_installments.models.crm_installment_penalty import CrmInstallmentPenalty
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

    def test_cancelled_penalty_invoice_frees_its_penalties(self):
        """Penalties invoiced on an invoice that is cancelled can be invoiced again, and are
        invoiced again when that invoice is reset to draft; posting an invoice does not look for
        penalties at all."""
        invoice = self.invoice(1_000_000.0, days_ago=40, due_days=10)
        invoice.crm_contract_id = self.contract
        due = invoice.invoice_date_due
        self.Plan._cron_accrue_penalties(date_ref=due + timedelta(days=30))
        wizard = self.env["crm.installment.penalty.invoice"].create(
            {"partner_id": self.customer.id, "date_from": due, "date_to": due + timedelta(days=60)}
        )
        penalty_invoice = self.env["account.move"].browse(wizard.action_create_invoice()["res_id"])
        penalties = invoice.crm_penalty_ids
        self.assertTrue(all(penalties.mapped("is_invoiced")))
        searched = []
        Penalty = type(self.env["crm.installment.penalty"])
        original = Penalty._search

        def spy(model, domain, *args, **kwargs):
            searched.append(domain)
            return original(model, domain, *args, **kwargs)

        with patch.object(Penalty, "_search", spy):
            penalty_invoice.action_post()
            self.env.flush_all()
        self.assertEqual(searched, [])
        self.assertTrue(all(penalties.mapped("is_invoiced")))
        penalty_invoice.button_draft()
        penalty_invoice.button_cancel()
        self.env.flush_all()
        self.assertFalse(any(penalties.mapped("is_invoiced")))
        [(stored,)] = self.env.execute_query(
            SQL("SELECT bool_or(is_invoiced) FROM crm_installment_penalty WHERE id = ANY(%s)", penalties.ids)
        )
        self.assertFalse(stored)
        wizard = self.env["crm.installment.penalty.invoice"].create(
            {"partner_id": self.customer.id, "date_from": due, "date_to": due + timedelta(days=60)}
        )
        self.assertEqual(wizard.amount_total, 25_000.0)
        penalty_invoice.button_draft()
        self.assertTrue(all(penalties.mapped("is_invoiced")))

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

    def test_cron_batches_least_recently_computed_first(self):
        """A batch takes the lines computed to the oldest date first (never computed: by their due
        date), then the lines computed ahead of the day, so that a batch does not re-read the
        lines already done that day and a run back to an earlier date still recomputes them."""
        late, ahead, fresh = self.plan_1m(), self.plan_1m(), self.plan_1m()
        day = DUE + timedelta(days=30)
        ahead.line_ids._sync_penalties(DUE + timedelta(days=40))
        late.line_ids._sync_penalties(DUE + timedelta(days=10))
        self.assertEqual(ahead.penalty_total, 35_000.0)
        lines = (late | ahead | fresh).line_ids
        order = self.env["crm.installment.line"]
        for _call in range(100):
            batch, moves = self.Plan._cron_accrue_penalties(date_ref=day, batch_size=1)
            order |= batch & lines
            if not batch and not moves:
                break
        self.assertEqual(order.ids, (fresh | late | ahead).line_ids.ids)
        self.assertEqual((late | ahead | fresh).mapped("penalty_total"), [25_000.0] * 3)
        self.assertEqual(set(lines.mapped("penalty_date_ref")), {day})

    def test_cron_counts_what_is_left_up_to_one_batch(self):
        """The scheduler is told what is left up to one more batch (whether to call again), not
        the count of all the late lines of the day."""
        self.make_plan(1_200_000.0, count=12, interval="week", date_first=DUE, contract_id=self.contract.id)
        day = DUE + timedelta(days=120)
        reported = []
        IrCron = type(self.env["ir.cron"])
        with patch.object(IrCron, "_notify_progress", lambda cron, **kwargs: reported.append(kwargs)):
            self.accrue_all(day, batch_size=1)
        self.assertEqual(reported[0], {"done": 1, "remaining": 1})
        self.assertEqual(len(reported), 13)
        self.assertEqual(
            reported[-3:], [{"done": 1, "remaining": 1}, {"done": 1, "remaining": 0}, {"done": 0, "remaining": 0}]
        )

    def accrue_all(self, day, batch_size=2):
        """Call the cron as the scheduler does, until it reports nothing done."""
        for _call in range(100):
            lines, moves = self.Plan._cron_accrue_penalties(date_ref=day, batch_size=batch_size)
            if not lines and not moves:
                return
        self.fail("the penalty cron never finished")

    def test_failure_mid_batch_resumes_without_double_charging(self):
        plans = self.plan_1m() | self.plan_1m() | self.plan_1m()
        day = DUE + timedelta(days=30)
        first, _moves = self.Plan._cron_accrue_penalties(date_ref=day, batch_size=2)
        done = first & plans.line_ids
        kept = done.penalty_ids
        self.assertEqual(len(kept), 2 * len(done))

        write_runs = CrmInstallmentPenalty._write_runs

        def dying(penalty, delete_ids, to_insert, *_marks):
            # the runs are written, then the worker dies before marking its lines
            write_runs(penalty, delete_ids, to_insert, {}, {})
            raise RuntimeError("worker killed")

        with patch.object(CrmInstallmentPenalty, "_write_runs", dying):
            with self.assertRaisesRegex(RuntimeError, "worker killed"), self.env.cr.savepoint():
                self.Plan._cron_accrue_penalties(date_ref=day, batch_size=2)
        self.env.invalidate_all()
        self.assertFalse((plans.line_ids - done).penalty_ids)
        self.accrue_all(day)
        self.assertEqual(plans.mapped("penalty_total"), [25_000.0] * 3)
        # February (23 days) and 1-2 March: two runs per line, the first batch's untouched
        self.assertEqual(len(plans.penalty_ids), 6)
        self.assertEqual(done.penalty_ids, kept)
        self.assertEqual(
            sorted(plans.penalty_ids.mapped(lambda p: (p.date_from, p.days, p.amount))),
            sorted([(date(2025, 2, 6), 23, 23_000.0), (date(2025, 3, 1), 2, 2_000.0)] * 3),
        )

    def test_runs_left_unmarked_are_not_charged_again(self):
        plan = self.plan_1m()
        day = DUE + timedelta(days=30)
        self.accrue_all(day)
        records = plan.penalty_ids
        # as if a run had been written without its line being marked as computed
        self.env.cr.execute("UPDATE crm_installment_line SET penalty_date_ref = NULL WHERE plan_id = %s", [plan.id])
        self.env.invalidate_all()
        self.accrue_all(day)
        self.assertEqual(plan.penalty_ids, records)
        self.assertEqual(plan.penalty_total, 25_000.0)
        self.assertEqual(plan.line_ids.penalty_date_ref, day)

    def test_company_local_date(self):
        """At 01:30 in Almaty (20:30 UTC the day before) the cron works on Almaty's date."""
        self.env.company.partner_id.tz = "Asia/Almaty"
        plan = self.plan_1m()
        # day 30 in Almaty, still day 29 in UTC
        with freeze_time(datetime(2025, 3, 1, 20, 30)):
            self.Plan._cron_accrue_penalties()
        self.assertEqual(plan.line_ids.penalty_date_ref, date(2025, 3, 2))
        self.assertEqual(plan.penalty_total, 25_000.0)
        self.env.company.partner_id.tz = "UTC"
        other = self.plan_1m()
        with freeze_time(datetime(2025, 3, 1, 20, 30)):
            self.Plan._cron_accrue_penalties()
        self.assertEqual(other.penalty_total, 24_000.0)

    def test_penalty_invoice_in_the_plan_currency(self):
        eur = self.setup_other_currency("EUR")
        plan = self.make_plan(1_000_000.0, count=1, date_first=DUE, contract_id=self.contract.id, currency_id=eur.id)
        local = self.plan_1m()
        self.accrue_all(DUE + timedelta(days=30))
        self.assertEqual(plan.penalty_ids.currency_id, eur)
        wizard = self.env["crm.installment.penalty.invoice"].create(
            {"partner_id": self.customer.id, "date_from": DUE, "date_to": DUE + timedelta(days=30)}
        )
        # the oldest uninvoiced penalty decides, then each currency on an invoice of its own
        wizard.currency_id = eur
        self.assertEqual(wizard.amount_total, 25_000.0)
        self.assertEqual(wizard.penalty_ids, plan.penalty_ids)
        move = self.env["account.move"].browse(wizard.action_create_invoice()["res_id"])
        self.assertEqual((move.currency_id, move.amount_total), (eur, 25_000.0))
        self.assertTrue(all(plan.penalty_ids.mapped("is_invoiced")))
        self.assertFalse(any(local.penalty_ids.mapped("is_invoiced")))
        wizard = self.env["crm.installment.penalty.invoice"].create(
            {"partner_id": self.customer.id, "date_from": DUE, "date_to": DUE + timedelta(days=30)}
        )
        self.assertEqual(wizard.currency_id, self.currency)
        move = self.env["account.move"].browse(wizard.action_create_invoice()["res_id"])
        self.assertEqual((move.currency_id, move.amount_total), (self.currency, 25_000.0))

    def test_invoice_of_a_planned_sale_order_is_covered_once(self):
        """ "Covered by a plan" has one definition: an invoice of a sale order with a plan accrues
        no penalty of its own, is not a penalty candidate and is chased through the plan."""
        order = self.sale_order(900.0)
        self.make_plan(900.0, count=3, sale_order_id=order.id, date_first=self.today - timedelta(days=40))
        invoice = order._create_invoices()
        invoice.write(
            {
                "crm_contract_id": self.contract.id,
                "invoice_payment_term_id": False,
                "invoice_date": self.today - timedelta(days=40),
            }
        )
        invoice.invoice_date_due = self.today - timedelta(days=40)
        invoice.action_post()
        Move = self.env["account.move"]
        dates = self.env["res.company"]._crm_installments_dates(self.today)
        self.assertNotIn(invoice, Move._crm_penalty_candidates(dates, 10_000))
        self.assertIn(invoice.id, Move._crm_planned_invoice_ids())
        self.assertTrue(invoice._crm_has_plan())
        self.accrue_all(self.today, batch_size=10_000)
        self.assertFalse(invoice.crm_penalty_ids)
