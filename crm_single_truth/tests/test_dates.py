"""The company's local date, without a database: every daily cron of the suite works on it."""

from datetime import date, datetime

from odoo.tests import BaseCase, TransactionCase, tagged

from odoo.addons.crm_single_truth.tools.dates import company_timezone, local_date


@tagged("post_install", "-at_install")
class TestLocalDate(BaseCase):
    def test_almaty_is_already_tomorrow(self):
        # 20:30 UTC on 14 January is 01:30 on 15 January in Almaty (UTC+5)
        self.assertEqual(local_date(datetime(2025, 1, 14, 20, 30), "Asia/Almaty"), date(2025, 1, 15))
        self.assertEqual(local_date(datetime(2025, 1, 14, 18, 59), "Asia/Almaty"), date(2025, 1, 14))
        self.assertEqual(local_date(datetime(2025, 1, 14, 20, 30), False), date(2025, 1, 14))
        self.assertEqual(local_date(datetime(2025, 1, 14, 20, 30), "Nowhere/Land"), date(2025, 1, 14))

    def test_company_timezone_falls_back_to_user_then_country(self):
        self.assertEqual(company_timezone("Europe/Moscow", "Asia/Almaty", "KZ"), "Europe/Moscow")
        self.assertEqual(company_timezone(False, "Asia/Almaty", "RU"), "Asia/Almaty")
        self.assertEqual(company_timezone(False, False, "KZ"), "Asia/Almaty")
        self.assertEqual(company_timezone(False, False, False), "UTC")


@tagged("post_install", "-at_install")
class TestCompanyToday(TransactionCase):
    def test_company_today_in_its_address_time_zone(self):
        company = self.env.company
        company.partner_id.tz = "Asia/Almaty"
        self.assertEqual(company._crm_today(datetime(2024, 1, 10, 20, 30)), date(2024, 1, 11))
        company.partner_id.tz = "Europe/Moscow"
        self.assertEqual(company._crm_today(datetime(2024, 1, 10, 20, 30)), date(2024, 1, 10))
