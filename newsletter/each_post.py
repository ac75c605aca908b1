"""Each post on its own, for subscriptions that want it (delivery "each" or "both").

A list that sends posts on their own gets a post issue for each post first seen since the
option was turned on, once the list's hold has passed (so an edited post is not sent
half-finished): the same engine, templates and ledger as a digest, and never the same post
twice (an issue's post is unique). Beat runs this; the send starts at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.digest.compose import clean_subject, insert_numbered, item_from_post
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.models import Issue, MailingList, Post, utcnow
from newsletter.sending import lifecycle
from newsletter.statuses import IssueKind, IssueStatus

logger = logging.getLogger(__name__)


def send_new_posts(now: datetime | None = None) -> list[int]:
    """Start a post issue for each post whose hold has passed; returns their ids."""
    now = now or utcnow()
    started = []
    for mailing_list in db.session.scalars(sa.select(MailingList).where(MailingList.each_post)):
        for post in due_posts(mailing_list, now):
            issue = _post_issue(mailing_list, post)
            if issue is None:
                continue
            try:
                lifecycle.schedule_issue(issue, now)
            except NewsletterError as exc:
                logger.warning("post issue %s not scheduled: %s", issue.id, exc)
                continue
            started.append(issue.id)
    return started


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
