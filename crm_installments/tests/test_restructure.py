from datetime import date

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestRestructure(InstallmentCommon):
    def test_restructure_keeps_paid_lines_and_history(self):
        plan = self.make_plan(1200.0, count=4, date_first=date(2025, 1, 31), contract_id=self.contract.id)
        plan.register_payment(300.0, date(2025, 1, 31))
        plan.register_payment(100.0, date(2025, 2, 27))
        self.Plan._cron_accrue_penalties(date_ref=date(2025, 3, 20))
        penalties = plan.penalty_ids
        self.assertTrue(penalties)  # the second line is late
        action = plan.action_restructure()
        wizard = (
            self.env[action["res_model"]]
            .with_context(**action["context"])
            .create(
                {
                    "installment_count": 4,
                    "interval": "month",
                    "date_first": date(2025, 4, 15),
                    "reason": "Cash gap",
                }
            )
        )
        self.assertEqual(wizard.amount_residual, 800.0)
        wizard.action_apply()
        self.assertEqual(
            self.schedule(plan),
            [
                ("2025-01-31", 300.0),
                ("2025-02-28", 100.0),
                ("2025-04-15", 200.0),
                ("2025-05-15", 200.0),
                ("2025-06-15", 200.0),
                ("2025-07-15", 200.0),
            ],
        )
        self.assertEqual(plan.amount_total, 1200.0)
        self.assertEqual(plan.amount_paid, 400.0)
        self.assertEqual(plan.amount_residual, 800.0)
        self.assertEqual(len(plan.payment_ids), 2)
        old = plan.line_ids.filtered("restructured")
        self.assertEqual(old.date_due, date(2025, 2, 28))
        self.assertEqual(old.state, "paid")
        # the penalties accrued before the restructuring stay, and no more accrue on the old line
        self.assertEqual(plan.penalty_ids, penalties)
        self.Plan._cron_accrue_penalties(date_ref=date(2025, 4, 10))
        self.assertEqual(plan.penalty_ids, penalties)
        self.assertIn("Restructured", plan.message_ids[0].body)
        self.assertIn("Cash gap", plan.message_ids[0].body)
        # a new payment goes to the new lines
        plan.register_payment(250.0, date(2025, 4, 15))
        self.assertEqual(self.paid(plan), [300.0, 100.0, 200.0, 50.0, 0.0, 0.0])

    def test_only_active_plans(self):
        plan = self.make_plan(300.0, confirm=False)
        with self.assertRaises(UserError):
            plan.action_restructure()
