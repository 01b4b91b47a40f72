import hmac
import json
import logging

from odoo import http
from odoo.http import request

from ..services.website_order import validate_order

_logger = logging.getLogger(__name__)


class CrmExchangeWebsiteController(http.Controller):
    """Orders of the website: ``POST /crm/exchange/website/order`` with the system's API key in
    ``X-Api-Key``. Answers 200 (also for a replayed order, which creates nothing), 400 malformed,
    403 unauthenticated."""

    @staticmethod
    def _answer(status, code, **payload):
        return request.make_json_response({"status": status, **payload}, status=code)

    @http.route(
        "/crm/exchange/website/order", type="http", auth="public", methods=["POST"], csrf=False, save_session=False
    )
    def website_order(self, **kwargs):
        env = request.env(su=True)
        system = env["crm.exchange.system"]._get_by_code("website")
        given = request.httprequest.headers.get("X-Api-Key") or ""
        key = system.api_key if system else ""
        Log = env["crm.exchange.log"]
        raw = request.httprequest.get_data(cache=True) or b""
        if not system or not key or not hmac.compare_digest(key.encode(), given.encode()):
            if system:
                Log._journal(
                    system,
                    "in",
                    "website_order",
                    state="failed",
                    request=raw.decode("utf-8", "replace")[:5000],
                    error="Unauthenticated request (bad or missing X-Api-Key)",
                )
            return self._answer("forbidden", 403)
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as error:
            Log._journal(
                system,
                "in",
                "website_order",
                state="failed",
                request=raw.decode("utf-8", "replace")[:5000],
                error=f"Malformed JSON: {error}",
            )
            return self._answer("malformed", 400, errors=["The body is not JSON."])
        errors = validate_order(data)
        if errors:
            Log._journal(system, "in", "website_order", state="failed", request=data, error="; ".join(errors))
            return self._answer("malformed", 400, errors=errors)
        result = env["crm.exchange.website"]._process_order(system, data)
        if result.get("errors"):
            return self._answer("malformed", 400, errors=result["errors"], correlation_id=result["correlation_id"])
        return self._answer(result.pop("status"), 200, **result)
