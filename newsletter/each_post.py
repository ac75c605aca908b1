"""Each post on its own, for subscriptions that want it (delivery "each" or "both").

A list that sends posts on their own gets a post issue for each post first seen since the
option was turned on, once the list's hold has passed (so an edited post is not sent
half-finished): the same engine, templates and ledger as a digest, and never the same post
twice (an issue's post is unique). Beat runs this; the send starts at once.

Only news goes out on its own: a new feed's first fetch (the site's back catalogue, up to
200 posts), a post published days before it was seen (a site that moved, every guid new) and
posts past the list's day's limit wait for the digest instead (Post.each_post_skipped). A
feed added to a list that sent each post mailed every reader of it every post it ever had.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from markupsafe import escape

from newsletter.digest.compose import clean_subject, insert_numbered, item_from_post
from newsletter.editors import email_editors
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.models import Issue, MailingList, Post, utcnow
from newsletter.sending import lifecycle
from newsletter.statuses import EachPostSkip, IssueKind, IssueStatus

logger = logging.getLogger(__name__)


# A post published this long before it was first seen is no news: a site moved (every guid
# new) or a feed that shows an old post late.
OLD_AFTER = timedelta(days=2)


def send_new_posts(now: datetime | None = None) -> list[int]:
    """Start a post issue for each post whose hold has passed; returns their ids. Posts that
    are no news, or past the list's day's limit, wait for the digest, and editors are told."""
    now = now or utcnow()
    started = []
    for mailing_list in db.session.scalars(sa.select(MailingList).where(MailingList.each_post)):
        skipped = []
        sent_today = _sent_on_their_own(mailing_list, now - timedelta(days=1))
        for post in due_posts(mailing_list, now):
            skip = _skip(post, sent_today)
            if skip:
                post.each_post_skipped = skip
                db.session.commit()
                skipped.append(post)
                continue
            issue = _post_issue(mailing_list, post)
            if issue is None:
                continue
            try:
                lifecycle.schedule_issue(issue, now)
            except NewsletterError as exc:
                logger.warning("post issue %s not scheduled: %s", issue.id, exc)
                continue
            started.append(issue.id)
            sent_today += 1
        if skipped:
            _tell_editors(mailing_list, skipped)
    return started


def _skip(post: Post, sent_today: int) -> EachPostSkip | None:
    if post.published_at is not None and post.published_at < post.first_seen_at - OLD_AFTER:
        return EachPostSkip.OLD
    if sent_today >= current_app.config["EACH_POST_DAILY_MAX"]:
        return EachPostSkip.DAY_LIMIT
    return None


def _sent_on_their_own(mailing_list: MailingList, since: datetime) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Issue.list_id == mailing_list.id,
            Issue.kind == IssueKind.POST,
            Issue.send_at >= since,
            Issue.status != IssueStatus.CANCELLED,
        )
    )


WHY = {
    EachPostSkip.FIRST_FETCH: "its feed's first fetch: the site's older posts",
    EachPostSkip.OLD: f"published more than {OLD_AFTER.days} days before it was first seen",
    EachPostSkip.DAY_LIMIT: "past the day's limit of posts sent on their own",
}


def _tell_editors(mailing_list: MailingList, posts: list[Post]) -> None:
    """Best effort: the posts are kept for the digest whether or not editors can be told."""
    subject = f"{mailing_list.name}: {len(posts)} posts not sent on their own"
    lines = [f"{post.title} ({WHY[post.each_post_skipped]})" for post in posts]
    intro = "These posts wait for the next digest instead of going out to each-post readers:"
    html = (
        f'<p>{escape(intro)}</p><ul dir="auto">'
        + "".join(f'<li dir="auto">{escape(line)}</li>' for line in lines)
        + "</ul>"
    )
    text = intro + "\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"
    try:
        email_editors(mailing_list, subject, html, text)
    except Exception:
        logger.exception("could not tell the editors of %s of skipped posts", mailing_list.slug)


def due_posts(mailing_list: MailingList, now: datetime) -> list[Post]:
    """Posts of the list first seen after each-post sending began and before the hold, with
    no post issue yet."""
    hold = now - timedelta(minutes=mailing_list.each_post_hold)
    already = sa.select(Issue.id).where(Issue.post_id == Post.id)
    return list(
        db.session.scalars(
            sa.select(Post)
            .where(
                Post.list_id == mailing_list.id,
                Post.first_seen_at <= hold,
                Post.first_seen_at >= (mailing_list.each_post_since or now),
                Post.each_post_skipped.is_(None),
                ~sa.exists(already),
            )
            .order_by(Post.first_seen_at, Post.id)
        )
    )


def _post_issue(mailing_list: MailingList, post: Post) -> Issue | None:
    """The post's issue, or None when another beat made it first (its post is unique)."""
    return insert_numbered(
        mailing_list.id,
        IssueKind.POST,
        lambda number: Issue(
            list_id=mailing_list.id,
            kind=IssueKind.POST,
            post_id=post.id,
            number=number,
            subject=clean_subject(post.title or mailing_list.name),
            status=IssueStatus.DRAFT,
            items=[item_from_post(post, 0)],
        ),
    )
