"""Schema of a website order (JSON) and its validation, without a database."""

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
    for key in data:
        if key not in schema:
            errors.append(f"{where}.{key}: unknown field")


def validate_order(data):
    """List of errors (empty when the order is valid)."""
    errors = []
    _check(data, SCHEMA, "order", errors)
    if errors and not isinstance(data, dict):
        return errors
    if isinstance(data.get("order_id"), str) and not (0 < len(data["order_id"].strip()) <= 64):
        errors.append("order.order_id: 1 to 64 characters")
    if isinstance(data.get("customer"), dict):
        _check(data["customer"], CUSTOMER_SCHEMA, "order.customer", errors)
    if isinstance(data.get("lines"), list):
        if not data["lines"]:
            errors.append("order.lines: at least one line")
        for index, line in enumerate(data["lines"]):
            _check(line, LINE_SCHEMA, f"order.lines[{index}]", errors)
            if isinstance(line, dict) and isinstance(line.get("quantity"), (int, float)) and line["quantity"] <= 0:
                errors.append(f"order.lines[{index}].quantity: must be positive")
            if isinstance(line, dict) and isinstance(line.get("price"), (int, float)) and line["price"] < 0:
                errors.append(f"order.lines[{index}].price: must not be negative")
    return errors
