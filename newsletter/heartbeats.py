"""When the scheduler last ran. Beat queues the dispatcher every BEAT_INTERVAL and a worker
runs it; with beat or every worker stopped, no issue starts and no stalled send restarts,
and nothing else would say so. The admin says so (late_since) while an issue waits on it."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter.extensions import db
from newsletter.models import Heartbeat, Issue, utcnow
from newsletter.statuses import IssueStatus

DISPATCH = "dispatch"
# Late after this many beats missed, and never sooner than a minute: a worker busy with a
# batch takes the dispatcher up between two of them.
BEATS_MISSED = 6
LATE_AT_LEAST = timedelta(seconds=60)


def mark(name: str = DISPATCH, now: datetime | None = None) -> None:
    """Records that `name` ran now; commits."""
    now = now or utcnow()
    if not db.session.execute(
        sa.update(Heartbeat).where(Heartbeat.name == name).values(at=now)
    ).rowcount:
        db.session.add(Heartbeat(name=name, at=now))
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # another worker's first beat came first: theirs will do
        db.session.rollback()


def late_since(now: datetime | None = None) -> datetime | bool | None:
    """None while the scheduler keeps time or nothing waits on it; else when it last ran,
    or True when it never has and an issue is overdue."""
    now = now or utcnow()
    late = max(LATE_AT_LEAST, timedelta(seconds=BEATS_MISSED * current_app.config["BEAT_INTERVAL"]))
    last = db.session.get(Heartbeat, DISPATCH)
    if last is not None and last.at >= now - late:
        return None
    if last is None:
        waiting = (Issue.status == IssueStatus.SCHEDULED) & (Issue.send_at < now - late)
    else:
        waiting = Issue.status.in_((IssueStatus.SCHEDULED, IssueStatus.SENDING))
    if not db.session.scalar(sa.select(sa.exists().where(waiting))):
        return None
    return last.at if last is not None else True
