"""Local stand-ins for the outside APIs, on 127.0.0.1 and a free port. Each enforces what the real
service documents (request shape, authentication, limits, error codes) and answers the way it
does, so that the tests exercise our clients against the published contract, not against our
own assumptions:

- WhatsApp Cloud API (Meta Graph API ``/{version}/{phone-number-id}/messages`` and ``/media``):
  ``Authorization: Bearer``, ``messaging_product``, the 24-hour customer service window (131047),
  approved templates and their parameters (132001, 132000, 132012, 132018), throughput limits
  (HTTP 429, code 130429, Retry-After), status webhooks signed with the app secret;
- Telegram Bot API (``/bot<token>/sendMessage``, ``/sendDocument``): the token in the path, chats
  that never started the bot, users who blocked it, 429 with ``parameters.retry_after``;
- Zadarma API (``GET /v1/pbx/record/request/`` signed ``key:base64(hex(hmac-sha1))``) and Mango
  Office (``POST /vpbx/queries/recording/post`` signed ``sha256(key + json + salt)``, answered by a
  redirect to the file): the recordings.
"""

import base64
import hashlib
import hmac
import io
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import requests
from werkzeug.formparser import parse_form_data

WINDOW_SECONDS = 24 * 3600


class FakeServer:
    """A threaded HTTP server on 127.0.0.1:0 that records every request it received."""

    def __init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _dispatch(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = {
                    "method": method,
                    "path": parts.path,
                    "query": dict(parse_qsl(parts.query, keep_blank_values=True)),
                    "headers": {key.lower(): value for key, value in self.headers.items()},
                    "body": body,
                }
                with server.lock:
                    server.requests.append(request)
                status, headers, content = server.handle(request)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self):  # noqa: N802 - http.server's name
                self._dispatch("GET")

            def do_POST(self):  # noqa: N802
                self._dispatch("POST")

        self.lock = threading.Lock()
        self.requests = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def json(status, data, headers=None):
        return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(data).encode()

    @staticmethod
    def form(request):
        """Fields and files of a multipart/form-data or urlencoded body."""
        content_type = request["headers"].get("content-type", "")
        if content_type.startswith("multipart/form-data"):
            environ = {
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": content_type,
                "CONTENT_LENGTH": str(len(request["body"])),
                "wsgi.input": io.BytesIO(request["body"]),
            }
            _stream, form, uploads = parse_form_data(environ)
            files = {name: (item.filename, item.read(), item.mimetype) for name, item in uploads.items()}
            return dict(form.items()), files
        if content_type.startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(request["body"].decode(), keep_blank_values=True)), {}
        return {}, {}


# ---------------------------------------------------------------------- WhatsApp Cloud API
class FakeWhatsAppCloud(FakeServer):
    """Meta's Cloud API for one business phone number. ``customer_wrote(wa_id)`` opens the
    customer service window of a customer, as their message would."""

    def __init__(self, token, phone_number_id, app_secret=None, webhook_url=None):
        super().__init__()
        self.token = token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.webhook_url = webhook_url
        # name -> {language code -> {"body_params": n, "header": None | "document"}}
        self.templates = {}
        self.last_inbound = {}
        self.media = {}
        self.sent = []
        self.throttle_left = 0
        self.retry_after = 1
        self.errors_left = 0
        self.error_status = 500
        self.error_retry_after = None
        self.auto_statuses = ()
        self.webhook_answers = []

    # what the test arranges
    def customer_wrote(self, wa_id, at=None):
        self.last_inbound[wa_id.lstrip("+")] = at if at is not None else time.time()

    def approve_template(self, name, language, body_params=1, header=None):
        self.templates.setdefault(name, {})[language] = {"body_params": body_params, "header": header}

    def throttle(self, count, retry_after=1):
        self.throttle_left, self.retry_after = count, retry_after

    def fail(self, count, status=500, retry_after=None):
        """The next ``count`` requests fail: 500 (131000), or 503 (code 2, temporarily
        unavailable); ``retry_after``: the value of a ``Retry-After`` header (seconds or HTTP date)."""
        self.errors_left, self.error_status, self.error_retry_after = count, status, retry_after

    # Graph API answers
    def error(self, status, code, message, details=None, headers=None):
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": uuid.uuid4().hex[:12]}
        if details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        return self.json(status, {"error": error}, headers)

    def handle(self, request):
        match = re.fullmatch(r"/v\d+\.\d+/([^/]+)/(messages|media)", request["path"])
        if request["method"] != "POST" or not match:
            return self.error(400, 100, "Unsupported request - method type: get")
        if request["headers"].get("authorization") != f"Bearer {self.token}":
            return self.error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if match.group(1) != self.phone_number_id:
            return self.error(400, 100, f"Unsupported post request. Object with ID '{match.group(1)}' does not exist")
        if self.throttle_left:
            self.throttle_left -= 1
            return self.error(
                429,
                130429,
                "(#130429) Rate limit hit",
                "Cloud API message throughput has been reached.",
                {"Retry-After": str(self.retry_after)},
            )
        if self.errors_left:
            self.errors_left -= 1
            headers = {"Retry-After": str(self.error_retry_after)} if self.error_retry_after is not None else None
            if self.error_status == 503:
                return self.error(503, 2, "(#2) Service temporarily unavailable", headers=headers)
            return self.error(500, 131000, "(#131000) Something went wrong", "Something went wrong", headers)
        if match.group(2) == "media":
            return self.upload(request)
        return self.message(request)

    def upload(self, request):
        fields, files = self.form(request)
        if fields.get("messaging_product") != "whatsapp":
            return self.error(400, 100, "(#100) The parameter messaging_product is required.")
        if "file" not in files or not fields.get("type"):
            return self.error(400, 100, "(#100) The parameter file is required.")
        filename, content, mimetype = files["file"]
        if fields["type"] != mimetype or mimetype not in ("application/pdf", "text/plain", "image/png", "image/jpeg"):
            return self.error(400, 131053, "(#131053) Media upload error", f"Unsupported file type {mimetype}")
        media_id = str(10**15 + len(self.media))
        self.media[media_id] = (filename, content, mimetype)
        return self.json(200, {"id": media_id})

    def message(self, request):
        if not request["headers"].get("content-type", "").startswith("application/json"):
            return self.error(400, 100, "(#100) Invalid parameter")
        try:
            payload = json.loads(request["body"])
        except ValueError:
            return self.error(400, 100, "(#100) Invalid parameter")
        if payload.get("messaging_product") != "whatsapp":
            return self.error(400, 100, "(#100) The parameter messaging_product is required.")
        to = str(payload.get("to") or "").lstrip("+")
        if not to.isdigit():
            return self.error(400, 100, "(#100) Invalid parameter", "Parameter 'to' is not a phone number")
        kind = payload.get("type", "text")
        if kind == "template":
            problem = self.check_template(payload.get("template"))
        elif kind in ("text", "document"):
            problem = self.check_free_form(kind, payload.get(kind))
            if not problem and time.time() - self.last_inbound.get(to, 0) > WINDOW_SECONDS:
                problem = self.error(
                    400,
                    131047,
                    "(#131047) Re-engagement message",
                    "Message failed to send because more than 24 hours have passed since the customer last "
                    "replied to this number.",
                )
        else:
            problem = self.error(400, 131051, "(#131051) Unsupported message type")
        if problem:
            return problem
        wamid = "wamid." + base64.b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.sent.append({"id": wamid, "payload": payload})
        message = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        if self.auto_statuses:
            threading.Thread(target=self.report_statuses, args=(wamid, to, self.auto_statuses), daemon=True).start()
        return self.json(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": payload["to"], "wa_id": to}],
                "messages": [message],
            },
        )

    def check_free_form(self, kind, content):
        if not isinstance(content, dict):
            return self.error(400, 100, f"(#100) The parameter {kind} is required.")
        if kind == "text":
            body = content.get("body")
            if not isinstance(body, str) or not body.strip():
                return self.error(400, 100, "(#100) The parameter text['body'] is required.")
            if len(body) > 4096:
                return self.error(400, 100, "(#100) Param text['body'] must be at most 4096 characters long.")
            return None
        if content.get("id") not in self.media and not content.get("link"):
            return self.error(400, 131053, "(#131053) Media upload error", "Unknown media id")
        if len(content.get("caption") or "") > 1024:
            return self.error(400, 100, "(#100) Param document['caption'] must be at most 1024 characters long.")
        return None

    def check_template(self, template):
        if not isinstance(template, dict) or not isinstance(template.get("language"), dict):
            return self.error(400, 100, "(#100) The parameter template is required.")
        translations = self.templates.get(template.get("name"))
        spec = (translations or {}).get(template["language"].get("code"))
        if not spec:
            return self.error(
                404,
                132001,
                "(#132001) Template name does not exist in the translation",
                f"template name ({template.get('name')}) does not exist in {template['language'].get('code')}",
            )
        components = {c.get("type"): c for c in template.get("components") or [] if isinstance(c, dict)}
        body = [p for p in (components.get("body") or {}).get("parameters") or [] if isinstance(p, dict)]
        if len(body) != spec["body_params"]:
            return self.error(
                400,
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                f"body: number of localizable_params ({len(body)}) does not match the expected number of params "
                f"({spec['body_params']})",
            )
        for parameter in body:
            text = parameter.get("text")
            if parameter.get("type") != "text" or not isinstance(text, str):
                return self.error(
                    400, 132012, "(#132012) Parameter format does not match format in the created template"
                )
            if re.search(r"[\n\t]| {5,}", text):
                return self.error(
                    400,
                    132018,
                    "(#132018) There was an issue with the parameters in your template.",
                    "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
                )
        header = [p for p in (components.get("header") or {}).get("parameters") or [] if isinstance(p, dict)]
        if spec["header"] == "document":
            if (
                len(header) != 1
                or header[0].get("type") != "document"
                or ((header[0].get("document") or {}).get("id") not in self.media)
            ):
                return self.error(
                    400,
                    132012,
                    "(#132012) Parameter format does not match format in the created template",
                    "header: Format mismatch, expected DOCUMENT, received UNKNOWN",
                )
        elif header:
            return self.error(
                400, 132000, "(#132000) Number of parameters does not match the expected number of params"
            )
        return None

    # webhooks
    def status_notification(self, wamid, to, status, error=None):
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "77270000000", "phone_number_id": self.phone_number_id},
            "statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())), "recipient_id": to}],
        }
        if error:
            value["statuses"][0]["errors"] = [error]
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
        }

    def report_statuses(self, wamid, to, statuses):
        time.sleep(0.2)
        for status in statuses:
            raw = json.dumps(self.status_notification(wamid, to, status)).encode()
            signature = "sha256=" + hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()
            response = requests.post(
                self.webhook_url,
                data=raw,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
                timeout=30,
            )
            self.webhook_answers.append((status, response.status_code))


# ---------------------------------------------------------------------- Telegram Bot API
class FakeTelegramBot(FakeServer):
    """The Bot API for one bot. ``start(chat_id)`` is a user who started a conversation with the
    bot; ``block(chat_id)`` a user who then blocked it."""

    def __init__(self, token):
        super().__init__()
        self.token = token
        self.chats = set()
        self.blocked = set()
        self.sent = []
        self.throttle_left = 0
        self.retry_after = 1
        self.errors_left = 0

    def start(self, chat_id):
        self.chats.add(str(chat_id))

    def block(self, chat_id):
        self.blocked.add(str(chat_id))

    def throttle(self, count, retry_after=1):
        self.throttle_left, self.retry_after = count, retry_after

    def error(self, code, description, parameters=None):
        data = {"ok": False, "error_code": code, "description": description}
        if parameters:
            data["parameters"] = parameters
        return self.json(code, data)

    def handle(self, request):
        match = re.fullmatch(r"/bot([^/]+)/(\w+)", request["path"])
        if not match:
            return self.error(404, "Not Found")
        if match.group(1) != self.token:
            return self.error(401, "Unauthorized")
        method = match.group(2)
        if method not in ("sendMessage", "sendDocument"):
            return self.error(404, "Not Found: method not found")
        if self.throttle_left:
            self.throttle_left -= 1
            return self.error(
                429, f"Too Many Requests: retry after {self.retry_after}", {"retry_after": self.retry_after}
            )
        if self.errors_left:
            self.errors_left -= 1
            return self.error(502, "Bad Gateway")
        if request["headers"].get("content-type", "").startswith("application/json"):
            try:
                params, files = json.loads(request["body"] or b"{}"), {}
            except ValueError:
                return self.error(400, "Bad Request: can't parse JSON")
        else:
            params, files = self.form(request)
        return self.send(method, params, files)

    def check(self, method, params, files):
        """The Bot API's own checks of the parameters, in its words."""
        if not str(params.get("chat_id") or ""):
            return self.error(400, "Bad Request: chat_id is empty")
        if method == "sendMessage":
            text = params.get("text")
            if not isinstance(text, str) or not text.strip():
                return self.error(400, "Bad Request: message text is empty")
            if len(text) > 4096:
                return self.error(400, "Bad Request: message is too long")
        elif "document" not in files:
            return self.error(400, "Bad Request: there is no document in the request")
        elif len(params.get("caption") or "") > 1024:
            return self.error(400, "Bad Request: message caption is too long")
        return None

    def send(self, method, params, files):
        problem = self.check(method, params, files)
        if problem:
            return problem
        chat_id = str(params["chat_id"])
        if chat_id not in self.chats:
            return self.error(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            return self.error(403, "Forbidden: bot was blocked by the user")
        message_id = 1000 + len(self.sent)
        self.sent.append({"method": method, "params": params, "files": files})
        result = {
            "message_id": message_id,
            "from": {"id": 7000000001, "is_bot": True, "first_name": "CrmAI", "username": "crmai_bot"},
            "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id, "type": "private"},
            "date": int(time.time()),
        }
        if method == "sendMessage":
            result["text"] = params["text"]
        else:
            filename, content, mimetype = files["document"]
            result["document"] = {"file_name": filename, "mime_type": mimetype, "file_size": len(content)}
        return self.json(200, {"ok": True, "result": result})


# ---------------------------------------------------------------------- telephony recordings
AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x0f" + b"\xff\xfb\x90\x64" + bytes(2000)


class FakeZadarmaApi(FakeServer):
    """Zadarma's API for the recordings: ``GET /v1/pbx/record/request/`` authorised with
    ``Authorization: key:signature`` as Zadarma's PHP library signs it, answering a link on the
    same host; the link serves the audio."""

    def __init__(self, key, secret):
        super().__init__()
        self.key = key
        self.secret = secret
        self.recordings = {}
        self.link_host = None

    def add_recording(self, call_id, content=AUDIO, mimetype="audio/mpeg"):
        self.recordings[call_id] = (content, mimetype)

    def signature(self, method, params):
        query = "&".join(
            f"{requests.utils.quote(k, safe='')}={requests.utils.quote(v, safe='').replace('%20', '+')}"
            for k, v in sorted(params.items())
        )
        digest = hmac.new(
            self.secret.encode(), (method + query + hashlib.md5(query.encode()).hexdigest()).encode(), hashlib.sha1
        ).hexdigest()
        return base64.b64encode(digest.encode()).decode()

    def handle(self, request):
        if request["path"] == "/v1/pbx/record/request/":
            expected = f"{self.key}:{self.signature(request['path'], request['query'])}"
            if request["headers"].get("authorization") != expected:
                return self.json(401, {"status": "error", "message": "Not authorized"})
            call_id = request["query"].get("call_id")
            if call_id not in self.recordings:
                return self.json(404, {"status": "error", "message": "Record not found"})
            host = self.link_host or self.url
            return self.json(
                200,
                {
                    "status": "success",
                    "link": f"{host}/v1/pbx/record/download/{uuid.uuid4().hex}/{call_id}.mp3",
                    "lifetime_till": "2027-01-01 00:00:00",
                },
            )
        match = re.fullmatch(r"/v1/pbx/record/download/\w+/(.+)\.mp3", request["path"])
        if request["method"] == "GET" and match and match.group(1) in self.recordings:
            content, mimetype = self.recordings[match.group(1)]
            return 200, {"Content-Type": mimetype}, content
        return self.json(404, {"status": "error", "message": "Not found"})


class FakeMangoApi(FakeServer):
    """Mango Office's recording query: ``POST /vpbx/queries/recording/post`` with the PBX code,
    ``json`` and ``sign = sha256(code + json + salt)``, answered ``302 Found`` to a temporary file
    link that serves the audio once."""

    def __init__(self, api_key, salt):
        super().__init__()
        self.api_key = api_key
        self.salt = salt
        self.recordings = {}
        self.links = {}

    def add_recording(self, recording_id, content=AUDIO, mimetype="audio/mp3"):
        self.recordings[recording_id] = (content, mimetype)

    def handle(self, request):
        if request["path"] == "/vpbx/queries/recording/post" and request["method"] == "POST":
            fields, _files = self.form(request)
            text = fields.get("json") or ""
            sign = hashlib.sha256((self.api_key + text + self.salt).encode()).hexdigest()
            if fields.get("vpbx_api_key") != self.api_key or fields.get("sign") != sign:
                return self.json(401, {"result": 3101})
            try:
                data = json.loads(text)
            except ValueError:
                return self.json(400, {"result": 3103})
            if data.get("action") not in ("download", "play") or data.get("recording_id") not in self.recordings:
                return self.json(404, {"result": 3300})
            token = uuid.uuid4().hex
            self.links[token] = data["recording_id"]
            return 302, {"Location": f"{self.url}/files/{token}"}, b""
        match = re.fullmatch(r"/files/(\w+)", request["path"])
        if request["method"] == "GET" and match and match.group(1) in self.links:
            content, mimetype = self.recordings[self.links.pop(match.group(1))]
            return 200, {"Content-Type": mimetype}, content
        return self.json(404, {"result": 3300})
