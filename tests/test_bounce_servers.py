"""Mail servers outside the corpus, their returned mail built after their own source
(tests/data/servers/SOURCES.md): mox, chasquid, ZoneMTA, Stalwart, Apache James, Citadel and
Haraka, each with a dead address, a refusal as spam, a domain that does not exist, a
connection given up on, and its delay warning where it writes one.

Before: a domain that does not exist, in Go's resolver's words (mox, chasquid), ZoneMTA's,
Stalwart's, James's and Citadel's, was a soft failure of no reason, so a typo's domain was
mailed for weeks; Haraka's "Tried all MXs" (no server answered), under its own 5.1.2, dropped
the reader at once as an unknown host.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bounce_samples import verdicts

SERVERS = Path(__file__).parent / "data" / "servers"
EXPECTED: dict[str, list[str]] = json.loads((SERVERS / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_servers_returned_mail_names_the_reader_and_why(name):
    assert verdicts((SERVERS / name).read_bytes()) == [tuple(EXPECTED[name])]
