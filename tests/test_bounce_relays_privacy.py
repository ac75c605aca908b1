"""Returned mail through privacy relays and forwarders, which privacy-minded readers
subscribe with (tests/data/relays/SOURCES.md): Apple's Hide My Email, SimpleLogin, addy.io,
Forward Email, Fastmail's Masked Email, Firefox Relay, alumni and Pobox forwarding with SRS.

Judged wrongly before: a Hide My Email address its owner turned off ("550 5.7.1 Relay not
permitted for user.", Apple returning mail to it to the sender) was a domain that relays no
mail, soft, so it was mailed for weeks; a report that the next server wrote about the
mailbox a forwarder sent our copy on to named only that hidden mailbox, which is no
subscriber's, and by address (no VERP) blamed nobody: the address we mailed, our copy's one
To, is named now, the hidden one as where it was routed.
"""

from __future__ import annotations

import pytest
from bounce_samples import kept_set, named_as_expected

RELAYS, EXPECTED = kept_set("relays")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_relays_returned_mail_names_the_address_we_mailed(name):
    named_as_expected((RELAYS / name).read_bytes(), EXPECTED[name])
