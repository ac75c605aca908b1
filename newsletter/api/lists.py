"""API: mailing lists."""

from zoneinfo import available_timezones

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator

from newsletter.api.common import ApiError, get_or_404, invalid, parse, route
from newsletter.api.shapes import LIST, LIST_FIELDS, OneLine, Slug, list_json, list_of
from newsletter.extensions import db
from newsletter.lists import default_postal_address
from newsletter.models import MailingList
from newsletter.subscriptions.service import InvalidEmail, normalise_email


def _email(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return normalise_email(value)
    except InvalidEmail as exc:
        raise ValueError(str(exc)) from exc


class ListChanges(BaseModel):
    name: OneLine | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    from_email: str | None = None
    from_name: OneLine | None = Field(None, max_length=200)
    reply_to: str | None = None
    opt_in: str | None = Field(None, pattern="^(double|single)$")
    public: bool | None = None
    send_weekday: int | None = Field(None, ge=0, le=6)
    send_time: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str | None = None
    language: str | None = Field(None, max_length=16)
    direction: str | None = Field(None, pattern="^(ltr|rtl)$")
    footer: str | None = Field(None, max_length=5000)
    postal_address: str | None = Field(None, max_length=1000)
    autopilot: bool | None = None
    autopilot_send: bool | None = None

    _emails = field_validator("from_email", "reply_to")(_email)

    @field_validator("postal_address")
    @classmethod
    def _postal(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("required: every email shows it, as anti-spam laws ask")
        return value and value.strip()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError("not a time zone name such as Europe/London")
        return value


class NewList(ListChanges):
    slug: Slug
    name: OneLine = Field(min_length=1, max_length=200)
    # Required and not empty: an empty one would be read as "not given".
    from_email: str = Field(min_length=1)


def list_for(slug: str | None, field: str = "list") -> MailingList:
    """The list a request names by slug, or a 422 that says which field is wrong."""
    mailing_list = db.session.scalar(sa.select(MailingList).where(MailingList.slug == slug))
    if mailing_list is None:
        raise invalid(field, f"There is no list '{slug}'.")
    return mailing_list


@route("/lists", "GET", "All mailing lists", response=list_of(LIST))
def all_lists():
    lists = db.session.scalars(sa.select(MailingList).order_by(MailingList.slug))
    return {"items": [list_json(m) for m in lists]}


@route("/lists", "POST", "Create a list", body=NewList, response=LIST, status=201)
def create_list():
    fields = parse(NewList).model_dump(exclude_none=True)
    if db.session.scalar(sa.select(MailingList.id).where(MailingList.slug == fields["slug"])):
        raise ApiError(409, "conflict", "A list with that slug exists.", {"slug": "taken"})
    mailing_list = MailingList(**fields)
    mailing_list.postal_address = mailing_list.postal_address or default_postal_address()
    db.session.add(mailing_list)
    db.session.commit()
    return list_json(mailing_list), 201


@route("/lists/<int:list_id>", "GET", "One list", response=LIST)
def get_list(list_id: int):
    return list_json(get_or_404(MailingList, list_id, "list"))


@route("/lists/<int:list_id>", "PATCH", "Change a list", body=ListChanges, response=LIST)
def change_list(list_id: int):
    mailing_list = get_or_404(MailingList, list_id, "list")
    changes = parse(ListChanges).model_dump(exclude_unset=True)
    for name, value in changes.items():
        if name in LIST_FIELDS and (value is not None or name == "reply_to"):
            setattr(mailing_list, name, value)
    db.session.commit()
    return list_json(mailing_list)


@route("/lists/<int:list_id>", "DELETE", "Delete a list with its issues", status=204)
def delete_list(list_id: int):
    db.session.delete(get_or_404(MailingList, list_id, "list"))
    db.session.commit()
    return "", 204
