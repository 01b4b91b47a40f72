from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon
from odoo.addons.crm_single_truth.tests.tour_common import CrmTourCase


@tagged("post_install", "-at_install")
class TestReceivablesDashboard(CrmKpiCommon):
    def test_dashboard_data(self):
        # the test company is fresh: these are its only debts
        late = self.env["res.partner"].create({"name": "Late Ltd", "is_company": True})
        fine = self.env["res.partner"].create({"name": "Fine Ltd", "is_company": True})
        self.invoice(1000.0, days_ago=50, due_days=10)  # 40 days late: critical
        self.invoice(300.0, days_ago=15, due_days=10, partner=late)  # 5 days late
        self.invoice(200.0, days_ago=1, due_days=30, partner=late)  # not due
        self.invoice(700.0, days_ago=1, due_days=30, partner=fine)
        data = self.env["crm.receivable.aging"].get_dashboard_data()
        self.assertEqual(data["currency_id"], self.env.company.currency_id.id)
        self.assertEqual(
            data["totals"],
            {
                "amount_not_due": 900.0,
                "amount_1_30": 300.0,
                "amount_31_60": 1000.0,
                "amount_61_90": 0.0,
                "amount_over_90": 0.0,
                "amount_overdue": 1300.0,
                "amount_total": 2200.0,
            },
        )
        self.assertEqual(data["counts"], {"debtors": 3, "critical": 1, "overdue": 2})
        self.assertEqual(
            [(row["partner_id"][0], row["amount_total"], row["status"]) for row in data["top"]],
            [(self.customer.id, 1000.0, "critical"), (fine.id, 700.0, "not_due"), (late.id, 500.0, "overdue")],
        )
        self.assertEqual(len(self.env["crm.receivable.aging"].get_dashboard_data(limit=2)["top"]), 2)

    def test_drill_down_to_open_items(self):
        invoice = self.invoice(1000.0, days_ago=50, due_days=10)
        self.pay(invoice, amount=400.0, days_ago=5)
        self.invoice(100.0, days_ago=10, move_type="out_refund")
        row = self.env["crm.receivable.aging"].search([("partner_id", "=", self.customer.id)])
        lines = self.env["account.move.line"].search(row.action_open_lines()["domain"])
        self.assertEqual(sorted(lines.mapped("amount_residual")), [-100.0, 600.0])
        self.assertEqual(sum(lines.mapped("amount_residual")), row.amount_total)

    def test_salesperson_dashboard_shows_own_customers(self):
        seller = new_test_user(
            self.env,
            login="dash.seller",
            groups="base.group_user,crm_single_truth.group_crm_user",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        other = self.env["res.partner"].create(
            {"name": "Someone Else's", "is_company": True, "user_id": self.env.user.id}
        )
        self.customer.user_id = seller
        self.invoice(100.0, days_ago=5)
        self.invoice(900.0, days_ago=5, partner=other)
        data = self.env["crm.receivable.aging"].with_user(seller).get_dashboard_data()
        self.assertEqual(data["totals"]["amount_total"], 100.0)
        self.assertEqual([row["partner_id"][0] for row in data["top"]], [self.customer.id])


@tagged("post_install", "-at_install")
class TestReceivablesTours(HttpCase):
    """The dashboard, the partner's receivables tab and the invoice's buttons in a real browser:
    a console error fails the tour."""

    def setUp(self):
        super().setUp()
        self.company = self.env.ref("base.user_admin").company_id
        self.debtor = self.env["res.partner"].create({"name": "Dashboard Tour Debtor LLP", "is_company": True})
        self.today = fields.Date.today()

    def invoice(self, amount, days_late):
        invoice = (
            self.env["account.move"]
            .with_company(self.company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.debtor.id,
                    "invoice_date": self.today - timedelta(days=days_late + 20),
                    "invoice_date_due": self.today - timedelta(days=days_late),
                    "invoice_payment_term_id": False,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Service", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice

    def test_dashboard(self):
        self.invoice(99999999.0, days_late=40)
        action = self.env.ref("crm_receivables.crm_receivables_dashboard_action")
        self.start_tour(f"/odoo/action-{action.id}", "crm_receivables_dashboard_tour", login="admin")

    def test_partner_card(self):
        paid = self.invoice(300.0, days_late=20)
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
            {"payment_date": self.today - timedelta(days=15)}
        )._create_payments()
        self.invoice(500.0, days_late=5)
        self.start_tour(f"/odoo/res.partner/{self.debtor.id}", "crm_receivables_card_tour", login="admin")

    def test_invoice_buttons(self):
        invoice = self.invoice(500.0, days_late=5)
        self.start_tour(f"/odoo/account.move/{invoice.id}", "crm_receivables_invoice_tour", login="admin")
        self.assertEqual(self.env["crm.bad.debt.writeoff"].search([("partner_id", "=", self.debtor.id)]).state, "draft")

    def test_settings(self):
        self.start_tour("/odoo/settings", "crm_receivables_settings_tour", login="admin")


@tagged("post_install", "-at_install")
class TestReceivablesDemoTour(CrmTourCase):
    """On the demo data: the dashboard down to the late payer's invoice and its reminder history."""

    def test_dashboard_to_an_overdue_invoice_and_its_reminders(self):
        company = self.env.ref("crm_single_truth.company_dala_demo")
        late = self.env.ref("crm_single_truth.partner_late_payer_demo")
        Policy = self.env["crm.dunning.policy"].with_company(company).with_context(allowed_company_ids=[company.id])
        Policy._cron_run_dunning()
        Policy._cron_run_dunning()  # a rerun sends nothing more
        invoice = self.env["account.move"].search(
            [
                ("partner_id", "=", late.id),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "=", "not_paid"),
            ]
        )
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.crm_dunning_event_ids.level_id.mapped("name"), ["Escalation"])
        action = self.env.ref("crm_receivables.crm_receivables_dashboard_action")
        self.start_tour_with_screenshot(
            f"/odoo/action-{action.id}", "crm_receivables_demo_tour", "receivables_reminders"
        )

    def test_dashboard_shows_the_demo_debts(self):
        action = self.env.ref("crm_receivables.crm_receivables_dashboard_action")
        self.start_tour_with_screenshot(
            f"/odoo/action-{action.id}", "crm_receivables_demo_dashboard_tour", "receivables_dashboard"
        )
