"""Times in the admin: typed in the list's time zone, kept in UTC, shown in the zone with UTC
beside, and the clock changes said out loud."""

from datetime import UTC, date, datetime, timedelta

import pytest
from builders import confirmed_subscriber, draft, post

from newsletter import autopilot
from newsletter.admin import times
from newsletter.extensions import db
from newsletter.models import Issue
from newsletter.sending import ledger

TEHRAN_NAME = "خبرنامهٔ هفتگی تهران"
LONDON_NAME = "النشرة الأسبوعية من لندن"


@pytest.fixture
def tehran(make_list):
    return make_list(slug="tehran", name=TEHRAN_NAME, timezone="Asia/Tehran", direction="rtl")


@pytest.fixture
def london(make_list):
    return make_list(slug="london", name=LONDON_NAME, timezone="Europe/London", direction="rtl")


def schedule(client, issue, send_at):
    return client.post(
        f"/admin/issues/{issue.id}/schedule", data={"send_at": send_at, "csrf_token": client.token}
    )


def stored(issue) -> Issue:
    db.session.expire_all()
    return db.session.get(Issue, issue.id)


# --- Reading and showing, alone ----------------------------------------------------------


def test_a_time_is_shown_in_the_zone_with_utc_beside():
    at = datetime(2026, 12, 4, 5, 30, tzinfo=UTC)
    assert times.shown(at, "Asia/Tehran") == "Fri 4 Dec 2026, 09:00 Asia/Tehran (05:30 UTC)"
    late = datetime(2026, 12, 3, 22, 30, tzinfo=UTC)
    assert times.shown(late, "Asia/Tehran") == (
        "Fri 4 Dec 2026, 02:00 Asia/Tehran (Thu 3 Dec, 22:30 UTC)"
    )
    new_year = datetime(2027, 1, 1, 4, tzinfo=UTC)
    assert times.shown(new_year, "America/New_York") == (
        "Thu 31 Dec 2026, 23:00 America/New_York (Fri 1 Jan 2027, 04:00 UTC)"
    )
    assert times.shown(at, "UTC") == "Fri 4 Dec 2026, 05:30 UTC"


def test_a_repeated_wall_time_takes_the_first_and_says_which():
    reading = times.read_local("2026-10-25T01:30", "Europe/London", "Send at")
    assert reading.at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert "happens twice" in reading.note and "BST (UTC+01:00)" in reading.note
    an_hour_on = times.read_local("2026-10-25T02:30", "Europe/London", "Send at")
    assert an_hour_on.at == datetime(2026, 10, 25, 2, 30, tzinfo=UTC) and not an_hour_on.note


def test_a_skipped_wall_time_moves_forward_and_says_so():
    reading = times.read_local("2027-03-28T01:30", "Europe/London", "Send at")
    assert reading.at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert "does not exist" in reading.note and "moved to 02:30 BST (01:30 UTC)" in reading.note


def test_a_weekly_slot_keeps_its_wall_time_across_the_change():
    before = datetime(2027, 3, 22, tzinfo=UTC)
    sunday = times.next_weekly(6, "09:00", "Europe/London", before)
    assert sunday.at == datetime(2027, 3, 28, 8, tzinfo=UTC) and not sunday.note
    in_the_gap = times.next_weekly(6, "01:30", "Europe/London", before)
    assert in_the_gap.at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC) and in_the_gap.note
    autumn = times.next_weekly(6, "09:00", "Europe/London", datetime(2026, 10, 19, tzinfo=UTC))
    assert autumn.at == datetime(2026, 10, 25, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed, words",
    [
        ("", "enter a date"),
        ("next friday", "is not a date and time"),
        ("2030-02-30T09:00", "is not a date and time"),
        ("2030-03-01T25:00", "is not a date and time"),
        ("0001-01-01T00:00", "between 1900 and 2999"),
        ("9999-12-31T23:00", "between 1900 and 2999"),
    ],
)
def test_what_is_not_a_time_is_refused_with_a_reason(typed, words):
    with pytest.raises(times.TimeInputError, match=words):
        times.read_local(typed, "America/New_York", "Send at")


# --- Composing -----------------------------------------------------------------------------


def test_a_tehran_compose_range_is_read_as_tehran_days(editor_client, tehran):
    # 27 Nov 00:00 in Tehran is 26 Nov 20:30 UTC: a post half an hour later is in the week.
    post(tehran, "in", datetime(2026, 11, 26, 21, 0, tzinfo=UTC))
    post(tehran, "before", datetime(2026, 11, 26, 20, 0, tzinfo=UTC))
    post(tehran, "after", datetime(2026, 12, 3, 21, 0, tzinfo=UTC))
    answer = editor_client.post(
        "/admin/lists/tehran/compose",
        data={"since": "2026-11-27", "until": "2026-12-04", "csrf_token": editor_client.token},
    )
    assert answer.status_code == 302, answer.text
    issue = Issue.query.one()
    assert issue.since == datetime(2026, 11, 26, 20, 30, tzinfo=UTC)
    assert issue.until == datetime(2026, 12, 3, 20, 30, tzinfo=UTC)
    assert [item.title for item in issue.items] == ["Post in"]
    # The range's last day as Tehran counts it: the form's "until" is not included.
    assert issue.subject.endswith("December 3, 2026")
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "Fri 27 Nov 2026, 00:00 Asia/Tehran (Thu 26 Nov, 20:30 UTC)" in page


def test_a_london_compose_range_across_the_autumn_change_gains_an_hour(editor_client, london):
    for guid, when in (
        ("saturday-early", datetime(2026, 10, 23, 23, 30, tzinfo=UTC)),  # 00:30 BST, Sat 24th
        ("sunday-late", datetime(2026, 10, 25, 23, 30, tzinfo=UTC)),  # 23:30 GMT, Sun 25th
        ("monday", datetime(2026, 10, 26, 0, 30, tzinfo=UTC)),
        ("friday", datetime(2026, 10, 23, 22, 30, tzinfo=UTC)),  # 23:30 BST, Fri 23rd
    ):
        post(london, guid, when)
    answer = editor_client.post(
        "/admin/lists/london/compose",
        data={"since": "2026-10-24", "until": "2026-10-26", "csrf_token": editor_client.token},
    )
    assert answer.status_code == 302, answer.text
    issue = Issue.query.one()
    assert issue.until - issue.since == timedelta(hours=49)
    assert [item.title for item in issue.items] == ["Post sunday-late", "Post saturday-early"]


def test_the_compose_form_names_the_zone_and_its_utc(editor_client, tehran):
    page = editor_client.get("/admin/lists/tehran/compose").text
    assert "Posts from (Asia/Tehran)" in page
    assert "00:00 Asia/Tehran (" in page and ":30 UTC)" in page


@pytest.mark.parametrize(
    "since, until, words",
    [
        ("27/11/2026", "2026-12-04", "Posts from: “27/11/2026” is not a date"),
        ("2026-11-27", "2026-13-01", "Until: “2026-13-01” is not a date"),
        ("2026-11-27", "0999-12-01", "between 1900 and 2999"),
        ("", "2026-12-04", "Posts from: enter a date"),
    ],
)
def test_a_bad_compose_range_shows_the_form_again(editor_client, tehran, since, until, words):
    post(tehran, "in", datetime(2026, 11, 28, tzinfo=UTC))
    page = editor_client.post(
        "/admin/lists/tehran/compose",
        data={"since": since, "until": until, "csrf_token": editor_client.token},
    )
    assert page.status_code == 422
    assert words in page.text
    assert Issue.query.count() == 0


def test_a_compose_day_that_starts_in_a_gap_begins_when_the_day_does(editor_client, make_list):
    # Havana's clocks skip from 00:00 to 01:00 on 14 Mar 2027: that day begins at 01:00 CDT.
    havana = make_list(slug="havana", name="Boletín semanal", timezone="America/Havana")
    post(havana, "a", datetime(2027, 3, 14, 6, tzinfo=UTC))
    answer = editor_client.post(
        "/admin/lists/havana/compose",
        data={"since": "2027-03-14", "until": "2027-03-15", "csrf_token": editor_client.token},
    )
    assert answer.status_code == 302, answer.text
    assert Issue.query.one().since == datetime(2027, 3, 14, 5, tzinfo=UTC)
    page = editor_client.get(answer.headers["Location"]).text
    assert "00:00 does not exist in America/Havana on Sun 14 Mar 2027" in page


# --- Scheduling -----------------------------------------------------------------------------


def test_a_tehran_schedule_is_stored_in_utc_and_shown_with_it(editor_client, tehran):
    issue = draft(tehran)
    answer = schedule(editor_client, issue, "2030-03-01T02:00")
    assert answer.status_code == 302
    assert stored(issue).send_at == datetime(2030, 2, 28, 22, 30, tzinfo=UTC)
    shown = "Fri 1 Mar 2030, 02:00 Asia/Tehran (Thu 28 Feb, 22:30 UTC)"
    assert f"Scheduled for {shown}." in editor_client.get(f"/admin/issues/{issue.id}").text
    assert shown in editor_client.get(f"/admin/issues/{issue.id}").text
    assert shown in editor_client.get("/admin/issues").text
    dashboard = editor_client.get("/admin/").text
    assert TEHRAN_NAME in dashboard and shown in dashboard


def test_london_across_the_spring_change(editor_client, london):
    issue = draft(london)
    schedule(editor_client, issue, "2027-03-28T09:00")
    assert stored(issue).send_at == datetime(2027, 3, 28, 8, tzinfo=UTC)  # BST
    editor_client.post(
        f"/admin/issues/{issue.id}/unschedule", data={"csrf_token": editor_client.token}
    )
    schedule(editor_client, issue, "2027-03-27T09:00")
    assert stored(issue).send_at == datetime(2027, 3, 27, 9, tzinfo=UTC)  # GMT


def test_london_in_the_spring_gap_is_moved_forward_with_a_note(editor_client, london):
    issue = draft(london)
    schedule(editor_client, issue, "2027-03-28T01:30")
    assert stored(issue).send_at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "01:30 does not exist in Europe/London on Sun 28 Mar 2027" in page
    assert "moved to 02:30 BST (01:30 UTC)" in page
    assert "Sun 28 Mar 2027, 02:30 Europe/London (01:30 UTC)" in page


def test_london_in_the_autumn_fold_takes_the_first_and_says_so(editor_client, london):
    issue = draft(london)
    schedule(editor_client, issue, "2027-10-31T01:30")
    assert stored(issue).send_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "01:30 happens twice in Europe/London on Sun 31 Oct 2027" in page
    assert "The first was used, 01:30 BST (UTC+01:00), which is 00:30 UTC." in page


@pytest.mark.parametrize(
    "typed, words",
    [
        ("soon", "Not scheduled: Send at: “soon” is not a date and time"),
        ("2030-02-30T09:00", "is not a date and time"),
        ("1800-01-01T09:00", "between 1900 and 2999"),
        ("", "Send at: enter a date"),
        ("2020-01-01T09:00", "Not scheduled: That time has passed: choose a later one."),
    ],
)
def test_a_bad_schedule_shows_the_page_again_and_saves_nothing(editor_client, tehran, typed, words):
    issue = draft(tehran)
    page = schedule(editor_client, issue, typed)
    assert page.status_code == 422
    assert 'id="schedule-error"' in page.text
    assert words in page.text
    assert f'value="{typed}"' in page.text  # what was typed, to correct
    again = stored(issue)
    assert again.status == "draft" and again.send_at is None


def test_typed_markup_comes_back_escaped(editor_client, tehran):
    issue = draft(tehran)
    page = schedule(editor_client, issue, '"><script>alert(1)</script>')
    assert page.status_code == 422
    assert "<script>alert(1)" not in page.text


# --- Other pages ------------------------------------------------------------------------------


def test_the_list_form_shows_the_next_slot_in_the_zone_and_utc(editor_client, tehran):
    page = editor_client.get("/admin/lists/tehran/edit").text
    # Friday 09:00 in Tehran is 05:30 UTC (no clock changes there since 2022).
    assert 'id="next-slot">Next slot: Fri ' in page and ", 09:00 Asia/Tehran (05:30 UTC)" in page


def test_the_dashboard_shows_an_autopilot_lists_next_slot(editor_client, make_list):
    make_list(slug="tehran", name=TEHRAN_NAME, timezone="Asia/Tehran", autopilot=True)
    page = editor_client.get("/admin/").text
    assert "next autopilot slot is" in page and ", 09:00 Asia/Tehran (05:30 UTC)" in page


def test_the_next_slot_is_in_a_week_autopilot_has_not_handled(editor_client, tehran):
    """Once autopilot has done a week, a slot moved later in that week is not its next."""
    upcoming = times.next_slot(tehran).at
    tehran.autopilot = True
    tehran.autopilot_week = autopilot.slot_week(tehran, upcoming)
    db.session.commit()
    page = editor_client.get("/admin/lists/tehran/edit").text
    later = times.shown(upcoming + timedelta(days=7), "Asia/Tehran")
    assert f'id="next-slot">Next slot: {later}. Autopilot has done this week' in page


def test_the_posts_page_dates_are_in_the_lists_zone(editor_client, tehran):
    post(tehran, "late", datetime.now(UTC).replace(hour=22, minute=0, second=0, microsecond=0))
    page = editor_client.get("/admin/lists/tehran/posts").text
    assert ", 01:30 Asia/Tehran (" in page and ", 22:00 UTC)" in page


def test_the_issue_page_shows_when_it_started_and_finished(editor_client, tehran):
    issue = draft(tehran)
    issue.started_at = datetime(2026, 12, 4, 5, 30, tzinfo=UTC)
    issue.finished_at = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
    db.session.commit()
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "Started Fri 4 Dec 2026, 09:00 Asia/Tehran (05:30 UTC)." in page
    assert "Finished Fri 4 Dec 2026, 09:30 Asia/Tehran (06:00 UTC)." in page


# --- At an hour in each subscriber's time zone ---------------------------------------------


def schedule_local(client, issue, at, day):
    return client.post(
        f"/admin/issues/{issue.id}/schedule",
        data={"when": "local", "local_time": at, "local_date": day, "csrf_token": client.token},
    )


def test_an_hour_in_each_subscribers_zone_is_scheduled_and_shown_in_waves(editor_client, tehran):
    for email, zone in (("a@example.org", None), ("b@example.org", "Europe/London")):
        confirmed_subscriber(tehran, email, "خواننده").timezone = zone
    confirmed_subscriber(tehran, "c@example.org").timezone = "America/New_York"
    db.session.commit()
    issue = draft(tehran)
    answer = schedule_local(editor_client, issue, "08:00", "2030-03-01")
    assert answer.status_code == 302, answer.text
    scheduled = stored(issue)
    assert (scheduled.local_time, scheduled.local_date) == ("08:00", date(2030, 3, 1))
    assert scheduled.send_at == datetime(2030, 3, 1, 4, 30, tzinfo=UTC)  # Tehran's comes first
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "Scheduled for 08:00 on Fri 1 Mar 2030 in each subscriber&#39;s time zone" in page
    assert "the first wave goes out Fri 1 Mar 2030, 08:00 Asia/Tehran (04:30 UTC)." in page
    assert "laid out when the first one starts" in page

    ledger.create_deliveries(scheduled)  # what the dispatcher does when the first wave is due
    db.session.commit()
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    waves = page[page.index('id="waves"') :]
    for shown in (
        "Fri 1 Mar 2030, 08:00 Asia/Tehran (04:30 UTC)",  # Tehran, and who gave no zone
        "Fri 1 Mar 2030, 11:30 Asia/Tehran (08:00 UTC)",  # London
        "Fri 1 Mar 2030, 16:30 Asia/Tehran (13:00 UTC)",  # New York
    ):
        assert f"<td>{shown}</td><td>1</td><td>0</td><td>0</td>" in waves
    dashboard = editor_client.get("/admin/").text
    assert "at 08:00 in each subscriber's time zone, the first wave" in dashboard


def test_an_hour_in_the_lists_spring_gap_is_said(editor_client, london):
    issue = draft(london)
    schedule_local(editor_client, issue, "01:30", "2027-03-28")
    assert stored(issue).send_at == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "01:30 does not exist in Europe/London on Sun 28 Mar 2027" in page


@pytest.mark.parametrize(
    "at, day, words",
    [
        ("08:00", "someday", "Date: “someday” is not a date like 2026-12-04."),
        ("08:00", "", "Date: enter a date."),
        ("8 am", "2030-03-01", "HH:MM"),
        ("25:00", "2030-03-01", "Not scheduled: The hour is HH:MM from 00:00 to 23:59"),
        ("08:00", "2020-01-01", "has passed everywhere"),
        ("08:00", "0999-01-01", "between 1900 and 2999"),
    ],
)
def test_a_bad_local_hour_shows_the_page_again_and_saves_nothing(
    editor_client, tehran, at, day, words
):
    issue = draft(tehran)
    page = schedule_local(editor_client, issue, at, day)
    assert page.status_code == 422 and words in page.text
    assert 'value="local" checked' in page.text  # the choice the editor made, kept
    again = stored(issue)
    assert again.status == "draft" and again.local_time is None and again.send_at is None
