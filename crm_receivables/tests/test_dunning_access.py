"""Who may send reminders and write debts off, tried through RPC as the web client calls it:
a portal user, a salesperson, a user of another company, a manager."""

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon, call_kw

SALES = "base.group_user,sales_team.group_sale_salesman,crm_single_truth.group_crm_user"
MANAGER = "base.group_user,sales_team.group_sale_salesman_all_leads,crm_single_truth.group_crm_manager"


@tagged("post_install", "-at_install")
class TestDunningAccess(CrmKpiCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_access_users("dun", SALES, MANAGER)
        cls.manager_2 = new_test_user(cls.env, login="dun.manager2", groups=MANAGER, company_id=cls.env.company.id)
        cls.customer.write({"user_id": cls.seller.id, "email": "access@example.com"})
        cls.env.ref("crm_receivables.dunning_policy_default").is_default = True
        cls.invoice_late = cls.invoice(
            1000.0,
            days_ago=12,
            due_days=10,
        )  # level +1
        cls.invoice_late.invoice_user_id = cls.seller
        cls.other = cls.env["res.partner"].create({"name": "Other Customer LLP", "is_company": True})
        cls.other_invoice = cls.invoice(300.0, days_ago=100, due_days=10, partner=cls.other)
        cls.env.company.crm_bad_debt_account_id = cls.company_data["default_account_expense"]

    def call(self, login, model, method, *args, **kwargs):
        """``call_kw`` as the web client sends it; (result, error class name or None)."""
        body = call_kw(self, login, model, method, args, kwargs)
        if "error" in body:
            return None, body["error"]["data"]["name"]
        return body["result"], None

    def events(self, invoice):
        return self.env["crm.dunning.event"].search([("move_id", "=", invoice.id)])

    # ------------------------------------------------------------------ reminders
    def test_send_reminders_now_from_the_customer(self):
        for login in ("dun.portal",):
            _result, error = self.call(login, "res.partner", "action_crm_send_reminders_now", self.customer.ids)
            self.assertEqual(error, "odoo.exceptions.AccessError")
        self.assertFalse(self.events(self.invoice_late))
        # a user of another company reaches nothing of this company
        _result, error = self.call("dun.stranger", "res.partner", "action_crm_send_reminders_now", self.customer.ids)
        self.assertIsNone(error)
        self.assertFalse(self.events(self.invoice_late))
        # the customer's salesperson sends what is due, once
        result, error = self.call("dun.seller", "res.partner", "action_crm_send_reminders_now", self.customer.ids)
        self.assertEqual((result, error), (True, None))
        self.assertEqual(self.events(self.invoice_late).mapped("offset_days"), [1])
        self.call("dun.seller", "res.partner", "action_crm_send_reminders_now", self.customer.ids)
        self.assertEqual(len(self.events(self.invoice_late)), 1)

    def test_send_reminder_now_from_the_invoice(self):
        _result, error = self.call("dun.portal", "account.move", "action_crm_send_reminder_now", self.invoice_late.ids)
        self.assertEqual(error, "odoo.exceptions.AccessError")
        _result, error = self.call(
            "dun.stranger", "account.move", "action_crm_send_reminder_now", self.invoice_late.ids
        )
        self.assertEqual(error, "odoo.exceptions.AccessError")
        self.assertFalse(self.events(self.invoice_late))
        result, error = self.call("dun.seller", "account.move", "action_crm_send_reminder_now", self.invoice_late.ids)
        self.assertEqual((result, error), (True, None))
        self.assertEqual(self.events(self.invoice_late).mapped("offset_days"), [1])

    def test_engine_is_not_reachable_through_rpc(self):
        for method in ("_cron_run_dunning", "_claim_and_act", "_claim"):
            _result, error = self.call("dun.manager", "crm.dunning.policy", method)
            self.assertEqual(error, "odoo.exceptions.AccessError", method)

    # ------------------------------------------------------------------ write-offs
    def request(self, login="dun.seller"):
        result, error = self.call(
            login,
            "crm.bad.debt.writeoff",
            "create",
            {"partner_id": self.customer.id, "reason": "Liquidated", "move_ids": [Command.set(self.invoice_late.ids)]},
        )
        self.assertIsNone(error)
        return self.env["crm.bad.debt.writeoff"].browse(result)

    def test_writeoff_requested_by_a_salesperson_approved_by_another(self):
        _result, error = self.call("dun.portal", "res.partner", "action_crm_write_off", self.customer.ids)
        self.assertEqual(error, "odoo.exceptions.AccessError")
        _result, error = self.call(
            "dun.portal", "crm.bad.debt.writeoff", "create", {"partner_id": self.customer.id, "reason": "x"}
        )
        self.assertEqual(error, "odoo.exceptions.AccessError")
        writeoff = self.request()
        self.assertEqual((writeoff.state, writeoff.requested_by_id), ("draft", self.seller))
        # the salesperson can neither approve, post, nor set the state or the approver
        for method in ("action_approve", "action_post"):
            _result, error = self.call("dun.seller", "crm.bad.debt.writeoff", method, writeoff.ids)
            self.assertEqual(error, "odoo.exceptions.AccessError", method)
        for vals in ({"state": "approved"}, {"approved_by_id": self.seller.id}, {"state": "posted"}):
            _result, error = self.call("dun.seller", "crm.bad.debt.writeoff", "write", writeoff.ids, vals)
            self.assertEqual(error, "odoo.exceptions.AccessError", vals)
        # a manager of another company does not see it
        _result, error = self.call("dun.stranger", "crm.bad.debt.writeoff", "action_approve", writeoff.ids)
        self.assertEqual(error, "odoo.exceptions.AccessError")
        self.assertEqual(writeoff.state, "draft")
        result, error = self.call("dun.manager", "crm.bad.debt.writeoff", "action_approve", writeoff.ids)
        self.assertEqual((result, error), (True, None))
        writeoff.invalidate_recordset()
        self.assertEqual((writeoff.state, writeoff.approved_by_id), ("approved", self.manager))
        # frozen once approved, even for a manager
        for vals in ({"move_ids": [Command.set(self.other_invoice.ids)]}, {"account_id": False}, {"reason": "y"}):
            _result, error = self.call("dun.manager", "crm.bad.debt.writeoff", "write", writeoff.ids, vals)
            self.assertEqual(error, "odoo.exceptions.UserError", vals)
        result, error = self.call("dun.manager", "crm.bad.debt.writeoff", "action_post", writeoff.ids)
        self.assertEqual((result, error), (True, None))
        writeoff.invalidate_recordset()
        self.assertEqual((writeoff.state, self.invoice_late.payment_state), ("posted", "paid"))

    def test_requester_cannot_approve(self):
        writeoff = self.request("dun.manager")
        _result, error = self.call("dun.manager", "crm.bad.debt.writeoff", "action_approve", writeoff.ids)
        self.assertEqual(error, "odoo.exceptions.AccessError")
        self.assertEqual(writeoff.state, "draft")
        result, error = self.call("dun.manager2", "crm.bad.debt.writeoff", "action_approve", writeoff.ids)
        self.assertEqual((result, error), (True, None))

    def test_invoices_must_be_the_customers(self):
        _result, error = self.call(
            "dun.manager",
            "crm.bad.debt.writeoff",
            "create",
            {"partner_id": self.customer.id, "reason": "x", "move_ids": [Command.set(self.other_invoice.ids)]},
        )
        self.assertEqual(error, "odoo.exceptions.ValidationError")
        writeoff = self.request()
        _result, error = self.call(
            "dun.seller",
            "crm.bad.debt.writeoff",
            "write",
            writeoff.ids,
            {"move_ids": [Command.link(self.other_invoice.id)]},
        )
        self.assertEqual(error, "odoo.exceptions.ValidationError")
        self.assertEqual(writeoff.move_ids, self.invoice_late)
