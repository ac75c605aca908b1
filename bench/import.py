"""Benchmark of the CSV subscriber import (newsletter/subscriptions/importer.py).

Measures the wall time of stage_import + queue_import + run_import, called in this process
(no worker), for a generated file of N rows, and the peak RSS of the process. The file has
realistic addresses plus a few invalid rows, rows without an address and in-file
duplicates, so the error paths run too. It uses a PostgreSQL database of its own, created
from the given database and dropped at the end.

    .venv/bin/python bench/import.py [--rows 1000000] \
        [--database-url postgresql://127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

from werkzeug.datastructures import FileStorage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database, in_process_app  # noqa: E402


def write_csv(path: Path, rows: int) -> None:
    """Streamed to disk so the file itself does not count towards the peak RSS."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name"])
        for i in range(rows):
            kind = i % 1000
            if kind == 997:
                writer.writerow([f"READER{i - 1:07d}@Example.org", "Duplicate"])
            elif kind == 998:
                writer.writerow(["", "No address"])
            elif kind == 999:
                writer.writerow([f"not-an-address-{i}", "Bad"])
            else:
                writer.writerow([f"reader{i:07d}@example.org", f"Reader {i}"])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(rows: int, database_url: str, folder: Path) -> None:
    from newsletter.extensions import db
    from newsletter.lists import get_list
    from newsletter.models import Import
    from newsletter.subscriptions.importer import queue_import, run_import, stage_import

    app = in_process_app(database_url, folder)
    with app.app_context():
        mailing_list = get_list("bench")
        source = folder / "people.csv"
        write_csv(source, rows)
        rss_before = peak_rss_mb()

        started = time.perf_counter()
        with open(source, "rb") as stream:
            record = stage_import(mailing_list, FileStorage(stream, "people.csv"), False)
        queue_import(record)  # only drops a message in the bench's own broker folder
        import_id = record.id
        run_import(import_id)
        seconds = time.perf_counter() - started

        db.session.expire_all()
        record = db.session.get(Import, import_id)
        print(f"rows: {rows}")
        print(f"status: {record.status}")
        print(f"seconds: {seconds:.1f}")
        print(f"rows per second: {rows / seconds:.0f}")
        print(f"rows imported: {record.imported}")
        print(f"rows rejected: {record.rejected}")
        print(f"peak RSS before import (MB): {rss_before:.0f}")
        print(f"peak RSS (MB): {peak_rss_mb():.0f}")
        db.session.remove()
        db.engine.dispose()  # no connection may stay open when the database is dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()

    with (
        fresh_database(args.database_url) as database_url,
        tempfile.TemporaryDirectory(prefix="bench-import-") as folder,
    ):
        run(args.rows, database_url, Path(folder))


if __name__ == "__main__":
    main()
