"""Reading a feed's bytes into posts, within caps on items and on each field.

Cleaning HTML grows faster than linearly with nesting (200,000 nested elements took minutes),
so a field is cut to FIELD_MAX_CHARS before it is cleaned, and dropped when it nests deeper
than FIELD_MAX_DEPTH: a title or an excerpt needs neither.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from datetime import UTC, datetime

import feedparser

from newsletter.models import Feed, Post, utcnow
from newsletter.posts.service import EXCERPT_MAX, TITLE_MAX
from newsletter.text import single_line, strip_html, web_url

FIELD_MAX_CHARS = 32 * 1024
FIELD_MAX_DEPTH = 64
_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/>]*)[^>]*?(/?)>")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip


class NotAFeed(Exception):
    pass


def parse(body: bytes):
    """feedparser on the bytes. A stream, not bytes: given bytes, feedparser first tries them
    as a local file name (a feed answering '/etc/passwd' would be read from disk)."""
    parsed = feedparser.parse(io.BytesIO(body))
    if parsed.bozo and not parsed.entries:
        raise NotAFeed
    return parsed


def depth(markup: str) -> int:
    """How deep tags nest, roughly: opening tags minus closing ones, at the deepest."""
    level = deepest = 0
    for closing, name, self_closing in _TAG.findall(markup):
        if closing:
            level = max(level - 1, 0)
        elif not self_closing and name.lower() not in _VOID:
            level += 1
            deepest = max(deepest, level)
    return deepest


def field(value: str | None) -> str:
    """A feed's field, cut and checked before anything cleans it."""
    value = (value or "")[:FIELD_MAX_CHARS]
    return "" if depth(value) > FIELD_MAX_DEPTH else value


def feed_title(parsed) -> str:
    return single_line(strip_html(field(parsed.feed.get("title"))), 300)


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


def post_of(feed: Feed, entry, source: str) -> Post | None:
    url = web_url(entry.get("link", ""))
    title = strip_html(field(entry.get("title")), TITLE_MAX)
    if url is None or not title:
        return None  # no safe link or no title: nothing a subscriber could use
    return Post(
        list_id=feed.list_id,
        feed_id=feed.id,
        guid=_guid(entry),
        url=url,
        title=title,
        source=single_line(strip_html(field(entry.get("author")) or source), 300),
        excerpt=strip_html(field(entry.get("summary")), EXCERPT_MAX),
        published_at=_published(entry),
        first_seen_at=utcnow(),
    )


def posts_of(feed: Feed, parsed, max_items: int) -> dict[str, Post]:
    """The first max_items usable entries, by guid (the first of each guid wins)."""
    found: dict[str, Post] = {}
    for entry in parsed.entries[:max_items]:
        post = post_of(feed, entry, feed.title)
        if post is not None:
            found.setdefault(post.guid, post)
    return found
