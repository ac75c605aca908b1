"""Polling a mailbox for bounces: imap://, imaps://, pop3:// or pop3s:// URLs.

A message is deleted from the box only once what it says is committed, so a database
that is down, or a poll killed half way, leaves the rest to the next poll.
"""

from __future__ import annotations

import imaplib
import logging
import poplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, unquote, urlsplit

from newsletter.bounces.intake import take

log = logging.getLogger(__name__)

PORTS = {"imap": 143, "imaps": 993, "pop3": 110, "pop3s": 995}
Handler = Callable[[bytes], None]


class MailboxError(Exception):
    pass


def fetch(url: str, timeout: float = 30) -> int:
    """Read and delete every message in the box; how many were read."""
    parts = urlsplit(url)
    if parts.scheme not in PORTS:
        raise MailboxError(f"Use an imap://, imaps://, pop3:// or pop3s:// URL, not {url!r}.")
    poll = _imap if parts.scheme.startswith("imap") else _pop3
    try:
        return poll(parts, timeout, lambda raw: take(raw, [], parts.scheme))
    except (OSError, imaplib.IMAP4.error, poplib.error_proto) as exc:
        raise MailboxError(f"{parts.scheme}://{parts.hostname}: {exc}") from exc


def _login(parts) -> tuple[str, str]:
    return unquote(parts.username or ""), unquote(parts.password or "")


def _starttls(parts) -> bool:
    return parse_qs(parts.query).get("tls") == ["starttls"]


def _tls() -> ssl.SSLContext:
    """The server's certificate checked against the system's authorities (SSL_CERT_FILE
    names another bundle, for a private one): imaplib's and poplib's own default checks
    nothing, so anyone between us and the box could take the password."""
    return ssl.create_default_context()


def _imap(parts, timeout: float, handle: Handler) -> int:
    port = parts.port or PORTS[parts.scheme]
    if parts.scheme == "imaps":
        opened = imaplib.IMAP4_SSL(parts.hostname, port, ssl_context=_tls(), timeout=timeout)
    else:
        opened = imaplib.IMAP4(parts.hostname, port, timeout=timeout)
    with _closing_imap(opened) as box:
        if _starttls(parts):
            box.starttls(ssl_context=_tls())
        box.login(*_login(parts))
        _check(box.select(unquote(parts.path.strip("/")) or "INBOX"))
        uids = _check(box.uid("SEARCH", None, "ALL"))[0].split()
        for uid in uids:
            data = _check(box.uid("FETCH", uid, "(BODY.PEEK[])"))
            handle(next(item[1] for item in data if isinstance(item, tuple)))
            _check(box.uid("STORE", uid, "+FLAGS", "(\\Deleted)"))
        box.expunge()
        return len(uids)


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


def _pop3(parts, timeout: float, handle: Handler) -> int:
    port = parts.port or PORTS[parts.scheme]
    if parts.scheme == "pop3s":
        box = poplib.POP3_SSL(parts.hostname, port, context=_tls(), timeout=timeout)
    else:
        box = poplib.POP3(parts.hostname, port, timeout=timeout)
    try:
        if _starttls(parts):
            box.stls(context=_tls())
        user, password = _login(parts)
        box.user(user)
        box.pass_(password)
        count = len(box.list()[1])
        for number in range(1, count + 1):
            handle(b"\r\n".join(box.retr(number)[1]) + b"\r\n")
            box.dele(number)
        box.quit()  # deletions happen here, and only here
        return count
    except BaseException:
        box.close()  # no QUIT: the server keeps every message, read or not
        raise
