"""How a subscriber is written out: by the API, and by the admin's data-request export."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from newsletter.fields import iso
from newsletter.models import Subscriber, Subscription


def with_subscriptions(select: sa.Select) -> sa.Select:
    """A page of subscribers with what subscriber_json and the admin's search show of them,
    their subscriptions and those lists: one more statement for the page, not two for each
    subscriber on it."""
    return select.options(
        selectinload(Subscriber.subscriptions).joinedload(Subscription.mailing_list)
    )


def subscriber_json(subscriber: Subscriber) -> dict:
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status,
        "attributes": subscriber.attributes or {},
        "time_zone": subscriber.timezone,
        "locale": subscriber.locale,
        # Plain links and no open pixel in this subscriber's copies.
        "no_tracking": subscriber.no_tracking,
        "created_at": iso(subscriber.created_at),
        "subscriptions": [
            {
                "list": s.mailing_list.slug,
                "status": s.status,
                "delivery": s.delivery,
                "consent_at": iso(s.consent_at),
                "consent_ip": s.consent_ip,
                "consent_source": s.consent_source,
                "consent_user_agent": s.consent_user_agent,
                "confirmed_at": iso(s.confirmed_at),
                "unsubscribed_at": iso(s.unsubscribed_at),
            }
            for s in subscriber.subscriptions
        ],
    }
