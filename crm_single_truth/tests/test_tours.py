from odoo.tests import tagged

from .tour_common import CrmTourCase


@tagged("post_install", "-at_install")
class TestCardTours(CrmTourCase):
    """МашСтрой's card in a real browser, on a laptop and on a phone (needs the demo data)."""

    def setUp(self):
        super().setUp()
        self.mashstroy = self.env.ref("crm_single_truth.partner_mashstroy_demo")

    def test_card_kpis_and_period_switch(self):
        self.start_tour_with_screenshot(
            f"/odoo/res.partner/{self.mashstroy.id}", "crm_partner_card_tour", "partner_card"
        )

    def test_card_on_a_phone(self):
        self.browser_size = "390x844"
        self.touch_enabled = True
        self.start_tour_with_screenshot(
            f"/odoo/res.partner/{self.mashstroy.id}", "crm_partner_card_tour", "partner_card_390px"
        )

    def test_timeline_filtered_by_kind(self):
        self.start_tour_with_screenshot(
            f"/odoo/res.partner/{self.mashstroy.id}", "crm_partner_timeline_tour", "timeline_messengers"
        )
