"""What an RFC 3463 enhanced status code says where the words add nothing: each code of the
IANA registry with its sample text, or with a bare "Rejected", at the SMTP stage it belongs to
(RFC 3463, 5248, 4468, 4954, 6531, 7504, 7505, 8617).

A code about our client, our sender or our message refuses our mail; a code about the
reader's own system is a soft failure; only a code about the address is a dead address.
"""

from __future__ import annotations

import pytest
from bounce_samples import postfix, verdicts

READER = "reader@example.net"
RCPT, MAIL, DATA = "RCPT TO", "MAIL FROM", "end of DATA"


@pytest.mark.parametrize(
    ("status", "stage", "said", "kind", "reason"),
    [
        # Our sender's domain has a null MX (RFC 7505; its words: test_bounce_audit.py), or
        # Gmail's bulk senders' SPF: not the reader's domain
        ("5.7.27", MAIL, "550 5.7.27 Rejected", "sender", "auth_failure"),
        # Our client's commands and our message (RFC 3463, 4468, 4954, 6531, 8617)
        ("5.5.1", RCPT, "550 5.5.1 Invalid command", "sender", "syntax_error"),
        ("4.5.1", RCPT, "430 4.5.1 Invalid command", "sender", "syntax_error"),
        (
            "4.5.6",
            MAIL,
            "451 4.5.6 Authentication Exchange line is too long",
            "sender",
            "syntax_error",
        ),
        ("5.6.4", DATA, "550 5.6.4 Conversion with loss performed", "sender", "content_error"),
        ("4.6.6", DATA, "451 4.6.6 Message content not available", "sender", "content_error"),
        ("5.6.10", RCPT, "550 5.6.10 Rejected", "sender", "content_error"),
        (
            "5.7.9",
            MAIL,
            "550 5.7.9 Authentication mechanism is too weak",
            "sender",
            "security_error",
        ),
        ("5.7.29", DATA, "550 5.7.29 ARC validation failure", "sender", "auth_failure"),
        # The reader's own system, not our mail and not a dead address
        ("5.1.4", RCPT, "550 5.1.4 Destination mailbox address ambiguous", "soft", "system_error"),
        ("5.2.4", RCPT, "550 5.2.4 Mailing list expansion problem", "soft", "system_error"),
        ("4.2.4", RCPT, "450 4.2.4 Mailing list expansion problem", "soft", "system_error"),
        ("5.3.2", RCPT, "550 5.3.2 System not accepting network messages", "soft", "system_error"),
        # RFC 7504: 521 is a host that never takes mail
        ("5.3.2", RCPT, "521 5.3.2 Rejected", "hard", "no_mail_accepted"),
    ],
)
def test_a_code_whose_words_add_nothing(status, stage, said, kind, reason):
    action = "failed" if status.startswith("4") else ""
    raw = postfix(READER, status, said, in_reply_to=stage, action=action)
    assert verdicts(raw) == [(READER, kind, reason)]
