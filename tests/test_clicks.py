"""Privacy-first analytics: clicks through our own signed redirect, opens only when asked."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from builders import add_subscribers, csrf, draft, start_sending

from newsletter import analytics, links
from newsletter.extensions import db
from newsletter.models import Delivery, Issue, IssueLink, LinkClick, MailingList
from newsletter.sending import loop

TRACKED = re.compile(r'href="(https?://[^"]+/r/([0-9]+-[0-9a-f]+)/(\d+))"')


def sent_issue(mailing_list, inbox, readers: int = 2) -> Issue:
    """An issue with an intro link and one item, sent to `readers` subscribers."""
    add_subscribers(mailing_list, readers)
    issue = draft(mailing_list)
    issue.intro = "Read [the report](https://example.org/report?a=1&b=2) first."
    db.session.commit()
    start_sending(issue)
    loop.send_batch(issue.id)
    inbox.wait_for(readers)
    return issue


def tracked_links(received) -> list[tuple[str, str, str]]:
    return TRACKED.findall(received.part("html"))


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


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
    assert analytics.clicks_for_issues([first.id, other.id])[other.id]["total"] == 0


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
    stats = analytics.issue_stats(issue)
    assert stats.opens == 1


def test_opens_are_off_by_default(app, weekly, inbox):
    sent_issue(weekly, inbox, readers=1)
    assert "/o/" not in inbox.messages[0].part("html")


def test_a_list_that_tracks_subscribers_keeps_who_clicked(app, client, weekly, inbox):
    weekly.track_subscribers = True
    db.session.commit()
    sent_issue(weekly, inbox, readers=1)
    url = tracked_links(inbox.messages[0])[0][0]
    client.get(path_of(url))
    delivery = db.session.scalars(sa.select(Delivery)).one()
    assert db.session.scalars(sa.select(LinkClick.subscriber_id)).all() == [delivery.subscriber_id]
    assert delivery.clicked_at is not None


def test_a_token_is_short_and_cannot_be_forged(app):
    value = analytics.token(12345)
    assert len(value) <= 24 and re.fullmatch(r"[0-9a-f-]+", value)
    assert analytics.delivery_id(value) == 12345
    assert analytics.delivery_id(value.replace("12345", "12346")) is None
    assert analytics.delivery_id("12345") is None


def test_the_issue_page_and_the_api_show_clicks(app, editor_client, api_headers, weekly, inbox):
    weekly.track_opens = True
    db.session.commit()
    issue = sent_issue(weekly, inbox)
    url = tracked_links(inbox.messages[0])[1][0]
    editor_client.get(path_of(url))
    editor_client.get(path_of(url))

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


def test_a_click_costs_one_read_and_one_write_and_the_first_one_more(app, client, weekly, inbox):
    sent_issue(weekly, inbox, readers=1)
    path = path_of(tracked_links(inbox.messages[0])[0][0])
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0].upper())

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get(path)
        first = list(seen)
        seen.clear()
        client.get(path)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert first == ["SELECT", "INSERT", "UPDATE"]
    assert seen == ["SELECT", "INSERT"]


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
