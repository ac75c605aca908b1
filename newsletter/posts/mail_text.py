"""The text of a post by email as its mail program meant it: its bodies and a message it
forwarded as an attachment, flowed lines joined again (RFC 3676), the files it carried
counted, and the first web link as written in text or HTML."""

from __future__ import annotations

import html as html_entities
import re
import struct

from newsletter import mailer
from newsletter.text import storable, web_url

# "<https://...>", which RFC 3986 appendix C lets wrap over lines, before a bare link.
# Bounded: a URL is at most 2,000 characters (web_url), and unbounded spaces backtrack.
_BRACKETED = re.compile(r"<[ \t\r\n]{0,8}(https?://[^<>]{1,2000}?)[ \t\r\n]{0,8}>", re.IGNORECASE)
_BARE = re.compile(r"https?://[^\s<>\"'\])«»]+", re.IGNORECASE)
_HREF = re.compile(r'href="(https?://[^"]+)"', re.IGNORECASE)
# What ends a sentence after a bare link rather than belonging to it, Latin and Arabic script.
_TRAILING = ".,;:!?،؛؟۔…"
# Parts that sign the message rather than being attached by its sender (RFC 8551, RFC 3156).
_SIGNATURES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
# Outlook's rich text (MS-OXTNEF): the files it carries are its attAttachRendData attributes.
_TNEF = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_TNEF_SIGNATURE, _TNEF_FILE = 0x223E9F78, 0x00069002
# Past this, HTML is not read: sanitising it grows faster than linearly with its size and
# nesting (see entries.py), so it is cut before it is cleaned, or converted.
HTML_MAX = 200_000


def bodies(message) -> tuple[str, str, str, int]:
    """The plain and HTML bodies; the text of a message forwarded as an attachment (RFC 2046
    5.2.1, Thunderbird's "Forward As Attachment"), whose words are the post as much as the
    sender's note; and how many files were attached and are dropped."""
    plain, html = _body(message, "plain"), _body(message, "html")
    read = [part for part in (plain, html) if part is not None]
    forwarded = next((p for p in message.walk() if p.get_content_type() == "message/rfc822"), None)
    payload = forwarded.get_payload() if forwarded is not None else None
    forwarded = payload[0] if isinstance(payload, list) and payload else None
    attached = ""
    if forwarded is not None:
        inner_plain, inner_html = _body(forwarded, "plain"), _body(forwarded, "html")
        read += [part for part in (inner_plain, inner_html) if part is not None]
        attached = content(inner_plain)
        markup = content(inner_html)
        if not attached and markup and len(markup) <= HTML_MAX:
            attached = mailer.html_to_text(markup, plain=True).strip()
    dropped = sum(
        _files(part)
        for part in message.walk()
        if not part.is_multipart() and all(part is not body for body in read)
    )
    return content(plain), content(html), attached, dropped


def _body(message, subtype: str):
    return message.get_body(preferencelist=(subtype,)) if hasattr(message, "get_body") else None


def content(part) -> str:
    """The part's text, as the database can keep it. Eight-bit text that names no charset
    (RFC 2045's default is ASCII) is read as UTF-8, which is what mail programs write."""
    if part is None:
        return ""
    payload = part.get_payload(decode=True) or b""
    if part.get_content_charset() in (None, "us-ascii") and not payload.isascii():
        return storable(payload.decode("utf-8", "replace"))
    try:
        text = storable(part.get_content())
    except (LookupError, ValueError):  # an unknown or lying charset, or a name with a NUL
        text = storable(payload.decode("utf-8", "replace"))
    if (part.get_param("format") or "").lower() == "flowed":
        return unflowed(text, (part.get_param("delsp") or "").lower() == "yes")
    return text


def _files(part) -> int:
    kind = part.get_content_type()
    if kind in _SIGNATURES:
        return 0
    if kind in _TNEF:
        return _tnef_files(part.get_payload(decode=True) or b"")
    return 1


def _tnef_files(stream: bytes) -> int:
    """The files in a TNEF stream: signature, key, then attributes (level, id, length, data,
    checksum). One, when it cannot be read: something was attached."""
    if len(stream) < 6 or struct.unpack_from("<I", stream)[0] != _TNEF_SIGNATURE:
        return 1
    files, at = 0, 6
    while at + 9 <= len(stream):
        _, ident, length = struct.unpack_from("<BII", stream, at)
        files += ident == _TNEF_FILE
        at += 9 + length + 2
    return files if at == len(stream) else max(files, 1)


def first_link(html: str, text: str) -> str:
    """The text's first web link, else the HTML's first href (as its entities mean it)."""
    href = _HREF.search(html)
    for found in (_text_link(text), html_entities.unescape(href.group(1)) if href else ""):
        url = web_url(found)
        if url:
            return url
    return ""


def _text_link(text: str) -> str:
    found = [m for m in (_BRACKETED.search(text), _BARE.search(text)) if m]
    if not found:
        return ""
    first = min(found, key=lambda match: match.start())
    if first.re is _BRACKETED:
        return "".join(first.group(1).split())
    return first.group(0).rstrip(_TRAILING)


def unflowed(text: str, delsp: bool) -> str:
    """format=flowed text with its soft line breaks joined (RFC 3676 4): a line ending in a
    space goes on in the next of the same quote depth; with delsp=yes that space was added
    by the program and goes; a leading space is stuffing. The signature line "-- " is fixed."""
    lines: list[str] = []
    pending: tuple[int, str] | None = None
    for line in text.split("\n"):
        line = line.rstrip("\r")
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        content = content[1:] if content.startswith(" ") else content
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if pending is not None and pending[0] == depth:
            content = pending[1] + content
        elif pending is not None:
            lines.append(_quoted(*pending))
        pending = (depth, content) if flowed else None
        if not flowed:
            lines.append(_quoted(depth, content))
    if pending is not None:
        lines.append(_quoted(*pending))
    return "\n".join(lines)


def _quoted(depth: int, content: str) -> str:
    return ">" * depth + " " + content if depth else content
