from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestAllocation(InstallmentCommon):
    def test_partial_then_overpayment_flows_to_next_lines(self):
        plan = self.make_plan(900.0, count=3, date_first=date(2025, 1, 31))
        plan.register_payment(100.0, date(2025, 1, 20))
        self.assertEqual(self.paid(plan), [100.0, 0.0, 0.0])
        first = plan.line_ids.sorted("date_due")[0]
        first._refresh_state(date(2025, 1, 25))
        self.assertEqual(first.state, "partial")
        payment = plan.register_payment(450.0, date(2025, 2, 10))
        self.assertEqual(self.paid(plan), [300.0, 250.0, 0.0])
        self.assertEqual(sorted(payment.allocation_ids.mapped("amount")), [200.0, 250.0])
        self.assertEqual(first.state, "paid")
        self.assertEqual(first.date_paid, date(2025, 2, 10))
        self.assertEqual(first.days_late, 10)
        self.assertEqual(plan.amount_paid, 550.0)
        self.assertEqual(plan.amount_residual, 350.0)
        # more than what is left: the plan is paid, the rest is shown as overpaid
        plan.register_payment(400.0, date(2025, 3, 1))
        self.assertEqual(self.paid(plan), [300.0, 300.0, 300.0])
        self.assertEqual(plan.state, "done")
        self.assertEqual(plan.amount_unallocated, 50.0)
        self.assertEqual(set(plan.line_ids.mapped("state")), {"paid"})

    def test_states_overdue_refreshed(self):
        plan = self.make_plan(300.0, count=3, interval="week", date_first=self.today + timedelta(days=1))
        plan.register_payment(50.0, self.today)
        self.assertEqual(plan.line_ids.sorted("date_due").mapped("state"), ["partial", "pending", "pending"])
        Line = self.env["crm.installment.line"]
        Line._refresh_overdue(self.today + timedelta(days=10))
        self.assertEqual(plan.line_ids.sorted("date_due").mapped("state"), ["overdue", "overdue", "pending"])
        self.assertEqual(plan.amount_overdue, 150.0)

    def test_cancelled_payment_reopens_lines(self):
        plan = self.make_plan(300.0, count=3, date_first=date(2025, 1, 31))
        first_payment = plan.register_payment(150.0, date(2025, 1, 30))
        plan.register_payment(150.0, date(2025, 2, 27))
        self.assertEqual(plan.state, "done")
        first_payment.action_cancel()
        # the second payment now pays the oldest line first
        self.assertEqual(self.paid(plan), [100.0, 50.0, 0.0])
        self.assertEqual(plan.state, "active")
        self.assertEqual(first_payment.state, "cancelled")
        self.assertFalse(first_payment.allocation_ids)
        self.assertEqual(len(plan.payment_ids), 2)  # history kept

    def test_back_dated_payment_pays_oldest_first(self):
        plan = self.make_plan(300.0, count=3, date_first=date(2025, 1, 31))
        later = plan.register_payment(100.0, date(2025, 3, 5))
        self.assertEqual(later.allocation_ids.line_id.date_due, date(2025, 1, 31))
        earlier = plan.register_payment(100.0, date(2025, 2, 1))
        self.assertEqual(earlier.allocation_ids.line_id.date_due, date(2025, 1, 31))
        self.assertEqual(later.allocation_ids.line_id.date_due, date(2025, 2, 28))
        self.assertEqual(plan.line_ids.sorted("date_due")[0].date_paid, date(2025, 2, 1))

    def test_invoice_payments_allocated_and_unreconciled(self):
        invoice = self.invoice(600.0, days_ago=0, due_days=30)
        plan = self.make_plan(600.0, count=3, date_first=invoice.invoice_date_due, invoice_id=invoice.id)
        payment = self.pay(invoice, amount=250.0)
        self.assertEqual(self.paid(plan), [200.0, 50.0, 0.0])
        self.assertEqual(plan.payment_ids.move_id, payment.move_id)
        # unreconciling the payment cancels its allocation
        payment.move_id.line_ids.remove_move_reconcile()
        self.assertEqual(self.paid(plan), [0.0, 0.0, 0.0])
        self.assertEqual(plan.payment_ids.state, "cancelled")
        # paid in full through accounting: the plan is done
        self.pay(invoice)
        self.assertEqual(plan.state, "done")
        self.assertEqual(plan.amount_paid, 600.0)

    def test_payment_before_plan_is_imported(self):
        invoice = self.invoice(300.0, days_ago=0, due_days=30)
        self.pay(invoice, amount=120.0)
        plan = self.make_plan(300.0, count=3, date_first=invoice.invoice_date_due, invoice_id=invoice.id)
        self.assertEqual(self.paid(plan), [100.0, 20.0, 0.0])

    def test_sale_order_plan_paid_through_its_invoice(self):
        order = self.sale_order(900.0)
        plan = self.make_plan(900.0, count=3, sale_order_id=order.id, date_first=self.today)
        invoice = order._create_invoices()
        invoice.action_post()
        self.pay(invoice, amount=400.0)
        self.assertEqual(self.paid(plan), [300.0, 100.0, 0.0])
        # the invoice is chased through the plan's installments, not by its own due date
        self.assertTrue(invoice._crm_has_plan())

    def test_editing_lines_of_an_active_plan_reallocates(self):
        plan = self.make_plan(900.0, count=3, date_first=date(2025, 1, 31))
        plan.register_payment(400.0, date(2025, 1, 31))
        first, second, third = plan.line_ids.sorted("date_due")
        plan.write(
            {
                "line_ids": [
                    Command.update(first.id, {"amount": 500.0}),
                    Command.update(second.id, {"amount": 100.0}),
                ]
            }
        )
        self.assertEqual(self.paid(plan), [400.0, 0.0, 0.0])
        self.assertEqual(first.state, "overdue" if first.date_due < self.today else "partial")

    def test_manual_payments_on_the_customer_timeline(self):
        plan = self.make_plan(300.0, count=3, date_first=date(2025, 1, 31))
        plan.register_payment(120.0, date(2025, 1, 30))
        events = self.env["crm.timeline.event"].search(
            [
                ("partner_id", "=", self.customer.id),
                ("res_model", "=", "crm.installment.plan"),
            ]
        )
        self.assertEqual(events.mapped(lambda e: (e.kind, e.res_id, e.amount)), [("payment", plan.id, 120.0)])

    def test_paid_lines_cannot_be_deleted(self):
        plan = self.make_plan(300.0, count=3, date_first=date(2025, 1, 31))
        plan.register_payment(50.0, date(2025, 1, 20))
        first = plan.line_ids.sorted("date_due")[0]
        with self.assertRaisesRegex(UserError, "restructure"):
            first.unlink()
