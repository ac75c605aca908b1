"""Real-world bounces and complaints through `bounces serve`: which readers each one stops.

The samples (tests/data/bounces, sources in expected.json) are the anonymised ones flufl.bounce
and Mailman test with, plus feedback-loop reports; none carries our VERP address, so the
addresses the report names are all there is to go on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bounce_mail import BOUNCE_DOMAIN
from test_bounces import deliver, reader

from newsletter import suppression
from newsletter.extensions import db
from newsletter.models import Subscriber, Subscription

SAMPLES = Path(__file__).parent / "data" / "bounces"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())
BYSTANDER = "bystander@example.com"


def addresses(expected: dict) -> list[str]:
    return [a for kind in ("permanent", "temporary", "complaint") for a in expected.get(kind, [])]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_bounce_stops_the_reader_it_names(app, weekly, bounce_server, name):
    expected = EXPECTED[name]
    for email in [*addresses(expected), BYSTANDER]:
        person = Subscriber(email=email, attributes={})
        person.subscriptions.append(Subscription(list_id=weekly.id, status="confirmed"))
        db.session.add(person)
    db.session.commit()

    deliver(bounce_server(), (SAMPLES / name).read_bytes(), to=f"bounces@{BOUNCE_DOMAIN}")

    for email in expected.get("permanent", []):
        assert reader(email).status == "bounced", email
        assert suppression.reason(email) == "bounced"
    for email in expected.get("temporary", []):
        person = reader(email)
        assert person.status == "active" and person.bounce_score == 1.0, email
    for email in expected.get("complaint", []):
        person = reader(email)
        assert person.status == "complained", email
        assert [s.status for s in person.subscriptions] == ["unsubscribed"]
    assert reader(BYSTANDER).status == "active" and reader(BYSTANDER).bounce_score == 0
