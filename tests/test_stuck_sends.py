"""Errors that are not the SMTP server's never leave an issue sending for ever: the issue
pauses with the reason and the editors are told; permanent errors are not retried."""

from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest
from builders import (
    DUE,
    add_subscribers,
    confirmed_subscriber,
    draft,
    post,
    start_sending,
    states,
    user,
)
from conftest import wait_until

from newsletter import autopilot
from newsletter.extensions import db
from newsletter.models import Delivery, Issue
from newsletter.sending import lifecycle, loop

DIGEST = Path(__file__).parent.parent / "templates" / "email" / "digest.html"


def editors():
    user("editor@example.org")


@pytest.mark.slow
def test_a_render_that_fails_pauses_the_issue_and_tells_the_editors(
    app, make_list, inbox, worker, templates
):
    editors()
    broken_list = make_list(slug="broken", name="Broken")
    fine_list = make_list(slug="fine", name="Fine")
    add_subscribers(broken_list, 2)
    broken = draft(broken_list)
    # One list's digest needs a template that is not there; the other's renders.
    templates(
        {
            "email/digest.html": '{% extends "email/missing.html" if mailing_list.slug == '
            '"broken" else "email/digest-real.html" %}',
            "email/digest-real.html": DIGEST.read_text(),
        }
    )
    fine = draft_for(fine_list, "p2")
    for issue in (broken, fine):
        lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.dispatch()
    broken, fine = db.session.get(Issue, broken.id), db.session.get(Issue, fine.id)
    assert broken.status == "paused"
    assert "email/missing.html" in broken.pause_reason
    assert fine.status in ("sending", "sent")
    [alert] = inbox.wait_for(1, recipient="editor@example.org")
    assert "paused" in alert.message["Subject"] and "email/missing.html" in alert.part("plain")
    # Fixed, and resumed: it renders now and is sent to everyone.
    templates()
    lifecycle.resume_issue(broken)
    wait_until(lambda: db.session.get(Issue, broken.id).status == "sent")
    assert states(broken.id) == {"total": 2, "sent": 2, "failed": 0, "pending": 0}


def draft_for(mailing_list, guid: str) -> Issue:
    from newsletter.digest.compose import compose_issue
    from newsletter.models import Post

    db.session.add(
        Post(
            list_id=mailing_list.id,
            guid=guid,
            url=f"https://example.org/{guid}",
            title="Another post",
            published_at=datetime(2019, 8, 2, tzinfo=UTC),
        )
    )
    db.session.commit()
    return compose_issue(
        mailing_list, datetime(2019, 8, 1, tzinfo=UTC), datetime(2019, 8, 8, tzinfo=UTC)
    )


def test_a_message_that_cannot_be_built_pauses_the_issue_and_keeps_its_subscribers(
    app, weekly, inbox, tmp_path
):
    # The DKIM key is not where the settings say: no message can be signed.
    app.config.update(
        DKIM_KEY_FILE=str(tmp_path / "gone.pem"), DKIM_SELECTOR="s", DKIM_DOMAIN="example.org"
    )
    app.config["SEND_WINDOW"] = 2
    add_subscribers(weekly, 3)
    issue = draft(weekly)
    start_sending(issue)
    outcome = loop.send_batch(issue.id)
    assert outcome.stopped == "paused"
    issue = db.session.get(Issue, issue.id)
    assert issue.status == "paused" and "gone.pem" in issue.pause_reason
    assert states(issue.id) == {"total": 3, "sent": 0, "failed": 0, "pending": 3}
    assert {d.attempts for d in Delivery.query} == {0}
    assert inbox.messages == []


def test_an_error_in_words_no_database_keeps_still_pauses_the_issue(app, weekly):
    """Writing the reason is the last thing that must not fail: a NUL in an error's words
    (a server's greeting, a file's name) made the pause itself fail, and the send stood.
    (Half a surrogate pair, which storable() also mends, is no test here: pytest-xdist cannot
    carry it in the captured log, and its worker dies.)"""
    add_subscribers(weekly, 1)
    issue = draft(weekly)
    start_sending(issue)
    assert loop.stop_for_error(issue.id, OSError("554 go\x00 away"))
    issue = db.session.get(Issue, issue.id)
    assert issue.status == "paused"
    assert issue.pause_reason.endswith("OSError: 554 go away")


def test_a_message_that_cannot_be_built_is_no_lost_connection(inbox):
    """The second message fails to build while the first is in flight: the first is
    delivered, the error comes out as it is (not as a lost connection, which is
    retried), and the session is still usable."""
    from newsletter import mailer
    from newsletter.sending.pipeline import Pipeline

    def items():
        yield "first", "news@example.org", "ana@example.org", b"Subject: a\r\n\r\nx"
        raise FileNotFoundError("dkim.pem")

    with mailer.connect(mailer.SmtpSettings("127.0.0.1", inbox.port)) as smtp:
        pipe = Pipeline(smtp)
        assert pipe.pipelining
        results = []
        with pytest.raises(FileNotFoundError):
            for key, error in pipe.send_all(items()):
                results.append((key, error))
        assert results == [("first", None)]
        pipe.send("news@example.org", "bo@example.org", b"Subject: b\r\n\r\ny")
    assert [m.recipients for m in inbox.wait_for(2)] == [["ana@example.org"], ["bo@example.org"]]


def test_a_subscriber_whose_address_cannot_be_encoded_fails_alone(app, weekly, inbox):
    add_subscribers(weekly, 2)
    odd = confirmed_subscriber(weekly, "ana@bü—cher.example", "Ana", commit=False)
    db.session.commit()
    issue = draft(weekly)
    start_sending(issue)
    loop.send_batch(issue.id)
    assert states(issue.id) == {"total": 3, "sent": 2, "failed": 1, "pending": 0}
    failed = Delivery.query.filter_by(status="failed").one()
    assert failed.subscriber_id == odd.id and "address" in failed.last_error
    assert db.session.get(Issue, issue.id).status == "sent"


def test_a_notice_whose_template_is_missing_is_not_retried(app, weekly, templates):
    [reader] = add_subscribers(weekly, 1)
    loader = templates(missing={"email/welcome.html"})
    # This app's own task: another test's app may have become Celery's current one. Its
    # task modules are imported as a worker imports them (alone, no other test has yet).
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    send_notice = celery.tasks["newsletter.send_notice"]
    result = send_notice.apply(args=("welcome", reader.subscriptions[0].id))
    assert result.failed()
    assert isinstance(result.result, jinja2.TemplateNotFound)
    assert loader.asked == ["email/welcome.html"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "refused_at, reply, retried",
    [
        ("refuse_data", "554 Message rejected: Email address is not verified.", True),
        ("refuse", "550 5.1.1 No such user", False),
    ],
    ids=["our-sender-unverified", "dead-address"],
)
def test_a_notice_refused_for_our_sender_is_tried_again_and_one_to_a_dead_address_is_not(
    app, weekly, inbox, refused_at, reply, retried
):
    """A welcome that our relay refuses (our sender, not the reader) is tried again for about
    a day, for the relay to be mended, as an issue's copies wait; before, it was dropped."""
    [reader] = add_subscribers(weekly, 1)
    if refused_at == "refuse":
        inbox.handler.refuse[reader.email] = reply
    else:
        inbox.handler.refuse_data = reply
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    send_notice = celery.tasks["newsletter.send_notice"]
    result = send_notice.apply(args=("welcome", reader.subscriptions[0].id))
    tries = sum(inbox.handler.sessions.values())  # MAIL commands: one a try
    if retried:  # run eagerly here, the retries come at once, then the error
        assert result.failed() and tries == 1 + send_notice.max_retries
    else:
        assert (result.successful(), result.result, tries) == (True, False, 1)


def test_one_list_that_fails_does_not_stop_autopilot_for_the_others(app, make_list, inbox):
    editors()
    odd = make_list(slug="odd", name="Odd", from_email="news@bü—cher.example", autopilot=True)
    fine = make_list(slug="fine", name="Fine", autopilot=True)
    for mailing_list in (odd, fine):
        mailing_list.send_weekday, mailing_list.send_time = 4, "09:00"
        mailing_list.timezone = "Asia/Tehran"
        post(mailing_list, f"{mailing_list.slug}-1", datetime(2030, 2, 27, tzinfo=UTC))
    db.session.commit()
    composed = autopilot.run_autopilot(DUE)
    assert len(composed) == 2
    [told] = inbox.wait_for(1)
    assert told.message["Subject"].startswith("Fine: issue 1")
