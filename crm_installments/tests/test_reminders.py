import importlib.util
from datetime import timedelta
from pathlib import Path

from odoo import Command
from odoo.tests import tagged

from .common import InstallmentCommon


@tagged("post_install", "-at_install")
class TestReminders(InstallmentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.email = "buyer@example.com"
        cls.due = cls.today + timedelta(days=10)
        cls.plan = cls.make_plan(300.0, count=1, date_first=cls.due)
        cls.line = cls.plan.line_ids

    def run_on(self, day):
        return self.Plan._cron_send_reminders(date_ref=day).filtered(lambda e: e.installment_line_id == self.line)

    def emails(self):
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("message_type", "=", "comment"),
            ]
        )

    def test_each_level_once_day_by_day(self):
        acted = {}
        for offset in range(-6, 12):
            events = self.run_on(self.due + timedelta(days=offset))
            if events:
                acted[offset] = events.mapped("offset_days")
        self.assertEqual(acted, {-3: [-3], 0: [0], 1: [1], 7: [7]})
        # rerun on any day: nothing
        self.assertFalse(self.run_on(self.due + timedelta(days=7)))
        self.assertEqual(len(self.emails()), 3)
        self.assertIn("restructure", self.emails()[0].body)
        call = self.plan.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual(len(call), 1)
        self.assertEqual(len(self.line.plan_id.message_ids.filtered(lambda m: "Reminder sent" in (m.body or ""))), 3)

    def test_late_cron_sends_the_highest_level_only(self):
        events = self.run_on(self.due + timedelta(days=9))
        self.assertEqual(events.mapped("offset_days"), [7])
        self.assertFalse(self.run_on(self.due + timedelta(days=9)))

    def test_paid_line_is_not_chased(self):
        self.plan.register_payment(300.0, self.today)
        self.assertFalse(self.run_on(self.due + timedelta(days=1)))

    def test_invoice_with_plan_not_dunned_as_invoice(self):
        invoice = self.invoice(600.0, days_ago=30, due_days=10)
        self.make_plan(600.0, count=2, date_first=self.today + timedelta(days=20), invoice_id=invoice.id)
        events = self.env["crm.dunning.policy"]._cron_run_dunning(date_ref=self.today)
        self.assertNotIn(invoice, events.move_id)

    def test_one_engine_for_invoices_and_installments(self):
        """The dunning cron chases installments too, with the same claim: the installment cron
        finds nothing left, and the event names its document generically."""
        invoice = self.invoice(500.0, days_ago=12, due_days=10)  # 2 days late
        events = self.env["crm.dunning.policy"]._cron_run_dunning(date_ref=self.due + timedelta(days=1))
        line_events = events.filtered(lambda e: e.installment_line_id == self.line)
        self.assertEqual(
            (line_events.res_model, line_events.res_id, line_events.offset_days),
            ("crm.installment.line", self.line.id, 1),
        )
        self.assertIn(invoice, events.move_id)
        self.assertFalse(self.run_on(self.due + timedelta(days=1)))

    def test_accountant_reminded_supervisor_as_for_invoices(self):
        """The installment reminder goes to the accountant; the supervisor's activity goes to the
        same user as an invoice's would (team leader, else the policy's supervisor)."""
        self.env["res.lang"]._activate_lang("ru_RU")
        accountant = self.env["res.partner"].create(
            {
                "name": "Иванова Мария Петровна",
                "lang": "ru_RU",
                "parent_id": self.customer.id,
                "type": "contact",
                "crm_contact_role": "accountant",
                "email": "buh@example.com",
            }
        )
        supervisor = self.env["res.users"].create({"name": "Installments Supervisor", "login": "inst.supervisor"})
        policy = self.env.ref("crm_installments.dunning_policy_installments")
        policy.supervisor_id = supervisor
        policy.level_ids = [
            Command.create({"name": "Escalate installment", "offset_days": 20, "action": "activity_supervisor"})
        ]
        email = self.run_on(self.due)
        self.assertEqual((email.offset_days, email.recipient_id), (0, accountant))
        self.assertEqual(self.emails().partner_ids, accountant)
        self.assertIn("Уважаемая Мария Петровна!", self.emails().body)
        escalation = self.run_on(self.due + timedelta(days=20))
        self.assertEqual((escalation.action, escalation.user_id), ("activity_supervisor", supervisor))
        invoice = self.invoice(700.0, days_ago=40, due_days=10)
        self.customer.crm_dunning_policy_id = policy
        invoice_event = (
            self.env["crm.dunning.policy"]
            ._cron_run_dunning(date_ref=self.today)
            .filtered(lambda e: e.move_id == invoice)
        )
        self.assertEqual((invoice_event.action, invoice_event.user_id), ("activity_supervisor", supervisor))
        todo = self.plan.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_todo")
        )
        self.assertEqual(todo.user_id, supervisor)

    def test_one_scheduled_action_reminds_installments(self):
        """No scheduled action of this addon runs the engine a second time: the dunning cron of
        crm_receivables is the only one, and it chases installment lines."""
        Cron = self.env["ir.cron"].with_context(active_test=False)
        self.assertFalse(self.env.ref("crm_installments.ir_cron_send_reminders", raise_if_not_found=False))
        self.assertFalse(Cron.search([("code", "like", "_cron_send_reminders")]))
        dunning = self.env.ref("crm_receivables.ir_cron_run_dunning")
        self.assertEqual((dunning.model_id.model, dunning.code), ("crm.dunning.policy", "model._cron_run_dunning()"))
        self.assertIn("crm.installment.line", self.env["crm.dunning.policy"]._crm_dunning_models())

    def test_migration_removes_the_installment_reminders_cron(self):
        """18.0.1.0.1: a database that has the old scheduled action (noupdate data, which an update
        keeps) loses it and its server action."""
        cron = self.env["ir.cron"].create(
            {
                "name": "CrmAI: installment reminders",
                "model_id": self.env.ref("crm_installments.model_crm_installment_plan").id,
                "state": "code",
                "code": "model._cron_send_reminders()",
                "interval_number": 1,
                "interval_type": "days",
            }
        )
        action = cron.ir_actions_server_id
        self.env["ir.model.data"]._update_xmlids(
            [{"xml_id": "crm_installments.ir_cron_send_reminders", "record": cron, "noupdate": True}]
        )
        path = Path(__file__).parent.parent / "migrations" / "18.0.1.0.1" / "post-migration.py"
        spec = importlib.util.spec_from_file_location("crm_installments_post_migration_18_0_1_0_1", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()
        self.assertFalse(cron.exists())
        self.assertFalse(action.exists())
        self.assertFalse(self.env.ref("crm_installments.ir_cron_send_reminders", raise_if_not_found=False))
        migration.migrate(self.env.cr, "18.0.1.0.0")  # a rerun changes nothing


@tagged("post_install", "-at_install")
class TestAging(InstallmentCommon):
    def aging(self):
        Aging = self.env["crm.receivable.aging"].with_context(crm_aging_date=self.today)
        return Aging.search([("partner_id", "=", self.customer.id)])

    def test_plans_without_invoice_join_the_aging(self):
        plan = self.make_plan(300.0, count=3, interval="week", date_first=self.today - timedelta(days=14))
        plan.register_payment(50.0, self.today)
        aging = self.aging()
        self.assertEqual(aging.amount_total, 250.0)
        self.assertEqual(aging.amount_1_30, 150.0)  # 50 left of the first, the second whole
        self.assertEqual(aging.amount_not_due, 100.0)

    def test_invoice_plan_not_counted_twice(self):
        invoice = self.invoice(600.0, days_ago=0, due_days=30)
        self.make_plan(600.0, count=3, date_first=self.today - timedelta(days=5), invoice_id=invoice.id)
        self.assertEqual(self.aging().amount_total, 600.0)

    def test_invoiced_sale_order_not_counted_twice(self):
        order = self.sale_order(400.0)
        self.make_plan(400.0, count=2, sale_order_id=order.id, date_first=self.today + timedelta(days=5))
        self.assertEqual(self.aging().amount_total, 400.0)
        order._create_invoices().action_post()
        self.assertEqual(self.aging().amount_total, 400.0)
