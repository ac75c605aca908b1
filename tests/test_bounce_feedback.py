"""Feedback loops as providers send them, where the shape says who complained, or that no
reader did (RFC 5965, RFC 9477's example; Validity's redacted reports are in test_bounces.py)."""

from __future__ import annotations

import pytest
from bounce_samples import arf, classified, original, verp

READER = "reader@example.net"


def test_rfc_9477_s_example_attaches_the_original_as_text_rfc822():
    """The CFBL RFC's own example labels the original text/rfc822: its To still names the
    reader, and its Return-Path our return path."""
    verdict = classified(arf(READER, rcpt_to=False, attached="text/rfc822"))
    assert [(f.address, f.kind) for f in verdict.recipients] == [(READER, "complaint")]
    assert verp(READER) in verdict.return_paths


def test_a_virus_report_is_a_verdict_on_our_message_not_a_readers_complaint():
    """RFC 5965's "virus": the receiver found one in our message. The reader said nothing;
    it is a refusal of our mail, never held against them."""
    verdict = classified(arf(READER, feedback_type="virus"))
    assert [(f.address, f.kind, f.reason) for f in verdict.recipients] == [
        (READER, "sender", "virus")
    ]


def test_a_loops_fields_in_base64_are_read():
    """NetEase sends multipart/mixed with the report's fields in base64 (parsedmarc's sample
    "[Netease DMARC Failure Report]"): they were lost, so a DMARC failure report was taken
    for the reader's complaint and unsubscribed them. A complaint so sent is still one."""
    failure = classified(arf(READER, feedback_type="auth-failure", netease=True))
    assert [(f.address, f.kind, f.reason) for f in failure.recipients] == [
        (READER, "sender", "auth_failure")
    ]
    complaint = classified(arf(READER, netease=True))
    assert [(f.address, f.kind) for f in complaint.recipients] == [(READER, "complaint")]


@pytest.mark.parametrize(
    "feedback_type, kind", [("auth-failure", "sender"), ("abuse", "complaint")]
)
def test_a_report_whose_blank_lines_are_spaces_is_read_as_written(feedback_type, kind):
    """IBM Notes writes a blank line as one space (parsedmarc's sample "subject.eml"): the
    report part's fields were read as its headers, its Feedback-Type lost, and a DMARC
    failure report unsubscribed the reader as a complaint."""
    raw = arf(READER, feedback_type=feedback_type).replace(b"\r\n\r\n", b"\r\n \r\n")
    assert [(f.address, f.kind) for f in classified(raw).recipients] == [(READER, kind)]


def test_a_dmarc_failure_report_of_mail_that_was_delivered_is_no_refusal():
    """RFC 6591's Delivery-Result: mail that failed the check and was delivered all the same
    (parsedmarc's LinkedIn sample) counted as a refusal towards holding the reader's domain."""
    delivered = "Auth-Failure: dmarc\nDelivery-Result: delivered\n"
    verdict = classified(arf(READER, feedback_type="auth-failure", more_fields=delivered))
    assert (verdict.kind, verdict.reason) == ("none", "delivered")
    rejected = "Auth-Failure: dmarc\nDelivery-Result: reject\n"
    verdict = classified(arf(READER, feedback_type="auth-failure", more_fields=rejected))
    assert (verdict.kind, verdict.reason) == ("sender", "auth_failure")


def test_a_loops_base64_cut_short_is_read_as_far_as_it_goes():
    """Base64 whose padding a relay cut off raised in the decoder, and the whole report was
    lost (classify logged it): what can be read still names the reader."""
    raw = arf(READER, netease=True).decode()
    start = raw.index("Content-Transfer-Encoding: base64") + len(
        "Content-Transfer-Encoding: base64"
    )
    end = raw.index("\r\n--", start)
    cut = raw[:start] + raw[start:end].rstrip()[:-3] + raw[end:]
    assert [(f.address, f.kind) for f in classified(cut.encode()).recipients] == [
        (READER, "complaint")
    ]


def test_a_fraud_report_is_a_verdict_on_our_message_not_a_readers_complaint():
    """RFC 5965's "fraud" (phishing found in our message), as Stalwart's generator writes it,
    unsubscribed the reader as a complaint does."""
    verdict = classified(arf(READER, feedback_type="fraud"))
    assert [(f.address, f.kind) for f in verdict.recipients] == [(READER, "sender")]


def _written(subject: str, words: str) -> bytes:
    """A person's own message, our issue attached: an abuse desk's, or Roundcube's markasjunk
    plugin sending the reader's spam mark to an abuse address."""
    boundary = "b4711"
    return (
        f"From: Abuse Desk <abuse@isp.example.net>\nTo: abuse@example.org\nSubject: {subject}\n"
        f"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary={boundary}\n\n"
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{words}\n\n"
        f"--{boundary}\nContent-Type: message/rfc822\n\n{original(READER)}\n--{boundary}--\n"
    ).encode()


@pytest.mark.parametrize(
    "subject, words",
    [
        (
            "[ABUSE-4711] Unsolicited email",
            "Our customer reader@example.net reports receiving the attached unsolicited message"
            " from your network and says they never subscribed.",
        ),
        ("Fwd: This week: spring issue", "I never subscribed to this. Stop sending it."),
        ("learn this", "Spam report from Roundcube Webmail"),
    ],
)
def test_a_complaint_in_a_persons_words_with_our_issue_attached_is_a_complaint(subject, words):
    verdict = classified(_written(subject, words))
    assert verdict.kind == "complaint"
    assert verp(READER) in verdict.return_paths


def test_a_person_who_took_our_issue_out_of_spam_is_no_complaint():
    verdict = classified(_written("FYI", "I marked it as not spam, it is fine."))
    assert verdict.kind == "none"
