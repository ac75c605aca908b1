"""What a bounce or complaint does: record it against its delivery and act on the reader.

A hard bounce stops mail to the address at once. Soft bounces add one to a score that
halves every NEWSLETTER_BOUNCE_HALF_LIFE days; reaching NEWSLETTER_BOUNCE_THRESHOLD stops
mail too, so a mailbox full for a month of weekly issues is given up, a full day is not.
A complaint unsubscribes the reader from every list. All three suppress the address.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from newsletter.bounces import verp
from newsletter.bounces.reports import Report, read
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Subscriber, utcnow
from newsletter.subscriptions import service

log = logging.getLogger(__name__)

# Our message ids are <delivery id.issue id.random@domain>; the stored one must match whole.
_OUR_MESSAGE_ID = re.compile(r"^<(\d+)\.\d+\.[^@>]+@[^>]+>$")


def take(raw: bytes, envelope_recipients: list[str], source: str) -> list[Bounce]:
    """Read one message and act on it; the caller's transaction is committed here."""
    try:
        report = read(raw)
    except Exception:  # the sender cannot fix what it sent: retrying would not help
        log.exception("an unreadable message was dropped")
        return []
    targets = _targets(report, envelope_recipients)
    if not targets:
        log.info("not a bounce, or about nobody we know: %s", report.detail or "no detail")
    bounces = [
        _apply(person, delivery, kind, report.detail, source) for person, delivery, kind in targets
    ]
    db.session.commit()
    return [b for b in bounces if b is not None]


def _targets(report: Report, envelope_recipients: list[str]):
    """(subscriber, delivery, kind) for each reader the report is about.

    The return path (VERP) says it for sure; then the quoted Message-ID; then the addresses
    the report names, each as the report classes it.
    """
    named = _delivery_by_return_path(envelope_recipients + report.recipients)
    named = named or _delivery_by_message_id(report.message_ids)
    if named is not None and report.kind:
        return [(named.subscriber, named, report.kind)]
    found = []
    if report.complaint:
        by_kind = {"complaint": report.complained}
    else:
        by_kind = {"hard": report.permanent, "soft": report.temporary}
    for kind, addresses in by_kind.items():
        for person in _subscribers(addresses):
            found.append((person, _last_delivery(person), kind))
    return found


def _delivery_by_return_path(addresses: list[str]) -> Delivery | None:
    if not verp.enabled():
        return None
    for address in addresses:
        delivery_id = verp.delivery_id(address)
        if delivery_id is not None:
            return db.session.get(Delivery, delivery_id, options=[joinedload(Delivery.subscriber)])
    return None


def _delivery_by_message_id(message_ids: list[str]) -> Delivery | None:
    for message_id in message_ids:
        match = _OUR_MESSAGE_ID.match(message_id)
        delivery = match and db.session.get(Delivery, int(match.group(1)))
        if delivery and delivery.message_id == message_id:
            return delivery
    return None


def _subscribers(addresses: set[str]) -> list[Subscriber]:
    if not addresses:
        return []
    return list(db.session.scalars(sa.select(Subscriber).where(Subscriber.email.in_(addresses))))


def _last_delivery(person: Subscriber) -> Delivery | None:
    return db.session.scalar(
        sa.select(Delivery)
        .where(Delivery.subscriber_id == person.id, Delivery.status == "sent")
        .order_by(Delivery.sent_at.desc())
        .limit(1)
    )


def _apply(
    person: Subscriber, delivery: Delivery | None, kind: str, detail: str, source: str
) -> Bounce | None:
    delivery_id = delivery.id if delivery else None
    if kind == "soft" and delivery_id and _seen(delivery_id, kind):
        return None  # a server's second "still trying" about one message counts once
    bounce = Bounce(
        subscriber_id=person.id, delivery_id=delivery_id, kind=kind, detail=detail, source=source
    )
    db.session.add(bounce)
    if person.status == "active":
        if kind == "hard":
            service.stop_mail(person, "bounced")
        elif kind == "soft" and add_soft_bounce(person, utcnow()):
            service.stop_mail(person, "bounced")
    if kind == "complaint":
        for subscription in person.subscriptions:
            if subscription.status != "unsubscribed":
                service.mark_unsubscribed(subscription, "complaint")
        service.stop_mail(person, "complained")
    log.info("%s bounce for subscriber %s: %s", kind, person.id, detail)
    return bounce


def _seen(delivery_id: int, kind: str) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count()).where(Bounce.delivery_id == delivery_id, Bounce.kind == kind)
        )
    )


def add_soft_bounce(person: Subscriber, now: datetime) -> bool:
    """Decay the score to now, add one; True when it reached the threshold."""
    config = current_app.config
    score = person.bounce_score or 0.0
    if person.bounce_score_at is not None:
        # Whole days: bounces on one day add up exactly.
        days = max((now - person.bounce_score_at).days, 0)
        score *= 0.5 ** (days / config["BOUNCE_HALF_LIFE"])
    person.bounce_score, person.bounce_score_at = score + 1.0, now
    return person.bounce_score >= config["BOUNCE_THRESHOLD"]
