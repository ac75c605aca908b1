"""Refusals as Microsoft 365, the secure email gateways in front of companies' mailboxes and
the big mailbox providers document them: each reply after the vendor's own list of codes and
texts (Exchange Online's NDR reference; Mimecast's, Proofpoint's, Cisco Secure Email's, Sophos
Central Email's, Trend Micro's, Hornetsecurity's, Broadcom Email Security.cloud's and Google
Workspace's refusals; Gmail's, Yahoo's and AOL's, Outlook.com's, Comcast's, GMX's, T-Online's,
Orange's, Naver's and iCloud's error pages), and mail server software's own refusals, as its
source code writes them (Postfix, Exim and cPanel's, qmail's chkuser and qregex, Courier,
Haraka, hMailServer, SmarterMail, CommuniGate Pro, Exchange, Stalwart, Maddy, Rspamd). Last,
the automatic replies of readers' mailboxes in the languages Outlook writes them in, and of
ticket systems: nothing to hold against anyone.

A gateway refusing *our* mail (SPF, DKIM, a block list, its customer's rules, a rate) must not
count against the reader, and a reply about our own sending quota never either; a gateway
saying the address does not exist stops the reader.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import pytest
from bounce_samples import classified, exchange, postfix, verp

from newsletter.bounces.verdict import kind_of

READER = "someone@company.example"

EXCHANGE = [
    # Our SPF, refused in words that begin like a dead address's
    ("5.1.0", "550 5.1.0 Recipient address rejected: SPF Permanent Error", "auth_failure"),
    # Our sending IP restricted for a while, reported once Exchange gave up
    ("4.7.500", "451 4.7.500 Access denied, please try again later", "blocked"),
    ("4.7.850", "451 4.7.850 Access denied, please try again later", "blocked"),
    ("5.7.800", "550 5.7.800 Access denied, banned sender", "blocked"),
    ("5.7.1", "550 5.7.1 Unable To Relay: Blocked by Customer Allow list", "blocked"),
    (
        "5.0.350",
        "550 5.0.350 Requested action not taken: policy violation detected (AS345)",
        "policy",
    ),
    ("5.0.350", "550 5.0.350 x-dg-ref header is too long", "content_error"),
    (
        "5.1.20",
        "550 5.1.20 Multiple From addresses are not allowed without Sender address",
        "not_compliant",
    ),
    # Who may write to a group, a public folder or a tenant: its owner's rules, not the reader
    ("5.7.1", "550 5.7.1 Delivery not authorized", "policy"),
    ("5.7.13", "550 5.7.13 Sender was not authenticated for public folder", "policy"),
    (
        "5.7.193",
        "550 5.7.193 UnifiedGroupAgent; Delivery failed because the sender isn't a group "
        "member or external senders aren't permitted to send to this group.",
        "policy",
    ),
    ("5.7.1", "530 5.7.1 Client was not authenticated", "security_error"),
    # Our own account's quota, as Microsoft 365 words it to a tenant that sends through it
    ("5.2.2", "550 5.2.2 Submission quota exceeded", "rate_limited"),
    (
        "5.0.0",
        "550 5.0.0 The message can't be submitted because the sender's submission quota was "
        "exceeded",
        "rate_limited",
    ),
]

# TLS, DANE and MTA-STS checks the sending side makes of the reader's domain, failed: a
# policy refused to deliver, nothing is said of the address. Never held against the reader,
# they are counted where the refusals of our mail are, so the editors see the domain (as
# Postfix's own "TLS is required, but was not offered" is).
DESTINATION = [
    ("5.7.5", "550 5.7.5 Remote certificate failed MTA-STS validation. Reason: Expired"),
    (
        "5.7.321",
        "550 5.7.321 starttls-not-supported: Destination mail server must support TLS to "
        "receive mail.",
    ),
    (
        "5.7.322",
        "550 5.7.322 certificate-expired: Destination mail server's certificate is expired.",
    ),
    ("5.7.323", "550 5.7.323 tlsa-invalid: The domain failed DANE validation."),
    ("5.7.324", "550 5.7.324 dnssec-invalid: Destination domain returned invalid DNSSEC records"),
    (
        "5.7.325",
        "550 5.7.325 certificate-host-mismatch: Remote certificate MUST have a common name or "
        "subject alternative name matching the hostname (DANE)",
    ),
]

MIMECAST = "us-smtp-inbound-1.mimecast.com[205.139.110.1]"
SOPHOS = "mx-01-eu-west-1.prod.hydra.sophos.com[35.177.90.1]"
GATEWAYS = [
    ("5.0.0", "550 csi.mimecast.org Poor Reputation Sender.", MIMECAST, "bad_reputation"),
    (
        "5.7.1",
        f"550 5.7.1 <{READER}>: Recipient address rejected: User email address is marked as "
        "invalid.",
        "mx1-us1.ppe-hosted.com[67.231.154.1]",
        "user_unknown",
    ),
    (
        "5.7.1",
        "550 #5.7.1 SPF unauthorized mail is prohibited.",
        "mx1.iphmx.com[68.232.129.1]",
        "auth_failure",
    ),
    ("5.7.1", "550 5.7.1 XGEMAIL_0001 Command rejected", SOPHOS, "auth_failure"),  # DKIM
    ("5.7.1", "550 5.7.1 XGEMAIL_0002 Command rejected", SOPHOS, "auth_failure"),  # SPF
    ("5.7.1", "550 5.7.1 XGEMAIL_0003 Command rejected", SOPHOS, "auth_failure"),  # DMARC
    ("5.7.1", "550 5.7.1 XGEMAIL_0004 Command rejected", SOPHOS, "blocked"),  # our IP, an RBL
    ("5.7.1", "550 5.7.1 XGEMAIL_0005 Command rejected", SOPHOS, "blocked"),  # our domain, a DBL
    ("5.7.1", "550 5.7.1 XGEMAIL_0008 Command rejected", SOPHOS, "blocked"),  # admin block list
    ("5.7.1", "550 5.7.1 XGEMAIL_0009 Command rejected", SOPHOS, "blocked"),  # user block list
    ("5.7.1", "550 5.7.1 XGEMAIL_0011 Command rejected", SOPHOS, "user_unknown"),
    ("5.7.1", "550 5.7.1 XGEMAIL_0012 Command rejected", SOPHOS, "too_large"),
    ("5.7.1", "550 5.7.1 XGEMAIL_0013 Command rejected", SOPHOS, "too_large"),
    ("5.7.1", "550 5.7.1 XGEMAIL_0007 Command rejected", SOPHOS, "system_error"),  # licence
    ("5.7.1", "550 5.7.1 XGEMAIL_0010 Command rejected", SOPHOS, "no_relaying"),
    ("5.7.1", "550 5.7.1 XGEMAIL_0015 Command rejected", SOPHOS, "receiving_too_fast"),
    ("5.7.1", "550 5.7.1 XGEMAIL_0014 Command rejected", SOPHOS, "rate_limited"),
    (
        "5.0.0",
        "550 Mail from 192.0.2.25 refused by rbl-plus.mail-abuse.org. Please refer to "
        "http://mail-abuse.org/rbl+ for an explanation",
        "mx.company.example[198.51.100.9]",
        "blocked",
    ),
    (
        "5.7.1",
        f"550 5.7.1 <{READER}>: Recipient address rejected: ERS-RBL.",
        "in.hes.trendmicro.com[150.70.226.1]",
        "blocked",
    ),
    (
        "5.5.4",
        "554 5.5.4 Your IP 192.0.2.25 address has a bad reputation. To unblock visit "
        "http://cloud-security.net/unblock?ip=192.0.2.25",
        "mx01.hornetsecurity.com[94.100.128.1]",
        "bad_reputation",
    ),
    (
        "5.0.0",
        "550 [192.0.2.25] has detected that this message is not RFC 5322",
        "cluster1.eu.messagelabs.com[85.158.136.1]",
        "not_compliant",
    ),
    (
        "5.7.1",
        "550 5.7.1 This message violates example.com email policy. - gcdp 3f2a - gsmtp",
        "aspmx.l.google.com[142.250.1.26]",
        "policy",
    ),
]

# Given up after their retries: what the gateways answered for days.
GAVE_UP = [
    ("4.3.0", "460 too many messages (#4.3.0)", "rate_limited"),
    ("4.0.0", "452 Too many recipients received this hour", "too_many_connections"),
    ("4.7.1", "451 TLS/SSLv3 Connection required. (#4.7.1)", "security_error"),
]


@pytest.mark.parametrize(("status", "said", "reason"), EXCHANGE)
def test_exchange_online_s_refusals_of_our_mail_never_count_against_the_reader(
    status, said, reason
):
    verdict = classified(exchange(READER, status, said))
    assert [(f.address, f.kind, f.reason) for f in verdict.recipients] == [
        (READER, "sender", reason)
    ]


@pytest.mark.parametrize(("status", "said"), DESTINATION)
def test_a_reader_s_domain_that_fails_tls_checks_is_not_held_against_the_reader(status, said):
    [failure] = classified(exchange(READER, status, said)).recipients
    assert failure.kind == "sender"
    assert failure.reason in ("security_error", "auth_failure")


@pytest.mark.parametrize(("status", "said", "remote", "reason"), GATEWAYS)
def test_secure_email_gateways_documented_refusals(status, said, remote, reason):
    verdict = classified(postfix(READER, status, said, remote=remote))
    assert [(f.address, f.kind, f.reason) for f in verdict.recipients] == [
        (READER, kind_of(reason), reason)
    ]


@pytest.mark.parametrize(("status", "said", "reason"), GAVE_UP)
def test_a_gateway_s_temporary_refusal_of_our_mail_given_up_on_is_still_ours(status, said, reason):
    raw = postfix(READER, status, said, remote="mx.company.example[198.51.100.9]", action="failed")
    assert [(f.kind, f.reason) for f in classified(raw).recipients] == [("sender", reason)]


GMAIL = "gmail-smtp-in.l.google.com[142.250.1.26]"
AOL = "mailin-01.mx.aol.com[64.12.88.163]"
OUTLOOK = "outlook-com.olc.protection.outlook.com[52.101.41.1]"
COMCAST = "mx1a1.comcast.net[96.114.157.80]"
PROVIDERS = [
    (
        "a@gmail.com",
        GMAIL,
        "5.7.1",
        "550 5.7.1 This message is likely unsolicited email. To reduce the amount of spam sent "
        "to Gmail, this message has been blocked.",
        "spam",
    ),
    ("a@gmail.com", GMAIL, "5.7.1", "550 5.7.1 This email has been rate limited.", "rate_limited"),
    (
        "a@gmail.com",
        GMAIL,
        "5.7.1",
        "550 5.7.1 The user or domain that you are sending to (or from) has a policy that "
        "prohibits the email that you sent.",
        "policy",
    ),
    # Workspace's SMTP relay refusing our own account: every reader's copy meets it
    (
        "a@company.example",
        "smtp-relay.gmail.com[142.250.1.28]",
        "5.7.0",
        "550 5.7.0 Email relay denied 192.0.2.25. Invalid credentials for relay for one of the "
        "domains in: example.org (as obtained from HELO and (E)MAIL FROM)",
        "sender_rejected",
    ),
    (
        "a@company.example",
        "smtp-relay.gmail.com[142.250.1.28]",
        "5.7.0",
        "550 5.7.0 Email relay denied 192.0.2.25. The sending email account has been "
        "temporarily suspended due to abuse.",
        "sender_rejected",
    ),
    (
        "a@aol.com",
        AOL,
        "5.0.0",
        "554 RLY:B1 http://postmaster.info.aol.com/errors/554rlyb1.html",
        "blocked",
    ),
    (
        "a@aol.com",
        AOL,
        "4.0.0",
        "421 RLY:B3 http://postmaster.info.aol.com/errors/421rlyb3.html",
        "blocked",
    ),
    (
        "a@aol.com",
        AOL,
        "5.0.0",
        "554 RTR:BB http://postmaster.info.aol.com/errors/554rtrbb.html",
        "blocked",
    ),
    (
        "a@aol.com",
        AOL,
        "5.0.0",
        "554 RLY:CH http://postmaster.info.aol.com/errors/554rlych.html",
        "blocked",
    ),
    (
        "a@aol.com",
        AOL,
        "4.0.0",
        "421 DYN:T1 http://postmaster.info.aol.com/errors/421dynt1.html",
        "rate_limited",
    ),
    (
        "a@aol.com",
        AOL,
        "4.0.0",
        "421 DNS:NR http://postmaster.info.aol.com/errors/421dnsnr.html",
        "require_ptr",
    ),
    (
        "a@aol.com",
        AOL,
        "5.0.0",
        "554 HVU:B1 http://postmaster.info.aol.com/errors/554hvub1.html",
        "spam",
    ),
    (
        "a@yahoo.com",
        "mta7.am0.yahoodns.net[67.195.228.94]",
        "4.0.0",
        "421 Message from 192.0.2.25 temporarily deferred - 4.16.50",
        "blocked",
    ),
    (
        "a@outlook.com",
        OUTLOOK,
        "5.0.0",
        "550 SC-002 Mail rejected by Outlook.com for policy reasons. The mail server IP "
        "connecting to Outlook.com server has exhibited namespace mining behavior.",
        "blocked",
    ),
    (
        "a@outlook.com",
        OUTLOOK,
        "5.0.0",
        "550 DY-001 Mail rejected by Windows Live Hotmail for policy reasons. We generally do "
        "not accept email from dynamic IP's as they are not typically used to deliver "
        "unauthenticated SMTP e-mail to an Internet mail server.",
        "blocked",
    ),
    (
        "a@outlook.com",
        OUTLOOK,
        "5.0.0",
        "550 OU-002 Mail rejected by Windows Live Hotmail for policy reasons.",
        "policy",
    ),
    (
        "a@comcast.net",
        COMCAST,
        "4.0.0",
        "421 resimta-h1p-028598.sys.comcast.net 192.0.2.25 rate limited, please see "
        "http://postmaster.comcast.net/smtp-error-codes.php#RL000001",
        "rate_limited",
    ),
    ("a@comcast.net", COMCAST, "4.0.0", "421 - [Too many sessions opened]", "too_many_connections"),
    (
        "a@comcast.net",
        COMCAST,
        "4.0.0",
        "421 - [Reverse DNS failure : Try again later]",
        "require_ptr",
    ),
    (
        "a@gmx.de",
        "mx00.emig.gmx.net[212.227.15.9]",
        "5.0.0",
        "550 <a@gmx.de>: Reject due to SPF policy. The originating IP of the message is not "
        "permitted by the domain owner",
        "auth_failure",
    ),
    (
        "a@gmx.de",
        "mx00.emig.gmx.net[212.227.15.9]",
        "4.0.0",
        "421 Rate limit reached. Please try again later",
        "rate_limited",
    ),
    (
        "a@gmx.de",
        "mx00.emig.gmx.net[212.227.15.9]",
        "4.0.0",
        "421 Reject due to policy violations",
        "policy",
    ),
    (
        "a@t-online.de",
        "mx00.t-online.de[194.25.134.8]",
        "5.0.0",
        "554 Dialup/transient IP not allowed. Use a mailgateway or contact toda@rx.t-online.de "
        "if obsolete. (DIAL)",
        "blocked",
    ),
    (
        "a@orange.fr",
        "smtp-in.orange.fr[80.12.242.9]",
        "4.0.0",
        "421 mwinf5c10 ME Service refuse. Veuillez essayer plus tard. OFR004_201 [201]",
        "blocked",
    ),
    (
        "a@naver.com",
        "mx1.naver.com[125.209.238.100]",
        "4.3.2",
        "421 4.3.2 Your IP(192.0.2.25) is filtered and this connection will be closed. You must "
        "register your IP to http://realip.naver.com",
        "blocked",
    ),
    # Postfix's answer to a client that made too many protocol errors: our session's
    (
        "a@icloud.com",
        "mx01.mail.icloud.com[17.57.154.6]",
        "4.7.0",
        "421 4.7.0 mx01.mail.icloud.com Error: too many errors",
        "too_many_connections",
    ),
]


@pytest.mark.parametrize(("address", "remote", "status", "said", "reason"), PROVIDERS)
def test_mailbox_providers_documented_refusals_of_our_mail(address, remote, status, said, reason):
    """Given up on where the reply was temporary: still a refusal of our mail."""
    raw = postfix(address, status, said, remote=remote, action="failed")
    assert [(f.address, f.kind, f.reason) for f in classified(raw).recipients] == [
        (address, "sender", reason)
    ]


RETURN_PATH = verp(READER)
RCPT, DATA, MAIL = "RCPT TO", "end of DATA", "MAIL FROM"
# (status, stage, reply, kind, reason); a 4xx reply is reported once our server gave up.
SERVERS = [
    # A refusal that would have dropped a live reader (a "#5.1.1" in chkuser's words)
    (
        "5.1.1",
        RCPT,
        "511 sorry, can't find a valid MX for sender domain (#5.1.1 - chkuser)",
        "sender",
        "sender_rejected",
    ),
    (
        "5.1.1",
        RCPT,
        "571 sorry, you are violating our security policies (#5.1.1 - chkuser)",
        "sender",
        "policy",
    ),
    ("5.1.2", RCPT, "550 5.1.2 Relay not allowed.", "soft", "no_relaying"),  # Stalwart
    # Dead addresses
    ("5.0.0", RCPT, '550 Unrouteable mail domain "small.example"', "hard", "host_unknown"),  # Exim
    ("5.0.0", RCPT, "550 Recipient not in route list.", "hard", "user_unknown"),  # hMailServer
    # Refusals of our mail, counted against the reader before
    (
        "5.7.1",
        RCPT,
        "550 5.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.25]",
        "sender",
        "require_ptr",
    ),
    (
        "4.2.0",
        RCPT,
        f"450 4.2.0 <{READER}>: Recipient address rejected: Greylisted",
        "sender",
        "blocked",
    ),
    (
        "4.7.0",
        RCPT,
        "421 4.7.0 mail.small.example Error: too many errors",
        "sender",
        "too_many_connections",
    ),
    ("4.0.0", RCPT, "451 Could not complete sender verify callout", "sender", "sender_rejected"),
    (
        "5.0.0",
        DATA,
        "550 Your message was rejected because it appears to be spam",
        "sender",
        "spam",
    ),
    ("4.0.0", RCPT, "451 Sender rate overlimit - 120.5 / 1h / per_rcpt", "sender", "rate_limited"),
    ("5.0.0", DATA, "550 Mail rejected - spam", "sender", "spam"),  # Courier
    (
        "5.7.1",
        RCPT,
        "571 sorry, sender address has invalid format (#5.7.1 - chkuser)",
        "sender",
        "sender_rejected",
    ),
    (
        "5.7.1",
        RCPT,
        "571 sorry, reached maximum number of recipients for one session (#5.7.1 - chkuser)",
        "sender",
        "too_many_connections",
    ),
    (
        "5.7.1",
        MAIL,
        "553 sorry, your envelope sender has been denied (#5.7.1)",
        "sender",
        "sender_rejected",
    ),
    ("5.7.1", RCPT, "553 sorry, your HELO host name has been denied (#5.7.1)", "sender", "blocked"),
    ("4.3.0", RCPT, "421 too many invalid addresses, goodbye (#4.3.0)", "sender", "blocked"),
    ("4.7.1", RCPT, "452 max rcpt limit exceeded (#5.7.1)", "sender", "too_many_connections"),
    ("5.0.0", MAIL, f"571 sorry, sender <{RETURN_PATH}> rejected", "sender", "sender_rejected"),
    ("5.0.0", MAIL, f"550 sender <{RETURN_PATH}> SPF Fail", "sender", "auth_failure"),  # Haraka
    ("5.0.0", MAIL, f"550 sender <{RETURN_PATH}> SPF SoftFail", "sender", "auth_failure"),
    ("5.0.0", RCPT, "550 very bad karma score: -8", "sender", "bad_reputation"),
    ("5.0.0", DATA, "550 Rejected by DKIM", "sender", "auth_failure"),
    ("5.0.0", MAIL, "550 No MX for your FROM address", "sender", "sender_rejected"),
    (
        "5.0.0",
        RCPT,
        "530 SMTP authentication is required.",
        "sender",
        "security_error",
    ),  # hMailServer
    ("5.0.0", RCPT, "550 Not authorized sender.", "sender", "sender_rejected"),
    ("5.0.0", RCPT, "550 Blocked by SPF.", "sender", "auth_failure"),
    ("5.0.0", RCPT, "550 Rejected by Spamhaus.", "sender", "blocked"),
    ("5.0.0", DATA, "554 Rejected - Message containing bare LF's.", "sender", "not_compliant"),
    ("5.0.0", MAIL, "550 Sender domain failed SPF", "sender", "auth_failure"),  # SmarterMail
    ("5.0.0", RCPT, f"550 <{READER}> Mail delivery restricted", "sender", "policy"),  # CommuniGate
    (
        "5.7.1",
        DATA,
        "550 5.7.1 Sender ID (PRA) Not Permitted",
        "sender",
        "auth_failure",
    ),  # Exchange
    ("4.4.5", RCPT, "452 4.4.5 Rate limit exceeded, try again later.", "sender", "rate_limited"),
    ("4.3.0", RCPT, "451 4.3.0 Too many errors, disconnecting.", "sender", "too_many_connections"),
    (
        "5.7.0",
        RCPT,
        "554 5.7.0 Client identity listed in the used DNSBL",
        "sender",
        "blocked",
    ),  # Maddy
    ("5.7.1", DATA, "554 5.7.1 Spam message rejected", "sender", "spam"),  # Rspamd
    ("5.7.1", DATA, "554 5.7.1 Gtube pattern", "sender", "spam"),
    ("5.7.1", DATA, '554 5.7.1 clamav: virus found: "Eicar-Signature"', "sender", "virus"),
]


@pytest.mark.parametrize(("status", "stage", "said", "kind", "reason"), SERVERS)
def test_mail_server_software_s_own_refusals(status, stage, said, kind, reason):
    action = "failed" if said.startswith("4") else ""
    raw = postfix(
        READER,
        status,
        said,
        remote="mail.small.example[198.51.100.7]",
        in_reply_to=stage,
        action=action,
    )
    assert [(f.address, f.kind, f.reason) for f in classified(raw).recipients] == [
        (READER, kind, reason)
    ]


def answer(subject: str, *, headers: dict | None = None, body: str = "", person=False) -> bytes:
    """A reader's mailbox answering our copy by itself, as Exchange 2010 and many others send
    it: to our return path, "Return-Path: <>", a colleague named, our copy quoted."""
    message = EmailMessage(policy=SMTP)
    if not person:
        message["Return-Path"] = "<>"
    message["From"] = f"Jürgen Müller <{READER}>"
    message["To"] = RETURN_PATH
    message["Subject"] = subject
    message["In-Reply-To"] = "<abc123@mail.example.com>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(
        (body or "Bis 20.01. nicht im Büro. In dringenden Fällen: a.weber@company.example.")
        + "\n\n________________________________\nFrom: Example Weekly <news@example.org>\n"
        f"To: {READER}\nSubject: This week: spring issue\n\n"
        "Write to editor@example.org with questions.\n"
    )
    return message.as_bytes()


def nothing_failed(raw: bytes) -> bool:
    verdict = classified(raw)
    return verdict.kind == "none" and all(f.kind == "none" for f in verdict.recipients)


OUTLOOK_PREFIXES = [
    "Automatische Antwort",
    "Respuesta automática",
    "Risposta automatica",
    "Resposta automática",
    "Automatisch antwoord",
    "Автоматический ответ",
    "Автоматична відповідь",
    "Otomatik yanıt",
    "Automatyczna odpowiedź",
    "Automatiskt svar",
    "Automatisk svar",
    "Automaattinen vastaus",
    "Automatická odpověď",
    "Automatikus válasz",
    "Răspuns automat",
    "Αυτόματη απάντηση",
    "תשובה אוטומטית",
    "ตอบกลับอัตโนมัติ",
    "رد تلقائي",
    "پاسخ خودکار",
    "自动答复",
    "自動回覆",
    "자동 회신",
]


@pytest.mark.parametrize("prefix", OUTLOOK_PREFIXES)
def test_an_out_of_office_reply_in_any_language_outlook_writes_is_nothing(prefix):
    """Before, 19 of these were a soft bounce of the reader, whose out-of-office then dropped
    them after a few weeks of holiday."""
    assert nothing_failed(answer(f"{prefix}: This week: spring issue"))


def test_exchange_s_inbox_rules_say_it_is_an_automatic_reply_in_any_words():
    headers = {
        "Auto-Submitted": "auto-generated",
        "X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent",
        "X-Auto-Response-Suppress": "All",
    }
    assert nothing_failed(answer("Sjálfvirkt svar: This week: spring issue", headers=headers))


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        # Our own subject holds a bounce's words; the answer repeats it
        ("Re: Rejected! Ten ideas we didn't fund", {"Auto-Submitted": "auto-replied"}),
        ("Automatic reply: Delayed trains, and why", {}),
        (
            "[Ticket#2025011410000013] RE: Delayed: the spring issue",
            {"Auto-Submitted": "auto-generated"},
        ),
        (
            "[support #4712] AutoReply: Mail delivery changes at the post office",
            {"Auto-Submitted": "auto-replied"},
        ),
        # Ticket systems' receipts; Domino's out-of-office notice
        ("[Request received] This week: spring issue", {"Auto-Submitted": "auto-generated"}),
        ("Request received: This week: spring issue", {"Auto-Submitted": "auto-generated"}),
        ("Thomas Becker ist außer Haus.", {"Auto-Submitted": "auto-generated"}),
    ],
)
def test_an_answer_that_repeats_our_subject_is_no_bounce(subject, headers):
    assert nothing_failed(answer(subject, headers=headers))


def test_a_person_answering_a_subject_with_a_bounce_s_words_names_nobody():
    assert nothing_failed(answer("Re: Rejected! Ten ideas we didn't fund", person=True))
