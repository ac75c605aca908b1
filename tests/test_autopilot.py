"""Autopilot: the weekly draft composes itself, and editors hear about it."""

from datetime import UTC, datetime

import pytest
from builders import DUE, post, user

from newsletter import autopilot
from newsletter.extensions import db
from newsletter.models import Issue

# Friday 2030-03-01 09:00 in Tehran is 05:30 UTC; with a 3-hour lead, composing is due from 02:30.
SEND = datetime(2030, 3, 1, 5, 30, tzinfo=UTC)
BEFORE = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def tehran(make_list, app):
    user("writer@example.org")
    return make_list(
        slug="tehran", timezone="Asia/Tehran", send_weekday=4, send_time="09:00", autopilot=True
    )


def test_the_weekly_send_time_follows_the_lists_time_zone(tehran):
    assert autopilot.send_time(tehran, DUE) == SEND
    assert autopilot.send_time(tehran, BEFORE) == datetime(2030, 2, 22, 5, 30, tzinfo=UTC)


def test_a_draft_is_composed_once_and_editors_get_a_link(tehran, inbox):
    post(tehran, "a", datetime(2030, 2, 27, tzinfo=UTC))
    tehran.autopilot_at = datetime(2030, 2, 22, 5, 30, tzinfo=UTC)  # last week's slot is done
    db.session.commit()
    assert autopilot.run_autopilot(BEFORE) == []
    issue_ids = autopilot.run_autopilot(DUE)
    assert len(issue_ids) == 1
    issue = db.session.get(Issue, issue_ids[0])
    assert issue.status == "draft" and [i.title for i in issue.items] == ["Post a"]
    mail = inbox.wait_for(1, recipient="writer@example.org")[0]
    assert f"http://newsletter.test/admin/issues/{issue.id}" in mail.part("plain")
    assert autopilot.run_autopilot(DUE) == []  # the slot is handled


def test_unreviewed_drafts_are_scheduled_for_the_send_time(tehran, inbox):
    tehran.autopilot_send = True
    db.session.commit()
    post(tehran, "a", datetime(2030, 2, 27, tzinfo=UTC))
    issue = db.session.get(Issue, autopilot.run_autopilot(DUE)[0])
    assert issue.status == "scheduled" and issue.send_at == SEND


def test_no_new_posts_means_no_issue_and_editors_are_told(tehran, inbox):
    post(tehran, "old", datetime(2030, 2, 1, tzinfo=UTC))
    db.session.add(
        Issue(
            list_id=tehran.id,
            number=1,
            subject="Last",
            status="sent",
            until=datetime(2030, 2, 22, tzinfo=UTC),
        )
    )
    db.session.commit()
    assert autopilot.run_autopilot(DUE) == []
    assert Issue.query.count() == 1
    mail = inbox.wait_for(1, recipient="writer@example.org")[0]
    assert "no new posts" in mail.message["Subject"]
