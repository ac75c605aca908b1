"""Subscribers as CSV, streamed in keyset pages so no list is ever loaded whole. Each key of
the subscribers' attributes is a column of its own, after the fixed ones."""

import csv
import io
import json
from collections.abc import Iterator

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import Subscriber, Subscription

EXPORT_PAGE = 1000
COLUMNS = [
    "email",
    "name",
    "status",
    "subscription_status",
    "confirmed_at",
    "consent_at",
    "consent_source",
    "consent_ip",
    "created_at",
    "no_tracking",
    "time_zone",
    "locale",
    "delivery",
]
# The subscriber's own choices among them, which an import of the file keeps.
CHOICES = ("time_zone", "locale", "delivery")


def _when(moment) -> str:
    return moment.isoformat() if moment else ""  # stored times come back in UTC


# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """The value in a cell no spreadsheet runs: an apostrophe before a formula's start."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def uncelled(text: str) -> str:
    """A cell's value as it was before _cell: what a file exported here imports back as."""
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text


def _chosen(query, list_id: int | None, status: str | None):
    if list_id is not None:
        query = query.where(
            sa.exists().where(
                Subscription.subscriber_id == Subscriber.id, Subscription.list_id == list_id
            )
        )
    return query.where(Subscriber.status == status) if status else query


def attribute_keys(list_id: int | None, status: str | None) -> list[str]:
    """Every key in the chosen subscribers' attributes, in one set-wise query."""
    attributes = Subscriber.attributes
    if db.session.get_bind().dialect.name == "postgresql":
        keys = _chosen(
            sa.select(sa.func.json_object_keys(attributes).label("key")).where(
                sa.func.json_typeof(attributes) == "object"
            ),
            list_id,
            status,
        ).subquery()
    else:  # SQLite, for a quick local try
        each = sa.func.json_each(attributes).table_valued("key")
        # json_each reads the row before it (SQLite's table-valued functions join so): a
        # join on true, which SQLAlchemy does not take for a cartesian product.
        rows = sa.select(each.c.key).select_from(Subscriber).join(each, sa.true())
        keys = _chosen(rows, list_id, status)
        keys = keys.subquery()
    return list(db.session.scalars(sa.select(keys.c.key).distinct().order_by(keys.c.key)))


def attribute_text(value) -> str:
    """An attribute's value in a cell: text as it is, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value or ""
    return json.dumps(value, ensure_ascii=False)


def csv_rows(list_id: int | None, status: str | None, for_excel: bool = False) -> Iterator[str]:
    """The CSV, page by page. `for_excel`: with UTF-8's byte-order mark in front, without which
    Excel opens a CSV in the system's legacy code page and shows Persian names garbled (our
    import takes the mark off again)."""
    if for_excel:
        yield "\ufeff"
    out = io.StringIO()
    writer = csv.writer(out)
    keys = attribute_keys(list_id, status)
    # A key named like a fixed column keeps both, told apart; a key is a cell too, which a
    # spreadsheet would run ('=HYPERLINK(…)' as a column name).
    writer.writerow(COLUMNS + [_cell(f"attribute_{k}" if k in COLUMNS else k) for k in keys])
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
                        "true" if subscriber.no_tracking else "false",
                        subscriber.timezone or "",
                        subscriber.locale or "",
                        subscription.delivery if subscription else "",
                        *(attribute_text((subscriber.attributes or {}).get(k)) for k in keys),
                    )
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1][0].id
