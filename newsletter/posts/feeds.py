"""Fetching RSS and Atom feeds, in the worker, as a good citizen of other people's servers.

Conditional GET, the validators sent back as the server gave them. Each feed keeps its own
schedule: polled once its interval has passed, never sooner than the feed or its server asks
(<ttl>, sy:updatePeriod, Cache-Control: max-age), a little later at random so that polls
spread; backing off exponentially while it fails, up to FEED_BACKOFF_MAX; never before a 429's
or 503's Retry-After; no longer polled once its site says it is gone (410), which the editors
are told. One request serves every list that reads an address; a feed moved for good (301,
308) is read at its new address from then on. Posts are taken once: by guid, and by link and
title (or title and date) for feeds that rename their items; an item retitled under its guid
is updated. Sanitised text; one feed's failure is stored on that feed and the others go on."""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs, mailer
from newsletter.editors import email_editors
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.models import Feed, Post, utcnow
from newsletter.posts import entries, fetch
from newsletter.posts.service import feeds_with_new
from newsletter.statuses import EachPostSkip
from newsletter.text import web_url

PRODUCT = "newsletter-feed-fetcher/1.0"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
# Guids looked up per query: a bound on parameters whatever FEED_MAX_ITEMS is.
GUID_CHUNK = 500
# A poll comes up to this share of its interval late, at random: feeds added together, or
# all failing together while our network was down, do not stay polled at the same second.
JITTER = 0.1

logger = logging.getLogger(__name__)


class FeedError(NewsletterError):
    """The feed could not be fetched or read; the message is also kept on the feed. Its site
    may have said when to come back (not_before) or that the feed is gone for good."""

    not_before: datetime | None = None
    gone: bool = False


def user_agent() -> str:
    """Who we are and where our operator is found, as publishers ask of feed readers."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{PRODUCT} (+{base}/; a newsletter's feed reader)"


def limits() -> fetch.Limits:
    config = current_app.config
    return fetch.Limits(
        deadline=config["FEED_DEADLINE"],
        timeout=config["FEED_TIMEOUT"],
        max_bytes=config["FEED_MAX_BYTES"],
        allow_hosts=config["FEED_ALLOW_HOSTS"],
    )


def _download(feed: Feed, elsewhere: str | None = None) -> fetch.Answer:
    """The feed's answer; from `elsewhere` instead (unconditionally) when given."""
    headers = {
        "User-Agent": user_agent(),
        "Accept": ACCEPT,
        "Accept-Encoding": fetch.ACCEPT_ENCODING,
    }
    if feed.etag and not elsewhere:
        headers["If-None-Match"] = feed.etag
    if feed.modified and not elsewhere:
        headers["If-Modified-Since"] = feed.modified
    url, settings = elsewhere or feed.url, limits()
    db.session.commit()  # no transaction held open while a server takes its time
    try:
        return fetch.get(url, headers, settings)
    except fetch.TooLarge as exc:
        raise FeedError(f"The feed is too large: {exc}.") from exc
    except fetch.Declined as exc:
        error = FeedError(str(exc))
        error.not_before, error.gone = exc.retry_after, exc.gone
        raise error from exc
    except fetch.FetchError as exc:
        raise FeedError(f"Could not reach the feed: {exc}.") from exc


NOT_A_FEED = (
    "This is not a feed we can read. A site's own page is not its feed: give the feed's "
    "address (often /feed or /rss.xml)."
)


def _follow(feed: Feed, named: str) -> tuple[fetch.Answer, object]:
    """A web page given for a feed, that names its feed: the feed is read there, and
    fetched there from now on (the answer's moved_to)."""
    if _reads(feed.list_id, named):
        raise FeedError(f"This page's feed, {named}, is already one of this list's feeds.")
    answer = _download(feed, named)
    try:
        parsed = entries.parse(answer.body or b"", answer.content_type)
    except entries.NotAFeed as exc:
        raise FeedError(f"This page names {named} as its feed, which is not a feed.") from exc
    answer.moved_to = answer.moved_to or named
    return answer, parsed


def _chunks(values: list) -> list[list]:
    return [values[start : start + GUID_CHUNK] for start in range(0, len(values), GUID_CHUNK)]


def _taken(list_id: int, guids: list[str]) -> dict[str, Post]:
    """The list's posts with these guids."""
    taken: dict[str, Post] = {}
    for chunk in _chunks(guids):
        query = sa.select(Post).where(Post.list_id == list_id, Post.guid.in_(chunk))
        taken.update((post.guid, post) for post in db.session.scalars(query))
    return taken


def _same_article(url: str, title: str, published_at: datetime | None, feed_id: int | None):
    """What makes two posts one article under two guids: the same link and title, or, from
    one feed, the same title and date (a link with a token that changes at each fetch)."""
    keys = {("link", url, title)}
    if published_at is not None:
        keys.add(("date", feed_id, title, published_at))
    return keys


def _unseen(list_id: int, fresh: list[Post]) -> list[Post]:
    """The posts of new guids that are not an article the list has under another guid (feeds
    that make up their guids at each fetch: Feedbin's, NetNewsWire's and Miniflux's users
    see those twice). Items that only share a link (a site's home page) stay apart."""
    seen: set[tuple] = set()
    for chunk in _chunks(sorted({post.title for post in fresh})):
        query = sa.select(Post.url, Post.title, Post.published_at, Post.feed_id).where(
            Post.list_id == list_id, Post.title.in_(chunk)
        )
        for row in db.session.execute(query):
            seen |= _same_article(*row)
    unseen = []
    for post in fresh:
        keys = _same_article(post.url, post.title, post.published_at, post.feed_id)
        if not keys & seen:
            unseen.append(post)
        seen |= keys
    return unseen


def _refresh(post: Post, seen: Post) -> None:
    """A post its feed has changed under the same guid (a title's typo fixed) takes the change;
    issues already made keep their own copy. Posts entered by hand are the editors'."""
    if post.feed_id == seen.feed_id:
        for name in ("title", "url", "excerpt"):
            if getattr(post, name) != getattr(seen, name):
                setattr(post, name, getattr(seen, name))


def _store_posts(feed: Feed, parsed, base: str, started: datetime) -> int:
    found = entries.posts_of(feed, parsed, current_app.config["FEED_MAX_ITEMS"], base)
    taken = _taken(feed.list_id, list(found))
    for guid, post in taken.items():
        _refresh(post, found[guid])
    new = _unseen(feed.list_id, [post for guid, post in found.items() if guid not in taken])
    if feed.first_fetched_at is None:
        # The site's back catalogue, not news: for the digest, never each on its own.
        feed.first_fetched_at = started
        for post in new:
            post.each_post_skipped = EachPostSkip.FIRST_FETCH
    db.session.add_all(new)
    return len(new)


def _fits(value: str | None, column) -> str | None:
    """A validator as the server gave it, or None where it does not fit the column: sent
    back cut, it would never match, and a wrong one is worse than none."""
    return value if value is not None and len(value) <= column.type.length else None


def _later(seconds: float, started: datetime) -> datetime:
    return started + timedelta(seconds=seconds * (1 + random.uniform(0, JITTER)))


def _interval(feed: Feed, max_age: int | None = None) -> float:
    """Seconds between polls: ours, or more where the feed or its server ask (a floor, held
    to FEED_BACKOFF_MAX: a feed cannot ask to be left unread for a year)."""
    config = current_app.config
    asked = max(feed.min_interval or 0, max_age or 0)
    return max(config["FEED_POLL_INTERVAL"], min(asked, config["FEED_BACKOFF_MAX"]))


def _worked(feed: Feed, answer: fetch.Answer, parsed, started: datetime) -> None:
    """The feed answered: its validators, what it asks, and its next poll, an interval on."""
    moved_to = _keeps(feed.url, answer.moved_to)
    if moved_to and moved_to != feed.url and not _reads(feed.list_id, moved_to):
        feed.url = moved_to  # every hop passed the guard, as it will at each fetch
    if parsed is not None:
        feed.etag = _fits(answer.etag, Feed.etag)
        feed.modified = _fits(answer.modified, Feed.modified)
        feed.title = entries.feed_title(parsed)
        feed.min_interval = entries.asked_interval(parsed)
    else:  # 304: what it says of the validators replaces what we kept (RFC 9111 4.3.4)
        feed.etag = _fits(answer.etag, Feed.etag) or feed.etag
        feed.modified = _fits(answer.modified, Feed.modified) or feed.modified
    feed.last_fetched_at = feed.last_success_at = started
    feed.last_error, feed.failures, feed.not_before, feed.gone_at = None, 0, None, None
    feed.failing_told_at = None
    feed.next_fetch_at = _later(_interval(feed, answer.max_age), started)


def _keeps(url: str, moved_to: str | None) -> str | None:
    """Where a feed moved for good, to be fetched there from now on: an address an editor
    could have given (one line, within the column), and never from https down to http,
    where anyone on the path could answer for the site, and move it again, from then on."""
    if not moved_to or web_url(moved_to) != moved_to:
        return None
    if urlsplit(url).scheme.lower() == "https" and urlsplit(moved_to).scheme.lower() != "https":
        return None
    return moved_to


def _failed(feed: Feed, error: FeedError, started: datetime) -> bool:
    """The fetch failed: the next poll backs off, twice as far each time in a row, and never
    before what the site asked; a feed gone is no longer polled. True if the editors are to
    be told now: it is newly gone, or newly unread for FEED_FAILING_AFTER."""
    feed.last_fetched_at, feed.last_error = started, str(error)
    feed.failures = (feed.failures or 0) + 1
    if error.gone:
        newly = feed.gone_at is None
        feed.gone_at, feed.next_fetch_at = feed.gone_at or started, None
        return newly
    base, most = _interval(feed), current_app.config["FEED_BACKOFF_MAX"]
    backoff = max(base, min(base * 2 ** min(feed.failures - 1, 30), most))
    feed.not_before = error.not_before
    feed.next_fetch_at = max(_later(backoff, started), error.not_before or started)
    return _newly_failing(feed, started)


def _newly_failing(feed: Feed, now: datetime) -> bool:
    """Not read since it last read, or since it was added, for FEED_FAILING_AFTER, and the
    editors not told of this streak yet: then they are to be."""
    unread = now - (feed.last_success_at or feed.created_at)
    if feed.failing_told_at is not None or unread.total_seconds() < _failing_after():
        return False
    feed.failing_told_at = now
    return True


def _failing_after() -> float:
    return current_app.config["FEED_FAILING_AFTER"]


def _reads(list_id: int, url: str) -> bool:
    taken = sa.select(Feed.id).where(Feed.list_id == list_id, Feed.url == url)
    return db.session.scalar(taken) is not None


def _readers(url: str) -> list[Feed]:
    """Every list's feed at this address: one request serves them all."""
    return db.session.scalars(sa.select(Feed).where(Feed.url == url).order_by(Feed.id)).all()


def _store_error(url: str, error: FeedError) -> None:
    db.session.rollback()
    started, to_tell = utcnow(), []
    for feed in _readers(url):
        if _failed(feed, error, started):
            to_tell.append(feed.id)
    db.session.commit()
    for feed_id in to_tell:
        jobs.tell_editors_of_feed.nudge(feed_id)


def waiting_until(feed: Feed) -> datetime | None:
    """When the feed's site said we may ask again (its Retry-After), if that is still ahead.
    Not even an editor's "fetch now" asks sooner: the site said when, and asking again early
    prolongs a rate limit's block or escalates it."""
    return feed.not_before if feed.not_before and feed.not_before > utcnow() else None


def fetch_feed(feed: Feed) -> int:
    """Fetch one feed, for every list that reads its address, and store their new posts;
    returns how many were new. Nothing is asked before the site's Retry-After has passed."""
    if waiting_until(feed):
        return 0
    url, started = feed.url, utcnow()
    # Validators only when every list reading the address holds the same: another list's
    # would have the site answer 304 to a list that has never read it.
    validators = {(reader.etag, reader.modified) for reader in _readers(url)}
    try:
        answer, parsed = _download(feed, None if len(validators) == 1 else url), None
        if answer.body is not None:
            try:
                parsed = entries.parse(answer.body, answer.content_type)
            except entries.NotAFeed as exc:
                named = entries.feed_named_by(answer.body, answer.url)
                if not named or named == feed.url:
                    raise FeedError(NOT_A_FEED) from exc
                answer, parsed = _follow(feed, named)
    except FeedError as exc:
        _store_error(url, exc)
        raise
    new = 0
    for reader in _readers(url):
        _worked(reader, answer, parsed, started)  # its title first: its posts' source
        if parsed is not None:
            new += _store_posts(reader, parsed, answer.url, started)
    db.session.commit()
    return new


def fetch_by_id(feed_id: int) -> int:
    """fetch_feed, for the worker: whatever goes wrong is stored on the feed, not raised."""
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        return 0
    try:
        return fetch_feed(feed)
    except FeedError:
        return 0  # the reason is on the feed for editors to see
    except Exception:
        logger.exception("feed %s could not be read", feed_id)
        db.session.rollback()
        feed = db.session.get(Feed, feed_id)
        if feed is not None:
            _store_error(feed.url, FeedError("The feed could not be read."))
        return 0


def _due(now: datetime):
    """Feeds whose next poll has come, that their sites let us ask, and not gone."""
    return (
        Feed.gone_at.is_(None),
        sa.or_(Feed.next_fetch_at.is_(None), Feed.next_fetch_at <= now),
        sa.or_(Feed.not_before.is_(None), Feed.not_before <= now),
    )


def _one_an_address(rows) -> list[int]:
    first: dict[str, int] = {}
    for feed_id, url in rows:
        first.setdefault(url, feed_id)
    return sorted(first.values())


def poll_all() -> int:
    """Fetch every due feed here, one address at a time; one broken feed does not stop the
    others. (The beat queues each as a job of its own instead: queue_due.)"""
    rows = db.session.execute(sa.select(Feed.id, Feed.url).where(*_due(utcnow())))
    return sum(fetch_by_id(feed_id) for feed_id in _one_an_address(rows))


def queue_due() -> list[int]:
    """For the beat: claim the due feeds and queue a fetch for each address, as a job of its
    own, so that a slow or hanging server holds up only its own feed. A claim pushes the
    feeds' next poll an interval on: a tick later, they are not queued again; a job lost with
    its worker is polled then. Returns the feeds queued."""
    now = utcnow()
    held = now + timedelta(seconds=current_app.config["FEED_POLL_INTERVAL"])
    claimed = db.session.execute(
        sa.update(Feed)
        .where(*_due(now))
        .values(next_fetch_at=held)
        .returning(Feed.id, Feed.url)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    queued = _one_an_address(claimed)
    for feed_id in queued:
        jobs.fetch_feed.delay(feed_id)
    return queued


def tell_editors_of_feed(feed_id: int) -> int:
    """Email the editors that a feed's site says it is gone, or that it has not been read
    for FEED_FAILING_AFTER; how many were told. Nothing once it reads again."""
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        return 0
    if feed.gone_at is not None:
        template, said = "feed_gone", "is gone"
    elif feed.failing_told_at is not None:
        template, said = "feed_failing", "cannot be read"
    else:
        return 0
    mailing_list = feed.mailing_list
    subject = f"{mailing_list.name}: the feed {feed.title or feed.url} {said}"
    page = f"{current_app.config['BASE_URL']}/admin/lists/{mailing_list.slug}/posts"
    unread = utcnow() - (feed.last_success_at or feed.created_at)
    html, text = mailer.render_email(
        template, feed=feed, mailing_list=mailing_list, subject=subject, page=page, unread=unread
    )
    return email_editors(mailing_list, subject, html, text)


def wait_for_fetch(feed_id: int, since: datetime, seconds: float) -> tuple[Feed, int] | None:
    """(the feed, posts its fetch added) once a fetch started after `since` is stored; None
    when none is within `seconds`. The web request waits for the worker, it never fetches."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        feed, new = feeds_with_new(Feed.id == feed_id)[0]
        if feed.last_fetched_at is not None and feed.last_fetched_at >= since:
            return feed, new
        time.sleep(0.1)
    return None


def queue_fetch(feed: Feed) -> str:
    """Hand a fetch to a worker (never in a web request); returns the job's id."""
    return jobs.fetch_feed.delay(feed.id)
