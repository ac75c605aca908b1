"""VERP: each issue email's return path names its delivery, and cannot be forged."""

import sqlalchemy as sa
from builders import send_one_batch

from newsletter import verp
from newsletter.extensions import db
from newsletter.models import Delivery, Subscriber


def test_a_return_path_names_its_delivery_and_nothing_else(app):
    app.config["BOUNCE_DOMAIN"] = "bounces.example.org"
    address = verp.return_path(4217)
    assert address.startswith("bounces+4217-") and address.endswith("@bounces.example.org")
    assert verp.delivery_id(address) == 4217
    assert verp.delivery_id(f"<{address.upper()}>") == 4217  # servers may change case
    number = address.split("+", 1)[1].split("-", 1)[0]
    assert verp.delivery_id(address.replace(f"+{number}-", "+4218-")) is None  # another reader
    assert verp.delivery_id(address.replace("@bounces.example.org", "@elsewhere.org")) is None
    assert verp.delivery_id("bounces+4217-0000000000000000@bounces.example.org") is None
    assert verp.delivery_id("someone@example.org") is None
    app.config["SECRET_KEY"] = "another secret"
    assert verp.delivery_id(address) is None


def test_each_subscriber_gets_mail_from_their_own_return_path(app, weekly, inbox):
    app.config["BOUNCE_DOMAIN"] = "bounces.example.org"
    send_one_batch(weekly, 3)
    assert len(inbox.messages) == 3
    for received in inbox.messages:
        delivery = db.session.get(Delivery, verp.delivery_id(received.sender))
        reader = db.session.get(Subscriber, delivery.subscriber_id)
        assert received.recipients == [reader.email]


def test_without_a_bounce_domain_mail_comes_from_the_list(app, weekly, inbox):
    send_one_batch(weekly, 1)
    assert [m.sender for m in inbox.messages] == [weekly.from_email]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1
