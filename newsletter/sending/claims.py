"""Which batch holds which subscribers: a range of an issue's subscriber ids a batch, one
row in `batch_claims`, kept alive by a lease while the batch lives, given back when it is
done or dead.

A batch's rows are the pending ones in its range that were due when it claimed it; the
deliveries themselves are not written until they are sent (a write to each would cost
PostgreSQL a row version and an index entry a delivery). Claims of one issue are made one
at a time (an advisory lock on PostgreSQL, the write lock on SQLite), each range walked
from where the last ended and stopping short of any live claim's, so no two overlap.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime, timedelta

import psycopg
import sqlalchemy as sa
from flask import current_app
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg

from newsletter.extensions import db
from newsletter.models import BatchClaim, Delivery, Issue, Subscriber, Subscription, utcnow
from newsletter.statuses import DeliveryStatus, SubscriberStatus, SubscriptionStatus

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(CLAIM_LOCK, issue id): claims of one issue are made one at a time.
CLAIM_LOCK = 0x4E4C
# Near a send's end a batch still takes this many rows (or its size, if smaller): fewer
# would cost more in claims and task hops than the chains' uneven ends.
SMALLEST_SHARE = 100


def claim_batch(
    issue_id: int,
    size: int,
    after: int = 0,
    variants_only: bool = False,
    smallest: int = SMALLEST_SHARE,
) -> tuple[str, list]:
    """Claim a range holding up to `size` due pending rows (fewer near the send's end, see
    `_share`) and return them with their subscribers; `variants_only` while an A/B test is
    undecided (the rest waits for its winner).

    A chain of batches starts after the subscriber id its last batch ended at: rows sent
    earlier leave dead index entries behind until vacuum, and walking them from the start
    every time would make a large send slower as it goes. Rows left behind (retries, a
    dead batch's) are found by a walk from the start once nothing lies ahead.
    """
    token = secrets.token_hex(16)
    now = utcnow()
    claim = BatchClaim(token=token, issue_id=issue_id, low=0, high=-1, claimed_at=now)
    db.session.add(claim)
    db.session.flush()  # on SQLite, the write lock is taken here, before the walk
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(CLAIM_LOCK, issue_id)))
    held = _held(issue_id, token)
    size = _share(issue_id, held, size, now, not variants_only, smallest)
    found: list[int] = []
    for start in dict.fromkeys((after, 0)):
        found = _walk(issue_id, start, held, size, now, variants_only)
        if found:
            break
    if not found:
        db.session.delete(claim)
        db.session.commit()
        return token, []
    claim.low, claim.high = found[0], found[-1]
    subscribers = _CLAIMED.alone(
        issue_id=issue_id,
        low=claim.low,
        high=claim.high,
        now=now.replace(tzinfo=None),
        everyone=not variants_only,
    )
    # Subscribers who left or were blocked since the send began are not mailed (rare: the
    # delete, with its list of ids, runs only when some claimed row found nobody).
    if len(subscribers) < len(found):
        kept = [row.delivery_id for row in subscribers]
        db.session.execute(
            sa.delete(Delivery)
            .where(*_claimable(issue_id, now, not variants_only))
            .where(Delivery.subscriber_id.between(claim.low, claim.high))
            .where(Delivery.id.not_in(kept))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return token, subscribers


def _held(issue_id: int, but: str = "") -> list[tuple[int, int]]:
    """The ranges live claims hold in an issue, lowest first."""
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(BatchClaim.low, BatchClaim.high)
            .where(BatchClaim.issue_id == issue_id, BatchClaim.token != but)
            .order_by(BatchClaim.low)
        )
    ]


def _share(issue_id, held, size: int, now, everyone: bool, smallest: int) -> int:
    """`size`, or near the end of a send this chain's share of the free due rows left
    (guided self-scheduling): the chains then end together, instead of one sending a whole
    batch alone while the others have nothing left to do. Counted up to what a full batch
    for every chain would take, so the count costs the same whatever the send's size."""
    smallest = min(smallest, size)
    if size == smallest:
        return size
    chains = len(held) + 1
    free = (
        sa.select(sa.literal(1))
        .where(
            *_claimable(issue_id, now, everyone),
            *(sa.not_(Delivery.subscriber_id.between(low, high)) for low, high in held),
        )
        .limit(chains * size)
        .subquery()
    )
    left = db.session.scalar(sa.select(sa.func.count()).select_from(free))
    return max(smallest, min(size, -(-left // chains)))


def pending(issue_id) -> tuple:
    """An issue's rows not sent yet (nor failed for good)."""
    return (Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.PENDING)


def _claimable(issue_id, now, everyone) -> tuple:
    """An issue's pending rows due by `now`; with `everyone` false, only those with an A/B
    variant (the rest waits for the winner). Values or bound parameters alike."""
    return (
        *pending(issue_id),
        sa.or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now),
        sa.or_(everyone, Delivery.variant_id.is_not(None)),
    )


def _walk(
    issue_id: int,
    start: int,
    held: list[tuple[int, int]],
    size: int,
    now: datetime,
    variants_only: bool = False,
) -> list[int]:
    """Subscriber ids of up to `size` due pending rows after `start`, lowest first, all
    between two held ranges: a range claimed from them overlaps none."""
    while True:
        fence = None
        for low, high in held:
            if high <= start:
                continue
            if low <= start:  # a held range covers what follows `start`: go past it
                start = high
                continue
            fence = (low, high)
            break
        query = (
            sa.select(Delivery.subscriber_id)
            .where(
                *_claimable(issue_id, now, not variants_only),
                Delivery.subscriber_id > start,
                Delivery.subscriber_id < fence[0] if fence else sa.true(),
            )
            .order_by(Delivery.subscriber_id)
            .limit(size)
        )
        found = list(db.session.scalars(query))
        if found or fence is None:
            return found
        start = fence[1]


def held_count(issue_id: int) -> int:
    """Pending deliveries in live ranges; the ranges never overlap, so a join counts each once."""
    in_range = sa.and_(
        BatchClaim.issue_id == Delivery.issue_id,
        Delivery.subscriber_id.between(BatchClaim.low, BatchClaim.high),
    )
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .join(BatchClaim, in_range)
        .where(*pending(issue_id))
    )


def commit_if_begun() -> None:
    """Commit the session's transaction, if it has one. A commit with nothing begun still
    costs SQLAlchemy a transaction of its own and expires every object loaded (70 µs and
    more), and the send loop would make two such a window."""
    if db.session().in_transaction():
        db.session.commit()


class Statement:
    """A statement of the send's hot path run as it is on PostgreSQL: rendered once and
    executed by psycopg, whose rows are plain named tuples.
    SQLAlchemy's rows cost several µs each, and a batch reads a thousand. Elsewhere (SQLite)
    SQLAlchemy runs it. No bind processors are applied: its parameters are plain values (a
    time as naive UTC)."""

    def __init__(self, select: sa.Executable):
        self.select = select
        compiled = select.compile(dialect=postgresql_psycopg.dialect())
        self.sql, self.constants = str(compiled), compiled.params

    def alone(self, **params) -> list:
        """Run in a transaction of its own, committed, after the session's is committed."""
        with Autocommit() as connection:
            return connection.run(self, **params)


class Autocommit:
    """A connection of its own on which Statements commit themselves: on PostgreSQL one
    round trip each, with no BEGIN before it and no COMMIT after. A batch holds one for all
    its windows: the pool's checkout and return and a new cursor cost the client more CPU
    than the statement itself (194 against 78 µs on a slow day). Elsewhere (SQLite) the
    session runs them."""

    def __enter__(self) -> Autocommit:
        self.connection = self.cursor = None
        engine = db.session.get_bind()
        if engine.dialect.name == "postgresql":
            self.connection = engine.connect()
            self.driver = self.connection.connection.driver_connection
            self.driver.autocommit = True
            self.cursor = self.driver.cursor(row_factory=namedtuple_row)
        return self

    def run(self, statement: Statement, **params) -> list:
        """The statement's rows, committed, after the session's transaction is committed."""
        commit_if_begun()
        if self.cursor is None:
            rows = db.session.execute(statement.select, params).all()
            db.session.commit()
            return rows
        try:
            self.cursor.execute(statement.sql, {**statement.constants, **params})
            return self.cursor.fetchall()
        except psycopg.Error as exc:
            # Raised as SQLAlchemy raises it, so a lost connection is the OperationalError
            # that the send loop waits out rather than pausing for; a broken connection
            # does not go back to the pool.
            if self.driver.broken:
                self.connection.invalidate(exc)
            raise sa.exc.DBAPIError.instance(statement.sql, params, exc, psycopg.Error) from exc

    def __exit__(self, *exc) -> None:
        if self.connection is None:
            return
        self.cursor.close()
        if not self.connection.invalidated:
            self.driver.autocommit = False
        self.connection.close()


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
        # the time as naive UTC, as the column keeps it, on either database
        *_claimable(
            sa.bindparam("issue_id"),
            sa.bindparam("now", type_=sa.DateTime),
            sa.bindparam("everyone", type_=sa.Boolean),
        ),
        Delivery.subscriber_id.between(sa.bindparam("low"), sa.bindparam("high")),
        # The same range again: PostgreSQL carries equalities across a join, not ranges.
        # Without it, once half an issue was sent, it read all 100,000 subscriptions of the
        # list for each batch: 27 ms, against 3 ms with it.
        Subscription.subscriber_id.between(sa.bindparam("low"), sa.bindparam("high")),
        Subscription.status == SubscriptionStatus.CONFIRMED,
        Subscriber.status == SubscriberStatus.ACTIVE,
    )
    .order_by(Delivery.subscriber_id)
)


def release_claim(token: str) -> None:
    """The batch's range is let go: its rows still pending are anyone's again."""
    db.session.execute(sa.delete(BatchClaim).where(BatchClaim.token == token))
    db.session.commit()


class Lease:
    """Keeps a live batch's claim, and its issue's progress, fresh: a thread renews them every
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
                        sa.update(BatchClaim)
                        .where(BatchClaim.token == self.token)
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
    held = _held(issue_id)
    # Index walks that stop at the first due row, not a scan of every pending one.
    if any(_walk(issue_id, start, held, 1, now) for start in dict.fromkeys((after, 0))):
        return 0.0
    # The few live ranges as plain conditions: an anti-join for each pending row costs more.
    outside = [sa.not_(Delivery.subscriber_id.between(low, high)) for low, high in held]
    later = db.session.scalar(
        sa.select(sa.func.min(Delivery.retry_at)).where(*pending(issue_id), *outside)
    )
    return None if later is None else max(0.0, (later - now).total_seconds())


def release_stale_claims(now: datetime | None = None) -> list[int]:
    """Give back the ranges whose lease ran out (a killed worker, a lost machine); returns
    the issue of each dead batch, once per batch."""
    now = now or utcnow()
    stale = BatchClaim.claimed_at < now - timedelta(seconds=current_app.config["CLAIM_LEASE"])
    # Read, then deleted by token (not DELETE ... RETURNING: older SQLite lacks it).
    dead = db.session.execute(sa.select(BatchClaim.token, BatchClaim.issue_id).where(stale)).all()
    if dead:
        tokens = [token for token, _ in dead]
        # still stale: a lease renewed in between keeps its claim, and its batch is alive
        db.session.execute(sa.delete(BatchClaim).where(stale, BatchClaim.token.in_(tokens)))
        alive = set(
            db.session.scalars(sa.select(BatchClaim.token).where(BatchClaim.token.in_(tokens)))
        )
        dead = [(token, issue_id) for token, issue_id in dead if token not in alive]
    db.session.commit()
    return sorted(issue_id for _, issue_id in dead)
