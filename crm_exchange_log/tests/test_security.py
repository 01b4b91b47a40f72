import base64

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_single_truth.tests.common import call_kw

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


@tagged("post_install", "-at_install")
class TestExchangeRpcAccess(HttpCase):
    """What a portal user, a salesperson, an integrator of another company and an integrator
    who is not an administrator can do through RPC (``call_kw``, as the web client calls it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "ТОО «Другая»"})
        cls.portal = new_test_user(cls.env, "exch_portal", groups="base.group_portal")
        cls.salesman = new_test_user(cls.env, "exch_salesman", groups="sales_team.group_sale_salesman")
        cls.colleague = new_test_user(cls.env, "exch_colleague", groups="sales_team.group_sale_salesman")
        cls.integrator = new_test_user(cls.env, "exch_integrator", groups="crm_exchange_log.group_exchange_integrator")
        cls.other_company = new_test_user(
            cls.env,
            "exch_other_company",
            groups="crm_exchange_log.group_exchange_integrator,sales_team.group_sale_salesman_all_leads",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.system = cls.env["crm.exchange.system"].create(
            {"name": "Warehouse", "code": "warehouse_rpc", "company_id": cls.company.id, "max_attempts": 3}
        )
        customer = cls.env["res.partner"].create({"name": "ТОО «Клиент»", "is_company": True})
        cls.own_order = cls.env["sale.order"].create({"partner_id": customer.id, "user_id": cls.salesman.id})
        cls.other_order = cls.env["sale.order"].create({"partner_id": customer.id, "user_id": cls.colleague.id})
        Log = cls.env["crm.exchange.log"]
        cls.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.attachment_threshold", "100")
        cls.own_log = Log._journal(
            cls.system,
            "out",
            "push_order",
            state="failed",
            record=cls.own_order,
            error="own order failed",
            request={"lines": ["x" * 50] * 5},
        )
        cls.other_log = Log._journal(
            cls.system, "out", "push_order", state="failed", record=cls.other_order, error="colleague's order failed"
        )
        cls.logs = cls.own_log | cls.other_log
        (cls.logs).write({"handler": "_crm_onec_push"})
        for log in cls.logs:
            cls.env["crm.exchange.attempt"].create(
                {"log_id": log.id, "number": 1, "state": "failed", "error_message": log.error_message}
            )
        cls.payload_file = cls.env["ir.attachment"].search(
            [("res_model", "=", "crm.exchange.log"), ("res_id", "=", cls.own_log.id), ("res_field", "!=", False)]
        )

    def _call(self, login, model, method, *args, **kwargs):
        answer = call_kw(self, login, model, method, args, kwargs)
        if "error" in answer:
            return "error", answer["error"]["data"]["name"].rsplit(".", 1)[-1]
        return "ok", answer.get("result")

    def _denied(self, login, model, method, *args, **kwargs):
        self.assertEqual(self._call(login, model, method, *args, **kwargs), ("error", "AccessError"), login)

    def test_cancel_and_retry(self):
        for login in ("exch_portal", "exch_salesman", "exch_other_company"):
            self._denied(login, "crm.exchange.log", "action_cancel", self.own_log.ids)
            self._denied(login, "crm.exchange.log", "action_retry", self.own_log.ids)
        self.logs.invalidate_recordset()
        self.assertEqual(self.logs.mapped("state"), ["failed", "failed"], "nothing changed")
        self.assertEqual(
            self._call("exch_integrator", "crm.exchange.log", "action_cancel", self.logs.ids), ("ok", True)
        )
        self.logs.invalidate_recordset()
        self.assertEqual(self.logs.mapped("state"), ["cancelled", "cancelled"])

    def test_no_job_run_no_handler_from_rpc(self):
        for login in ("exch_portal", "exch_salesman", "exch_other_company", "exch_integrator"):
            self._denied(login, "crm.exchange.log", "_job_run", self.own_log.ids)
        for login in ("exch_portal", "exch_salesman", "exch_other_company"):
            self._denied(login, "crm.exchange.log", "write", self.own_log.ids, {"handler": "unlink"})
        self.assertEqual(self.own_log.handler, "_crm_onec_push")

    def test_generate_api_key_admin_only(self):
        self.system.sudo().api_key = "before"
        for login in ("exch_portal", "exch_salesman", "exch_other_company", "exch_integrator"):
            self._denied(login, "crm.exchange.system", "action_generate_api_key", self.system.ids)
        self.assertEqual(self.system.sudo().api_key, "before")
        admin = new_test_user(self.env, "exch_admin", groups="base.group_system,crm_single_truth.group_crm_user")
        self.assertEqual(
            self._call(admin.login, "crm.exchange.system", "action_generate_api_key", self.system.ids)[0], "ok"
        )
        self.assertNotEqual(self.system.sudo().api_key, "before")

    def test_attempts_and_last_error_follow_the_document(self):
        def attempts(login):
            return self._call(login, "crm.exchange.attempt", "search_read", [], ["error_message"])

        self._denied("exch_portal", "crm.exchange.attempt", "search_read", [], ["error_message"])
        self.assertEqual([row["error_message"] for row in attempts("exch_salesman")[1]], ["own order failed"])
        self.assertEqual(attempts("exch_other_company"), ("ok", []))
        self.assertEqual(len(attempts("exch_integrator")[1]), 2)
        other_attempt = self.other_log.attempt_ids
        self._denied("exch_salesman", "crm.exchange.attempt", "read", other_attempt.ids, ["error_message"])

        def last_error(login):
            return self._call(login, "crm.exchange.system", "read", self.system.ids, ["last_error"])

        self._denied("exch_portal", "crm.exchange.system", "read", self.system.ids, ["last_error"])
        self._denied("exch_other_company", "crm.exchange.system", "read", self.system.ids, ["last_error"])
        self.assertEqual(last_error("exch_salesman")[1][0]["last_error"], "own order failed")
        self.assertEqual(last_error("exch_integrator")[1][0]["last_error"], "colleague's order failed")

    def test_payloads_for_integrators_only(self):
        self.assertTrue(self.payload_file, "the large request is a file")
        for login in ("exch_portal", "exch_salesman", "exch_other_company"):
            self._denied(login, "crm.exchange.log", "read", self.own_log.ids, ["request_payload"])
            self._denied(login, "crm.exchange.log", "read", self.own_log.ids, ["request_payload_file"])
            self._denied(login, "ir.attachment", "read", self.payload_file.ids, ["datas"])
            found = self._call(
                login, "ir.attachment", "search_read", [("res_model", "=", "crm.exchange.log")], ["name"]
            )
            self.assertIn(found, [("ok", []), ("error", "AccessError")])
        # the salesperson reads the exchange of his order, not its payload
        status, rows = self._call("exch_salesman", "crm.exchange.log", "read", self.own_log.ids, ["error_message"])
        self.assertEqual((status, rows[0]["error_message"]), ("ok", "own order failed"))
        status, rows = self._call("exch_integrator", "ir.attachment", "read", self.payload_file.ids, ["datas"])
        self.assertEqual(status, "ok")
        self.assertIn("xxxxxxxxxx", base64.b64decode(rows[0]["datas"]).decode())

    def test_exchanges_button_for_crm_users(self):
        partner = self.own_order.partner_id
        self._denied("exch_portal", "res.partner", "action_crm_open_exchanges", partner.ids)
        status, action = self._call("exch_salesman", "sale.order", "action_crm_open_exchanges", self.own_order.ids)
        self.assertEqual(
            (status, action["domain"]), ("ok", [["res_model", "=", "sale.order"], ["res_id", "in", self.own_order.ids]])
        )
        self._denied("exch_salesman", "sale.order", "action_crm_open_exchanges", self.other_order.ids)
        arch = self.env["sale.order"].get_view(view_type="form")["arch"]
        self.assertIn('name="action_crm_open_exchanges"', arch)
        self.env["crm.exchange.log"]._journal(self.system, "in", "sync", record=self.own_order)
        counts = self._call("exch_salesman", "sale.order", "read", self.own_order.ids, ["crm_exchange_count"])
        self.assertEqual(counts, ("ok", [{"id": self.own_order.id, "crm_exchange_count": 2}]))
        counts = self._call("exch_other_company", "sale.order", "read", self.own_order.ids, ["crm_exchange_count"])
        self.assertEqual(counts, ("error", "AccessError"))
