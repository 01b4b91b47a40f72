import phonenumbers


def to_e164(number, region=None):
    """``number`` in E.164 (``+77015551234``), or ``None`` when it is not a possible phone number.

    A national number (``8 701 555 12 34``) is read in ``region`` (ISO country code, the company's
    country); a number written with its country code (``+1 701 234 5678``) keeps it, so a number of
    one country never equals a number of another even when their last digits agree. The trunk
    prefix ``8`` of Russia and Kazakhstan is understood in both regions."""
    if not isinstance(number, str):
        return None
    text = number.strip()
    if not text or len(text) > 64:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def international_to_e164(digits):
    """A number given with its country code but without ``+`` (a WhatsApp ``wa_id``, a PBX
    ``caller_id``): ``77015551234`` -> ``+77015551234``; ``None`` when not a phone number."""
    if not isinstance(digits, str):
        return None
    text = digits.strip()
    if not text or not text.lstrip("+").isdigit():
        return None
    return to_e164("+" + text.lstrip("+"))


def e164_digits(e164):
    """The digits of an E.164 number, as the WhatsApp Cloud API expects ``to``."""
    return (e164 or "").lstrip("+")
