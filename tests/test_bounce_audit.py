"""Real replies behind the words that drop a reader at once.

Every phrase, regex and provider rule that gives a dead address or domain (user_unknown,
host_unknown, no_mail_accepted) was looked up where real servers write it: their sources
(Postfix's smtpd_check.c, chasquid, Plan 9's smtpd, vpopmail, Yandex's NwSMTP), providers'
code tables (Mimecast's), bounce parsers' sample sets, and threads that quote bounces. These
are the replies found behind those words that are not a dead address: our own domain
refused, a name server that failed to answer, a wrapper around another refusal, or words of
a different meaning. Each dropped the reader before; the dead addresses beside them still do.
The other way, the words of a refusal of our mail were looked up too: some servers use them
for an address that does not exist, which we would have mailed for ever.
"""

from __future__ import annotations

import pytest
from bounce_samples import (
    classified,
    exchange,
    exim,
    gmail_text,
    hmailserver,
    postfix,
    powermta,
    qmail,
    rfc3464,
    sendmail,
)

from newsletter.bounces.phrases import reason_in_chinese

READER = "reader@example.net"
OUR_RETURN_PATH = "bounces+reader=example.net@bounces.example.org"


def _kinds(raw: bytes) -> list[tuple[str, str]]:
    return [(f.kind, f.reason) for f in classified(raw).recipients]


@pytest.mark.parametrize(
    "status, said, command",
    [
        # Postfix's reject_unknown_mailhost for the sender class (smtpd_check.c)
        (
            "5.7.27",
            f"550 5.7.27 <{OUR_RETURN_PATH}>: Sender address rejected: Domain "
            "bounces.example.org does not accept mail (nullMX)",
            "RCPT TO",
        ),
        # RFC 7505's own words, at MAIL FROM
        ("5.7.27", "550 5.7.27 Sender address has null MX", "MAIL FROM"),
        # GMX at MAIL FROM, reported against the recipient by a relay
        (
            "5.0.0",
            "550-Requested action not taken: mailbox unavailable\n550 Sender address has null MX",
            "RCPT TO",
        ),
        # Plan 9's smtpd (startcmd), after DATA
        (
            "5.7.1",
            "554 5.7.1 Sender domain must exist: out1.example.org!bounces.example.org",
            "end of DATA",
        ),
        ("5.0.0", "554 Sender domain must exist: <news@example.org>", "RCPT TO"),
        ("5.0.0", "550 Sender user does not exist", "RCPT TO"),
        ("5.1.8", "550 5.1.8 Mailbox of sender does not exist", "RCPT TO"),
        ("5.0.0", "550 Domena nadawcy nie istnieje", "RCPT TO"),  # Polish: the sender's
        ("5.0.0", "550 آدرس فرستنده وجود ندارد", "RCPT TO"),  # Persian: the sender's
    ],
)
def test_our_own_domain_or_address_refused_is_ours_not_a_dead_reader(status, said, command):
    raw = postfix(READER, status, said, in_reply_to=command)
    assert _kinds(raw) == [("sender", "sender_rejected")]


def test_plan9s_sender_domain_refusal_in_sendmails_words_is_ours():
    assert _kinds(sendmail(READER, "501 Sender domain must exist")) == [
        ("sender", "sender_rejected")
    ]


@pytest.mark.parametrize(
    "said, kind, reason",
    [
        # chasquid gives up on a name server that did not answer (courier/smtp.go: the DNS
        # error is temporary), and calls it "could not find mail server"
        (
            "Could not find mail server: lookup example.net on 127.0.0.53:53: server misbehaving",
            "soft",
            "network_error",
        ),
        ("Could not find mail server: lookup example.net: i/o timeout", "soft", "network_error"),
        (
            "Could not find mail server: lookup example.net: Temporary failure in name resolution",
            "soft",
            "network_error",
        ),
        # ...and when the name does not exist, the domain is dead
        (
            "Could not find mail server: lookup example.net on 127.0.0.53:53: no such host",
            "hard",
            "host_unknown",
        ),
    ],
)
def test_a_name_server_that_did_not_answer_is_no_dead_domain(said, kind, reason):
    assert _kinds(postfix(READER, "5.4.4", said)) == [(kind, reason)]


YANDEX = "mx.yandex.ru[77.88.21.249]"
MIMECAST = "eu-smtp-inbound-1.mimecast.com[195.130.217.221]"


@pytest.mark.parametrize(
    "status, said, remote, command, kind, reason",
    [
        # Yandex's answer to DATA when it took no RCPT TO, whatever refused them (NwSMTP)
        ("5.5.4", "503 5.5.4 No correct recipients.", YANDEX, "end of DATA", "soft", "unknown"),
        ("5.7.1", "550 5.7.1 No such user!", YANDEX, "RCPT TO", "hard", "user_unknown"),
        # Mimecast's table: "503 User unknown" is a bad sequence of commands or a login it
        # wants; its dead address is "550 Invalid Recipient"
        ("5.0.0", "503 User unknown", MIMECAST, "RCPT TO", "sender", "security_error"),
        ("5.0.0", "550 Invalid Recipient", MIMECAST, "RCPT TO", "hard", "user_unknown"),
    ],
)
def test_a_providers_words_mean_what_its_own_table_says(
    status, said, remote, command, kind, reason
):
    raw = postfix(READER, status, said, remote=remote, in_reply_to=command)
    assert _kinds(raw) == [(kind, reason)]


def test_microsofts_refusal_of_our_ehlo_name_in_sendmails_summary_is_ours():
    """Sendmail's summary line puts the address between the code and the words ("501 5.5.4
    <x>... Invalid domain name"): still Microsoft refusing our EHLO name."""
    assert _kinds(sendmail(READER, "501 5.5.4 Invalid domain name")) == [("sender", "syntax_error")]


WRAPPER = "550 5.1.351 Remote server returned unknown recipient or mailbox unavailable"


@pytest.mark.parametrize(
    "said, kind, reason",
    [
        # Exchange's words around any refusal at RCPT TO: the reply after "->" says why
        (f"{WRAPPER} -> 550 Blocked", "sender", "blocked"),
        (f"{WRAPPER} -> 550 Message rejected as spam by Content Filtering", "sender", "spam"),
        (f"{WRAPPER} -> 550 5.1.1 User unknown", "hard", "user_unknown"),
        (WRAPPER, "hard", "user_unknown"),
    ],
)
def test_exchanges_wrapper_gives_way_to_the_remotes_reply(said, kind, reason):
    assert _kinds(exchange(READER, "5.1.351", said)) == [(kind, reason)]


@pytest.mark.parametrize(
    "said",
    [
        "554 5.7.1 too many bad recipients",  # a Go SMTP server's abuse cut-off
        "550 5.7.1 Too many unknown recipients",
    ],
)
def test_too_many_unknown_recipients_of_ours_is_a_block_of_us(said):
    assert _kinds(postfix(READER, "5.7.1", said)) == [("sender", "blocked")]


def test_vpopmails_catch_all_delivers_so_the_address_lives():
    """vdelivermail: "user does not exist, but will deliver to" the domain's catch-all; what
    failed is that delivery (here qmail's loop)."""
    said = (
        "POP user does not exist, but will deliver to /home/vpopmail/domains/example.net/all\n"
        "This message is looping: it already has my Delivered-To line. (#5.4.6)"
    )
    assert _kinds(qmail(READER, said, stage=".")) == [("soft", "network_error")]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(
    "reply, kind, reason",
    [
        ("550 Denied by policy", "sender", "policy"),  # Broadcom's content refusal
        ("553 Envelope sender rejected", "sender", "sender_rejected"),
        ("554 rejected due to spam URL in content", "sender", "spam"),
        ("550 Administrative prohibition - envelope blocked", "sender", "sender_rejected"),
        ("550 Request failed; Mailbox unavailable", "soft", "unknown"),  # Yahoo, after DATA
        (
            "550 5.1.1 The email account that you tried to reach does not exist.",
            "hard",
            "user_unknown",
        ),
    ],
)
def test_gmails_address_not_found_words_give_way_to_the_remotes_reply(
    language, reply, kind, reason
):
    """Gmail wraps every permanent refusal in "the address couldn't be found, or is unable
    to receive mail" (the xen-devel archive shows it around Google Groups' refusal of a
    non-member); read as text alone, the wrapper's words dropped the reader whatever the
    remote server said."""
    assert _kinds(gmail_text(READER, reply, language)) == [(kind, reason)]


@pytest.mark.parametrize("said", ["550 Recipient not in route list.", "550 User unknown"])
def test_hmailservers_notice_names_the_command_its_reply_answered(said):
    """hMailServer's notice says "hMailServer sent: RCPT TO:<x>" above the reply: a dead
    address at RCPT TO, which was a soft failure of a reply of unknown stage."""
    assert _kinds(hmailserver(READER, said)) == [("hard", "user_unknown")]


# The other way: words of a refusal of our mail that real servers also use for an address
# that does not exist, which we would mail for ever.


@pytest.mark.parametrize(
    "raw",
    [
        # MailMarshal's "invalid user" rule (Trustwave's knowledge base)
        postfix(
            READER, "5.0.0", f"550 Rule imposed mailbox access for <{READER}> refused: user invalid"
        ),
        # SecuMail's filter of the addresses that exist (OpenEMM's bounce rules: no such user)
        postfix(READER, "5.0.0", "550 denied by SecuMail valid-address-filter"),
        # "Address rejected" with a dead address's status, in reports that name no stage
        # (Sisimai's own example of an unknown user)
        rfc3464(READER, "5.1.1", "smtp; 550 5.1.1 Address rejected"),
        exchange(READER, "5.1.1", "550 5.1.1 Address rejected"),
        # Microsoft 365's edge blocking answering DATA for every recipient
        postfix(
            READER,
            "5.4.1",
            "550 5.4.1 All recipient addresses rejected : Access denied. AS(201806271)",
            remote="example-net.mail.protection.outlook.com[104.47.1.36]",
            in_reply_to="end of DATA",
        ),
    ],
)
def test_a_dead_address_in_words_that_also_refuse_senders_stops_at_once(raw):
    assert _kinds(raw) == [("hard", "user_unknown")]


def test_no_mx_for_the_readers_domain_in_a_stageless_report_is_a_dead_domain():
    raw = rfc3464(READER, "5.1.2", "smtp; 550 5.1.2 No MX records for domain")
    assert _kinds(raw) == [("hard", "host_unknown")]


@pytest.mark.parametrize(
    "raw",
    [
        # the same words, where they are about our mail or our address
        postfix(READER, "5.0.0", f"550 Rule imposed mailbox access for <{READER}> refused"),
        postfix(READER, "5.1.1", "550 5.1.1 Address rejected", in_reply_to="end of DATA"),
        rfc3464(READER, "5.1.1", "smtp; 550 5.1.1 Sender address rejected: User unknown"),
    ],
)
def test_the_same_words_about_our_mail_stay_a_refusal_of_it(raw):
    assert _kinds(raw) == [("sender", "sender_rejected")]


def test_a_mailbox_closed_for_want_of_use_is_disabled_not_a_refusal_of_us():
    said = (
        "550 Due to extended inactivity new mail is not currently being accepted for this mailbox"
    )
    assert _kinds(postfix(READER, "5.0.0", said)) == [("soft", "mailbox_disabled")]


def test_a_campus_directory_with_no_one_of_that_name_is_a_dead_address():
    """Sendmail's phquery mailer asks a CCSO directory ("nameserver") for the name: Yale's
    report says no match means a mistyped name, not our connection."""
    said = "550 5.1.1 <smith-una@example.edu>... No matches to nameserver query"
    assert _kinds(postfix("smith-una@example.edu", "5.1.1", said)) == [("hard", "user_unknown")]


# The third way: words of a full or closed mailbox, or of retries run out, that real
# servers also use when they refuse our mail: soft failures count against the reader.


@pytest.mark.parametrize(
    "status, said, command, reason",
    [
        # aiosmtpd's and Python's smtpd's answer over data_size_limit; Go servers' and
        # Mailpit's RFC 5321 "exceeded storage allocation" under 5.3.4, message too big
        ("5.3.4", "552 Error: Too much mail data", "end of DATA", "too_large"),
        (
            "5.3.4",
            "552 5.3.4 Requested mail action aborted: exceeded storage allocation (52428800)",
            "end of DATA",
            "too_large",
        ),
        # cPanel suspending our hosting account's outgoing mail
        (
            "5.0.0",
            '550 Outgoing mail from "news" has been suspended.',
            "MAIL FROM",
            "sender_rejected",
        ),
        (
            "5.0.0",
            "550 Domain example.org has an outgoing mail suspension.",
            "RCPT TO",
            "sender_rejected",
        ),
        # a Barracuda gateway's reputation block, in Rambler's words of a blocked mailbox
        (
            "5.7.1",
            f"550 5.7.1 <{READER}>: Recipient address rejected: blocked by "
            "d78608a.ess.barracudanetworks.com (reputation)",
            "RCPT TO",
            "bad_reputation",
        ),
        # a hosting queue filter's hourly count, a relay's quota of ours
        ("4.7.1", "450 Delayed: sender over quota", "end of DATA", "rate_limited"),
        (
            "5.7.1",
            f"554 5.7.1 <{READER}>: Recipient address rejected: You have exceeded your "
            "Outmail quota.",
            "RCPT TO",
            "rate_limited",
        ),
        # La Poste refusing our connection at the greeting, under a mailbox status (4.2.1)
        (
            "4.2.1",
            "421 4.2.1 Service refuse. Veuillez essayer plus tard. LPN006_107",
            "greeting",
            "blocked",
        ),
    ],
)
def test_a_refusal_of_our_mail_in_words_of_a_mailbox_is_ours(status, said, command, reason):
    raw = postfix(READER, status, said, in_reply_to=command, action="failed")
    assert _kinds(raw) == [("sender", reason)]


@pytest.mark.parametrize(
    "raw, reason",
    [
        # qmail gave up on a server that refused our HELO name every time (Sisimai: blocked)
        (
            qmail(
                READER,
                "501 5.0.0 Invalid domain name\nI'm not going to try again; this message has "
                "been in the queue too long.",
                permanent=False,
                stage="Connected to 192.0.2.112 but my name was rejected.",
            ),
            "blocked",
        ),
        # Exim gave up on a greylisting server (4.7.1 all along)
        (
            exim(READER, "451 4.7.1 Greylisted, please try again later: retry timeout exceeded"),
            "blocked",
        ),
    ],
)
def test_retries_run_out_on_a_refusal_of_our_mail_are_that_refusal(raw, reason):
    assert _kinds(raw) == [("sender", reason)]


@pytest.mark.parametrize(
    "status, said",
    [
        ("5.2.2", "552 5.2.2 Requested mail action aborted: exceeded storage allocation"),
        ("5.7.1", f"540 5.7.1 <{READER}>: Recipient address rejected: Inactive"),
        ("5.7.1", f"550 5.7.1 <{READER}>: Recipient address rejected: Blocked"),
    ],
)
def test_a_full_or_closed_mailbox_at_rcpt_stays_the_readers(status, said):
    [(kind, reason)] = _kinds(postfix(READER, status, said))
    assert kind == "soft" and reason in ("mailbox_full", "mailbox_disabled")


MICROSOFT = "example-org.mail.protection.outlook.com[104.47.1.36]"
SES_RELAY = "email-smtp.us-east-1.amazonaws.com[52.0.0.1]"


@pytest.mark.parametrize(
    "status, said, remote, command, reason",
    [
        # MailChannels refusing our account, in words of invalid recipients (was hard)
        (
            "5.7.1",
            "550 5.7.1 [BR] Our system has detected an excessively high number of invalid "
            "recipients originating from your account.",
            "mx.example.org",
            "RCPT TO",
            "blocked",
        ),
        # Postfix's postscreen: after its tests, a block list's "enforce", its "drop" (the
        # 521 of a host that takes no mail, RFC 7504 says; here a block of our client)
        (
            "4.3.2",
            "450 4.3.2 Service currently unavailable",
            "mx.example.org",
            "RCPT TO",
            "blocked",
        ),
        (
            "5.3.2",
            "550 5.3.2 Service currently unavailable",
            "mx.example.org",
            "RCPT TO",
            "blocked",
        ),
        (
            "5.3.2",
            "521 5.3.2 Service currently unavailable",
            "mx.example.org",
            "greeting",
            "blocked",
        ),
        # Microsoft's 4.7.500-699: our IP throttled for its volume
        (
            "4.7.500",
            "451 4.7.500 Server busy. Please try again later from [198.51.100.9]. (S77719)",
            MICROSOFT,
            "RCPT TO",
            "blocked",
        ),
        # Amazon SES relaying ours: RFC 5321's words for a 554, its why after them
        (
            "5.0.0",
            "554 Transaction failed: Duplicate header 'DKIM-Signature'.",
            SES_RELAY,
            "end of DATA",
            "content_error",
        ),
        # Mimecast's greylisting or our IP's reputation, in the singular its transcripts use
        (
            "4.0.0",
            "451 Internal resource temporarily unavailable - "
            "https://community.mimecast.com/docs/DOC-1369#451",
            "eu-smtp-inbound-1.mimecast.com[195.130.217.221]",
            "RCPT TO",
            "bad_reputation",
        ),
        # Haraka's checks of our HELO name, before any recipient
        ("5.0.0", "550 HELO must have a dot", "mx.example.org", "EHLO", "blocked"),
        # a milter's REJECT: RFC 3463's 5.7.1, message refused, and nothing more said
        ("5.7.1", "550 5.7.1 Command rejected", "mx.example.org", "end of DATA", "policy"),
    ],
)
def test_a_filters_own_refusal_is_ours_not_the_readers(status, said, remote, command, reason):
    raw = postfix(READER, status, said, remote=remote, in_reply_to=command, action="failed")
    assert _kinds(raw) == [("sender", reason)]


@pytest.mark.parametrize(
    "said, reason",
    [
        # Haraka's defaults and its HELO checks (connection.js, helo.checks.js, early_talker,
        # connect.fcrdns.js)
        ("554 Message denied", "policy"),
        ("550 HELO is dynamic", "blocked"),
        ("550 HELO must have a valid TLD", "blocked"),
        ("550 HELO IP literal does not match your IP address", "blocked"),
        ("550 You are not who you say you are", "blocked"),
        ("550 Invalid address format in HELO", "blocked"),
        ("554 You talk too soon", "blocked"),
        ("550 Sorry, no FCrDNS match found", "require_ptr"),
        # Exim's ratelimit ACL, Baruwa's, a hosting relay's
        ("450 Sender rate exceeds 1500 messages per 1h", "rate_limited"),
        ("451 You can only send 100 msgs per 1h", "rate_limited"),
        (
            "451 Requested action aborted: This mail account has sent too many messages in a "
            "short amount of time.",
            "rate_limited",
        ),
        # an Exim ACL's and policyd-weight's counts of our failures
        ("550 REJECTED - Too many failed recipients - count = 6", "blocked"),
        (
            f"550 5.7.1 <{READER}>: Recipient address rejected: temporarily blocked because of "
            "previous errors - retrying too fast. penalty: 30 seconds x 0 retries.",
            "blocked",
        ),
        # Coremail's and a provider's words of our IP; Bell's of our mail to a reader
        ("550 Requested mail action not taken: Invalid IP", "blocked"),
        ("550 IP is rejected", "blocked"),
        ("550 5.0.0 blocked as possible open relay", "blocked"),
        (f"550 you are not allowed to send mail to <{READER}>", "policy"),
    ],
)
def test_a_filters_refusal_in_its_own_words_is_ours(said, reason):
    raw = postfix(READER, "5.0.0", said, in_reply_to="RCPT TO", action="failed")
    assert _kinds(raw) == [("sender", reason)]


LA_POSTE = "smtp-in.laposte.net[160.92.124.66]"


@pytest.mark.parametrize(
    "status, said, reason",
    [
        # La Poste's and Orange's codes that Sisimai's table leaves undefined: "Service
        # refused, please try later" refuses our connection, whatever follows the LPN
        (
            "4.2.1",
            "421 4.2.1 Service refuse. Veuillez essayer plus tard. Service refused, please try "
            "later. LPN006_107",
            "blocked",
        ),
        ("4.2.0", "421 4.2.0 Service refused, please try later. LPN105_423", "blocked"),
        ("5.0.0", "550 Mail rejete. Mail rejected. OUK_513", "filtered"),
        (
            "5.5.0",
            "550 5.5.0 SPF: 192.0.2.25 is not allowed to send mail. LPN004_401",
            "auth_failure",
        ),
    ],
)
def test_la_postes_codes_of_a_refusal_of_our_mail(status, said, reason):
    raw = postfix("lecteur@laposte.net", status, said, remote=LA_POSTE, action="failed")
    assert _kinds(raw) == [("sender", reason)]


def test_a_dead_address_status_outweighs_powermtas_guess_of_a_refusal():
    """PowerMTA filed "550 5.1.1 <x>: Recipient address rejected" under policy-related (an
    issue of port25-bouncehandler): its category is its own patterns' guess, the 5.1.1 the
    receiver's word."""
    said = f"smtp;550 5.1.1 5.1.1 <{READER}>: Recipient address rejected"
    assert _kinds(powermta(READER, "5.1.1", said, "policy-related")) == [("hard", "user_unknown")]
    said = "smtp;550 5.7.1 Message rejected due to local policy"
    assert _kinds(powermta(READER, "5.7.1", said, "policy-related")) == [("sender", "policy")]


def test_a_user_not_known_with_the_name_in_brackets_is_a_dead_address():
    said = (
        f"554 5.7.1 <{READER}>: Client host rejected: User ({READER}) not known to us please "
        "verify your address book for any typos in this email address or inquire manually."
    )
    assert _kinds(postfix(READER, "5.7.1", said)) == [("hard", "user_unknown")]


# Not failures: a reader's mailbox answering by itself, without all of RFC 3834's marks.

LEFT = (
    "Thank you for contacting us, Ann is no longer working for the company. Please resend "
    "your email to manager@example.net."
)


def _reply(headers: str, subject: str = "Re: This week: spring issue") -> bytes:
    return (
        (
            f"Return-Path: <>\nFrom: Ann <{READER}>\nTo: bounces+reader=example.net@bounces."
            f"example.org\nSubject: {subject}\nDate: Tue, 14 Jan 2025 09:30:12 +0000\n{headers}"
            f"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{LEFT}\n"
        )
        .replace("\n", "\r\n")
        .encode()
    )


@pytest.mark.parametrize(
    "headers, subject",
    [
        # Outlook's and Exchange's marks on an out-of-office reply (agent-os's report of
        # Exchange's replies), under a prefix of a language our table lacks (Hindi)
        ("X-Autogenerated: Reply\nX-Auto-Response-Suppress: OOF\n", "स्वचालित उत्तर: This week"),
        (
            "Auto-Submitted: auto-generated\n"
            "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply\n",
            "Re: This week",
        ),
    ],
)
def test_an_out_of_office_reply_by_its_exchange_marks_is_no_failure(headers, subject):
    assert classified(_reply(headers, subject)).kind == "none"


def test_please_resend_your_email_to_in_an_unmarked_reply_never_drops_the_reader():
    """An admin's script sets a leaver's auto-reply ("Please resend your email to x"); one
    that carries none of RFC 3834's marks named a moved address, hard, on words alone, then
    soft: the address to write to, counted against the reader. The mailbox answered and
    took our mail: a person's notice, nothing to do (test_autoreply_audit's leavers)."""
    verdict = classified(_reply(""))
    assert (verdict.kind, verdict.recipients) == ("none", [])


@pytest.mark.parametrize(
    "status, said, command, found",
    [
        # Yandex's help page: "550 5.1.1 No correct recipients" is a dead address; the same
        # words at DATA, under 5.5.4, say only that no RCPT TO was taken
        ("5.1.1", "550 5.1.1 No correct recipients", "RCPT TO", ("hard", "user_unknown")),
        ("5.5.4", "503 5.5.4 No correct recipients.", "end of DATA", ("soft", "unknown")),
    ],
)
def test_yandexs_no_correct_recipients_by_its_status(status, said, command, found):
    raw = postfix("reader@yandex.ru", status, said, remote=YANDEX, in_reply_to=command)
    assert _kinds(raw) == [found]


def test_qqs_reason_with_the_address_between_its_words_is_an_unknown_user():
    """QQ Mail writes "收件人邮件地址（x）不存在" (the recipient's address (x) does not
    exist): the address in full-width brackets split the words."""
    assert reason_in_chinese(
        "退信原因 收件人邮件地址（reader@example.net）不存在，邮件无法送达。"
    ) == ("user_unknown")


# A review's cases: the words above, where they mean what they said before.


@pytest.mark.parametrize(
    "raw, found",
    [
        # Dovecot's quota_exceeded_message to the sender of a full mailbox's
        (
            postfix(
                READER,
                "5.2.2",
                f"552 5.2.2 <{READER}> You have exceeded your mailbox quota.",
                in_reply_to="end of DATA",
            ),
            ("soft", "mailbox_full"),
        ),
        # RFC 5321's bare words for a 554 say nothing: the dead address's status decides
        (sendmail(READER, "550 5.1.1 Transaction failed"), ("hard", "user_unknown")),
        # a refusal of ours under 5.1.1 in a report that names no stage stays one
        (
            exchange(READER, "5.1.1", "550 5.1.1 Your domain has been blocked"),
            ("sender", "sender_rejected"),
        ),
        # Persian: "the user the sender wrote to does not exist" is the reader's
        (
            postfix(READER, "5.0.0", "550 کاربری که فرستنده به آن نامه فرستاده وجود ندارد"),
            ("hard", "user_unknown"),
        ),
        # Polish: our domain, named between
        (
            postfix(READER, "5.0.0", "550 Domena nadawcy example.org nie istnieje"),
            ("sender", "sender_rejected"),
        ),
        # a mailbox's service, not postscreen's
        (
            postfix(READER, "5.0.0", "550 Mailbox service currently unavailable"),
            ("soft", "unknown"),
        ),
        # Rambler's inactive mailbox, however it goes on
        (
            postfix(
                READER,
                "5.7.1",
                f"550 5.7.1 <{READER}>: Recipient address rejected: Inactive for more "
                "than 6 months",
            ),
            ("soft", "mailbox_disabled"),
        ),
    ],
)
def test_the_audits_words_keep_their_meaning_elsewhere(raw, found):
    assert _kinds(raw) == [found]


def test_our_own_address_in_qqs_brackets_is_no_unknown_user():
    assert reason_in_chinese("退信原因 发件人地址（news@example.org）不存在") is None


@pytest.mark.parametrize(
    "words",
    [
        "This email address is no longer in use",
        "Account deleted",
        "User has left the organization",
        "This address is no longer valid",
    ],
)
def test_an_address_retired_in_an_access_rules_words_is_dead(words):
    """Postfix answers an access map's "REJECT <text>" with 5.7.1, and admins retire
    addresses so: under the bare 5.7.1 (message refused), the words say whose."""
    said = f"554 5.7.1 <{READER}>: Recipient address rejected: {words}"
    assert _kinds(postfix(READER, "5.7.1", said)) == [("hard", "user_unknown")]


def test_our_address_no_longer_valid_stays_a_refusal_of_ours():
    assert _kinds(postfix(READER, "5.7.1", "550 5.7.1 Sender address is no longer valid")) == [
        ("sender", "policy")
    ]
