"""Finding the evidence in a returned message: who failed, with which status and words.

Real servers write bounces in a few dozen shapes. Three carry most of them: RFC 3464
delivery-status fields; a human-readable part where each failed address stands on a line
of its own (or behind "<...>:" or "to <...>") with the remote server's words after it; and
provider notices such as Amazon SES's JSON. Everything before the quoted original message
is the bounce's own words; the original's From, Sender and Return-Path are our addresses,
never a recipient's.
"""

from __future__ import annotations

import base64
import codecs
import functools
import html
import json
import re
import weakref
from dataclasses import dataclass
from email import message_from_bytes, message_from_string
from email.header import decode_header
from email.message import Message
from email.parser import HeaderParser
from email.policy import Compat32
from email.utils import getaddresses, parseaddr

from newsletter.bounces import quoted

# Not led by an apostrophe or a backtick: text quotes addresses in them ("addressed to
# 'reader@...'", Mailman's "from your address `news@...'").
ADDRESS = re.compile(
    r"(?<![\w.+\-=/@])(?!['`])"
    r"([\w.!#$%&'*+/=?^`{|}~-]{1,64}@(?:[\w-]{1,63}\.)+[A-Za-z][\w-]{1,62})",
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
    r"rfc822 headers? of|the headers of the original"
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


def headers(msg: Message, name: str) -> list[str]:
    return [decoded(v) for v in msg.get_all(name, [])[:MOST_VALUES]]


def header_text(msg: Message, name: str) -> str:
    return " ".join(" ".join(headers(msg, name)).split())


# Per message, its parts walked and their texts decoded once: each reader of a bounce
# would otherwise do it again.
_WALKED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TEXTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def text_of(part: Message) -> str:
    """A part's text, decoded once: several readers of a bounce look at the same parts."""
    text = _TEXTS.get(part)
    if text is None:
        text = _TEXTS[part] = _decoded_text(part)
    return text


def _decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
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


def _parts(msg: Message) -> list[tuple[Message, str]]:
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
        # are read by dsn_fields alone (walked, 80,000 blocks were each read as text).
        if kind in ("message/rfc822", "message/delivery-status"):
            continue
        if part.is_multipart():
            stack += reversed(_inner(part))
        elif part.get_content_maintype() == "multipart" and repairs < MOST_REPAIRS:
            repairs += 1
            stack.append(_as_text(text_of(part)))  # its boundary is wrong: read it as text


def _inner(part: Message) -> list[Message]:
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


def human_text(msg: Message) -> str:
    """The bounce's own words: its text parts, cut where the quoted original begins."""
    texts = []
    plain = [part for part, kind in _parts(msg) if kind == "text/plain"]
    parts = plain or [part for part, kind in _parts(msg) if kind == "text/html"]
    for part in parts:
        if part.get("Content-Disposition", "").lower().startswith("attachment") and texts:
            continue
        texts.append(cut_original(text_of(part)))
    return "\n".join(texts)[:20000]


def cut_original(text: str) -> str:
    text = text.replace("\r\n", "\n")
    match = ORIGINAL_STARTS.search(text)
    if match:
        text = text[: match.start()]
    lines = text.split("\n")
    for i in range(len(lines) - 2):  # a header block of the original without a separator
        if all(HEADER_LINE.match(line) for line in lines[i : i + 3]):
            return "\n".join(lines[:i])
    return text


def forwarded_report(msg: Message) -> Message | None:
    """A bounce someone forwarded to us as an attachment."""
    for part, kind in _parts(msg):
        if kind == "message/rfc822" and (held := _inner(part)):
            inner = held[0]
        elif kind == "application/octet-stream" and _EML.search(part.get_filename("") or ""):
            inner = _attached_file(part)
        else:
            continue
        said = header_text(inner, "From").lower()
        if inner.get_content_type() == "multipart/report" or "mailer-daemon" in said:
            return inner
    return None


# A saved message attached as a file: some mail programs label it as bytes, not a message.
_EML = re.compile(r"\.eml\s*$", re.I)


def _attached_file(part: Message) -> Message:
    data = part.get_payload(decode=True)
    return message_from_bytes(lines_ended(data or b""), policy=READABLE)


def lines_ended(raw: bytes) -> bytes:
    """Lines ended by LF alone: files saved on Windows end them CRLF, and on classic Mac OS
    (which Sisimai's sets keep) CR alone, which what reads it would take for one line."""
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in raw else raw


# A forward's header block in a mail client's words, a line each, perhaps quoted ("> ") or
# starred ("*From:*", Outlook's HTML as text): English, German, French, Spanish, Portuguese,
# Italian, Dutch, Russian, Persian, Arabic, Chinese, Japanese.
_FORWARDED_FIELD = re.compile(
    r"^[ \t>]*\*?(?P<name>from|von|de|da|van|от|از|من|发件人|寄件者|差出人|"
    r"subject|betreff|objet|asunto|assunto|oggetto|onderwerp|тема|موضوع|主题|主旨|件名|"
    r"date|sent|datum|gesendet|envoyé|enviado|inviato|verzonden|отправлено|дата|تاریخ|"
    r"التاريخ|发送时间|日期|送信日時|日付|to|an|à|para|a|aan|кому|به|إلى|收件人|宛先)"
    r"\s?:\*?[ \t]*(?P<value>.*)$",
    re.I,
)
_FROM_NAMES = {"from", "von", "de", "da", "van", "от", "از", "من", "发件人", "寄件者", "差出人"}
_SUBJECT_NAMES = {"subject", "betreff", "objet", "asunto", "assunto", "oggetto", "onderwerp"}
_SUBJECT_NAMES |= {"тема", "موضوع", "主题", "主旨", "件名"}
_QUOTED = re.compile(r"^[ \t]*>[ \t]?", re.M)


def forwarded_in_text(msg: Message) -> Message | None:
    """A bounce someone forwarded in their own message's text (Gmail's "Forwarded message",
    Outlook's "Original Message", Thunderbird's, Apple Mail's, mutt's): the forward's header
    block names a mail server as the author, and the bounce's words follow it. The block
    was taken for the quoted original and everything after it cut, so the forward did
    nothing."""
    plain = [part for part, kind in _parts(msg) if kind == "text/plain"]
    if not plain:
        return None
    lines = text_of(plain[0]).replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        field = _FORWARDED_FIELD.match(line)
        if not (field and field["name"].lower() in _FROM_NAMES and DAEMON.search(field["value"])):
            continue
        start = i  # the block may begin above its From (Date:, Subject: first)
        while start and _FORWARDED_FIELD.match(lines[start - 1]):
            start -= 1
        end = i
        while end + 1 < len(lines) and _FORWARDED_FIELD.match(lines[end + 1]):
            end += 1
        block = [_FORWARDED_FIELD.match(x) for x in lines[start : end + 1]]
        subject = next((f["value"] for f in block if f["name"].lower() in _SUBJECT_NAMES), "")
        inner = Message()
        inner["From"] = field["value"].strip()
        inner["Subject"] = subject.strip()
        inner.set_payload(_QUOTED.sub("", "\n".join(lines[end + 1 :])))
        return inner
    return None


def original_headers(msg: Message) -> Message | None:
    """The header block of the message that bounced, wherever the bounce quotes it."""
    for part, kind in _parts(msg):
        if kind == "message/rfc822" and (held := _inner(part)):
            return held[0]
        # text/rfc822: RFC 9477's own example labels the whole original so
        if kind in ("text/rfc822-headers", "text/rfc822"):
            return HeaderParser(policy=READABLE).parsestr(text_of(part))
    for part, kind in _parts(msg):
        if kind != "text/plain":
            continue
        text = text_of(part).replace("\r\n", "\n")
        match = ORIGINAL_STARTS.search(text)
        if match:
            block = text[match.end() :].split("\n", 1)[-1]
            parsed = HeaderParser(policy=READABLE).parsestr(
                EXIM_TRUNCATED.sub("", block).lstrip("\n")
            )
            if parsed.keys():
                return parsed
    return None


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


# --- delivery-status fields ------------------------------------------------------------


def _field_blocks(text: str) -> list[Message]:
    # Blank lines separate the groups; some servers (AOL's) leave them out, but each
    # recipient's group still begins with its Final-Recipient field. A group naming one
    # recipient stays whole, whatever order its fields come in (PMDF puts Action first).
    blocks = []
    for group in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip()):
        several = len(re.findall(r"(?im)^final-recipient:", group)) > 1
        blocks += re.split(r"\n(?=final-recipient:)", group, flags=re.I) if several else [group]
    kept = [b for b in blocks if b.strip()][:MOST_BLOCKS]
    return [HeaderParser(policy=READABLE).parsestr(b.strip() + "\n") for b in kept]


def _value(field: str | None) -> str:
    """'rfc822; someone@example.org' -> 'someone@example.org'."""
    value = " ".join(decoded(field or "").split())
    kind, _, rest = value.partition(";") if ";" in value else ("", "", value)
    utf8 = kind.strip().lower() == "utf-8"
    if utf8:  # RFC 6533: "\x{HHHH}" stands for a character the field did not carry as it is
        rest = UNITEXT.sub(_character, rest)
    found = ADDRESS.search(rest)
    if found is None:
        # The field holds an address and nothing else: one that prose would not be trusted
        # with (root@localhost, the one-letter top-level domain of an anonymised sample) is
        # still one, unless it is not ASCII where its type does not say UTF-8 (an encoded
        # word decoded: no address we sent to) or masked ("****@****", as a relay that hides
        # the real address writes it).
        found = FIELD_ADDRESS.search(rest)
        readable = found and (utf8 or found.group(1).isascii())
        if found and not (readable and MASKED.search(found.group(1)) is None):
            found = None
    return found.group(1) if found else ""


UNITEXT = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")


def _character(escaped: re.Match) -> str:
    code = int(escaped.group(1), 16)
    return chr(code) if code <= 0x10FFFF else escaped.group(0)


# Bounded as RFC 5321 bounds the parts (64 and 255), so a long field is read in linear time.
FIELD_ADDRESS = re.compile(r'([^\s<>"(),;:@]{1,64}@[^\s<>"(),;:@]{1,255})')
# A side of the address with no letter or digit: a mask, not an address.
MASKED = re.compile(r"^[\W_]+@|@[\W_]+$")


def dsn_fields(msg: Message) -> list[Evidence]:
    found: list[Evidence] = []
    unread = None  # read once: read for each disposition part, 100 KB of them took 16 s
    for part, kind in _parts(msg):
        if kind in ("message/delivery-status", "message/global-delivery-status"):
            if part.is_multipart():  # the email package parsed the blocks already
                blocks = _inner(part)[:MOST_BLOCKS]
                found += _recipient_blocks([one for b in blocks for one in _regrouped(b)])
            else:
                found += _recipient_blocks(_field_blocks(text_of(part)))
        elif kind == "text/plain" and re.search(r"(?im)^final-recipient:", text_of(part)):
            found += _recipient_blocks(_field_blocks(text_of(part)))
        elif kind == "message/disposition-notification":
            if unread is None:
                unread = bool(UNREAD.search(human_text(msg)))
            if not unread:
                found += _rejected(_inner(part) or _field_blocks(text_of(part)))
    failed = addresses_in(headers(msg, "X-Failed-Recipients"))
    known = {e.address.lower() for e in found}
    found += [Evidence(address=a, action="failed") for a in sorted(failed - known)]
    unique: dict[str, Evidence] = {}
    for evidence in found:
        unique.setdefault(evidence.address.lower(), evidence)
    return list(unique.values())


# RFC 8098's disposition of a message that a filter refused and the server deleted, the
# sender told why in the text: Sieve's reject, Dovecot's reject of a full mailbox.
REJECTED = re.compile(r"automatic-action/[\w-]+\s*;\s*deleted\b", re.I)
# Outlook's notice that the reader deleted our message unread, in the same disposition.
UNREAD = re.compile(r"deleted without being read", re.I)


def _rejected(blocks: list[Message]) -> list[Evidence]:
    """The recipients of a disposition notification that says the message was rejected; a
    reader's own disposition (read, deleted unread) is no failure."""
    return [
        Evidence(address=address, action="failed")
        for block in blocks
        if REJECTED.search(decoded(block.get("Disposition") or ""))
        and (address := _value(block.get("Final-Recipient")))
    ]


def _regrouped(block: Message) -> list[Message]:
    """A parsed group holding several recipients (no blank lines between them), apart."""
    if len(block.get_all("Final-Recipient", [])) < 2:
        return [block]
    return _field_blocks("\n".join(f"{name}: {value}" for name, value in block.items()))


def _host(field: str | None) -> str:
    """'dns; mta7.am0.yahoodns.net. [67.195.204.72]' -> 'mta7.am0.yahoodns.net'."""
    words = decoded(field or "").rpartition(";")[2].split()
    return words[0].strip("[]").rstrip(".").lower() if words else ""


DIAGNOSTIC_TYPE = re.compile(r"[\w.-]+ ?;")


def _diagnosed(code: str, status_field: str) -> tuple[str, str, str, str]:
    """(its type, the words, the status, the reply code) of a Diagnostic-Code ("smtp; 550
    5.1.1 ...", "X-Postfix; ...") and a Status field: the remote server's own code outranks
    what the reporting server made of it."""
    diagnostic, source = " ".join(code.split()), ""
    if DIAGNOSTIC_TYPE.match(diagnostic):
        source, diagnostic = (p.strip() for p in diagnostic.split(";", 1))
    status = (
        REPLIED_STATUS.search(diagnostic[:60])
        or STATUS.search(diagnostic[:40])
        or STATUS.search(status_field)
    )
    reply = REPLY.match(diagnostic)
    return (
        source.lower(),
        diagnostic[:1000],
        ".".join(status.groups()) if status else "",
        reply.group(1) if reply else "",
    )


def _recipient_blocks(blocks: list[Message]) -> list[Evidence]:
    found = []
    for block in blocks:
        final = _value(block.get("Final-Recipient")) or _value(block.get("X-Actual-Recipient"))
        original = _value(block.get("Original-Recipient"))
        address = original or final
        if not address:
            continue
        source, diagnostic, status, reply = _diagnosed(
            decoded(block.get("Diagnostic-Code") or ""), block.get("Status") or ""
        )
        found.append(
            Evidence(
                address=address,
                routed=final if final.lower() != address.lower() else "",
                status=status,
                reply=reply,
                # Sendmail comments it: "delivered (to mailbox)", "relayed (to non-DSN-aware
                # mailer)", "delayed (Deliver-By notify mode)"
                action=" ".join((block.get("Action") or "").split()[:1]).lower(),
                diagnostic=diagnostic,
                source=source,
                category=(block.get("X-PowerMTA-BounceCategory") or "").strip().lower(),
                remote=_host(block.get("Remote-MTA")),
            )
        )
    return found


# --- provider notices ------------------------------------------------------------------


# Its kind's key, in any letters' case: a tool that rewrites the keys (PascalCase) still
# sends SES's JSON, which is never a report to read words from.
SES_KEY = re.compile(r'\\?"(?:notificationType|eventType)\\?"', re.I)


def ses_data(msg: Message) -> dict | None:
    """Amazon SES's JSON notification (bare or in an SNS envelope); {} for one that cannot be
    read (cut, or not an object); None when the message is none. Read once a message: the
    complaint, the failures and the quoted message all come from it."""
    if msg not in _SES:
        _SES[msg] = _ses_read(msg)
    return _SES[msg]


def _ses_read(msg: Message) -> dict | None:
    seen = False
    for part, kind in _parts(msg):
        if not kind.startswith("text/"):
            continue
        # SNS's email wraps long lines with "!" at the end and a space after the break.
        text = re.sub(r"!\r?\n ", "", text_of(part))
        start = text.find("{")
        if start < 0 or not SES_KEY.search(text):
            continue
        seen = True
        try:
            data = json.loads(text[start : text.rfind("}") + 1])
            if isinstance(data.get("Message"), str):
                data = json.loads(data["Message"])
            if isinstance(data, dict) and isinstance(data.get("detail"), dict):
                # EventBridge's envelope: {"source": "aws.ses", "detail": ...}
                data = data["detail"]
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            continue
        return _object(data)
    return {} if seen else None


# RFC 5321's longest address: a longer "address" is none, and only slows every rule read.
LONGEST_ADDRESS = 320


def _object(value) -> dict:
    """A JSON object; anything else in its place names nobody."""
    return value if isinstance(value, dict) else {}


def _objects(value) -> list[dict]:
    """The objects of a JSON list; anything else in it, or instead of it, names nobody."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _address(value) -> str:
    """An address field's address: "John <j@example.net>" names j@example.net."""
    if not isinstance(value, str) or len(value) > LONGEST_ADDRESS:
        return ""
    return parseaddr(value.strip().removeprefix("mailto:"))[1]


def ses_sent(msg: Message) -> tuple[list[str], list[str]]:
    """(the Message-IDs, the return paths) of our message that an SES notification quotes in
    its "mail" object: what names the copy, as a bounce's quoted original does."""
    mail = _object((ses_data(msg) or {}).get("mail"))
    common = _object(mail.get("commonHeaders"))
    ids = [common.get("messageId")] + [
        h.get("value")
        for h in _objects(mail.get("headers"))
        if str(h.get("name")).lower() == "message-id"
    ]
    return (
        list(dict.fromkeys(i.strip() for i in ids if isinstance(i, str) and 0 < len(i) <= 998)),
        [a for a in [_address(mail.get("source"))] if a],
    )


def ses_notice(msg: Message) -> list[Evidence] | None:
    """The recipients of an SES bounce, delay or delivery notice; [] for an SES event that
    fails nobody (a send, an open, a click) or one that cannot be read; None when the
    message is no SES notification."""
    data = ses_data(msg)
    return None if data is None else _ses_recipients(data)


def _ses_failures(recipients, action: str, temporary: bool, subtype: str) -> list[Evidence]:
    found = []
    for rcpt in _objects(recipients):
        source, words, status, reply = _diagnosed(str(rcpt.get("diagnosticCode") or ""), "")
        status = status or str(rcpt.get("status") or ("4.0.0" if temporary else ""))[:20]
        found.append(
            Evidence(
                _address(rcpt.get("emailAddress")),
                status,
                reply,
                action,
                f"{words} {subtype}".strip(),
                source=source,
                category=subtype.lower(),
            )
        )
    return [f for f in found if f.address]


def _ses_recipients(data: dict) -> list[Evidence]:
    kind = data.get("notificationType") or data.get("eventType") or ""
    if kind == "Bounce":
        bounce = _object(data.get("bounce"))
        temporary = bounce.get("bounceType") == "Transient"
        subtype = str(bounce.get("bounceSubType") or "")[:100]
        return _ses_failures(bounce.get("bouncedRecipients"), "failed", temporary, subtype)
    if kind == "DeliveryDelay":  # still queued: recorded, not a failure
        delay = _object(data.get("deliveryDelay"))
        subtype = str(delay.get("delayType") or "")[:100]
        return _ses_failures(delay.get("delayedRecipients"), "delayed", True, subtype)
    if kind == "Delivery":
        delivery = _object(data.get("delivery"))
        said = str(delivery.get("smtpResponse") or "")[:1000]
        recipients = delivery.get("recipients")
        recipients = recipients if isinstance(recipients, list) else []
        return [Evidence(a, "2.0.0", "", "delivered", said) for a in map(_address, recipients) if a]
    return []


# --- the human-readable part -----------------------------------------------------------


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


def text_failures(text: str, ours: set[str]) -> list[Evidence]:
    """Each address the bounce's words name, with the words that follow it."""
    lines = [line[:LONGEST_LINE] for line in text.split("\n")]
    spots: dict[str, int] = {}  # address: the line it is first named on
    # "To: list@example.org" in a summary of the original message, and a folded header's
    # next lines ("From: =?utf-8?...?=" then " <news@example.org>")
    in_headers = quoted.header_lines(lines, QUOTED_HEADER)
    for i, line in enumerate(lines):
        if in_headers[i]:
            continue
        slot = RECIPIENT_SLOT.match(line)
        for found in ADDRESS.finditer(line):
            address = found.group()
            key = SCHEME.sub("", address.lower().rstrip("."))
            if key in spots or (key in ours and not slot):
                continue
            if NOT_SUBSCRIBERS.match(key) or _is_message_id(line, address):
                continue
            if spots and _in_server_words(line[: found.start()]):
                continue
            spots[key] = i
            if len(spots) > MOST_NAMED:
                return []
    if not spots:  # most messages read here name nobody: lower no line for them
        return []
    lowered = [line.lower() for line in lines]
    spots = sorted(
        (_verdict_line(lines, lowered, address, i), address) for address, i in spots.items()
    )
    found = []
    for n, (i, address) in enumerate(spots):
        end = spots[n + 1][0] if n + 1 < len(spots) and spots[n + 1][0] > i else i + 12
        # Sendmail's "550 <address>... words" is that recipient's whole verdict; the lines
        # after it are about the next host.
        end = i + 1 if SENDMAIL_VERDICT.match(lines[i]) else max(end, i + 1)
        # A summary's quoted headers below it ("Subject: ...") are ours, not the server's.
        kept = [
            lines[i],
            *(line for n, line in enumerate(lines[i + 1 : end], i + 1) if not in_headers[n]),
        ]
        words = " ".join(" ".join(kept).split())
        found.append(_evidence(address, words))
    return found


# qmail's QSBMF opens each recipient's paragraph with "<address>:" alone on a line (1&1 and
# others write "address:"): a slot that names the failed recipient as a DSN's Final-Recipient
# does, so it counts even when the same address sent the message (someone writing to
# themselves) and the bounce came back to it.
RECIPIENT_SLOT = re.compile(r"^\s*<?[^<>\s@]+@[^<>\s]+?>?:\s*$")
QUOTED_HEADER = quoted.HEADER_LINE  # "To: list@example.org" in a summary of our message
SENDMAIL_VERDICT = re.compile(r"^\s*[45]\d\d <[^>\s]+>\.\.\. \S")
SCHEME = re.compile(r"^(?:smtp|rfc822|sip)[=:]")
NOT_THE_RECIPIENT = re.compile(
    r"(message-id|msgid|message id|\bid|mail from|envelope-from|sender|please try|"
    r"new address(?: is)?|forward(?:ed|ing)? to|moved to|send mail to|"
    # an address in the server's words to write to: "forward this error to", "contact"
    r"this error to|contact(?: us| me)?(?: at)?|report details to|"
    # Arabic: "contact us at"
    r"تواصل معنا على|اتصل بنا على)[:= ]*<?$"
)


def _verdict_line(lines: list[str], lowered: list[str], address: str, first: int) -> int:
    """Where to read an address's failure from, the first line that names it unless: a
    transcript's RCPT TO for it (MDaemon names it first in a summary, "*  To:"), or, when no
    server's code follows the first, a later line that has one close after it (Outlook's
    "Your message to ... couldn't be delivered", the server's words far below)."""
    named = [
        i
        for i in range(first, len(lines))
        if address in lowered[i] and (i == first or not QUOTED_HEADER.match(lines[i]))
    ]
    rcpt = next((i for i in named if RCPT_COMMAND.search(lowered[i])), None)
    if rcpt is not None:
        return rcpt
    if SERVER_CODE.search(" ".join(lines[first : first + 12])):
        return first
    return next((i for i in named if SERVER_CODE.search(" ".join(lines[i : i + 4]))), first)


RCPT_COMMAND = re.compile(r"(?:>>>|-->)\s*rcpt\s+to\s*:")
# A failure's reply code or enhanced status ("550", "5.1.1"), not a number in a date or an IP.
SERVER_CODE = re.compile(r"(?<![\d.:\-])(?:[45][0-5]\d(?:[ \-]|$)|[45]\.\d{1,3}\.\d{1,3}(?![\d.]))")


# A server's reply code (and status), and what it said after them up to an address.
# (Zoho writes "ERROR CODE :553 - ...".)
_REPLY_THEN = re.compile(r"(?<![\d.\-])[45]\d\d[ -](?:[45]\.\d{1,3}\.\d{1,3}[ -])?")
# What may stand between a reply's code and the recipient it names: "550 5.1.1 <", "550 RCPT
# TO:<", "550 Recipient <", "550 user ".
_NAMING = re.compile(r"\W*(?:rcpt(?: to)?|recipient|user|mailbox|address)?\W*", re.I)


def _in_server_words(before: str) -> bool:
    """Whether an address comes inside a server's words, after its code and other words
    ("553 Sorry, your email address (news@...) has been blocked", "... register your IP to
    spammaster@..."): whom the server refused or asks to be written to, not another failed
    recipient (read so once a recipient has been named)."""
    codes = list(_REPLY_THEN.finditer(before))
    return bool(codes) and not _NAMING.fullmatch(before[codes[-1].end() :])


def _is_message_id(line: str, address: str) -> bool:
    """Whether the words before an address say it is an id, our sender, or a new address."""
    before = line[: line.find(address)].lower()
    return bool(NOT_THE_RECIPIENT.search(before))


def _evidence(address: str, words: str) -> Evidence:
    status = REPLIED_STATUS.search(words) or FAILURE_STATUS.search(words)
    reply = REPLY.search(words.replace(address, " "))
    return Evidence(
        address=address,
        status=".".join(status.groups()) if status else "",
        reply=reply.group(1) if reply else "",
        action="failed",
        diagnostic=words[:1000],
    )


# AOL's own notice (AIRmail) names the recipients by screen name, each on a line of its own
# under "Your mail to the following recipients could not be delivered because ...:".
AOL_NOTICE = re.compile(
    r"following recipients could not be delivered because ([^:]*):[ \t]*\n\s*"
    r"((?:[\w.\-]+[ \t]*(?:\n[ \t]*|$))+)",
    re.I,
)


def aol_screen_names(msg: Message, text: str) -> list[Evidence]:
    """The failed screen names of AOL's own notice, as addresses at aol.com."""
    if not header_text(msg, "From").lower().rstrip("> ").endswith("@aol.com"):
        return []
    notice = AOL_NOTICE.search(text)
    if notice is None:
        return []
    why = "could not be delivered because " + " ".join(notice[1].split())
    return [_evidence(f"{name}@aol.com", why) for name in notice[2].split()]


def from_original(original: Message, ours: set[str]) -> list[Evidence]:
    """The quoted original's recipients, for a bounce whose words name nobody."""
    found = addresses_in(headers(original, "To") + headers(original, "Cc")) - ours
    return [
        Evidence(address=a, action="failed") for a in sorted(found) if not NOT_SUBSCRIBERS.match(a)
    ]


# --- complaints ------------------------------------------------------------------------

FEEDBACK_WORDS = re.compile(
    r"(?i)(abuse report|complaint (?:about|regarding|report)|feedback[- ]loop|"
    r"reported (?:as|this) (?:spam|junk)|marked (?:as|this) (?:spam|junk)|junk mail report|"
    r"email abuse|spam report|"
    # an abuse desk's or a reader's own words, our message attached
    r"unsolicited (?:e-?mail|message|bulk)|never (?:subscribed|signed up|opted in|asked for))"
)
# Exchange Online writes its reports from "MicrosoftExchange" and the tenant's hash.
DAEMON = re.compile(
    r"(?i)mailer-daemon|post_?master|mail delivery (?:system|subsystem)|\bmdaemon@|"
    r"\bmicrosoftexchange[0-9a-f]{32}@"
)


def from_daemon(msg: Message) -> bool:
    """Whether a mail server (not a person, not a feedback loop) wrote this message."""
    return bool(DAEMON.search(header_text(msg, "From")))


def complaint_recipients(msg: Message, original: Message | None) -> tuple[list[str], str] | None:
    """(the complaining addresses, the feedback type), or None when it is no complaint."""
    report = feedback_report(msg)
    arf = (msg.get_param("report-type") or "").lower() == "feedback-report"
    if msg.get("X-Apple-Unsubscribe", "").strip().lower() == "true":
        # Apple Mail's "unsubscribe" button: the subscriber writes from their own address.
        return sorted(addresses_in(headers(msg, "From"))), "opt-out"
    ses = ses_data(msg) or {}
    if (ses.get("notificationType") or ses.get("eventType")) == "Complaint":
        complaint = _object(ses.get("complaint"))
        found = [
            _address(r.get("emailAddress")) for r in _objects(complaint.get("complainedRecipients"))
        ]
        feedback = complaint.get("complaintFeedbackType")
        return [a.lower() for a in found if "@" in a], (
            feedback if isinstance(feedback, str) else "abuse"
        )
    reader = msg.get("X-HmXmrOriginalRecipient")
    if reader and not from_daemon(msg):
        # Hotmail's older loop sends the complained-of message itself, this header added.
        return sorted(addresses_in([str(reader)])), "abuse"
    if not (report is not None or arf or _microsoft_style(msg, original)):
        return None
    found: list[str] = []
    feedback = "abuse"
    fields = feedback_fields(report)
    if fields is not None:
        for name in ("Original-Rcpt-To", "Removal-Recipient"):
            found += filter(None, map(_value, fields.get_all(name, [])))
        feedback = (fields.get("Feedback-Type") or "abuse").strip().lower()
    if not found and original is not None:
        ours = not_recipients(msg, original)
        for name in ("X-HmXmrOriginalRecipient", "To", "X-Original-To", "Delivered-To"):
            found = sorted(addresses_in(headers(original, name)) - ours)
            if found:
                break
    # Both fields often name the same reader: one complaint, one address.
    return list(dict.fromkeys(a.lower() for a in found if "@" in a)), feedback


def feedback_fields(report: Message | None) -> Message | None:
    """The fields of a feedback report's machine-readable part (RFC 5965), parsed."""
    if report is None:
        return None
    if report.is_multipart():
        # Its blocks' fields as they came: printing a block again (as_string) encodes
        # its text anew, which fails where the report's charset cannot hold it.
        blocks = _inner(report)
        text = "\n".join(f"{name}: {value}" for b in blocks for name, value in b.items())
        if not text and (report.get("Content-Transfer-Encoding") or "").lower() == "base64":
            # NetEase's loop sends its fields in base64, which the parser takes for a
            # message with no headers: they were lost, and a DMARC failure report was
            # read as a complaint.
            encoded = "".join(str(b.get_payload()) for b in blocks)
            text = _from_base64(encoded)
    else:
        text = text_of(report)
    return HeaderParser(policy=READABLE).parsestr(text.strip() + "\n")


def _from_base64(encoded: str) -> str:
    """Text in base64, as much of it as can be read: cut short, its padding is wrong."""
    usable = re.sub(r"[^A-Za-z0-9+/]", "", encoded)
    usable = usable[: len(usable) - len(usable) % 4]
    return base64.b64decode(usable).decode("utf-8", "replace")


def feedback_says(msg: Message, name: str) -> str:
    """One field of a feedback report's machine-readable part, lowercased; "" without."""
    fields = feedback_fields(feedback_report(msg))
    return (fields.get(name) or "").strip().lower() if fields is not None else ""


def feedback_report(msg: Message) -> Message | None:
    """A feedback report's machine-readable part (message/feedback-report), if it has one."""
    return next((part for part, kind in _parts(msg) if kind == "message/feedback-report"), None)


def _microsoft_style(msg: Message, original: Message | None) -> bool:
    """Feedback loops that send the complained-of message attached to a plain notice."""
    if original is None:
        return False
    if original.get("X-HmXmrOriginalRecipient"):
        return True
    if from_daemon(msg):  # a bounce that quotes a server's words about complaints
        return False
    said = f"{header_text(msg, 'Subject')} {human_text(msg)[:2000]}"
    return msg.get_content_type() == "multipart/mixed" and bool(FEEDBACK_WORDS.search(said))
