from odoo import fields
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemo(TransactionCase):
    def test_demo_plan_and_subscription(self):
        plan = self.env.ref("crm_installments.installment_plan_late_demo", raise_if_not_found=False)
        if not plan:
            self.skipTest("demo data not loaded")
        self.assertEqual(plan.state, "active")
        self.assertEqual(plan.currency_id, self.env.ref("base.KZT"))
        late = plan.line_ids.filtered(lambda inst: inst.state == "overdue" and inst.penalty_ids)
        self.assertTrue(late)
        self.assertGreater(plan.penalty_total, 0)
        self.assertIn("×", late[0].penalty_ids[0].computation)
        timeline = plan.partner_id.crm_installment_timeline["lines"]
        self.assertEqual(len(timeline), len(plan.line_ids))
        self.assertIn("overdue", [item["state"] for item in timeline])
        subscription = self.env.ref("crm_installments.subscription_student_demo")
        self.assertEqual(subscription.state, "running")
        self.assertEqual(subscription.amount, 45_000)
        self.assertEqual(subscription.invoice_count, 8)  # the story's monthly invoices
        self.assertGreater(subscription.date_next, fields.Date.context_today(subscription))
