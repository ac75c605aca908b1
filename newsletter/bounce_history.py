"""Bounces and complaints as editors see them: per subscriber, and per issue."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from newsletter import figures
from newsletter.extensions import db
from newsletter.models import Bounce, Delivery, Issue, Subscriber
from newsletter.statuses import BounceKind

KINDS = tuple(BounceKind)


def for_subscriber(subscriber_id: int, limit: int = 50) -> list:
    """(received_at, kind, reason, detail, source, issue number or None), newest first."""
    return db.session.execute(
        sa.select(
            Bounce.received_at,
            Bounce.kind,
            Bounce.reason,
            Bounce.detail,
            Bounce.source,
            Issue.number,
        )
        .outerjoin(Delivery, Delivery.id == Bounce.delivery_id)
        .outerjoin(Issue, Issue.id == Delivery.issue_id)
        .where(Bounce.subscriber_id == subscriber_id)
        .order_by(Bounce.id.desc())
        .limit(limit)
    ).all()


def _of_issue(issue_id: int, *columns):
    # By the issue kept on the bounce (its delivery's): not through all the issue's copies.
    return sa.select(*columns).select_from(Bounce).where(Bounce.issue_id == issue_id)


def counts_for_issue(issue_id: int) -> dict:
    """{"hard": n, "soft": n, "sender": n, "complaint": n, "by_reason": {reason: n}}."""
    return counts_for_issues([issue_id])[issue_id]


def counts_for_issues(issue_ids: list[int]) -> dict[int, dict]:
    """counts_for_issue() of each issue, in one grouped statement however many there are."""
    kept = figures.kept(issue_ids, "bounces")
    rows_of: dict[int, list] = {i: [] for i in issue_ids if i not in kept}
    if rows_of:
        rows = db.session.execute(
            sa.select(Bounce.issue_id, Bounce.kind, Bounce.reason, sa.func.count())
            .where(Bounce.issue_id.in_(list(rows_of)))
            .group_by(Bounce.issue_id, Bounce.kind, Bounce.reason)
        ).all()
        for issue_id, kind, reason, n in rows:
            rows_of[issue_id].append((kind, reason, n))
    result = dict(kept)
    for issue_id, rows in rows_of.items():
        counts: dict = {kind: 0 for kind in KINDS}
        by_reason: dict[str, int] = {}
        for kind, reason, n in rows:
            counts[kind] = counts.get(kind, 0) + n
            reason = reason or "unknown"  # bounces recorded before reasons were
            by_reason[reason] = by_reason.get(reason, 0) + n
        by_reason = dict(sorted(by_reason.items(), key=lambda item: (-item[1], item[0])))
        counts["by_reason"] = by_reason
        result[issue_id] = counts
    return result


def by_domain_and_reason(issue_id: int) -> list[tuple[str, str, int]]:
    """(receiving domain, reason, bounces and complaints) of the issue's copies."""
    kept = figures.kept([issue_id], "bounces_by_domain")
    if issue_id in kept:
        return [tuple(row) for row in kept[issue_id]]
    return [
        tuple(row)
        for row in db.session.execute(
            _of_issue(issue_id, Bounce.domain, Bounce.reason, sa.func.count()).group_by(
                Bounce.domain, Bounce.reason
            )
        )
    ]


def refusals_for_issue(issue_id: int) -> list[tuple[str, int, str]]:
    """(receiving domain, refusals of our mail, what its server said last), most first."""
    per_domain = (
        _of_issue(
            issue_id,
            Bounce.domain,
            sa.func.count().label("n"),
            sa.func.max(Bounce.id).label("last"),
        )
        .where(Bounce.kind == BounceKind.SENDER)
        .group_by(Bounce.domain)
        .subquery()
    )
    last = aliased(Bounce)
    rows = db.session.execute(
        sa.select(per_domain.c.domain, per_domain.c.n, last)
        .join(last, last.id == per_domain.c.last)
        .order_by(per_domain.c.n.desc(), per_domain.c.domain)
    ).all()
    return [(domain, n, words(bounce)) for domain, n, bounce in rows]


def words(bounce: Bounce) -> str:
    """What the receiving server said, else the reason in words."""
    return bounce.detail or bounce.reason.replace("_", " ")


def for_issue(issue_id: int, limit: int = 500) -> list:
    """(email, kind, reason, detail), by address."""
    return db.session.execute(
        _of_issue(issue_id, Subscriber.email, Bounce.kind, Bounce.reason, Bounce.detail)
        .join(Subscriber, Subscriber.id == Bounce.subscriber_id)
        .order_by(Subscriber.email, Bounce.id)
        .limit(limit)
    ).all()
