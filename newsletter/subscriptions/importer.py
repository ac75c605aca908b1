"""CSV import of subscribers: streamed from the database, validated row by row, written
set-wise."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql

from newsletter import jobs, suppression
from newsletter.addresses import InvalidEmail, normalise_email
from newsletter.errors import NewsletterError
from newsletter.extensions import db, insert_or
from newsletter.models import (
    Import,
    MailingList,
    Subscriber,
    Subscription,
    UTCDateTime,
    utcnow,
)
from newsletter.statuses import DeliveryMode, ImportStatus, SubscriberStatus, SubscriptionStatus
from newsletter.subscriptions import columns, csv_reading, export, uploads
from newsletter.subscriptions.service import clean_name

CHUNK = 2000
ERRORS_KEPT = 1000
# An upload nobody started within this long is deleted: its addresses are not kept for ever.
STAGED_FOR = timedelta(days=1)
# A row with a longer field is rejected, and only that row. It is csv's own default limit, so
# every row that was imported before still is.
FIELD_LIMIT = 131_072
# csv's limit ends the whole file with an error: it is raised (for the process; this is its
# only csv reader) so that a long field is read whole and its row alone is rejected.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
NOT_UTF8 = (
    "text that is not UTF-8 (or the encoding chosen): save the file as UTF-8, or choose how"
    " it was saved when importing, and import this row again"
)
NOT_A_YES_OR_NO = "no_tracking must be true or false (yes or no)"


class UnreadableFile(NewsletterError, ValueError):
    """The file cannot be imported at all (not CSV, no email column)."""


def stage_import(
    mailing_list: MailingList, upload, preconfirm: bool, encoding: str | None = None
) -> Import:
    """Keep the upload in the database, where any worker on any host can read it; it waits
    for a column mapping or start_import."""
    forget_abandoned()
    record = Import(
        list_id=mailing_list.id,
        preconfirm=preconfirm,
        encoding=_encoding(encoding),
        path=(upload.filename or "")[:500],
        errors=[],
        status=ImportStatus.STAGED,
    )
    db.session.add(record)
    db.session.flush()
    uploads.store(record.id, upload.stream)
    db.session.commit()
    return record


def abandoned(now: datetime):
    """Uploads staged more than STAGED_FOR ago and never started."""
    return sa.and_(Import.status == ImportStatus.STAGED, Import.created_at < now - STAGED_FOR)


def forget_abandoned() -> int:
    """Abandoned uploads fail, and their files are deleted; the pieces deleted."""
    now = utcnow()
    deleted = 0
    for record in db.session.scalars(sa.select(Import).where(abandoned(now))).all():
        deleted += uploads.delete(record.id)
        record.status = ImportStatus.FAILED
        record.finished_at = now
        record.errors = [{"row": None, "email": "", "reason": "Not started within a day."}]
    return deleted


def queue_import(
    record: Import, mapping: dict[str, str] | None = None, encoding: str | None = None
) -> None:
    """Start a staged import, with the file's columns mapped and its encoding as the editor
    chose (None: found in the file)."""
    if record.status != ImportStatus.STAGED:
        raise UnreadableFile(f"This import is {record.status} already.")
    if mapping is not None and list(mapping.values()).count("email") != 1:
        raise UnreadableFile("Choose exactly one column for the email address.")
    record.mapping = mapping
    record.encoding = _encoding(encoding) or record.encoding
    record.status = ImportStatus.QUEUED
    db.session.commit()
    jobs.run_import.delay(record.id)


def start_import(
    mailing_list: MailingList, upload, preconfirm: bool, encoding: str | None = None
) -> Import:
    """Save and queue at once (the API's import), its columns read as the mapping screen
    would first guess them: "Email Address", "ایمیل", a given and a family name. Read by
    their headings alone, those were attributes, and the name was left empty."""
    record = stage_import(mailing_list, upload, preconfirm, encoding)
    try:
        found = preview(record)
    except (UnreadableFile, UnicodeError):
        found = None  # the job says why the file cannot be read, in the import's report
    guessed = columns.guess_mapping(found.header, found.rows) if found else {}
    queue_import(record, guessed if list(guessed.values()).count("email") == 1 else None)
    return record


def _encoding(encoding: str | None) -> str | None:
    if encoding and encoding not in csv_reading.NAMES:
        raise UnreadableFile(
            f"Unknown encoding {encoding!r}: choose one of {', '.join(csv_reading.NAMES)}.",
            field="encoding",
        )
    return encoding or None


def _read_as(record: Import, raw, chosen: str | None = None) -> str:
    """The encoding a record's file is read in: as chosen now, as chosen before, or as
    found in the file."""
    return _encoding(chosen) or record.encoding or csv_reading.encoding_of(raw.peek())


# Spreadsheets saved as themselves, by their first bytes: read as text, their columns were
# one of zip's binary, and the mapping screen asked for an email column in it.
WORKBOOKS = {b"PK\x03\x04": ".xlsx or .ods", b"\xd0\xcf\x11\xe0": ".xls"}


def _reader(raw, encoding: str | None) -> csv.DictReader:
    start = raw.peek(8)[:4]
    if start in WORKBOOKS:
        raise UnreadableFile(
            f"This is a spreadsheet workbook ({WORKBOOKS[start]}), not a CSV file. Save it as "
            "CSV (in Excel: File, Save As, CSV UTF-8) and import that."
        )
    reader = csv_reading.reader(raw, encoding, columns.headings)
    if not reader.fieldnames:
        raise UnreadableFile("The file is empty.")
    return reader


class Preview(NamedTuple):
    header: list[str]
    rows: list[list[str]]
    encoding: str  # as chosen, or as found in the file
    # Cells beyond ASCII further down, where the first rows have none: how they read.
    written: list[str]


def preview(record: Import, encoding: str | None = None, count: int = 5) -> Preview:
    """The header and the first rows, for the mapping screen, in `encoding` or the record's
    (None: as found in the file)."""
    with uploads.read(record.id) as raw:
        encoding = _read_as(record, raw, encoding)
        reader = _reader(raw, encoding)
        header = [(name or "").strip() for name in reader.fieldnames]
        rows = [
            [row.get(name) or "" for name in reader.fieldnames]
            for _, row in zip(range(count), reader, strict=False)
        ]
        shown = any(not cell.isascii() for row in rows for cell in row)
        written = [] if shown else _written(reader)
    return Preview(header, rows, encoding, written)


def _written(reader: csv.DictReader, rows: int = 2000, most: int = 5) -> list[str]:
    found: list[str] = []
    for _, row in zip(range(rows), reader, strict=False):
        found += [cell for cell in row.values() if isinstance(cell, str) and not cell.isascii()]
        if len(found) >= most:
            break
    return found[:most]


# A row as read: its number in the file, its fields by mapped name, and why it cannot be
# imported whatever its address (None when it can).
Row = tuple[int, dict, str | None]
# A row to import: its number, name, attributes and whether tracking is off.
# Its own choices too: time zone, language and delivery (None where the file gives none).
Valid = tuple[int, str, dict, bool, columns.Choices]


def _rows(raw, mapping: dict[str, str] | None, encoding: str | None) -> Iterator[Row]:
    reader = _reader(raw, encoding)
    names = [(name or "").strip() for name in reader.fieldnames]
    if mapping:
        names = [mapping.get(name, "ignore") for name in names]
    reader.fieldnames = [name.lower() for name in names]
    if "email" not in reader.fieldnames:
        raise UnreadableFile("The file has no 'email' column.")
    families = "family_name" in reader.fieldnames
    number = reader.first_line - 1  # a heading line, Excel's "sep=" line, or none
    while True:
        number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # this row only; the reader goes on at the next line
            yield number, {}, f"unreadable row: {exc}"
            continue
        if not any(isinstance(v, str) and v.strip() for v in row.values()):
            continue  # ",,,": a spreadsheet's empty row, no one's, and no mistake to report
        row.pop("ignore", None)
        email = row.get("email")
        if email and ">" in email:  # written with its name
            name, row["email"] = columns.split_address(email)
            if name and not (row.get("name") or "").strip():
                row["name"] = name
        if families:  # a given name and a family name: one name, in that order
            family = (row.pop("family_name", None) or "").strip()
            row["name"] = " ".join(filter(None, [(row.get("name") or "").strip(), family]))
        yield number, row, _problem(row)


def _attributes(row: dict) -> dict:
    """A row's own data: its other columns, each an attribute, with listmonk's "attributes"
    column, a JSON object, opened up into its own (a column beside it wins)."""
    known = columns.KNOWN
    kept = {_attribute(k): export.uncelled(v) for k, v in row.items() if k not in known and k and v}
    opened = _json_object(kept.get("attributes"))
    if opened:
        del kept["attributes"]
    return {**opened, **kept} if opened else kept


def _json_object(cell: str | None) -> dict:
    if not (cell or "").lstrip().startswith("{"):
        return {}
    try:
        found = json.loads(cell)
    except (ValueError, RecursionError):  # not JSON, or nested past reading: a plain value
        return {}
    return {str(k): v for k, v in found.items()} if isinstance(found, dict) else {}


def _attribute(column: str) -> str:
    """An attribute's name: our export writes one named like its own columns apart."""
    column = export.uncelled(column)
    name = column.removeprefix("attribute_")
    return name if name in export.COLUMNS else column


def _problem(row: dict) -> str | None:
    """A field too long, or bytes that were not UTF-8 (read as U+FFFD), in a field kept, or
    a no_tracking that is neither yes nor no."""
    if (row.get("no_tracking") or "").strip().lower() not in columns.YES | columns.NO:
        return NOT_A_YES_OR_NO
    for name, value in row.items():
        if not name or value.__class__ is not str:
            continue  # cells beyond the header, and missing ones, are not kept
        if len(value) > FIELD_LIMIT:
            return f"the {name} field is longer than {FIELD_LIMIT} characters"
        if "\ufffd" in value:
            return NOT_UTF8
    return None


def _chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert_ignoring_duplicates(model, rows: list[dict]) -> None:
    """INSERT … ON CONFLICT DO NOTHING, in the dialect of the database in use."""
    if not rows:
        return
    db.session.execute(insert_or(model).on_conflict_do_nothing(), rows)


def _among(column, values: list, item_type) -> sa.ColumnElement[bool]:
    """column IN values; on PostgreSQL one array parameter instead of one per value."""
    if db.engine.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(item_type)))
    return column.in_(values)


# Local parts that email-validator accepts as they are (RFC 5322 dot-atom, ASCII only).
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_DOT_ATOM = re.compile(f"[{_ATEXT}]+(?:\\.[{_ATEXT}]+)*")


class _Addresses:
    """normalise_email, with email-validator run once per domain rather than once per row.

    For an ASCII address whose local part is a plain dot-atom, email-validator's verdict
    depends only on the domain and on the lengths (the whole's, and the local part's 64
    octets, RFC 5321 4.5.3.1.1), and its normal form is the address in
    lower case when the domain's is. Such domains, once accepted, skip the validator;
    every other address, and every rejection, still goes through normalise_email.
    """

    def __init__(self):
        self.domains: set[str] = set()

    def normalise(self, raw: str) -> str:
        local, _, domain = raw.partition("@")
        short = len(raw) <= 254 and len(local) <= 64
        if domain in self.domains and short and _DOT_ATOM.fullmatch(local):
            return raw.lower()
        email = normalise_email(raw)
        if raw.isascii() and email == raw.lower() and _DOT_ATOM.fullmatch(local):
            self.domains.add(domain)
        return email


class _Run:
    def __init__(self, record: Import):
        self.record = record
        self.addresses = _Addresses()
        self.seen: set[bytes] = set()  # digests, not addresses: small even for a million rows
        self.errors: list[dict] = list(record.errors or [])
        self.each_post = db.session.get(MailingList, record.list_id).each_post

    def reject(self, number: int, email: str, reason: str) -> None:
        self.record.rejected += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"row": number, "email": email[:254], "reason": reason})

    def valid_rows(self, chunk) -> dict[str, Valid]:
        valid = {}
        normalise, seen = self.addresses.normalise, self.seen
        for number, row, problem in chunk:
            raw = (row.get("email") or "").strip()
            if problem:
                self.reject(number, raw, problem)
                continue
            if not raw:
                self.reject(number, "", "missing email")
                continue
            try:
                email = normalise(raw)
            except InvalidEmail as exc:
                self.reject(number, raw, f"invalid address: {exc}")
                continue
            digest = hashlib.blake2b(email.encode(), digest_size=8).digest()
            if digest in seen:
                self.reject(number, raw, "duplicate in this file")
                continue
            seen.add(digest)
            left = columns.left_in_file(row, self.record.preconfirm)
            if left:
                self.reject(number, raw, left)
                continue
            choices = columns.choices(row, self.each_post)
            if isinstance(choices, str):
                self.reject(number, raw, choices)
                continue
            extra = _attributes(row)
            untracked = (row.get("no_tracking") or "").strip().lower() in columns.YES
            name = clean_name(export.uncelled(row.get("name") or ""))
            valid[email] = (number, name, extra, untracked, choices)
        return valid

    def write(self, valid: dict[str, Valid]) -> None:
        for email, why in sorted(suppression.reasons(list(valid)).items(), key=lambda e: e[0]):
            self.reject(valid.pop(email)[0], email, f"address is suppressed ({why})")
        if not valid:
            return
        now, list_id = utcnow(), self.record.list_id
        self.add_subscribers(valid, now)
        self.stop_tracking([email for email, row in valid.items() if row[3]])
        # The subscription is looked up per subscriber (a correlated subquery) so PostgreSQL
        # uses the (subscriber_id, list_id) index rather than scanning the whole list.
        current = (
            sa.select(Subscription.status)
            .where(Subscription.subscriber_id == Subscriber.id, Subscription.list_id == list_id)
            .scalar_subquery()
        )
        subscribers = db.session.execute(
            sa.select(Subscriber.id, Subscriber.email, Subscriber.status, current).where(
                _among(Subscriber.email, list(valid), sa.String)
            )
        ).all()
        subscribers.sort(key=lambda row: valid[row[1]][0])  # errors in file order
        new, upgrade, imported = [], [], 0
        for subscriber_id, email, subscriber_status, current in subscribers:
            number = valid[email][0]
            if subscriber_status != SubscriberStatus.ACTIVE:
                self.reject(number, email, f"address is {subscriber_status}")
            elif current == SubscriptionStatus.UNSUBSCRIBED:
                self.reject(number, email, "unsubscribed; only the subscriber can rejoin")
            else:
                imported += 1  # a local count: the mapped attribute is slow per row
                if current is None:
                    new.append((subscriber_id, valid[email][4][2] or DeliveryMode.DIGEST))
                elif current == SubscriptionStatus.UNCONFIRMED and self.record.preconfirm:
                    upgrade.append(subscriber_id)
        self.record.imported += imported
        consent = {"consent_at": now, "consent_source": f"import:{self.record.id}"}
        self.add_subscriptions(new, now, consent)
        if upgrade:
            db.session.execute(
                sa.update(Subscription)
                .where(
                    Subscription.list_id == list_id,
                    _among(Subscription.subscriber_id, upgrade, sa.Integer),
                )
                .values(status=SubscriptionStatus.CONFIRMED, confirmed_at=now, **consent)
            )

    def stop_tracking(self, emails: list[str]) -> None:
        """A file can turn tracking off, new subscriber or known, never back on: that is
        the subscriber's own choice, made on the preferences page."""
        if emails:
            db.session.execute(
                sa.update(Subscriber)
                .where(_among(Subscriber.email, emails, sa.String), ~Subscriber.no_tracking)
                .values(no_tracking=True)
                .execution_options(synchronize_session=False)
            )

    def add_subscribers(self, valid: dict[str, Valid], now) -> None:
        if db.engine.dialect.name != "postgresql":
            _insert_ignoring_duplicates(
                Subscriber,
                [
                    {
                        "email": e,
                        "name": n,
                        "status": SubscriberStatus.ACTIVE,
                        "attributes": a,
                        "timezone": zone,
                        "locale": language,
                        "created_at": now,
                    }
                    for e, (_, n, a, _, (zone, language, _)) in valid.items()
                ],
            )
            return
        # One statement with an array parameter a column, rather than a row of parameters each.
        rows = (
            sa.func.unnest(
                *(
                    sa.bindparam(None, values, type_=postgresql.ARRAY(sa.Text))
                    for values in (
                        list(valid),
                        [n for _, n, _, _, _ in valid.values()],
                        [json.dumps(a) for _, _, a, _, _ in valid.values()],
                        [choices[0] for *_, choices in valid.values()],
                        [choices[1] for *_, choices in valid.values()],
                    )
                )
            )
            .table_valued("email", "name", "attributes", "timezone", "locale")
            .render_derived()
        )
        db.session.execute(
            postgresql.insert(Subscriber)
            .from_select(
                ["email", "name", "status", "attributes", "timezone", "locale", "created_at"],
                sa.select(
                    rows.c.email,
                    rows.c.name,
                    sa.literal(SubscriberStatus.ACTIVE, sa.String),
                    sa.cast(rows.c.attributes, sa.JSON),
                    rows.c.timezone,
                    rows.c.locale,
                    sa.literal(now, UTCDateTime),
                ),
            )
            .on_conflict_do_nothing()
        )

    def add_subscriptions(self, new: list[tuple[int, str]], now, consent: dict) -> None:
        """A subscription for each (subscriber id, delivery)."""
        values = {
            "list_id": self.record.list_id,
            "status": SubscriptionStatus.CONFIRMED
            if self.record.preconfirm
            else SubscriptionStatus.UNCONFIRMED,
            "created_at": now,
            "confirmed_at": now if self.record.preconfirm else None,
            **consent,
        }
        if db.engine.dialect.name != "postgresql":
            _insert_ignoring_duplicates(
                Subscription,
                [{"subscriber_id": i, "delivery": mode, **values} for i, mode in new],
            )
            return
        if not new:
            return
        rows = (
            sa.func.unnest(
                sa.bindparam(None, [i for i, _ in new], type_=postgresql.ARRAY(sa.Integer)),
                sa.bindparam(None, [mode for _, mode in new], type_=postgresql.ARRAY(sa.Text)),
            )
            .table_valued("id", "delivery")
            .render_derived()
        )
        columns = Subscription.__table__.c
        db.session.execute(
            postgresql.insert(Subscription)
            .from_select(
                ["subscriber_id", "delivery", *values],
                sa.select(
                    rows.c.id,
                    rows.c.delivery,
                    *(sa.literal(v, columns[k].type) for k, v in values.items()),
                ),
            )
            .on_conflict_do_nothing()
        )


def _fail(import_id: int, run: _Run, reason: str) -> Import:
    db.session.rollback()
    record = db.session.get(Import, import_id)
    record.status = ImportStatus.FAILED
    record.errors = list(run.errors) + [{"row": None, "email": "", "reason": reason}]
    return record


def run_import(import_id: int) -> None:
    """Import every row. No email is sent: imported subscribers were asked elsewhere."""
    record = db.session.get(Import, import_id)
    if record is None or record.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return
    record.status = ImportStatus.RUNNING
    db.session.commit()
    run = _Run(record)
    try:
        with uploads.read(import_id) as raw:
            # Kept, as found in the file or chosen, for the report to say how it was read.
            record.encoding = _read_as(record, raw)
            for chunk in _chunks(_rows(raw, record.mapping, record.encoding)):
                record.total += len(chunk)
                run.write(run.valid_rows(chunk))
                if len(run.errors) != len(record.errors or []):
                    record.errors = list(run.errors)  # rewritten only when it grew
                db.session.commit()
        record.status = ImportStatus.DONE
    except (UnreadableFile, csv.Error, UnicodeError) as exc:  # the file's fault
        current_app.logger.warning("import %s failed: %s", import_id, exc)
        record = _fail(import_id, run, str(exc))
    except OSError as exc:  # the upload is gone
        current_app.logger.error("import %s failed: %s", import_id, exc)
        record = _fail(import_id, run, str(exc))
    except Exception:
        # Whatever went wrong, the import must not stay "running" for ever.
        current_app.logger.exception("import %s failed", import_id)
        record = _fail(import_id, run, "The import stopped on an unexpected error.")
    record.finished_at = utcnow()
    # Read or not, the file of addresses goes; a worker killed before this line reads it
    # again when the task comes back.
    uploads.delete(import_id)
    db.session.commit()
