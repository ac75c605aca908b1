"""How models appear in the API. The field types the bodies share are in newsletter.fields."""

from __future__ import annotations

import logging

from newsletter import analytics, bounce_history, signing
from newsletter.bounces import breaker
from newsletter.digest import render
from newsletter.fields import iso
from newsletter.models import Feed, Issue, MailingList, Post
from newsletter.sending import ab, ledger

logger = logging.getLogger(__name__)

LIST_FIELDS = (
    "id slug name description from_email from_name reply_to opt_in public send_weekday "
    "send_time timezone language direction calendar footer postal_address autopilot "
    "autopilot_send each_post each_post_hold embed_return_urls track_clicks track_opens "
    "track_subscribers"
).split()  # every field a list's body can set is read back (calendar and each_post were not)


def list_json(mailing_list: MailingList) -> dict:
    body = {name: getattr(mailing_list, name) for name in LIST_FIELDS}
    body["created_at"] = iso(mailing_list.created_at)
    # false: the sender's domain is not the DKIM signature's, so DMARC fails at Gmail and
    # Yahoo, which ask it of bulk senders; null when nothing is signed.
    body["dkim_aligned"] = signing.aligned(mailing_list.from_email)
    return body


def feed_json(feed: Feed) -> dict:
    return {
        "id": feed.id,
        "list": feed.mailing_list.slug,
        "url": feed.url,
        "title": feed.title,
        "last_fetched_at": iso(feed.last_fetched_at),
        "last_error": feed.last_error,
        # Its schedule: when it last worked, when it is next polled (null: at the next look,
        # or never once gone), the site's own "not before" (Retry-After), failures in a row.
        "last_success_at": iso(feed.last_success_at),
        "next_fetch_at": iso(feed.next_fetch_at),
        "not_before": iso(feed.not_before),
        "failures": feed.failures or 0,
        "gone_at": iso(feed.gone_at),
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


def issue_json(
    issue: Issue,
    counts: dict | None = None,
    bounces: dict | None = None,
    clicks: dict | None = None,
    opens: dict[int, dict | None] | None = None,
    measure: bool = True,
) -> dict:
    """counts, bounces and clicks may be given, and opens by issue id, as issues_json does
    for many issues at once; `measure`: the size of its HTML, which takes a render for a
    draft (a list of issues leaves it null)."""
    clicks = analytics.clicks_for_issues([issue.id])[issue.id] if clicks is None else clicks
    opens = analytics.opens_for_issues([issue]) if opens is None else opens
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
        "kind": issue.kind,
        # Sent at this hour in each subscriber's time zone, wave by wave.
        "local_time": issue.local_time,
        "date": issue.local_date.isoformat() if issue.local_date else None,
        "waves": [
            {"at": iso(w.not_before), "pending": w.pending, "sent": w.sent, "failed": w.failed}
            for w in (ledger.waves(issue.id) if issue.local_time else [])
        ],
        "since": iso(issue.since),
        "until": iso(issue.until),
        "started_at": iso(issue.started_at),
        "finished_at": iso(issue.finished_at),
        "counts": ledger.counts(issue.id) if counts is None else counts,
        "bounces": bounce_history.counts_for_issue(issue.id) if bounces is None else bounces,
        # Receiving domains whose copies were held back while they refused our mail.
        "held": [{"domain": d, **hold} for d, hold in sorted((issue.held_domains or {}).items())],
        # Its copies came back as dead addresses en masse: the count, what was said, the
        # editors' decision (null while they have not decided) and the subscribers it holds.
        "mass_bounce": (
            {**issue.mass_bounce, "held": breaker.held_count(issue)} if issue.mass_bounce else None
        ),
        # Clicks through the issue's tracked links; unique: copies clicked at least once.
        # Every click, a machine's too: DESIGN.md's contract gives these shapes as they are.
        "clicks": {"total": clicks["total"], "unique": clicks["unique"]},
        "links": [{"url": link.url, "clicks": link.clicks} for link in clicks["links"]],
        # Copies opened (the pixel loaded), only where the list counts opens, else null. Only
        # a copy's first open is recorded, so there is no total of opens: null.
        "opens": opens[issue.id] and {"total": None, "unique": opens[issue.id]["unique"]},
        "people": people_json(clicks, opens[issue.id]),
        "ab": ab_json(issue),
        # Over the size Gmail shows before "[Message clipped]", `clipped` is true.
        "html_size": measured_size(issue) if measure else None,
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


def people_json(clicks: dict, opens: dict | None) -> dict:
    """The figures without what looks like a machine's (analytics.likely_machine: a mail
    gateway's link scanner by its agent, seconds after the send or a copy's links all at
    once; Apple Mail Privacy Protection loading every pixel): clicks, copies a person
    clicked, copies a person opened (null where opens are not counted), and each link's."""
    return {
        "clicks": clicks["total"] - clicks["likely_machine"],
        "unique": clicks["unique_human"],
        "opens": opens and opens["unique"] - opens["likely_machine"],
        "links": [
            {"url": link.url, "clicks": link.clicks - link.likely_machine}
            for link in clicks["links"]
        ],
    }


def measured_size(issue: Issue) -> dict | None:
    """html_size_json of the issue, or None where its draft cannot be rendered: an answer
    about an issue never fails on a measure of it (its send would pause, saying why)."""
    try:
        return html_size_json(render.issue_html_size(issue))
    except Exception:
        logger.exception("issue %s: its HTML could not be measured", issue.id)
        return None


def html_size_json(size: render.HtmlSize) -> dict:
    return {"bytes": size.bytes, "sent_bytes": size.sent_bytes, "clipped": size.clipped}


def ab_json(issue: Issue) -> dict | None:
    """An A/B test of subjects: its settings, each variant's copies sent and unique
    clickers and openers so far, and the winner once decided; None without a test."""
    if not issue.variants:
        return None
    return {
        "share": issue.ab_share,
        "wait_minutes": issue.ab_wait_minutes,
        "decide_at": iso(issue.ab_decide_at),
        "winner": issue.ab_winner,
        "variants": [
            {
                "id": r.id,
                "position": r.position,
                "subject": r.subject,
                "sent": r.sent,
                "unique_clicks": r.clicks,
                "unique_human_clicks": r.human_clicks,
                "unique_opens": r.opens,
                "click_rate": round(r.click_rate, 4),
                "winner": r.winner,
            }
            for r in ab.results(issue)
        ],
    }


def issues_json(issues: list[Issue]) -> list[dict]:
    """issue_json of each, with the counts of all of them in one statement each."""
    ids = [issue.id for issue in issues]
    counts = ledger.counts_for_issues(ids)
    bounces = bounce_history.counts_for_issues(ids)
    clicks = analytics.clicks_for_issues(ids)
    opens = analytics.opens_for_issues(issues)
    return [
        issue_json(issue, counts[issue.id], bounces[issue.id], clicks[issue.id], opens, False)
        for issue in issues
    ]


def schema(*required: str, **properties: str | list[str]) -> dict:
    """A small JSON schema for openapi.json: schema("id", id="integer", slug="string");
    a field that may be null has a list of types, NULLABLE_STRING."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {name: {"type": kind} for name, kind in properties.items()},
    }


def list_of(item: dict, cursor: str | None = None) -> dict:
    """A page of items; with `cursor`, the field naming where the next page starts (null on
    the last page)."""
    properties: dict = {"items": {"type": "array", "items": item}}
    if cursor:
        properties[cursor] = {"type": ["integer", "null"]}
    return schema("items", items="array") | {"properties": properties}


NULLABLE_STRING = ["string", "null"]
LIST = schema(
    "id",
    "slug",
    id="integer",
    slug="string",
    name="string",
    opt_in="string",
    embed_return_urls="string",
    calendar="string",
    each_post="boolean",
    each_post_hold="integer",
    dkim_aligned=["boolean", "null"],
)
FEED = schema("id", id="integer", url="string", last_error=NULLABLE_STRING)
POST = schema("id", id="integer", title="string", url="string")
SUBSCRIBER = schema(
    "id",
    "email",
    id="integer",
    email="string",
    name="string",
    status="string",
    no_tracking="boolean",
)
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
    kind="string",
    local_time=NULLABLE_STRING,
    date=NULLABLE_STRING,
    waves="array",
    subject="string",
    items="array",
)
ISSUE["properties"]["counts"] = COUNTS
ISSUE["properties"]["ab"] = {"type": ["object", "null"]}
ISSUE["properties"]["clicks"] = schema("total", "unique", total="integer", unique="integer")
ISSUE["properties"]["opens"] = schema(
    "total", "unique", total=["integer", "null"], unique="integer"
) | {"type": ["object", "null"]}
ISSUE["properties"]["html_size"] = schema(
    "bytes", "sent_bytes", "clipped", bytes="integer", sent_bytes="integer", clipped="boolean"
) | {"type": ["object", "null"]}
ISSUE["properties"]["links"] = {
    "type": "array",
    "items": schema("url", "clicks", url="string", clicks="integer"),
}
ISSUE["properties"]["people"] = schema(
    "clicks",
    "unique",
    "opens",
    "links",
    clicks="integer",
    unique="integer",
    opens=["integer", "null"],
)
ISSUE["properties"]["people"]["properties"]["links"] = ISSUE["properties"]["links"]
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
ISSUE["properties"]["held"] = {
    "type": "array",
    "items": schema(
        "domain",
        "since",
        "until",
        "said",
        "copies",
        domain="string",
        since="string",
        until="string",
        said="string",
        copies="integer",
    ),
}
