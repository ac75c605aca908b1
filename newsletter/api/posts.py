"""API: posts, from feeds or entered by hand."""

import sqlalchemy as sa
from pydantic import BaseModel, Field

from newsletter.api.common import invalid, next_page, parse, parse_query, route
from newsletter.api.shapes import POST, list_of, post_json
from newsletter.extensions import db
from newsletter.fields import Aware, DayOrTime
from newsletter.hardening import MAX_ID
from newsletter.lists import get_list
from newsletter.models import Post
from newsletter.posts.service import add_post


class NewPost(BaseModel):
    list: str
    title: str = Field(min_length=1, max_length=2000)
    url: str
    source: str = Field("", max_length=2000)
    published_at: Aware | None = None
    excerpt: str = Field("", max_length=20000)


class PostQuery(BaseModel):
    list: str | None = None
    since: DayOrTime | None = None
    until: DayOrTime | None = None
    before: int | None = Field(None, ge=1, le=MAX_ID)  # the page after: posts older than it
    limit: int = Field(100, ge=1, le=1000)


@route("/posts", "POST", "Add a post by hand", body=NewPost, response=POST, status=201)
def create_post():
    body = parse(NewPost)
    post = add_post(  # a PostError names its field
        get_list(body.list),
        title=body.title,
        url=body.url,
        source=body.source,
        published_at=body.published_at,
        excerpt=body.excerpt,
    )
    return post_json(post), 201


@route(
    "/posts",
    "GET",
    "Posts, newest first, a page at a time",
    query=PostQuery,
    response=list_of(POST, cursor="next_before"),
)
def all_posts():
    query = parse_query(PostQuery)
    dated = sa.func.coalesce(Post.published_at, Post.first_seen_at)
    select = sa.select(Post).order_by(dated.desc(), Post.id.desc()).limit(query.limit)
    if query.list:
        select = select.where(Post.list_id == get_list(query.list).id)
    if query.since:
        select = select.where(dated >= query.since)
    if query.until:
        select = select.where(dated < query.until)
    if query.before:  # after that post in this order: older, or as old with a lower id
        at = db.session.scalar(sa.select(dated).where(Post.id == query.before))
        if at is None:
            raise invalid("before", "There is no such post: start again from the first page.")
        select = select.where(sa.or_(dated < at, sa.and_(dated == at, Post.id < query.before)))
    items = [post_json(p) for p in db.session.scalars(select)]
    return {"items": items, "next_before": next_page(items, query.limit)}
