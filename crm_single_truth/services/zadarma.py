"""Zadarma: the PBX call notifications (webhooks) and the API call that gives a recording's link.

Notifications are ``application/x-www-form-urlencoded`` POSTs with an ``event`` field
(``NOTIFY_START``, ``NOTIFY_END``, ``NOTIFY_OUT_START``, ``NOTIFY_OUT_END``, ``NOTIFY_RECORD``, ...)
signed in the ``Signature`` header: ``base64(hex(HMAC-SHA1(fields, API secret)))`` where the
fields are, by event, ``caller_id + called_did + call_start``, ``internal + destination +
call_start`` or ``pbx_call_id + call_id_with_rec`` (as Zadarma's own library computes it).
API requests carry ``Authorization: <key>:<signature>``, the signature being
``base64(hex(HMAC-SHA1(method + params + md5(params), secret)))`` over the sorted, URL-encoded
parameters."""

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from .messenger_api import request

DEFAULT_API_URL = "https://api.zadarma.com"
RECORD_METHOD = "/v1/pbx/record/request/"
SIGNED_FIELDS = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
# what the end of a call reports in ``disposition``
ANSWERED = "answered"
BUSY = "busy"


def encode_signature(text, secret):
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def notification_signature(fields, secret):
    """The signature Zadarma sends with a notification; ``None`` for an event it does not sign."""
    names = SIGNED_FIELDS.get(fields.get("event"))
    if names is None:
        return None
    return encode_signature("".join(str(fields.get(name) or "") for name in names), secret)


def verify_notification(fields, signature, secret):
    expected = notification_signature(fields, secret)
    return bool(secret and expected and signature) and hmac.compare_digest(expected, signature)


def query_string(params):
    """Zadarma's ``http_build_query`` of the parameters sorted by name (RFC 1738: spaces as +)."""
    return urlencode(sorted(params.items()))


def auth_header(method, params, key, secret):
    text = query_string(params)
    signature = encode_signature(method + text + hashlib.md5(text.encode()).hexdigest(), secret)
    return f"{key}:{signature}"


def request_recording_link(api_url, key, secret, call_id, timeout=20):
    """The temporary link of a call's recording (``call_id`` is ``call_id_with_rec``)."""
    params = {"call_id": call_id, "format": "json"}
    response = request(
        "GET",
        (api_url or DEFAULT_API_URL).rstrip("/") + RECORD_METHOD,
        [secret],
        timeout=timeout,
        params=sorted(params.items()),
        headers={"Authorization": auth_header(RECORD_METHOD, params, key, secret)},
    )
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or not isinstance(data, dict) or data.get("status") != "success":
        message = data.get("message") if isinstance(data, dict) else None
        raise ValueError(f"Zadarma refused the recording request: {message or 'HTTP %s' % response.status_code}")
    link = data.get("link") or next(iter(data.get("links") or []), None)
    if not isinstance(link, str):
        raise ValueError("Zadarma named no recording link")
    return link
