"""Public pages for subscribing, confirming, unsubscribing and preferences."""

import time

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from newsletter import links, zones
from newsletter.addresses import InvalidEmail
from newsletter.errors import NotFoundError
from newsletter.extensions import csrf, db, limiter
from newsletter.i18n import current_locale, use_locale
from newsletter.lists import get_list
from newsletter.models import MailingList, Subscriber
from newsletter.statuses import DeliveryMode, SubscriptionStatus
from newsletter.subscriptions import service

bp = Blueprint("subscriptions", __name__)


# The subscribe form's honeypot field: people never see it, form-filling bots fill it in.
HONEYPOT = "website"


def address_error(exc: InvalidEmail) -> str:
    """What a form tells a reader of an address it refused, in their language: of the text
    typed only, never of who is subscribed."""
    if exc.kind == "unsupported":
        return _("This address is valid, but we cannot send to it yet. Please use another one.")
    if exc.kind == "lookalike":
        return _(
            "This address mixes letters of different alphabets, as look-alike addresses do. "
            "Please check it."
        )
    return _("Please enter a valid email address.")


def subscribe_limit() -> str:
    return current_app.config["SUBSCRIBE_RATE_LIMIT"]


def subscribe_from_form(mailing_list: MailingList, email: str, name: str, source: str, **more):
    """service.subscribe for a stranger's form, answered no sooner than SUBSCRIBE_ANSWER_AFTER
    whoever the address is: a subscribed reader's answer took 4 ms and a new address's 6 to
    11 (rows written, a confirmation queued), which told anyone timing it who reads us."""
    started = time.monotonic()
    try:
        service.subscribe(
            mailing_list,
            email,
            name,
            ip=request.remote_addr,
            source=source,
            user_agent=request.headers.get("User-Agent"),
            **more,
        )
    finally:
        rest = current_app.config["SUBSCRIBE_ANSWER_AFTER"] - (time.monotonic() - started)
        if rest > 0:
            time.sleep(rest)


@bp.get("/subscribe/<slug>")
def subscribe_form(slug: str):
    mailing_list = get_list(slug, public=True)
    use_locale(mailing_list=mailing_list)
    # The embed snippet on the organisation's site sends people here with the fields filled.
    values = {key: request.args.get(key, "")[:254] for key in ("email", "name")}
    return render_template("subscribe.html", mailing_list=mailing_list, values=values, error=None)


@bp.post("/subscribe/<slug>")
@limiter.limit(subscribe_limit, methods=["POST"])
def subscribe(slug: str):
    mailing_list = get_list(slug, public=True)
    use_locale(mailing_list=mailing_list)
    values = _typed(request.form)
    if request.form.get(HONEYPOT):
        # A bot: nothing is stored or sent, and it gets the page a person gets.
        return render_template("subscribed.html", mailing_list=mailing_list)
    try:
        subscribe_from_form(
            mailing_list,
            values["email"],
            values["name"],
            f"form:{request.form.get('source') or request.path}",
            time_zone=request.form.get("time_zone"),
            # Only a form that offered the choice makes one.
            delivery=values["delivery"] if mailing_list.each_post else None,
        )
    except (InvalidEmail, service.PreferenceError) as exc:
        refused = "email" if isinstance(exc, InvalidEmail) else "delivery"
        error = address_error(exc) if refused == "email" else _preference_error("delivery_choice")
        return render_template(
            "subscribe.html", mailing_list=mailing_list, values=values, error=error, refused=refused
        ), 400
    return render_template("subscribed.html", mailing_list=mailing_list)


def _typed(form) -> dict:
    """What the subscribe form sent, to show it again (a refused or stale form)."""
    return {key: form.get(key, "")[:254] for key in ("email", "name", "delivery")}


def read_link(purpose: str, token: str, gone=None):
    """The subscription a link points at, or an error page that says what went wrong.
    `gone(target)` may answer for a link whose subscription is no more."""
    try:
        target = links.read(purpose, token)
    except links.TokenError as exc:
        if not exc.expired:
            _link_error(_("This link is not valid."), 400)
        # Too old, but ours: its page speaks the reader's language and says what to do.
        was = exc.target
        found = was and service.get_subscription(was.subscriber_id, was.list_id)
        if found:
            use_locale(found.subscriber, found.mailing_list)
        _link_error(_("This link has expired."), 410, purpose, found and found.mailing_list)
    if target.subscriber_id == links.TEST_READER:
        _test_link(target.list_id)
    subscription = service.get_subscription(target.subscriber_id, target.list_id)
    if subscription is None:
        if gone:
            gone(target)
        _link_error(_("This link is not valid."), 404)
    use_locale(subscription.subscriber, subscription.mailing_list)
    if purpose == links.CONFIRM and target.version != subscription.version:
        # Sent before the subscriber left: leaving is the later choice, so it stands.
        _link_error(_("This link is no longer valid."), 400)
    if purpose in (links.DATA, links.ERASE) and target.version != links.address_check(
        subscription.subscriber.email
    ):
        # Mailed to an address the subscriber no longer has: someone else's mailbox now.
        _link_error(_("This link is no longer valid."), 400)
    return subscription


def _test_link(list_id: int):
    """A test email's link: what it opens in a reader's copy, said in the list's language.
    It answered "This link is not valid", which an editor took for a broken issue."""
    mailing_list = db.session.get(MailingList, list_id)
    use_locale(mailing_list=mailing_list)
    abort(make_response(render_template("test_link.html", mailing_list=mailing_list), 200))


def _link_error(message: str, status: int, purpose: str = "", mailing_list=None):
    page = render_template(
        "link_error.html",
        message=message,
        expired=status == 410,
        purpose=purpose,
        mailing_list=mailing_list,
        days=_days_valid(purpose),
    )
    abort(make_response(page, status))


def _days_valid(purpose: str) -> str | None:
    """How long the purpose's links work, in days, as the reader writes numbers: the page
    said "a week" whatever NEWSLETTER_CONFIRM_MAX_AGE was."""
    age = {
        links.CONFIRM: current_app.config["CONFIRM_MAX_AGE"],
        links.PREFERENCES: current_app.config["PREFERENCES_MAX_AGE"],
    }.get(purpose)
    return None if age is None else max(1, round(age / 86400))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token in the path is the proof, as for unsubscribing: a bare POST
def confirm(token: str):
    subscription = read_link(links.CONFIRM, token)
    if request.method != "POST" and subscription.status != SubscriptionStatus.CONFIRMED:
        # Mail scanners follow links, with GET or HEAD (which Flask hands this view too):
        # only the button's POST confirms.
        return render_template("confirm.html", subscription=subscription)
    service.confirm_subscription(subscription)
    return render_template("confirmed.html", subscription=subscription)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: a bare POST from the mail provider, no cookie, no form token
def unsubscribe(token: str):
    subscription = read_link(links.UNSUBSCRIBE, token)
    if request.method != "POST":  # a scanner's HEAD too: only a POST unsubscribes
        # Its preferences link only while one of those would still work: unsubscribe links
        # never expire, and sit in headers anyone a copy reaches can read.
        manage = links.younger_than(
            links.UNSUBSCRIBE, token, current_app.config["PREFERENCES_MAX_AGE"]
        )
        return render_template("unsubscribe.html", subscription=subscription, manage=manage)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    reason = "one-click" if one_click else request.form.get("reason", "")
    service.unsubscribe(subscription, reason)
    return render_template("unsubscribed.html", subscription=subscription, token=token)


# The languages offered, each named in itself.
LANGUAGES = (("en", "English"), ("fa", "فارسی"))


def _preference_error(field: str | None) -> str:
    """What a PreferenceError says, in the reader's language."""
    messages = {
        "time_zone": _("Please choose a time zone from the list."),
        "locale": _("Please choose a language from the list."),
        "delivery": _("That list sends only its digest."),
        "delivery_choice": _("Please choose how to receive it from the list."),
    }
    return messages.get(field, _("Please check your choices and try again."))


@bp.route("/preferences/<token>", methods=["GET", "POST"])
def preferences(token: str):
    subscription = read_link(links.PREFERENCES, token)
    subscriber: Subscriber = subscription.subscriber
    saved, error, refused, status, sent = False, None, None, 200, None
    if request.method == "POST":
        wanted = {int(v) for v in request.form.getlist("lists") if v.isdigit()}
        modes = {
            s.list_id: request.form[f"delivery-{s.list_id}"]
            for s in subscriber.subscriptions
            if f"delivery-{s.list_id}" in request.form
        }
        try:
            service.update_preferences(
                subscriber,
                request.form.get("name"),
                wanted,
                request.remote_addr,
                time_zone=request.form.get("time_zone"),
                locale=request.form.get("locale"),
                delivery=modes,
                # Only a form that showed the box can untick it.
                tracking=(
                    request.form.get("no_tracking") != "on"
                    if request.form.get("tracking_asked")
                    else None
                ),
            )
            saved = True
        except service.PreferenceError as exc:
            db.session.rollback()  # a delivery mode may have been set before the refusal
            unknown = set(modes.values()) - set(DeliveryMode)
            error, status = _preference_error("delivery_choice" if unknown else exc.field), 400
            refused = f"delivery-{exc.list_id}" if exc.field == "delivery" else exc.field
            sent = _sent_choices(wanted, modes)
        use_locale(subscriber, subscription.mailing_list)  # a new language shows at once
    return preferences_page(subscription, saved, error, status, refused, sent)


def _sent_choices(wanted: set[int], modes: dict[int, str]) -> dict:
    """What a refused form asked for, to show it again as sent: the page showed the stored
    choices, and a reader who had changed five fields lost four to fix one."""
    form = request.form
    return {
        "name": form.get("name", ""),
        "locale": form.get("locale", ""),
        "time_zone": form.get("time_zone", ""),
        "lists": wanted,
        "delivery": modes,
        "no_tracking": form.get("no_tracking") == "on",
    }


def _stored_choices(subscriber: Subscriber, confirmed: dict) -> dict:
    return {
        "name": subscriber.name,
        "locale": subscriber.locale or "",
        "time_zone": subscriber.timezone or "",
        "lists": set(confirmed),
        "delivery": {list_id: s.delivery for list_id, s in confirmed.items()},
        "no_tracking": subscriber.no_tracking,
    }


def preferences_page(
    subscription,
    saved: bool = False,
    error: str | None = None,
    status=200,
    refused=None,
    sent: dict | None = None,
    asked: str | None = None,
):
    """`asked`: the kind of email with a link to their data just asked for (own_data_views)."""
    subscriber = subscription.subscriber
    lists = db.session.scalars(
        sa.select(MailingList).where(MailingList.public.is_(True)).order_by(MailingList.name)
    ).all()
    confirmed = {
        s.list_id: s for s in subscriber.subscriptions if s.status == SubscriptionStatus.CONFIRMED
    }
    chosen = sent or _stored_choices(subscriber, confirmed)
    # The fields the page shows; a refusal of any other (a list's delivery posted by hand)
    # puts the focus on the message.
    shown = {"locale", "time_zone"}
    shown |= {f"delivery-{m.id}" for m in lists if m.id in confirmed and m.each_post}
    return render_template(
        "preferences.html",
        subscription=subscription,
        subscriber=subscriber,
        lists=lists,
        confirmed=confirmed,
        chosen=chosen,
        languages=LANGUAGES,
        time_zones=zones.choices(current_locale(), chosen["time_zone"]),
        list_zone=zones.label(subscription.mailing_list.timezone, current_locale()),
        saved=saved,
        error=error,
        refused=refused if refused in shown else None,
        asked=asked,
    ), status


# Lazy: put into words once the page has chosen the reader's language.
STALE = _l(
    "This page was open too long, or your browser did not keep our cookie. Please send it again."
)


@bp.errorhandler(CSRFError)
def _stale_form(exc: CSRFError):
    """A form whose security token is missing or too old (a page left open a day, a browser
    that keeps no cookie of ours): its page again, in the reader's language, with what they
    typed and a fresh token, saying so; nothing is done. It was a bare English "Bad request"."""
    try:
        return _stale_page(STALE, request.view_args or {})
    except HTTPException as answer:  # the page's own refusal: a link broken or too old
        return answer.get_response()
    except NotFoundError:
        return render_template("error.html", code=404), 404


def _stale_page(stale: str, args: dict):
    if request.endpoint == "subscriptions.subscribe":
        mailing_list = get_list(args["slug"], public=True)
        use_locale(mailing_list=mailing_list)
        values = _typed(request.form)
        page = render_template(
            "subscribe.html", mailing_list=mailing_list, values=values, error=stale
        )
        return page, 400
    if request.endpoint == "subscriptions.preferences":
        return preferences_page(
            read_link(links.PREFERENCES, args["token"]), error=stale, status=400
        )
    return render_template("error.html", code=400), 400


@bp.app_template_global()
def preferences_token(subscription) -> str:
    return links.make(links.PREFERENCES, subscription.subscriber_id, subscription.list_id)
