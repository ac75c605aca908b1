"""Sending at an hour in each subscriber's own time zone: the moment that hour comes in
each zone, the zones a list's subscribers live in, and the first of them, which starts the
send."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Issue, MailingList, Subscriber, Subscription
from newsletter.statuses import IssueStatus, SubscriberStatus, SubscriptionStatus

logger = logging.getLogger(__name__)

# An hour comes first at UTC+14 and last at UTC-12.
SPREAD = timedelta(hours=26)


def parse_hour(value: str) -> time:
    """ "08:00" -> time(8, 0); ValueError for anything else."""
    hours, _, minutes = (value or "").partition(":")
    if not (
        len(hours) == 2
        and len(minutes) == 2
        and hours.isdigit()
        and minutes.isdigit()
        and int(hours) < 24
        and int(minutes) < 60
    ):
        raise ValueError("The hour is HH:MM from 00:00 to 23:59, for example 08:00.")
    return time(int(hours), int(minutes))


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The named zone; an unknown or empty name falls back (a zone once valid may be gone)."""
    for candidate in (name, fallback):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def moment(day: date, at: time, zone_name: str | None, fallback: str = "UTC") -> datetime:
    """When `at` on `day` comes in the zone, in UTC. A wall time the zone skips (a DST gap)
    is read with the offset before the change, so it comes an hour late rather than never."""
    local = datetime.combine(day, at, tzinfo=zone(zone_name, fallback))
    return local.astimezone(UTC)


def subscriber_zone(mailing_list: MailingList):
    """The SQL expression for a subscriber's zone: their own, else the list's."""
    return sa.func.coalesce(Subscriber.timezone, mailing_list.timezone)


def zones_in_use(mailing_list: MailingList) -> list[str]:
    """The zones the list's confirmed, active subscribers live in (the list's for those who
    gave none)."""
    return list(
        db.session.scalars(
            sa.select(subscriber_zone(mailing_list))
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(
                Subscription.list_id == mailing_list.id,
                Subscription.status == SubscriptionStatus.CONFIRMED,
                Subscriber.status == SubscriberStatus.ACTIVE,
            )
            .distinct()
        )
    )


def moments(mailing_list: MailingList, day: date, at: time) -> dict[str, datetime]:
    """Each zone in use, and the list's own, with its moment."""
    names = set(zones_in_use(mailing_list)) | {mailing_list.timezone}
    return {name: moment(day, at, name, mailing_list.timezone) for name in names}


def bring_forward(now: datetime) -> None:
    """Start a scheduled issue at a local hour when the first zone in use reaches it. Its
    send_at was the first of the zones in use when it was scheduled; a subscriber who moved
    east since, or joined from further east, got the hour late (a reader moved from London
    to Kiritimati, at 22:00). Only an issue within SPREAD of its start can move."""
    waiting = db.session.scalars(
        sa.select(Issue).where(
            Issue.status == IssueStatus.SCHEDULED,
            Issue.local_time.is_not(None),
            Issue.local_date.is_not(None),
            Issue.send_at > now,  # one already due starts as it is
            Issue.send_at <= now + SPREAD,
        )
    ).all()
    for issue in waiting:
        try:
            at = parse_hour(issue.local_time)
            first = min(moments(issue.mailing_list, issue.local_date, at).values())
        except Exception:
            # This runs before any due issue is claimed: one issue's trouble (an hour edited
            # by hand into what it cannot read) leaves it at its time, and stops no other.
            logger.exception("issue %s: its local hour's first zone could not be read", issue.id)
            continue
        if first < issue.send_at:
            # Guarded: an editor may have moved or unscheduled it since it was read.
            db.session.execute(
                sa.update(Issue)
                .where(
                    Issue.id == issue.id,
                    Issue.status == IssueStatus.SCHEDULED,
                    Issue.send_at == issue.send_at,
                )
                .values(send_at=first)
            )
    db.session.commit()
