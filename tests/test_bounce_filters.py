"""Content filters' and gateways' own notices to the sender, as their templates write them
(amavis's, MailScanner's, Proxmox Mail Gateway's, Google Workspace's for an administrator's
rule), and a reader's mail program saying our message was deleted unread.

A filter refusing our content (spam, a banned attachment, a virus, a part it could not read)
refuses our mail: never the reader's fault. Before, most were soft failures of no reason, so a
company whose filter took our issue for spam each week dropped its reader after a few.
"""

from __future__ import annotations

import pytest
from bounce_samples import classified, exim, plain_notice, postfix, rfc3464, verdicts

READER = "reader@example.net"
SENT = "  To: reader@example.net\n  Subject: This week: spring issue\n"


@pytest.mark.parametrize(
    ("subject", "text", "said", "reason"),
    [
        (
            "Considered UNSOLICITED BULK EMAIL, apparently from you",
            "A message from <news@example.org> to:\n  -> reader@example.net\n"
            "was considered unsolicited bulk e-mail (UBE).",
            "554 5.7.0 Bounce, id=07221-02 - spam",
            "spam",
        ),
        (
            "BANNED contents from you (.exe,.exe-ms,pmlyg.bat)",
            "BANNED CONTENTS ALERT\n\nOur content checker found\n"
            "    banned name: .exe,.exe-ms,pmlyg.bat\nin an email to you from you.",
            "554-5.7.0 Bounce, id=31536-15 - BANNED: P=p003,L=1,M=multipart/mixed",
            "policy",
        ),
    ],
)
def test_amavis_s_report_of_our_content(subject, text, said, reason):
    raw = rfc3464(
        READER,
        "5.7.0",
        said,
        text=text,
        subject=subject,
        from_="Content-filter at mail.example.net <postmaster@mail.example.net>",
    )
    assert verdicts(raw) == [(READER, "sender", reason)]


@pytest.mark.parametrize(
    ("subject", "text", "reason"),
    [
        (
            "Warning: E-mail viruses detected",
            "Our e-mail content detector has just been triggered by a message you sent:\n"
            + SENT
            + "One or more of the attachments (spring.pdf.exe) are on\nthe list of unacceptable"
            " attachments for this site and will not have\nbeen delivered.",
            "policy",
        ),
        (
            "Warning: E-mail error detected",
            "Our virus detector failed to completely analyse a message you sent:-\n"
            + SENT
            + "Any parts of the message that could not be analysed will not have been\ndelivered.",
            "content_error",
        ),
        (
            "{Bounce} Unsolicited commercial email rejected",
            "Our UCE (spam) detectors have been triggered by a message you sent:-\n"
            + SENT
            + "This message has been rejected.\n\nWe do not accept unsolicited commercial (spam)"
            " e-mail and actively\nwork to stop it.",
            "spam",
        ),
        (
            "Notification: This week: spring issue",
            "Proxmox Notification:\n\nReceiver: reader@example.net\n\n"
            "Subject: This week: spring issue\n\nMatching Rule: Virus Alert\n\n"
            "Virus Info: Eicar-Signature",
            "virus",
        ),
    ],
)
def test_a_filter_s_own_notice_refuses_our_mail(subject, text, reason):
    """MailScanner's templates (reports/en/sender.*.report.txt), Proxmox's notify rule: the
    reader is found by our return path, and what the notice says is the message's reason."""
    verdict = classified(plain_notice(READER, subject, text, from_="postmaster@mx.example.net"))
    assert (verdict.reason, verdict.kind) == (reason, "sender")


def test_the_reader_s_administrator_s_rule_refuses_our_mail():
    said = (
        "550 5.7.1 The user or domain that you are sending to (or from) has a policy that"
        " prohibited the mail that you sent. Please contact your domain administrator"
    )
    raw = postfix(READER, "5.7.1", said, remote="aspmx.l.google.com[142.250.27.27]")
    assert [(f.kind, f.reason) for f in classified(raw).recipients] == [("sender", "policy")]


def test_our_issue_deleted_unread_is_no_failure():
    """Outlook's notice that the reader deleted our message unread comes in the disposition a
    Sieve rejection uses ("automatic-action...; deleted"): its words tell them apart."""
    raw = (
        f"From: Reader <{READER}>\r\nTo: news@example.org\r\n"
        "Subject: Not read: This week: spring issue\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="m"\r\n'
        "\r\n--m\r\nContent-Type: text/plain\r\n\r\nYour message\r\n\r\n  To: Reader\r\n"
        "  Subject: This week: spring issue\r\n\r\nwas deleted without being read on Tuesday,"
        " January 14, 2025 11:02:40 AM (UTC+00:00).\r\n"
        "--m\r\nContent-Type: message/disposition-notification\r\n\r\n"
        f"Reporting-UA: EX01.example.net; Microsoft Exchange Server\r\nFinal-Recipient: rfc822;"
        f"{READER}\r\nDisposition: automatic-action/MDN-sent-automatically; deleted\r\n--m--\r\n"
    ).encode()
    verdict = classified(raw)
    assert (verdict.recipients, verdict.kind) == ([], "none")


def test_a_spam_score_over_the_receivers_limit_is_a_refusal_of_our_mail():
    """Exim's report of a receiver's "550 This message scored 11.4 points. Congratulations!"
    after DATA (SourceForge's lists' archives hold several): a soft failure of no reason,
    counted against the reader."""
    said = "550 This message scored 11.4 points. Congratulations!"
    assert verdicts(exim("reader@example.net", said, after="end of data")) == [
        ("reader@example.net", "sender", "spam")
    ]
