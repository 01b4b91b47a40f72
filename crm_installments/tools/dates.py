"""Dates as a company sees them."""

from datetime import timezone

import pytz


def local_date(now_utc, tz_name):
    """The calendar date at ``now_utc`` (a naive UTC datetime, as Odoo stores them) in the time
    zone ``tz_name`` (UTC when empty or unknown). At 23:30 UTC it is already tomorrow in Almaty
    (UTC+5): a daily cron that used the UTC date there would slip a day between 00:00 and 05:00."""
    try:
        zone = pytz.timezone(tz_name) if tz_name else pytz.utc
    except pytz.UnknownTimeZoneError:
        zone = pytz.utc
    return now_utc.replace(tzinfo=timezone.utc).astimezone(zone).date()
