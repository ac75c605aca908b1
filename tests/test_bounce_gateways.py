"""Refusals as Microsoft 365 and the secure email gateways in front of companies' mailboxes
document them: each reply after the vendor's own list of codes and texts (Exchange Online's
NDR reference; Mimecast's, Proofpoint's, Cisco Secure Email's, Sophos Central Email's, Trend
Micro's, Hornetsecurity's, Broadcom Email Security.cloud's and Google Workspace's refusals).

A gateway refusing *our* mail (SPF, DKIM, a block list, its customer's rules, a rate) must not
count against the reader, and a reply about our own sending quota never either; a gateway
saying the address does not exist stops the reader.
"""

from __future__ import annotations

import pytest
from bounce_samples import classified, exchange, postfix

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
    expected = "hard" if reason == "user_unknown" else "sender"
    assert [(f.address, f.kind, f.reason) for f in verdict.recipients] == [
        (READER, expected, reason)
    ]


@pytest.mark.parametrize(("status", "said", "reason"), GAVE_UP)
def test_a_gateway_s_temporary_refusal_of_our_mail_given_up_on_is_still_ours(status, said, reason):
    raw = postfix(READER, status, said, remote="mx.company.example[198.51.100.9]", action="failed")
    assert [(f.kind, f.reason) for f in classified(raw).recipients] == [("sender", reason)]
