"""The delivery ledger: one row per (issue, subscriber), created and counted set-wise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from newsletter import figures
from newsletter.extensions import db
from newsletter.i18n import LOCALES
from newsletter.models import Delivery, Issue, Subscriber, Subscription, UTCDateTime
from newsletter.sending import ab, claims, local_time
from newsletter.statuses import (
    DeliveryMode,
    DeliveryStatus,
    IssueKind,
    IssueStatus,
    SubscriberStatus,
    SubscriptionStatus,
)


def create_deliveries(issue: Issue) -> int:
    """One pending delivery per confirmed, active subscriber of the list who wants this kind
    of issue (the digest, or each post), in one statement. An issue sent at a local hour
    starts each row at the moment that hour comes in its subscriber's zone."""
    wanted = (
        (DeliveryMode.EACH, DeliveryMode.BOTH)
        if issue.kind == IssueKind.POST
        else (DeliveryMode.DIGEST, DeliveryMode.BOTH)
    )
    columns = ["issue_id", "subscriber_id", "status", "attempts"]
    values = [
        sa.literal(issue.id),
        Subscription.subscriber_id,
        sa.literal(DeliveryStatus.PENDING, sa.String),
        sa.literal(0),
    ]
    if issue.local_time and issue.local_date:
        first = _first_moments(issue)
        columns += ["not_before", "retry_at"]
        values += [first, first]
    subscribers = (
        sa.select(*values)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(
            Subscription.list_id == issue.list_id,
            Subscription.status == SubscriptionStatus.CONFIRMED,
            Subscription.delivery.in_(wanted),
            Subscriber.status == SubscriberStatus.ACTIVE,
        )
        # Stored in the order batches claim and mark them: a window's rows then share a few
        # pages, not one each (a list's own rows lie in no order after months of changes).
        .order_by(Subscription.subscriber_id)
    )
    result = db.session.execute(sa.insert(Delivery).from_select(columns, subscribers))
    ab.split_ledger(issue)
    return result.rowcount


def other_languages(issue: Issue) -> list[str]:
    """The languages the list's confirmed, active subscribers chose, besides the list's own
    (those we have catalogs for)."""
    chosen = db.session.scalars(
        sa.select(Subscriber.locale)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(
            Subscription.list_id == issue.list_id,
            Subscription.status == SubscriptionStatus.CONFIRMED,
            Subscriber.status == SubscriberStatus.ACTIVE,
            Subscriber.locale.in_(LOCALES),
            Subscriber.locale != issue.mailing_list.language,
        )
        .distinct()
    )
    return sorted(chosen)


def _first_moments(issue: Issue):
    """SQL for each subscriber's moment: a CASE over the zones in use, the list's last."""
    mailing_list = issue.mailing_list
    at = local_time.parse_hour(issue.local_time)
    by_zone = local_time.moments(mailing_list, issue.local_date, at)
    fallback = by_zone[mailing_list.timezone]
    return sa.case(
        {name: sa.literal(when, UTCDateTime) for name, when in by_zone.items()},
        value=local_time.subscriber_zone(mailing_list),
        else_=sa.literal(fallback, UTCDateTime),
    )


@dataclass
class Wave:
    not_before: datetime
    pending: int = 0
    sent: int = 0
    failed: int = 0


def waves(issue_id: int) -> list[Wave]:
    """An issue sent at a local hour, wave by wave: each moment with what is left and done."""
    kept = figures.kept([issue_id], "waves")
    if issue_id in kept:
        return [Wave(figures.moment(at), *counted) for at, *counted in kept[issue_id]]
    found: dict[datetime, Wave] = {}
    rows = db.session.execute(
        sa.select(Delivery.not_before, Delivery.status, sa.func.count())
        .where(Delivery.issue_id == issue_id, Delivery.not_before.is_not(None))
        .group_by(Delivery.not_before, Delivery.status)
    ).all()
    for when, status, count in rows:
        wave = found.setdefault(when, Wave(when))
        setattr(wave, status, count)
    return [found[when] for when in sorted(found)]


def counts(issue_id: int) -> dict[str, int]:
    return counts_for_issues([issue_id])[issue_id]


def counts_for_issues(issue_ids: list[int]) -> dict[int, dict[str, int]]:
    """counts() of each issue: kept ones as kept (pruned, or final), the others in one
    grouped statement however many there are."""
    kept = figures.kept(issue_ids, "counts")
    kept.update(figures.final(i for i in issue_ids if i not in kept))
    by_issue: dict[int, dict[str, int]] = {i: {} for i in issue_ids if i not in kept}
    if by_issue:
        rows = db.session.execute(
            sa.select(Delivery.issue_id, Delivery.status, sa.func.count())
            .where(Delivery.issue_id.in_(list(by_issue)))
            .group_by(Delivery.issue_id, Delivery.status)
        ).all()
        for issue_id, status, n in rows:
            by_issue[issue_id][status] = n
    result = dict(kept)
    for issue_id, by_status in by_issue.items():
        result[issue_id] = {key: by_status.get(key, 0) for key in ("sent", "failed", "pending")}
        result[issue_id]["total"] = sum(by_status.values())
    return result


def keep_final_counts(issue_id: int) -> None:
    """Count a sent issue's copies once and keep the counts on it: nothing is pending, so
    they change no more (a cancelled one's pending copies go as their readers leave: it is
    counted on each look). Committed."""
    db.session.execute(
        sa.update(Issue)
        .where(
            Issue.id == issue_id,
            Issue.status == IssueStatus.SENT,
            Issue.final_counts.is_(None),
        )
        .values(final_counts=counts_for_issues([issue_id])[issue_id])
    )
    db.session.commit()


def due_count(issue_id: int) -> int:
    """Pending deliveries no batch holds: all pending, less those in live ranges (counted
    apart: a NOT EXISTS against the ranges for each row is four times slower on a million)."""
    pending = db.session.scalar(sa.select(sa.func.count()).where(*claims.pending(issue_id)))
    return pending - claims.held_count(issue_id)


def analyze() -> None:
    """Fresh planner statistics after a large ledger appears in one statement, so the
    batches' queries use their indexes from the first batch on."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE deliveries"))
        db.session.commit()
