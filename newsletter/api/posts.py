"""API: posts, from feeds or entered by hand."""

import sqlalchemy as sa
from flask import request
from pydantic import BaseModel, Field

from newsletter.api.common import parse, route
from newsletter.api.shapes import POST, list_of, post_json
from newsletter.extensions import db
from newsletter.fields import Aware, DayOrTime
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


@route("/posts", "GET", "Posts, newest first (?list=&since=&until=)", response=list_of(POST))
def all_posts():
    query = parse(PostQuery, request.args.to_dict())
    dated = sa.func.coalesce(Post.published_at, Post.first_seen_at)
    select = sa.select(Post).order_by(dated.desc(), Post.id.desc()).limit(query.limit)
    if query.list:
        select = select.where(Post.list_id == get_list(query.list).id)
    if query.since:
        select = select.where(dated >= query.since)
    if query.until:
        select = select.where(dated < query.until)
    return {"items": [post_json(p) for p in db.session.scalars(select)]}
