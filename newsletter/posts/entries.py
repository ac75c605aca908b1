"""Reading a feed's bytes into posts, within caps on items and on each field.

Cleaning HTML grows faster than linearly with nesting (200,000 nested elements took minutes),
so a field is cut to FIELD_MAX_CHARS before it is cleaned, and dropped when it nests deeper
than FIELD_MAX_DEPTH: a title or an excerpt needs neither.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser

from newsletter.models import Feed, Post, utcnow
from newsletter.posts import dates, json_feed
from newsletter.posts.service import EXCERPT_MAX, TITLE_MAX
from newsletter.text import cut, single_line, storable, strip_html, web_url

FIELD_MAX_CHARS = 32 * 1024
FIELD_MAX_DEPTH = 64
_CHARACTER_REFERENCE = re.compile(rb"&#([xX][0-9a-fA-F]+|[0-9]+);")
# ("<" kept out of a tag: "<A<A<A..." with no ">" was cubic, seconds for a 1 KB title.)
_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/<>]*)[^<>]*?(/?)>")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip


# A post dated before this is a date misread (a Solar Hijri year taken for a Gregorian one).
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
# A title made of a post's text, where a feed gives none (Mastodon's).
UNTITLED_MAX = 100
dates.teach()


class NotAFeed(Exception):
    pass


def parse(body: bytes, content_type: str | None = None):
    """feedparser on the bytes, told the Content-Type they came with (its charset outranks
    the XML declaration's, RFC 7303); a JSON Feed read as one. A stream, not bytes: given
    bytes, feedparser first tries them as a local file name (a feed answering '/etc/passwd'
    would be read from disk)."""
    parsed = json_feed.parse(body)
    if parsed is not None:
        return parsed
    parsed = _read(_AUTHOR.sub(rb"\1", _xml_characters(body)), content_type)
    # Broken markup, or markup well made but of no feed format (a web page): feedparser
    # reads either as a feed with no items, and the editors would see nothing wrong.
    if (parsed.bozo or not parsed.version) and not parsed.entries:
        raise NotAFeed
    return parsed


# A web page's pointer to its feed, as browsers and feed readers find it (RSS autodiscovery):
# <link rel="alternate" type="application/rss+xml" href="/feed/">, in the page's head.
# (Linear on what a page may hold: "<link<link..." with no ">", and an attribute name tried
# from each of its letters, took seconds to minutes on 16-256 KB.)
_LINK = re.compile(r"<link\b([^<>]*)>", re.I)
_ATTRIBUTE = re.compile(r"""(?<![\w-])([\w-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}


def feed_named_by(page: bytes, base: str) -> str | None:
    """The web address of the feed a web page names for itself, or None."""
    head = page[: 256 * 1024].decode("utf-8", errors="replace")
    for attributes in _LINK.findall(head):
        said = {k.lower(): html.unescape(v.strip("\"'")) for k, v in _ATTRIBUTE.findall(attributes)}
        if "alternate" in said.get("rel", "").lower().split() and (
            said.get("type", "").lower().strip() in FEED_TYPES and said.get("href", "").strip()
        ):
            return web_url(urljoin(base, said["href"].strip()))
    return None


# The XML declaration's encoding, with what comes before it in the declaration.
# Looked for in the document's start only, bounded: over a whole feed it backtracked for
# seconds on repeated "<?xml".
_ENCODING_NAMED = re.compile(rb"(<\?xml\b[^>]{0,200}?)\s+encoding\s*=\s*([\"'])[^>]{0,100}?\2")
DECLARATION_MAX = 512
# feedparser reads an author's text with a pattern that is quadratic in its length (32 KB of
# dashes: 4 s, before any cap of ours applies): such elements are cut first.
_AUTHOR = re.compile(
    rb"(<(?:author|dc:creator|managingeditor|webmaster|itunes:author|name|email)\b[^<>]{0,200}>"
    rb"(?:<!\[CDATA\[)?[^<\]]{0,1000})[^<\]]*",
    re.I,
)


def _read(body: bytes, content_type: str | None = None):
    headers = {"content-type": content_type} if content_type else None
    try:
        return feedparser.parse(io.BytesIO(body), response_headers=headers)
    except (ValueError, LookupError) as exc:
        # An encoding named so that feedparser cannot take it (garbled bytes, a NUL in the
        # name) raised, and the whole feed was lost: read as XML's default, UTF-8.
        head, rest = body[:DECLARATION_MAX], body[DECLARATION_MAX:]
        unnamed = _ENCODING_NAMED.sub(rb"\1", head, count=1) + rest
        if unnamed == body:
            raise NotAFeed from exc
        return _read(unnamed, content_type)
    except (AttributeError, KeyError, IndexError, TypeError) as exc:
        # The lenient parser's own faults on broken markup ("<channel<item<link</item</link>").
        raise NotAFeed from exc


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


def _xml_characters(body: bytes) -> bytes:
    """Character references to what XML may not carry (NUL, half a surrogate pair, past
    U+10FFFF) made U+FFFD: feedparser's lenient parser raised on most of them, and one such
    reference lost the whole feed."""
    if b"&#" not in body:
        return body
    return _CHARACTER_REFERENCE.sub(_allowed_reference, body)


def _allowed_reference(match: re.Match) -> bytes:
    digits = match.group(1)
    if len(digits) > 12:  # past any character, and past what int() reads
        return b"&#xFFFD;"
    code = int(digits[1:], 16) if digits[:1] in b"xX" else int(digits)
    allowed = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0x10FFFF
    return match.group(0) if allowed and code not in (0xFFFE, 0xFFFF) else b"&#xFFFD;"


def text_of(source, key: str) -> str:
    """A string of the feed or of an entry, as the database can keep it."""
    return storable(source.get(key) or "")


def field(value: str | None) -> str:
    """A feed's field, cut and checked before anything cleans it."""
    value = (value or "")[:FIELD_MAX_CHARS]
    return "" if depth(value) > FIELD_MAX_DEPTH else value


def feed_title(parsed) -> str:
    return single_line(strip_html(field(text_of(parsed.feed, "title"))), 300)


# RSS 1.0's syndication module: how often a feed says it changes (WordPress: hourly, once).
PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
           "yearly": 365 * 86400}  # fmt: skip


def asked_interval(parsed) -> int | None:
    """Seconds the feed asks between reads: RSS's <ttl> (minutes), or sy:updatePeriod over
    sy:updateFrequency, whichever is longer; None when it asks nothing."""
    asked = []
    ttl = text_of(parsed.feed, "ttl").strip()
    if ttl.isdecimal():
        asked.append(int(ttl[:9]) * 60)
    period = PERIODS.get(text_of(parsed.feed, "sy_updateperiod").strip().lower())
    if period:
        frequency = text_of(parsed.feed, "sy_updatefrequency").strip()
        asked.append(period // max(int(frequency[:9]), 1) if frequency.isdecimal() else period)
    return max(asked, default=None)


def _guid(entry) -> str:
    guid = text_of(entry, "id") or text_of(entry, "link")
    if guid:
        return guid[:2000]
    digest = hashlib.sha256(f"{entry.get('title', '')}|{entry.get('link', '')}".encode())
    return "sha256:" + digest.hexdigest()


def _timestamp(entry) -> int:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return calendar.timegm(parsed) if parsed else 0


def _published(entry, now: datetime) -> datetime | None:
    """When the post was published: none before EARLIEST (a misread), none after now (an
    events plugin dates a post by its event), which then takes when it was first seen."""
    stamp = _timestamp(entry)
    moment = datetime.fromtimestamp(stamp, UTC) if stamp else None
    return moment if moment is not None and EARLIEST <= moment <= now else None


def _without_campaign(url: str) -> str:
    """The link without Google Analytics' utm_* parameters, which tag the feed as where a
    click came from: from a digest, it did not."""
    parts = urlsplit(url)
    if "utm_" not in parts.query:
        return url
    kept = [pair for pair in parts.query.split("&") if not pair.lower().startswith("utm_")]
    return urlunsplit(parts._replace(query="&".join(kept)))


def post_of(feed: Feed, entry, source: str, base: str = "") -> Post | None:
    url = web_url(_link(entry, base))
    url = url and _without_campaign(url)
    # An empty description beside the article (content:encoded) is no excerpt.
    content = entry.get("content") or [{}]
    summary = text_of(entry, "summary").strip() or storable(content[0].get("value") or "")
    excerpt = without_trailers(strip_html(field(summary)))
    title = strip_html(field(text_of(entry, "title")), TITLE_MAX) or cut(excerpt, UNTITLED_MAX)
    if url is None or not title:
        return None  # no safe link or no title: nothing a subscriber could use
    now = utcnow()
    return Post(
        list_id=feed.list_id,
        feed_id=feed.id,
        guid=_guid(entry),
        url=url,
        title=title,
        source=single_line(strip_html(field(text_of(entry, "author")) or source), 300),
        excerpt=cut(excerpt, EXCERPT_MAX),
        published_at=_published(entry, now),
        first_seen_at=now,
    )


# What blog software appends to every excerpt, which says nothing in a digest: Yoast's "The
# post X appeared first on Y." (and its Persian and Arabic), WordPress themes' "Continue
# reading “X” →", Drupal's "Read more about X" and the like; WordPress's "[…]" stays as an
# ellipsis.
_TRAILER = re.compile(
    r"\s*(?:The post .{1,400}? appeared first on (?:(?!\. ).){1,200}\.|"
    r"نوشته .{1,400}? اولین بار در .{1,200}? پدیدار شد\.|"
    r"ظهرت المقالة .{1,400}? أولاً على .{1,200}?\.|"
    r"Read more about .{1,300}|"
    r"(?:Continue reading|Read more|Read the full (?:article|story|post)|Lire la suite|"
    r"Weiterlesen|Seguir leyendo|ادامه\u200c?ی? (?:مطلب|خبر|خواندن)|اقرأ المزيد|اقرأ أكثر)"
    r"(?:\s*[“\"«][^”\"»]{0,300}[”\"»])?\s*(?:→|»|›|\.\.\.|…)?)\s*$",
    re.DOTALL | re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"\s*\[(?:…|\.\.\.)\]")


def without_trailers(excerpt: str) -> str:
    for _ in range(2):  # "[…] Continue reading →" then "The post ... appeared first on"
        excerpt = _TRAILER.sub("", excerpt)
    return _ELLIPSIS.sub("…", excerpt).strip()


def _link(entry, base: str) -> str:
    """The entry's link; a relative one (RSS says absolute, feeds differ) read against `base`,
    where the feed came from. A link feedparser made of a guid that is no URL is none."""
    # FeedBurner's own address stands in for the article's, which it keeps as origLink; a
    # podcast's episode may have no link but its enclosure.
    enclosures = entry.get("enclosures") or [{}]
    link = (
        text_of(entry, "feedburner_origlink")
        or text_of(entry, "link")
        or storable(enclosures[0].get("href") or "")
    )
    if entry.get("guidislink") and not entry.get("feedburner_origlink"):
        return link if web_url(link) else ""
    try:
        return urljoin(base, link) if base and link else link
    except ValueError:  # "http://[bad": no URL, and this entry alone is skipped
        return ""


def posts_of(feed: Feed, parsed, max_items: int, base: str = "") -> dict[str, Post]:
    """The newest max_items usable entries, by guid (the first of each guid wins); `base` is
    where the feed came from, after redirects. Newest by date, not by place: a feed may list
    its oldest first, and this week's were past the cap."""
    found: dict[str, Post] = {}
    for entry in sorted(parsed.entries, key=_timestamp, reverse=True)[:max_items]:
        post = post_of(feed, entry, feed.title, base)
        if post is not None:
            found.setdefault(post.guid, post)
    return found
