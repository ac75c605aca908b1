"""Imports when web and workers share only PostgreSQL and Redis (README, "Scaling out"), and
rows a CSV import must reject one by one rather than garble or fail the whole file over."""

import csv
import io
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from builders import post_import
from conftest import wait_until
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage

from newsletter import create_app
from newsletter.extensions import db
from newsletter.models import Import, ImportFile, MailingList, Subscriber
from newsletter.subscriptions import csv_reading, importer


def _finished(import_id: int, timeout: float = 20.0) -> Import:
    def done():
        record = db.session.get(Import, import_id)
        return record if record.status in ("done", "failed") else None

    return wait_until(done, timeout=timeout, message="the import did not finish")


def _stored_pieces(import_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(ImportFile).where(ImportFile.import_id == import_id)
    )


@pytest.mark.processes
@pytest.mark.slow
def test_an_import_runs_on_a_worker_in_another_folder_and_its_failures_are_logged(
    make_app, worker_process, backends, api_headers, weekly, tmp_path, monkeypatch
):
    # The web app here, its instance folder its own; the worker in another process, folder
    # and instance folder, on a queue of their own so that no other worker takes the task.
    queue = f"{backends.queue}-anywhere"
    monkeypatch.setenv("NEWSLETTER_INSTANCE_PATH", str(tmp_path / "web-host"))
    web = make_app(TASK_QUEUE=queue)
    worker_host = tmp_path / "worker-host"
    worker_host.mkdir()
    worker = worker_process(
        NEWSLETTER_TASK_QUEUE=queue, NEWSLETTER_INSTANCE_PATH=str(worker_host / "instance")
    )
    marker = uuid.uuid4().hex
    rows = f"email,name\nana-{marker}@example.org,Ana\nbob-{marker}@example.org,Bob\n"

    def on_web_disk() -> list[Path]:
        files = [p for p in Path(web.instance_path).rglob("*") if p.is_file()]
        return [p for p in files if marker.encode() in p.read_bytes()]

    with web.app_context():  # what the admin's upload and mapping screens call
        upload = FileStorage(io.BytesIO(rows.encode()), "people.csv")
        record = importer.stage_import(db.session.get(MailingList, weekly.id), upload, False)
        assert on_web_disk() == []  # a worker on another host could not open it there
        importer.queue_import(record)
        import_id = record.id
    record = _finished(import_id, timeout=60)

    assert (record.status, record.imported, record.rejected) == ("done", 2, 0), record.errors
    assert Subscriber.query.filter(Subscriber.email.contains(marker)).count() == 2
    assert _stored_pieces(import_id) == 0  # the addresses are not kept once read
    assert on_web_disk() == []

    failing = post_import(web.test_client(), api_headers, b"name\nAna\n")
    assert _finished(failing, timeout=60).status == "failed"
    wait_until(
        lambda: (
            f"import {failing} failed: The file has no 'email' column"
            in worker.log_path.read_text(errors="replace")
        ),
        message="the worker did not log the failed import",
    )
    assert _stored_pieces(failing) == 0


@pytest.fixture
def import_bytes(client, api_headers, weekly, worker):
    def run(data: bytes) -> Import:
        return _finished(post_import(client, api_headers, data, preconfirm="true"))

    return run


def test_rows_in_another_encoding_are_rejected_with_a_reason_not_imported_garbled(import_bytes):
    data = (
        "email,name\nana@example.org,Ana Müller\n".encode()
        + "jose@example.org,José Núñez\n".encode("latin-1")
        + b"bob@example.org,Bob\n"
    )
    record = import_bytes(data)
    assert (record.status, record.total, record.imported, record.rejected) == ("done", 3, 2, 1)
    assert [(e["row"], e["email"]) for e in record.errors] == [(3, "jose@example.org")]
    assert "not UTF-8" in record.errors[0]["reason"]
    names = {s.email: s.name for s in Subscriber.query}
    assert names == {"ana@example.org": "Ana Müller", "bob@example.org": "Bob"}


PERSIAN_ROWS = [
    ("email", "name", "city"),
    ("maryam@example.org", "مریم حسینی‌زاده, تهران", "تهران"),
    ("ana@example.org", 'Ana "Nana" Müller', "Lisbon; Porto"),
]


def _written(separator: str) -> str:
    """The rows as a spreadsheet writes them: quoted where a field holds the separator,
    a quote or a comma."""
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator="\r\n").writerows(PERSIAN_ROWS)
    return out.getvalue()


@pytest.mark.parametrize(
    "how, data",
    [
        ("Excel, Unicode Text", b"\xff\xfe" + _written("\t").encode("utf-16-le")),
        ("UTF-16, big-endian", b"\xfe\xff" + _written("\t").encode("utf-16-be")),
        ("Excel, CSV UTF-8 with semicolons", b"\xef\xbb\xbf" + _written(";").encode()),
        ("tabs in UTF-8", _written("\t").encode()),
        ("commas", _written(",").encode()),
    ],
)
def test_a_spreadsheets_file_is_read_as_it_was_written(import_bytes, how, data):
    record = import_bytes(data)
    assert (record.status, record.imported, record.rejected) == ("done", 2, 0), how
    people = {s.email: (s.name, s.attributes) for s in Subscriber.query}
    assert people == {
        "maryam@example.org": ("مریم حسینی‌زاده, تهران", {"city": "تهران"}),
        "ana@example.org": ('Ana "Nana" Müller', {"city": "Lisbon; Porto"}),
    }, how


@given(
    header=st.lists(
        st.text(st.characters(blacklist_characters=',;\t"\r\n'), min_size=1, max_size=12),
        min_size=2,
        max_size=6,
    ),
    separator=st.sampled_from(",;\t"),
)
def test_the_header_says_which_separator_a_file_uses(header, separator):
    line = separator.join(f'"{name},;"' if n % 2 else name for n, name in enumerate(header))
    assert csv_reading.separator(line + "\r\na,b;c\td\r\n") == separator


def test_an_oversized_field_rejects_its_row_only(import_bytes):
    long_line = "x" * 200_000
    long_lines = "line\n" * 40_000  # 200,000 characters in quotes, over many lines
    record = import_bytes(
        (
            "email,name,notes\n"
            "ana@example.org,Ana,short\n"
            f"big@example.org,Big,{long_line}\n"
            f'lines@example.org,Lines,"{long_lines}"\n'
            "bob@example.org,Bob,\n"
        ).encode()
    )
    assert (record.status, record.total, record.imported, record.rejected) == ("done", 4, 2, 2)
    assert [(e["row"], e["email"]) for e in record.errors] == [
        (3, "big@example.org"),
        (4, "lines@example.org"),
    ]
    assert all("longer than" in e["reason"] for e in record.errors)
    assert {s.email for s in Subscriber.query} == {"ana@example.org", "bob@example.org"}


def test_an_upload_nobody_started_is_deleted_after_a_day(app, weekly):
    def stage() -> Import:
        upload = FileStorage(io.BytesIO(b"email\nana@example.org\n"), "a.csv")
        return importer.stage_import(weekly, upload, preconfirm=False)

    abandoned = stage()
    assert _stored_pieces(abandoned.id) == 1
    abandoned.created_at -= timedelta(days=1, minutes=1)
    db.session.commit()
    recent = stage()
    db.session.expire_all()
    assert (abandoned.status, _stored_pieces(abandoned.id)) == ("failed", 0)
    assert (recent.status, _stored_pieces(recent.id)) == ("staged", 1)


def test_a_shared_database_needs_the_secret_key_set(tmp_path, monkeypatch):
    """Each host would otherwise make a key of its own in its instance folder, and links a
    worker signs would not open on the web app."""
    monkeypatch.setenv("NEWSLETTER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY", raising=False)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", "postgresql://db.example/newsletter")
    with pytest.raises(RuntimeError, match="NEWSLETTER_SECRET_KEY"):
        create_app()
    assert not (tmp_path / "instance" / "secret_key").exists()
    # SQLite is one machine's: there the key is still made and kept in the instance folder.
    monkeypatch.delenv("NEWSLETTER_DATABASE_URL")
    assert create_app().config["SECRET_KEY"] == (tmp_path / "instance" / "secret_key").read_text()


def test_reading_the_settings_writes_nothing(tmp_path, monkeypatch):
    """config.load only reads: the instance folder and its key are made by create_app."""
    from newsletter import config

    monkeypatch.delenv("NEWSLETTER_SECRET_KEY", raising=False)
    monkeypatch.delenv("NEWSLETTER_DATABASE_URL", raising=False)
    settings = config.load(tmp_path / "instance")
    assert settings["SECRET_KEY"] is None
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    assert not (tmp_path / "instance").exists()
