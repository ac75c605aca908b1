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
    mdaemon,
    opensmtpd,
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
