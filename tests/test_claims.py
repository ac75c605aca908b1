"""Range claims: whatever is pending, held or due, a claim takes only free rows, never
overlaps a live one, and leaves no free due row unclaimable."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import add_subscribers, draft, start_sending
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.extensions import db
from newsletter.models import BatchClaim, Delivery, Subscriber, Subscription
from newsletter.sending import claims

READERS = 24


@pytest.fixture
def issue(app, weekly):
    add_subscribers(weekly, READERS)
    issue = draft(weekly)
    start_sending(issue)
    return issue


def _ids(issue) -> list[int]:
    query = sa.select(Delivery.subscriber_id).where(Delivery.issue_id == issue.id)
    return sorted(db.session.scalars(query))


# Per row: 0 pending and due, 1 sent, 2 pending but due later.
STATES = st.lists(st.sampled_from([0, 0, 0, 1, 2]), min_size=READERS, max_size=READERS)
# Held ranges as cut points over the rows, made disjoint by sorting.
CUTS = st.lists(st.integers(0, READERS - 1), max_size=6, unique=True)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(states=STATES, cuts=CUTS, after=st.integers(0, READERS), size=st.integers(1, 8))
def test_a_claim_takes_free_due_rows_and_overlaps_no_live_claim(issue, states, cuts, after, size):
    ids = _ids(issue)
    later = datetime.now(UTC) + timedelta(hours=1)
    db.session.execute(sa.delete(BatchClaim))
    for subscriber_id, state in zip(ids, states, strict=True):
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.issue_id == issue.id, Delivery.subscriber_id == subscriber_id)
            .values(
                status="sent" if state == 1 else "pending",
                retry_at=later if state == 2 else None,
            )
        )
    cuts = sorted(cuts)
    held = [(ids[a], ids[b]) for a, b in zip(cuts[::2], cuts[1::2], strict=False)]
    for n, (low, high) in enumerate(held):
        db.session.add(
            BatchClaim(
                token=f"held{n}",
                issue_id=issue.id,
                low=low,
                high=high,
                claimed_at=datetime.now(UTC),
            )
        )
    db.session.commit()
    start = ids[after - 1] if after else 0
    free = [
        subscriber_id
        for subscriber_id, state in zip(ids, states, strict=True)
        if state == 0 and not any(low <= subscriber_id <= high for low, high in held)
    ]

    token, rows = claims.claim_batch(issue.id, size, start)

    got = [row.subscriber_id for row in rows]
    assert got == sorted(got) and len(got) <= size
    assert set(got) <= set(free)
    if got:
        claim = db.session.get(BatchClaim, token)
        assert (claim.low, claim.high) == (got[0], got[-1])
        assert not any(low <= claim.high and claim.low <= high for low, high in held)
        # From where it was asked to start, unless nothing was free there.
        ahead = [s for s in free if s > start]
        assert got[0] == (ahead or free)[0]
    else:
        assert free == [] and db.session.get(BatchClaim, token) is None


def test_claims_made_at_once_never_share_a_row(app, issue):
    """Batches of several workers claim at the same moment: each row is one batch's."""
    results, errors = [], []

    def claim():
        with app.app_context():
            try:
                results.append([row.subscriber_id for row in claims.claim_batch(issue.id, 5)[1]])
            except Exception as exc:  # reported below, with the rest
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    taken = [subscriber_id for rows in results for subscriber_id in rows]
    assert len(taken) == len(set(taken)) == READERS  # 24 rows, five a claim: 5+5+5+5+4+0


def test_near_the_end_each_chain_takes_its_share_of_what_is_left(app, issue):
    """Guided sizes: with rows for fewer than a full batch a chain, each claim takes its
    share of the free rows (never fewer than `smallest`), so the chains end together."""
    sizes = []
    while rows := claims.claim_batch(issue.id, 8, smallest=2)[1]:
        sizes.append(len(rows))
    # 24 rows: the first two claims find a full batch for each live chain; the third, 8
    # free rows among 3 chains; then 5 among 4, 3 among 5 (1, raised to 2), the last row.
    assert sizes == [8, 8, 3, 2, 2, 1]


def test_a_batch_of_the_smallest_share_or_less_is_never_made_smaller(app, issue):
    claims.claim_batch(issue.id, 10)
    # 14 free rows for 2 chains would be a share of 7; a batch of 10 stays 10.
    assert claims.SMALLEST_SHARE >= 10
    assert len(claims.claim_batch(issue.id, 10)[1]) == 10


@pytest.mark.slow
def test_the_migration_goes_down_and_up_again(app, issue):
    """On the database this run uses (PostgreSQL when there is one, else SQLite): a claim
    held in a range before, the token column back after a downgrade, and gone again."""
    from flask_migrate import downgrade, upgrade

    issue_id = issue.id
    claims.claim_batch(issue_id, 5)
    db.session.remove()
    downgrade(revision="0015", x_arg=["sending=ok"])  # while the issue sends, on purpose
    inspector = sa.inspect(db.engine)
    assert {"claim", "claimed_at"} <= {c["name"] for c in inspector.get_columns("deliveries")}
    assert "batch_claims" not in inspector.get_table_names()
    upgrade(x_arg=["sending=ok"])
    inspector = sa.inspect(db.engine)
    assert "claim" not in {c["name"] for c in inspector.get_columns("deliveries")}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BatchClaim)) == 0
    assert len(claims.claim_batch(issue_id, 100)[1]) == READERS


def test_the_rows_due_are_those_no_live_range_holds(app, issue):
    from newsletter.sending import ledger

    assert ledger.due_count(issue.id) == READERS
    token, _ = claims.claim_batch(issue.id, 5)
    claims.claim_batch(issue.id, 5)
    assert ledger.due_count(issue.id) == READERS - 10
    claims.release_claim(token)
    assert ledger.due_count(issue.id) == READERS - 5


def test_the_next_due_time_leaves_out_the_rows_a_live_range_holds(app, issue):
    """A held row asked to retry soon is its batch's business; the next free one is what a
    chain waits for."""
    ids = _ids(issue)
    now = datetime.now(UTC)
    for subscriber_id, minutes in ((ids[0], 5), (ids[1], 60)):
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.issue_id == issue.id, Delivery.subscriber_id == subscriber_id)
            .values(retry_at=now + timedelta(minutes=minutes))
        )
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.issue_id == issue.id, Delivery.subscriber_id > ids[1])
        .values(status="sent")
    )
    db.session.add(
        BatchClaim(token="held", issue_id=issue.id, low=ids[0], high=ids[0], claimed_at=now)
    )
    db.session.commit()
    assert 55 * 60 < claims.next_due(issue.id) <= 60 * 60


def test_the_ledger_is_stored_in_the_order_batches_claim_it(app, weekly):
    """A list's subscriptions lie in no order after months of changes; the ledger's rows are
    made in subscriber order all the same, so that the rows a batch claims and marks sent
    together share a few pages (on PostgreSQL: 44 rather than 32 µs a message, bench/send.py
    --shuffled)."""
    readers = [
        Subscriber(email=f"reader{i}@example.org", name="", attributes={}) for i in range(READERS)
    ]
    db.session.add_all(readers)
    db.session.flush()
    # Subscriptions written newest reader first: stored against the readers' order.
    for reader in reversed(readers):
        db.session.add(Subscription(subscriber_id=reader.id, list_id=weekly.id, status="confirmed"))
        db.session.flush()
    db.session.commit()
    issue = draft(weekly)
    start_sending(issue)
    made = db.session.scalars(
        sa.select(Delivery.subscriber_id).where(Delivery.issue_id == issue.id).order_by(Delivery.id)
    ).all()
    assert made == sorted(made) and len(made) == READERS
