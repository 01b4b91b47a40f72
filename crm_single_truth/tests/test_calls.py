from odoo.exceptions import ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestCallsAndMessengers(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = new_test_user(cls.env, login="call_seller", groups="sales_team.group_sale_salesman")
        cls.other_seller = new_test_user(cls.env, login="call_other", groups="sales_team.group_sale_salesman")
        Partner = cls.env["res.partner"]
        cls.mine = Partner.create(
            {"name": "ТОО «Мой Клиент»", "is_company": True, "user_id": cls.seller.id, "phone": "+7 727 250 00 01"}
        )
        cls.theirs = Partner.create({"name": "ТОО «Чужой Клиент»", "is_company": True, "user_id": cls.other_seller.id})
        Call = cls.env["crm.call"]
        cls.my_call = Call.create(
            {"partner_id": cls.mine.id, "user_id": cls.other_seller.id, "duration": 90, "direction": "inbound"}
        )
        cls.their_call = Call.create({"partner_id": cls.theirs.id, "user_id": cls.other_seller.id, "duration": 30})

    def test_click_to_chat_links(self):
        partner = self.env["res.partner"].create(
            {"name": "Дана", "crm_whatsapp": "+7 (701) 123-45-67", "crm_telegram": "@dana_kz"}
        )
        self.assertEqual(partner.crm_whatsapp_url, "https://wa.me/77011234567")
        self.assertEqual(partner.crm_telegram_url, "https://t.me/dana_kz")
        partner.crm_telegram = "123456789"  # a numeric id has no public link
        self.assertFalse(partner.crm_telegram_url)

    def test_bad_handles_are_refused(self):
        with self.assertRaises(ValidationError):
            self.env["res.partner"].create({"name": "X", "crm_whatsapp": "call me"})
        with self.assertRaises(ValidationError):
            self.env["res.partner"].create({"name": "Y", "crm_telegram": "a b"})

    def test_phone_matching_ignores_the_format(self):
        Partner = self.env["res.partner"]
        self.assertEqual(Partner._crm_find_by_phone("8 (727) 250-00-01"), self.mine)
        self.assertEqual(Partner._crm_find_by_phone("77272500001"), self.mine)
        self.assertFalse(Partner._crm_find_by_phone("+7 727 250 00 02"))
        self.assertFalse(Partner._crm_find_by_phone("12"))
        with Form(self.env["crm.call"]) as call:
            call.phone = "+77272500001"
            self.assertEqual(call.partner_id, self.mine)

    def test_call_figures(self):
        self.assertEqual(self.my_call.duration_minutes, 1.5)
        self.assertEqual(self.mine.crm_call_count, 1)
        self.assertEqual(self.my_call.display_name, "Inbound: ТОО «Мой Клиент»")
        self.assertFalse(self.my_call.recording_src)
        self.my_call.recording = "UklGRg=="
        self.assertEqual(self.my_call.recording_src, f"/web/content/crm.call/{self.my_call.id}/recording")
        with self.assertRaises(ValidationError):
            self.my_call.recording_url = "ftp://pbx/rec.mp3"

    def test_salesperson_sees_calls_of_own_customers(self):
        calls = self.env["crm.call"].with_user(self.seller).search([("id", "in", (self.my_call + self.their_call).ids)])
        self.assertEqual(calls, self.my_call)
        events = self.env["crm.timeline.event"].with_user(self.seller).search([("kind", "=", "call")])
        self.assertEqual(events.partner_id, self.mine)
