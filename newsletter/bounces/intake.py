"""What a bounce or complaint does: record it against its delivery and act on the subscriber.

What it does follows the kind of its reason (verdict.REASONS):
- hard: the address is dead; mail to it stops at once, unless an issue's copies come back
  dead en masse, which is our fault (breaker.py).
- soft: one added to a score that halves every NEWSLETTER_BOUNCE_HALF_LIFE days; reaching
  NEWSLETTER_BOUNCE_THRESHOLD stops mail too, so a mailbox full for a month of weekly issues
  is given up, a full day is not (a day's soft bounces count once). A delay warning (still
  queued) is recorded and adds nothing.
- sender: the receiving side refuses our mail, which is no fault of the subscriber's. Recorded
  against its receiving domain; too many from one domain hold its copies back, and several
  domains held pause the issue (refusals.py).
- complaint: the subscriber is unsubscribed from every list.
- none (auto-replies, delivery notices): nothing.
Whenever mail stops, the address is suppressed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from newsletter import links, macs, message_ids, verp
from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.bounces import breaker, leaving, refusals
from newsletter.bounces.reports import classify, judge_refusal
from newsletter.bounces.verdict import REASONS, Failure, Verdict
from newsletter.extensions import db, writer_first
from newsletter.models import Bounce, Delivery, Issue, Subscriber, utcnow
from newsletter.statuses import BounceKind, DeliveryStatus, SubscriberStatus, SubscriptionStatus
from newsletter.subscriptions import service
from newsletter.text import storable

log = logging.getLogger(__name__)

# Where a bounce came from, besides the bounce server's and mailboxes' schemes: a refusal
# met while sending.
SENDING = "send"
# What a refusal at RCPT TO while sending may say of the address it refused.
# Every dead address's reason (verdict.REASONS' hard ones), and the mailbox's own states.
OF_THE_ADDRESS = {reason for reason, kind in REASONS.items() if kind == BounceKind.HARD} | {
    "mailbox_full",
    "mailbox_disabled",
    "receiving_too_fast",
}
# A proof (the admin's "send a test") goes out as delivery 0, to an editor: no copy of ours.
PROOF = 0


def take(raw: bytes, envelope_recipients: list[str], source: str) -> list[Bounce]:
    """Read one message and act on it; the caller's transaction is committed here."""
    if leaving.take(raw, envelope_recipients):
        return []  # someone leaving by email, not a report
    try:
        verdict = classify(raw)
    except Exception:  # the sender cannot fix what it sent: retrying would not help
        log.exception("an unreadable message was dropped")
        return []
    targets = _targets(verdict, envelope_recipients)
    if not targets:
        log.info("not a bounce, or about nobody we know (%s)", verdict.reason or "no reason")
    return _act(targets, source)


def take_refusals(refused: list[tuple[int, int, str]]) -> list[Bounce]:
    """Act on the refusals of RCPT TO that failed copies for good while sending, given as
    (delivery id, reply code, the server's words): a dead address met at the door stops
    as one a report names does, counted by the mass-bounce guard alike."""
    deliveries = db.session.scalars(
        sa.select(Delivery)
        .where(Delivery.id.in_([delivery_id for delivery_id, _, _ in refused]))
        .options(joinedload(Delivery.subscriber))
    )
    by_id = {delivery.id: delivery for delivery in deliveries}
    targets = []
    for delivery_id, code, said in refused:
        delivery = by_id.get(delivery_id)
        if delivery is not None and delivery.subscriber is not None:
            failure = judge_refusal(delivery.subscriber.email, code, said)
            # Only what it says of the address: the server is our relay, whose own trouble
            # (its system, its refusal to relay, our sender or message) is the issue's,
            # which its pause tells the editors.
            if failure.reason in OF_THE_ADDRESS:
                targets.append((delivery.subscriber, delivery, failure))
    return _act(targets, SENDING)


def _act(targets: list, source: str) -> list[Bounce]:
    """Record and act on each (subscriber, delivery, failure); committed."""
    # In the order of their copies: two reports locking the same ones never wait on each other.
    targets = sorted(targets, key=lambda target: target[1].id if target[1] else 0)
    bounces = [
        _apply(subscriber, delivery, failure, source) for subscriber, delivery, failure in targets
    ]
    bounces = [b for b in bounces if b is not None]
    refused = refusals.of(bounces)  # read before the commit expires them
    due = breaker.tally(bounces)
    db.session.commit()
    # Counted once committed, so racing reports add up.
    refusals.pause_if_piling_up(refused)
    breaker.check(due)
    return bounces


def _targets(verdict: Verdict, envelope_recipients: list[str]):
    """(subscriber, delivery, failure) for each subscriber the report is about.

    The return path (VERP: the report's, then the quoted original's) says it for sure; then
    the quoted Message-ID; then the addresses the report names, each with its own failure,
    unless the return paths are ours (a bounce domain), which a real report carries.
    Addresses that are no subscriber's blame nobody.
    """
    return_paths = envelope_recipients + verdict.delivered_to + verdict.return_paths
    by_path, by_message_id = _copies_named(return_paths, verdict.message_ids)
    if PROOF in by_path + by_message_id:
        return []  # an editor's test: no reader's copy, whatever address it names
    named = _delivery_by_return_path(by_path) or _delivery_by_message_id(by_message_id)
    if named is not None:
        subscriber = named.subscriber
        if subscriber is None:  # an erased reader's copy: no one to act on, nothing to keep
            return []
        if verdict.of_their_own_mail:
            return []  # our copy reached them; what failed was mail of their own
        failure = _own(verdict, subscriber.email) or Failure(subscriber.email, verdict.reason)
        return [(subscriber, named, failure)] if failure.kind != "none" else []
    linked = _by_unsubscribe_link(verdict) if verdict.kind == BounceKind.COMPLAINT else None
    if linked is not None:
        complainer, list_id = linked
        return [(complainer, None, LinkedComplaint(complainer.email, "complaint", list_id=list_id))]
    failures = {as_stored(f.address): f for f in verdict.recipients if f.kind != "none"}
    if failures and verp.enabled() and not current_app.config["BOUNCES_BY_ADDRESS"]:
        # Every bounce of our mail comes back to its return path; this may be a forgery.
        log.warning(
            "a report naming %d address(es) carries no return path or Message-ID of ours: "
            "not acted on (NEWSLETTER_BOUNCES_BY_ADDRESS)",
            len(failures),
        )
        return []
    subscribers = _subscribers(set(failures))
    if verdict.kind == BounceKind.COMPLAINT:
        # One reader complained: the first named that is one, the address we sent the copy
        # to before where it was forwarded (complaints.complaint_recipients).
        order = list(failures)
        subscribers = sorted(subscribers, key=lambda s: order.index(s.email))[:1]
    return [
        (subscriber, _last_delivery(subscriber), failures[subscriber.email])
        for subscriber in subscribers
    ]


def _own(verdict: Verdict, email: str) -> Failure | None:
    """The failure of the subscriber the return path names, where the report names them;
    else the one that sets its kind. Another address in a server's words ("register your IP
    to spammaster@...", our own From) is no second recipient of a copy sent to one."""
    own = Verdict(recipients=[f for f in verdict.recipients if as_stored(f.address) == email])
    return own.main or verdict.main


def as_stored(address: str) -> str:
    """An address as a report writes it, in the form subscribers are kept in: servers write
    an internationalised domain in its ASCII form (xn--...), we keep it in Unicode."""
    address = address.strip("<> ")
    try:
        return normalise_email(address)
    except InvalidEmail:
        return address.lower()


@dataclass
class LinkedComplaint(Failure):
    """A complaint whose reader only one list's unsubscribe link names: it speaks for that
    list alone, as the link does (whoever holds a forwarded copy holds the link)."""

    list_id: int | None = None


def _by_unsubscribe_link(verdict: Verdict) -> tuple[Subscriber, int] | None:
    """The reader a complaint is about and the list, by the unsubscribe link of the mail
    they marked as spam where it was no issue's copy (the welcome) or where their forward
    keeps no Message-ID: its token is theirs, signed. Not where it quotes a copy's
    Message-ID that failed its check: a forgery."""
    if any(message_ids.in_our_form(message_id) for message_id in verdict.message_ids):
        return None
    for value in verdict.unsubscribe_links:
        for url in re.findall(r"<(https?://[^<>\s]+)>", value):
            try:
                target = links.read(links.UNSUBSCRIBE, url.rstrip("/").rsplit("/", 1)[-1])
            except links.TokenError:
                continue
            subscriber = db.session.get(Subscriber, target.subscriber_id)
            return (subscriber, target.list_id) if subscriber is not None else None
    return None


def _copies_named(return_paths: list[str], quoted: list[str]) -> tuple[list[int], list[int]]:
    """The deliveries our return paths (VERP) and our quoted Message-IDs name, MACs checked,
    in the order they come."""
    secrets = macs.keys(current_app.config)
    by_path = [verp.delivery_id(a) for a in return_paths] if verp.enabled() else []
    by_message_id = [message_ids.delivery_id(m, secrets) for m in quoted]
    return (
        [n for n in by_path if n is not None],
        [n for n in by_message_id if n is not None],
    )


def _delivery_by_return_path(delivery_ids: list[int]) -> Delivery | None:
    if not delivery_ids:
        return None
    # With what the breaker asks of its issue (holding, tally), in one round trip.
    issue = joinedload(Delivery.issue).load_only(
        Issue.mass_bounce, Issue.started_at, Issue.resumed_at
    )
    options = [joinedload(Delivery.subscriber), issue]
    return db.session.get(Delivery, delivery_ids[0], options=options)


def _delivery_by_message_id(delivery_ids: list[int]) -> Delivery | None:
    for delivery_id in delivery_ids:
        delivery = db.session.get(Delivery, delivery_id)
        if delivery:
            return delivery
    return None


def _subscribers(addresses: set[str]) -> list[Subscriber]:
    if not addresses:
        return []
    return list(db.session.scalars(sa.select(Subscriber).where(Subscriber.email.in_(addresses))))


def _last_delivery(subscriber: Subscriber) -> Delivery | None:
    return db.session.scalar(
        sa.select(Delivery)
        .where(Delivery.subscriber_id == subscriber.id, Delivery.status == DeliveryStatus.SENT)
        .order_by(Delivery.sent_at.desc())
        .limit(1)
    )


def _apply(
    subscriber: Subscriber, delivery: Delivery | None, failure: Failure, source: str
) -> Bounce | None:
    kind, delayed = failure.kind, failure.reason == "delayed"
    if delivery is not None:
        # Locked: the same report may come in on several connections at once (a sender
        # retrying while our first answer is on its way): 8 at once were recorded 6 times.
        writer_first(Delivery, delivery.id)
        db.session.execute(
            sa.select(Delivery.id).where(Delivery.id == delivery.id).with_for_update()
        )
    if delivery and _seen(delivery.id, kind, delayed):
        # Once a message: a server's second "still trying", a report fetched again from a
        # mailbox (counted twice, a dead address's could trip the mass-bounce guard, or
        # stop a reader an editor has since vouched for)
        return None
    bounce = Bounce(
        subscriber_id=subscriber.id,
        delivery=delivery,
        issue_id=delivery.issue_id if delivery else None,  # its issue's figures count it
        kind=kind,
        reason=failure.reason[:32],
        status=storable(failure.status)[:16],
        domain=storable(as_stored(failure.address or subscriber.email)).rpartition("@")[2][:255],
        # The server's words, which may hold anything (a NUL once failed the report for good).
        detail=" ".join(storable(failure.diagnostic or failure.status).split())[:500],
        source=source,
    )
    db.session.add(bounce)
    if subscriber.status == SubscriberStatus.ACTIVE and not _confirmed_since(subscriber, delivery):
        if kind == BounceKind.HARD and not breaker.holding(delivery):
            service.stop_mail(subscriber, SubscriberStatus.BOUNCED)
        elif kind == BounceKind.SOFT and not delayed and add_soft_bounce(subscriber, utcnow()):
            service.stop_mail(subscriber, SubscriberStatus.BOUNCED)
    if kind == BounceKind.COMPLAINT:
        _complained(subscriber, failure.list_id if isinstance(failure, LinkedComplaint) else None)
    # The reason and status, not the server's words, which name the address: the log is no
    # place for it (the subscriber's page shows them to the editors).
    log.info(
        "%s bounce (%s, %s) for subscriber %s",
        kind,
        failure.reason,
        bounce.status or "no status",
        subscriber.id,
    )
    return bounce


def _complained(subscriber: Subscriber, list_id: int | None) -> None:
    """Every list left and the address stopped for good; a complaint that only one list's
    unsubscribe link names does what that link does: anyone a reader forwarded an issue
    to holds it, and could otherwise have them stopped everywhere for ever."""
    for subscription in subscriber.subscriptions:
        if subscription.status != SubscriptionStatus.UNSUBSCRIBED and list_id in (
            None,
            subscription.list_id,
        ):
            service.mark_unsubscribed(subscription, "complaint")
    if list_id is None:
        service.stop_mail(subscriber, SubscriberStatus.COMPLAINED)


def _confirmed_since(subscriber: Subscriber, delivery: Delivery | None) -> bool:
    """Whether the reader confirmed a subscription after this copy went out: their mailbox
    took our mail since, so a late report of the copy says nothing of it now."""
    sent = delivery.sent_at if delivery is not None else None
    return sent is not None and any(
        s.confirmed_at is not None and s.confirmed_at > sent for s in subscriber.subscriptions
    )


def _seen(delivery_id: int, kind: str, delayed: bool) -> bool:
    """Whether this delivery already has a bounce of this kind; a delay warning does not
    hide the failure that may follow it."""
    was_delayed = Bounce.reason == "delayed"
    return bool(
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Bounce.delivery_id == delivery_id,
                Bounce.kind == kind,
                was_delayed if delayed else ~was_delayed,
            )
        )
    )


def add_soft_bounce(subscriber: Subscriber, now: datetime) -> bool:
    """Decay the score to now, add one; True when it reached the threshold. A day counts
    once: a list that sends each post may send three in a day to a mailbox full that day."""
    config = current_app.config
    score = subscriber.bounce_score or 0.0
    last = subscriber.bounce_score_at
    if last is not None and last.date() == now.date() and score > 0:
        return score >= config["BOUNCE_THRESHOLD"]
    if last is not None:
        # Whole days: the score moves a day at a time.
        days = max((now - last).days, 0)
        score *= 0.5 ** (days / config["BOUNCE_HALF_LIFE"])
    subscriber.bounce_score, subscriber.bounce_score_at = score + 1.0, now
    return subscriber.bounce_score >= config["BOUNCE_THRESHOLD"]
