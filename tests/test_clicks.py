"""Privacy-first analytics: clicks through our own signed redirect, opens only when asked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from builders import (
    add_subscribers,
    confirmed,
    counted,
    csrf,
    draft,
    needs_queue,
    path_of,
    sent_issue,
    start_sending,
    tracked_links,
)
from conftest import free_port, wait_until

from newsletter import analytics, click_queue, hardening, jobs, links, redirects
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, IssueLink, LinkClick, MailingList
from newsletter.sending import loop


@pytest.mark.slow
def test_a_click_in_a_received_email_redirects_to_the_link_and_is_counted(
    app, client, weekly, inbox
):
    issue = sent_issue(weekly, inbox)
    mail = inbox.to("reader0@example.org")[0]
    found = tracked_links(mail)
    assert [position for *_, position in found] == ["1", "2"]
    assert "https://example.org/p1" not in mail.part("html")
    assert "/r/" in mail.part("plain")
    # The subscriber's own links are not tracked.
    assert "/unsubscribe/" in mail.part("html")

    url, token, _ = found[1]
    answer = client.get(path_of(url))
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://example.org/p1"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers
    client.get(path_of(url))
    client.get(path_of(found[0][0]))
    assert client.get(path_of(found[0][0])).headers["Location"] == (
        "https://example.org/report?a=1&b=2"
    )

    counted()
    counts = analytics.clicks_for_issues([issue.id])[issue.id]
    assert counts["total"] == 4
    assert counts["unique"] == 1
    assert [(link.url, link.clicks) for link in counts["links"]] == [
        ("https://example.org/report?a=1&b=2", 2),
        ("https://example.org/p1", 2),
    ]  # equal counts keep the issue's order
    # Who clicked is not kept unless the list opts in.
    assert db.session.scalars(sa.select(LinkClick.subscriber_id)).all() == [None] * 4
    over_time = analytics.clicks_over_time(issue.id)
    assert sum(n for _, n in over_time) == 4


def test_each_copy_has_its_own_token(app, weekly, inbox):
    sent_issue(weekly, inbox)
    tokens = {tracked_links(mail)[0][1] for mail in inbox.messages}
    assert len(tokens) == 2


@pytest.mark.slow
def test_the_redirect_refuses_anything_not_in_its_issue(app, client, weekly, inbox):
    sent_issue(weekly, inbox)
    url, token, _ = tracked_links(inbox.to("reader0@example.org")[0])[0]
    number, mac = token.split("-")
    forged = f"/r/{int(number) + 1}-{mac}/1"
    other_issue_position = f"/r/{token}/3"
    tampered = f"/r/{token[:-1]}{'0' if token[-1] != '0' else '1'}/1"
    for path in (forged, other_issue_position, tampered, f"/r/{number}/1", "/r/x-y/1"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Location" not in answer.headers
        assert "This link is not valid." in answer.text
    assert client.get(f"/r/{token}/https://evil.example").status_code == 404
    counted()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LinkClick)) == 0


def test_another_issues_link_is_not_reachable_with_this_issues_token(app, client, weekly, inbox):
    first = sent_issue(weekly, inbox, readers=1)
    token = tracked_links(inbox.messages[0])[0][1]
    other = Issue(list_id=weekly.id, number=99, subject="Other", status="sent")
    db.session.add(other)
    db.session.flush()
    db.session.add(IssueLink(issue_id=other.id, position=9, url="https://elsewhere.example/"))
    db.session.commit()
    assert client.get(f"/r/{token}/9").status_code == 404
    assert client.get(f"/r/{token}/1").status_code == 302
    counted()
    counts = analytics.clicks_for_issues([first.id, other.id])
    assert (counts[first.id]["total"], counts[other.id]["total"]) == (1, 0)


def test_a_list_without_click_tracking_sends_plain_links(app, weekly, inbox):
    weekly.track_clicks = False
    db.session.commit()
    issue = sent_issue(weekly, inbox)
    html = inbox.messages[0].part("html")
    assert "/r/" not in html
    assert 'href="https://example.org/p1"' in html
    assert (
        db.session.scalars(sa.select(IssueLink).where(IssueLink.issue_id == issue.id)).all() == []
    )


def test_a_subscriber_who_opted_out_gets_plain_links_and_no_pixel(app, weekly, inbox):
    weekly.track_opens = True
    readers = add_subscribers(weekly, 2)
    readers[1].no_tracking = True
    db.session.commit()
    issue = draft(weekly)
    issue.intro = "See [this](https://example.org/a?x=1&y=2)."
    db.session.commit()
    start_sending(issue)
    loop.send_batch(issue.id)
    inbox.wait_for(2)
    tracked = inbox.to("reader0@example.org")[0].part("html")
    plain = inbox.to("reader1@example.org")[0].part("html")
    assert "/r/" in tracked and "/o/" in tracked
    assert "/r/" not in plain and "/o/" not in plain
    assert 'href="https://example.org/a?x=1&amp;y=2"' in plain
    assert "https://example.org/a?x=1&y=2" in inbox.to("reader1@example.org")[0].part("plain")


def test_opens_are_counted_once_per_copy_when_the_list_asks(app, client, weekly, inbox):
    weekly.track_opens = True
    db.session.commit()
    issue = sent_issue(weekly, inbox, readers=1)
    pixel = re.search(r'src="https?://[^"]+(/o/[^"]+\.gif)"', inbox.messages[0].part("html"))
    for _ in range(2):
        answer = client.get(pixel.group(1))
        assert answer.status_code == 200
        assert answer.mimetype == "image/gif"
    assert client.get("/o/1-0000000000000000.gif").status_code == 200
    counted()
    stats = analytics.issue_stats(issue)
    assert stats.opens == 1


@pytest.mark.slow
@pytest.mark.parametrize("queued", [True, False], ids=["queued", "written-as-they-come"])
def test_a_head_request_is_answered_but_counts_no_click_or_open(
    app, make_app, weekly, inbox, queued
):
    """Link checkers and mail scanners ask with HEAD; a reader's click or image never does."""
    if queued:
        needs_queue(app)
    reader = (app if queued else make_app(BROKER_URL="filesystem://")).test_client()
    weekly.track_opens = True
    db.session.commit()
    issue = sent_issue(weekly, inbox, readers=1)
    mail = inbox.messages[0]
    url = path_of(tracked_links(mail)[0][0])
    pixel = re.search(r'src="https?://[^"]+(/o/[^"]+\.gif)"', mail.part("html")).group(1)
    answer = reader.head(url)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://example.org/report?a=1&b=2"
    assert reader.head(pixel).status_code == 200
    counted()
    stats = analytics.issue_stats(issue)
    assert (stats.opens, analytics.clicks_for_issues([issue.id])[issue.id]["total"]) == (0, 0)
    reader.get(url)
    reader.get(pixel)
    counted()
    stats = analytics.issue_stats(issue)
    assert (stats.opens, analytics.clicks_for_issues([issue.id])[issue.id]["total"]) == (1, 1)


def test_opens_are_off_by_default(app, weekly, inbox):
    sent_issue(weekly, inbox, readers=1)
    assert "/o/" not in inbox.messages[0].part("html")


@pytest.mark.slow
def test_a_list_that_tracks_subscribers_keeps_who_clicked(app, client, weekly, inbox):
    weekly.track_subscribers = True
    db.session.commit()
    sent_issue(weekly, inbox, readers=1)
    url = tracked_links(inbox.messages[0])[0][0]
    client.get(path_of(url))
    counted()
    delivery = db.session.scalars(sa.select(Delivery)).one()
    assert db.session.scalars(sa.select(LinkClick.subscriber_id)).all() == [delivery.subscriber_id]
    assert delivery.clicked_at is not None


def test_a_token_is_short_and_cannot_be_forged(app):
    value = analytics.token(12345)
    assert len(value) <= 24 and re.fullmatch(r"[0-9a-f-]+", value)
    assert analytics.delivery_id(value) == 12345
    assert analytics.delivery_id(value.replace("12345", "12346")) is None
    assert analytics.delivery_id("12345") is None


@pytest.mark.slow
def test_the_issue_page_and_the_api_show_clicks(app, editor_client, api_headers, weekly, inbox):
    weekly.track_opens = True
    db.session.commit()
    issue = sent_issue(weekly, inbox)
    url = tracked_links(inbox.messages[0])[1][0]
    editor_client.get(path_of(url))
    editor_client.get(path_of(url))
    counted()

    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "2 sent · 2 clicks · 1 unique clickers" in page
    assert "50.0% click-through rate" in page
    assert "Apple Mail Privacy Protection" in page
    assert 'id="top-links"' in page and "https://example.org/p1" in page
    assert 'id="clicks-over-time"' in page

    body = editor_client.get(f"/api/v1/issues/{issue.id}", headers=api_headers).json
    assert body["clicks"] == {"total": 2, "unique": 1}
    assert body["links"] == [
        {"url": "https://example.org/p1", "clicks": 2},
        {"url": "https://example.org/report?a=1&b=2", "clicks": 0},
    ]
    listed = editor_client.get("/api/v1/issues", headers=api_headers).json["items"]
    assert listed[0]["clicks"] == {"total": 2, "unique": 1}
    # Clicked seconds after the send: counted above, and left out of people's figures.
    assert body["people"] == {
        "clicks": 0,
        "unique": 0,
        "opens": 0,  # the list counts opens: none yet
        "links": [
            {"url": "https://example.org/p1", "clicks": 0},
            {"url": "https://example.org/report?a=1&b=2", "clicks": 0},
        ],
    }


@pytest.mark.slow
def test_a_subscriber_turns_tracking_off_on_the_preferences_page(app, client, weekly):
    subscriber = add_subscribers(weekly, 1)[0]
    token = links.make(links.PREFERENCES, subscriber.id, weekly.id)
    page = client.get(f"/preferences/{token}")
    assert 'name="no_tracking"' in page.text
    form = {"csrf_token": csrf(page.text), "lists": [str(weekly.id)], "tracking_asked": "yes"}
    client.post(f"/preferences/{token}", data=form | {"no_tracking": "on"})
    db.session.expire_all()
    assert subscriber.no_tracking is True
    # A form that never showed the box leaves the choice as it is.
    client.post(
        f"/preferences/{token}", data={"csrf_token": form["csrf_token"], "lists": form["lists"]}
    )
    db.session.expire_all()
    assert subscriber.no_tracking is True
    client.post(f"/preferences/{token}", data=form)
    db.session.expire_all()
    assert subscriber.no_tracking is False


def statements(on_app, path: str, times: int = 2) -> list[list[str]]:
    """The SQL statements (their first word) each of `times` requests for `path` ran."""
    client = on_app.test_client()
    with on_app.app_context():
        engine = db.engine
    seen: list[str] = []
    runs = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0].upper())

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(times):
            client.get(path)
            runs.append(list(seen))
            seen.clear()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return runs


@pytest.mark.slow
def test_a_written_click_costs_one_read_and_one_write_and_the_first_one_more(
    app, make_app, weekly, inbox
):
    sent_issue(weekly, inbox, readers=1)
    path = path_of(tracked_links(inbox.messages[0])[0][0])
    direct = make_app(BROKER_URL="filesystem://")  # no Redis to queue in
    assert statements(direct, path) == [["SELECT", "INSERT", "UPDATE"], ["SELECT", "INSERT"]]


def test_a_queued_click_costs_no_statement_once_its_issue_is_known(app, weekly, inbox):
    queue = needs_queue(app)
    issue = sent_issue(weekly, inbox, readers=1)
    path = path_of(tracked_links(inbox.messages[0])[0][0])
    first, second = statements(app, path)
    assert set(first) == {"SELECT"}  # the copy's issue, its deliveries and its links, once
    assert second == []
    confirmed(app)
    assert len(queue) == 2
    counted()
    assert len(queue) == 0
    counts = analytics.clicks_for_issues([issue.id])[issue.id]
    assert (counts["total"], counts["unique"]) == (2, 1)


def test_the_list_form_says_what_is_counted_clicks_by_default(app, editor_client):
    page = editor_client.get("/admin/lists/new").text
    assert 'name="track_clicks" checked' in page
    assert 'name="track_opens" checked' not in page
    assert 'name="track_subscribers" checked' not in page
    form = {
        "slug": "monthly",
        "name": "Monthly",
        "from_email": "news@example.org",
        "opt_in": "double",
        "send_weekday": "4",
        "send_time": "09:00",
        "timezone": "UTC",
        "language": "en",
        "direction": "ltr",
        "postal_address": "1 Main Street",
        "track_opens": "on",
        "csrf_token": editor_client.token,
    }
    assert editor_client.post("/admin/lists/new", data=form).status_code == 302
    created = db.session.scalars(sa.select(MailingList)).one()
    assert (created.track_clicks, created.track_opens, created.track_subscribers) == (
        False,
        True,
        False,
    )


@pytest.mark.slow
def test_clicks_over_time_by_hour_and_by_day(app, editor_client, weekly, inbox):
    issue = sent_issue(weekly, inbox, readers=1)
    link = db.session.scalars(sa.select(IssueLink).where(IssueLink.issue_id == issue.id)).first()
    start = issue.started_at.replace(minute=0, second=0, microsecond=0)
    for hours in (0, 0, 1, 50):
        db.session.add(LinkClick(link_id=link.id, clicked_at=start + timedelta(hours=hours)))
    db.session.commit()
    assert analytics.clicks_over_time(issue.id) == [
        (start, 2),
        (start + timedelta(hours=1), 1),
        (start + timedelta(hours=50), 1),
    ]
    days = analytics.clicks_over_time(issue.id, by="day")
    assert [n for _, n in days] == ([3, 1] if start.hour < 23 else [2, 1, 1])
    page = editor_client.get(f"/admin/issues/{issue.id}").text
    assert "<th>Day (UTC)</th>" in page


# Clicks queued in Redis (with PostgreSQL and Redis) or written as they come (without).


@pytest.fixture(params=["queued", "written"])
def reader(request, app, make_app):
    """A reader's browser, against the app with Redis (clicks queued in front of Flask) or
    with the embedded broker (Flask's views write each click)."""
    if request.param == "queued":
        needs_queue(app)
        return app.test_client()
    return make_app(BROKER_URL="filesystem://").test_client()


def test_a_click_is_queued_and_counted_once_the_drain_has_run(app, client, weekly, inbox):
    queue = needs_queue(app)
    weekly.track_subscribers = True
    db.session.commit()
    issue = sent_issue(weekly, inbox)
    url, *_ = tracked_links(inbox.to("reader1@example.org")[0])[1]
    assert client.get(path_of(url)).headers["Location"] == "https://example.org/p1"
    confirmed(app)
    assert len(queue) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LinkClick)) == 0

    assert click_queue.drain() == 1
    assert len(queue) == 0
    delivery = db.session.scalars(
        sa.select(Delivery).join(Delivery.subscriber).where(Delivery.issue_id == issue.id)
    ).all()
    clicked = [d for d in delivery if d.clicked_at is not None]
    assert [d.subscriber.email for d in clicked] == ["reader1@example.org"]
    click = db.session.scalars(sa.select(LinkClick)).one()
    assert click.subscriber_id == clicked[0].subscriber_id
    assert click.clicked_at == clicked[0].clicked_at  # the moment of the click, not the drain
    assert click_queue.drain() == 0  # nothing twice


@pytest.mark.slow
def test_beats_drain_job_counts_queued_clicks_in_the_worker(app, client, weekly, inbox, worker):
    needs_queue(app)
    issue = sent_issue(weekly, inbox, readers=1)
    client.get(path_of(tracked_links(inbox.messages[0])[0][0]))
    confirmed(app)
    jobs.drain_clicks.delay()
    wait_until(lambda: analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 1)


@pytest.mark.slow
def test_a_batch_stays_queued_until_its_transaction_commits(app, client, weekly, inbox):
    """A drain that fails (here: a row another transaction holds) takes nothing off the
    list, and the next one counts every click once."""
    queue = needs_queue(app)
    issue = sent_issue(weekly, inbox, readers=1)
    for url, *_ in tracked_links(inbox.messages[0]):
        client.get(path_of(url))
    confirmed(app)
    delivery_id = db.session.scalar(sa.select(Delivery.id))
    with db.engine.connect() as other:
        other.execute(sa.select(Delivery).where(Delivery.id == delivery_id).with_for_update())
        db.session.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(sa.exc.OperationalError):
            click_queue.drain()
        db.session.rollback()
        other.rollback()
    assert len(queue) == 2
    assert click_queue.drain() == 2
    assert analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 2


@pytest.mark.slow
def test_a_record_that_is_not_a_click_is_dropped_without_holding_up_the_rest(
    app, client, weekly, inbox
):
    queue = needs_queue(app)
    issue = sent_issue(weekly, inbox, readers=1)
    queue.client.rpush(queue.key, b"c not-a-number")
    client.get(path_of(tracked_links(inbox.messages[0])[0][0]))
    confirmed(app)
    assert click_queue.drain() == 2
    assert analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 1


@pytest.mark.slow
def test_with_redis_away_a_click_is_written_directly(app, make_app, weekly, inbox):
    needs_queue(app)
    issue = sent_issue(weekly, inbox, readers=1)
    away = make_app(BROKER_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    answer = away.get(path_of(tracked_links(inbox.messages[0])[0][0]))
    assert answer.status_code == 302
    assert analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 1


@pytest.mark.slow
def test_a_click_redis_refuses_is_written_directly(app, client, weekly, inbox):
    queue = needs_queue(app)
    issue = sent_issue(weekly, inbox, readers=1)
    queue.client.set(queue.key, "not a list")  # RPUSH answers WRONGTYPE
    try:
        assert client.get(path_of(tracked_links(inbox.messages[0])[0][0])).status_code == 302
        confirmed(app)  # the refusal is read with the replies
    finally:
        queue.client.delete(queue.key)
    assert analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 1


@pytest.mark.slow
def test_without_redis_each_click_is_written_as_it_comes(app, make_app, weekly, inbox):
    issue = sent_issue(weekly, inbox, readers=1)
    fallback = make_app(BROKER_URL="filesystem://")
    assert click_queue.for_app(fallback.config) is None
    assert not isinstance(fallback.wsgi_app, redirects.Redirects)
    answer = fallback.test_client().get(path_of(tracked_links(inbox.messages[0])[0][0]))
    assert answer.headers["Location"] == "https://example.org/report?a=1&b=2"
    assert analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 1


@pytest.mark.slow
def test_the_redirect_and_the_pixel_carry_the_apps_security_headers(app, reader, weekly, inbox):
    weekly.track_opens = True
    db.session.commit()
    sent_issue(weekly, inbox, readers=1)
    html = inbox.messages[0].part("html")
    pixel = re.search(r'src="https?://[^"]+(/o/[^"]+\.gif)"', html).group(1)
    for answer in (reader.get(path_of(tracked_links(inbox.messages[0])[0][0])), reader.get(pixel)):
        for name, value in hardening.HEADERS.items():
            if name != "Referrer-Policy":
                assert answer.headers[name] == value, name
        assert answer.headers["Referrer-Policy"] == "no-referrer"  # the link's site learns no token
        assert answer.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in answer.headers
    assert reader.head(path_of(tracked_links(inbox.messages[0])[0][0])).status_code == 302


@pytest.mark.slow
def test_a_forged_token_or_a_foreign_position_gets_the_404_page(app, reader, weekly, inbox):
    sent_issue(weekly, inbox, readers=1)
    token = tracked_links(inbox.messages[0])[0][1]
    number, mac = token.split("-")
    other = Issue(list_id=weekly.id, number=99, subject="Other", status="sent")
    db.session.add(other)
    db.session.flush()
    db.session.add(IssueLink(issue_id=other.id, position=7, url="https://elsewhere.example/"))
    db.session.commit()
    for path in (f"/r/{int(number) + 1}-{mac}/1", f"/r/{token}/7", f"/r/{token}/0"):
        answer = reader.get(path)
        assert answer.status_code == 404, path
        assert "Location" not in answer.headers
        assert "This link is not valid." in answer.text
        assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    counted()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LinkClick)) == 0


@pytest.mark.slow
def test_a_subscriber_who_turned_tracking_off_since_is_not_named_by_clicks_or_opens(
    app, reader, weekly, inbox
):
    """Their old copy's link still works and counts on the link, as nobody's click."""
    weekly.track_opens = weekly.track_subscribers = True
    db.session.commit()
    issue = sent_issue(weekly, inbox, readers=1)
    subscriber = db.session.scalars(sa.select(Delivery)).one().subscriber
    subscriber.no_tracking = True
    db.session.commit()
    html = inbox.messages[0].part("html")
    assert reader.get(path_of(tracked_links(inbox.messages[0])[0][0])).status_code == 302
    assert reader.get(re.search(r'src="https?://[^"]+(/o/[^"]+\.gif)"', html).group(1))
    counted()
    delivery = db.session.scalars(sa.select(Delivery)).one()
    assert (delivery.clicked_at, delivery.opened_at) == (None, None)
    assert db.session.scalars(sa.select(LinkClick.subscriber_id)).all() == [None]
    assert analytics.clicks_for_issues([issue.id])[issue.id]["total"] == 1
