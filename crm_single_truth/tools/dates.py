"""Dates as a company sees them: every daily cron of the suite works on the company's local date."""

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


def company_timezone(address_tz, user_tz, country_code):
    """The time zone a company lives in: its address's, else the user's, else the first of its
    country (pytz's list), else UTC."""
    zones = pytz.country_timezones.get(country_code or "", [])
    return address_tz or user_tz or (zones[0] if zones else "UTC")
