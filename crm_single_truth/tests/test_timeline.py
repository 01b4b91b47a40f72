from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestTimeline(CrmKpiCommon):
    def events(self, domain=()):
        Event = self.env["crm.timeline.event"]
        Event.invalidate_model()
        return Event.search([("partner_id", "=", self.customer.id), *domain])

    def test_one_feed_of_everything(self):
        self.contact.message_post(body="Asked for a discount on lathes", message_type="comment")
        self.customer.message_post(subject="Price list 2027", body="<p>Attached</p>", message_type="email")
        order = self.sale_order(1500.0, days_ago=20, partner=self.contact)
        invoice = self.invoice(800.0, days_ago=10, due_days=30)
        payment = self.pay(invoice, days_ago=2)
        Lead = self.env["crm.lead"]
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        open_deal = Lead.create(
            {"name": "Second line", "type": "opportunity", "partner_id": self.contact.id, "expected_revenue": 9000}
        )
        won = Lead.create(
            {
                "name": "Service contract",
                "type": "opportunity",
                "partner_id": self.customer.id,
                "stage_id": won_stage.id,
            }
        )
        lost = Lead.create({"name": "Old tender", "type": "opportunity", "partner_id": self.customer.id})
        lost.action_set_lost()

        events = self.events()
        by_kind = {}
        for event in events:
            by_kind.setdefault(event.kind, self.env["crm.timeline.event"])
            by_kind[event.kind] |= event
        self.assertEqual(sorted(by_kind), ["deal", "email", "invoice", "note", "order", "payment"])
        self.assertEqual(by_kind["order"].res_id, order.id)
        self.assertEqual(by_kind["invoice"].res_id, invoice.id)
        self.assertEqual(by_kind["invoice"].amount, 800.0)
        self.assertEqual(by_kind["payment"].res_id, payment.id)
        self.assertEqual(by_kind["email"].name, "Price list 2027")
        self.assertIn("Asked for a discount", by_kind["note"].name)
        self.assertEqual(
            {(e.res_id, e.state) for e in by_kind["deal"]},
            {(open_deal.id, "open"), (won.id, "won"), (lost.id, "lost")},
        )
        # newest first
        self.assertEqual(events.mapped("date"), sorted(events.mapped("date"), reverse=True))
        self.assertEqual(self.customer.crm_timeline_count, len(events))
        action = by_kind["order"].action_open_document()
        self.assertEqual((action["res_model"], action["res_id"]), ("sale.order", order.id))

    def test_filter_by_kind_and_period(self):
        self.invoice(100.0, days_ago=400)
        self.invoice(200.0, days_ago=10)
        recent = self.events([("kind", "=", "invoice"), ("date", ">=", self.days_ago(30))])
        self.assertEqual(recent.mapped("amount"), [200.0])
        self.assertEqual(len(self.events([("kind", "=", "invoice")])), 2)
        self.assertFalse(self.events([("kind", "=", "order")]))

    def test_salesperson_sees_only_own_customers(self):
        seller = new_test_user(
            self.env, login="timeline.seller", groups="base.group_user,crm_single_truth.group_crm_user"
        )
        self.customer.user_id = self.env.user
        self.invoice(100.0, days_ago=1)
        event = self.events()
        self.assertEqual(len(event), 1)
        with self.assertRaises(AccessError):
            event.with_user(seller).read(["name"])
        self.customer.user_id = seller
        self.assertEqual(
            self.env["crm.timeline.event"].with_user(seller).search([("partner_id", "=", self.customer.id)]), event
        )
