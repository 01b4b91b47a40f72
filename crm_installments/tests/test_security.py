from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestSecurity(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, "inst_sales", groups="crm_single_truth.group_crm_user", company_id=cls.env.company.id
        )
        cls.other = new_test_user(
            cls.env, "inst_other", groups="crm_single_truth.group_crm_user", company_id=cls.env.company.id
        )
        cls.customer.user_id = cls.salesman
        cls.plan = cls.make_plan(300.0, date_first=date(2025, 1, 31), user_id=cls.salesman.id)

    def test_salesperson_sees_own_customers_only(self):
        self.assertEqual(self.plan.with_user(self.salesman).amount_total, 300.0)
        self.assertEqual(len(self.plan.line_ids.with_user(self.salesman).read(["amount"])), 3)
        self.plan.user_id = self.salesman
        with self.assertRaises(AccessError):
            self.plan.with_user(self.other).read(["amount_total"])
        with self.assertRaises(AccessError):
            self.plan.line_ids.with_user(self.other).read(["amount"])
        self.assertFalse(self.env["crm.installment.plan"].with_user(self.other).search([("id", "=", self.plan.id)]))

    def test_user_cannot_delete_plans(self):
        plan = self.make_plan(300.0, confirm=False, user_id=self.salesman.id)
        with self.assertRaises(AccessError):
            plan.with_user(self.salesman).unlink()

    def test_other_company_hidden(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        self.salesman.company_ids |= other_company
        plan = self.plan.sudo().copy({"company_id": other_company.id, "line_ids": False})
        self.assertFalse(
            self.env["crm.installment.plan"]
            .with_user(self.salesman)
            .with_context(allowed_company_ids=[self.env.company.id])
            .search([("id", "=", plan.id)])
        )

    def test_payments_and_penalties_follow_the_plan(self):
        self.plan.user_id = self.salesman
        payment = self.plan.register_payment(100.0, date(2025, 1, 31))
        self.assertEqual(payment.with_user(self.salesman).amount, 100.0)
        with self.assertRaises(AccessError):
            payment.with_user(self.other).read(["amount"])
        with self.assertRaises(AccessError):
            payment.allocation_ids.with_user(self.other).read(["amount"])
        with self.assertRaises(AccessError):
            self.env["crm.installment.penalty.invoice"].with_user(self.salesman).create(
                {"partner_id": self.customer.id}
            )
