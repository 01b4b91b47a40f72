"""Schema of a website order (JSON) and its validation, without a database."""

import math

from odoo.tools.mail import email_normalize

# bounds a real order stays far below; beyond them the values would overflow the database columns
MAX_TEXT = 2000
MAX_ERRORS = 50
MAX_QUANTITY = 1e9
MAX_PRICE = 1e13
MAX_LINES = 500

SCHEMA = {
    "order_id": (str, True),
    "customer": (dict, True),
    "lines": (list, True),
    "currency": (str, False),
    "note": (str, False),
    "date": (str, False),
}
CUSTOMER_SCHEMA = {
    "name": (str, True),
    "email": (str, False),
    "phone": (str, False),
    "is_company": (bool, False),
    "bin": (str, False),
    "inn": (str, False),
    "city": (str, False),
}
LINE_SCHEMA = {
    "sku": (str, True),
    "quantity": ((int, float), True),
    "price": ((int, float), True),
    "name": (str, False),
}


def _check(data, schema, where, errors):
    if not isinstance(data, dict):
        errors.append(f"{where}: an object is expected")
        return
    for key, (kind, required) in schema.items():
        if key not in data or data[key] in (None, ""):
            if required:
                errors.append(f"{where}.{key}: required")
            continue
        value = data[key]
        if isinstance(value, bool) and kind in ((int, float),):
            errors.append(f"{where}.{key}: a number is expected")
        elif not isinstance(value, kind):
            errors.append(f"{where}.{key}: wrong type")
        elif isinstance(value, str) and (problem := _text_problem(value)):
            errors.append(f"{where}.{key}: {problem}")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and not _finite(value):
            errors.append(f"{where}.{key}: a finite number is expected")
    for key in data:
        if key not in schema:
            errors.append(f"{where}.{str(key)[:64]}: unknown field")


def _text_problem(value):
    if len(value) > MAX_TEXT:
        return f"at most {MAX_TEXT} characters"
    if "\x00" in value:
        return "NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid Unicode"
    return None


def _finite(value):
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def validate_order(data):
    """List of errors (empty when the order is valid; at most ``MAX_ERRORS``)."""
    errors = []
    _check(data, SCHEMA, "order", errors)
    if errors and not isinstance(data, dict):
        return errors
    if isinstance(data.get("order_id"), str) and not (0 < len(data["order_id"].strip()) <= 64):
        errors.append("order.order_id: 1 to 64 characters")
    if isinstance(data.get("customer"), dict):
        customer = data["customer"]
        _check(customer, CUSTOMER_SCHEMA, "order.customer", errors)
        email = customer.get("email")
        if isinstance(email, str) and email.strip() and not _text_problem(email) and not email_normalize(email):
            errors.append("order.customer.email: not a valid e-mail address")
    if isinstance(data.get("lines"), list):
        if not data["lines"]:
            errors.append("order.lines: at least one line")
        for index, line in enumerate(data["lines"][:MAX_LINES]):
            _check(line, LINE_SCHEMA, f"order.lines[{index}]", errors)
            if not isinstance(line, dict):
                continue
            quantity, price = _number(line.get("quantity")), _number(line.get("price"))
            if quantity is not None and not 0 < quantity <= MAX_QUANTITY:
                errors.append(f"order.lines[{index}].quantity: must be positive, at most {MAX_QUANTITY:.0f}")
            if price is not None and not 0 <= price <= MAX_PRICE:
                errors.append(f"order.lines[{index}].price: must not be negative, at most {MAX_PRICE:.0f}")
        if len(data["lines"]) > MAX_LINES:
            errors.append(f"order.lines: at most {MAX_LINES} lines")
    return errors[:MAX_ERRORS]


def _number(value):
    """A finite number of the order, else None (reported by the schema check)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
        return None
    return value
