"""The emails of joining and leaving (confirm, welcome, goodbye), and those with a link to a
reader's own data that they ask for (data, erase: data_requests.py)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from newsletter import links, mailer
from newsletter.extensions import db
from newsletter.i18n import locale_for
from newsletter.lists import list_headers, sender
from newsletter.models import Subscription
from newsletter.statuses import SubscriberStatus, SubscriptionStatus

SUBJECTS = {
    "confirm": _l("Please confirm your subscription to %(name)s"),
    "welcome": _l("Welcome to %(name)s"),
    "goodbye": _l("You have left %(name)s"),
    "data": _l("Your data from %(name)s"),
    "erase": _l("Erase your data from %(name)s"),
}
# A notice is only still due while the subscription is in this state (None: in any).
DUE_WHEN = {
    "confirm": SubscriptionStatus.UNCONFIRMED,
    "welcome": SubscriptionStatus.CONFIRMED,
    "goodbye": SubscriptionStatus.UNSUBSCRIBED,
    "data": None,
    "erase": None,
}
# The link each notice a reader asks for carries, to the address it is sent to only.
OWN_DATA_LINKS = {"data": links.DATA, "erase": links.ERASE}


@dataclass(frozen=True)
class Notice:
    sender: str
    recipient: str
    message: bytes


def send_notice(kind: str, subscription_id: int) -> bool:
    """Send one notice now; False when it is no longer due."""
    notice = build_notice(kind, subscription_id)
    if notice is None:
        return False
    deliver(notice)
    return True


def build_notice(kind: str, subscription_id: int) -> Notice | None:
    """The notice, rendered and signed; None when it is no longer due. Nothing here
    speaks SMTP, so what goes wrong here is no reason to try again later."""
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None or DUE_WHEN[kind] not in (None, subscription.status):
        return None
    subscriber, mailing_list = subscription.subscriber, subscription.mailing_list
    if subscriber.status != SubscriberStatus.ACTIVE:
        return None
    ids = (subscriber.id, mailing_list.id)
    urls = {
        "confirm_url": links.url(links.CONFIRM, *ids, subscription.version),
        "unsubscribe_url": links.url(links.UNSUBSCRIBE, *ids),
        "preferences_url": links.url(links.PREFERENCES, *ids),
    }
    if kind in OWN_DATA_LINKS:
        check = links.address_check(subscriber.email)
        urls["action_url"] = links.url(OWN_DATA_LINKS[kind], *ids, check)
    # In the subscriber's own language, else the list's.
    with force_locale(locale_for(subscriber, mailing_list)):
        subject = notice_subject(kind, mailing_list.name)
        html, text = mailer.render_email(
            kind,
            mailing_list=mailing_list,
            subscriber=subscriber,
            subject=subject,
            **urls,
        )
    # A confirmation names no one: a stranger may have typed the name (as its greeting). So
    # with the emails a preferences link asks for: whoever it was forwarded to may set it.
    to_name = "" if kind in ("confirm", *OWN_DATA_LINKS) else subscriber.name
    headers = mailer.standard_headers(
        sender(mailing_list), (to_name, subscriber.email), subject, mailing_list.reply_to
    )
    # The confirmation too (DESIGN.md: every email carries List-Unsubscribe): whoever a
    # stranger signed up says "not me" with the mail program's Unsubscribe, not its
    # "Report spam"; the pending subscription ends, no goodbye sent.
    if kind in ("welcome", "confirm"):
        headers += list_headers(mailing_list, urls["unsubscribe_url"])
    message = mailer.mime_bytes(headers, text, html)
    return Notice(mailing_list.from_email, subscriber.email, message)


def notice_subject(kind: str, list_name: str) -> str:
    """The subject in the language in force (flask_babel.force_locale)."""
    return str(SUBJECTS[kind]) % {"name": list_name}


def deliver(notice: Notice) -> None:
    """Raises the SMTP server's refusal, or OSError when it cannot be reached."""
    with mailer.connect() as smtp:
        mailer.send(smtp, notice.sender, notice.recipient, notice.message)
