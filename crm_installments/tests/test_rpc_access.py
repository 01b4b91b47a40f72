"""Issue 14 through RPC, as the web client calls: a portal user, a salesperson and a user of
another company against the money records (allocations, penalties, imported payments), the
state and amount fields, and every public method of the addon."""

from datetime import date, timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_single_truth.tests.common import call_kw

ACCESS = "odoo.exceptions.AccessError"
USER = "odoo.exceptions.UserError"


@tagged("post_install", "-at_install")
class TestRpcAccess(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        company = env.ref("base.user_admin").company_id
        cls.company = company
        cls.today = fields.Date.context_today(env.ref("base.user_admin"))
        cls.other_company = env["res.company"].create({"name": "RPC Other Company"})
        cls.sales = new_test_user(
            env,
            "inst_rpc_sales",
            groups="sales_team.group_sale_salesman,crm_single_truth.group_crm_user",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        cls.manager = new_test_user(
            env,
            "inst_rpc_manager",
            groups="sales_team.group_sale_salesman_all_leads,crm_single_truth.group_crm_manager",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        cls.portal = new_test_user(env, "inst_rpc_portal", groups="base.group_portal", company_id=company.id)
        cls.stranger = new_test_user(
            env,
            "inst_rpc_other",
            groups="sales_team.group_sale_salesman_all_leads,crm_single_truth.group_crm_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )
        cls.customer = env["res.partner"].create(
            {"name": "RPC Customer LLP", "is_company": True, "user_id": cls.sales.id, "email": "rpc@example.com"}
        )
        cls.contract = env["crm.contract"].create(
            {
                "name": "RPC-1",
                "partner_id": cls.customer.id,
                "company_id": company.id,
                "state": "active",
                "date_start": date(2020, 1, 1),
                "penalty_rate": 0.1,
                "penalty_grace_days": 5,
                "penalty_cap_percent": 10.0,
            }
        )
        Plan = env["crm.installment.plan"].with_company(company)
        cls.plan = Plan.create(
            {
                "partner_id": cls.customer.id,
                "contract_id": cls.contract.id,
                "company_id": company.id,
                "currency_id": company.currency_id.id,
                "user_id": cls.sales.id,
                "amount_total": 300_000.0,
                "installment_count": 3,
                "date_first": cls.today - timedelta(days=60),
            }
        )
        cls.plan.action_confirm()
        cls.manual = cls.plan.register_payment(50_000.0, cls.today - timedelta(days=50))
        Plan._cron_accrue_penalties(date_ref=cls.today)
        cls.draft = Plan.create(
            {
                "partner_id": cls.customer.id,
                "company_id": company.id,
                "currency_id": company.currency_id.id,
                "user_id": cls.sales.id,
                "amount_total": 900.0,
                "installment_count": 3,
            }
        )
        # an invoice paid through accounting: its plan's payment is imported
        product = env["product.product"].create({"name": "RPC machine", "type": "service", "taxes_id": False})
        cls.invoice = (
            env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": cls.customer.id,
                    "company_id": company.id,
                    "invoice_date": cls.today,
                    "invoice_line_ids": [
                        Command.create({"product_id": product.id, "price_unit": 600.0, "tax_ids": False})
                    ],
                }
            )
        )
        cls.invoice.action_post()
        cls.invoice_plan = Plan.create(
            {
                "partner_id": cls.customer.id,
                "invoice_id": cls.invoice.id,
                "company_id": company.id,
                "currency_id": company.currency_id.id,
                "user_id": cls.sales.id,
                "amount_total": 600.0,
                "installment_count": 2,
                "date_first": cls.today,
            }
        )
        cls.invoice_plan.action_confirm()
        env["account.payment.register"].with_context(active_model="account.move", active_ids=cls.invoice.ids).create(
            {"amount": 250.0, "payment_date": cls.today}
        )._create_payments()
        cls.imported = cls.invoice_plan.payment_ids
        cls.subscription = env["crm.subscription"].create(
            {
                "name": "RPC course",
                "partner_id": cls.customer.id,
                "company_id": company.id,
                "product_id": product.id,
                "amount": 45_000.0,
                "user_id": cls.sales.id,
                "date_start": cls.today,
            }
        )
        cls.subscription.action_start()
        cls.everyone = ("inst_rpc_portal", "inst_rpc_sales", "inst_rpc_other")

    def call(self, login, model, method, *args, **kwargs):
        return call_kw(self, login, model, method, args, kwargs)

    def assertRefused(self, result, error=ACCESS, msg=None):
        self.assertIn("error", result, msg)
        self.assertEqual(result["error"]["data"]["name"], error, msg)

    def assertDone(self, result, msg=None):
        self.assertNotIn("error", result, msg or result.get("error", {}).get("data", {}).get("message"))
        return result.get("result")

    def test_fixture(self):
        self.assertTrue(self.plan.penalty_ids)
        self.assertTrue(self.manual.allocation_ids)
        self.assertTrue(self.imported.partial_id)
        self.assertEqual(self.imported.amount, 250.0)

    def test_allocations_read_only_for_everyone(self):
        allocation = self.manual.allocation_ids[:1]
        self.assertEqual(
            self.assertDone(
                self.call("inst_rpc_sales", "crm.installment.allocation", "read", allocation.ids, ["amount"])
            )[0]["amount"],
            allocation.amount,
        )
        for login in self.everyone:
            self.assertRefused(
                self.call(login, "crm.installment.allocation", "write", allocation.ids, {"amount": 1.0}), msg=login
            )
            self.assertRefused(self.call(login, "crm.installment.allocation", "unlink", allocation.ids), msg=login)
            self.assertRefused(
                self.call(
                    login,
                    "crm.installment.allocation",
                    "create",
                    {"payment_id": self.manual.id, "line_id": allocation.line_id.id, "amount": 1.0},
                ),
                msg=login,
            )
        self.assertEqual(self.plan.amount_paid, 50_000.0)

    def test_penalties_read_only_for_everyone(self):
        penalty = self.plan.penalty_ids[:1]
        total = self.plan.penalty_total
        self.assertDone(self.call("inst_rpc_sales", "crm.installment.penalty", "read", penalty.ids, ["amount"]))
        for login in self.everyone:
            self.assertRefused(
                self.call(login, "crm.installment.penalty", "write", penalty.ids, {"amount": 0.0}), msg=login
            )
            self.assertRefused(self.call(login, "crm.installment.penalty", "unlink", penalty.ids), msg=login)
            self.assertRefused(
                self.call(
                    login,
                    "crm.installment.penalty",
                    "create",
                    {"line_id": penalty.line_id.id, "date": "2025-01-01", "date_from": "2025-01-01", "amount": -9.0},
                ),
                msg=login,
            )
            # nor through the plan's one2many
            self.assertRefused(
                self.call(login, "crm.installment.plan", "write", self.plan.ids, {"penalty_ids": [[2, penalty.id]]}),
                msg=login,
            )
        self.env.invalidate_all()
        self.assertEqual(self.plan.penalty_total, total)

    def test_payments_never_rewritten(self):
        for login in self.everyone:
            for payment in self.manual | self.imported:
                self.assertRefused(
                    self.call(login, "crm.installment.payment", "write", payment.ids, {"amount": 1.0}), msg=login
                )
            # an imported payment cannot be forged either
            self.assertRefused(
                self.call(
                    login,
                    "crm.installment.payment",
                    "create",
                    {"plan_id": self.invoice_plan.id, "amount": 600.0, "partial_id": self.imported.partial_id.id},
                ),
                msg=login,
            )
            self.assertRefused(self.call(login, "crm.installment.payment", "action_cancel", self.imported.ids))
        # a manager cancels a manual payment, never an imported one
        self.assertRefused(
            self.call("inst_rpc_manager", "crm.installment.payment", "action_cancel", self.imported.ids), USER
        )
        self.assertDone(self.call("inst_rpc_manager", "crm.installment.payment", "action_cancel", self.manual.ids))
        self.env.invalidate_all()
        self.assertEqual((self.manual.state, self.imported.state), ("cancelled", "posted"))
        self.assertEqual(self.invoice_plan.amount_paid, 250.0)

    def test_state_and_amounts_written_by_the_code_only(self):
        line = self.plan.line_ids[:1]
        for login in self.everyone:
            for values in ({"state": "done"}, {"amount_paid": 300_000.0}, {"penalty_total": 0.0}):
                self.assertRefused(self.call(login, "crm.installment.plan", "write", self.plan.ids, values), msg=login)
            for values in ({"state": "paid"}, {"penalty_amount": 0.0}, {"restructured": True}):
                self.assertRefused(self.call(login, "crm.installment.line", "write", line.ids, values), msg=login)
        self.env.invalidate_all()
        self.assertEqual(self.plan.state, "active")

    def test_register_payment(self):
        for login in ("inst_rpc_portal", "inst_rpc_other"):
            self.assertRefused(
                self.call(login, "crm.installment.plan", "register_payment", self.plan.ids, 10.0), msg=login
            )
        payment_id = self.assertDone(
            self.call("inst_rpc_sales", "crm.installment.plan", "register_payment", self.plan.ids, 10.0)
        )
        self.env.invalidate_all()
        self.assertEqual(self.env["crm.installment.payment"].browse(payment_id).amount, 10.0)
        self.assertEqual(self.plan.amount_paid, 50_010.0)

    def test_plan_actions(self):
        for login in ("inst_rpc_portal", "inst_rpc_other"):
            for method in ("action_compute_schedule", "action_confirm", "action_cancel", "action_register_payment"):
                self.assertRefused(self.call(login, "crm.installment.plan", method, self.draft.ids), msg=method)
            self.assertRefused(self.call(login, "crm.installment.plan", "action_restructure", self.plan.ids))
            self.assertRefused(self.call(login, "crm.installment.plan", "action_invoice_penalties", self.plan.ids))
            self.assertRefused(
                self.call(login, "account.move", "action_crm_create_installment_plan", self.invoice.ids), msg=login
            )
        self.assertRefused(
            self.call("inst_rpc_portal", "res.partner", "action_crm_open_installment_plans", self.customer.ids)
        )
        self.assertDone(self.call("inst_rpc_sales", "crm.installment.plan", "action_confirm", self.draft.ids))
        self.env.invalidate_all()
        self.assertEqual(self.draft.state, "active")
        # billing penalties is for managers and invoicing users
        self.assertRefused(
            self.call("inst_rpc_sales", "crm.installment.plan", "action_invoice_penalties", self.plan.ids)
        )
        self.assertRefused(
            self.call("inst_rpc_sales", "crm.installment.penalty.invoice", "create", {"partner_id": self.customer.id})
        )

    def test_crons_are_not_rpc(self):
        for login in self.everyone:
            result = self.call(login, "crm.installment.plan", "_cron_accrue_penalties")
            self.assertIn("error", result)
            self.assertIn("Private methods", result["error"]["data"]["message"])

    def test_subscriptions(self):
        for login in ("inst_rpc_portal", "inst_rpc_other"):
            for method in ("action_pause", "action_end", "action_renew", "action_open_invoices"):
                self.assertRefused(self.call(login, "crm.subscription", method, self.subscription.ids), msg=method)
        self.assertRefused(self.call("inst_rpc_portal", "crm.subscription.report", "search_read", [], ["mrr"]))
        rows = self.assertDone(
            self.call("inst_rpc_other", "crm.subscription.report", "search_read", [], ["subscription_id"])
        )
        self.assertNotIn(self.subscription.id, [row["subscription_id"][0] for row in rows])
        rows = self.assertDone(
            self.call("inst_rpc_sales", "crm.subscription.report", "search_read", [], ["subscription_id"])
        )
        self.assertIn(self.subscription.id, [row["subscription_id"][0] for row in rows])
        self.assertRefused(
            self.call("inst_rpc_sales", "crm.subscription.period", "create", {"subscription_id": self.subscription.id})
        )
        self.assertRefused(
            self.call(
                "inst_rpc_sales",
                "crm.subscription",
                "write",
                self.subscription.ids,
                {"billing_error_date": "2099-01-01"},
            )
        )
        self.assertDone(self.call("inst_rpc_sales", "crm.subscription", "action_pause", self.subscription.ids))
        self.env.invalidate_all()
        self.assertEqual(self.subscription.state, "paused")
