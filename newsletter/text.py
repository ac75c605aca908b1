"""Cleaning text that arrives from forms, feeds and the API."""

import html
import re
import unicodedata

import nh3

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


def strip_html(value: str, max_length: int | None = None) -> str:
    """Plain text from feed HTML: tags removed, entities decoded, whitespace and control
    characters made single spaces."""
    text = html.unescape(nh3.clean(value or "", tags=set()))
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    if max_length and len(text) > max_length:
        text = text[: max_length - 1].rsplit(" ", 1)[0] + "…"
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


def web_url(value: str) -> str | None:
    """The URL if it is http(s) and one line, else None (no javascript: links in mail)."""
    value = (value or "").strip()
    if has_line_break(value) or len(value) > 2000:
        return None
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.IGNORECASE):
        return None
    return value
