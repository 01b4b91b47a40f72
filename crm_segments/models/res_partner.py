from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL

from odoo.addons.crm_single_truth.tools.search import searcher

# negative operators of a search on crm_segment_ids -> the positive one they negate
NEGATIVE_OPERATORS = {"not in": "in", "!=": "=", "not any": "any", "not ilike": "ilike", "not like": "like"}
RFM_FIELDS = {"crm_rfm_recency": "last_order_date", "crm_rfm_frequency": "order_count", "crm_rfm_monetary": "ltv"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    # the current memberships in the current company that the user may see (membership rules)
    crm_segment_ids = fields.Many2many(
        "crm.segment",
        string="Segments",
        compute="_compute_crm_segment_ids",
        search="_search_crm_segment_ids",
        help="Segments the customer belongs to now.",
    )
    crm_purchase_drop = fields.Boolean(
        string="Purchase Frequency Drop",
        compute="_compute_crm_purchase_drop",
        search="_search_crm_purchase_drop",
        help="Purchases in the last 90 days are below half of the customer's own average per 90 days before.",
    )
    crm_rfm_recency = fields.Integer(
        string="RFM Recency",
        compute="_compute_crm_rfm",
        search="_search_crm_rfm_recency",
        help="1-5: quintile of the last purchase date among the company's customers (5 = most recent).",
    )
    crm_rfm_frequency = fields.Integer(
        string="RFM Frequency",
        compute="_compute_crm_rfm",
        search="_search_crm_rfm_frequency",
        help="1-5: quintile of the number of purchases among the company's customers (5 = most).",
    )
    crm_rfm_monetary = fields.Integer(
        string="RFM Monetary",
        compute="_compute_crm_rfm",
        search="_search_crm_rfm_monetary",
        help="1-5: quintile of the lifetime value among the company's customers (5 = highest).",
    )
    crm_first_source_id = fields.Many2one(
        "utm.source",
        string="First Source",
        compute="_compute_crm_first_utm",
        search="_search_crm_first_source_id",
        help="UTM source of the customer's first confirmed order, or else of its first deal.",
    )
    crm_first_medium_id = fields.Many2one(
        "utm.medium",
        string="First Medium",
        compute="_compute_crm_first_utm",
        search="_search_crm_first_medium_id",
        help="UTM medium of the customer's first confirmed order, or else of its first deal.",
    )
    crm_bought_categ_ids = fields.Many2many(
        "product.category",
        string="Categories Bought",
        compute="_compute_crm_bought_categ_ids",
        search="_search_crm_bought_categ_ids",
        help="Product categories of confirmed orders and posted invoices.",
    )

    # ------------------------------------------------------------------ segments
    @api.model
    def _crm_kpi_sql(self, partner_ids=None, columns=None, **kwargs):
        """While segments are refreshed, the KPI rows of all customers come from the snapshot taken
        once for the segments refreshed together (crm.segment._kpi_snapshot)."""
        snapshot = self.env.context.get("crm_segment_kpi_snapshot")
        if snapshot and partner_ids is None and not kwargs:
            select = (
                SQL("*")
                if columns is None
                else SQL(", ").join(SQL.identifier(name) for name in ["partner_id", *columns])
            )
            return SQL("SELECT %s FROM %s", select, SQL.identifier(snapshot))
        return super()._crm_kpi_sql(partner_ids, columns=columns, **kwargs)

    def _crm_segment_memberships(self, domain=()):
        """Query of the current memberships in the current company visible to the user."""
        return self.env["crm.segment.membership"]._search(
            [("date_end", "=", False), ("company_id", "=", self.env.company.id), *domain]
        )

    @api.depends_context("uid", "company")
    def _compute_crm_segment_ids(self):
        memberships = self._crm_segment_memberships([("partner_id", "in", self.ids)])
        self.env.cr.execute(
            memberships.select(
                SQL.identifier(memberships.table, "partner_id"), SQL.identifier(memberships.table, "segment_id")
            )
        )
        segments = {}
        for partner_id, segment_id in self.env.cr.fetchall():
            segments.setdefault(partner_id, []).append(segment_id)
        for partner in self:
            partner.crm_segment_ids = [Command.set(segments.get(partner.id, []))]

    def _search_crm_segment_ids(self, operator, value):
        if value is False and operator in ("=", "!="):  # in no segment / in some segment
            positive, segment_domain = operator == "!=", []
        else:
            positive = operator not in NEGATIVE_OPERATORS
            segment_domain = [("segment_id", NEGATIVE_OPERATORS.get(operator, operator), value)]
        memberships = self._crm_segment_memberships(segment_domain)
        partner_ids = memberships.subselect(SQL.identifier(memberships.table, "partner_id"))
        return [("id", "in" if positive else "not in", partner_ids)]

    def _read_group_groupby(self, groupby_spec, query):
        """Group by segment through the visible current memberships (the field is not stored)."""
        if groupby_spec != "crm_segment_ids":
            return super()._read_group_groupby(groupby_spec, query)
        memberships = self._crm_segment_memberships()
        alias = query.make_alias(self._table, "crm_segment_ids")
        query.add_join(
            "LEFT JOIN",
            alias,
            memberships.subselect(
                SQL.identifier(memberships.table, "partner_id"), SQL.identifier(memberships.table, "segment_id")
            ),
            SQL("%s = %s", SQL.identifier(self._table, "id"), SQL.identifier(alias, "partner_id")),
        )
        return SQL.identifier(alias, "segment_id")

    # ------------------------------------------------------------------ frequency drop
    @api.model
    def _crm_purchase_drop_sql(self, partner_ids=None):
        """Commercial partners whose purchases in the last 90 days are below half of their own
        average per 90 days before (from their first purchase, at least 90 days of history).

        The whole history comes from the KPI rows (purchase count and first purchase), so only the
        documents dated after the cutoff are read; purchases before it are the rest of the count."""
        today = fields.Date.context_today(self)
        cutoff = today - timedelta(days=90)
        return SQL(
            """
            SELECT k.partner_id
              FROM (%(kpis)s) k
              LEFT JOIN (SELECT pid, SUM(order_count) AS cnt
                           FROM (%(recent)s) y WHERE company_id = ANY(%(companies)s) GROUP BY pid) r
                     ON r.pid = k.partner_id
             WHERE %(cutoff)s::date - k.first_order_date >= 90
               AND COALESCE(r.cnt, 0) * 2.0
                   < (k.order_count - COALESCE(r.cnt, 0)) * 90.0 / (%(cutoff)s::date - k.first_order_date)
            """,
            kpis=self._crm_kpi_sql(partner_ids),
            recent=self.env["crm.partner.kpi"]._crm_purchase_sql(partner_ids, cutoff + timedelta(days=1), None),
            companies=self._crm_company_ids(),
            cutoff=cutoff,
        )

    def _crm_fetch_ids(self, query):
        """Ids of the commercial partners ``query`` returns, among those whose dossier the user may read."""
        self.env.flush_all()
        self.env.cr.execute(query)
        return self.browse([row[0] for row in self.env.cr.fetchall()])._crm_visible().ids

    @api.depends_context("company", "uid")
    def _compute_crm_purchase_drop(self):
        commercial = self._crm_visible().commercial_partner_id
        dropped = set(self._crm_fetch_ids(self._crm_purchase_drop_sql(commercial.ids))) if commercial else set()
        for partner in self:
            partner.crm_purchase_drop = partner.commercial_partner_id.id in dropped

    def _search_crm_purchase_drop(self, operator, value):
        if operator not in ("=", "!="):
            raise NotImplementedError(operator)
        positive = (operator == "=") == bool(value)
        return [
            (
                "commercial_partner_id",
                "in" if positive else "not in",
                self._crm_fetch_ids(self._crm_purchase_drop_sql()),
            )
        ]

    # ------------------------------------------------------------------ RFM
    @api.model
    def _crm_rfm_sql(self):
        """Quintiles 1-5 over the current company's customers who bought, in one window query."""
        return SQL(
            """
            SELECT partner_id,
                   NTILE(5) OVER (ORDER BY last_order_date, partner_id) AS crm_rfm_recency,
                   NTILE(5) OVER (ORDER BY order_count, partner_id) AS crm_rfm_frequency,
                   NTILE(5) OVER (ORDER BY ltv, partner_id) AS crm_rfm_monetary
              FROM (%s) q
             WHERE order_count > 0
            """,
            self._crm_kpi_sql(),
        )

    @api.depends_context("company", "uid")
    def _compute_crm_rfm(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT * FROM (%s) rfm WHERE partner_id = ANY(%s)",
                self._crm_rfm_sql(),
                self._crm_visible().commercial_partner_id.ids,
            )
        )
        scores = {row["partner_id"]: row for row in self.env.cr.dictfetchall()}
        for partner in self:
            row = scores.get(partner.commercial_partner_id.id, {})
            for fname in RFM_FIELDS:
                partner[fname] = row.get(fname, 0)

    def _crm_search_rfm(self, fname, operator, value):
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise NotImplementedError(operator)
        condition = SQL("COALESCE(rfm.%s, 0) " + operator + " %s", SQL.identifier(fname), value)
        query = SQL(
            "SELECT p.id FROM res_partner p LEFT JOIN (%s) rfm ON rfm.partner_id = p.id"
            " WHERE p.id = p.commercial_partner_id AND %s",
            self._crm_rfm_sql(),
            condition,
        )
        return [("commercial_partner_id", "in", self._crm_fetch_ids(query))]

    _search_crm_rfm_recency = searcher("_crm_search_rfm", "crm_rfm_recency")
    _search_crm_rfm_frequency = searcher("_crm_search_rfm", "crm_rfm_frequency")
    _search_crm_rfm_monetary = searcher("_crm_search_rfm", "crm_rfm_monetary")

    # ------------------------------------------------------------------ source and categories
    @api.model
    def _crm_first_utm_sql(self):
        """Source and medium of each customer's first confirmed order, else of its first deal."""
        return SQL(
            """
            SELECT DISTINCT ON (pid) pid, source_id, medium_id
              FROM (
                    SELECT p.commercial_partner_id AS pid, so.source_id, so.medium_id, 0 AS kind, so.date_order AS day
                      FROM sale_order so JOIN res_partner p ON p.id = so.partner_id
                     WHERE so.state = 'sale' AND so.company_id = ANY(%(companies)s)
                    UNION ALL
                    SELECT p.commercial_partner_id, l.source_id, l.medium_id, 1, l.create_date
                      FROM crm_lead l JOIN res_partner p ON p.id = l.partner_id
                     WHERE l.company_id = ANY(%(companies)s) OR l.company_id IS NULL
              ) firsts
             ORDER BY pid, kind, day
            """,
            companies=self._crm_company_ids(),
        )

    @api.depends_context("company", "uid")
    def _compute_crm_first_utm(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT * FROM (%s) f WHERE pid = ANY(%s)",
                self._crm_first_utm_sql(),
                self._crm_visible().commercial_partner_id.ids,
            )
        )
        firsts = {row["pid"]: row for row in self.env.cr.dictfetchall()}
        for partner in self:
            row = firsts.get(partner.commercial_partner_id.id, {})
            partner.crm_first_source_id = row.get("source_id")
            partner.crm_first_medium_id = row.get("medium_id")

    def _crm_search_first_utm(self, column, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise NotImplementedError(operator)
        ids = list(value) if isinstance(value, (list, tuple)) else [value]
        query = SQL("SELECT pid FROM (%s) f WHERE %s = ANY(%s)", self._crm_first_utm_sql(), SQL.identifier(column), ids)
        positive = operator in ("=", "in")
        return [("commercial_partner_id", "in" if positive else "not in", self._crm_fetch_ids(query))]

    _search_crm_first_source_id = searcher("_crm_search_first_utm", "source_id")
    _search_crm_first_medium_id = searcher("_crm_search_first_utm", "medium_id")

    @api.model
    def _crm_bought_categ_sql(self, partner_ids=None):
        scope = SQL("TRUE") if partner_ids is None else SQL("pid = ANY(%s)", list(partner_ids))
        return SQL(
            """
            SELECT DISTINCT pid, categ_id FROM (
                SELECT p.commercial_partner_id AS pid, pt.categ_id
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN res_partner p ON p.id = so.partner_id
                  JOIN product_product pp ON pp.id = sol.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE so.state = 'sale' AND so.company_id = ANY(%(companies)s)
                UNION ALL
                SELECT m.commercial_partner_id, pt.categ_id
                  FROM account_move_line aml
                  JOIN account_move m ON m.id = aml.move_id
                  JOIN product_product pp ON pp.id = aml.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE m.state = 'posted' AND m.move_type = 'out_invoice' AND m.company_id = ANY(%(companies)s)
            ) bought WHERE %(scope)s
            """,
            companies=self._crm_company_ids(),
            scope=scope,
        )

    @api.depends_context("company", "uid")
    def _compute_crm_bought_categ_ids(self):
        self.env.flush_all()
        self.env.cr.execute(self._crm_bought_categ_sql(self._crm_visible().commercial_partner_id.ids))
        categs = {}
        for pid, categ_id in self.env.cr.fetchall():
            categs.setdefault(pid, []).append(categ_id)
        for partner in self:
            partner.crm_bought_categ_ids = [(6, 0, categs.get(partner.commercial_partner_id.id, []))]

    def _search_crm_bought_categ_ids(self, operator, value):
        if operator not in ("in", "not in", "=", "!=", "child_of"):
            raise NotImplementedError(operator)
        ids = list(value) if isinstance(value, (list, tuple)) else [value]
        categs = self.env["product.category"].search([("id", "child_of", ids)]).ids
        query = SQL("SELECT pid FROM (%s) b WHERE categ_id = ANY(%s)", self._crm_bought_categ_sql(), categs)
        positive = operator in ("in", "=", "child_of")
        return [("commercial_partner_id", "in" if positive else "not in", self._crm_fetch_ids(query))]
