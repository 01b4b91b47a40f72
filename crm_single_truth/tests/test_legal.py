from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.exceptions import ValidationError
from odoo.tests import BaseCase, TransactionCase, tagged

from ..tools.legal_id import (
    INN10_WEIGHTS,
    clean_legal_id,
    iin_birth_date,
    inn_check_digit,
    is_valid_inn,
    is_valid_kpp,
    is_valid_kz_bin,
    is_valid_kz_bin_iin,
    is_valid_kz_iin,
    kz_bin_error,
    kz_check_digit,
    kz_iin_error,
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
class TestKzIdStructure(BaseCase):
    """BIN and IIN structure (tools/legal_id.py cites the law and rules); no database. Every number
    below carries its correct control digit, so only the structure can refuse it."""

    def test_valid_bins(self):
        # published examples (the OECD sheet on Kazakh TINs, python-stdnum): registered January 1994
        # and January 1999, resident legal entities (5th digit 4), head offices (6th digit 0)
        for number in ("940140000385", "990140004654", "040840001320", "180340021791", "140540001628"):
            with self.subTest(number=number):
                self.assertIsNone(kz_bin_error(number))
                self.assertTrue(is_valid_kz_bin(number))
        # a branch: 0+8+0+32+20+6+0+0+9+30+22 = 127, 127 mod 11 = 6
        self.assertEqual(kz_bin_error("040841001326"), None)
        self.assertIsNone(kz_bin_error("040842001321"))  # representative office
        self.assertIsNone(kz_bin_error("040863001326"))  # joint entrepreneur's peasant farm
        self.assertIsNone(kz_bin_error("040850001325"))  # non-resident legal entity

    def test_valid_iins(self):
        cases = {
            "870526300565": date(1987, 5, 26),  # 3: a man born in the 20th century
            "950124400901": date(1995, 1, 24),  # 4: a woman born in the 20th century
            "061211600012": date(2006, 12, 11),  # 6: a woman born in the 21st century
            # 2000 is a leap year: 0+0+0+8+10+54+35+0+0+0+11 = 118, 118 mod 11 = 8
            "000229500018": date(2000, 2, 29),
            # 1: a man born in 1899; the first pass gives 77 mod 11 = 0
            "991231100010": date(1899, 12, 31),
        }
        for number, born in cases.items():
            with self.subTest(number=number):
                self.assertIsNone(kz_iin_error(number, today=date(2026, 1, 1)))
                self.assertTrue(is_valid_kz_iin(number))
                self.assertEqual(iin_birth_date(number), born)

    def test_bin_structure_errors(self):
        cases = {
            "041340001325": "month",  # registered in month 13
            "040040001321": "month",  # month 00
            "040870001324": "type",  # 5th digit 7: no such type
            "040800001322": "type",  # 5th digit 0 (the tens of a day, but 08-00 is no date either)
            "040844001322": "attribute",  # 6th digit 4: no such attribute
            "040840001321": "checksum",
            "000000000000": "zero",  # the control digit of eleven zeros is 0: only this rule refuses it
            "04084000132": "format",
            "04084000132O": "format",
        }
        for number, code in cases.items():
            with self.subTest(number=number):
                self.assertEqual(kz_bin_error(number), code)
                self.assertFalse(is_valid_kz_bin(number))

    def test_iin_structure_errors(self):
        cases = {
            "000229300015": "date",  # 1900 was not a leap year: no 29 February 1900
            "870229300560": "date",  # nor in 1987
            "870531300562": None,  # 31 May exists
            "870526000566": "century",  # 7th digit 0
            "870526700560": "century",  # 7th digit 7
            "870526300566": "checksum",
            "000000000000": "zero",
            "87052630056X": "format",
        }
        for number, code in cases.items():
            with self.subTest(number=number):
                self.assertEqual(kz_iin_error(number), code)
        # born 1 January 2030: no one is, yet
        self.assertEqual(kz_iin_error("300101500014", today=date(2026, 6, 1)), "date")
        self.assertIsNone(kz_iin_error("300101500014", today=date(2030, 1, 1)))

    def test_each_kind_refuses_the_other(self):
        for bin_number in ("940140000385", "040840001320", "040841001326"):
            self.assertEqual(kz_iin_error(bin_number), "bin")
        for iin_number in ("870526300565", "950124400901", "061211600012"):
            self.assertEqual(kz_bin_error(iin_number), "iin")
        # a number valid as neither is explained by the rule it breaks, not by the other kind
        self.assertEqual(kz_bin_error("870526700560"), "type")

    @settings(max_examples=300, deadline=None)
    @given(st.text(max_size=20) | st.from_regex(r"\A[0-9]{12}\Z"))
    def test_fuzz_validators_answer_a_code_or_none(self, value):
        for code in (kz_bin_error(value), kz_iin_error(value, today=date(2026, 1, 1))):
            self.assertIn(
                code,
                {None, "format", "zero", "bin", "iin", "century", "date", "month", "type", "attribute", "checksum"},
            )
        self.assertFalse(is_valid_kz_bin(value) and is_valid_kz_iin(value))  # never both kinds


@tagged("post_install", "-at_install")
class TestPartnerLegalData(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fuzz_partner = cls.env["res.partner"].create({"name": "ТОО Фазз", "is_company": True})

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

    def test_bin_and_iin_structure_messages(self):
        Partner = self.env["res.partner"]
        cases = [
            ({"crm_bin": "000000000000"}, "BIN 000000000000 of ТОО Бета is not a number the national registers issue."),
            ({"crm_iin": "000000000000"}, "IIN 000000000000 of ТОО Бета is not a number the national registers issue."),
            (
                {"crm_bin": "870526300565"},
                "870526300565 of ТОО Бета is an IIN (individual identification number), not a BIN: enter it in "
                "the IIN field.",
            ),
            (
                {"crm_iin": "040840001320"},
                "040840001320 of ТОО Бета is a BIN (business identification number), not an IIN: enter it in "
                "the BIN field.",
            ),
            (
                {"crm_bin": "041340001325"},
                "BIN 041340001325 of ТОО Бета: digits 3-4 must be the month of registration (01 to 12).",
            ),
            (
                {"crm_bin": "040870001324"},
                "BIN 040870001324 of ТОО Бета: the 5th digit must be 4 (resident legal entity), 5 (non-resident "
                "legal entity) or 6 (joint individual entrepreneurship).",
            ),
            (
                {"crm_bin": "040844001322"},
                "BIN 040844001322 of ТОО Бета: the 6th digit must be 0 (head office), 1 (branch), 2 "
                "(representative office) or 3 (peasant farm).",
            ),
            (
                {"crm_iin": "870526700560"},
                "IIN 870526700560 of ТОО Бета: the 7th digit (century of birth and sex) must be 1 to 6.",
            ),
            (
                {"crm_iin": "000229300015"},
                "IIN 000229300015 of ТОО Бета: the first six digits must be a date of birth (YYMMDD) that is "
                "not in the future.",
            ),
        ]
        for values, message in cases:
            with self.subTest(values=values), self.assertRaises(ValidationError) as caught:
                Partner.create({"name": "ТОО Бета", **values})
            self.assertEqual(str(caught.exception), message)
        branch = Partner.create({"name": "Филиал", "is_company": True, "crm_bin": "0408 4100 1326"})
        self.assertEqual(branch.crm_bin, "040841001326")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        st.sampled_from(["crm_bin", "crm_iin"]),
        st.one_of(
            st.text(max_size=30),
            st.from_regex(r"\A[0-9 ]{10,16}\Z"),
            st.integers(),
            st.floats(allow_nan=True),
            st.booleans(),
            st.none(),
        ),
    )
    def test_fuzz_legal_id_fields(self, fname, value):
        """Whatever is typed or sent over RPC: stored when valid, else a ValidationError; never another
        error, and nothing half-written."""
        partner = self.fuzz_partner
        try:
            with self.env.cr.savepoint():
                partner.write({fname: value})
                partner.flush_recordset()
        except ValidationError:
            partner.invalidate_recordset()
            self.assertFalse(partner[fname])
            return
        stored = partner[fname]
        if stored:
            valid = is_valid_kz_bin(stored) if fname == "crm_bin" else is_valid_kz_iin(stored)
            self.assertTrue(valid, stored)
        partner.write({fname: False})

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
