"""Replies of providers and servers read wrongly, abuse reports in X-ARF, people's notes with
our issue attached, and reports about mail to internationalised addresses, each built after
its source: Yahoo's help pages on its "dd" replies, Coremail's index of its bounce prompts,
the reply tables of a PHP bounce classifier (Rambler, Telecom Italia), Stalwart's
queue/dsn.rs and outbound/lookup.rs, Haraka's outbound, Apache James' RemoteDelivery,
Exchange's store (MapiExceptionShutoffQuotaExceeded), Kerio Connect's support pages, Exim's
transports/smtp.c and deliver.c, x-arf.org's version 0.2 with pyxarf's and blocklist.de's
reports, Abusix's XARF README and the XARF 4 samples, Seznam's feedback loop terms,
RFC 2047 and 5965, Postfix's bounce_notify_util.c with SMTPUTF8 (RFC 6531-6533), maddy's
internal/dsn/dsn.go and mox's dsn/dsn.go.

Each case judged wrongly before: a dead address kept, a live reader dropped or held against,
a refusal of our mail put on the reader, a complaint missed, another person's address named,
or a report's own copy of our message not found.
"""

from __future__ import annotations

import base64
import json

import pytest
from bounce_samples import (
    DATE,
    MESSAGE_ID,
    _crlf,
    _encoded,
    arf,
    classified,
    coremail,
    delivery_status,
    exchange,
    exim,
    original,
    postfix,
    report,
    verp,
)

READER = "reader@example.net"
# An internationalised domain (پست.ایران) as we sent to it, and as SMTPUTF8 reports write it
IR_ACE = "ali.rezaei@xn--pgbr8t.xn--mgba3a4f16a"
IR = "ali.rezaei@پست.ایران"
RU_ACE = "ivan@xn--e1afmkfd.xn--p1ai"
RU = "ivan@пример.рф"
JP_ACE = "taro@xn--r8jz45g.jp"
JP = "taro@例え.jp"


def _named(raw: bytes) -> list[tuple[str, str, str]]:
    return [(f.address, f.kind, f.reason) for f in classified(raw).recipients]


@pytest.mark.parametrize(
    "recipient, remote, status, said, command, expected",
    [
        # Yahoo's help pages: a dead address answered after DATA, under Postfix's 5.0.0
        pytest.param(
            "haeclirth.sinoenrat@yahoo.com",
            "mta7.am0.yahoodns.net[67.195.228.110]",
            "5.0.0",
            "554 delivery error: dd Not a valid recipient - atlas117.free.mail.ne1.yahoo.com",
            "end of DATA",
            ("hard", "user_unknown"),
            id="yahoo-dd-not-valid-recipient",
        ),
        pytest.param(
            "jsmith1990@yahoo.com",
            "mta7.am0.yahoodns.net[67.195.228.110]",
            "5.0.0",
            "554 delivery error: dd Requested mailbox is not valid - "
            "atlas221.free.mail.bf1.yahoo.com",
            "end of DATA",
            ("hard", "user_unknown"),
            id="yahoo-dd-mailbox-not-valid",
        ),
        # Rambler (a PHP bounce classifier's table): the reader's account locked, not our mail
        pytest.param(
            "lena@rambler.ru",
            "mx.rambler.ru[81.19.66.120]",
            "5.7.1",
            "540 5.7.1 <lena@rambler.ru>: Recipient address rejected: Account locked by abuse team",
            "RCPT TO",
            ("soft", "mailbox_disabled"),
            id="rambler-account-locked",
        ),
        # Telecom Italia (the same table, "blacklisted"): our host sent to too many dead ones
        pytest.param(
            "matteo.lombardi@alice.it",
            "mx.alice.it[82.57.200.150]",
            "5.0.0",
            "554 Too many unknown RCPT TO addresses from host",
            "RCPT TO",
            ("sender", "blocked"),
            id="telecom-italia-too-many-unknown",
        ),
        # Kerio Connect's support pages: the reader's server takes no mail for the domain
        pytest.param(
            "k.lutz@kerio.example",
            "mail.kerio.example[198.51.100.73]",
            "5.7.1",
            "550 5.7.1 Relaying is denied",
            "RCPT TO",
            ("soft", "no_relaying"),
            id="kerio-relaying-denied",
        ),
    ],
)
def test_replies_of_providers_and_servers(recipient, remote, status, said, command, expected):
    raw = postfix(recipient, status, said, remote=remote, in_reply_to=command)
    assert _named(raw) == [(recipient, *expected)]


def test_exchanges_store_over_its_shutoff_quota_is_a_full_mailbox():
    """Exchange's store refusing a mailbox past its shutoff quota, under 5.2.0 (the case
    cloudbrothers.info writes up): counted as our message refused."""
    said = (
        "554 5.2.0 STOREDRV.Deliver.Exception:QuotaExceededException."
        "MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent "
        "exception with message Move/Copy messages failed."
    )
    raw = exchange("i.hahn@corp.example", "5.2.0", said, generating="EXCH01.corp.example.net")
    assert _named(raw) == [("i.hahn@corp.example", "soft", "mailbox_full")]


def _coremail_english(recipient: str) -> bytes:
    """Coremail's own report (bounce_samples.coremail) with its Chinese summary gone: the
    English words alone, Status 5.0.0, no SMTP command."""
    return report(
        from_="Postmaster@163.com",
        subject="Undelivered Mail Returned to Sender",
        text="This message is generated by Coremail.\n",
        status_part=delivery_status(
            [{"address": recipient, "status": "5.0.0", "diagnostic": "User not found"}],
            reporting_mta="dns; 163mx3.163.com",
        ),
        quoted=original(recipient, body=False),
        recipient=recipient,
        headers="X-Mailer: Coremail MTA server\n",
    )


@pytest.mark.parametrize(
    "raw, kind",
    [
        # Coremail's own report (its help index: "User not found" is 收件人不存在), in GBK
        # base64 under 退信原因; Status 5.0.0, no SMTP command
        pytest.param(
            coremail("jiang.wen@163.com", "收件人不存在", "User not found"),
            "hard",
            id="coremail-chinese-summary",
        ),
        # Guard: "user not found" in English alone is what mobile carriers' filters tell
        # senders they refuse; a live reader is not dropped at once for it
        pytest.param(_coremail_english("jiang.wen@163.com"), "soft", id="english-words-alone"),
    ],
)
def test_coremails_own_no_such_recipient(raw, kind):
    assert _named(raw) == [("jiang.wen@163.com", kind, "user_unknown")]


def _stalwart(recipient: str, said: str) -> bytes:
    """Stalwart's DSN (crates/smtp/src/queue/dsn.rs): its words in parentheses after the
    recipient, Status 5.0.0 and no Diagnostic-Code, the original attached."""
    return _crlf(
        'From: "Mail Delivery Subsystem" <MAILER-DAEMON@mail.stalwart.example>\n'
        f"To: {verp(recipient)}\nAuto-Submitted: auto-generated\n"
        f"Message-ID: <1736847012.4f2b@mail.stalwart.example>\n"
        f"Subject: Failed to deliver message\nDate: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="mb"\n\n'
        '--mb\nContent-Type: text/plain; charset="utf-8"\n\n'
        "Your message could not be delivered to the following recipients:\n\n"
        f"<{recipient}> ({said})\n\n\n"
        "--mb\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns;mail.stalwart.example\nArrival-Date: {DATE}\n\n"
        f"Final-Recipient: rfc822;{recipient}\nAction: failed\nStatus: 5.0.0\n\n\n"
        f"--mb\nContent-Type: message/rfc822\n\n{original(recipient, body=False)}\n--mb--\n"
    )


def _haraka(recipient: str, said: str) -> bytes:
    """Haraka's outbound bounce (config/outbound.bounce_message): plain text, the original
    below it."""
    return _crlf(
        f"Received: (Haraka 4242 invoked for bounce); {DATE}\nDate: {DATE}\n"
        f"From: MAILER-DAEMON@gw.haraka.example\nTo: {verp(recipient)}\n"
        "Subject: failure notice\nMessage-Id: <B1F0C2A3-1111@gw.haraka.example>\n\n"
        "Hi. This is the Haraka Mailer program at gw.haraka.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"Intended Recipients: {recipient}\nFailure Reason: {said}\n\n{original(recipient)}"
    )


def _james(recipient: str, said: str) -> bytes:
    """Apache James' bounce (RemoteDelivery's DSN): its words, a status part whose
    Diagnostic-Code is of type X-James, the original attached."""
    return _crlf(
        f"Return-Path: <>\nDate: {DATE}\nFrom: postmaster@james.example\n"
        f"To: {verp(recipient)}\nMessage-ID: <2107013673.1.1493800841304.JavaMail.james@"
        f"mail.james.example>\nIn-Reply-To: {MESSAGE_ID}\nSubject: Re:This week: spring issue\n"
        "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="jm"\n\n--jm\nContent-Type: text/plain; charset=us-ascii\n\n'
        "Hi. This is the James mail server at mail.james.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.  Below\n"
        "I include the list of recipients and the reason why I was unable to deliver\n"
        f"your message.\n\nFailed recipient(s):\n{recipient}\n\nError message:\n{said}\n\n"
        "--jm\nContent-Type: message/delivery-status; name=status.dat\n"
        "Content-Disposition: attachment; filename=status.dat\n\n"
        "Reporting-MTA: dns; 10.108.115.130\nReceived-From-MTA: dns; 127.0.0.1\n\n"
        f"Final-Recipient: rfc822; {recipient}\nAction: failed\nStatus: 5.0.0\n"
        f"Diagnostic-Code: X-James; {said}\nLast-Attempt-Date: {DATE}\n\n"
        f"--jm\nContent-Type: message/rfc822\n\n{original(recipient)}\n--jm--\n"
    )


@pytest.mark.parametrize(
    "raw",
    [
        # Stalwart's outbound/lookup.rs: no MX record, as its connection error and its resolver
        pytest.param(
            _stalwart(
                "gone@dead.example",
                "connection to 'dead.example' failed: record not found for MX",
            ),
            id="stalwart-record-not-found-for-mx",
        ),
        pytest.param(
            _stalwart("gone@dead.example", "failed to lookup 'dead.example': no MX record found."),
            id="stalwart-no-mx-record-found",
        ),
        # Haraka's outbound: DSN.addr_bad_dest_system("No MX for " + domain)
        pytest.param(_haraka("gone@dead.example", "No MX for dead.example"), id="haraka-no-mx"),
        # Apache James' older RemoteDelivery
        pytest.param(
            _james(
                "gone@dead.example",
                "I found no MX record entries for the hostname dead.example.  I cannot "
                "determine where to send this message.",
            ),
            id="james-no-mx-record-entries",
        ),
    ],
)
def test_a_domain_without_mail_servers_is_a_dead_address(raw):
    assert _named(raw) == [("gone@dead.example", "hard", "host_unknown")]


def _exim(
    shown: str,
    said: str,
    quoted: str,
    *,
    failed: str = "",
    final: str = "",
    diagnostic: str = "",
    status_type: str = "message/delivery-status",
    quoted_type: str = "message/rfc822",
    generated: str = "",
    host: str = "mx.example.net [198.51.100.17]",
) -> bytes:
    """Exim's DSN (deliver.c): X-Failed-Recipients and its words naming the failed address
    as string_printing() writes it (a UTF-8 byte as "\\ooo"); with SMTPUTF8, the status part
    message/global-delivery-status and the original message/global (or its headers,
    message/global-headers)."""
    return _crlf(
        f"Return-Path: <>\nX-Failed-Recipients: {failed or shown}\nAuto-Submitted: auto-replied\n"
        "From: Mail Delivery System <Mailer-Daemon@mx1.example.org>\n"
        f"To: bounces@example.org\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        f"Message-Id: <E1tXk2a-0001Aa-Bc@mx1.example.org>\nDate: {DATE}\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=ex\n"
        "MIME-Version: 1.0\n\n--ex\nContent-type: text/plain; charset=us-ascii\n\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {shown}\n"
        + (f"    (generated from {generated})\n" if generated else "")
        + f"    host {host}\n    {said}\n\n"
        f"--ex\nContent-type: {status_type}\n\nReporting-MTA: dns; mx1.example.org\n\n"
        f"Action: failed\nFinal-Recipient: rfc822;{final or shown}\nStatus: 5.0.0\n"
        f"Remote-MTA: dns; {host.split()[0]}\n"
        + (f"Diagnostic-Code: smtp; {diagnostic}\n" if diagnostic else "")
        + f"\n--ex\nContent-type: {quoted_type}\n\n{quoted}\n--ex--\n"
    )


def test_exims_next_hop_without_smtputf8_refused_our_message():
    """Exim's smtp transport (ERRNO_UTF8_FWD): our message needs SMTPUTF8 and the reader's
    server offers none. Our message's, not the address's; under 5.0.0."""
    raw = _exim(
        RU_ACE,
        "utf8 support required but not offered for forwarding",
        original(RU_ACE, display_name="Иван Петров"),
        host="mx.xn--e1afmkfd.xn--p1ai [198.51.100.17]",
    )
    assert _named(raw) == [(RU_ACE, "sender", "content_error")]


# --- X-ARF --------------------------------------------------------------------------------------


def _xarf02(
    words: str,
    fields: str,
    evidence: str,
    *,
    subject: str = "[X-ARF] abuse report about 192.0.2.25 - spam",
    marker: str = "X-ARF: YES",
) -> bytes:
    """An X-ARF 0.2 report (x-arf.org): the desk's words, its YAML report, the evidence."""
    return _crlf(
        "Return-Path: <abuse@mail.provider-de.example>\n"
        "From: Abuse-Team <abuse@mail.provider-de.example>\nTo: <abuse@example.org>\n"
        f"Subject: {subject}\nDate: {DATE}\n"
        f"Auto-Submitted: auto-generated\nMIME-Version: 1.0\n{marker}\n"
        'Content-Type: multipart/mixed; boundary="xa"\n\n'
        f"--xa\nContent-Type: text/plain; charset=utf-8\n\n{words}\n"
        '--xa\nContent-Type: text/plain; charset=utf-8; name="report.txt"\n\n'
        f"---\n{fields}\n--xa\n{evidence}\n--xa--\n"
    )


def _yaml(report_type: str, service: str, attachment: str) -> str:
    return (
        f"Reported-From: abuse@mail.provider-de.example\nCategory: abuse\n"
        f"Report-Type: {report_type}\nService: {service}\nVersion: 0.2\n"
        f"User-Agent: xarf-reporter 1.4\nDate: {DATE}\nSource-Type: ip-address\n"
        f"Source: 192.0.2.25\nPort: 25\nReport-ID: 8842113@mail.provider-de.example\n"
        f"Attachment: {attachment}\n"
        f"Schema-URL: http://www.x-arf.org/schema/abuse_{report_type}_0.1.1.json\n"
    )


SPAM_FIELDS = _yaml("spam", "smtp", "message/rfc822")
ATTACHED = f'Content-Type: message/rfc822; name="evidence.eml"\n\n{original(READER)}'

# blocklist.de's mail-service report: its fail2ban caught our refusals in a Postfix log
BLOCKLIST_LOG = "\n".join(
    "Jan 14 10:19:02 mx1 postfix/smtpd[28411]: NOQUEUE: reject: RCPT from out1.example.org"
    f"[192.0.2.25]: 550 5.1.1 <{who}>: Recipient address rejected: User unknown in virtual "
    f"mailbox table; from=<{verp(who)}> to=<{who}> proto=ESMTP helo=<out1.example.org>"
    for who in ("klaus.weber@victim-de.example", "info@victim-de.example")
)


@pytest.mark.parametrize(
    "raw",
    [
        # a German desk's words alone ("reported as unwanted advertising")
        pytest.param(
            _xarf02(
                "Sehr geehrte Damen und Herren,\n\nvon der IP-Adresse 192.0.2.25 aus Ihrem Netz "
                "wurde die angehängte E-Mail an einen unserer Kunden versandt. Der Empfänger "
                "hat diese E-Mail als unerwünschte Werbung gemeldet.",
                SPAM_FIELDS,
                ATTACHED,
                subject="Missbrauchsmeldung: Spam von 192.0.2.25",
            ),
            id="v02-german-words",
        ),
        # pyxarf's XarfMail writes the evidence as a text/plain third part
        pytest.param(
            _xarf02(
                "Hello Abuse-Team,\n\nplease find the X-ARF report attached.",
                _yaml("spam", "smtp", "text/plain"),
                f'Content-Type: text/plain; name="evidence.txt"\n\n{original(READER)}',
            ),
            id="v02-evidence-as-text",
        ),
    ],
)
def test_an_xarf_spam_report_is_the_readers_complaint(raw):
    verdict = classified(raw)
    assert (verdict.kind, verdict.reason) == ("complaint", "complaint")
    assert [f.address for f in verdict.recipients] == [READER]
    assert verp(READER) in verdict.return_paths


@pytest.mark.parametrize(
    "raw",
    [
        # pyxarf's documented example: a login attack, its evidence a log line
        pytest.param(
            _xarf02(
                "this is a greeting text",
                _yaml("login-attack", "ssh", "text/plain"),
                'Content-Type: text/plain; name="evidence.txt"\n\nsample evidence data',
                subject="this is a xarf report mail",
                marker="X-XARF: PLAIN",
            ),
            id="v02-login-attack",
        ),
        # blocklist.de: our host's refusals by its mail servers, other people's addresses
        pytest.param(
            _xarf02(
                "Hello Abuse-Team,\n\nyour Server/Customer with the IP: *192.0.2.25* has "
                "attacked one of our servers/partners.\nThe attackers used the method/service:"
                " *mail*. In the attachment of this message you can find the original logs.",
                _yaml("mail", "mail", "text/plain"),
                f'Content-Type: text/plain; name="logfile.log"\n\n{BLOCKLIST_LOG}',
                subject="[noreply] abuse report about 192.0.2.25 -- service: mail",
                marker="X-XARF: PLAIN",
            ),
            id="blocklist-de-mail-log",
        ),
    ],
)
def test_an_xarf_report_about_our_network_names_nobody(raw):
    verdict = classified(raw)
    assert (verdict.kind, verdict.reason, verdict.recipients) == ("none", "not_a_bounce", [])


def _xarf_json(document: dict, *, mixed: bool = False) -> bytes:
    """Abusix's XARF over SMTP (its README): a feedback report of Feedback-Type xarf, the
    JSON attached in base64; `mixed`: an abuse desk's mail with the JSON as a .json file."""
    data = base64.encodebytes(json.dumps(document, indent=2).encode()).decode()
    attached = (
        'Content-Type: application/json; name="xarf.json"\nContent-Transfer-Encoding: base64\n'
        f'Content-Disposition: attachment; filename="xarf.json"\n\n{data}'
    )
    if mixed:
        return _crlf(
            "From: Abuse Desk <abuse@provider-nl.example>\nTo: <abuse@example.org>\n"
            f"Subject: XARF abuse report: 192.0.2.25\nDate: {DATE}\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="xj"\n\n--xj\nContent-Type: text/plain\n\n'
            f"A user of ours reported the message in the attached XARF report.\n\n"
            f"--xj\n{attached}\n--xj--\n"
        )
    return _crlf(
        'Content-Type: multipart/report; report-type=feedback-report; boundary="xj"\n'
        "From: Abusix <noreply@abusix.org>\nTo: Abuse <abuse@example.org>\n"
        f"Subject: XARF report\nMessage-ID: <9a271f0f-8929@abusix.org>\nDate: {DATE}\n"
        "MIME-Version: 1.0\n\n--xj\nContent-Type: text/plain\n\n"
        "This is the human readable description\n--xj\nContent-Type: message/feedback-report\n\n"
        f"Feedback-Type: xarf\nUser-Agent: Abusix/1.0\nVersion: 1\n--xj\n{attached}\n--xj--\n"
    )


SAMPLE = base64.b64encode(original(READER).encode()).decode()
XARF2 = {
    "Version": "2",
    "ReporterInfo": {"ReporterOrg": "ExampleOrg", "ReporterOrgEmail": "reports@example.com"},
    "Report": {
        "ReportClass": "Activity",
        "ReportType": "Spam",
        "ReportSubType": "Complaint",
        "SourceIp": "192.0.2.25",
        "SmtpMailFromAddress": verp(READER),
        "SmtpRcptToAddress": READER,
        "Samples": [
            {"ContentType": "message/rfc822", "Base64Encoded": True, "Payload": SAMPLE},
        ],
    },
}
XARF4 = {
    "xarf_version": "4.0.0",
    "reporter": {"org": "Example Security", "contact": "abuse@provider-nl.example"},
    "source_identifier": "192.0.2.25",
    "class": "messaging",
    "type": "spam",
    "evidence_source": "user_complaint",
    "smtp_from": verp(READER),
    "evidence": [{"content_type": "message/rfc822", "payload": SAMPLE}],
}


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_xarf_json(XARF2), id="abusix-xarf2"),
        # the XARF 4 spec's bulk_messaging and spam samples
        pytest.param(_xarf_json({**XARF4, "type": "bulk_messaging"}), id="xarf4-report"),
        pytest.param(_xarf_json(XARF4, mixed=True), id="xarf4-json-attachment"),
    ],
)
def test_an_xarf_json_report_names_the_reader_and_our_copy(raw):
    """Everything is in the JSON: the envelope sender (our return path), the recipient or
    our message in base64 holding them. Before, the report named nobody and found no copy
    of ours (or, attached to a desk's mail, was no complaint at all)."""
    verdict = classified(raw)
    assert (verdict.kind, verdict.reason) == ("complaint", "complaint")
    assert [f.address for f in verdict.recipients] == [READER]
    assert verp(READER) in verdict.return_paths
    assert MESSAGE_ID in verdict.message_ids


# --- A person's note with our issue attached --------------------------------------------------


def _note(sender: str, words: str, *, subject: str = "Fwd: This week: spring issue") -> bytes:
    """A mail program's "Forward as attachment" (RFC 2046 5.2.1): the note, our issue as
    message/rfc822; no daemon, no automatic reply's marks."""
    subject = subject if subject.isascii() else _encoded(subject)
    return _crlf(
        f"From: {sender}\nTo: <abuse@example.org>\nSubject: {subject}\n"
        f"Date: {DATE}\nMessage-ID: <m.4711@mail.provider.example>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="fw"\n\n'
        f"--fw\nContent-Type: text/plain; charset=utf-8\n\n{words}\n\n"
        '--fw\nContent-Type: message/rfc822\nContent-Disposition: attachment; filename="issue.eml"'
        f"\n\n{original(READER)}\n--fw--\n"
    )


DESK = "Abuse Desk <abuse@isp.example>"


@pytest.mark.parametrize(
    "raw, named",
    [
        pytest.param(
            _note(
                DESK,
                "Hello,\n\nplease stop spamming our customers. The attached message "
                "was received by one of our users.",
            ),
            [READER],
            id="stop-spamming",
        ),
        pytest.param(
            _note(DESK, "This is spam. Our customer did not request it."),
            [READER],
            id="this-is-spam",
        ),
        pytest.param(
            _note(
                "Abuse-Team <abuse@provider-de.example>",
                "Sehr geehrte Damen und Herren,\n\nunser Kunde hat die angehängte E-Mail "
                "erhalten, ohne sich je dafür angemeldet zu haben.",
            ),
            [READER],
            id="german",
        ),
        pytest.param(
            _note(
                "abuse@isp-ir.example",
                "با سلام،\n\nلطفاً ارسال هرزنامه به این نشانی را متوقف کنید.",
            ),
            [READER],
            id="persian",
        ),
        # the reader herself: found by our return path in the copy, her own address no other's
        pytest.param(_note(f"Reader <{READER}>", "unsubscribe me"), [], id="unsubscribe-me"),
        # Seznam's feedback loop terms: its notice, our message attached, no ARF part
        pytest.param(
            _note(
                "Seznam.cz FBL <fbl@fbl.seznam.cz>",
                f"Uživatel {READER} označil vaši zprávu jako spam.\n"
                "Prosíme, neposílejte na tuto adresu další obchodní sdělení.",
                subject="Zpráva od uživatele",
            ),
            [READER],
            id="seznam-czech",
        ),
    ],
)
def test_a_persons_note_with_our_issue_attached_is_a_complaint(raw, named):
    verdict = classified(raw)
    assert (verdict.kind, verdict.reason) == ("complaint", "complaint")
    assert [f.address for f in verdict.recipients] == named
    assert verp(READER) in verdict.return_paths


# a filter's notice and a quarantine digest (Proofpoint's End User Digest, as universities'
# help pages show it), the latter forwarded by the reader with her question
DIGEST = (
    "From: Proofpoint Digest <digest@pps.corp.example>\nTo: reader@example.net\n"
    f"Subject: End User Digest: 1 New Message\nDate: {DATE}\nMIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=utf-8\n\nEnd User Digest: 1 New Message\n\n"
    "The emails listed below have been placed in your personal Quarantine.\n\n"
    "Spam - Quarantined\n\nScore  From              Subject                  Date\n"
    "91     news@example.org  This week: spring issue  Jan 14, 2025 10:30\n"
    "       Release | Release and Allow Sender | Block Sender | Not Spam\n"
)


def _mixed(sender: str, subject: str, words: str, attached: str, head: str = "") -> bytes:
    return _crlf(
        f"{head}From: {sender}\nTo: <{verp(READER)}>\nSubject: {subject}\nDate: {DATE}\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="gw"\n\n'
        f"--gw\nContent-Type: text/plain; charset=utf-8\n\n{words}\n\n"
        f"--gw\nContent-Type: message/rfc822\n\n{attached}\n--gw--\n"
    )


@pytest.mark.parametrize(
    "raw, expected",
    [
        # a gateway's notice to the sender (no Auto-Submitted, as many appliances write none)
        pytest.param(
            _mixed(
                "Mail Filter <filter@example.net>",
                "Undeliverable: This week: spring issue",
                f"Your message to {READER} has been marked as spam by the recipient's mail "
                "filter. It was not delivered.",
                original(READER),
                head="Return-Path: <>\n",
            ),
            ("sender", "spam", [READER]),
            id="gateway-marked-as-spam",
        ),
        pytest.param(
            _mixed(
                f"Reader <{READER}>",
                "Fwd: End User Digest: 1 New Message",
                "Why was your mail reported as spam by our filter? I did not do that.",
                DIGEST,
            ),
            ("none", "not_a_bounce", []),
            id="forwarded-quarantine-digest",
        ),
        # Exchange's Content Filter agent, in a server's own report from no daemon's name
        pytest.param(
            _mixed(
                "Mail Gateway <gateway@example.net>",
                "Undeliverable: This week: spring issue",
                f"Delivery has failed to these recipients:\n\n{READER}\n"
                "550 5.7.1 Message rejected as spam by Content Filtering.",
                original(READER),
                head="Return-Path: <>\n",
            ),
            ("sender", "spam", [READER]),
            id="rejected-as-spam",
        ),
    ],
)
def test_a_filters_verdict_is_never_a_complaint(raw, expected):
    verdict = classified(raw)
    assert (verdict.kind, verdict.reason, [f.address for f in verdict.recipients]) == expected


# --- Internationalised addresses ------------------------------------------------------------


def _other_in_name(encoded: str) -> str:
    """Our issue to IR_ACE whose To carries a name holding another address (an import whose
    name column held an old address)."""
    return original(IR_ACE).replace(f"To: {IR_ACE}\n", f"To: {encoded}\n <{IR_ACE}>\n")


def _gateway_naming_nobody(quoted: str) -> bytes:
    """A gateway's notice naming nobody in its words (the quoted To then names the reader)."""
    return _crlf(
        f"Return-Path: <>\nFrom: MAILER-DAEMON@gw.example.ir (Mail Delivery System)\n"
        f"To: {verp(IR_ACE)}\nSubject: Undelivered Mail Returned to Sender\nDate: {DATE}\n"
        "Auto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: multipart/mixed; "
        'boundary="nd"\n\n--nd\nContent-Type: text/plain; charset=us-ascii\n\n'
        "Your message could not be delivered.\n\nReason: 550 5.1.1 Recipient address rejected: "
        f"User unknown in local recipient table\n\n--nd\nContent-Type: message/rfc822\n\n"
        f"{quoted}\n--nd--\n"
    )


# RFC 2047 words: "Ali Rezaei (ali.rezaei.old@yahoo.com)", and base64 of "sara@دانشگاه.ایران"
Q_NAME = "=?utf-8?q?Ali_Rezaei_=28ali=2Erezaei=2Eold=40yahoo=2Ecom=29?="
B_NAME = "=?utf-8?b?" + base64.b64encode("sara@دانشگاه.ایران".encode()).decode() + "?="


def _arf(quoted: str) -> bytes:
    raw = arf(IR_ACE, rcpt_to=False)
    return raw.replace(_crlf(original(IR_ACE)), _crlf(quoted))


@pytest.mark.parametrize("name", [pytest.param(Q_NAME, id="q"), pytest.param(B_NAME, id="b")])
@pytest.mark.parametrize(
    "build, expected",
    [
        pytest.param(_arf, ("complaint", "complaint"), id="arf"),
        pytest.param(_gateway_naming_nobody, ("hard", "user_unknown"), id="bounce"),
    ],
)
def test_an_address_in_our_tos_name_is_nobody_we_sent_to(name, build, expected):
    """Both were named: the old address in the name complained or bounced with the reader,
    and a bounce that named two was only soft."""
    raw = build(_other_in_name(name))
    assert name.encode() in raw
    assert _named(raw) == [(IR_ACE, *expected)]


def _postfix_smtputf8(shown: str, quoted: str) -> bytes:
    """Postfix's report with SMTPUTF8 (bounce_notify_util.c): 8bit parts, the status part
    message/global-delivery-status with a utf-8 Final-Recipient, our whole message returned
    as message/global."""
    return _crlf(
        f"Return-Path: <>\nDate: {DATE}\n"
        "From: MAILER-DAEMON@out1.example.org (Mail Delivery System)\n"
        f"Subject: Undelivered Mail Returned to Sender\nTo: bounces@example.org\n"
        "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="pf"\n\n'
        "--pf\nContent-Description: Notification\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\nThis is the mail system at host out1.example.org.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "                   The mail system\n\n"
        f"<{shown}>: host mx.xn--pgbr8t.xn--mgba3a4f16a[198.51.100.14]\n"
        "    said: 550 5.1.1 User unknown (in reply to RCPT TO command)\n\n"
        "--pf\nContent-Description: Delivery report\nContent-Type: message/global-delivery-status"
        "\nContent-Transfer-Encoding: 8bit\n\nReporting-MTA: dns; out1.example.org\n"
        f"Arrival-Date: {DATE}\n\nFinal-Recipient: utf-8; {shown}\nAction: failed\n"
        "Status: 5.1.1\nRemote-MTA: dns; mx.xn--pgbr8t.xn--mgba3a4f16a\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n"
        "--pf\nContent-Description: Undelivered Message\nContent-Type: message/global\n"
        f"Content-Transfer-Encoding: 8bit\n\n{quoted}\n--pf--\n"
    )


def _maddy(shown: str, quoted: str) -> bytes:
    """maddy's DSN (internal/dsn/dsn.go) in its UTF-8 mode: "Final-Recipient: utf8; "
    (sic), the original's headers as message/global-headers."""
    return _crlf(
        f"Date: {DATE}\nMessage-Id: <3b7e9c1d@mx.example.org>\nMime-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=md\n"
        "Auto-Submitted: auto-replied\nTo: bounces@example.org\nFrom: MAILER-DAEMON@mx.example.org"
        "\nSubject: Undelivered Mail Returned to Sender\n\n--md\nContent-Transfer-Encoding: 8bit\n"
        'Content-Type: text/plain; charset="utf-8"\nContent-Description: Notification\n\n'
        "This is the mail delivery system at mx.example.org.\n\n"
        "Unfortunately, your message could not be delivered to one or more\nrecipients. "
        "The usual cause of this problem is invalid\nrecipient address or maintenance at the "
        "recipient side.\n\n"
        f"Delivery to {shown} failed with error: User does not exist\n\n"
        "--md\nContent-Type: message/global-delivery-status\nContent-Description: Delivery report"
        "\n\nReporting-MTA: dns; mx.example.org\nX-Maddy-Msgid: 2f1c4b9a\n"
        f"Arrival-Date: {DATE}\n\nFinal-Recipient: utf8; {shown}\nAction: failed\n"
        "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User does not exist\n"
        "Remote-MTA: dns; mx.example.net\n\n--md\n"
        "Content-Description: Undelivered message header\nContent-Type: message/global-headers\n"
        f"Content-Transfer-Encoding: 8bit\n\n{quoted}\n--md--\n"
    )


def _mox(recipient: str, field: str) -> bytes:
    """mox's DSN (dsn/dsn.go) of a message sent without SMTPUTF8: its recipient field of
    type rfc822 with a local part's "+" written "\\x{2b}" (Localpart.DSNString)."""
    return _crlf(
        "Return-Path: <postmaster@mail.example.org>\nFrom: <postmaster@mail.example.org>\n"
        f"To: <bounces@example.org>\nSubject: mail delivery failed\nDate: {DATE}\n"
        "Message-Id: <aB3dE5fG7hJ9kL1m@mail.example.org>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="mx"\n\n'
        f"--mx\nContent-Type: text/plain\n\n\nDelivery has failed permanently for your email to:"
        f"\n\n\t{recipient}\n\nNo further deliveries will be attempted.\n\n"
        "Error during the last delivery attempt:\n\n\trecipient rejected\n\nFull SMTP response:"
        f"\n\n\t550 5.1.1 <{recipient}>: Recipient address rejected: User unknown\n\n"
        "--mx\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.org\n"
        f"Arrival-Date: {DATE}\n\nFinal-Recipient: rfc822;{field}\nAction: failed\n"
        "Status: 5.1.1 (recipient rejected)\nRemote-MTA: dns;mx.example.net (198.51.100.7)\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User "
        f"unknown\nLast-Attempt-Date: {DATE}\n\n--mx\nContent-Type: text/rfc822-headers\n\n"
        f"{original(recipient, body=False)}\n--mx--\n"
    )


def _octal(address: str) -> str:
    """An address as Exim's string_printing() writes it: each non-ASCII byte as "\\ooo"."""
    return "".join(chr(b) if b < 128 else f"\\{b:03o}" for b in address.encode())


REFUSED = "SMTP error from remote mail server after RCPT TO:<{0}>:\n    550 5.1.1 <{0}>: Recipient"
REFUSED += " address rejected: User unknown"


@pytest.mark.parametrize(
    "raw, sent_to, named",
    [
        pytest.param(
            _postfix_smtputf8(IR, original(IR_ACE, display_name="علی رضایی")),
            IR_ACE,
            [(IR, "hard", "user_unknown")],
            id="postfix-message-global",
        ),
        # Exim with SUPPORT_I18N: the whole original as message/global
        pytest.param(
            _exim(
                RU,
                REFUSED.format(RU),
                original(RU_ACE, display_name="Иван Петров"),
                failed=_octal(RU),
                diagnostic=f"550 5.1.1 <{RU}>: Recipient address rejected: User unknown",
                status_type="message/global-delivery-status",
                quoted_type="message/global",
                host="mx.xn--e1afmkfd.xn--p1ai [198.51.100.31]",
            ),
            RU_ACE,
            [(RU, "hard", "user_unknown")],
            id="exim-message-global",
        ),
        # the same with the headers alone returned (bounce_return_body false)
        pytest.param(
            _exim(
                JP,
                REFUSED.format(JP),
                original(JP_ACE, display_name="山田太郎", body=False),
                failed=_octal(JP),
                diagnostic=f"550 5.1.1 <{JP}>: Recipient address rejected: User unknown",
                status_type="message/global-delivery-status",
                quoted_type="message/global-headers",
                host="mx.xn--r8jz45g.jp [198.51.100.31]",
            ),
            JP_ACE,
            [(JP, "hard", "user_unknown")],
            id="exim-global-headers",
        ),
        pytest.param(
            _maddy(RU, original(RU_ACE, display_name="Иван Петров", body=False)),
            RU_ACE,
            [(RU, "hard", "user_unknown")],
            id="maddy-utf8-type",
        ),
        pytest.param(
            _mox("reza+khabar@example.ir", "reza\\x{2b}khabar@example.ir"),
            "reza+khabar@example.ir",
            [("reza+khabar@example.ir", "hard", "user_unknown")],
            id="mox-unitext-under-rfc822",
        ),
        # Exim's alias to a Unicode address, escaped in X-Failed-Recipients, its words and
        # Final-Recipient (the RCPT it sent, in ACE)
        pytest.param(
            _exim(
                _octal("ali@پست.ایران"),
                REFUSED.format("ali@xn--pgbr8t.xn--mgba3a4f16a"),
                original(IR_ACE, display_name="علی رضایی"),
                generated=IR_ACE,
                diagnostic="550 5.1.1 <ali@xn--pgbr8t.xn--mgba3a4f16a>: Recipient address "
                "rejected: User unknown",
                host="mx2.xn--pgbr8t.xn--mgba3a4f16a [198.51.100.30]",
            ),
            IR_ACE,
            [(IR_ACE, "hard", "user_unknown"), ("ali@پست.ایران", "hard", "user_unknown")],
            id="exim-octal-escapes",
        ),
        # Exim's Final-Recipient of type rfc822 holding the UTF-8 address as it is
        pytest.param(
            _exim(
                IR,
                REFUSED.format(IR),
                original(IR_ACE),
                failed=_octal(IR),
                diagnostic=f"550 5.1.1 <{IR}>: Recipient address rejected: User unknown",
                status_type="message/global-delivery-status",
                quoted_type="message/global",
                host="mx.xn--pgbr8t.xn--mgba3a4f16a [198.51.100.31]",
            ),
            IR_ACE,
            [(IR, "hard", "user_unknown")],
            id="rfc822-unicode-domain",
        ),
    ],
)
def test_reports_of_mail_to_internationalised_addresses(raw, sent_to, named):
    """Reports of RFC 6531-6533: a reader named by an escape or in a field's UTF-8 form, and
    our copy in the types the email package does not open."""
    verdict = classified(raw)
    assert _named(raw) == named
    assert not any("\\" in f.address for f in verdict.recipients)
    assert verdict.message_ids == [MESSAGE_ID]
    assert verp(sent_to) in verdict.return_paths


def test_exims_plain_report_of_an_alias_names_the_reader_we_sent_to():
    """Exim's plain-text report (no status part) names the alias's target, its UTF-8 bytes as
    octal escapes (string_printing in Exim's string.c), "(generated from <ours>)" under it,
    and the reply to RCPT TO for the target in its ASCII form: one recipient, known by both
    names, and the reply its verdict (before, the escaped and the ASCII forms were two more
    recipients, and ours had only the host line for words)."""
    target = "ali@پست.ایران"
    escaped = "".join(
        c if c.isascii() else "".join(f"\\{b:03o}" for b in c.encode()) for c in target
    )
    said = "550 5.1.1 <ali@xn--pgbr8t.xn--mgba3a4f16a>: Recipient address rejected: User unknown"
    raw = exim(IR_ACE, said, routed_to=escaped).replace(b"ultimately generated", b"generated")
    raw = raw.replace(f"RCPT TO:<{escaped}>".encode(), b"RCPT TO:<ali@xn--pgbr8t.xn--mgba3a4f16a>")
    assert sorted(_named(raw)) == [
        (IR_ACE, "hard", "user_unknown"),
        (target, "hard", "user_unknown"),
    ]


def test_a_quarantine_digest_the_reader_forwards_is_no_failure():
    """Mimecast's digest of messages held for review, forwarded by the reader in Outlook's
    plain text ("-----Original Message-----", from the gateway's postmaster): our issue may
    yet be released, nothing failed (before: a soft failure of no reason)."""
    raw = _crlf(
        f"From: Maria <{READER}>\nTo: <{verp(READER)}>\n"
        "Subject: FW: Mimecast Personal Portal: 1 message on hold\n"
        f"Date: {DATE}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "Your newsletter is held by our Mimecast, I permitted the sender now.\n\n"
        "-----Original Message-----\n"
        "From: Mimecast Digest <postmaster@mimecast.example.net>\n"
        "Sent: Tuesday, January 14, 2025 11:00 AM\n"
        f"To: {READER}\nSubject: Mimecast Personal Portal: 1 message on hold\n\n"
        "You have 1 new message on hold.\n\n"
        "The following message is being held for review:\n"
        "From: news@example.org   Subject: This week: spring issue   Reason: Spam Signature\n"
        "Release | Block | Permit\n"
    )
    verdict = classified(raw)
    assert (verdict.reason, verdict.recipients) == ("held", [])
