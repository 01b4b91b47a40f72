"""Who sees whose figures, tried through RPC as the web client calls it (issue 14): a salesperson
sees their own customers' KPIs and those of customers without a salesperson; a colleague's
customer reads as hidden, never ranks by its figures and never matches a KPI condition (bisecting
a domain reveals nothing); a portal user reaches no KPI at all; a user of another company sees
that company's figures only."""

from odoo.tests import HttpCase, new_test_user, tagged

from ..models.res_partner import KPI_COLUMNS
from .common import CrmKpiCommon, call_kw

SALES = "base.group_user,sales_team.group_sale_salesman"
OWN, COLLEAGUE, NOBODY = "KPI Customer LLP", "Colleague's Customer", "Nobody's Customer"
MANAGER = "base.group_user,sales_team.group_sale_salesman_all_leads,crm_single_truth.group_crm_manager"


@tagged("post_install", "-at_install")
class TestKpiAccessRpc(CrmKpiCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_access_users("kpi", SALES, MANAGER)
        cls.colleague = new_test_user(cls.env, login="kpi.colleague", groups=SALES, company_id=cls.env.company.id)
        Partner = cls.env["res.partner"]
        cls.customer.user_id = cls.seller  # own: owes 1,000, overdue
        cls.foreign = Partner.create({"name": COLLEAGUE, "is_company": True, "user_id": cls.colleague.id})
        cls.unassigned = Partner.create({"name": NOBODY, "is_company": True})
        cls.invoice(1000.0, days_ago=40, due_days=10)
        cls.invoice(777777.77, days_ago=40, due_days=10, partner=cls.foreign)
        cls.invoice(500.0, days_ago=5, due_days=30, partner=cls.unassigned)
        cls.ids = [cls.customer.id, cls.foreign.id, cls.unassigned.id]

    def call(self, login, model, method, *args, **kwargs):
        """``call_kw`` as the web client sends it; (result, error class name or None)."""
        body = call_kw(self, login, model, method, args, kwargs)
        if "error" in body:
            return None, body["error"]["data"]["name"]
        return body["result"], None

    def names(self, login, order, domain=()):
        result, error = self.call(
            login, "res.partner", "search_read", [("id", "in", self.ids), *domain], ["name"], order=order
        )
        self.assertIsNone(error)
        return [row["name"] for row in result]

    def count(self, login, domain):
        result, error = self.call(login, "res.partner", "search_count", [("id", "in", self.ids), *domain])
        self.assertIsNone(error)
        return result

    def test_salesperson_sees_hidden_not_zero(self):
        rows, error = self.call(
            "kpi.seller", "res.partner", "read", self.ids, ["crm_debt", "crm_payment_rating", "crm_kpi_hidden"]
        )
        self.assertIsNone(error)
        by_id = {row["id"]: row for row in rows}
        self.assertEqual(by_id[self.customer.id]["crm_debt"], 1000.0)
        self.assertFalse(by_id[self.customer.id]["crm_kpi_hidden"])
        self.assertEqual(by_id[self.unassigned.id]["crm_debt"], 500.0)
        hidden = by_id[self.foreign.id]
        self.assertTrue(hidden["crm_kpi_hidden"])
        self.assertEqual(hidden["crm_debt"], 0.0)
        self.assertFalse(hidden["crm_payment_rating"])  # hidden, not "no history"
        kpis, error = self.call("kpi.seller", "res.partner", "crm_get_kpis", [self.foreign.id])
        self.assertIsNone(error)
        self.assertTrue(kpis["hidden"])
        self.assertEqual(kpis["ltv"], 0.0)
        # the manager sees the figures
        rows, error = self.call("kpi.manager", "res.partner", "read", [self.foreign.id], ["crm_debt", "crm_kpi_hidden"])
        self.assertEqual((rows[0]["crm_debt"], rows[0]["crm_kpi_hidden"]), (777777.77, False))

    def test_salesperson_cannot_rank_or_bisect_hidden_figures(self):
        # the colleague's customer owes most, yet never comes first: hidden figures sort last in
        # both directions, in the order of the next key
        self.assertEqual(
            self.names("kpi.seller", "crm_debt desc, id"),
            [OWN, NOBODY, COLLEAGUE],
        )
        self.assertEqual(
            self.names("kpi.seller", "crm_debt asc, id"),
            [NOBODY, OWN, COLLEAGUE],
        )
        self.assertEqual(self.names("kpi.seller", "crm_ltv desc, id")[-1], COLLEAGUE)
        # a hidden figure matches no condition, whatever the bound: bisection learns nothing
        for bound in (0, 500000, 777777, 777778, 10**9):
            self.assertEqual(self.count("kpi.seller", [("id", "=", self.foreign.id), ("crm_debt", ">", bound)]), 0)
            self.assertEqual(self.count("kpi.seller", [("id", "=", self.foreign.id), ("crm_debt", "<=", bound)]), 0)
        self.assertEqual(self.count("kpi.seller", [("crm_overdue_debt", ">", 0)]), 1)  # own customer only
        self.assertEqual(self.count("kpi.manager", [("crm_overdue_debt", ">", 0)]), 2)
        self.assertEqual(self.count("kpi.manager", [("crm_debt", ">", 777777)]), 1)
        self.assertEqual(
            self.names("kpi.manager", "crm_debt desc, id"),
            [COLLEAGUE, OWN, NOBODY],
        )

    def test_portal_user_reaches_no_kpi(self):
        _result, error = self.call("kpi.portal", "res.partner", "search_read", [], ["name"], order="crm_debt desc")
        self.assertEqual(error, "odoo.exceptions.AccessError")
        _result, error = self.call("kpi.portal", "res.partner", "search_count", [("crm_debt", ">", 0)])
        self.assertEqual(error, "odoo.exceptions.AccessError")
        _result, error = self.call("kpi.portal", "res.partner", "read", [self.portal.partner_id.id], ["crm_ltv"])
        self.assertEqual(error, "odoo.exceptions.AccessError")
        _result, error = self.call("kpi.portal", "crm.partner.kpi", "search_read", [], ["ltv"])
        self.assertEqual(error, "odoo.exceptions.AccessError")
        _result, error = self.call("kpi.portal", "crm.partner.kpi", "action_crm_rebuild")
        self.assertEqual(error, "odoo.exceptions.AccessError")

    def test_other_company_user_sees_its_company_only(self):
        # the customers are shared between the companies; their invoices are of the first one
        self.assertEqual(self.count("kpi.stranger", [("crm_debt", ">", 0)]), 0)
        self.assertEqual(self.count("kpi.stranger", [("crm_ltv", ">", 0)]), 0)
        rows, error = self.call("kpi.stranger", "res.partner", "read", [self.foreign.id], ["crm_debt", "crm_ltv"])
        self.assertIsNone(error)
        self.assertEqual((rows[0]["crm_debt"], rows[0]["crm_ltv"]), (0.0, 0.0))
        # ordering by debt falls back on the next key: nothing of the other company leaks
        self.assertEqual(
            self.names("kpi.stranger", "crm_debt desc, id"),
            [OWN, COLLEAGUE, NOBODY],
        )
        # nor can the user pick the first company in the context
        _result, error = self.call(
            "kpi.stranger",
            "res.partner",
            "read",
            [self.foreign.id],
            ["crm_debt"],
            context={"allowed_company_ids": [self.env.company.id]},
        )
        self.assertEqual(error, "odoo.exceptions.AccessError")

    def test_rebuild_is_for_administrators(self):
        _result, error = self.call("kpi.manager", "crm.partner.kpi", "action_crm_rebuild")
        self.assertEqual(error, "odoo.exceptions.AccessError")
        self.assertTrue(self.env["crm.partner.kpi"].action_crm_rebuild())

    def test_card_costs_one_query_more_than_its_name(self):
        """The KPIs of a card, read after the cache is invalidated, cost one query more than its
        name (issue 17): the access rules checked in the query fetching the record, then the
        figures, the debt and the currency's rounding in one query - for a manager and for a
        salesperson, whatever the size of the history."""
        for user, debt in ((self.manager, 1000.0), (self.seller, 1000.0)):
            partner = self.customer.with_user(user)
            counts = []
            for fnames in (["name"], list(KPI_COLUMNS)):
                partner.read(fnames)  # the caches of the registry warm (groups, rules, context)
                self.env.invalidate_all()
                before = self.cr.sql_log_count
                values = partner.read(fnames)[0]
                counts.append(self.cr.sql_log_count - before)
            self.assertEqual(counts[1], counts[0] + 1, user.login)
            self.assertEqual(values["crm_debt"], debt)
            self.assertEqual(values["crm_overdue_debt"], debt)
            self.assertEqual(values["crm_ltv"], 1000.0)
