"""Which batch holds which readers: claimed with SKIP LOCKED, given back when done."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscriber, Subscription, utcnow
from newsletter.statuses import DeliveryStatus, SubscriberStatus, SubscriptionStatus

# Written with every result: the row is no longer held by a batch.
RELEASED = {"claim": None, "claimed_at": None}


def claim_batch(issue_id: int, size: int, after: int = 0) -> tuple[str, list]:
    """Claim up to `size` due pending rows and return them with their readers.

    A chain of batches starts after the subscriber id its last batch ended at: rows sent
    earlier leave dead index entries behind until vacuum, and walking them from the start
    every time would make a large send slower as it goes. Rows left behind (retries, a
    dead batch's) are found by a walk from the start once nothing lies ahead.
    """
    token = secrets.token_hex(16)
    now = utcnow()
    for low in dict.fromkeys((after, 0)):
        due = (
            sa.select(Delivery.id)
            .where(
                Delivery.issue_id == issue_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.subscriber_id > low,
                Delivery.claim.is_(None),
                sa.or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now),
            )
            .order_by(Delivery.subscriber_id)
            .limit(size)
            .with_for_update(skip_locked=True)
        )
        claimed = db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(due.scalar_subquery()))
            .values(claim=token, claimed_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if claimed:
            break
    list_id = sa.select(Issue.list_id).where(Issue.id == issue_id).scalar_subquery()
    readers = db.session.execute(
        sa.select(Delivery.id, Delivery.attempts, Subscriber.id, Subscriber.email, Subscriber.name)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .join(
            Subscription,
            sa.and_(Subscription.subscriber_id == Subscriber.id, Subscription.list_id == list_id),
        )
        .where(
            Delivery.claim == token,
            Subscription.status == SubscriptionStatus.CONFIRMED,
            Subscriber.status == SubscriberStatus.ACTIVE,
        )
        .order_by(Delivery.subscriber_id)
    ).all()
    # Readers who left or were blocked since the send began are not mailed.
    kept = {row[0] for row in readers}
    db.session.execute(sa.delete(Delivery).where(Delivery.claim == token, Delivery.id.not_in(kept)))
    db.session.commit()
    return token, readers


def release_claim(token: str) -> None:
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.claim == token, Delivery.status == DeliveryStatus.PENDING)
        .values(**RELEASED)
    )
    db.session.commit()
