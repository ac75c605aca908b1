"""API: feeds, and fetching them now (in a worker)."""

from pydantic import BaseModel

from newsletter.api.common import get_or_404, invalid, parse, route
from newsletter.api.lists import list_for
from newsletter.api.shapes import FEED, feed_json, iso, list_of, schema
from newsletter.extensions import db
from newsletter.models import Feed, utcnow
from newsletter.posts import feeds
from newsletter.posts.service import PostError, add_feed, feeds_with_new

JOB = schema("job", "requested_at", job="string", feed="integer", requested_at="string")
# The feed, and how many posts its last fetch added.
FEED_FETCHED = schema(
    "id", id="integer", url="string", last_error="string", last_fetched_at="string", new="integer"
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
    try:
        feed = add_feed(list_for(body.list), body.url)
    except PostError as exc:
        raise invalid(exc.field, str(exc)) from exc
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


@route(
    "/feeds/<int:feed_id>/fetch",
    "POST",
    "Queue a fetch of a feed now; GET the feed for its outcome",
    response=JOB,
    status=202,
)
def fetch_feed(feed_id: int):
    feed = get_or_404(Feed, feed_id, "feed")
    requested_at = utcnow()
    job = feeds.queue_fetch(feed)
    return {"job": job, "feed": feed.id, "requested_at": iso(requested_at)}, 202
