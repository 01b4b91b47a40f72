"""WhatsApp Cloud API (Meta Graph API) client: text messages, template messages, documents.

Requests follow Meta's reference: ``POST {api}/{phone-number-id}/messages`` with
``Authorization: Bearer <token>`` and a JSON body whose ``messaging_product`` is ``whatsapp``;
documents are uploaded first (``POST {api}/{phone-number-id}/media``, multipart) and sent by
media id. Errors are Graph API error objects ``{"error": {"code", "message", "error_data":
{"details"}}}``."""

import re

from .messenger_api import MessengerError, is_retryable_status, parse_retry_after, request

DEFAULT_API_URL = "https://graph.facebook.com/v21.0"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TEMPLATE_PARAM_LIMIT = 1024
# throughput and pair rate limits: retry later even when answered with another status
RATE_LIMIT_CODES = {4, 80007, 130429, 131048, 131056}
TEMPORARY_CODES = {1, 2, 131000, 131016}
SERVICE_WINDOW_CODE = 131047


def template_text(body):
    """A template parameter cannot hold new lines, tabs or more than four spaces in a row
    (error 132018): the text as one line, cut to the parameter limit."""
    text = re.sub(r"\s*[\r\n\t]+\s*", " | ", (body or "").strip())
    text = re.sub(r" {4,}", "   ", text)
    return text[:TEMPLATE_PARAM_LIMIT]


def text_payload(to, body):
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": body[:TEXT_LIMIT]},
    }


def template_payload(to, name, language, body_params=(), document=None):
    """``document``: ``{"id", "filename"}`` of an uploaded media for a template whose header is a
    document."""
    components = []
    if document:
        components.append({"type": "header", "parameters": [{"type": "document", "document": document}]})
    if body_params:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": template_text(text)} for text in body_params]}
        )
    template = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": template,
    }


def document_payload(to, media_id, filename, caption=None):
    document = {"id": media_id, "filename": filename}
    if caption:
        document["caption"] = caption[:CAPTION_LIMIT]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "document",
        "document": document,
    }


class WhatsAppCloudClient:
    def __init__(self, api_url, token, phone_number_id, timeout=20):
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.token = token
        self.phone_number_id = phone_number_id
        self.timeout = timeout

    def _url(self, edge):
        return f"{self.api_url}/{self.phone_number_id}/{edge}"

    def _headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def _answer(self, response):
        try:
            data = response.json()
        except ValueError:
            data = {}
        if 200 <= response.status_code < 300 and isinstance(data, dict) and "error" not in data:
            return data
        error = data.get("error") if isinstance(data, dict) and isinstance(data.get("error"), dict) else {}
        code = error.get("code") if isinstance(error.get("code"), int) else None
        details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
        detail = details or error.get("message") or f"HTTP {response.status_code}"
        retryable = is_retryable_status(response.status_code) or code in RATE_LIMIT_CODES or code in TEMPORARY_CODES
        raise MessengerError(
            str(detail)[:1000],
            status=response.status_code,
            code=code,
            retryable=retryable,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def send(self, payload):
        """Send one message; returns the message id (``wamid...``)."""
        response = request(
            "POST", self._url("messages"), [self.token], timeout=self.timeout, json=payload, headers=self._headers()
        )
        data = self._answer(response)
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
            raise MessengerError("the answer names no message id", status=response.status_code)
        return str(messages[0].get("id") or "")

    def upload_media(self, filename, content, mimetype):
        """Upload a document; returns its media id."""
        response = request(
            "POST",
            self._url("media"),
            [self.token],
            timeout=self.timeout,
            headers=self._headers(),
            data={"messaging_product": "whatsapp", "type": mimetype},
            files={"file": (filename, content, mimetype)},
        )
        data = self._answer(response)
        if not data.get("id"):
            raise MessengerError("the answer names no media id", status=response.status_code)
        return str(data["id"])
