"""How models appear in the API, and the few field types the bodies share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from newsletter.bounces import history
from newsletter.models import Feed, Issue, MailingList, Post, Subscriber
from newsletter.sending import ledger
from newsletter.text import has_line_break


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _one_line(value: str) -> str:
    if has_line_break(value):
        raise ValueError("must be one line (no line breaks)")
    return value.strip()


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset, for example 2026-12-01T09:00:00+01:00")
    return value


def _day_or_time(value):
    """A bare date means midnight UTC."""
    if isinstance(value, str) and len(value) == 10:
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]
Aware = Annotated[datetime, AfterValidator(_aware)]
DayOrTime = Annotated[datetime, BeforeValidator(_day_or_time), AfterValidator(_aware)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]

LIST_FIELDS = (
    "id slug name description from_email from_name reply_to opt_in public send_weekday "
    "send_time timezone language direction footer postal_address autopilot autopilot_send"
).split()


def list_json(mailing_list: MailingList) -> dict:
    body = {name: getattr(mailing_list, name) for name in LIST_FIELDS}
    body["created_at"] = iso(mailing_list.created_at)
    return body


def feed_json(feed: Feed) -> dict:
    return {
        "id": feed.id,
        "list": feed.mailing_list.slug,
        "url": feed.url,
        "title": feed.title,
        "last_fetched_at": iso(feed.last_fetched_at),
        "last_error": feed.last_error,
    }


def post_json(post: Post) -> dict:
    return {
        "id": post.id,
        "list_id": post.list_id,
        "feed_id": post.feed_id,
        "guid": post.guid,
        "url": post.url,
        "title": post.title,
        "source": post.source,
        "excerpt": post.excerpt,
        "published_at": iso(post.published_at),
        "first_seen_at": iso(post.first_seen_at),
    }


def subscriber_json(subscriber: Subscriber) -> dict:
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status,
        "attributes": subscriber.attributes or {},
        "created_at": iso(subscriber.created_at),
        "subscriptions": [
            {
                "list": s.mailing_list.slug,
                "status": s.status,
                "consent_at": iso(s.consent_at),
                "consent_ip": s.consent_ip,
                "consent_source": s.consent_source,
                "consent_user_agent": s.consent_user_agent,
                "confirmed_at": iso(s.confirmed_at),
                "unsubscribed_at": iso(s.unsubscribed_at),
            }
            for s in subscriber.subscriptions
        ],
    }


def issue_json(issue: Issue, counts: dict | None = None, bounces: dict | None = None) -> dict:
    """counts and bounces may be given, as issues_json does for many issues at once."""
    return {
        "id": issue.id,
        "list": issue.mailing_list.slug,
        "number": issue.number,
        "subject": issue.subject,
        "preheader": issue.preheader,
        "intro": issue.intro,
        "status": issue.status,
        # Set when the issue paused itself after errors in a row: why, and the last error.
        "pause_reason": issue.pause_reason,
        "send_at": iso(issue.send_at),
        "since": iso(issue.since),
        "until": iso(issue.until),
        "started_at": iso(issue.started_at),
        "finished_at": iso(issue.finished_at),
        "counts": ledger.counts(issue.id) if counts is None else counts,
        "bounces": history.counts_for_issue(issue.id) if bounces is None else bounces,
        "items": [
            {
                "id": item.id,
                "post_id": item.post_id,
                "position": item.position,
                "section": item.section,
                "title": item.title,
                "url": item.url,
                "source": item.source,
                "excerpt": item.excerpt,
                "published_at": iso(item.published_at),
            }
            for item in issue.items
        ],
    }


def issues_json(issues: list[Issue]) -> list[dict]:
    """issue_json of each, with the counts of all of them in one statement each."""
    ids = [issue.id for issue in issues]
    counts = ledger.counts_for_issues(ids)
    bounces = history.counts_for_issues(ids)
    return [issue_json(issue, counts[issue.id], bounces[issue.id]) for issue in issues]


def schema(*required: str, **properties: str | list[str]) -> dict:
    """A small JSON schema for openapi.json: schema("id", id="integer", slug="string");
    a field that may be null has a list of types, NULLABLE_STRING."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {name: {"type": kind} for name, kind in properties.items()},
    }


def list_of(item: dict) -> dict:
    return schema("items", items="array") | {
        "properties": {"items": {"type": "array", "items": item}}
    }


NULLABLE_STRING = ["string", "null"]
LIST = schema("id", "slug", id="integer", slug="string", name="string", opt_in="string")
FEED = schema("id", id="integer", url="string", last_error=NULLABLE_STRING)
POST = schema("id", id="integer", title="string", url="string")
SUBSCRIBER = schema("id", "email", id="integer", email="string", name="string", status="string")
COUNTS = schema(
    "total",
    "sent",
    "failed",
    "pending",
    total="integer",
    sent="integer",
    failed="integer",
    pending="integer",
)
ISSUE = schema(
    "id",
    "number",
    "status",
    "send_at",
    "counts",
    id="integer",
    number="integer",
    status="string",
    pause_reason=NULLABLE_STRING,
    send_at=NULLABLE_STRING,
    subject="string",
    items="array",
)
ISSUE["properties"]["counts"] = COUNTS
BOUNCE_COUNTS = schema(
    "hard",
    "soft",
    "sender",
    "complaint",
    "by_reason",
    hard="integer",
    soft="integer",
    sender="integer",
    complaint="integer",
)
BOUNCE_COUNTS["properties"]["by_reason"] = {
    "type": "object",
    "additionalProperties": {"type": "integer"},
}
ISSUE["properties"]["bounces"] = BOUNCE_COUNTS
