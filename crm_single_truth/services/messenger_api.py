"""What the messenger clients share: one error type that says whether a retry can help, and the
rules for retrying (429 and 5xx with backoff, honouring Retry-After; any other 4xx is final)."""

import email.utils
import time

import requests

DEFAULT_TIMEOUT = 20
MAX_RETRY_AFTER = 3600


class MessengerError(Exception):
    """A request to a messenger API that failed.

    ``retryable``: a later attempt may succeed (rate limit, server error, network); ``retry_after``
    seconds to wait when the API said so; ``code``: the API's own error code (WhatsApp ``131047``,
    Telegram ``403``); ``status``: the HTTP status (0 without an answer); ``detail``: the API's
    description. The message never contains a token."""

    def __init__(self, detail, status=0, code=None, retryable=False, retry_after=None):
        # the journal reads the message: the API's code with its words
        super().__init__(f"{detail} [{code}]" if code not in (None, "") else detail)
        self.detail = detail
        self.status = status
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after


def parse_retry_after(value, now=None):
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), capped; ``None`` when
    absent or unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return min(int(text), MAX_RETRY_AFTER)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    now = now if now is not None else time.time()
    return max(0, min(int(moment.timestamp() - now), MAX_RETRY_AFTER))


def is_retryable_status(status):
    return status == 429 or status >= 500


def backoff_delay(attempt, retry_after=None, base=2, cap=300):
    """Seconds before retry number ``attempt`` (1 for the first retry): what the API asked for,
    else ``base`` doubled at each attempt, capped."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER)
    return min(base * 2 ** max(attempt - 1, 0), cap)


def scrub(text, secrets):
    """``text`` with every secret replaced (a Telegram token travels in the URL, and network
    errors of ``requests`` quote the URL)."""
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def request(method, url, secrets, timeout=DEFAULT_TIMEOUT, **kwargs):
    """``requests.request`` whose network errors become retryable :class:`MessengerError` without
    the secrets; redirects are not followed (an API answers, it does not send us elsewhere)."""
    try:
        return requests.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.RequestException as error:
        raise MessengerError(scrub(f"{error.__class__.__name__}: {error}", secrets), retryable=True) from None
