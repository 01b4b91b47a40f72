"""Rules of the customer KPIs, as pure functions (tested without a database).

The SQL of the dossier (``res.partner._crm_kpi_sql``) is generated from the same thresholds, so the
card, the search and these functions cannot disagree."""

from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from odoo.tools import SQL

# amount-weighted days late up to which a customer has the rating (beyond the last: poor)
RATING_THRESHOLDS = ((1, "excellent"), (7, "good"), (30, "fair"))
RATING_BEYOND = "poor"
RATING_NONE = "none"

# additive measures of the aggregate rows: a document's contribution is added or subtracted
MEASURES = ("ltv", "order_count", "paid_amount", "paid_delay_amount")


def weighted_delay(paid_amount, paid_delay_amount, overdue_amount=0.0, overdue_delay_amount=0.0):
    """Amount-weighted average days late of paid invoices and open overdue items, or None when
    there is neither (``*_delay_amount``: sums of amount times days late)."""
    total = (paid_amount or 0.0) + (overdue_amount or 0.0)
    if total <= 0:
        return None
    return ((paid_delay_amount or 0.0) + (overdue_delay_amount or 0.0)) / total


def payment_rating(delay):
    """``excellent`` / ``good`` / ``fair`` / ``poor`` from a weighted delay in days; ``none``
    when there is no history (``delay`` None)."""
    if delay is None:
        return RATING_NONE
    for limit, rating in RATING_THRESHOLDS:
        if delay <= limit:
            return rating
    return RATING_BEYOND


def payment_rating_sql(delay, has_history):
    """The CASE expression of :func:`payment_rating` over the SQL expressions ``delay`` and
    ``has_history`` (a boolean)."""
    branches = SQL(" ").join(SQL("WHEN %s <= %s THEN %s", delay, limit, rating) for limit, rating in RATING_THRESHOLDS)
    return SQL(
        "CASE WHEN NOT COALESCE(%s, FALSE) THEN %s %s ELSE %s END", has_history, RATING_NONE, branches, RATING_BEYOND
    )


def temperature(days_since_last_order, hot_days, cold_days):
    """``hot`` up to ``hot_days`` since the last purchase, ``warm`` up to ``cold_days``, ``cold``
    beyond; False without a purchase."""
    if days_since_last_order is None:
        return False
    if days_since_last_order <= hot_days:
        return "hot"
    if days_since_last_order <= cold_days:
        return "warm"
    return "cold"


def temperature_sql(days, hot_days, cold_days):
    return SQL(
        "CASE WHEN %(days)s IS NULL THEN NULL WHEN %(days)s <= %(hot)s THEN 'hot' "
        "WHEN %(days)s <= %(cold)s THEN 'warm' ELSE 'cold' END",
        days=days,
        hot=hot_days,
        cold=cold_days,
    )


def month_start(day):
    return day.replace(day=1)


def month_end(day):
    return month_start(day) + relativedelta(months=1) - timedelta(days=1)


def split_period(date_from=None, date_to=None):
    """Split a period (dates included, None = unbounded) into the whole months the monthly
    aggregate answers and at most two partial months read from the documents.

    Returns ``(first_month, last_month, edges)``: the first days of the first and last whole
    months (None = unbounded on that side; ``first_month > last_month`` when there is no whole
    month) and the list of ``(from, to)`` partial ranges."""
    if date_from and date_to and date_from > date_to:
        return date(1, 2, 1), date(1, 1, 1), []
    edges = []
    first_month = last_month = None
    if date_from:
        first_month = date_from if date_from.day == 1 else month_start(date_from) + relativedelta(months=1)
        if date_from.day != 1:
            edge_to = month_end(date_from)
            edges.append((date_from, min(edge_to, date_to) if date_to else edge_to))
    if date_to:
        last_month = (
            month_start(date_to) if date_to == month_end(date_to) else month_start(date_to) - relativedelta(months=1)
        )
        if date_to != month_end(date_to):
            edge_from = month_start(date_to)
            if date_from and date_from > edge_from:
                edge_from = date_from
            if (edge_from, date_to) not in edges:
                edges.append((edge_from, date_to))
    return first_month, last_month, edges


def combine_contributions(before, after):
    """Delta per key of documents' contributions: ``before`` and ``after`` are lists of
    ``(key, values, day)`` where ``values`` maps :data:`MEASURES` to exact numbers (Decimal or int) and ``day`` is the
    purchase day (None when the document is no purchase). Returns ``{key: (deltas, added_days,
    removed_days)}`` with the keys whose contribution changed."""
    result = {}
    for sign, rows in ((-1, before), (1, after)):
        for key, values, day in rows:
            deltas, added, removed = result.setdefault(key, ({name: Decimal(0) for name in MEASURES}, [], []))
            for name in MEASURES:
                deltas[name] += sign * (values.get(name) or 0)
            if day:
                (added if sign > 0 else removed).append(day)
    changed = {}
    for key, (deltas, added, removed) in result.items():
        # a day both removed and added (the same document unchanged) is no change
        for day in list(removed):
            if day in added:
                added.remove(day)
                removed.remove(day)
        if added or removed or any(deltas[name] for name in MEASURES):
            changed[key] = (deltas, added, removed)
    return changed
