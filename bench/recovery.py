"""Fault recovery benchmark: how fast a send recovers from a killed worker or a lost broker,
with the default CLAIM_LEASE, BEAT_INTERVAL and STALL_AFTER.

Makes N confirmed subscribers in a fresh PostgreSQL database, composes a digest, starts W
worker processes (the first runs beat) on a private redis-server and an SMTP sink that
records every recipient, and sends the issue. At 30 % delivered it injects the fault:

- kill:  SIGKILL of a worker without beat; its claimed rows wait for their lease.
- redis: SIGKILL of redis-server, restarted empty on the same port once 2 s have passed
         and the batches in flight have ended; the send's queue is lost and the stall
         detector must restart it.

    .venv/bin/python bench/recovery.py --scenario both --subscribers 20000 --workers 2

Prints per scenario: recovery (fault → first delivery of a row the dead worker held, or
first delivery after the longest pause), the longest pause in deliveries after the fault,
when the rate came back to half the pre-fault rate, fault → issue sent, lost subscribers and
duplicate deliveries against their bound. Exits non-zero if anybody was lost.
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port, fresh_database  # noqa: E402
from send import prepare, wait_for_port  # noqa: E402

FAULT_AT = 0.3  # share of subscribers delivered when the fault is injected
TIMEOUT = 900  # seconds to wait for the issue to be sent


class Sink:
    """aiosmtpd handler: remembers the time, recipient and the time its connection sent its
    first message, of every message accepted."""

    def __init__(self):
        self.log: list[tuple[float, str, float]] = []

    async def handle_DATA(self, server, session, envelope):
        now = time.monotonic()
        first = session.__dict__.setdefault("first_message", now)
        self.log.extend((now, rcpt, first) for rcpt in envelope.rcpt_tos)
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["kill", "redis", "both"], default="both")
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.scenario == "both":
        # One process per scenario: each has its own app, database and broker.
        codes = [
            subprocess.run([sys.executable, __file__, *sys.argv[1:], "--scenario", s]).returncode
            for s in ("kill", "redis")
        ]
        sys.exit(max(codes))
    with fresh_database(args.database_url) as database_url, tempfile.TemporaryDirectory() as tmp:
        sys.exit(run(args, database_url, Path(tmp)))


def run(args, database_url: str, tmp: Path) -> int:
    from aiosmtpd.controller import Controller

    sink_port, redis_port = free_port(), free_port()
    # Inherited NEWSLETTER_* settings would hide the defaults this bench is about.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update(
        NEWSLETTER_DATABASE_URL=database_url,
        NEWSLETTER_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
        NEWSLETTER_TASK_QUEUE=f"recovery-{os.getpid()}",
        NEWSLETTER_SMTP_URL=f"smtp://127.0.0.1:{sink_port}",
        NEWSLETTER_BASE_URL="https://news.example.org",
        NEWSLETTER_SECRET_KEY="bench-secret",
        NEWSLETTER_INSTANCE_PATH=str(tmp / "instance"),  # beat's schedule file goes here
    )
    os.environ.clear()
    os.environ.update(env)
    from newsletter import create_app

    app = create_app()
    config = app.config
    print(
        f"== scenario {args.scenario}: {args.subscribers} subscribers, {args.workers} workers;"
        f" CLAIM_LEASE {config['CLAIM_LEASE']:g} s, BEAT_INTERVAL {config['BEAT_INTERVAL']:g} s,"
        f" STALL_AFTER {config['STALL_AFTER']:g} s, SEND_WINDOW {config['SEND_WINDOW']},"
        f" BATCH_SIZE {config['BATCH_SIZE']}, SEND_PARALLEL {config['SEND_PARALLEL']}",
        flush=True,
    )
    redis = start_redis(redis_port)
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
    controller.start()
    workers = []
    try:
        with app.app_context():
            issue_id, _ = prepare(args.subscribers)
        for n in range(args.workers):
            beat = ["--beat"] if n == 0 else []
            log = open(tmp / f"worker-{n}.log", "wb")  # noqa: SIM115
            command = [sys.executable, "-m", "newsletter", "worker", "--pool", "solo"]
            command += ["--name", f"recovery{n}@%h", "--loglevel", "INFO", *beat]
            workers.append(subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=tmp))
        with app.app_context():
            result = send_with_fault(args, issue_id, sink, workers, redis, redis_port)
        time.sleep(2)  # anything still in flight reaches the sink
    finally:
        for process in [*workers, redis]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*workers, redis]:
            process.wait(timeout=30)
        controller.stop()
    bound = config["SEND_WINDOW"] if args.scenario == "kill" else 0
    lost = report(args, sink.log, *result, bound)
    if lost:
        for n in range(args.workers):
            print(f"-- worker {n} log (tail):\n" + tail(tmp / f"worker-{n}.log"))
    return 1 if lost else 0


def start_redis(port: int) -> subprocess.Popen:
    """A private broker with no persistence: restarted, it comes back empty."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port)
    return process


def send_with_fault(args, issue_id, sink, workers, redis, redis_port):
    """Start the send, inject the fault at FAULT_AT, wait for `sent`. Returns the fault's
    time, the time the issue was sent (None: never), the subscribers the dead worker
    held, and the new redis process."""
    from newsletter.extensions import db
    from newsletter.models import BatchClaim, Delivery, Issue
    from newsletter.sending import lifecycle, loop

    lifecycle.schedule_issue(db.session.get(Issue, issue_id), datetime.now(UTC))
    while not loop.dispatch():
        time.sleep(0.05)
    while len(sink.log) < args.subscribers * FAULT_AT:
        time.sleep(0.02)
    held = set()
    if args.scenario == "kill":
        workers[-1].send_signal(signal.SIGKILL)
        fault = time.monotonic()
        claims = db.select(BatchClaim.token, BatchClaim.low, BatchClaim.high)
        before = set(db.session.execute(claims))
        # A live batch lets its range go within a second or two; the dead one's stay held.
        time.sleep(5)
        db.session.commit()
        for _, low, high in before & set(db.session.execute(claims)):
            pending = db.select(Delivery.subscriber_id).where(
                Delivery.issue_id == issue_id,
                Delivery.status == "pending",
                Delivery.subscriber_id.between(low, high),
            )
            held.update(db.session.scalars(pending))
    else:
        redis.send_signal(signal.SIGKILL)
        fault = time.monotonic()
        redis.wait()
        # Down for 2 s, and until every batch in flight has ended and failed to queue its
        # successor: a batch ending after the restart would carry its chain on, and the
        # stall detector, what this measures, would have nothing to do.
        while time.monotonic() - fault < 30 and db.session.scalar(
            db.select(BatchClaim.token).limit(1)
        ):
            db.session.commit()
            time.sleep(0.1)
        time.sleep(max(1.0, fault + 2 - time.monotonic()))
        down = time.monotonic() - fault
        workers.append(start_redis(redis_port))  # stopped with the workers at the end
        print(f"redis-server down for {down:.1f} s", flush=True)
    sent_at = None
    while time.monotonic() - fault < TIMEOUT:
        db.session.expire_all()
        if db.session.get(Issue, issue_id).status == "sent":
            sent_at = time.monotonic()
            break
        time.sleep(0.2)
    return fault, sent_at, held


def report(args, log, fault, sent_at, held, bound) -> int:
    log = sorted(log)
    after = [t for t, _, _ in log if t > fault]
    before = [t for t, _, _ in log if fault - 3 <= t <= fault]
    # The longest stretch with no delivery after the fault, and where it ended.
    gap, gap_end = 0.0, None
    for previous, current in zip([fault, *after], after, strict=False):
        if current - previous > gap:
            gap, gap_end = current - previous, current
    if args.scenario == "kill":
        # Messages the dead worker wrote before dying reach the sink just after: only a
        # connection opened since then carries its rows again.
        times = [t for t, rcpt, first in log if first > fault and subscriber(rcpt) in held]
        recovery = times[0] - fault if times else None
        what = f"first delivery of the {len(held)} rows the dead worker held"
        if not held:  # killed between batches: nothing waited for a lease
            recovery, what = 0.0, "the dead worker held no rows"
    else:
        recovery = gap_end - fault if gap_end else None
        what = "first delivery after the longest pause"
    rate = len(before) / 3
    bins = collections.Counter(int(t - fault) for t in after)
    back = next((s for s in sorted(bins) if s > 0 and bins[s] >= rate / 2), None)
    counts = collections.Counter(subscriber(rcpt) for _, rcpt, _ in log)
    lost = sum(1 for n in range(1, args.subscribers + 1) if n not in counts)
    duplicates = sum(c - 1 for c in counts.values())

    def seconds(value):
        return "never" if value is None else f"{value:.1f} s"

    print(f"recovery ({what}): {seconds(recovery)}")
    print(f"longest pause in deliveries after the fault: {gap:.1f} s")
    print(f"pre-fault rate {rate:.0f}/s; back to half of it {seconds(back)} after the fault")
    print(f"fault → issue sent: {seconds(sent_at - fault if sent_at else None)}")
    print(f"delivered {len(counts)} of {args.subscribers}; lost {lost}")
    print(f"duplicate deliveries: {duplicates} (bound {bound})")
    target = recovery is not None and recovery <= 60 and duplicates <= bound and not lost
    print(f"target (recovery ≤ 60 s, 0 lost, duplicates ≤ bound): {'met' if target else 'MISSED'}")
    return lost


def subscriber(rcpt: str) -> int:
    """reader123@example.org → 123, the subscriber's id in a fresh database."""
    return int(rcpt.split("@")[0].removeprefix("reader"))


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


if __name__ == "__main__":
    main()
