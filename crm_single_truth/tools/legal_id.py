"""Checksums and structure of Russian and Kazakh taxpayer numbers, free of the ORM.

* INN (Russia): 10 digits for an organisation, the last one a check digit; 12 digits for an
  individual, the last two check digits. A check digit is the weighted sum of the preceding
  digits modulo 11, then modulo 10.
* KPP (Russia): 9 characters, tax office code (4 digits), registration reason (2 digits or
  capital latin letters), serial number (3 digits). There is no check digit.
* BIN / IIN (Kazakhstan): 12 digits, the last one a control digit: the sum of the first 11
  digits weighted 1..11, modulo 11; when that gives 10, the same with weights 3..11, 1, 2;
  when that gives 10 again the number is not valid.

Structure of the Kazakh numbers: Law of the Republic of Kazakhstan of 12 January 2007 No. 223
"On national registers of identification numbers" (https://adilet.zan.kz/rus/docs/Z070000223_),
Rules for forming the identification number approved by Government Decree of 22 May 2007 No. 406
(https://adilet.zan.kz/rus/docs/P070000406_, which also defines the control digit), as described
by egov.kz and by the OECD's sheet on Kazakh TINs:

* IIN (individual): digits 1-6 the date of birth YYMMDD; digit 7 the century of birth and the
  sex (1/2: born 1800-1899, 3/4: 1900-1999, 5/6: 2000-2099; odd male, even female); digits 8-11
  a serial number; digit 12 the control digit. Decree No. 853 of 26 August 2013 stopped tying
  the digits to a person's data (a corrected birth date does not change the IIN), so the date
  is checked to be a date of the right century, not compared with anything.
* BIN (legal entity, branch, representative office, joint individual entrepreneur): digits 1-4
  the year (last two digits) and month of registration YYMM; digit 5 the type (4: resident
  legal entity, 5: non-resident legal entity, 6: individual entrepreneur in joint
  entrepreneurship); digit 6 the attribute (0: head office, 1: branch, 2: representative
  office, 3: peasant farm in joint entrepreneurship); digits 7-11 a serial number; digit 12 the
  control digit.

The fifth digit tells the kinds apart: 4-6 in a BIN, the tens of the birth day (0-3) in an IIN.
"""

import re
from datetime import date

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


# century of birth by the 7th digit of an IIN
IIN_CENTURIES = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}
BIN_TYPES = "456"
BIN_ATTRIBUTES = "0123"


def iin_birth_date(value):
    """Date of birth written in an IIN of 12 digits, or None when its digits form none."""
    century = IIN_CENTURIES.get(value[6])
    if century is None:
        return None
    try:
        return date(century + int(value[:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return None


def _iin_structure_error(value, today=None):
    if value[6] not in IIN_CENTURIES:
        return "century"
    born = iin_birth_date(value)
    if born is None or (today is not None and born > today):
        return "date"
    return None if is_valid_kz_bin_iin(value) else "checksum"


def _bin_structure_error(value):
    if not 1 <= int(value[2:4]) <= 12:
        return "month"
    if value[4] not in BIN_TYPES:
        return "type"
    if value[5] not in BIN_ATTRIBUTES:
        return "attribute"
    return None if is_valid_kz_bin_iin(value) else "checksum"


def kz_iin_error(value, today=None):
    """Why ``value`` is not a valid IIN, as a code, or None when it is one: ``format`` (not 12
    digits), ``zero`` (000000000000), ``bin`` (a valid BIN), ``century`` (7th digit), ``date``
    (no such birth date, or one after ``today``), ``checksum``."""
    if not is_kz_bin_iin_format(value):
        return "format"
    if not value.strip("0"):
        return "zero"
    if _bin_structure_error(value) is None:
        return "bin"
    return _iin_structure_error(value, today)


def kz_bin_error(value):
    """Why ``value`` is not a valid BIN, as a code, or None when it is one: ``format`` (not 12
    digits), ``zero`` (000000000000), ``iin`` (a valid IIN), ``month`` (of registration),
    ``type`` (5th digit), ``attribute`` (6th digit), ``checksum``."""
    if not is_kz_bin_iin_format(value):
        return "format"
    if not value.strip("0"):
        return "zero"
    if _iin_structure_error(value) is None:
        return "iin"
    return _bin_structure_error(value)


def is_valid_kz_iin(value, today=None):
    return kz_iin_error(value, today) is None


def is_valid_kz_bin(value):
    return kz_bin_error(value) is None
