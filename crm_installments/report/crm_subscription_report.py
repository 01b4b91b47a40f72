from odoo import api, fields, models
from odoo.tools import SQL

INTERVALS = [("week", "Weekly"), ("month", "Monthly"), ("quarter", "Quarterly")]


class CrmSubscriptionReport(models.Model):
    """Monthly recurring revenue and churn: one row per subscription and month of its life.

    A subscription's monthly value is its price normalised to a month (weekly × 52 / 12,
    quarterly / 3). It counts in a month's MRR when it still runs at the end of the month (today
    for the current month); it is new in the month of its start date and churned in the month of
    its end date once that date has passed (a renewal moves the end date, so a renewed
    subscription never churns). Churn rate: the share of the month's subscriptions that churned
    in it. Draft subscriptions are left out; a pause does not stop the recurring revenue."""

    _name = "crm.subscription.report"
    _description = "Subscriptions: MRR and Churn"
    _auto = False
    _order = "date desc, subscription_id"
    _rec_name = "subscription_id"
    _depends = {
        "crm.subscription": [
            "amount",
            "commercial_partner_id",
            "company_id",
            "date_end",
            "date_start",
            "interval",
            "product_id",
            "state",
            "user_id",
        ],
        "res.company": ["currency_id"],
    }

    date = fields.Date(string="Month", readonly=True)
    subscription_id = fields.Many2one("crm.subscription", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Subscriber", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    product_id = fields.Many2one("product.product", string="Tariff", readonly=True)
    interval = fields.Selection(INTERVALS, readonly=True)
    mrr = fields.Monetary(string="MRR", readonly=True, help="Monthly recurring revenue at the end of the month.")
    new_mrr = fields.Monetary(string="New MRR", readonly=True)
    churned_mrr = fields.Monetary(string="Churned MRR", readonly=True)
    active_count = fields.Integer(string="Active Subscriptions", readonly=True)
    new_count = fields.Integer(string="New Subscriptions", readonly=True)
    churned_count = fields.Integer(string="Churned Subscriptions", readonly=True)
    churn_rate = fields.Float(string="Churn Rate (%)", readonly=True, aggregator="avg", digits=(16, 2))

    @property
    def _table_query(self):
        return self._subscription_report_query()

    @api.model
    def _subscription_report_query(self):
        # today as each company sees it (its local date, as its crons do), not the server's UTC date
        dates = self.env["res.company"]._crm_installments_dates()
        return SQL(
            """
            WITH subscription AS (
                SELECT sub.*, company.currency_id AS company_currency_id, local.today,
                       ROUND(CASE sub.interval WHEN 'week' THEN sub.amount * 52 / 12
                                               WHEN 'quarter' THEN sub.amount / 3
                                               ELSE sub.amount END, 2) AS monthly
                  FROM crm_subscription sub
                  JOIN res_company company ON company.id = sub.company_id
                  JOIN unnest(%(companies)s::int[], %(days)s::date[]) AS local(company_id, today)
                    ON local.company_id = sub.company_id
                 WHERE sub.state != 'draft'
            ), months AS (
                SELECT sub.*, month::date AS month,
                       LEAST((month + INTERVAL '1 month - 1 day')::date, sub.today) AS month_last
                  FROM subscription sub,
                       generate_series(date_trunc('month', sub.date_start),
                                       date_trunc('month', LEAST(COALESCE(sub.date_end, sub.today), sub.today)),
                                       INTERVAL '1 month') AS month
            ), flags AS (
                SELECT months.*,
                       (months.date_end IS NULL OR months.date_end >= months.month_last) AS running,
                       date_trunc('month', months.date_start)::date = months.month AS started,
                       (months.date_end < months.today
                        AND date_trunc('month', months.date_end)::date = months.month) AS churned
                  FROM months
            )
            SELECT flags.id::bigint * 100000 + EXTRACT(YEAR FROM flags.month)::int * 12
                       + EXTRACT(MONTH FROM flags.month)::int AS id,
                   flags.month AS date, flags.id AS subscription_id, flags.commercial_partner_id AS partner_id,
                   flags.user_id, flags.company_id, flags.company_currency_id AS currency_id, flags.product_id,
                   flags.interval,
                   CASE WHEN flags.running THEN flags.monthly ELSE 0 END AS mrr,
                   CASE WHEN flags.started THEN flags.monthly ELSE 0 END AS new_mrr,
                   CASE WHEN flags.churned THEN flags.monthly ELSE 0 END AS churned_mrr,
                   flags.running::int AS active_count,
                   flags.started::int AS new_count,
                   flags.churned::int AS churned_count,
                   CASE WHEN flags.churned THEN 100.0 ELSE 0.0 END AS churn_rate
              FROM flags
            """,
            companies=list(dates),
            days=list(dates.values()),
        )
