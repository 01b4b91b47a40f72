from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_segment_ids = fields.Many2many(
        "crm.segment", string="Segments", compute="_compute_crm_segment_ids", search="_search_crm_segment_ids",
        help="Segments the customer belongs to now.",
    )
    crm_purchase_drop = fields.Boolean(
        string="Purchase Frequency Drop",
        compute="_compute_crm_purchase_drop",
        search="_search_crm_purchase_drop",
        help="Purchases in the last 90 days are below half of the customer's own average per 90 days before.",
    )

    def _compute_crm_segment_ids(self):
        groups = self.env["crm.segment.membership"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids), ("date_end", "=", False)],
            ["partner_id"], ["segment_id:recordset"],
        )
        segments = {partner.id: segs for partner, segs in groups}
        for partner in self:
            partner.crm_segment_ids = segments.get(partner.commercial_partner_id.id, self.env["crm.segment"])

    def _search_crm_segment_ids(self, operator, value):
        if operator not in ("in", "not in", "=", "!="):
            raise NotImplementedError(operator)
        segment_ids = list(value) if isinstance(value, (list, tuple)) else [value]
        members = self.env["crm.segment.membership"].sudo().search_fetch(
            [("segment_id", "in", segment_ids), ("date_end", "=", False)], ["partner_id"]
        )
        positive = operator in ("in", "=")
        return [("commercial_partner_id", "in" if positive else "not in", members.partner_id.ids)]

    @api.model
    def _crm_purchase_drop_sql(self, partner_ids=None):
        """Commercial partners whose purchases in the last 90 days are below half of their own
        average per 90 days before (from their first purchase, at least 90 days of history)."""
        Kpi = self.env["crm.partner.kpi"]
        today = fields.Date.context_today(self)
        cutoff = today - timedelta(days=90)
        return SQL(
            """
            SELECT e.pid
              FROM (SELECT pid, SUM(order_count) AS cnt, MIN(first_day) AS first_day
                      FROM (%(earlier)s) x WHERE company_id = ANY(%(companies)s) GROUP BY pid) e
              LEFT JOIN (SELECT pid, SUM(order_count) AS cnt
                           FROM (%(recent)s) y WHERE company_id = ANY(%(companies)s) GROUP BY pid) r
                     ON r.pid = e.pid
             WHERE %(cutoff)s::date - e.first_day >= 90
               AND COALESCE(r.cnt, 0) * 2.0 < e.cnt * 90.0 / (%(cutoff)s::date - e.first_day)
            """,
            earlier=Kpi._crm_purchase_sql(partner_ids, None, cutoff),
            recent=Kpi._crm_purchase_sql(partner_ids, cutoff + timedelta(days=1), today),
            companies=self._crm_company_ids(),
            cutoff=cutoff,
        )

    def _compute_crm_purchase_drop(self):
        commercial = self.commercial_partner_id
        dropped = set()
        if commercial:
            self.env.flush_all()
            self.env.cr.execute(self._crm_purchase_drop_sql(commercial.ids))
            dropped = {row[0] for row in self.env.cr.fetchall()}
        for partner in self:
            partner.crm_purchase_drop = partner.commercial_partner_id.id in dropped

    def _search_crm_purchase_drop(self, operator, value):
        if operator not in ("=", "!="):
            raise NotImplementedError(operator)
        self.env.flush_all()
        self.env.cr.execute(self._crm_purchase_drop_sql())
        ids = [row[0] for row in self.env.cr.fetchall()]
        positive = (operator == "=") == bool(value)
        return [("commercial_partner_id", "in" if positive else "not in", ids)]
