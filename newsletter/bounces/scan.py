"""A returned message's parts, decoded, and what the readers of its evidence share.

Real servers write bounces in a few dozen shapes. Three carry most of them: RFC 3464
delivery-status fields (dsn.py); a human-readable part where each failed address stands on
a line of its own with the remote server's words after it (text_part.py); and provider
notices such as Amazon SES's JSON (ses.py). Here: the parts of the bounce itself, their
text in any charset, the quoted original found and cut off (everything before it is the
bounce's own words), and the addresses that are ours, never a recipient's.
"""

from __future__ import annotations

import base64
import codecs
import functools
import html
import quopri
import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, message_from_string
from email.header import decode_header
from email.message import Message
from email.parser import HeaderParser
from email.policy import Compat32
from email.utils import getaddresses

from newsletter.addresses import ascii_domain

# Not led by an apostrophe or a backtick: text quotes addresses in them ("addressed to
# 'reader@...'", Mailman's "from your address `news@...'").
ADDRESS = re.compile(
    r"(?<![\w.+\-=/@])(?!['`])"
    # a top-level domain begins with a letter, of any script (.ایران, .рф)
    r"([\w.!#$%&'*+/=?^`{|}~-]{1,64}@(?:[\w-]{1,63}\.)+[^\W\d_][\w-]{1,62})",
    re.UNICODE,
)
# Not an IPv4 address: [5.1.1.20] is a host, not "bad destination mailbox".
STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
FAILURE_STATUS = re.compile(r"(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
# A status right after a reply code is the remote server's own ("550 5.7.1", "550-'5.7.1");
# a status standing alone may be the reporting server's summary of it.
REPLIED_STATUS = re.compile(r"(?<![\d.])[45]\d\d[ -]'?([45])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)")
REPLY = re.compile(r"(?<![\d.\-])([245][0-5]\d)(?:[ \-]|$)(?![\d.]*%)", re.M)

# Where the quoted original begins in a bounce's text.
# Linear on any text: the indent stays on its line, and the rule (possessive) is taken whole
# before the words after it are tried ("\s*" and ".*" went back over every split).
ORIGINAL_STARTS = re.compile(
    r"^[ \t]*(?:[-=_*>|]{2,}+[^\n]*?)?(?:"
    r"original message|below this line is a copy|copy of (?:the|your) message|"
    r"returned message|undelivered message|unsent message|message headers? follows?|"
    r"headers? of (?:the|your) (?:original )?message|original message headers|"
    r"this is a copy|message text follows|the original message was (?!received)|"
    r"content-type: message/rfc822|content-type: text/rfc822-headers|"
    r"original mail header|your message reads|included is (?:your original|a copy of)|"
    r"rfc822 headers? of|the headers of the original|"
    # SpamCop's report ("[ Offending message ]", "Offending message:" in its older one)
    r"\[ ?offending message ?\]|offending message:|"
    # the same in the languages mail programs and servers write it in (Outlook's
    # "-----Ursprüngliche Nachricht-----", "-----Message d'origine-----"...)
    r"urspr(?:ü|ue)ngliche nachricht|kopie der nachricht|message d.origine|copie du message|"
    r"mensaje original|copia del mensaje|messaggio originale|copia del messaggio|"
    r"исходное сообщение|копия сообщения|پیام اصلی|رونوشت پیام|الرسالة الأصلية"
    r")",
    re.I | re.M,
)
# Exim's note under its marker when it returns only the start of a long message ("------ The
# body of the message is 5384741 characters long; only the first\n------ 106496 or so are
# included here."): the headers come after it.
EXIM_TRUNCATED = re.compile(r"\A(?:\n*------ [^\n]*)+")
HEADER_LINE = re.compile(
    r"^(?:received|return-path|message-id|dkim-signature|x-[\w-]+|mime-version|"
    r"content-type|from|to|subject|date|reply-to|sender):[ \t]",
    re.I,
)
# Daemons, and return paths that name a delivery (VERP): never a subscriber's address.
NOT_SUBSCRIBERS = re.compile(
    r"^(?:mailer-daemon|mail-daemon|daemon|noreply|no-reply)@|^bounces?[+=]|"
    # mailing list managers' own addresses, which their notices name
    r"^owner-|^[^@]*-(?:owner|request|confirm)[@-]|^(?:listmaster|sympa|mailman|majordomo)@",
    re.I,
)

# Exchange Online writes its reports from "MicrosoftExchange" and the tenant's hash.
DAEMON = re.compile(
    r"(?i)mailer-daemon|post_?master|mail delivery (?:system|subsystem)|\bmdaemon@|"
    r"\bmicrosoftexchange[0-9a-f]{32}@"
)
# A bounce of one of our messages names one recipient (the corpus's most is 7): a report or
# words that name more than this many addresses are no such bounce, and blame nobody (a
# forged report could otherwise stop mail to thousands at once). A real line is
# short (the corpus's longest twelve lines, which the words after an address are read
# over, are 2,688 characters). Both bound what a hostile message costs: a thousand
# addresses on one line took 4.5 s, and were read as a thousand failures.
MOST_NAMED = 100
# A report of one of our messages names one recipient, and one naming more than MOST_NAMED
# blames none: blocks of fields past this many change nothing but the cost.
MOST_BLOCKS = 4 * MOST_NAMED
LONGEST_LINE = 10_000


@dataclass
class Evidence:
    address: str
    status: str = ""
    reply: str = ""
    action: str = ""
    diagnostic: str = ""
    # RFC 3464's diagnostic-type: "smtp" for a remote server's reply, "x-unix" for a local
    # delivery program's output.
    source: str = ""
    # What the reporting MTA itself filed the failure under (PowerMTA's bounce category,
    # Amazon SES's bounceSubType).
    category: str = ""
    # Where the address was routed to (an alias, a forwarding or routing address), when the
    # report names that apart from the address as sent: the same recipient.
    routed: str = ""
    # The server that refused (RFC 3464's Remote-MTA): a provider hosts other domains' mail.
    remote: str = ""


_SURROGATE = re.compile("[\udc80-\udcff]")  # raw bytes the parser kept as surrogates


# The longest header value read (a long References or X-Failed-Recipients is a few KB).
MAX_HEADER = 8192


class _Readable(Compat32):
    """compat32, whose headers are always text. Raw 8-bit bytes in a header (UTF-8 by RFC
    6532 and 6533, in a global DSN's fields or a server's reply) otherwise come back as a
    Header object, on which every string method fails: one such field lost the whole
    report."""

    def header_source_parse(self, sourcelines):
        # A header's value cut at MAX_HEADER: the email package's own readers of a value
        # (RFC 2047 words, address lists, parameters) take seconds to minutes on one of
        # 100 KB built against them, and anyone can mail the bounce address.
        name, value = super().header_source_parse(sourcelines)
        return name, value[:MAX_HEADER]

    def header_fetch_parse(self, name, value):
        # The parser keeps raw bytes as surrogates: read them as UTF-8.
        if isinstance(value, str) and not value.isascii() and _SURROGATE.search(value):
            return value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
        return value


# Every message here is parsed with it, so every header comes out as text.
READABLE = _Readable()


# RFC 2047 words are read in a value's first characters only: the email package's reader
# of them takes time with the square of the length (40 ms for 8 KB of words never closed,
# again for each field read), and no bounce's display name or address list is longer.
MOST_DECODED = 2048


def decoded(value) -> str:
    """A header as text: its RFC 2047 words decoded (raw bytes are READABLE's to read)."""
    if isinstance(value, str):  # a Header object is no key of a cache
        return _remembered_words(value[:MOST_DECODED])
    return _words(value)


def _words(value) -> str:
    try:
        chunks = decode_header(value)
    except Exception:  # a header in no known charset still says something in ASCII
        return str(value)
    text = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            text.append(chunk)
            continue
        if charset is None and isinstance(value, str):
            # beside an encoded word, the text as it was, made bytes by decode_header in
            # raw-unicode-escape: "josé" read as UTF-8 was "jos\ufffd"
            text.append(chunk.decode("raw-unicode-escape", "replace"))
            continue
        charset = "utf-8" if charset in (None, "unknown-8bit") else charset
        try:
            text.append(chunk.decode(charset, "replace"))
        except (LookupError, ValueError):
            text.append(chunk.decode("utf-8", "replace"))
    return _unlabelled_jis("".join(text))


# A report's fields are read by several of its readers: each value decoded once.
_remembered_words = functools.lru_cache(maxsize=4096)(_words)


def _unlabelled_jis(text: str) -> str:
    """ISO-2022-JP is 7-bit, so Japanese MTAs put it raw in header and DSN fields, with no
    charset said; its escape sequences give it away."""
    if "\x1b$" not in text:
        return text
    return text.encode("latin-1", "replace").decode("iso-2022-jp", "replace")


# A field a message has once or a few times (Received aside, which is not read here): a
# thousand From fields of RFC 2047 words took seconds.
MOST_VALUES = 50


def listed(values: list[str]) -> list[str]:
    """The addresses address fields name, each field read alone and cut as `decoded` cuts
    it: joined, a group spread over fifty fields took the email package 53 s, and nested
    comments or groups exhaust its recursion."""
    found = []
    for value in values[:MOST_VALUES]:
        try:
            found += [a for _, a in getaddresses([str(value)[:MOST_DECODED]]) if a]
        except RecursionError:
            continue
    return found


def addressed(msg: Message, *names: str) -> set[str]:
    """The addresses the fields name, their addr-specs only: a display name, once its encoded
    words are decoded, may hold someone else's address ("Ali (ali.old@example.com)")."""
    found: set[str] = set()
    for name in names:
        for value in msg.get_all(name, [])[:MOST_VALUES]:
            specs = [a for a in listed([str(value)]) if "@" in a]
            # a field the parser cannot take apart is read for its addresses as words
            found |= {decoded(a).lower() for a in specs} or addresses_in([decoded(value)])
    return found


def headers(msg: Message, name: str) -> list[str]:
    return [decoded(v) for v in msg.get_all(name, [])[:MOST_VALUES]]


def header_text(msg: Message, name: str) -> str:
    return " ".join(" ".join(headers(msg, name)).split())


# Per message, its parts walked and their texts decoded once: each reader of a bounce
# would otherwise do it again.
_WALKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TEXTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def text_of(part: Message) -> str:
    """A part's text, decoded once: several readers of a bounce look at the same parts."""
    text = _TEXTS.get(part)
    if text is None:
        text = _TEXTS[part] = _decoded_text(part)
    return text


def payload_bytes(part: Message) -> bytes | None:
    """A leaf part's content decoded: spaces after its transfer encoding's name (some
    Chinese servers' base64) left the email package decoding nothing."""
    encoding = part.get("Content-Transfer-Encoding")
    if encoding is not None and str(encoding) != str(encoding).strip():
        part.replace_header("Content-Transfer-Encoding", str(encoding).strip())
    return part.get_payload(decode=True)


def _decoded_text(part: Message) -> str:
    payload = payload_bytes(part)
    if payload is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset()
    if charset is None:  # undeclared: old Japanese servers write ISO-2022-JP without saying so
        charset = "iso-2022-jp" if b"\x1b$B" in payload else "utf-8"
    text = _in_charset(payload, charset)
    if part.get_content_type() == "text/html":
        text = _without_scripts(text)
        text = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h\d)>", "\n", text)
        # A tag holds no "<": read so, a run of "<" with no ">" is read once, not once for
        # each (100 KB of them took 2.7 s).
        text = html.unescape(re.sub(r"<[^<>]+>", " ", text))
    return text


# Labels an MTA puts on its template's text whatever it holds: non-ASCII bytes under them
# that are valid UTF-8 are UTF-8 (a Persian notice labelled us-ascii lost every word).
_OFTEN_MISLABELLED = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso-8859-1", "latin1", "latin-1"}
_OFTEN_MISLABELLED |= {"windows-1252", "cp1252"}


# Python's codecs that no mail's text is in, and slow on text built against them (the
# punycode codec took 6.6 s on 250 KB): read as UTF-8.
_NOT_MAIL_CHARSETS = {"punycode", "idna", "unicode_escape", "raw_unicode_escape", "undefined"}


def _in_charset(payload: bytes, charset: str) -> str:
    """The bytes in their declared charset, or in UTF-8 where that is what they are."""
    try:  # as the codec machinery reads a name: "punycode_" is punycode
        known = codecs.lookup(charset).name
    except (LookupError, ValueError):
        known = ""
    if known.replace("-", "_") in _NOT_MAIL_CHARSETS:
        charset = "utf-8"
    if not payload.isascii() and charset in _OFTEN_MISLABELLED:
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return payload.decode(charset)
    except UnicodeDecodeError:  # wrongly labelled: UTF-8 if it is that, else what can be read
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode(charset, "replace")
    except (LookupError, ValueError):  # a charset no codec has, or a name with a NUL in it
        return payload.decode("utf-8", "replace")


_SCRIPT_OPENS = re.compile(r"<(script|style)", re.I)
_SCRIPT_ENDS = {name: re.compile(rf"</{name}>", re.I) for name in ("script", "style")}


def _without_scripts(html_text: str) -> str:
    """The HTML with each script and style, from its tag to its end tag, left out. A tag
    that is never closed stays, as do the later ones of its name: each is looked for once
    (a pattern from each tag to the end tag took 7.7 s over 20,000 unclosed tags)."""
    kept, at, start, unclosed = [], 0, 0, set()
    while opened := _SCRIPT_OPENS.search(html_text, start):
        name = opened.group(1).lower()
        closed = None if name in unclosed else _SCRIPT_ENDS[name].search(html_text, opened.end())
        if closed is None:
            unclosed.add(name)
            start = opened.end()
            continue
        kept += [html_text[at : opened.start()], " "]
        at = start = closed.end()
    kept.append(html_text[at:])
    return "".join(kept)


STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")


def bounce_parts(msg: Message) -> list[tuple[Message, str]]:
    """Every part of the bounce itself, not the parts of the message it quotes, each with
    its content type."""
    kept = _WALKED.get(msg)
    if kept is None:
        walked = list(_walk(msg))
        # Kept without the message itself, which comes first: a weak key that its own value
        # holds is never let go (a bounce server kept every message it read, 12 KB each).
        _WALKED[msg] = walked[0][1], walked[1:]
        return walked
    kind, rest = kept
    return [(msg, kind), *rest]


# Multiparts whose boundary never comes, read again as text: real mail has one, if any.
MOST_REPAIRS = 3


def _walk(msg: Message):
    # Depth first, in order: what comes next is taken from the stack's end (taken from its
    # start, each part would move all the others: a status part of 260,000 blocks, minutes).
    stack = [msg]
    repairs = 0  # each re-reads what follows: nested without end, the whole again per level
    while stack:
        part = stack.pop()
        _mend_content_type(part)
        kind = part.get_content_type()
        yield part, kind
        # A quoted message's parts are not the bounce's; a status part's blocks of fields
        # are read by dsn.fields alone (walked, 80,000 blocks were each read as text).
        if kind in ("message/rfc822", *STATUS_TYPES):
            continue
        if part.is_multipart():
            stack += reversed(inner_parts(part))
        elif part.get_content_maintype() == "multipart" and repairs < MOST_REPAIRS:
            repairs += 1
            stack.append(_as_text(text_of(part)))  # its boundary is wrong: read it as text


def transfer_encoding(part: Message) -> str:
    return (part.get("Content-Transfer-Encoding") or "").strip().lower()


def blocks_decoded(part: Message) -> str | None:
    """The text of a status, feedback or message part sent in base64 or quoted-printable,
    which the email package parses as if sent as is; None for one sent as is.

    In base64 (NetEase's loop, some gateways) it takes the text for blocks with no fields
    and the base64 for their bodies: as much of it as can be read is (cut short, its
    padding is wrong). In quoted-printable (Sendmail's 8-bit to 7-bit conversion of an
    SMTPUTF8 report) a soft line break inside a field starts a field of the rest's name,
    and an address's UTF-8 stays escaped: the fields are written out again as they came
    and decoded."""
    blocks = inner_parts(part)
    encoding = transfer_encoding(part)
    if encoding == "base64" and blocks and not blocks[0].keys():
        encoded = "".join(str(b.get_payload()) for b in blocks)
        usable = re.sub(r"[^A-Za-z0-9+/]", "", encoded)
        usable = usable[: len(usable) - len(usable) % 4]
        return base64.b64decode(usable).decode("utf-8", "replace")
    if encoding == "quoted-printable" and not any(b.is_multipart() for b in blocks):
        raw = written(blocks).encode("utf-8")
        return quopri.decodestring(raw).decode("utf-8", "replace")
    return None


def written(blocks: list[Message]) -> str:
    """Blocks of fields as they came, each field's lines and any text after them; UTF-8 in
    them (RFC 6533) read as such."""
    raw = b"\n".join(
        "".join(f"{name}: {value}\n" for name, value in b.raw_items()).encode(
            "utf-8", "surrogateescape"
        )
        + (b.get_payload(decode=True) or b"")  # asked for text, its bytes read as ASCII
        for b in blocks
    )
    return raw.decode("utf-8", "replace")


def inner_parts(part: Message) -> list[Message]:
    """What a part holds: a multipart's parts, a message/rfc822's message, a status part's
    blocks; nothing for a leaf, whose payload is not asked for: asked, raw bytes in it are
    decoded by whatever charset the part names, and a name with a NUL in it raises."""
    payload = part.get_payload() if part.is_multipart() else []
    return [p for p in payload if isinstance(p, Message)]


def _mend_content_type(part: Message) -> None:
    """'text/plain' and its parameters with the ';' between them left out (RFC 2045 needs
    it): the type is still the first word."""
    value = part.get("Content-Type")
    if isinstance(value, str):
        mended = re.sub(r"^(\s*[\w.+-]+/[\w.+-]+)\s+(?=[\w-]+\s*=)", r"\1; ", value)
        if mended != value:
            part.replace_header("Content-Type", mended)


def _as_text(body: str) -> Message:
    """A multipart body whose declared boundary never comes, as the parts it really has."""
    # A part's header block is a few lines: looked for further, a body of header-like lines
    # was walked again from each (a minute for 1 MB).
    found = re.search(
        r"(?m)^--([^\s]{4,})[ \t]*\n(?=(?:[\w-]+:.*\n){0,30}?content-type:)", body, re.I
    )
    if found:
        boundary = found.group(1)
        fixed = f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n{body}'
        repaired = message_from_string(fixed, policy=READABLE)
        if isinstance(repaired.get_payload(), list):
            return repaired
    part = Message()
    part.set_type("text/plain")
    part.set_payload(body)
    return part


# Exim writes a UTF-8 address's bytes as octal escapes ("ali@\\331\\276...") in its fields
OCTAL = re.compile(r"(?:\\[23][0-7]{2}){2,}")  # bytes 0x80-0xff: UTF-8's, two or more


def unescaped(value: str) -> str:
    def utf8(run: re.Match) -> str:
        data = bytes(int(code, 8) for code in run.group(0).split("\\")[1:])
        return data.decode("utf-8", "replace")

    return OCTAL.sub(utf8, value)


def human_text(msg: Message) -> str:
    """The bounce's own words: its text parts, cut where the quoted original begins."""
    texts = []
    plain = [part for part, kind in bounce_parts(msg) if kind == "text/plain"]
    parts = plain or [part for part, kind in bounce_parts(msg) if kind == "text/html"]
    for part in parts:
        if part.get("Content-Disposition", "").lower().startswith("attachment") and texts:
            continue
        texts.append(cut_original(text_of(part)))
    return unescaped("\n".join(texts)[:20000])


def cut_original(text: str) -> str:
    text = text.replace("\r\n", "\n")
    match = ORIGINAL_STARTS.search(text)
    if match:
        text = text[: match.start()]
    lines = text.split("\n")
    start = _header_block(lines)
    return text if start is None else "\n".join(lines[:start])


def _header_block(lines: list[str]) -> int | None:
    """Where a header block of the original begins that no separator we know announced (one
    in the report's own language): three header lines in a row, a folded header's
    continuation lines ("Received: from ..." then "\tby ...") among them."""
    start, headers = 0, 0
    for i, line in enumerate(lines):
        if HEADER_LINE.match(line):
            start = i if headers == 0 else start
            headers += 1
            if headers == 3:
                return start
        elif not (headers and line[:1] in (" ", "\t") and line.strip()):
            headers = 0
    return None


def attached_messages(msg: Message) -> Iterator[Message]:
    """The messages attached to this one, as message/rfc822 or as a saved file."""
    for part, kind in bounce_parts(msg):
        if kind == "message/rfc822" and (held := attached(part)):
            yield held
        elif kind in _FILE_TYPES and _EML.search(part.get_filename("") or ""):
            yield _attached_file(part)


# A saved message attached as a file: some mail programs label it as bytes, or as text, not
# as a message.
_EML = re.compile(r"\.eml\s*$", re.I)
_FILE_TYPES = ("application/octet-stream", "text/plain")


def attached(part: Message) -> Message | None:
    """The message a message/rfc822 part holds. Some feedback loops and abuse desks send it
    in base64, which RFC 2046 forbids and the email package reads as a message of no fields."""
    held = inner_parts(part)
    text = blocks_decoded(part) if held else None
    if text is not None:
        raw = text.encode("utf-8", "surrogateescape")
        return message_from_bytes(lines_ended(raw), policy=READABLE)
    return held[0] if held else None


# How deep a forward of a forward is followed to the message it forwards
MOST_FORWARDS = 3


def _forwarded_within(message: Message) -> Message:
    """The message a forward attaches, where a person's forward was itself attached (an
    abuse desk sends on its customer's forward of our issue): ours is the innermost."""
    for _ in range(MOST_FORWARDS):
        if message.get_content_type() != "multipart/mixed":
            break
        inner = next(
            (attached(p) for p in inner_parts(message) if p.get_content_type() == "message/rfc822"),
            None,
        )
        if inner is None:
            break
        message = inner
    return message


def _attached_file(part: Message) -> Message:
    data = payload_bytes(part)
    return message_from_bytes(lines_ended(data or b""), policy=READABLE)


def lines_ended(raw: bytes) -> bytes:
    """Lines ended by LF alone: files saved on Windows end them CRLF, and on classic Mac OS
    (which Sisimai's sets keep) CR alone, which what reads it would take for one line.

    A UTF-8 byte order mark before the first header (Notepad's, some mail exports') goes:
    the parser took the first line for no header, and every header for the body."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if b"\r" in raw:
        # CR CR LF: a CRLF written again in a text mode that adds a CR (Tencent's,
        # go-message's)
        raw = raw.replace(b"\r\r\n", b"\n").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw


# A forward's header block in a mail client's words, a line each, perhaps quoted ("> ") or
# starred ("*From:*", Outlook's HTML as text): English, German, French, Spanish, Portuguese,
# Italian, Dutch, Russian, Persian, Arabic, Chinese, Japanese.
_FORWARDED_FIELD = re.compile(
    r"^[ \t>]*\*?(?P<name>from|von|de|da|van|от|از|من|发件人|寄件者|差出人|från|fra|od|nadawca|"
    r"subject|betreff|objet|asunto|assunto|oggetto|onderwerp|тема|موضوع|主题|主旨|件名|ämne|"
    r"emne|temat|date|sent|datum|gesendet|envoyé|enviado|inviato|verzonden|отправлено|дата|"
    r"تاریخ|التاريخ|发送时间|日期|送信日時|日付|skickat|sendt|data|wysłano|"
    r"to|an|à|para|a|aan|кому|به|إلى|收件人|宛先|till|til|do|adresat)"
    r"\s?:\*?[ \t]*(?P<value>.*)$",
    re.I,
)
# English, German, French/Spanish/Portuguese, Italian, Dutch, Russian, Persian, Arabic,
# Chinese, Japanese, Swedish, Danish/Norwegian, Polish (Outlook's "Od", Thunderbird's "Nadawca")
_FROM_NAMES = {
    *("from", "von", "de", "da", "van", "от", "از", "من", "发件人", "寄件者", "差出人"),
    *("från", "fra", "od", "nadawca"),
}
_TO_NAMES = {"to", "an", "à", "para", "a", "aan", "кому", "به", "إلى", "收件人", "宛先"}
_TO_NAMES |= {"till", "til", "do", "adresat"}
_SUBJECT_NAMES = {"subject", "betreff", "objet", "asunto", "assunto", "oggetto", "onderwerp"}
_SUBJECT_NAMES |= {"ämne", "emne", "temat"}
_SUBJECT_NAMES |= {"тема", "موضوع", "主题", "主旨", "件名"}
_QUOTED = re.compile(r"^[ \t]*>[ \t]?", re.M)


def forwarded_in_text(msg: Message, by_a_server: bool = True) -> Message | None:
    """A bounce someone forwarded in their own message's text (Gmail's "Forwarded message",
    Outlook's "Original Message", Thunderbird's, Apple Mail's, mutt's): the forward's header
    block names a mail server as the author, and the bounce's words follow it. The block
    was taken for the quoted original and everything after it cut, so the forward did
    nothing. `by_a_server` False: a block whose author is no server (our issue, forwarded by
    a reader or an abuse desk), whose words above it are kept as the message's preamble."""
    plain = [part for part, kind in bounce_parts(msg) if kind == "text/plain"]
    if not plain:
        return None
    lines = text_of(plain[0]).replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        field = _FORWARDED_FIELD.match(line)
        if not (
            field
            and field["name"].lower() in _FROM_NAMES
            and bool(DAEMON.search(field["value"])) == by_a_server
        ):
            continue
        start = i  # the block may begin above its From (Date:, Subject: first)
        while start and _FORWARDED_FIELD.match(lines[start - 1]):
            start -= 1
        end = i
        while end + 1 < len(lines) and _FORWARDED_FIELD.match(lines[end + 1]):
            end += 1
        block = [_FORWARDED_FIELD.match(x) for x in lines[start : end + 1]]
        subject = next((f["value"] for f in block if f["name"].lower() in _SUBJECT_NAMES), "")
        to = next((f["value"] for f in block if f["name"].lower() in _TO_NAMES), "")
        if not (by_a_server or to):
            continue  # a person's "From:" in their words, not a forward's block
        inner = Message()
        inner["From"] = field["value"].strip()
        inner["To"] = to.strip()  # the return path the bounce came back to: our copy's
        inner["Subject"] = subject.strip()
        # in UTF-8: as a bare str, its decoded bytes were Latin-1 (josé, an SMTPUTF8 reader)
        inner.set_payload(_QUOTED.sub("", "\n".join(lines[end + 1 :])), "utf-8")
        inner.preamble = "\n".join(lines[:start])
        return inner
    return None


def original_headers(msg: Message) -> Message | None:
    """The header block of the message that bounced, wherever the bounce quotes it."""
    for part, kind in bounce_parts(msg):
        if kind == "message/rfc822" and (held := attached(part)):
            return _forwarded_within(held)
        # text/rfc822: RFC 9477's own example labels the whole original so
        if kind in ("text/rfc822-headers", "text/rfc822"):
            return HeaderParser(policy=READABLE).parsestr(text_of(part))
    for part, kind in bounce_parts(msg):
        # An abuse desk's ticket attaches the message it reports as a saved file
        if kind == "application/octet-stream" and _EML.search(part.get_filename("") or ""):
            return _forwarded_within(_attached_file(part))
    for part, kind in bounce_parts(msg):
        if kind != "text/plain":
            continue
        text = text_of(part).replace("\r\n", "\n")
        match = ORIGINAL_STARTS.search(text)
        if match:
            block = text[match.end() :].split("\n", 1)[-1]
        else:  # quoted with no separator, or one in words we do not know
            lines = text.split("\n")
            start = _header_block(lines)
            if start is None:
                continue
            block = "\n".join(lines[start:])
        parsed = HeaderParser(policy=READABLE).parsestr(EXIM_TRUNCATED.sub("", block).lstrip("\n"))
        if parsed.keys():
            return parsed
    return None


def from_daemon(msg: Message) -> bool:
    """Whether a mail server (not a person, not a feedback loop) wrote this message."""
    return bool(DAEMON.search(header_text(msg, "From")))


def ascii_form(address: str) -> str:
    """An internationalised domain as SMTP writes it (xn--), where a report names the one
    address in both forms ("ali@پست.ایران", then "RCPT TO:<ali@xn--...>")."""
    if address.isascii():
        return address
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{ascii_domain(domain)}"
    except UnicodeError:  # idna.IDNAError among them: no domain
        return address


def addresses_in(values: list[str]) -> set[str]:
    found = set()
    for value in values:
        matches = ADDRESS.findall(value)
        found.update(match.lower() for match in matches)
        # The full parser (slow) only for what the pattern leaves: a quoted local part, a
        # domain without a dot, a route.
        if value.count("@") > len(matches):
            found.update(a.lower() for a in listed([value]) if "@" in a)
    return found


def not_recipients(msg: Message, original: Message | None) -> set[str]:
    """Addresses a report shows that are not the failed recipient: ours, and message ids.

    The bounce comes *to* us, so its To is ours too (our VERP return path).
    """
    names = ("From", "Sender", "Return-Path", "Reply-To", "To")
    ours = addresses_in([v for n in names for v in headers(msg, n)])
    if original is not None:
        ours |= addresses_in(
            [v for n in ("From", "Sender", "Return-Path", "Reply-To") for v in headers(original, n)]
        )
    ids = []
    for part in [msg, *([original] if original is not None else [])]:
        for name in ("Message-ID", "In-Reply-To", "References", "X-Original-Message-ID"):
            ids += headers(part, name)
    ours |= {m.lower() for m in ADDRESS.findall(" ".join(ids))}
    return ours
