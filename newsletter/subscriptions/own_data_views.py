"""A reader's own data: the preferences page's "Email me my data" and "Erase me", and the
pages of the links those email (a download page and an erase page, each with its button).

A forwarded preferences link reaches these buttons too: they only email a link to the
subscriber's own address, and the page says the same whether one went or not.
"""

from flask import Blueprint, abort, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from newsletter import links
from newsletter.extensions import db
from newsletter.i18n import use_locale
from newsletter.models import MailingList
from newsletter.subscriptions import data_requests, export, service
from newsletter.subscriptions.views import STALE, preferences_page, read_link

bp = Blueprint("own_data", __name__)
bp.add_app_template_global(data_requests.link_hours, "privacy_link_hours")


@bp.post("/preferences/<token>/<any(data, erase):kind>")
def ask(token: str, kind: str):
    subscription = read_link(links.PREFERENCES, token)
    data_requests.email_link(subscription, kind)
    return preferences_page(subscription, asked=kind)


@bp.route("/data/<token>", methods=["GET", "POST"])
def download(token: str):
    subscription = _own_link(links.DATA, token)
    if request.method != "POST":
        # A page with a button, as for erasing: mail scanners fetch every link in a message,
        # and the data went to whoever fetched it first.
        return _download_page(subscription)
    return export.data_download(subscription.subscriber)


def _download_page(subscription, error: str | None = None):
    return render_template("data_download.html", subscription=subscription, error=error)


@bp.route("/erase/<token>", methods=["GET", "POST"])
def erase(token: str):
    subscription = _own_link(links.ERASE, token)
    if request.method != "POST":
        # Mail scanners follow links, with GET or HEAD (which Flask hands this view too):
        # only the button's POST erases.
        return _erase_page(subscription)
    mailing_list = subscription.mailing_list
    service.erase(subscription.subscriber)
    return render_template("data_erased.html", mailing_list=mailing_list)


def _erase_page(subscription, error: str | None = None):
    return render_template(
        "erase_data.html",
        subscription=subscription,
        preferences=links.make(links.PREFERENCES, subscription.subscriber_id, subscription.list_id),
        error=error,
    )


def _own_link(purpose: str, token: str):
    """The subscription a data or erase link was mailed for, or its error page."""
    return read_link(purpose, token, gone=_already_erased)


def _already_erased(target: links.LinkTarget) -> None:
    """A signed link whose subscriber is no more: subscribers leave the database only by
    erasure, so say that, in their list's language (their own went with them)."""
    mailing_list = db.session.get(MailingList, target.list_id)
    use_locale(mailing_list=mailing_list)
    page = render_template("data_gone.html", mailing_list=mailing_list)
    abort(make_response(page, 410))


@bp.errorhandler(CSRFError)
def _stale_form(exc: CSRFError):
    """Either button sent without its form's token: its page again, saying so; nothing is
    done (as views._stale_form does for the other public forms)."""
    token = (request.view_args or {}).get("token", "")
    try:
        if request.endpoint == "own_data.erase":
            return _erase_page(_own_link(links.ERASE, token), error=STALE), 400
        if request.endpoint == "own_data.download":
            return _download_page(_own_link(links.DATA, token), error=STALE), 400
        subscription = read_link(links.PREFERENCES, token)
        return preferences_page(subscription, error=STALE, status=400)
    except HTTPException as answer:  # the page's own refusal: a link broken or too old
        return answer.get_response()
