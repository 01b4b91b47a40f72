"""Pure computations of installment plans: due dates, amounts, allocation of payments and
penalties. No database: every function takes dates and amounts and returns dates and amounts."""

import calendar
from datetime import timedelta

from dateutil.relativedelta import relativedelta

# the longest schedule a plan or a restructuring may have (ten years of monthly lines)
MAX_INSTALLMENTS = 120

STEPS = {
    "week": relativedelta(weeks=1),
    "month": relativedelta(months=1),
    "quarter": relativedelta(months=3),
}


def due_dates(date_first, interval, count):
    """``count`` due dates from ``date_first``, one ``interval`` apart. Each date is computed from
    the first one (``date_first + i * step``), never from the previous date, so that a schedule
    starting on the 31st stays at the end of the month: 31 Jan, 28/29 Feb, 31 Mar, 30 Apr..."""
    step = STEPS[interval]
    return [date_first + step * i for i in range(count)]


def split_amount(total, count, round_fn, rounding=0.01):
    """``count`` parts of ``total`` rounded with ``round_fn`` (currency precision ``rounding``)
    that add up to the total exactly, none negative; the last part takes the remainder.

    Each part is ``total / count`` rounded; when rounding up would leave the last part negative
    (0.09 in 6 parts: 5 x 0.02 = 0.10) the parts are rounded down to the currency unit instead
    (5 x 0.01, last 0.04). A total smaller than one unit per part cannot be split: ``ValueError``.
    """
    if count <= 0:
        return []
    units = round(total / rounding)
    if units < count:
        raise ValueError(f"{total} cannot be split into {count} parts of at least {rounding}")
    part = round_fn(total / count)
    if round_fn(part * (count - 1)) > round_fn(total):
        part = round_fn((units // count) * rounding)
    return [part] * (count - 1) + [round_fn(total - part * (count - 1))]


def allocate(amount, residuals, round_fn):
    """Split ``amount`` over ``residuals`` (oldest first): returns the amount given to each and what
    is left over (an overpayment beyond the last residual)."""
    given = []
    left = amount
    for residual in residuals:
        part = round_fn(min(max(left, 0.0), residual))
        given.append(part)
        left = round_fn(left - part)
    return given, left


def _month_end(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def penalty_segments(date_due, amount, payments, rate, grace_days, cap_percent, date_ref, round_fn, cap_base=None):
    """Penalty (пени) on an overdue amount, as a list of segments of constant base.

    ``payments`` are (date, amount) of what paid this amount. The overdue base of a day is
    ``amount`` minus the payments dated on or before that day: a payment stops the accrual from its
    own date. Day ``n`` after ``date_due`` is chargeable when ``n > grace_days`` (the grace days
    are never charged, even once they are over) and the day is not after ``date_ref``. A
    chargeable day costs ``base * rate / 100``. The total is capped at ``cap_percent`` of
    ``cap_base`` (default ``amount``); 0 means no cap.

    Segments are split where the base changes and at month ends (so that a period can be
    invoiced); each is a dict of date_from, date_to, base, days, amount and capped.
    The result only depends on the arguments: a rerun gives the same segments, a late run
    catches up exactly, a back-dated payment changes the history and so the segments.
    """
    if not rate or not date_due or not date_ref:
        return []
    first = date_due + timedelta(days=grace_days + 1)
    if first > date_ref:
        return []
    cap = round_fn((cap_base if cap_base is not None else amount) * cap_percent / 100.0) if cap_percent else None
    payments = sorted((day, paid) for day, paid in payments if paid)
    segments = []
    total = 0.0
    day = first
    while day <= date_ref:
        paid_before = sum(paid for paid_day, paid in payments if paid_day <= day)
        base = round_fn(amount - paid_before)
        if base <= 0:
            break
        # the segment runs until the next payment date, the month end or date_ref
        next_payment = min((paid_day for paid_day, _paid in payments if paid_day > day), default=None)
        end = min(_month_end(day), date_ref)
        if next_payment and next_payment - timedelta(days=1) < end:
            end = next_payment - timedelta(days=1)
        days = (end - day).days + 1
        value = round_fn(base * rate / 100.0 * days)
        capped = False
        if cap is not None and total + value >= cap:
            value = round_fn(cap - total)
            capped = True
        if value > 0 or capped:
            segments.append(
                {
                    "date_from": day,
                    "date_to": end,
                    "base": base,
                    "days": days,
                    "amount": value,
                    "capped": capped,
                }
            )
        total = round_fn(total + value)
        if capped:
            break
        day = end + timedelta(days=1)
    return [segment for segment in segments if segment["amount"] > 0]
