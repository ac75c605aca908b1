"""One subscriber's clicks, for the admin: kept only by lists that opt in to knowing who
clicked (track_subscribers), and only while the subscriber has not turned tracking off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Issue, IssueLink, LinkClick, MailingList, Subscriber, Subscription

SHOWN = 200


@dataclass(frozen=True)
class Click:
    clicked_at: datetime
    list_name: str
    timezone: str
    issue_id: int
    number: int
    subject: str
    url: str
    likely_machine: bool = False  # their mail gateway's link scanner, likely (analytics.py)


@dataclass(frozen=True)
class ClickHistory:
    tracked: list[MailingList]  # the subscriber's lists that keep who clicked
    untracked: list[MailingList]  # and those that do not
    clicks: list[Click]  # newest first, at most SHOWN
    total: int


def clicks_of(subscriber: Subscriber, most: int = SHOWN) -> ClickHistory:
    """The newest clicks on issues of the subscriber's lists that keep who clicked; a list
    that stopped keeping it shows none, whatever it kept before."""
    lists = db.session.scalars(
        sa.select(MailingList)
        .join(Subscription, Subscription.list_id == MailingList.id)
        .where(Subscription.subscriber_id == subscriber.id)
        .order_by(MailingList.name)
    ).all()
    tracked = [m for m in lists if m.track_subscribers]
    untracked = [m for m in lists if not m.track_subscribers]
    if not tracked:
        return ClickHistory(tracked, untracked, [], 0)
    clicks = (
        sa.select(LinkClick)
        .join(IssueLink, IssueLink.id == LinkClick.link_id)
        .join(Issue, Issue.id == IssueLink.issue_id)
        .join(MailingList, MailingList.id == Issue.list_id)
        .where(LinkClick.subscriber_id == subscriber.id, Issue.list_id.in_([m.id for m in tracked]))
    )
    total = db.session.scalar(clicks.with_only_columns(sa.func.count()))
    rows = db.session.execute(
        clicks.with_only_columns(
            LinkClick.clicked_at,
            MailingList.name,
            MailingList.timezone,
            Issue.id,
            Issue.number,
            Issue.subject,
            IssueLink.url,
            LinkClick.likely_machine,
        )
        .order_by(LinkClick.clicked_at.desc(), LinkClick.id.desc())
        .limit(most)
    ).all()
    return ClickHistory(tracked, untracked, [Click(*row) for row in rows], total)
