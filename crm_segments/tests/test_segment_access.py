from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

ACCESS_ERROR = "odoo.exceptions.AccessError"


@tagged("post_install", "-at_install")
class TestSegmentAccessRpc(HttpCase):
    """What a portal user, a salesperson and a user of another company can do with segments
    through RPC, as the web client calls them (call_kw), not through the ORM as superuser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, mail_notify_force_send=False))
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Segments Other Company"})
        cls.portal = new_test_user(cls.env, login="seg_portal", groups="base.group_portal")
        seller_groups = "base.group_user,crm_single_truth.group_crm_user"
        cls.seller = new_test_user(cls.env, login="seg_seller", groups=seller_groups)
        cls.colleague = new_test_user(cls.env, login="seg_colleague", groups=seller_groups)
        cls.outsider = new_test_user(
            cls.env,
            login="seg_outsider",
            groups="base.group_user,crm_single_truth.group_crm_manager",
            company_id=cls.company_b.id,
            company_ids=[Command.set(cls.company_b.ids)],
        )
        Partner = cls.env["res.partner"]
        cls.own = Partner.create({"name": "Seg Own Customer", "is_company": True, "user_id": cls.seller.id})
        cls.foreign = Partner.create(
            {"name": "Seg Colleague's Customer", "is_company": True, "user_id": cls.colleague.id}
        )
        cls.b_customer = Partner.create({"name": "Seg B Customer", "is_company": True, "company_id": cls.company_b.id})
        customers = cls.own | cls.foreign | cls.b_customer
        Segment = cls.env["crm.segment"]
        # no condition: every active customer of the domain the evaluating user may see matches
        cls.shared = Segment.create(
            {"name": "Seg Everyone", "code": "test_rpc", "domain": str([("id", "in", customers.ids)])}
        )
        cls.only_a = Segment.create(
            {
                "name": "Seg Company A",
                "code": "test_rpc_a",
                "company_id": cls.company_a.id,
                "domain": str([("id", "in", customers.ids)]),
            }
        )
        (cls.shared | cls.only_a).with_context(allowed_company_ids=cls.company_a.ids).action_refresh()

    def call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def assertDenied(self, model, method, *args, **kwargs):
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException) as caught:
            self.call(model, method, *args, **kwargs)
        self.assertEqual(str(caught.exception), ACCESS_ERROR, f"{model}.{method}")

    def open_memberships(self, segment):
        return segment.membership_ids.filtered(lambda membership: not membership.date_end)

    def test_refresh_in_company_a_left_out_the_customer_of_company_b(self):
        self.assertEqual(self.open_memberships(self.shared).partner_id, self.own | self.foreign)
        self.assertEqual(self.open_memberships(self.shared).company_id, self.company_a)

    def test_portal_user(self):
        self.authenticate("seg_portal", "seg_portal")
        for method in ("action_refresh", "action_schedule_call", "action_assign_salesperson", "action_open_members"):
            self.assertDenied("crm.segment", method, self.shared.ids)
        self.assertDenied("crm.segment", "search_read", [], ["name"])
        self.assertDenied("crm.segment.membership", "search_read", [], ["partner_id"])
        self.assertDenied("crm.segment.members.wizard", "create", {"segment_id": self.shared.id})
        self.assertDenied("crm.segment", "_cron_refresh_segments")

    def test_salesperson(self):
        self.authenticate("seg_seller", "seg_seller")
        for method in ("action_refresh", "action_schedule_call", "action_assign_salesperson"):
            self.assertDenied("crm.segment", method, self.shared.ids)
        self.assertDenied("crm.segment", "write", self.shared.ids, {"domain": "[]"})
        self.assertDenied("crm.segment.members.wizard", "create", {"segment_id": self.shared.id, "action": "call"})
        wizard = self.env["crm.segment.members.wizard"].create({"segment_id": self.shared.id, "action": "call"})
        self.assertDenied("crm.segment.members.wizard", "action_apply", wizard.ids)
        self.assertDenied("crm.segment", "_cron_refresh_segments")
        self.assertEqual(self.call("crm.segment", "action_open_members", self.shared.ids)["res_model"], "res.partner")
        # memberships, the partner's segments, searches and groups: own customers only
        memberships = self.call(
            "crm.segment.membership", "search_read", [("segment_id", "=", self.shared.id)], ["partner_id"]
        )
        self.assertEqual([row["partner_id"][0] for row in memberships], self.own.ids)
        found = self.call("res.partner", "search", [("crm_segment_ids", "in", self.shared.ids)])
        self.assertEqual(found, self.own.ids)
        found = self.call("res.partner", "search", [("crm_segment_ids.code", "=", "test_rpc")])
        self.assertEqual(found, self.own.ids)
        rows = self.call("res.partner", "read", (self.own | self.foreign).ids, ["crm_segment_ids"])
        self.assertEqual(
            {row["id"]: row["crm_segment_ids"] for row in rows},
            {self.own.id: (self.shared | self.only_a).ids, self.foreign.id: []},
        )
        groups = self.call(
            "res.partner",
            "read_group",
            [("id", "in", (self.own | self.foreign).ids)],
            ["crm_segment_ids"],
            ["crm_segment_ids"],
            lazy=False,
        )
        counts = {(group["crm_segment_ids"] or [False])[0]: group["__count"] for group in groups}
        self.assertEqual(counts, {self.shared.id: 1, self.only_a.id: 1, False: 1})
        # nothing changed behind the refusals
        self.assertEqual(self.open_memberships(self.shared).partner_id, self.own | self.foreign)
        self.assertFalse(
            self.env["mail.activity"].search([("res_model", "=", "res.partner"), ("res_id", "in", self.own.ids)])
        )

    def test_user_of_another_company(self):
        self.authenticate("seg_outsider", "seg_outsider")
        self.assertDenied("crm.segment", "read", self.only_a.ids, ["name"])
        self.assertDenied("crm.segment", "action_refresh", self.only_a.ids)
        self.assertEqual(self.call("crm.segment.membership", "search_read", [], ["partner_id"]), [])
        self.assertEqual(self.call("res.partner", "search", [("crm_segment_ids", "!=", False)]), [])
        self.assertEqual(self.call("crm.segment", "read", self.shared.ids, ["partner_count"])[0]["partner_count"], 0)
        # a segment without a company is evaluated in the outsider's company alone, on what they see:
        # the customers shared by all companies and those of company B
        self.assertTrue(self.call("crm.segment", "action_refresh", self.shared.ids))
        current = self.open_memberships(self.shared)
        self.assertEqual(
            {(membership.partner_id, membership.company_id) for membership in current},
            {
                (self.own, self.company_a),
                (self.foreign, self.company_a),
                (self.own, self.company_b),
                (self.foreign, self.company_b),
                (self.b_customer, self.company_b),
            },
        )
        self.assertEqual(self.call("crm.segment", "read", self.shared.ids, ["partner_count"])[0]["partner_count"], 3)
        found = self.call("res.partner", "search", [("crm_segment_ids", "=", self.shared.id)], order="id")
        self.assertEqual(found, (self.own | self.foreign | self.b_customer).sorted("id").ids)
