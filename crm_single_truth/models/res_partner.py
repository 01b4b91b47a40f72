import operator
import re

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, float_round, ormcache

from ..tools.kpi import payment_rating_sql, split_period, temperature_sql
from ..tools.legal_id import (
    clean_legal_id,
    is_inn_format,
    is_valid_inn,
    is_valid_kpp,
    kz_bin_error,
    kz_iin_error,
)
from ..tools.phone import to_e164
from ..tools.search import searcher
from .crm_messenger_message import CHANNELS as MESSENGER_CHANNELS
from .crm_messenger_message import address_of

RATINGS = [
    ("excellent", "Excellent"),
    ("good", "Good"),
    ("fair", "Fair"),
    ("poor", "Poor"),
    ("none", "No History"),
]
TEMPERATURES = [("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold")]
PERIODS = [("all", "All Time"), ("12m", "12 Months"), ("3y", "3 Years")]

# KPI field -> column of the SQL built by _crm_kpi_sql (searchable and sortable through it)
KPI_COLUMNS = {
    "crm_ltv": "ltv",
    "crm_order_count": "order_count",
    "crm_avg_check": "avg_check",
    "crm_first_order_date": "first_order_date",
    "crm_last_order_date": "last_order_date",
    "crm_days_since_last_order": "days_since_last_order",
    "crm_debt": "debt",
    "crm_overdue_debt": "overdue_debt",
    "crm_avg_payment_delay": "avg_payment_delay",
    "crm_payment_rating": "payment_rating",
    "crm_temperature": "temperature",
}
# monetary KPI fields: rounded to the currency of the company by the compute
MONETARY_KPIS = ("crm_ltv", "crm_avg_check", "crm_debt", "crm_overdue_debt")
KPI_GROUPS = "crm_single_truth.group_crm_user"
# KPI columns read from the stored rows alone: (over several companies, over one company's row,
# value of a customer without a row); searched and ordered without scanning every partner
STORED_KPIS = {
    "ltv": ("SUM(k.ltv)", "k.ltv", 0),
    "order_count": ("SUM(k.order_count)", "k.order_count", 0),
    "avg_check": (
        "CASE WHEN SUM(k.order_count) > 0 THEN SUM(k.ltv) / SUM(k.order_count) ELSE 0 END",
        "CASE WHEN k.order_count > 0 THEN k.ltv / k.order_count ELSE 0 END",
        0,
    ),
    "first_order_date": ("MIN(k.first_order_date)", "k.first_order_date", None),
    "last_order_date": ("MAX(k.last_order_date)", "k.last_order_date", None),
    "avg_payment_delay": (
        "COALESCE(SUM(k.paid_delay_amount) / NULLIF(SUM(k.paid_amount), 0), 0)",
        "COALESCE(k.paid_delay_amount / NULLIF(k.paid_amount, 0), 0)",
        0,
    ),
}
COMPARATORS = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def condition_holds(default, op, value):
    """Whether a KPI condition holds for the value of a customer without history (``default``):
    when it does not, the search can start from the stored rows alone. None when unknown."""
    if op in ("in", "not in"):
        holds = (False in value) if default is None else (default in value)
        return holds if op == "in" else not holds
    if value is False and op in ("=", "!="):
        return (default is None) == (op == "=")
    if default is None:
        return op == "!="  # NULL matches only "!=" (see _crm_search_kpi)
    try:
        return COMPARATORS[op](default, value)
    except (KeyError, TypeError):
        return None


SQL_OPERATORS = {"=": "=", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


LEGAL_ID_FIELDS = ("crm_inn", "crm_kpp", "crm_bin", "crm_iin")

TELEGRAM_HANDLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")

RECENT_PAYMENTS = 10


class ResPartner(models.Model):
    _inherit = "res.partner"

    crm_currency_id = fields.Many2one("res.currency", string="Dossier Currency", compute="_compute_crm_currency_id")
    crm_kpi_hidden = fields.Boolean(
        string="Figures Hidden",
        compute="_compute_crm_kpis",
        help="The customer belongs to another salesperson: its figures are not shown to you.",
    )
    crm_ltv = fields.Monetary(
        string="Lifetime Value",
        currency_field="crm_currency_id",
        compute="_compute_crm_kpis",
        search="_search_crm_ltv",
        groups=KPI_GROUPS,
        help="Posted customer invoices minus posted credit notes, taxes included, all time, in the "
        "currency of the current company.",
    )
    crm_order_count = fields.Integer(
        string="Purchases",
        compute="_compute_crm_kpis",
        search="_search_crm_order_count",
        groups=KPI_GROUPS,
        help="Confirmed sale orders plus posted customer invoices not linked to any sale order.",
    )
    crm_avg_check = fields.Monetary(
        string="Average Check",
        currency_field="crm_currency_id",
        compute="_compute_crm_kpis",
        search="_search_crm_avg_check",
        groups=KPI_GROUPS,
        help="Lifetime value divided by the number of purchases.",
    )
    crm_first_order_date = fields.Date(
        string="First Purchase", compute="_compute_crm_kpis", search="_search_crm_first_order_date", groups=KPI_GROUPS
    )
    crm_last_order_date = fields.Date(
        string="Last Purchase", compute="_compute_crm_kpis", search="_search_crm_last_order_date", groups=KPI_GROUPS
    )
    crm_days_since_last_order = fields.Integer(
        string="Days Since Last Purchase",
        compute="_compute_crm_kpis",
        search="_search_crm_days_since_last_order",
        groups=KPI_GROUPS,
    )
    crm_debt = fields.Monetary(
        string="Debt",
        currency_field="crm_currency_id",
        compute="_compute_crm_kpis",
        search="_search_crm_debt",
        groups=KPI_GROUPS,
        help="What the customer owes now: open receivable items of posted entries.",
    )
    crm_overdue_debt = fields.Monetary(
        string="Overdue Debt",
        currency_field="crm_currency_id",
        compute="_compute_crm_kpis",
        search="_search_crm_overdue_debt",
        groups=KPI_GROUPS,
        help="Part of the debt whose due date has passed, net of the unapplied credits (credit notes, "
        "payments) dated before today, and never more than the debt.",
    )
    crm_avg_payment_delay = fields.Float(
        string="Average Payment Delay",
        digits=(16, 1),
        compute="_compute_crm_kpis",
        search="_search_crm_avg_payment_delay",
        groups=KPI_GROUPS,
        help="Amount-weighted average number of days between the due date and the full payment "
        "of paid invoices (early payments count as 0).",
    )
    crm_payment_rating = fields.Selection(
        RATINGS,
        string="Payment Rating",
        compute="_compute_crm_kpis",
        search="_search_crm_payment_rating",
        groups=KPI_GROUPS,
        help="From the amount-weighted days late of paid invoices and of open overdue items: "
        "excellent up to 1 day, good up to 7, fair up to 30, poor beyond.",
    )
    crm_temperature = fields.Selection(
        TEMPERATURES,
        string="Temperature",
        compute="_compute_crm_kpis",
        search="_search_crm_temperature",
        groups=KPI_GROUPS,
        help="Hot, warm or cold by days since the last purchase (thresholds in Settings).",
    )
    # period switch of the card header: a form-only field, recomputed by onchange
    crm_kpi_period = fields.Selection(
        PERIODS,
        string="Period",
        compute="_compute_crm_kpi_period",
        inverse="_inverse_crm_kpi_period",
        readonly=False,
    )
    crm_period_ltv = fields.Monetary(
        string="Bought in Period",
        currency_field="crm_currency_id",
        compute="_compute_crm_period_kpis",
        groups=KPI_GROUPS,
    )
    crm_period_order_count = fields.Integer(
        string="Purchases in Period", compute="_compute_crm_period_kpis", groups=KPI_GROUPS
    )
    crm_period_avg_check = fields.Monetary(
        string="Average Check in Period",
        currency_field="crm_currency_id",
        compute="_compute_crm_period_kpis",
        groups=KPI_GROUPS,
    )

    # ------------------------------------------------------------------ helpers
    @api.model
    def _crm_kpi_fnames(self):
        return [*KPI_COLUMNS, "crm_kpi_hidden", "crm_period_ltv", "crm_period_order_count", "crm_period_avg_check"]

    def _crm_company_ids(self):
        """The current company's root and its branches, as the stock credit/debit fields count
        them (the card reads it on every open: cached per company)."""
        return list(self._crm_company_tree(self.env.company.id))

    @api.model
    @ormcache("company_id")
    def _crm_company_tree(self, company_id):
        # the hierarchy of companies never changes (Odoo forbids it) and creating a company
        # clears the registry's caches: the ids of a company's tree can be cached
        rows = self.env.execute_query(
            SQL(
                """SELECT c.id FROM res_company c, res_company cur
                    WHERE cur.id = %s AND c.parent_path LIKE split_part(cur.parent_path, '/', 1) || %s
                    ORDER BY c.id""",
                company_id,
                "/%",
            )
        )
        return tuple(row[0] for row in rows)

    @api.model
    def _crm_today(self):
        """Today in the user's time zone (``fields.Date.context_today``), the time zone taken from
        the context or else from the user's cached context: no read of the user's records."""
        tz = self.env.context.get("tz") or self.env["res.users"].context_get().get("tz") or "UTC"
        return fields.Date.context_today(self.with_context(tz=tz))

    def _crm_sees_all(self):
        return self.env.su or self.env.user.has_group("crm_single_truth.group_crm_manager")

    def _crm_visible(self):
        """Partners whose dossier the current user may read: managers see all, salespeople
        their own customers and customers without a salesperson (see _crm_visibility_sql)."""
        if self._crm_sees_all():
            return self
        if not self.env.user.has_group("crm_single_truth.group_crm_user"):
            return self.browse()
        return self.filtered(lambda p: p.commercial_partner_id.user_id in (self.env.user, self.env["res.users"]))

    @api.model
    def _crm_visibility_sql(self, partner):
        """The rule of :meth:`_crm_visible` as an SQL condition on ``partner``, an alias of the
        commercial partner's ``res_partner`` row: every search and order on a KPI applies it."""
        if self._crm_sees_all():
            return SQL("TRUE")
        if not self.env.user.has_group("crm_single_truth.group_crm_user"):
            return SQL("FALSE")
        return SQL(
            "(%s = %s OR %s IS NULL)",
            SQL.identifier(partner, "user_id"),
            self.env.uid,
            SQL.identifier(partner, "user_id"),
        )

    @api.model
    def _crm_thresholds(self):
        icp = self.env["ir.config_parameter"].sudo()
        return {
            "hot": int(icp.get_param("crm_single_truth.temperature_hot_days", 30)),
            "cold": int(icp.get_param("crm_single_truth.temperature_cold_days", 90)),
        }

    @api.model
    def _crm_open_items_sql(self, company_ids, partner_ids=None):
        """Open receivable items of posted entries: (partner_id, company_id, date_due, amount) per
        commercial partner, residual in company currency (what stock's ``credit`` counts). The card
        and crm_receivables' aging read the same items."""
        companies = SQL("TRUE") if company_ids is None else SQL("aml.company_id = ANY(%s)", list(company_ids))
        open_item = SQL(
            "aml.parent_state = 'posted' AND aml.reconciled IS NOT TRUE AND aml.amount_residual != 0 AND %s", companies
        )
        if partner_ids is None:
            return SQL(
                """
            SELECT rp.commercial_partner_id AS partner_id, aml.company_id,
                   COALESCE(aml.date_maturity, aml.date) AS date_due, aml.amount_residual AS amount
              FROM res_partner rp
              JOIN account_account acc ON acc.account_type = 'asset_receivable'
              JOIN account_move_line aml ON aml.partner_id = rp.id AND aml.account_id = acc.id
             WHERE %s
            """,
                open_item,
            )
        # some customers: their items looked up by (partner, receivable account) in the index of
        # open items, skipping their open items of other accounts (the outstanding receipts of
        # their payments, as many as their history has) - the planner, which estimates a few open
        # items per partner, would read them all (OFFSET 0: the lookup is not flattened)
        return SQL(
            """
            SELECT rp.commercial_partner_id AS partner_id, items.company_id, items.date_due, items.amount
              FROM res_partner rp
             CROSS JOIN unnest(ARRAY(
                   SELECT a.id FROM account_account a WHERE a.account_type = 'asset_receivable')) AS acc(id)
             CROSS JOIN LATERAL (
                   SELECT aml.company_id, COALESCE(aml.date_maturity, aml.date) AS date_due,
                          aml.amount_residual AS amount
                     FROM account_move_line aml
                    WHERE aml.partner_id = rp.id AND aml.account_id = acc.id AND %s
                   OFFSET 0
             ) items
             WHERE rp.commercial_partner_id = ANY(%s)
            """,
            open_item,
            sorted(partner_ids),
        )

    @api.model
    def _crm_net_overdue_sql(self, overdue, total):
        """Overdue debt net of unapplied credits: the items past due (credit notes and payments
        dated before today included, as stock's aged receivable nets them), never below zero nor
        above what the customer owes in total (a credit not due yet still reduces the debt)."""
        return SQL("GREATEST(0, LEAST(COALESCE(%s, 0), COALESCE(%s, 0)))", overdue, total)

    @api.model
    def _crm_overdue_sql(self, items, today, by_company=False):
        """Per commercial partner (and company with ``by_company``) of the open ``items`` (see
        _crm_open_items_sql): ``debt``, ``overdue_debt`` (netted), ``overdue_gross`` and
        ``overdue_delay_amount`` (open items past due, amount and amount x days late, for the
        payment rating)."""
        past_due = SQL("items.date_due < %s", today)
        return SQL(
            """
            SELECT items.partner_id%(company)s, SUM(items.amount) AS debt,
                   %(net)s AS overdue_debt,
                   SUM(items.amount) FILTER (WHERE %(past_due)s AND items.amount > 0) AS overdue_gross,
                   SUM(items.amount * (%(today)s::date - items.date_due))
                       FILTER (WHERE %(past_due)s AND items.amount > 0) AS overdue_delay_amount
              FROM (%(items)s) items
             GROUP BY items.partner_id%(company)s
            """,
            company=SQL(", items.company_id") if by_company else SQL(),
            net=self._crm_net_overdue_sql(
                SQL("SUM(items.amount) FILTER (WHERE %s)", past_due), SQL("SUM(items.amount)")
            ),
            past_due=past_due,
            today=today,
            items=items,
        )

    @api.model
    def _crm_kpi_sql(self, partner_ids=None, columns=None):
        """One row of KPIs per commercial partner for the current company: the stored aggregate
        joined with the live open receivable items (debt depends on today). ``columns``: the KPI
        columns wanted (all by default); the open items are read only when a debt column is."""
        self.env["crm.partner.kpi"]._crm_apply_pending()
        self.env.flush_all()
        today = self._crm_today()
        thresholds = self._crm_thresholds()
        company_ids = self._crm_company_ids()
        columns = list(KPI_COLUMNS.values()) if columns is None else columns
        ids = sorted(partner_ids) if partner_ids is not None else None
        p_scope = SQL("TRUE") if ids is None else SQL("p.id = ANY(%s)", ids)
        k_scope = SQL("TRUE") if ids is None else SQL("k.partner_id = ANY(%s)", ids)
        with_debt = bool({"debt", "overdue_debt", "payment_rating"} & set(columns))
        history = SQL("COALESCE(k.paid_amount, 0) + COALESCE(d.overdue_gross, 0)")
        delay = SQL("(COALESCE(k.paid_delay_amount, 0) + COALESCE(d.overdue_delay_amount, 0)) / NULLIF(%s, 0)", history)
        days = SQL("(%s::date - k.last_order_date)", today)
        expressions = {
            "ltv": SQL("COALESCE(k.ltv, 0)"),
            "order_count": SQL("COALESCE(k.order_count, 0)"),
            "avg_check": SQL("CASE WHEN k.order_count > 0 THEN k.ltv / k.order_count ELSE 0 END"),
            "first_order_date": SQL("k.first_order_date"),
            "last_order_date": SQL("k.last_order_date"),
            "days_since_last_order": days,
            "debt": SQL("COALESCE(d.debt, 0)"),
            "overdue_debt": SQL("COALESCE(d.overdue_debt, 0)"),
            "avg_payment_delay": SQL("COALESCE(k.paid_delay_amount / NULLIF(k.paid_amount, 0), 0)"),
            "payment_rating": payment_rating_sql(delay, SQL("%s > 0", history)),
            "temperature": temperature_sql(days, thresholds["hot"], thresholds["cold"]),
        }
        return SQL(
            """
            SELECT p.id AS partner_id, %(select)s
              FROM res_partner p
              LEFT JOIN (
                    SELECT k.partner_id, SUM(k.ltv) AS ltv, SUM(k.order_count) AS order_count,
                           MIN(k.first_order_date) AS first_order_date,
                           MAX(k.last_order_date) AS last_order_date,
                           SUM(k.paid_amount) AS paid_amount, SUM(k.paid_delay_amount) AS paid_delay_amount
                      FROM crm_partner_kpi k
                     WHERE k.company_id = ANY(%(company_ids)s) AND %(k_scope)s
                     GROUP BY k.partner_id
              ) k ON k.partner_id = p.id
              %(debt_join)s
             WHERE p.id = p.commercial_partner_id AND %(p_scope)s
            """,
            select=SQL(", ").join(SQL("%s AS %s", expressions[name], SQL.identifier(name)) for name in columns),
            company_ids=company_ids,
            k_scope=k_scope,
            p_scope=p_scope,
            debt_join=SQL(
                "LEFT JOIN (%s) d ON d.partner_id = p.id",
                self._crm_overdue_sql(self._crm_open_items_sql(company_ids, ids), today),
            )
            if with_debt
            else SQL(),
        )

    @api.model
    def _crm_kpi_visible_sql(self, column):
        """(partner_id, value) of one KPI column for the commercial partners whose dossier the user
        may read, and only them: searches and orders go through it, so a hidden figure never
        decides whether or where a partner appears."""
        kpis = self._crm_kpi_sql(columns=[column])
        if self._crm_sees_all():
            return SQL("SELECT q.partner_id, q.%s AS value FROM (%s) q", SQL.identifier(column), kpis)
        return SQL(
            "SELECT q.partner_id, q.%s AS value FROM (%s) q JOIN res_partner vp ON vp.id = q.partner_id WHERE %s",
            SQL.identifier(column),
            kpis,
            self._crm_visibility_sql("vp"),
        )

    @api.model
    def _crm_kpi_stored_sql(self, column):
        """(partner_id, value) of a stored KPI column for the customers that have a row in the
        current company (and its branches): one index range when a condition bounds the value."""
        Kpi = self.env["crm.partner.kpi"]
        if Kpi._crm_has_pending():
            Kpi._crm_apply_pending()
        company_ids = self._crm_company_ids()
        many, one, _default = STORED_KPIS[column]
        if len(company_ids) == 1:
            return SQL(
                "SELECT k.partner_id, %s AS value FROM crm_partner_kpi k WHERE k.company_id = %s",
                SQL(one),
                company_ids[0],
            )
        return SQL(
            "SELECT k.partner_id, %s AS value FROM crm_partner_kpi k"
            " WHERE k.company_id = ANY(%s) GROUP BY k.partner_id",
            SQL(many),
            company_ids,
        )

    # ------------------------------------------------------------------ computes
    @api.depends_context("company")
    def _compute_crm_currency_id(self):
        self.crm_currency_id = self.env.company.currency_id

    # what the figures and their visibility depend on; a read of the KPIs fetches these columns
    # with the record, the access rules checked in that query (reading only non-stored fields,
    # Odoo checks the rules in Python), and user_id is at hand for a salesperson's visibility
    @api.depends("commercial_partner_id.user_id", "user_id")
    @api.depends_context("company", "uid")
    def _compute_crm_kpis(self):
        currency = self.env.company.currency_id
        visible = self._crm_visible()
        rows = {}
        rounding = None
        commercial_ids = {pid for pid in visible.commercial_partner_id.ids if pid}
        if commercial_ids:
            self.env.cr.execute(
                SQL(
                    "SELECT q.*, cur.rounding AS currency_rounding FROM (%s) q, res_currency cur WHERE cur.id = %s",
                    self._crm_kpi_sql(commercial_ids),
                    currency.id,
                )
            )
            rows = {row["partner_id"]: row for row in self.env.cr.dictfetchall()}
            rounding = next(iter(rows.values()))["currency_rounding"] if rows else None
        monetary = {fname: [] for fname in MONETARY_KPIS}
        for partner in self:
            hidden = partner not in visible
            # in an onchange the records are new ones: their figures are those of their origin
            row = {} if hidden else rows.get(partner.commercial_partner_id._origin.id) or {}
            partner.crm_kpi_hidden = hidden and bool(partner._origin.id)
            for fname, values in monetary.items():
                value = row.get(KPI_COLUMNS[fname]) or 0.0
                values.append(float_round(value, precision_rounding=rounding) if value else 0.0)
            partner.crm_order_count = row.get("order_count") or 0
            partner.crm_first_order_date = row.get("first_order_date")
            partner.crm_last_order_date = row.get("last_order_date")
            partner.crm_days_since_last_order = row.get("days_since_last_order") or 0
            partner.crm_avg_payment_delay = row.get("avg_payment_delay") or 0.0
            # a hidden figure is no figure: no rating at all rather than "no history"
            partner.crm_payment_rating = False if hidden else row.get("payment_rating") or "none"
            partner.crm_temperature = row.get("temperature") or False
        # the amounts rounded as currency.round does (the rounding read with the figures), put in
        # the cache as assigning a monetary field would, without reading the currency per value
        for fname, values in monetary.items():
            self.env.cache.update(self, self._fields[fname], values)

    def _compute_crm_kpi_period(self):
        for partner in self:
            partner.crm_kpi_period = partner.crm_kpi_period or "all"

    def _inverse_crm_kpi_period(self):
        """The period is a view setting, not data: nothing to store."""

    @api.depends("crm_kpi_period")
    @api.depends_context("company", "uid")
    def _compute_crm_period_kpis(self):
        today = fields.Date.context_today(self)
        starts = {"all": None, "12m": today - relativedelta(months=12), "3y": today - relativedelta(years=3)}
        for partner in self:
            kpis = partner._crm_get_kpis_visible(starts[partner.crm_kpi_period or "all"], None)
            partner.crm_period_ltv = kpis["ltv"]
            partner.crm_period_order_count = kpis["order_count"]
            partner.crm_period_avg_check = kpis["avg_check"]

    # ------------------------------------------------------------------ API
    def crm_get_kpis(self, date_from=None, date_to=None):
        """KPIs of the customer restricted to a period (dates included), in the current
        company's currency: ``ltv``, ``order_count``, ``avg_check``, ``first_order_date``,
        ``last_order_date``; ``hidden`` is True (and the figures empty) when the user may not see
        this customer's dossier."""
        self.ensure_one()
        self.check_access("read")
        return self._crm_get_kpis_visible(
            fields.Date.to_date(date_from) if date_from else None,
            fields.Date.to_date(date_to) if date_to else None,
        )

    def _crm_get_kpis_visible(self, date_from, date_to):
        """The period figures from the monthly aggregate (whole months, at most 37 rows for three
        years) and the documents of at most two partial months at the edges."""
        currency = self.env.company.currency_id
        result = {
            "ltv": 0.0,
            "order_count": 0,
            "avg_check": 0.0,
            "first_order_date": False,
            "last_order_date": False,
            "hidden": False,
        }
        commercial = self.commercial_partner_id._origin  # the period switch runs in an onchange
        if not commercial:
            return result
        if not self._crm_visible():
            result["hidden"] = True
            return result
        self.env["crm.partner.kpi"]._crm_apply_pending()
        company_ids = self._crm_company_ids()
        first_month, last_month, edges = split_period(date_from, date_to)
        parts = []
        if first_month is None and last_month is None:
            parts.append(
                SQL(
                    "SELECT ltv, order_count, first_order_date AS first_day, last_order_date AS last_day"
                    " FROM crm_partner_kpi WHERE partner_id = %s AND company_id = ANY(%s)",
                    commercial.id,
                    company_ids,
                )
            )
        elif first_month is None or last_month is None or first_month <= last_month:
            bounds = [SQL("TRUE")]
            if first_month:
                bounds.append(SQL("month >= %s", first_month))
            if last_month:
                bounds.append(SQL("month <= %s", last_month))
            parts.append(
                SQL(
                    "SELECT ltv, order_count, first_order_date AS first_day, last_order_date AS last_day"
                    " FROM crm_partner_kpi_month WHERE partner_id = %s AND company_id = ANY(%s) AND %s",
                    commercial.id,
                    company_ids,
                    SQL(" AND ").join(bounds),
                )
            )
        for edge_from, edge_to in edges:
            parts.append(
                SQL(
                    "SELECT ltv, order_count, first_day, last_day FROM (%s) e WHERE e.company_id = ANY(%s)",
                    self.env["crm.partner.kpi"]._crm_purchase_sql(commercial.ids, edge_from, edge_to),
                    company_ids,
                )
            )
        if not parts:
            return result
        [(ltv, count, first, last)] = self.env.execute_query(
            SQL(
                "SELECT SUM(ltv), SUM(order_count), MIN(first_day), MAX(last_day) FROM (%s) s",
                SQL(" UNION ALL ").join(parts),
            )
        )
        ltv, count = currency.round(ltv or 0.0), count or 0
        result.update(
            ltv=ltv,
            order_count=count,
            avg_check=currency.round(ltv / count) if count else 0.0,
            first_order_date=first or False,
            last_order_date=last or False,
        )
        return result

    # ------------------------------------------------------------------ search and order
    def _crm_search_kpi(self, fname, operator, value):
        """A subquery of the partners whose visible KPI matches: evaluated by PostgreSQL inside the
        search, never a list of ids; partners whose dossier the user may not read never match."""
        # the field's groups, which Odoo does not check for a field searched through a method
        self.check_field_access_rights("read", [fname])
        column = SQL.identifier("q", "value")
        if operator in ("in", "not in"):
            values = [v for v in value if v is not False]
            condition = SQL("%s = ANY(%s)", column, values) if values else SQL("FALSE")
            if False in value:
                condition = SQL("(%s OR %s IS NULL)", condition, column)
            if operator == "not in":
                condition = SQL("NOT COALESCE(%s, FALSE)", condition)
        elif value is False and operator in ("=", "!="):
            condition = SQL("%s IS NULL", column) if operator == "=" else SQL("%s IS NOT NULL", column)
        elif operator in SQL_OPERATORS:
            condition = SQL("%s " + SQL_OPERATORS[operator] + " %s", column, value)
            if operator == "!=":
                condition = SQL("(%s OR %s IS NULL)", condition, column)
        else:
            raise ValueError(_("Unsupported operator %(operator)s for %(field)s", operator=operator, field=fname))
        column_name = KPI_COLUMNS[fname]
        if column_name in STORED_KPIS and condition_holds(STORED_KPIS[column_name][2], operator, value) is False:
            # customers without history do not match: start from the stored rows that do
            visible = self._crm_visibility_sql("vp")
            source = SQL(
                "SELECT q.partner_id, q.value FROM (%s) q%s",
                self._crm_kpi_stored_sql(column_name),
                SQL("")
                if self._crm_sees_all()
                else SQL(" JOIN res_partner vp ON vp.id = q.partner_id AND %s", visible),
            )
        else:
            source = self._crm_kpi_visible_sql(column_name)
        subquery = SQL("(SELECT q.partner_id FROM (%s) q WHERE %s)", source, condition)
        return [("commercial_partner_id", "in", subquery)]

    _search_crm_ltv = searcher("_crm_search_kpi", "crm_ltv")
    _search_crm_order_count = searcher("_crm_search_kpi", "crm_order_count")
    _search_crm_avg_check = searcher("_crm_search_kpi", "crm_avg_check")
    _search_crm_first_order_date = searcher("_crm_search_kpi", "crm_first_order_date")
    _search_crm_last_order_date = searcher("_crm_search_kpi", "crm_last_order_date")
    _search_crm_days_since_last_order = searcher("_crm_search_kpi", "crm_days_since_last_order")
    _search_crm_debt = searcher("_crm_search_kpi", "crm_debt")
    _search_crm_overdue_debt = searcher("_crm_search_kpi", "crm_overdue_debt")
    _search_crm_avg_payment_delay = searcher("_crm_search_kpi", "crm_avg_payment_delay")
    _search_crm_payment_rating = searcher("_crm_search_kpi", "crm_payment_rating")
    _search_crm_temperature = searcher("_crm_search_kpi", "crm_temperature")

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        if field_name not in KPI_COLUMNS:
            return super()._order_field_to_sql(alias, field_name, direction, nulls, query)
        self.check_field_access_rights("read", [field_name])
        column = KPI_COLUMNS[field_name]
        kpi_alias = query.make_alias(alias, field_name)
        stored = column in STORED_KPIS
        if kpi_alias not in query._joins:
            query.add_join(
                "LEFT JOIN",
                kpi_alias,
                SQL("(%s)", self._crm_kpi_stored_sql(column) if stored else self._crm_kpi_visible_sql(column)),
                SQL("%s = %s", SQL.identifier(kpi_alias, "partner_id"), SQL.identifier(alias, "commercial_partner_id")),
            )
        value = SQL.identifier(kpi_alias, "value")
        if stored:
            default = STORED_KPIS[column][2]
            if default is not None:
                value = SQL("COALESCE(%s, %s)", value, default)
            if not self._crm_sees_all():
                owner_alias = query.make_alias(alias, "crm_kpi_owner")
                if owner_alias not in query._joins:
                    query.add_join(
                        "LEFT JOIN",
                        owner_alias,
                        "res_partner",
                        SQL(
                            "%s = %s", SQL.identifier(owner_alias, "id"), SQL.identifier(alias, "commercial_partner_id")
                        ),
                    )
                value = SQL("CASE WHEN %s THEN %s END", self._crm_visibility_sql(owner_alias), value)
        # hidden figures are NULL: last, whatever the direction, in the order of the next key
        return SQL("%s %s %s", value, direction, nulls or SQL("NULLS LAST"))

    # ------------------------------------------------------------------ triggers and actions
    def write(self, vals):
        vals = self._crm_clean_legal_vals(vals)
        reparented = "parent_id" in vals or "is_company" in vals
        before = self.commercial_partner_id if reparented else self.browse()
        res = super().write(vals)
        if reparented:
            self.env["crm.partner.kpi"]._crm_mark_dirty(before | self)
        return res

    def action_crm_open_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.act_res_partner_2_sale_order")
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id), ("state", "=", "sale")]
        action["context"] = {"create": False}
        return action

    def action_crm_open_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["domain"] = [
            ("commercial_partner_id", "=", self.commercial_partner_id.id),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
        ]
        action["context"] = {"create": False, "default_move_type": "out_invoice"}
        return action

    def action_crm_open_debt(self):
        self.ensure_one()
        action = self.action_crm_open_invoices()
        action["domain"] += [("payment_state", "in", ("not_paid", "partial"))]
        return action

    # ------------------------------------------------------------------ legal data, roles, contracts
    # no size= on purpose: a value of the wrong length gets the explanatory ValidationError
    # below instead of a database error
    crm_inn = fields.Char(
        string="INN",
        index="btree_not_null",
        help="Russian taxpayer number: 10 digits for organisations, 12 for individuals.",
    )
    crm_kpp = fields.Char(string="KPP", help="Russian tax registration reason code (9 characters).")
    crm_bin = fields.Char(
        string="BIN", index="btree_not_null", help="Kazakh business identification number (12 digits)."
    )
    crm_iin = fields.Char(
        string="IIN", index="btree_not_null", help="Kazakh individual identification number (12 digits)."
    )
    crm_legal_address = fields.Text(string="Legal Address")
    crm_actual_address = fields.Text(string="Actual Address")
    crm_contact_role = fields.Selection(
        [
            ("purchaser", "Purchaser"),
            ("accountant", "Accountant"),
            ("director", "Director"),
            ("engineer", "Engineer"),
            ("other", "Other"),
        ],
        string="Role",
        help="Role of this contact person at the customer.",
    )
    crm_contract_ids = fields.One2many(
        "crm.contract", "partner_id", string="Contracts", groups="crm_single_truth.group_crm_user"
    )
    crm_contract_count = fields.Integer(
        string="Contract Count", compute="_compute_crm_contract_count", groups="crm_single_truth.group_crm_user"
    )

    # ------------------------------------------------------------------ legal identifiers
    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._crm_clean_legal_vals(vals) for vals in vals_list])

    @api.model
    def _crm_clean_legal_vals(self, vals):
        """Drop the spaces people type inside numbers; capitalise the KPP's letters."""
        if not any(isinstance(vals.get(fname), str) for fname in LEGAL_ID_FIELDS):
            return vals
        vals = dict(vals)
        for fname in LEGAL_ID_FIELDS:
            if isinstance(vals.get(fname), str):
                value = clean_legal_id(vals[fname])
                vals[fname] = (value.upper() if fname == "crm_kpp" else value) or False
        return vals

    @api.constrains(*LEGAL_ID_FIELDS)
    def _check_crm_legal_ids(self):
        for partner in self:
            for fname in LEGAL_ID_FIELDS:
                if partner[fname] and (message := partner._crm_legal_id_error(fname)):
                    raise ValidationError(message)

    def _crm_legal_id_error(self, fname):
        """Why the value of ``fname`` is not a valid number, or None when it is."""
        self.ensure_one()
        value, partner = self[fname], self.display_name
        if fname == "crm_inn":
            if not is_inn_format(value):
                return _(
                    "INN %(value)s of %(partner)s must have 10 digits (organisation) or 12 digits (individual).",
                    value=value,
                    partner=partner,
                )
            if not is_valid_inn(value):
                return _("INN %(value)s of %(partner)s has an invalid checksum.", value=value, partner=partner)
        elif fname == "crm_kpp":
            if not is_valid_kpp(value):
                return _(
                    "KPP %(value)s of %(partner)s must have 9 characters: 4 digits, 2 digits or capital "
                    "latin letters, 3 digits.",
                    value=value,
                    partner=partner,
                )
        elif fname in ("crm_bin", "crm_iin"):
            return self._crm_kz_id_error(fname, value)
        return None

    def _crm_kz_id_error(self, fname, value):
        """Why a BIN (``crm_bin``) or IIN (``crm_iin``) is not valid, or None (rules in tools/legal_id)."""
        if fname == "crm_bin":
            code, label = kz_bin_error(value), _("BIN")
        else:
            code, label = kz_iin_error(value, fields.Date.context_today(self)), _("IIN")
        if code is None:
            return None
        args = {"label": label, "value": value, "partner": self.display_name}
        messages = {
            "format": _("%(label)s %(value)s of %(partner)s must have 12 digits.", **args),
            "zero": _("%(label)s %(value)s of %(partner)s is not a number the national registers issue.", **args),
            "checksum": _("%(label)s %(value)s of %(partner)s has an invalid checksum.", **args),
            "bin": _(
                "%(value)s of %(partner)s is a BIN (business identification number), not an IIN: enter it in "
                "the BIN field.",
                **args,
            ),
            "iin": _(
                "%(value)s of %(partner)s is an IIN (individual identification number), not a BIN: enter it in "
                "the IIN field.",
                **args,
            ),
            "century": _(
                "IIN %(value)s of %(partner)s: the 7th digit (century of birth and sex) must be 1 to 6.", **args
            ),
            "date": _(
                "IIN %(value)s of %(partner)s: the first six digits must be a date of birth (YYMMDD) that is "
                "not in the future.",
                **args,
            ),
            "month": _(
                "BIN %(value)s of %(partner)s: digits 3-4 must be the month of registration (01 to 12).", **args
            ),
            "type": _(
                "BIN %(value)s of %(partner)s: the 5th digit must be 4 (resident legal entity), 5 (non-resident "
                "legal entity) or 6 (joint individual entrepreneurship).",
                **args,
            ),
            "attribute": _(
                "BIN %(value)s of %(partner)s: the 6th digit must be 0 (head office), 1 (branch), 2 "
                "(representative office) or 3 (peasant farm).",
                **args,
            ),
        }
        return messages[code]

    # ------------------------------------------------------------------ contracts
    @api.depends("commercial_partner_id.crm_contract_ids")
    def _compute_crm_contract_count(self):
        groups = self.env["crm.contract"]._read_group(
            [("partner_id", "in", self.commercial_partner_id.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.crm_contract_count = counts.get(partner.commercial_partner_id.id, 0)

    def action_crm_open_contracts(self):
        """Smart button: the contracts of the partner's commercial entity, in every state."""
        self.ensure_one()
        commercial = self.commercial_partner_id
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_single_truth.crm_contract_action")
        action["domain"] = [("partner_id", "=", commercial.id)]
        action["context"] = {"default_partner_id": commercial.id}
        return action

    def action_crm_open_contact(self):
        """Open a contact person's own card (and so its own history) from the company card."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    # ------------------------------------------------------------------ messengers and calls
    crm_whatsapp = fields.Char(
        string="WhatsApp", help="WhatsApp number in international format, e.g. +7 701 123 45 67."
    )
    crm_telegram = fields.Char(string="Telegram", help="Telegram username (without @) or numeric user id.")
    crm_whatsapp_url = fields.Char(string="WhatsApp Chat", compute="_compute_crm_messenger_urls")
    crm_telegram_url = fields.Char(string="Telegram Chat", compute="_compute_crm_messenger_urls")
    # numbers in E.164, read in the partner's country (else its company's): matching is exact
    crm_phone_e164 = fields.Char(
        string="Phone (E.164)", compute="_compute_crm_e164", store=True, index="btree_not_null"
    )
    crm_mobile_e164 = fields.Char(
        string="Mobile (E.164)", compute="_compute_crm_e164", store=True, index="btree_not_null"
    )
    crm_whatsapp_e164 = fields.Char(
        string="WhatsApp (E.164)", compute="_compute_crm_e164", store=True, index="btree_not_null"
    )
    crm_call_ids = fields.One2many("crm.call", "partner_id", string="Call History")
    crm_call_count = fields.Integer(string="Calls", compute="_compute_crm_call_count")

    def init(self):
        res = super().init()
        # exact, case-insensitive lookup of Telegram usernames (Telegram ignores their case)
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS res_partner_crm_telegram_handle_idx ON res_partner "
                "(LOWER(LTRIM(crm_telegram, '@'))) WHERE crm_telegram IS NOT NULL"
            )
        )
        for column in ("phone", "mobile", "crm_whatsapp"):
            # the former last-ten-digits keys
            self.env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(f"res_partner_crm_{column}_key_idx")))
        return res

    def _crm_phone_region(self):
        """The country in which a national number of this partner is read."""
        return (self.country_id or self.company_id.country_id or self.env.company.country_id).code

    @api.depends("phone", "mobile", "crm_whatsapp", "country_id", "company_id.country_id")
    def _compute_crm_e164(self):
        for partner in self:
            region = partner._crm_phone_region()
            partner.crm_phone_e164 = to_e164(partner.phone or "", region)
            partner.crm_mobile_e164 = to_e164(partner.mobile or "", region)
            partner.crm_whatsapp_e164 = to_e164(partner.crm_whatsapp or "", region)

    @api.depends("crm_whatsapp_e164", "crm_telegram")
    def _compute_crm_messenger_urls(self):
        for partner in self:
            handle = (partner.crm_telegram or "").strip().lstrip("@")
            digits = (partner.crm_whatsapp_e164 or "").lstrip("+")
            partner.crm_whatsapp_url = f"https://wa.me/{digits}" if digits else False
            partner.crm_telegram_url = f"https://t.me/{handle}" if handle and not handle.isdigit() else False

    @api.constrains("crm_whatsapp", "crm_telegram")
    def _check_crm_messenger_handles(self):
        for partner in self:
            if partner.crm_whatsapp and not to_e164(partner.crm_whatsapp, partner._crm_phone_region()):
                raise ValidationError(_("%(number)s is not a WhatsApp phone number.", number=partner.crm_whatsapp))
            handle = (partner.crm_telegram or "").strip().lstrip("@")
            if handle and not handle.isdigit() and not TELEGRAM_HANDLE.match(handle):
                raise ValidationError(
                    _(
                        "%(handle)s is not a Telegram username (5-32 letters, digits and underscores).",
                        handle=partner.crm_telegram,
                    )
                )

    def _compute_crm_call_count(self):
        groups = self.env["crm.call"]._read_group(
            [("commercial_partner_id", "in", self.commercial_partner_id.ids)], ["commercial_partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.crm_call_count = counts.get(partner.commercial_partner_id.id, 0)

    @api.model
    def _crm_phone_regions(self):
        """Countries in which a national number is read: the current company's first, then the
        other companies' (a number already in international format needs none)."""
        companies = self.env.company | self.env["res.company"].sudo().search([], order="sequence, id")
        return list(dict.fromkeys(code for code in companies.mapped("country_id.code") if code))

    @api.model
    def _crm_e164_candidates(self, number, region=None):
        """``number`` in E.164, as it reads in ``region`` or in each company's country; a number
        of digits only that none of them reads is tried as an international one (``77015551234``)."""
        regions = [region] if region else self._crm_phone_regions() or [None]
        candidates = list(dict.fromkeys(filter(None, (to_e164(number or "", code) for code in regions))))
        if not candidates and isinstance(number, str) and number.strip().isdigit():
            candidates = list(filter(None, [to_e164("+" + number.strip())]))
        return candidates

    @api.model
    def _crm_find_by_phone(self, number, region=None):
        """The active partner whose phone, mobile or WhatsApp number is ``number`` once both are
        in E.164 (a national number is read in ``region``, by default the companies' countries),
        the most recently edited first; an empty recordset otherwise."""
        candidates = self._crm_e164_candidates(number, region)
        if not candidates:
            return self.browse()
        domain = expression.OR(
            [[(fname, "in", candidates)] for fname in ("crm_phone_e164", "crm_mobile_e164", "crm_whatsapp_e164")]
        )
        return self.with_context(active_test=True).search(domain, order="write_date desc, id desc", limit=1)

    @api.model
    def _crm_find_by_telegram(self, username=None, user_id=None):
        """The active partner whose Telegram handle is exactly the numeric ``user_id`` or the
        ``username`` (with or without @, in any case, as Telegram compares usernames)."""
        clauses = []
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            clauses.append(SQL("LTRIM(crm_telegram, '@') = %s", str(user_id)))
        if isinstance(username, str) and username.strip().lstrip("@"):
            clauses.append(SQL("LOWER(LTRIM(crm_telegram, '@')) = LOWER(%s)", username.strip().lstrip("@")))
        if not clauses:
            return self.browse()
        self.flush_model(["crm_telegram", "active", "write_date"])
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM res_partner WHERE active AND crm_telegram IS NOT NULL AND (%s) "
                "ORDER BY write_date DESC, id DESC LIMIT 1",
                SQL(" OR ").join(clauses),
            )
        )
        return self.browse(rows[0][0]) if rows else self.browse()

    def action_crm_open_calls(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_single_truth.crm_call_action")
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    # ------------------------------------------------------------------ conversations from the card
    @api.returns("crm.messenger.message", lambda value: value.id)
    def crm_send_message(self, channel, body, attachment_ids=None):
        """Send ``body`` (and the documents ``attachment_ids``) to this customer on ``channel``
        (``whatsapp`` or ``telegram``): to this contact, or - on a company - to the contact whose
        conversation is the most recent. Returns the ``crm.messenger.message`` recorded (the first
        one when the documents go as separate messages); it is queued, then sent as a job. With
        ``crm_whatsapp_template`` in the context, WhatsApp messages go as that approved template
        (one body parameter: the text) even inside the 24-hour window.

        The caller must be an internal user allowed to edit this partner and to read the documents."""
        self.ensure_one()
        self._crm_check_conversation_access()
        if channel not in ("whatsapp", "telegram"):
            raise UserError(_("Choose WhatsApp or Telegram."))
        if body is not None and not isinstance(body, str):
            raise UserError(_("The message must be text."))
        body = (body or "").strip()
        attachments = self.env["ir.attachment"].browse(self._crm_ids(attachment_ids))
        if attachments:
            if len(attachments.exists()) != len(attachments):
                raise UserError(_("A document to send no longer exists."))
            attachments.check_access("read")
            attachments.check("read")  # the document each attachment belongs to
        if not body and not attachments:
            raise UserError(_("Write a message or attach a document."))
        chat = self._crm_messenger_chat(channel)
        reply_to = self.env.context.get("crm_reply_to_id")
        reply_to = (
            self.env["crm.messenger.message"].sudo().browse(reply_to).exists() if isinstance(reply_to, int) else None
        )
        Message = self.env["crm.messenger.message"].sudo()
        caption_fits = len(body) <= 1024
        if len(attachments) == 1 and caption_fits:
            parts = [(body, attachments)]
        else:
            parts = ([(body, attachments.browse())] if body else []) + [("", attachment) for attachment in attachments]
        messages = Message.create(
            [
                Message._crm_prepare_outbound_vals(chat, text, documents, self, reply_to=reply_to)
                for text, documents in parts
            ]
        )
        chat.sudo().last_message_date = fields.Datetime.now()
        messages._crm_post_in_chatter()
        messages._crm_dispatch()
        return messages[:1].sudo(False)

    def _crm_check_conversation_access(self):
        """Who may write to this customer on a messenger: an internal user who may edit the
        partner and sees its conversations (a manager, or the salesperson of the customer, or any
        salesperson for a customer without one - as the conversations' record rules)."""
        self.ensure_one()
        if self.env.su:
            return
        user = self.env.user
        if not user._is_internal() or not user.has_group("crm_single_truth.group_crm_user"):
            raise AccessError(_("Only salespeople can write to customers on messengers."))
        self.check_access("write")
        salesperson = self.commercial_partner_id.user_id
        if salesperson and salesperson != user and not user.has_group("crm_single_truth.group_crm_manager"):
            raise AccessError(
                _(
                    "%(customer)s is a customer of %(salesperson)s.",
                    customer=self.display_name,
                    salesperson=salesperson.name,
                )
            )

    @api.model
    def _crm_ids(self, ids):
        if not ids:
            return []
        if isinstance(ids, int) and not isinstance(ids, bool):
            return [ids]
        if isinstance(ids, (list, tuple)) and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return list(ids)
        raise UserError(_("The documents to send must be given by their ids."))

    def _crm_messenger_chat(self, channel):
        """The conversation a message to this partner goes to: the latest one of this contact (of
        any contact, on a company card), else one opened from the partner's own handle."""
        self.ensure_one()
        Chat = self.env["crm.messenger.chat"].sudo()
        partners = self if self.parent_id or not self.is_company else self | self.child_ids
        chat = Chat.search(
            [("channel", "=", channel), ("partner_id", "in", partners.ids)],
            order="last_message_date desc, id desc",
            limit=1,
        )
        if chat:
            return chat
        for partner in partners:
            address = address_of(channel, partner)
            if address:
                chat = Chat.search([("channel", "=", channel), ("address", "=", address)], limit=1) or Chat.create(
                    {
                        "channel": channel,
                        "address": address,
                        "partner_id": partner.id,
                        "name": partner.name,
                        "company_id": (partner.company_id or self.env.company).id,
                    }
                )
                if not chat.partner_id:
                    chat.partner_id = partner
                return chat
        if channel == "telegram":
            raise UserError(
                _(
                    "%(name)s has not written to the Telegram bot yet: a bot can only write to people who started "
                    "a conversation with it (or whose numeric Telegram id is on the card).",
                    name=self.display_name,
                )
            )
        raise UserError(_("%(name)s has no WhatsApp or mobile number.", name=self.display_name))

    def action_crm_reply_whatsapp(self):
        return self._crm_reply_action("whatsapp")

    def action_crm_reply_telegram(self):
        return self._crm_reply_action("telegram")

    def _crm_reply_action(self, channel, reply_to=None):
        """The form that writes to this customer on ``channel`` (from the card or a timeline row)."""
        self.ensure_one()
        self._crm_check_conversation_access()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reply on %(channel)s", channel=dict(MESSENGER_CHANNELS)[channel]),
            "res_model": "crm.messenger.reply.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_partner_id": self.id,
                "default_channel": channel,
                "default_reply_to_id": reply_to.id if reply_to else False,
            },
        }

    # ------------------------------------------------------------------ settlements: what the customer
    # owes us minus what we owe them, the latest payments, and the reconciliation act
    crm_settlement_balance = fields.Monetary(
        string="Settlement Balance",
        compute="_compute_crm_settlement_balance",
        currency_field="crm_currency_id",
        groups="account.group_account_invoice,account.group_account_readonly",
        help="Receivable minus payable of posted entries: positive when the customer owes the company.",
    )
    crm_recent_payment_ids = fields.Many2many(
        "account.payment",
        string="Latest Payments",
        compute="_compute_crm_recent_payment_ids",
        groups="account.group_account_invoice,account.group_account_readonly",
    )

    def _compute_crm_settlement_balance(self):
        for partner in self:
            commercial = partner.commercial_partner_id
            partner.crm_settlement_balance = commercial.credit - commercial.debit

    def _compute_crm_recent_payment_ids(self):
        Payment = self.env["account.payment"]
        for partner in self:
            partner.crm_recent_payment_ids = (
                Payment.search(
                    [
                        ("partner_id", "child_of", partner.commercial_partner_id.id),
                        ("state", "not in", ("draft", "canceled", "rejected")),
                    ],
                    order="date desc, id desc",
                    limit=RECENT_PAYMENTS,
                )
                if partner.id
                else Payment
            )

    def action_crm_open_payments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_payments")
        action["domain"] = [("partner_id", "child_of", self.commercial_partner_id.id)]
        action["context"] = {
            "default_partner_id": self.id,
            "default_payment_type": "inbound",
            "default_partner_type": "customer",
        }
        action["view_mode"] = "list,graph,form"
        action["views"] = [
            (False, "list"),
            (self.env.ref("crm_single_truth.account_payment_view_graph_history").id, "graph"),
            (False, "form"),
        ]
        return action

    def action_crm_reconciliation_act(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reconciliation Act"),
            "res_model": "crm.reconciliation.act.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.commercial_partner_id.id},
        }

    # ------------------------------------------------------------------ timeline
    crm_timeline_ids = fields.One2many("crm.timeline.event", "partner_id", string="Timeline", readonly=True)
    crm_timeline_count = fields.Integer(string="Timeline Events", compute="_compute_crm_timeline_count")

    def _crm_timeline_domain(self):
        """A company's timeline holds everything of the company and its contacts; a contact's
        card opens the contact's own history."""
        self.ensure_one()
        if self.parent_id and not self.is_company:
            return [("contact_id", "=", self.id)]
        return [("partner_id", "=", self.commercial_partner_id.id)]

    def _compute_crm_timeline_count(self):
        Event = self.env["crm.timeline.event"]
        companies = self.filtered(lambda p: not (p.parent_id and not p.is_company))
        contacts = self - companies
        counts = dict(
            Event._read_group([("partner_id", "in", companies.commercial_partner_id.ids)], ["partner_id"], ["__count"])
        )
        own = (
            dict(Event._read_group([("contact_id", "in", contacts.ids)], ["contact_id"], ["__count"]))
            if contacts
            else {}
        )
        for partner in self:
            if partner in contacts:
                partner.crm_timeline_count = own.get(partner, 0)
            else:
                partner.crm_timeline_count = counts.get(partner.commercial_partner_id, 0)

    def action_crm_open_timeline(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_single_truth.crm_timeline_event_action")
        action["domain"] = self._crm_timeline_domain()
        action["context"] = {}
        action["name"] = self.display_name
        return action
