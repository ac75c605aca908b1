"""Soak benchmark: what the long-running processes hold as the weeks go by.

Runs, one after another, each process an operator keeps running for months, and prints what
it holds as the work goes on: memory (PSS, summed over its process tree), open file
descriptors, threads, and the PostgreSQL sessions on the database.

1. `newsletter worker`: ISSUES issues of READERS readers each, sent through Redis to
   Postfix's smtp-sink, started here as beat would (loop.dispatch); a sample every few issues.
2. `newsletter serve` (gunicorn, one sync worker): REQUESTS requests, each to a different
   archived issue, reader's preferences page and tracked link; a sample every few hundred.
3. `newsletter bounces serve`: REPORTS delivery reports over SMTP, each about another copy.

Figures only: the growth from the first sample after the warm-up to the last, per issue or
per thousand requests. No figure is checked here; tests/test_soak_audit.py checks the bounds.

    .venv/bin/python bench/soak.py --issues 40 --readers 500

Needs PostgreSQL and Redis on 127.0.0.1 (or --database-url / --redis-url; --embedded runs
on SQLite and the folder broker instead, as a fresh install does); installs
Debian's postfix package for smtp-sink when it is missing.
"""

from __future__ import annotations

import argparse
import itertools
import os
import smtplib
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    free_port,
    fresh_database,
    need_postfix,
    start_sink,
    wait_for_port,
)

ROOT = Path(__file__).resolve().parent.parent
BOUNCE_DOMAIN = "bounces.news.example.org"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=40)
    parser.add_argument("--readers", type=int, default=500)
    parser.add_argument("--every", type=int, default=5, help="issues between samples")
    parser.add_argument("--pool", default="prefork", help="the worker's pool: prefork or solo")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--requests", type=int, default=3000, help="per kind of page")
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--embedded", action="store_true", help="the embedded defaults: SQLite and a folder broker"
    )
    args = parser.parse_args()
    need_postfix()
    with tempfile.TemporaryDirectory() as tmp:
        if args.embedded:
            run(args, f"sqlite:///{tmp}/newsletter.sqlite", "filesystem://", Path(tmp))
            return
        with fresh_database(args.database_url) as database_url:
            run(args, database_url, args.redis_url, Path(tmp))


def run(args, database_url: str, broker_url: str, tmp: Path) -> None:
    sink_port = free_port()
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_BROKER_URL": broker_url,
        "NEWSLETTER_BROKER_DIR": str(tmp / "broker"),
        "NEWSLETTER_TASK_QUEUE": f"soak-{os.getpid()}",
        "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{sink_port}",
        "NEWSLETTER_BASE_URL": "https://news.example.org",
        "NEWSLETTER_SECRET_KEY": "soak-secret",
        "NEWSLETTER_BOUNCE_DOMAIN": BOUNCE_DOMAIN,
        "NEWSLETTER_INSTANCE_PATH": str(tmp / "instance"),
    }
    os.environ.update(env)
    from flask_migrate import upgrade

    from newsletter import create_app

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "newsletter" / "migrations"))
        list_id = prepare(args.readers)
    sink = start_sink(sink_port)
    try:
        wait_for_port(sink_port)
        with app.app_context():
            soak_worker(args, env, tmp, list_id)
            soak_web(args, env, tmp, list_id)
            soak_bounces(args, env, tmp)
    finally:
        sink.terminate()
        sink.wait()


# --- What a process holds -------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """The process and its descendants (a prefork worker's pool, gunicorn's workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            children = []
        todo.extend(int(child) for child in children)
    return found


def holds(pid: int) -> dict[str, int]:
    """Memory in kB (PSS: pages a forked pool shares with its parent are counted once), open
    fds and threads of the process tree, and the PostgreSQL sessions on the database."""
    memory = fds = threads = 0
    for each in tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
            rollup = Path(f"/proc/{each}/smaps_rollup").read_text()
            fds += len(os.listdir(f"/proc/{each}/fd"))
        except OSError:
            continue
        memory += sum(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
        threads += sum(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:")
        )
    return {"kb": memory, "fds": fds, "threads": threads, "pg": pg_sessions()}


def pg_sessions() -> int:
    """Sessions on this database but ours (none to count on SQLite)."""
    import sqlalchemy as sa

    from newsletter.extensions import db

    if db.engine.dialect.name != "postgresql":
        return 0
    count = db.session.scalar(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    db.session.commit()
    return count


class Samples:
    """What a process holds, sampled as the work goes on; the growth from the first sample
    (the warm-up's end: imports, pools and caches filled once) to the last."""

    def __init__(self, pid: int, label: str):
        self.pid, self.label, self.taken = pid, label, []

    def take(self, done: int) -> None:
        sample = holds(self.pid)
        self.taken.append((done, sample))
        print(
            f"  {self.label} {done:>6}: memory {sample['kb'] / 1024:7.1f} MB  "
            f"fds {sample['fds']:4}  threads {sample['threads']:3}  pg sessions {sample['pg']:3}",
            flush=True,
        )

    def growth(self, per: int = 1) -> None:
        (start, first), (done, last) = self.taken[0], self.taken[-1]
        span = max(done - start, 1) / per
        change = {key: (last[key] - first[key]) / span for key in first}
        unit = f"{per:,} {self.label}" if per > 1 else self.label
        print(
            f"  growth per {unit}: memory {change['kb']:+.1f} kB, fds {change['fds']:+.2f}, "
            f"threads {change['threads']:+.2f}, pg sessions {change['pg']:+.2f}",
            flush=True,
        )


# --- 1. The worker --------------------------------------------------------------------------


def prepare(readers: int) -> int:
    import sqlalchemy as sa

    from newsletter.extensions import db
    from newsletter.models import MailingList

    weekly = MailingList(
        slug="weekly",
        name="Weekly Digest",
        from_email="digest@news.example.org",
        postal_address="Example News, 1 Main Street, Springfield",
        track_clicks=True,
    )
    db.session.add(weekly)
    db.session.commit()
    db.session.execute(
        sa.text(
            "WITH RECURSIVE numbers(n) AS "
            "(SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < :count) "
            "INSERT INTO subscribers (email, name, status, attributes, created_at) "
            "SELECT 'reader' || n || '@example.org', 'Reader ' || n, 'active', '{}', "
            "CURRENT_TIMESTAMP FROM numbers"
        ),
        {"count": readers},
    )
    db.session.execute(
        sa.text(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at) "
            "SELECT id, :list_id, 'confirmed', CURRENT_TIMESTAMP FROM subscribers"
        ),
        {"list_id": weekly.id},
    )
    db.session.commit()
    return weekly.id


def new_issue(list_id: int, number: int) -> int:
    """A draft of one new post, as a week's feed would give."""
    from newsletter.digest.compose import compose_issue
    from newsletter.extensions import db
    from newsletter.models import MailingList, Post

    now = datetime.now(UTC)
    mailing_list = db.session.get(MailingList, list_id)
    db.session.add(
        Post(
            list_id=list_id,
            guid=f"post-{number}",
            url=f"https://news.example.org/posts/{number}",
            title=f"What happened in week {number}",
            source="Example News",
            excerpt=f"The week's news, number {number}, in a few lines.",
            published_at=now - timedelta(minutes=1),
        )
    )
    db.session.commit()
    return compose_issue(mailing_list, now - timedelta(minutes=2), now).id


def send_now(issue_id: int) -> None:
    from newsletter.extensions import db
    from newsletter.models import Issue
    from newsletter.sending import lifecycle, loop

    lifecycle.schedule_issue(db.session.get(Issue, issue_id), datetime.now(UTC))
    deadline = time.monotonic() + 30
    while issue_id not in loop.dispatch():
        if time.monotonic() > deadline:
            raise RuntimeError("the issue did not start")
        time.sleep(0.05)
    deadline = time.monotonic() + 300
    while True:
        db.session.expire_all()
        status = db.session.get(Issue, issue_id).status
        if status == "sent":
            return
        if status != "sending" or time.monotonic() > deadline:
            raise RuntimeError(f"the issue stopped: {status} (see the worker's log)")
        time.sleep(0.05)


def soak_worker(args, env: dict, tmp: Path, list_id: int) -> None:
    print(
        f"worker ({args.pool}, concurrency {args.concurrency}): {args.issues} issues "
        f"of {args.readers} readers",
        flush=True,
    )
    worker = start(
        ["worker", "--pool", args.pool, "--concurrency", str(args.concurrency)], env, tmp
    )
    try:
        wait_for_log(tmp / "worker.log", " ready.")
        samples = Samples(worker.pid, "issue")
        for number in range(1, args.issues + 1):
            send_now(new_issue(list_id, number))
            if number % args.every == 0:
                time.sleep(0.5)  # the last batch's lease thread and connection let go
                samples.take(number)
        samples.growth()
    finally:
        stop(worker)


# --- 2. The web app -------------------------------------------------------------------------


def archived_issues(list_id: int, count: int) -> None:
    """`count` more sent issues, each with an item, as the first sent one is."""
    import sqlalchemy as sa

    from newsletter.extensions import db
    from newsletter.models import Issue, IssueItem

    model = db.session.scalars(sa.select(Issue).where(Issue.status == "sent").limit(1)).one()
    columns = [c.key for c in sa.inspect(Issue).column_attrs if c.key not in ("id", "number")]
    top = db.session.scalar(sa.select(sa.func.max(Issue.number)))
    for number in range(top + 1, top + count + 1):
        issue = Issue(number=number, **{key: getattr(model, key) for key in columns})
        issue.subject = f"Week {number}"
        issue.items = [
            IssueItem(
                position=1,
                title=f"A post of issue {number}",
                url=f"https://news.example.org/p/{number}",
                source="Example",
                excerpt="Something happened.",
            )
        ]
        db.session.add(issue)
    db.session.commit()


def web_paths(list_id: int, count: int) -> dict[str, list[str]]:
    import sqlalchemy as sa

    from newsletter import analytics, links
    from newsletter.extensions import db
    from newsletter.models import Delivery, Issue, IssueLink, Subscription

    numbers = db.session.scalars(
        sa.select(Issue.number).where(Issue.status == "sent").order_by(Issue.number).limit(count)
    ).all()
    readers = db.session.scalars(sa.select(Subscription).limit(count)).all()
    copies = db.session.execute(
        sa.select(Delivery.id, sa.func.min(IssueLink.position))
        .join(IssueLink, IssueLink.issue_id == Delivery.issue_id)
        .group_by(Delivery.id)
        .order_by(Delivery.id)
        .limit(count)
    ).all()
    return {
        "archive pages": [f"/archive/weekly/{n}" for n in numbers],
        # Each reader's and copy's again when there are fewer than `count`.
        "preferences pages": [
            f"/preferences/{links.make(links.PREFERENCES, s.subscriber_id, s.list_id)}"
            for s in itertools.islice(itertools.cycle(readers), count)
        ],
        "redirects": [
            f"/r/{analytics.token(d)}/{p}"
            for d, p in itertools.islice(itertools.cycle(copies), count)
        ],
    }


def soak_web(args, env: dict, tmp: Path, list_id: int) -> None:
    port = free_port()
    archived_issues(list_id, args.requests)
    paths = web_paths(list_id, args.requests)
    print(f"web app (gunicorn, one sync worker): {args.requests} requests of each kind")
    web = start(["serve", "--port", str(port), "--workers", "1"], env, tmp)
    try:
        wait_for_port(port, "the server", 60)
        for kind, urls in paths.items():
            samples = Samples(web.pid, kind)
            every = max(len(urls) // 6, 1)
            for done, path in enumerate(urls, 1):
                get(f"http://127.0.0.1:{port}{path}")
                if done % every == 0:
                    samples.take(done)
            samples.growth(1000)
    finally:
        stop(web)


def get(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=30) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


# --- 3. The bounce server -------------------------------------------------------------------


def soak_bounces(args, env: dict, tmp: Path) -> None:
    import sqlalchemy as sa

    from newsletter import verp
    from newsletter.extensions import db
    from newsletter.models import Delivery

    port = free_port()
    copies = db.session.scalars(sa.select(Delivery.id).order_by(Delivery.id).limit(args.reports))
    # Each copy's again when there are fewer than REPORTS.
    paths = [verp.return_path(d) for d in itertools.islice(itertools.cycle(copies), args.reports)]
    print(f"bounce server: {len(paths)} reports, one a session", flush=True)
    server = start(["bounces", "serve", "--port", str(port)], env, tmp)
    try:
        wait_for_port(port, "the server", 60)
        samples = Samples(server.pid, "reports")
        every = max(len(paths) // 6, 1)
        for done, path in enumerate(paths, 1):
            report = dsn(f"reader{done}@example.org", path)
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                smtp.sendmail("", [path], report)
            if done % every == 0:
                samples.take(done)
        samples.growth(1000)
    finally:
        stop(server)


def dsn(recipient: str, to: str) -> bytes:
    """An RFC 3464 report of a full mailbox (a soft bounce: the reader stays)."""
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        f"To: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\n"
        f"Your message could not be delivered to <{recipient}>.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 4.2.2\r\n"
        "Diagnostic-Code: smtp; 452 4.2.2 mailbox full\r\n\r\n--b--\r\n"
    ).encode()


# --- Processes ------------------------------------------------------------------------------


def start(command: list[str], env: dict, tmp: Path) -> subprocess.Popen:
    """`newsletter COMMAND` in a process of its own, its output in tmp/COMMAND.log."""
    log = open(tmp / f"{command[0]}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", *command],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp,
    )


def wait_for_log(path: Path, text: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{path.name}: no {text!r}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


if __name__ == "__main__":
    main()
