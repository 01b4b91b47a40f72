"""Checksums of Russian and Kazakh taxpayer numbers, free of the ORM.

* INN (Russia): 10 digits for an organisation, the last one a check digit; 12 digits for an
  individual, the last two check digits. A check digit is the weighted sum of the preceding
  digits modulo 11, then modulo 10.
* KPP (Russia): 9 characters, tax office code (4 digits), registration reason (2 digits or
  capital latin letters), serial number (3 digits). There is no check digit.
* BIN / IIN (Kazakhstan): 12 digits, the last one a control digit: the sum of the first 11
  digits weighted 1..11, modulo 11; when that gives 10, the same with weights 3..11, 1, 2;
  when that gives 10 again the number is not valid.
"""

import re

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
KZ_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
KZ_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
KPP_PATTERN = re.compile(r"\d{4}[\dA-Z]{2}\d{3}")


def _is_digits(value, *lengths):
    # str.isdigit() accepts superscripts and other scripts' digits: only ASCII digits count
    return bool(value) and value.isascii() and value.isdigit() and len(value) in lengths


def _weighted(digits, weights, modulo):
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % modulo


def clean_legal_id(value):
    """The number without the spaces people type to group digits ("7707 083 893")."""
    return "".join(value.split()) if value else value


def inn_check_digit(digits, weights):
    """Check digit of an INN computed from the digits that precede it."""
    return _weighted(digits, weights, 11) % 10


def is_inn_format(value):
    """10 or 12 digits, whatever the check digits."""
    return _is_digits(value, 10, 12)


def is_valid_inn(value):
    """Russian INN: 10 digits (organisation) or 12 digits (individual) with check digits."""
    if not is_inn_format(value):
        return False
    if len(value) == 10:
        return inn_check_digit(value[:9], INN10_WEIGHTS) == int(value[9])
    return inn_check_digit(value[:10], INN12_WEIGHTS_1) == int(value[10]) and inn_check_digit(
        value[:11], INN12_WEIGHTS_2
    ) == int(value[11])


def is_valid_kpp(value):
    """Russian KPP: tax office code (4 digits), reason (2 digits or capital latin letters), 3 digits."""
    return bool(value) and value.isascii() and bool(KPP_PATTERN.fullmatch(value))


def kz_check_digit(digits):
    """Control digit of a Kazakh BIN/IIN from its first 11 digits, or None when there is none."""
    control = _weighted(digits, KZ_WEIGHTS_1, 11)
    if control == 10:
        control = _weighted(digits, KZ_WEIGHTS_2, 11)
    return None if control == 10 else control


def is_kz_bin_iin_format(value):
    """12 digits, whatever the control digit."""
    return _is_digits(value, 12)


def is_valid_kz_bin_iin(value):
    """Kazakh BIN (organisations) and IIN (individuals): 12 digits, the last one a control digit."""
    if not is_kz_bin_iin_format(value):
        return False
    control = kz_check_digit(value[:11])
    return control is not None and control == int(value[11])
