"""Secrets never reach the journal: passwords, tokens, API keys and Authorization headers are
masked in dicts and lists (recursively), in JSON text, in XML text and in HTTP header lines.
Whatever arrives is made storable: no NUL character, no lone surrogate, no unbounded nesting."""

import json
import re

MASK = "***"
# deeper structures are cut (an outside system's payload, not a data format, decides the depth)
MAX_DEPTH = 64
TOO_DEEP = "[...]"

SECRET_KEY = re.compile(
    r"(pass(word|wd)?|pwd|secret|token|api[-_ ]?key|apikey|authorization|auth|signature|credential|cookie|"
    r"session[-_]?id|private[-_]?key|client[-_]?secret|пароль|токен)",
    re.IGNORECASE,
)
# <ns:Password>...</ns:Password>, also <Token attr="x">...</Token>
_XML_ELEMENT = re.compile(
    r"(<(?P<tag>(?:[\w.-]+:)?[\w.-]*(?:pass(?:word|wd)?|secret|token|api[-_]?key|apikey|authorization|пароль)[\w.-]*)"
    r"(?:\s[^>]*)?>)(?P<value>[^<]*)(</(?P=tag)\s*>)",
    re.IGNORECASE,
)
# attribute="..."
_XML_ATTRIBUTE = re.compile(
    r"""(\s(?:[\w.-]+:)?[\w.-]*(?:pass(?:word|wd)?|secret|token|api[-_]?key|apikey)[\w.-]*\s*=\s*)(["'])[^"']*\2""",
    re.IGNORECASE,
)
# "Authorization: Basic xxx", "X-Api-Key: xxx" header lines; "Bearer xxx"
_HEADER_LINE = re.compile(
    r"^(?P<name>[ \t]*(?:authorization|proxy-authorization|x-api-key|api-key|x-auth-token|cookie|"
    r"x-telegram-bot-api-secret-token|x-hub-signature-256)[ \t]*:[ \t]*).*$",
    re.IGNORECASE | re.MULTILINE,
)
_BEARER = re.compile(r"\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)
# key=value in query strings and form bodies
_QUERY = re.compile(
    r"(?P<key>[?&;]?\b(?:pass(?:word|wd)?|secret|token|api[-_]?key|apikey|access_token|signature)=)(?![\"'])[^&;\s\"'<]*",
    re.IGNORECASE,
)
# a word that each of the five patterns above needs: a text without any is stored as it is (one scan
# of the lowered text instead of five case-insensitive ones, for the 1C objects that never carry a
# secret); the letters that IGNORECASE equates with one of these words' letters but lower() does not
# are folded first
_MAYBE_SECRET = re.compile(
    r"pass|secret|token|api[-_]?key|apikey|authorization|пароль|cookie|signature|bearer|basic|digest"
)
_ODD_LETTERS = re.compile("[\u0130\u0131\u017f\u1c82]")
_FOLD_ODD_LETTERS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u1c82": "о"})


def _may_hold_secret(text):
    if _ODD_LETTERS.search(text):
        text = text.translate(_FOLD_ODD_LETTERS)
    return _MAYBE_SECRET.search(text.lower()) is not None


def is_secret_key(key):
    return isinstance(key, str) and bool(SECRET_KEY.search(key))


def mask_secrets(value, depth=0):
    """A copy of ``value`` (dict, list, str, bytes or scalar) with every secret replaced by ***;
    containers nested deeper than ``MAX_DEPTH`` are replaced by ``[...]``."""
    if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {
            key: (MASK if is_secret_key(key) and item not in (None, "", False) else mask_secrets(item, depth + 1))
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_secrets(item, depth + 1) for item in value]
    if isinstance(value, bytes):
        value = value.decode("utf-8-sig", errors="replace")
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_text(text):
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):
            data = None  # not JSON after all (or nested beyond reason): masked as text below
        else:
            return json.dumps(mask_secrets(data), ensure_ascii=False, indent=1)
    return _mask_patterns(text) if _may_hold_secret(text) else text


def _mask_patterns(text):
    text = _XML_ELEMENT.sub(lambda match: f"{match.group(1)}{MASK}{match.group(4)}", text)
    text = _XML_ATTRIBUTE.sub(lambda match: f"{match.group(1)}{match.group(2)}{MASK}{match.group(2)}", text)
    text = _HEADER_LINE.sub(lambda match: f"{match.group('name')}{MASK}", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)} {MASK}", text)
    return _QUERY.sub(lambda match: f"{match.group('key')}{MASK}", text)


def storable(text):
    """``text`` as PostgreSQL stores it: NUL characters and lone surrogates (which JSON allows
    and a UTF-8 column refuses) written as escapes."""
    if not isinstance(text, str):
        return text
    text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def to_text(value):
    """Payload as text for the journal, secrets masked."""
    if value is None or value is False:
        return False
    masked = mask_secrets(value)
    if isinstance(masked, (dict, list)):
        masked = json.dumps(masked, ensure_ascii=False, indent=1, default=str)
    return storable(str(masked))
