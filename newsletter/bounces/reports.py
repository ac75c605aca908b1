"""Reading what comes back: bounces of every shape, complaints, auto-replies.

Nothing here touches the database: a message goes in, a Verdict comes out. The evidence is
read in the order a report is trustworthy: RFC 3464 delivery-status fields, then the
human-readable part of the bounce (where most servers write the address and the remote
server's words), then provider notices (Amazon SES JSON). What each recipient's words mean
is `reasons.judge`'s job.
"""

from __future__ import annotations

import email
import logging
import re
from dataclasses import replace
from email.message import Message

from newsletter import message_ids
from newsletter.bounces import complaints, dsn, quoted, reasons, scan, ses, text_part, xarf
from newsletter.bounces.verdict import Failure, Verdict
from newsletter.text import SUBJECT_PREFIXES

log = logging.getLogger(__name__)

# Headers a mail server or a mailbox adds to say which address a message was delivered to:
# where a VERP return path is found when the message arrives by IMAP or POP3.
DELIVERED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
# What a report says comes first: its words, its status fields, then the original's headers
# before the original's body. Reading no further bounds what a hostile message costs: each
# block of fields in a status part costs the parser and the readings after it some 15 µs,
# minutes for the bounce server's 10 MB of them, a second or so for this much.
READ_AT_MOST = 256 * 1024
# A run of blank lines is cut to twelve, which no reading looks across (the words after an
# address are read over twelve lines at most): more change nothing but the cost, in a
# status part, where each starts a block of fields of its own.
WHITE_LINES = re.compile(rb"(?m)^[ \t]+$")
BLANK_RUNS = re.compile(rb"\n{14,}")
KEPT_RUN = b"\n" * 13
# RFC 6532's types for an original with UTF-8 in its headers, which the email package does
# not open: our message as message/rfc822 is, and its headers as text/rfc822-headers (maddy
# writes "message/rfc822-headers"). Not message/global-delivery-status, read as it is.
GLOBAL_MESSAGE = re.compile(rb"(?im)^(content-type:[ \t]*)message/global(?=[ \t]*(?:;|$))")
GLOBAL_HEADERS = re.compile(rb"(?im)^(content-type:[ \t]*)message/(?:global|rfc822)-headers\b")


def classify(raw: bytes) -> Verdict:
    """What a message that came back to us says, whatever it is."""
    # A line of spaces alone is a blank line (IBM Notes writes them so): read as one, a
    # feedback report's fields were taken for its part's headers, and a DMARC failure report
    # for a complaint.
    raw = BLANK_RUNS.sub(KEPT_RUN, WHITE_LINES.sub(b"", scan.lines_ended(raw)))
    if len(raw) > READ_AT_MOST:  # cut at a line's end: no header is read half
        raw = raw[: raw.rfind(b"\n", 0, READ_AT_MOST) + 1 or READ_AT_MOST]
    raw = GLOBAL_HEADERS.sub(
        rb"\1text/rfc822-headers", GLOBAL_MESSAGE.sub(rb"\1message/rfc822", raw)
    )
    if raw.lstrip().startswith(b"{"):  # a bare JSON notification (SNS over HTTP), no headers
        raw = b"Content-Type: text/plain; charset=utf-8\n\n" + raw
    verdict = Verdict()
    try:
        _read(raw, verdict)
    except Exception as exc:  # one odd message must never stop the reading of the others
        # The standard library's parser recurses: parts nested 2,000 deep raise a
        # RecursionError, whose thousand frames would say nothing in the log.
        trace = not isinstance(exc, RecursionError)
        log.error("a returned message could not be read: %r", exc, exc_info=trace)
        verdict.recipients, verdict.reason = [], "unknown"
    return verdict


def _read(raw: bytes, verdict: Verdict) -> None:
    msg = email.message_from_bytes(raw, policy=scan.READABLE)
    _sent_to(msg, verdict)
    original = scan.original_headers(msg)
    abuse = xarf.read(msg)
    if abuse is not None:  # its JSON names our return path and holds our message
        original = original or abuse.original
        verdict.return_paths += abuse.return_paths
    _ours_in(msg, original, verdict)
    inner = None if msg.get_content_type() == "multipart/report" else _forwarded_report(msg)
    verdict.of_their_own_mail = inner is not None and _of_their_own_mail(msg, inner)
    if inner is not None:  # someone forwarded a bounce to us: read the bounce
        msg, original, abuse = inner, scan.original_headers(inner), None
        # It came back to our copy's return path, which its own fields name (a VERP's MAC
        # is checked before anyone is named by it).
        _sent_to(msg, verdict)
        _ours_in(msg, original, verdict)  # the copy it is about is quoted in it
    _judge(msg, original, verdict, abuse)
    if len(verdict.recipients) > scan.MOST_NAMED:
        # A report of one of our messages names one recipient: one naming hundreds, as a
        # forged one may, blames none of them (its reason stays, for its return path's).
        verdict.recipients = []


def _of_their_own_mail(msg: Message, inner: Message) -> bool:
    """Whether a forwarded bounce came back to the forwarder's own address, about mail they
    sent, not a copy of ours: a reader who passed an issue on to a friend whose address is
    dead, writing to us about it. A bounce of our copy comes back to its return path, and
    one a postmaster forwards from the list's own address quotes our copy (its Message-ID,
    its List-Unsubscribe)."""
    returned_to = scan.addresses_in(scan.headers(inner, "To"))
    if not returned_to or not returned_to <= scan.addresses_in(scan.headers(msg, "From")):
        return False
    original = scan.original_headers(inner)
    return original is None or not (
        message_ids.in_our_form(str(original.get("Message-ID") or ""))
        or original.get("List-Unsubscribe")
    )


def _forwarded_report(msg: Message, deeper: int = scan.MOST_FORWARDS) -> Message | None:
    """A bounce someone forwarded to us, attached or in their text, perhaps forwarded again.

    Passed on by a person or an admin ("Fwd:"), any machine's report is one (chasquid's
    postmaster-dsn, MDaemon's, Citadel's, an SNS notice); a server's own report attaches
    our copy, which a postmaster may have sent."""
    person = reasons.from_a_person(msg)
    passed_on = person or SUBJECT_PREFIXES.match(scan.header_text(msg, "Subject"))
    for inner in scan.attached_messages(msg):
        subject = scan.header_text(inner, "Subject")
        if inner.get_content_type() == "multipart/report" or (
            "mailer-daemon" in scan.header_text(inner, "From").lower()
        ):
            return inner
        if not passed_on:
            continue
        if SUBJECT_PREFIXES.match(subject) and reasons.from_a_person(inner):
            # "Fwd: Undelivered Mail": a forward itself, whose subject reads as a bounce's
            found = _forwarded_report(inner, deeper - 1) if deeper else None
            if found is not None:
                return found
        elif reasons.maybe_a_report(inner, subject):
            return inner
    return scan.forwarded_in_text(msg) if person else None


def _sent_to(msg: Message, verdict: Verdict) -> None:
    for name in DELIVERED_TO:
        verdict.delivered_to += scan.listed(scan.headers(msg, name))


def _ours_in(msg: Message, original: Message | None, verdict: Verdict) -> None:
    """Add what names our copy (its Message-ID, its return path) as `msg` quotes it."""
    if original is None and msg.get("X-HmXmrOriginalRecipient") and not scan.from_daemon(msg):
        original = msg  # Hotmail's older loop sends our message itself, a header added
    if original is not None and original.get("Message-ID"):
        verdict.message_ids.append(str(original["Message-ID"]).strip())
    if original is not None and original is not msg:
        verdict.return_paths += scan.listed(scan.headers(original, "Return-Path"))
        verdict.unsubscribe_links += scan.headers(original, "List-Unsubscribe")
    # An SES notification (by SNS e-mail) quotes our message in its "mail" object.
    ids, sources = ses.sent(msg)
    verdict.message_ids += ids
    verdict.return_paths += sources
    # A feedback loop that redacts the original still names its envelope sender, our VERP.
    fields = complaints.feedback_fields(complaints.feedback_report(msg))
    if fields is not None:
        verdict.return_paths += scan.listed(fields.get_all("Original-Mail-From", []))


def _judge(
    msg: Message, original: Message | None, verdict: Verdict, abuse: xarf.Report | None
) -> None:
    complaint = complaints.complaint_recipients(msg, original, abuse)
    if complaint is not None:
        addresses, feedback = complaint
        # A DMARC failure report (RFC 6591) is about our authentication, not the subscriber's
        # wish; "not-spam" (RFC 5965) says the reader took our mail out of the spam folder.
        # A virus or fraud report (RFC 5965: a virus, phishing found in our message) is a
        # receiver's verdict on our message, not the reader's wish.
        verdict.reason = {
            "auth-failure": "auth_failure",
            "not-spam": "not_a_bounce",
            "virus": "virus",
            "fraud": "spam",
            complaints.NOT_ABOUT_A_READER: "not_a_bounce",
        }.get(feedback, "complaint")
        if (
            verdict.reason == "auth_failure"
            and complaints.feedback_says(msg, "Delivery-Result") == "delivered"
        ):
            # It failed the check and reached the reader all the same: no refusal to count
            # towards holding the domain (RFC 6591's Delivery-Result).
            verdict.reason = "delivered"
        if verdict.reason == "complaint":
            verdict.unsubscribe_links += complaints.forwarded_links(msg, original)
        said = f"feedback report: {feedback}"
        verdict.recipients = [Failure(a, verdict.reason, diagnostic=said) for a in addresses]
        return
    ours = scan.not_recipients(msg, original)
    context = scan.human_text(msg)
    subject = scan.header_text(msg, "Subject")
    from_ses = ses.notice(msg)
    found = dsn.fields(msg) or from_ses or text_part.aol_screen_names(msg, context)
    if from_ses is not None and not found:
        # An SES event that fails nobody (a send, an open, a click), or one that cannot be
        # read: its words are JSON, our own address and SNS's links, never a report's.
        verdict.reason = "not_a_bounce"
        return
    # The general words, folded once: read for a notice here, for reasons below.
    our_subject = scan.header_text(original, "Subject") if original is not None else ""
    background = reasons.Background(
        f"{subject}\n{context}", frozenset(ours), quoted.subjects(subject, our_subject, context)
    )
    if background.held:  # a list's status part may say "failed" of it (Sympa)
        verdict.reason = "held"
        return
    notice = None if found else reasons.no_failure(msg, background)
    # A vacation text names people, and so may a person's letter; a person forwarding our
    # issue attaches it, whom it was sent to and all.
    answering = reasons.a_mailbox_answering(msg, subject)
    machine = reasons.maybe_a_report(msg, subject) and not answering
    persons = not machine and "@" in scan.header_text(msg, "From")
    if not found and notice is None and not reasons.is_auto_reply(msg, subject) and machine:
        found = text_part.text_failures(context, ours)
    if not found:
        verdict.reason = notice or reasons.without_recipient(msg, subject, context)
        if (
            verdict.reason not in ("auto_reply", "delivered")
            and original is not None
            and not persons
        ):
            # A bounce that names nobody in its words still quotes whom it was sent to.
            found = text_part.from_original(original, ours)
        if not found:
            return
    said = {e.address.lower(): e for e in text_part.text_failures(context, ours)}
    alone = len(found) == 1
    if alone and original is not None:
        _as_sent(found[0], said, original)
    # One past the most a report of ours names is enough to know it blames nobody (_read).
    for evidence in found[: scan.MOST_NAMED + 1]:
        words = said.get(evidence.address.lower()) or said.get(evidence.routed.lower())
        if words is not None and not evidence.diagnostic:  # the fields name, the text says
            evidence.diagnostic = words.diagnostic
            evidence.status = evidence.status or words.status
            evidence.reply = evidence.reply or words.reply
        failure = reasons.judge(evidence, background, alone)
        verdict.recipients.append(failure)
        if evidence.routed:  # one recipient, known by both addresses
            verdict.recipients.append(replace(failure, address=evidence.routed))
    if background.challenge and all(f.kind != "hard" for f in verdict.recipients):
        # Boxbe words its challenge as a status report too ("Action: failed", 4.7.0, "Sender
        # not pre-approved"): still the reader's mailbox asking us to prove who we are.
        verdict.recipients, verdict.reason = [], "auto_reply"
        return
    verdict.reason = verdict.main.reason


def _as_sent(evidence: scan.Evidence, said: dict, original: Message) -> None:
    """The address as we sent it, where the fields give only where it was routed to.

    RFC 3464's Original-Recipient is the address as the sender gave it; a report without one
    names the final address (an alias, a server's routing address). When the report's words
    name exactly one address that the quoted original was sent to, that is the address as
    sent, and the fields' address is where it was routed.
    """
    if evidence.routed:
        return
    sent = scan.addresses_in(scan.headers(original, "To") + scan.headers(original, "Cc"))
    address = evidence.address.lower()
    if scan.ascii_form(address) in {scan.ascii_form(a) for a in sent}:
        return
    named = [one for one in said if one in sent]
    if (
        not named
        and len(sent) == 1
        and {scan.ascii_form(a) for a in said} <= {scan.ascii_form(address)}
    ):
        # Forwarded on (an alumni address, SRS): the next server's report names only the
        # mailbox it was forwarded to, and the forwarder passes it back to our return path.
        named = list(sent)
    if len(named) == 1:
        evidence.address, evidence.routed = named[0], evidence.address


def judge_refusal(address: str, code: int, said: str) -> Failure:
    """What a server's refusal of RCPT TO, met while sending, says of the address: judged
    as a report of the same reply would be."""
    _, words, status, reply = dsn.diagnosed(f"smtp; {code} {said}", "")
    evidence = scan.Evidence(
        address=address, status=status, reply=reply, action="failed", diagnostic=words
    )
    return reasons.judge(evidence, reasons.Background("in reply to RCPT TO"), alone=True)


def split_mbox(raw: bytes) -> list[bytes]:
    """The messages of an mbox file (one, when it is not an mbox)."""
    raw = scan.lines_ended(raw)
    if not raw.startswith(b"From "):
        return [raw]
    return [p for p in re.split(rb"(?m)^From [^\n]*\n", raw) if p.strip()]
