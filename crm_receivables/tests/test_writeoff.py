from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestBadDebtWriteoff(CrmKpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bad_debt_account = cls.company_data["default_account_expense"]
        cls.env.company.crm_bad_debt_account_id = cls.bad_debt_account
        cls.seller = new_test_user(
            cls.env,
            login="writeoff.seller",
            groups="base.group_user,sales_team.group_sale_salesman,crm_single_truth.group_crm_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="writeoff.manager",
            groups="base.group_user,account.group_account_invoice,crm_single_truth.group_crm_manager",
        )
        cls.customer.user_id = cls.seller

    def aging_total(self):
        Aging = self.env["crm.receivable.aging"]
        Aging.invalidate_model()
        return sum(Aging.search([("partner_id", "=", self.customer.id)]).mapped("amount_total"))

    def request(self, invoices):
        action = self.customer.with_user(self.seller).action_crm_write_off()
        form = Form(self.env["crm.bad.debt.writeoff"].with_user(self.seller).with_context(**action["context"]))
        form.reason = "Liquidated"
        writeoff = form.save()
        self.assertEqual(writeoff.move_ids, invoices)
        return writeoff

    def test_request_approve_post(self):
        first = self.invoice(1000.0, days_ago=200, due_days=10)
        second = self.invoice(500.0, days_ago=100, due_days=10)
        self.pay(first, amount=300.0, days_ago=150)
        self.invoice(250.0, days_ago=1, due_days=30)  # not due: not proposed
        self.assertEqual(self.aging_total(), 1450.0)
        writeoff = self.request(first | second)
        self.assertEqual(
            (writeoff.state, writeoff.amount, writeoff.account_id), ("draft", 1200.0, self.bad_debt_account)
        )
        with self.assertRaises(AccessError):
            writeoff.with_user(self.seller).action_approve()
        with self.assertRaises(UserError):
            writeoff.with_user(self.manager).action_post()  # not approved yet
        writeoff.with_user(self.manager).action_approve()
        self.assertEqual((writeoff.state, writeoff.approved_by_id), ("approved", self.manager))
        writeoff.with_user(self.manager).action_post()
        self.assertEqual(writeoff.state, "posted")
        entry = writeoff.writeoff_move_id
        self.assertEqual(entry.state, "posted")
        debit = entry.line_ids.filtered(lambda aml: aml.account_id == self.bad_debt_account)
        self.assertEqual((debit.debit, debit.credit), (1200.0, 0.0))
        receivable = entry.line_ids.filtered(lambda aml: aml.account_id.account_type == "asset_receivable")
        self.assertEqual(sorted(receivable.mapped("credit")), [500.0, 700.0])
        self.assertTrue(all(receivable.mapped("reconciled")))
        self.assertEqual((first.payment_state, second.payment_state), ("paid", "paid"))
        self.assertEqual(first.crm_writeoff_id, writeoff)
        # out of the live dashboard, in the customer's history; the amount stays as written off
        self.assertEqual(self.aging_total(), 250.0)
        self.customer.invalidate_recordset()
        self.assertEqual(self.customer.crm_writeoff_ids, writeoff)
        self.assertEqual(writeoff.amount, 1200.0)
        self.assertFalse(self.env["crm.payment.discipline"].search([("move_id", "in", (first | second).ids)]))
        with self.assertRaises(UserError):
            writeoff.action_cancel()
        timeline = self.env["crm.timeline.event"].search(
            [
                ("partner_id", "=", self.customer.id),
                ("res_model", "=", "crm.bad.debt.writeoff"),
            ]
        )
        self.assertEqual((timeline.res_id, timeline.name, timeline.amount), (writeoff.id, writeoff.name, -1200.0))

    def test_account_required_and_invoice_button(self):
        invoice = self.invoice(800.0, days_ago=100, due_days=10)
        action = invoice.action_crm_write_off()
        writeoff = self.env["crm.bad.debt.writeoff"].with_context(**action["context"]).create({"reason": "Court"})
        self.assertEqual((writeoff.move_ids, writeoff.amount), (invoice, 800.0))
        writeoff.account_id = False
        writeoff.with_user(self.manager).action_approve()
        with self.assertRaises(UserError):
            writeoff.with_user(self.manager).action_post()
        with self.assertRaises(UserError):  # frozen once approved
            writeoff.with_user(self.manager).account_id = self.bad_debt_account
        writeoff.with_user(self.manager).action_cancel()
        writeoff.with_user(self.seller).action_draft()
        writeoff.with_user(self.seller).account_id = self.bad_debt_account
        writeoff.with_user(self.manager).action_approve()
        writeoff.with_user(self.manager).action_post()
        self.assertEqual(invoice.payment_state, "paid")
        self.assertTrue(writeoff.name.startswith("WO/"))

    def test_foreign_currency_invoice(self):
        eur = self.setup_other_currency("EUR", rates=[("1900-01-01", 2.0)])
        invoice = self.invoice(1000.0, days_ago=100, due_days=10, currency=eur)  # 500.0 in company currency
        writeoff = self.env["crm.bad.debt.writeoff"].create(
            {
                "partner_id": self.customer.id,
                "reason": "Gone",
                "move_ids": [Command.set(invoice.ids)],
            }
        )
        self.assertEqual(writeoff.amount, 500.0)
        writeoff.with_user(self.manager).action_approve()
        writeoff.with_user(self.manager).action_post()
        self.assertEqual(invoice.payment_state, "paid")
        debit = writeoff.writeoff_move_id.line_ids.filtered(lambda aml: aml.account_id == self.bad_debt_account)
        self.assertEqual(debit.debit, 500.0)
        self.assertEqual(self.aging_total(), 0.0)

    def test_salesperson_sees_only_own_customers_writeoffs(self):
        other = self.env["res.partner"].create(
            {"name": "Not Mine LLP", "is_company": True, "user_id": self.env.user.id}
        )
        invoice = self.invoice(100.0, days_ago=100, due_days=10, partner=other)
        theirs = self.env["crm.bad.debt.writeoff"].create(
            {
                "partner_id": other.id,
                "reason": "x",
                "move_ids": [Command.set(invoice.ids)],
            }
        )
        with self.assertRaises(AccessError):
            theirs.with_user(self.seller).read(["amount"])


@tagged("post_install", "-at_install")
class TestWriteoffOutOfPaymentRating(CrmKpiCommon):
    """A bad debt written off is no payment: the card's payment rating and the discipline history
    leave it out alike (account.move._crm_payment_history_sql), and the stored KPI rows, kept by
    deltas, equal a rebuild."""

    def test_writeoff_leaves_the_payment_rating_and_the_history_alike(self):
        self.env.company.crm_bad_debt_account_id = self.company_data["default_account_expense"]
        on_time = self.invoice(3000.0, days_ago=100, due_days=10)
        self.pay(on_time, days_ago=90)  # on the due date
        bad = self.invoice(1000.0, days_ago=300, due_days=10)  # 290 days overdue
        writeoff = self.env["crm.bad.debt.writeoff"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.env.company.id,
                "move_ids": [Command.set(bad.ids)],
                "reason": "Liquidated",
            }
        )
        approver = new_test_user(
            self.env,
            login="writeoff.rating.manager",
            groups="base.group_user,account.group_account_invoice,crm_single_truth.group_crm_manager",
        )
        writeoff.with_user(approver).action_approve()
        writeoff.with_user(approver).action_post()
        self.assertEqual(bad.payment_state, "paid")
        self.customer.invalidate_recordset()
        # counted as paid 290 days late it would make the rating poor; it is not a payment
        self.assertEqual(self.customer.crm_avg_payment_delay, 0.0)
        self.assertEqual(self.customer.crm_payment_rating, "excellent")
        self.assertEqual(self.customer.crm_paid_invoice_count, 1)
        history = self.env["crm.payment.discipline"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(history.move_id, on_time)
        Kpi = self.env["crm.partner.kpi"]
        Kpi._crm_apply_pending()
        columns = ["ltv", "order_count", "paid_amount", "paid_delay_amount", "last_order_date"]

        def rows():
            return [
                {name: row[name] for name in columns}
                for row in Kpi.search_read([("partner_id", "=", self.customer.id)], columns)
            ]

        before = rows()
        Kpi._crm_rebuild([self.customer.id])
        self.assertEqual(rows(), before)
        self.assertEqual(before[0]["paid_amount"], 3000.0)
