"""The emails of joining and leaving: confirm, welcome, goodbye."""

from newsletter import mailer, tokens
from newsletter.extensions import db
from newsletter.lists import list_headers, sender
from newsletter.models import Subscription

SUBJECTS = {
    "confirm": "Please confirm your subscription to {name}",
    "welcome": "Welcome to {name}",
    "goodbye": "You have left {name}",
}
# A notice is only still due while the subscription is in this state.
DUE_WHEN = {"confirm": "unconfirmed", "welcome": "confirmed", "goodbye": "unsubscribed"}


def send_notice(kind: str, subscription_id: int) -> bool:
    """Send one notice now; False when it is no longer due."""
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None or subscription.status != DUE_WHEN[kind]:
        return False
    subscriber, mailing_list = subscription.subscriber, subscription.mailing_list
    if subscriber.status != "active":
        return False
    ids = (subscriber.id, mailing_list.id)
    links = {
        "confirm_url": tokens.url(tokens.CONFIRM, *ids),
        "unsubscribe_url": tokens.url(tokens.UNSUBSCRIBE, *ids),
        "preferences_url": tokens.url(tokens.PREFERENCES, *ids),
    }
    subject = SUBJECTS[kind].format(name=mailing_list.name)
    html, text = mailer.render_email(
        kind, mailing_list=mailing_list, subscriber=subscriber, subject=subject, **links
    )
    headers = mailer.standard_headers(
        sender(mailing_list), (subscriber.name, subscriber.email), subject, mailing_list.reply_to
    )
    if kind == "welcome":
        headers += list_headers(mailing_list, links["unsubscribe_url"])
    message = mailer.mime_bytes(headers, text, html)
    with mailer.connect() as smtp:
        mailer.send(smtp, mailing_list.from_email, subscriber.email, message)
    return True
