"""Which batch holds which subscribers: claimed with SKIP LOCKED, kept alive by a lease
while the batch lives, given back when it is done or dead."""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg

from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscriber, Subscription, utcnow
from newsletter.statuses import DeliveryStatus, SubscriberStatus, SubscriptionStatus

# Written with every result: the row is no longer held by a batch.
RELEASED = {"claim": None, "claimed_at": None}

logger = logging.getLogger(__name__)


def claim_batch(
    issue_id: int, size: int, after: int = 0, variants_only: bool = False
) -> tuple[str, list]:
    """Claim up to `size` due pending rows and return them with their subscribers;
    `variants_only` while an A/B test is undecided (the rest waits for its winner).

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
                Delivery.variant_id.is_not(None) if variants_only else sa.true(),
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
    subscribers = _CLAIMED.rows(claim=token, issue_id=issue_id)
    # Subscribers who left or were blocked since the send began are not mailed (rare: the
    # delete, with its list of ids, runs only when some claimed row found nobody).
    if len(subscribers) < claimed:
        kept = {row.delivery_id for row in subscribers}
        db.session.execute(
            sa.delete(Delivery).where(Delivery.claim == token, Delivery.id.not_in(kept))
        )
        db.session.commit()
    return token, subscribers


class Statement:
    """A statement of the send's hot path run as it is on PostgreSQL: rendered once and
    executed on the session's own connection by psycopg, whose rows are plain named tuples.
    SQLAlchemy's rows cost several µs each, and a batch reads a thousand. Elsewhere (SQLite)
    SQLAlchemy runs it. No bind processors are applied: its parameters are plain values (a
    time as naive UTC)."""

    def __init__(self, select: sa.Executable):
        self.select = select
        compiled = select.compile(dialect=postgresql_psycopg.dialect())
        self.sql, self.constants = str(compiled), compiled.params

    def rows(self, **params) -> list:
        connection = db.session.connection()
        if connection.dialect.name != "postgresql":
            return connection.execute(self.select, params).all()
        with connection.connection.driver_connection.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(self.sql, {**self.constants, **params})
            return cursor.fetchall()


# A batch's claimed rows with their subscribers, who may have left since the send began.
_CLAIMED = Statement(
    sa.select(
        Delivery.id.label("delivery_id"),
        Delivery.attempts,
        Delivery.variant_id,
        Subscriber.id.label("subscriber_id"),
        Subscriber.email,
        Subscriber.name,
        Subscriber.locale,
        Subscriber.no_tracking,
    )
    .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
    .join(
        Subscription,
        sa.and_(
            Subscription.subscriber_id == Subscriber.id,
            Subscription.list_id
            == sa.select(Issue.list_id)
            .where(Issue.id == sa.bindparam("issue_id"))
            .scalar_subquery(),
        ),
    )
    .where(
        Delivery.claim == sa.bindparam("claim"),
        Subscription.status == SubscriptionStatus.CONFIRMED,
        Subscriber.status == SubscriberStatus.ACTIVE,
    )
    .order_by(Delivery.subscriber_id)
)


def release_claim(token: str) -> None:
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.claim == token, Delivery.status == DeliveryStatus.PENDING)
        .values(**RELEASED)
    )
    db.session.commit()


class Lease:
    """Keeps a live batch's rows, and its issue's progress, fresh: a thread renews them every
    third of CLAIM_LEASE whatever the batch is waiting for (a slow server, the rate limit),
    so the sweeper never takes a live batch's rows, and a dead batch's come back within a
    lease."""

    def __init__(self, token: str, issue_id: int):
        self.every = current_app.config["CLAIM_LEASE"] / 3
        # The thread has no app context: it takes the engine along.
        self.engine = db.engine
        self.token, self.issue_id = token, issue_id
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._renew, name=f"lease-{token[:8]}", daemon=True)

    def __enter__(self) -> Lease:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()

    def _renew(self) -> None:
        while not self.done.wait(self.every):
            try:
                with self.engine.begin() as connection:
                    now = utcnow()
                    connection.execute(
                        sa.update(Delivery)
                        .where(Delivery.claim == self.token)
                        .values(claimed_at=now)
                    )
                    connection.execute(moved(self.issue_id, now))
            except Exception:  # the next renewal tries again; the lease allows for two misses
                logger.warning("could not renew the lease of batch %s", self.token, exc_info=True)


def moved(issue_id: int, until: datetime) -> sa.Update:
    """The issue is known to move until `until`: the stall detector leaves it alone."""
    return (
        sa.update(Issue)
        .where(Issue.id == issue_id, sa.or_(Issue.progress_at.is_(None), Issue.progress_at < until))
        .values(progress_at=until)
    )


def next_due(issue_id: int, after: int = 0) -> float | None:
    """Seconds until a pending subscriber no batch holds is due (0: now), or None if none is.

    It looks after subscriber id `after` first, for the reason claim_batch does."""
    now = utcnow()
    unclaimed = (
        Delivery.issue_id == issue_id,
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.claim.is_(None),
    )
    # An index walk that stops at the first due row, not a scan of every pending one.
    due_now = sa.select(Delivery.id).where(
        *unclaimed, sa.or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now)
    )
    ahead = due_now.where(Delivery.subscriber_id > after)
    if any(db.session.scalar(query.limit(1)) is not None for query in (ahead, due_now)):
        return 0.0
    later = db.session.scalar(sa.select(sa.func.min(Delivery.retry_at)).where(*unclaimed))
    return None if later is None else max(0.0, (later - now).total_seconds())


def release_stale_claims(now: datetime | None = None) -> list[int]:
    """Give back rows whose lease ran out (a killed worker, a lost machine); returns the
    issue of each dead batch, once per batch."""
    now = now or utcnow()
    stale = now - timedelta(seconds=current_app.config["CLAIM_LEASE"])
    # `claim IS NOT NULL` lets this run on the small index of claimed rows, not the ledger.
    held_too_long = (
        Delivery.claim.is_not(None),
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.claimed_at < stale,
    )
    dead = db.session.execute(
        sa.select(Delivery.issue_id, Delivery.claim).where(*held_too_long).distinct()
    ).all()
    if dead:
        claims = [claim for _, claim in dead]
        db.session.execute(
            sa.update(Delivery)
            .where(*held_too_long, Delivery.claim.in_(claims))
            .values(**RELEASED)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return sorted(issue_id for issue_id, _ in dead)
