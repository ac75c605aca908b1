"""Reading bounces (RFC 3464 and the odd formats of real servers) and complaints (RFC 5965).

Nothing here touches the database: a message goes in, a Report comes out.
"""

from __future__ import annotations

import email
import logging
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses

from flufl.bounce import all_failures

log = logging.getLogger(__name__)

# Headers a mail server or a mailbox adds to say which address a message was delivered to:
# where a VERP return path is found when the message arrives by IMAP or POP3.
DELIVERED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "To")


@dataclass
class Report:
    complaint: bool = False
    permanent: set[str] = field(default_factory=set)
    temporary: set[str] = field(default_factory=set)
    complained: set[str] = field(default_factory=set)
    # Of the original message, when the report quotes it: ours name their delivery.
    message_ids: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    detail: str = ""
    dsn_kind: str | None = None

    @property
    def kind(self) -> str | None:
        """What this report says about the reader its return path names."""
        if self.complaint:
            return "complaint"
        if self.permanent:
            return "hard"
        if self.temporary:
            return "soft"
        return self.dsn_kind


def _addresses(found) -> set[str]:
    """flufl.bounce's bytes addresses as lower-case text."""
    return {a.decode("utf-8", "replace").strip("<> ").lower() for a in found if a}


def _fields(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    return [HeaderParser().parsestr(payload or "")]


def _value(field_value: str | None) -> str:
    """'rfc822; someone@example.org' → 'someone@example.org'."""
    return (field_value or "").rpartition(";")[2].strip().strip("<>")


def _quoted_headers(part: Message) -> Message | None:
    kind = part.get_content_type()
    if kind == "message/rfc822":
        payload = part.get_payload()
        return payload[0] if isinstance(payload, list) and payload else None
    if kind == "text/rfc822-headers":
        return HeaderParser().parsestr(part.get_payload(decode=True).decode("utf-8", "replace"))
    return None


def _read_parts(msg: Message, report: Report) -> None:
    details = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in _fields(part)[1:]:  # the first block is about the message
                action = (block.get("Action") or "").strip().lower()
                status = (block.get("Status") or "").strip()
                if action == "failed" or status.startswith("5"):
                    report.dsn_kind = "hard"
                elif report.dsn_kind is None and (action == "delayed" or status.startswith("4")):
                    report.dsn_kind = "soft"
                said = " ".join(str(block.get("Diagnostic-Code") or "").split())
                details.append(f"{status} {said}".strip())
        elif kind == "message/feedback-report":
            for block in _fields(part):
                rcpt = _value(block.get("Original-Rcpt-To"))
                if rcpt:
                    report.complained.add(rcpt.lower())
                details.append(f"feedback report: {block.get('Feedback-Type', 'abuse')}")
        quoted = _quoted_headers(part)
        if quoted is not None and quoted.get("Message-ID"):
            report.message_ids.append(quoted["Message-ID"].strip())
    report.detail = "; ".join(d for d in details if d)[:500]


def _is_feedback_report(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and (msg.get_param("report-type") or "").lower() == "feedback-report"
    )


def read(raw: bytes) -> Report:
    """What a message that came back to us says, whatever it is (an auto-reply says nothing)."""
    msg = email.message_from_bytes(raw)
    report = Report()
    for name in DELIVERED_TO:
        report.recipients += [address for _, address in getaddresses(msg.get_all(name, []))]
    _read_parts(msg, report)
    if _is_feedback_report(msg):
        report.complaint = True
        return report
    try:
        temporary, permanent = all_failures(msg)
    except Exception:  # a detector choking on an odd message must not lose the others
        log.exception("flufl.bounce could not read a message")
        temporary, permanent = set(), set()
    report.temporary, report.permanent = _addresses(temporary), _addresses(permanent)
    report.temporary -= report.permanent
    if not report.detail:
        report.detail = " ".join(str(msg.get("Subject", "")).split())[:500]
    return report
