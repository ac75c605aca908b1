"""Real-world bounces and complaints through `bounces serve`: what each does to its readers.

The samples (tests/data/bounces, sources in expected.json) are the anonymised ones flufl.bounce
and Mailman test with, plus feedback-loop reports; none carries our VERP address, so the
addresses the report names are all there is to go on. The addresses are flufl.bounce's; what
each failure means ("why") was judged by hand from the server's words, by the rule that only
a dead address stops mail at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bounce_mail import BOUNCE_DOMAIN
from builders import confirmed_subscriber, deliver, stored_subscriber

from newsletter import suppression
from newsletter.extensions import db

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).parent / "data" / "bounces"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())
BYSTANDER = "bystander@example.com"


KINDS = ("hard", "soft", "delayed", "sender", "complaint")


def addresses(expected: dict) -> list[str]:
    return [a for kind in KINDS for a in expected.get(kind, [])]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_bounce_does_what_its_reason_says(app, weekly, bounce_server, name):
    expected = EXPECTED[name]
    app.config["BOUNCES_BY_ADDRESS"] = True  # as where bounces reach a mailbox without VERP
    for email in [*addresses(expected), BYSTANDER]:
        person = confirmed_subscriber(weekly, email, commit=False)
    db.session.commit()

    deliver(bounce_server(), (SAMPLES / name).read_bytes(), to=f"bounces@{BOUNCE_DOMAIN}")

    for email in expected.get("hard", []):
        assert stored_subscriber(email).status == "bounced", email
        assert suppression.reason(email) == "bounced"
    for kind, score in (("soft", 1.0), ("delayed", 0), ("sender", 0)):
        for email in expected.get(kind, []):
            person = stored_subscriber(email)
            assert (person.status, person.bounce_score) == ("active", score), (kind, email)
            assert suppression.reason(email) is None
    for email in expected.get("complaint", []):
        person = stored_subscriber(email)
        assert person.status == "complained", email
        assert [s.status for s in person.subscriptions] == ["unsubscribed"]
    assert (
        stored_subscriber(BYSTANDER).status == "active"
        and stored_subscriber(BYSTANDER).bounce_score == 0
    )
