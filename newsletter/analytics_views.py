"""The tracked links and the open pixel: /r/<token>/<position> and /o/<token>.gif.

No session and no cookie; a redirect goes only to a link of the delivery's own issue, so
these are never open redirects."""

from __future__ import annotations

import base64

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from werkzeug.urls import iri_to_uri
from werkzeug.utils import redirect

from newsletter import analytics
from newsletter.extensions import db
from newsletter.i18n import use_locale
from newsletter.models import Delivery, Issue, MailingList

bp = Blueprint("analytics", __name__)

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.get("/r/<token>/<int:position>")
def click(token: str, position: int):
    # A HEAD is a link checker's or a scanner's, no reader's: answered, not counted.
    url = analytics.record_click(
        token, position, counted=request.method == "GET", agent=request.user_agent.string
    )
    if url is None:
        return _not_found(token)
    return redirect_to(url)


@bp.get("/o/<token>.gif")
def open_pixel(token: str):
    # The image answers whatever the token: a mail client shows no broken picture.
    if request.method == "GET":
        analytics.record_open(token, agent=request.user_agent.string)
    return gif()


def redirect_to(url: str) -> Response:
    """The answer to a click, here and in redirects.py (which answers before Flask). A link
    with Persian in its path or host goes out as the URI it stands for (RFC 3987: percent-
    encoded UTF-8, an IDNA host): a Location header is ASCII, and redirects.py sends the
    headers as built, where Flask would have converted it."""
    response = redirect(iri_to_uri(url), 302)
    response.headers.update(NO_STORE)  # every click counts; the link's site learns no token
    return response


def gif() -> Response:
    return Response(PIXEL, mimetype="image/gif", headers=NO_STORE)


def _not_found(token: str):
    """A 404 page, in the list's language when the token is ours."""
    number = analytics.delivery_id(token)
    if number is not None:
        mailing_list = db.session.scalar(
            sa.select(MailingList)
            .join(Issue, Issue.list_id == MailingList.id)
            .join(Delivery, Delivery.issue_id == Issue.id)
            .where(Delivery.id == number)
        )
        if mailing_list is not None:
            use_locale(mailing_list=mailing_list)
    message = _("This link is not valid.")
    return render_template("link_error.html", message=message, expired=False), 404
