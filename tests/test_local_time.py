"""Sending at an hour in each subscriber's own time zone, in waves; each subscription's
delivery mode; both through the API."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from builders import add_subscribers, draft, error_of, states

from newsletter.extensions import db
from newsletter.models import Delivery, Issue, Subscriber, Subscription
from newsletter.sending import ledger, lifecycle, local_time, loop

ZONES = ["Asia/Tehran", "America/New_York", None]  # None: the list's (Europe/London)


def readers_in_zones(weekly, per_zone: int = 2) -> None:
    weekly.timezone = "Europe/London"
    readers = add_subscribers(weekly, per_zone * len(ZONES))
    for n, reader in enumerate(readers):
        reader.timezone = ZONES[n % len(ZONES)]
    db.session.commit()


def tomorrow() -> date:
    return (datetime.now(UTC) + timedelta(days=1)).date()


def test_each_zone_gets_the_hour_in_its_own_wave(app, weekly, inbox):
    readers_in_zones(weekly)
    issue = draft(weekly)
    day = tomorrow()
    lifecycle.schedule_local(issue, day, "08:00")
    at = local_time.parse_hour("08:00")
    expected = {
        zone or "Europe/London": local_time.moment(day, at, zone or "Europe/London")
        for zone in ZONES
    }
    # It starts at the first zone's moment: Tehran's 08:00.
    assert issue.send_at == min(expected.values()) == expected["Asia/Tehran"]
    loop.claim_due_issues(issue.send_at)
    waves = ledger.waves(issue.id)
    assert [w.not_before for w in waves] == sorted(expected.values())
    assert [(w.pending, w.sent) for w in waves] == [(2, 0)] * 3

    # The clock reaches Tehran's hour (moved for the test): that wave alone goes.
    first = expected["Asia/Tehran"]
    db.session.execute(
        sa.update(Delivery).where(Delivery.not_before == first).values(retry_at=datetime.now(UTC))
    )
    db.session.commit()
    result = loop.run_batch(issue.id)
    assert result["sent"] == 2
    tehran = {r.email for r in Subscriber.query.filter_by(timezone="Asia/Tehran")}
    assert {m.recipients[0] for m in inbox.messages} == tehran
    assert [(w.pending, w.sent) for w in ledger.waves(issue.id)] == [(0, 2), (2, 0), (2, 0)]
    # Hours to the next wave: no task waits in the broker, beat wakes the send on time.
    later = sorted(expected.values())[1]
    stall = timedelta(seconds=app.config["STALL_AFTER"] + 1)
    assert loop.stalled_issues(later - timedelta(minutes=5)) == []
    assert loop.stalled_issues(later + stall) == [issue.id]
    assert states(issue.id)["pending"] == 4


def test_a_zone_whose_hour_has_passed_gets_it_at_once_and_all_passed_is_refused(app, weekly):
    readers_in_zones(weekly, per_zone=1)
    issue = draft(weekly)
    yesterday = (datetime.now(UTC) - timedelta(days=2)).date()
    with pytest.raises(lifecycle.ScheduleError, match="passed everywhere"):
        lifecycle.schedule_local(issue, yesterday, "08:00")
    with pytest.raises(lifecycle.ScheduleError) as bad:
        lifecycle.schedule_local(issue, tomorrow(), "8 am")
    assert bad.value.field == "local_time"
    assert Issue.query.one().status == "draft"


def test_waves_follow_summer_time(app, weekly):
    """08:00 in London is 07:00 UTC in summer and 08:00 UTC in winter; the issue's waves
    follow the clock change of 25 October 2026."""
    at = local_time.parse_hour("08:00")
    assert local_time.moment(date(2026, 10, 24), at, "Europe/London").hour == 7
    assert local_time.moment(date(2026, 10, 25), at, "Europe/London").hour == 8
    # A wall time the zone skips (01:30 on 29 March 2026) still comes, not never.
    skipped = local_time.moment(date(2026, 3, 29), local_time.parse_hour("01:30"), "Europe/London")
    assert skipped == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # An unknown zone (a stored value that is no longer valid) falls back to the list's.
    assert local_time.moment(date(2026, 12, 7), at, "Mars/Olympus", "Asia/Tehran") == datetime(
        2026, 12, 7, 4, 30, tzinfo=UTC
    )


def test_delivery_modes_decide_who_gets_the_digest(app, weekly):
    weekly.each_post = True
    readers = add_subscribers(weekly, 3)
    for reader, mode in zip(readers, ("digest", "each", "both"), strict=True):
        reader.subscriptions[0].delivery = mode
    db.session.commit()
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.claim_due_issues()
    got = set(db.session.scalars(sa.select(Delivery.subscriber_id)))
    assert got == {readers[0].id, readers[2].id}  # "each" only: posts on their own


def test_the_api_schedules_at_a_local_hour_and_shows_the_waves(api, weekly):
    readers_in_zones(weekly, per_zone=1)
    issue = draft(weekly)
    day = tomorrow().isoformat()
    answer = api.post(f"/issues/{issue.id}/schedule", {"local_time": "08:00", "date": day})
    assert answer.status_code == 200, answer.json
    assert (answer.json["local_time"], answer.json["date"]) == ("08:00", day)
    assert answer.json["status"] == "scheduled"
    for body, field in (
        ({"local_time": "25:00", "date": day}, "local_time"),
        ({"local_time": "08:00"}, "local_time"),
        ({"send_at": "2030-01-01T08:00:00+00:00", "local_time": "08:00", "date": day}, None),
        ({}, "send_at"),
    ):
        refused = api.post(f"/issues/{issue.id}/unschedule")
        refused = api.post(f"/issues/{issue.id}/schedule", body)
        assert refused.status_code == 422, (body, refused.json)
        if field:
            assert field in error_of(refused)["fields"], (body, refused.json)
    assert db.session.get(Issue, issue.id).status == "draft"


def test_the_api_changes_time_zone_language_and_delivery(api, weekly, make_list):
    weekly.each_post = True
    digest_only = make_list(slug="monthly", name="ماهنامه")
    [reader] = add_subscribers(weekly, 1)
    reader.subscriptions.append(Subscription(list_id=digest_only.id, status="confirmed"))
    db.session.commit()
    path = f"/subscribers/{reader.id}"
    changed = api.patch(
        path,
        {
            "time_zone": "Asia/Tehran",
            "locale": "fa",
            "subscriptions": [{"list": "weekly", "delivery": "both"}],
        },
    )
    assert changed.status_code == 200, changed.json
    shown = api.get(path).json
    assert (shown["time_zone"], shown["locale"]) == ("Asia/Tehran", "fa")
    modes = {s["list"]: s["delivery"] for s in shown["subscriptions"]}
    assert modes == {"weekly": "both", "monthly": "digest"}
    for body, field in (
        ({"time_zone": "Asia/Atlantis"}, "time_zone"),
        ({"locale": "xx"}, "locale"),
        ({"subscriptions": [{"list": "monthly", "delivery": "each"}]}, "delivery"),
        ({"subscriptions": [{"list": "nowhere", "delivery": "digest"}]}, "subscriptions"),
        ({"subscriptions": [{"list": "weekly", "delivery": "sometimes"}]}, None),
    ):
        refused = api.patch(path, body)
        assert refused.status_code == 422, (body, refused.json)
        if field:
            assert field in error_of(refused)["fields"], (body, refused.json)
    again = api.get(path).json  # nothing changed by the refusals
    assert (again["time_zone"], again["locale"]) == ("Asia/Tehran", "fa")
    assert {s["list"]: s["delivery"] for s in again["subscriptions"]} == modes
    # Empty strings give the choice back to the list.
    assert api.patch(path, {"time_zone": "", "locale": ""}).json["time_zone"] is None


@pytest.mark.slow
def test_each_subscriber_gets_the_digest_in_their_language(app, weekly, inbox):
    """A Persian list: a subscriber who chose English gets the English chrome, the rest the
    Persian; both copies carry message ids of the same issue."""
    weekly.language, weekly.direction = "fa", "rtl"
    persian, english = add_subscribers(weekly, 2)
    english.locale = "en"
    db.session.commit()
    issue = draft(weekly)
    lifecycle.schedule_issue(issue, datetime.now(UTC))
    loop.claim_due_issues()
    assert list(db.session.get(Issue, issue.id).renders) == ["en"]
    assert loop.send_batch(issue.id).sent == 2
    got = {m.recipients[0]: m for m in inbox.wait_for(2)}
    assert "لغو اشتراک" in got[persian.email].part("plain")
    assert "Unsubscribe" in got[english.email].part("plain")
    assert "لغو اشتراک" not in got[english.email].part("plain")
    ids = {m.message["Message-ID"].split(".", 2)[2] for m in got.values()}
    assert len(ids) == 1  # one suffix: bounces find either copy's delivery
    stored = set(db.session.scalars(sa.select(Delivery.message_id)))
    assert stored == {m.message["Message-ID"] for m in got.values()}


@pytest.mark.slow
def test_pause_resume_and_cancel_keep_the_waves(app, weekly, inbox):
    readers_in_zones(weekly, per_zone=1)
    issue = draft(weekly)
    lifecycle.schedule_local(issue, tomorrow(), "08:00")
    loop.claim_due_issues(issue.send_at)
    before = [(w.not_before, w.pending) for w in ledger.waves(issue.id)]
    lifecycle.pause_issue(issue)
    lifecycle.resume_issue(issue)  # nothing due yet: the chains find nothing and wait
    assert loop.run_batch(issue.id)["sent"] == 0
    assert [(w.not_before, w.pending) for w in ledger.waves(issue.id)] == before
    assert inbox.messages == []
    lifecycle.cancel_issue(issue)
    assert loop.run_batch(issue.id)["stopped"] == "cancelled"
    assert states(issue.id)["pending"] == 3  # cancelled: kept as they were, none sent
