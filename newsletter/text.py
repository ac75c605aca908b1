"""Cleaning text that arrives from forms, feeds and the API."""

import html
import re
import unicodedata
from urllib.parse import quote, urlsplit

import nh3

# Arabic's yeh (and alef maksura) and kaf, which Persian is often typed with (a keyboard's
# or Windows-1256's choice), and the Persian letters they stand for.
PERSIAN_FOR_ARABIC = {"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"}

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_SPACES = re.compile(r"\s+")
_RTL_BIDI = {"R", "AL"}


_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value: str) -> str:
    """The text with no NUL, which PostgreSQL keeps in no text field, and no half of a
    surrogate pair, which no encoding holds (U+FFFD in its place)."""
    return _SURROGATE.sub("\ufffd", value.replace("\0", ""))


# What XML 1.0 may not carry (its Char production), which a feed reader refuses the whole
# feed over: control characters older posts may hold, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(document: str) -> str:
    return _NOT_XML.sub("", document)


def single_line(value: str, max_length: int) -> str:
    """One line of plain text: control characters (CR/LF among them) become spaces."""
    value = _SPACES.sub(" ", _CONTROL.sub(" ", value or "")).strip()
    return value[:max_length]


def has_line_break(value: str) -> bool:
    return bool(_CONTROL.search(value or ""))


# Where a line or a block starts or ends: a space there, or its words ran into the next
# ("IranA pharmacy in Tehran" of Medium's paragraphs, Telegram's lines).
_BREAK = re.compile(
    r"<(?=/?(?:br|p|div|h[1-6]|li|ul|ol|dd|dt|tr|td|th|blockquote|figcaption|figure|section"
    r"|article|header|footer|pre|hr)\b)",
    re.IGNORECASE,
)


def strip_html(value: str, max_length: int | None = None) -> str:
    """Plain text from feed HTML: tags removed (a space where a line or block breaks),
    entities decoded, whitespace and control characters made single spaces."""
    text = html.unescape(nh3.clean(_BREAK.sub(" <", value or ""), tags=set()))
    return cut(_SPACES.sub(" ", _CONTROL.sub(" ", text)).strip(), max_length)


def cut(text: str, max_length: int | None) -> str:
    """The text, or as much as fits before a space and an ellipsis."""
    if max_length and len(text) > max_length:
        text = text[: max_length - 1].rsplit(" ", 1)[0].rstrip() + "…"
    return text


def direction(value: str) -> str:
    """'rtl' when the first strongly directional letter is right-to-left, else 'ltr'."""
    for char in value or "":
        bidi = unicodedata.bidirectional(char)
        if bidi in _RTL_BIDI:
            return "rtl"
        if bidi == "L":
            return "ltr"
    return "ltr"


# What mail programs put before a subject they forward or answer: "Fwd:", "Fw:", "Re:" and
# their other languages' forms, repeated or numbered ("Re[2]:"), after a gateway's tag
# ("[External] Fwd:") and right-to-left programs' bidi marks.
SUBJECT_PREFIXES = re.compile(
    r"^[\s\u200e\u200f\u202a-\u202e\u2066-\u2069]*(?:\[[^\]\n]{1,20}\]\s*)?"
    r"(?:(?:fwd?|re|aw|wg|tr|rv|sv|vs|antw|enc|i̇lt|ilt|ارسال|باز ?ارسال|پاسخ|رد|إعادة توجيه"
    r"|转发|回复|轉寄|回覆)[\u200e\u200f]*\s*(?:\[\d+\]\s*)?[:：]\s*)+",
    re.IGNORECASE,
)
_WEB_URL = re.compile(r"(https?://)([^\s/$.?#][^\s/?#]*)([/?#].*)?", re.IGNORECASE | re.DOTALL)
# What a browser percent-encodes after the host (WHATWG URL's path set): a space among
# them, which some sites' feeds carry as it is in their links.
_URL_UNSAFE = re.compile(r'[\s"<>`{}]')


def web_url(value: str) -> str | None:
    """The URL if it is http(s), one line, with a host and a possible port, else None (no
    javascript: links in mail); after the host, spaces and the like percent-encoded."""
    value = (value or "").strip()
    if len(value) > 2000 or has_line_break(value):
        return None
    found = _WEB_URL.fullmatch(value)
    if not found:
        return None
    after = _URL_UNSAFE.sub(lambda unsafe: quote(unsafe[0], safe=""), found[3] or "")
    url = found[1] + found[2] + after
    return url if len(url) <= 2000 and _port_ok(url) else None


def _port_ok(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018 - raises for a port past 65535, or not a number
    except ValueError:
        return False
    return True
