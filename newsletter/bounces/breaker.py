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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs, suppression
from newsletter.errors import NewsletterError
from newsletter.extensions import db
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
class Dead:
    """A dead address reported for a copy, as the breaker counts it."""

    issue_id: int
    subscriber_id: int
    sent_at: datetime | None


def of(bounces: list[Bounce]) -> list[Dead]:
    """The dead addresses among bounces, read before a commit expires them."""
    return [
        Dead(b.delivery.issue_id, b.subscriber_id, b.delivery.sent_at)
        for b in bounces
        if b.kind == BounceKind.HARD and b.delivery is not None
    ]


def trip_if_mass(dead: list[Dead]) -> None:
    """Count the dead addresses against their issues, and trip the breaker of each issue
    whose copies now come back dead en masse; committed. Core statements on a few columns:
    it runs for every dead address reported."""
    if current_app.config["DEAD_ADDRESSES_PAUSE"] <= 0:
        return
    for issue_id in sorted({d.issue_id for d in dead}):
        ours = [d for d in dead if d.issue_id == issue_id]
        # Locked: reports of one issue come in on several connections at once.
        row = db.session.execute(
            sa.select(Issue.started_at, Issue.resumed_at, Issue.mass_bounce, Issue.dead_tally)
            .where(Issue.id == issue_id)
            .with_for_update()
        ).one_or_none()
        tripped = None
        if row is None or row.started_at is None:
            pass  # gone, or never sent
        elif row.mass_bounce and row.mass_bounce["decision"] is None:
            # Any a racing report stopped before it saw the trip get their mail back too.
            _give_mail_back(issue_id, row.mass_bounce, [d.subscriber_id for d in ours])
        elif tally := _count(issue_id, row, ours):
            tripped = _trip(issue_id, tally) if tally.pop("tripped") else None
            changes = {"dead_tally": tally} | ({"mass_bounce": tripped} if tripped else {})
            db.session.execute(sa.update(Issue).where(Issue.id == issue_id).values(**changes))
            if tripped:
                _give_mail_back(issue_id, tripped)
        db.session.commit()
        if tripped and not loop.pause_itself(issue_id, reason(tripped)):
            jobs.tell_editors_of_mass_bounce.delay(issue_id)


def _count(issue_id: int, row, dead: list[Dead]) -> dict | None:
    """The issue's tally with these dead addresses added (tally_up), from its row."""
    config = current_app.config
    decided = row.mass_bounce and _at(row.mass_bounce, "decided_at")
    since = max(m for m in (row.started_at, row.resumed_at, decided) if m)

    def copies_until(horizon: datetime) -> int:
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Delivery)
            .where(
                Delivery.issue_id == issue_id,
                Delivery.status == DeliveryStatus.SENT,
                Delivery.sent_at.between(since, horizon),
            )
        )

    sent = [d.sent_at for d in dead if d.sent_at is not None]
    pause, share = config["DEAD_ADDRESSES_PAUSE"], config["DEAD_ADDRESSES_SHARE"]
    return tally_up(row.dead_tally, since, sent, copies_until, pause, share)


def tally_up(
    tally: dict | None,
    since: datetime,
    sent: list[datetime],
    copies_until: Callable[[datetime], int],
    pause: int,
    share: float,
) -> dict | None:
    """The tally with dead addresses of copies sent at these times added, "tripped" saying
    whether they are now too many; None when none of them counts.

    It counts copies sent since the issue last started, resumed or was decided on (`since`).
    The copies sent up to its horizon are counted only once the tally reaches what the last
    count said it would need: copies only grow as the horizon moves on, so no report between
    could have tripped it, and a send's bounces cost a handful of counts, not one each."""
    if (tally or {}).get("since") != iso(since):
        tally = {"since": iso(since), "count": 0, "need": 0, "horizon": None}
    new = [moment for moment in sent if moment >= since]
    if not new:
        return None
    horizon = max([*new, *([_at(tally, "horizon")] if tally["horizon"] else [])])
    tally = {**tally, "count": tally["count"] + len(new), "horizon": iso(horizon), "copies": 0}
    tripped = False
    if tally["count"] >= max(tally["need"], pause):
        tally["copies"] = copies_until(horizon)
        tripped = tally["count"] >= share * tally["copies"]
        tally["need"] = max(tally["count"] + 1, math.ceil(share * tally["copies"]))
    return {**tally, "tripped": tripped}


def _trip(issue_id: int, tally: dict) -> dict:
    """The breaker's record, tripped now."""
    since = _at(tally, "since")
    return {
        "since": tally["since"],
        "at": iso(utcnow()),
        "bounces": tally["count"],
        "copies": tally["copies"],
        "said": _said_most(issue_id, since),
        "decision": None,
    }


def _dead_since(issue_id: int, since: datetime) -> tuple:
    """Conditions on Bounce joined to Delivery: the issue's dead addresses of copies sent
    since then."""
    return (
        Bounce.kind == BounceKind.HARD,
        Bounce.received_at >= since,  # the index's way in: none came before its copy went
        Delivery.issue_id == issue_id,
        Delivery.sent_at >= since,
    )


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
    for subscriber in db.session.scalars(stopped):
        subscriber.status = SubscriberStatus.ACTIVE
        if suppression.reason(subscriber.email) == SubscriberStatus.BOUNCED:
            suppression.lift(subscriber.email)


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
        for subscriber in db.session.scalars(held):
            service.stop_mail(subscriber, SubscriberStatus.BOUNCED)
            dropped += 1
    issue.mass_bounce = {**issue.mass_bounce, "decision": decision, "decided_at": iso(utcnow())}
    db.session.commit()
    return dropped


class NothingHeld(NewsletterError):
    """A decision on dead addresses an issue does not hold (or no longer)."""

    status = 409
