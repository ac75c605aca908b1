"""An issue's states: draft → scheduled → sending ⇄ paused → sent, or cancelled.

Each transition is one function, and each is a guarded UPDATE, so two workers or two
beats racing for the same issue cannot both win.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs
from newsletter.digest.render import render_issue
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, utcnow
from newsletter.sending import ledger
from newsletter.statuses import DeliveryStatus, IssueStatus

logger = logging.getLogger(__name__)

# A send_at this far in the past still counts as "now" (clock skew, slow forms).
PAST_GRACE = timedelta(minutes=1)


class StateError(NewsletterError, ValueError):
    """The issue is not in a state that allows this."""

    status = 409


class ScheduleError(NewsletterError, ValueError):
    """send_at cannot be used: no time zone offset, or in the past."""

    field = "send_at"


def _transition(issue: Issue, allowed: tuple[str, ...], new_status: str, **values) -> None:
    result = db.session.execute(
        sa.update(Issue)
        .where(Issue.id == issue.id, Issue.status.in_(allowed))
        .values(status=new_status, **values)
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(issue)
        raise StateError(f"Issue {issue.number} is {issue.status}; it cannot become {new_status}.")
    db.session.commit()
    db.session.refresh(issue)


def schedule_issue(issue: Issue, send_at: datetime) -> None:
    if send_at.tzinfo is None:
        raise ScheduleError(
            "send_at needs a time zone offset, for example 2026-12-01T09:00:00+01:00."
        )
    if send_at < utcnow() - PAST_GRACE:
        raise ScheduleError("send_at is in the past.")
    if not issue.items:
        raise StateError("An issue with no items cannot be scheduled.")
    _transition(issue, (IssueStatus.DRAFT,), IssueStatus.SCHEDULED, send_at=send_at.astimezone(UTC))


def unschedule_issue(issue: Issue) -> None:
    _transition(issue, (IssueStatus.SCHEDULED,), IssueStatus.DRAFT, send_at=None)


def send_issue_now(issue: Issue) -> None:
    if not issue.items:
        raise StateError("An issue with no items cannot be sent.")
    _transition(
        issue, (IssueStatus.DRAFT, IssueStatus.SCHEDULED), IssueStatus.SCHEDULED, send_at=utcnow()
    )
    jobs.dispatch_due_issues.delay()


def pause_issue(issue: Issue) -> None:
    _transition(issue, (IssueStatus.SENDING,), IssueStatus.PAUSED)


def resume_issue(issue: Issue) -> None:
    _transition(
        issue,
        (IssueStatus.PAUSED,),
        IssueStatus.SENDING,
        progress_at=utcnow(),
        error_streak=0,
        pause_reason=None,
    )
    if issue.html is None:  # it paused before it could start: start it now
        try:
            _freeze(issue)
        except Exception as exc:
            if not stop_for_error(issue.id, exc):
                raise
            db.session.refresh(issue)
            return
        db.session.commit()
        ledger.analyze()
    enqueue_batches(issue.id)


def pause_for_errors(issue_id: int, errors: int, last_error: str) -> bool:
    """Too many failed sends in a row: stop, say why, and tell the editors."""
    return pause_itself(
        issue_id, f"Paused after {errors} failed sends in a row. Last error: {last_error}"
    )


def stop_for_error(
    issue_id: int, error: Exception, was: tuple[str, ...] = (IssueStatus.SENDING,)
) -> bool:
    """An error that waiting will not mend (a template, a header, a setting) pauses the
    issue with the error as its reason and tells the editors. Not a lost database
    connection: that mends itself, and nothing could be written meanwhile; False then.

    Rolls back what the failed step left undone."""
    db.session.rollback()
    if isinstance(error, sa.exc.OperationalError):
        return False
    logger.error("issue %s stopped by an error", issue_id, exc_info=error)
    reason = f"Sending stopped by an error: {type(error).__name__}: {error}"
    pause_itself(issue_id, reason, was)
    return True


def pause_itself(issue_id: int, reason: str, was: tuple[str, ...] = (IssueStatus.SENDING,)) -> bool:
    """Pause a sending issue, say why, and tell the editors; only the first caller wins,
    so they get one email however many workers see the trouble at once."""
    paused = db.session.execute(
        sa.update(Issue)
        .where(Issue.id == issue_id, Issue.status.in_(was))
        .values(status=IssueStatus.PAUSED, pause_reason=reason[:2000])
    ).rowcount
    db.session.commit()
    if paused:
        jobs.tell_editors.delay(issue_id)
    return paused == 1


def cancel_issue(issue: Issue) -> None:
    _transition(
        issue,
        (IssueStatus.DRAFT, IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.PAUSED),
        IssueStatus.CANCELLED,
        finished_at=utcnow(),
    )


def claim_due_issues(now: datetime | None = None) -> list[int]:
    """Start every due issue exactly once: claim, freeze the render, create the ledger.

    All three happen in one transaction, so a crash leaves the issue scheduled, not half-started.
    An issue that cannot be rendered pauses, saying why; the others start all the same.
    """
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Issue.id).where(Issue.status == IssueStatus.SCHEDULED, Issue.send_at <= now)
    ).all()
    claimed = []
    for issue_id in due:
        won = db.session.execute(
            sa.update(Issue)
            .where(Issue.id == issue_id, Issue.status == IssueStatus.SCHEDULED)
            .values(status=IssueStatus.SENDING, started_at=now, progress_at=now)
        ).rowcount
        if won != 1:
            db.session.rollback()
            continue
        issue = db.session.get(Issue, issue_id)
        db.session.refresh(issue)
        try:
            _freeze(issue)
        except Exception as exc:
            # The claim is rolled back with the render: it pauses from "scheduled".
            if not stop_for_error(issue_id, exc, was=(IssueStatus.SCHEDULED,)):
                raise
            continue
        db.session.commit()
        ledger.analyze()
        claimed.append(issue_id)
    return claimed


def _freeze(issue: Issue) -> None:
    """The render every reader gets, and a ledger row for each; not committed."""
    issue.html, issue.text = render_issue(issue)
    ledger.create_deliveries(issue)


def enqueue_batches(issue_id: int) -> int:
    """Start up to SEND_PARALLEL chains of batches; each batch queues the next."""
    config = current_app.config
    due = ledger.due_count(issue_id)
    chains = min(config["SEND_PARALLEL"], -(-due // config["BATCH_SIZE"]))
    for _ in range(chains):
        jobs.send_batch.delay(issue_id)
    if not chains:
        finish_if_done(issue_id)
    return chains


def continue_sending(issue_id: int, countdown: float, after: int) -> None:
    jobs.send_batch.delay(issue_id, after, countdown=countdown or None)


def next_due(issue_id: int, after: int = 0) -> float | None:
    """Seconds until a pending reader no batch holds is due (0: now), or None if none is.

    It looks after subscriber id `after` first, for the reason claim_batch does."""
    now = utcnow()
    unclaimed = (
        Delivery.issue_id == issue_id,
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.claim.is_(None),
    )
    # An index walk that stops at the first due row, not a scan of every pending one.
    due_now = sa.select(Delivery.id).where(
        *unclaimed, sa.or_(Delivery.retry_at.is_(None), Delivery.retry_at <= now)
    )
    ahead = due_now.where(Delivery.subscriber_id > after)
    if any(db.session.scalar(query.limit(1)) is not None for query in (ahead, due_now)):
        return 0.0
    later = db.session.scalar(sa.select(sa.func.min(Delivery.retry_at)).where(*unclaimed))
    return None if later is None else max(0.0, (later - now).total_seconds())


def release_stale_claims(now: datetime | None = None) -> list[int]:
    """Give back rows held by batches that died (killed worker, lost machine)."""
    now = now or utcnow()
    stale = now - timedelta(seconds=current_app.config["CLAIM_LEASE"])
    # `claim IS NOT NULL` lets this run on the small index of claimed rows, not the ledger.
    issue_ids = db.session.scalars(
        sa.update(Delivery)
        .where(
            Delivery.claim.is_not(None),
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.claimed_at < stale,
        )
        .values(claim=None, claimed_at=None)
        .returning(Delivery.issue_id)
    ).all()
    db.session.commit()
    return list(dict.fromkeys(issue_ids))


def stalled_issues(now: datetime | None = None) -> list[int]:
    """Sending issues with pending deliveries that no batch has touched for a while."""
    now = now or utcnow()
    limit = now - timedelta(seconds=current_app.config["STALL_AFTER"])
    return list(
        db.session.scalars(
            sa.select(Issue.id).where(
                Issue.status == IssueStatus.SENDING,
                sa.or_(Issue.progress_at.is_(None), Issue.progress_at < limit),
            )
        )
    )


def touch(issue_id: int) -> None:
    db.session.execute(sa.update(Issue).where(Issue.id == issue_id).values(progress_at=utcnow()))


def finish_if_done(issue_id: int) -> bool:
    """Mark the issue sent once nothing is pending."""
    pending = sa.exists().where(
        Delivery.issue_id == Issue.id, Delivery.status == DeliveryStatus.PENDING
    )
    result = db.session.execute(
        sa.update(Issue)
        .where(Issue.id == issue_id, Issue.status == IssueStatus.SENDING, ~pending)
        .values(status=IssueStatus.SENT, finished_at=utcnow())
    )
    db.session.commit()
    return result.rowcount == 1


def dispatch(now: datetime | None = None) -> list[int]:
    """What beat runs: start due issues, free dead batches' rows, pick up stalled issues."""
    started = claim_due_issues(now)
    revived = release_stale_claims(now) + stalled_issues(now)
    for issue_id in started + [i for i in dict.fromkeys(revived) if i not in started]:
        touch(issue_id)
        db.session.commit()
        enqueue_batches(issue_id)
    return started
