"""The rules of a list: finding one, making one, changing one. The admin and the API call these."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from newsletter.errors import NewsletterError, NotFoundError
from newsletter.extensions import db
from newsletter.i18n import direction
from newsletter.models import MailingList, utcnow

if TYPE_CHECKING:
    from newsletter.lists.shapes import ListChanges, NewList

# What a list made without an address (through the API, which does not require one) shows
# until it gets one: visible in every email and on the dashboard, so it gets fixed.
NO_POSTAL_ADDRESS = "Postal address not set (NEWSLETTER_POSTAL_ADDRESS)"


class ListNotFound(NotFoundError):
    """No such list. Pages answer 404; the API a 422 naming the field that named it."""

    field = "list"


class SlugTaken(NewsletterError):
    """Another list has that slug."""

    field = "slug"
    status = 409

    def __init__(self, message: str = "A list with that slug exists."):
        super().__init__(message)

    @property
    def fields(self) -> dict:
        return {"slug": "taken"}


def default_postal_address() -> str:
    return current_app.config["POSTAL_ADDRESS"] or NO_POSTAL_ADDRESS


def get_list(
    slug: str | None = None,
    *,
    list_id: int | None = None,
    public: bool = False,
    field: str = "list",
) -> MailingList:
    """The list with that slug (or id), else ListNotFound; public=True counts a list that is
    not public as not found. field names, for the error, what in the request named the list."""
    if list_id is not None:
        mailing_list = db.session.get(MailingList, list_id)
        what = f"There is no list {list_id}."
    else:
        mailing_list = db.session.scalar(sa.select(MailingList).where(MailingList.slug == slug))
        what = f"There is no list '{slug}'."
    if mailing_list is None or (public and not mailing_list.public):
        raise ListNotFound(what, field)
    return mailing_list


def create_list(new: NewList) -> MailingList:
    """A new list; without a postal address it shows NEWSLETTER_POSTAL_ADDRESS, else a notice
    that one is missing (NO_POSTAL_ADDRESS). SlugTaken when the slug is in use."""
    fields = new.model_dump(exclude_none=True)
    if db.session.scalar(sa.select(MailingList.id).where(MailingList.slug == fields["slug"])):
        raise SlugTaken()
    fields["direction"] = _direction(fields.get("language") or "en", fields.get("direction"))
    mailing_list = MailingList(**fields)
    mailing_list.postal_address = mailing_list.postal_address or default_postal_address()
    _each_post_from_now(mailing_list, fields.get("each_post"))
    db.session.add(mailing_list)
    db.session.commit()
    return mailing_list


def update_list(mailing_list: MailingList, changes: ListChanges) -> MailingList:
    """Apply the fields the changes set; a null leaves a field as it is, except reply_to,
    which null clears."""
    values = changes.model_dump(exclude_unset=True)
    language = values.get("language") or mailing_list.language
    values["direction"] = _direction(language, values.get("direction"))
    _each_post_from_now(mailing_list, values.get("each_post"))
    for name, value in values.items():
        if value is not None or name == "reply_to":
            setattr(mailing_list, name, value)
    db.session.commit()
    return mailing_list


def _direction(language: str, asked: str | None) -> str:
    """The list's text direction: its language's, unless a caller of the API gives one (the
    contract's older callers do; pages and emails follow the language either way). The
    admin no longer offers it: an English list set to rtl changed nothing anywhere."""
    return asked or direction(language)


def _each_post_from_now(mailing_list: MailingList, each_post: bool | None) -> None:
    """Turned on, each post goes out on its own from now: older posts are not sent again."""
    if each_post and not mailing_list.each_post:
        mailing_list.each_post_since = utcnow()
