import time
from contextlib import ExitStack
from unittest.mock import patch

from odoo.tests import tagged

from .messenger_common import MessengerSetup
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


@tagged("post_install", "-at_install")
class TestMessengerTour(MessengerSetup, CrmTourCase):
    """A manager answers a customer's WhatsApp message from the card; the (fake) WhatsApp Cloud API
    accepts it and reports it sent then delivered to the WhatsApp webhook, as Meta does."""

    def test_answer_a_whatsapp_message_from_the_card(self):
        # the manager works in their own company: the customer and its conversation belong to it
        admin = self.env.ref("base.user_admin")
        self.setup_messengers(self.env, webhook_url=f"{self.base_url()}/crm/webhook/whatsapp", company=admin.company_id)
        self.wa.auto_statuses = ("sent", "delivered")
        self.whatsapp_in(self.env, text="Когда отгрузка станков?", hours_ago=2)
        with ExitStack() as stack:
            # no job runner in tests: the sending job runs at once, as the runner would run it
            for target in ("odoo.addons.queue_job.delay", "odoo.addons.queue_job.models.base"):
                if self.env["ir.module.module"]._get("queue_job").state == "installed":
                    stack.enter_context(patch(f"{target}.must_run_without_delay", return_value=True))
            self.start_tour_with_screenshot(
                f"/odoo/res.partner/{self.buyer.id}", "crm_messenger_reply_tour", "messenger_reply", login="admin"
            )
        deadline = time.time() + 10
        while len(self.wa.webhook_answers) < 2 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.wa.webhook_answers, [("sent", 200), ("delivered", 200)])
        reply = self.env["crm.messenger.message"].search([("direction", "=", "out")])
        self.assertEqual((reply.state, reply.partner_id, reply.user_id.login), ("delivered", self.buyer, "admin"))
        self.assertEqual(self.wa.sent[0]["payload"]["text"]["body"], "Отгрузим в пятницу, счёт пришлём сегодня.")
