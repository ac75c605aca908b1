"""Complaints as the feedback loops, abuse desks and people that send them write them, each
about a real copy of ours (its VERP return path, its signed Message-ID): the reader of that
copy leaves every list at once, and nobody else is touched; a report of mail that is not ours,
an aggregate, or a receiver's verdict on our authentication blames nobody.

Formats after RFC 5965 (ARF), RFC 6650 (redaction, feedback loops), RFC 6591 (auth-failure
reports), Microsoft's JMRP (the message attached to a plain notice), SpamCop's report
("[ Offending message ]"), X-ARF, Amazon SES's complaint JSON and the forwards of Gmail and
Outlook in English and Persian.
"""

from __future__ import annotations

import base64
import json
import re
from types import SimpleNamespace

import pytest
from bounce_mail import BOUNCE_DOMAIN
from bounce_samples import _encoded, classified, sns_email
from builders import deliver, send_one_batch, stored_subscriber

from newsletter import suppression
from newsletter.extensions import db
from newsletter.models import Subscription

# An end-to-end audit, each case through a real send and the SMTP sink: in CI's full suite,
# not the quick loop.
pytestmark = pytest.mark.slow

FBL = f"fbl@{BOUNCE_DOMAIN}"
DATE = "Tue, 14 Jan 2025 09:30:12 +0000"
SOURCE_IP = "192.0.2.25"
READERS = [f"reader{n}@example.org" for n in range(3)]
FOREIGN = (
    "Return-Path: <bounce-77@mailer.shop.example>\n"
    "Received: from mailer.shop.example (mailer.shop.example [203.0.113.9])\n"
    f"\tby mx.example.net with ESMTPS id 7Qa; {DATE}\n"
    "From: Shop Deals <deals@shop.example>\n"
    "To: {to}\n"
    "Subject: 70% off everything\n"
    f"Date: {DATE}\n"
    "Message-ID: <20250114093012.77.deals@shop.example>\n"
    "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
    "Buy now.\n"
)


def crlf(text: str) -> bytes:
    return re.sub(r"\r?\n", "\r\n", text).encode()


def received(message) -> str:
    """Our copy as the reader's mailbox holds it: the receiver's Return-Path (our VERP) and
    Received above our own headers."""
    return (
        f"Return-Path: <{message.sender}>\n"
        f"Received: from out1.example.org (out1.example.org [{SOURCE_IP}])\n"
        f"\tby mx.example.net with ESMTPS id 4Yx1; {DATE}\n"
        + message.data.decode().replace("\r\n", "\n")
    )


def head(text: str) -> str:
    return text.split("\n\n", 1)[0] + "\n"


def redact(text: str, reader: str, placeholder: str) -> str:
    """The reader's address blanked wherever a loop blanks it (RFC 6650 section 3)."""
    return text.replace(reader, placeholder)


def arf(
    original: str,
    *,
    fields: str = "",
    from_: str = "feedback@arf.mail.yahoo.com",
    agent: str = "Yahoo!-Mail-Feedback/2.0",
    feedback_type: str = "abuse",
    attached: str = "message/rfc822",
    encoding: str = "",
    words: str = "This is an email abuse report for an email message received from IP "
    f"{SOURCE_IP} on {DATE}.",
    mail_from: str = "",
) -> bytes:
    """An RFC 5965 report: words, message/feedback-report, the original (`attached` as its
    type; `encoding` base64 encodes it)."""
    boundary = "arf_7f3a"
    body = original
    if encoding == "base64":
        body = base64.encodebytes(original.replace("\n", "\r\n").encode()).decode()
    cte = f"Content-Transfer-Encoding: {encoding}\n" if encoding else ""
    sender = f"Original-Mail-From: <{mail_from}>\n" if mail_from else ""
    return crlf(
        f"From: <{from_}>\nDate: {DATE}\nSubject: FW: complaint\nTo: <{FBL}>\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=feedback-report; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{words}\n\n"
        f"--{boundary}\nContent-Type: message/feedback-report\n\n"
        f"Feedback-Type: {feedback_type}\nUser-Agent: {agent}\nVersion: 1\n{sender}"
        f"Arrival-Date: {DATE}\nSource-IP: {SOURCE_IP}\n{fields}\n"
        f"--{boundary}\nContent-Type: {attached}\n{cte}\n{body}\n--{boundary}--\n"
    )


def jmrp(original: str, *, from_: str = "staff@hotmail.com") -> bytes:
    """Microsoft's JMRP: a plain notice, the complained-of message attached, no fields."""
    boundary = "--boundary_5329_jmrp"
    return crlf(
        f"From: {from_}\nTo: {FBL}\nSubject: complaint about message from {SOURCE_IP}\n"
        f'Date: {DATE}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n"
        f"This is an email abuse report for an email message received from IP {SOURCE_IP}"
        f" on {DATE}.\nFor more information about this format please see"
        " http://postmaster.live.com.\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n"
        f"{original}\n--{boundary}--\n"
    )


def spamcop(original: str) -> bytes:
    """SpamCop's report to the network's abuse address: plain text, the spam quoted under
    "[ Offending message ]", the reporter's address changed to "x"."""
    return crlf(
        "From: 1234567890@reports.spamcop.net\n"
        f"To: abuse@{BOUNCE_DOMAIN}\n"
        f"Subject: [SpamCop ({SOURCE_IP}) id:7315529301]complaint\n"
        f"Date: {DATE}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "- SpamCop V5.4.0 -\n"
        "This message is brief for your comfort.  Please use links below for details.\n\n"
        f"Email from {SOURCE_IP} / {DATE}\n"
        "https://www.spamcop.net/sc?id=z6884731594z7a3b\n\n"
        f"[ Offending message ]\n{original}\n"
    )


GMAIL_RULE = "---------- Forwarded message ---------"


def inline(
    original_message, *, by: str, words: str, rule: str = GMAIL_RULE, names: tuple = ()
) -> bytes:
    """A person forwarding our copy in their text: `rule` the mail program's line, `names`
    its field names (From, Date/Sent, Subject, To) in the user's language; Gmail's in
    English by default."""
    names = names or GMAIL
    msg = original_message.message
    fields = "\n".join(
        f"{name} {value}"
        for name, value in zip(
            names, (str(msg["From"]), DATE, str(msg["Subject"]), str(msg["To"])), strict=True
        )
    )
    text = original_message.message.get_body(("plain",)).get_content()
    return crlf(
        f"From: {by}\nTo: abuse@example.org\nSubject: Fwd: {msg['Subject']}\nDate: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        f"{words}\n\n{rule}\n{fields}\n\n{text}\n"
    )


@pytest.fixture
def copies(app, weekly, inbox, bounce_server):
    server = bounce_server()
    send_one_batch(weekly, len(READERS))
    return SimpleNamespace(server=server, of=lambda n: inbox.to(READERS[n])[0], list_id=weekly.id)


def statuses() -> list[str]:
    return [stored_subscriber(a).status for a in READERS]


def named(raw: bytes) -> dict:
    return classified(raw).as_json("report.eml")


def complained(copies, raw: bytes, reader: int = 1, to: str = FBL, by_link: bool = False) -> dict:
    """Deliver the report; the reader of its copy, and only they, complained. The verdict's
    JSON names none of our own addresses or ids. `by_link`: only the copy's unsubscribe link
    names the reader, so the complaint does what the link does: that list is left, and the
    address is not stopped for good (whoever the issue was forwarded to holds the link)."""
    found = named(raw)
    assert found["kind"] == "complaint", found
    for failure in found["recipients"]:
        address = failure["address"]
        assert not address.endswith(("@newsletter.test", f"@{BOUNCE_DOMAIN}")), found
        assert address != "digest@example.org", found
    deliver(copies.server, raw, to=to)
    want = ["active"] * len(READERS)
    want[reader] = "active" if by_link else "complained"
    assert statuses() == want
    assert {s.status for s in stored_subscriber(READERS[reader]).subscriptions} == {"unsubscribed"}
    return found


def blames_nobody(copies, raw: bytes, to: str = FBL) -> dict:
    found = named(raw)
    deliver(copies.server, raw, to=to)
    assert statuses() == ["active"] * len(READERS)
    return found


# --- Feedback loops in RFC 5965's format -----------------------------------------------------


@pytest.mark.parametrize(
    "placeholder", ["redacted@yahoo.com", "xxxxxxxx@aol.com", "redacted", "<>"]
)
def test_yahoo_and_aol_cfl_with_the_reader_redacted(copies, placeholder):
    """Yahoo's CFL (AOL's now) names no Original-Rcpt-To and redacts the reader in the
    message it attaches: our return path and Message-ID name the copy."""
    original = redact(received(copies.of(1)), READERS[1], placeholder)
    found = complained(copies, arf(original))
    # The placeholder may stand in the verdict, as the report writes it: no one's address.
    assert {f["address"] for f in found["recipients"]} <= {placeholder}


def test_yahoo_cfl_with_the_original_s_headers_only(copies):
    original = redact(head(received(copies.of(1))), READERS[1], "redacted@yahoo.com")
    complained(copies, arf(original, attached="text/rfc822-headers"))


def test_comcast_by_validity_hashes_the_reader_and_names_our_return_path(copies):
    copy = copies.of(2)
    hashed = "9e107d9d372bb6826bd81d3542a419d6@comcast.net"
    raw = arf(
        redact(received(copy), READERS[2], hashed),
        from_="feedbackloop@comcastfbl.senderscore.net",
        agent="ReturnPathFBL/2.0",
        fields=f"Original-Rcpt-To: {hashed}\nReported-Domain: example.org\n",
        mail_from=copy.sender,
    )
    complained(copies, raw, reader=2)


def test_fastmail_by_validity_sends_redacted_for_the_message(copies):
    copy = copies.of(0)
    raw = arf(
        "REDACTED",
        from_="fbl@fastmailfbl.senderscore.net",
        agent="ReturnPathFBL/2.0",
        attached="text/rfc822-headers",
        mail_from=copy.sender,
    )
    complained(copies, raw, reader=0)


@pytest.mark.parametrize(
    "from_, agent, words",
    [
        ("fbl@zohomail.com", "Zoho Mail FBL", "A Zoho Mail user marked this message as spam."),
        ("fbl@corp.mail.ru", "Mail.Ru FBL/1.0", "Пользователь пожаловался на это письмо."),
        ("fbl@seznam.cz", "Seznam FBL", "Uživatel označil zprávu jako spam."),
        ("fbl@gmx.net", "GMX FBL/1.0", "Ein Nutzer hat diese E-Mail als Spam markiert."),
        ("fbl@web.de", "WEB.DE FBL/1.0", "Ein Nutzer hat diese E-Mail als Spam markiert."),
    ],
)
def test_loops_that_name_the_reader(copies, from_, agent, words):
    """Zoho, Mail.ru, Seznam, GMX and Web.de name who marked it (Original-Rcpt-To)."""
    raw = arf(
        received(copies.of(1)),
        from_=from_,
        agent=agent,
        words=words,
        fields=f"Original-Rcpt-To: {READERS[1]}\n",
    )
    found = complained(copies, raw)
    assert [f["address"] for f in found["recipients"]] == [READERS[1]]


def test_a_report_cut_after_the_original_s_message_id(copies):
    """Headers only, cut short: no Return-Path left, the Message-ID names the copy."""
    text = head(received(copies.of(1)))
    text = text[text.index("To:") : text.index("\n", text.index("Message-ID:")) + 1]
    complained(copies, arf(text, attached="text/rfc822-headers"))


@pytest.mark.parametrize("attached", ["message/rfc822", "text/rfc822-headers"])
def test_an_original_in_base64(copies, attached):
    original = received(copies.of(1))
    complained(copies, arf(original, attached=attached, encoding="base64"))


def test_a_folded_message_id(copies):
    original = re.sub(r"\nMessage-ID: ", "\nMessage-ID:\n ", received(copies.of(1)))
    original = original.replace("Return-Path:", "X-Was-Return-Path:")
    complained(copies, arf(redact(original, READERS[1], "redacted@yahoo.com")))


def test_removal_recipient_alone_names_the_reader(copies):
    raw = arf(received(copies.of(2)), fields=f"Removal-Recipient: {READERS[2]}\n")
    complained(copies, raw, reader=2)


def test_a_reader_who_forwards_elsewhere_is_named_as_we_sent_to_them(copies):
    """The reader's address forwards to a mailbox at the loop's provider: Original-Rcpt-To
    is where it was forwarded, the copy's To is the address we sent to, and the forwarder
    rewrote the return path (SRS). The address we sent to comes first, and the forwarding
    address, here another reader's, is not the one who leaves."""
    forwarded_to = READERS[0]
    original = received(copies.of(1))
    local = copies.of(1).sender.split("@")[0]
    original = original.replace(
        f"Return-Path: <{copies.of(1).sender}>",
        f"Return-Path: <SRS0=Hx3k=TT={BOUNCE_DOMAIN}={local}@alumni.example.edu>",
    )
    raw = arf(original, fields=f"Original-Rcpt-To: {forwarded_to}\n")
    found = complained(copies, raw)
    assert found["recipients"][0]["address"] == READERS[1]


def test_a_persian_copy_with_rfc_2047_headers(app, persian_list, inbox, bounce_server):
    server = bounce_server()
    send_one_batch(persian_list, 2)
    copy = inbox.to(READERS[1])[0]
    assert "=?utf-8?" in copy.data.decode()
    original = redact(received(copy), READERS[1], "redacted@yahoo.com")
    assert named(arf(original))["kind"] == "complaint"
    deliver(server, arf(original), to=FBL)
    assert [stored_subscriber(a).status for a in READERS[:2]] == ["active", "complained"]


# --- Microsoft ---------------------------------------------------------------------------


def test_jmrp_with_the_reader_redacted(copies):
    original = received(copies.of(1))
    original = original.replace(
        "\nTo: ", "\nX-HmXmrOriginalRecipient: <xxxxxxxx@hotmail.com>\nTo: "
    )
    found = complained(copies, jmrp(redact(original, READERS[1], "xxxxxxxx@hotmail.com")))
    assert {f["address"] for f in found["recipients"]} <= {"xxxxxxxx@hotmail.com"}


def test_outlook_com_jmrp_naming_the_reader(copies):
    original = received(copies.of(2))
    original = original.replace("\nTo: ", f"\nX-HmXmrOriginalRecipient: <{READERS[2]}>\nTo: ")
    found = complained(copies, jmrp(original), reader=2)
    assert [f["address"] for f in found["recipients"]] == [READERS[2]]


# --- SpamCop and people -------------------------------------------------------------------


def test_spamcop_report_of_our_copy(copies):
    original = redact(received(copies.of(1)), READERS[1], "x")
    found = complained(copies, spamcop(original), to=f"abuse@{BOUNCE_DOMAIN}")
    assert all("spamcop" not in f["address"] for f in found["recipients"])


def test_spamcop_report_of_someone_else_s_spam(copies):
    found = blames_nobody(copies, spamcop(FOREIGN.format(to="<x>")), to=f"abuse@{BOUNCE_DOMAIN}")
    assert found["recipients"] == []


GMAIL = ("From:", "Date:", "Subject:", "To:")
OUTLOOK = ("From:", "Sent:", "Subject:", "To:")
PERSIAN = ("از:", "تاریخ:", "موضوع:", "به:")


@pytest.mark.parametrize(
    "rule, names, words",
    [
        (
            GMAIL_RULE,
            GMAIL,
            "Spam from your list, I never subscribed.",
        ),
        ("-----Original Message-----", OUTLOOK, "Please remove me, this is spam."),
        ("---------- پیام بازارسال‌شده ---------", PERSIAN, "این هرزنامه است، لغو اشتراک کنید."),
    ],
)
def test_a_reader_forwarding_our_copy_inline_to_complain(copies, rule, names, words):
    """The reader forwards it to our abuse address in their own words. A forward in text
    keeps no Return-Path or Message-ID: the verdict names the reader (the forward's To),
    never our sender, and the signed unsubscribe link the text keeps says whose copy it is."""
    raw = inline(copies.of(1), by=f"Reader One <{READERS[1]}>", words=words, rule=rule, names=names)
    found = complained(copies, raw, to=f"abuse@{BOUNCE_DOMAIN}", by_link=True)
    assert [f["address"] for f in found["recipients"]] == [READERS[1]]


def test_an_abuse_desk_forwarding_our_copy_inline_blames_the_reader_not_itself(copies):
    raw = inline(
        copies.of(2),
        by="Abuse Desk <abuse@isp.example.net>",
        words="Our customer reports this unsolicited email.",
    )
    found = complained(copies, raw, reader=2, by_link=True)
    assert [f["address"] for f in found["recipients"]] == [READERS[2]]


def test_an_inline_forward_without_our_link_is_not_taken_at_its_word(copies):
    """Only an address names the reader: anyone could write it (NEWSLETTER_BOUNCES_BY_ADDRESS)."""
    raw = inline(
        copies.of(2),
        by=f"<{READERS[2]}>",
        words="Stop sending me this spam.",
    )
    raw = re.sub(rb"https?://\S+", b"", raw)
    assert [f["address"] for f in named(raw)["recipients"]] == [READERS[2]]
    blames_nobody(copies, raw)


def test_an_abuse_desk_s_acknowledgement_is_no_complaint(copies):
    boundary = "ack1"
    raw = crlf(
        "From: Abuse Desk <abuse@isp.example.net>\nTo: fbl@bounces.example.org\n"
        "Subject: [Ticket#4711] Thank you for your abuse report\nAuto-Submitted: auto-replied\n"
        f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain\n\nThank you for your abuse report. "
        "We will look into it.\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\n{received(copies.of(1))}\n--{boundary}--\n"
    )
    assert named(raw)["kind"] != "complaint"
    blames_nobody(copies, raw)


# --- X-ARF, SES, aggregates ---------------------------------------------------------------


def xarf(original: str, report_type: str) -> bytes:
    boundary = "xarf1"
    return crlf(
        "From: abuse@isp.example.net\nTo: abuse@bounces.example.org\n"
        "Subject: abuse report about 192.0.2.25\nX-ARF: YES\n"
        f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\nAn abuse report.\n\n"
        f'--{boundary}\nContent-Type: text/plain; charset=utf-8; name="report.txt"\n\n'
        "---\nReported-From: abuse@isp.example.net\nCategory: abuse\n"
        f"Report-Type: {report_type}\nService: smtp\nVersion: 0.2\nUser-Agent: xarf 0.2\n"
        f"Date: {DATE}\nSource-Type: ip-address\nSource: {SOURCE_IP}\nPort: 25\n\n"
        f'--{boundary}\nContent-Type: text/plain; charset=utf-8; name="evidence.txt"\n\n'
        f"{original}\n--{boundary}--\n"
    )


def test_xarf_spam_report_of_our_copy(copies):
    complained(copies, xarf(received(copies.of(1)), "spam"), to=f"abuse@{BOUNCE_DOMAIN}")


def test_xarf_login_attack_report_blames_nobody(copies):
    blames_nobody(copies, xarf("sshd: failed password for root", "login-attack"))


def _ses_complaint(copy, recipient: str, source: str, message_id: str) -> dict:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "userAgent": "Yahoo!-Mail-Feedback/2.0",
            "complainedRecipients": [{"emailAddress": recipient}],
            "complaintFeedbackType": "abuse",
            "timestamp": "2025-01-14T09:32:00.000Z",
            "feedbackId": "0100019462b6b0d3-feedback",
        },
        "mail": {
            "timestamp": "2025-01-14T09:30:12.000Z",
            "source": source,
            "messageId": "0100019462b6a9c1-ses-000000",
            "destination": [recipient],
            "headersTruncated": False,
            "headers": [{"name": "Message-ID", "value": message_id}],
            "commonHeaders": {"messageId": message_id, "to": [recipient]},
        },
    }


def test_ses_complaint_of_our_copy(copies):
    copy = copies.of(1)
    message_id = str(copy.message["Message-ID"])
    raw = sns_email(_ses_complaint(copy, READERS[1], copy.sender, message_id))
    complained(copies, raw, to=f"ses-events@{BOUNCE_DOMAIN}")


def test_ses_complaint_of_mail_not_ours_blames_nobody(copies):
    notification = _ses_complaint(
        None, READERS[0], "deals@shop.example", "<20250114.77.deals@shop.example>"
    )
    blames_nobody(copies, sns_email(notification), to=f"ses-events@{BOUNCE_DOMAIN}")


def test_a_complaint_about_mail_that_was_not_ours_blames_nobody(copies):
    """A loop's report of someone else's message, naming an address that is also our
    reader's (shared inboxes, a registration gone wrong)."""
    raw = arf(FOREIGN.format(to=READERS[0]), fields=f"Original-Rcpt-To: {READERS[0]}\n")
    blames_nobody(copies, raw)


def test_a_complaint_with_a_forged_message_id_blames_nobody(copies):
    original = head(received(copies.of(1))).replace("Return-Path:", "X-Was:")
    number = re.search(r"Message-ID: <(\d+)\.", original).group(1)
    forged = original.replace(f"Message-ID: <{number}.", f"Message-ID: <{int(number) + 1}.")
    blames_nobody(copies, arf(redact(forged, READERS[1], "redacted@yahoo.com")))


@pytest.mark.parametrize(
    "sender, subject, text",
    [
        # Yandex's loop counts complaints per the sender's own X-Yandex-FBL id, in a table.
        (
            "Yandex FBL <fbl-noreply@yandex.ru>",
            "FBL report for example.org",
            "X-Yandex-FBL;complaints;date\nweekly-2025-01;3;2025-01-14\n",
        ),
        # Gmail counts spam marks per Feedback-ID in Postmaster Tools: no per-message report.
        (
            "Google Postmaster Tools <postmaster-tools-noreply@google.com>",
            "Spam rate for example.org",
            "The user-reported spam rate for example.org rose to 0.4% on January 14.\n"
            "Feedback-ID identifiers with the most spam reports: weekly:digest:example\n",
        ),
        # SendGrid, Mailgun and SparkPost tell of complaints by webhook; a notice by mail
        # naming an address, and none of our copy's ids, is not taken at its word.
        (
            "SendGrid <noreply@sendgrid.com>",
            "Spam Report",
            f"{READERS[0]} reported your email as spam.\n",
        ),
    ],
)
def test_aggregates_and_notices_without_our_copy_blame_nobody(copies, sender, subject, text):
    raw = crlf(
        f"From: {sender}\nTo: {FBL}\nSubject: {subject}\nDate: {DATE}\n"
        f"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{text}"
    )
    found = blames_nobody(copies, raw)
    assert found["kind"] != "complaint" or found["recipients"] == [READERS[0]], found


# --- Not a reader's wish ------------------------------------------------------------------


def test_a_dmarc_failure_report_of_our_copy_is_no_complaint(copies):
    """RFC 6591: a receiver's report that our copy failed DMARC, the copy attached with its
    reader: a verdict on our authentication, never the reader's wish."""
    fields = (
        "Auth-Failure: dmarc\nIdentity-Alignment: dkim\nReported-Domain: example.org\n"
        "Authentication-Results: mx.example.net; dmarc=fail header.from=example.org\n"
        f"Original-Rcpt-To: {READERS[1]}\n"
    )
    raw = arf(
        head(received(copies.of(1))),
        fields=fields,
        feedback_type="auth-failure",
        attached="text/rfc822-headers",
        from_="dmarc-noreply@mx.example.net",
        words="This is an authentication failure report for an email message received from "
        f"IP {SOURCE_IP} on {DATE}.",
    )
    found = blames_nobody(copies, raw)
    assert found["kind"] != "complaint"


def test_a_not_spam_report_of_our_copy_keeps_the_reader(copies):
    raw = arf(received(copies.of(1)), feedback_type="not-spam")
    assert named(raw)["kind"] == "none"
    blames_nobody(copies, raw)


# --- The command's contract -----------------------------------------------------------------


def test_classify_json_says_complaint_with_each_field(copies, runner, tmp_path):
    report = tmp_path / "cfl.eml"
    report.write_bytes(arf(received(copies.of(1)), fields=f"Original-Rcpt-To: {READERS[1]}\n"))
    result = runner.invoke(args=["bounces", "classify", str(report), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert (found["file"], found["kind"], found["reason"]) == (
        str(report),
        "complaint",
        "complaint",
    )
    [recipient] = found["recipients"]
    assert set(recipient) == {"address", "kind", "reason", "status", "diagnostic"}
    assert (recipient["address"], recipient["kind"]) == (READERS[1], "complaint")


def test_a_display_name_in_persian_does_not_hide_the_reader(copies):
    original = received(copies.of(1)).replace("To: Reader 1 <", f"To: {_encoded('خواننده یک')} <")
    found = complained(copies, jmrp(original))
    assert [f["address"] for f in found["recipients"]] == [READERS[1]]


def _mixed(from_: str, subject: str, words: str, original: str, *, encoding: str = "") -> bytes:
    """A person's or a receiver's own message, our copy attached as message/rfc822."""
    boundary = "mixed9"
    body = original
    if encoding == "base64":
        body = base64.encodebytes(original.replace("\n", "\r\n").encode()).decode()
    cte = f"Content-Transfer-Encoding: {encoding}\n" if encoding else ""
    return crlf(
        f"From: {from_}\nTo: abuse@example.org\nSubject: {subject}\nDate: {DATE}\n"
        f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{words}\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n{cte}\n{body}\n--{boundary}--\n"
    )


def test_a_dmarc_failure_report_sent_as_plain_mixed_mail_is_no_complaint(copies):
    """Some receivers send RFC 6591's report without its report part: words and the copy."""
    raw = _mixed(
        "DMARC Reports <noreply-dmarc@mx.example.net>",
        "DMARC failure report for example.org",
        "This is an authentication failure report for an email message received from IP"
        f" {SOURCE_IP}: dmarc=fail (p=reject) header.from=example.org.",
        received(copies.of(1)),
    )
    assert named(raw)["kind"] != "complaint"
    blames_nobody(copies, raw)


def test_a_dmarc_aggregate_report_is_no_complaint(copies):
    boundary = "rua1"
    raw = crlf(
        "From: noreply-dmarc-support@google.com\nTo: dmarc@example.org\n"
        "Subject: Report domain: example.org Submitter: google.com Report-ID: 1234567890\n"
        f'Date: {DATE}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f'--{boundary}\nContent-Type: application/zip; name="google.com!example.org.zip"\n'
        "Content-Transfer-Encoding: base64\n\nUEsDBBQAAAAIAA==\n"
        f"--{boundary}--\n"
    )
    assert named(raw)["kind"] != "complaint"
    blames_nobody(copies, raw)


def test_jmrp_with_the_message_in_base64(copies):
    original = received(copies.of(1))
    original = original.replace("\nTo: ", f"\nX-HmXmrOriginalRecipient: <{READERS[1]}>\nTo: ")
    raw = _mixed(
        "staff@hotmail.com",
        f"complaint about message from {SOURCE_IP}",
        "This is an email abuse report for an email message received from IP"
        f" {SOURCE_IP} on {DATE}.",
        original,
        encoding="base64",
    )
    complained(copies, raw)


def test_a_persian_abuse_desk_with_our_copy_attached(copies):
    raw = _mixed(
        "واحد رسیدگی به سوءاستفاده <abuse@isp.example.ir>",
        _encoded("گزارش هرزنامه"),
        "مشترک ما این نامه را هرزنامه گزارش کرده است و هرگز عضو نشده بود.",
        received(copies.of(2)),
    )
    complained(copies, raw, reader=2)


def test_an_abuse_desk_attaching_our_copy_as_an_eml_file(copies):
    """Abuse desks' ticket systems attach the reported message as a saved file."""
    boundary = "eml1"
    name = "reported-message.eml"
    encoded = base64.encodebytes(received(copies.of(1)).replace("\n", "\r\n").encode()).decode()
    raw = crlf(
        "From: Abuse Desk <abuse@isp.example.net>\nTo: abuse@example.org\n"
        f"Subject: [ABUSE-4711] Spam complaint\nDate: {DATE}\n"
        f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n"
        "Our customer reported the attached unsolicited email as spam.\n\n"
        f'--{boundary}\nContent-Type: application/octet-stream; name="{name}"\n'
        f'Content-Disposition: attachment; filename="{name}"\n'
        f"Content-Transfer-Encoding: base64\n\n{encoded}\n--{boundary}--\n"
    )
    complained(copies, raw)


def test_taken_by_address_a_complaint_blames_the_address_we_sent_to_alone(copies, app):
    """Without our return path or Message-ID (NEWSLETTER_BOUNCES_BY_ADDRESS), a report naming
    the copy's To and, as Original-Rcpt-To, where it was forwarded, another reader's
    address: one reader complained, the one we sent it to."""
    app.config["BOUNCES_BY_ADDRESS"] = True
    raw = arf(
        f"To: {READERS[1]}\nSubject: Weekly\n",
        attached="text/rfc822-headers",
        fields=f"Original-Rcpt-To: {READERS[0]}\n",
    )
    complained(copies, raw)


def test_a_complaint_named_only_by_a_forwarded_link_leaves_that_list_alone(copies, make_list):
    """Whoever a reader forwarded an issue to holds its unsubscribe link, and could write
    us a "complaint" in its words: it stopped the reader on every list, for good."""
    other = make_list(slug="other", name="Other")
    reader = stored_subscriber(READERS[1])
    db.session.add(Subscription(subscriber_id=reader.id, list_id=other.id, status="confirmed"))
    db.session.commit()
    raw = inline(
        copies.of(1),
        by="A Friend <friend@example.net>",
        words="This is spam, I never subscribed.",
    )
    deliver(copies.server, raw, to=f"abuse@{BOUNCE_DOMAIN}")
    reader = stored_subscriber(READERS[1])
    left = {s.list_id: s.status for s in reader.subscriptions}
    assert left == {copies.list_id: "unsubscribed", other.id: "confirmed"}
    assert reader.status == "active" and not suppression.reason(READERS[1])
