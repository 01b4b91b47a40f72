"""Checksums of Russian and Kazakh taxpayer numbers, free of the ORM."""

import re

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
KZ_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
KZ_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
KPP_PATTERN = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def _weighted(digits, weights, modulo):
    return sum(int(d) * w for d, w in zip(digits, weights)) % modulo


def inn_check_digit(digits, weights):
    return _weighted(digits, weights, 11) % 10


def is_valid_inn(value):
    """Russian INN: 10 digits (organisation) or 12 digits (individual) with check digits."""
    if not value or not value.isdigit():
        return False
    if len(value) == 10:
        return inn_check_digit(value, INN10_WEIGHTS) == int(value[9])
    if len(value) == 12:
        return inn_check_digit(value, INN12_WEIGHTS_1) == int(value[10]) and inn_check_digit(
            value, INN12_WEIGHTS_2
        ) == int(value[11])
    return False


def is_valid_kpp(value):
    """Russian KPP: tax office code (4 digits), reason (2 digits or capital latin letters), 3 digits."""
    return bool(value) and bool(KPP_PATTERN.match(value))


def kz_check_digit(digits):
    """Control digit of a Kazakh BIN/IIN from its first 11 digits, or None when there is none."""
    control = _weighted(digits, KZ_WEIGHTS_1, 11)
    if control == 10:
        control = _weighted(digits, KZ_WEIGHTS_2, 11)
    return None if control == 10 else control


def is_valid_kz_bin_iin(value):
    """Kazakh BIN (organisations) and IIN (individuals): 12 digits, the last one a control digit."""
    if not value or not value.isdigit() or len(value) != 12:
        return False
    control = kz_check_digit(value[:11])
    return control is not None and control == int(value[11])
