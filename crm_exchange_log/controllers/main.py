import hmac
import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from ..services.throttle import ThrottledCounter
from ..services.website_order import validate_order

_logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # an order is a few KB
# unauthenticated requests are not journaled (anyone could fill the journal and set off the alerts):
# they are counted and reported in the server log, at most once a minute per worker
REJECTED = ThrottledCounter(interval=60)


class CrmExchangeWebsiteController(http.Controller):
    """Orders of the website: ``POST /crm/exchange/website/order`` with the system's API key in
    ``X-Api-Key``. Answers 200 (also for a replayed order, which creates nothing), 400 malformed
    or failed (journaled), 403 unauthenticated (not journaled, counted in the server log), 413
    body over 1 MiB; never 500."""

    @staticmethod
    def _answer(status, code, **payload):
        return request.make_json_response({"status": status, **payload}, status=code)

    @http.route(
        "/crm/exchange/website/order",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY,
    )
    def website_order(self, **kwargs):
        env = request.env(su=True)
        system = env["crm.exchange.system"]._get_by_code("website")
        if not system or not self._authenticated(system):
            self._count_rejected()
            return self._answer("forbidden", 403)
        # the key is right: from here on every outcome is journaled
        Log = env["crm.exchange.log"]
        raw = b""
        try:
            raw = request.httprequest.get_data(cache=False)
            data = json.loads(raw.decode("utf-8-sig"))
        except RequestEntityTooLarge:
            Log._journal(system, "in", "website_order", state="failed", error=f"Body larger than {MAX_BODY} bytes")
            return self._answer("too_large", 413, errors=[f"The body is larger than {MAX_BODY} bytes."])
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            self._journal_failure(system, raw, f"Malformed JSON: {error.__class__.__name__}: {error}"[:500])
            return self._answer("malformed", 400, errors=["The body is not JSON."])
        try:
            errors = validate_order(data)
            if errors:
                self._journal_failure(system, raw, "; ".join(errors))
                return self._answer("malformed", 400, errors=errors)
            result = env["crm.exchange.website"]._receive_order(system, data)
        except Exception as error:  # noqa: BLE001 - an answer and a journal entry, never a 500
            _logger.warning("Website order: unexpected error", exc_info=True)
            self._journal_failure(system, raw, Log._format_error(error))
            return self._answer("error", 400, errors=["The order could not be processed."])
        if result.get("errors"):
            return self._answer("malformed", 400, errors=result["errors"], correlation_id=result["correlation_id"])
        return self._answer(result.pop("status"), 200, **result)

    @staticmethod
    def _authenticated(system):
        key = system.api_key or ""
        given = request.httprequest.headers.get("X-Api-Key") or ""
        return bool(key) and hmac.compare_digest(key.encode(), given.encode("utf-8", "surrogateescape"))

    @staticmethod
    def _count_rejected():
        count = REJECTED.hit()
        if count:
            _logger.info(
                "Website orders: %s request(s) rejected (bad or missing X-Api-Key), the last from %s",
                count,
                request.httprequest.remote_addr,
            )

    @staticmethod
    def _journal_failure(system, raw, error):
        """A failed delivery, whatever state the request's transaction is in (the failure is
        written on a cursor of its own)."""
        request.env.cr.rollback()
        request.env(su=True)["crm.exchange.log"]._journal(
            system, "in", "website_order", state="failed", request=raw.decode("utf-8", "replace"), error=error
        )
