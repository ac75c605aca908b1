"""Autopilot: the weekly draft composes itself, and editors hear about it."""

from datetime import UTC, date, datetime, timedelta

import pytest
from builders import DUE, post, user

from newsletter import autopilot
from newsletter.extensions import db
from newsletter.models import Issue, MailingList

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
    tehran.autopilot_week = date(2030, 2, 18)  # last week's slot (Friday 22 Feb) is done
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
    # In the list's zone, as every time an editor reads (it said "2030-03-01 05:30 UTC").
    told = inbox.wait_for(1, recipient="writer@example.org")[0].part("plain")
    assert "scheduled for Fri 1 Mar 2030, 09:00 Asia/Tehran (05:30 UTC)." in told


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


# --- One issue a week in the list's zone ----------------------------------------------------
# 2030-03-04 is a Monday. Beat runs autopilot every few seconds; these run it every half hour.


def on_autopilot(make_list, start: datetime, **values):
    """A list sending unreviewed drafts, a post every two hours, whose slot before start is
    done."""
    mailing_list = make_list(autopilot=True, autopilot_send=True, **values)
    done = autopilot.send_time(mailing_list, start)
    mailing_list.autopilot_at = done
    mailing_list.autopilot_week = autopilot.slot_week(mailing_list, done)
    for hours in range(-24, 24 * 20, 2):
        post(mailing_list, f"p{hours}", start + timedelta(hours=hours), commit=False)
    db.session.commit()
    return mailing_list


def run_every_half_hour(start: datetime, end: datetime, changes=()) -> None:
    """Autopilot at each half hour from start to end; each (moment, change) is made, as an
    editor would, before the first run at or after its moment."""
    waiting = sorted(changes, key=lambda change: change[0])
    now = start
    while now < end:
        while waiting and waiting[0][0] <= now:
            waiting.pop(0)[1]()
            db.session.commit()
        autopilot.run_autopilot(now)
        now += timedelta(minutes=30)


def set_to(mailing_list, **values):
    def change():
        for name, value in values.items():
            setattr(mailing_list, name, value)

    return change


def send_times(mailing_list) -> list[datetime]:
    db.session.expire_all()
    issues = Issue.query.filter_by(list_id=mailing_list.id).order_by(Issue.id).all()
    assert [issue.status for issue in issues] == ["scheduled"] * len(issues)
    return [issue.send_at for issue in issues]


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.slow
def test_a_slot_moved_later_in_a_handled_week_is_not_a_second_issue(make_list):
    """The operator's case: 08:00's issue was scheduled at 05:00, a post came, and the slot
    became 10:00; at 07:00 a second issue was scheduled for 10:00, and both went out."""
    start = utc(2030, 3, 4, 0, 0)
    weekly = on_autopilot(make_list, start, timezone="UTC", send_weekday=0, send_time="08:00")
    run_every_half_hour(
        start, utc(2030, 3, 12), [(utc(2030, 3, 4, 6, 0), set_to(weekly, send_time="10:00"))]
    )
    assert send_times(weekly) == [utc(2030, 3, 4, 8, 0), utc(2030, 3, 11, 10, 0)]


@pytest.mark.slow
def test_a_zone_moved_west_in_a_handled_week_is_not_a_second_issue(make_list):
    """Monday 08:00 in London is 08:00 UTC; moved to New York once it is scheduled, the same
    Monday's 08:00 there (13:00 UTC) is the same week. The week after, New York's clocks
    have gone forward (10 March 2030): 08:00 EDT is 12:00 UTC."""
    start = utc(2030, 3, 4, 0, 0)
    weekly = on_autopilot(
        make_list, start, timezone="Europe/London", send_weekday=0, send_time="08:00"
    )
    run_every_half_hour(
        start,
        utc(2030, 3, 12),
        [(utc(2030, 3, 4, 6, 0), set_to(weekly, timezone="America/New_York"))],
    )
    assert send_times(weekly) == [utc(2030, 3, 4, 8, 0), utc(2030, 3, 11, 12, 0)]


@pytest.mark.slow
def test_a_slot_moved_into_the_next_week_is_that_weeks(make_list):
    """Friday's issue is done; moved to Monday, the coming Monday (the next week) has one,
    and moved to Sunday after it, that week has no other: the next is a week on."""
    start = utc(2030, 3, 1, 0, 0)
    weekly = on_autopilot(make_list, start, timezone="UTC", send_weekday=4, send_time="09:00")
    run_every_half_hour(
        start,
        utc(2030, 3, 18),
        [
            (utc(2030, 3, 2, 12, 0), set_to(weekly, send_weekday=0)),
            (utc(2030, 3, 5, 12, 0), set_to(weekly, send_weekday=6)),
        ],
    )
    assert send_times(weekly) == [
        utc(2030, 3, 1, 9, 0),
        utc(2030, 3, 4, 9, 0),
        utc(2030, 3, 17, 9, 0),
    ]


@pytest.mark.slow
def test_the_week_is_the_lists_own_in_tehran(make_list):
    """Monday 01:00 in Tehran (+03:30) is Sunday 21:30 UTC, in the UTC week before Monday
    09:00 there (05:30 UTC), but in the same week in Tehran: moved to 09:00, no second."""
    start = utc(2030, 3, 3, 12, 0)
    tehran = on_autopilot(
        make_list, start, timezone="Asia/Tehran", send_weekday=0, send_time="01:00"
    )
    run_every_half_hour(
        start,
        utc(2030, 3, 11, 12, 0),
        [(utc(2030, 3, 4, 0, 0), set_to(tehran, send_time="09:00"))],
    )
    assert send_times(tehran) == [utc(2030, 3, 3, 21, 30), utc(2030, 3, 11, 5, 30)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "start, moved, expected",
    [
        # 31 March 2030: London's clocks go forward at 01:00 UTC, and 01:30 does not exist
        # (it is taken as 01:30 GMT, 01:30 UTC).
        (
            utc(2030, 3, 23, 12, 0),
            utc(2030, 3, 31, 0, 45),
            [utc(2030, 3, 24, 0, 30), utc(2030, 3, 31, 0, 30), utc(2030, 4, 7, 0, 30)],
        ),
        # 27 October 2030: they go back at 01:00 UTC, and 01:30 happens twice (the first,
        # BST, is taken: 00:30 UTC).
        (
            utc(2030, 10, 19, 12, 0),
            utc(2030, 10, 27, 0, 0),
            [utc(2030, 10, 19, 23, 30), utc(2030, 10, 26, 23, 30), utc(2030, 11, 3, 1, 30)],
        ),
    ],
    ids=["clocks-forward", "clocks-back"],
)
def test_one_issue_a_week_across_a_clock_change(make_list, start, moved, expected):
    """Sunday 00:30 in London, moved to 01:30 on the Sunday the clocks change, once that
    Sunday's issue is scheduled: the week has one issue, and the next week its own."""
    london = on_autopilot(
        make_list, start, timezone="Europe/London", send_weekday=6, send_time="00:30"
    )
    run_every_half_hour(
        start, start + timedelta(days=16), [(moved, set_to(london, send_time="01:30"))]
    )
    assert send_times(london) == expected


def test_the_upgrade_keeps_the_week_autopilot_handled(app, make_list):
    """Migration 0023 gives a list the week of the slot it handled in the list's zone
    (Sunday 21:30 UTC is Monday in Tehran), on the database this run uses."""
    from flask_migrate import downgrade, upgrade

    tehran = make_list(
        slug="tehran", timezone="Asia/Tehran", send_weekday=0, send_time="01:00", autopilot=True
    )
    tehran.autopilot_at = utc(2030, 3, 3, 21, 30)
    db.session.commit()
    list_id = tehran.id
    db.session.remove()
    downgrade(revision="0022")
    upgrade()
    assert db.session.get(MailingList, list_id).autopilot_week == date(2030, 3, 4)
