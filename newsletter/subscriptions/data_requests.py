"""What a reader asks about their own data from the preferences page: a copy, or erasure.

The preferences link sits in every email, and emails are forwarded, so neither is done
there: a link that does it is emailed to the subscriber's own address (notices.py), and only
that link opens the data or the erase page (links.DATA, links.ERASE).
"""

from __future__ import annotations

from flask import current_app
from limits import RateLimitItemPerDay, RateLimitItemPerMinute

from newsletter import jobs
from newsletter.extensions import limiter
from newsletter.models import Subscription
from newsletter.statuses import SubscriberStatus

# The notices (notices.py) these requests send, each a kind of its own.
KINDS = ("data", "erase")


def email_link(subscription: Subscription, kind: str) -> bool:
    """Queue the email with the link for `kind` to the subscriber's address, in the
    language and from the sender of the subscription's list. False when none is sent: one
    of that kind went out within PRIVACY_EMAIL_EVERY_MINUTES, PRIVACY_EMAILS_A_DAY did
    within a day, or the address is suppressed (never mailed again). The page asking
    answers the same either way."""
    assert kind in KINDS, kind
    if subscription.subscriber.status != SubscriberStatus.ACTIVE:
        return False
    minutes = current_app.config["PRIVACY_EMAIL_EVERY_MINUTES"]
    a_day = current_app.config["PRIVACY_EMAILS_A_DAY"]
    # A forwarded email's preferences link is enough to ask, so the day's cap bounds what a
    # stranger can make a reader's mailbox receive; 0 turns either limit off.
    held = [RateLimitItemPerMinute(1, minutes)] if minutes else []
    held += [RateLimitItemPerDay(a_day)] if a_day else []
    keys = ("privacy-email", kind, str(subscription.subscriber_id))
    # Counted where the sign-in throttle counts (Redis when there is one): every web
    # process sees the same count. Each taken with one hit, which tests and takes at once:
    # a test, then a hit, let two requests at the same moment both through. The ten minutes
    # first: a request they refuse uses none of the day's.
    if not all(limiter.limiter.hit(item, *keys) for item in held):
        return False
    jobs.send_notice.delay(kind, subscription.id)
    return True


def link_hours() -> int:
    """How many hours the emailed links work, as the emails and the pages say it (a
    template global)."""
    return max(1, round(current_app.config["PRIVACY_LINK_MAX_AGE"] / 3600))
