"""Time as the world keeps it, checked against data no one here made: the IANA zone database
(through zoneinfo), two Solar Hijri implementations of others (jdatetime's arithmetic and
convertdate's astronomical calendar) and property tests over wide ranges of days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from types import SimpleNamespace
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import jdatetime
import pytest
import sqlalchemy as sa
from builders import add_subscribers, draft, post
from convertdate import persian as astronomical
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter import autopilot, i18n, jalali, zones
from newsletter.digest import render
from newsletter.digest.compose import compose_issue
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Post, Subscriber
from newsletter.sending import lifecycle, local_time, loop


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- The Solar Hijri calendar against others' ------------------------------------------------

FIRST, LAST = jalali.new_year(1300), jalali.new_year(1501)


@pytest.mark.slow
def test_every_day_of_1300_to_1500_is_the_day_jdatetime_says():
    day = FIRST
    while day < LAST:
        theirs = jdatetime.date.fromgregorian(date=day)
        assert jalali.to_jalali(day) == (theirs.year, theirs.month, theirs.day), day
        assert jalali.from_jalali(theirs.year, theirs.month, theirs.day) == day
        day += timedelta(days=1)


def test_esfand_30_is_there_exactly_in_the_leap_years():
    for year in range(1300, 1501):
        assert jalali.is_leap(year) == jdatetime.date(year, 1, 1).isleap(), year
        if jalali.is_leap(year):
            assert jalali.to_jalali(jalali.from_jalali(year, 12, 30)) == (year, 12, 30)
        else:
            with pytest.raises(ValueError):
                jalali.from_jalali(year, 12, 30)


@pytest.mark.slow  # the astronomical calendar computes each equinox (about 20 ms a year)
def test_nowruz_1300_to_1501_is_the_astronomical_calendars():
    """The year starts on the day of the March equinox (before noon in Iran): 1403 and 1399
    were leap years, 1404 is not; the 33-year arithmetic agrees over these two centuries."""
    for year in range(1300, 1502):
        assert jalali.new_year(year) == date(*astronomical.to_gregorian(year, 1, 1)), year


@settings(max_examples=300)
@given(st.dates(min_value=FIRST, max_value=LAST))
def test_a_solar_hijri_day_is_written_with_irans_month_names_and_digits(day):
    theirs = jdatetime.date.fromgregorian(date=day)
    month = jdatetime.date.j_months_fa[theirs.month - 1]
    expected = f"{theirs.day} {month} {theirs.year}".translate(i18n.PERSIAN_DIGITS)
    assert i18n.format_date(day, "fa", "persian") == expected


@pytest.mark.parametrize("year", [100, 621, 3799, 5000, 9999])
def test_a_day_outside_the_calendars_reach_is_still_written(year):
    """The API takes a post's date from year 1 to 9999; the arithmetic reaches 622-3798 CE.
    A date past it is written in Gregorian, in Persian digits, rather than failing."""
    text = i18n.format_date(date(year, 6, 1), "fa", "persian")
    assert text.endswith(str(year).translate(i18n.PERSIAN_DIGITS))
    assert text.isascii() is False


def test_a_post_dated_in_year_100_still_lets_a_solar_hijri_digest_render(app, persian_list):
    issue = draft(persian_list)
    issue.items[0].published_at = utc(100, 5, 1)
    db.session.commit()
    _html, text = render.render_issue(issue)
    assert "۱۰۰" in text


# --- Sending at a local hour: the world's zones --------------------------------------------

EIGHT = time(8, 0)


@pytest.mark.parametrize(
    "zone, day, expected",
    [
        # Tehran kept +03:30 all year from 2022 (tzdata 2022b); in 2021 summer was +04:30.
        ("Asia/Tehran", date(2026, 6, 21), utc(2026, 6, 21, 4, 30)),
        ("Asia/Tehran", date(2021, 6, 21), utc(2021, 6, 21, 3, 30)),
        ("Asia/Kathmandu", date(2026, 6, 21), utc(2026, 6, 21, 2, 15)),
        # Lord Howe's summer time is half an hour: +11 in January, +10:30 in July.
        ("Australia/Lord_Howe", date(2027, 1, 15), utc(2027, 1, 14, 21, 0)),
        ("Australia/Lord_Howe", date(2026, 7, 15), utc(2026, 7, 14, 21, 30)),
        ("Pacific/Chatham", date(2027, 1, 15), utc(2027, 1, 14, 18, 15)),
        ("Pacific/Chatham", date(2026, 7, 15), utc(2026, 7, 14, 19, 15)),
        # +14 reaches the day first, -12 and -11 last: 26 hours apart.
        ("Pacific/Kiritimati", date(2026, 12, 10), utc(2026, 12, 9, 18, 0)),
        ("Etc/GMT+12", date(2026, 12, 10), utc(2026, 12, 10, 20, 0)),
        ("Pacific/Pago_Pago", date(2026, 12, 10), utc(2026, 12, 10, 19, 0)),
    ],
)
def test_the_hour_comes_at_each_zones_own_offset(zone, day, expected):
    assert local_time.moment(day, EIGHT, zone) == expected


@pytest.mark.parametrize(
    "zone, day, hour, expected",
    [
        # RFC 5545: a time in the gap is read with the offset before it, so it comes later
        # by the gap: New York's 02:30 on 14 March 2027 is 03:30 EDT.
        ("America/New_York", date(2027, 3, 14), time(2, 30), utc(2027, 3, 14, 7, 30)),
        # Lord Howe's gap is 30 minutes (02:00 -> 02:30 on 4 October 2026).
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 45)),
        # A time that happens twice is its first: 01:30 EDT on 1 November 2026.
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
        ("Australia/Lord_Howe", date(2027, 4, 4), time(1, 45), utc(2027, 4, 3, 14, 45)),
    ],
)
def test_an_hour_in_a_readers_gap_comes_later_and_in_a_fold_the_first_time(
    zone, day, hour, expected
):
    assert local_time.moment(day, hour, zone) == expected


@pytest.mark.parametrize(
    "old, current", [("Asia/Calcutta", "Asia/Kolkata"), ("Europe/Kiev", "Europe/Kyiv"),
                     ("US/Pacific", "America/Los_Angeles"), ("Iran", "Asia/Tehran")]
)  # fmt: skip
def test_a_zones_older_name_gives_its_current_names_hour(old, current):
    day = date(2026, 7, 1)
    assert local_time.moment(day, EIGHT, old) == local_time.moment(day, EIGHT, current)


ZONE_NAMES = sorted(zones.names())


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(ZONE_NAMES),
    st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 31)),
    st.times(),
)
def test_the_hour_comes_once_and_never_early_in_any_zone_on_any_day(name, day, hour):
    """Over the whole zone database: the moment is the hour on that day, or when a gap
    swallows it (Apia skipped 30 December 2011 whole) as much later as the gap; of a repeated
    hour, the first."""
    hour = hour.replace(second=0, microsecond=0)
    zone = ZoneInfo(name)
    at = local_time.moment(day, hour, name)
    wall = datetime.combine(day, hour)
    got = at.astimezone(zone).replace(tzinfo=None)
    assert timedelta(0) <= got - wall <= timedelta(days=1)
    readings = {wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    real = {r for r in readings if r.astimezone(zone).replace(tzinfo=None) == wall}
    if real:  # the wall time happens once or twice that day: the first
        assert at == min(real)


def readers_in(mailing_list, *zones) -> list[Subscriber]:
    readers = add_subscribers(mailing_list, len(zones))
    for reader, zone in zip(readers, zones, strict=True):
        reader.timezone = zone
    db.session.commit()
    return readers


def wave_of(issue: Issue) -> dict[str | None, datetime]:
    rows = db.session.execute(
        sa.select(Subscriber.timezone, Delivery.not_before)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.issue_id == issue.id)
    )
    return dict(rows.all())


def test_the_dateline_splits_a_day_into_waves_26_hours_apart(app, weekly):
    weekly.timezone = "Europe/London"
    readers_in(weekly, "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kathmandu", None)
    issue = draft(weekly)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    lifecycle.schedule_local(issue, day, "08:00")
    first = datetime.combine(day, EIGHT, UTC) - timedelta(hours=14)
    assert issue.send_at == first
    loop.claim_due_issues(first)
    waves = wave_of(issue)
    assert waves["Pacific/Kiritimati"] == first
    assert waves["Etc/GMT+12"] - first == timedelta(hours=26)
    assert waves["Asia/Kathmandu"] == datetime.combine(day, time(2, 15), UTC)
    assert waves[None] == datetime.combine(day, EIGHT, UTC)  # the list's, London's winter
    # Every reader's copy is dated the day they get it: the chosen day.
    assert issue.dated == day


def test_old_data_with_an_empty_or_vanished_zone_gets_the_lists_hour(app, weekly):
    weekly.timezone = "Asia/Tehran"
    readers_in(weekly, "", "US/Pacific-New", "Mars/Olympus", "Asia/Kathmandu")
    issue = draft(weekly)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    lifecycle.schedule_local(issue, day, "08:00")
    loop.claim_due_issues(issue.send_at)
    tehran = local_time.moment(day, EIGHT, "Asia/Tehran")
    waves = wave_of(issue)
    assert waves[""] == waves["US/Pacific-New"] == waves["Mars/Olympus"] == tehran
    assert waves["Asia/Kathmandu"] == local_time.moment(day, EIGHT, "Asia/Kathmandu")


def test_a_reader_who_moves_east_after_scheduling_gets_the_hour_in_the_new_zone(app, weekly):
    """London's 08:00 was the first wave when scheduled; the reader then moves to Kiritimati,
    whose 08:00 is 14 hours earlier. The send starts then, not at London's hour, when it
    would be 22:00 for them."""
    weekly.timezone = "Europe/London"
    [mover, _stays] = readers_in(weekly, None, None)
    issue = draft(weekly)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    lifecycle.schedule_local(issue, day, "08:00")
    london = datetime.combine(day, EIGHT, UTC)
    assert issue.send_at == london
    mover.timezone = "Pacific/Kiritimati"
    db.session.commit()
    kiritimati = london - timedelta(hours=14)
    assert loop.claim_due_issues(kiritimati) == [issue.id]
    assert wave_of(issue)["Pacific/Kiritimati"] == kiritimati
    assert db.session.get(Issue, issue.id).send_at == kiritimati


def test_a_local_hour_that_cannot_be_read_holds_back_no_other_issue(app, weekly, make_list):
    """Bringing local-hour issues forward runs before any due issue is claimed: one whose
    hour cannot be read (a row edited by hand) keeps its time and stops nothing else."""
    weekly.timezone = "Europe/London"
    readers_in(weekly, None)
    later = draft(weekly)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    lifecycle.schedule_local(later, day, "08:00")
    later.local_time = "25:99"
    london = datetime.combine(day, EIGHT, UTC)
    due = draft(make_list(slug="other"))
    due.status, due.send_at = "scheduled", london - timedelta(hours=3)
    db.session.commit()
    assert loop.claim_due_issues(london - timedelta(hours=2)) == [due.id]
    assert db.session.get(Issue, later.id).send_at == london


def test_a_reader_moving_west_after_scheduling_changes_nothing_early(app, weekly):
    weekly.timezone = "Asia/Tehran"
    [mover] = readers_in(weekly, "Pacific/Kiritimati")
    issue = draft(weekly)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    lifecycle.schedule_local(issue, day, "08:00")
    mover.timezone = "America/New_York"
    db.session.commit()
    # The issue starts when it said (its first wave can only come later now) ...
    assert loop.claim_due_issues(issue.send_at) == [issue.id]
    # ... and the reader's copy waits for New York's hour.
    assert wave_of(issue)["America/New_York"] == local_time.moment(day, EIGHT, "America/New_York")


# --- The weekly autopilot slot -------------------------------------------------------------


def sunday_three_in_london(make_list, saturday: datetime):
    """A list whose slot is Sunday 03:00 in London, the week before `saturday` handled."""
    london = make_list(timezone="Europe/London", send_weekday=6, send_time="03:00", autopilot=True)
    london.autopilot_week = autopilot.slot_week(london, saturday - timedelta(days=7))
    db.session.commit()
    return london


def test_autopilot_composes_a_real_lead_before_a_slot_across_the_spring_change(app, make_list):
    """Sunday 28 March 2027 03:00 in London is 02:00 UTC (BST from 01:00 UTC); three hours'
    lead is 23:00 UTC on Saturday, not midnight, which is three hours by the wall clock."""
    london = sunday_three_in_london(make_list, utc(2027, 3, 27))
    assert autopilot.due_send_time(london, utc(2027, 3, 27, 22, 30)) is None
    assert autopilot.due_send_time(london, utc(2027, 3, 27, 23, 0)) == utc(2027, 3, 28, 2, 0)


def test_autopilot_composes_a_real_lead_before_a_slot_across_the_autumn_change(app, make_list):
    """Sunday 31 October 2027 03:00 in London is 03:00 UTC (GMT from 01:00 UTC); three
    hours' lead is midnight UTC, 01:00 BST."""
    london = sunday_three_in_london(make_list, utc(2027, 10, 30))
    assert autopilot.due_send_time(london, utc(2027, 10, 30, 23, 30)) is None
    assert autopilot.due_send_time(london, utc(2027, 10, 31, 0, 0)) == utc(2027, 10, 31, 3, 0)


@pytest.mark.slow
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(zones.offered()),
    st.integers(0, 6),
    st.times().map(lambda t: f"{t:%H:%M}"),
    st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_the_weekly_slot_is_the_last_whose_lead_has_passed(app, zone, weekday, hhmm, now):
    """In any zone at any time: the slot autopilot works on is its weekday's wall time in the
    list's zone, its compose time (the lead before it, in elapsed hours) has come, and the
    next week's has not."""
    weekly = SimpleNamespace(timezone=zone, send_weekday=weekday, send_time=hhmm)
    lead = timedelta(hours=app.config["AUTOPILOT_LEAD_HOURS"])
    slot = autopilot.send_time(weekly, now)
    at = time.fromisoformat(hhmm)
    shown = slot.astimezone(ZoneInfo(zone)).date()
    [day] = [d for d in (shown, shown - timedelta(days=1)) if d.weekday() == weekday]
    assert local_time.moment(day, at, zone) == slot
    assert slot - lead <= now < local_time.moment(day + timedelta(days=7), at, zone) - lead


@pytest.mark.slow
def test_one_issue_in_each_week_across_the_year_end_and_iso_week_53(app, make_list):
    """Monday 00:30 at +14: the weeks of 21 and 28 December 2026 (ISO 2026-W53) and of
    4 January 2027 each get one issue, at 10:30 UTC on the Sunday before."""
    kiritimati = make_list(
        timezone="Pacific/Kiritimati",
        send_weekday=0,
        send_time="00:30",
        autopilot=True,
        autopilot_send=True,
        autopilot_week=date(2026, 12, 14),
    )
    for hours in range(0, 24 * 24, 6):
        post(kiritimati, f"p{hours}", utc(2026, 12, 18) + timedelta(hours=hours), commit=False)
    db.session.commit()
    now = utc(2026, 12, 19)
    while now < utc(2027, 1, 10):
        autopilot.run_autopilot(now)
        now += timedelta(minutes=30)
    db.session.expire_all()
    sends = [issue.send_at for issue in Issue.query.order_by(Issue.id)]
    assert sends == [utc(2026, 12, 20, 10, 30), utc(2026, 12, 27, 10, 30),
                     utc(2027, 1, 3, 10, 30)]  # fmt: skip
    assert date(2026, 12, 28).isocalendar()[:2] == (2026, 53)
    assert autopilot.slot_week(kiritimati, sends[1]) == date(2026, 12, 28)


# --- Dates shown -----------------------------------------------------------------------------


def test_every_feed_date_is_rfc_822_and_reads_back_as_the_issues_start(client, weekly):
    starts = [utc(1970, 1, 1, 0, 0, 1), utc(2026, 3, 29, 1, 30), utc(2099, 12, 31, 23, 59)]
    for number, started in enumerate(starts, start=1):
        db.session.add(
            Issue(list_id=weekly.id, number=number, subject=f"Issue {number}", status="sent",
                  started_at=started)
        )  # fmt: skip
    db.session.commit()
    feed = ElementTree.fromstring(client.get("/archive/weekly/feed.xml").data)
    dates = [item.findtext("pubDate") for item in feed.iter("item")]
    assert len(dates) == 3
    for text in dates:
        assert text.endswith(" GMT") and len(text.split()[3]) == 4, text
    assert sorted(parsedate_to_datetime(text) for text in dates) == starts


def test_the_api_writes_times_with_an_offset_and_no_date_as_null(api, weekly):
    made = api.post(
        "/posts", {"list": "weekly", "title": "Undated", "url": "https://example.org/u"}
    )
    assert made.status_code == 201, made.json
    tehran = api.post(
        "/posts",
        {"list": "weekly", "title": "Dated", "url": "https://example.org/d",
         "published_at": "2026-03-20T23:30:00+03:30"},
    )  # fmt: skip
    assert tehran.status_code == 201, tehran.json
    posts = {p["title"]: p for p in api.get("/posts?list=weekly").json["items"]}
    assert posts["Undated"]["published_at"] is None
    assert posts["Dated"]["published_at"] == "2026-03-20T20:00:00+00:00"
    for found in posts.values():
        seen = datetime.fromisoformat(found["first_seen_at"])
        assert seen.utcoffset() == timedelta(0)


def test_a_post_with_no_date_shows_its_source_alone(app, weekly):
    db.session.add(
        Post(list_id=weekly.id, guid="undated", url="https://example.org/u", title="Undated",
             source="Example Source", excerpt="Text.", first_seen_at=utc(2019, 8, 3))
    )  # fmt: skip
    db.session.commit()
    issue = compose_issue(weekly, utc(2019, 8, 1), utc(2019, 8, 8))
    html, text = render.render_issue(issue)
    assert re.search(r'<p class="meta"[^>]*><span dir="auto">Example Source</span></p>', html)
    assert "\n\nExample Source\n\n" in text


@pytest.mark.parametrize(
    "day, hour",
    [("0001-01-01", "08:00"), ("9999-12-31", "23:59")],
    ids=["before-year-1-at-plus-14", "past-9999-at-minus-12"],
)
def test_a_local_hour_on_a_day_at_the_calendars_ends_is_refused_with_a_reason(
    api, weekly, day, hour
):
    """At +14 the first day's 08:00 is in year 0 in UTC, at -12 the last day's 23:59 in
    year 10000: neither can be kept, so the API says so (422 naming date), not a 500. (In
    year 1 Kiritimati kept its local mean time, -10:29:20: Etc/GMT-14 is +14 always.)"""
    readers_in(weekly, "Etc/GMT-14", "Etc/GMT+12")
    issue = draft(weekly)
    answer = api.post(f"/issues/{issue.id}/schedule", {"local_time": hour, "date": day})
    assert answer.status_code == 422, answer.json
    assert "date" in answer.json["error"]["fields"]
    assert db.session.get(Issue, issue.id).status == "draft"
