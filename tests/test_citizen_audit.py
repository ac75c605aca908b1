"""The feed poller as a good citizen of other people's servers, over weeks, and as the editors
rely on it: it waits when a site says so (429 and 503 with Retry-After, RFC 6585 and RFC 9110),
stops for a feed that is gone (410) and says so, backs off from one that keeps failing, follows
a feed that moved for good (301/308) and only that, sends validators back exactly, polls no more
often than a feed asks, spreads its polls, fetches an address once for every list, and takes
each article once however its feed renames it. Hostile servers and publishers' formats are in
test_hostile_feeds.py, test_ssrf.py and test_feeds_publishers.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import sqlalchemy as sa
from builders import csrf, item, rss, sign_in, user
from conftest import wait_until
from hostile_servers import Servers, response, trickle

from newsletter import jobs
from newsletter.extensions import db
from newsletter.models import Feed, Post
from newsletter.posts import feeds
from newsletter.posts.service import add_feed

INTERVAL = 900  # NEWSLETTER_FEED_POLL_INTERVAL's default
DAY = 24 * 3600


@pytest.fixture
def servers():
    with Servers() as started:
        yield started


def answers(*replies: bytes):
    """A server's answers, one a request in turn; the last one repeats."""
    left = list(replies)

    def answer(connection, head):
        connection.sendall(left.pop(0) if len(left) > 1 else left[0])

    return answer


def ok(body: bytes, **headers: str) -> bytes:
    return response("200 OK", body, Content_Type="application/rss+xml", **headers)


def stored(feed: Feed) -> Feed:
    db.session.expire_all()
    return db.session.get(Feed, feed.id)


def seconds_from_now(moment: datetime | None) -> float:
    assert moment is not None
    return (moment - datetime.now(UTC)).total_seconds()


def header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


ONE = rss(item("a", "First"))


# --- What a site says about when to come back ----------------------------------------------


def test_a_429_with_retry_after_in_seconds_holds_the_next_poll_and_says_why(weekly, servers):
    site = servers.start(answers(response("429 Too Many Requests", Retry_After="3600")))
    feed = add_feed(weekly, site.url + "/feed")
    assert feeds.fetch_by_id(feed.id) == 0
    row = stored(feed)
    assert 3590 <= seconds_from_now(row.not_before) <= 3610
    assert seconds_from_now(row.next_fetch_at) >= 3590
    assert "asked us to slow down" in row.last_error and "429" in row.last_error
    assert feeds.poll_all() == 0 and len(site.heads) == 1  # the beat's next poll asks nothing


def test_a_503_with_retry_after_as_a_date_holds_the_next_poll_until_then(weekly, servers):
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    site = servers.start(
        answers(response("503 Service Unavailable", Retry_After=format_datetime(until, True)))
    )
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    row = stored(feed)
    assert row.not_before == until and row.next_fetch_at >= until
    assert "unavailable for now" in row.last_error and "503" in row.last_error


@pytest.mark.parametrize(
    "said, waits",
    [("315360000", 7 * DAY), ("soon", INTERVAL), ("-5", INTERVAL)],
    ids=["ten years: a week", "words: our own backoff", "negative: our own backoff"],
)
def test_a_retry_after_past_reason_is_held_to_a_week_and_one_unreadable_is_ignored(
    weekly, servers, said, waits
):
    site = servers.start(answers(response("429 Too Many Requests", Retry_After=said)))
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    assert waits - 5 <= seconds_from_now(stored(feed).next_fetch_at) <= waits * 1.1 + 10


def test_a_gone_feed_is_kept_marked_no_longer_polled_and_the_editors_are_told(
    app, weekly, servers, inbox, worker
):
    user("chief@example.org")
    site = servers.start(answers(response("410 Gone"), ok(ONE)))
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    row = stored(feed)
    assert row.gone_at is not None and row.next_fetch_at is None
    assert "gone for good" in row.last_error and "410" in row.last_error
    assert feeds.poll_all() == 0 and len(site.heads) == 1
    [told] = inbox.wait_for(1, recipient="chief@example.org")
    assert site.url + "/feed" in told.part("plain") and "410" in told.part("plain")
    # An editor's "fetch now" tries again; a feed that answers is polled again.
    assert feeds.fetch_by_id(feed.id) == 1
    row = stored(feed)
    assert row.gone_at is None and row.last_error is None and row.next_fetch_at is not None


def test_a_feed_that_keeps_failing_backs_off_to_a_day_and_comes_back_on_success(weekly, servers):
    site = servers.start(answers(*[response("404 Not Found")] * 9, ok(ONE)))
    feed = add_feed(weekly, site.url + "/feed")
    waits = []
    for _ in range(9):
        feeds.fetch_by_id(feed.id)
        waits.append(seconds_from_now(stored(feed).next_fetch_at))
    expected = [INTERVAL * 2**n for n in range(7)] + [DAY, DAY]  # 15 min, 30 min ... a day
    assert all(
        low <= got <= min(low * 1.1, DAY * 1.1) + 5
        for low, got in zip(expected, waits, strict=True)
    )
    row = stored(feed)
    assert row.failures == 9 and "no feed at this address" in row.last_error
    assert feeds.fetch_by_id(feed.id) == 1
    row = stored(feed)
    assert row.failures == 0 and row.last_error is None and row.last_success_at is not None
    assert INTERVAL <= seconds_from_now(row.next_fetch_at) <= INTERVAL * 1.1 + 5


def unread_since(feed: Feed, days: float) -> None:
    """The feed last read `days` ago (when it was added, if it never was)."""
    row = stored(feed)
    row.created_at = datetime.now(UTC) - timedelta(days=days)
    if row.last_success_at is not None:
        row.last_success_at = row.created_at
    db.session.commit()


@pytest.mark.slow
def test_a_feed_unread_for_three_days_is_told_to_the_editors_once_a_streak(
    app, weekly, servers, inbox, worker
):
    user("chief@example.org")
    site = servers.start(answers(response("404 Not Found"), response("404 Not Found"), ok(ONE)))
    feed = add_feed(weekly, site.url + "/feed")
    stored(feed).title = "خبرنامهٔ ایران 🌷 Iran news"
    db.session.commit()
    unread_since(feed, 3.5)
    feeds.fetch_by_id(feed.id)
    told_at = stored(feed).failing_told_at
    assert told_at is not None
    [told] = inbox.wait_for(1, recipient="chief@example.org")
    assert (
        told.message["Subject"]
        == "Weekly Digest: the feed خبرنامهٔ ایران 🌷 Iran news cannot be read"
    )
    text = told.part("plain")
    assert "3 days" in text and "404" in text and site.url + "/feed" in text
    # Failing on, it is not told again: the moment it was told stays.
    feeds.fetch_by_id(feed.id)
    assert stored(feed).failing_told_at == told_at and stored(feed).failures == 2
    # Read again, the streak is over; a new one, once as long, is told again.
    feeds.fetch_by_id(feed.id)
    assert stored(feed).failing_told_at is None


def test_a_feed_unread_for_less_than_the_setting_is_not_told(app, weekly, servers):
    site = servers.start(answers(response("503 Service Unavailable")))
    feed = add_feed(weekly, site.url + "/feed")
    unread_since(feed, 2.9)
    feeds.fetch_by_id(feed.id)
    assert stored(feed).failing_told_at is None and stored(feed).failures == 1
    app.config["FEED_FAILING_AFTER"] = 2 * DAY
    feeds.fetch_by_id(feed.id)
    assert stored(feed).failing_told_at is not None


def test_a_feed_told_of_and_then_gone_is_told_of_as_gone(app, weekly, servers, inbox):
    user("chief@example.org")
    site = servers.start(answers(response("404 Not Found"), response("410 Gone")))
    feed = add_feed(weekly, site.url + "/feed")
    unread_since(feed, 4)
    feeds.fetch_by_id(feed.id)
    feeds.fetch_by_id(feed.id)
    row = stored(feed)
    assert row.gone_at is not None and row.failing_told_at is not None
    # Told here, whether or not a worker thread of an earlier test took the nudges too.
    assert feeds.tell_editors_of_feed(feed.id) == 1
    subjects = [m.message["Subject"] for m in inbox.to("chief@example.org")]
    assert any(subject.endswith("/feed is gone") for subject in subjects), subjects


@pytest.mark.parametrize(
    "status, moves",
    [
        ("301 Moved Permanently", True),
        ("308 Permanent Redirect", True),
        ("302 Found", False),
        ("307 Temporary Redirect", False),
    ],
)
def test_a_feed_moved_for_good_is_fetched_at_its_new_address_and_one_moved_for_now_is_not(
    weekly, servers, status, moves
):
    new_home = servers.start(answers(ok(ONE)))
    old = servers.start(answers(response(status, Location=new_home.url + "/feed.xml")))
    feed = add_feed(weekly, old.url + "/rss")
    assert feeds.fetch_by_id(feed.id) == 1
    assert stored(feed).url == (new_home.url + "/feed.xml" if moves else old.url + "/rss")


def test_a_permanent_move_then_a_temporary_one_keeps_only_the_permanent_step(weekly, servers):
    final = servers.start(answers(ok(ONE)))
    middle = servers.start(answers(response("302 Found", Location=final.url + "/today")))
    old = servers.start(answers(response("301 Moved Permanently", Location=middle.url + "/f")))
    feed = add_feed(weekly, old.url + "/rss")
    feeds.fetch_by_id(feed.id)
    assert stored(feed).url == middle.url + "/f"


def test_a_move_to_an_address_the_guard_refuses_moves_nothing(weekly, servers, app):
    old = servers.start(answers(response("301 Moved Permanently", Location="http://10.0.0.1/f")))
    feed = add_feed(weekly, old.url + "/rss")
    feeds.fetch_by_id(feed.id)
    row = stored(feed)
    assert row.url == old.url + "/rss" and "not allowed" in row.last_error


# --- Conditional GET, and how often a feed asks to be read ---------------------------------

ODD_DATE = "Fri, 16 Aug 2019 09:00:00 +0000 (odd but the server's own)"


def test_validators_go_back_exactly_as_the_server_gave_them(weekly, servers):
    site = servers.start(
        answers(ok(ONE, ETag='W/"5e-1/2"', Last_Modified=ODD_DATE), response("304 Not Modified"))
    )
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    assert feeds.fetch_by_id(feed.id) == 0
    assert header(site.heads[0], "If-None-Match") is None
    assert header(site.heads[1], "If-None-Match") == 'W/"5e-1/2"'
    assert header(site.heads[1], "If-Modified-Since") == ODD_DATE
    assert stored(feed).last_error is None and stored(feed).last_success_at is not None


@pytest.mark.slow
def test_a_304_with_a_new_etag_replaces_the_stored_one(weekly, servers):
    site = servers.start(answers(ok(ONE, ETag='"one"'), response("304 Not Modified", ETag='"two"')))
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    feeds.fetch_by_id(feed.id)
    assert stored(feed).etag == '"two"'


def test_an_etag_too_long_to_keep_is_not_kept_and_the_feed_still_reads(weekly, servers):
    site = servers.start(answers(ok(ONE, ETag='"' + "x" * 400 + '"')))
    feed = add_feed(weekly, site.url + "/feed")
    assert feeds.fetch_by_id(feed.id) == 1
    row = stored(feed)
    assert row.etag is None and row.last_error is None


def test_a_server_that_ignores_validators_adds_nothing_twice(weekly, servers):
    site = servers.start(answers(ok(ONE, ETag='"same"')))
    feed = add_feed(weekly, site.url + "/feed")
    assert [feeds.fetch_by_id(feed.id) for _ in range(3)] == [1, 0, 0]


SY = (
    '<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>'
    "<title>x</title><sy:updatePeriod>\n\thourly\t</sy:updatePeriod>"
    "<sy:updateFrequency>\n\t1\t</sy:updateFrequency>{}</channel></rss>"
)


@pytest.mark.parametrize(
    "body, headers, floor",
    [
        (ONE, {"Cache_Control": "public, max-age=7200"}, 7200),
        (ONE.replace(b"<title>Example", b"<ttl>120</ttl><title>Example"), {}, 7200),
        (SY.format(item("a", "First")).encode(), {}, 3600),  # WordPress says so by default
        (ONE, {"Cache_Control": "max-age=31536000"}, DAY),  # a year: held to a day
        (ONE, {"Cache_Control": "max-age=60"}, INTERVAL),  # sooner than ours: ours
    ],
    ids=["max-age", "ttl", "sy:updatePeriod", "a year", "a minute"],
)
def test_a_feed_is_polled_no_more_often_than_it_asks(weekly, servers, body, headers, floor):
    site = servers.start(answers(ok(body, **headers)))
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    assert floor <= seconds_from_now(stored(feed).next_fetch_at) <= floor * 1.1 + 5


def test_a_304_keeps_the_interval_the_feed_asked_for(weekly, servers):
    body = ONE.replace(b"<title>Example", b"<ttl>120</ttl><title>Example")
    site = servers.start(answers(ok(body, ETag='"a"'), response("304 Not Modified")))
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    feeds.fetch_by_id(feed.id)
    assert seconds_from_now(stored(feed).next_fetch_at) >= 7200 - 5


def test_the_user_agent_names_the_product_and_where_to_reach_its_operator(weekly, servers):
    site = servers.start(answers(ok(ONE)))
    feeds.fetch_by_id(add_feed(weekly, site.url + "/feed").id)
    agent = header(site.heads[0], "User-Agent")
    assert agent.startswith("newsletter-feed-fetcher/") and "(+http://newsletter.test/" in agent
    assert header(site.heads[0], "Accept-Encoding") == "gzip"


# --- Many feeds ---------------------------------------------------------------------------


def test_the_beat_queues_one_job_a_due_feed_and_skips_those_not_due(weekly, servers, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs.fetch_feed, "delay", lambda *args, **kw: queued.append(args))
    site = servers.start(answers(ok(ONE)))
    due = [add_feed(weekly, f"{site.url}/{n}") for n in range(3)]
    later = add_feed(weekly, site.url + "/later")
    feeds.fetch_by_id(later.id)
    assert sorted(feeds.queue_due()) == sorted(feed.id for feed in due)
    assert sorted(queued) == sorted((feed.id,) for feed in due)
    assert feeds.queue_due() == []  # queued once, not again at the next tick


def test_a_hanging_feed_holds_up_only_itself(weekly, servers, worker):
    slow = add_feed(weekly, servers.start(trickle(b"HTTP/1.1 200 OK\r\n", every=1.0)).url + "/")
    live = add_feed(weekly, servers.start(answers(ok(ONE))).url + "/feed")
    feeds.queue_due()
    wait_until(lambda: stored(live).last_success_at, timeout=4, message="the live feed waited")
    assert stored(slow).last_fetched_at is None  # still trickling


@pytest.mark.slow
def test_polls_are_spread_not_all_at_the_same_second(weekly, servers):
    site = servers.start(answers(ok(ONE)))
    made = [add_feed(weekly, f"{site.url}/{n}") for n in range(12)]
    feeds.poll_all()
    waits = [seconds_from_now(stored(feed).next_fetch_at) for feed in made]
    assert all(INTERVAL - 5 <= wait <= INTERVAL * 1.1 + 5 for wait in waits)
    assert max(waits) - min(waits) > 10


def test_the_same_address_in_two_lists_is_fetched_once_for_both(make_list, weekly, servers):
    other = make_list(slug="monthly", name="Monthly")
    site = servers.start(answers(ok(rss(item("a", "First"), item("b", "Second")))))
    mine, theirs = add_feed(weekly, site.url + "/feed"), add_feed(other, site.url + "/feed")
    feeds.poll_all()
    assert len(site.heads) == 1
    for mailing_list in (weekly, other):
        assert Post.query.filter_by(list_id=mailing_list.id).count() == 2
    assert stored(mine).next_fetch_at and stored(theirs).last_success_at


def test_items_whose_guids_change_at_each_fetch_are_not_taken_again(weekly, servers):
    def renamed(stamp: str) -> bytes:
        return rss(
            item(f"a-{stamp}", "First", "https://example.org/first"),
            item(f"b-{stamp}", "Second", "https://example.org/second"),
        )

    site = servers.start(answers(ok(renamed("1")), ok(renamed("2")), ok(renamed("3"))))
    feed = add_feed(weekly, site.url + "/feed")
    assert [feeds.fetch_by_id(feed.id) for _ in range(3)] == [2, 0, 0]


def test_items_whose_links_carry_a_token_new_at_each_fetch_are_not_taken_again(weekly, servers):
    def tokened(token: str) -> bytes:
        return rss(item(f"a-{token}", "First", f"https://example.org/first?v={token}"))

    site = servers.start(answers(ok(tokened("x1")), ok(tokened("y2"))))
    feed = add_feed(weekly, site.url + "/feed")
    assert [feeds.fetch_by_id(feed.id) for _ in range(2)] == [1, 0]


def test_items_sharing_one_link_but_not_their_titles_are_all_taken(weekly, servers):
    home = "https://example.org/"
    site = servers.start(answers(ok(rss(item("a", "Closed", home), item("b", "Open", home)))))
    assert feeds.fetch_by_id(add_feed(weekly, site.url + "/feed").id) == 2


def test_a_feed_that_drops_old_items_and_brings_them_back_adds_nothing(weekly, servers):
    both = rss(item("new", "New"), item("old", "Old"))
    site = servers.start(answers(ok(both), ok(rss(item("new", "New"))), ok(both)))
    feed = add_feed(weekly, site.url + "/feed")
    assert [feeds.fetch_by_id(feed.id) for _ in range(3)] == [2, 0, 0]


def test_an_item_retitled_after_it_was_taken_is_updated_not_taken_twice(weekly, servers):
    site = servers.start(
        answers(
            ok(rss(item("a", "Teh news", description="Frist words"))),
            ok(rss(item("a", "The news", description="First words"))),
        )
    )
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    assert feeds.fetch_by_id(feed.id) == 0
    [post] = Post.query.all()
    assert (post.title, post.excerpt) == ("The news", "First words")


# --- The editors' view --------------------------------------------------------------------


@pytest.mark.slow
def test_the_api_shows_last_success_the_error_in_words_and_the_next_poll(api, weekly, servers):
    site = servers.start(answers(ok(ONE), response("500 Internal Server Error")))
    created = api.post("/feeds", json={"url": site.url + "/feed", "list": "weekly"})
    assert created.status_code == 201 and created.json["id"]
    feeds.fetch_by_id(created.json["id"])
    feeds.fetch_by_id(created.json["id"])
    shown = api.get(f"/feeds/{created.json['id']}").json
    assert shown["last_success_at"] and shown["next_fetch_at"] and shown["failures"] == 1
    assert shown["last_error"] == "The site had an error (HTTP 500); we try again later."
    assert shown["gone_at"] is None and shown["not_before"] is None
    assert [feed["id"] for feed in api.get("/feeds").json["items"]] == [created.json["id"]]


def test_the_admin_feeds_table_shows_when_it_last_worked_and_when_it_is_next_fetched(
    client, weekly, servers
):
    site = servers.start(answers(response("410 Gone")))
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    user("chief@example.org")
    sign_in(client, "chief@example.org")
    page = client.get("/admin/lists/weekly/posts").text
    assert "Last worked" in page and "Next fetch" in page
    assert "gone for good" in page and "not fetched until you fetch it now" in page


def test_fetch_now_overrides_our_backoff(api, weekly, servers, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs.fetch_feed, "delay", lambda *args, **kw: queued.append(args) or "j")
    site = servers.start(answers(response("404 Not Found")))
    feed = add_feed(weekly, site.url + "/feed")
    for _ in range(4):
        feeds.fetch_by_id(feed.id)
    assert seconds_from_now(stored(feed).next_fetch_at) > 3 * INTERVAL
    assert api.post(f"/feeds/{feed.id}/fetch").status_code == 202 and queued == [(feed.id,)]


def test_fetch_now_waits_for_the_retry_after_the_site_gave(api, client, weekly, servers):
    site = servers.start(answers(response("429 Too Many Requests", Retry_After="600")))
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    answer = api.post(f"/feeds/{feed.id}/fetch")
    assert answer.status_code == 200 and answer.json["new"] == 0
    assert 590 <= seconds_from_now(datetime.fromisoformat(answer.json["not_before"])) <= 610
    assert "asked us to slow down" in answer.json["last_error"]
    user("chief@example.org")
    sign_in(client, "chief@example.org")
    token = csrf(client.get("/admin/lists/weekly/posts").text)
    shown = client.post(
        f"/admin/feeds/{feed.id}/fetch", data={"csrf_token": token}, follow_redirects=True
    ).text
    assert "asked us to wait until" in shown
    assert len(site.heads) == 1  # neither asked the site again


def test_a_feed_waiting_for_its_site_is_not_polled_even_by_a_queued_job(weekly, servers):
    site = servers.start(answers(response("429 Too Many Requests", Retry_After="600")))
    feed = add_feed(weekly, site.url + "/feed")
    feeds.fetch_by_id(feed.id)
    assert feeds.fetch_by_id(feed.id) == 0 and len(site.heads) == 1
    assert db.session.scalar(sa.select(sa.func.count(Feed.id))) == 1
