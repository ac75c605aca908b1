"""Feeds and posts entered through the API or by hand."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.models import Feed, MailingList, Post
from newsletter.posts import guard
from newsletter.posts.excerpts import clean_excerpt, excerpt_from_html
from newsletter.text import single_line, strip_html, web_url

TITLE_MAX = 500
EXCERPT_MAX = 600


URL_MAX = 2000  # as text.web_url takes them


class PostError(NewsletterError, ValueError):
    """A feed or post cannot be added as asked; field names what was wrong."""


def add_feed(mailing_list: MailingList, url: str) -> Feed:
    checked = web_url(url)
    if checked is None and len((url or "").strip()) > URL_MAX:  # not a scheme's fault
        raise PostError(f"The feed URL can be at most {URL_MAX} characters.", "url")
    if checked is None:
        raise PostError("The feed URL must start with http:// or https://.", "url")
    try:
        guard.check_url_literally(checked, current_app.config["FEED_ALLOW_HOSTS"])
    except guard.Refused as exc:
        raise PostError(f"The feed URL cannot be fetched: {exc}.", "url") from exc
    exists = db.session.scalar(
        sa.select(Feed.id).where(Feed.list_id == mailing_list.id, Feed.url == checked)
    )
    if exists:
        raise PostError("This list already has that feed.", "url")
    feed = Feed(list_id=mailing_list.id, url=checked)
    db.session.add(feed)
    db.session.commit()
    return feed


# Posts the feed's last fetch added: they were first seen during it.
NEW_IN_LAST_FETCH = (
    sa.select(sa.func.count(Post.id))
    .where(Post.feed_id == Feed.id, Post.first_seen_at >= Feed.last_fetched_at)
    .correlate(Feed)
    .scalar_subquery()
)


def feeds_with_new(*where) -> list[tuple[Feed, int]]:
    """Feeds, each with how many posts its last fetch added."""
    query = sa.select(Feed, NEW_IN_LAST_FETCH).where(*where).order_by(Feed.id)
    return [tuple(row) for row in db.session.execute(query)]


def add_post(
    mailing_list: MailingList,
    *,
    title: str,
    url: str,
    source: str = "",
    published_at: datetime | None = None,
    excerpt: str = "",
    plain: bool = False,
) -> Post:
    """A post entered by hand; its URL is its guid. `plain`: the excerpt is text, where what
    looks like a tag ("<https://...>" in an email) stays; else it may be HTML."""
    checked = web_url(url)
    if checked is None:
        raise PostError("The URL must start with http:// or https://.", "url")
    clean_title = strip_html(title, TITLE_MAX)
    if not clean_title:
        raise PostError("The title cannot be empty.", "title")
    if published_at is not None and published_at.tzinfo is None:
        raise PostError("published_at needs a time zone offset.", "published_at")
    taken = db.session.scalar(
        sa.select(Post.id).where(Post.list_id == mailing_list.id, Post.guid == checked)
    )
    if taken:
        raise PostError("This list already has a post with that URL.", "url")
    post = Post(
        list_id=mailing_list.id,
        guid=checked,
        url=checked,
        title=clean_title,
        source=single_line(strip_html(source), 300),
        excerpt=(clean_excerpt if plain else excerpt_from_html)(excerpt, EXCERPT_MAX),
        published_at=published_at,
    )
    db.session.add(post)
    db.session.commit()
    return post
