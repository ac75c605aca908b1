"""A reviewer's read of a day's changes: feeds on their own schedule (a permanent move, one
request an address), and the own-data emails' limits under two requests at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from builders import confirmed_subscriber, item, rss
from hostile_servers import Servers, response

from newsletter import jobs
from newsletter.extensions import db, limiter
from newsletter.models import Feed, Post, Subscription
from newsletter.posts import feeds, fetch
from newsletter.posts.service import add_feed
from newsletter.subscriptions import data_requests

ONE = rss(item("a", "First"))


@pytest.fixture
def servers():
    with Servers() as started:
        yield started


def ok(body: bytes, **headers: str) -> bytes:
    return response("200 OK", body, Content_Type="application/rss+xml", **headers)


def answers(*replies: bytes):
    """A server's answers, one a request in turn; the last one repeats."""
    left = list(replies)

    def answer(connection, head):
        connection.sendall(left.pop(0) if len(left) > 1 else left[0])

    return answer


def validating(full: bytes):
    """A site that answers 304 to a request with its ETag, as a well-behaved one does."""

    def answer(connection, head):
        fresh = b'if-none-match: "one"' in head.lower()
        connection.sendall(response("304 Not Modified") if fresh else full)

    return answer


def stored(feed: Feed) -> Feed:
    db.session.expire_all()
    return db.session.get(Feed, feed.id)


def due_now() -> None:
    """Every feed's next poll has come (the time passes)."""
    db.session.execute(sa.update(Feed).values(next_fetch_at=None))
    db.session.commit()


# --- A feed moved for good -----------------------------------------------------------------


@pytest.mark.parametrize(
    "was, moved_to, kept",
    [
        ("https://example.org/feed", "http://example.org/feed", "https://example.org/feed"),
        ("http://example.org/feed", "https://example.org/f", "https://example.org/f"),
        ("https://example.org/feed", "https://example.net/f", "https://example.net/f"),
    ],
)
def test_a_permanent_move_is_stored_unless_it_steps_down_from_https_to_http(
    weekly, monkeypatch, was, moved_to, kept
):
    """Stored, every later fetch would go in clear text, where anyone on the path can answer
    for the site (and move the feed again, wherever they like). It is read there this time."""
    feed = add_feed(weekly, was)

    def moved(url, headers, limits):
        return fetch.Answer(ONE, url=moved_to, moved_to=moved_to)

    monkeypatch.setattr(fetch, "get", moved)
    assert feeds.fetch_by_id(feed.id) == 1
    assert stored(feed).url == kept


def test_a_permanent_move_to_an_address_too_long_to_keep_still_reads_the_feed(weekly, servers):
    """A Location past the column's 2000 characters: the feed is read there and stays at its
    address, rather than every fetch failing on the write."""
    new_home = servers.start(answers(ok(ONE)))
    far = new_home.url + "/" + "x" * 2100
    old = servers.start(answers(response("301 Moved Permanently", Location=far)))
    feed = add_feed(weekly, old.url + "/rss")
    assert feeds.fetch_by_id(feed.id) == 1
    row = stored(feed)
    assert row.url == old.url + "/rss" and row.last_error is None


# --- One request an address ----------------------------------------------------------------


def test_a_list_that_never_read_an_address_gets_its_items_when_another_list_s_feed_polls_it(
    make_list, weekly, servers
):
    """The other list's validators would make the site answer 304: the new list would get
    nothing until the site next changed."""
    other = make_list(slug="monthly", name="Monthly")
    site = servers.start(validating(ok(ONE, ETag='"one"')))
    first = add_feed(weekly, site.url + "/feed")
    assert feeds.fetch_by_id(first.id) == 1
    later = add_feed(other, site.url + "/feed")
    due_now()
    feeds.poll_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(Post.list_id == other.id)) == 1
    assert stored(later).first_fetched_at is not None


def test_the_address_s_validators_go_back_once_every_list_has_read_it(make_list, weekly, servers):
    other = make_list(slug="monthly", name="Monthly")
    site = servers.start(validating(ok(ONE, ETag='"one"')))
    add_feed(weekly, site.url + "/feed")
    add_feed(other, site.url + "/feed")
    feeds.poll_all()
    due_now()
    feeds.poll_all()
    assert b'If-None-Match: "one"' in site.heads[1]


# --- The own-data emails' limits -----------------------------------------------------------


def test_two_asks_at_once_send_one_email_within_the_ten_minutes(weekly, monkeypatch):
    """The second ask arrives while the first is between checking the limit and taking it."""
    reader = confirmed_subscriber(weekly, "ana@example.org")
    subscription = db.session.scalar(
        sa.select(Subscription).where(Subscription.subscriber_id == reader.id)
    )
    queued = []
    monkeypatch.setattr(jobs.send_notice, "delay", lambda *args: queued.append(args))
    store = limiter.limiter
    other_ask = []

    def at_once(original):
        def call(*args, **kwargs):
            result = original(*args, **kwargs)
            if not other_ask:
                other_ask.append("asked")
                data_requests.email_link(subscription, "data")
            return result

        return call

    for name in ("test", "hit"):
        monkeypatch.setattr(store, name, at_once(getattr(store, name)))
    data_requests.email_link(subscription, "data")
    assert len(queued) == 1


# --- Migrations 0028-0031 on PostgreSQL, with rows in place -------------------------------


def _pg_row(connection, table: str, **given) -> None:
    """A row of a PostgreSQL table: the columns `given`, the others required a value of their
    type (keys 1: row 1 of the table they point at)."""
    values = {}
    for name, kind, most in connection.execute(
        sa.text(
            "SELECT column_name, data_type, character_maximum_length"
            " FROM information_schema.columns WHERE table_name = :t"
            " AND is_nullable = 'NO' AND column_default IS NULL"
        ),
        {"t": table},
    ):
        if "int" in kind:
            values[name] = 1
        elif kind == "boolean":
            values[name] = True
        elif "timestamp" in kind:
            values[name] = "2026-01-01 00:00:00"
        elif "json" in kind:
            values[name] = "{}"
        else:
            values[name] = f"{table}.{name}@example.org"[: most or None]
    values.update(given)
    names = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(sa.text(f'INSERT INTO "{table}" ({names}) VALUES ({marks})'), values)


@pytest.mark.slow
def test_migrations_0028_to_0031_go_up_and_down_on_postgresql_with_rows_kept(make_app, backends):
    import uuid

    from flask_migrate import downgrade, upgrade

    if not backends.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL is not running here")
    admin = sa.create_engine(
        backends.database_url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    name = f"newsletter_review_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        other = make_app(
            SQLALCHEMY_DATABASE_URI=backends.database_url.rsplit("/", 1)[0] + "/" + name
        )
        with other.app_context():
            upgrade(revision="0027")
            with db.engine.begin() as connection:
                _pg_row(connection, "mailing_lists", id=1, slug="weekly")
                _pg_row(connection, "subscribers", id=1, email="r1@example.org")
                _pg_row(connection, "issues", id=1, list_id=1, number=1, status="sent")
                _pg_row(connection, "deliveries", id=1, issue_id=1, subscriber_id=1, status="sent")
                _pg_row(connection, "issue_links", id=1, issue_id=1, position=0)
                _pg_row(connection, "link_clicks", id=1, link_id=1)
                _pg_row(connection, "bounces", id=1, subscriber_id=1, delivery_id=1)
                _pg_row(connection, "feeds", id=1, list_id=1, url="https://example.org/f")
                _pg_row(connection, "posts", id=1, list_id=1, feed_id=1, guid="a")
            upgrade()
            with db.engine.connect() as connection:
                assert connection.execute(sa.text("SELECT issue_id FROM bounces")).scalar() == 1
                counts = connection.execute(sa.text("SELECT final_counts FROM issues")).scalar()
                assert counts == {"sent": 1, "failed": 0, "pending": 0, "total": 1}
                machine = "SELECT clicked_by_machine, opened_by_machine FROM deliveries"
                assert tuple(connection.execute(sa.text(machine)).one()) == (False, False)
            downgrade(revision="0027")
            upgrade()
            with db.engine.connect() as connection:
                for table in ("deliveries", "link_clicks", "bounces", "feeds", "posts"):
                    count = connection.execute(sa.text(f'SELECT count(*) FROM "{table}"'))
                    assert count.scalar() == 1, table
            db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- The embedded defaults: SQLite ------------------------------------------------------


@pytest.mark.slow
def test_the_beat_s_feed_claim_and_local_hour_check_run_on_sqlite(make_app, tmp_path, monkeypatch):
    from datetime import date

    from flask_migrate import upgrade

    from newsletter.models import Issue, MailingList
    from newsletter.sending import loop

    queued = []
    monkeypatch.setattr(jobs.fetch_feed, "delay", lambda feed_id: queued.append(feed_id))
    other = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'embedded.db'}")
    with other.app_context():
        upgrade()
        mailing_list = MailingList(slug="weekly", name="Weekly", from_email="news@example.org")
        db.session.add(mailing_list)
        db.session.commit()
        feed = add_feed(mailing_list, "https://example.org/feed")
        assert feeds.queue_due() == [feed.id]
        assert feeds.queue_due() == []  # claimed: the next tick queues it no more
        assert queued == [feed.id]
        issue = Issue(list_id=mailing_list.id, number=1, subject="One", status="scheduled")
        issue.local_time, issue.local_date = "08:00", date(2099, 1, 5)
        issue.send_at = datetime(2099, 1, 5, 8, tzinfo=UTC)
        db.session.add(issue)
        db.session.commit()
        assert loop.claim_due_issues(datetime(2099, 1, 4, 12, tzinfo=UTC)) == []
        db.engine.dispose()


# --- Two fetches of one feed at once -----------------------------------------------------


@pytest.mark.slow
def test_a_fetch_now_meeting_the_beat_s_fetch_of_a_new_feed_stores_each_post_once_and_no_error(
    app, weekly, servers, monkeypatch
):
    """A feed added is due at the beat's next look, a minute at most: an editor's (or a
    caller's) "fetch now" can meet that fetch. The first to store holds the feed's row (its
    schedule is written before its posts are looked up) until it commits: the second then
    finds the posts taken, rather than breaking on the list's unique guids."""
    import threading

    site = servers.start(answers(ok(rss(item("a", "First"), item("b", "Second")))))
    feed = add_feed(weekly, site.url + "/feed")
    original, met, threads = feeds._unseen, [], []

    def meeting(list_id, fresh):
        unseen = original(list_id, fresh)
        if not met:  # the other fetch comes while this one is about to store what it found
            met.append(True)

            def other():
                with app.app_context():
                    met.append(feeds.fetch_by_id(feed.id))

            threads.append(threading.Thread(target=other))
            threads[0].start()
            threads[0].join(2)  # done, or waiting for this one
        return unseen

    monkeypatch.setattr(feeds, "_unseen", meeting)
    mine = feeds.fetch_by_id(feed.id)
    threads[0].join(20)
    assert sorted([mine, met[1]]) == [0, 2]
    row = stored(feed)
    assert row.last_error is None and row.failures == 0
    assert db.session.scalar(sa.select(sa.func.count()).where(Post.list_id == weekly.id)) == 2


# --- Numbers a site writes oddly ---------------------------------------------------------


def test_a_superscript_for_a_number_in_max_age_retry_after_or_ttl_reads_as_none(weekly, servers):
    """str.isdigit() says yes to "²", which int() refuses: the feed's answer was thrown away
    as 'the connection failed' (max-age) or 'The feed could not be read.' (<ttl>), at every
    fetch. Digits int() reads, Persian ones among them, still count."""
    body = rss(item("a", "First")).replace(b"<title>Example", b"<ttl>\xc2\xb2</ttl><title>Ex")
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n"
    raw = head + b"Cache-Control: max-age=\xb2\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    site = servers.start(answers(raw))
    feed = add_feed(weekly, site.url + "/feed")
    assert feeds.fetch_by_id(feed.id) == 1
    assert stored(feed).last_error is None
    assert fetch.retry_after("\xb2") is None
    assert fetch.max_age("max-age=۶۰") == 60
