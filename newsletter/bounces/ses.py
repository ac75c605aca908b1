"""Amazon SES's notices: its JSON, as SNS, EventBridge or a forwarding tool carry it."""

from __future__ import annotations

import json
import re
import weakref
from email.message import Message
from email.utils import parseaddr

from newsletter.bounces.dsn import diagnosed
from newsletter.bounces.scan import Evidence, bounce_parts, text_of

# Per message, its JSON read once (parsed)
_SES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# Its kind's key, in any letters' case: a tool that rewrites the keys (PascalCase) still
# sends SES's JSON, which is never a report to read words from.
SES_KEY = re.compile(r'\\?"(?:notificationType|eventType)\\?"', re.I)


def parsed(msg: Message) -> dict | None:
    """Amazon SES's JSON notification (bare or in an SNS envelope); {} for one that cannot be
    read (cut, or not an object); None when the message is none. Read once a message: the
    complaint, the failures and the quoted message all come from it."""
    if msg not in _SES:
        _SES[msg] = _ses_read(msg)
    return _SES[msg]


def _ses_read(msg: Message) -> dict | None:
    seen = False
    for part, kind in bounce_parts(msg):
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
        return json_object(data)
    return {} if seen else None


# RFC 5321's longest address: a longer "address" is none, and only slows every rule read.
LONGEST_ADDRESS = 320


def json_object(value) -> dict:
    """A JSON object; anything else in its place names nobody."""
    return value if isinstance(value, dict) else {}


def json_objects(value) -> list[dict]:
    """The objects of a JSON list; anything else in it, or instead of it, names nobody."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def json_address(value) -> str:
    """An address field's address: "John <j@example.net>" names j@example.net."""
    if not isinstance(value, str) or len(value) > LONGEST_ADDRESS:
        return ""
    return parseaddr(value.strip().removeprefix("mailto:"))[1]


def sent(msg: Message) -> tuple[list[str], list[str]]:
    """(the Message-IDs, the return paths) of our message that an SES notification quotes in
    its "mail" object: what names the copy, as a bounce's quoted original does."""
    mail = json_object((parsed(msg) or {}).get("mail"))
    common = json_object(mail.get("commonHeaders"))
    ids = [common.get("messageId")] + [
        h.get("value")
        for h in json_objects(mail.get("headers"))
        if str(h.get("name")).lower() == "message-id"
    ]
    return (
        list(dict.fromkeys(i.strip() for i in ids if isinstance(i, str) and 0 < len(i) <= 998)),
        [a for a in [json_address(mail.get("source"))] if a],
    )


def notice(msg: Message) -> list[Evidence] | None:
    """The recipients of an SES bounce, delay or delivery notice; [] for an SES event that
    fails nobody (a send, an open, a click) or one that cannot be read; None when the
    message is no SES notification."""
    found = parsed(msg)
    return None if found is None else _ses_recipients(found)


def _ses_failures(recipients, action: str, temporary: bool, subtype: str) -> list[Evidence]:
    found = []
    for rcpt in json_objects(recipients):
        source, words, status, reply = diagnosed(str(rcpt.get("diagnosticCode") or ""), "")
        status = status or str(rcpt.get("status") or ("4.0.0" if temporary else ""))[:20]
        found.append(
            Evidence(
                json_address(rcpt.get("emailAddress")),
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
        bounce = json_object(data.get("bounce"))
        temporary = bounce.get("bounceType") == "Transient"
        subtype = str(bounce.get("bounceSubType") or "")[:100]
        return _ses_failures(bounce.get("bouncedRecipients"), "failed", temporary, subtype)
    if kind == "DeliveryDelay":  # still queued: recorded, not a failure
        delay = json_object(data.get("deliveryDelay"))
        subtype = str(delay.get("delayType") or "")[:100]
        return _ses_failures(delay.get("delayedRecipients"), "delayed", True, subtype)
    if kind == "Delivery":
        delivery = json_object(data.get("delivery"))
        said = str(delivery.get("smtpResponse") or "")[:1000]
        recipients = delivery.get("recipients")
        recipients = recipients if isinstance(recipients, list) else []
        return [
            Evidence(a, "2.0.0", "", "delivered", said) for a in map(json_address, recipients) if a
        ]
    return []
