from datetime import timedelta

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestPostpay(CrmKpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.email = "buyer@example.com"
        cls.policy = cls.env.ref("crm_receivables.dunning_policy_default")
        cls.customer.crm_dunning_policy_id = cls.policy
        cls.Policy = cls.env["crm.dunning.policy"]

    def levels_on(self, day, invoice):
        return (
            self.Policy._cron_run_dunning(date_ref=day).filtered(lambda e: e.move_id == invoice).mapped("offset_days")
        )

    def test_statuses_sent_agreed_paid(self):
        invoice = self.invoice(1000.0, days_ago=5, due_days=30)
        self.assertEqual(invoice.crm_postpay_state, "to_send")
        invoice.is_move_sent = True
        self.assertEqual(invoice.crm_postpay_state, "sent")
        invoice.action_crm_mark_agreed()
        self.assertEqual((invoice.crm_postpay_state, invoice.crm_agreed_date), ("agreed", self.today))
        self.pay(invoice, amount=400.0)
        self.assertEqual(invoice.crm_postpay_state, "agreed")  # partly paid: still agreed
        self.pay(invoice, amount=600.0)
        self.assertEqual(invoice.crm_postpay_state, "paid")

    def test_postpay_state_sql_follows_the_compute(self):
        """The SQL twin that the 1C payment writer sets gives what the compute gives, in every case."""
        invoice = self.invoice(1000.0, days_ago=5, due_days=30)
        field = invoice._fields["crm_postpay_state"]
        expression = self.env["account.move"]._crm_payment_state_columns(SQL("m"), SQL("m.payment_state"))
        states = set()
        for payment_state in ("not_paid", "partial", "in_payment", "paid", "reversed", "blocked"):
            for agreed in (None, self.today):
                for sent in (False, True):
                    self.env.cr.execute(
                        """UPDATE account_move SET payment_state = %s, crm_agreed_date = %s, is_move_sent = %s
                            WHERE id = %s""",
                        [payment_state, agreed, sent, invoice.id],
                    )
                    invoice.invalidate_recordset()
                    field.compute_value(invoice)
                    self.env.cr.execute(
                        SQL(
                            "SELECT %s FROM account_move m WHERE m.id = %s", expression["crm_postpay_state"], invoice.id
                        )
                    )
                    self.assertEqual(
                        self.env.cr.fetchone()[0], invoice.crm_postpay_state, (payment_state, agreed, sent)
                    )
                    states.add(invoice.crm_postpay_state)
        self.assertEqual(states, {"to_send", "sent", "agreed", "paid"})

    def test_closing_documents_received(self):
        invoice = self.invoice(1000.0, days_ago=5, due_days=30)
        self.assertFalse(invoice.crm_act_received)
        missing = self.env["account.move"].search([("crm_act_received", "=", False), ("id", "=", invoice.id)])
        self.assertEqual(missing, invoice)
        invoice.action_crm_mark_act_received()
        self.assertEqual((invoice.crm_act_received, invoice.crm_act_date), (True, self.today))

    def test_deferral_pauses_dunning_and_moves_the_levels(self):
        invoice = self.invoice(1000.0, days_ago=12, due_days=10)  # 2 days late
        with self.assertRaises(ValidationError):
            invoice.crm_deferral_date = self.today + timedelta(days=20)
        deferred_to = self.today + timedelta(days=20)
        invoice.write({"crm_deferral_date": deferred_to, "crm_deferral_reason": "Until the end of the quarter"})
        for day in (0, 5, 17, 20):  # paused through the new date, even its friendly reminder
            self.assertEqual(self.levels_on(self.today + timedelta(days=day), invoice), [], day)
        self.assertEqual(self.levels_on(deferred_to + timedelta(days=1), invoice), [1])
        self.assertEqual(self.levels_on(deferred_to + timedelta(days=2), invoice), [])
        self.assertEqual(self.levels_on(deferred_to + timedelta(days=7), invoice), [7])
        self.assertEqual(sorted(invoice.crm_dunning_event_ids.mapped("offset_days")), [1, 7])
