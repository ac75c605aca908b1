"""Returned mail that real mail servers wrote, kept byte for byte (tests/data/real_mta/SOURCES.md,
tests/data/real_mta2/SOURCES.md):
Postfix, Exim, OpenSMTPD, Sendmail, dma and nullmailer, each bouncing our newsletter for a
dead address, a full mailbox, a block list, a domain that does not exist, a delay, a success
notice (NOTIFY=SUCCESS) and an SMTPUTF8 address, the reader named as we sent to them.

Judged wrongly before: OpenSMTPD's notice that a message's queue lifetime is over ("Envelope
expired", in its delay template) recorded nothing, and the message was gone; Sendmail's local
mailer's "X-Unix; 550 5.1.1 User unknown" was a mailer error (soft), and its own size limit
("552 5.2.3 Message exceeds maximum fixed size" under a bare 5.0.0) a failure of no reason;
"421 4.7.0 Try again later" to the end of the queue (Postfix, Exim) counted against the reader.
In the second round, Haraka's "550 The Date header is too old" (its headers plugin) and its
refusal of our return path as chasquid's forwarding rewrote it ("Invalid MAIL FROM address")
counted against the reader.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bounce_samples import verdicts

DATA = Path(__file__).parent / "data"
# Two rounds: the second (real_mta2) Courier, chasquid, Haraka, Dovecot and Pigeonhole,
# procmail, maildrop and vacation, and Exim and Postfix in situations the first had not.
SETS = ("real_mta", "real_mta2")
EXPECTED: dict[str, dict[str, list[list[str]]]] = {
    folder: json.loads((DATA / folder / "expected.json").read_text()) for folder in SETS
}
SERVERS = {
    "real_mta": {"postfix", "exim", "opensmtpd", "sendmail", "dma", "nullmailer"},
    "real_mta2": {"postfix", "exim", "courier", "chasquid", "haraka", "dovecot", "vacation"},
}


@pytest.mark.parametrize(
    "folder, name", [(folder, name) for folder in SETS for name in sorted(EXPECTED[folder])]
)
def test_a_real_servers_returned_mail_names_the_reader_and_why(folder, name):
    found = verdicts((DATA / folder / name).read_bytes())
    assert found == [tuple(v) for v in EXPECTED[folder][name]]


@pytest.mark.parametrize("folder", SETS)
def test_every_server_and_every_kind_is_here(folder):
    """Each set keeps each server and each kind a bounce can have (a guard on the data)."""
    servers = {name.split("_")[0] for name in EXPECTED[folder]}
    kinds = {kind for found in EXPECTED[folder].values() for _, kind, _ in found}
    assert servers == SERVERS[folder]
    assert kinds == {"hard", "soft", "sender", "none"}
