"""Leaving by email: List-Unsubscribe's mailto: (RFC 2369), for mail programs that write
rather than click (Apple Mail's unsubscribe button among them). It goes to unsubscribe@ the
bounce domain with the subject "unsubscribe <token>", the signed token of the unsubscribe
link, which alone says whose subscription it is: the From line proves nothing."""

from __future__ import annotations

import logging
import re
from email.parser import BytesHeaderParser

from newsletter import links, verp
from newsletter.bounces import scan
from newsletter.subscriptions import service

log = logging.getLogger(__name__)

TOKEN = re.compile(r"(?i)\bunsubscribe\s+([\w.\-]+)")


def take(raw: bytes, envelope_recipients: list[str]) -> bool:
    """Act on a message sent to the unsubscribe address; False for any other message."""
    try:
        # The head alone: every bounce passes here before it is read whole.
        msg = BytesHeaderParser(policy=scan.READABLE).parsebytes(raw)
        named = list(envelope_recipients)
        for name in ("To", "Delivered-To", "X-Original-To"):
            named += scan.listed(scan.headers(msg, name))
        subject = scan.header_text(msg, "Subject")
    except Exception:  # unreadable: left to the bounce reader, which logs it
        return False
    if not any(verp.is_unsubscribe_address(address) for address in named):
        return False
    found = TOKEN.search(subject)
    try:
        target = links.read(links.UNSUBSCRIBE, found.group(1) if found else "")
    except links.TokenError:
        log.info("mail to the unsubscribe address without a valid token: dropped")
        return True
    subscription = service.get_subscription(target.subscriber_id, target.list_id)
    if subscription is not None:
        service.unsubscribe(subscription, "email")
    return True
