"""API: feeds, and fetching them now."""

import sqlalchemy as sa
from pydantic import BaseModel

from newsletter.api.common import ApiError, get_or_404, invalid, parse, route
from newsletter.api.lists import list_for
from newsletter.api.shapes import FEED, feed_json, list_of, schema
from newsletter.extensions import db
from newsletter.models import Feed
from newsletter.posts import feeds
from newsletter.posts.service import PostError, add_feed


class NewFeed(BaseModel):
    url: str
    list: str


@route("/feeds", "GET", "All feeds", response=list_of(FEED))
def all_feeds():
    return {"items": [feed_json(f) for f in db.session.scalars(sa.select(Feed).order_by(Feed.id))]}


@route("/feeds", "POST", "Add a feed to a list", body=NewFeed, response=FEED, status=201)
def create_feed():
    body = parse(NewFeed)
    try:
        feed = add_feed(list_for(body.list), body.url)
    except PostError as exc:
        raise invalid(exc.field, str(exc)) from exc
    return feed_json(feed), 201


@route("/feeds/<int:feed_id>", "GET", "One feed", response=FEED)
def get_feed(feed_id: int):
    return feed_json(get_or_404(Feed, feed_id, "feed"))


@route("/feeds/<int:feed_id>", "DELETE", "Remove a feed (its posts stay)", status=204)
def delete_feed(feed_id: int):
    db.session.delete(get_or_404(Feed, feed_id, "feed"))
    db.session.commit()
    return "", 204


@route(
    "/feeds/<int:feed_id>/fetch", "POST", "Fetch a feed now", response=schema("new", new="integer")
)
def fetch_feed(feed_id: int):
    try:
        return {"new": feeds.fetch_feed(get_or_404(Feed, feed_id, "feed"))}
    except feeds.FeedError as exc:
        raise ApiError(502, "feed_error", str(exc)) from exc
