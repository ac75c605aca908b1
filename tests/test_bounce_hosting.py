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

import pytest
from bounce_samples import kept_set, named_as_expected

HOSTING, EXPECTED = kept_set("hosting")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hosts_returned_mail_names_the_reader_and_why(name):
    named_as_expected((HOSTING / name).read_bytes(), EXPECTED[name])
