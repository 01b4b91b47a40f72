"""Sales history from a spreadsheet (xlsx, or csv separated by ``;`` or ``,`` in UTF-8 or
cp1251): reading the rows, guessing which column holds what from the headers (Russian or
English), and checking each row. Plain Python, without Odoo: amounts as
:class:`~decimal.Decimal`, dates as :class:`datetime.date`."""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

#: what a column may hold (technical name of the field of a row)
FIELDS = ("name", "legal_id", "number", "date", "amount", "currency", "paid_amount", "paid_date")
#: words of a header (lower case, without punctuation) telling what the column holds, the most
#: specific first (a "paid date" header is a paid date before it is a date)
HEADER_WORDS = (
    ("paid_date", ("дата оплаты", "дата платежа", "paid date", "payment date", "date paid", "оплачено дата")),
    ("paid_amount", ("оплачено", "сумма оплаты", "оплата", "paid amount", "paid", "payment amount", "payment")),
    ("legal_id", ("иин", "бин", "инн", "inn", "bin", "iin", "tax id", "vat", "tin")),
    ("number", ("номер", "№", "number", "document no", "doc no", "invoice no", "no")),
    ("date", ("дата", "date")),
    ("currency", ("валюта", "currency", "cur")),
    ("amount", ("сумма", "amount", "total", "итого")),
    ("name", ("контрагент", "покупатель", "клиент", "наименование", "customer", "client", "partner", "name")),
)
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S")
MAX_ROWS = 100000
MAX_DIGITS = 15  # digits before the point: beyond any sale, within what a float holds to the cent


class SheetError(ValueError):
    """The file cannot be read as a spreadsheet (the text says why)."""


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(data):
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("the file is neither UTF-8 nor cp1251 text")


def read_csv(data):
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    try:
        # newline="" as the csv module asks: a carriage return inside a field is the field's
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:  # a NUL byte, a broken quote
        raise SheetError(f"not a readable csv file ({error})") from error
    return [[cell.strip() for cell in row] for row in rows]


def read_xlsx(data):
    import openpyxl  # noqa: PLC0415 - required by Odoo itself, loaded only for spreadsheets

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable workbook is the same error
        raise SheetError(f"not an xlsx workbook ({error})") from error
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                raise SheetError(f"more than {MAX_ROWS} rows")
        return rows
    finally:
        book.close()


def read_sheet(data, filename):
    """(headers, rows): the first non-empty row is the header; rows keep their cells as read
    (text for csv; numbers, dates or text for xlsx), each as (line number, cells)."""
    if not data:
        raise SheetError("the file is empty")
    is_xlsx = (filename or "").lower().endswith(".xlsx") or data[:2] == b"PK"
    rows = read_xlsx(data) if is_xlsx else read_csv(data)
    numbered = [(index, row) for index, row in enumerate(rows, start=1) if any(_cell_text(c) for c in row)]
    if not numbered:
        raise SheetError("the file has no rows")
    if len(numbered) > MAX_ROWS + 1:
        raise SheetError(f"more than {MAX_ROWS} rows")
    headers = [_cell_text(cell) for cell in numbered[0][1]]
    return headers, numbered[1:]


def guess_field(header):
    """The field a header names, or False."""
    text = re.sub(r"[^\w№ ]+", " ", (header or "").lower()).strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        return False
    words = set(text.split(" "))
    for field, keys in HEADER_WORDS:
        for key in keys:
            if (" " in key and key in text) or key in words or text == key:
                return field
    return False


def guess_mapping(headers):
    """{column index: field}, each field given to the first column that names it."""
    mapping, taken = {}, set()
    for index, header in enumerate(headers):
        field = guess_field(header)
        if field and field not in taken:
            mapping[index] = field
            taken.add(field)
    return mapping


def parse_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_amount(value):
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        value = str(value)
    text = _cell_text(value).replace("\xa0", "").replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(text) from error
    if not amount.is_finite() or (amount and amount.adjusted() >= MAX_DIGITS):
        raise ValueError(text)
    return amount


def legal_id_text(value):
    """INN/BIN/IIN of a cell without the spaces people type; a number in a spreadsheet has lost its
    leading zero (a Kazakh BIN of the 2000s starts with 0): 9 or 11 digits get it back."""
    text = "".join(_cell_text(value).split())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and len(text) in (9, 11):
        text = text.zfill(len(text) + 1)
    return text


def row_values(cells, mapping):
    """{field: raw cell} of one row after the mapping {column index: field}."""
    values = dict.fromkeys(FIELDS)
    for index, field in mapping.items():
        if field and index < len(cells):
            values[field] = cells[index]
    return values
