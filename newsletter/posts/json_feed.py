"""JSON Feed (jsonfeed.org, versions 1 and 1.1), which feedparser does not read, given the
shape feedparser gives RSS and Atom, so one reader of entries serves all three. Before, a
site that offers only JSON Feed (Micro.blog, some Hugo and Ghost themes) was told that its
feed was no feed."""

from __future__ import annotations

import json

import feedparser
from feedparser.datetimes import _parse_date

_VERSION = "https://jsonfeed.org/version/"


def parse(body: bytes):
    """The feed in feedparser's shape, or None when the bytes are no JSON Feed."""
    start = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"{"):
        return None
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(_VERSION):
        return None
    items = document.get("items")
    entries = (
        [_entry(item) for item in items if isinstance(item, dict)]
        if isinstance(items, list)
        else []
    )
    return feedparser.FeedParserDict(
        feed=feedparser.FeedParserDict(title=_text(document.get("title"))),
        entries=entries,
        version="json",
        bozo=0,
    )


def _entry(item: dict):
    authors = item.get("authors") or (
        [item["author"]] if isinstance(item.get("author"), dict) else []
    )
    author = authors[0].get("name") if authors and isinstance(authors[0], dict) else ""
    summary = (
        _text(item.get("summary"))
        or _text(item.get("content_html"))
        or _text(item.get("content_text"))
    )
    entry = feedparser.FeedParserDict(
        id=_text(item.get("id")),
        link=_text(item.get("url")) or _text(item.get("external_url")),
        title=_text(item.get("title")),
        summary=summary,
        author=_text(author),
    )
    for field, key in (("published_parsed", "date_published"), ("updated_parsed", "date_modified")):
        value = _text(item.get(key))
        if value:
            entry[field] = _parse_date(value)
    return entry


def _text(value) -> str:
    return value if isinstance(value, str) else str(value) if isinstance(value, int | float) else ""
