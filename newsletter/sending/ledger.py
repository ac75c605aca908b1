"""The delivery ledger: one row per (issue, subscriber), created and counted set-wise."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscriber, Subscription


def create_deliveries(issue: Issue) -> int:
    """One pending delivery per confirmed, active subscriber of the list, in one statement."""
    readers = (
        sa.select(
            sa.literal(issue.id), Subscription.subscriber_id, sa.literal("pending"), sa.literal(0)
        )
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(
            Subscription.list_id == issue.list_id,
            Subscription.status == "confirmed",
            Subscriber.status == "active",
        )
    )
    result = db.session.execute(
        sa.insert(Delivery).from_select(
            ["issue_id", "subscriber_id", "status", "attempts"], readers
        )
    )
    return result.rowcount


def counts(issue_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Delivery.status, sa.func.count())
        .where(Delivery.issue_id == issue_id)
        .group_by(Delivery.status)
    ).all()
    by_status = {status: n for status, n in rows}
    result = {key: by_status.get(key, 0) for key in ("sent", "failed", "pending")}
    result["total"] = sum(by_status.values())
    return result


def due_count(issue_id: int) -> int:
    """Pending deliveries no batch holds."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Delivery.issue_id == issue_id, Delivery.status == "pending", Delivery.claim.is_(None)
        )
    )


def analyze() -> None:
    """Fresh planner statistics after a large ledger appears in one statement, so the
    batches' queries use their indexes from the first batch on."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE deliveries"))
        db.session.commit()
