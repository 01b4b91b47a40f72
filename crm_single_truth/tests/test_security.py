from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestDossierAccess(TransactionCase):
    """One test per record rule of contracts and KPI rows, with low-privilege users."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # pytest-odoo does not flag Odoo 18's test mode: keep assignment notifications queued
        cls.env = cls.env(context=dict(cls.env.context, mail_notify_force_send=False))
        user_groups = "base.group_user,crm_single_truth.group_crm_user"
        cls.seller = new_test_user(cls.env, login="crm.seller", groups=user_groups)
        cls.other_seller = new_test_user(cls.env, login="crm.other", groups=user_groups)
        cls.manager = new_test_user(
            cls.env, login="crm.manager", groups="base.group_user,crm_single_truth.group_crm_manager"
        )
        Partner = cls.env["res.partner"]
        cls.own = Partner.create({"name": "Own Customer", "is_company": True, "user_id": cls.seller.id})
        cls.foreign = Partner.create({"name": "Foreign Customer", "is_company": True, "user_id": cls.other_seller.id})
        cls.unassigned = Partner.create({"name": "Customer Without Salesperson", "is_company": True})
        Contract = cls.env["crm.contract"]
        # the responsible user of both is the other seller: only the customer's salesperson counts here
        cls.own_contract = Contract.create({"name": "S-1", "partner_id": cls.own.id, "user_id": cls.other_seller.id})
        cls.foreign_contract = Contract.create(
            {"name": "S-2", "partner_id": cls.foreign.id, "user_id": cls.other_seller.id}
        )
        cls.unassigned_contract = Contract.create(
            {"name": "S-3", "partner_id": cls.unassigned.id, "user_id": cls.other_seller.id}
        )
        cls.all_contracts = cls.own_contract | cls.foreign_contract | cls.unassigned_contract
        Kpi = cls.env["crm.partner.kpi"].sudo()
        company = cls.env.company
        cls.own_kpi = Kpi.create({"partner_id": cls.own.id, "company_id": company.id, "ltv": 100.0})
        cls.foreign_kpi = Kpi.create({"partner_id": cls.foreign.id, "company_id": company.id, "ltv": 200.0})

    def test_user_reads_contracts_of_own_customers_only(self):
        Contract = self.env["crm.contract"].with_user(self.seller)
        self.assertEqual(
            Contract.search([("id", "in", self.all_contracts.ids)]), self.own_contract | self.unassigned_contract
        )
        self.assertEqual(self.own_contract.with_user(self.seller).read(["name"])[0]["name"], "S-1")
        with self.assertRaises(AccessError):
            self.foreign_contract.with_user(self.seller).read(["name"])
        with self.assertRaises(AccessError):
            self.foreign_contract.with_user(self.seller).write({"note": "<p>mine now</p>"})
        # the smart button counts what the user may see
        self.assertEqual(self.foreign.with_user(self.seller).crm_contract_count, 0)
        self.assertEqual(self.own.with_user(self.seller).crm_contract_count, 1)

    def test_responsible_user_reads_the_contract(self):
        # the other seller is responsible for the contract of the seller's customer
        self.assertEqual(self.own_contract.with_user(self.other_seller).read(["name"])[0]["name"], "S-1")

    def test_user_reads_kpis_of_own_customers_only(self):
        self.assertEqual(self.own_kpi.with_user(self.seller).ltv, 100.0)
        with self.assertRaises(AccessError):
            self.foreign_kpi.with_user(self.seller).read(["ltv"])
        # the KPI fields of someone else's customer read as hidden for them, not as "no history"
        self.assertFalse(self.foreign.with_user(self.seller).crm_payment_rating)
        self.assertTrue(self.foreign.with_user(self.seller).crm_kpi_hidden)
        self.assertFalse(self.own.with_user(self.seller).crm_kpi_hidden)

    def test_manager_reads_all(self):
        Contract = self.env["crm.contract"].with_user(self.manager)
        self.assertEqual(Contract.search([("id", "in", self.all_contracts.ids)]), self.all_contracts)
        self.foreign_contract.with_user(self.manager).read(["name"])
        self.assertEqual(self.foreign_kpi.with_user(self.manager).ltv, 200.0)
        self.assertEqual(self.foreign.with_user(self.manager).crm_contract_count, 1)

    def test_user_without_dossier_group_cannot_read(self):
        employee = new_test_user(self.env, login="crm.employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.own_contract.with_user(employee).read(["name"])
        with self.assertRaises(AccessError):
            self.own_kpi.with_user(employee).read(["ltv"])
        # the contract fields of the partner card are not theirs either
        with self.assertRaises(AccessError):
            self.own.with_user(employee).read(["crm_contract_count"])
        self.assertNotIn("crm_contract_count", self.env["res.partner"].with_user(employee).fields_get())

    def test_other_company_contract_is_invisible(self):
        company_2 = self.env["res.company"].create({"name": "Second Company"})
        contract = self.env["crm.contract"].create(
            {"name": "S-4", "partner_id": self.own.id, "company_id": company_2.id}
        )
        with self.assertRaises(AccessError):
            contract.with_user(self.manager).read(["name"])
        self.assertFalse(self.env["crm.contract"].with_user(self.manager).search([("id", "=", contract.id)]))
        self.manager.company_ids |= company_2
        contract.with_user(self.manager).with_company(company_2).read(["name"])

    def test_webhook_secrets_are_for_administrators_only(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.telegram_secret_token", "s3cr3t")
        self.assertFalse(self.manager.has_group("base.group_system"))
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.manager).get_param("crm_single_truth.telegram_secret_token")
        settings_field = self.env["res.config.settings"]._fields["crm_telegram_secret_token"]
        self.assertEqual(settings_field.groups, "base.group_system")
