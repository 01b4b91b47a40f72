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

    def test_mail_on_deals_orders_and_invoices_is_in_the_history(self):
        order = self.sale_order(1500.0, days_ago=3, partner=self.contact)
        invoice = self.invoice(800.0, days_ago=2)
        deal = self.env["crm.lead"].create(
            {"name": "Новая линия", "type": "opportunity", "partner_id": self.contact.id}
        )
        order.message_post(
            body="Клиент просит перенести отгрузку", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        invoice.message_post(subject="Счёт №12 отправлен", body="<p>Во вложении</p>", message_type="email")
        deal.message_post(body="Готовы подписать в декабре", message_type="comment")
        # chatter notifications (tracking, confirmations) are not conversations
        notifications = self.events([("kind", "in", ("email", "note")), ("res_model", "!=", "res.partner")])
        by_document = {(event.res_model, event.res_id): event for event in notifications}
        self.assertEqual(
            {key: (event.kind, event.name) for key, event in by_document.items()},
            {
                ("sale.order", order.id): ("note", "Клиент просит перенести отгрузку"),
                ("account.move", invoice.id): ("email", "Счёт №12 отправлен"),
                ("crm.lead", deal.id): ("note", "Готовы подписать в декабре"),
            },
        )
        self.assertEqual(by_document[("sale.order", order.id)].contact_id, self.contact)
        self.assertEqual(by_document[("account.move", invoice.id)].contact_id, self.customer)
        self.assertEqual(by_document[("sale.order", order.id)].user_id, self.env.user)

    def test_each_contact_has_its_own_history(self):
        self.contact.message_post(body="Позвонить после обеда", message_type="comment")
        self.sale_order(1500.0, days_ago=3, partner=self.contact)
        self.invoice(800.0, days_ago=2)
        company_events = self.events()
        own = self.env["crm.timeline.event"].search(self.contact._crm_timeline_domain())
        self.assertEqual(sorted(own.mapped("kind")), ["note", "order"])
        self.assertEqual(own.contact_id, self.contact)
        self.assertGreater(len(company_events), len(own))
        self.assertEqual(self.contact.crm_timeline_count, len(own))
        self.assertEqual(self.customer.crm_timeline_count, len(company_events))
        action = self.contact.action_crm_open_timeline()
        self.assertEqual(action["domain"], [("contact_id", "=", self.contact.id)])
        self.assertEqual(self.customer.action_crm_open_timeline()["domain"], [("partner_id", "=", self.customer.id)])

    def test_rows_are_keyed_by_source_and_id(self):
        self.contact.message_post(body="Заметка", message_type="comment")
        order = self.sale_order(1500.0, days_ago=3)
        invoice = self.invoice(800.0, days_ago=2)
        Event = self.env["crm.timeline.event"]
        sources = sorted(Event._get_timeline_sources())
        events = Event.search([])
        self.assertEqual(len(set(events.ids)), len(events))
        for event in events:
            # the id is the pair (source, row of the source) and nothing else
            self.assertEqual(event.id, event.source_id * len(sources) + sources.index(event.source))
        keys = {(e.source, e.source_id) for e in self.events()}
        self.assertIn(("sale_order", order.id), keys)
        self.assertIn(("account_move", invoice.id), keys)
        # the same document id in two sources is two rows
        self.assertEqual(
            len({e.id for e in events.filtered(lambda e: e.source_id == order.id)}),
            len(events.filtered(lambda e: e.source_id == order.id)),
        )

    def test_rows_read_by_id_are_looked_up_by_their_key(self):
        order = self.sale_order(1500.0, days_ago=3)
        event = self.events([("res_model", "=", "sale.order"), ("res_id", "=", order.id)])
        Event = self.env["crm.timeline.event"]
        query = Event.browse(event.ids)._as_query(ordered=False)
        sql = query.select().code
        self.assertIn('"crm_timeline_event"."source"', sql)
        Event.invalidate_model()
        self.assertEqual((Event.browse(event.id).res_model, Event.browse(event.id).res_id), ("sale.order", order.id))
        self.assertEqual(Event.browse(event.id).exists(), event)
        self.assertFalse(Event.browse(10**12).exists())
