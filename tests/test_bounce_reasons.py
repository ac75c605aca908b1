"""What `classify` makes of returned mail: each reason after a real server's documented words.

These are specifications, not snapshots. The messages come from tests/bounce_samples.py, each after
the format its software or provider documents (RFC 3464/5965/3834 and their examples, Postfix,
Exim, Sendmail, qmail, OpenSMTPD, Courier, MDaemon, Zoho, Exchange/Office 365 NDRs, Gmail, Yahoo
and iCloud replies, Amazon SES notifications). The rules they hold the classifier to:

- the failed recipient is found, with its enhanced status and the server's words;
- nobody else is named: not the original sender, not a Message-ID, not the daemon, not the VERP
  return path, not a forwarding address a server suggests;
- user unknown, host unknown, has moved: hard;
- a full mailbox (x.2.2), and any 4.x.x status, is never hard;
- a refusal of *our* mail (blocked IP, spam, policy, authentication, rate, size, PTR...) is
  "sender", never held against the reader;
- auto-replies and delivery notices are "none"; complaints are "complaint".

No database and no app: classify() takes bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from bounce_samples import (
    DATE,
    MESSAGE_ID,
    MESSAGE_ID_ADDRESS,
    SENDER,
    aol_airmail,
    arf,
    boxbe_report,
    challenge,
    classified,
    complaint,
    coremail,
    courier,
    delivery_status,
    dsn,
    exchange,
    exchange_relayed_text,
    exim,
    exim_delay,
    forwarded,
    forwarded_inline,
    human_reply,
    imail,
    lotus_notes,
    mail_ru,
    mdaemon,
    mdaemon_local,
    microsoft_complaint,
    microsoft_complaint_inline,
    microsoft_ndr_text,
    netease,
    opensmtpd,
    opensmtpd_plain,
    original,
    outlook_html,
    postfix,
    postfix_many,
    qmail,
    read_receipt,
    rejected_on_delivery,
    report,
    rfc3464,
    sendmail,
    ses_bounce,
    ses_complaint,
    ses_delivery,
    sns_email,
    sns_http,
    telekom,
    vacation,
    verp,
    zoho,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from newsletter.bounces.phrases import reason_for_text
from newsletter.bounces.reasons import unfold_reply
from newsletter.bounces.verdict import KINDS, REASONS, Verdict

try:
    from newsletter.bounces.reports import classify
except ImportError:  # being written: every test fails and says so, rather than the module erroring

    def classify(raw: bytes) -> Verdict:  # type: ignore[misc]
        pytest.fail("newsletter.bounces.reports.classify does not exist yet")


GMAIL = "gmail-smtp-in.l.google.com[142.250.102.27]"
OUTLOOK = "contoso-com.mail.protection.outlook.com[52.101.68.3]"
HOTMAIL = "hotmail-com.olc.protection.outlook.com[52.101.42.4]"
YAHOO = "mta7.am0.yahoodns.net[67.195.204.72]"
ICLOUD = "mx01.mail.icloud.com[17.57.155.23]"
YANDEX = "mx.yandex.ru[77.88.21.249]"
NETEASE = "163mx01.mxmail.netease.com[220.181.14.135]"

# Addresses that appear in the samples and are never failed recipients.
NOT_RECIPIENTS = {
    SENDER,
    MESSAGE_ID_ADDRESS,
    "editor@example.org",
    "mailer-daemon@out1.example.org",
    "mailer-daemon@mx.example.net",
    "colleague@example.com",
    "no-reply@sns.amazonaws.com",
    "feedback@arf.mail.yahoo.com",
    "staff@hotmail.com",
}


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def describe(v: Verdict) -> str:
    """What the classifier said, for the failure message."""
    rows = [f"kind={v.kind} reason={v.reason}"]
    rows += [
        f"  {f.address!r}: reason={f.reason} kind={f.kind} status={f.status!r} "
        f"diagnostic={f.diagnostic[:160]!r}"
        for f in v.recipients
    ]
    return "\n".join(rows)


def failed(raw: bytes, address: str, reason: str, *, status: str = "", said: str = "") -> Verdict:
    """The message names `address` alone, for `reason`, with its status and the server's words."""
    v = classify(raw)
    assert isinstance(v, Verdict)
    named = {f.address.strip().lower(): f for f in v.recipients}
    assert set(named) == {address}, f"recipients should be just {address}\n{describe(v)}"
    f = named[address]
    assert f.reason == reason, describe(v)
    assert f.kind == REASONS[reason], describe(v)
    assert v.kind == REASONS[reason], describe(v)
    if status:
        assert f.status == status, describe(v)
    if said:
        assert _norm(said) in _norm(f.diagnostic), describe(v)
    return v


# ---------------------------------------------------------------------------------------------
# One documented message (at least) for every reason.
# Each: (raw, recipient, reason, status, words the diagnostic must keep).
# ---------------------------------------------------------------------------------------------

GMAIL_NO_SUCH_USER = (
    "550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
    "550-5.1.1 double-checking the recipient's email address for typos or\n"
    "550-5.1.1 unnecessary spaces. For more information, go to\n"
    "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser d2e1a72fcca58-72a1b2c3si1234567b3a.321 - gsmtp"
)
GMAIL_OVER_QUOTA = (
    "452-4.2.2 The email account that you tried to reach is over quota. Please direct\n"
    "452-4.2.2 the recipient to\n"
    "452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp 5b1f17b1804b1-43d2si1234.5 - gsmtp"
)
GMAIL_DISABLED = (
    "550-5.2.1 The email account that you tried to reach is disabled. Learn more at\n"
    "550 5.2.1  https://support.google.com/mail/?p=DisabledUser a640c23a62f3a-ab7si1234.2 - gsmtp"
)
GMAIL_UNAUTHENTICATED = (
    "550-5.7.26 This mail has been blocked because the sender is unauthenticated.\n"
    "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\n"
    "550-5.7.26\n"
    "550-5.7.26  Authentication results:\n"
    "550-5.7.26  DKIM = did not pass\n"
    "550-5.7.26  SPF [example.org] with ip: [192.0.2.25] = did not pass\n"
    "550-5.7.26\n"
    "550-5.7.26  For instructions on setting up authentication, go to\n"
    "550 5.7.26  https://support.google.com/mail/answer/81126#authentication 2adb3069b0e04-5si1.9 - gsmtp"
)
GMAIL_DMARC = (
    "550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's\n"
    "550-5.7.26 DMARC policy. Please contact the administrator of example.org domain\n"
    "550-5.7.26 if this was a legitimate mail. To learn about the DMARC initiative, go to\n"
    "550 5.7.26  https://support.google.com/mail/?p=DmarcRejection 4fb4d7f45d1cf-5e1si12.3 - gsmtp"
)
GMAIL_RATE = (
    "421-4.7.28 [192.0.2.25      15] Our system has detected an unusual rate of\n"
    "421-4.7.28 unsolicited mail originating from your IP address. To protect our\n"
    "421-4.7.28 users from spam, mail sent from your IP address has been temporarily\n"
    "421-4.7.28 rate limited. Please visit\n"
    "421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\n"
    "421 4.7.28 review our Bulk Email Senders Guidelines. 98e67ed59e1d1-2fsi12.4 - gsmtp"
)
GMAIL_SPAM = (
    "550-5.7.1 [192.0.2.25      12] Our system has detected that this message is\n"
    "550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\n"
    "550-5.7.1 this message has been blocked. For more information, go to\n"
    "550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError 41be03b00d2f7-ab1si1.2 - gsmtp"
)
GMAIL_REPUTATION = (
    "550-5.7.1 [192.0.2.25] Our system has detected that this message is likely\n"
    "550-5.7.1 suspicious due to the very low reputation of the sending domain. To\n"
    "550-5.7.1 best protect our users from spam, the message has been blocked.\n"
    "550-5.7.1 Please visit https://support.google.com/mail/answer/188131 for more\n"
    "550 5.7.1 information. 5b1f17b1804b1-43si1.2 - gsmtp"
)
GMAIL_PTR = (
    "550-5.7.25 [192.0.2.25] The IP address sending this message does not have a\n"
    "550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not\n"
    "550-5.7.25 point to the sending IP. As a policy, Gmail does not accept messages\n"
    "550-5.7.25 from IPs with missing PTR records. For more information, go to\n"
    "550 5.7.25  https://support.google.com/mail/answer/81126#ip-practices d9443c01a7336-2si1.3 - gsmtp"
)
GMAIL_NOT_RFC5322 = (
    "550-5.7.1 [192.0.2.25] This message is not RFC 5322 compliant. There are multiple\n"
    "550-5.7.1 From headers. To reduce the amount of spam sent to Gmail, this message\n"
    "550-5.7.1 has been blocked. For more information, go to\n"
    "550 5.7.1  https://support.google.com/mail/?p=RfcMessageNonCompliant 2adb3069b0e04-5si1.4 - gsmtp"
)
GMAIL_TOO_LARGE = (
    "552-5.2.3 Your message exceeded Google's message size limits. Please visit\n"
    "552-5.2.3  https://support.google.com/mail/?p=MaxSizeError to view our size\n"
    "552 5.2.3 guidelines. 5b1f17b1804b1-43si1.5 - gsmtp"
)
GMAIL_SYSTEM = (
    "421-4.3.0 Temporary System Problem.  Try again later (10). d9443c01a7336-2si1.6 - gsmtp"
)
GMAIL_STARTTLS = "530-5.7.0 Must issue a STARTTLS command first. 98e67ed59e1d1-2fsi1.7 - gsmtp"
GMAIL_SECURITY = (
    "552-5.7.0 This message was blocked because its content presents a potential\n"
    "552-5.7.0 security issue. Please visit\n"
    "552-5.7.0  https://support.google.com/mail/?p=BlockedMessage to review our\n"
    "552 5.7.0 message content and attachment content guidelines. a640c23a62f3a-ab1si1.8 - gsmtp"
)

REASON_CASES = [
    # --- hard ---
    pytest.param(
        postfix("ana.silva@gmail.com", "5.1.1", GMAIL_NO_SUCH_USER, remote=GMAIL),
        "ana.silva@gmail.com",
        "user_unknown",
        "5.1.1",
        "The email account that you tried to reach does not exist",
        id="gmail-5.1.1-no-such-user",
    ),
    pytest.param(
        exchange(
            "j.doe@contoso.com",
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        ),
        "j.doe@contoso.com",
        "user_unknown",
        "5.1.10",
        "RESOLVER.ADR.RecipientNotFound",
        id="office365-5.1.10-recipient-not-found",
    ),
    pytest.param(
        postfix(
            "k.tanaka@contoso.com",
            "5.4.1",
            "550 5.4.1 Recipient address rejected: Access denied. "
            "[BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]",
            remote=OUTLOOK,
        ),
        "k.tanaka@contoso.com",
        "user_unknown",
        "5.4.1",
        "Recipient address rejected: Access denied",
        id="office365-5.4.1-dbeb-access-denied",
    ),
    pytest.param(
        exim(
            "someone@example.net",
            "550 5.1.1 <someone@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
        ),
        "someone@example.net",
        "user_unknown",
        "5.1.1",
        "User unknown in virtual mailbox table",
        id="exim-text-5.1.1",
    ),
    pytest.param(
        sendmail("nobody@example.com", "550 5.1.1 <nobody@example.com>... User unknown"),
        "nobody@example.com",
        "user_unknown",
        "5.1.1",
        "User unknown",
        id="sendmail-text-5.1.1",
    ),
    pytest.param(
        qmail(
            "lost@example.net",
            "550 5.1.1 <lost@example.net>: Recipient address rejected: User unknown in local recipient table",
        ),
        "lost@example.net",
        "user_unknown",
        "5.1.1",
        "User unknown in local recipient table",
        id="qmail-5.1.1",
    ),
    pytest.param(
        postfix(
            "reza@example.ir",
            "5.1.1",
            "550 5.1.1 <reza@example.ir>: صندوق پستی وجود ندارد (mailbox does not exist)",
            display_name="رضا احمدی",
        ),
        "reza@example.ir",
        "user_unknown",
        "5.1.1",
        "صندوق پستی وجود ندارد",
        id="persian-5.1.1",
    ),
    pytest.param(
        postfix(
            "wang.wei@example.cn",
            "5.1.1",
            "550 5.1.1 收件人地址不存在 (recipient address does not exist)",
            display_name="王伟",
        ),
        "wang.wei@example.cn",
        "user_unknown",
        "5.1.1",
        "收件人地址不存在",
        id="chinese-5.1.1",
    ),
    pytest.param(
        postfix(
            "nobody@nxdomain.example",
            "5.4.4",
            "Host or domain name not found. Name service error for name=nxdomain.example "
            "type=A: Host not found",
            diagnostic_type="X-Postfix",
        ),
        "nobody@nxdomain.example",
        "host_unknown",
        "5.4.4",
        "Host or domain name not found",
        id="postfix-5.4.4-host-not-found",
    ),
    pytest.param(
        exchange(
            "p.king@fabrikam.example",
            "5.4.4",
            "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain",
        ),
        "p.king@fabrikam.example",
        "host_unknown",
        "5.4.4",
        "NonExistentDomain",
        id="exchange-5.4.4-nonexistent-domain",
    ),
    pytest.param(
        sendmail(
            "old.name@example.com",
            "551 5.1.6 <old.name@example.com>... User has moved; please try <new.name@example.net>",
        ),
        "old.name@example.com",
        "has_moved",
        "5.1.6",
        "User has moved",
        id="sendmail-551-5.1.6-moved",
    ),
    pytest.param(
        rfc3464("moved@example.com", "5.1.6", "550 5.1.6 Recipient addresses have moved"),
        "moved@example.com",
        "has_moved",
        "5.1.6",
        "have moved",
        id="rfc3464-5.1.6",
    ),
    pytest.param(
        postfix(
            "anyone@nomail.example",
            "5.1.10",
            "Domain nomail.example does not accept mail (nullMX)",
            diagnostic_type="X-Postfix",
        ),
        "anyone@nomail.example",
        "no_mail_accepted",
        "5.1.10",
        "does not accept mail",
        id="postfix-null-mx",
    ),
    pytest.param(
        rfc3464("info@parked.example", "5.1.10", "556 5.1.10 Recipient address has null MX"),
        "info@parked.example",
        "no_mail_accepted",
        "5.1.10",
        "null MX",
        id="rfc7505-556-null-mx",
    ),
    # --- soft ---
    pytest.param(
        postfix("old.user@gmail.com", "5.2.1", GMAIL_DISABLED, remote=GMAIL),
        "old.user@gmail.com",
        "mailbox_disabled",
        "5.2.1",
        "The email account that you tried to reach is disabled",
        id="gmail-5.2.1-disabled",
    ),
    pytest.param(
        postfix(
            "sleepy@yahoo.com",
            "5.0.0",
            "554 delivery error: dd Sorry, your message to sleepy@yahoo.com cannot be delivered. "
            "This mailbox is disabled (554.30). - mta4012.mail.gq1.yahoo.com",
            remote=YAHOO,
            in_reply_to="end of DATA",
        ),
        "sleepy@yahoo.com",
        "mailbox_disabled",
        "",
        "This mailbox is disabled",
        id="yahoo-554.30-disabled",
    ),
    pytest.param(
        postfix("full.box@gmail.com", "4.2.2", GMAIL_OVER_QUOTA, remote=GMAIL, action="failed"),
        "full.box@gmail.com",
        "mailbox_full",
        "4.2.2",
        "is over quota",
        id="gmail-4.2.2-over-quota",
    ),
    pytest.param(
        postfix(
            "busy.box@gmail.com",
            "5.2.1",
            "550-5.2.1 The user you are trying to contact is receiving mail at a rate that "
            "prevents additional messages from being delivered. For more information, please "
            "visit https://support.google.com/mail/?p=ReceivingRatePerm",
            remote=GMAIL,
        ),
        "busy.box@gmail.com",
        "receiving_too_fast",
        "5.2.1",
        "receiving mail at a rate",
        id="gmail-5.2.1-receiving-rate",
    ),
    pytest.param(
        exim("pat@example.net", "552 5.2.2 <pat@example.net>: Mailbox full"),
        "pat@example.net",
        "mailbox_full",
        "5.2.2",
        "Mailbox full",
        id="exim-5.2.2-mailbox-full",
    ),
    pytest.param(
        postfix(
            "hanako@example.jp",
            "5.2.2",
            "552 5.2.2 メールボックスの容量がいっぱいです (mailbox full)",
            display_name="山田花子",
        ),
        "hanako@example.jp",
        "mailbox_full",
        "5.2.2",
        "メールボックスの容量がいっぱいです",
        id="japanese-5.2.2-full",
    ),
    pytest.param(
        exchange("slow@contoso.com", "4.4.7", "550 4.4.7 QUEUE.Expired; message expired"),
        "slow@contoso.com",
        "expired",
        "4.4.7",
        "QUEUE.Expired",
        id="exchange-4.4.7-queue-expired",
    ),
    pytest.param(
        rfc3464("late@example.com", "4.4.7", "", action="delayed"),
        "late@example.com",
        "delayed",
        "4.4.7",
        "",
        id="rfc3464-delayed-4.4.7",
    ),
    pytest.param(
        postfix("busy@gmail.com", "4.3.0", GMAIL_SYSTEM, remote=GMAIL, action="failed"),
        "busy@gmail.com",
        "system_error",
        "4.3.0",
        "Temporary System Problem",
        id="gmail-4.3.0-system",
    ),
    pytest.param(
        rfc3464(
            "disk@example.com", "4.3.1", "452 4.3.1 Insufficient system storage", action="failed"
        ),
        "disk@example.com",
        "system_full",
        "4.3.1",
        "Insufficient system storage",
        id="4.3.1-system-full",
    ),
    pytest.param(
        rfc3464("loop@example.com", "5.4.6", "554 5.4.6 Too many hops"),
        "loop@example.com",
        "network_error",
        "5.4.6",
        "Too many hops",
        id="5.4.6-too-many-hops",
    ),
    pytest.param(
        postfix(
            "local@example.com",
            "5.3.0",
            'Command died with status 255: "/usr/lib/dovecot/deliver"',
            diagnostic_type="X-Postfix",
        ),
        "local@example.com",
        "mailer_error",
        "5.3.0",
        "Command died with status 255",
        id="postfix-5.3.0-command-died",
    ),
    pytest.param(
        sendmail("pipe@example.com", "554 5.3.0 unknown mailer error 255"),
        "pipe@example.com",
        "mailer_error",
        "5.3.0",
        "unknown mailer error",
        id="sendmail-unknown-mailer-error",
    ),
    # Sisimai's meaning: a failure with no words to judge it by.
    pytest.param(
        rfc3464(
            "quiet@example.com", "5.0.0", "", text="Delivery to the following recipient failed.\n"
        ),
        "quiet@example.com",
        "on_hold",
        "5.0.0",
        "",
        id="5.0.0-no-words-on-hold",
    ),
    # --- sender: they refuse our mail ---
    pytest.param(
        postfix(
            "reader@contoso.com",
            "5.7.606",
            "550 5.7.606 Access denied, banned sending IP [192.0.2.25]. To request removal from "
            "this list please visit https://sender.office.com/ and follow the directions. For more "
            "information please go to http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)",
            remote=OUTLOOK,
            in_reply_to="MAIL FROM",
        ),
        "reader@contoso.com",
        "blocked",
        "5.7.606",
        "banned sending IP",
        id="office365-5.7.606-banned-ip",
    ),
    pytest.param(
        postfix(
            "reader@yahoo.com",
            "5.7.1",
            "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.25, because the ip is "
            "in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
            remote=YAHOO,
            in_reply_to="MAIL FROM",
        ),
        "reader@yahoo.com",
        "blocked",
        "5.7.1",
        "[BL21]",
        id="yahoo-bl21-spamhaus",
    ),
    pytest.param(
        exim(
            "reader@example.net",
            "554 5.7.1 Service unavailable; Client host [192.0.2.25] blocked using zen.spamhaus.org; "
            "https://www.spamhaus.org/query/ip/192.0.2.25",
        ),
        "reader@example.net",
        "blocked",
        "5.7.1",
        "blocked using zen.spamhaus.org",
        id="exim-spamhaus-rbl",
    ),
    pytest.param(
        postfix(
            "reader.rep@gmail.com",
            "5.7.1",
            GMAIL_REPUTATION,
            remote=GMAIL,
            in_reply_to="end of DATA",
        ),
        "reader.rep@gmail.com",
        "bad_reputation",
        "5.7.1",
        "very low reputation of the sending domain",
        id="gmail-low-reputation",
    ),
    pytest.param(
        postfix(
            "reader.spam@gmail.com", "5.7.1", GMAIL_SPAM, remote=GMAIL, in_reply_to="end of DATA"
        ),
        "reader.spam@gmail.com",
        "spam",
        "5.7.1",
        "likely unsolicited mail",
        id="gmail-5.7.1-unsolicited",
    ),
    pytest.param(
        exchange(
            "restricted@contoso.com",
            "5.7.1",
            "550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized",
        ),
        "restricted@contoso.com",
        "filtered",
        "5.7.1",
        "RESOLVER.RST.NotAuthorized",
        id="exchange-not-authorized-filtered",
    ),
    pytest.param(
        exchange(
            "strict@contoso.com",
            "5.6.11",
            "550 5.6.11 SMTPSEND.BareLinefeedsAreIllegal; message contains bare linefeeds, "
            "which cannot be sent via DATA",
        ),
        "strict@contoso.com",
        "content_error",
        "5.6.11",
        "BareLinefeedsAreIllegal",
        id="exchange-5.6.11-bare-linefeeds",
    ),
    pytest.param(
        exim(
            "reader@example.org.uk",
            "554 5.7.0 Reject, id=15285-02 - INFECTED: Eicar-Test-Signature",
        ),
        "reader@example.org.uk",
        "virus",
        "5.7.0",
        "INFECTED: Eicar-Test-Signature",
        id="amavis-infected",
    ),
    pytest.param(
        postfix(
            "reader.pol@yahoo.com",
            "5.7.9",
            "554 5.7.9 Message not accepted for policy reasons.  See "
            "https://postmaster.yahooinc.com/error-codes",
            remote=YAHOO,
            in_reply_to="end of DATA",
        ),
        "reader.pol@yahoo.com",
        "policy",
        "5.7.9",
        "Message not accepted for policy reasons",
        id="yahoo-5.7.9-policy",
    ),
    pytest.param(
        postfix(
            "reader.auth@gmail.com",
            "5.7.26",
            GMAIL_UNAUTHENTICATED,
            remote=GMAIL,
            in_reply_to="end of DATA",
        ),
        "reader.auth@gmail.com",
        "auth_failure",
        "5.7.26",
        "the sender is unauthenticated",
        id="gmail-5.7.26-unauthenticated",
    ),
    pytest.param(
        postfix(
            "reader@hotmail.com",
            "5.7.515",
            "550 5.7.515 Access denied, sending domain [EXAMPLE.ORG] does not meet the required "
            "authentication level. The sender's domain in the 5322.From address doesn't meet the "
            "authentication requirements defined for the sender. To learn more, go to "
            "https://go.microsoft.com/fwlink/?linkid=2319189 [Name=Protocol Filter Agent]"
            "[AGT=PFA][MxId=11BB7B2F1D6A9C53]",
            remote=HOTMAIL,
            in_reply_to="end of DATA",
        ),
        "reader@hotmail.com",
        "auth_failure",
        "5.7.515",
        "does not meet the required authentication level",
        id="outlook-5.7.515-authentication",
    ),
    pytest.param(
        postfix("reader.ptr@gmail.com", "5.7.25", GMAIL_PTR, remote=GMAIL, in_reply_to="MAIL FROM"),
        "reader.ptr@gmail.com",
        "require_ptr",
        "5.7.25",
        "PTR record setup",
        id="gmail-5.7.25-ptr",
    ),
    pytest.param(
        postfix(
            "reader.tls@gmail.com", "5.7.0", GMAIL_STARTTLS, remote=GMAIL, in_reply_to="MAIL FROM"
        ),
        "reader.tls@gmail.com",
        "security_error",
        "5.7.0",
        "Must issue a STARTTLS command first",
        id="530-5.7.0-starttls",
    ),
    pytest.param(
        postfix(
            "reader@example.net",
            "5.1.8",
            f"553 5.1.8 <{verp('reader@example.net')}>: Sender address rejected: Domain not found",
            in_reply_to="RCPT TO",
        ),
        "reader@example.net",
        "sender_rejected",
        "5.1.8",
        "Sender address rejected",
        id="postfix-5.1.8-sender-rejected",
    ),
    pytest.param(
        postfix(
            "reader@relay.example", "5.7.1", "554 5.7.1 <reader@relay.example>: Relay access denied"
        ),
        "reader@relay.example",
        "no_relaying",
        "5.7.1",
        "Relay access denied",
        id="postfix-relay-denied",
    ),
    pytest.param(
        exchange(
            "reader@fabrikam.example",
            "5.7.54",
            "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
        ),
        "reader@fabrikam.example",
        "no_relaying",
        "5.7.54",
        "Unable to relay",
        id="exchange-5.7.54-unable-to-relay",
    ),
    pytest.param(
        postfix(
            "reader.rfc@gmail.com",
            "5.7.1",
            GMAIL_NOT_RFC5322,
            remote=GMAIL,
            in_reply_to="end of DATA",
        ),
        "reader.rfc@gmail.com",
        "not_compliant",
        "5.7.1",
        "not RFC 5322 compliant",
        id="gmail-not-rfc5322",
    ),
    pytest.param(
        postfix(
            "reader@example.com",
            "5.5.4",
            "501 5.5.4 Syntax error in parameters or arguments",
            in_reply_to="MAIL FROM",
        ),
        "reader@example.com",
        "syntax_error",
        "5.5.4",
        "Syntax error",
        id="501-5.5.4-syntax",
    ),
    pytest.param(
        postfix(
            "reader.rate@gmail.com",
            "4.7.28",
            GMAIL_RATE,
            remote=GMAIL,
            action="failed",
            in_reply_to="end of DATA",
        ),
        "reader.rate@gmail.com",
        "rate_limited",
        "4.7.28",
        "temporarily rate limited",
        id="gmail-4.7.28-rate-limited",
    ),
    pytest.param(
        exchange(
            "reader.conn@contoso.com",
            "4.3.2",
            "421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, "
            "closing transmission channel",
        ),
        "reader.conn@contoso.com",
        "too_many_connections",
        "4.3.2",
        "concurrent server connections",
        id="exchange-4.3.2-concurrent-connections",
    ),
    pytest.param(
        postfix(
            "reader.conn@example.com",
            "4.7.0",
            "421 4.7.0 mx.example.net Error: too many connections from 192.0.2.25",
            action="failed",
            in_reply_to="HELO",
        ),
        "reader.conn@example.com",
        "too_many_connections",
        "4.7.0",
        "too many connections",
        id="postfix-anvil-too-many-connections",
    ),
    pytest.param(
        postfix(
            "reader.big@gmail.com",
            "5.2.3",
            GMAIL_TOO_LARGE,
            remote=GMAIL,
            in_reply_to="end of DATA",
        ),
        "reader.big@gmail.com",
        "too_large",
        "5.2.3",
        "exceeded Google's message size limits",
        id="gmail-5.2.3-too-large",
    ),
    pytest.param(
        postfix(
            "reader.big@example.com",
            "5.3.4",
            "552 5.3.4 Message size exceeds fixed limit",
            in_reply_to="end of DATA",
        ),
        "reader.big@example.com",
        "too_large",
        "5.3.4",
        "Message size exceeds fixed limit",
        id="postfix-5.3.4-size-limit",
    ),
    # The provider known by the server that refused (Remote-MTA), not the address's domain:
    # Yahoo's servers take AT&T's mail and refuse an unknown one at the end of DATA.
    pytest.param(
        postfix(
            "gone.reader@att.net",
            "5.0.0",
            "554 delivery error: dd This user doesn't have a att.net account "
            "(gone.reader@att.net) [0] - mta1046.mail.ne1.yahoo.com",
            remote=YAHOO,
            in_reply_to="end of DATA",
        ),
        "gone.reader@att.net",
        "user_unknown",
        "",
        "This user doesn't have a att.net account",
        id="yahoo-for-att-user-unknown-by-remote-mta",
    ),
    pytest.param(
        exim(
            "gone.reader@att.net",
            "554 delivery error: dd This user doesn't have a att.net account "
            "(gone.reader@att.net) [0] - mta1046.mail.ne1.yahoo.com",
            host="mta7.am0.yahoodns.net [67.195.204.72]",
            after="end of data",
        ),
        "gone.reader@att.net",
        "user_unknown",
        "",
        "This user doesn't have a att.net account",
        id="yahoo-for-att-user-unknown-by-exim-s-host-line",
    ),
    pytest.param(
        postfix(
            "someone@contoso.com",
            "4.7.650",
            "451 4.7.650 The mail server [192.0.2.25] has been temporarily rate limited "
            "due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster",
            remote=OUTLOOK,
            action="failed",
        ),
        "someone@contoso.com",
        "bad_reputation",
        "4.7.650",
        "temporarily rate limited due to IP reputation",
        id="office365-for-contoso-4.7.650-reputation",
    ),
    # docomo's "Unknown user" after DATA is its readers' own sender filter (Sisimai's
    # "filtered"); only at RCPT TO is it about the address.
    pytest.param(
        postfix(
            "reader@docomo.ne.jp",
            "5.0.0",
            "550 Unknown user reader@docomo.ne.jp",
            remote="mfsmax.docomo.ne.jp[203.138.181.112]",
            in_reply_to="end of DATA",
        ),
        "reader@docomo.ne.jp",
        "filtered",
        "",
        "550 Unknown user",
        id="docomo-unknown-user-after-data-filtered",
    ),
    pytest.param(
        postfix(
            "gone@docomo.ne.jp",
            "5.0.0",
            "550 Unknown user gone@docomo.ne.jp",
            remote="mfsmax.docomo.ne.jp[203.138.181.112]",
        ),
        "gone@docomo.ne.jp",
        "user_unknown",
        "",
        "550 Unknown user",
        id="docomo-unknown-user-at-rcpt",
    ),
    pytest.param(
        postfix(
            "reader@example.net",
            "5.7.1",
            "550 5.7.1 This message was not accepted because it appears to be phishing",
            in_reply_to="end of DATA",
        ),
        "reader@example.net",
        "spam",
        "5.7.1",
        "appears to be phishing",
        id="content-filter-phishing",
    ),
    pytest.param(
        postfix("lecteur@example.fr", "5.0.0", "550 Utilisateur inconnu"),
        "lecteur@example.fr",
        "user_unknown",
        "",
        "Utilisateur inconnu",
        id="french-user-unknown",
    ),
    pytest.param(
        postfix(
            "board@contoso.com",
            "5.7.129",
            "550 5.7.129 RESOLVER.RST.RestrictedToRecipientsPermission; not authorized to "
            "send to this restricted group",
            remote=OUTLOOK,
        ),
        "board@contoso.com",
        "sender_rejected",
        "5.7.129",
        "RestrictedToRecipientsPermission",
        id="office365-5.7.129-restricted-group",
    ),
    pytest.param(
        postfix(
            "someone@contoso.com",
            "5.6.211",
            "550 5.6.211 Invalid MIME Content: Single text value size (32768) limit exceeded",
            remote=OUTLOOK,
            in_reply_to="end of DATA",
        ),
        "someone@contoso.com",
        "content_error",
        "5.6.211",
        "Invalid MIME Content",
        id="office365-5.6.211-invalid-mime",
    ),
    pytest.param(
        postfix(
            "someone@contoso.com",
            "5.7.350",
            "550 5.7.350 Remote server returned message detected as spam -> "
            "554 5.7.1 Service unavailable",
            remote=OUTLOOK,
            in_reply_to="end of DATA",
        ),
        "someone@contoso.com",
        "spam",
        "5.7.350",
        "detected as spam",
        id="office365-5.7.350-forwarded-spam-verdict",
    ),
    pytest.param(
        postfix(
            "leser@web.de",
            "5.0.0",
            "554-Transaction failed\n554-Reject due to policy restrictions.\n"
            "554 For explanation visit https://web.de/email/senderguidelines?ip=192.0.2.25&c=hi",
            remote="mx-ha02.web.de[212.227.17.8]",
        ),
        "leser@web.de",
        "policy",
        "",
        "Reject due to policy restrictions",
        id="web.de-policy-restrictions",
    ),
    pytest.param(
        postfix(
            "someone@comcast.net",
            "5.0.0",
            "554 resimta-ch2-18v.sys.comcast.net resimta-ch2-18v.sys.comcast.net 192.0.2.25 "
            "found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000010",
            remote="mx1a1.comcast.net[96.114.157.80]",
        ),
        "someone@comcast.net",
        "blocked",
        "",
        "found on one or more DNSBLs",
        id="comcast-dnsbl",
    ),
    pytest.param(
        postfix(
            "reader@example.net",
            "5.7.1",
            "554 5.7.1 Your message has been quarantined by the content filter and will be "
            "reviewed by an administrator",
            in_reply_to="end of DATA",
        ),
        "reader@example.net",
        "filtered",
        "5.7.1",
        "has been quarantined",
        id="quarantined-by-a-content-filter",
    ),
]


@pytest.mark.parametrize("raw, address, reason, status, said", REASON_CASES)
def test_reason(raw, address, reason, status, said):
    failed(raw, address, reason, status=status, said=said)


# Providers' replies as their help pages quote them, which neither the corpus nor the cases
# above hold; each in a Postfix DSN (status, "in reply to RCPT TO") and in Exim's plain text
# (no status), which must agree. Multi-line replies are read as one line: a phrase may span two.
PROVIDER_WORDS = [
    (
        "5.7.1",
        "550-5.7.1 The IP you're using to send mail is not authorized to send email\n"
        "550 5.7.1 directly to our servers. Please use the SMTP relay at your service provider instead.",
        "blocked",
        "gmail-not-authorized-ip",
    ),
    ("5.0.0", "550 Rejected by DNSBL zen.spamhaus.org", "blocked", "hmailserver-dnsbl"),
    # Coremail's replies (the server of 163.com and of many a company and university).
    ("5.0.0", "550 user is locked.", "mailbox_disabled", "coremail-locked"),
    ("5.0.0", "552 message rejected by anti-spam engine.", "spam", "coremail-anti-spam"),
    ("5.0.0", "554 rbl deny.", "blocked", "coremail-rbl-deny"),
    ("5.0.0", "553 host denies the sender.", "sender_rejected", "coremail-denies-sender"),
    ("5.0.0", "552 Virus found.", "virus", "coremail-virus"),
    ("5.0.0", "552 message is too long.", "too_large", "coremail-too-long"),
    (
        "5.7.520",
        "550 5.7.520 Access denied, Your organization does not allow external forwarding. "
        "Please contact your administrator for further assistance. AS(7555)",
        "policy",
        "microsoft-reader-forwarding-refused",
    ),
    (
        "5.7.26",
        "550-5.7.26 This message does not have authentication information or fails to\n"
        "550-5.7.26 pass authentication checks (SPF or DKIM).",
        "auth_failure",
        "gmail-unauthenticated",
    ),
    (
        "5.7.1",
        "550-5.7.1 [203.0.113.5] Messages missing a valid address in From: header, or\n"
        "550 5.7.1 having no From: header, are not accepted.",
        "not_compliant",
        "gmail-no-from",
    ),
    (
        "5.7.1",
        "554 5.7.1 [CS01] Message rejected due to local policy. Please visit "
        "https://support.apple.com/en-us/HT204137",
        "policy",
        "icloud-cs01",
    ),
    (
        "5.7.1",
        "550 5.7.1 [HM08] Message rejected due to local policy. Please visit "
        "https://support.apple.com/en-us/HT204137",
        "policy",
        "icloud-hm08",
    ),
    (
        "5.0.0",
        "554-gmx.net (mxgmx017) Nemesis ESMTP Service not available\n554-No SMTP service\n"
        "554-IP address is block listed.",
        "blocked",
        "gmx-block-listed",
    ),
    (
        "5.7.1",
        "554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc abc123",
        "spam",
        "yandex-spam",
    ),
    (
        "5.0.0",
        "550 Ip frequency limited. https://service.mail.qq.com/detail/122/170",
        "rate_limited",
        "qq-frequency",
    ),
    ("5.0.0", "553 Mail data refused by AISP, rule [169648]", "spam", "netease-aisp"),
    (
        "5.0.0",
        "554 IP=203.0.113.5 - A problem occurred. (Ask your postmaster for help or to "
        "contact tosa@rx.t-online.de to clarify.)",
        "blocked",
        "t-online-block",
    ),
    (
        "5.0.0",
        "550 OU-002 (COL004-MC1F43) Unfortunately, messages from 203.0.113.5 weren't sent. "
        "Please contact your Internet service provider. You can tell them that Hotmail does not "
        "relay dynamically-assigned IP ranges.",
        "blocked",
        "outlook-ou-002",
    ),
    (
        "5.0.0",
        "550 Rejected by header based Anti-Spoofing policy: reader@example.net - "
        "https://community.mimecast.com/docs/DOC-1369#550 [abc.us123]",
        "policy",
        "mimecast-spoofing",
    ),
    (
        "5.7.1",
        "554 5.7.1 <reader@example.net>: Message blocked due to spam content in the message.",
        "spam",
        "spam-content",
    ),
    (
        "5.7.1",
        "554 5.7.1 This message has been blocked because ASE reports it as spam.",
        "spam",
        "ase-spam",
    ),
    (
        "5.0.0",
        "550 permanent failure for one or more recipients (reader@example.net:blocked)",
        "blocked",
        "barracuda-blocked",
    ),
    ("5.7.1", "550 5.7.1 Message rejected due to content restrictions", "policy", "content-rules"),
    ("5.7.1", "522 5.7.1 DMARC reject: example.org", "auth_failure", "dmarc-reject"),
    (
        "5.2.0",
        "550 5.2.0 Mailbox unavailable. Mailbox is suspended",
        "mailbox_disabled",
        "suspended",
    ),
    (
        "5.7.1",
        "550 5.7.1 Recipient mailbox has been disabled for inactivity",
        "mailbox_disabled",
        "disabled-inactive",
    ),
    ("5.0.0", "550 reader (User account is expired)", "mailbox_disabled", "groupwise-expired"),
    ("5.7.1", "550 5.7.1 zen.spamhaus.org Listed by CSS", "blocked", "spamhaus-css"),
    ("5.0.0", "550 User account is overquota", "mailbox_full", "earthlink-overquota"),
    ("5.0.0", "retry timeout exceeded", "expired", "exim-retry-timeout"),
    (
        "5.0.0",
        "DNS Error: 80335577 DNS type 'mx' lookup of example.jp responded with code NXDOMAIN",
        "network_error",
        "workspace-dns-error",
    ),
    ("5.0.0", "Network error on destination MXs", "network_error", "opensmtpd-network"),
    (
        "5.0.0",
        "Could not deliver for the last 432000 seconds. Giving up.",
        "expired",
        "dragonfly-gave-up",
    ),
    ("5.0.0", "Envelope expired", "expired", "opensmtpd-expired"),
    (
        "5.4.316",
        "550 5.4.316 Message expired, connection refused",
        "expired",
        "exchange-online-expired",
    ),
    (
        "5.0.0",
        "The recipient server did not accept our requests to connect. Learn more at"
        " https://support.google.com/mail/answer/7720",
        "expired",
        "gmail-could-not-connect",
    ),
    ("5.0.0", "550 Delivery failed 20 attempts", "expired", "imail-attempts"),
    (
        "5.0.0",
        "550 Does not have a final email delivery point, please contact this person by"
        " alternate means.",
        "user_unknown",
        "phquery",
    ),
    (
        "5.0.0",
        "550 L'adresse de messagerie référencée ci-dessus n'existe pas.",
        "user_unknown",
        "french-address",
    ),
    (
        "5.0.0",
        "550 Esta casilla ha expirado por falta de uso.",
        "mailbox_disabled",
        "spanish-unused-mailbox",
    ),
    ("5.0.0", "550 Adresse inconnue / utilisateur inconnu", "user_unknown", "french"),
    ("5.0.0", "550 Usuario desconocido", "user_unknown", "spanish"),
    ("5.0.0", "550 User not found or in the blacklist", "unknown", "netease-either-or"),
    ("5.0.0", "550 Usuário inexistente", "user_unknown", "portuguese"),
    ("5.0.0", "550 Пользователь не найден", "user_unknown", "russian"),
    ("5.0.0", "550 用户不存在", "user_unknown", "chinese"),
    ("5.0.0", "550 کاربر وجود ندارد", "user_unknown", "persian"),
    ("5.0.0", "550 نشانی گیرنده وجود ندارد", "user_unknown", "persian-recipient-address"),
    ("5.0.0", "552 صندوق پستی پر است", "mailbox_full", "persian-full"),
    ("5.0.0", "550 Адресат не существует", "user_unknown", "russian-addressee"),
    ("5.0.0", "552 Ящик переполнен", "mailbox_full", "russian-full"),
    ("5.0.0", "550 Kullanıcı bulunamadı", "user_unknown", "turkish"),
    ("5.0.0", "550 宛先不明", "user_unknown", "japanese-unknown-destination"),
    ("5.0.0", "552 Postfach voll", "mailbox_full", "german-full"),
    ("5.0.0", "552 Boîte aux lettres pleine", "mailbox_full", "french-full"),
    ("5.0.0", "552 Buzón lleno", "mailbox_full", "spanish-full"),
    ("5.0.0", "552 صندوق البريد ممتلئ", "mailbox_full", "arabic-full"),
    ("5.0.0", "552 邮箱已满", "mailbox_full", "chinese-full"),
    (
        "5.7.1",
        "554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.",
        "spam",
        "zoho-flagged-spam",
    ),
    (
        "5.0.0",
        # A multi-line reply whose lines carry no enhanced status (MessageLabs)
        "550-Please turn on SMTP Authentication in your mail client.\n"
        "550-mail0.example.net [198.51.100.21]:22222 is not permitted to\n"
        "550 relay through this server without authentication.",
        "no_relaying",
        "messagelabs-relay",
    ),
    (
        "5.0.0",
        "550 BAD_RECIPIENT - see\n"
        "http://www.mail.example.ac.uk/undelivered.php?r=BAD_RECIPIENT&e=cmVhZGVy",
        "user_unknown",
        "university-gateway-bad-recipient",
    ),
    # Replies that a Postfix log reader's table files by kind, as mail systems wrote them.
    (
        "5.0.0",
        "550 Message was not accepted -- invalid mailbox.  Local mailbox reader@example.net"
        " is unavailable: account is disabled",
        "mailbox_disabled",
        "mailru-account-disabled",
    ),
    (
        "5.1.1",
        '550 "reader@example.net": Podane konto jest zablokowane administracyjnie lub'
        " nieaktywne / This account is disabled or not yet active (#5.1.1)",
        "mailbox_disabled",
        "wp-account-disabled",
    ),
    ("5.7.1", "541 5.7.1 Mail rejected due to antispam policy", "spam", "antispam-policy"),
    (
        "5.7.1",
        "550 5.7.1 RDENY 192.0.2.1: The receiver denied your mail. Please contact the receiver"
        " with another way.: <reader@example.net>",
        "filtered",
        "receiver-denied",
    ),
    (
        "5.0.0",
        "550-Inconsistent/Missing DNS PTR record (RFC 1912 2.1) (192.0.2.1)\n550 [192.0.2.1]:25",
        "require_ptr",
        "missing-ptr",
    ),
    # Broadcom Email Security.cloud's (MessageLabs') help articles, Zoho's help pages.
    ("5.7.1", "553 DMARC domain authentication fail", "auth_failure", "messagelabs-dmarc"),
    (
        "5.0.0",
        "501 Connection rejected by policy [7.7] 20805, please visit www.messagelabs.com/support",
        "bad_reputation",
        "messagelabs-reputation",
    ),
    ("5.0.0", "553 Sorry, your IP address has been blocked", "blocked", "messagelabs-ip"),
    ("5.0.0", "553 Sorry, your domain has been blocked", "sender_rejected", "messagelabs-domain"),
    (
        "5.7.1",
        "553 sorry, your envelope sender is in my badmailfrom list. (#5.7.1)",
        "sender_rejected",
        "messagelabs-badmailfrom",
    ),
    ("5.0.0", "553 Recipient mailbox is not allowed", "user_unknown", "messagelabs-recipient"),
    ("5.4.1", "541 5.4.1 Mail rejected by destination domain", "sender_rejected", "zoho-domain"),
    (
        "5.1.1",
        "552 5.1.1 <reader@example.net> Mailbox delivery restricted by policy error",
        "policy",
        "zoho-restricted",
    ),
    (
        "5.7.1",
        "552 5.7.1 virus Eicar-Test-Signature detected by Zoho Mail",
        "virus",
        "zoho-virus",
    ),
    # Words an old bounce-handling library's rules quote from the bounces they were made on.
    ("5.7.1", "554 5.7.1 Rejected as Spam", "spam", "rejected-as-spam"),
    ("5.7.1", "554 5.7.1 Message scored too high on spam scale.", "spam", "spam-scale"),
    ("5.0.0", "552 sorry, the spam message is detected (#5.6.0)", "spam", "spam-detected"),
    ("5.0.0", "550 sorry, it seems as a junk mail", "spam", "junk-mail"),
    ("5.0.0", "550 Content reject.", "content_error", "content-reject"),
    (
        "5.0.0",
        "550 The user does not accept email in non-Western (non-Latin) character sets.",
        "content_error",
        "latin-only",
    ),
    ("5.0.0", "550 Verify mailfrom failed,blocked", "sender_rejected", "verify-mailfrom"),
    ("5.0.0", "554 sender is rejected: 0,mx20,wKjR_ZW0d3u9", "sender_rejected", "netease-sender"),
    (
        "5.0.0",
        "550 Error: MAIL FROM is mismatched with message header from address!",
        "policy",
        "from-mismatch",
    ),
    (
        "5.7.1",
        "554 5.7.1 reject: Client host bypassing service provider's mail relay",
        "blocked",
        "bypassing-relay",
    ),
    (
        "5.7.1",
        "554 <unknown[192.0.2.1]>: Client host rejected: Access denied",
        "blocked",
        "client-access-denied",
    ),
    (
        "5.7.1",
        "554 Please visit http://antispam.example.com/denyip.php?IP=192.0.2.1 (#5.7.1)",
        "blocked",
        "deny-ip",
    ),
    ("5.1.1", "553 5.1.1 <reader@example.net>... Addressee unknown", "user_unknown", "addressee"),
    (
        "5.1.1",
        "550 5.1.1 <reader@example.net>... Recipient address no longer exists",
        "user_unknown",
        "no-longer-exists",
    ),
    ("5.1.1", "550 <reader@example.net>: Invalid User", "user_unknown", "invalid-user"),
    (
        "5.1.1",
        "550 sorry, that recipient doesn't exist (#5.7.1)",
        "user_unknown",
        "recipient-doesnt-exist",
    ),
    (
        "5.1.1",
        "550 User not a member of domain: <reader@example.net>",
        "user_unknown",
        "not-a-member",
    ),
    (
        "5.0.0",
        "550 Account closed due to inactivity. No forwarding information is available.",
        "mailbox_disabled",
        "closed-inactivity",
    ),
]


@pytest.mark.parametrize(
    "status, said, reason", [pytest.param(*case[:3], id=case[3]) for case in PROVIDER_WORDS]
)
def test_providers_words_in_postfix_and_exim_bounces(status, said, reason):
    address = "reader@example.net"
    failed(postfix(address, status, said), address, reason, status=status)
    failed(exim(address, said), address, reason)


@pytest.mark.parametrize(
    "words",
    [
        # Exim's own router, delivering locally: the domain is its own, the name is not.
        'unknown local-part "reader" in domain "example.net"',
        # qmail handing the message to vpopmail, which has no such mailbox.
        "Sorry, no mailbox here by that name. vpopmail (#5.1.1)",
        "550-I'm sorry but reader@example.net does not have an account here",
        "reader@example.net; Failed; 5.1.1 (bad destination mailbox address)",
    ],
)
def test_a_server_that_looked_the_name_up_needs_no_other_evidence(words):
    """A "user unknown" without a status or the SMTP command stays soft (a carrier's filter
    says it too), unless the words say the server looked the name up in its own accounts."""
    address = "reader@example.net"
    raw = (
        "From: MAILER-DAEMON@mx.example.net\nTo: news@example.org\nSubject: failure notice\n\n"
        "Hi. This is the qmail-send program at mx.example.net.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{address}>:\n{words}\n\n"
        "--- Below this line is a copy of the message.\n\n"
        f"From: news@example.org\nTo: {address}\nSubject: Weekly digest\n"
    ).encode()
    failed(raw, address, "user_unknown")


# Our smarthost refusing our own account, identity or volume (Gmail, Amazon SES, Microsoft
# 365 as relays, in their documented words): every reader's copy comes back with these.
OUR_OWN_ACCOUNT = [
    "535 5.7.8 Error: authentication failed: Invalid username or password",
    "535 5.7.3 Authentication unsuccessful: account is disabled",
    "550 5.4.5 Daily user sending limit exceeded. For more information on Gmail sending limits"
    " go to https://support.google.com/a/answer/166852",
    "454 Throttling failure: Daily message quota exceeded.",
    "550 5.4.5 You have reached a limit for sending mail. Your message was not sent.",
    "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to"
    " process message due to a permanent exception with message Cannot submit message.",
    "554 Message rejected: Email address is not verified. The following identities failed the"
    " check in region US-EAST-1: news@example.org",
    "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
    "554 5.7.1 Your account is not allowed to send from this address",
    "550 5.7.1 Your account has been suspended for sending spam",
    "550 5.1.0 Sender denied",
    "550 Sender user is disabled",
]


@pytest.mark.parametrize("said", OUR_OWN_ACCOUNT)
def test_a_relay_refusing_our_own_account_is_never_the_readers_fault(said):
    """Postfix relaying through a smarthost that refuses us: its words name a user, an
    account, a quota, and they are ours, whatever command they answered."""
    address = "reader@example.net"
    relay = "relay.example.org[192.0.2.25]"
    if said.startswith("535"):
        notice = f"SASL authentication failed; server {relay} said: {said}"
    else:
        notice = f"host {relay} said: {said} (in reply to MAIL FROM command)"
    for raw in (
        postfix(address, "5.0.0", notice, diagnostic_type="x-postfix", action="failed"),
        postfix(address, "5.0.0", said, in_reply_to="end of DATA", action="failed"),
    ):
        v = classify(raw)
        [failure] = v.recipients
        assert failure.kind == "sender", describe(v)


@pytest.mark.parametrize(
    "said",
    [
        "550 5.7.1 Sender domain does not exist",
        "553 sorry, your mail from domain has no DNS records (#5.1.8)",
        "550 Your envelope sender address is not valid",
        "550 From address does not exist",
        "550 5.1.1 The return path address does not exist",
    ],
)
@pytest.mark.parametrize("command", ["MAIL FROM", "RCPT TO"])
def test_words_about_our_own_address_are_never_the_readers(said, command):
    """A refusal of our return path or From, whatever command it answered and whatever
    "does not exist" it says: the reader's address is not the one refused."""
    address = "reader@example.net"
    v = classify(postfix(address, "5.0.0", said, in_reply_to=command, action="failed"))
    [failure] = v.recipients
    assert failure.kind == "sender", describe(v)


def test_a_reply_that_names_our_return_path_refuses_our_sender():
    """ "550 5.1.0 Address rejected <our return path>" answered at RCPT TO names the address
    refused, and it is ours, not the reader's."""
    address = "reader@example.net"
    said = f"550 5.1.0 Address rejected {verp(address)}"
    v = classify(postfix(address, "5.0.0", said, action="failed"))
    [failure] = v.recipients
    assert (failure.reason, failure.kind) == ("sender_rejected", "sender"), describe(v)


def test_a_greeting_that_refused_us_is_a_refusal_of_our_mail():
    """Postfix's "refused to talk to me": the receiving server's greeting was a refusal,
    before any recipient was named, so whatever its words it refused our connection."""
    address = "reader@example.net"
    said = "host mx.example.net[198.51.100.7] refused to talk to me: 554 Access Denied"
    raw = postfix(address, "5.0.0", said, diagnostic_type="x-postfix")
    failed(raw, address, "blocked", status="5.0.0", said=said)


NETEASE_SESSION = "163 mx13,QMCowECp2mR0f_BlEgqwCw--.40985S2 1690000000"


@pytest.mark.parametrize(
    "address, remote, status, said, reason",
    [
        # Yandex answers RCPT TO for a dead address with a policy status.
        pytest.param(
            "gone@yandex.ru",
            YANDEX,
            "5.7.1",
            "550 5.7.1 No such user! 1782325033-AbCdEf12",
            "user_unknown",
            id="yandex-no-such-user",
        ),
        # Its help: the reader's account is blocked for breaking its terms.
        pytest.param(
            "locked@yandex.ru",
            YANDEX,
            "5.7.1",
            "550 5.7.1 Policy rejection on the target address",
            "mailbox_disabled",
            id="yandex-account-blocked",
        ),
        pytest.param(
            "reader@yandex.ru",
            YANDEX,
            "5.7.1",
            "550 5.7.1 Blocked by spam statistics - see https://ya.cc/1IrBc",
            "spam",
            id="yandex-spam-statistics",
        ),
        pytest.param(
            "reader@yandex.ru",
            YANDEX,
            "5.7.1",
            "554 5.7.1 Message infected by virus",
            "virus",
            id="yandex-virus",
        ),
        # NetEase's codes, as its help page lists them: the last reply of a send given up on.
        pytest.param(
            "reader@163.com",
            NETEASE,
            "4.0.0",
            f"451 DT:SPM {NETEASE_SESSION}, please try again",
            "spam",
            id="netease-dt-spm",
        ),
        pytest.param(
            "reader@126.com",
            NETEASE,
            "4.0.0",
            f"421 HL:REP {NETEASE_SESSION}, please see http://mail.163.com/help/help_spam_16.htm",
            "blocked",
            id="netease-hl-rep",
        ),
        pytest.param(
            "reader@163.com",
            NETEASE,
            "4.0.0",
            f"421 HL:IFC {NETEASE_SESSION}, please see http://mail.163.com/help/help_spam_16.htm",
            "rate_limited",
            id="netease-hl-ifc",
        ),
        pytest.param(
            "reader@yeah.net",
            NETEASE,
            "5.0.0",
            f"550 MI:SPF {NETEASE_SESSION}, please see http://mail.163.com/help/help_spam_16.htm",
            "auth_failure",
            id="netease-mi-spf",
        ),
        # i.ua's codes are the number in the link its replies give (mail.i.ua/err/N).
        pytest.param(
            "reader@i.ua",
            "mx.i.ua[91.198.36.14]",
            "5.0.0",
            "550 Message rejected. See http://mail.i.ua/err/6/",
            "no_relaying",
            id="i-ua-err-6",
        ),
        pytest.param(
            "reader@i.ua",
            "mx.i.ua[91.198.36.14]",
            "5.0.0",
            "550 Message rejected. See http://mail.i.ua/err/10/",
            "filtered",
            id="i-ua-err-10",
        ),
        # Yahoo's error codes page: [TSS05], our IP refused for its readers' complaints.
        pytest.param(
            "reader@yahoo.com",
            "mta5.am0.yahoodns.net[67.195.204.72]",
            "5.7.0",
            "554 5.7.0 [TSS05] Messages from 192.0.2.1 permanently deferred due to user"
            " complaints - 4.16.56.1; see https://postmaster.yahooinc.com/error-codes",
            "blocked",
            id="yahoo-tss05",
        ),
        # Microsoft 365's 5.7.64: our own connector to the tenant is not recognised.
        pytest.param(
            "reader@contoso.com",
            "contoso-com.mail.protection.outlook.com[192.0.2.9]",
            "5.7.64",
            "550 5.7.64 TenantAttribution; Relay Access Denied",
            "security_error",
            id="microsoft-tenant-attribution",
        ),
        # Tencent's help page 122/166: we send too often (Sisimai spells it "denined").
        pytest.param(
            "reader@qq.com",
            "mx1.qq.com[203.205.219.57]",
            "5.0.0",
            "550 Mailbox unavailable or access denied. https://service.mail.qq.com/detail/122/166",
            "rate_limited",
            id="qq-122-166",
        ),
        # Yahoo's error codes page: our From domain does not resolve, given up on.
        pytest.param(
            "reader@yahoo.com",
            "mta5.am0.yahoodns.net[67.195.204.72]",
            "4.0.0",
            "451 Message temporarily deferred due to unresolvable RFC.5321 from domain. See"
            " https://senders.yahooinc.com/error-codes#unresolvable-from-domain",
            "sender_rejected",
            id="yahoo-unresolvable-from",
        ),
        # Facebook's postmaster page: a code for each reply.
        pytest.param(
            "reader@facebook.com",
            "smtpin.vvv.facebook.com[69.171.232.143]",
            "5.0.0",
            "550 DNS-P1 Your SMTP MAIL FROM domain does not exist.",
            "sender_rejected",
            id="facebook-dns-p1",
        ),
        # Facebook's postmaster page: a code for each reply.
        pytest.param(
            "reader@facebook.com",
            "smtpin.vvv.facebook.com[69.171.232.143]",
            "5.0.0",
            "550 RCP-P1 The attempted recipient address does not exist.",
            "user_unknown",
            id="facebook-rcp-p1",
        ),
        # Facebook's postmaster page: a code for each reply.
        pytest.param(
            "reader@facebook.com",
            "smtpin.vvv.facebook.com[69.171.232.143]",
            "4.0.0",
            "450 RCP-T4 The attempted recipient address is currently deactivated. The user may or may not reactivate it.",
            "mailbox_disabled",
            id="facebook-rcp-t4",
        ),
        # Facebook's postmaster page: a code for each reply.
        pytest.param(
            "reader@facebook.com",
            "smtpin.vvv.facebook.com[69.171.232.143]",
            "5.0.0",
            "550 POL-P1 Your mail server's IP Address is listed on the Spamhaus PBL.",
            "blocked",
            id="facebook-pol-p1",
        ),
        # Facebook's postmaster page: a code for each reply.
        pytest.param(
            "reader@facebook.com",
            "smtpin.vvv.facebook.com[69.171.232.143]",
            "5.0.0",
            "550 MSG-P1 The message exceeds Facebook's maximum allowed size.",
            "too_large",
            id="facebook-msg-p1",
        ),
        # Facebook's postmaster page: a code for each reply.
        pytest.param(
            "reader@facebook.com",
            "smtpin.vvv.facebook.com[69.171.232.143]",
            "5.0.0",
            "550 POL-P7 The message does not comply with Facebook's Domain Authentication requirements.",
            "auth_failure",
            id="facebook-pol-p7",
        ),
    ],
)
def test_regional_providers_own_words_and_codes(address, remote, status, said, reason):
    """As Postfix reports them (the command named) and as a bare RFC 3464 report (not)."""
    raw = postfix(address, status, said, remote=remote, action="failed")
    failed(raw, address, reason, status=status)
    failed(rfc3464(address, status, said, action="failed"), address, reason)


@pytest.mark.parametrize(
    "status, said, reason",
    [
        pytest.param(
            "4.7.0",
            "421 4.7.0 [TSS11] Excessive unknown recipients - possible Open Relay",
            "blocked",
            id="yahoo-tss11-unknown-recipients",
        ),
        pytest.param(
            "4.0.0",
            "421 RP-001 (BAY0-MC1-F21) Unfortunately, some messages from 203.0.113.5 weren't "
            "sent. Please try again. We have limits for how many messages can be sent per "
            "hour and per day.",
            "rate_limited",
            id="hotmail-rp-001",
        ),
    ],
)
def test_temporary_refusals_of_us_given_up_on_are_not_the_readers(status, said, reason):
    """Postfix gives up with the last reply when the queue's lifetime ends (failed, 4.x.x);
    the words name unknown recipients or limits, and the refusal is of our mail."""
    address = "reader@example.net"
    failed(postfix(address, status, said, action="failed"), address, reason, status=status)
    failed(exim(address, said), address, reason)


@pytest.mark.parametrize(
    "builder, said, reason",
    [
        # MDaemon's transcript names the recipient first in a summary ("*  To:"); the verdict
        # follows its "--> RCPT To:", and that arrow says the refusal answered RCPT.
        pytest.param(mdaemon, "550 No such user here", "user_unknown", id="mdaemon-no-code"),
        pytest.param(
            mdaemon,
            "553 5.3.0 flpd575 DNSBL:RBL 521< 203.0.113.5 >_is_blocked.For assistance forward "
            "this error to abuse_rbl@abuse-att.net",
            "blocked",
            id="mdaemon-att-address-to-write-to",
        ),
        pytest.param(
            mdaemon,
            "554 IP=203.0.113.5 - A problem occurred. (Ask your postmaster for help or to "
            "contact tosa@rx.t-online.de to clarify.)",
            "blocked",
            id="mdaemon-t-online-address-to-write-to",
        ),
        # qmail ends every failure with "Giving up on <ip>": the status says why it failed.
        pytest.param(qmail, "550 5.1.1 Not our Customer", "user_unknown", id="qmail-5.1.1"),
        pytest.param(
            qmail,
            "551 5.1.6 User has moved; please try <reader@new.example.net>",
            "has_moved",
            id="qmail-has-moved",
        ),
    ],
)
def test_transcripts_and_their_boilerplate(builder, said, reason):
    failed(builder("reader@example.net", said), "reader@example.net", reason)


def test_every_reason_has_a_documented_example():
    covered = {p.values[2] for p in REASON_CASES} | {
        "complaint",
        "delivered",
        "auto_reply",
        "not_a_bounce",
        "held",  # tests/test_bounce_lists.py
    }
    assert set(REASONS) - {"unknown"} <= covered, set(REASONS) - {"unknown"} - covered


# ---------------------------------------------------------------------------------------------
# Other formats and providers: the reader is found; the kind follows the rules.
# ---------------------------------------------------------------------------------------------

FORMAT_CASES = [
    # Action: failed with a 4.x.x status: the queue gave up; either word is fair, never hard.
    pytest.param(
        postfix(
            "unreachable@example.com",
            "4.4.1",
            "connect to mx.example.net[198.51.100.7]:25: Connection refused",
            diagnostic_type="X-Postfix",
            action="failed",
        ),
        "unreachable@example.com",
        {"network_error", "expired"},
        "4.4.1",
        id="postfix-4.4.1-connection-refused",
    ),
    pytest.param(
        opensmtpd(
            "gone@example.com",
            "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown",
        ),
        "gone@example.com",
        {"user_unknown"},
        "5.1.1",
        id="opensmtpd-report",
    ),
    pytest.param(
        opensmtpd_plain(
            "gone2@example.com",
            "550 5.1.1 <gone2@example.com>: Recipient address rejected: User unknown",
        ),
        "gone2@example.com",
        {"user_unknown"},
        "5.1.1",
        id="opensmtpd-plain-error-is",
    ),
    pytest.param(
        courier("nouser@example.com", "550 5.1.1 <nouser@example.com>... User unknown"),
        "nouser@example.com",
        {"user_unknown"},
        "5.1.1",
        id="courier",
    ),
    pytest.param(
        mdaemon(
            "nouser@example.net",
            "550 5.1.1 <nouser@example.net>: Recipient address rejected: User unknown",
        ),
        "nouser@example.net",
        {"user_unknown"},
        "5.1.1",
        id="mdaemon",
    ),
    pytest.param(
        zoho(
            "nouser@example.in",
            "550 5.1.1 The email account that you tried to reach does not exist.",
        ),
        "nouser@example.in",
        {"user_unknown"},
        "5.1.1",
        id="zoho",
    ),
    pytest.param(
        postfix(
            "missing@icloud.com",
            "5.1.1",
            "550 5.1.1 <missing@icloud.com>: user does not exist",
            remote=ICLOUD,
        ),
        "missing@icloud.com",
        {"user_unknown"},
        "5.1.1",
        id="icloud-user-does-not-exist",
    ),
    pytest.param(
        postfix(
            "nouser@yahoo.com",
            "5.0.0",
            "554 delivery error: dd This user doesn't have a yahoo.com account (nouser@yahoo.com) "
            "[0] - mta1234.mail.gq1.yahoo.com",
            remote=YAHOO,
            in_reply_to="end of DATA",
        ),
        "nouser@yahoo.com",
        {"user_unknown"},
        "",
        id="yahoo-no-account",
    ),
    pytest.param(
        postfix(
            "someone@qq.com",
            "5.0.0",
            "550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728",
            remote="mx3.qq.com[203.205.219.57]",
        ),
        "someone@qq.com",
        {"user_unknown"},
        "",
        id="qq-mailbox-not-found",
    ),
    pytest.param(
        postfix(
            "reader@icloud.com",
            "5.7.1",
            "550 5.7.1 [CS01] Message rejected due to local policy. Please visit "
            "https://support.apple.com/en-us/HT204137",
            remote=ICLOUD,
            in_reply_to="end of DATA",
        ),
        "reader@icloud.com",
        {"policy", "spam", "filtered", "blocked", "bad_reputation"},
        "5.7.1",
        id="icloud-cs01-local-policy",
    ),
    pytest.param(
        postfix(
            "reader.dmarc@icloud.com",
            "5.7.1",
            "550 5.7.1 Your message was rejected due to example.org DMARC policy.",
            remote=ICLOUD,
            in_reply_to="end of DATA",
        ),
        "reader.dmarc@icloud.com",
        {"auth_failure"},
        "5.7.1",
        id="icloud-dmarc",
    ),
    pytest.param(
        postfix(
            "reader.rate@icloud.com",
            "4.7.1",
            "421 4.7.1 Messages to reader.rate@icloud.com deferred due to excessive volume. "
            "Try again later - https://support.apple.com/en-us/HT204137",
            remote=ICLOUD,
            action="failed",
            in_reply_to="end of DATA",
        ),
        "reader.rate@icloud.com",
        {"rate_limited"},
        "4.7.1",
        id="icloud-excessive-volume",
    ),
    pytest.param(
        postfix(
            "reader.dmarc@gmail.com", "5.7.26", GMAIL_DMARC, remote=GMAIL, in_reply_to="end of DATA"
        ),
        "reader.dmarc@gmail.com",
        {"auth_failure"},
        "5.7.26",
        id="gmail-dmarc-policy",
    ),
    pytest.param(
        postfix(
            "reader.tss@yahoo.com",
            "4.7.0",
            "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected "
            "volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
            remote=YAHOO,
            action="failed",
            in_reply_to="MAIL FROM",
        ),
        "reader.tss@yahoo.com",
        {"rate_limited", "bad_reputation"},
        "4.7.0",
        id="yahoo-tss04-expired",
    ),
    pytest.param(
        postfix(
            "reader@outlook.com",
            "5.7.1",
            "550 5.7.1 Unfortunately, messages from [192.0.2.25] weren't sent. Please contact your "
            "Internet service provider since part of their network is on our block list (S3150). "
            "You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors.",
            remote=HOTMAIL,
            in_reply_to="MAIL FROM",
        ),
        "reader@outlook.com",
        {"blocked", "bad_reputation"},
        "5.7.1",
        id="outlook-s3150-block-list",
    ),
    pytest.param(
        postfix(
            "reader.sec@gmail.com", "5.7.0", GMAIL_SECURITY, remote=GMAIL, in_reply_to="end of DATA"
        ),
        "reader.sec@gmail.com",
        {"virus", "security_error", "content_error", "policy"},
        "5.7.0",
        id="gmail-blocked-content-security-issue",
    ),
    pytest.param(
        exchange(
            "reader.ip@contoso.com",
            "5.7.708",
            "550 5.7.708 Access denied, traffic not accepted from this IP.",
        ),
        "reader.ip@contoso.com",
        {"blocked", "bad_reputation"},
        "5.7.708",
        id="office365-5.7.708",
    ),
    pytest.param(
        exim("facebook.user@example.com", "550 5.7.1 Refused due to recipient preferences"),
        "facebook.user@example.com",
        {"filtered", "policy"},
        "5.7.1",
        id="refused-recipient-preferences",
    ),
    pytest.param(
        sns_email(ses_bounce([("gone@example.com", "5.1.1", "smtp; 550 5.1.1 user unknown")])),
        "gone@example.com",
        {"user_unknown"},
        "5.1.1",
        id="ses-permanent-general-by-mail",
    ),
    pytest.param(
        sns_email(
            ses_bounce(
                [("full@example.com", "4.2.2", "smtp; 452 4.2.2 Mailbox full")],
                bounce_type="Transient",
                sub_type="MailboxFull",
            )
        ),
        "full@example.com",
        {"mailbox_full"},
        "4.2.2",
        id="ses-transient-mailbox-full",
    ),
    pytest.param(
        sns_email(
            ses_bounce(
                [("big@example.com", "5.3.4", "smtp; 552 5.3.4 Message too big for system")],
                bounce_type="Transient",
                sub_type="MessageTooLarge",
            )
        ),
        "big@example.com",
        {"too_large"},
        "5.3.4",
        id="ses-transient-too-large",
    ),
    pytest.param(
        lotus_notes("gone@notes.example.com", "User  not listed in public Name & Address Book"),
        "gone@notes.example.com",
        {"user_unknown"},
        "",
        id="lotus-notes-not-in-address-book",
    ),
    pytest.param(
        lotus_notes("gone@notes.example.co.jp", "ディレクトリのリストにありません", "iso-2022-jp"),
        "gone@notes.example.co.jp",
        {"user_unknown"},
        "",
        id="lotus-notes-japanese",
    ),
    pytest.param(
        # Domino puts its Japanese words raw in the DSN field: ISO-2022-JP, no charset said.
        dsn(
            "gone@domino.example.co.jp",
            "5.0.0",
            said="ユーザー Neko (gone@domino.example.co.jp) は Domino ディレクトリには見つかりません。".encode(
                "iso-2022-jp"
            ).decode("ascii"),
        ),
        "gone@domino.example.co.jp",
        {"user_unknown"},
        "5.0.0",
        id="domino-japanese-unlabelled-jis",
    ),
    pytest.param(
        sns_http(ses_bounce([("gone2@example.com", "5.1.1", "smtp; 550 5.1.1 user unknown")])),
        "gone2@example.com",
        {"user_unknown"},
        "5.1.1",
        id="ses-sns-http-json",
    ),
]


@pytest.mark.parametrize("raw, address, reasons, status", FORMAT_CASES)
def test_format(raw, address, reasons, status):
    v = classify(raw)
    named = {f.address.strip().lower(): f for f in v.recipients}
    assert set(named) == {address}, f"recipients should be just {address}\n{describe(v)}"
    f = named[address]
    assert f.reason in reasons, describe(v)
    assert f.kind == REASONS[f.reason] and v.kind == f.kind, describe(v)
    if status:
        assert f.status == status, describe(v)
    assert f.diagnostic.strip(), f"the server's words are lost\n{describe(v)}"


# ---------------------------------------------------------------------------------------------
# The product's rules, over every message above.
# ---------------------------------------------------------------------------------------------

ALL_FAILURES = [p.values[0] for p in REASON_CASES + FORMAT_CASES]
ALL_IDS = [p.id for p in REASON_CASES + FORMAT_CASES]


@pytest.mark.parametrize("raw", ALL_FAILURES, ids=ALL_IDS)
def test_nobody_else_is_named(raw):
    v = classify(raw)
    named = {f.address.strip().lower() for f in v.recipients}
    wrong = {
        a
        for a in named
        if a in NOT_RECIPIENTS
        or a.startswith("bounces+")
        or "mailer-daemon" in a
        or a.startswith("microsoftexchange")
        or a.startswith("unsubscribe+")
        or a == "new.name@example.net"
    }
    assert not wrong, describe(v)
    assert all(f.kind in KINDS and f.reason in REASONS for f in v.recipients), describe(v)


@pytest.mark.parametrize("raw", ALL_FAILURES, ids=ALL_IDS)
def test_temporary_and_full_are_never_hard(raw):
    v = classify(raw)
    for f in v.recipients:
        if f.status.startswith("4") or f.status.endswith(".2.2") or f.reason == "mailbox_full":
            assert f.kind != "hard", describe(v)


SENDER_REASONS = {r for r, k in REASONS.items() if k == "sender"}


@pytest.mark.parametrize(
    "raw, address, reason, status, said", [p for p in REASON_CASES if p.values[2] in SENDER_REASONS]
)
def test_refusals_of_our_mail_are_not_the_subscribers_fault(raw, address, reason, status, said):
    v = classify(raw)
    assert v.kind == "sender", describe(v)
    assert all(f.kind == "sender" for f in v.recipients), describe(v)


@pytest.mark.parametrize(
    "status, said",
    [
        (
            "4.7.0",
            "421 4.7.0 [TSS04] Messages from 192.0.2.25 temporarily deferred due to unexpected volume or user "
            "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        ),
        ("4.2.2", "452 4.2.2 The email account that you tried to reach is over quota."),
        ("4.4.1", "connect to mx.example.net[198.51.100.7]:25: Connection timed out"),
        (
            "4.1.8",
            "450 4.1.8 <bounces@bounces.example.org>: Sender address rejected: Domain not found",
        ),
        (
            "4.1.1",
            "450 4.1.1 <reader@example.com>: Recipient address rejected: unverified address: "
            "host mx.example.net said: 550 5.1.1 User unknown",
        ),
    ],
)
def test_postfix_delay_warnings_are_never_hard(status, said):
    """'THIS IS A WARNING ONLY. YOU DO NOT NEED TO RESEND': still queued, whatever the words say."""
    raw = postfix(
        "reader@example.com",
        status,
        said,
        action="delayed",
        diagnostic_type="X-Postfix" if said.startswith("connect") else "smtp",
    )
    v = classify(raw)
    assert {f.address.lower() for f in v.recipients} <= {"reader@example.com"}, describe(v)
    assert v.kind in ("soft", "sender", "none"), describe(v)
    for f in v.recipients:
        assert f.kind != "hard", describe(v)


def test_exim_delay_warning_is_soft_delayed():
    v = classify(exim_delay("reader@example.net", "451 4.2.0 Mailbox temporarily unavailable"))
    assert v.kind in ("soft", "none"), describe(v)
    assert all(f.kind != "hard" for f in v.recipients), describe(v)
    assert {f.address.lower() for f in v.recipients} <= {"reader@example.net"}, describe(v)


def test_rfc3464_delay_warning():
    v = failed(
        rfc3464(
            "late2@example.com",
            "4.4.7",
            "",
            action="delayed",
            subject="Delivery Status Notification (Delay)",
        ),
        "late2@example.com",
        "delayed",
        status="4.4.7",
    )
    assert v.kind == "soft"


def test_several_recipients_each_get_their_own_reason():
    raw = postfix_many(
        [
            (
                "gone@example.com",
                "5.1.1",
                "550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown",
            ),
            ("full@example.com", "5.2.2", "552 5.2.2 <full@example.com>: Mailbox full"),
            (
                "ours@example.com",
                "5.7.1",
                "554 5.7.1 Service unavailable; Client host [192.0.2.25] blocked using "
                "zen.spamhaus.org",
            ),
        ]
    )
    v = classify(raw)
    named = {f.address.lower(): f for f in v.recipients}
    assert set(named) == {"gone@example.com", "full@example.com", "ours@example.com"}, describe(v)
    assert named["gone@example.com"].reason == "user_unknown", describe(v)
    assert named["full@example.com"].reason == "mailbox_full", describe(v)
    assert named["ours@example.com"].kind == "sender", describe(v)
    assert v.kind == "hard", describe(v)


def test_a_sendmail_session_judges_each_recipient_by_its_own_lines():
    """Sendmail's transcript: one host refused the content at DATA, another had no such user
    at RCPT, a third broke off. Each recipient's verdict is its own "NNN <address>... words"
    line and its own commands, not the lines about the next host."""
    raw = (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>\r\n"
        b"To: <news@example.org>\r\n"
        b"Subject: Returned mail: see transcript for details\r\n\r\n"
        b"   ----- Transcript of session follows -----\r\n"
        b"While talking to mx.example.edu:\r\n"
        b">>> DATA\r\n"
        b"<<< 550 Message refused by content filter\r\n"
        b"554 <ana@example.edu>... Service unavailable\r\n"
        b"While talking to mx.example.net:\r\n"
        b"554 <bo@example.net>... Remote protocol error\r\n"
        b"550 example.com (smtp)... 550 Host unknown\r\n"
        b"554 <cy@example.com>... 550 Host unknown (Authoritative answer from name server)\r\n"
        b"While talking to mx.example.co.jp:\r\n"
        b">>> RCPT To:<di@example.co.jp>\r\n"
        b"<<< 550 Requested User Mailbox not found. No such user here.\r\n"
        b"550 <di@example.co.jp>... User unknown\r\n"
    )
    v = classify(raw)
    named = {f.address: f for f in v.recipients}
    assert named["bo@example.net"].reason == "network_error", describe(v)
    assert named["cy@example.com"].reason == "host_unknown", describe(v)
    # Refused at RCPT, though another recipient's session failed at DATA.
    assert named["di@example.co.jp"].reason == "user_unknown", describe(v)
    assert named["ana@example.edu"].kind != "hard", describe(v)


def test_where_the_refusal_came_is_read_across_a_wrapped_line():
    """Postfix folds its notice, so "(in reply to" and "RCPT TO command)" can stand on two
    lines: a refusal at RCPT of the subscriber's address, not of our sender address."""
    raw = (
        b"From: MAILER-DAEMON@out1.example.org (Mail Delivery System)\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"To: <news@example.org>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\n"
        b"This is the mail system at host out1.example.org.\r\n\r\n"
        b"<gone@mail.example.co.jp>: host mx01.mail.example.co.jp[192.0.2.8] said:\r\n"
        b"    550 5.1.1 Address rejected gone@mail.example.co.jp (in reply to\r\n"
        b"    RCPT TO command)\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; out1.example.org\r\n\r\n"
        b"Final-Recipient: rfc822; gone@mail.example.co.jp\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 Address rejected\r\n"
        b"    gone@mail.example.co.jp\r\n"
        b"--b--\r\n"
    )
    v = classify(raw)
    [failure] = v.recipients
    assert (failure.reason, failure.kind) == ("user_unknown", "hard"), describe(v)


def test_user_unknown_after_data_is_a_filter_unless_the_status_says_the_mailbox():
    """Refused only after DATA, "user unknown" is a content filter's polite lie; with RFC
    3463's x.1.1 (bad destination mailbox) the server says the address itself is dead."""

    def after_data(status: str, code: str = "550") -> bytes:
        return (
            "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>\r\n"
            "Subject: Returned mail: see transcript for details\r\n"
            "To: <news@example.org>\r\n\r\n"
            "   ----- Transcript of session follows -----\r\n"
            "... while talking to mx.example.jp.:\r\n"
            ">>> DATA\r\n"
            f"<<< {code} {status} <gone@example.jp>... User unknown\r\n"
        ).encode()

    assert classify(after_data("5.1.1")).recipients[0].reason == "user_unknown"
    assert classify(after_data("5.0.0")).recipients[0].reason == "filtered"
    # A temporary refusal of the address is still about the address, and only soft.
    [later] = classify(after_data("4.1.1", "450")).recipients
    assert (later.reason, later.kind) == ("user_unknown", "soft"), later


def test_an_addressing_status_after_data_still_speaks_of_the_address():
    """Sendmail's report of a qmail server's "badrcptto" list (the addresses its postmaster
    refuses: gone, or spam traps), its transcript after DATA: Sendmail's own Status, 5.1.3
    (bad destination mailbox address), says the address is refused, not the message."""
    raw = (
        b"From: Mail Delivery Subsystem <mailer-daemon@mta.example.jp>\n"
        b"To: root\nMIME-Version: 1.0\n"
        b"Subject: Postmaster notify: see transcript for details\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        b"--b\n\n"
        b"   ----- The following addresses had permanent fatal errors -----\n"
        b"<gone@bad.example.net>\n"
        b"    (reason: 553 sorry, your envelope recipient is in my badrcptto list (#5.7.1))\n\n"
        b"   ----- Transcript of session follows -----\n"
        b"... while talking to mail.mx.bad.example.net.:\n"
        b">>> DATA\n"
        b"<<< 553 sorry, your envelope recipient is in my badrcptto list (#5.7.1)\n"
        b"550 5.1.1 <gone@bad.example.net>... User unknown\n"
        b"<<< 503 Start afresh from MAIL(#5.5.1)\n\n"
        b"--b\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mta.example.jp\n\n"
        b"Final-Recipient: RFC822; gone@bad.example.net\n"
        b"Action: failed\nStatus: 5.1.3\nRemote-MTA: DNS; mail.mx.bad.example.net\n"
        b"Diagnostic-Code: SMTP; 553 sorry, your envelope recipient is in my badrcptto list"
        b" (#5.7.1)\n\n"
        b"--b--\n"
    )
    [failure] = classify(raw).recipients
    assert (failure.reason, failure.kind) == ("user_unknown", "hard"), failure


def test_recipient_groups_without_blank_lines_between_them_are_read_apart():
    """AOL's reports run the recipients' field groups together; each still begins with
    its Final-Recipient, and each keeps its own status."""
    raw = (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@aol.example>\r\n"
        b"To: <news@example.org>\r\nSubject: Undeliverable\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; omr.aol.example\r\n"
        b"Final-Recipient: rfc822; full@example.jp\r\n"
        b"Action: failed\r\nStatus: 5.2.2\r\n"
        b"Diagnostic-Code: smtp; 550 5.2.2 <full@example.jp>... Mailbox Full\r\n"
        b"Final-Recipient: rfc822; gone@example.jp\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <gone@example.jp>... User Unknown\r\n\r\n"
        b"--b--\r\n"
    )
    v = classify(raw)
    named = {f.address: f for f in v.recipients}
    assert named["full@example.jp"].reason == "mailbox_full", describe(v)
    assert named["gone@example.jp"].reason == "user_unknown", describe(v)


def test_the_quoted_original_names_our_delivery():
    for raw in (
        postfix("a@example.com", "5.1.1", "550 5.1.1 User unknown"),
        exchange("b@contoso.com", "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound"),
        arf("c@example.com"),
    ):
        v = classify(raw)
        assert any(MESSAGE_ID_ADDRESS in m for m in v.message_ids), v.message_ids
        assert all(
            "@" not in f.address or MESSAGE_ID_ADDRESS not in f.address for f in v.recipients
        )


def test_the_verp_return_path_is_where_it_was_delivered():
    v = classify(postfix("a@example.com", "5.1.1", "550 5.1.1 User unknown"))
    assert verp("a@example.com") in [d.lower() for d in v.delivered_to], v.delivered_to
    assert verp("a@example.com") not in {f.address.lower() for f in v.recipients}, describe(v)


# ---------------------------------------------------------------------------------------------
# Complaints, auto-replies, delivery notices, forwards.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, address",
    [
        pytest.param(arf("angry@example.com"), "angry@example.com", id="rfc5965-original-rcpt-to"),
        pytest.param(
            complaint("angry2@example.com"), "angry2@example.com", id="bounce_mail-complaint"
        ),
        pytest.param(arf("angry3@aol.com", user_agent="AOL SComp"), "angry3@aol.com", id="aol-arf"),
        pytest.param(
            arf("angry4@example.com", removal=True), "angry4@example.com", id="arf-removal-too"
        ),
        pytest.param(
            microsoft_complaint("angry@hotmail.com"),
            "angry@hotmail.com",
            id="microsoft-jmrp-via-to",
        ),
        pytest.param(
            microsoft_complaint("angry2@hotmail.com", hm_header=True),
            "angry2@hotmail.com",
            id="microsoft-jmrp-x-hmxmr",
        ),
        pytest.param(
            microsoft_complaint_inline("angry3@hotmail.com"),
            "angry3@hotmail.com",
            id="microsoft-jmrp-inline",
        ),
        pytest.param(
            sns_email(ses_complaint("angry@example.net")), "angry@example.net", id="ses-complaint"
        ),
    ],
)
def test_complaint(raw, address):
    v = classify(raw)
    assert v.kind == "complaint", describe(v)
    assert [f.address.lower() for f in v.recipients] == [address], describe(v)
    assert v.recipients[0].reason == "complaint", describe(v)


def test_arf_without_original_rcpt_to_finds_the_subscriber_in_the_original():
    """RFC 6590 lets a provider leave Original-Rcpt-To out; the attached original still says To."""
    v = classify(arf("quiet@example.com", rcpt_to=False))
    assert v.kind == "complaint", describe(v)
    assert {f.address.lower() for f in v.recipients} == {"quiet@example.com"}, describe(v)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(vacation("away@example.com"), id="vacation"),
        pytest.param(
            vacation(
                "dur@example.ir",
                display_name="مریم رضایی",
                text="با سلام،\nتا ۲۰ ژانویه در مرخصی هستم و به ایمیل دسترسی ندارم.\n",
            ),
            id="persian-vacation",
        ),
        pytest.param(
            vacation(
                "tatsuya@example.jp",
                display_name="山田 達也",
                text="ただいま不在にしております。1月20日以降に返信いたします。\n",
            ),
            id="japanese-vacation",
        ),
        pytest.param(
            vacation(
                "ahmad@example.sa",
                display_name="أحمد",
                text="شكراً لرسالتك. أنا خارج المكتب حتى ٢٠ يناير.\n",
            ),
            id="arabic-vacation",
        ),
        pytest.param(challenge("kept@example.com", "boxbe"), id="boxbe-challenge"),
        pytest.param(challenge("kept@example.com", "spamarrest"), id="spamarrest-challenge"),
        pytest.param(boxbe_report("kept@example.com"), id="boxbe-challenge-as-a-report"),
    ],
)
def test_auto_reply_is_nothing_to_do(raw):
    v = classify(raw)
    assert v.kind == "none", describe(v)
    assert all(f.kind == "none" for f in v.recipients), describe(v)
    assert (v.main.reason if v.main else v.reason) == "auto_reply", describe(v)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            rfc3464(
                "fine@example.com",
                "2.0.0",
                "250 2.0.0 OK 1736847012 ab12si1.1 - gsmtp",
                action="delivered",
                subject="Successful Mail Delivery Report",
            ),
            id="action-delivered",
        ),
        pytest.param(
            rfc3464(
                "fine@example.com",
                "2.0.0",
                "250 2.0.0 Ok: queued as 4Yx1",
                action="relayed",
                subject="Relayed Mail Delivery Report",
            ),
            id="action-relayed",
        ),
        pytest.param(sns_email(ses_delivery("fine@example.com")), id="ses-delivery"),
        pytest.param(sns_http(ses_delivery("fine@example.com")), id="ses-delivery-sns-http"),
        pytest.param(read_receipt("fine@example.com"), id="read-receipt"),
        pytest.param(exchange_relayed_text("fine@example.com"), id="exchange-relayed-in-words"),
    ],
)
def test_delivery_notice_is_nothing_to_do(raw):
    v = classify(raw)
    assert v.kind == "none", describe(v)
    assert all(f.kind == "none" for f in v.recipients), describe(v)
    assert {f.address.lower() for f in v.recipients} <= {"fine@example.com"}, describe(v)
    assert (v.main.reason if v.main else v.reason) == "delivered", describe(v)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(human_reply("fan@example.com"), id="thanks"),
        pytest.param(
            human_reply(
                "nasrin@example.ir",
                display_name="نسرین",
                text="ممنون از خبرنامه. لطفاً مرا از فهرست حذف نکنید.\n",
            ),
            id="persian-reply",
        ),
        pytest.param(
            human_reply(
                "agris@example.lv",
                text="Labdien! Our office has moved: please write to ginta@example.lv from now"
                " on, or to agris.ameriks@example.lv.\n",
            ),
            id="names-addresses",
        ),
    ],
)
def test_a_subscriber_writing_back_is_not_a_bounce(raw):
    v = classify(raw)
    assert v.kind == "none", describe(v)
    assert not [f for f in v.recipients if f.kind != "none"], describe(v)
    assert (v.main.reason if v.main else v.reason) == "not_a_bounce", describe(v)


def test_forwarded_bounce_as_attachment():
    inner = postfix(
        "ex.reader@example.com",
        "5.1.1",
        "550 5.1.1 <ex.reader@example.com>: Recipient address rejected: User unknown",
    )
    v = classify(forwarded(inner))
    named = {f.address.lower() for f in v.recipients}
    assert "colleague@example.com" not in named and "editor@example.org" not in named, describe(v)
    failed(forwarded(inner), "ex.reader@example.com", "user_unknown", status="5.1.1")
    # Forwarded again by the one who got it, or saved and attached as a file of bytes: the
    # file was no message, so the forward did nothing.
    again = forwarded(forwarded(inner), by="boss@example.com")
    failed(again, "ex.reader@example.com", "user_unknown", status="5.1.1")
    failed(forwarded(inner, as_file=True), "ex.reader@example.com", "user_unknown", status="5.1.1")


def test_forwarded_bounce_inline():
    raw = forwarded_inline(
        "ex.reader2@example.com",
        "550 5.1.1 <ex.reader2@example.com>: Recipient address rejected: User unknown",
    )
    v = classify(raw)
    named = {f.address.lower() for f in v.recipients}
    assert "colleague@example.com" not in named and "editor@example.org" not in named, describe(v)
    assert named == {"ex.reader2@example.com"} and v.kind == "hard", describe(v)


# ---------------------------------------------------------------------------------------------
# The reader's name in another script, encoded subjects, 8-bit diagnostics: nothing breaks.
# ---------------------------------------------------------------------------------------------


def test_localized_ndr_subject_and_body():
    raw = postfix(
        "leila@example.ir",
        "5.2.2",
        "552 5.2.2 صندوق پستی پر است (Mailbox full)",
        display_name="لیلا",
    )
    raw = raw.replace(
        b"Subject: Undelivered Mail Returned to Sender",
        b"Subject: =?UTF-8?B?2YbYp9mF2Ycg2KrYrdmI24zZhCDZhti02K8=?=",
    )
    v = failed(raw, "leila@example.ir", "mailbox_full", status="5.2.2", said="صندوق پستی پر است")
    assert v.kind == "soft"


def test_utf8_final_recipient_does_not_crash():
    """RFC 6533: a Final-Recipient of type utf-8."""
    raw = rfc3464("jose@example.com", "5.1.1", "550 5.1.1 Usuario desconocido")
    raw = raw.replace(
        b"Final-Recipient: rfc822; jose@example.com",
        "Final-Recipient: utf-8; josé@exämple.com".encode(),
    )
    v = classify(raw)
    assert v.kind in KINDS
    assert all(f.kind != "soft" or not f.status.startswith("5.1.1") for f in v.recipients), (
        describe(v)
    )


# ---------------------------------------------------------------------------------------------
# The CLI: one JSON object per message.
# ---------------------------------------------------------------------------------------------


def test_cli_classify_json(tmp_path):
    from click.testing import CliRunner

    from newsletter.bounces.cli import bounces

    one = tmp_path / "one.eml"
    one.write_bytes(postfix("ana.silva@gmail.com", "5.1.1", GMAIL_NO_SUCH_USER, remote=GMAIL))
    two = tmp_path / "two.eml"
    two.write_bytes(vacation("away@example.com"))
    result = CliRunner().invoke(bounces, ["classify", str(one), str(two), "--json"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    rows = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert [r["file"] for r in rows] == [str(one), str(two)]
    assert rows[0]["kind"] == "hard" and rows[0]["reason"] == "user_unknown"
    assert rows[0]["recipients"][0]["address"] == "ana.silva@gmail.com"
    assert rows[0]["recipients"][0]["status"] == "5.1.1"
    assert "does not exist" in rows[0]["recipients"][0]["diagnostic"]
    assert set(rows[0]["recipients"][0]) >= {"address", "kind", "reason", "status", "diagnostic"}
    assert rows[1]["kind"] == "none"


# ---------------------------------------------------------------------------------------------
# Properties.
# ---------------------------------------------------------------------------------------------


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw):
    v = classified(raw)
    assert v.kind in KINDS


@pytest.mark.slow
@FAST
@given(st.text(max_size=2000), st.text(max_size=200))
def test_arbitrary_text_never_raises(body, subject):
    raw = (
        "From: someone@example.com\nSubject: "
        + subject.replace("\n", " ").replace("\r", " ")
        + "\nContent-Type: text/plain; charset=utf-8\n\n"
        + body
    ).encode("utf-8", "surrogatepass")
    assert classified(raw).kind in KINDS
    assert classified(body.encode("utf-8", "surrogatepass")).kind in KINDS


@pytest.mark.slow
@FAST
@given(st.text(max_size=1500), st.text(max_size=300))
def test_arbitrary_report_parts_never_raise(text, status_part):
    """A multipart/report whose human and machine parts are anything at all."""
    raw = (
        "From: MAILER-DAEMON@mx.example.net\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        + text
        + "\n--b\nContent-Type: message/delivery-status\n\n"
        + status_part
        + "\n--b--\n"
    ).encode("utf-8", "surrogatepass")
    assert classified(raw).kind in KINDS


# Words that would make a permanent failure of a 5.x.x: in a 4.x.x report they must not.
ALARMING = st.sampled_from(
    [
        "User unknown",
        "mailbox does not exist",
        "The email account that you tried to reach does not exist",
        "Host or domain name not found",
        "no such user",
        "account disabled",
        "Mailbox full",
        "over quota",
        "550 5.1.1 User unknown",
        "Recipient address rejected",
        "",
    ]
)


@pytest.mark.slow
@FAST
@given(
    st.integers(0, 7),
    st.integers(0, 30),
    st.sampled_from(["failed", "delayed"]),
    ALARMING,
    st.text(max_size=120),
    st.sampled_from(["rfc3464", "postfix", "bounce_mail"]),
)
def test_a_4xx_status_is_never_hard(klass, detail, action, alarming, noise, builder):
    status = f"4.{klass}.{detail}"
    said = f"4{klass}{detail % 10} {status} {alarming} {noise}".replace("\r", " ")
    if builder == "rfc3464":
        raw = rfc3464("reader@example.com", status, said, action=action)
    elif builder == "postfix":
        raw = postfix("reader@example.com", status, said, action=action)
    else:
        raw = dsn("reader@example.com", status)
    v = classify(raw)
    assert v.kind != "hard", describe(v)
    assert all(f.kind != "hard" for f in v.recipients), describe(v)


@FAST
@given(st.sampled_from(["4.2.2", "5.2.2"]), ALARMING, st.sampled_from(["failed", "delayed"]))
def test_a_full_mailbox_is_never_hard(status, alarming, action):
    raw = rfc3464(
        "reader@example.com", status, f"552 {status} Mailbox full {alarming}", action=action
    )
    v = classify(raw)
    assert all(f.kind != "hard" for f in v.recipients), describe(v)


def test_a_full_mailbox_rejected_on_delivery_is_a_soft_failure_not_a_receipt():
    """Dovecot rejects mail for a full mailbox with a disposition notification ("deleted",
    by an automatic action) whose words say why: it was read as a read receipt."""
    failed(
        rejected_on_delivery("full@example.net", "Quota exceeded"),
        "full@example.net",
        "mailbox_full",
    )
    # any other reason is the reader's own filter refusing our mail (Sieve's reject)
    refused = classify(rejected_on_delivery("reader@example.net", "Not wanted here."))
    assert [(f.address, f.kind) for f in refused.recipients] == [("reader@example.net", "sender")]
    assert classify(read_receipt("reader@example.net")).kind == "none"


def test_imail_s_rcpt_to_response_is_the_address():
    """IMail: 'RCPT TO generated following response: 553 5.3.0 ... Addressee unknown'. Read
    without its stage, X.3 made it a filter's refusal, and two dead addresses stayed."""
    raw = imail(["gone@example.net", "left@example.net"])
    v = classify(raw)
    assert [(f.address, f.kind, f.reason) for f in v.recipients] == [
        ("gone@example.net", "hard", "user_unknown"),
        ("left@example.net", "hard", "user_unknown"),
    ], describe(v)


def test_mdaemon_s_own_notice_of_an_unknown_user_is_a_bounce():
    """From MDaemon@host, not MAILER-DAEMON: it was taken for a person's letter."""
    failed(mdaemon_local("gone@example.net"), "gone@example.net", "user_unknown")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(netease("gone@example.net", "550 No such user here"), id="netease"),
        pytest.param(
            rfc3464(
                "gone@example.jp",
                "5.1.1",
                "550 5.1.1 sid=a1 Address rejected gone@example.jp. [code=28]",
                text="<gone@example.jp> : 198.51.100.7 : mx.example.jp:[192.0.2.1] : "
                "550 5.1.1 sid=a1 Address rejected gone@example.jp. [code=28]  in RCPT TO\n",
            ),
            id="in-rcpt-to",
        ),
    ],
)
def test_a_server_s_words_for_the_rcpt_stage_make_user_unknown_the_address(raw):
    """NetEase's "RCPT TO said 550 No such user here" and a Japanese provider's "... in RCPT
    TO": the refusal answered RCPT TO, so the address is dead (a bare "Address rejected" is
    otherwise a refusal of our sender)."""
    address = next(f.address for f in classify(raw).recipients)
    failed(raw, address, "user_unknown")


@pytest.mark.parametrize(
    "headline, reason",
    [
        ("example.net suspects your message is spam and rejected it.", "spam"),
        ("Security or policy settings at example.net have rejected your message.", "policy"),
    ],
)
def test_microsoft_365_s_headline_says_why_when_the_reply_does_not(headline, reason):
    """Its NDR without a status part: "550 5.7.1 Message rejected" says nothing Microsoft's
    headline does not; read alone it was a soft failure of no reason, held against the
    reader."""
    raw = microsoft_ndr_text("reader@example.net", headline, "Rejected", "550 5.7.1 Rejected")
    failed(raw, "reader@example.net", reason)


def test_tencent_s_dns_check_of_our_domain_is_a_refusal_of_our_mail():
    said = "550 Domain may not exist or DNS check failed [MGaq IP: 198.51.100.7]."
    failed(postfix("reader@qq.com", "5.0.0", said), "reader@qq.com", "sender_rejected")


@pytest.mark.parametrize(
    ("why", "english", "reason"),
    [
        # "your mail is suspected to be spam and refused": only the Chinese says so
        ("现在您发送的邮件被怀疑为是垃圾邮件，拒绝接收。", "rejected by system", "spam"),
        ("收件人邮箱空间已满，无法接收新邮件。", "rejected by system", "mailbox_full"),
        ("该邮箱已被冻结。", "mailbox unavailable", "mailbox_disabled"),
        ("邮件大小超过了对方的限制。", "rejected by system", "too_large"),
        ("您的发信频率过高，请稍后再试。", "rejected by system", "rate_limited"),
        # its English words, where they say something, come first: a blacklist is only
        # a guess of the template's ("perhaps the other side set up a blacklist or filter")
        (
            "这封邮件被收件人拒绝了，可能是对方设置了黑名单或者过滤器。",
            "550 5.1.1 User unknown",
            "user_unknown",
        ),
    ],
)
@pytest.mark.parametrize("charset", ["gbk", "gb18030", "utf-8"])
def test_coremail_s_reason_in_chinese_is_read_where_its_english_says_nothing(
    why, english, reason, charset
):
    """163.com's bounce of a message it took for spam said in English only "rejected by
    system": a soft failure of no reason, held against the reader."""
    raw = coremail("reader@163.com", why, english, charset=charset)
    failed(raw, "reader@163.com", reason)


def test_coremail_s_remedy_is_not_its_reason():
    """The suggested remedy (建议解决方案) may name anything: "do not send spam"."""
    remedy = "请勿发送垃圾邮件，请检查后再尝试发送。"
    raw = coremail("reader@163.com", "收件人邮箱空间已满。", "rejected by system", remedy=remedy)
    failed(raw, "reader@163.com", "mailbox_full")


def test_spamassassin_s_verdict_behind_a_server_s_words_is_spam():
    said = "550 5.7.1 Spamassassin considers this message SPAM. In case you disagree, write"
    failed(postfix("reader@example.net", "5.7.1", said), "reader@example.net", "spam")


def test_a_report_that_failed_one_and_delayed_another_is_read_by_the_failure():
    """A delay is soft too, but only recorded: the message's reason is the failure's."""
    status_part = delivery_status(
        [
            {"address": "late@example.net", "status": "4.4.7", "action": "delayed"},
            {"address": "full@example.net", "status": "5.2.2", "diagnostic": "552 5.2.2 Quota"},
        ]
    )
    raw = report(
        from_="MAILER-DAEMON@mx.example.net",
        subject="Delivery Status Notification",
        text="Delivery failed for one recipient and is delayed for another.",
        status_part=status_part,
        quoted=original("late@example.net"),
        recipient="late@example.net",
    )
    v = classify(raw)
    assert (v.kind, v.main.reason) == ("soft", "mailbox_full"), describe(v)


# Persian, Arabic, CJK and emoji, as servers and clients write them raw (RFC 6532, 6533).
WORLD_TEXT = st.text(
    st.sampled_from("کاربر ناشناس صندوق پستی عربي 用户不存在 メールボックス 😀🚫"),
    min_size=1,
    max_size=40,
)
# Charset names as declared: real ones, misspelt ones, and junk.
CHARSETS = st.one_of(
    st.sampled_from(["utf-8", "windows-1256", "iso-2022-jp", "gb2312", "unknown-8bit", "utf8mb4"]),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\\r\n'),
        min_size=1,
        max_size=12,
    ),
)


@pytest.mark.slow
@FAST
@given(WORLD_TEXT, CHARSETS)
def test_raw_8bit_text_in_any_field_the_reader_consults_loses_nothing(text, charset):
    """Each header and field a reading looks at, holding raw UTF-8: the report is still read.
    The parser hands such a field back as an object no string method works on, and one of
    them made the whole report unreadable: a dead address kept, a complaint missed."""
    # Noise, not words: a summary saying the mailbox is full keeps a 5.1.1 soft on purpose.
    assume(reason_for_text(text) is None)
    address = "reader@example.org"
    said = f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
    status_part = delivery_status(
        [
            {
                "address": address,
                "status": f"5.1.1 ({text})",
                "diagnostic": said,
                "remote_mta": f"{text}.example",
                "extra": f"X-Note: {text}\n",
            }
        ],
        extra_message_fields=f"X-Comment: {text}\n",
    )
    raw = report(
        from_=f'"{text}" <MAILER-DAEMON@mx.example.net>',
        subject=text,
        text=f"Your message to {address} could not be delivered.\n{text}",
        status_part=status_part,
        quoted=original(address),
        recipient=address,
        headers=f"Organization: {text}\nPrecedence: bulk ({text})\n",
        text_charset=f'"{charset}"',
    )
    raw = raw.replace(
        b"Auto-Submitted: auto-replied", f"Auto-Submitted: auto-replied ({text})".encode()
    )
    raw = raw.replace(
        b"Content-Description: Notification\r\n",
        f'Content-Description: Notification\r\nContent-Disposition: inline; filename="{text}.txt"\r\n'.encode(),
    )
    v = classified(raw)
    assert [(f.address, f.kind, f.reason) for f in v.recipients] == [
        (address, "hard", "user_unknown")
    ], describe(v)


def test_a_complaint_whose_report_part_cannot_be_printed_again_is_read():
    """A feedback loop that pasted the original's head into its report part: a charset the
    part's raw bytes are not in. Printing that part again (to read its fields) failed."""
    address = "reader@example.org"
    raw = arf(address).replace(
        b"Reported-Uri: http://example.org/unsubscribe\r\n",
        b"Reported-Uri: http://example.org/unsubscribe\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n"
        + "خبرنامه \ufffd هفتگی\r\n".encode(),
    )
    v = classified(raw)
    assert (v.kind, [f.address for f in v.recipients]) == ("complaint", [address]), describe(v)


@pytest.mark.slow
def test_a_message_read_is_let_go():
    """What a reading keeps of each part (their walk, their text) dies with the message: a
    bounce server reads for months."""
    import email.policy
    import gc
    import weakref

    from newsletter.bounces import dsn, scan

    raw = postfix("gone@example.net", "5.1.1", "550 5.1.1 <gone@example.net>: User unknown")
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert dsn.fields(msg) and scan.human_text(msg)
    kept = weakref.ref(msg)
    del msg
    gc.collect()
    assert kept() is None


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_an_mbox_is_split_whatever_its_line_endings(ending):
    from newsletter.bounces.reports import split_mbox

    one = postfix("gone@example.net", "5.1.1", "550 5.1.1 <gone@example.net>: User unknown")
    two = postfix("full@example.net", "4.2.2", "452 4.2.2 Mailbox full")
    mbox = b"From MAILER-DAEMON Tue Jan 14 09:30:12 2025\n" + one + b"\n"
    mbox += b"From MAILER-DAEMON Tue Jan 14 09:31:12 2025\n" + two + b"\n"
    mbox = mbox.replace(b"\r\n", b"\n").replace(b"\n", ending.encode())
    verdicts = [classify(message) for message in split_mbox(mbox)]
    assert [(v.recipients[0].address, v.kind) for v in verdicts] == [
        ("gone@example.net", "hard"),
        ("full@example.net", "soft"),
    ]


@pytest.mark.parametrize(
    "bounce_type, sub_type, status, said, reason",
    [
        ("Permanent", "NoEmail", "5.0.0", "smtp; 550 Requested action not taken", "user_unknown"),
        ("Transient", "MailboxFull", "5.0.0", "smtp; 552 Requested action aborted", "mailbox_full"),
        ("Transient", "MessageTooLarge", "5.0.0", "smtp; 552 Message refused", "too_large"),
        ("Transient", "ContentRejected", "5.7.1", "smtp; 550 5.7.1 Rejected", "content_error"),
        ("Transient", "AttachmentRejected", "5.7.1", "smtp; 554 5.7.1 Rejected", "policy"),
    ],
)
def test_amazon_ses_files_the_bounce_under_its_subtype(bounce_type, sub_type, status, said, reason):
    address = "reader@example.net"
    notice = ses_bounce([(address, status, said)], bounce_type=bounce_type, sub_type=sub_type)
    for wrapped in (sns_email(notice), sns_http(notice)):
        failed(wrapped, address, reason)


def test_the_sending_mtas_own_words():
    """What Postfix and Exim write themselves when they give up, with no server's reply."""
    address = "reader@example.net"
    failed(
        postfix(
            address,
            "4.7.0",
            "TLS is required, but was not offered by host mx.example.net[198.51.100.7]",
            diagnostic_type="X-Postfix",
            action="failed",
        ),
        address,
        "security_error",
    )
    failed(
        exim(address, "all relevant MX records point to non-existent hosts"),
        address,
        "host_unknown",
    )


@pytest.mark.parametrize(
    "said, reason, status",
    [
        (
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "user_unknown",
            "5.1.10",
        ),
        (
            "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException",
            "mailbox_full",
            "5.2.2",
        ),
        (
            "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
            "blocked",
            "5.7.708",
        ),
    ],
)
def test_an_outlook_ndr_in_html_alone_is_read_from_its_diagnostic_line(said, reason, status):
    """The server's words sit far below the line that first names the address."""
    failed(outlook_html("reader@contoso.com", said), "reader@contoso.com", reason, status=status)


def test_a_not_spam_report_is_no_complaint():
    """RFC 5965's "not-spam": the reader moved our mail out of the spam folder."""
    v = classify(arf("reader@example.net", feedback_type="not-spam"))
    assert v.kind == "none" and v.reason == "not_a_bounce", describe(v)
    assert {f.kind for f in v.recipients} <= {"none"}, describe(v)


_LOCAL_BOUNCES = {
    "ru": ("<{}>: сервер ответил: 550 Пользователь не найден", ["windows-1251", "koi8-r"]),
    "zh": ("<{}>: 服务器返回: 550 用户不存在", ["gb2312", "gbk"]),
    "ja": ("<{}>: 550 ユーザーが存在しません", ["iso-2022-jp", "shift_jis", "euc-jp"]),
    "fa": ("<{}>: 550 کاربر وجود ندارد", ["utf-8"]),
    "de": ("<{}>: 550 5.1.1 Empfänger unbekannt", ["iso-8859-1"]),
}


@pytest.mark.parametrize(
    "said, charset, encoding",
    [
        pytest.param(said, charset, encoding, id=f"{lang}-{charset}-{encoding}")
        for lang, (said, charsets) in _LOCAL_BOUNCES.items()
        for charset in charsets
        for encoding in ("base64", "quoted-printable", "8bit")
    ],
)
def test_a_bounce_in_a_local_charset_is_read(said, charset, encoding):
    """A text bounce in the server's own language and charset, however it is encoded."""
    import base64
    import quopri

    address = "reader@example.net"
    body = f"Undelivered mail.\n\n{said.format(address)}\n".encode(charset)
    body = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring}.get(
        encoding, lambda b: b
    )(body)
    head = (
        "From: MAILER-DAEMON@mx.example.net\nTo: bounces@bounces.example.org\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {encoding}\n\n"
    )
    v = classify(head.encode() + body)
    named = {f.address: f for f in v.recipients}
    assert set(named) == {address}, describe(v)
    assert named[address].reason == "user_unknown", describe(v)


def test_deutsche_telekom_judges_each_address_by_the_reply_under_it():
    full, gone = "reader1@t-online.de", "reader2@t-online.de"
    verdict = classify(
        telekom(
            [
                (full, f"552 5.2.2 <{full}> Quota exceeded (mailbox for user is full)"),
                (gone, f"550 5.1.1 <{gone}> unknown user"),
            ]
        )
    )
    by_address = {f.address: f for f in verdict.recipients}
    assert set(by_address) == {full, gone}, describe(verdict)
    assert (by_address[full].kind, by_address[full].reason) == ("soft", "mailbox_full")
    assert (by_address[gone].kind, by_address[gone].reason) == ("hard", "user_unknown")
    # the reply ends where the original's headers begin
    assert by_address[gone].diagnostic.endswith("unknown user"), by_address[gone].diagnostic


@pytest.mark.parametrize(
    "said, one_line",
    [
        (
            "550-5.1.1 The account\n550-5.1.1 does not\n550 5.1.1 exist",
            "550-5.1.1 The account does not exist",
        ),
        (
            "550-Please turn on\n550-authentication to\n550 relay",
            "550-Please turn on authentication to relay",
        ),
        # only the code that began the reply is taken for a line's start
        ("552-Message of\n552 550 KB is too big", "552-Message of 550 KB is too big"),
        ("550 5.1.1 user unknown", "550 5.1.1 user unknown"),
    ],
)
def test_a_multi_line_reply_reads_as_one_line(said, one_line):
    assert unfold_reply(said) == one_line


def test_a_forwarders_upstream_error_is_a_system_error_of_the_mailbox_it_forwards_to():
    # Cloudflare Email Routing, given up on after retries (Action: failed with a 4.x.x)
    said = (
        "421 4.3.0 Upstream error, please check\n"
        "https://developers.cloudflare.com/email-routing/postmaster/#error-gateway for\n"
        "possible reasons why."
    )
    raw = postfix("reader@example.net", "4.3.0", said, action="failed", in_reply_to="DATA")
    verdict = failed(raw, "reader@example.net", "system_error", status="4.3.0")
    assert verdict.recipients[0].kind == "soft"


def test_an_address_in_single_quotes_is_read_without_them():
    # Demon Internet's notice for a mailbox nobody collects from, after 30 days
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mailstore.example.net>\r\n"
        b"To: bounces@bounces.example.org\r\n"
        b"Subject: Mail delivery failed\r\n"
        b"Date: Tue, 14 Jan 2025 09:30:12 +0000\r\n\r\n"
        b"This message was created automatically by mail delivery\r\n"
        b"software. A message that you sent could not be delivered\r\n"
        b"to all of its recipients.\r\n\r\n"
        b"The following message, addressed to 'reader@example.net',\r\n"
        b"failed because it has not been collected after 30 days\r\n"
    )
    verdict = failed(raw, "reader@example.net", "expired")
    assert verdict.kind == "soft"


@pytest.mark.parametrize("ip", ["5.1.1.20", "4.79.181.168", "2.16.1.10"])
def test_a_servers_ip_address_is_no_status(ip):
    # Exim names the host it talked to; addresses of 2/8, 4/8 and 5/8 read like RFC 3463 codes
    raw = exim(
        "reader@example.net",
        "421 Service not available, closing transmission channel",
        host=f"mx.example.net [{ip}]",
    )
    verdict = classify(raw)
    [failure] = verdict.recipients
    assert not ip.startswith(failure.status or "-"), describe(verdict)
    assert failure.kind != "hard", describe(verdict)


@pytest.mark.parametrize(
    "builder",
    [
        lambda address, said: postfix(address, "5.1.1", said, in_reply_to="DATA"),
        lambda address, said: exim(address, said, after="RCPT TO"),
        lambda address, said: sendmail(address, said),
    ],
    ids=["postfix", "exim", "sendmail"],
)
@pytest.mark.parametrize(
    "said",
    [
        # Exim (cPanel) calling back our return path, which did not answer as it wished
        f"550-Verification failed for <{verp('reader@example.net')}>\n"
        "550-The mail server could not deliver mail to the address. The account or domain\n"
        "550-may not exist, they may be blacklisted, or missing the proper dns entries.\n"
        "550 Sender verify failed",
        # Postfix's reject_unverified_sender / reject_unknown_sender_domain
        f"450 4.1.7 <{verp('reader@example.net')}>: Sender address rejected: "
        "undeliverable address: host bounces.example.org[192.0.2.9] said: 550 5.1.1 "
        "unknown user (in reply to RCPT TO command)",
    ],
    ids=["exim-callout", "postfix-unverified-sender"],
)
def test_a_failed_check_of_our_return_path_is_not_the_readers_address(builder, said):
    verdict = classify(builder("reader@example.net", said))
    [failure] = [f for f in verdict.recipients if f.address == "reader@example.net"]
    assert (failure.kind, failure.reason) == ("sender", "sender_rejected"), describe(verdict)


@pytest.mark.parametrize(
    "builder",
    [
        lambda address, said: postfix(address, "5.0.0", said, in_reply_to="end of DATA"),
        lambda address, said: exim(address, said, after="end of data"),
        lambda address, said: mail_ru(address, said),
    ],
    ids=["postfix", "exim", "mail.ru"],
)
def test_mail_ru_refuses_unknown_users_after_data_and_says_so(builder):
    # Mail.ru accepts every recipient and refuses the unknown ones at the end of DATA
    address = "reader@mail.ru"
    said = (
        "550 Message was not accepted -- invalid mailbox.  Local mailbox reader@mail.ru is\n"
        "unavailable: user not found"
    )
    verdict = classify(builder(address, said))
    [failure] = verdict.recipients
    assert (failure.kind, failure.reason) == ("hard", "user_unknown"), describe(verdict)


def test_qmail_finds_no_host_by_that_name():
    # qmail-remote's words for a name that does not exist (#5.1.2); its "any host by that
    # name" is a name server that did not answer (temp_dns, #4.1.2), given up on in time, as
    # the example of qmail's own bounce format (QSBMF) shows it
    said = "Sorry, I couldn't find any host named example.net. (#5.1.2)"
    verdict = failed(qmail("reader@example.net", said), "reader@example.net", "host_unknown")
    assert verdict.kind == "hard"
    said = "Sorry, I couldn't find any host by that name. (#4.1.2)"
    verdict = classify(qmail("reader@example.net", said, permanent=False))
    assert [(f.kind, f.reason) for f in verdict.recipients] == [("soft", "host_unknown")]


def test_gmails_plain_notice_of_a_domain_that_does_not_exist():
    text = (
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        f"To: {verp('reader@example.comm')}\n"
        "X-Failed-Recipients: reader@example.comm\n"
        "Subject: Delivery Status Notification (Failure)\n"
        "Date: Tue, 14 Jan 2025 09:30:12 +0000\n"
        "Content-Type: text/plain; charset=ISO-8859-1\n\n"
        "Delivery to the following recipient failed permanently:\n\n"
        "     reader@example.comm\n\n"
        "Technical details of permanent failure: \n"
        "DNS Error: Domain name not found\n\n"
        "----- Original message -----\n\n" + original("reader@example.comm")
    )
    raw = text.replace("\n", "\r\n").encode()
    verdict = failed(raw, "reader@example.comm", "host_unknown")
    assert verdict.kind == "hard"


def test_sendmail_sums_up_a_failed_callback_to_our_return_path_as_user_unknown():
    # Sendmail's report of an Exim (cPanel) callout: only the reply's first line in the
    # Diagnostic-Code, Status 5.1.1, and "User unknown" in Sendmail's own summary line
    ours = verp("reader@example.net")
    text = (
        "   ----- The following addresses had permanent fatal errors -----\n"
        "<reader@example.net>\n"
        f"    (reason: 550-Verification failed for <{ours}>)\n\n"
        "   ----- Transcript of session follows -----\n"
        "... while talking to example.net.:\n"
        ">>> DATA\n"
        f"<<< 550-Verification failed for <{ours}>\n"
        f"<<< 550-The mail server could not deliver mail to {ours}.  The account or domain\n"
        "<<< 550-may not exist, they may be blacklisted, or missing the proper dns entries.\n"
        "<<< 550 Sender verify failed\n"
        "550 5.1.1 <reader@example.net>... User unknown\n"
        "<<< 503-All RCPT commands were rejected with this error:\n"
        "<<< 503-Sender verify failed\n"
        "<<< 503 Valid RCPT command must precede DATA\n"
    )
    raw = rfc3464(
        "reader@example.net",
        "5.1.1",
        f"550-Verification failed for <{ours}>",
        text=text,
        from_="Mail Delivery Subsystem <MAILER-DAEMON@relay.example.org>",
        subject="Returned mail: see transcript for details",
    )
    verdict = classify(raw)
    [failure] = [f for f in verdict.recipients if f.address == "reader@example.net"]
    assert (failure.kind, failure.reason) == ("sender", "sender_rejected"), describe(verdict)


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut by exim"])
def test_exim_names_the_address_we_sent_to_when_it_was_redirected_and_the_copy_cut(cut):
    # Exim returns only the start of a long message (bounce_return_size_limit, 100K by
    # default: a digest with images is over it) and says so under its marker; the original's
    # headers follow. The address that failed is where the reader's forward led.
    raw = exim(
        "reader@example.net",
        "550 5.1.1 <reader.old@elsewhere.example>: No such user",
        routed_to="reader.old@elsewhere.example",
        cut=cut,
    )
    verdict = classify(raw)
    named = {f.address: f for f in verdict.recipients}
    assert "reader@example.net" in named, describe(verdict)
    assert named["reader@example.net"].kind == "hard", describe(verdict)
    assert verdict.message_ids == [MESSAGE_ID], verdict.message_ids


@pytest.mark.parametrize(
    "why",
    [
        "they are not accepting mail with attachments or embedded images",
        f"they are not accepting mail from {SENDER}",
    ],
    ids=["attachments", "our address"],
)
def test_aol_airmail_names_the_screen_name_and_refuses_our_mail(why):
    verdict = classify(aol_airmail("readerscreenname", why))
    assert (verdict.kind, verdict.reason) == ("sender", "filtered"), describe(verdict)
    assert [f.address for f in verdict.recipients] == ["readerscreenname@aol.com"], describe(
        verdict
    )


def test_a_dsn_field_is_an_address_even_where_prose_would_not_be_trusted_with_it():
    # A one-label domain (a local alias) in Final-Recipient; a diagnostic type longer than
    # "smtp" (BorderWare's quarantine server); the daemon's own postmaster in the words.
    said = "maildir delivery failed: error writing message: Disc quota exceeded"
    raw = rfc3464(
        "reader@intranet",
        "4.0.0",
        said,
        action="delayed",
        text=(
            "For further assistance, please send mail to <postmaster@quarantine.example.net>.\n"
            f"Reason:\n<reader@intranet>: {said}\n"
        ),
    ).replace(b"Diagnostic-Code: smtp;", b"Diagnostic-Code: X-BorderWare-Quarantine-Server;")
    verdict = classify(raw)
    assert [f.address for f in verdict.recipients] == ["reader@intranet"], describe(verdict)
    assert verdict.recipients[0].reason == "delayed", describe(verdict)
    assert verdict.recipients[0].diagnostic == said, describe(verdict)


def test_a_daemon_asking_for_mail_to_its_postmaster_does_not_name_the_postmaster():
    text = (
        "This is the mail system at host relay.example.net.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        "For further assistance, please send mail to <postmaster@relay.example.net>.\n\n"
        "<reader@example.net>: host mx.example.net[198.51.100.7] said: 550 5.1.1\n"
        "    <reader@example.net>: Recipient address rejected: User unknown in virtual\n"
        "    mailbox table (in reply to RCPT TO command)\n\n"
        "--- Below this line is a copy of the message.\n\n" + original("reader@example.net")
    )
    raw = text.replace("\n", "\r\n").encode()
    failed(raw, "reader@example.net", "user_unknown")


def test_postfix_local_delivery_not_finding_the_user_is_a_dead_address():
    # local(8) looked the name up itself: no remote server, no SMTP command, status 5.0.0
    raw = postfix(
        "reader@example.net",
        "5.0.0",
        'unknown user: "reader"',
        diagnostic_type="x-postfix",
    )
    failed(raw, "reader@example.net", "user_unknown", status="5.0.0")


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        # Postfix's pipe(8) to a delivery command that found the mailbox full
        (
            "permission denied. Command output: The recipient mailbox has exceeded its\n"
            "disk space limit.",
            "mailbox_full",
        ),
        ("/home/reader/Maildir/tmp/1736847012.M1P2.mx: Disk quota exceeded", "mailbox_full"),
        ('procmail: Couldn\'t create "/var/spool/mail/reader"', "mailer_error"),
    ],
    ids=["full, in the command's words", "full, maildir", "a program that failed"],
)
def test_a_local_delivery_program_says_whether_the_mailbox_is_full(said, reason):
    raw = postfix("reader@example.net", "5.7.0", said, diagnostic_type="x-unix")
    failed(raw, "reader@example.net", reason)


def test_imail_saying_the_mailbox_exceeds_its_allowed_size_is_a_full_mailbox():
    # Ipswitch IMail (X-Mailer: <SMTP32 ...>): the reason and the address on one line
    text = (
        "From: Postmaster <postmaster@mail.example.net>\n"
        f"To: <{verp('reader@example.net')}>\n"
        "Subject: Undeliverable Mail\n"
        "X-Mailer: <SMTP32 v8.22>\n\n"
        "User mailbox exceeds allowed size: reader@example.net\n\n\n"
        "Original message follows.\n\n" + original("reader@example.net")
    )
    failed(text.replace("\n", "\r\n").encode(), "reader@example.net", "mailbox_full")


@pytest.mark.parametrize(
    ("status", "said", "reason"),
    [
        # Polish ISPs (o2.pl, interia.pl): the reply code says syntax, the status the address
        (
            "5.1.3",
            "501 5.1.3 Odbiorca <reader@example.net> nie istnieje / Recipient\n"
            "<reader@example.net> does not exist",
            "user_unknown",
        ),
        ("5.5.4", "501 5.5.4 Invalid command arguments", "syntax_error"),
    ],
    ids=["the status says the address", "a syntax error of ours"],
)
def test_a_501_reply_gives_way_to_a_status_that_says_the_address_is_bad(status, said, reason):
    failed(postfix("reader@example.net", status, said), "reader@example.net", reason)


@pytest.mark.parametrize(
    ("sender", "subject"),
    [
        ("post_master@vtext.example.com", "Re: This week: spring issue"),  # Verizon's SMS gateway
        ("weekly-admin@lists.example.org", "You are not a member of this list"),  # fml
        ("no-reply@notice.example.jp", "メールエラー通知"),  # au one net: "mail error notice"
    ],
    ids=["post_master", "a list's manager", "no-reply"],
)
def test_a_machine_without_a_report_still_names_whom_it_failed(sender, subject):
    text = (
        f"From: {sender}\n"
        f"To: {verp('reader@example.net')}\n"
        f"Subject: {subject}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
        "Error: 550 5.1.1 <reader@example.net>: Recipient address rejected: User unknown\n"
    )
    verdict = classify(text.replace("\n", "\r\n").encode())
    assert [f.address for f in verdict.recipients] == ["reader@example.net"], describe(verdict)


@pytest.mark.parametrize(
    "said",
    [
        "554 5.7.1 <reader@relay.example>: Relay access denied",
        "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
    ],
)
def test_a_domain_whose_own_server_takes_no_mail_for_it_is_a_soft_failure(said):
    # Not a refusal of our mail (which would never count, and would pause the issue in the
    # domain's name): the reader's domain is set up to take mail elsewhere or nowhere, and
    # a domain that stays so is dropped by the decaying score
    verdict = classify(postfix("reader@relay.example", "5.7.1", said))
    assert [(f.reason, f.kind) for f in verdict.recipients] == [("no_relaying", "soft")], describe(
        verdict
    )


def test_an_auto_reply_from_no_address_is_a_servers_answer_not_a_persons():
    # Exim's autoreply transport answering for a name it has no mailbox for: RFC 3834's
    # header, but "From: <>", which no person's mailbox writes from. Words alone, no status
    # and no command: the soft score, not a dead address at once.
    text = (
        "Return-Path: <>\nFrom: <>\n"
        f"To: {verp('reader@example.net')}\n"
        f"In-Reply-To: {MESSAGE_ID}\nAuto-Submitted: auto-replied\nDate: {DATE}\n\n"
        "You sent mail to reader@example.net. That's not a valid user here.\n"
    )
    verdict = classify(text.replace("\n", "\r\n").encode())
    assert [(f.address, f.reason, f.kind) for f in verdict.recipients] == [
        ("reader@example.net", "user_unknown", "soft")
    ], describe(verdict)


def test_a_company_answering_for_a_mailbox_that_is_gone_counts_against_it():
    # A company's autoresponder where a leaver's mailbox was (quoted in getmunin/munin PR
    # #944): no RFC 3834 header, a noreply From, sent to our return path. It was read as a
    # person's letter and did nothing, so the address was mailed for ever; words alone
    # again, so the soft score of the reader the return path names, not a drop at once.
    text = (
        "Return-Path: <noreply.autoresponder.no@example.no>\n"
        "From: noreply.autoresponder_NO_01 <noreply.autoresponder.no@example.no>\n"
        f"To: {verp('k.berg@example.no')}\nSubject: This mailbox is no longer available\n"
        f"Date: {DATE}\nMessage-ID: <auto.4711@mail.example.no>\n\n"
        "Dear Sir or Madam,\n\nWe are sorry, but the email address you have tried to reach"
        " does not exist within our company anymore.\n"
    )
    verdict = classify(text.replace("\n", "\r\n").encode())
    assert (verdict.kind, verdict.recipients) == ("soft", []), describe(verdict)


def test_communigate_refusing_a_message_without_to_is_a_refusal_of_our_mail():
    # CommuniGate Pro's own report: the address in quotes, its verdict under it
    raw = rfc3464(
        "reader@example.lv",
        "5.0.0",
        text="Failed to deliver to '<reader@example.lv>'\n"
        "Messages without To: fields are not accepted here\n",
        from_="MAILER-DAEMON@mx.example.lv",
        subject="Undeliverable mail: This week: spring issue",
    )
    failed(raw, "reader@example.lv", "not_compliant")


def test_a_report_whose_status_says_only_failed_is_read_by_its_words():
    # Status 5.0.0 says nothing more than "failed", no Diagnostic-Code follows, and the
    # words name the local account rather than the address (CommuniGate's local delivery):
    # the report's words are this recipient's, and they say the mailbox is full (soft)
    raw = report(
        from_="MAILER-DAEMON@mx.example.mu",
        subject="Undeliverable mail: This week: spring issue",
        recipient="reader@example.mu",
        text="LOCAL module(account reader) reports:\n account is full (quota exceeded)\n",
        status_part=delivery_status(
            [
                {
                    "original": "<reader@example.mu>",
                    "address": "<reader>",
                    "address_type": "LOCAL",
                    "status": "5.0.0",
                    "action": "failed",
                }
            ],
            reporting_mta="dns; mx.example.mu",
        ),
        quoted=original("reader@example.mu"),
    )
    failed(raw, "reader@example.mu", "mailbox_full")


def test_domino_finding_several_entries_for_the_name_is_its_own_error_not_the_readers():
    said = (
        "Recipient user name info (reader@example.lv) not unique.  Several matches found in"
        " Domino Directory."
    )
    failed(lotus_notes("reader@example.lv", said), "reader@example.lv", "system_error")


def test_a_report_is_read_from_its_start_however_large_the_original_it_returns():
    """A server may return the whole original, attachments and all: what the report says
    comes before it, and reading is bounded (reports.READ_AT_MOST) without changing it."""
    from newsletter.bounces.reports import READ_AT_MOST

    raw = rfc3464("reader@example.net", "5.1.1", "550 5.1.1 <reader@example.net>: unknown")
    end = raw.rindex(b"--7BE5F2A1C3")
    attachment = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n" * (3 * READ_AT_MOST // 37)
    large = raw[:end] + attachment + raw[end:]
    assert len(large) > 3 * READ_AT_MOST

    expected, got = classify(raw), classify(large)
    assert got.recipients == expected.recipients
    assert (got.kind, got.reason) == (expected.kind, expected.reason) == ("hard", "user_unknown")
    assert got.message_ids == expected.message_ids == [MESSAGE_ID]


@pytest.mark.slow
def test_reading_stops_at_its_bound_and_runs_of_blank_lines_count_as_one():
    from newsletter.bounces.reports import READ_AT_MOST

    raw = rfc3464("reader@example.net", "5.1.1", "550 5.1.1 <reader@example.net>: unknown")
    # Ten megabytes of blank lines before the status fields: one blank line, read at once.
    padded = raw.replace(b"Reporting-MTA:", b"\r\n" * 5 * 1024 * 1024 + b"Reporting-MTA:")
    assert classify(padded).recipients == classify(raw).recipients
    # Fields beyond the bound are not read: the report's words before them still are, and
    # without a status they say only that delivery failed (soft, as words alone are).
    pushed = raw.replace(b"Reporting-MTA:", b"X-Note: padding\n" * READ_AT_MOST + b"Reporting-MTA:")
    [failure] = classify(pushed).recipients
    assert (failure.address, failure.status, failure.kind) == ("reader@example.net", "", "soft")


def test_words_that_name_more_addresses_than_a_bounce_would_blame_nobody():
    from newsletter.bounces.scan import MOST_NAMED

    def notice(count: int) -> bytes:
        lines = "".join(f"<user{n}@example.net>: 550 5.1.1 unknown user\n" for n in range(count))
        head = "From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail Returned to Sender\n"
        return f"{head}\nI could not deliver to these recipients:\n\n{lines}".encode()

    assert [f.address for f in classify(notice(3)).recipients] == [
        "user0@example.net",
        "user1@example.net",
        "user2@example.net",
    ]
    assert len(classify(notice(MOST_NAMED)).recipients) == MOST_NAMED
    assert classify(notice(MOST_NAMED + 1)).recipients == []


def test_a_report_naming_more_recipients_than_a_bounce_would_blames_nobody():
    """A report of one of our messages names one recipient; a forged one naming thousands
    would stop mail to them all. Its reason stays, for its own return path's subscriber."""
    from newsletter.bounces.scan import MOST_NAMED

    def dsn_naming(count: int) -> bytes:
        failures = [(f"user{n}@example.net", "5.1.1", "550 5.1.1 unknown") for n in range(count)]
        return postfix_many(failures)

    assert len(classify(dsn_naming(MOST_NAMED)).recipients) == MOST_NAMED
    crowd = classify(dsn_naming(MOST_NAMED + 1))
    assert (crowd.recipients, crowd.kind, crowd.reason) == ([], "hard", "user_unknown")
    single = arf("reader@example.net")
    rcpts = "".join(f"Original-Rcpt-To: <user{n}@example.net>\r\n" for n in range(MOST_NAMED + 1))
    forged = single.replace(b"Original-Rcpt-To: <reader@example.net>\r\n", rcpts.encode())
    assert forged != single
    complaint_of_many = classify(forged)
    assert (complaint_of_many.recipients, complaint_of_many.kind) == ([], "complaint")


FRAGMENTS = ["<script>", "</script>", "<SCRIPT a=1>", "</Script>", "<style", "</style>", "<", ">"]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*FRAGMENTS, "x", " "]), max_size=40))
def test_scripts_and_styles_are_left_out_as_one_pattern_from_tag_to_end_tag_would(pieces):
    import re

    from newsletter.bounces.scan import _without_scripts

    html = "".join(pieces)
    assert _without_scripts(html) == re.sub(r"(?is)<(script|style).*?</\1>", " ", html)


@pytest.mark.slow
def test_parts_nested_past_any_real_report_are_read_as_nothing(caplog):
    inner = "Content-Type: text/plain\n\nreader@example.net: 550 5.1.1 unknown\n"
    for depth in range(2000):
        inner = f'Content-Type: multipart/mixed; boundary="b{depth}"\n\n--b{depth}\n{inner}\n--b{depth}--\n'
    raw = f"From: MAILER-DAEMON@mx.example.net\nMIME-Version: 1.0\n{inner}".encode()
    verdict = classify(raw)
    assert (verdict.recipients, verdict.reason) == ([], "unknown")
    assert "RecursionError" in caplog.text and "Traceback" not in caplog.text


@pytest.mark.slow  # reads in a process of its own, a few seconds of parsing
def test_a_hostile_report_is_read_in_linear_time(tmp_path):
    # A megabyte where a field's address or AOL's reason should be, of blank lines, or of one
    # rule of "=": a pattern that backtracks over every start or every split takes hours on
    # these, and holds the bounce server with it. Read in a process of its own, so that a
    # regression fails here instead of hanging the suite.
    endless = "a" * 1_000_000
    dsn_field = rfc3464("reader@example.net", "5.1.1", "550 5.1.1 unknown").replace(
        b"Final-Recipient: rfc822; reader@example.net",
        b"Final-Recipient: rfc822; " + endless.encode(),
    )
    daemon = "From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail\r\n\r\n"
    # The bounce server's most in a status part, of blocks of fields (each one object to the
    # parser and to every reading after it).
    blocks = rfc3464("reader@example.net", "5.1.1").replace(
        b"Reporting-MTA:", b"a:b\n\n" * 2 * 1024 * 1024 + b"Reporting-MTA:"
    )
    # A bounce's words naming thousands of addresses: each one's failure was judged against
    # all the words again (half a minute for 2,000).
    names = "".join(f"user{n}@example{n % 7}.com\r\n" for n in range(12_000))
    # HTML of tags never closed: a pattern from each to its end tag read on to the end.
    html = "Content-Type: text/html\r\n\r\n" + "<script>" * 30_000 + "<" * 30_000
    hostile = {
        "names.eml": (daemon + names).encode(),
        "tags.eml": (daemon.replace("\r\n\r\n", "\r\n") + html).encode(),
        "field.eml": dsn_field,
        "aol.eml": aol_airmail("readerscreenname", endless),
        "blank-lines.eml": (daemon + "\r\n" * 1_000_000).encode(),
        "one-rule.eml": (daemon + "=" * 1_000_000).encode(),
        "status-blocks.eml": blocks,
    }
    for name, raw in hostile.items():
        (tmp_path / name).write_bytes(raw)
    done = subprocess.run(
        [sys.executable, "-m", "newsletter", "bounces", "classify", "--json", *hostile],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,  # a linear reading takes a few seconds; a quadratic one, hours
    )
    assert done.returncode == 0, done.stderr[-2000:]
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(verdicts) == len(hostile), done.stdout[-2000:]
    assert all(len(v["recipients"]) <= 2 for v in verdicts), verdicts


def test_a_person_answering_or_forwarding_a_bounce_is_not_a_bounce():
    """A bounce's subject after "Re:" or "Fwd:" (in any of the languages mail programs write
    them) is a person's letter about it, which names no failed recipient of ours."""
    for subject in ("Re: Undelivered Mail Returned to Sender", "Fwd: Mail delivery failed",
                    "AW: Returned mail", "پاسخ: Undelivered Mail"):  # fmt: skip
        raw = (
            f"From: Colleague <colleague@example.com>\r\nTo: editor@example.org\r\n"
            f"Subject: {subject}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nDid you see this one bounce?\r\n"
        ).encode()
        v = classify(raw)
        assert (v.kind, v.reason, v.recipients) == ("none", "not_a_bounce", []), subject
