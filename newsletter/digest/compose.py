"""Composing and editing issues."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.i18n import format_date, in_language_of
from newsletter.models import Issue, IssueItem, IssueVariant, MailingList, Post
from newsletter.posts.excerpts import clean_excerpt
from newsletter.statuses import IssueKind, IssueStatus
from newsletter.text import has_line_break, single_line, web_url

SUBJECT_MAX = 300
EXCERPT_MAX = 5000
EDITABLE = (IssueStatus.DRAFT, IssueStatus.SCHEDULED, IssueStatus.PAUSED)
# An A/B test of subjects: how many, the share that tries them (percent), the wait (minutes).
AB_SUBJECTS = (2, 4)
AB_SHARE = (5, 50)
AB_WAIT = (10, 48 * 60)
AB_DEFAULTS = {"ab_share": 20, "ab_wait_minutes": 120}


class ComposeError(NewsletterError, ValueError):
    """An issue cannot be composed or edited as asked; the message says why."""


def posts_between(mailing_list: MailingList, since: datetime, until: datetime) -> list[Post]:
    """Posts of the list dated in [since, until), newest first; undated ones by when first seen."""
    dated = sa.func.coalesce(Post.published_at, Post.first_seen_at)
    return list(
        db.session.scalars(
            sa.select(Post)
            .where(Post.list_id == mailing_list.id, dated >= since, dated < until)
            .order_by(dated.desc(), Post.id.desc())
        )
    )


# A list whose name says "digest" already is not called one twice.
DIGEST_WORDS = ("digest", "گزیده")


def default_subject(mailing_list: MailingList, until: datetime) -> str:
    """ "<list> Weekly Digest – <its last day>", in the list's language and calendar: the
    day before `until`, which the range leaves out, as the list's readers count days."""
    with in_language_of(mailing_list) as locale:
        kind = str(gettext("Weekly Digest"))
    name = mailing_list.name
    if not any(word in name.lower() for word in DIGEST_WORDS):
        name = f"{name} {kind}"
    last = until - timedelta(microseconds=1)
    return f"{name} – {format_date(last, locale, mailing_list.calendar, mailing_list.timezone)}"


def clean_subject(subject: str) -> str:
    if has_line_break(subject):
        raise ComposeError("The subject must be one line.", "subject")
    subject = single_line(subject, SUBJECT_MAX + 1)
    if not subject:
        raise ComposeError("The subject cannot be empty.", "subject")
    if len(subject) > SUBJECT_MAX:
        raise ComposeError(f"The subject can be at most {SUBJECT_MAX} characters.", "subject")
    return subject


def _range_text(mailing_list: MailingList, since: datetime, until: datetime) -> str:
    """The range as the editor typed it: wall times in the list's zone, not UTC's."""
    zone = ZoneInfo(mailing_list.timezone)
    since, until = since.astimezone(zone), until.astimezone(zone)
    return f"from {since:%Y-%m-%d %H:%M} until {until:%Y-%m-%d %H:%M} {mailing_list.timezone}"


def item_from_post(post: Post, position: int, section: str = "") -> IssueItem:
    return IssueItem(
        post_id=post.id,
        position=position,
        section=section,
        title=post.title,
        url=post.url,
        source=post.source,
        excerpt=post.excerpt,
        published_at=post.published_at,
    )


def compose_issue(
    mailing_list: MailingList,
    since: datetime,
    until: datetime,
    subject: str | None = None,
    intro: str = "",
) -> Issue:
    """A draft issue of the posts dated in the range, numbered next for its list."""
    if until <= since:
        raise ComposeError("'until' must be after 'since'.", "until")
    posts = posts_between(mailing_list, since, until)
    if not posts:
        raise ComposeError(
            f"There are no posts {_range_text(mailing_list, since, until)}.", "since"
        )
    subject = clean_subject(subject or default_subject(mailing_list, until))
    issue = insert_numbered(
        mailing_list.id,
        IssueKind.DIGEST,
        lambda number: Issue(
            list_id=mailing_list.id,
            number=number,
            subject=subject,
            intro=intro,
            since=since,
            until=until,
            status=IssueStatus.DRAFT,
            items=[item_from_post(post, i) for i, post in enumerate(posts)],
        ),
    )
    if issue is None:
        raise ComposeError("Could not number the issue; please try again.")
    return issue


def insert_numbered(list_id: int, kind: str, make) -> Issue | None:
    """Add `make(number)` with the next number of its kind; two editors (or beats) adding
    at once: the unique number decides, and the loser tries the next. None if it never
    fits (or a unique post says it exists already)."""
    for _ in range(5):
        issue = make(next_number(list_id, kind))
        db.session.add(issue)
        try:
            db.session.commit()
            return issue
        except IntegrityError:
            db.session.rollback()
    return None


def next_number(list_id: int, kind: str) -> int:
    """Digests are numbered 1, 2, 3… per list; post issues likewise, apart."""
    latest = db.session.scalar(
        sa.select(sa.func.max(Issue.number)).where(Issue.list_id == list_id, Issue.kind == kind)
    )
    return 1 + (latest or 0)


def edit_issue(issue: Issue, changes: dict, commit: bool = True) -> Issue:
    """Change subject, preheader, intro or items while the issue has not started sending.

    items: a list of {post_id} or {title, url, source, excerpt, section}, in the new order.
    With commit=False the caller previews the change and rolls it back.
    """
    if issue.status not in EDITABLE:
        raise ComposeError(f"An issue that is {issue.status} cannot be edited.", status=409)
    if "subject" in changes:
        issue.subject = clean_subject(changes["subject"])
    if "preheader" in changes:
        issue.preheader = single_line(changes["preheader"] or "", 300)
    if "intro" in changes:
        issue.intro = changes["intro"] or ""
    if "items" in changes:
        issue.items = [_edited_item(issue, item, i) for i, item in enumerate(changes["items"])]
    if {"subjects", "ab_share", "ab_wait_minutes"} & changes.keys():
        _edit_ab_test(issue, changes)
    if commit:
        db.session.commit()
    return issue


def _edited_item(issue: Issue, item: dict, position: int) -> IssueItem:
    section = single_line(item.get("section") or "", 200)
    if item.get("post_id") is not None:
        post = db.session.get(Post, item["post_id"])
        if post is None or post.list_id != issue.list_id:
            raise ComposeError(f"Post {item['post_id']} is not a post of this list.", "items")
        edited = item_from_post(post, position, section)
        for key in ("title", "source"):
            if item.get(key):
                setattr(edited, key, single_line(item[key], 5000))
        if item.get("excerpt"):
            edited.excerpt = clean_excerpt(item["excerpt"], EXCERPT_MAX)
        return edited
    if not item.get("title") or not item.get("url"):
        raise ComposeError("Each item needs a post_id, or a title and a url.", "items")
    url = web_url(item["url"])
    if url is None:
        raise ComposeError(
            f"Item {position + 1}: the url must start with http:// or https://.", "items"
        )
    return IssueItem(
        position=position,
        section=section,
        title=single_line(item["title"], 500),
        url=url,
        source=single_line(item.get("source") or "", 300),
        excerpt=clean_excerpt(item.get("excerpt") or "", EXCERPT_MAX),
    )


def _edit_ab_test(issue: Issue, changes: dict) -> None:
    """subjects: two to four distinct ones to test (none: no test), with the share that
    tries them and the wait before the winner goes to the rest. Only before the send
    starts: the ledger is split when it is made."""
    if issue.started_at is not None or issue.html is not None:
        raise ComposeError("An A/B test is set before the issue starts sending.", "subjects")
    subjects = changes.get("subjects", [v.subject for v in issue.variants])
    if not subjects:
        issue.variants = []
        issue.ab_share = issue.ab_wait_minutes = None
        return
    cleaned = [clean_subject(subject or "") for subject in subjects]
    low, high = AB_SUBJECTS
    if not low <= len(cleaned) <= high or len(set(cleaned)) != len(cleaned):
        raise ComposeError(f"Give {low} to {high} different subjects.", "subjects")
    for field, (least, most), unit in (
        ("ab_share", AB_SHARE, "percent"),
        ("ab_wait_minutes", AB_WAIT, "minutes"),
    ):
        value = changes.get(field)
        if value is None:
            value = getattr(issue, field) or AB_DEFAULTS[field]
        if not isinstance(value, int) or not least <= value <= most:
            raise ComposeError(f"{field} must be {least} to {most} {unit}.", field)
        setattr(issue, field, value)
    if cleaned != [v.subject for v in issue.variants]:
        # The old ones go first: positions are unique per issue.
        issue.variants = []
        db.session.flush()
        issue.variants = [
            IssueVariant(position=n, subject=subject) for n, subject in enumerate(cleaned, 1)
        ]
