import re

PHONE_KEY_DIGITS = 10


def phone_key(number):
    """The last ten digits of a phone number: +7 701 123 45 67, 8 (701) 123-45-67 and
    77011234567 are the same subscriber in Kazakhstan and Russia. ``None`` when too short."""
    digits = re.sub(r"\D", "", number or "")
    return digits[-PHONE_KEY_DIGITS:] if len(digits) >= 7 else None


def phone_key_sql(column):
    """SQL expression of :func:`phone_key` over a column (indexable)."""
    return f"RIGHT(REGEXP_REPLACE(COALESCE({column}, ''), '[^0-9]', '', 'g'), {PHONE_KEY_DIGITS})"
