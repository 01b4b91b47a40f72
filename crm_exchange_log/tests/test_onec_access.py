import base64

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.crm_single_truth.tests.common import call_kw


@tagged("post_install", "-at_install")
class TestOneCRpcAccess(HttpCase):
    """Exchanges with 1C through RPC (``call_kw``, as the web client calls it): integrators and
    administrators only, on the documents of their companies, posted customer documents only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "ТОО «Другая 1С»"})
        cls.portal = new_test_user(cls.env, "onec_portal", groups="base.group_portal")
        cls.salesman = new_test_user(cls.env, "onec_salesman", groups="sales_team.group_sale_salesman_all_leads")
        cls.other_company = new_test_user(
            cls.env,
            "onec_other_company",
            groups="crm_exchange_log.group_exchange_integrator,account.group_account_invoice",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.integrator = new_test_user(
            cls.env,
            "onec_integrator",
            groups="crm_exchange_log.group_exchange_integrator,account.group_account_invoice",
        )
        cls.customer = cls.env["res.partner"].create({"name": "ТОО «Клиент 1С»", "is_company": True})
        cls.draft = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "invoice_line_ids": [(0, 0, {"name": "Станок", "quantity": 1, "price_unit": 100.0, "tax_ids": False})],
            }
        )
        cls.env["ir.config_parameter"].sudo().set_param("crm_exchange_log.onec_wsdl_url", "")

    def _call(self, login, model, method, *args, **kwargs):
        answer = call_kw(self, login, model, method, args, kwargs)
        if "error" in answer:
            return "error", answer["error"]["data"]["name"].rsplit(".", 1)[-1]
        return "ok", answer.get("result")

    def test_connector_entry_points(self):
        Log = self.env["crm.exchange.log"].sudo()
        before = Log.search_count([])
        for login in ("onec_portal", "onec_salesman"):
            for method in ("pull_payments", "ping"):
                self.assertEqual(self._call(login, "crm.onec.connector", method), ("error", "AccessError"), login)
            self.assertEqual(
                self._call(login, "crm.onec.connector", "push_partner", self.customer.id),
                ("error", "AccessError"),
                login,
            )
        self.assertEqual(Log.search_count([]), before, "nothing journaled, nothing called")

    def test_confirmation_and_steps_not_callable_remotely(self):
        """The methods that confirm a file to 1C, commit a step, apply objects or write the journal
        and the documents set-based are private: refused through RPC to every user, integrators
        included."""
        calls = [
            ("crm.onec.connector", "_confirm_receipt", (1, "file", {"message_no": 1})),
            ("crm.onec.connector", "_send_confirmation", (1, "file", 1)),
            ("crm.onec.connector", "_commit_step", ()),
            ("crm.onec.connector", "_write_journal", ([{"operation": "x"}],)),
            ("crm.exchange.log", "_journal_vals", (1, "in", "x")),
            ("account.move", "_crm_payment_state_columns", ("m", "'paid'")),
            ("crm.onec.connector", "_apply_objects", (1, [], {"vals": {}})),
            ("crm.exchange.log", "_create_journal_rows", ([{"operation": "x", "system_id": 1}],)),
            ("crm.exchange.log", "_insert_journal_rows", ([{"operation": "x", "system_id": 1}],)),
            ("crm.onec.payment.writer", "_insert_entries", (1, [], [])),
            ("crm.onec.sale.writer", "_header_fingerprints", ("account.move", 1, {})),
        ]
        Log = self.env["crm.exchange.log"].sudo()
        before = Log.search_count([])
        for login in ("onec_portal", "onec_salesman", "onec_other_company", "onec_integrator"):
            for model, method, args in calls:
                self.assertEqual(self._call(login, model, method, *args), ("error", "AccessError"), (login, method))
        self.assertEqual(Log.search_count([]), before, "nothing journaled")

    def test_push_buttons(self):
        for login in ("onec_portal", "onec_salesman"):
            self.assertEqual(
                self._call(login, "res.partner", "action_onec_push", self.customer.ids), ("error", "AccessError"), login
            )
            self.assertEqual(
                self._call(login, "account.move", "action_onec_push", self.draft.ids), ("error", "AccessError"), login
            )
        self.assertEqual(
            self._call("onec_other_company", "account.move", "action_onec_push", self.draft.ids),
            ("error", "AccessError"),
            "a document of another company",
        )
        self.assertEqual(
            self._call("onec_integrator", "account.move", "action_onec_push", self.draft.ids),
            ("error", "UserError"),
            "a draft is refused",
        )
        self.draft.button_cancel()
        self.assertEqual(
            self._call("onec_integrator", "account.move", "action_onec_push", self.draft.ids),
            ("error", "UserError"),
            "a cancelled invoice is refused",
        )
        self.assertFalse(
            self.env["crm.exchange.log"]
            .sudo()
            .search([("res_model", "=", "account.move"), ("res_id", "=", self.draft.id)])
        )

    def test_sales_history_import(self):
        data = base64.b64encode("Клиент;БИН;Номер;Дата;Сумма\nТОО «А»;971240001315;1;01.01.2024;10\n".encode()).decode()
        vals = {"data": data, "filename": "history.csv"}
        for login in ("onec_portal", "onec_salesman"):
            self.assertEqual(
                self._call(login, "crm.sales.history.import", "create", vals), ("error", "AccessError"), login
            )
        wizard = self.env["crm.sales.history.import"].with_user(self.integrator).create(vals)
        for login in ("onec_portal", "onec_salesman"):
            for method in ("action_read_columns", "action_dry_run", "action_import"):
                self.assertEqual(
                    self._call(login, "crm.sales.history.import", method, wizard.ids), ("error", "AccessError"), login
                )
        state, _result = self._call("onec_integrator", "crm.sales.history.import", "action_read_columns", wizard.ids)
        self.assertEqual(state, "ok")
        state, _result = self._call("onec_integrator", "crm.sales.history.import", "action_dry_run", wizard.ids)
        self.assertEqual(state, "ok")
        wizard.invalidate_recordset()
        self.assertEqual(wizard.report, "Dry run: 1 row(s) can be imported, 0 row(s) are bad.")
        self.assertFalse(self.env["res.partner"].search_count([("crm_bin", "=", "971240001315")]))

    def test_first_load_from_settings(self):
        settings = self.env["res.config.settings"].create({})
        for login in ("onec_portal", "onec_salesman", "onec_integrator", "onec_other_company"):
            self.assertEqual(
                self._call(login, "res.config.settings", "action_crm_onec_initial_sync", settings.ids),
                ("error", "AccessError"),
                login,
            )
        self.assertFalse(
            self.env["queue.job"].sudo().search_count([("method_name", "=", "action_initial_sync")]), "nothing queued"
        )
