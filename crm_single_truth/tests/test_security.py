from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestDossierAccess(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = new_test_user(cls.env, login="crm.seller", groups="base.group_user,crm_single_truth.group_crm_user")
        cls.other_seller = new_test_user(cls.env, login="crm.other", groups="base.group_user,crm_single_truth.group_crm_user")
        cls.manager = new_test_user(cls.env, login="crm.manager", groups="base.group_user,crm_single_truth.group_crm_manager")
        cls.own = cls.env["res.partner"].create({"name": "Own Customer", "is_company": True, "user_id": cls.seller.id})
        cls.foreign = cls.env["res.partner"].create({"name": "Foreign Customer", "is_company": True, "user_id": cls.other_seller.id})
        Contract = cls.env["crm.contract"]
        cls.own_contract = Contract.create({"name": "S-1", "partner_id": cls.own.id, "user_id": cls.other_seller.id})
        cls.foreign_contract = Contract.create({"name": "S-2", "partner_id": cls.foreign.id, "user_id": cls.other_seller.id})
        Kpi = cls.env["crm.partner.kpi"].sudo()
        company = cls.env.company
        cls.own_kpi = Kpi.create({"partner_id": cls.own.id, "company_id": company.id, "ltv": 100.0})
        cls.foreign_kpi = Kpi.create({"partner_id": cls.foreign.id, "company_id": company.id, "ltv": 200.0})

    def test_salesperson_sees_own_customers_only(self):
        Contract = self.env["crm.contract"].with_user(self.seller)
        self.assertEqual(Contract.search([("id", "in", (self.own_contract | self.foreign_contract).ids)]), self.own_contract)
        self.own_contract.with_user(self.seller).read(["name"])
        with self.assertRaises(AccessError):
            self.foreign_contract.with_user(self.seller).read(["name"])
        self.assertEqual(self.own_kpi.with_user(self.seller).ltv, 100.0)
        with self.assertRaises(AccessError):
            self.foreign_kpi.with_user(self.seller).read(["ltv"])
        # the KPI fields of someone else's customer read as empty for them
        self.assertEqual(self.foreign.with_user(self.seller).crm_payment_rating, "none")

    def test_manager_sees_all(self):
        Contract = self.env["crm.contract"].with_user(self.manager)
        both = self.own_contract | self.foreign_contract
        self.assertEqual(Contract.search([("id", "in", both.ids)]), both)
        self.assertEqual(self.foreign_kpi.with_user(self.manager).ltv, 200.0)

    def test_user_without_dossier_group_cannot_read(self):
        employee = new_test_user(self.env, login="crm.employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.own_contract.with_user(employee).read(["name"])
        with self.assertRaises(AccessError):
            self.own_kpi.with_user(employee).read(["ltv"])

    def test_other_company_contract_is_invisible(self):
        company_2 = self.env["res.company"].create({"name": "Second Company"})
        contract = self.env["crm.contract"].create({"name": "S-3", "partner_id": self.own.id, "company_id": company_2.id})
        with self.assertRaises(AccessError):
            contract.with_user(self.manager).read(["name"])
        self.manager.company_ids |= company_2
        contract.with_user(self.manager).with_company(company_2).read(["name"])

    def test_webhook_secrets_are_for_administrators_only(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.telegram_secret_token", "s3cr3t")
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.manager).get_param("crm_single_truth.telegram_secret_token")
        settings_field = self.env["res.config.settings"]._fields["crm_telegram_secret_token"]
        self.assertEqual(settings_field.groups, "base.group_system")
