"""API: subscribers and their subscriptions."""

import sqlalchemy as sa
from flask import request
from pydantic import BaseModel, Field, StrictBool, field_validator

from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.api.common import (
    created,
    get_or_404,
    invalid,
    known_status,
    next_page,
    parse,
    parse_query,
    route,
)
from newsletter.api.shapes import SUBSCRIBER, list_of
from newsletter.extensions import db
from newsletter.fields import OneLine, one_line
from newsletter.hardening import MAX_ID
from newsletter.lists import get_list
from newsletter.models import MailingList, Subscriber, Subscription
from newsletter.statuses import SubscriberStatus
from newsletter.subscriptions import service
from newsletter.subscriptions.export import attribute_text
from newsletter.subscriptions.importer import FIELD_LIMIT
from newsletter.subscriptions.shapes import subscriber_json, with_subscriptions

# What an export's columns and an import's fields hold, so that an export imports back.
ATTRIBUTES_MAX, KEY_MAX = 100, 100


class NewSubscriber(BaseModel):
    email: str
    name: OneLine = Field("", max_length=200)
    lists: list[str] = Field(default_factory=list)
    preconfirm: bool = False
    no_tracking: StrictBool = False


class DeliveryChange(BaseModel):
    list: str
    delivery: str = Field(pattern="^(digest|each|both)$")


class SubscriberChanges(BaseModel):
    name: one_line(200) | None = None
    status: str | None = Field(None, pattern="^(active|blocklisted)$")
    attributes: dict | None = Field(None, max_length=ATTRIBUTES_MAX)
    time_zone: str | None = Field(None, max_length=64)  # "" for the list's
    locale: str | None = Field(None, max_length=16)  # "" for the list's
    no_tracking: StrictBool | None = None
    subscriptions: list[DeliveryChange] | None = Field(None, max_length=100)

    @field_validator("attributes")
    @classmethod
    def _importable(cls, value: dict | None) -> dict | None:
        """Each attribute as an export's cell holds it, which an import takes back: a value
        of 140,000 characters was kept, and the export of it no longer imported."""
        for key, item in (value or {}).items():
            if len(key) > KEY_MAX:
                raise ValueError(f"an attribute's name can be at most {KEY_MAX} characters")
            if len(attribute_text(item)) > FIELD_LIMIT:
                raise ValueError(
                    f"the attribute {key[:40]!r} is longer than {FIELD_LIMIT} characters"
                )
        return value


class Leave(BaseModel):
    list: str


class Query(BaseModel):
    email: str | None = None
    list: str | None = None
    status: str | None = None
    after: int = Field(0, ge=0, le=MAX_ID)  # one past any id failed the query
    limit: int = Field(100, ge=1, le=1000)


@route(
    "/subscribers",
    "GET",
    "Find subscribers, a page at a time",
    query=Query,
    response=list_of(SUBSCRIBER, cursor="next_after"),
)
def find_subscribers():
    query = parse_query(Query)
    select = sa.select(Subscriber).where(Subscriber.id > query.after).order_by(Subscriber.id)
    if query.email is not None:
        try:
            email = normalise_email(query.email)
        except InvalidEmail:
            return {"items": []}
        select = select.where(Subscriber.email == email)
    if query.status:
        select = select.where(Subscriber.status == known_status(SubscriberStatus, query.status))
    if query.list:
        select = select.join(Subscription).where(Subscription.list_id == get_list(query.list).id)
    items = [
        subscriber_json(s)
        for s in db.session.scalars(with_subscriptions(select.limit(query.limit)))
    ]
    return {"items": items, "next_after": next_page(items, query.limit)}


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
    lists = [get_list(slug, field="lists") for slug in body.lists]
    # The service says why not: a bad address (422), a known one (409), a suppressed one (422).
    subscriber = service.add_subscriber(
        body.email,
        body.name,
        lists,
        ip=request.remote_addr,
        source="api",
        preconfirmed=body.preconfirm,
    )
    if body.no_tracking:
        service.update_preferences(subscriber, None, set(), None, lists_too=False, tracking=False)
    return created(subscriber_json(subscriber), "get_subscriber", subscriber_id=subscriber.id)


@route("/subscribers/<int:subscriber_id>", "GET", "One subscriber", response=SUBSCRIBER)
def get_subscriber(subscriber_id: int):
    return subscriber_json(get_or_404(Subscriber, subscriber_id, "subscriber"))


@route(
    "/subscribers/<int:subscriber_id>",
    "PATCH",
    "Change name, status, attributes, time zone, locale, no_tracking, delivery per list",
    body=SubscriberChanges,
    response=SUBSCRIBER,
)
def change_subscriber(subscriber_id: int):
    subscriber = get_or_404(Subscriber, subscriber_id, "subscriber")
    body = parse(SubscriberChanges)
    changes = body.model_dump(exclude_none=True)
    _change_preferences(subscriber, body)
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


def _change_preferences(subscriber: Subscriber, body: SubscriberChanges) -> None:
    """Time zone, language and delivery modes, through the rules the preferences page uses;
    a PreferenceError (422 naming the field) changes nothing."""
    by_list = {s.mailing_list.slug: s for s in subscriber.subscriptions}
    delivery = {}
    for change in body.subscriptions or []:
        if change.list not in by_list:
            raise service.PreferenceError(
                f"Not subscribed to {change.list[:64]}.", field="subscriptions"
            )
        delivery[by_list[change.list].list_id] = change.delivery
    if body.time_zone is None and body.locale is None and body.no_tracking is None and not delivery:
        return
    service.update_preferences(
        subscriber,
        None,
        set(),
        None,
        time_zone=body.time_zone,
        locale=body.locale,
        delivery=delivery,
        lists_too=False,
        tracking=None if body.no_tracking is None else not body.no_tracking,
    )


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
    mailing_list: MailingList = get_list(parse(Leave).list)
    subscription = service.get_subscription(subscriber.id, mailing_list.id)
    if subscription is None:
        raise invalid("list", "Not subscribed to that list.")
    service.unsubscribe(subscription, "api")
    return subscriber_json(subscriber)
