import hashlib
import hmac
import json
import logging

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


class CrmWebhookController(http.Controller):
    """Inbound webhooks of messengers and telephony. Answers: 200 accepted (also a repeated
    delivery, which changes nothing), 400 malformed, 403 bad secret or signature. A delivery is
    processed in a savepoint, so it is written completely or not at all."""

    def _secret(self, key):
        return request.env["ir.config_parameter"].sudo().get_param(f"crm_single_truth.{key}") or ""

    @staticmethod
    def _same(secret, given):
        # An unset secret accepts nothing.
        return bool(secret) and hmac.compare_digest(secret.encode(), (given or "").encode())

    @staticmethod
    def _answer(status, **payload):
        return request.make_json_response(
            {"status": status, **payload}, status={"ok": 200, "malformed": 400, "forbidden": 403}[status]
        )

    def _parse_body(self):
        try:
            data = json.loads(request.httprequest.get_data(cache=True) or b"")
        except (UnicodeDecodeError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _process(self, channel, method):
        data = self._parse_body()
        if data is None:
            return self._answer("malformed", error="The body is not a JSON object.")
        env = request.env(su=True)
        hook = env["crm.exchange.hook"]
        try:
            with env.cr.savepoint():
                result = method(data)
        except ValueError as error:
            _logger.info("Malformed %s webhook delivery: %s", channel, error)
            hook._crm_journal_inbound(channel, data, error=str(error))
            return self._answer("malformed", error=str(error))
        for record, external_id in result:
            hook._crm_journal_inbound(
                channel,
                data,
                external_id=external_id,
                res_model=record._name if record else None,
                res_id=record.id if record else None,
            )
        return self._answer("ok", accepted=sum(1 for record, _external_id in result if record))

    @http.route("/crm/webhook/telegram", type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def telegram(self, **kwargs):
        given = request.httprequest.headers.get("X-Telegram-Bot-Api-Secret-Token")
        if not self._same(self._secret("telegram_secret_token"), given):
            return self._answer("forbidden")
        return self._process("telegram", request.env(su=True)["crm.messenger.message"]._crm_process_telegram)

    @http.route("/crm/webhook/whatsapp", type="http", auth="public", methods=["GET"], csrf=False, save_session=False)
    def whatsapp_verify(self, **params):
        if params.get("hub.mode") != "subscribe" or not self._same(
            self._secret("whatsapp_verify_token"), params.get("hub.verify_token")
        ):
            return request.make_response("Forbidden", headers=[("Content-Type", "text/plain")], status=403)
        return request.make_response(params.get("hub.challenge", ""), headers=[("Content-Type", "text/plain")])

    @http.route("/crm/webhook/whatsapp", type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def whatsapp(self, **kwargs):
        app_secret = self._secret("whatsapp_app_secret")
        raw = request.httprequest.get_data(cache=True) or b""
        expected = "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
        if not app_secret or not self._same(expected, request.httprequest.headers.get("X-Hub-Signature-256")):
            return self._answer("forbidden")
        return self._process("whatsapp", request.env(su=True)["crm.messenger.message"]._crm_process_whatsapp)

    @http.route("/crm/webhook/call", type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def call(self, **kwargs):
        if not self._same(self._secret("telephony_api_key"), request.httprequest.headers.get("X-Api-Key")):
            return self._answer("forbidden")
        return self._process("call", request.env(su=True)["crm.call"]._crm_process_webhook)
