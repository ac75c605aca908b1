"""A stopped scheduler (beat, or every worker) is said on every admin page while an issue
waits on it: scheduled issues did not go out, and nothing told anyone why."""

from __future__ import annotations

from datetime import timedelta

from builders import draft
from conftest import wait_until

from newsletter import heartbeats, jobs
from newsletter.extensions import db
from newsletter.models import Heartbeat, utcnow
from newsletter.sending import loop
from newsletter.statuses import IssueStatus

LATE = "Scheduled issues are not going out"


def _waiting(mailing_list, send_at):
    issue = draft(mailing_list)
    issue.status, issue.send_at = IssueStatus.SCHEDULED, send_at
    db.session.commit()
    return issue


def test_a_scheduler_that_stopped_is_said_while_an_issue_waits(editor_client, weekly):
    heartbeats.mark(now=utcnow() - timedelta(hours=3))
    _waiting(weekly, utcnow() + timedelta(days=1))
    page = editor_client.get("/admin/").text
    assert LATE in page and "newsletter beat" in page
    last = db.session.get(Heartbeat, heartbeats.DISPATCH).at
    assert f"{last:%H:%M} UTC" in page
    assert LATE in editor_client.get("/admin/issues").text  # on every page


def test_nothing_is_said_while_the_scheduler_keeps_time(editor_client, weekly):
    _waiting(weekly, utcnow() + timedelta(days=1))
    loop.dispatch()
    assert LATE not in editor_client.get("/admin/").text


def test_nothing_is_said_when_nothing_waits_on_it(editor_client, weekly):
    heartbeats.mark(now=utcnow() - timedelta(days=30))
    draft(weekly)
    assert LATE not in editor_client.get("/admin/").text


def test_a_scheduler_that_never_ran_is_said_once_an_issue_is_overdue(editor_client, weekly):
    issue = _waiting(weekly, utcnow() + timedelta(minutes=5))
    assert LATE not in editor_client.get("/admin/").text  # beat may start any moment
    issue.send_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert "has not run since this installation began" in editor_client.get("/admin/").text


def test_not_said_to_someone_signed_out(client, weekly):
    heartbeats.mark(now=utcnow() - timedelta(hours=3))
    _waiting(weekly, utcnow() + timedelta(days=1))
    assert LATE not in client.get("/admin/login").text


def test_the_dispatcher_a_worker_runs_marks_the_time(app, worker):
    jobs.dispatch_due_issues.delay()

    def marked():
        db.session.rollback()
        return db.session.get(Heartbeat, heartbeats.DISPATCH) is not None

    wait_until(marked, message="the dispatcher marked its run")
    assert utcnow() - db.session.get(Heartbeat, heartbeats.DISPATCH).at < timedelta(minutes=1)
