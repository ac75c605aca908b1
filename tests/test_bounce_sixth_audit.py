"""A sixth audit: returned mail of servers and forwarders not covered before, and delay
warnings whose words quote a refusal of our mail, each built after its source:

- OpenSMTPD's smtpd/bounce.c (v1.56, inline text, no report part): notice_error and
  notice_warning/notice_warning2 around "<rcpt>: <errorline>" lines, the errorline the
  remote's reply, smtpd/mta.c's "Domain does not exist", or smtpd/queue.c's "Envelope expired";
- Citadel's modules/smtp/smtp_util.c smtp_do_bounce(): "The following addresses were
  undeliverable:" or, once retries run out, "Giving up on the following addresses:";
- SimpleLogin's app/email/status.py codes (E502, E504, E515, E516, E519, E522) as
  email_handler.py's handle_forward returns them to its own Postfix after DATA, which writes
  the report the sender gets;
- Forward Email: its FAQ ("Do you pass along SMTP response messages and codes") and its
  helpers/create-bounce.js DSN (From and To both the envelope sender);
- delay warnings of Postfix (bounce_template's delay notice), Exim (deliver.c's warning) and
  Sendmail (savemail.c's "THIS IS A WARNING MESSAGE ONLY") quoting a refusal of our mail.

A delay warning is recorded as a delay (kind soft, reason "delayed", which adds nothing to a
score: the README's "Bounces"), whatever refusal it quotes; SimpleLogin's disabled account and
alias without a mailbox (E504, E516) are a disabled mailbox, soft, as Sisimai's "suspend" is.
"""

from __future__ import annotations

import pytest
from bounce_samples import (
    DATE,
    MESSAGE_ID,
    SOURCE_IP,
    _crlf,
    _encoded,
    classified,
    exim_delay,
    original,
    postfix,
    verp,
)

# Our issue's subject in Persian and in Arabic, as an RFC 2047 encoded word
FA_SUBJECT = _encoded("خبرنامه هفتگی: شماره بهار ۱۴۰۴ — گزارش ویژه")
AR_SUBJECT = _encoded("النشرة الأسبوعية: عدد الربيع")


# --- OpenSMTPD ----------------------------------------------------------------------------------

_OPENSMTPD_INTRO = (
    "    Hi!\n\n    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
)


def _opensmtpd(recipient: str, line: str, *, warning: bool = False, subject: str = "") -> bytes:
    """OpenSMTPD's notice (bounce.c 1.56): four headers of its own (and the Received and
    Message-Id its enqueuer adds), no MIME, the words indented by four spaces, one line per
    envelope "user@domain: errorline" flush left, our whole message below."""
    if warning:
        said = (
            "    A message is delayed for more than 4 hours for the following\n"
            "    list of recipients:\n\n"
            f"{recipient}: {line}\n\n"
            "    Please note that this is only a temporary failure report.\n"
            "    The message is kept in the queue for up to 4 days.\n"
            "    You DO NOT NEED to re-send the message to these recipients.\n\n"
        )
    else:
        said = (
            "    An error has occurred while attempting to deliver a message for\n"
            "    the following list of recipients:\n\n"
            f"{recipient}: {line}\n\n"
        )
    quoted = original(recipient, subject=subject) if subject else original(recipient)
    return _crlf(
        "Return-Path: <>\n"
        "Received: from localhost (out1.example.org [local])\n"
        "\tby out1.example.org (OpenSMTPD) with ESMTP id 5f1e2a3b\n"
        f"\tfor <{verp(recipient)}>; {DATE}\n"
        f"Subject: Delivery status notification: {'warning' if warning else 'error'}\n"
        "From: Mailer Daemon <MAILER-DAEMON@out1.example.org>\n"
        f"To: {verp(recipient)}\n"
        f"Date: {DATE}\n"
        "Message-Id: <5f1e2a3b7c9d1e0f@out1.example.org>\n\n"
        + _OPENSMTPD_INTRO
        + said
        + "    Below is a copy of the original message:\n\n"
        + quoted
    )


# --- Citadel ------------------------------------------------------------------------------------


def _citadel(recipient: str, dsn: str, *, give_up: bool = False) -> bytes:
    """Citadel's bounce (smtp_do_bounce): its MIME headers at the top of the message text,
    "addr: dsn" lines (the remote's reply after its three-digit code), our message inline."""
    boundary = "=_Citadel_Multipart_citadel.example.org_1f2e0001"
    if give_up:
        words = (
            "A message you sent could not be delivered to some or all of its recipients\n"
            "due to prolonged unavailability of its destination(s).\n"
            "Giving up on the following addresses:\n\n"
        )
    else:
        words = (
            "A message you sent could not be delivered to some or all of its recipients.\n"
            "The following addresses were undeliverable:\n\n"
        )
    return _crlf(
        "Return-Path: <>\n"
        f"Date: {DATE}\n"
        'From: "Citadel" <Citadel@citadel.example.org>\n'
        f"To: {verp(recipient)}\n"
        "Subject: Delivery Status Notification (Failure)\n"
        "Message-ID: <bounce.4711@citadel.example.org>\n"
        f'Content-type: multipart/mixed; boundary="{boundary}"\n'
        "MIME-Version: 1.0\n"
        "X-Mailer: Citadel\n\n"
        "This is a multipart message in MIME format.\n\n"
        f"--{boundary}\nContent-type: text/plain\n\n"
        f"{words}{recipient}: {dsn}\n"
        f"--{boundary}\nContent-type: message/rfc822\nContent-Transfer-Encoding: 7bit\n"
        f"Content-Disposition: inline\n\n{original(recipient)}"
        f"--{boundary}--\n"
    )


# --- SimpleLogin --------------------------------------------------------------------------------

ALIAS = "weekly.k7x2@simplelogin.com"


def _simplelogin(said: str) -> bytes:
    """SimpleLogin's MX (Postfix) hands mail to its email handler on 127.0.0.1:20381 after
    queueing it; the handler's 550 after DATA comes back in Postfix's report, status 5.0.0."""
    raw = postfix(
        ALIAS,
        "5.0.0",
        said,
        remote="127.0.0.1[127.0.0.1]",
        in_reply_to="end of DATA",
        host="mx1.simplelogin.co",
    )
    return raw.replace(b"Subject: This week: spring issue", f"Subject: {AR_SUBJECT}".encode())


# --- Forward Email ------------------------------------------------------------------------------

FORWARDED = "hello@reader-domain.example"
TARGET = "reader.real@gmail.com"
GMAIL_NO_SUCH_USER = (
    "550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
    "550-5.1.1 double-checking the recipient's email address for typos or\n"
    "550-5.1.1 unnecessary spaces. For more information, go to\n"
    "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a640c23a62f3a-ab7c1e0f2a1si"
    " - gsmtp"
)
GMAIL_UNSOLICITED = (
    "421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating\n"
    "421-4.7.28 from your IP address [192.0.2.25]. To protect our users from spam, mail\n"
    "421-4.7.28 sent from your IP address has been temporarily rate limited. For more\n"
    "421 4.7.28  information, go to https://support.google.com/mail/?p=UnsolicitedRateLimitError"
    " - gsmtp"
)


def _forwardemail_passed_on() -> bytes:
    """Our Postfix's report of mx1.forwardemail.net refusing after DATA with the reply of the
    address it forwards to (Gmail's), passed along as its FAQ says."""
    return postfix(
        FORWARDED,
        "5.1.1",
        GMAIL_NO_SUCH_USER,
        remote="mx1.forwardemail.net[198.51.100.53]",
        in_reply_to="end of DATA",
    )


def _forwardemail_dsn(said: str) -> bytes:
    """Forward Email's own DSN (helpers/create-bounce.js, nodemailer's MimeNode): From and
    To both the envelope sender (our return path), X-Failed-Recipients the address it
    forwarded to, its per-message and per-recipient fields in one block."""
    delayed = not said.startswith("5")
    flat = said.replace("\n", "\r\n")
    boundary = "--_NmP-2c1b0c4a1d6e7f80-Part_1"
    arrival = "Tue, 14 Jan 2025 09:30:10 +0000"
    retry = (
        f"Last-Attempt-Date: {DATE}\nWill-Retry-Until: Tue, 17 Jan 2025 09:30:12 +0000\n"
        if delayed
        else ""
    )
    return _crlf(
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        f' boundary="{boundary}"\n'
        f"From: {verp(FORWARDED)}\nTo: {verp(FORWARDED)}\n"
        f"X-Failed-Recipients: {TARGET}\nAuto-Submitted: auto-replied\n"
        "X-Auto-Response-Suppress: All\nPrecedence: auto_reply\n"
        + retry
        + f"Subject: Delivery Status Notification ({'Delayed' if delayed else 'Failure'})\n"
        f"In-Reply-To: {MESSAGE_ID}\nReferences: {MESSAGE_ID}\n"
        f"X-Original-Message-ID: {MESSAGE_ID}\n"
        "Message-ID: <f3a1c2d4-5e6f-7a8b-9c0d-1e2f3a4b5c6d@forwardemail.net>\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n\n"
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Description: Notification\nContent-Transfer-Encoding: 7bit\n\n"
        + (
            f"Your message is delayed and will be retried later to {TARGET} due to an error."
            if delayed
            else f"Your message wasn't delivered to {TARGET} due to an error."
        )
        + f"\n\nThe response was:\n\n{said}\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n"
        "Content-Description: Delivery report\nContent-Transfer-Encoding: 7bit\n\n"
        f"Arrival-Date: {arrival}\nFinal-Recipient: rfc822; {TARGET}\n"
        f"Action: {'delayed' if delayed else 'failed'}\n"
        f"Status: {'4.0.0' if delayed else '5.0.0'}\n"
        f"Diagnostic-Code: smtp; {flat}\n"
        "Remote-MTA: dns; gmail-smtp-in.l.google.com\n"
        "Reporting-MTA: dns; mx1.forwardemail.net\n"
        "X-Report-Abuse-To: abuse@forwardemail.net\nX-Report-Abuse: abuse@forwardemail.net\n"
        "X-Complaints-To: abuse@forwardemail.net\nX-ForwardEmail-Version: 9.0.0\n"
        f"X-ForwardEmail-Sender: rfc822; {verp(FORWARDED)}, mx1.forwardemail.net, 198.51.100.53\n"
        "X-ForwardEmail-ID: 6786adf4c2b1a3e4f5a6b7c8\n"
        f"--{boundary}\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 7bit\n\n"
        f"{original(FORWARDED, subject=AR_SUBJECT)}\n--{boundary}--\n"
    )


# --- Delay warnings -----------------------------------------------------------------------------

PERSIAN_READER = "leila@example.ir"


def _postfix_delayed(said: str, status: str, *, command: str = "RCPT TO") -> bytes:
    raw = postfix(
        PERSIAN_READER, status, said, remote="mx.example.ir[198.51.100.9]", in_reply_to=command
    )
    return raw.replace(b"Subject: This week: spring issue", f"Subject: {FA_SUBJECT}".encode())


def _postfix_delayed_long_line() -> bytes:
    """A delay report whose Diagnostic-Code is one unfolded line of some 600 characters (as
    relays that do not fold it write it), its text part one long line too."""
    said = (
        "451 4.7.500 Server busy. Please try again later from [192.0.2.25]. (S77719) "
        "[Name=Protocol Filter Agent][AGT=PFA][MxId=11BA8F9E62C3D4A5]"
        " [DB5PEPF00014B9F.eurprd02.prod.outlook.com 2025-01-14T09:30:12.345Z 08DD2F1A3B4C5D6E]"
        + " [BN8NAM12FT004.eop-nam12.prod.protection.outlook.com 2025-01-14T09:30:12.123Z"
        " 08DD2F1A3B4C5D6F]" * 4
    )
    raw = _postfix_delayed(said, "4.7.500")
    start = raw.index(b"Diagnostic-Code:")
    end = raw.index(b"Will-Retry-Until:")
    raw = raw[:start] + f"Diagnostic-Code: smtp; {said}\r\n".encode() + raw[end:]
    text_start = raw.index(f"<{PERSIAN_READER}>: host".encode())
    text_end = raw.index(b"\r\n\r\n--", text_start)
    line = (
        f"<{PERSIAN_READER}>: host mx.example.ir[198.51.100.9] said: {said} "
        "(in reply to RCPT TO command)"
    )
    return raw[:text_start] + line.encode() + raw[text_end:]


OMID = "omid@example.ir"


def _exim_warning(said: str, *, after: str) -> bytes:
    """Exim's delay warning (deliver.c's default warn message), our Persian subject as the
    header holds it, the SMTP error after the command it answered."""
    return exim_delay(OMID, said, subject=FA_SUBJECT, after=after)


SARA = "sara@yahoo.com"
YAHOO_DEFERRED = (
    "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected "
    "volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"
)


def _sendmail_warning() -> bytes:
    """Sendmail's four-hour warning (savemail.c errbody, a MIME DSN): the warning box, the
    transcript's "Deferred:" line, its status part Action: delayed."""
    boundary = "0BE9TUAa012345.1736847012/relay.example.net"
    return _crlf(
        "Return-Path: <>\n"
        f"Date: {DATE}\n"
        "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>\n"
        f"Message-Id: <202501140930.0BE9TUAb012345@relay.example.net>\n"
        f"To: <{verp(SARA)}>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        f'\tboundary="{boundary}"\n'
        "Subject: Warning: could not send message for past 4 hours\n"
        "Auto-Submitted: auto-generated (warning-timeout)\n\n"
        "This is a MIME-encapsulated message\n\n"
        f"--{boundary}\n\n"
        "    **********************************************\n"
        "    **      THIS IS A WARNING MESSAGE ONLY      **\n"
        "    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n"
        "    **********************************************\n\n"
        f"The original message was received at {DATE}\n"
        f"from out1.example.org [{SOURCE_IP}]\n\n"
        "   ----- Transcript of session follows -----\n"
        f"<{SARA}>... Deferred: {YAHOO_DEFERRED}\n"
        "Warning: message still undelivered after 4 hours\n"
        "Will keep trying until message is 5 days old\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; relay.example.net\n"
        f"Arrival-Date: {DATE}\n\n"
        f"Final-Recipient: RFC822; {SARA}\nAction: delayed\nStatus: 4.7.0\n"
        "Remote-MTA: DNS; mta7.am0.yahoodns.net\n"
        f"Diagnostic-Code: SMTP; {YAHOO_DEFERRED}\n"
        f"Last-Attempt-Date: {DATE}\n"
        "Will-Retry-Until: Sun, 19 Jan 2025 09:30:12 +0000\n\n"
        f"--{boundary}\nContent-Type: text/rfc822-headers\n\n"
        f"{original(SARA, subject=FA_SUBJECT, body=False)}\n--{boundary}--\n"
    )


CASES = [
    # (id, raw, kind, recipient, reason or None)
    pytest.param(
        _opensmtpd(
            "nasrin.karimi@example.ir",
            "550 5.1.1 <nasrin.karimi@example.ir>: Recipient address rejected: User unknown "
            "in virtual mailbox table",
            subject=FA_SUBJECT,
        ),
        "hard",
        "nasrin.karimi@example.ir",
        "user_unknown",
        id="opensmtpd-error-user-unknown",
    ),
    pytest.param(
        _opensmtpd("old@gone-domain.example", "Domain does not exist"),
        "hard",
        "old@gone-domain.example",
        "host_unknown",
        id="opensmtpd-error-domain-does-not-exist",
    ),
    pytest.param(
        _opensmtpd("reza@example.ir", "Envelope expired"),
        "soft",
        "reza@example.ir",
        "expired",
        id="opensmtpd-error-envelope-expired",
    ),
    pytest.param(
        _opensmtpd(
            "reza@example.ir",
            "421 4.3.0 mx.example.ir Temporary system failure, please try again later",
            warning=True,
        ),
        "soft",
        "reza@example.ir",
        "delayed",
        id="opensmtpd-warning-still-retrying",
    ),
    pytest.param(
        _citadel(
            "maryam@citadel.example.org",
            "5.1.1 <maryam@citadel.example.org>: Recipient address rejected: User unknown in "
            "local recipient table",
        ),
        "hard",
        "maryam@citadel.example.org",
        "user_unknown",
        id="citadel-undeliverable-user-unknown",
    ),
    pytest.param(
        _citadel(
            "maryam@citadel.example.org",
            "4.3.0 Temporary system failure. Please try again later.",
            give_up=True,
        ),
        "soft",
        "maryam@citadel.example.org",
        None,
        id="citadel-giving-up-temporary",
    ),
    pytest.param(
        _simplelogin("550 SL E515 Email not exist"),
        "hard",
        ALIAS,
        "user_unknown",
        id="simplelogin-e515-deleted-alias",
    ),
    pytest.param(
        _simplelogin("550 SL E502 Email not exist"),
        "hard",
        ALIAS,
        "user_unknown",
        id="simplelogin-e502-disabled-alias",
    ),
    pytest.param(
        _simplelogin("550 SL E504 Account disabled"),
        "soft",
        ALIAS,
        "mailbox_disabled",
        id="simplelogin-e504-account-disabled",
    ),
    pytest.param(
        _simplelogin("550 SL E516 invalid mailbox"),
        "soft",
        ALIAS,
        "mailbox_disabled",
        id="simplelogin-e516-no-mailbox",
    ),
    pytest.param(
        _simplelogin(
            "550 SL E522 The user you are trying to contact is receiving mail at a rate that "
            "prevents additional messages from being delivered."
        ),
        "soft",
        ALIAS,
        "receiving_too_fast",
        id="simplelogin-e522-receiving-too-fast",
    ),
    pytest.param(
        _simplelogin("550 SL E519 Email detected as spam"),
        "sender",
        ALIAS,
        "spam",
        id="simplelogin-e519-spam",
    ),
    pytest.param(
        _forwardemail_passed_on(),
        "hard",
        FORWARDED,
        "user_unknown",
        id="forwardemail-passes-destination-reply",
    ),
    pytest.param(
        _forwardemail_dsn(GMAIL_NO_SUCH_USER),
        "hard",
        TARGET,
        "user_unknown",
        id="forwardemail-own-dsn-failure",
    ),
    pytest.param(
        _forwardemail_dsn(GMAIL_UNSOLICITED),
        "soft",
        TARGET,
        "delayed",
        id="forwardemail-own-dsn-delayed",
    ),
    pytest.param(
        _postfix_delayed(
            "421 4.7.0 mx.example.ir Error: your IP 192.0.2.25 is not in whitelist, closing "
            "connection",
            "4.7.0",
            command="greeting",
        ),
        "soft",
        PERSIAN_READER,
        "delayed",
        id="postfix-delayed-ip-not-in-whitelist",
    ),
    pytest.param(
        _postfix_delayed(
            "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.25]", "4.7.1"
        ),
        "soft",
        PERSIAN_READER,
        "delayed",
        id="postfix-delayed-cannot-find-hostname",
    ),
    pytest.param(
        _postfix_delayed(
            f"450 4.2.0 <{PERSIAN_READER}>: Recipient address rejected: Greylisted, see "
            "http://postgrey.schweikert.ch/help/example.ir.html",
            "4.2.0",
        ),
        "soft",
        PERSIAN_READER,
        "delayed",
        id="postfix-delayed-greylisted",
    ),
    pytest.param(
        _postfix_delayed_long_line(),
        "soft",
        PERSIAN_READER,
        "delayed",
        id="postfix-delayed-long-line-ms-server-busy",
    ),
    pytest.param(
        _exim_warning(
            "451 4.7.1 Greylisting in action, please come back later", after=f"RCPT TO:<{OMID}>"
        ),
        "soft",
        OMID,
        "delayed",
        id="exim-warning-greylisting",
    ),
    pytest.param(
        _exim_warning(
            "421 4.7.0 Your IP 192.0.2.25 is not in whitelist, connection refused",
            after=f"MAIL FROM:<{verp(OMID)}> SIZE=18231",
        ),
        "soft",
        OMID,
        "delayed",
        id="exim-warning-ip-not-in-whitelist",
    ),
    pytest.param(
        _sendmail_warning(),
        "soft",
        SARA,
        "delayed",
        id="sendmail-warning-4-hours-yahoo-deferred",
    ),
]


@pytest.mark.parametrize("raw, kind, recipient, reason", CASES)
def test_sixth_audit(raw, kind, recipient, reason):
    verdict = classified(raw)
    named = [f.address for f in verdict.recipients]
    assert recipient in named, (named, verdict.as_json("raw"))
    assert verdict.kind == kind, verdict.as_json("raw")
    main = verdict.main
    if reason is not None:
        assert main.reason == reason, verdict.as_json("raw")
