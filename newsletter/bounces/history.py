"""Bounces and complaints as editors see them: per reader, and per issue."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, Subscriber

KINDS = ("hard", "soft", "complaint")


def for_subscriber(subscriber_id: int, limit: int = 50) -> list:
    """(received_at, kind, detail, source, issue number or None), newest first."""
    return db.session.execute(
        sa.select(Bounce.received_at, Bounce.kind, Bounce.detail, Bounce.source, Issue.number)
        .outerjoin(Delivery, Delivery.id == Bounce.delivery_id)
        .outerjoin(Issue, Issue.id == Delivery.issue_id)
        .where(Bounce.subscriber_id == subscriber_id)
        .order_by(Bounce.id.desc())
        .limit(limit)
    ).all()


def counts_for_issue(issue_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Bounce.kind, sa.func.count())
        .join(Delivery, Delivery.id == Bounce.delivery_id)
        .where(Delivery.issue_id == issue_id)
        .group_by(Bounce.kind)
    ).all()
    found = dict(rows)
    return {kind: found.get(kind, 0) for kind in KINDS}


def for_issue(issue_id: int, limit: int = 500) -> list:
    """(email, kind, detail), by address."""
    return db.session.execute(
        sa.select(Subscriber.email, Bounce.kind, Bounce.detail)
        .join(Delivery, Delivery.id == Bounce.delivery_id)
        .join(Subscriber, Subscriber.id == Bounce.subscriber_id)
        .where(Delivery.issue_id == issue_id)
        .order_by(Subscriber.email, Bounce.id)
        .limit(limit)
    ).all()
