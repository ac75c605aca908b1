"""The week's posts of a list, its feeds, and posts by hand."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from newsletter.admin import bp
from newsletter.digest.compose import posts_between
from newsletter.extensions import db
from newsletter.lists import get_list
from newsletter.models import Feed
from newsletter.posts import feeds
from newsletter.posts.service import PostError, add_feed, add_post


@bp.get("/lists/<slug>/posts")
def posts(slug: str):
    mailing_list = get_list(slug)
    days = min(max(request.args.get("days", 7, type=int), 1), 90)
    until = datetime.now(UTC)
    return render_template(
        "admin/posts.html",
        mailing_list=mailing_list,
        posts=posts_between(mailing_list, until - timedelta(days=days), until + timedelta(days=1)),
        feeds=db.session.scalars(sa.select(Feed).where(Feed.list_id == mailing_list.id)).all(),
        days=days,
    )


@bp.post("/lists/<slug>/feeds")
def new_feed(slug: str):
    mailing_list = get_list(slug)
    try:
        add_feed(mailing_list, request.form.get("url", ""))
        flash("Feed added.")
    except PostError as exc:
        flash(str(exc))
    return redirect(url_for("admin.posts", slug=slug))


@bp.post("/feeds/<int:feed_id>/fetch")
def fetch_now(feed_id: int):
    feed = db.session.get(Feed, feed_id) or abort(404)
    feeds.queue_fetch(feed)
    flash(f"Fetching {feed.title or feed.url}: reload this page in a moment for its new posts.")
    return redirect(url_for("admin.posts", slug=feed.mailing_list.slug))


@bp.post("/lists/<slug>/posts")
def new_post(slug: str):
    mailing_list = get_list(slug)
    try:
        add_post(
            mailing_list,
            title=request.form.get("title", ""),
            url=request.form.get("url", ""),
            source=request.form.get("source", ""),
            excerpt=request.form.get("excerpt", ""),
            published_at=datetime.now(UTC),
        )
        flash("Post added.")
    except PostError as exc:
        flash(str(exc))
    return redirect(url_for("admin.posts", slug=slug))
