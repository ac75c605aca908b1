"""Fetching RSS and Atom feeds: conditional GET, de-duplication by guid, sanitised text."""

from __future__ import annotations

import calendar
import hashlib
import urllib.error
import urllib.request
from datetime import UTC, datetime

import feedparser
import sqlalchemy as sa
from flask import current_app

from newsletter.extensions import db
from newsletter.models import Feed, Post, utcnow
from newsletter.posts.service import EXCERPT_MAX, TITLE_MAX
from newsletter.text import single_line, strip_html, web_url

USER_AGENT = "newsletter-feed-fetcher/1.0"
MAX_BYTES = 10 * 1024 * 1024


class FeedError(Exception):
    """The feed could not be fetched or read; the message is also kept on the feed."""


def _download(feed: Feed) -> bytes | None:
    """The feed's bytes, or None when the server says nothing changed (304)."""
    request = urllib.request.Request(feed.url, headers={"User-Agent": USER_AGENT})
    if feed.etag:
        request.add_header("If-None-Match", feed.etag)
    if feed.modified:
        request.add_header("If-Modified-Since", feed.modified)
    try:
        with urllib.request.urlopen(request, timeout=current_app.config["FEED_TIMEOUT"]) as answer:
            body = answer.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise FeedError("The feed is larger than 10 MB.")
            feed.etag = answer.headers.get("ETag")
            feed.modified = answer.headers.get("Last-Modified")
            return body
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return None
        raise FeedError(f"The server answered HTTP {exc.code} {exc.reason}.") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FeedError(f"Could not reach the feed: {reason}.") from exc


def _guid(entry) -> str:
    guid = entry.get("id") or entry.get("link")
    if guid:
        return guid[:2000]
    digest = hashlib.sha256(f"{entry.get('title', '')}|{entry.get('link', '')}".encode())
    return "sha256:" + digest.hexdigest()


def _published(entry) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC)


def _post(feed: Feed, entry, source: str) -> Post | None:
    url = web_url(entry.get("link", ""))
    title = strip_html(entry.get("title", ""), TITLE_MAX)
    if url is None or not title:
        return None  # no safe link or no title: nothing a reader could use
    summary = entry.get("summary") or ""
    return Post(
        list_id=feed.list_id,
        feed_id=feed.id,
        guid=_guid(entry),
        url=url,
        title=title,
        source=single_line(strip_html(entry.get("author") or source), 300),
        excerpt=strip_html(summary, EXCERPT_MAX),
        published_at=_published(entry),
        first_seen_at=utcnow(),
    )


def fetch_feed(feed: Feed) -> int:
    """Fetch one feed and store its new posts; returns how many were new."""
    feed.last_fetched_at = utcnow()
    try:
        body = _download(feed)
        if body is None:
            feed.last_error = None
            db.session.commit()
            return 0
        parsed = feedparser.parse(body)
        if parsed.bozo and not parsed.entries:
            problem = getattr(parsed, "bozo_exception", "unknown problem")
            raise FeedError(f"This is not a feed we can read: {problem}.")
    except FeedError as exc:
        db.session.rollback()
        feed = db.session.merge(feed)
        feed.last_fetched_at = utcnow()
        feed.last_error = str(exc)
        db.session.commit()
        raise
    feed.title = single_line(strip_html(parsed.feed.get("title", "")), 300)
    candidates = {}
    for entry in parsed.entries:
        post = _post(feed, entry, feed.title)
        if post is not None:
            candidates.setdefault(post.guid, post)
    known = (
        set(
            db.session.scalars(
                sa.select(Post.guid).where(
                    Post.list_id == feed.list_id, Post.guid.in_(list(candidates))
                )
            )
        )
        if candidates
        else set()
    )
    new = [post for guid, post in candidates.items() if guid not in known]
    db.session.add_all(new)
    feed.last_error = None
    db.session.commit()
    return len(new)


def fetch_by_id(feed_id: int) -> int:
    feed = db.session.get(Feed, feed_id)
    if feed is None:
        return 0
    try:
        return fetch_feed(feed)
    except FeedError:
        return 0  # the reason is on the feed for editors to see


def poll_all() -> int:
    """Fetch every feed; one broken feed does not stop the others."""
    ids = db.session.scalars(sa.select(Feed.id).order_by(Feed.id)).all()
    return sum(fetch_by_id(feed_id) for feed_id in ids)
