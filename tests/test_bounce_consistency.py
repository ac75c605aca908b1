"""The same server reply gets the same verdict whatever mail server reports it.

590 replies that hosts, gateways and other bounce readers document, each built by every
report format tests/bounce_samples.py writes (12,428 reports), differed between formats for
154 replies. What each difference came from is a test here: qmail's closing "Giving up on
<ip>." read as the reason; MDaemon's permanent failure read as a delay (it also says "you do
not need to resend"); a 4xx reply under a status that says no more (Courier's 5.0.0) judged
hard; a reply that names its own stage ("550 RCPT TO:<x> ...", Postfix's "Recipient address
rejected") judged by a report that does not, as if no stage were known; qmail's own words for
a refusal of our address or our connection not read as a stage; a bare syntax code read only
at the words' start; an address in the server's words (our own, or one to write to) taken
for a second failed recipient, which cut the reader's words short.
"""

from __future__ import annotations

import pytest
from bounce_samples import (
    classified,
    courier,
    exchange,
    exim,
    exim_delay,
    hmailserver,
    mdaemon,
    opensmtpd,
    plain_notice,
    postfix,
    powermta,
    qmail,
    rfc3464,
    sendmail,
    zoho,
)

READER = "reader@example.net"

# Every format that takes a recipient and a remote server's reply line.
FORMATS = {
    "postfix": lambda said, status: postfix(READER, status, said, action="failed"),
    "exim": lambda said, status: exim(READER, said),
    "rfc3464": lambda said, status: rfc3464(READER, status, said, action="failed"),
    "sendmail": lambda said, status: sendmail(READER, said),
    "qmail": lambda said, status: qmail(READER, said),
    "exchange": lambda said, status: exchange(READER, status, said),
    "courier": lambda said, status: courier(READER, said),
    "mdaemon": lambda said, status: mdaemon(READER, said),
    "opensmtpd": lambda said, status: opensmtpd(READER, said),
    "zoho": lambda said, status: zoho(READER, said),
}

SAME_EVERYWHERE = [
    # (the reply, the status a report gives it, the kind and reason)
    ("554 5.7.1 Content rejected", "5.7.1", "sender", "content_error"),
    ("554 5.5.4 IP sender address with a negative reputation", "5.5.4", "sender", "bad_reputation"),
    ("501 Syntax error in parameters or arguments", "5.0.0", "sender", "syntax_error"),
    ("501 Malformed address", "5.0.0", "sender", "syntax_error"),
    ("550 Blocked", "5.0.0", "sender", "blocked"),
    (
        "553 Sorry, your email address (news@example.org) has been blocked",
        "5.0.0",
        "sender",
        "sender_rejected",
    ),
    ("421 Your IP is temporarily blocked", "4.0.0", "sender", "blocked"),
    (
        "554 5.7.1 <reader@example.net>: Recipient address rejected: User unknown",
        "5.7.1",
        "hard",
        "user_unknown",
    ),
    ("550 RCPT TO:<reader@example.net> User unknown", "5.0.0", "hard", "user_unknown"),
    ("554 RCPT (reader@example.net) dosn't exist", "5.0.0", "hard", "user_unknown"),
    ("550 Recipient Rejected: No account by that name here", "5.0.0", "hard", "user_unknown"),
    ("550 Unknown local part reader in <example.net>", "5.0.0", "hard", "user_unknown"),
    (
        "421 4.3.2 Your IP(192.0.2.25) is filtered by spam filter. register your IP to "
        "spammaster@hanafos.com",
        "4.3.2",
        "sender",
        "spam",
    ),
    (
        "550 Rejected by header based manually Blocked Senders: news@example.org - "
        "https://community.mimecast.com/docs/DOC-1369#550",
        "5.0.0",
        "sender",
        "filtered",
    ),
]


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize(
    "said, status, kind, reason", SAME_EVERYWHERE, ids=[c[0][:40] for c in SAME_EVERYWHERE]
)
def test_a_reply_gets_one_verdict_whatever_server_reports_it(name, said, status, kind, reason):
    verdict = classified(FORMATS[name](said, status))
    assert [(f.address, f.kind, f.reason) for f in verdict.recipients] == [(READER, kind, reason)]


@pytest.mark.parametrize("name", FORMATS)
def test_a_4xx_reply_is_never_hard_whatever_status_a_report_gives_it(name):
    """Courier gives up on a 4xx reply with Status 5.0.0: the reply still said "try later"."""
    verdict = classified(
        FORMATS[name]("450 Requested action not taken: mailbox unavailable", "5.0.0")
    )
    assert [f.kind for f in verdict.recipients] == ["soft"], verdict


@pytest.mark.parametrize(
    "stage, reason",
    [
        ("Connected to 198.51.100.7 but sender was rejected.", "sender_rejected"),
        ("Connected to 198.51.100.7 but greeting failed.", "blocked"),
        ("Connected to 198.51.100.7 but my name was rejected.", "blocked"),
    ],
)
def test_qmails_words_for_a_refusal_before_any_recipient_are_its_stage(stage, reason):
    """qmail-remote says who it was talking to when the refusal came; a "550 5.0.0 user
    unknown" there answers our address or our connection, never the reader's."""
    verdict = classified(qmail(READER, "550 5.0.0 <news@example.org>... User unknown", stage=stage))
    assert [(f.kind, f.reason) for f in verdict.recipients] == [("sender", reason)]


def test_a_report_filed_under_a_category_that_says_nothing_backs_no_user_unknown():
    """PowerMTA's "other" is no category: "550 No such user here" alone stays words alone."""
    said = "550 No such user here"
    filed = classified(powermta(READER, "5.0.0", said, "other"))
    plain = classified(rfc3464(READER, "5.0.0", said, action="failed"))
    assert [(f.kind, f.reason) for f in filed.recipients] == [("soft", "user_unknown")]
    assert [(f.kind, f.reason) for f in plain.recipients] == [("soft", "user_unknown")]


@pytest.mark.parametrize(
    "subject",
    [
        "After mail from readers, a change",
        "Life after data",
        "Is your mailbox full?",
        "Inactive accounts: the new rules",
        "Why we left the spam filter behind",
    ],
)
@pytest.mark.parametrize(
    "said",
    [
        "550 5.1.1 User unknown",
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    ],
)
def test_our_own_subject_quoted_by_a_report_is_none_of_the_servers_words(subject, said):
    """Exchange quotes our subject in its own ("Undeliverable: ...") and again below: "after
    mail from" in it was read as the stage, "mailbox full" as the mailbox's state."""
    for raw in (exchange(READER, said.split()[1], said, subject=subject),):
        verdict = classified(raw)
        assert [(f.kind, f.reason) for f in verdict.recipients] == [("hard", "user_unknown")]


def test_our_subject_is_known_from_the_reports_own_when_no_original_is_attached():
    raw = exchange(
        READER, "5.1.1", "550 5.1.1 User unknown", subject="After data: a mailbox full of news"
    )
    cut = raw[: raw.index(b"Content-Type: message/rfc822")]  # a relay dropped the original
    assert [(f.kind, f.reason) for f in classified(cut).recipients] == [("hard", "user_unknown")]


@pytest.mark.parametrize("name", ["postfix", "rfc3464", "exchange"])
def test_exchanges_agent_tags_say_which_agent_answered_not_that_a_filter_refused(name):
    """ "[Name=Protocol Filter Agent]" follows Microsoft's replies whatever they say."""
    said = "550 Account does not exist [Name=Protocol Filter Agent][AGT=PFA][MxId=11BE3C0A2C41FB3C]"
    verdict = classified(FORMATS[name](said, "5.0.0"))
    assert [f.kind for f in verdict.recipients] == ["soft"], verdict


@pytest.mark.parametrize("name", ["rfc3464", "exchange"])
def test_postfixs_words_for_the_rcpt_stage_are_read_across_a_multi_line_reply(name):
    said = "554-5.7.1 <reader@example.net>: Recipient address\n554 5.7.1 rejected: User unknown"
    verdict = classified(FORMATS[name](said, "5.7.1"))
    assert [(f.kind, f.reason) for f in verdict.recipients] == [("hard", "user_unknown")]


@pytest.mark.parametrize(
    "said, reason",
    [
        ("550 5.2.1 The mailbox does not accept mails at the moment", "mailbox_disabled"),
        ("550 5.7.1 This recipient does not accept mail with attachments", "filtered"),
    ],
)
def test_does_not_accept_mail_followed_by_more_words_is_no_domain_without_mail(said, reason):
    """RFC 7505's "does not accept mail" ends there (or with "(nullMX)"); a live mailbox's or
    a filter's words go on."""
    verdict = classified(postfix(READER, said.split()[1], said, action="failed"))
    assert [f.reason for f in verdict.recipients] == [reason], verdict


SUBJECTS = [
    "Is your mailbox full?",
    "Verify your email to keep receiving our newsletter",
    "After mail from readers, a change",
    "User unknown: the anonymous donor",
    "Awaits moderator approval",
    "صندوق پستی پر است؟ خبرنامهٔ این هفته",
    "邮箱已满",
    "用户不存在",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_our_subject_quoted_with_no_original_attached_is_none_of_the_servers_words(subject):
    """hMailServer quotes our subject in its own ("Message undeliverable: ...") and in its
    text, attaching nothing; Exim's delay warning in "The subject of the message is:"."""
    dead = classified(hmailserver(READER, "550 5.1.1 User unknown", subject=subject))
    assert [(f.kind, f.reason) for f in dead.recipients] == [("hard", "user_unknown")]
    delayed = classified(exim_delay(READER, "451 4.7.1 Please try again later", subject=subject))
    assert [(f.kind, f.reason) for f in delayed.recipients] == [("soft", "delayed")]
    refused = classified(exchange(READER, "5.7.1", "550 5.7.1 Message rejected", subject=subject))
    assert [f.kind for f in refused.recipients] == ["sender"]


@pytest.mark.parametrize(
    "subject, said, kind",
    [
        ("User unknown", "550 5.1.1 User unknown", "hard"),
        ("Access denied", "550 5.7.1 Access denied", "sender"),
    ],
)
def test_a_short_subject_never_erases_the_servers_own_words(subject, said, kind):
    """Our subject "User unknown" or "Access denied" is removed from the report's general
    words, never from the server's reply, where the same words are the server's."""
    verdict = classified(exchange(READER, said.split()[1], said, subject=subject))
    assert [(f.kind, f.diagnostic) for f in verdict.recipients] == [(kind, said)]


def test_our_from_name_quoted_in_a_reports_summary_is_none_of_the_servers_words():
    """Oracle Messaging Server quotes our headers, our From's name among them."""
    text = (
        "This report relates to a message you sent with the following header fields:\n\n"
        "  Message-id: <abc123@mail.example.com>\n"
        "  From: Mailbox Full Weekly <news@example.org>\n"
        "  To: reader@example.net\n"
        "  Subject: =?utf-8?b?2K7YqNix2YbYp9mF2Ycg2LXZhtiv2YjZgiDZvtiz2KrbjCDZvtixINin2LPY?=\n"
        " =?utf-8?b?qg==?= <news@example.org>\n\n"
        "Your message cannot be delivered to the following recipients:\n\n"
        "  Recipient address: reader@example.net\n"
        "  Reason: Remote SMTP server has rejected address\n"
        "  Diagnostic code: smtp;550 5.1.1 User unknown\n"
    )
    raw = plain_notice(
        READER, "Delivery Notification: Delivery has failed", text, from_="postmaster@example.net"
    )
    assert [(f.address, f.kind) for f in classified(raw).recipients] == [(READER, "hard")]


@pytest.mark.parametrize(
    "action, kind, reason",
    [
        ("delivered (to mailbox)", "none", "delivered"),
        ("relayed (to non-DSN-aware mailer)", "none", "delivered"),
        ("expanded (to multi-recipient alias)", "none", "delivered"),
        ("delayed (Deliver-By notify mode)", "soft", "delayed"),
    ],
)
def test_sendmails_commented_action_is_read_by_its_first_word(action, kind, reason):
    """Sendmail's savemail.c writes "Action: delivered (to mailbox)": its return receipts were
    soft failures of no reason, counted against the reader."""
    status = "2.0.0" if kind == "none" else "4.0.0"
    verdict = classified(rfc3464(READER, status, "", action=action))
    assert (verdict.kind, [f.reason for f in verdict.recipients]) == (kind, [reason])
