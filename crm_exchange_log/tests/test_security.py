from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import ExchangeCommon


@tagged("post_install", "-at_install")
class TestExchangeAccess(ExchangeCommon):
    """Integrators see every exchange; other users the exchanges of the documents they can read;
    payloads only for integrators and administrators."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(cls.env, "exchange_salesman", groups="sales_team.group_sale_salesman")
        cls.other = new_test_user(cls.env, "exchange_other_salesman", groups="sales_team.group_sale_salesman")
        cls.integrator = new_test_user(
            cls.env, "exchange_integrator_sec", groups="crm_exchange_log.group_exchange_integrator"
        )
        cls.own_order = cls.env["sale.order"].create({"partner_id": cls.customer.id, "user_id": cls.salesman.id})
        cls.other_order = cls.env["sale.order"].create({"partner_id": cls.customer.id, "user_id": cls.other.id})
        cls.own_log = cls.Log._journal(cls.system, "out", "push_order", record=cls.own_order, request={"n": 1})
        cls.other_log = cls.Log._journal(cls.system, "out", "push_order", record=cls.other_order, request={"n": 2})
        cls.partner_log = cls.Log._journal(cls.system, "out", "push_partner", record=cls.customer)
        cls.orphan_log = cls.Log._journal(cls.system, "in", "ping")
        cls.all_logs = cls.own_log | cls.other_log | cls.partner_log | cls.orphan_log

    def test_user_sees_exchanges_of_readable_documents(self):
        Log = self.Log.with_user(self.salesman)
        self.assertEqual(Log.search([("id", "in", self.all_logs.ids)]), self.own_log | self.partner_log)
        self.assertEqual(Log.search_count([("system_id", "=", self.system.id)]), 2)
        self.own_log.with_user(self.salesman).read(["operation", "state", "error_message"])
        with self.assertRaises(AccessError):
            self.other_log.with_user(self.salesman).read(["operation"])
        with self.assertRaises(AccessError):
            self.orphan_log.with_user(self.salesman).read(["operation"])
        groups = Log._read_group([("system_id", "=", self.system.id)], ["res_model"], ["__count"])
        self.assertEqual(dict(groups), {"sale.order": 1, "res.partner": 1})

    def test_payloads_for_integrators_only(self):
        with self.assertRaises(AccessError):
            self.own_log.with_user(self.salesman).read(["request_payload"])
        self.assertIn('"n": 1', self.own_log.with_user(self.integrator).request_payload)

    def test_integrator_sees_and_retries_everything(self):
        Log = self.Log.with_user(self.integrator)
        self.assertEqual(Log.search([("id", "in", self.all_logs.ids)]), self.all_logs)
        with self.assertRaises(AccessError):
            self.own_log.with_user(self.salesman).write({"state": "cancelled"})
        self.other_log.with_user(self.integrator).action_cancel()
        self.assertEqual(self.other_log.state, "done", "only pending or failed exchanges are cancelled")

    def test_multi_company(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        log_b = self.Log.create(
            {
                "system_id": self.system.id,
                "direction": "out",
                "operation": "x",
                "company_id": company_b.id,
                "state": "done",
            }
        )
        self.integrator.write({"company_ids": [Command.link(self.env.company.id)], "company_id": self.env.company.id})
        Log = self.Log.with_user(self.integrator).with_context(allowed_company_ids=[self.env.company.id])
        self.assertFalse(Log.search([("id", "=", log_b.id)]))
        with self.assertRaises(AccessError):
            log_b.with_user(self.integrator).with_context(allowed_company_ids=[self.env.company.id]).read(["operation"])


@tagged("post_install", "-at_install")
class TestRetention(ExchangeCommon):
    def test_purge_successful_only(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.retention_days", "30")
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.attachment_threshold", "100")
        old_done = self.Log._journal(self.system, "out", "old", request={"x": "y" * 200})
        old_failed = self.Log._journal(self.system, "out", "old", state="failed", error="e")
        recent_done = self.Log._journal(self.system, "out", "recent")
        self.assertTrue(old_done.request_payload_file)
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "crm.exchange.log"), ("res_id", "=", old_done.id), ("res_field", "!=", False)]
        )
        self.assertEqual(len(attachment), 1)
        self.env.cr.execute(
            "UPDATE crm_exchange_log SET create_date = create_date - interval '40 days' WHERE id = ANY(%s)",
            [(old_done | old_failed).ids],
        )
        self.Log.invalidate_model()
        self.assertEqual(self.Log._cron_purge(), 1)
        self.assertFalse(old_done.exists())
        self.assertFalse(attachment.exists())
        self.assertTrue(old_failed.exists())
        self.assertTrue(recent_done.exists())
        self.assertEqual(self.Log._cron_purge(), 0, "safe to rerun")
        self.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.retention_days", "0")
        self.env.cr.execute("UPDATE crm_exchange_log SET create_date = create_date - interval '400 days'")
        self.assertEqual(self.Log._cron_purge(), 0, "0 keeps everything")
