"""Downloading a call recording from the telephony provider: only from the provider's own hosts
(a webhook cannot make the server fetch an address of its choosing), never more than a size cap,
and only audio."""

from urllib.parse import urljoin, urlsplit

from .messenger_api import request

MAX_REDIRECTS = 3
AUDIO_TYPES = ("audio/", "application/octet-stream", "binary/octet-stream")


class RecordingError(Exception):
    """The recording could not be fetched; ``retryable`` when a later attempt may succeed."""

    def __init__(self, message, retryable=False):
        super().__init__(message)
        self.retryable = retryable


def host_allowed(url, hosts):
    """``url`` is http(s) on one of ``hosts`` (``example.com`` matches itself, ``.example.com``
    any of its subdomains)."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        return False
    for allowed in hosts:
        allowed = (allowed or "").strip().lower()
        if not allowed:
            continue
        if allowed.startswith("."):
            if host.endswith(allowed):
                return True
        elif host == allowed:
            return True
    return False


def host_of(url):
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def _read_capped(response, max_bytes):
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise RecordingError(f"the recording is larger than {max_bytes} bytes")
    content = bytearray()
    for chunk in response.iter_content(64 * 1024):
        content += chunk
        if len(content) > max_bytes:
            raise RecordingError(f"the recording is larger than {max_bytes} bytes")
    return bytes(content)


def download(url, hosts, max_bytes, timeout=60, response=None, secrets=()):
    """The audio at ``url`` (or behind ``response``, a redirect already received), following up to
    three redirects that stay on ``hosts``. Returns ``(content, mimetype, filename)``."""
    for _hop in range(MAX_REDIRECTS + 1):
        if response is None:
            if not host_allowed(url, hosts):
                raise RecordingError(f"the recording is not on the provider's host ({host_of(url) or url!r})")
            try:
                response = request("GET", url, list(secrets), timeout=timeout, stream=True)
            except Exception as error:  # noqa: BLE001 - MessengerError: network failure, retried later
                raise RecordingError(str(error), retryable=True) from None
        try:
            if response.status_code in (301, 302, 303, 307, 308):
                url = urljoin(url or "", response.headers.get("Location") or "")
                response.close()
                response = None
                continue
            if response.status_code == 429 or response.status_code >= 500:
                raise RecordingError(f"the provider answered HTTP {response.status_code}", retryable=True)
            if response.status_code != 200:
                raise RecordingError(f"the provider answered HTTP {response.status_code}")
            mimetype = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if not mimetype.startswith(AUDIO_TYPES):
                raise RecordingError(f"the provider sent {mimetype or 'no content type'}, not audio")
            content = _read_capped(response, max_bytes)
            filename = (urlsplit(url or "").path.rsplit("/", 1)[-1] or "recording")[:128]
            return content, mimetype, filename
        finally:
            if response is not None:
                response.close()
    raise RecordingError("too many redirects")
