"""The delivery ledger: one row per (issue, subscriber), created and counted set-wise."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscriber, Subscription
from newsletter.statuses import DeliveryStatus, SubscriberStatus, SubscriptionStatus


def create_deliveries(issue: Issue) -> int:
    """One pending delivery per confirmed, active subscriber of the list, in one statement."""
    subscribers = (
        sa.select(
            sa.literal(issue.id),
            Subscription.subscriber_id,
            sa.literal(DeliveryStatus.PENDING, sa.String),
            sa.literal(0),
        )
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(
            Subscription.list_id == issue.list_id,
            Subscription.status == SubscriptionStatus.CONFIRMED,
            Subscriber.status == SubscriberStatus.ACTIVE,
        )
    )
    result = db.session.execute(
        sa.insert(Delivery).from_select(
            ["issue_id", "subscriber_id", "status", "attempts"], subscribers
        )
    )
    return result.rowcount


def counts(issue_id: int) -> dict[str, int]:
    return counts_for_issues([issue_id])[issue_id]


def counts_for_issues(issue_ids: list[int]) -> dict[int, dict[str, int]]:
    """counts() of each issue, in one grouped statement however many there are."""
    by_issue: dict[int, dict[str, int]] = {issue_id: {} for issue_id in issue_ids}
    if issue_ids:
        rows = db.session.execute(
            sa.select(Delivery.issue_id, Delivery.status, sa.func.count())
            .where(Delivery.issue_id.in_(issue_ids))
            .group_by(Delivery.issue_id, Delivery.status)
        ).all()
        for issue_id, status, n in rows:
            by_issue[issue_id][status] = n
    result = {}
    for issue_id, by_status in by_issue.items():
        result[issue_id] = {key: by_status.get(key, 0) for key in ("sent", "failed", "pending")}
        result[issue_id]["total"] = sum(by_status.values())
    return result


def due_count(issue_id: int) -> int:
    """Pending deliveries no batch holds."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Delivery.issue_id == issue_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.claim.is_(None),
        )
    )


def analyze() -> None:
    """Fresh planner statistics after a large ledger appears in one statement, so the
    batches' queries use their indexes from the first batch on."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE deliveries"))
        db.session.commit()
