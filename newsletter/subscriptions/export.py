"""Subscribers as CSV, streamed in keyset pages so no list is ever loaded whole."""

import csv
import io
from collections.abc import Iterator

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Subscriber, Subscription

EXPORT_PAGE = 1000


def _when(moment) -> str:
    return moment.isoformat() if moment else ""  # stored times come back in UTC


def _cell(value) -> str:
    """Spreadsheets run cells that start with these as formulas."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(list_id: int | None, status: str | None) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "email",
            "name",
            "status",
            "subscription_status",
            "confirmed_at",
            "consent_at",
            "consent_source",
            "consent_ip",
            "created_at",
        ]
    )
    after = 0
    while True:
        query = (
            sa.select(Subscriber, Subscription)
            .outerjoin(
                Subscription,
                sa.and_(
                    Subscription.subscriber_id == Subscriber.id, Subscription.list_id == list_id
                ),
            )
            .where(Subscriber.id > after)
            .order_by(Subscriber.id)
            .limit(EXPORT_PAGE)
        )
        if list_id is not None:
            query = query.where(Subscription.id.is_not(None))
        if status:
            query = query.where(Subscriber.status == status)
        page = db.session.execute(query).all()
        for subscriber, subscription in page:
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        subscriber.email,
                        subscriber.name,
                        subscriber.status,
                        subscription.status if subscription else "",
                        _when(subscription.confirmed_at) if subscription else "",
                        _when(subscription.consent_at) if subscription else "",
                        subscription.consent_source if subscription else "",
                        subscription.consent_ip if subscription else "",
                        _when(subscriber.created_at),
                    )
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1][0].id
