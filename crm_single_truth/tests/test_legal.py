from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from ..tools.legal_id import (
    INN10_WEIGHTS,
    clean_legal_id,
    inn_check_digit,
    is_valid_inn,
    is_valid_kpp,
    is_valid_kz_bin_iin,
    kz_check_digit,
)


@tagged("post_install", "-at_install")
class TestLegalIdChecksums(TransactionCase):
    """The pure functions; every expected digit is worked out by hand in the comments."""

    def test_inn_10_digits(self):
        # Sberbank: 7*2+7*4+0*10+7*3+0*5+8*9+3*4+8*6+9*8 = 267, 267 mod 11 = 3, 3 mod 10 = 3
        self.assertEqual(inn_check_digit("770708389", INN10_WEIGHTS), 3)
        self.assertTrue(is_valid_inn("7707083893"))
        self.assertFalse(is_valid_inn("7707083894"))  # wrong check digit
        self.assertFalse(is_valid_inn("77070838"))  # wrong length
        self.assertFalse(is_valid_inn("77070838931"))
        self.assertFalse(is_valid_inn("77070838AB"))
        self.assertFalse(is_valid_inn("７７０７０８３８９３"))  # full-width digits are not digits here
        self.assertFalse(is_valid_inn(""))
        self.assertFalse(is_valid_inn(False))

    def test_inn_12_digits(self):
        # first check digit: 5*7+0*2+0*4+1*10+0*3+0*5+7*9+3*4+2*6+2*8 = 148, 148 mod 11 = 5
        # second: 5*3+0*7+0*2+1*4+0*10+0*3+7*5+3*9+2*4+2*6+5*8 = 141, 141 mod 11 = 9
        self.assertTrue(is_valid_inn("500100732259"))
        self.assertFalse(is_valid_inn("500100732258"))  # wrong second check digit
        self.assertFalse(is_valid_inn("500100732269"))  # wrong first check digit
        self.assertFalse(is_valid_inn("50010073225"))

    def test_kpp_format(self):
        self.assertTrue(is_valid_kpp("773601001"))
        self.assertTrue(is_valid_kpp("7736AB001"))
        self.assertFalse(is_valid_kpp("77360100"))
        self.assertFalse(is_valid_kpp("7736010011"))
        self.assertFalse(is_valid_kpp("7736ab001"))  # capital letters only
        self.assertFalse(is_valid_kpp("7736ДБ001"))  # latin letters only
        self.assertFalse(is_valid_kpp("A73601001"))
        self.assertFalse(is_valid_kpp(""))

    def test_kz_bin_iin(self):
        # 0*1+4*2+0*3+8*4+4*5+0*6+0*7+0*8+1*9+3*10+2*11 = 121 = 11*11 -> control digit 0
        self.assertEqual(kz_check_digit("04084000132"), 0)
        self.assertTrue(is_valid_kz_bin_iin("040840001320"))
        self.assertFalse(is_valid_kz_bin_iin("040840001321"))
        # 8*1+7*2+0*3+5*4+2*5+6*6+3*7+0*8+0*9+5*10+6*11 = 225, 225 mod 11 = 5
        self.assertEqual(kz_check_digit("87052630056"), 5)
        self.assertTrue(is_valid_kz_bin_iin("870526300565"))
        # first weights: 9*1+5*2+0*3+1*4+2*5+4*6+4*7+0*8+0*9+9*10+0*11 = 175, 175 mod 11 = 10, so
        # second weights: 9*3+5*4+0*5+1*6+2*7+4*8+4*9+0*10+0*11+9*1+0*2 = 144, 144 mod 11 = 1
        self.assertEqual(kz_check_digit("95012440090"), 1)
        self.assertTrue(is_valid_kz_bin_iin("950124400901"))
        self.assertFalse(is_valid_kz_bin_iin("950124400900"))  # 0 would be the first-pass result mod 10
        # both passes give 10: 0+0+3+28+0+6+42+56+45+50+11 = 241 and 0+0+5+42+0+8+54+70+55+5+2 = 241,
        # 241 mod 11 = 10 -> no control digit exists, every number with these 11 digits is invalid
        self.assertIsNone(kz_check_digit("00170167551"))
        for last in "0123456789":
            self.assertFalse(is_valid_kz_bin_iin("00170167551" + last))
        self.assertFalse(is_valid_kz_bin_iin("95012440090"))  # 11 digits
        self.assertFalse(is_valid_kz_bin_iin("9501244009O1"))  # a letter O

    def test_clean(self):
        self.assertEqual(clean_legal_id(" 7707 083\t893 "), "7707083893")
        self.assertFalse(clean_legal_id(False))


@tagged("post_install", "-at_install")
class TestPartnerLegalData(TransactionCase):
    def test_valid_values_are_stored_and_empty_is_allowed(self):
        partner = self.env["res.partner"].create(
            {
                "name": "ТОО Тест",
                "is_company": True,
                "crm_inn": "7707083893",
                "crm_kpp": "773601001",
                "crm_bin": "040840001320",
                "crm_legal_address": "Алматы, пр. Абая 1",
            }
        )
        self.assertEqual(
            (partner.crm_inn, partner.crm_kpp, partner.crm_bin), ("7707083893", "773601001", "040840001320")
        )
        partner.write({"crm_inn": False, "crm_kpp": "", "crm_bin": False})
        self.assertFalse(partner.crm_inn or partner.crm_kpp or partner.crm_bin)
        person = self.env["res.partner"].create({"name": "Асель Нурланова", "crm_iin": "870526300565"})
        self.assertEqual(person.crm_iin, "870526300565")

    def test_typed_spaces_are_removed(self):
        partner = self.env["res.partner"].create(
            {
                "name": "ООО Пробелы",
                "is_company": True,
                "crm_inn": " 7707 083 893",
                "crm_kpp": "7736ab001",
            }
        )
        self.assertEqual((partner.crm_inn, partner.crm_kpp), ("7707083893", "7736AB001"))
        partner.crm_bin = "0408 4000 1320"
        self.assertEqual(partner.crm_bin, "040840001320")
        partner.crm_bin = "   "
        self.assertFalse(partner.crm_bin)

    def test_errors_name_the_field_and_the_value(self):
        Partner = self.env["res.partner"]
        cases = [
            ({"crm_inn": "7707083894"}, "INN 7707083894 of ТОО Бета has an invalid checksum."),
            ({"crm_inn": "500100732258"}, "INN 500100732258 of ТОО Бета has an invalid checksum."),
            (
                {"crm_inn": "77070838931"},
                "INN 77070838931 of ТОО Бета must have 10 digits (organisation) or 12 digits (individual).",
            ),
            (
                {"crm_kpp": "7736"},
                "KPP 7736 of ТОО Бета must have 9 characters: 4 digits, 2 digits or capital latin letters, 3 digits.",
            ),
            ({"crm_bin": "040840001321"}, "BIN 040840001321 of ТОО Бета has an invalid checksum."),
            ({"crm_bin": "0408400013201"}, "BIN 0408400013201 of ТОО Бета must have 12 digits."),
            ({"crm_iin": "870526300566"}, "IIN 870526300566 of ТОО Бета has an invalid checksum."),
            ({"crm_iin": "87052630056X"}, "IIN 87052630056X of ТОО Бета must have 12 digits."),
        ]
        for values, message in cases:
            with self.subTest(values=values), self.assertRaises(ValidationError) as caught:
                Partner.create({"name": "ТОО Бета", **values})
            self.assertEqual(str(caught.exception), message)
        partner = Partner.create({"name": "ТОО Бета", "is_company": True})
        with self.assertRaisesRegex(ValidationError, r"^BIN 040840001322 of ТОО Бета has an invalid checksum\.$"):
            partner.crm_bin = "040840001322"

    def test_search_by_inn_or_bin(self):
        partner = self.env["res.partner"].create({"name": "ТОО Поиск", "is_company": True, "crm_bin": "040840001320"})
        self.assertEqual(self.env["res.partner"].search([("crm_bin", "=", "040840001320")]), partner)


@tagged("post_install", "-at_install")
class TestContactRoles(TransactionCase):
    def test_contact_roles_listed_on_the_company(self):
        company = self.env["res.partner"].create({"name": "ТОО Роли", "is_company": True})
        roles = ["purchaser", "accountant", "director", "engineer", "other"]
        contacts = self.env["res.partner"].create(
            [{"name": f"Contact {role}", "parent_id": company.id, "crm_contact_role": role} for role in roles]
        )
        self.assertEqual(company.child_ids, contacts)
        self.assertEqual(sorted(company.child_ids.mapped("crm_contact_role")), sorted(roles))
        action = contacts[1].action_crm_open_contact()
        self.assertEqual(
            (action["res_model"], action["res_id"], action["views"]), ("res.partner", contacts[1].id, [(False, "form")])
        )

    def test_company_form_shows_roles_and_legal_data(self):
        arch = self.env["res.partner"].get_view(self.env.ref("base.view_partner_form").id)["arch"]
        for snippet in (
            'name="crm_contact_roles"',
            'name="action_crm_open_contact"',
            'name="crm_legal"',
            'name="crm_inn"',
            'name="bank_ids"',
            'name="action_crm_open_contracts"',
        ):
            self.assertIn(snippet, arch)
