from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..tools.legal_id import is_valid_inn, is_valid_kpp, is_valid_kz_bin_iin, kz_check_digit


@tagged("post_install", "-at_install")
class TestLegalIds(TransactionCase):
    def test_inn_checksums(self):
        self.assertTrue(is_valid_inn("7707083893"))  # Sberbank: 10 digits, organisation
        self.assertTrue(is_valid_inn("500100732259"))  # 12 digits, individual
        self.assertFalse(is_valid_inn("7707083894"))  # wrong check digit
        self.assertFalse(is_valid_inn("500100732258"))  # wrong second check digit
        self.assertFalse(is_valid_inn("77070838"))  # wrong length
        self.assertFalse(is_valid_inn("77070838AB"))

    def test_kpp_format(self):
        self.assertTrue(is_valid_kpp("773601001"))
        self.assertTrue(is_valid_kpp("7736AB001"))
        self.assertFalse(is_valid_kpp("77360100"))
        self.assertFalse(is_valid_kpp("7736ab001"))

    def test_kz_bin_iin_checksums(self):
        # 0*1+4*2+0*3+8*4+4*5+0*6+0*7+0*8+1*9+3*10+2*11 = 121 = 11*11 -> control digit 0
        self.assertEqual(kz_check_digit("04084000132"), 0)
        self.assertTrue(is_valid_kz_bin_iin("040840001320"))
        self.assertFalse(is_valid_kz_bin_iin("040840001321"))
        # 8*1+7*2+0*3+5*4+2*5+6*6+3*7+0*8+0*9+5*10+6*11 = 225 -> 225 mod 11 = 5
        self.assertTrue(is_valid_kz_bin_iin("870526300565"))
        # first weights give 175 mod 11 = 10, second weights 144 mod 11 = 1
        self.assertEqual(kz_check_digit("95012440090"), 1)
        self.assertTrue(is_valid_kz_bin_iin("950124400901"))
        self.assertFalse(is_valid_kz_bin_iin("95012440090"))
        self.assertFalse(is_valid_kz_bin_iin("9501244009O1"))

    def test_partner_constraints_name_the_field(self):
        partner = self.env["res.partner"].create({"name": "ТОО Тест", "is_company": True})
        partner.write({"crm_inn": "7707083893", "crm_kpp": "773601001", "crm_bin": "040840001320"})
        self.assertEqual(partner.crm_bin, "040840001320")
        Partner = self.env["res.partner"]
        with self.assertRaisesRegex(ValidationError, r"^INN 7707083894 of ТОО Бета is invalid"):
            Partner.create({"name": "ТОО Бета", "crm_inn": "7707083894"})
        with self.assertRaisesRegex(ValidationError, r"^KPP 7736 of ТОО Бета is invalid"):
            Partner.create({"name": "ТОО Бета", "crm_kpp": "7736"})
        with self.assertRaisesRegex(ValidationError, r"^BIN 040840001321 of ТОО Бета is invalid"):
            Partner.create({"name": "ТОО Бета", "crm_bin": "040840001321"})
        with self.assertRaisesRegex(ValidationError, r"^IIN 870526300566 of Асель Нурланова is invalid"):
            Partner.create({"name": "Асель Нурланова", "crm_iin": "870526300566"})
        person = Partner.create({"name": "Асель Нурланова", "crm_iin": "870526300565"})
        person.crm_iin = False  # empty is allowed

    def test_contact_roles_listed_on_the_company(self):
        company = self.env["res.partner"].create({"name": "ТОО Роли", "is_company": True})
        roles = ["purchaser", "accountant", "director", "engineer"]
        self.env["res.partner"].create([
            {"name": f"Contact {role}", "parent_id": company.id, "crm_contact_role": role} for role in roles
        ])
        self.assertEqual(sorted(company.child_ids.mapped("crm_contact_role")), sorted(roles))
        action = company.child_ids[0].action_crm_open_contact()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", company.child_ids[0].id))
