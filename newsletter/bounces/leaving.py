"""Leaving by email: List-Unsubscribe's mailto: (RFC 2369), for mail programs that write
rather than click (Apple Mail's unsubscribe button among them). It goes to
unsubscribe+<token>@ the bounce domain with the subject "unsubscribe <token>", the signed
token of the unsubscribe link, which alone says whose subscription it is: the From line
proves nothing. Programs keep the subject, or only the address (iOS Mail, Gmail's empty
message), and people paste the words into the body."""

from __future__ import annotations

import email
import logging
import re
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from itertools import islice

from newsletter import links, verp
from newsletter.bounces import scan
from newsletter.subscriptions import service

log = logging.getLogger(__name__)

TOKEN = re.compile(r"(?i)\bunsubscribe\s+([\w.\-]+)")
# Of the body, what is searched for the words: a person's note, not a quoted newsletter.
BODY_MAX = 20_000
TRIES = 5


def take(raw: bytes, envelope_recipients: list[str]) -> bool:
    """Act on a message sent to the unsubscribe address with a valid token; False for any
    other message, which the bounce reader judges (a complaint sent here is one)."""
    try:
        # The head alone: every bounce passes here before it is read whole.
        msg = BytesHeaderParser(policy=scan.READABLE).parsebytes(raw)
        named = list(envelope_recipients)
        for name in ("To", "Delivered-To", "X-Original-To"):
            named += scan.listed(scan.headers(msg, name))
        subject = scan.header_text(msg, "Subject")
    except Exception:  # unreadable: left to the bounce reader, which logs it
        return False
    in_address = [verp.unsubscribe_token(address) for address in named]
    # A report sent here (a complaint, as Gmail's "unsubscribe and report spam" sends one)
    # is the bounce reader's: it is more than leaving one list.
    if all(token is None for token in in_address) or msg.get_content_type() == "multipart/report":
        return False
    for token in islice(_tokens(subject, in_address, raw), TRIES):
        try:
            target = links.read(links.UNSUBSCRIBE, token)
        except links.TokenError:
            continue
        subscription = service.get_subscription(target.subscriber_id, target.list_id)
        if subscription is not None:
            service.unsubscribe(subscription, "email")
        return True
    log.info("mail to the unsubscribe address without a valid token: left to the bounce reader")
    return False


def _tokens(subject: str, in_address: list[str | None], raw: bytes) -> Iterator[str]:
    """Where a token may be, most trusted first: the subject, the address, the body."""
    yield from (found.group(1) for found in TOKEN.finditer(subject))
    yield from (token for token in in_address if token)
    yield from (found.group(1) for found in TOKEN.finditer(_body_text(raw)))


def _body_text(raw: bytes) -> str:
    try:
        part = email.message_from_bytes(raw, policy=scan.READABLE).get_body(("plain",))
        return part.get_content()[:BODY_MAX] if part is not None else ""
    except Exception:  # noqa: BLE001 - an unreadable body holds no token we can read
        return ""
