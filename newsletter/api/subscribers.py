"""API: subscribers and their subscriptions."""

import sqlalchemy as sa
from flask import request
from pydantic import BaseModel, Field

from newsletter import suppression
from newsletter.api.common import ApiError, get_or_404, invalid, parse, route
from newsletter.api.lists import list_for
from newsletter.api.shapes import SUBSCRIBER, OneLine, list_of, subscriber_json
from newsletter.extensions import db
from newsletter.models import MailingList, Subscriber, Subscription
from newsletter.statuses import SubscriberStatus
from newsletter.subscriptions import service


class NewSubscriber(BaseModel):
    email: str
    name: OneLine = Field("", max_length=200)
    lists: list[str] = Field(default_factory=list)
    preconfirm: bool = False


class SubscriberChanges(BaseModel):
    name: OneLine | None = Field(None, max_length=200)
    status: str | None = Field(None, pattern="^(active|blocklisted)$")
    attributes: dict | None = None


class Leave(BaseModel):
    list: str


class Query(BaseModel):
    email: str | None = None
    list: str | None = None
    status: str | None = None
    after: int = 0
    limit: int = Field(100, ge=1, le=1000)


@route(
    "/subscribers",
    "GET",
    "Find subscribers (?email=&list=&status=&after=&limit=)",
    response=list_of(SUBSCRIBER),
)
def find_subscribers():
    query = parse(Query, request.args.to_dict())
    select = sa.select(Subscriber).where(Subscriber.id > query.after).order_by(Subscriber.id)
    if query.email is not None:
        try:
            email = service.normalise_email(query.email)
        except service.InvalidEmail:
            return {"items": []}
        select = select.where(Subscriber.email == email)
    if query.status:
        select = select.where(Subscriber.status == query.status)
    if query.list:
        select = select.join(Subscription).where(Subscription.list_id == list_for(query.list).id)
    items = [subscriber_json(s) for s in db.session.scalars(select.limit(query.limit))]
    return {"items": items, "next_after": items[-1]["id"] if len(items) == query.limit else None}


@route(
    "/subscribers",
    "POST",
    "Add a subscriber to lists",
    body=NewSubscriber,
    response=SUBSCRIBER,
    status=201,
)
def add_subscriber():
    body = parse(NewSubscriber)
    lists = [list_for(slug, "lists") for slug in body.lists]
    try:
        email = service.normalise_email(body.email)
    except service.InvalidEmail as exc:
        raise invalid("email", str(exc)) from exc
    if service.find_subscriber(email):
        raise ApiError(409, "conflict", "That subscriber exists.", {"email": "taken"})
    why = suppression.reason(email)
    if why:
        raise invalid("email", f"This address is on the suppression list ({why}).")
    for mailing_list in lists:
        service.subscribe(
            mailing_list,
            email,
            body.name,
            ip=request.remote_addr,
            source="api",
            preconfirmed=body.preconfirm,
        )
    subscriber = service.find_subscriber(email)
    if subscriber is None:
        subscriber = Subscriber(email=email, name=service.clean_name(body.name), attributes={})
        db.session.add(subscriber)
        db.session.commit()
    return subscriber_json(subscriber), 201


@route("/subscribers/<int:subscriber_id>", "GET", "One subscriber", response=SUBSCRIBER)
def get_subscriber(subscriber_id: int):
    return subscriber_json(get_or_404(Subscriber, subscriber_id, "subscriber"))


@route(
    "/subscribers/<int:subscriber_id>",
    "PATCH",
    "Change name, status or attributes",
    body=SubscriberChanges,
    response=SUBSCRIBER,
)
def change_subscriber(subscriber_id: int):
    subscriber = get_or_404(Subscriber, subscriber_id, "subscriber")
    changes = parse(SubscriberChanges).model_dump(exclude_none=True)
    if "name" in changes:
        subscriber.name = service.clean_name(changes["name"])
    if "attributes" in changes:
        subscriber.attributes = changes["attributes"]
    if changes.get("status") == SubscriberStatus.BLOCKLISTED:
        service.blocklist(subscriber)
    elif (
        changes.get("status") == SubscriberStatus.ACTIVE
        and subscriber.status != SubscriberStatus.ACTIVE
    ):
        service.reactivate(subscriber)
    db.session.commit()
    return subscriber_json(subscriber)


@route("/subscribers/<int:subscriber_id>", "DELETE", "Erase a subscriber", status=204)
def delete_subscriber(subscriber_id: int):
    service.erase(get_or_404(Subscriber, subscriber_id, "subscriber"))
    return "", 204


@route(
    "/subscribers/<int:subscriber_id>/unsubscribe",
    "POST",
    "Unsubscribe from a list",
    body=Leave,
    response=SUBSCRIBER,
)
def unsubscribe(subscriber_id: int):
    subscriber = get_or_404(Subscriber, subscriber_id, "subscriber")
    mailing_list: MailingList = list_for(parse(Leave).list)
    subscription = service.get_subscription(subscriber.id, mailing_list.id)
    if subscription is None:
        raise invalid("list", "Not subscribed to that list.")
    service.unsubscribe(subscription, "api")
    return subscriber_json(subscriber)
