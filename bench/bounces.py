"""Benchmark of bounce intake (newsletter/bounces): parsing, and `bounces serve` end to end.

Makes N confirmed readers of one list with one sent issue in a PostgreSQL database of its
own, and one DSN per delivery to its VERP return path: 90% hard (5.1.1 failed), 10% soft
(4.2.2 delayed). Measures reports.classify alone in this process; then, for each K, the
BounceServer taking every message over K SMTP connections (threads of this process, one
smtplib session each), with the latency of one sendmail call; and the same aiosmtpd server
with a handler that does nothing, the limit to compare against. After each end-to-end run
it checks the readers and bounces stored and resets them (active again, no bounces, no
suppressions), so every run starts from the same state.

    .venv/bin/python bench/bounces.py [--bounces 20000] [--connections 1,4] \
        [--database-url postgresql://127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import resource
import smtplib
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, fresh_database, in_process_app  # noqa: E402

# The reports the tests send, written as mail servers write them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bounce_mail import BOUNCE_DOMAIN, dsn  # noqa: E402

SETUP = [
    """INSERT INTO subscribers (email, name, status, attributes, bounce_score, created_at)
       SELECT 'reader' || n || '@example.net', 'Reader ' || n, 'active', '{}', 0, now()
       FROM generate_series(1, :n) AS n""",
    """INSERT INTO subscriptions (subscriber_id, list_id, status, created_at, confirmed_at)
       SELECT id, :list_id, 'confirmed', now(), now() FROM subscribers""",
    """INSERT INTO deliveries (issue_id, subscriber_id, status, attempts, sent_at)
       SELECT :issue_id, id, 'sent', 1, now() FROM subscribers""",
    """UPDATE deliveries SET message_id = '<' || id || '.' || issue_id || '.x@example.org>'""",
]
RESET = [
    "UPDATE subscribers SET status = 'active', bounce_score = 0, bounce_score_at = NULL",
    "DELETE FROM bounces",
    "DELETE FROM suppressions",
    # The mass-bounce breaker's tally of the issue: left, the next run's dead addresses added
    # to this one's and tripped it, holding every reader (0 bounced).
    """UPDATE issues SET mass_bounce = NULL, dead_since = NULL, dead_count = 0, dead_need = 0,
       dead_horizon = NULL""",
]


class NullHandler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def send_all(port: int, messages: list[tuple[str, bytes]], connections: int):
    """(seconds, per-call latencies) of sending every message over K sessions at once."""

    def share(index: int) -> list[float]:
        latencies = []
        with smtplib.SMTP("127.0.0.1", port) as client:
            for to, raw in messages[index::connections]:
                started = time.perf_counter()
                client.sendmail("", [to], raw)
                latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        shares = list(pool.map(share, range(connections)))
    return time.perf_counter() - started, [x for s in shares for x in s]


def through(controller: Controller, messages, connections: int):
    controller.start()
    try:
        return send_all(controller.port, messages, connections)
    finally:
        controller.stop()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def row(name, count, connections, seconds, latencies=(), raw_rate=None) -> str:
    rate = count / seconds
    cells = [name, count, connections, f"{seconds:.2f}", f"{rate:.0f}"]
    cells.append(f"{rate / raw_rate:.2f}" if raw_rate else "")
    if latencies:
        cuts = statistics.quantiles(latencies, n=100)
        cells += [f"{cuts[49] * 1000:.2f}", f"{cuts[98] * 1000:.2f}"]
    else:
        cells += ["", ""]
    return " ".join(f"{c:>10}" for c in [*cells, f"{peak_rss_mb():.0f}"])


def run(count: int, connections: list[int], database_url: str, folder: Path) -> bool:
    import sqlalchemy as sa

    from newsletter import verp
    from newsletter.bounces import reports
    from newsletter.bounces.server import BounceServer
    from newsletter.extensions import db
    from newsletter.lists import get_list
    from newsletter.models import Bounce, Issue, Subscriber

    app = in_process_app(database_url, folder)
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    # Nine in ten copies come back dead here, as no real send's do: the breaker for dead
    # addresses en masse counts every one, as it would, but is set never to trip.
    app.config["DEAD_ADDRESSES_SHARE"] = 1.0
    with app.app_context():
        mailing_list = get_list("bench")
        started = datetime.now(UTC) - timedelta(minutes=1)
        issue = Issue(
            list_id=mailing_list.id, number=1, subject="Bench #1", status="sent", started_at=started
        )
        db.session.add(issue)
        db.session.flush()
        for statement in SETUP:
            db.session.execute(
                sa.text(statement), {"n": count, "list_id": mailing_list.id, "issue_id": issue.id}
            )
        db.session.commit()
        rows = db.session.execute(
            sa.text(
                "SELECT d.id, s.email, d.message_id FROM deliveries d"
                " JOIN subscribers s ON s.id = d.subscriber_id ORDER BY d.id"
            )
        ).all()
        messages = []
        for i, (delivery_id, email, message_id) in enumerate(rows):
            to = verp.return_path(delivery_id)
            quoted = (
                f"Return-Path: <{to}>\r\nFrom: Bench <bench@example.org>\r\nTo: <{email}>\r\n"
                f"Subject: Bench #1\r\nMessage-ID: {message_id}\r\n"
            )
            status = "4.2.2" if i % 10 == 9 else "5.1.1"
            messages.append((to, dsn(email, status, quoted.encode(), to=to)))
        hard = sum(1 for i in range(count) if i % 10 != 9)
        issue_id = issue.id
        db.session.remove()

    print(f"bounces: {count} ({hard} hard, {count - hard} soft)")
    print(f"message size: {len(messages[0][1])} bytes")
    header = ["measure", "messages", "conns", "seconds", "rate/s", "of raw"]
    print(" ".join(f"{h:>10}" for h in [*header, "p50 ms", "p99 ms", "RSS MB"]))

    started = time.perf_counter()
    for _, raw in messages:
        reports.classify(raw)
    print(row("parse", count, "-", time.perf_counter() - started))

    ok = True
    for k in connections:
        null = Controller(NullHandler(), hostname="127.0.0.1", port=free_port())
        raw_seconds, raw_latencies = through(null, messages, k)
        print(row("raw smtp", count, k, raw_seconds, raw_latencies))
        server = BounceServer(app, "127.0.0.1", free_port())
        seconds, latencies = through(server, messages, k)
        print(row("intake", count, k, seconds, latencies, count / raw_seconds))

        with app.app_context():
            bounced = db.session.scalar(
                sa.select(sa.func.count()).where(Subscriber.status == "bounced")
            )
            stored = db.session.scalar(sa.select(sa.func.count()).select_from(Bounce))
            good = bounced == hard and stored == count
            ok = ok and good
            print(
                f"{'':>10} check: {bounced} bounced (want {hard}), {stored} bounces"
                f" (want {count}): {'ok' if good else 'WRONG'}"
            )
            for statement in RESET:
                db.session.execute(sa.text(statement))
            db.session.commit()
            db.session.remove()
    ok = editor_drops(app, issue_id, count) and ok
    with app.app_context():
        db.engine.dispose()  # no connection may stay open when the database is dropped
    return ok


HELD = [
    """INSERT INTO bounces (subscriber_id, delivery_id, kind, reason, status, domain, detail,
                           source, received_at)
       SELECT subscriber_id, id, 'hard', 'user_unknown', '5.1.1', 'example.net',
              '550 5.1.1 User unknown', 'smtp', now()
       FROM deliveries WHERE issue_id = :issue_id""",
    """INSERT INTO deliveries (issue_id, subscriber_id, status, attempts)
       SELECT :later_id, id, 'pending', 0 FROM subscribers""",
]


def editor_drops(app, issue_id: int, count: int) -> bool:
    """Every copy of the issue came back dead and the breaker holds them all (a list that
    really was that stale); an editor drops them in one request, while a later issue's copies
    wait for the same readers. Times counting the held and dropping them."""
    import sqlalchemy as sa

    from newsletter.bounces import breaker
    from newsletter.extensions import db
    from newsletter.fields import iso
    from newsletter.models import Delivery, Issue, Subscriber, Suppression

    with app.app_context():
        issue = db.session.get(Issue, issue_id)
        later = Issue(list_id=issue.list_id, number=2, subject="Bench #2", status="scheduled")
        db.session.add(later)
        db.session.flush()
        for statement in HELD:
            db.session.execute(sa.text(statement), {"issue_id": issue_id, "later_id": later.id})
        since = iso(issue.started_at)
        issue.mass_bounce = {"since": since, "at": since, "bounces": count, "copies": count}
        issue.mass_bounce |= {"said": "user unknown", "decision": None}
        db.session.commit()
        started = time.perf_counter()
        held = breaker.held_count(issue)
        counting = time.perf_counter() - started
        started = time.perf_counter()
        dropped = breaker.decide(issue, "dropped")
        seconds = time.perf_counter() - started
        counts = [
            db.session.scalar(sa.select(sa.func.count()).where(*where).select_from(table))
            for table, where in [
                (Subscriber, [Subscriber.status == "bounced"]),
                (Suppression, []),
                (Delivery, [Delivery.issue_id == later.id]),
            ]
        ]
        good = held == dropped == count and counts == [count, count, 0]
        print(
            f"an editor drops {count} held readers: counted in {counting:.2f} s, dropped in"
            f" {seconds:.2f} s ({count / seconds:.0f}/s); {counts[0]} bounced, {counts[1]}"
            f" suppressed, {counts[2]} copies of the next issue left: {'ok' if good else 'WRONG'}"
        )
        db.session.remove()
    return good


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bounces", type=int, default=20_000)
    parser.add_argument("--connections", default="1,4", help="comma-separated K values")
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    connections = [int(k) for k in args.connections.split(",")]

    with (
        fresh_database(args.database_url) as database_url,
        tempfile.TemporaryDirectory(prefix="bench-bounces-") as folder,
    ):
        ok = run(args.bounces, connections, database_url, Path(folder))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
