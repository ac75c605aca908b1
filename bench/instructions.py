"""Instructions a message costs the send loop in user space, counted by callgrind.

    .venv/bin/python bench/instructions.py [--subscribers N]

Seconds move by a third between runs on a shared machine; instructions do not. This runs
itself under `valgrind --tool=callgrind`, sends one batch in process into smtp-sink after a
batch that warms it up, and counts that batch alone (callgrind_control zeroes the counts
before it and writes them after), then 1,000 copies built alone. The kernel's part (the
socket's copies) and the other processes (the sink, PostgreSQL) are not counted: compare
old and new code with this, and whole sends with `bench/send.py`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, fresh_database, need_postfix, start_sink  # noqa: E402
from send import prepare, wait_for_port  # noqa: E402

MEASURED = "NEWSLETTER_BENCH_UNDER_CALLGRIND"  # names the folder the counts go to
COPIES = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--subscribers", type=int, help="default: two batches of NEWSLETTER_BATCH_SIZE"
    )
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    if os.environ.get(MEASURED):
        measure(args, Path(os.environ[MEASURED]))
        return
    for tool in ("valgrind", "callgrind_control"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install valgrind")
    need_postfix()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/counts"]
        env = {**os.environ, MEASURED: folder}
        subprocess.run([*command, sys.executable, *sys.argv], env=env, check=True)
        sent = int((out / "sent").read_text())
        batch, built = instructions(out / "counts.1"), instructions(out / "counts.2")
    print(f"one batch in process, {sent} messages: {batch // sent:,} instructions a message")
    print(f"  building a copy: {built // COPIES:,}")
    print(f"  the rest (SMTP, bookkeeping, the loop): {batch // sent - built // COPIES:,}")


def instructions(dump: Path) -> int:
    with dump.open() as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith("summary:"))


def measure(args, out: Path) -> None:
    """Under callgrind: a warm-up batch, then one batch and COPIES copies, each counted."""
    with fresh_database(args.database_url) as url:
        port = free_port()
        os.environ.update(
            NEWSLETTER_DATABASE_URL=url,
            NEWSLETTER_BROKER_URL="memory://",
            NEWSLETTER_SMTP_URL=f"smtp://127.0.0.1:{port}",
            NEWSLETTER_BASE_URL="https://news.example.org",
            NEWSLETTER_SECRET_KEY="bench-secret",
        )
        from newsletter import create_app

        sink = start_sink(port)
        try:
            wait_for_port(port)
            with create_app().app_context():
                (out / "sent").write_text(str(count(args.subscribers)))
        finally:
            sink.terminate()
            sink.wait()


def count(subscribers: int | None) -> int:
    import gc

    import sqlalchemy as sa
    from flask import current_app

    from newsletter.extensions import db
    from newsletter.models import Issue
    from newsletter.sending import loop
    from newsletter.sending.letter import IssueLetter
    from newsletter.statuses import IssueStatus

    issue_id, _ = prepare(subscribers or 2 * current_app.config["BATCH_SIZE"])
    db.session.execute(
        sa.update(Issue)
        .where(Issue.id == issue_id)
        .values(status=IssueStatus.SCHEDULED, send_at=sa.func.now())
    )
    db.session.commit()
    loop.claim_due_issues()
    after = loop.send_batch(issue_id).last  # warms up what a worker would have warm
    gc.freeze()  # as a worker does once it is ready: no full collection walks start-up's objects
    callgrind("--zero")
    sent = loop.send_batch(issue_id, after).sent
    callgrind("--dump")
    letter = IssueLetter(db.session.get(Issue, issue_id))
    callgrind("--zero")
    for n in range(COPIES):
        letter.build(n, n, f"reader{n}@example.org", f"Reader {n}", tracked=True)
    callgrind("--dump")
    return sent


def callgrind(action: str) -> None:
    subprocess.run(["callgrind_control", action, str(os.getpid())], check=True, capture_output=True)


if __name__ == "__main__":
    main()
