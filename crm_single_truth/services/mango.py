"""Mango Office Virtual PBX API: the realtime events it posts and the request that gives a
recording.

Every request, both ways, is a form with ``vpbx_api_key`` (the PBX's unique code), ``json`` (the
data) and ``sign = sha256(vpbx_api_key + json + vpbx_api_salt)`` in hex. Events are posted to
``<external system>/events/call``, ``/events/summary``, ``/events/recording``,
``/events/record/added``... A recording is obtained with ``POST /vpbx/queries/recording/post``
(``{"recording_id", "action": "download"}``), answered by a redirect to a temporary file link.

Times in events (``timestamp``; ``create_time``, ``forward_time``, ``talk_time``, ``end_time`` of
``events/summary``, 0 when the step did not happen) are Unix time: whole seconds since the epoch, UTC,
as JSON numbers."""

import hashlib
import hmac
import json

from .messenger_api import request

DEFAULT_API_URL = "https://app.mango-office.ru/vpbx"
# call_direction of events/summary
DIRECTION_INTERNAL, DIRECTION_INBOUND, DIRECTION_OUTBOUND = 0, 1, 2


def sign(api_key, json_text, salt):
    return hashlib.sha256((api_key + json_text + salt).encode()).hexdigest()


def verify(api_key, json_text, given_sign, expected_key, salt):
    """The event comes from our PBX (its code) and is signed with our salt."""
    if not (expected_key and salt and isinstance(api_key, str) and isinstance(json_text, str)):
        return False
    if not isinstance(given_sign, str) or not hmac.compare_digest(api_key, expected_key):
        return False
    return hmac.compare_digest(sign(api_key, json_text, salt), given_sign.lower())


def recording_request(api_url, api_key, salt, recording_id, timeout=20):
    """POST the recording query; returns the ``requests`` response (a 302 to the file)."""
    payload = json.dumps({"recording_id": recording_id, "action": "download"})
    return request(
        "POST",
        (api_url or DEFAULT_API_URL).rstrip("/") + "/queries/recording/post",
        [salt],
        timeout=timeout,
        data={"vpbx_api_key": api_key, "sign": sign(api_key, payload, salt), "json": payload},
    )
