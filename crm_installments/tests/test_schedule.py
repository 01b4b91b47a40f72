from datetime import date

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.crm_installments.tools import MAX_INSTALLMENTS, due_dates, split_amount

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestSchedule(InstallmentCommon):
    def test_month_ends_stay_month_ends(self):
        self.assertEqual(
            due_dates(date(2025, 1, 31), "month", 5),
            [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31)],
        )
        # leap year: 29 February, then back to the 31st
        self.assertEqual(
            due_dates(date(2024, 1, 31), "month", 3), [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]
        )
        self.assertEqual(due_dates(date(2024, 2, 29), "quarter", 5)[-1], date(2025, 2, 28))

    def test_weekly_and_quarterly(self):
        self.assertEqual(
            due_dates(date(2024, 12, 25), "week", 3), [date(2024, 12, 25), date(2025, 1, 1), date(2025, 1, 8)]
        )
        self.assertEqual(
            due_dates(date(2024, 11, 30), "quarter", 4),
            [date(2024, 11, 30), date(2025, 2, 28), date(2025, 5, 30), date(2025, 8, 30)],
        )

    def test_split_rounding_remainder_on_last(self):
        self.assertEqual(split_amount(100.0, 3, self.currency.round), [33.33, 33.33, 33.34])
        self.assertEqual(split_amount(1000.0, 6, self.currency.round), [166.67] * 5 + [166.65])
        self.assertEqual(split_amount(10.0, 1, self.currency.round), [10.0])

    def test_tiny_total_never_makes_a_negative_line(self):
        plan = self.make_plan(0.09, count=6, date_first=date(2025, 1, 31), confirm=False)
        self.assertEqual([amount for _day, amount in self.schedule(plan)], [0.01] * 5 + [0.04])
        with self.assertRaisesRegex(ValidationError, "cannot be split into 6 installments"):
            self.make_plan(0.05, count=6, confirm=False)

    def test_installment_count_has_an_upper_bound(self):
        plan = self.make_plan(12_000.0, count=MAX_INSTALLMENTS, confirm=False)
        self.assertEqual(len(plan.line_ids), 120)
        with self.assertRaisesRegex(ValidationError, "at most 120 are allowed"):
            self.make_plan(12_000.0, count=121, confirm=False)
        with self.assertRaisesRegex(ValidationError, "at most 120 are allowed"):
            plan.installment_count = 10_000

    def test_plan_schedule_with_down_payment(self):
        plan = self.make_plan(
            1000.0, count=3, date_first=date(2024, 1, 31), down_payment=100.0, date_down_payment=date(2024, 1, 10)
        )
        self.assertEqual(
            self.schedule(plan),
            [
                ("2024-01-10", 100.0),
                ("2024-01-31", 300.0),
                ("2024-02-29", 300.0),
                ("2024-03-31", 300.0),
            ],
        )
        self.assertTrue(plan.line_ids.sorted("date_due")[0].is_down_payment)
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.amount_residual, 1000.0)

    def test_plan_schedule_rounding_weekly(self):
        plan = self.make_plan(100.0, count=3, interval="week", date_first=date(2025, 3, 3))
        self.assertEqual(self.schedule(plan), [("2025-03-03", 33.33), ("2025-03-10", 33.33), ("2025-03-17", 33.34)])

    def test_free_editing_must_add_up(self):
        plan = self.make_plan(900.0, count=3, confirm=False)
        first, second, third = plan.line_ids.sorted("date_due")
        # moving money between lines is fine as long as the total holds
        plan.write(
            {"line_ids": [Command.update(first.id, {"amount": 500.0}), Command.update(second.id, {"amount": 100.0})]}
        )
        self.assertEqual(sum(plan.line_ids.mapped("amount")), 900.0)
        with self.assertRaisesRegex(ValidationError, "add up to"):
            plan.write({"line_ids": [Command.update(third.id, {"amount": 350.0})]})
        with self.assertRaisesRegex(ValidationError, "add up to"):
            plan.write({"amount_total": 1000.0})

    def test_plan_from_documents(self):
        order = self.sale_order(1200.0)
        action = order.action_crm_create_installment_plan()
        self.assertEqual(action["context"]["default_sale_order_id"], order.id)
        self.assertEqual(action["context"]["default_amount_total"], 1200.0)
        invoice = self.invoice(800.0, due_days=30)
        action = invoice.action_crm_create_installment_plan()
        self.assertEqual(action["context"]["default_invoice_id"], invoice.id)
        self.assertEqual(action["context"]["default_amount_total"], 800.0)
        action = self.contract.action_crm_create_installment_plan()
        self.assertEqual(action["context"]["default_contract_id"], self.contract.id)
        plan = self.Plan.with_context(**action["context"]).create({"amount_total": 300.0, "installment_count": 2})
        self.assertEqual(plan.partner_id, self.customer)
        self.assertTrue(plan.name.startswith("INST/"))
