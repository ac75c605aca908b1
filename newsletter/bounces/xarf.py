"""X-ARF, the abuse reports of abuse desks and of Abusix's network (x-arf.org).

Version 0.2 sends three parts: words, a YAML report ("Report-Type: spam") and the evidence,
our message attached or pasted as text. XARF 2 and 4 put everything in one JSON document:
the envelope sender (our return path), the recipient, and our message in base64. A spam
report is a reader's complaint; the rest (login attacks, bots, a block list's log of our
refusals) is about our network, never a reader's wish.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser

from newsletter.bounces.scan import READABLE, bounce_parts, payload_bytes, text_of

# XARF 2's ReportType and XARF 4's type that say a reader did not want our mail
_SPAM = {"spam", "bulk_messaging"}
# the largest JSON document read: a report with our whole message in it, with room
MOST_JSON = 512 * 1024


@dataclass
class Report:
    spam: bool
    return_paths: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    original: Message | None = None


def read(msg: Message) -> Report | None:
    """The X-ARF report this message is, or None when it is none."""
    parts = bounce_parts(msg)
    for part, kind in parts:
        if kind == "application/json":
            document = _json(part)
            if document is not None:
                return _from_json(document)
    if not (msg.get("X-ARF") or msg.get("X-XARF")):
        return None
    texts = [part for part, kind in parts if kind == "text/plain"]
    fields = next((f for f in map(_yaml_fields, texts) if f.get("Report-Type")), None)
    if fields is None:
        return None
    spam = fields["Report-Type"].strip().lower() in _SPAM
    evidence = texts[-1] if len(texts) > 2 else None
    return Report(spam, original=_headers_of(text_of(evidence)) if evidence is not None else None)


def _json(part: Message) -> dict | None:
    payload = payload_bytes(part) or b""
    if len(payload) > MOST_JSON:
        return None
    try:
        document = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    if "xarf_version" in document or isinstance(document.get("Report"), dict):
        return document
    return None


def _from_json(document: dict) -> Report:
    report = document.get("Report")
    if isinstance(report, dict):  # XARF 2 (Abusix)
        kind, sender, to = (
            report.get("ReportType"),
            report.get("SmtpMailFromAddress"),
            report.get("SmtpRcptToAddress"),
        )
        samples = [(s.get("ContentType"), s.get("Payload")) for s in _dicts(report.get("Samples"))]
    else:  # XARF 4
        kind, sender, to = document.get("type"), document.get("smtp_from"), document.get("smtp_to")
        samples = [
            (e.get("content_type"), e.get("payload")) for e in _dicts(document.get("evidence"))
        ]
    original = next(
        (
            _headers_of(_base64(payload))
            for content_type, payload in samples
            if content_type == "message/rfc822" and isinstance(payload, str)
        ),
        None,
    )
    return Report(
        spam=str(kind).lower() in _SPAM,
        return_paths=[sender] if isinstance(sender, str) else [],
        recipients=[to.lower()] if isinstance(to, str) and "@" in to else [],
        original=original,
    )


def _dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _base64(payload: str) -> str:
    try:
        return base64.b64decode(payload).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return payload  # some reporters paste the message as it is


def _yaml_fields(part: Message) -> Message:
    """Version 0.2's report: "Name: value" lines under YAML's "---", read as header fields."""
    text = text_of(part).lstrip()
    return HeaderParser(policy=READABLE).parsestr(text.removeprefix("---").lstrip() + "\n")


def _headers_of(text: str) -> Message | None:
    parsed = HeaderParser(policy=READABLE).parsestr(text.lstrip())
    return parsed if parsed.get("Message-ID") or parsed.get("Return-Path") else None
