"""Mailing lists: the rules of finding, making and changing one (service.py, with the shapes
of its fields in shapes.py), the headers every email from a list carries, the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app

from newsletter.extensions import db
from newsletter.lists.service import (
    NO_POSTAL_ADDRESS,
    ListNotFound,
    SlugTaken,
    create_list,
    default_postal_address,
    get_list,
    update_list,
)
from newsletter.mailer import list_id_header
from newsletter.models import Issue, MailingList, Subscription, utcnow
from newsletter.sending import ledger
from newsletter.statuses import IssueStatus, SubscriptionStatus

__all__ = [
    "NO_POSTAL_ADDRESS",
    "ListNotFound",
    "ListOverview",
    "SlugTaken",
    "create_list",
    "default_postal_address",
    "get_list",
    "list_headers",
    "overview",
    "sender",
    "update_list",
]


def sender(mailing_list: MailingList) -> tuple[str, str]:
    return mailing_list.from_name or mailing_list.name, mailing_list.from_email


def list_headers(mailing_list: MailingList, unsubscribe_url: str) -> list[tuple[str, str]]:
    """List-Id and RFC 8058 one-click unsubscribe headers."""
    domain = current_app.config["MAIL_DOMAIN"]
    token = unsubscribe_url.rsplit("/", 1)[-1]
    mailto = f"mailto:{mailing_list.from_email}?subject={quote('unsubscribe ' + token)}"
    return [
        ("List-Id", list_id_header(mailing_list.name, f"{mailing_list.slug}.{domain}")),
        ("List-Unsubscribe", f"<{unsubscribe_url}>, <{mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]


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
