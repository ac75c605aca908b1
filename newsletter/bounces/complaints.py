"""Complaints: feedback reports (ARF), Microsoft's and others' reports sent as plain
multipart/mixed, and the reader they name."""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser

from newsletter.bounces import reasons, ses, xarf
from newsletter.bounces.dsn import field_value
from newsletter.bounces.scan import (
    READABLE,
    addressed,
    addresses_in,
    blocks_decoded,
    bounce_parts,
    forwarded_in_text,
    from_daemon,
    header_text,
    headers,
    human_text,
    inner_parts,
    not_recipients,
    text_of,
)

# An abuse report about our network rather than our mail (X-ARF's login attacks, bots)
NOT_ABOUT_A_READER = "not-about-a-reader"
FEEDBACK_WORDS = re.compile(
    r"(?i)(abuse report|complaint (?:below |attached )?(?:about|regarding|report)|"
    r"\bspam complaint\b|feedback[- ]loop|"
    r"reported (?:as|this) (?:spam|junk)|marked (?:as|this) (?:spam|junk)|junk mail report|"
    r"email abuse|spam report|"
    # An abuse desk's or a reader's own words, our message attached: nobody sends our issue
    # to our bounce address but to be rid of it. In English, German, French, Spanish,
    # Persian and Arabic: spam, unwanted, never subscribed, unsubscribe me, stop.
    r"unsolicited (?:e-?mail|message|bulk)|never (?:subscribed|signed up|opted in|asked for)|"
    r"\bthis is spam\b|\bspamming\b|^spam\b|\bspam from\b|\bjako spam\b|"
    r"\bunsubscribe\b|\bremove (?:me|us|the address|this address)\b|"
    r"\bstop (?:sending|mailing|e-?mailing)\b|"
    r"unerwünschte|nie angemeldet|je dafür angemeldet|\babmelden\b|\baustragen\b|"
    r"indésirable|désabonne|désinscri|no deseado|dar(?:me)? de baja|"
    r"هرزنامه|ناخواسته|لغو اشتراک|حذف کنید|عضو نشده|بريد مزعج|رسائل مزعجة|إلغاء الاشتراك)"
)
# A filter's verdict, not a person's: a gateway's "marked as spam by the recipient's mail
# filter", a quarantine digest the reader forwards asking why. "Not spam" is no complaint.
# Nor a server's refusal that quotes our issue ("Message rejected as spam").
NOT_A_PERSONS = re.compile(
    r"(?i)filter(?:s|ed)?\b|quarantin|\bnot (?:a )?spam\b|\bkein spam\b|"
    r"\brejected\b|could not be delivered|undeliver|nicht zugestellt"
)
# Our unsubscribe link as a forward's text keeps it ("Unsubscribe <https://...>"): its signed
# token names the reader where the forward keeps no Message-ID.
UNSUBSCRIBE_LINK = re.compile(r"<https?://[^<>\s]+/unsubscribe/[^<>\s/]+>")
# What a loop writes in place of the reader's address (RFC 6650 section 3: redacted in the
# report it sends): Yahoo's "redacted@", Microsoft's and others' run of x's. No address we
# sent to.
REDACTED = re.compile(r"(?i)^(?:redacted|x{3,}|\*+|undisclosed[\w.-]*)@")


def complaint_recipients(
    msg: Message, original: Message | None, abuse: xarf.Report | None
) -> tuple[list[str], str] | None:
    """(the complaining addresses, the feedback type), or None when it is no complaint.
    `abuse`: the X-ARF report the message is (xarf.read), if it is one."""
    report = feedback_report(msg)
    arf = (msg.get_param("report-type") or "").lower() == "feedback-report"
    if msg.get("X-Apple-Unsubscribe", "").strip().lower() == "true":
        # Apple Mail's "unsubscribe" button: the subscriber writes from their own address.
        return sorted(addresses_in(headers(msg, "From"))), "opt-out"
    event = ses.parsed(msg) or {}
    if (event.get("notificationType") or event.get("eventType")) == "Complaint":
        complaint = ses.json_object(event.get("complaint"))
        found = [
            ses.json_address(r.get("emailAddress"))
            for r in ses.json_objects(complaint.get("complainedRecipients"))
        ]
        feedback = complaint.get("complaintFeedbackType")
        return [a.lower() for a in found if "@" in a], (
            feedback if isinstance(feedback, str) else "abuse"
        )
    reader = msg.get("X-HmXmrOriginalRecipient")
    if reader and not from_daemon(msg):
        # Hotmail's older loop sends the complained-of message itself, this header added.
        return sorted(addresses_in([str(reader)])), "abuse"
    if abuse is not None and not abuse.spam:
        return [], NOT_ABOUT_A_READER  # an attack or a block list's log: our network's
    if not (
        abuse is not None
        or report is not None
        or arf
        or _microsoft_style(msg, original)
        or _spamcop(msg)
    ):
        forward = forwarded_copy(msg, original)
        if forward is None:
            return None
        # Our issue forwarded in a person's text: its To is the reader, who may be the one
        # forwarding it (its From is ours, the forward's To our abuse address).
        ours = addresses_in(headers(forward, "From") + headers(msg, "To"))
        return _readers(sorted(addressed(forward, "To") - ours)), "abuse"
    found: list[str] = list(abuse.recipients) if abuse is not None else []
    feedback = "abuse"
    fields = None if abuse is not None else feedback_fields(report)
    if fields is not None:
        for name in ("Original-Rcpt-To", "Removal-Recipient"):
            found += filter(None, map(field_value, fields.get_all(name, [])))
        feedback = (fields.get("Feedback-Type") or "abuse").strip().lower()
    found = _readers(found)
    if original is not None:
        ours = not_recipients(msg, original)
        sent = [
            a for a in _readers(sorted(addressed(original, "To") - ours)) if not REDACTED.match(a)
        ]
        if len(sent) == 1 and found and sent[0] not in found:
            # The loop's Original-Rcpt-To is where the reader's mail was forwarded to (an
            # alias, a list): the copy's To, the address we sent to, comes first; the copy's
            # return path or Message-ID, when ours, says whose it is.
            found = sent + found
        for name in ("X-HmXmrOriginalRecipient", "To", "X-Original-To", "Delivered-To"):
            found = found or _readers(sorted(addressed(original, name) - ours))
    return found, feedback


def _readers(addresses: list[str]) -> list[str]:
    """The addresses, lowercased, once each (both fields often name the same reader)."""
    return list(dict.fromkeys(a.lower() for a in addresses if "@" in a))


def feedback_fields(report: Message | None) -> Message | None:
    """The fields of a feedback report's machine-readable part (RFC 5965), parsed."""
    if report is None:
        return None
    if report.is_multipart():
        # Its blocks' fields as they came: printing a block again (as_string) encodes
        # its text anew, which fails where the report's charset cannot hold it.
        # NetEase's loop sends its fields in base64, which the parser takes for a message
        # with no headers: they were lost, and a DMARC failure report was read as a
        # complaint.
        text = blocks_decoded(report)
        if text is None:
            blocks = inner_parts(report)
            text = "\n".join(f"{name}: {value}" for b in blocks for name, value in b.items())
    else:
        text = text_of(report)
    return HeaderParser(policy=READABLE).parsestr(text.strip() + "\n")


def feedback_says(msg: Message, name: str) -> str:
    """One field of a feedback report's machine-readable part, lowercased; "" without."""
    fields = feedback_fields(feedback_report(msg))
    return (fields.get(name) or "").strip().lower() if fields is not None else ""


def feedback_report(msg: Message) -> Message | None:
    """A feedback report's machine-readable part (message/feedback-report), if it has one."""
    return next(
        (part for part, kind in bounce_parts(msg) if kind == "message/feedback-report"), None
    )


def _spamcop(msg: Message) -> bool:
    """SpamCop's report, sent to the abuse address of our network: a reader's complaint, the
    reader's address masked in the message it quotes (our return path and Message-ID kept)."""
    return any(a.endswith("@reports.spamcop.net") for a in addresses_in(headers(msg, "From")))


def forwarded_copy(msg: Message, original: Message | None) -> Message | None:
    """Our issue forwarded in the text of a person's message (Gmail's "Forwarded message",
    Outlook's "Original Message", in any language Gmail writes their fields in), their
    words above it a complaint: the forward's own fields, whose To is the reader."""
    if original is not None and original.get("Message-ID"):
        return None  # attached, or quoted whole: read as a loop's or an abuse desk's
    if from_daemon(msg) or reasons.marked_auto_reply(msg):
        return None
    forward = forwarded_in_text(msg, by_a_server=False)
    if forward is None:
        return None
    said = f"{header_text(msg, 'Subject')} {forward.preamble}"
    if FEEDBACK_WORDS.search(said) and not NOT_A_PERSONS.search(said):
        return forward
    return None


def forwarded_links(msg: Message, original: Message | None) -> list[str]:
    """The unsubscribe links (<url>) in the text of our issue forwarded to complain."""
    forward = forwarded_copy(msg, original)
    return UNSUBSCRIBE_LINK.findall(text_of(forward)) if forward is not None else []


def _microsoft_style(msg: Message, original: Message | None) -> bool:
    """Feedback loops that send the complained-of message attached to a plain notice."""
    if original is None:
        return False
    if original.get("X-HmXmrOriginalRecipient"):
        return True
    if from_daemon(msg):  # a bounce that quotes a server's words about complaints
        return False
    if reasons.marked_auto_reply(msg):
        # An abuse desk's or a helpdesk's acknowledgement ("Thank you for your abuse
        # report"), our message attached: a mailbox answering by itself, no reader's report.
        return False
    said = f"{header_text(msg, 'Subject')} {human_text(msg)[:2000]}"
    return (
        msg.get_content_type() == "multipart/mixed"
        and bool(FEEDBACK_WORDS.search(said))
        and not NOT_A_PERSONS.search(said)
    )
