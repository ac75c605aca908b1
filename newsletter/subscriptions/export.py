"""Subscribers as CSV, streamed in keyset pages so no list is ever loaded whole. Each key of
the subscribers' attributes is a column of its own, after the fixed ones.

And everything held about one subscriber as JSON, for a data request: the one file both an
editor's export and the reader's own download give."""

import csv
import io
import json
from collections.abc import Iterator

import sqlalchemy as sa
from flask import Response

from newsletter import bounce_history
from newsletter.extensions import db
from newsletter.fields import iso
from newsletter.models import Delivery, Issue, Subscriber, Subscription
from newsletter.subscriptions.shapes import subscriber_json

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
# What a row of the file is read from; a subscriber not on the list has None for the rest.
ROW = (
    Subscriber.id,
    Subscriber.email,
    Subscriber.name,
    Subscriber.status,
    Subscriber.created_at,
    Subscriber.no_tracking,
    Subscriber.timezone,
    Subscriber.locale,
    Subscriber.attributes,
    Subscription.status.label("subscription_status"),
    Subscription.confirmed_at,
    Subscription.consent_at,
    Subscription.consent_source,
    Subscription.consent_ip,
    Subscription.delivery,
)
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
        # Columns, not objects: the ORM's bookkeeping of two objects a row was two thirds of
        # an export's time (200,000 subscribers: 70 s).
        query = (
            sa.select(*ROW)
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
        for row in page:
            attributes = row.attributes or {}
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        row.email,
                        row.name,
                        row.status,
                        row.subscription_status,
                        _when(row.confirmed_at),
                        _when(row.consent_at),
                        row.consent_source,
                        row.consent_ip,
                        _when(row.created_at),
                        "true" if row.no_tracking else "false",
                        row.timezone,
                        row.locale,
                        row.delivery,
                        *(attribute_text(attributes.get(k)) for k in keys),
                    )
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1].id


# Copies and bounces a data request lists at most.
DATA_ROWS = 10_000


def deliveries_of(subscriber: Subscriber, limit: int = 50):
    """(subject, number, status, sent_at, last_error) of the subscriber's copies, newest first."""
    return db.session.execute(
        sa.select(
            Issue.subject, Issue.number, Delivery.status, Delivery.sent_at, Delivery.last_error
        )
        .join(Issue, Issue.id == Delivery.issue_id)
        .where(Delivery.subscriber_id == subscriber.id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    ).all()


def subscriber_data(subscriber: Subscriber) -> dict:
    """Everything held about one subscriber."""
    return subscriber_json(subscriber) | {
        "deliveries": [
            {
                "issue": subject,
                "number": number,
                "status": status,
                "sent_at": iso(sent_at),
                "last_error": error,
            }
            for subject, number, status, sent_at, error in deliveries_of(subscriber, DATA_ROWS)
        ],
        "bounces": [
            {
                "received_at": iso(at),
                "kind": kind,
                "reason": reason,
                "detail": detail,
                "source": source,
                "issue": n,
            }
            for at, kind, reason, detail, source, n in bounce_history.for_subscriber(
                subscriber.id, limit=DATA_ROWS
            )
        ],
        "bounce_score": subscriber.bounce_score,
    }


def data_download(subscriber: Subscriber) -> Response:
    """subscriber_data as a file to save, kept out of every cache on the way."""
    return Response(
        json.dumps(subscriber_data(subscriber), ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f"attachment; filename=subscriber-{subscriber.id}.json",
            "Cache-Control": "no-store",
        },
    )
