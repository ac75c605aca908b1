"""API: mailing lists."""

import sqlalchemy as sa

from newsletter import lists
from newsletter.api.common import created, get_or_404, parse, route
from newsletter.api.shapes import LIST, list_json, list_of
from newsletter.extensions import db
from newsletter.lists.shapes import ListChanges, NewList
from newsletter.models import MailingList


@route("/lists", "GET", "All mailing lists", response=list_of(LIST))
def all_lists():
    everything = db.session.scalars(sa.select(MailingList).order_by(MailingList.slug))
    return {"items": [list_json(m) for m in everything]}


@route("/lists", "POST", "Create a list", body=NewList, response=LIST, status=201)
def create_list():
    # A list without a postal_address gets NEWSLETTER_POSTAL_ADDRESS, or a visible notice.
    made = lists.create_list(parse(NewList))
    return created(list_json(made), "get_list", list_id=made.id)


@route("/lists/<int:list_id>", "GET", "One list", response=LIST)
def get_list(list_id: int):
    return list_json(get_or_404(MailingList, list_id, "list"))


@route("/lists/<int:list_id>", "PATCH", "Change a list", body=ListChanges, response=LIST)
def change_list(list_id: int):
    mailing_list = get_or_404(MailingList, list_id, "list")
    return list_json(lists.update_list(mailing_list, parse(ListChanges)))


@route("/lists/<int:list_id>", "DELETE", "Delete a list with its issues", status=204)
def delete_list(list_id: int):
    db.session.delete(get_or_404(MailingList, list_id, "list"))
    db.session.commit()
    return "", 204
