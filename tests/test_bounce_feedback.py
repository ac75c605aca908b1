"""Feedback loops as providers send them, where the shape says who complained, or that no
reader did (RFC 5965, RFC 9477's example; Validity's redacted reports are in test_bounces.py)."""

from __future__ import annotations

from bounce_samples import arf, classified, verp

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
