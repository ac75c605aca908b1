"""Messages real software sends back that are no failure, complaints in the shapes abuse
desks send, and replies of servers outside the big providers, each built after its source:
OpenSMTPD's bounce.c, masqmail's templates (tpl/warnmsg.tpl and its translations), Outlook's
"Not read" receipts in its readers' languages, opendmarc-reports and RFC 7489's aggregate
reports, SpamCop's FAQ (its report layouts), Hotmail's older loop, and the reply tables of
bounce classifiers that quote Chinese, Italian and Aliyun's servers.

Each case judged wrongly before: a live reader counted soft (and dropped after three), a
dead address kept, a complaint missed, or an acknowledgement made into a complaint.
"""

from __future__ import annotations

import pytest
from bounce_samples import (
    DATE,
    MESSAGE_ID,
    _crlf,
    _encoded,
    classified,
    original,
    postfix,
    rfc3464,
    verp,
)

READER = "reader@example.net"


def _mdn(subject: str, text: str, agent: str) -> bytes:
    """An RFC 8098 notification, as Exchange sends Outlook's "Not read" receipt."""
    return _crlf(
        f"From: Reader <{READER}>\nTo: <{verp(READER)}>\nSubject: {_encoded(subject)}\n"
        f"Date: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="m"\n\n'
        f"--m\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
        "--m\nContent-Type: message/disposition-notification\n\n"
        f"Reporting-UA: {agent}\nFinal-Recipient: rfc822;{READER}\n"
        f"Original-Message-ID: {MESSAGE_ID}\n"
        "Disposition: automatic-action/MDN-sent-automatically; deleted\n--m--\n"
    )


@pytest.mark.parametrize(
    "subject, text",
    [
        ("Nicht gelesen: This week", "wurde am Dienstag, 14. Januar 2025 ungelesen gelöscht."),
        ("Non lu : This week", "a été supprimé sans avoir été lu le mardi 14 janvier 2025."),
        ("Не прочитано: This week", "было удалено без прочтения 14 января 2025 г."),
        ("خوانده نشد: This week", "بدون خواندن در ۱۴ ژانویه ۲۰۲۵ حذف شد."),
    ],
)
def test_outlooks_not_read_receipt_in_any_language_is_no_failure(subject, text):
    """The reader deleted our issue unread: Exchange says so in the reader's language, in the
    disposition a Sieve rejection also uses. Counted soft, three such weeks dropped them."""
    raw = _mdn(subject, text, "DM8PR09MB7205.namprd09.prod.outlook.com; Microsoft Exchange Server")
    verdict = classified(raw)
    assert (verdict.kind, verdict.recipients) == ("none", [])


def test_a_sieve_rejection_in_the_same_disposition_still_fails_the_copy():
    """Dovecot's reject of a full mailbox, in that disposition: still the mailbox's failure."""
    raw = _mdn(
        "Automatically rejected mail",
        f"Your message to <{READER}> was automatically rejected:\n"
        "Quota exceeded (mailbox for user is full)",
        "mail; Dovecot Mail Delivery Agent",
    )
    assert [(f.kind, f.reason) for f in classified(raw).recipients] == [("soft", "mailbox_full")]


def _opensmtpd_plain(subject: str, said: str, line: str) -> bytes:
    """OpenSMTPD's older notices (smtpd/bounce.c), plain text: its words, then the recipient
    with the server's reply."""
    return _crlf(
        f"From: Mailer Daemon <MAILER-DAEMON@mx.example.net>\nTo: {verp(READER)}\n"
        f"Subject: {subject}\nDate: {DATE}\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=us-ascii\n\n"
        "Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
        f"{said}\n\n{READER}: {line}\n\nBelow is a copy of the original message:\n\n"
        f"{original(READER)}"
    )


@pytest.mark.parametrize(
    "subject, said, line",
    [
        (
            "Delivery status notification: warning",
            "A message is delayed for more than 4 hours for the following\n"
            "list of recipients:\n\n    Please note that this is only a temporary failure "
            "report.\n    The message is kept in the queue for up to 4 days.\n"
            "    You DO NOT NEED to re-send the message to these recipients.",
            "421 4.2.2 Mailbox temporarily full",
        ),
        (
            "Delivery status notification: success",
            "Your message was successfully delivered to these recipients.",
            "250 2.0.0 Ok: queued",
        ),
        (
            "Delivery status notification: relayed",
            "Your message was relayed to these recipients.",
            "250 2.0.0 Ok: queued as 4Yx1DEF",
        ),
    ],
)
def test_opensmtpds_older_warnings_and_successes_fail_nobody(subject, said, line):
    verdict = classified(_opensmtpd_plain(subject, said, line))
    assert all(f.reason == "delayed" for f in verdict.recipients)
    assert verdict.reason in ("delayed", "delivered")


def _masqmail_warning(intro: str, retry: str, said: str) -> bytes:
    """masqmail's delay warning (fail_msg.c with tpl/warnmsg.tpl; its translations put
    their own words above the English)."""
    return _crlf(
        f"Return-Path: <>\nFrom: MAILER-DAEMON@mail.example.net\nTo: {verp(READER)}\n"
        f"Subject: Warning: could not yet send message\nDate: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="w"\n\nThis is a MIME-encapsulated message.'
        "\n\n--w\nContent-Description: Notification\nContent-Type: text/plain\n\n"
        "This message was sent to you by the mailer daemon (masqmail 0.3.6)\n\n"
        f"{intro}\n\n\t<{READER}>\n\n{retry}\n\n"
        f"while connected with mx.example.net, the server replied\n\t{said}\n\n"
        f"--w\nContent-Description: Undelivered Message Headers\n"
        f"Content-Type: message/rfc822\n\n{original(READER, body=False)}\n--w--\n"
    )


@pytest.mark.parametrize(
    "intro, retry, said",
    [
        (
            "Sorry, but your mail could not yet be delivered to all recipients.\n"
            "Delivery to the following recipients has been defered:",
            "Delivery will be tried again, until it is either successful or a\n"
            "timeout has been reached.",
            "451 4.3.0 Temporary system failure. Please try again later.",
        ),
        (
            "L'invio ai seguenti destinatari e' stato ritardato:\n"
            "(Delivery to the following recipients has been defered:)",
            "La spedizione verra' ritentata, finche' ha successo.\n"
            "(Delivery will be tried again, until it is either successful or a\n"
            "timeout has been reached.)",
            "452 4.2.2 Mailbox full, try again later",
        ),
    ],
)
def test_masqmails_delay_warning_fails_nobody(intro, retry, said):
    """masqmail repeats its warning while it retries: each was a soft failure."""
    verdict = classified(_masqmail_warning(intro, retry, said))
    assert [(f.address, f.reason) for f in verdict.recipients] == [(READER, "delayed")]


@pytest.mark.parametrize(
    "sender, subject",
    [
        ("Mail Delivery System <MAILER-DAEMON@host.example.net>", "Auto-Reply: This week"),
        ("postmaster@example.net", "Abwesenheitsnotiz: This week"),
    ],
)
def test_a_hosts_autoresponder_writing_as_its_mail_server_is_no_failure(sender, subject):
    """Hosting autoresponders that send as the mail server: no failure in their words."""
    raw = _crlf(
        f"From: {sender}\nTo: {verp(READER)}\nSubject: {_encoded(subject)}\nDate: {DATE}\n"
        "Auto-Submitted: auto-replied\nContent-Type: text/plain; charset=utf-8\n\n"
        "Our office is closed until 20 January. Your e-mail has been received.\n"
    )
    verdict = classified(raw)
    assert (verdict.kind, verdict.reason) == ("none", "auto_reply")


def test_a_daemons_notice_with_an_auto_reply_subject_still_says_its_failure():
    raw = _crlf(
        f"From: MAILER-DAEMON@host.example.net\nTo: {verp(READER)}\n"
        f"Subject: Auto-Reply: This week\nDate: {DATE}\nContent-Type: text/plain\n\n"
        "Delivery to the following address failed: user unknown.\n"
    )
    assert classified(raw).reason == "user_unknown"


@pytest.mark.parametrize(
    "sender, attachment",
    [
        # opendmarc-reports' default sender and its zip
        ("postmaster@mx.example.net", "application/zip"),
        ("DMARC Reporter <postmaster@mail.example.net>", "text/xml"),
    ],
)
def test_a_dmarc_aggregate_report_from_a_postmaster_is_no_failure(sender, attachment):
    """RFC 7489's aggregate report, about our domain's mail as a whole, its subject as the
    RFC gives it."""
    raw = _crlf(
        f"From: {sender}\nTo: dmarc@bounces.example.org\n"
        "Subject: Report Domain: example.org Submitter: mx.example.net "
        "Report-ID: example.org-1736899200@mx.example.net\n"
        f"Date: {DATE}\nAuto-Submitted: auto-generated\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="r"\n\n--r\nContent-Type: text/plain\n\n'
        "This is a DMARC aggregate report for example.org\n"
        f'--r\nContent-Type: {attachment}\nContent-Disposition: attachment; filename="'
        'mx.example.net!example.org!1736812800!1736899199.zip"\n\nUEsDBBQAAAAIAHUT\n--r--\n'
    )
    verdict = classified(raw)
    assert (verdict.kind, verdict.reason) == ("none", "not_a_bounce")


def _acknowledgement(words: str, *, auto: str = "Auto-Submitted: auto-replied\n") -> bytes:
    """An abuse desk's or helpdesk's automatic answer, our message attached (an OTRS
    ticket's "Automatic reply")."""
    return _crlf(
        f"From: Provider Abuse Desk <abuse@provider.example>\nTo: {verp(READER)}\n"
        "Subject: [Ticket#2025011410000456] Automatic reply: This week\n"
        f"Date: {DATE}\n{auto}MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="a"\n\n'
        f"--a\nContent-Type: text/plain; charset=utf-8\n\n{words}\n"
        f"--a\nContent-Type: message/rfc822\n\n{original(READER)}\n--a--\n"
    )


@pytest.mark.parametrize(
    "words",
    [
        "Thank you for your abuse report. Spam reports are processed in the order received.",
        "We received your request. For a complaint regarding an order, quote its number.",
    ],
)
def test_an_automatic_acknowledgement_with_our_message_is_no_complaint(words):
    """Unsubscribed from every list before, for an answering machine's words."""
    verdict = classified(_acknowledgement(words))
    assert (verdict.kind, verdict.reason) == ("none", "auto_reply")


def test_an_abuse_desks_own_report_with_our_message_is_still_a_complaint():
    """The same words from a person at the desk, no automatic reply's marks: a complaint."""
    raw = _acknowledgement(
        "We received the attached spam complaint about mail from your account. The recipient"
        " states they never signed up.",
        auto="",
    ).replace(b"Automatic reply: ", b"Spam complaint: ")
    assert classified(raw).kind == "complaint"


def _spamcop(marker: str) -> bytes:
    """SpamCop's report to our network's abuse address (its FAQ's layouts): the reader's
    address masked as "x", our return path and Message-ID kept."""
    quoted = original("x", message_id="<40021.31ab@mail.example.org>").replace(
        f"Return-Path: <{verp('x')}>", f"Return-Path: <{verp(READER)}>"
    )
    return _crlf(
        "From: SpamCop <7012345678@reports.spamcop.net>\nTo: abuse@example.org\n"
        f"Subject: [SpamCop (192.0.2.25) id:7012345678]This week\nDate: {DATE}\n"
        "Content-Type: text/plain; charset=utf-8\n\n[ SpamCop V5.4.0 ]\n"
        "This message is brief for your comfort.  Please use links below for details.\n\n"
        f"Email from 192.0.2.25 / {DATE}\nhttps://www.spamcop.net/w3m?i=z7012345678z\n\n"
        f"{marker}\n{quoted}"
    )


@pytest.mark.parametrize("marker", ["[ Offending message ]", "Offending message:"])
def test_spamcops_report_is_a_complaint_found_by_our_return_path(marker):
    verdict = classified(_spamcop(marker))
    assert verdict.kind == "complaint"
    assert verp(READER) in verdict.return_paths
    assert "<40021.31ab@mail.example.org>" in verdict.message_ids


def test_hotmails_older_loop_names_our_message_id_from_its_own_headers():
    """Hotmail's older loop sends our message itself, X-HmXmrOriginalRecipient added and
    its Return-Path Hotmail's: our Message-ID finds the copy (no return path of ours)."""
    raw = _crlf(
        "Return-Path: staff@hotmail.com\nX-HmXmrOriginalRecipient: reader@hotmail.com\n"
        + original("reader@hotmail.com").replace(
            "Return-Path: <bounces+reader=hotmail.com@bounces.example.org>\n", ""
        )
    )
    verdict = classified(raw)
    assert verdict.kind == "complaint"
    assert verdict.message_ids == [MESSAGE_ID]
    assert verdict.return_paths == []


def test_a_feedback_report_forwarded_as_an_attachment_names_our_copy():
    """A relay forwards the report it got; the copy is named inside the report it attaches."""
    report = (
        "From: feedback@arf.mail.yahoo.com\nSubject: FW: complaint\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="f"\n\n'
        "--f\nContent-Type: text/plain\n\nThis is an email abuse report.\n"
        "--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n"
        f"--f\nContent-Type: message/rfc822\n\n{original(READER)}\n--f--\n"
    )
    raw = _crlf(
        f"From: Postmaster <postmaster@relay.example>\nTo: {verp(READER)}\n"
        f"Subject: Fwd: complaint\nDate: {DATE}\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="o"\n\n--o\nContent-Type: text/plain\n\n'
        f"Forwarded to you.\n--o\nContent-Type: message/rfc822\n\n{report}\n--o--\n"
    )
    verdict = classified(raw)
    assert verdict.kind == "complaint"
    assert MESSAGE_ID in verdict.message_ids


@pytest.mark.parametrize(
    "said, kind, reason",
    [
        # a PHP bounce classifier's table of Chinese hosts; "does no exists" sic
        (
            "550 RC:LD The email account that you tried to reach does no exists.",
            "hard",
            "user_unknown",
        ),
        ("550 #2175041 unavailable mail user", "hard", "user_unknown"),
        (f"550 Local User [{READER}] not found.", "hard", "user_unknown"),
        ("550 Questo indirizzo non esiste", "hard", "user_unknown"),  # Italian
        # Aliyun's spam filter refusing our message
        ("543 reject by yun-medusa3-mta(ID:1234567.8901)", "sender", "spam"),
    ],
)
def test_replies_of_servers_outside_the_big_providers(said, kind, reason):
    command = "end of DATA" if kind == "sender" else "RCPT TO"
    raw = postfix(READER, "5.0.0", said, in_reply_to=command)
    assert [(f.kind, f.reason) for f in classified(raw).recipients] == [(kind, reason)]


@pytest.mark.parametrize(
    "status, said",
    [
        # Reacher's list of real replies: a receiver's Sendmail refusing our IP
        (
            "5.3.0",
            "553 5.3.0 <reader@example.net>... Mail from 192.0.2.25 rejected by Abusix blacklist",
        ),
        ("5.3.0", "550 5.3.0 Mail from 192.0.2.25 is listed on Abusix blacklist"),
        # AOL's older refusal of our message, under a disabled mailbox's status
        ("5.2.1", "521 5.2.1 : AOL will not accept delivery of this message."),
    ],
)
def test_a_block_of_us_under_a_status_of_the_mailbox_or_system_is_ours(status, said):
    raw = postfix(READER, status, said, remote="mx.aol.com[198.51.100.9]")
    assert [(f.kind, f.reason) for f in classified(raw).recipients] == [("sender", "blocked")]


@pytest.mark.parametrize(
    "sent_to, written",
    [("reader+news@example.net", "reader+2Bnews@"), ("first=last@example.net", "first+3Dlast@")],
)
def test_an_original_recipient_in_xtext_names_the_address_we_sent_to(sent_to, written):
    """Sendmail and Exim write ORCPT back into Original-Recipient as RFC 3461's xtext carried
    it: the reader was named "reader+2Bnews@", someone else, and, routed to a mailbox of
    another name, not at all."""
    raw = rfc3464(sent_to, "5.2.2", "552 5.2.2 Mailbox full", routed_to="rdr@mailhost.example.net")
    raw = raw.replace(
        f"Original-Recipient: rfc822;{sent_to}".encode(),
        (f"Original-Recipient: rfc822;{written}example.net".encode()),
    )
    assert written.encode() in raw
    named = [(f.address, f.kind) for f in classified(raw).recipients]
    assert named == [(sent_to, "soft"), ("rdr@mailhost.example.net", "soft")]


def test_a_plus_tag_of_digits_is_not_read_as_xtext():
    raw = rfc3464(
        "news+2024@example.net", "5.1.1", "550 5.1.1 User unknown", routed_to="n@mx.example.net"
    )
    assert classified(raw).recipients[0].address == "news+2024@example.net"


def test_263s_mail_size_limit_is_a_full_mailbox():
    """263's help page: "mail size limit exceeded (in reply to end of DATA command)" is its
    mailbox over capacity (信箱超容), not our message too large."""
    said = "552 mail size limit exceeded"
    raw = postfix(
        "zhao@corp.example.cn",
        "5.0.0",
        said,
        remote="mx.263.net[211.150.65.11]",
        in_reply_to="end of DATA",
    )
    assert [(f.kind, f.reason) for f in classified(raw).recipients] == [("soft", "mailbox_full")]
    elsewhere = postfix("zhao@corp.example.cn", "5.0.0", said, in_reply_to="end of DATA")
    assert [f.kind for f in classified(elsewhere).recipients] == ["sender"]


@pytest.mark.parametrize(
    "fields",
    [
        ("De", "Para", "CC", "Responder a", "Asunto"),
        ("Von", "An", "Cc", "Antwort an", "Betreff"),
        ("De", "À", "Cc", "Répondre à", "Objet"),
        ("От", "Кому", "Копия", "Ответ", "Тема"),
        ("از", "به", "رونوشت", "پاسخ به", "موضوع"),
        ("差出人", "宛先", "CC", "返信先", "件名"),
    ],
)
def test_our_headers_summed_up_in_the_readers_language_name_nobody(fields):
    """Exchange's and Domino's text reports sum our message up in their own language's
    field names: our From, Reply-To and Cc were named as failed (our editor hard), and the
    reader, one of several, only soft."""
    sender, to, cc, reply_to, subject = fields
    raw = _crlf(
        f"From: Postmaster <postmaster@mx.example.net>\nTo: {verp(READER)}\n"
        f"Subject: Undeliverable: This week\nDate: {DATE}\nAuto-Submitted: auto-replied\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"{sender}: Example Weekly <news@example.org>\n{to}: {READER}\n"
        f"{cc}: friend@example.com\n{reply_to}: editor@example.org\n{subject}: This week\n\n"
        f"was not delivered to:\n\n  {READER}\n\nbecause:\n\n"
        f"  550 5.1.1 User {READER} not listed in Domino Directory\n"
    )
    named = [(f.address, f.kind) for f in classified(raw).recipients]
    assert named == [(READER, "hard")]
