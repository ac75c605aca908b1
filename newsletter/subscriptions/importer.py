"""CSV import of subscribers: streamed from disk, validated row by row, written set-wise."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from newsletter.extensions import db
from newsletter.models import Import, MailingList, Subscriber, Subscription, utcnow
from newsletter.queue import enqueue
from newsletter.subscriptions.service import InvalidEmail, clean_name, normalise_email

CHUNK = 2000
ERRORS_KEPT = 1000


class UnreadableFile(ValueError):
    """The file cannot be imported at all (not CSV, no email column)."""


def stage_import(mailing_list: MailingList, upload, preconfirm: bool) -> Import:
    """Save the upload to disk (streamed); it waits for a column mapping or start_import."""
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    upload.save(str(path))
    record = Import(
        list_id=mailing_list.id,
        preconfirm=preconfirm,
        path=str(path),
        errors=[],
        status="staged",
    )
    db.session.add(record)
    db.session.commit()
    return record


def queue_import(record: Import, mapping: dict[str, str] | None = None) -> None:
    """Start a staged import, with the file's columns mapped as the editor chose."""
    if record.status != "staged":
        raise UnreadableFile(f"This import is {record.status} already.")
    if mapping is not None and list(mapping.values()).count("email") != 1:
        raise UnreadableFile("Choose exactly one column for the email address.")
    record.mapping = mapping
    record.status = "queued"
    db.session.commit()
    enqueue("newsletter.run_import", record.id)


def start_import(mailing_list: MailingList, upload, preconfirm: bool) -> Import:
    """Save and queue at once, for files whose columns are already email and name."""
    record = stage_import(mailing_list, upload, preconfirm)
    queue_import(record)
    return record


def _reader(raw) -> csv.DictReader:
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.DictReader(text)
    if not reader.fieldnames:
        raise UnreadableFile("The file is empty.")
    return reader


def preview(record: Import, count: int = 5) -> tuple[list[str], list[list[str]]]:
    """The header and the first rows, for the mapping screen."""
    with open(record.path, "rb") as raw:
        reader = _reader(raw)
        header = [(name or "").strip() for name in reader.fieldnames]
        rows = [
            [row.get(name) or "" for name in reader.fieldnames]
            for _, row in zip(range(count), reader, strict=False)
        ]
    return header, rows


def guess_mapping(header: list[str]) -> dict[str, str]:
    guess = {}
    for name in header:
        lowered = name.lower()
        if "mail" in lowered and "email" not in guess.values():
            guess[name] = "email"
        elif "name" in lowered and "name" not in guess.values():
            guess[name] = "name"
        else:
            guess[name] = lowered or "ignore"
    return guess


def _rows(path: str, mapping: dict[str, str] | None) -> Iterator[tuple[int, dict]]:
    with open(path, "rb") as raw:
        reader = _reader(raw)
        names = [(name or "").strip() for name in reader.fieldnames]
        if mapping:
            names = [mapping.get(name, "ignore") for name in names]
        reader.fieldnames = [name.lower() for name in names]
        if "email" not in reader.fieldnames:
            raise UnreadableFile("The file has no 'email' column.")
        for number, row in enumerate(reader, start=2):  # row 1 is the header
            row.pop("ignore", None)
            yield number, row


def _chunks(rows: Iterator[tuple[int, dict]]) -> Iterator[list[tuple[int, dict]]]:
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
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(dialect.insert(model).on_conflict_do_nothing(), rows)


class _Run:
    def __init__(self, record: Import):
        self.record = record
        self.seen: set[bytes] = set()  # digests, not addresses: small even for a million rows
        self.errors: list[dict] = list(record.errors or [])

    def reject(self, number: int, email: str, reason: str) -> None:
        self.record.rejected += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"row": number, "email": email[:254], "reason": reason})

    def valid_rows(self, chunk) -> dict[str, tuple[int, str, dict]]:
        valid = {}
        for number, row in chunk:
            raw = (row.get("email") or "").strip()
            if not raw:
                self.reject(number, "", "missing email")
                continue
            try:
                email = normalise_email(raw)
            except InvalidEmail as exc:
                self.reject(number, raw, f"invalid address: {exc}")
                continue
            digest = hashlib.blake2b(email.encode(), digest_size=8).digest()
            if digest in self.seen:
                self.reject(number, raw, "duplicate in this file")
                continue
            self.seen.add(digest)
            extra = {k: v for k, v in row.items() if k not in ("email", "name") and k and v}
            valid[email] = (number, clean_name(row.get("name")), extra)
        return valid

    def write(self, valid: dict[str, tuple[int, str, dict]]) -> None:
        now, list_id = utcnow(), self.record.list_id
        _insert_ignoring_duplicates(
            Subscriber,
            [
                {"email": e, "name": n, "status": "active", "attributes": a, "created_at": now}
                for e, (_, n, a) in valid.items()
            ],
        )
        people = db.session.execute(
            sa.select(Subscriber.id, Subscriber.email, Subscriber.status).where(
                Subscriber.email.in_(list(valid))
            )
        ).all()
        current = dict(
            db.session.execute(
                sa.select(Subscription.subscriber_id, Subscription.status).where(
                    Subscription.list_id == list_id,
                    Subscription.subscriber_id.in_([p.id for p in people]),
                )
            ).all()
        )
        status = "confirmed" if self.record.preconfirm else "unconfirmed"
        new, upgrade = [], []
        for person in people:
            number = valid[person.email][0]
            if person.status != "active":
                self.reject(number, person.email, f"address is {person.status}")
            elif current.get(person.id) == "unsubscribed":
                self.reject(number, person.email, "unsubscribed; only the person can rejoin")
            else:
                self.record.imported += 1
                if person.id not in current:
                    new.append(person.id)
                elif current[person.id] == "unconfirmed" and self.record.preconfirm:
                    upgrade.append(person.id)
        consent = {"consent_at": now, "consent_source": f"import:{self.record.id}"}
        confirmed_at = now if self.record.preconfirm else None
        _insert_ignoring_duplicates(
            Subscription,
            [
                {
                    "subscriber_id": i,
                    "list_id": list_id,
                    "status": status,
                    "created_at": now,
                    "confirmed_at": confirmed_at,
                    **consent,
                }
                for i in new
            ],
        )
        if upgrade:
            db.session.execute(
                sa.update(Subscription)
                .where(Subscription.list_id == list_id, Subscription.subscriber_id.in_(upgrade))
                .values(status="confirmed", confirmed_at=now, **consent)
            )


def _fail(import_id: int, run: _Run, reason: str) -> Import:
    db.session.rollback()
    record = db.session.get(Import, import_id)
    record.status = "failed"
    record.errors = list(run.errors) + [{"row": None, "email": "", "reason": reason}]
    return record


def run_import(import_id: int) -> None:
    """Import every row. No email is sent: imported people were asked elsewhere."""
    record = db.session.get(Import, import_id)
    if record is None or record.status not in ("queued", "running"):
        return
    record.status = "running"
    db.session.commit()
    run = _Run(record)
    try:
        for chunk in _chunks(_rows(record.path, record.mapping)):
            record.total += len(chunk)
            run.write(run.valid_rows(chunk))
            record.errors = list(run.errors)
            db.session.commit()
        record.status = "done"
    except (UnreadableFile, csv.Error, UnicodeError, OSError) as exc:
        record = _fail(import_id, run, str(exc))
    except Exception:
        # Whatever went wrong, the import must not stay "running" for ever.
        current_app.logger.exception("import %s failed", import_id)
        record = _fail(import_id, run, "The import stopped on an unexpected error.")
    record.finished_at = utcnow()
    db.session.commit()
    Path(record.path).unlink(missing_ok=True)
