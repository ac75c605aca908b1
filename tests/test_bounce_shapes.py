"""Returned mail in the shapes people, mail clients and odd servers wrap it in, each built
after its source: a saved .eml attached with its type guessed as text/plain (rspamd issue
2673: .eml is message/rfc822 only where the program knows it); the forward blocks of
crisp-oss/email-forward-parser's fixtures (gmail_en_body, gmail_sv_body,
new_outlook_2019_sv_body, thunderbird_en_body, thunderbird_pl_body, apple_mail_en_body,
outlook_2013_en_body), Outlook's "-----Original Message-----" and its desktop forward in
Swedish ("Skickat:"); Thunderbird's "Forward As Attachment" (comm-central
test-forward-headers.js); SpamAssassin's report_safe and Outlook Express's uuencode for a
returned message a forwarded report cannot be read by; lines ending CR CR LF
(emersion/go-message issue 38, mail from Tencent's postmaster); RFC 3464's section 10
examples with their status part re-encoded by a gateway (RFC 6522: 7bit should be adequate);
message/rfc822 sent in base64, which RFC 2046 section 5.2.1 forbids (cyrus-imapd issue 2385,
jakartaee/mail-api issue 147, csirtg-mail-py issue 13); an abuse desk's report attaching its
customer's forward of our issue (RFC 2046 5.2.1 nesting, as CPython's test_email msg_42
nests text/plain, message/rfc822 and another message).

Each case but one guard judged wrongly before: a bounce in a text/plain .eml read as
nothing, or a note asking to "remove this address" above it as a complaint; a forwarded
bounce's return path (our VERP, in the forward block's To line or the forwarded report's
own fields) not found, so the intake could not tell which delivery it was about; a Swedish
or Polish forward block not read; a status part's fields lost to CR CR LF or base64, the
reader then held against with "on_hold" for a delay; a complaint's copy of our issue in
base64, or two forwards deep, not found, so nobody was unsubscribed.
"""

from __future__ import annotations

import base64
import binascii

import pytest
from bounce_samples import (
    DATE,
    MESSAGE_ID,
    _crlf,
    arf,
    classified,
    exim,
    gmail_text,
    original,
    postfix,
    verp,
)

READER = "reader@example.net"
FORWARDER = "Maria Lopez <maria.lopez@partner.example>"
EDITOR = "Example Weekly <editor@example.org>"
DAEMON = "Mail Delivery System <MAILER-DAEMON@out1.example.org>"
UNDELIVERED = "Undelivered Mail Returned to Sender"
USER_UNKNOWN = (
    f"550 5.1.1 <{READER}>: Recipient address rejected: User unknown in virtual mailbox table"
)
GMAIL_NO_SUCH_USER = (
    "550 5.1.1 The email account that you tried to reach does not exist. Please try "
    "double-checking the recipient's email address for typos or unnecessary spaces. "
    "https://support.google.com/mail/?p=NoSuchUser"
)
SPAMHAUS = "550 5.7.1 Service unavailable; client [192.0.2.25] blocked using zen.spamhaus.org"
REMOVE = "Please remove this address from your list, your mails keep bouncing.\n"


def _named(verdict) -> list[tuple[str, str, str]]:
    return [(f.address, f.kind, f.reason) for f in verdict.recipients]


def _b64(text: str) -> str:
    return base64.encodebytes(text.replace("\n", "\r\n").encode()).decode()


def _person(
    *,
    subject: str,
    body: str = "",
    parts: list[str] | None = None,
    by: str = FORWARDER,
    to: str = EDITOR,
    boundary: str = "000000000000a1b2c3d4e5f6",
    message_id: str = "<CAF4x+Zq8rT@mail.gmail.com>",
) -> str:
    """A person's message: their text alone, or multipart/mixed of `parts` (each beginning
    with its part headers). Text, so that it can be attached in turn."""
    head = (
        f"From: {by}\nTo: {to}\nSubject: {subject}\nDate: Wed, 15 Jan 2025 10:02:44 +0100\n"
        f"Message-ID: {message_id}\nMIME-Version: 1.0\n"
    )
    if parts is None:
        return head + f'Content-Type: text/plain; charset="UTF-8"\n\n{body}'
    text = head + f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
    for part in parts:
        text += f"--{boundary}\n{part.rstrip(chr(10))}\n\n"
    return text + f"--{boundary}--\n"


def _note(text: str) -> str:
    return f'Content-Type: text/plain; charset="UTF-8"\n\n{text}'


def _attached(message: str, *, name: str = "", cte: str = "") -> str:
    """A message/rfc822 part, as Thunderbird's "Forward As Attachment" writes it (named
    after the subject); `cte`: base64, as some loops and desks send it."""
    head = "Content-Type: message/rfc822" + (f'; name="{name}"' if name else "") + "\n"
    head += "Content-Disposition: attachment" + (f'; filename="{name}"' if name else "") + "\n"
    if cte == "base64":
        return head + f"Content-Transfer-Encoding: base64\n\n{_b64(message)}"
    return head + f"\n{message}"


def _text(raw: bytes) -> str:
    """A builder's message as text, lines ended LF, to be quoted or attached."""
    return raw.decode("utf-8").replace("\r\n", "\n")


# --- 1. A saved bounce attached as text/plain ------------------------------------------------


def _eml_as_text(inner: bytes, note: str, *, cte: str = "") -> bytes:
    """A person's note and the saved bounce.eml, its type guessed from its content as
    text/plain (rspamd issue 2673)."""
    head = (
        'Content-Type: text/plain; charset=UTF-8; name="bounce.eml"\n'
        'Content-Disposition: attachment; filename="bounce.eml"\n'
    )
    if cte == "base64":
        attachment = head + f"Content-Transfer-Encoding: base64\n\n{_b64(_text(inner))}"
    else:
        attachment = head + f"\n{_text(inner)}"
    return _crlf(_person(subject="bounce from your list", parts=[_note(note), attachment]))


FILE_ATTACHED = "Got this back when I tried your list, file attached.\n"


@pytest.mark.parametrize(
    "raw, named",
    [
        # Exim's text bounce (deliver.c's words), the .eml as it is
        pytest.param(
            _eml_as_text(exim(READER, "550 5.1.1 No such user here"), FILE_ATTACHED),
            [(READER, "hard", "user_unknown")],
            id="A-textplain-eml-exim-8bit",
        ),
        # the same, the attachment in base64
        pytest.param(
            _eml_as_text(exim(READER, "550 5.1.1 No such user here"), FILE_ATTACHED, cte="base64"),
            [(READER, "hard", "user_unknown")],
            id="A-textplain-eml-exim-base64",
        ),
        # Gmail's "Address not found" notice (its NoSuchUser reply), text alone
        pytest.param(
            _eml_as_text(gmail_text(READER, GMAIL_NO_SUCH_USER), FILE_ATTACHED),
            [(READER, "hard", "user_unknown")],
            id="A-textplain-eml-gmail-8bit",
        ),
        # A third party's note asking to remove the address, above Exim's report of Spamhaus
        # refusing our server: the reader neither complained nor is to blame
        pytest.param(
            _eml_as_text(exim(READER, SPAMHAUS), REMOVE),
            [(READER, "sender", "blocked")],
            id="A-misleading-note-textplain-eml-exim-block",
        ),
        # the same note above a dead address: dead, not a complaint
        pytest.param(
            _eml_as_text(exim(READER, "550 5.1.1 No such user here"), REMOVE),
            [(READER, "hard", "user_unknown")],
            id="A-misleading-note-textplain-eml-exim",
        ),
    ],
)
def test_a_saved_bounce_attached_as_text_is_read_as_the_bounce(raw, named):
    verdict = classified(raw)
    assert _named(verdict) == named
    assert verdict.reason == named[0][2]
    # the saved bounce came back to our copy's return path
    assert verp(READER) in verdict.delivered_to


# --- 2. Our copy's return path in a forward ---------------------------------------------------

POSTFIX_TEXT = (
    "This is the mail system at host out1.example.org.\n\n"
    "I'm sorry to have to inform you that your message could not\n"
    "be delivered to one or more recipients. It's attached below.\n\n"
    "For further assistance, please send mail to postmaster.\n\n"
    "If you do so, please include this problem report. You can\n"
    "delete your own text from the attached returned message.\n\n"
    "                   The mail system\n\n"
    f"<{READER}>: host mx.example.net[198.51.100.7] said: {USER_UNKNOWN} (in reply to RCPT\n"
    "    TO command)\n"
)


def gmail(text: str) -> str:
    # crisp-oss/email-forward-parser gmail_en_body.txt
    return (
        "---------- Forwarded message ---------\n"
        f"From: {DAEMON}\nDate: Tue, Jan 14, 2025 at 10:30 AM\nSubject: {UNDELIVERED}\n"
        f"To: <{verp(READER)}>\n\n\n{text}"
    )


def outlook(text: str) -> str:
    # Outlook's plain-text forward (outlook_2013_en_body.txt's fields, its separator line)
    return (
        "-----Original Message-----\n"
        "From: Mail Delivery System [mailto:MAILER-DAEMON@out1.example.org]\n"
        f"Sent: Tuesday, January 14, 2025 10:30 AM\nTo: {verp(READER)}\n"
        f"Subject: {UNDELIVERED}\n\n{text}"
    )


def thunderbird(text: str) -> str:
    # thunderbird_en_body.txt: the fields tab-separated, subject first
    return (
        f"-------- Forwarded Message --------\nSubject: \t{UNDELIVERED}\n"
        f"Date: \tTue, 14 Jan 2025 09:30:12 +0000 (UTC)\nFrom: \t{DAEMON}\n"
        f"To: \t{verp(READER)}\n\n\n\n{text}"
    )


def apple_mail(text: str) -> str:
    # apple_mail_en_body.txt: the whole forward quoted
    block = (
        f"Begin forwarded message:\n\nFrom: {DAEMON}\nSubject: {UNDELIVERED}\n"
        f"Date: 14 January 2025 at 10:30:12 CET\nTo: {verp(READER)}\n\n{text}"
    )
    return "\n".join("> " + line if line else ">" for line in block.split("\n"))


def gmail_swedish(text: str) -> str:
    # gmail_sv_body.txt: Gmail in Swedish writes "Från:" and the other names in English
    return (
        "---------- Forwarded message ---------\n"
        f"Från: {DAEMON}\nDate: tis 14 jan. 2025 kl 10:30\nSubject: {UNDELIVERED}\n"
        f"To: <{verp(READER)}>\n\n\n{text}"
    )


def new_outlook_swedish(text: str) -> str:
    # new_outlook_2019_sv_body.txt: no separator line, "Från:", "Datum:", "Till:", "Ämne:"
    return (
        f"Från: {DAEMON}\nDatum: tisdag, 14 januari 2025 10:30\n"
        f"Till: {verp(READER)} <{verp(READER)}>\nÄmne: {UNDELIVERED}\n{text}"
    )


def outlook_swedish(text: str) -> str:
    # Outlook's desktop forward in Swedish: "Från:", "Skickat:", "Till:", "Ämne:"
    return (
        "________________________________\n"
        f"Från: {DAEMON}\nSkickat: den 14 januari 2025 10:30\nTill: {verp(READER)}\n"
        f"Ämne: {UNDELIVERED}\n\n{text}"
    )


def thunderbird_polish(text: str) -> str:
    # thunderbird_pl_body.txt: "Temat:", "Data:", "Nadawca:", "Adresat:"
    return (
        "--- Treść przekazanej wiadomości ---\n"
        f"Temat: \t{UNDELIVERED}\nData: \tTue, 14 Jan 2025 09:30:12 +0000\n"
        f"Nadawca: \t{DAEMON}\nAdresat: \t{verp(READER)}\n\n\n\n{text}"
    )


def _forwarded_inline(client) -> bytes:
    body = "Hi, I got this when I forwarded your newsletter to a friend?\n\n" + client(POSTFIX_TEXT)
    return _crlf(_person(subject=f"Fwd: {UNDELIVERED}", body=body))


@pytest.mark.parametrize(
    "client",
    [
        gmail,
        outlook,
        thunderbird,
        apple_mail,
        # 3. Swedish and Polish forward blocks: the block was not known for one, and Gmail's
        # English Date/Subject/To under "Från:" cut the text before Postfix's words
        gmail_swedish,
        new_outlook_swedish,
        outlook_swedish,
        thunderbird_polish,
    ],
    ids=lambda c: c.__name__,
)
def test_a_bounce_forwarded_inline_is_found_by_the_return_path_in_its_block(client):
    """Postfix's words quote none of our headers: the forward block's To line, the return
    path the bounce came back to, is all that says which delivery it was. A VERP carries a
    MAC, checked before anyone is named by it; a forged one names nobody."""
    verdict = classified(_forwarded_inline(client))
    assert _named(verdict) == [(READER, "hard", "user_unknown")]
    assert verp(READER) in verdict.delivered_to


def _with_quoted(quoted_part: str) -> str:
    """Postfix's report with its third part, the returned message, replaced."""
    boundary = "--7BE5F2A1C3.1736847012/mx.example.net"
    parts = _text(postfix(READER, "5.1.1", USER_UNKNOWN)).split(f"{boundary}\n")
    parts[-1] = f"{quoted_part}\n{boundary}--\n"
    return f"{boundary}\n".join(parts)


def _uuencoded(name: str, text: str) -> str:
    data = text.replace("\n", "\r\n").encode()
    lines = [f"begin 644 {name}"]
    lines += [
        binascii.b2a_uu(data[k : k + 45]).decode().rstrip("\n") for k in range(0, len(data), 45)
    ]
    return "\n".join([*lines, "`", "end"]) + "\n"


@pytest.mark.parametrize(
    "report",
    [
        # Postfix's report as it is (its quoted copy readable too)
        pytest.param(_text(postfix(READER, "5.1.1", USER_UNKNOWN)), id="postfix"),
        # the returned message in x-uuencode (CPython's email decodes it; Outlook Express's
        # "Uuencode" plain-text setting): only the report's own fields name our copy
        pytest.param(
            _with_quoted(
                "Content-Type: message/rfc822\nContent-Transfer-Encoding: x-uuencode\n\n"
                + _uuencoded("original.eml", original(READER))
            ),
            id="postfix-original-x-uuencode",
        ),
        # the returned message labelled text/plain (SpamAssassin's report_safe 2 shape)
        pytest.param(
            _with_quoted(f"Content-Type: text/plain; charset=utf-8\n\n{original(READER)}"),
            id="postfix-original-as-text-plain",
        ),
    ],
)
def test_a_bounce_forwarded_as_an_attachment_is_found_by_its_own_fields(report):
    """Thunderbird's "Forward As Attachment" of a report: the report's own Delivered-To and
    To are our VERP, the person's message is to the editor."""
    raw = _crlf(
        _person(
            subject=f"Fwd: {UNDELIVERED}",
            parts=[_note("Forwarding this.\n"), _attached(report, name=f"{UNDELIVERED}.eml")],
        )
    )
    verdict = classified(raw)
    assert _named(verdict) == [(READER, "hard", "user_unknown")]
    assert verp(READER) in verdict.delivered_to


# --- 4, 5. A status part whose fields alone say it ----------------------------------------------

# RFC 3464 section 10's examples: a terse notice, the recipient and the reason in the fields
MUTE = "Your message could not be delivered. The attached delivery report says why.\n"
MUTE_BOUNDARY = "mute.report.boundary/mx.example.net"
LOCAL_UNKNOWN = "User unknown in local recipient table"


def _status(status: str = "5.1.1", action: str = "failed", said: str = "") -> str:
    said = said or f"550 5.1.1 <{READER}>: Recipient address rejected: {LOCAL_UNKNOWN}"
    return (
        f"Reporting-MTA: dns; mx.example.net\nArrival-Date: {DATE}\n\n"
        f"Final-Recipient: rfc822; {READER}\nAction: {action}\nStatus: {status}\n"
        f"Remote-MTA: dns; mx2.example.net\nDiagnostic-Code: smtp; {said}\n"
    )


def _mute(status_part: str, *, status_head: str = "Content-Type: message/delivery-status") -> str:
    """A report whose text names nobody: its status part and our headers."""
    b = MUTE_BOUNDARY
    return (
        "Return-Path: <>\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n"
        f"To: {verp(READER)}\nSubject: Delivery Status Notification (Failure)\nDate: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n"
        f'\tboundary="{b}"\n\n'
        f"--{b}\nContent-Type: text/plain; charset=us-ascii\n\n{MUTE}\n"
        f"--{b}\n{status_head}\n\n{status_part.rstrip(chr(10))}\n\n"
        f"--{b}\nContent-Type: text/rfc822-headers\n\n{original(READER, body=False)}\n--{b}--\n"
    )


def _cr_cr_lf(whole: bool) -> bytes:
    """Lines ended CR CR LF, a CRLF written again by a text mode that adds a CR (go-message
    issue 38): the status part's alone, or the whole message's."""
    text = _mute(_status()).replace("\n", "\r\n")
    if whole:
        return text.replace("\r\n", "\r\r\n").encode()
    crlf = _status().replace("\n", "\r\n")
    return text.replace(crlf, _status().replace("\n", "\r\r\n")).encode()


B64_STATUS = "Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64"


@pytest.mark.parametrize(
    "raw, named, reason",
    [
        # before: each line its own block of fields, the Final-Recipient one with no
        # Action or Status; the reader from our copy's To, "on_hold" and counted
        pytest.param(
            _cr_cr_lf(whole=False),
            [(READER, "hard", "user_unknown")],
            "user_unknown",
            id="crcrlf-status-part",
        ),
        # Guard: the whole message so, judged right before too (each line then a block of its
        # own, the words read as text), kept so by the new reading of CR CR LF
        pytest.param(
            _cr_cr_lf(whole=True),
            [(READER, "hard", "user_unknown")],
            "user_unknown",
            id="crcrlf-whole",
        ),
        # a gateway re-encoding the status part: the email package splits it into blocks
        # without decoding it, and the fields were never seen
        pytest.param(
            _crlf(_mute(_b64(_status()), status_head=B64_STATUS)),
            [(READER, "hard", "user_unknown")],
            "user_unknown",
            id="base64-status-user-unknown",
        ),
        # a delay: nothing counted against the reader (before: "on_hold", counted)
        pytest.param(
            _crlf(
                _mute(
                    _b64(_status("4.2.0", "delayed", "451 4.2.0 Temporary lookup failure")),
                    status_head=B64_STATUS,
                )
            ),
            [(READER, "soft", "delayed")],
            "delayed",
            id="base64-status-delayed",
        ),
    ],
)
def test_a_status_part_is_read_whatever_its_line_ends_or_encoding(raw, named, reason):
    verdict = classified(raw)
    assert _named(verdict) == named
    assert verdict.reason == reason
    assert all(f.reason != "on_hold" for f in verdict.recipients)


# --- 6, 7. A complaint's copy of our issue, encoded or deep --------------------------------------


def _jmrp_base64() -> bytes:
    """Microsoft's JMRP complaint (multipart/mixed, our issue attached), the attachment in
    base64."""
    text = (
        f"This is an email abuse report for an email message received from IP 192.0.2.25 on "
        f"{DATE}.\nFor more information about this format please see http://postmaster.live.com.\n"
    )
    return _crlf(
        _person(
            subject="complaint about message from 192.0.2.25",
            by="staff@hotmail.com",
            to="fbl@bounces.example.org",
            boundary="--boundary_0_4e5f6a7b-8c9d",
            message_id="<jmrp.4@hotmail.com>",
            parts=[
                _note(text),
                "Content-Type: message/rfc822\nContent-Disposition: inline\n"
                f"Content-Transfer-Encoding: base64\n\n{_b64(original(READER))}",
            ],
        )
    )


def _arf_redacted_base64() -> bytes:
    """An RFC 5965 report with Original-Rcpt-To and Original-Mail-From redacted, our issue
    attached in base64: only the attachment names our copy."""
    report = _text(arf(READER, rcpt_to=False)).replace(
        f"Original-Mail-From: <{verp(READER)}>\n", ""
    )
    attached = f"Content-Type: message/rfc822\nContent-Disposition: inline\n\n{original(READER)}"
    assert attached in report
    encoded = (
        "Content-Type: message/rfc822\nContent-Disposition: inline\n"
        f"Content-Transfer-Encoding: base64\n\n{_b64(original(READER))}"
    )
    return _crlf(report.replace(attached, encoded))


def _abuse_desk(*, inner_cte: str = "", subject: str = "Spam complaint: 192.0.2.25") -> bytes:
    """An abuse desk's ticket attaching its customer's forward, which attaches our issue:
    three boundaries of their own."""
    customer = _person(
        subject="Fwd: This week: spring issue",
        by=f"Reader Name <{READER}>",
        to="abuse@isp.example",
        boundary="------------cust7A1B2C3D4E5F",
        message_id="<cust.fwd.1@example.net>",
        parts=[
            _note("I never signed up for this newsletter. Please make it stop.\n"),
            _attached(original(READER), name="This week spring issue.eml", cte=inner_cte),
        ],
    )
    desk = (
        "Dear Sir or Madam,\n\nwe have received the complaint below about mail sent from your "
        "network\n(192.0.2.25). Please investigate and take appropriate action.\n\n"
        "Kind regards,\nISP Abuse Team\n"
    )
    return _crlf(
        _person(
            subject=subject,
            by="ISP Abuse Team <abuse@isp.example>",
            to="abuse@example.org",
            boundary="----=_Part_ticket_2025011510000123",
            message_id="<ticket.2025011510000123@isp.example>",
            parts=[_note(desk), _attached(customer, name="complaint.eml")],
        )
    )


@pytest.mark.parametrize(
    "raw",
    [
        # 6. message/rfc822 in base64 (cyrus-imapd issue 2385): the email package reads a
        # message of no fields, and the complaint named nobody
        pytest.param(_jmrp_base64(), id="jmrp-original-base64"),
        pytest.param(_arf_redacted_base64(), id="arf-redacted-original-base64"),
        # 7. the abuse desk's ticket, the customer's forward inside, our issue inside that
        pytest.param(_abuse_desk(), id="abuse-desk-two-levels"),
        pytest.param(_abuse_desk(inner_cte="base64"), id="abuse-desk-two-levels-inner-base64"),
        # OTRS's and Zammad's ticket tag before the subject, which auto-replies carry too: the
        # desk's own words ("the complaint below about mail") say what it is
        pytest.param(
            _abuse_desk(subject="[Ticket#2025011510000123] Spam complaint: 192.0.2.25"),
            id="abuse-desk-ticket-tag",
        ),
    ],
)
def test_a_complaints_copy_of_our_issue_is_found(raw):
    verdict = classified(raw)
    assert _named(verdict) == [(READER, "complaint", "complaint")]
    assert verdict.reason == "complaint"
    assert verp(READER) in verdict.return_paths
    assert MESSAGE_ID in verdict.message_ids
