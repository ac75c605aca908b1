"""Returned mail that real mail servers wrote, kept byte for byte (tests/data/real_mta/SOURCES.md):
Postfix, Exim, OpenSMTPD, Sendmail, dma and nullmailer, each bouncing our newsletter for a
dead address, a full mailbox, a block list, a domain that does not exist, a delay, a success
notice (NOTIFY=SUCCESS) and an SMTPUTF8 address, the reader named as we sent to them.

Judged wrongly before: OpenSMTPD's notice that a message's queue lifetime is over ("Envelope
expired", in its delay template) recorded nothing, and the message was gone; Sendmail's local
mailer's "X-Unix; 550 5.1.1 User unknown" was a mailer error (soft), and its own size limit
("552 5.2.3 Message exceeds maximum fixed size" under a bare 5.0.0) a failure of no reason;
"421 4.7.0 Try again later" to the end of the queue (Postfix, Exim) counted against the reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bounce_samples import verdicts

REAL = Path(__file__).parent / "data" / "real_mta"
EXPECTED: dict[str, list[list[str]]] = json.loads((REAL / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_servers_returned_mail_names_the_reader_and_why(name):
    assert verdicts((REAL / name).read_bytes()) == [tuple(v) for v in EXPECTED[name]]


def test_every_server_and_every_kind_is_here():
    """The set keeps each server and each kind a bounce can have (a guard on the data)."""
    servers = {name.split("_")[0] for name in EXPECTED}
    kinds = {kind for found in EXPECTED.values() for _, kind, _ in found}
    assert servers == {"postfix", "exim", "opensmtpd", "sendmail", "dma", "nullmailer"}
    assert kinds == {"hard", "soft", "sender", "none"}
