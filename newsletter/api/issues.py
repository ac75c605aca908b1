"""API: composing, editing, previewing, testing and sending issues."""

import datetime
import smtplib
from typing import Literal

import sqlalchemy as sa
from flask import g, request
from pydantic import BaseModel, Field
from sqlalchemy.orm import joinedload, selectinload

from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.api.common import (
    ApiError,
    created,
    get_or_404,
    invalid,
    known_status,
    next_page,
    parse,
    parse_query,
    route,
)
from newsletter.api.shapes import (
    ISSUE,
    issue_json,
    issues_json,
    list_of,
    schema,
)
from newsletter.bounces import breaker
from newsletter.digest import render
from newsletter.digest.compose import compose_issue, edit_issue
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.fields import Aware, DayOrTime
from newsletter.hardening import MAX_ID
from newsletter.lists import get_list
from newsletter.models import Issue
from newsletter.sending import lifecycle
from newsletter.sending.proofs import send_proof
from newsletter.statuses import IssueStatus


class AbTest(BaseModel):
    """An A/B test of subjects: 2 to 4 of them (an empty list: no test), the percent of
    subscribers who try them (5 to 50) and the minutes before the winner goes to the rest."""

    subjects: list[str] | None = Field(None, max_length=10)
    ab_share: int | None = None
    ab_wait_minutes: int | None = None


class Compose(AbTest):
    list: str
    since: DayOrTime
    until: DayOrTime
    subject: str | None = Field(None, max_length=1000)
    intro: str = Field("", max_length=20000)


class Item(BaseModel):
    post_id: int | None = Field(None, ge=1, le=MAX_ID)
    section: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=2000)
    url: str | None = None
    source: str | None = Field(None, max_length=2000)
    excerpt: str | None = Field(None, max_length=20000)


class IssueChanges(AbTest):
    subject: str | None = Field(None, max_length=1000)
    preheader: str | None = Field(None, max_length=1000)
    intro: str | None = Field(None, max_length=20000)
    items: list[Item] | None = None


class Schedule(BaseModel):
    """A moment (send_at), or an hour in each subscriber's time zone on a day."""

    send_at: Aware | None = None
    local_time: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    date: datetime.date | None = None


class Release(BaseModel):
    """A receiving domain held back from the issue, whose copies go now."""

    domain: str = Field(min_length=1, max_length=255)


class DeadAddresses(BaseModel):
    """The editors' word on subscribers held after the copies came back dead en masse."""

    decision: Literal["dropped", "kept"]


class TestSend(BaseModel):
    emails: list[str] | None = Field(None, max_length=10)
    # The letter its readers of this language get; by default the list's.
    language: Literal["en", "fa"] | None = None


class IssueQuery(BaseModel):
    list: str | None = None
    status: str | None = None
    before: int | None = Field(None, ge=1, le=MAX_ID)  # the page after: issues older than it
    limit: int = Field(200, ge=1, le=1000)


@route(
    "/issues",
    "GET",
    "Issues, newest first, a page at a time",
    query=IssueQuery,
    response=list_of(ISSUE, cursor="next_before"),
)
def all_issues():
    query = parse_query(IssueQuery)
    select = (
        sa.select(Issue)
        .options(
            joinedload(Issue.mailing_list),
            selectinload(Issue.items),
            selectinload(Issue.variants),
        )
        .order_by(Issue.id.desc())
        .limit(query.limit)
    )
    if query.list:
        select = select.where(Issue.list_id == get_list(query.list).id)
    if query.status:
        select = select.where(Issue.status == known_status(IssueStatus, query.status))
    if query.before:
        select = select.where(Issue.id < query.before)
    items = issues_json(list(db.session.scalars(select)))
    return {"items": items, "next_before": next_page(items, query.limit)}


@route(
    "/issues/compose",
    "POST",
    "Compose a draft from a list and a date range",
    body=Compose,
    response=ISSUE,
    status=201,
)
def compose():
    body = parse(Compose)
    # A ComposeError is answered by the API's error handler, naming its field.
    issue = compose_issue(get_list(body.list), body.since, body.until, body.subject, body.intro)
    test = body.model_dump(include=set(AbTest.model_fields), exclude_unset=True)
    if test:
        try:
            edit_issue(issue, test)
        except NewsletterError:
            # A draft with a refused test is not left behind.
            db.session.rollback()
            db.session.delete(issue)
            db.session.commit()
            raise
    return created(issue_json(issue), "get_issue", issue_id=issue.id)


@route("/issues/<int:issue_id>", "GET", "An issue with its status and counts", response=ISSUE)
def get_issue(issue_id: int):
    return issue_json(get_or_404(Issue, issue_id, "issue"))


@route(
    "/issues/<int:issue_id>",
    "PATCH",
    "Edit subject, preheader, intro, items, and an A/B test of subjects (subjects, ab_share,"
    " ab_wait_minutes)",
    body=IssueChanges,
    response=ISSUE,
)
def change_issue(issue_id: int):
    issue = get_or_404(Issue, issue_id, "issue")
    changes = parse(IssueChanges).model_dump(exclude_unset=True)
    edit_issue(issue, changes)  # a ComposeError: 422 naming its field, 409 for the status
    return issue_json(issue)


PREVIEW = schema("html", "text", html="string", text="string")


@route(
    "/issues/<int:issue_id>/preview",
    "GET",
    "The HTML and text a subscriber gets",
    response=PREVIEW,
)
def preview(issue_id: int):
    html, text = render.preview(get_or_404(Issue, issue_id, "issue"))
    return {"html": html, "text": text}


@route(
    "/issues/<int:issue_id>/test",
    "POST",
    "Send a test to me (or to given addresses); with an A/B test not decided yet, one per"
    " subject, marked [Test A], [Test B]…; `sent` counts the messages",
    body=TestSend,
    response=schema("sent", sent="integer"),
)
def test(issue_id: int):
    issue = get_or_404(Issue, issue_id, "issue")
    body = parse(TestSend, request.get_json(silent=True) or {})
    try:
        addresses = [normalise_email(e) for e in body.emails or [g.api_user.email]]
    except InvalidEmail as exc:
        raise invalid("emails", str(exc)) from exc
    try:
        return {"sent": send_proof(issue, addresses, body.language)}
    except (OSError, smtplib.SMTPException) as exc:
        raise ApiError(502, "smtp_error", f"The SMTP server did not take the test: {exc}") from exc


def _transition(issue_id: int, change, *args):
    issue = get_or_404(Issue, issue_id, "issue")
    # The API's error handler answers each error with its own status and field: a StateError
    # is a 409 naming no field, only schedule's ScheduleError names send_at.
    change(issue, *args)
    return issue_json(issue)


@route(
    "/issues/<int:issue_id>/schedule",
    "POST",
    "Schedule: send_at (ISO 8601 with offset), or local_time (HH:MM) and date (YYYY-MM-DD)"
    " for that hour in each subscriber's time zone",
    body=Schedule,
    response=ISSUE,
)
def schedule(issue_id: int):
    body = parse(Schedule)
    if body.send_at is not None and body.local_time is None and body.date is None:
        return _transition(issue_id, lifecycle.schedule_issue, body.send_at)
    if body.send_at is None and body.local_time and body.date:
        return _transition(issue_id, lifecycle.schedule_local, body.date, body.local_time)
    raise NewsletterError(
        "Give send_at, or local_time and date (not both).",
        field="local_time" if body.local_time or body.date else "send_at",
    )


@route(
    "/issues/<int:issue_id>/release",
    "POST",
    "Send a held domain's copies now, not when its hold ends",
    body=Release,
    response=ISSUE,
)
def release_hold(issue_id: int):
    body = parse(Release)
    return _transition(issue_id, lifecycle.release_hold, body.domain)


@route(
    "/issues/<int:issue_id>/dead-addresses",
    "POST",
    "Drop or keep the subscribers held after the issue's copies came back as dead addresses"
    " en masse (409 when it holds none)",
    body=DeadAddresses,
    response=ISSUE,
)
def dead_addresses(issue_id: int):
    body = parse(DeadAddresses)
    return _transition(issue_id, breaker.decide, body.decision)


def _simple(action: str, change, summary: str):
    def view(issue_id: int):
        return _transition(issue_id, change)

    view.__name__ = f"{action}_issue"
    route(f"/issues/<int:issue_id>/{action}", "POST", summary, response=ISSUE)(view)


_simple("unschedule", lifecycle.unschedule_issue, "Back to draft")
_simple("send", lifecycle.send_issue_now, "Send now")
_simple("pause", lifecycle.pause_issue, "Pause sending")
_simple("resume", lifecycle.resume_issue, "Resume sending")
_simple("cancel", lifecycle.cancel_issue, "Cancel")
