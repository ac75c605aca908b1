"""API: CSV import and export of subscribers."""

from typing import Literal

from flask import Response, request, stream_with_context
from pydantic import BaseModel, Field

from newsletter.api.common import invalid, known_status, not_found, parse_query, route
from newsletter.api.shapes import NULLABLE_STRING, schema
from newsletter.extensions import db
from newsletter.fields import iso
from newsletter.lists import get_list
from newsletter.models import Import
from newsletter.statuses import SubscriberStatus
from newsletter.subscriptions.export import csv_rows
from newsletter.subscriptions.importer import start_import

IMPORT = schema(
    "id",
    "status",
    "total",
    "imported",
    "rejected",
    "encoding",
    id="integer",
    status="string",
    total="integer",
    imported="integer",
    rejected="integer",
    encoding=NULLABLE_STRING,
    errors="array",
    list_id="integer",
)


def import_json(record: Import) -> dict:
    return {
        "id": record.id,
        "status": record.status,
        "total": record.total,
        "imported": record.imported,
        "rejected": record.rejected,
        # How the file is read: as asked, or as found once the import has begun.
        "encoding": record.encoding,
        "errors": (record.errors or [])[:100],
        "list_id": record.list_id,
        "created_at": iso(record.created_at),
        "finished_at": iso(record.finished_at),
    }


@route(
    "/subscribers/import",
    "POST",
    "Import a CSV (multipart: file with email and name columns, list, preconfirm, and"
    " encoding when the file is not UTF-8 and is not found to be Windows-1256, 1252 or 1251)",
    response=IMPORT,
    status=202,
)
def import_subscribers():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise invalid("file", "Attach a CSV file as 'file'.")
    preconfirm = request.form.get("preconfirm", "false").strip().lower()
    if preconfirm not in ("true", "false", "1", "0", "yes", "no"):
        raise invalid("preconfirm", "preconfirm must be true or false.")
    if not request.form.get("list"):  # it said "There is no list 'None'."
        raise invalid("list", "Name the list to import into: its slug, as 'list'.")
    mailing_list = get_list(request.form.get("list"))
    encoding = request.form.get("encoding") or None  # None: found in the file
    record = start_import(mailing_list, upload, preconfirm in ("true", "1", "yes"), encoding)
    return import_json(record), 202


@route("/imports/<int:import_id>", "GET", "Progress and report of an import", response=IMPORT)
def get_import(import_id: int):
    record = db.session.get(Import, import_id)
    if record is None:
        raise not_found("import")
    return import_json(record)


class ExportQuery(BaseModel):
    list: str | None = None
    status: str | None = None
    # "excel": UTF-8's byte-order mark in front, without which Excel misreads Persian.
    for_: Literal["excel"] | None = Field(None, alias="for")


@route(
    "/subscribers/export",
    "GET",
    "Subscribers as CSV",
    query=ExportQuery,
    content_type="text/csv",
)
def export_subscribers():
    query = parse_query(ExportQuery)
    list_id = get_list(query.list).id if query.list else None
    status = known_status(SubscriberStatus, query.status) if query.status else None
    rows = stream_with_context(csv_rows(list_id, status, query.for_ == "excel"))
    return Response(
        rows,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=subscribers.csv"},
    )
