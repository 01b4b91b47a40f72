from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon

from ..models.crm_segment_rule import RULE_FIELDS


@tagged("post_install", "-at_install")
class TestSegments(CrmKpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = new_test_user(
            cls.env, login="seg.seller", groups="base.group_user,crm_single_truth.group_crm_user"
        )
        cls.todo = cls.env.ref("mail.mail_activity_data_todo")

    def shipped(self, code, partners):
        """A copy of a shipped segment restricted to the test customers."""
        original = self.env["crm.segment"].search([("code", "=", code), ("company_id", "=", False)])
        self.assertEqual(len(original), 1)
        return original.copy({"code": f"test_{code}", "domain": str([("id", "in", partners.ids)])})

    def customers(self, count, prefix="Customer"):
        return self.env["res.partner"].create([{"name": f"{prefix} {i}", "is_company": True} for i in range(count)])

    def members(self, segment):
        return segment.membership_ids.filtered(lambda m: not m.date_end).partner_id

    def test_sleeping_boundary_89_90_91_days(self):
        c89, c90, c91 = self.customers(3)
        for customer, days in ((c89, 89), (c90, 90), (c91, 91)):
            self.invoice(1000.0, days_ago=days, partner=customer)
        segment = self.shipped("sleeping", c89 | c90 | c91)
        segment.action_refresh()
        self.assertEqual(self.members(segment), c91)  # "more than 90 days"
        self.assertEqual(segment.partner_count, 1)

    def test_large_boundary(self):
        below, exact, above = self.customers(3)
        for customer, amount in ((below, 499999.99), (exact, 500000.0), (above, 500000.01)):
            self.invoice(amount, days_ago=5, partner=customer)
        segment = self.shipped("large", below | exact | above)
        segment.action_refresh()
        self.assertEqual(self.members(segment), above)
        self.assertIn(segment, above.crm_segment_ids)
        self.assertEqual(self.env["res.partner"].search([("crm_segment_ids", "in", segment.ids)]), above)

    def test_sleeping_large_is_half_a_year(self):
        c179, c180, c181 = self.customers(3)
        for customer, days in ((c179, 179), (c180, 180), (c181, 181)):
            self.invoice(600000.0, days_ago=days, partner=customer)
        segment = self.shipped("sleeping_large", c179 | c180 | c181)
        segment.action_refresh()
        self.assertEqual(self.members(segment), c181)  # "more than half a year"
        shipped = self.env.ref("crm_segments.segment_sleeping_large").rule_ids
        self.assertEqual(
            sorted((rule.field_name, rule.operator, rule.value) for rule in shipped),
            [("crm_days_since_last_order", ">", "180"), ("crm_ltv", ">", "500000")],
        )

    def test_new_order_moves_a_customer_out_once(self):
        customer = self.customers(1)
        customer.user_id = self.seller
        self.invoice(700000.0, days_ago=200, partner=customer)
        segment = self.shipped("sleeping_large", customer)
        segment.action_refresh()
        self.assertEqual(self.members(segment), customer)
        entered = customer.activity_ids.filtered(lambda a: "entered" in (a.summary or ""))
        self.assertEqual(len(entered), 1)
        self.assertEqual(entered.user_id, self.seller)
        segment.action_refresh()  # a rerun changes nothing
        self.assertEqual(len(segment.membership_ids), 1)
        self.assertEqual(len(customer.activity_ids), 1)

        self.sale_order(5000.0, days_ago=0, partner=customer)  # the manager woke them up
        segment.action_refresh()
        segment.action_refresh()
        self.assertFalse(self.members(segment))
        history = segment.membership_ids
        self.assertEqual(len(history), 1)
        self.assertEqual(history.date_start, self.today)
        self.assertEqual(history.date_end, self.today)
        left = customer.activity_ids.filtered(lambda a: "left" in (a.summary or ""))
        self.assertEqual(len(left), 1)
        self.assertEqual(len(customer.activity_ids), 2)

    def test_at_risk_overdue_or_frequency_drop(self):
        overdue, dropped, steady = self.customers(3)
        self.invoice(100.0, days_ago=40, partner=overdue, due_days=10)
        for days in (400, 330, 260, 200, 150):  # five purchases before, none in the last 90 days
            self.invoice(100.0, days_ago=days, partner=dropped)
            self.pay(
                self.env["account.move"].search([("partner_id", "=", dropped.id), ("payment_state", "=", "not_paid")]),
                days_ago=days,
            )
        for days in (200, 120, 60, 10):
            self.invoice(100.0, days_ago=days, partner=steady)
            self.pay(
                self.env["account.move"].search([("partner_id", "=", steady.id), ("payment_state", "=", "not_paid")]),
                days_ago=days,
            )
        self.assertTrue(dropped.crm_purchase_drop)
        self.assertFalse(steady.crm_purchase_drop)
        segment = self.shipped("at_risk", overdue | dropped | steady)
        segment.action_refresh()
        self.assertEqual(self.members(segment), overdue | dropped)

    def test_segment_facts_follow_the_dossier_visibility(self):
        """A salesperson neither reads nor finds the purchase drop, first source or categories of a
        colleague's customer."""
        colleague = new_test_user(
            self.env, login="seg.colleague", groups="base.group_user,crm_single_truth.group_crm_user"
        )
        own, foreign = self.customers(2)
        own.user_id, foreign.user_id = self.seller, colleague
        source = self.env["utm.source"].create({"name": "Visibility Fair"})
        for customer in own | foreign:
            for days in (400, 330, 260, 200, 150):
                self.invoice(100.0, days_ago=days, partner=customer)
            self.sale_order(100.0, days_ago=380, partner=customer).source_id = source
        self.env.invalidate_all()
        self.assertTrue(foreign.crm_purchase_drop)
        self.assertEqual(foreign.crm_first_source_id, source)
        Partner = self.env["res.partner"].with_user(self.seller)
        mine, theirs = own.with_user(self.seller), foreign.with_user(self.seller)
        self.assertTrue(mine.crm_purchase_drop)
        self.assertEqual(mine.crm_first_source_id, source)
        self.assertFalse(theirs.crm_purchase_drop)
        self.assertFalse(theirs.crm_first_source_id)
        self.assertFalse(theirs.crm_bought_categ_ids)
        both = [("id", "in", (own | foreign).ids)]
        self.assertEqual(Partner.search([*both, ("crm_purchase_drop", "=", True)]), mine)
        self.assertEqual(Partner.search([*both, ("crm_first_source_id", "=", source.id)]), mine)
        self.assertEqual(Partner.search([*both, ("crm_bought_categ_ids", "=", self.product_a.categ_id.id)]), mine)

    def test_validation_names_the_wrong_condition(self):
        Segment = self.env["crm.segment"]
        with self.assertRaisesRegex(ValidationError, "“Lifetime value > lots”: lots is not a number"):
            Segment.create(
                {
                    "name": "Bad",
                    "code": "bad1",
                    "rule_ids": [(0, 0, {"field_name": "crm_ltv", "operator": ">", "value": "lots"})],
                }
            )
        with self.assertRaisesRegex(ValidationError, "freezing is not one of hot, warm, cold"):
            Segment.create(
                {
                    "name": "Bad",
                    "code": "bad2",
                    "rule_ids": [(0, 0, {"field_name": "crm_temperature", "operator": "=", "value": "freezing"})],
                }
            )
        with self.assertRaisesRegex(ValidationError, "operator > cannot be used"):
            Segment.create(
                {
                    "name": "Bad",
                    "code": "bad3",
                    "rule_ids": [(0, 0, {"field_name": "crm_payment_rating", "operator": ">", "value": "good"})],
                }
            )
        with self.assertRaisesRegex(ValidationError, "the customer has no field x_unknown"):
            Segment.create({"name": "Bad", "code": "bad4", "domain": "[('x_unknown', '=', 1)]"})
        manager = new_test_user(
            self.env, login="seg.manager", groups="base.group_user,crm_single_truth.group_crm_manager"
        )
        with self.assertRaisesRegex(ValidationError, "you may not read the field"):
            # signup_type is restricted to access-rights administrators
            Segment.with_user(manager).create({"name": "Bad", "code": "bad5", "domain": "[('signup_type', '=', 'x')]"})

    def test_preview_count_follows_the_edited_rules(self):
        customers = self.customers(2)
        self.invoice(600000.0, days_ago=5, partner=customers[0])
        self.invoice(100.0, days_ago=5, partner=customers[1])
        segment = self.shipped("large", customers)
        self.assertEqual(segment.preview_count, 1)
        segment.rule_ids.value = "50"
        self.assertEqual(segment.preview_count, 2)

    def test_salesperson_sees_only_own_customers_memberships(self):
        own, other = self.customers(2)
        own.user_id = self.seller
        other.user_id = self.env.user
        for customer in (own, other):
            self.invoice(600000.0, days_ago=5, partner=customer)
        segment = self.shipped("large", own | other)
        segment.action_refresh()
        Membership = self.env["crm.segment.membership"].with_user(self.seller)
        visible = Membership.search([("segment_id", "=", segment.id)])
        self.assertEqual(visible.partner_id, own)
        foreign = segment.membership_ids.filtered(lambda m: m.partner_id == other)
        with self.assertRaises(AccessError):
            foreign.with_user(self.seller).read(["partner_id"])

    def test_two_companies(self):
        customer = self.customers(1)
        main = self.env.company
        company_2 = self.setup_other_company(name="Segment Company Two")["company"]
        self.env.user.company_ids |= company_2
        self.invoice(600000.0, days_ago=5, partner=customer, company=company_2)
        segment = self.shipped("large", customer)
        segment.with_context(allowed_company_ids=[main.id]).action_refresh()  # nothing bought here
        self.assertFalse(self.members(segment))
        # a segment without a company is evaluated in each company of the user, on its own figures
        segment.with_context(allowed_company_ids=[main.id, company_2.id]).action_refresh()
        membership = segment.membership_ids
        self.assertEqual((membership.partner_id, membership.company_id), (customer, company_2))
        self.assertFalse(customer.with_company(main).crm_segment_ids)
        self.assertEqual(customer.with_company(company_2).crm_segment_ids, segment)
        self.assertEqual(segment.with_company(main).partner_count, 0)
        self.assertEqual(segment.with_company(company_2).partner_count, 1)
        # evaluated in the main company alone, the membership of the second company stays
        segment.with_context(allowed_company_ids=[main.id]).action_refresh()
        self.assertEqual(self.members(segment), customer)
        # a segment of one company is evaluated there only
        own = self.shipped("large", customer)
        own.write({"code": "test_large_main", "company_id": main.id})
        own.with_context(allowed_company_ids=[main.id, company_2.id]).action_refresh()
        self.assertFalse(own.membership_ids)

    def test_refresh_on_the_company_local_date(self):
        """A cron running at 01:30 in Almaty (20:30 UTC the day before) works on Almaty's date."""
        company = self.env.company
        customer = self.customers(1)
        self.invoice(600000.0, days_ago=(self.today - date(2025, 9, 2)).days, partner=customer)
        segment = self.shipped("sleeping_large", customer)
        with freeze_time("2026-03-01 20:30:00"):
            company.partner_id.tz = "UTC"  # 1 March: 180 days since the purchase, not more
            segment.action_refresh()
            self.assertFalse(self.members(segment))
            company.partner_id.tz = "Asia/Almaty"  # already 2 March there: 181 days
            segment.action_refresh()
            self.assertEqual(self.members(segment), customer)
            self.assertEqual(segment.membership_ids.date_start, date(2026, 3, 2))

    def test_cron_reports_what_remains_and_reruns_only_what_is_due(self):
        Segment = self.env["crm.segment"]
        customer = self.customers(1)
        extra = Segment.create(
            [
                {"name": f"Batch {i}", "code": f"test_batch_{i}", "domain": str([("id", "=", customer.id)])}
                for i in range(25)
            ]
        )
        cron = self.env.ref("crm_segments.ir_cron_refresh_segments")
        cron.nextcall = fields.Datetime.now() - timedelta(minutes=1)  # this run was due a minute ago
        Segment.search([]).last_refresh = cron.nextcall - timedelta(hours=1)
        due = Segment.search_count([])
        self.assertGreater(due, 25)
        Progress = self.env["ir.cron.progress"].sudo()
        reports = []
        for _call in range(10):
            progress = Progress.create({"cron_id": cron.id, "done": 0, "remaining": 0})
            Segment.with_context(cron_id=cron.id, ir_cron_progress_id=progress.id)._cron_refresh_segments()
            reports.append((progress.done, progress.remaining))
            if not progress.remaining:
                break
        first = min(20, due)
        self.assertEqual(reports[0], (first, due - first))
        self.assertEqual(sum(done for done, _remaining in reports), due)  # each segment once
        self.assertEqual(reports[-1][1], 0)
        self.assertTrue(all(segment.last_refresh >= cron.nextcall for segment in extra))
        self.assertEqual(extra.mapped("partner_count"), [1] * 25)
        # the next call of the same run finds nothing left to do
        progress = Progress.create({"cron_id": cron.id, "done": 0, "remaining": 0})
        Segment.with_context(cron_id=cron.id, ir_cron_progress_id=progress.id)._cron_refresh_segments()
        self.assertEqual((progress.done, progress.remaining), (0, 0))

    def test_rule_facts_defined_once(self):
        """The selectable facts are the table that types them, and each is a searchable customer field."""
        selection = self.env["crm.segment.rule"]._fields["field_name"].get_values(self.env)
        self.assertEqual(selection, list(RULE_FIELDS))
        Partner = self.env["res.partner"]
        for fname in RULE_FIELDS:
            self.assertTrue(Partner._fields[fname]._description_searchable, fname)

    def test_refresh_query_count_does_not_grow_with_customers(self):
        few = self.customers(3, "Few")
        segment = self.shipped("large", few)
        for customer in few:
            self.invoice(600000.0, days_ago=5, partner=customer)
        segment.action_refresh()  # warm-up
        segment.membership_ids.sudo().unlink()
        self.env.invalidate_all()
        start = self.cr.sql_log_count
        segment.action_refresh()
        few_queries = self.cr.sql_log_count - start

        many = self.customers(12, "Many")
        for customer in many:
            self.invoice(600000.0, days_ago=5, partner=customer)
        segment.domain = str([("id", "in", (few | many).ids)])
        segment.membership_ids.sudo().unlink()
        self.env.invalidate_all()
        self.env.flush_all()
        start = self.cr.sql_log_count
        segment.action_refresh()
        many_queries = self.cr.sql_log_count - start
        self.assertEqual(len(segment.membership_ids), 15)
        self.assertEqual(many_queries, few_queries)

    def test_customers_kpis_computed_once_for_the_segments_refreshed_together(self):
        customers = self.customers(3, "Snapshot")
        for customer, days in zip(customers, (10, 100, 200), strict=True):
            self.invoice(600000.0, days_ago=days, partner=customer)
        segments = self.env["crm.segment"].browse(
            [self.shipped(code, customers).id for code in ("sleeping", "large", "sleeping_large")]
        )
        Kpi = self.registry["crm.partner.kpi"]
        with patch.object(Kpi, "_crm_apply_pending", autospec=True, side_effect=Kpi._crm_apply_pending) as kpi_runs:
            segments.action_refresh()
        # one computation of every customer's KPIs for the five KPI conditions of the three segments
        self.assertEqual(kpi_runs.call_count, 1)
        self.assertEqual(self.members(segments[0]), customers[1:])
        self.assertEqual(self.members(segments[1]), customers)
        self.assertEqual(self.members(segments[2]), customers[2])
        # nothing of the snapshot is left for what follows in the transaction
        self.env.cr.execute("SELECT to_regclass(%s)", [f"crm_segment_kpi_{self.env.company.id}"])
        self.assertIsNone(self.env.cr.fetchone()[0])

    def test_group_by_segment_and_filters(self):
        customers = self.customers(2)
        self.invoice(600000.0, days_ago=5, partner=customers[0])
        segment = self.shipped("large", customers)
        segment.action_refresh()
        groups = self.env["res.partner"]._read_group([("id", "in", customers.ids)], ["crm_segment_ids"], ["__count"])
        counts = {seg.id if seg else False: count for seg, count in groups}
        self.assertEqual(counts.get(segment.id), 1)
        self.assertEqual(counts.get(False), 1)

    def test_rfm_scores_are_quintiles(self):
        # ten customers with growing history: scores 1,1,2,2,...,5,5 among them, when alone
        customers = self.customers(10, "RFM")
        for rank, customer in enumerate(customers):
            for n in range(rank + 1):
                self.invoice(1000.0 * (rank + 1), days_ago=400 - rank * 30 - n, partner=customer)
        segment = self.env["crm.segment"].create(
            {
                "name": "Best",
                "code": "test_best",
                "domain": str([("id", "in", customers.ids)]),
                "rule_ids": [(0, 0, {"field_name": "crm_rfm_monetary", "operator": ">=", "value": "5"})],
            }
        )
        segment.action_refresh()
        top = self.members(segment)
        self.assertTrue(top)
        self.assertTrue(all(partner.crm_rfm_monetary == 5 for partner in top))
        self.assertIn(customers[-1], top)
        self.assertNotIn(customers[0], top)
        self.assertGreater(customers[-1].crm_rfm_frequency, customers[0].crm_rfm_frequency)
        self.assertGreater(customers[-1].crm_rfm_recency, customers[0].crm_rfm_recency)

    def test_source_and_category_conditions(self):
        source = self.env["utm.source"].create({"name": "Instagram Ads"})
        categ = self.env["product.category"].create({"name": "Lathes"})
        self.product_a.categ_id = categ
        by_source, by_categ, other = self.customers(3)
        order = self.sale_order(100.0, days_ago=10, partner=by_source)
        order.source_id = source
        self.sale_order(100.0, days_ago=20, partner=by_categ)
        self.invoice(100.0, days_ago=5, partner=other)
        self.assertEqual(by_source.crm_first_source_id, source)
        self.assertIn(categ, by_categ.crm_bought_categ_ids)
        segment = self.env["crm.segment"].create(
            {
                "name": "From Instagram",
                "code": "test_source",
                "domain": str([("id", "in", (by_source | by_categ | other).ids)]),
                "rule_ids": [(0, 0, {"field_name": "crm_first_source_id", "operator": "=", "value": "instagram ads"})],
            }
        )
        segment.action_refresh()
        self.assertEqual(self.members(segment), by_source)
        segment.rule_ids = [
            (5, 0, 0),
            (0, 0, {"field_name": "crm_bought_categ_ids", "operator": "=", "value": "Lathes"}),
        ]
        segment.action_refresh()
        self.assertEqual(self.members(segment), by_source | by_categ)
        with self.assertRaisesRegex(ValidationError, "nothing is named Tractors"):
            segment.rule_ids = [(0, 0, {"field_name": "crm_bought_categ_ids", "operator": "=", "value": "Tractors"})]

    def test_bulk_call_and_assignment(self):
        customers = self.customers(3)
        for customer in customers:
            self.invoice(600000.0, days_ago=5, partner=customer)
        segment = self.shipped("large", customers)
        segment.action_refresh()
        Wizard = self.env["crm.segment.members.wizard"]
        Wizard.create({"segment_id": segment.id, "action": "call", "summary": "Offer the new lathe"}).action_apply()
        calls = self.env["mail.activity"].search([("res_model", "=", "res.partner"), ("res_id", "in", customers.ids)])
        self.assertEqual(len(calls), 3)
        self.assertEqual(set(calls.mapped("activity_type_id")), {self.env.ref("mail.mail_activity_data_call")})
        Wizard.create({"segment_id": segment.id, "action": "assign", "user_id": self.seller.id}).action_apply()
        self.assertEqual(customers.user_id, self.seller)

    def test_daily_digest_sent_once(self):
        customer = self.customers(1)
        self.invoice(600000.0, days_ago=5, partner=customer)
        segment = self.shipped("large", customer)
        manager = new_test_user(
            self.env,
            login="seg.digest",
            email="digest@example.com",
            groups="base.group_user,crm_single_truth.group_crm_manager",
        )
        segment.digest_user_ids = manager
        segment.action_refresh()  # enters today
        self.env["ir.config_parameter"].sudo().set_param("crm_segments.digest_last_date", "")
        tomorrow = self.today + timedelta(days=1)
        Segment = self.env["crm.segment"]
        self.assertEqual(Segment._cron_send_digest(date_ref=tomorrow), 1)
        mail = self.env["mail.mail"].search([("email_to", "ilike", "digest@example.com")])
        self.assertEqual(len(mail), 1)
        self.assertIn(customer.name, mail.body_html)
        self.assertEqual(Segment._cron_send_digest(date_ref=tomorrow), 0)  # a rerun sends nothing

    def test_digest_lists_what_each_recipient_may_see(self):
        own, foreign = self.customers(2, "Digest")
        own.user_id = self.seller
        foreign.user_id = self.env.user
        for customer in own | foreign:
            self.invoice(600000.0, days_ago=5, partner=customer)
        segment = self.shipped("large", own | foreign)
        outsider = new_test_user(self.env, login="seg.plain", email="plain@example.com", groups="base.group_user")
        segment.digest_user_ids = self.seller | outsider
        segment.action_refresh()
        self.env["ir.config_parameter"].sudo().set_param("crm_segments.digest_last_date", "")
        self.assertEqual(self.env["crm.segment"]._cron_send_digest(date_ref=self.today + timedelta(days=1)), 1)
        mail = self.env["mail.mail"].search([("recipient_ids", "in", self.seller.partner_id.ids)])
        self.assertEqual(len(mail), 1)
        self.assertIn(own.name, mail.body_html)
        self.assertNotIn(foreign.name, mail.body_html)
        self.assertFalse(self.env["mail.mail"].search([("recipient_ids", "in", outsider.partner_id.ids)]))

    def test_settings_set_the_refresh_interval(self):
        settings = self.env["res.config.settings"].create({"crm_segment_refresh_hours": 6})
        settings.execute()
        cron = self.env.ref("crm_segments.ir_cron_refresh_segments")
        self.assertEqual((cron.interval_type, cron.interval_number), ("hours", 6))
