"""Returned mail of web-hosting companies and control panels, where many of a small
newsroom's readers have their address (tests/data/hosting/SOURCES.md).

Judged wrongly before: Plesk's "This address no longer accepts mail." (its reply to mail for
an address the domain does not have) was a disabled mailbox, and GoDaddy's "Account does not
exist" a failure of no reason: dead addresses mailed for weeks; Plesk's "The limit on the
number of allowed outgoing messages was exceeded" (our relay's limit) counted against the
reader; GoDaddy's "Account storage limit" and cPanel's "Disabled recipient address" were
failures of no reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bounce_samples import verdicts

HOSTING = Path(__file__).parent / "data" / "hosting"
EXPECTED: dict[str, dict] = json.loads((HOSTING / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hosts_returned_mail_names_the_reader_and_why(name):
    want = EXPECTED[name]
    found = verdicts((HOSTING / name).read_bytes())
    if want["recipient"] is None:  # an auto-reply: nobody failed
        assert found == []
    else:
        assert found == [(want["recipient"], want["kind"], want["reason"])]
