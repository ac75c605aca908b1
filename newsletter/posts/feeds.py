"""Fetching RSS and Atom feeds, in the worker: conditional GET, de-duplication by guid,
sanitised text; one feed's failure is stored on that feed and the others go on."""

from __future__ import annotations

import logging
import time
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from newsletter import jobs
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.models import Feed, Post, utcnow
from newsletter.posts import entries, fetch
from newsletter.posts.service import feeds_with_new
from newsletter.statuses import EachPostSkip

USER_AGENT = "newsletter-feed-fetcher/1.0"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
# Guids looked up per query: a bound on parameters whatever FEED_MAX_ITEMS is.
GUID_CHUNK = 500

logger = logging.getLogger(__name__)


class FeedError(NewsletterError):
    """The feed could not be fetched or read; the message is also kept on the feed."""


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
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": fetch.ACCEPT_ENCODING}
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
    except fetch.FetchError as exc:
        raise FeedError(f"Could not reach the feed: {exc}.") from exc


NOT_A_FEED = (
    "This is not a feed we can read. A site's own page is not its feed: give the feed's "
    "address (often /feed or /rss.xml)."
)


def _follow(feed: Feed, named: str) -> tuple[fetch.Answer, object]:
    """A web page given for a feed, that names its feed: the feed is read there, and
    fetched there from now on."""
    taken = sa.select(Feed.id).where(Feed.list_id == feed.list_id, Feed.url == named)
    if db.session.scalar(taken) is not None:
        raise FeedError(f"This page's feed, {named}, is already one of this list's feeds.")
    answer = _download(feed, named)
    try:
        parsed = entries.parse(answer.body or b"", answer.content_type)
    except entries.NotAFeed as exc:
        raise FeedError(f"This page names {named} as its feed, which is not a feed.") from exc
    feed.url = named
    return answer, parsed


def _known(list_id: int, guids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(guids), GUID_CHUNK):
        chunk = guids[start : start + GUID_CHUNK]
        query = sa.select(Post.guid).where(Post.list_id == list_id, Post.guid.in_(chunk))
        known.update(db.session.scalars(query))
    return known


def _store_error(feed_id: int, message: str) -> None:
    db.session.rollback()
    feed = db.session.get(Feed, feed_id)
    if feed is not None:
        feed.last_fetched_at = utcnow()
        feed.last_error = message
        db.session.commit()


def fetch_feed(feed: Feed) -> int:
    """Fetch one feed and store its new posts; returns how many were new."""
    feed_id, started = feed.id, utcnow()
    try:
        answer = _download(feed)
        feed.last_fetched_at = started
        if answer.body is None:
            feed.last_error = None
            db.session.commit()
            return 0
        try:
            parsed = entries.parse(answer.body, answer.content_type)
        except entries.NotAFeed as exc:
            named = entries.feed_named_by(answer.body, answer.url)
            if not named or named == feed.url:
                raise FeedError(NOT_A_FEED) from exc
            answer, parsed = _follow(feed, named)
    except FeedError as exc:
        _store_error(feed_id, str(exc))
        raise
    feed.etag, feed.modified = answer.etag, answer.modified
    feed.title = entries.feed_title(parsed)
    found = entries.posts_of(feed, parsed, current_app.config["FEED_MAX_ITEMS"], answer.url)
    known = _known(feed.list_id, list(found))
    new = [post for guid, post in found.items() if guid not in known]
    if feed.first_fetched_at is None:
        # The site's back catalogue, not news: for the digest, never each on its own.
        feed.first_fetched_at = started
        for post in new:
            post.each_post_skipped = EachPostSkip.FIRST_FETCH
    db.session.add_all(new)
    feed.last_error = None
    db.session.commit()
    return len(new)


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
        _store_error(feed_id, "The feed could not be read.")
        return 0


def poll_all() -> int:
    """Fetch every feed; one broken feed does not stop the others."""
    ids = db.session.scalars(sa.select(Feed.id).order_by(Feed.id)).all()
    return sum(fetch_by_id(feed_id) for feed_id in ids)


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
