"""Polling a mailbox for bounces: imap://, imaps://, pop3:// or pop3s:// URLs, signed in
with the URL's password or, given an OAuth client (oauth.py), with XOAUTH2.

A message is deleted from the box only once what it says is committed, so a database
that is down, or a poll killed half way, leaves the rest to the next poll.
"""

from __future__ import annotations

import base64
import imaplib
import logging
import poplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, unquote, urlsplit

from newsletter.bounces.intake import take
from newsletter.bounces.oauth import Client, TokenError, xoauth2

log = logging.getLogger(__name__)

PORTS = {"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
LINE_MAX = 10 * 1024 * 1024  # as the bounce server's: a message's size
Handler = Callable[[bytes], None]


class MailboxError(Exception):
    pass


def fetch(url: str, timeout: float = 30, oauth: Client | None = None) -> int:
    """Read and delete every message in the box; how many were read."""
    parts = urlsplit(url)
    if parts.scheme not in PORTS:
        raise MailboxError(f"Use an imap://, imaps://, pop3:// or pop3s:// URL, not {url!r}.")
    poll = _imap if parts.scheme.startswith("imap") else _pop3
    login = _Login(unquote(parts.username or ""), unquote(parts.password or ""), oauth, timeout)
    try:
        return poll(parts, timeout, login, lambda raw: take(raw, [], parts.scheme))
    except (OSError, imaplib.IMAP4.error, poplib.error_proto, TokenError) as exc:
        if oauth:  # a token the server no longer takes (revoked early): the next poll asks anew
            oauth.forget()
        raise MailboxError(f"{parts.scheme}://{parts.hostname}: {exc}") from exc


class _Login:
    """The user, and the password or the OAuth client that signs them in."""

    def __init__(self, user: str, password: str, oauth: Client | None, timeout: float):
        self.user, self.password, self.oauth, self.timeout = user, password, oauth, timeout

    def imap(self, box: imaplib.IMAP4) -> None:
        if self.oauth:
            # After a refusal, XOAUTH2 servers send their error as a challenge, which an
            # empty answer closes (RFC 7628 3.2.3); then comes the NO.
            answers = iter([xoauth2(self.user, self.oauth.token(self.timeout))])
            box.authenticate("XOAUTH2", lambda _challenge: next(answers, b""))
        elif (self.user + self.password).isascii():
            box.login(self.user, self.password)
        else:  # LOGIN is ASCII alone in imaplib; SASL PLAIN carries UTF-8 (RFC 4616)
            box.authenticate("PLAIN", lambda _: f"\0{self.user}\0{self.password}".encode())

    def pop3(self, box: poplib.POP3) -> None:
        if not self.oauth:
            box.user(self.user)
            box.pass_(self.password)
            return
        box._shortcmd("AUTH XOAUTH2")  # RFC 5034; Microsoft's and Dovecot's way: "+ ", then
        response = xoauth2(self.user, self.oauth.token(self.timeout))
        said = box._shortcmd(base64.b64encode(response).decode())
        if not said.startswith(b"+OK"):  # the error as a challenge: answered, the -ERR comes
            box._shortcmd("")
            raise poplib.error_proto(f"XOAUTH2 was not accepted: {said!r}")


def _starttls(parts) -> bool:
    return parse_qs(parts.query).get("tls") == ["starttls"]


def _tls() -> ssl.SSLContext:
    """The server's certificate checked against the system's authorities (SSL_CERT_FILE
    names another bundle, for a private one): imaplib's and poplib's own default checks
    nothing, so anyone between us and the box could take the password."""
    return ssl.create_default_context()


def _imap(parts, timeout: float, login: _Login, handle: Handler) -> int:
    port = parts.port or PORTS[parts.scheme]
    if parts.scheme == "imaps":
        opened = imaplib.IMAP4_SSL(parts.hostname, port, ssl_context=_tls(), timeout=timeout)
    else:
        opened = imaplib.IMAP4(parts.hostname, port, timeout=timeout)
    with _closing_imap(opened) as box:
        if _starttls(parts):
            box.starttls(ssl_context=_tls())
        login.imap(box)
        _check(box.select(mailbox_name(unquote(parts.path.strip("/")) or "INBOX")))
        uids = _check(box.uid("SEARCH", None, "ALL"))[0].split()
        for uid in uids:
            data = _check(box.uid("FETCH", uid, "(BODY.PEEK[])"))
            message = next((item[1] for item in data if isinstance(item, tuple)), None)
            if message is None:  # expunged since the search: another poll took it
                continue
            handle(message)
            _check(box.uid("STORE", uid, "+FLAGS", "(\\Deleted)"))
        box.expunge()
        return len(uids)


def mailbox_name(name: str) -> str:
    """A folder's name as IMAP takes it: modified UTF-7 (RFC 3501 5.1.3) for what is not
    printable ASCII, in quotes. imaplib sends it bare: "Bounces 2024" selected "Bounces",
    another folder, whose mail was read and deleted; "برگشتی" raised."""
    encoded, pending = [], []

    def shift() -> None:
        if pending:
            data = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            encoded.append("&" + data.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            shift()
            encoded.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    shift()
    return '"' + "".join(encoded).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(reply) -> list:
    status, data = reply
    if status != "OK":
        raise MailboxError(f"the server answered {status}: {data!r}")
    return data


@contextmanager
def _closing_imap(box: imaplib.IMAP4) -> Iterator[imaplib.IMAP4]:
    try:
        yield box
    finally:
        try:
            box.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _pop3(parts, timeout: float, login: _Login, handle: Handler) -> int:
    port = parts.port or PORTS[parts.scheme]
    if parts.scheme == "pop3s":
        box = _POP3_SSL(parts.hostname, port, context=_tls(), timeout=timeout)
    else:
        box = _POP3(parts.hostname, port, timeout=timeout)
    try:
        if _starttls(parts):
            box.stls(context=_tls())
        login.pop3(box)
        count = len(box.list()[1])
        for number in range(1, count + 1):
            try:
                lines = box.retr(number)[1]
            except poplib.error_proto as exc:  # "-ERR Message 3 expunged": another poll's
                log.info(
                    "pop3: message %d was not read (%s); it stays for the next poll", number, exc
                )
                continue
            handle(b"\r\n".join(lines) + b"\r\n")
            box.dele(number)
        box.quit()  # deletions happen here, and only here
        return count
    except BaseException:
        try:
            box.close()  # no QUIT: the server keeps every message, read or not
        except OSError:  # a socket a failed TLS handshake left: the first error says why
            pass
        raise


class _LongLines:
    """poplib refuses a line over 2,048 bytes, which a message may hold (a quoted original,
    base64 unwrapped): the poll failed before its QUIT, so that message and every one after
    it stayed in the box for every poll to fail on again."""

    def _getline(self):
        line = self.file.readline(LINE_MAX + 1)
        if len(line) > LINE_MAX:
            raise poplib.error_proto("-ERR line too long")
        if not line:
            raise poplib.error_proto("-ERR EOF")
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        return (line[1:-1] if line[:1] == b"\r" else line[:-1]), octets


class _POP3(_LongLines, poplib.POP3):
    pass


class _POP3_SSL(_LongLines, poplib.POP3_SSL):
    pass
