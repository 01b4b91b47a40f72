"""The reminder's salutation and recipient rules, without a database."""

from odoo.tests import BaseCase

from odoo.addons.crm_receivables.tools.dunning import channel_allowed, choose_recipient
from odoo.addons.crm_receivables.tools.greeting import greeting, language_of, split_person_name


class TestGreeting(BaseCase):
    def test_russian_names_with_patronymic(self):
        self.assertEqual(greeting("Петров Иван Петрович", "ru_RU"), "Уважаемый Иван Петрович!")
        self.assertEqual(greeting("Иван Петрович Петров", "ru_RU"), "Уважаемый Иван Петрович!")
        self.assertEqual(greeting("Петрова Анна Сергеевна", "ru_RU"), "Уважаемая Анна Сергеевна!")
        self.assertEqual(greeting("Кузьмина Ольга Ильинична", "ru_RU"), "Уважаемая Ольга Ильинична!")
        self.assertEqual(greeting("Шостакович Дмитрий Дмитриевич", "ru_RU"), "Уважаемый Дмитрий Дмитриевич!")

    def test_kazakh_names_and_language(self):
        self.assertEqual(greeting("Сапаров Ержан Болатұлы", "kk_KZ"), "Құрметті Ержан Болатұлы!")
        self.assertEqual(greeting("Ахметова Гульнара Серікқызы", "kk_KZ"), "Құрметті Гульнара Серікқызы!")
        self.assertEqual(greeting("Сапаров Ержан Болатұлы", "ru_RU"), "Уважаемый Ержан Болатұлы!")
        self.assertEqual(greeting("Петров Иван Петрович", "kk_KZ"), "Құрметті Иван Петрович!")

    def test_without_patronymic_gender_from_surname(self):
        self.assertEqual(greeting("Гульнара Ахметова", "ru_RU"), "Уважаемая Гульнара!")
        self.assertEqual(greeting("Ахметова Гульнара", "ru_RU"), "Уважаемая Гульнара!")
        self.assertEqual(greeting("Ержан Сапаров", "ru_RU"), "Уважаемый Ержан!")
        self.assertEqual(greeting("Никита", "ru_RU"), "Уважаемый Никита!")

    def test_gender_unknown_is_not_guessed(self):
        self.assertEqual(greeting("Алексей Ким", "ru_RU"), "Здравствуйте, Алексей Ким!")
        self.assertEqual(greeting("Анна", "ru_RU"), "Здравствуйте, Анна!")
        self.assertEqual(split_person_name("Алексей Ким"), ("Алексей Ким", None))

    def test_company_and_other_languages(self):
        self.assertEqual(greeting("ТОО «КазЛогистик»", "ru_RU", is_company=True), "Здравствуйте, ТОО «КазЛогистик»!")
        self.assertEqual(greeting("ТОО «КазЛогистик»", "kk_KZ", is_company=True), "Сәлеметсіз бе, ТОО «КазЛогистик»!")
        self.assertEqual(greeting("Петров Иван Петрович", "en_US"), "Dear Иван Петрович,")
        self.assertEqual(greeting("", "ru_RU"), "Здравствуйте, !")
        self.assertEqual(
            (language_of("kk_KZ"), language_of("ru_RU"), language_of("fr_FR"), language_of(False)),
            ("kk", "ru", "en", "en"),
        )


class TestRecipientRule(BaseCase):
    def test_accountant_then_director_then_company(self):
        contacts = [(1, "purchaser", True), (2, "director", True), (3, "accountant", True)]
        self.assertEqual(choose_recipient(contacts), 3)
        self.assertEqual(choose_recipient([(1, "purchaser", True), (2, "director", True)]), 2)
        self.assertEqual(choose_recipient([(1, "purchaser", True), (2, "engineer", True)]), None)
        self.assertEqual(choose_recipient([]), None)

    def test_unreachable_contact_is_skipped(self):
        contacts = [(2, "director", True), (3, "accountant", False)]
        self.assertEqual(choose_recipient(contacts), 2)
        self.assertEqual(choose_recipient([(3, "accountant", False), (4, "accountant", True)]), 4)

    def test_channels_of_actions(self):
        self.assertTrue(channel_allowed("email_customer", "whatsapp"))
        self.assertTrue(channel_allowed("activity_supervisor", "activity"))
        self.assertFalse(channel_allowed("activity_manager", "email"))
        self.assertFalse(channel_allowed("email_customer", "activity"))
