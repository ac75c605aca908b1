"""When a bounce's parts disagree: which evidence `classify` believes, and why.

Real bounces say one thing in their status code and another in their words, name an address
in their fields and another in their text, or carry the sending MTA's own verdict beside the
remote server's. The rules, each from a standard or from how the MTA documents its format:

- where the refusal came: a "user unknown" answering RCPT TO is about the address; one that
  came later, or with a status whose RFC 3463 subject is the mailbox (X.2), the mail system
  (X.3) or policy (X.7), is a filter refusing the message (Sisimai's "filtered");
- the remote server's own code outranks the reporting server's summary of it;
- the sending MTA's own category (PowerMTA) is its verdict on the recipient;
- a full or disabled mailbox said in a lone recipient's bounce is never a dead address;
- a format's own slot for the failed address (QSBMF's "<address>:" line) names the recipient
  as a DSN's Final-Recipient does, even when the same address sent the message;
- RFC 3464's Original-Recipient is the address as sent: without one, the address the words
  name that the quoted original went to is the recipient too.
"""

from __future__ import annotations

import email

import pytest
from bounce_samples import (
    classified,
    exchange,
    exim,
    global_dsn,
    messaging_server,
    plain_notice,
    postfix,
    postfix_many,
    powermta,
    qmail,
    rfc3464,
    ses_bounce,
    sns_email,
    to_themselves,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.bounces import dsn, scan
from newsletter.bounces.reasons import failed_command
from newsletter.bounces.reports import classify
from newsletter.bounces.scan import addresses_in

USER_UNKNOWN_521 = "550 5.2.1 <reader@example.jp>... User Unknown"


def named(raw: bytes) -> dict:
    """Each address the verdict names, with its failure."""
    return {f.address.lower(): f for f in classify(raw).recipients}


def the_failure(raw: bytes, address: str = "reader@example.jp"):
    failures = named(raw)
    assert address in failures, failures
    return failures[address]


def judged(raw: bytes) -> dict[str, tuple[str, str]]:
    return {address: (f.reason, f.kind) for address, f in named(raw).items()}


# --- where the refusal came -----------------------------------------------------------------


@pytest.mark.parametrize(
    "said",
    [
        "192.0.2.7 does not like recipient.",  # qmail-remote
        "Sorry, no SMTP connection got far enough; most progress was RCPT TO response;",  # qmail
        "mx.example.jp [192.0.2.7] did not like our RCPT TO:",  # DragonFly's dma
        "550 5.1.1 <reader@example.jp>... User Unknown [RCPT_TO]",  # Yahoo
        "SMTP error from remote server after RCPT command:",  # GMX's Exim
        "SMTP:RCPT host 192.0.2.7: 553 No such user here",
        "rejected recipient <reader@example.jp> (Error following RCPT command).",
        "(in reply to RCPT TO command)",  # Postfix
    ],
)
def test_each_mta_s_words_for_a_refusal_at_rcpt_to_are_read(said):
    assert failed_command(said.lower()) == "rcpt"


def test_user_unknown_with_a_mailbox_status_and_no_stage_is_a_filter():
    """RFC 3463's X.2.1 says the mailbox exists ("disabled, not accepting messages"): with
    words saying it does not, and nothing saying RCPT TO was refused, a filter refused the
    message (Sisimai reads X.2.x so)."""
    failure = the_failure(rfc3464("reader@example.jp", "5.2.1", USER_UNKNOWN_521))
    assert (failure.reason, failure.kind) == ("filtered", "sender")


def test_user_unknown_with_a_mailbox_status_at_rcpt_to_is_the_address():
    at_rcpt = postfix("reader@example.jp", "5.2.1", USER_UNKNOWN_521)
    assert the_failure(at_rcpt).kind == "hard"
    by_qmail = qmail("reader@example.jp", USER_UNKNOWN_521)  # "does not like recipient"
    assert the_failure(by_qmail).kind == "hard"


@pytest.mark.parametrize("status", ["5.3.0", "5.7.1"])
def test_user_unknown_with_a_system_or_policy_status_is_a_filter(status):
    said = f"550 {status} Unknown user reader@example.jp"
    failure = the_failure(rfc3464("reader@example.jp", status, said))
    assert (failure.reason, failure.kind) == ("filtered", "sender")


def test_an_address_status_keeps_user_unknown_whatever_the_stage():
    said = "550 5.1.1 <reader@example.jp>... User Unknown"
    assert the_failure(rfc3464("reader@example.jp", "5.1.1", said)).kind == "hard"


def test_a_carrier_s_user_unknown_without_an_address_is_its_filter_however_relayed():
    """au (KDDI) refuses a sender its subscriber filtered with '550 : User unknown' (no
    address); a relaying MTA may write its own colon after the code. Its refusal of an
    address it does not have names the address: its own words, so the address is dead."""
    for said in ("550 : User unknown", "550: : User unknown"):
        failure = the_failure(rfc3464("reader@ezweb.ne.jp", "5.0.0", said), "reader@ezweb.ne.jp")
        assert (failure.reason, failure.kind) == ("filtered", "sender"), said
    dead = rfc3464("gone@ezweb.ne.jp", "5.0.0", "550 <gone@ezweb.ne.jp>: User unknown")
    failure = the_failure(dead, "gone@ezweb.ne.jp")
    assert (failure.reason, failure.kind) == ("user_unknown", "hard")
    # The same words from a server no table knows are not enough to stop a reader at once.
    elsewhere = rfc3464("gone@example.jp", "5.0.0", "550 <gone@example.jp>: User unknown")
    failure = the_failure(elsewhere, "gone@example.jp")
    assert (failure.reason, failure.kind) == ("user_unknown", "soft")


@pytest.mark.parametrize(
    "status, said",
    [
        ("5.1.1", "550 5.1.1 <gone@example.jp>: User unknown"),  # RFC 3463: bad mailbox
        ("5.0.0", "550 5.1.1 <gone@example.jp>: User unknown"),  # the server's own detail
        ("5.0.0", "550 <gone@example.jp>: User unknown (in reply to RCPT TO command)"),
        ("5.0.0", "550 <gone@example.jp>: Recipient address rejected: User unknown"),  # Postfix
        ("5.0.0", "The recipient name is not recognized"),  # Exchange 2003's NDR
        ("5.0.0", "User gone (gone@example.jp) not listed in Domino Directory"),
    ],
)
def test_user_unknown_backed_by_a_status_a_stage_or_a_lookup_is_hard(status, said):
    """ "User unknown" stops mail at once only when something besides the words says the
    server looked the address up: an address status, the RCPT stage, a directory's words."""
    failure = the_failure(rfc3464("gone@example.jp", status, said), "gone@example.jp")
    assert (failure.reason, failure.kind) == ("user_unknown", "hard"), said


@pytest.mark.parametrize(
    "said", ["550 Unknown user gone@example.jp", "550 No such user", "User unknown"]
)
def test_user_unknown_in_words_alone_is_a_soft_failure(said):
    """Words a carrier's filter also says: counted against the subscriber, never at once."""
    failure = the_failure(rfc3464("gone@example.jp", "5.0.0", said), "gone@example.jp")
    assert (failure.reason, failure.kind) == ("user_unknown", "soft"), said


# --- whose code ---------------------------------------------------------------------------------


def test_the_remote_server_s_code_outranks_the_reporting_server_s_summary():
    """Amazon SES's older notices put their own status first and quote the remote reply."""
    said = (
        "5.1.0 - Unknown address error 550-'5.7.1 <0100abc@email-bounces.example.com>... "
        "Access denied' (delivery attempts: 0)"
    )
    failure = the_failure(rfc3464("reader@example.jp", "5.1.0", said))
    assert failure.status == "5.7.1"
    assert failure.kind != "hard"


def test_a_recipient_group_with_action_first_keeps_its_diagnostic():
    """Messaging Server writes Action and Status before the recipient fields in a group."""
    said = "550 5.7.1 550 User Unknown: reader@example.jp"
    failure = the_failure(messaging_server("reader@example.jp", "5.0.0", said))
    assert failure.status == "5.7.1"
    assert "User Unknown" in failure.diagnostic
    assert failure.reason == "filtered"


def test_a_version_number_in_the_quoted_header_is_no_status():
    """A line 'Included is a copy of the message header' begins the quoted original: its Received
    lines are not the server's words, and "mta-5.5.0-3" is no enhanced status."""
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\n"
        b"To: news@example.org\r\n"
        b"Subject: Undeliverable mail\r\n\r\n"
        b"<reader@example.jp>: 550 unknown user <reader@example.jp>\r\n"
        b"Included is a copy of the message header:\r\n"
        b"-----------------------------------------\r\n"
        b"Received: from out1.example.org by mx1.example.net (mta-5.5.0-3) with ESMTP\r\n"
    )
    failure = the_failure(raw)
    assert failure.status == ""
    assert "Received" not in failure.diagnostic


def test_a_text_part_whose_content_type_lacks_its_semicolon_is_still_read():
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        b"To: news@example.org\r\n"
        b"Subject: Returned Mail: User unknown\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\n"
        b"Content-Type: text/plain\r\n"
        b'   charset="us-ascii"\r\n\r\n'
        b"---The following addresses had delivery errors---\r\n\r\n"
        b"reader@example.jp [550 5.1.1 User unknown]\r\n\r\n"
        b"--b\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"Hello, here is this week's issue.\r\n"
        b"--b--\r\n"
    )
    assert the_failure(raw).reason == "user_unknown"


# --- the sending MTA's own verdict -----------------------------------------------------------


@pytest.mark.parametrize(
    "category, status, reason",
    [
        ("bad-mailbox", "5.2.1", "user_unknown"),
        ("bad-domain", "5.0.0", "host_unknown"),
        ("quota-issues", "5.0.0", "mailbox_full"),
        ("inactive-mailbox", "5.0.0", "mailbox_disabled"),
        ("spam-related", "5.0.0", "spam"),
        ("policy-related", "5.7.1", "policy"),
    ],
)
def test_powermta_s_bounce_category_is_its_verdict(category, status, reason):
    said = f"550 {status} <reader@example.jp>... User Unknown"
    raw = powermta("reader@example.jp", status, said, category)
    assert the_failure(raw).reason == reason


def test_powermta_s_bad_mailbox_on_a_temporary_status_is_not_hard():
    raw = powermta("reader@example.jp", "4.2.1", "450 4.2.1 try later", "bad-mailbox")
    assert the_failure(raw).kind == "soft"


def test_powermta_s_other_category_says_nothing():
    said = "550 5.7.1 Message rejected as spam"
    raw = powermta("reader@example.jp", "5.7.1", said, "other")
    assert the_failure(raw).reason == "spam"


# --- a lone recipient's bounce that says its mailbox lives -----------------------------------


@pytest.mark.parametrize(
    "summary, reason",
    [
        (
            "Your message to <reader> was automatically rejected:\nNot enough disk space\n",
            "mailbox_full",
        ),
        ("The user(s) account is disabled.\n", "mailbox_disabled"),
    ],
)
def test_a_lone_recipient_whose_bounce_says_the_mailbox_lives_is_not_hard(summary, reason):
    said = "550 5.1.1 <reader@example.jp>... User Unknown"
    failure = the_failure(rfc3464("reader@example.jp", "5.1.1", said, text=summary))
    assert (failure.reason, failure.kind) == (reason, "soft")


def test_another_recipient_s_full_mailbox_does_not_spare_a_dead_address():
    raw = postfix_many(
        [
            ("gone@example.jp", "5.1.1", "550 5.1.1 <gone@example.jp>: User unknown"),
            ("full@example.jp", "5.2.2", "552 5.2.2 <full@example.jp>: Mailbox full"),
        ]
    )
    assert the_failure(raw, "gone@example.jp").kind == "hard"
    assert the_failure(raw, "full@example.jp").reason == "mailbox_full"


# --- the address as sent -----------------------------------------------------------------------


def test_a_report_naming_only_the_routed_address_names_the_address_as_sent_too():
    raw = exchange(
        "reader@example.com",
        "5.1.1",
        "550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        routed_to="reader@example.mail.onmicrosoft.com",
    )
    assert judged(raw) == {
        "reader@example.com": ("user_unknown", "hard"),
        "reader@example.mail.onmicrosoft.com": ("user_unknown", "hard"),
    }


def test_a_report_with_its_original_recipient_names_nobody_else():
    raw = exchange("reader@example.com", "5.1.1", "550 5.1.1 User unknown")
    assert judged(raw) == {"reader@example.com": ("user_unknown", "hard")}


def test_a_masked_final_recipient_is_no_address():
    """A relay that hides the mailbox behind the address (Apple's Hide My Email) writes the
    final recipient masked: the reader is the original recipient alone."""
    raw = rfc3464(
        "reader@example.jp",
        "5.1.1",
        "550 5.1.1 User unknown",
        routed_to="********************@**********",
    )
    assert judged(raw) == {"reader@example.jp": ("user_unknown", "hard")}


def test_the_original_and_the_final_recipient_are_one_recipient_named_twice():
    """RFC 3464: Original-Recipient as the sender gave it, Final-Recipient after aliasing."""
    raw = rfc3464(
        "reader@example.jp",
        "5.2.2",
        "552 5.2.2 Quota exceeded",
        routed_to="r.tanaka@mail.example.jp",
    )
    assert judged(raw) == {
        "reader@example.jp": ("mailbox_full", "soft"),
        "r.tanaka@mail.example.jp": ("mailbox_full", "soft"),
    }


# --- the format's slot for the failed address ---------------------------------------------------


def test_qsbmf_s_recipient_line_names_someone_who_wrote_to_themselves():
    """QSBMF: each recipient paragraph begins with "<address>:". The address also sent the
    message and received the bounce, yet the slot names it as the failed recipient."""
    raw = to_themselves("reader@example.jp", "552 5.2.2 Mailbox quota exceeded")
    assert judged(raw) == {"reader@example.jp": ("mailbox_full", "soft")}


def test_a_bare_address_line_names_the_failed_recipient_too():
    raw = to_themselves("reader@example.jp", "550 5.7.1 Message rejected as spam", qsbmf=False)
    assert judged(raw) == {"reader@example.jp": ("spam", "sender")}


def test_our_address_in_a_sentence_is_still_no_recipient():
    raw = qmail("reader@example.jp", "550 5.1.1 <reader@example.jp>: no such user")
    raw = raw.replace(b"\r\n\r\n<reader", b"\r\nYour message from news@example.org:\r\n\r\n<reader")
    assert judged(raw) == {"reader@example.jp": ("user_unknown", "hard")}


# --- addresses in a header ----------------------------------------------------------------------

_NAME = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='()<>[]:;@\\,."'
    ),
    max_size=30,
)
_PLAIN_LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True)
_DOMAIN = st.from_regex(r"(?:[a-z0-9-]{1,12}\.){1,3}[a-z]{2,6}", fullmatch=True)
_ADDRESS = st.one_of(
    st.builds("{}@{}".format, _PLAIN_LOCAL, _DOMAIN),
    # what the plain pattern leaves to the full parser: a quoted local part, a bare host
    st.builds('"{} {}"@{}'.format, _PLAIN_LOCAL, _PLAIN_LOCAL, _DOMAIN),
    st.builds("{}@{}".format, _PLAIN_LOCAL, st.from_regex(r"[a-z]{1,12}", fullmatch=True)),
)
_MAILBOX = st.one_of(
    st.builds(lambda name, address: (f"{name} <{address}>", address), _NAME, _ADDRESS),
    st.builds(lambda address: (address, address), _ADDRESS),
    st.builds(lambda name, address: (f"{address} ({name})", address), _NAME, _ADDRESS),
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(_MAILBOX, min_size=1, max_size=4))
def test_every_address_a_header_lists_is_found(mailboxes):
    """The plain pattern finds most addresses; the full parser those it leaves, so none is
    lost: a name in any script, a quoted local part, a host without a dot."""
    value = ", ".join(text for text, _ in mailboxes)
    assert {address.lower() for _, address in mailboxes} <= addresses_in([value])


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ("علی@ایران.example", "علی@ایران.example"),
        ("علی@example.ir", r"\x{639}\x{644}\x{6CC}@example.ir"),  # RFC 6533's escapes
        ("用户@例子.example", "用户@例子.example"),
        ("reader😀@example.org", "reader😀@example.org"),
    ],
)
def test_rfc_6533_s_utf8_addresses_name_the_recipient(address, field):
    """An address of type utf-8 is one, whatever its characters; before, an escaped one was
    read as its last escape and an emoji's fell to the words, which named our Reply-To."""
    verdict = classify(global_dsn(address, field))
    assert [(f.address, f.kind) for f in verdict.recipients] == [(address, "hard")]


READER = "reader@example.net"


def test_a_provider_s_contact_address_in_its_banner_is_not_a_recipient():
    """A qmail provider's template asks the sender to write to its support (a real bounce of
    a British ISP, anonymised): that address is no failed recipient."""
    banner = (
        "*\n* You've experienced some sort of problem sending mail to one of our users.\n"
        "* (Please contact us at <support@provider.example> if you require assistance)\n*\n"
    )
    said = "The users mailfolder is over the allowed quota (size). (#5.2.2)"
    verdict = classify(qmail(READER, said, banner=banner))
    assert [(f.address, f.reason) for f in verdict.recipients] == [(READER, "mailbox_full")]


def test_sprint_s_old_no_such_user():
    raw = rfc3464(READER, "", "500 (err.nosuchuser)", action="failed")
    assert [(f.address, f.reason) for f in classify(raw).recipients] == [(READER, "user_unknown")]


def test_a_header_built_against_the_parser_is_cut_and_the_report_still_read():
    """Anyone can mail the bounce address: a 100 KB address group in Delivered-To, RFC 2047
    words never closed in To, an open quote before a run of ';' in Content-Type kept the
    email package's readers busy for seconds to a minute each (bench/hostile_bounces.py).
    A value is read up to scan.MAX_HEADER characters; the report's words still count."""
    said = "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown"
    raw = exim("reader@example.net", said).decode()
    head, body = raw.split("\r\n\r\n", 1)
    hostile = "Delivered-To: g:" + "a," * 50_000 + ";\r\nCc: " + "=?a?q?x" * 15_000 + "\r\n"
    verdict = classified(f"{head}\r\n{hostile}\r\n{body}".encode())
    assert [(f.address, f.kind) for f in verdict.recipients] == [("reader@example.net", "hard")]
    parsed = email.message_from_string(f"{head}\r\n{hostile}\r\n{body}", policy=scan.READABLE)
    assert len(parsed["Delivered-To"]) == scan.MAX_HEADER


@pytest.mark.parametrize(
    "notification",
    [
        {"notificationType": "Bounce", "bounce": "not an object"},
        {"notificationType": "Bounce", "bounce": {"bouncedRecipients": ["x", 1, None]}},
        {"notificationType": "Bounce", "bounce": {"bouncedRecipients": [{"emailAddress": ["a"]}]}},
        {"notificationType": "Complaint", "complaint": {"complainedRecipients": ["a@b.cc"]}},
        {"notificationType": "Complaint", "complaint": "not an object"},
        {"notificationType": "Delivery", "delivery": {"recipients": [1, 2, None]}},
        {"notificationType": "Bounce", "nested": [[[[[[[[]]]]]]]] * 2},
    ],
    ids=["bounce", "recipients", "address", "complainers", "complaint", "delivered", "nested"],
)
def test_an_ses_notification_of_the_wrong_shape_names_nobody_and_raises_nothing(notification):
    """JSON no SES sends: a string for an object, numbers for addresses. Each raised inside
    classify (logged, the message dropped); now it names nobody."""
    assert classified(sns_email(notification)).recipients == []


def test_an_ses_notification_nested_past_the_json_parsers_depth_names_nobody():
    deep = '{"notificationType": "Bounce", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    raw = plain_notice(READER, "AWS Notification Message", deep, from_="no-reply@sns.amazonaws.com")
    assert classified(raw).recipients == []


def test_an_ses_address_longer_than_any_address_is_none_and_its_words_are_cut():
    """An "address" of 100 KB at a provider's domain took 7.5 s through the providers' rules,
    and its words were read whole; no address is longer than RFC 5321's 320 characters."""
    long = "a@" + "hotmail." * 2_000 + "com"
    said = "550 5.1.1 " + "recipient address rejected " * 500
    verdict = classified(sns_email(ses_bounce([(long, "5.1.1", said), (READER, "5.1.1", said)])))
    assert [(f.address, len(f.diagnostic) <= 1100) for f in verdict.recipients] == [(READER, True)]


def test_a_part_in_a_codec_no_mail_is_written_in_is_read_as_utf_8():
    """charset=punycode names a Python codec, slow on text built against it (6.6 s on
    250 KB); no mail's text is in it, and the bounce's words are still read."""
    said = "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown"
    raw = exim("reader@example.net", said).replace(b"charset=utf-8", b"charset=punycode", 1)
    assert [(f.address, f.kind) for f in classified(raw).recipients] == [
        ("reader@example.net", "hard")
    ]


def test_a_field_repeated_a_thousand_times_is_read_a_few_times_only():
    """A thousand From fields of RFC 2047 words never closed were each decoded again by every
    reader of the From (7.7 s); a message has one."""
    raw = exim("reader@example.net", "550 5.1.1 User unknown").decode()
    head, body = raw.split("\r\n\r\n", 1)
    many = "".join(f"From: =?a?q?{'x' * 200}\r\n" for _ in range(1_000))
    msg = email.message_from_string(f"{head}\r\n{many}\r\n{body}", policy=scan.READABLE)
    assert len(scan.headers(msg, "From")) == scan.MOST_VALUES


@pytest.mark.parametrize(
    "field",
    [
        "Delivered-To: g:" + "a," * 1000 + "\r\n" + ("Delivered-To: " + "a," * 1000 + "\r\n") * 49,
        "Delivered-To: " + "(" * 600 + "\r\n",
        "Delivered-To: " + ":" * 1000 + "\r\n",
    ],
    ids=["group-over-fifty-fields", "nested-comments", "nested-groups"],
)
def test_address_fields_built_against_the_parser_still_leave_the_report_read(field):
    """A group spread over fifty fields was joined into one for the email package (6 s at
    100 KB, 53 s in a feedback report's Original-Mail-From); nested comments or groups
    exhausted its recursion, and the report was lost. Each field is read alone now."""
    said = "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown"
    head, body = exim("reader@example.net", said).decode().split("\r\n\r\n", 1)
    verdict = classified(f"{head}\r\n{field}\r\n{body}".encode())
    assert [(f.address, f.kind) for f in verdict.recipients] == [("reader@example.net", "hard")]


def test_a_codec_no_mail_is_in_is_known_by_any_spelling_of_its_name():
    said = "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown"
    raw = exim("reader@example.net", said)
    assert scan._in_charset(b"x-" + b"9" * 50, "punycode_") == "x-" + "9" * 50
    assert classified(raw.replace(b"charset=utf-8", b"charset=-punycode!", 1)).kind == "hard"


@pytest.mark.slow
def test_a_status_parts_blocks_are_read_as_fields_only_and_so_many_at_most():
    """The email package makes an object of each block of fields in a status part; walked
    as the bounce's parts, each of 80,000 blocks (250 KB of "x" and blank lines) was read as
    text by every reading after, 1.9 s; past a few hundred they change nothing."""
    said = "550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown"
    raw = rfc3464("reader@example.net", "5.1.1", said).replace(b"\r\n", b"\n")
    head, _, rest = raw.partition(b"Final-Recipient:")
    padded = head + b"Final-Recipient:" + rest.replace(b"\n\n", b"\n\n" + b"x\n\n" * 10_000, 1)
    msg = email.message_from_bytes(padded, policy=scan.READABLE)
    assert len(scan.bounce_parts(msg)) < 10
    [status] = [p for p, kind in scan.bounce_parts(msg) if kind == "message/delivery-status"]
    assert len(scan.inner_parts(status)) > 10_000
    assert [e.address for e in dsn.fields(msg)] == ["reader@example.net"]
    assert [(f.address, f.kind) for f in classified(padded).recipients] == [
        ("reader@example.net", "hard")
    ]
