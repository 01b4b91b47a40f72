"""Telegram Bot API client: ``sendMessage`` and ``sendDocument``.

Requests follow the Bot API reference: ``POST {api}/bot<token>/<method>``; answers are
``{"ok": true, "result": Message}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``."""

from .messenger_api import MessengerError, is_retryable_status, parse_retry_after, request

DEFAULT_API_URL = "https://api.telegram.org"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class TelegramBotClient:
    def __init__(self, api_url, token, timeout=20):
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method, **kwargs):
        response = request(
            "POST", f"{self.api_url}/bot{self.token}/{method}", [self.token], timeout=self.timeout, **kwargs
        )
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code == 200 and data.get("ok") is True and isinstance(data.get("result"), dict):
            return data["result"]
        status = data.get("error_code") if isinstance(data.get("error_code"), int) else response.status_code
        parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        retry_after = parameters.get("retry_after")
        if not isinstance(retry_after, int):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise MessengerError(
            str(data.get("description") or f"HTTP {response.status_code}")[:1000],
            status=response.status_code,
            code=status,
            retryable=is_retryable_status(status) or is_retryable_status(response.status_code),
            retry_after=retry_after,
        )

    def send_message(self, chat_id, text):
        """Returns the Telegram ``message_id``."""
        result = self._call("sendMessage", json={"chat_id": chat_id, "text": text[:TEXT_LIMIT]})
        return str(result.get("message_id") or "")

    def send_document(self, chat_id, filename, content, mimetype, caption=None):
        data = {"chat_id": str(chat_id)}
        if caption:
            data["caption"] = caption[:CAPTION_LIMIT]
        result = self._call("sendDocument", data=data, files={"document": (filename, content, mimetype)})
        return str(result.get("message_id") or "")
