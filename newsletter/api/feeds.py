"""API: feeds, and fetching them now (in a worker)."""

from flask import current_app
from pydantic import BaseModel

from newsletter.api.common import get_or_404, parse, route
from newsletter.api.shapes import FEED, feed_json, list_of, schema
from newsletter.extensions import db
from newsletter.fields import iso
from newsletter.lists import get_list
from newsletter.models import Feed, utcnow
from newsletter.posts import feeds
from newsletter.posts.service import add_feed, feeds_with_new

JOB = schema("job", "requested_at", job="string", feed="integer", requested_at="string")
# The feed, and how many posts its last fetch added.
FEED_FETCHED = schema(
    "id",
    id="integer",
    url="string",
    last_error="string",
    last_fetched_at="string",
    new="integer",
    last_success_at="string",
    next_fetch_at="string",
    not_before="string",
    failures="integer",
    gone_at="string",
)


class NewFeed(BaseModel):
    url: str
    list: str


def feed_with_new(feed: Feed, new: int) -> dict:
    """The feed, with how many posts its last fetch added."""
    return {**feed_json(feed), "new": new}


@route("/feeds", "GET", "All feeds", response=list_of(FEED_FETCHED))
def all_feeds():
    return {"items": [feed_with_new(*row) for row in feeds_with_new()]}


@route("/feeds", "POST", "Add a feed to a list", body=NewFeed, response=FEED, status=201)
def create_feed():
    body = parse(NewFeed)
    feed = add_feed(get_list(body.list), body.url)  # a PostError names its field
    return feed_json(feed), 201


@route(
    "/feeds/<int:feed_id>", "GET", "One feed, and what its last fetch found", response=FEED_FETCHED
)
def get_feed(feed_id: int):
    get_or_404(Feed, feed_id, "feed")
    return feed_with_new(*feeds_with_new(Feed.id == feed_id)[0])


@route("/feeds/<int:feed_id>", "DELETE", "Remove a feed (its posts stay)", status=204)
def delete_feed(feed_id: int):
    db.session.delete(get_or_404(Feed, feed_id, "feed"))
    db.session.commit()
    return "", 204


FETCHED_NOW = schema(
    "new",
    "feed",
    new="integer",
    job="string",
    feed="integer",
    last_error="string",
    not_before="string",
)


@route(
    "/feeds/<int:feed_id>/fetch",
    "POST",
    "Fetch a feed now, in a worker, whatever its backoff: {new} when it finishes within "
    "NEWSLETTER_FEED_FETCH_WAIT seconds, else 202 with the job (GET the feed for its outcome); "
    "while its site's Retry-After has not passed, {new: 0, not_before} at once, unfetched",
    response=FETCHED_NOW,
    also={202: JOB},
)
def fetch_feed(feed_id: int):
    feed = get_or_404(Feed, feed_id, "feed")
    waiting = feeds.waiting_until(feed)
    if waiting:
        return {
            "new": 0,
            "feed": feed.id,
            "not_before": iso(waiting),
            "last_error": feed.last_error,
        }
    requested_at = utcnow()
    queued = {"job": feeds.queue_fetch(feed), "feed": feed.id, "requested_at": iso(requested_at)}
    done = feeds.wait_for_fetch(feed.id, requested_at, current_app.config["FEED_FETCH_WAIT"])
    if done is None:
        return queued, 202
    feed, new = done
    return {**queued, "new": new, "last_error": feed.last_error}
