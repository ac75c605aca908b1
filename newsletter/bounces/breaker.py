"""Dead addresses en masse: when an issue's copies come back as dead addresses far more often
than any real list's do, the fault is ours (a misrouted relay answering "Unrouteable address"
for everyone, our DNS, a broken alias), not the subscribers'.

A list loses a few percent of its addresses in a year. When NEWSLETTER_DEAD_ADDRESSES_SHARE of
the copies an issue sent (and at least NEWSLETTER_DEAD_ADDRESSES_PAUSE of them) come back as
dead addresses, this breaker trips: the subscribers those bounces stopped get their mail back,
later ones about the issue are recorded and held rather than acted on, the issue pauses if it
is still sending, and the editors are told. An editor then drops the held subscribers (the
list really was that stale) or keeps them (the relay was at fault).

The share is of the copies sent up to the latest one a dead address came back for, not of
all sent so far: bounces trail a fast send by minutes, and a relay refusing everyone would
otherwise look like a few percent until the send was over.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs, suppression
from newsletter.errors import NewsletterError
from newsletter.extensions import db, writer_first
from newsletter.fields import iso
from newsletter.models import Bounce, Delivery, Issue, Subscriber, utcnow
from newsletter.sending import alerts, loop
from newsletter.statuses import BounceKind, DeliveryStatus, SubscriberStatus
from newsletter.subscriptions import service

DECISIONS = ("dropped", "kept")


def holding(delivery: Delivery | None) -> bool:
    """Whether a dead address reported for this copy is recorded but not acted on: its
    issue tripped the breaker and no editor has decided, or they kept the subscribers and the
    copy went before they did."""
    if delivery is None:
        return False
    record = delivery.issue.mass_bounce
    if not record or record["decision"] == "dropped":
        return False
    decided = record.get("decided_at")
    sent_at = delivery.sent_at
    return decided is None or sent_at is None or sent_at <= datetime.fromisoformat(decided)


@dataclass(frozen=True)
class Checkpoint:
    """An issue whose tally reached what its last count of copies said it would need."""

    issue_id: int
    since: datetime
    horizon: datetime
    count: int


def tally(bounces: list[Bounce]) -> list[Checkpoint]:
    """Add the dead addresses among a report's bounces to their issues' tallies, in the
    report's own transaction: one UPDATE an issue, whose row lock waits for a trip being
    written, so the report sees it and gives back the mail it stopped. Returns the issues
    whose tally reached its checkpoint, for check() once the report is committed."""
    pause = current_app.config["DEAD_ADDRESSES_PAUSE"]
    if pause <= 0:
        return []
    dead: dict[int, list[Bounce]] = {}
    for bounce in bounces:
        if bounce.kind == BounceKind.HARD and bounce.delivery is not None:
            dead.setdefault(bounce.delivery.issue_id, []).append(bounce)
    due = []
    for issue_id, ours in sorted(dead.items()):
        issue = ours[0].delivery.issue
        if issue.started_at is None:
            continue  # never sent
        since = _since(issue.started_at, issue.resumed_at, issue.mass_bounce)
        sent = [when for b in ours if (when := _copy_time(b.delivery)) and when >= since]
        if not sent:
            continue  # copies sent before the count began
        row = db.session.execute(_add(issue_id, since, len(sent), max(sent))).one()
        if row.mass_bounce and row.mass_bounce["decision"] is None:
            # Tripped since this report looked (holding): what it stopped is given back.
            _give_mail_back(issue_id, row.mass_bounce, [b.subscriber_id for b in ours])
        elif reached(row.dead_count, row.dead_need, pause):
            due.append(Checkpoint(issue_id, since, row.dead_horizon, row.dead_count))
    return due


def _copy_time(delivery: Delivery) -> datetime | None:
    """When a copy went; one refused at the door (RCPT TO, while sending) went now."""
    if delivery.sent_at is None and delivery.status == DeliveryStatus.FAILED:
        return utcnow()
    return delivery.sent_at


def _since(started_at: datetime, resumed_at: datetime | None, record: dict | None) -> datetime:
    """Where an issue's count of dead addresses begins: when it last started, resumed or was
    decided on."""
    decided = record and _at(record, "decided_at")
    return max(m for m in (started_at, resumed_at, decided) if m)


def _add(issue_id: int, since: datetime, count: int, horizon: datetime) -> sa.Update:
    """Add `count` dead addresses, the latest of copies sent at `horizon`, to the tally; one
    that began elsewhere starts afresh. Every SET reads the row as it was."""
    issues = Issue.__table__
    c = issues.c
    same = c.dead_since == since
    later = same & (c.dead_horizon > horizon)
    return (
        sa.update(issues)
        .where(c.id == issue_id)
        .values(
            dead_count=sa.case((same, c.dead_count + count), else_=count),
            dead_need=sa.case((same, c.dead_need), else_=0),
            dead_horizon=sa.case((later, c.dead_horizon), else_=horizon),
            dead_since=since,
        )
        .returning(c.dead_count, c.dead_need, c.dead_horizon, c.mass_bounce)
    )


def reached(count: int, need: int, pause: int) -> bool:
    """Whether a tally is worth counting the copies for."""
    return count >= max(need, pause)


def judge(count: int, copies: int, share: float) -> tuple[bool, int]:
    """(whether `count` dead of `copies` sent trips the breaker, the tally it needs before
    the copies are worth counting again). Copies only grow as the horizon moves on, so no
    tally under share × copies could trip it: a send's bounces cost a handful of counts."""
    return count >= share * copies, max(count + 1, math.ceil(share * copies))


def check(due: list[Checkpoint]) -> None:
    """Count the copies of each issue whose tally reached its checkpoint, and trip its breaker
    when its dead addresses are too many; committed."""
    for point in due:
        # Locked: racing reports may reach one checkpoint together.
        writer_first(Issue, point.issue_id)
        row = db.session.execute(
            sa.select(Issue.mass_bounce, Issue.dead_since, Issue.dead_need)
            .where(Issue.id == point.issue_id)
            .with_for_update()
        ).one_or_none()
        tripped = None
        waiting = row is not None and row.mass_bounce and row.mass_bounce["decision"] is None
        if row is not None and not waiting and row.dead_since == point.since:
            copies = _copies_until(point)
            trips, need = judge(point.count, copies, current_app.config["DEAD_ADDRESSES_SHARE"])
            tripped = _trip(point, copies) if trips else None
            changes = {"dead_need": max(need, row.dead_need)}
            if tripped:
                changes["mass_bounce"] = tripped
            db.session.execute(sa.update(Issue).where(Issue.id == point.issue_id).values(**changes))
            if tripped:
                _give_mail_back(point.issue_id, tripped)
        db.session.commit()
        if tripped and not loop.pause_itself(point.issue_id, reason(tripped)):
            jobs.tell_editors_of_mass_bounce.delay(point.issue_id)


def _copies_until(point: Checkpoint) -> int:
    """The issue's copies sent since its count began, up to the tally's horizon."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Delivery)
        .where(
            Delivery.issue_id == point.issue_id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.sent_at.between(point.since, point.horizon),
        )
    )


def _trip(point: Checkpoint, copies: int) -> dict:
    """The breaker's record, tripped now."""
    return {
        "since": iso(point.since),
        "at": iso(utcnow()),
        "bounces": point.count,
        "copies": copies,
        "said": _said_most(point.issue_id, point.since),
        "decision": None,
    }


def _dead_since(issue_id: int, since: datetime) -> tuple:
    """Conditions on Bounce joined to Delivery: the issue's dead addresses of copies sent
    since then."""
    return (
        Bounce.kind == BounceKind.HARD,
        Bounce.received_at >= since,  # the index's way in: none came before its copy went
        Delivery.issue_id == issue_id,
        sa.or_(Delivery.sent_at >= since, _refused_at_the_door()),
    )


def _refused_at_the_door():
    """A copy refused at RCPT TO while sending: failed, never sent (_copy_time)."""
    return Delivery.sent_at.is_(None) & (Delivery.status == DeliveryStatus.FAILED)


def _said_most(issue_id: int, since: datetime) -> str:
    """The commonest reason among those bounces, with the last words a server said for it."""
    rows = db.session.execute(
        sa.select(Bounce.reason, Bounce.detail)
        .join(Delivery, Delivery.id == Bounce.delivery_id)
        .where(*_dead_since(issue_id, since))
        .order_by(Bounce.id)
    ).all()
    reason, _ = Counter(row.reason for row in rows).most_common(1)[0]
    words = [row.detail for row in rows if row.reason == reason][-1]
    return f"{reason.replace('_', ' ')}: {words}"[:500]


def _at(record: dict, key: str) -> datetime | None:
    value = record.get(key)
    return datetime.fromisoformat(value) if value else None


def reason(record: dict) -> str:
    """Why the issue paused, for the editors."""
    share = record["bounces"] / max(record["copies"], 1)
    return (
        f"{record['bounces']} of the {record['copies']} copies sent came back as dead "
        f"addresses ({share:.0%}), far more than a real list loses: our relay or DNS is more "
        f"likely at fault than the subscribers. The commonest: {record['said']}. "
        "They keep their subscriptions until an editor drops or keeps them on the issue's page."
    )


def tell_editors(issue_id: int) -> int:
    """Email every editor that the issue's copies came back dead en masse (after it was sent,
    or while it was paused: a sending one pauses and says so); how many were told."""
    issue = db.session.get(Issue, issue_id)
    record = issue.mass_bounce if issue else None
    if not record or record["decision"] is not None:
        return 0
    subject = f"Issue {issue.number} of {issue.mailing_list.name}: dead addresses en masse"
    return alerts.email_about(issue, "mass_bounce", subject, reason=reason(record))


def _held(issue_id: int, record: dict, status: str) -> sa.Select:
    """Subscribers of this status whose copies of the issue came back as dead addresses since
    the breaker's count began."""
    dead = (
        sa.select(Bounce.subscriber_id)
        .join(Delivery, Delivery.id == Bounce.delivery_id)
        .where(*_dead_since(issue_id, _at(record, "since")))
    )
    return sa.select(Subscriber).where(Subscriber.id.in_(dead), Subscriber.status == status)


def held_count(issue: Issue) -> int:
    """How many subscribers wait for the editors' decision (0 once they decided)."""
    if not issue.mass_bounce or issue.mass_bounce["decision"] is not None:
        return 0
    held = _held(issue.id, issue.mass_bounce, SubscriberStatus.ACTIVE).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(held))


def _give_mail_back(issue_id: int, record: dict, subscriber_ids: list[int] | None = None) -> None:
    """Undo what dead addresses of the issue's copies did since the breaker's count began, to
    these subscribers or to all; not committed."""
    stopped = _held(issue_id, record, SubscriberStatus.BOUNCED)
    if subscriber_ids is not None:
        stopped = stopped.where(Subscriber.id.in_(subscriber_ids))
    stopped = list(db.session.scalars(stopped))
    for subscriber in stopped:
        subscriber.status = SubscriberStatus.ACTIVE
    if stopped:
        suppression.lift(*(s.email for s in stopped), reason=SubscriberStatus.BOUNCED)


def decide(issue: Issue, decision: str) -> int:
    """An editor's word on the held subscribers: "dropped" stops their mail as the bounces
    said, "kept" leaves them be. Returns how many were dropped; committed."""
    if decision not in DECISIONS:
        raise NewsletterError(f"Decide {' or '.join(DECISIONS)}.", field="decision")
    if not issue.mass_bounce or issue.mass_bounce["decision"] is not None:
        raise NothingHeld(f"Issue {issue.number} holds no dead addresses to decide on.")
    dropped = 0
    if decision == "dropped":
        held = _held(issue.id, issue.mass_bounce, SubscriberStatus.ACTIVE)
        dropped = service.stop_mail_of(
            held.with_only_columns(Subscriber.id), SubscriberStatus.BOUNCED
        )
    issue.mass_bounce = {**issue.mass_bounce, "decision": decision, "decided_at": iso(utcnow())}
    db.session.commit()
    return dropped


class NothingHeld(NewsletterError):
    """A decision on dead addresses an issue does not hold (or no longer)."""

    status = 409
