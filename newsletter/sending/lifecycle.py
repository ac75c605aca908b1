"""An issue's states as the editors move them: draft → scheduled → sending ⇄ paused, or
cancelled. (The send itself, and the moves it makes by itself, are loop.py's.)

Each transition is one function, and each is a guarded UPDATE, so two workers or two
beats racing for the same issue cannot both win.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from newsletter import jobs
from newsletter.addresses import unicode_domain
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.fields import FIRST_DAY, LAST_DAY
from newsletter.models import Issue, utcnow
from newsletter.sending import holds, local_time, loop
from newsletter.statuses import IssueStatus

# A send_at this far in the past still counts as "now" (clock skew, slow forms).
PAST_GRACE = timedelta(minutes=1)
# The states a schedule starts from: a draft, or with reschedule=True (the admin's form on
# a scheduled issue) a scheduled issue that has not started, moved in one step.
SCHEDULABLE = {False: (IssueStatus.DRAFT,), True: (IssueStatus.DRAFT, IssueStatus.SCHEDULED)}


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


def schedule_issue(issue: Issue, send_at: datetime, reschedule: bool = False) -> None:
    if send_at.tzinfo is None:
        raise ScheduleError(
            "send_at needs a time zone offset, for example 2026-12-01T09:00:00+01:00."
        )
    if send_at < utcnow() - PAST_GRACE:
        raise ScheduleError("That time has passed: choose a later one.")
    if not issue.items:
        raise StateError("An issue with no items cannot be scheduled.")
    _transition(
        issue,
        SCHEDULABLE[reschedule],
        IssueStatus.SCHEDULED,
        send_at=send_at.astimezone(UTC),
        local_time=None,
        local_date=None,
    )


def schedule_local(issue: Issue, day: date, at: str, reschedule: bool = False) -> None:
    """Send at `at` ("08:00") on `day` in each subscriber's time zone (the list's for those
    who gave none): in waves, from the first zone to reach the hour to the last, up to 26
    hours apart. Zones whose hour has passed already get it at once; all passed is refused."""
    try:
        hour = local_time.parse_hour(at)
    except ValueError as exc:
        raise ScheduleError(str(exc), field="local_time") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ScheduleError(f"The date must fall between {FIRST_DAY} and {LAST_DAY}.", field="date")
    if not issue.items:
        raise StateError("An issue with no items cannot be scheduled.")
    by_zone = local_time.moments(issue.mailing_list, day, hour)
    if max(by_zone.values()) < utcnow() - PAST_GRACE:
        raise ScheduleError(f"{at} on {day.isoformat()} has passed everywhere.", field="date")
    _transition(
        issue,
        SCHEDULABLE[reschedule],
        IssueStatus.SCHEDULED,
        send_at=min(by_zone.values()),
        local_time=at,
        local_date=day,
    )


def unschedule_issue(issue: Issue) -> None:
    _transition(
        issue,
        (IssueStatus.SCHEDULED,),
        IssueStatus.DRAFT,
        send_at=None,
        local_time=None,
        local_date=None,
    )


def send_issue_now(issue: Issue) -> None:
    if not issue.items:
        raise StateError("An issue with no items cannot be sent.")
    _transition(
        issue, (IssueStatus.DRAFT, IssueStatus.SCHEDULED), IssueStatus.SCHEDULED, send_at=utcnow()
    )
    jobs.dispatch_due_issues.nudge()  # due now: beat dispatches it within its interval anyway


def pause_issue(issue: Issue) -> None:
    _transition(issue, (IssueStatus.SENDING,), IssueStatus.PAUSED)


def resume_issue(issue: Issue) -> None:
    holds.release(issue)  # the cause fixed: every domain's copies go again too
    _transition(
        issue,
        (IssueStatus.PAUSED,),
        IssueStatus.SENDING,
        progress_at=utcnow(),
        resumed_at=utcnow(),
        error_streak=0,
        pause_reason=None,
    )
    loop.resume_sending(issue)


def release_hold(issue: Issue, domain: str) -> None:
    """Send a held domain's copies now, not when its hold ends (its block lifted sooner)."""
    holds.release(issue, unicode_domain(domain))
    db.session.commit()
    if issue.status == IssueStatus.SENDING:
        loop.start_batches(issue.id)


def cancel_issue(issue: Issue) -> None:
    _transition(
        issue,
        (IssueStatus.DRAFT, IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.PAUSED),
        IssueStatus.CANCELLED,
        finished_at=utcnow(),
    )
