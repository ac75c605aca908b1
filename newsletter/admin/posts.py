"""A list's posts (since its last issue unless asked for other days), its feeds, and posts by
hand."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from newsletter import each_post
from newsletter.admin import bp, times
from newsletter.extensions import db
from newsletter.hardening import database_int
from newsletter.lists import get_list
from newsletter.models import Feed, Issue, MailingList, Post
from newsletter.posts import feeds
from newsletter.posts.service import PostError, add_feed, add_post
from newsletter.statuses import IssueStatus

PAGE = 50
DEFAULT_DAYS = 30
# An issue that went out, or will: its posts are not news any more.
PAST_ISSUE = (IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.PAUSED, IssueStatus.SENT)


def last_issue_until(mailing_list: MailingList) -> datetime | None:
    return db.session.scalar(
        sa.select(sa.func.max(Issue.until)).where(
            Issue.list_id == mailing_list.id, Issue.status.in_(PAST_ISSUE)
        )
    )


def _default_since(mailing_list: MailingList, today: date) -> tuple[date, str]:
    """The day of the last issue's end, else 30 days back; and why, to say on the page."""
    until = last_issue_until(mailing_list)
    if until is not None:
        return until.astimezone(ZoneInfo(mailing_list.timezone)).date(), "since the last issue"
    return today - timedelta(days=DEFAULT_DAYS), f"the last {DEFAULT_DAYS} days"


def _day(name: str, default: date | None, label: str) -> tuple[date | None, str]:
    text = request.args.get(name, "").strip()
    if not text:
        return default, ""
    try:
        return times.read_day(text, label), ""
    except ValueError as exc:  # a TimeInputError
        return default, str(exc)


@bp.get("/lists/<slug>/posts")
def posts(slug: str):
    """Days are the list's days; "to" includes its day, and without it nothing is too new."""
    mailing_list = get_list(slug)
    zone = mailing_list.timezone
    today = datetime.now(ZoneInfo(zone)).date()
    default_since, why = _default_since(mailing_list, today)
    since, since_error = _day("since", default_since, "From")
    until, until_error = _day("until", None, "To")
    start = times.from_wall(datetime.combine(since, datetime.min.time()), zone).at
    dated = sa.func.coalesce(Post.published_at, Post.first_seen_at)
    chosen = sa.select(Post).where(Post.list_id == mailing_list.id, dated >= start)
    if until is not None:
        end = datetime.combine(until + timedelta(days=1), datetime.min.time())
        chosen = chosen.where(dated < times.from_wall(end, zone).at)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(chosen.subquery()))
    pages = max((total + PAGE - 1) // PAGE, 1)
    # A page past the last shows the last (one past any number failed the query).
    page = min(max(request.args.get("page", 1, type=database_int), 1), pages)
    shown = db.session.scalars(
        chosen.order_by(dated.desc(), Post.id.desc()).offset((page - 1) * PAGE).limit(PAGE)
    ).all()
    return render_template(
        "admin/posts.html",
        mailing_list=mailing_list,
        posts=shown,
        skipped_why=each_post.WHY,
        total=total,
        page=page,
        pages=pages,
        since=since,
        until=until,
        # Compose's "until" leaves its day out, where this page's "to" takes it in.
        compose_until=until + timedelta(days=1) if until is not None else None,
        why=why if not request.args.get("since") else "",
        error=since_error or until_error,
        older=db.session.scalar(
            sa.select(sa.func.count()).where(Post.list_id == mailing_list.id, dated < start)
        ),
        feeds=db.session.scalars(sa.select(Feed).where(Feed.list_id == mailing_list.id)).all(),
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
    waiting = feeds.waiting_until(feed)
    if waiting:
        flash(
            f"The site of {feed.title or feed.url} asked us to wait until "
            f"{times.shown(waiting, feed.mailing_list.timezone)}: it is fetched then."
        )
    else:
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
