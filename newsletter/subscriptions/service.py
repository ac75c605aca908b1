"""The rules of joining and leaving a list. Views, the API, the CLI and tasks call these."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from newsletter import jobs, suppression, zones
from newsletter.addresses import normalise_email
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.i18n import LOCALES
from newsletter.mailer import smtp_address
from newsletter.models import (
    Bounce,
    Delivery,
    Issue,
    MailingList,
    Subscriber,
    Subscription,
    utcnow,
)
from newsletter.statuses import DeliveryMode, DeliveryStatus, SubscriberStatus, SubscriptionStatus
from newsletter.text import single_line

NAME_MAX = 200
# A second confirmation email for the same address waits at least this long.
RESEND_CONFIRMATION_AFTER = timedelta(minutes=5)


class SubscriberExists(NewsletterError):
    """Someone with that address is known already."""

    field = "email"
    status = 409

    @property
    def fields(self) -> dict:
        return {"email": "taken"}


class Suppressed(NewsletterError):
    """The address is on the suppression list (bounced, complained, blocklisted, erased)."""

    field = "email"


# Direction overrides, embeddings and isolates (U+202A-U+202E, U+2066-U+2069): in a name
# they turn the text after it around ("Dear Ana\u202e, ..." reads backwards) in a greeting,
# a header, an editor's table. Where a name sits, our pages and mail isolate it themselves;
# the joiners Persian and emoji need (U+200C, U+200D) and the marks (U+200E, U+200F) stay.
_DIRECTION_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def clean_name(raw: str | None) -> str:
    return single_line((raw or "").translate(_DIRECTION_CONTROLS), NAME_MAX)


def find_subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(sa.select(Subscriber).where(Subscriber.email == email))


def add_subscriber(
    email: str,
    name: str | None,
    lists: list[MailingList],
    *,
    ip: str | None = None,
    source: str = "api",
    preconfirmed: bool = False,
) -> Subscriber:
    """Someone new to us, subscribed to lists (maybe none yet). Unlike subscribe, which answers
    the same whatever happens, this says why not: InvalidEmail, SubscriberExists, Suppressed."""
    email = normalise_email(email)
    if find_subscriber(email):
        raise SubscriberExists("That subscriber exists.")
    why = suppression.reason(email)
    if why:
        raise Suppressed(f"This address is on the suppression list ({why}).")
    for mailing_list in lists:
        subscribe(mailing_list, email, name, ip=ip, source=source, preconfirmed=preconfirmed)
    subscriber = find_subscriber(email)
    if subscriber is None:
        subscriber = Subscriber(email=email, name=clean_name(name), attributes={})
        db.session.add(subscriber)
        db.session.commit()
    return subscriber


def _subscriber_for(email: str, name: str, time_zone: str | None = None) -> Subscriber:
    subscriber = find_subscriber(email)
    if subscriber is None:
        subscriber = Subscriber(email=email, name=name, attributes={}, timezone=time_zone)
        db.session.add(subscriber)
        db.session.flush()
    # A known subscriber's name stays theirs: anyone may type their address into the form.
    return subscriber


def _subscription_for(subscriber: Subscriber, mailing_list: MailingList) -> Subscription:
    subscription = db.session.scalar(
        sa.select(Subscription).where(
            Subscription.subscriber_id == subscriber.id,
            Subscription.list_id == mailing_list.id,
        )
    )
    if subscription is None:
        subscription = Subscription(subscriber=subscriber, mailing_list=mailing_list)
        db.session.add(subscription)
    return subscription


def subscribe(
    mailing_list: MailingList,
    email: str,
    name: str | None = None,
    *,
    ip: str | None = None,
    source: str = "form",
    user_agent: str | None = None,
    preconfirmed: bool = False,
    time_zone: str | None = None,
    delivery: str | None = None,
) -> Subscription | None:
    """Record consent and start opt-in. Callers answer the same whatever happens here.

    time_zone is the browser's guess, kept for someone new when we know the zone.
    delivery (check_delivery's; PreferenceError before anything is written) is kept for a
    subscription never confirmed: anyone may type a reader's address, and a reader who
    comes back keeps the choice they made.

    Returns the subscription, or None when the address may not be subscribed
    (suppressed: bounced, complained, blocklisted or erased): that is not told to the
    person asking.
    """
    email = normalise_email(email)
    mode = delivery and check_delivery(mailing_list, delivery)
    if suppression.reason(email):
        return None
    subscriber = _subscriber_for(email, clean_name(name), _known_zone(time_zone))
    if subscriber.status != SubscriberStatus.ACTIVE:
        db.session.commit()
        return None
    subscription = _subscription_for(subscriber, mailing_list)
    if subscription.status == SubscriptionStatus.CONFIRMED:
        db.session.commit()
        return subscription
    if mode and subscription.confirmed_at is None:
        subscription.delivery = mode
    now = utcnow()
    subscription.consent_at = now
    subscription.consent_ip = ip
    subscription.consent_source = single_line(source, 200)
    subscription.consent_user_agent = single_line(user_agent or "", 400) or None
    subscription.unsubscribed_at = None
    subscription.unsubscribe_reason = None
    if preconfirmed or mailing_list.opt_in == "single":
        _mark_confirmed(subscription, now)
        db.session.commit()
        if not preconfirmed:
            jobs.send_notice.delay("welcome", subscription.id)
        return subscription
    subscription.status = SubscriptionStatus.UNCONFIRMED
    due = subscription.confirm_sent_at is None or (
        now - subscription.confirm_sent_at >= RESEND_CONFIRMATION_AFTER
    )
    if due:
        subscription.confirm_sent_at = now
    db.session.commit()
    if due:
        jobs.send_notice.delay("confirm", subscription.id)
    return subscription


def _mark_confirmed(subscription: Subscription, now: datetime) -> None:
    subscription.status = SubscriptionStatus.CONFIRMED
    subscription.confirmed_at = now
    subscription.unsubscribed_at = None
    subscription.unsubscribe_reason = None


def get_subscription(subscriber_id: int, list_id: int) -> Subscription | None:
    """With its subscriber and list, which every page a link opens shows: one query."""
    return db.session.scalar(
        sa.select(Subscription)
        .where(Subscription.subscriber_id == subscriber_id, Subscription.list_id == list_id)
        .options(joinedload(Subscription.subscriber), joinedload(Subscription.mailing_list))
    )


def confirm_subscription(subscription: Subscription) -> bool:
    """Confirm once; True when this call confirmed it (and so a welcome is due)."""
    if subscription.status == SubscriptionStatus.CONFIRMED:
        return False
    if subscription.subscriber.status != SubscriberStatus.ACTIVE:
        return False
    _mark_confirmed(subscription, utcnow())
    db.session.commit()
    jobs.send_notice.delay("welcome", subscription.id)
    return True


def unsubscribe(subscription: Subscription, reason: str = "", notify: bool = True) -> bool:
    """Leave at once: pending deliveries of issues now sending are dropped too."""
    if subscription.status == SubscriptionStatus.UNSUBSCRIBED:
        return False
    was_confirmed = subscription.status == SubscriptionStatus.CONFIRMED
    mark_unsubscribed(subscription, reason)
    db.session.commit()
    if notify and was_confirmed:
        jobs.send_notice.delay("goodbye", subscription.id)
    return True


def mark_unsubscribed(subscription: Subscription, reason: str) -> None:
    """The change unsubscribe makes, for callers that commit it with more. No goodbye."""
    subscription.status = SubscriptionStatus.UNSUBSCRIBED
    subscription.version = (subscription.version or 0) + 1  # earlier confirm links stop working
    subscription.unsubscribed_at = utcnow()
    subscription.unsubscribe_reason = single_line(reason, 200) or None
    db.session.execute(
        sa.delete(Delivery)
        .where(
            Delivery.subscriber_id == subscription.subscriber_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.issue_id.in_(sa.select(Issue.id).where(Issue.list_id == subscription.list_id)),
        )
        # No delivery is loaded here: nothing in the session to bring up to date (which
        # would cost a SELECT of the rows first).
        .execution_options(synchronize_session=False)
    )


class PreferenceError(NewsletterError, ValueError):
    """A time zone, language or delivery mode we cannot use; `field` says which, and
    `list_id` whose delivery it was."""

    list_id: int | None = None


def check_time_zone(zone: str | None) -> str | None:
    """An IANA zone name ("Asia/Tehran"), or None for the list's own."""
    zone = (zone or "").strip()
    if not zone:
        return None
    if not zones.valid(zone):
        raise PreferenceError(f"Unknown time zone: {zone[:64]}", field="time_zone")
    return zone


def _known_zone(zone: str | None) -> str | None:
    try:
        return check_time_zone(zone)
    except PreferenceError:
        return None  # the browser's guess is a convenience: a bad one refuses nothing


def check_locale(locale: str | None) -> str | None:
    """One of the languages we have (newsletter.i18n.LOCALES), or None for the list's."""
    locale = (locale or "").strip()
    if not locale:
        return None
    if locale not in LOCALES:
        raise PreferenceError(f"Unknown language: {locale[:16]}", field="locale")
    return locale


def check_delivery(mailing_list: MailingList, mode: str) -> str:
    """Digest, each post or both; each post only where the list sends posts on their own."""
    if mode not in set(DeliveryMode):
        raise PreferenceError(f"Unknown delivery mode: {str(mode)[:16]}", field="delivery")
    if mode != DeliveryMode.DIGEST and not mailing_list.each_post:
        raise PreferenceError(f"{mailing_list.name} sends only its digest.", field="delivery")
    return mode


def set_delivery(subscription: Subscription, mode: str) -> None:
    """check_delivery's mode, kept; a refusal names the list. The caller commits."""
    try:
        subscription.delivery = check_delivery(subscription.mailing_list, mode)
    except PreferenceError as refusal:
        refusal.list_id = subscription.list_id
        raise


def update_preferences(
    subscriber: Subscriber,
    name: str | None,
    wanted_list_ids: set[int],
    ip: str | None,
    *,
    time_zone: str | None = None,
    locale: str | None = None,
    delivery: dict[int, str] | None = None,
    lists_too: bool = True,
    tracking: bool | None = None,
) -> None:
    """Apply the preferences form: name, time zone, language, which public lists to be on
    and, per list, the digest or each post. None leaves a value as it is; an empty time zone
    or language means the list's. PreferenceError changes nothing. Without `lists_too` the
    subscriptions stay as they are. `tracking` False sends plain links and no open pixel."""
    zone, language = check_time_zone(time_zone), check_locale(locale)
    modes = {s.list_id: s for s in subscriber.subscriptions}
    for list_id, mode in (delivery or {}).items():
        if list_id in modes:
            set_delivery(modes[list_id], mode)
    if name is not None:
        subscriber.name = clean_name(name)
    if time_zone is not None:
        subscriber.timezone = zone
    if locale is not None:
        subscriber.locale = language
    if tracking is not None:
        subscriber.no_tracking = not tracking
    db.session.commit()
    if not lists_too:  # the API changes lists through subscribe and unsubscribe
        return
    offered = db.session.scalars(sa.select(MailingList).where(MailingList.public.is_(True)))
    current = {s.list_id: s for s in subscriber.subscriptions}
    for mailing_list in offered:
        subscription = current.get(mailing_list.id)
        active = subscription is not None and subscription.status == SubscriptionStatus.CONFIRMED
        if mailing_list.id in wanted_list_ids and not active:
            # The link proves the address, so no second confirmation is needed.
            subscribe(
                mailing_list, subscriber.email, ip=ip, source="preferences", preconfirmed=True
            )
        elif mailing_list.id not in wanted_list_ids and subscription and active:
            unsubscribe(subscription, "preferences", notify=False)


def stop_mail(subscriber: Subscriber, status: str) -> None:
    """Never mail this address again, from any list; pending deliveries are dropped at once.
    The caller commits."""
    subscriber.status = status
    _stopped([subscriber.id], [subscriber.email], status)


# Ids a statement names at most: SQLite takes 32,766 values in one.
CHUNK = 5000


def stop_mail_of(chosen: sa.Select, status: str) -> int:
    """stop_mail for every subscriber `chosen` (a select of subscribers' ids) names, set-wise:
    an editor may drop tens of thousands at once. Returns how many; the caller commits."""
    rows = db.session.execute(
        sa.select(Subscriber.id, Subscriber.email).where(Subscriber.id.in_(chosen))
    ).all()
    for start in range(0, len(rows), CHUNK):
        ids = [row.id for row in rows[start : start + CHUNK]]
        db.session.execute(
            sa.update(Subscriber).where(Subscriber.id.in_(ids)).values(status=status),
            execution_options={"synchronize_session": False},
        )
        _stopped(ids, [row.email for row in rows[start : start + CHUNK]], status)
    return len(rows)


def _stopped(ids: list[int], emails: list[str], status: str) -> None:
    suppression.suppress(*emails, reason=status)
    db.session.execute(
        sa.delete(Delivery).where(
            Delivery.subscriber_id.in_(ids), Delivery.status == DeliveryStatus.PENDING
        )
    )


def blocklist(subscriber: Subscriber) -> None:
    stop_mail(subscriber, SubscriberStatus.BLOCKLISTED)
    db.session.commit()


def reactivate(subscriber: Subscriber) -> None:
    """An editor vouches for an address again (a fixed mailbox, a mistaken block)."""
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.bounce_score, subscriber.bounce_score_at = 0.0, None
    suppression.lift(subscriber.email)
    db.session.commit()


def erase(subscriber: Subscriber) -> None:
    """Delete the subscriber with their subscriptions; only a hash of the address stays, on
    the suppression list, so nothing brings it back. Their copies, bounces and clicks stay
    in the issues' figures naming no one (the database blanks who they were), with what
    servers said of the address scrubbed from them; a copy not sent yet is not sent."""
    suppression.suppress(subscriber.email, reason="erased")
    forms = {subscriber.email}
    with contextlib.suppress(ValueError):  # an older row's address SMTP cannot carry
        forms.add(smtp_address(subscriber.email))
    for column, owner in ((Delivery.last_error, Delivery), (Bounce.detail, Bounce)):
        said = column
        for written in forms:
            said = sa.func.replace(said, written, ERASED)
        db.session.execute(
            sa.update(owner).where(owner.subscriber_id == subscriber.id).values({column: said})
        )
    db.session.delete(subscriber)
    db.session.flush()
    # After the delete, which waits for a ledger being written for them to commit: a
    # pending copy that names no one could never be sent, and its issue never finish.
    db.session.execute(
        sa.delete(Delivery).where(
            Delivery.subscriber_id.is_(None), Delivery.status == DeliveryStatus.PENDING
        )
    )
    db.session.commit()


# What an erased reader's address reads as in a server's words kept in the figures.
ERASED = "[erased]"
