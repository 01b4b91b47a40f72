from odoo import api, fields, models
from odoo.tools import SQL

BUCKETS = (
    ("amount_not_due", None, 0),
    ("amount_1_30", 1, 30),
    ("amount_31_60", 31, 60),
    ("amount_61_90", 61, 90),
    ("amount_over_90", 91, None),
)


def bucket_of(days_late):
    """Name of the aging bucket of an item ``days_late`` days past its due date."""
    for name, low, high in BUCKETS:
        if (low is None or days_late >= low) and (high is None or days_late <= high):
            return name
    raise ValueError(days_late)


class CrmReceivableAging(models.Model):
    """What each customer owes, per company, by days past the due date of its open items.

    Read-only SQL view over the open receivable journal items of posted entries (residual in
    company currency, so it agrees with the stock ``credit`` field); other addons add their
    own open items through :meth:`_get_aging_sources`.
    """

    _name = "crm.receivable.aging"
    _description = "Receivables Aging"
    _auto = False
    _order = "amount_total desc, partner_id"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_not_due = fields.Monetary(string="Not Due", readonly=True)
    amount_1_30 = fields.Monetary(string="1-30 Days", readonly=True)
    amount_31_60 = fields.Monetary(string="31-60 Days", readonly=True)
    amount_61_90 = fields.Monetary(string="61-90 Days", readonly=True)
    amount_over_90 = fields.Monetary(string="Over 90 Days", readonly=True)
    amount_overdue = fields.Monetary(string="Overdue", readonly=True)
    amount_total = fields.Monetary(string="Total Owed", readonly=True)
    max_days_overdue = fields.Integer(string="Days Overdue (max)", readonly=True, aggregator="max")
    is_critical = fields.Boolean(string="Critical", readonly=True)

    @api.model
    def _aging_date(self):
        return fields.Date.to_date(self.env.context.get("crm_aging_date")) or fields.Date.context_today(self)

    @api.model
    def _get_aging_sources(self):
        """Queries of open items: (partner_id, company_id, date_due, amount) in company currency.
        Override to add sources (installment lines...)."""
        # the open items the customer card reads too (res.partner._crm_open_items_sql)
        return [self.env["res.partner"]._crm_open_items_sql(None)]

    @property
    def _table_query(self):
        # the view reads journal items, partners and companies: what the ORM holds must be written
        self.env.flush_all()
        today = self._aging_date()
        threshold = float(self.env["ir.config_parameter"].sudo().get_param("crm_receivables.critical_amount", 1000000))
        days = SQL("(%s::date - items.date_due)", today)

        def bucket(name, low, high):
            bounds = ([SQL("%s >= %s", days, low)] if low is not None else []) + (
                [SQL("%s <= %s", days, high)] if high is not None else []
            )
            return SQL(
                "COALESCE(SUM(items.amount) FILTER (WHERE %s), 0) AS %s",
                SQL(" AND ").join(bounds),
                SQL.identifier(name),
            )

        return SQL(
            """
            SELECT items.partner_id::bigint * 100000 + items.company_id AS id,
                   items.partner_id, p.user_id, items.company_id, c.currency_id,
                   %(buckets)s,
                   %(overdue)s AS amount_overdue,
                   SUM(items.amount) AS amount_total,
                   COALESCE(MAX(%(days)s) FILTER (WHERE items.amount > 0 AND %(days)s > 0), 0) AS max_days_overdue,
                   COALESCE(MAX(%(days)s) FILTER (WHERE items.amount > 0), 0) > 30
                       OR %(overdue)s > %(threshold)s AS is_critical
              FROM (%(sources)s) items
              JOIN res_partner p ON p.id = items.partner_id
              JOIN res_company c ON c.id = items.company_id
             GROUP BY items.partner_id, p.user_id, items.company_id, c.currency_id
            HAVING SUM(items.amount) != 0
            """,
            buckets=SQL(", ").join(bucket(name, low, high) for name, low, high in BUCKETS),
            days=days,
            # credits dated before today net the overdue amount, never beyond the total owed: the
            # rule of the customer card (res.partner._crm_net_overdue_sql)
            overdue=self.env["res.partner"]._crm_net_overdue_sql(
                SQL("SUM(items.amount) FILTER (WHERE %s > 0)", days), SQL("SUM(items.amount)")
            ),
            threshold=threshold,
            sources=SQL(" UNION ALL ").join(self._get_aging_sources()),
        )

    @api.model
    def get_dashboard_data(self, limit=50):
        """Everything the receivables dashboard shows for the current company, in one query that
        evaluates the view once (record rules apply: a salesperson sees their customers): totals
        per bucket, counts of debtors, and the top ``limit`` debtors with their status colour."""
        company = self.env.company
        amounts = [name for name, _low, _high in BUCKETS] + ["amount_overdue", "amount_total"]
        # the view is evaluated once: its rows (record rules applied) feed the totals and the top
        query = self._search([("company_id", "=", company.id)])
        columns = ["id", "partner_id", "user_id", *amounts, "max_days_overdue", "is_critical"]
        rows = self.env.execute_query_dict(
            SQL(
                """
            WITH aging AS MATERIALIZED (%(rows)s)
            (SELECT TRUE AS is_total, NULL::bigint AS id, NULL::int AS partner_id, NULL::int AS user_id,
                    %(sums)s, NULL::int AS max_days_overdue, NULL::boolean AS is_critical,
                    COUNT(*) AS debtors, COUNT(*) FILTER (WHERE is_critical) AS critical,
                    COUNT(*) FILTER (WHERE amount_overdue > 0) AS overdue
               FROM aging)
            UNION ALL
            (SELECT FALSE, id, partner_id, user_id, %(columns)s, max_days_overdue, is_critical, NULL, NULL, NULL
               FROM aging ORDER BY amount_total DESC, id LIMIT %(limit)s)
            """,
                rows=query.select(*(SQL.identifier("crm_receivable_aging", name) for name in columns)),
                sums=SQL(", ").join(
                    SQL("COALESCE(SUM(%s), 0) AS %s", SQL.identifier(name), SQL.identifier(name)) for name in amounts
                ),
                columns=SQL(", ").join(SQL.identifier(name) for name in amounts),
                limit=limit,
            )
        )
        [total_row] = [row for row in rows if row["is_total"]]
        top_rows = [row for row in rows if not row["is_total"]]
        totals = {name: total_row[name] or 0.0 for name in amounts}
        counts = {name: total_row[name] or 0 for name in ("debtors", "critical", "overdue")}
        partners = self.env["res.partner"].browse(row["partner_id"] for row in top_rows)
        users = self.env["res.users"].browse(row["user_id"] for row in top_rows if row["user_id"])
        names = {("p", p.id): p.display_name for p in partners} | {("u", u.id): u.display_name for u in users}
        top = []
        for row in top_rows:
            is_critical = bool(row["is_critical"])
            top.append(
                {
                    "id": row["id"],
                    "partner_id": row["partner_id"] and [row["partner_id"], names[("p", row["partner_id"])]],
                    "user_id": row["user_id"] and [row["user_id"], names[("u", row["user_id"])]],
                    **{name: row[name] for name in amounts},
                    "max_days_overdue": row["max_days_overdue"],
                    "is_critical": is_critical,
                    "status": "critical" if is_critical else ("overdue" if row["amount_overdue"] > 0 else "not_due"),
                }
            )
        return {
            "company": company.name,
            "currency_id": company.currency_id.id,
            "totals": {name: company.currency_id.round(value) for name, value in totals.items()},
            "counts": counts,
            "top": top,
        }

    def action_open_lines(self):
        """The open receivable journal items behind this row (drill-down of the dashboard)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_moves_all")
        action["domain"] = [
            ("partner_id", "child_of", self.partner_id.id),
            ("company_id", "=", self.company_id.id),
            ("account_id.account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]
        action["context"] = {"create": False}
        action["display_name"] = self.partner_id.display_name
        return action

    def action_open_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [
            ("commercial_partner_id", "=", self.partner_id.id),
            ("company_id", "=", self.company_id.id),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        action["context"] = {"create": False}
        return action
