"""What arrives at a webhook, made safe before anything reads it: a bounded JSON object whose
strings can be stored (no lone surrogates, no NUL characters)."""

import json

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
REPLACEMENT = "\ufffd"


class MalformedDelivery(ValueError):
    """The delivery cannot be read; the message says why (English, for the journal)."""


def clean_text(value):
    """``value`` with lone surrogates and NUL characters replaced: PostgreSQL stores neither."""
    if not isinstance(value, str):
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # JSON joins valid surrogate pairs into one character: what remains is a lone half
        value = "".join(REPLACEMENT if "\ud800" <= char <= "\udfff" else char for char in value)
    return value.replace("\x00", REPLACEMENT)


def clean(data, max_depth=MAX_DEPTH):
    """A copy of parsed JSON with every string (keys included) cleaned; raises
    :class:`MalformedDelivery` when nested deeper than ``max_depth``. Iterative, so that no depth
    can exhaust the interpreter's stack."""
    root = [None]
    stack = [(data, root, 0, 0)]
    while stack:
        value, parent, key, depth = stack.pop()
        if depth > max_depth:
            raise MalformedDelivery(f"the body is nested deeper than {max_depth} levels")
        if isinstance(value, dict):
            copy = {}
            for item_key, item in value.items():
                copy[clean_text(item_key)] = None
                stack.append((item, copy, clean_text(item_key), depth + 1))
        elif isinstance(value, list):
            copy = [None] * len(value)
            stack.extend((item, copy, index, depth + 1) for index, item in enumerate(value))
        else:
            copy = clean_text(value)
        parent[key] = copy
    return root[0]


def parse_json_object(raw, max_depth=MAX_DEPTH):
    """The JSON object of a request body (bytes), cleaned; raises :class:`MalformedDelivery`."""
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedDelivery("the body is too large")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedDelivery("the body is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedDelivery("the body is not a JSON object")
    return clean(data, max_depth)


def parse_json_text(text, max_depth=MAX_DEPTH):
    """A JSON object given as text inside a form field (Mango Office's ``json``), cleaned."""
    if not isinstance(text, str):
        raise MalformedDelivery("the json field is missing")
    return parse_json_object(text.encode("utf-8", "surrogatepass"), max_depth)
