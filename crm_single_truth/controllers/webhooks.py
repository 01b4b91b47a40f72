import hashlib
import hmac
import logging

from werkzeug.exceptions import Forbidden, RequestEntityTooLarge

from odoo import http
from odoo.http import request

from ..models.crm_messenger_message import is_concurrency_error
from ..services import mango, zadarma
from ..tools.inbound import MAX_BODY_BYTES, MalformedDelivery, clean, clean_text, parse_json_object, parse_json_text

_logger = logging.getLogger(__name__)

STATUS = {"ok": 200, "malformed": 400, "forbidden": 403, "too_large": 413}
MANGO_EVENTS = ("events/call", "events/summary", "events/recording", "events/record/added")


def _same(secret, given):
    # an unset secret accepts nothing
    return bool(secret) and isinstance(given, str) and hmac.compare_digest(secret.encode(), given.encode())


def _secret(key):
    return request.env["ir.config_parameter"].sudo().get_param(f"crm_single_truth.{key}") or ""


def _answer(status, **payload):
    return request.make_json_response({"status": status, **payload}, status=STATUS[status])


def _refuse_before_reading(allowed):
    """The body limit of a route, decided before Odoo reads the body: a request whose header
    secret is wrong is refused (403) without reading anything, whatever it announces; the others
    may send at most :data:`MAX_BODY_BYTES` (413 beyond)."""
    if not allowed:
        raise Forbidden(response=_answer("forbidden"))
    return MAX_BODY_BYTES


def _telegram_limit(_controller):
    return _refuse_before_reading(
        _same(_secret("telegram_secret_token"), request.httprequest.headers.get("X-Telegram-Bot-Api-Secret-Token"))
    )


def _call_limit(_controller):
    return _refuse_before_reading(_same(_secret("telephony_api_key"), request.httprequest.headers.get("X-Api-Key")))


def _whatsapp_limit(_controller):
    # the signature covers the body: without a secret or a well-formed signature there is nothing to check
    signature = request.httprequest.headers.get("X-Hub-Signature-256") or ""
    return _refuse_before_reading(
        bool(_secret("whatsapp_app_secret")) and signature.startswith("sha256=") and len(signature) == 71
    )


def _zadarma_limit(_controller):
    return _refuse_before_reading(
        bool(_secret("zadarma_api_secret")) and bool(request.httprequest.headers.get("Signature"))
    )


def _mango_limit(_controller):
    # Mango signs inside the form: the body must be read to check it
    return _refuse_before_reading(bool(_secret("mango_api_key")) and bool(_secret("mango_api_salt")))


class CrmWebhookController(http.Controller):
    """Inbound webhooks of messengers and telephony. Answers: 200 accepted (also a repeated
    delivery, which changes nothing), 400 malformed (whatever went wrong: never a 500), 403 bad
    secret or signature, 413 body over 1 MiB. A delivery is processed in a savepoint, so it is
    written completely or not at all, and reported to ``crm.inbound.delivery`` (journaled by
    ``crm_exchange_log``)."""

    def _read_body(self):
        return request.httprequest.get_data(cache=True) or b""

    def _process(self, channel, read, method):
        """Read the delivery with ``read()`` and record it with ``method(data)``."""
        env = request.env(su=True)
        hook = env["crm.inbound.delivery"]
        data = None
        try:
            data = read()
            with env.cr.savepoint():
                result = method(data)
        except RequestEntityTooLarge:
            return _answer("too_large", error="The body is larger than 1 MiB.")
        except Exception as error:  # noqa: BLE001 - any refused delivery is a 400 and journaled
            if is_concurrency_error(error):
                raise  # Odoo's request loop retries it in a new transaction
            known = isinstance(error, (MalformedDelivery, ValueError))
            reason = clean_text(str(error) if known else f"{error.__class__.__name__}: {error}")[:1000]
            if known:
                _logger.info("Malformed %s webhook delivery: %s", channel, reason)
            else:
                _logger.info("Refused %s webhook delivery", channel, exc_info=True)
            hook._crm_on_delivery(channel, data if data is not None else {}, error=reason or "malformed")
            return _answer("malformed", error=reason if known else "The delivery could not be read.")
        if not result:
            hook._crm_on_delivery(channel, data)  # acknowledged, nothing to record (another update kind)
        for record, external_id in result:
            hook._crm_on_delivery(
                channel,
                data,
                external_id=external_id,
                res_model=record._name if record else None,
                res_id=record.id if record else None,
            )
        return _answer("ok", accepted=sum(1 for record, _external_id in result if record))

    # ------------------------------------------------------------------ Telegram
    @http.route(
        "/crm/webhook/telegram",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=_telegram_limit,
    )
    def telegram(self, **kwargs):
        if not _same(
            _secret("telegram_secret_token"), request.httprequest.headers.get("X-Telegram-Bot-Api-Secret-Token")
        ):
            return _answer("forbidden")
        Message = request.env(su=True)["crm.messenger.message"]
        return self._process("telegram", lambda: parse_json_object(self._read_body()), Message._crm_process_telegram)

    # ------------------------------------------------------------------ WhatsApp
    @http.route("/crm/webhook/whatsapp", type="http", auth="public", methods=["GET"], csrf=False, save_session=False)
    def whatsapp_verify(self, **params):
        if params.get("hub.mode") != "subscribe" or not _same(
            _secret("whatsapp_verify_token"), params.get("hub.verify_token")
        ):
            return request.make_response("Forbidden", headers=[("Content-Type", "text/plain")], status=403)
        return request.make_response(
            str(params.get("hub.challenge", ""))[:256], headers=[("Content-Type", "text/plain")]
        )

    @http.route(
        "/crm/webhook/whatsapp",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=_whatsapp_limit,
    )
    def whatsapp(self, **kwargs):
        app_secret = _secret("whatsapp_app_secret")
        try:
            raw = self._read_body()
        except RequestEntityTooLarge:
            return _answer("too_large", error="The body is larger than 1 MiB.")
        expected = "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
        if not app_secret or not _same(expected, request.httprequest.headers.get("X-Hub-Signature-256")):
            return _answer("forbidden")
        Message = request.env(su=True)["crm.messenger.message"]
        return self._process("whatsapp", lambda: parse_json_object(raw), Message._crm_process_whatsapp)

    # ------------------------------------------------------------------ generic telephony
    @http.route(
        "/crm/webhook/call",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=_call_limit,
    )
    def call(self, **kwargs):
        if not _same(_secret("telephony_api_key"), request.httprequest.headers.get("X-Api-Key")):
            return _answer("forbidden")
        Call = request.env(su=True)["crm.call"]
        return self._process("call", lambda: parse_json_object(self._read_body()), Call._crm_process_webhook)

    # ------------------------------------------------------------------ Zadarma
    @http.route("/crm/webhook/zadarma", type="http", auth="public", methods=["GET"], csrf=False, save_session=False)
    def zadarma_check(self, **params):
        """Zadarma checks the address by asking it to echo ``zd_echo``."""
        echo = params.get("zd_echo")
        if not isinstance(echo, str) or not echo:
            return request.make_response("", headers=[("Content-Type", "text/plain")], status=400)
        return request.make_response(echo[:256], headers=[("Content-Type", "text/plain")])

    @http.route(
        "/crm/webhook/zadarma",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=_zadarma_limit,
    )
    def zadarma(self, **kwargs):
        try:
            form = {key: value for key, value in request.httprequest.form.items() if isinstance(value, str)}
        except RequestEntityTooLarge:
            return _answer("too_large", error="The body is larger than 1 MiB.")
        signature = request.httprequest.headers.get("Signature")
        if not zadarma.verify_notification(form, signature, _secret("zadarma_api_secret")):
            return _answer("forbidden")
        Call = request.env(su=True)["crm.call"]
        return self._process("zadarma", lambda: clean(form), Call._crm_process_zadarma)

    # ------------------------------------------------------------------ Mango Office
    @http.route(
        ["/crm/webhook/mango", "/crm/webhook/mango/<path:event>"],
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=_mango_limit,
    )
    def mango(self, event="", **kwargs):
        """Mango Office posts each event to the external system's address followed by the event's
        path (``events/summary``...); the connection check posts without data."""
        try:
            form = request.httprequest.form
            api_key, json_text, sign = form.get("vpbx_api_key"), form.get("json"), form.get("sign")
        except RequestEntityTooLarge:
            return _answer("too_large", error="The body is larger than 1 MiB.")
        if not mango.verify(api_key, json_text, sign, _secret("mango_api_key"), _secret("mango_api_salt")):
            return _answer("forbidden")
        event = (event or "").strip("/")
        Call = request.env(su=True)["crm.call"]
        return self._process(
            "mango",
            lambda: {"event": clean_text(event[:64]), **parse_json_text(json_text)},
            lambda data: Call._crm_process_mango(event, data) if event in MANGO_EVENTS else [],
        )
