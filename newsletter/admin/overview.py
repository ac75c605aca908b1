"""Each list at a glance, for the dashboard: a read of lists, subscriptions and deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Issue, MailingList, Subscription, utcnow
from newsletter.sending import ledger
from newsletter.statuses import IssueStatus, SubscriptionStatus


@dataclass
class ListOverview:
    mailing_list: MailingList
    confirmed: int
    new_this_week: int
    next_issue: Issue | None
    last_issue: Issue | None
    last_counts: dict | None


def overview(now: datetime | None = None) -> list[ListOverview]:
    """Each list with its subscribers, growth this week, next and last issue: a few set-wise
    queries."""
    now = now or utcnow()
    week_ago = now - timedelta(days=7)
    confirmed = Subscription.status == SubscriptionStatus.CONFIRMED
    counts = dict(
        db.session.execute(
            sa.select(Subscription.list_id, sa.func.count())
            .where(confirmed)
            .group_by(Subscription.list_id)
        ).all()
    )
    growth = dict(
        db.session.execute(
            sa.select(Subscription.list_id, sa.func.count())
            .where(confirmed, Subscription.confirmed_at >= week_ago)
            .group_by(Subscription.list_id)
        ).all()
    )
    result = []
    for mailing_list in db.session.scalars(sa.select(MailingList).order_by(MailingList.name)):
        issues = sa.select(Issue).where(Issue.list_id == mailing_list.id)
        upcoming = db.session.scalar(
            issues.where(Issue.status == IssueStatus.SCHEDULED).order_by(Issue.send_at).limit(1)
        )
        last = db.session.scalar(
            issues.where(
                Issue.status.in_((IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.SENT))
            )
            .order_by(Issue.number.desc())
            .limit(1)
        )
        result.append(
            ListOverview(
                mailing_list,
                counts.get(mailing_list.id, 0),
                growth.get(mailing_list.id, 0),
                upcoming,
                last,
                ledger.counts(last.id) if last else None,
            )
        )
    return result
