"""Building MIME messages and speaking SMTP; nothing here knows about lists or issues."""

from __future__ import annotations

import binascii
import operator
import random
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, make_msgid
from secrets import token_hex
from urllib.parse import parse_qs, unquote, urlsplit

import html2text
import premailer
from flask import current_app, render_template

from newsletter import our_account, signing
from newsletter.addresses import InvalidEmail, ascii_domain
from newsletter.text import has_line_break


class HeaderInjection(ValueError):
    pass


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # out of logs and tracebacks
    tls: str = ""  # "", "starttls" or "ssl"
    timeout: float = 30.0
    weight: float = 1.0  # share of the mail this server gets among several

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP URL must start with smtp:// (got {parts.scheme}://)")
        tls = parse_qs(parts.query).get("tls", ["ssl" if parts.scheme == "smtps" else ""])[0]
        if tls not in ("", "starttls", "ssl"):
            raise ValueError("tls must be starttls or ssl")
        default_port = 465 if tls == "ssl" else 25
        weight = float(parse_qs(parts.query).get("weight", ["1"])[0])
        if weight <= 0:
            raise ValueError("weight must be above 0")
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            timeout=timeout,
            weight=weight,
        )


def smtp_servers(urls: str, timeout: float = 30.0) -> list[SmtpSettings]:
    """Comma-separated SMTP URLs, each with an optional ?weight=N."""
    servers = [
        SmtpSettings.from_url(url.strip(), timeout) for url in urls.split(",") if url.strip()
    ]
    if not servers:
        raise ValueError("no SMTP server configured")
    return servers


def weighted_order(servers: list[SmtpSettings]) -> list[SmtpSettings]:
    """All servers, the first picked by weight, the rest as fallbacks in weighted order."""
    left, order = list(servers), []
    while left:
        choice = random.choices(left, weights=[server.weight for server in left])[0]
        order.append(choice)
        left.remove(choice)
    return order


def connect(settings: SmtpSettings | None = None) -> smtplib.SMTP:
    """One SMTP session; callers reuse it for every message of a batch.

    With no settings, a configured server is picked by weight and the others are tried
    in turn when it cannot be reached; the last error is raised when none can.
    """
    if settings is not None:
        return _open(settings)
    config = current_app.config
    error: Exception | None = None
    for server in weighted_order(smtp_servers(config["SMTP_URL"], config["SMTP_TIMEOUT"])):
        try:
            return _open(server)
        except (OSError, smtplib.SMTPException) as exc:
            error = exc
    raise error


def _open(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.tls == "ssl":
        smtp = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if settings.username:
        smtp.login(settings.username, settings.password or "")
    return smtp


def permanent(code: int) -> bool:
    """RFC 5321: a 5xx reply refuses for good; a 4xx one is worth another try later."""
    return code >= 500


# RFC 3463 subjects that are not the recipient's address: the mail system (X.3) and
# security or policy (X.7), "5.7.1 Relaying denied" from our own relay among them.
# A status of a policy, security or system refusal, where the reply starts or ends with it
# (qmail's "... (#5.7.1)")
_NOT_THE_ADDRESS = re.compile(r"^[45]\.[37]\.\d{1,3}\b|\(#[45]\.[37]\.\d{1,3}\)")
# Every refusal while sending comes from our own relay: its refusal to relay for us ("Relay
# access denied", Exim's "relay not permitted", qmail's "not in my list of allowed
# rcpthosts") is ours, whatever the same words mean in a bounce from the reader's server.
_OUR_RELAY = re.compile(
    r"\brelay(?:ing)? (?:access )?(?:denied|not permitted|disallowed|prohibited)|"
    r"list of allowed rcpthosts",
    re.I,
)


def refused_for_good(exc: smtplib.SMTPException) -> bool:
    """A refusal that no later try of this copy will get past: a 5xx answer to RCPT TO
    about the recipient's address. A refusal at MAIL FROM or after DATA, or a policy or
    system status or words about our own account (a relay's sending quota) at RCPT TO, is
    of our sender or message, which every copy meets and a fix of ours mends: the copy
    waits, and counts towards pausing the issue."""
    return about_the_address(exc) and any(permanent(code) for code, _ in exc.recipients.values())


def about_the_address(exc: smtplib.SMTPException) -> bool:
    """A refusal of RCPT TO about the recipient's address, not of our sender, message or
    account: once final, what it says of the address is judged as a bounce's words are."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    return any(_about_the_address(text_of(said)) for _, said in exc.recipients.values())


def _about_the_address(said: str) -> bool:
    said = said.lstrip()
    return not (
        _NOT_THE_ADDRESS.search(said) or _OUR_RELAY.search(said) or our_account.refuses_us(said)
    )


def reply_of(error: smtplib.SMTPException) -> tuple[int, bytes | str]:
    """The server's code and text from a refusal."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return next(iter(error.recipients.values()))
    return error.smtp_code, error.smtp_error


def text_of(said: bytes | str) -> str:
    return said.decode(errors="replace") if isinstance(said, bytes) else said


def smtp_address(email: str) -> str:
    """The address as SMTP carries it: an internationalised domain in its ASCII form.
    InvalidEmail for letters beyond ASCII before the @ (no form takes them; older data may
    hold them): they need SMTPUTF8 (RFC 6531), which we do not use."""
    local, _, domain = email.rpartition("@")
    if not local.isascii():
        raise InvalidEmail(
            "Letters beyond ASCII before the @-sign need SMTPUTF8, which we do not use.",
            "unsupported",
        )
    return email if domain.isascii() else f"{local}@{ascii_domain(domain)}"


def address_header(name: str, email: str) -> str:
    """A From/To/Reply-To value: the display name as a phrase, folded, then the address."""
    check_header(email)
    address = smtp_address(email)
    if not name:
        return address
    # Most names are plain words that fit one line with the address: folding leaves them so.
    if len(name) + len(address) + 3 <= _LINE and _PLAIN_PHRASE.fullmatch(name):
        return f"{name} <{address}>"
    return _fold([*phrase_words(name), f"<{address}>"])


def list_id_header(name: str, list_id: str) -> str:
    """A List-Id value (RFC 2919): the list's name as a phrase, so it cannot add an id."""
    return _fold([*phrase_words(name), f"<{list_id}>"])


def check_header(value: str) -> str:
    if has_line_break(value):
        raise HeaderInjection("header values cannot contain line breaks")
    return value


def encode_header(value: str) -> str:
    """An unstructured value (Subject): as it is when plain ASCII, else RFC 2047 words."""
    check_header(value)
    if _PLAIN_TEXT.fullmatch(value):
        return _fold(value.split(" "))
    return _fold(_encoded_words(value, WORD_BYTES))


def phrase_words(value: str) -> list[str]:
    """A display name or list name as phrase words: atoms when it is only those, else encoded
    words (never a quoted string, whose quotes a List-Id keeps), each within RFC 2047's 75
    characters and ending where a word of the name ends, its space kept inside.

    RFC 2047 readers join adjacent encoded words as they are; CPython's address parser adds
    a space between them, which at a word's end only doubles one."""
    check_header(value)
    if _PLAIN_PHRASE.fullmatch(value):
        return value.split(" ")
    chunks = [""]
    for word in re.findall(r"\S+\s*|\s+", value):
        if chunks[-1] and len((chunks[-1] + word).encode()) > WORD_BYTES:
            chunks.append("")
        chunks[-1] += word
    return [encoded for chunk in chunks for encoded in _encoded_words(chunk, WORD_BYTES)]


# Left as they are: single-spaced words that no parser can read as anything but text.
# "=?" is excluded as a decoder would take it for the start of an encoded word.
_PLAIN_TEXT = re.compile(r"(?!.*=\?)[!-~]{1,900}(?: [!-~]{1,900})*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,900}"
_PLAIN_PHRASE = re.compile(rf"(?!.*=\?){_ATOM}(?: {_ATOM})*")
# Bytes per encoded word: 52 base64 characters, so a word and the longest header name
# we encode ("Reply-To: ") fit the 76 characters RFC 2047 allows a line.
WORD_BYTES = 39
_LINE = 76 - len("Reply-To: ")


def _encoded_words(value: str, size: int) -> list[str]:
    """RFC 2047 "B" words of at most `size` bytes, each of whole characters."""
    if not value:
        return []
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > size:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return [f"=?utf-8?b?{binascii.b2a_base64(word, newline=False).decode()}?=" for word in words]


def _fold(words: list[str]) -> str:
    """Words joined by single spaces, a line break before a word that would make a long line.

    Unfolding takes the CRLF out and keeps the space, so the value reads back the same."""
    lines = words[:1]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) <= _LINE:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\r\n ".join(lines)


def check_folded(value: str) -> str:
    """An encoded value: line breaks only where a fold continues the header."""
    check_header(value.replace("\r\n ", " "))
    return value


def new_message_id(domain: str) -> str:
    return make_msgid(idstring=token_hex(4), domain=domain)


# A value quoted-printable leaves as it is (RFC 2045 6.7): printable ASCII but "=", not
# ending in a space, short enough for one line with its soft break. Links and most names.
_AS_IS = re.compile(r"(?:[ !-<>-~]{0,74}[!-<>-~])?")


def _quoted_printable_value(text: str) -> bytes:
    """A per-subscriber value, encoded; most need nothing done."""
    if as_is(text):
        return text.encode("ascii")
    return _room_for_break(_quoted_printable(text))


def _room_for_break(encoded: bytes) -> bytes:
    """b2a_qp's last line may fill all 76 characters; a soft break after it would make it
    77, so it is broken once more, never inside an "=XX"."""
    if len(encoded.rsplit(b"\r\n", 1)[-1]) < MAX_LINE:
        return encoded
    cut = len(encoded) - (3 if encoded[-3:-2] == b"=" else 1)
    return encoded[:cut] + SOFT_BREAK + encoded[cut:]


def _quoted_printable(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    # b2a_qp ends lines as its input does: bare LF, which SMTP wants as CRLF.
    return encoded.replace(b"\n", b"\r\n")


def quoted_printable_size(text: str) -> int:
    """How many bytes the text takes as a quoted-printable part."""
    return len(_quoted_printable(text))


# A soft line break: nothing in the decoded text, and it keeps every encoded line short.
SOFT_BREAK = b"=\r\n"
MAX_LINE = 76  # RFC 2045 6.7


class MarkedBody:
    """A body split once at its per-subscriber markers; fill() puts one subscriber's values
    between its pieces. `encode` applies to pieces and values alike, `frame` goes around
    each value."""

    def __init__(self, body: str, markers: re.Pattern, encode=lambda text: text, frame=""):
        pieces = markers.split(body)
        self.encode, self.frame = encode, frame
        self.pieces = [encode(piece) for piece in pieces[0::2]]
        self.markers = pieces[1::2]

    def fill(self, values: dict[str, str]) -> list:
        framed = {
            marker: self.frame + self.encode(value) + self.frame for marker, value in values.items()
        }
        return self._between(self.pieces, [framed[marker] for marker in self.markers])

    @staticmethod
    def _between(pieces: list, values: list) -> list:
        """The pieces with the values, in their markers' order, between them: slices, not a
        loop of appends, as a digest has dozens of markers."""
        chunks = [None] * (2 * len(pieces) - 1)
        chunks[0::2] = pieces
        chunks[1::2] = values
        return chunks


class QuotedPrintableTemplate(MarkedBody):
    """A body encoded once, with per-subscriber values patched in between its pieces.

    Each piece is encoded on its own and each value is framed by soft line breaks, so
    the result is valid quoted-printable however long the values are. Every piece and
    value so starts a line, and its dots are doubled for SMTP once (`smtp_pieces`).
    """

    def __init__(self, body: str, markers: re.Pattern):
        super().__init__(body, markers, _quoted_printable, SOFT_BREAK)
        self.encode = _quoted_printable_value
        # Every piece but the last is followed by a soft break.
        self.pieces[:-1] = [_room_for_break(piece) for piece in self.pieces[:-1]]
        self.smtp_pieces = [double_dots(piece) for piece in self.pieces]


def framed_value(value: str) -> tuple[bytes, bytes]:
    """A value as it goes between two encoded pieces, and the same as SMTP's DATA carries
    it. Framed, it starts after a soft break: a leading dot is found by "\\r\\n."."""
    framed = SOFT_BREAK + _quoted_printable_value(value) + SOFT_BREAK
    return framed, double_dots(framed)


class TokenFrame:
    """framed_value() for values made of a fixed prefix, a token and a fixed suffix, such
    as a link and its token: the prefix and the suffix encoded once, on lines of their own,
    so that per value only the token is new when quoted-printable leaves it as it is (a
    URL-safe token); else framed_value()."""

    def __init__(self, prefix: str, suffix: str = ""):
        self.prefix, self.suffix = prefix, suffix
        self.head, self.smtp_head = framed_value(prefix)
        self.tail, self.smtp_tail = framed_value(suffix) if suffix else (SOFT_BREAK, SOFT_BREAK)
        self.ready = not prefix.startswith(".")

    def framed(self, token: str) -> tuple[bytes, bytes]:
        """framed_value(prefix + token + suffix)."""
        # The token starts a line: a leading dot there would need doubling.
        if self.ready and as_is(token) and token[:1] != ".":
            token = token.encode()
            return self.head + token + self.tail, self.smtp_head + token + self.smtp_tail
        return framed_value(self.prefix + token + self.suffix)


def as_is(value: str) -> bool:
    """Quoted-printable leaves `value` as it is, between two soft breaks."""
    return _AS_IS.fullmatch(value) is not None


def double_dots(lines: bytes) -> bytes:
    """SMTP's transparency (RFC 5321 4.5.2) for bytes that start a line: a line's leading
    dot doubled, so no line reads as the end of the data."""
    if not lines.startswith(b".") and b"\r\n." not in lines:
        return lines
    doubled = lines.replace(b"\r\n.", b"\r\n..")
    return b"." + doubled if doubled.startswith(b".") else doubled


class Stuffed:
    """A message in chunks, as SMTP's DATA carries it (`chunks`: dots doubled, not yet
    ended) and as it is (`bytes()`), made from parts whose dots were doubled once for every
    copy of an issue. Joined once, on the way to the socket."""

    __slots__ = ("chunks", "plain")

    def __init__(self, plain: list[bytes], chunks: list[bytes]):
        self.plain, self.chunks = plain, chunks

    def __bytes__(self) -> bytes:
        return b"".join(self.plain)

    def headed(self, head: bytes) -> Stuffed:
        """This message with `head` (its header lines and the blank line) in its first chunk."""
        self.plain[0], self.chunks[0] = head, double_dots(head)
        return self


class SlottedBody:
    """A text + HTML message's body, encoded once, and a slot at each of its markers: a
    copy's body is the fixed pieces with the copy's framed values between them, each slot
    taking the value at its index in one list per copy (`index(part, marker)`, part "text"
    or "html", gives it). Picked and placed by slices, not a loop: a digest has dozens."""

    def __init__(
        self,
        frame: Multipart,
        text: QuotedPrintableTemplate,
        html: QuotedPrintableTemplate,
        index: Callable[[str, str], int],
    ):
        slots = [index("text", marker) for marker in text.markers]
        slots += [index("html", marker) for marker in html.markers]
        self.pick = _picker(slots)
        # Fixed bytes between two slots are one piece: the parts' heads and the end join
        # the encoded pieces beside them. All start a line, as SMTP's dots want.
        self.pieces = _joined(frame, text.pieces, html.pieces)
        self.smtp_pieces = _joined(frame, text.smtp_pieces, html.smtp_pieces)

    def fill(self, values: list[bytes], smtp_values: list[bytes]) -> Stuffed:
        """A copy's body, the room for its head left empty (`Stuffed.headed`)."""
        return Stuffed(
            self._between(self.pieces, self.pick(values)),
            self._between(self.smtp_pieces, self.pick(smtp_values)),
        )

    @staticmethod
    def _between(pieces: list[bytes], values: tuple) -> list[bytes]:
        chunks = [b""] * (2 * len(pieces))
        chunks[1::2] = pieces
        chunks[2::2] = values
        return chunks


def _picker(slots: list[int]) -> Callable[[list], tuple]:
    """The values at these indexes, as a tuple (itemgetter's, made in C)."""
    if len(slots) == 1:
        only = slots[0]
        return lambda values: (values[only],)
    return operator.itemgetter(*slots) if slots else lambda values: ()


def _joined(frame: Multipart, text: list[bytes], html: list[bytes]) -> list[bytes]:
    """The body's bytes between its slots: the text part's head and first piece, ..., the
    text's last piece, the HTML part's head and its first piece, ..., its last and the end."""
    pieces = [frame.text_head + text[0], *text[1:]]
    pieces[-1] += frame.html_head + html[0]
    pieces += html[1:]
    pieces[-1] += frame.end
    return pieces


class Multipart:
    """The fixed frame of a text + HTML message; the bodies come already encoded."""

    def __init__(self):
        self.boundary = "=_nl_" + token_hex(12)
        part = (
            "--{b}\r\nContent-Type: text/{kind}; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        )
        self.headers = [
            ("MIME-Version", "1.0"),
            ("Content-Type", f'multipart/alternative; boundary="{self.boundary}"'),
        ]
        # The body begins with the text part's head; the blank line before it ends the headers.
        self.text_head = part.format(b=self.boundary, kind="plain").encode()
        self.html_head = b"\r\n" + part.format(b=self.boundary, kind="html").encode()
        # Ends in one CRLF, so the body is already in DKIM's simple canonical form.
        self.end = f"\r\n--{self.boundary}--\r\n".encode()

    def message(self, headers: list[tuple[str, str]], text: list[bytes], html: list[bytes]):
        """Header values must already be encoded."""
        return signing.sign(
            self.assemble(header_lines(headers + self.headers), self.body(text, html))
        )

    def body(self, text: list[bytes], html: list[bytes]) -> list[bytes]:
        return [self.text_head, *text, self.html_head, *html, self.end]

    @staticmethod
    def assemble(head: str, body: list[bytes]) -> bytes:
        """Header lines, already checked and encoded, and the body's chunks."""
        return b"".join([(head + "\r\n").encode("ascii"), *body])


def header_lines(headers: list[tuple[str, str]]) -> str:
    return "".join(f"{name}: {check_folded(value)}\r\n" for name, value in headers)


def mime_bytes(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """A multipart/alternative message. Header values must already be encoded."""
    return Multipart().message(headers, [_quoted_printable(text)], [_quoted_printable(html)])


def inline_css(html: str) -> str:
    return premailer.transform(
        html,
        keep_style_tags=True,
        strip_important=False,
        disable_validation=True,
        cssutils_logging_level="CRITICAL",
    )


# What fills an inbox's preview after the preheader (templates/email/digest.html): only in
# the HTML. The three together, never a lone zero-width non-joiner, which Persian writes
# inside its words.
PREVIEW_FILLER = re.compile("(?:\u034f\u200c\u00a0)+")


class _TextPart(html2text.HTML2Text):
    """html2text, leaving text as it is written: it puts a backslash before a line's "1.",
    "2019.", "-" or "+" (and before a backslash ahead of a mark), so that Markdown would not
    read a list there, and readers of the text part saw "1\\. First point"."""

    def handle_data(self, data: str, entity_char: bool = False) -> None:
        # html2text escapes only what is not an entity's character; ours are all as written.
        super().handle_data(data, entity_char=True)


def html_to_text(html: str, plain: bool = False) -> str:
    """The text part of our HTML (Markdown's marks and links kept); `plain`: words only, as
    a post by email that came as HTML alone is shown."""
    converter = _TextPart()
    converter.body_width = 0  # wrapping would break long links
    converter.ignore_images = True
    converter.ignore_emphasis = plain
    converter.ignore_links = plain
    converter.protect_links = True
    converter.unicode_snob = True
    return PREVIEW_FILLER.sub("", converter.handle(html)).strip() + "\n"


def render_email(template: str, **context) -> tuple[str, str]:
    """HTML (CSS inlined) and text for templates/email/<template>.html."""
    html = render_template(f"email/{template}.html", **context)
    return inline_css(html), html_to_text(html)


def standard_headers(
    sender: tuple[str, str], to: tuple[str, str], subject: str, reply_to: str | None = None
) -> list[tuple[str, str]]:
    domain = current_app.config["MAIL_DOMAIN"]
    headers = [
        ("From", address_header(*sender)),
        ("To", address_header(*to)),
        ("Subject", encode_header(subject)),
        ("Date", formatdate(localtime=False, usegmt=True)),
        ("Message-ID", new_message_id(domain)),
    ]
    if reply_to:
        headers.append(("Reply-To", address_header("", reply_to)))
    return headers


def send(smtp: smtplib.SMTP, sender: str, recipient: str, message: bytes) -> None:
    smtp.sendmail(smtp_address(sender), [smtp_address(recipient)], message)
