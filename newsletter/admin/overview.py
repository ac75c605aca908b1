"""Each list at a glance, for the dashboard: a read of lists, subscriptions and deliveries in
the same few statements however many lists there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.admin import charts
from newsletter.extensions import db
from newsletter.models import Bounce, Issue, MailingList, Subscriber, Subscription, utcnow
from newsletter.sending import ledger
from newsletter.statuses import BounceKind, IssueStatus, SubscriberStatus, SubscriptionStatus

WEEKS = 12
GONE_OUT = (IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.SENT)


@dataclass
class ListOverview:
    mailing_list: MailingList
    confirmed: int
    new_this_week: int
    next_issue: Issue | None
    last_issue: Issue | None
    last_counts: dict | None
    growth: charts.LineChart | None  # None when nothing moved in the weeks shown


def overview(now: datetime | None = None) -> list[ListOverview]:
    """Each list with its subscribers, growth this week, next and last issue, and its joins,
    leaves and bounces of the last weeks."""
    now = now or utcnow()
    week_ago = now - timedelta(days=7)
    confirmed = Subscription.status == SubscriptionStatus.CONFIRMED
    counts = _per_list(sa.select(Subscription.list_id, sa.func.count()).where(confirmed))
    growth = _per_list(
        sa.select(Subscription.list_id, sa.func.count()).where(
            confirmed, Subscription.confirmed_at >= week_ago
        )
    )
    upcoming = _first_per_list(
        Issue.status == IssueStatus.SCHEDULED, Issue.send_at.asc(), Issue.id.asc()
    )
    last = _first_per_list(Issue.status.in_(GONE_OUT), Issue.number.desc(), Issue.id.desc())
    last_counts = ledger.counts_for_issues([issue.id for issue in last.values()])
    starts = [now - timedelta(days=7 * (WEEKS - i)) for i in range(WEEKS)]
    weekly = weekly_movements(starts)
    labels = [f"{start:%-d %b}" for start in starts]
    result = []
    for mailing_list in db.session.scalars(sa.select(MailingList).order_by(MailingList.name)):
        series = weekly.get(mailing_list.id)
        last_issue = last.get(mailing_list.id)
        result.append(
            ListOverview(
                mailing_list,
                counts.get(mailing_list.id, 0),
                growth.get(mailing_list.id, 0),
                upcoming.get(mailing_list.id),
                last_issue,
                last_counts[last_issue.id] if last_issue else None,
                charts.line_chart(
                    f"growth-{mailing_list.id}",
                    f"The last {WEEKS} weeks",
                    labels,
                    series,
                    y_title="subscribers a week",
                    subject=mailing_list.name,
                )
                if series
                else None,
            )
        )
    return result


def _per_list(select: sa.Select) -> dict[int, int]:
    return dict(db.session.execute(select.group_by(Subscription.list_id)).all())


def _first_per_list(where, *order) -> dict[int, Issue]:
    """Each list's first issue in this order, in one statement."""
    rank = sa.func.row_number().over(partition_by=Issue.list_id, order_by=order).label("rank")
    ranked = sa.select(Issue.id, rank).where(where).subquery()
    issues = db.session.scalars(
        sa.select(Issue).join(ranked, ranked.c.id == Issue.id).where(ranked.c.rank == 1)
    )
    return {issue.list_id: issue for issue in issues}


def weekly_movements(starts: list[datetime]) -> dict[int, dict[str, list[int]]]:
    """{list id: {"joins": [...], "leaves": [...], "bounces": [...]}}, one count per week that
    starts at each of `starts`; lists where nothing moved are left out. Bounces are
    subscribers now bounced, in the week of their last bounce: a hard one, or the soft one
    that took them over the threshold."""
    lost = (
        sa.select(Bounce.subscriber_id, sa.func.max(Bounce.received_at).label("at"))
        .join(Subscriber, Subscriber.id == Bounce.subscriber_id)
        .where(
            Subscriber.status == SubscriberStatus.BOUNCED,
            Bounce.kind.in_((BounceKind.HARD, BounceKind.SOFT)),
        )
        .group_by(Bounce.subscriber_id)
        .subquery()
    )
    moments = {
        "joins": (Subscription.confirmed_at, sa.select(Subscription.list_id)),
        "leaves": (Subscription.unsubscribed_at, sa.select(Subscription.list_id)),
        "bounces": (
            lost.c.at,
            sa.select(Subscription.list_id)
            .join(lost, lost.c.subscriber_id == Subscription.subscriber_id)
            .where(Subscription.confirmed_at.is_not(None)),
        ),
    }
    names = list(moments)
    weeks = [
        select.where(at >= starts[0]).add_columns(
            _number(index).label("series"), _week(at, starts).label("week")
        )
        for index, (at, select) in enumerate(moments.values())
    ]
    # Grouped outside the union: PostgreSQL does not see two CASEs with bound dates as one.
    moved = sa.union_all(*weeks).subquery()
    rows = db.session.execute(
        sa.select(moved.c.list_id, moved.c.series, moved.c.week, sa.func.count()).group_by(
            moved.c.list_id, moved.c.series, moved.c.week
        )
    ).all()
    result: dict[int, dict[str, list[int]]] = {}
    for list_id, series, week, n in rows:
        per_series = result.setdefault(list_id, {name: [0] * len(starts) for name in names})
        per_series[names[series]][week] = n
    return result


def _week(at, starts: list[datetime]):
    """Which week a moment falls in, as a CASE that SQLite and PostgreSQL read alike."""
    latest_first = reversed(list(enumerate(starts)))
    return sa.case(*((at >= start, _number(index)) for index, start in latest_first))


def _number(n: int):
    """A constant in the statement's text: a bound one has no type PostgreSQL can infer."""
    return sa.literal_column(str(int(n)), sa.Integer)
