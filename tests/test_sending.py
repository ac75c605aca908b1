"""Sending an issue: claiming, the ledger, batches over SMTP, and what goes wrong."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import add_subscribers, draft, start_sending, states
from conftest import wait_until

from newsletter.extensions import db
from newsletter.models import BatchClaim, Delivery, Issue, Subscriber, Subscription
from newsletter.sending import lifecycle, loop
from newsletter.subscriptions import service


def test_an_issue_is_claimed_once_however_many_beats_race(app, weekly):
    add_subscribers(weekly, 3)
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    results: list[list[int]] = []

    def beat():
        with app.app_context():
            results.append(loop.claim_due_issues())

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert states(issue.id) == {"total": 3, "sent": 0, "failed": 0, "pending": 3}


def test_deliveries_go_only_to_confirmed_active_subscribers(app, weekly):
    add_subscribers(weekly, 2)
    unconfirmed = Subscriber(email="later@example.org", attributes={})
    unconfirmed.subscriptions.append(Subscription(list_id=weekly.id, status="unconfirmed"))
    blocked = Subscriber(email="blocked@example.org", status="blocklisted", attributes={})
    blocked.subscriptions.append(Subscription(list_id=weekly.id, status="confirmed"))
    db.session.add_all([unconfirmed, blocked])
    db.session.commit()
    issue = draft(weekly)
    start_sending(issue)
    assert states(issue.id)["total"] == 2


def test_the_render_is_frozen_when_sending_starts(app, weekly):
    add_subscribers(weekly, 1)
    issue = draft(weekly)
    start_sending(issue)
    db.session.refresh(issue)
    assert "First post" in issue.html and "@@NLUNSUBSCRIBE@@" in issue.html
    assert "First post" in issue.text


def test_every_confirmed_subscriber_gets_one_personal_email(app, weekly, inbox, worker):
    app.config["BATCH_SIZE"] = 2
    add_subscribers(weekly, 5)
    issue = draft(weekly)
    lifecycle.send_issue_now(issue)
    wait_until(
        lambda: loop.finish_if_done(issue.id) or db.session.get(Issue, issue.id).status == "sent"
    )
    assert states(issue.id) == {"total": 5, "sent": 5, "failed": 0, "pending": 0}
    assert sorted(r for m in inbox.messages for r in m.recipients) == [
        f"reader{i}@example.org" for i in range(5)
    ]
    mail = inbox.to("reader3@example.org")[0]
    assert "Hello Reader 3," in mail.part("html")
    assert mail.message["List-Unsubscribe"].count("http://newsletter.test/unsubscribe/") == 1
    ids = {m.message["Message-ID"] for m in inbox.messages}
    assert len(ids) == 5
    message_ids = db.session.scalars(sa.select(Delivery.message_id)).all()
    assert set(message_ids) == ids


@pytest.mark.slow
def test_smtp_down_keeps_deliveries_pending_and_retries(app, weekly, inbox, worker):
    add_subscribers(weekly, 2)
    issue = draft(weekly)
    inbox.stop()
    lifecycle.send_issue_now(issue)
    wait_until(
        lambda: db.session.get(Issue, issue.id).error_streak >= 2,
        message="the failed connections were not counted",
    )
    # Nothing was claimed while the server was down, so readers keep their attempts.
    rows = db.session.execute(sa.select(Delivery.status, Delivery.attempts)).all()
    assert rows == [("pending", 0)] * 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BatchClaim)) == 0
    assert db.session.get(Issue, issue.id).status == "sending"
    inbox.start()
    wait_until(lambda: db.session.get(Issue, issue.id).status == "sent", timeout=30)
    assert states(issue.id) == {"total": 2, "sent": 2, "failed": 0, "pending": 0}
    assert len(inbox.messages) == 2


@pytest.mark.slow
def test_a_permanent_refusal_is_recorded_as_failed_with_its_reason(app, weekly, inbox, worker):
    add_subscribers(weekly, 3)
    inbox.handler.refuse["reader1@example.org"] = "550 5.1.1 No such user"
    issue = draft(weekly)
    lifecycle.send_issue_now(issue)
    wait_until(lambda: db.session.get(Issue, issue.id).status == "sent")
    assert states(issue.id) == {"total": 3, "sent": 2, "failed": 1, "pending": 0}
    failed = db.session.scalar(sa.select(Delivery).where(Delivery.status == "failed"))
    assert failed.last_error.startswith("550")


def test_a_refusal_in_words_no_database_keeps_is_recorded(app, weekly, inbox):
    """A server's reply may hold anything: a NUL in it once failed the batch's writes."""
    add_subscribers(weekly, 2)
    inbox.handler.refuse["reader1@example.org"] = "550 5.1.1 No\x00 such user \U0001f6ab"
    issue = draft(weekly)
    start_sending(issue)
    assert loop.send_batch(issue.id).sent == 1
    assert states(issue.id) == {"total": 2, "sent": 1, "failed": 1, "pending": 0}
    failed = db.session.scalar(sa.select(Delivery).where(Delivery.status == "failed"))
    assert failed.last_error == "550 5.1.1 No such user \U0001f6ab"


@pytest.mark.slow
def test_a_temporary_refusal_is_retried(app, weekly, inbox, worker):
    add_subscribers(weekly, 2)
    inbox.handler.refuse["reader0@example.org"] = "451 4.7.1 Try again later"
    issue = draft(weekly)
    lifecycle.send_issue_now(issue)
    wait_until(
        lambda: db.session.scalar(
            sa.select(Delivery.attempts).where(Delivery.last_error.like("451%"))
        )
    )
    assert db.session.get(Issue, issue.id).status == "sending"
    del inbox.handler.refuse["reader0@example.org"]
    wait_until(lambda: db.session.get(Issue, issue.id).status == "sent", timeout=30)
    assert states(issue.id) == {"total": 2, "sent": 2, "failed": 0, "pending": 0}


def test_a_subscriber_who_leaves_during_a_send_is_not_mailed(app, weekly):
    readers = add_subscribers(weekly, 3)
    issue = draft(weekly)
    start_sending(issue)
    service.unsubscribe(readers[1].subscriptions[0], "one-click")
    assert states(issue.id) == {"total": 2, "sent": 0, "failed": 0, "pending": 2}


def test_paused_issues_send_nothing_until_resumed(app, weekly, inbox, worker):
    add_subscribers(weekly, 2)
    issue = draft(weekly)
    start_sending(issue)
    lifecycle.pause_issue(issue)
    loop.start_batches(issue.id)  # a batch already queued when the pause came
    with pytest.raises(lifecycle.StateError):
        lifecycle.pause_issue(issue)
    assert states(issue.id)["pending"] == 2
    lifecycle.resume_issue(issue)
    wait_until(lambda: db.session.get(Issue, issue.id).status == "sent")
    # Only the issue's: a notice an earlier test queued may still arrive by retry.
    ours = re.compile(rb"^Message-ID: <\d+\.[0-9a-f]+\.%d\." % issue.id, re.MULTILINE)
    assert len([m for m in inbox.messages if ours.search(m.data)]) == 2


def test_a_cancelled_issue_stops(app, weekly):
    add_subscribers(weekly, 1)
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC) + timedelta(hours=1))
    lifecycle.cancel_issue(issue)
    assert issue.status == "cancelled"
    assert loop.claim_due_issues(datetime.now(UTC) + timedelta(hours=2)) == []
    with pytest.raises(lifecycle.StateError):
        lifecycle.schedule_issue(issue, datetime.now(UTC) + timedelta(hours=1))


def test_scheduling_in_the_past_twice_or_without_offset_is_refused(app, weekly):
    issue = draft(weekly)
    with pytest.raises(ValueError, match="has passed"):
        lifecycle.schedule_issue(issue, datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(ValueError, match="offset"):
        lifecycle.schedule_issue(issue, datetime(2030, 1, 1, 9, 0))
    lifecycle.schedule_issue(issue, datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(lifecycle.StateError):
        lifecycle.schedule_issue(issue, datetime.now(UTC) + timedelta(days=2))
    assert db.session.get(Issue, issue.id).status == "scheduled"


def test_send_at_is_stored_in_utc(app, weekly):
    issue = draft(weekly)
    tehran = datetime.fromisoformat("2030-03-01T09:00:00+03:30")
    lifecycle.schedule_issue(issue, tehran)
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).send_at == datetime(2030, 3, 1, 5, 30, tzinfo=UTC)


def test_an_issue_without_subscribers_is_sent_at_once(app, weekly):
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.dispatch()
    assert db.session.get(Issue, issue.id).status == "sent"


def test_a_stalled_send_is_picked_up_again(app, weekly):
    add_subscribers(weekly, 1)
    issue = draft(weekly)
    start_sending(issue)
    later = datetime.now(UTC) + timedelta(seconds=app.config["STALL_AFTER"] + 60)
    assert loop.stalled_issues(later) == [issue.id]
    assert loop.stalled_issues() == []


@pytest.mark.slow
def test_batches_running_at_once_never_both_send_to_one_subscriber(app, weekly, inbox):

    app.config["BATCH_SIZE"] = 4
    add_subscribers(weekly, 6)
    issue = draft(weekly)
    start_sending(issue)
    outcomes = []

    def run():
        with app.app_context():
            outcomes.append(loop.send_batch(issue.id))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(o.sent for o in outcomes) == 6
    assert len(inbox.messages) == 6
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "sent"


def test_an_issue_moved_later_as_the_dispatcher_reads_it_waits(app, weekly, monkeypatch):
    """The dispatcher read the due issues, an editor moved one to next week, and the claim,
    which checked only that it was still scheduled, sent it at once."""
    add_subscribers(weekly, 1)
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(days=7)
    read = db.session.scalars

    def read_then_reschedule(statement, *args, **kwargs):
        due = read(statement, *args, **kwargs).all()
        with db.engine.begin() as editor:  # the editor's own request, committed in between
            editor.execute(sa.update(Issue).where(Issue.id == issue.id).values(send_at=later))
        return _Rows(due)

    monkeypatch.setattr(db.session, "scalars", read_then_reschedule)
    assert loop.claim_due_issues(datetime.now(UTC) + timedelta(seconds=1)) == []
    monkeypatch.undo()
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "scheduled"


class _Rows(list):
    """What .scalars() gives, as far as the claim reads it."""

    def all(self) -> list:
        return list(self)
