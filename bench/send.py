"""End-to-end send benchmark: one real digest to N readers through Celery, Redis and SMTP.

Makes N confirmed subscribers in a fresh PostgreSQL database, composes a digest from the
sample feed, starts W worker processes and Postfix's smtp-sink, and sends the issue. In the
same run, smtp-source sends the same message to the same sink, before the send and again
after it (the best counts), which is the limit to compare against. Prints emails per
second end to end (from the scheduled time to the last delivery recorded), the raw
smtp-source rates, their ratio, per-batch p50/p99, each worker's peak memory and the CPU
per message of the workers, the sink and PostgreSQL. With
--dkim it also times RSA signatures and prints the machine's ceiling for signed mail; with
--profile, where the workers' CPU goes: each stage's CPU, timed, and the functions, sampled.

    .venv/bin/python bench/send.py --subscribers 100000 --workers 2

Needs PostgreSQL and Redis on 127.0.0.1 (or --database-url / --redis-url); installs
Debian's postfix package for smtp-sink and smtp-source when they are missing.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    cpu_seconds,
    cpu_split,
    free_port,
    fresh_database,
    machine_ticks,
    machine_use,
    memory_peak,
    need_postfix,
    serve_folder,
    start_sink,
    wait_for_port,
)  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "PostgreSQL (every session, the start's included)"
BATCH_LINE = re.compile(r"batch: (\d+) sent, (\d+) failed, (\d+) deferred in ([\d.]+) s")
# Celery's log line starts with its time: when a batch ended.
STAMPED = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})[^\n]*?" + BATCH_LINE.pattern, re.M)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, help="default: NEWSLETTER_BATCH_SIZE's")
    parser.add_argument(
        "--pool", default="solo", help="solo: one batch at a time per worker; threads: several"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="batches at once per worker")
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--window", type=int, default=50, help="messages per bookkeeping write")
    parser.add_argument("--dkim", action="store_true", help="sign every message (RSA 2048)")
    parser.add_argument(
        "--profile", action="store_true", help="print where the workers' CPU goes, by stage"
    )
    parser.add_argument(
        "--shuffled",
        action="store_true",
        help="subscriptions stored in no order, as a list's rows are after months of changes",
    )
    args = parser.parse_args()
    need_postfix()
    with fresh_database(args.database_url) as database_url, tempfile.TemporaryDirectory() as tmp:
        run(args, database_url, Path(tmp))


def run(args, database_url: str, tmp: Path) -> None:
    sink_port = free_port()
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_BROKER_URL": args.redis_url,
        "NEWSLETTER_TASK_QUEUE": f"bench-{os.getpid()}",
        "NEWSLETTER_SMTP_URL": f"smtp://127.0.0.1:{sink_port}",
        "NEWSLETTER_BASE_URL": "https://news.example.org",
        "NEWSLETTER_SECRET_KEY": "bench-secret",
        "NEWSLETTER_SEND_WINDOW": str(args.window),
    }
    if args.batch_size:
        env["NEWSLETTER_BATCH_SIZE"] = str(args.batch_size)
    if args.dkim:
        env["NEWSLETTER_DKIM_KEY_FILE"] = dkim_key(tmp)
    os.environ.update(env)
    from newsletter import create_app

    app = create_app()
    args.batch_size = app.config["BATCH_SIZE"]
    with app.app_context():
        issue_id, size = prepare(args.subscribers, args.shuffled)
        message = sample_message(issue_id)
        built = build_cost(issue_id)
    (tmp / "message.txt").write_bytes(message.replace(b"\r\n", b"\n"))
    sink = start_sink(sink_port)
    workers = []
    try:
        wait_for_port(sink_port)
        raw = {
            (sessions, keep): smtp_source(tmp / "message.txt", sink_port, sessions, keep)
            for keep in (False, True)
            for sessions in sorted({1, args.workers, 4})
        }
        # Timed before the send and again after it, as the limit is (below).
        signatures = [signature_cost(tmp / "dkim.pem")] if args.dkim else []
        workers = start_workers(args, env, tmp)
        # Starting up (imports, connecting) is no message's cost.
        wait_until_ready(tmp, len(workers))
        for n in range(len(workers)):
            (tmp / f"profile-{n}.json.start").touch()  # the profiler's cue, when it runs
        peaks = {worker.pid: 0 for worker in workers}
        watcher = threading.Thread(target=watch_memory, args=(workers, peaks), daemon=True)
        watcher.start()
        processes = {"workers": workers, "smtp-sink": [sink]}
        cpu_before = {
            name: sum(map(cpu_seconds, (p.pid for p in ps))) for name, ps in processes.items()
        }
        kernel_before = sum(cpu_split(worker.pid)[1] for worker in workers)
        with app.app_context():
            elapsed, starting, counts, ticks, spent = send(issue_id)
        machine = machine_use(ticks[0], ticks[2]), machine_use(ticks[1], ticks[2])
        cpu = {
            name: sum(map(cpu_seconds, (p.pid for p in ps))) - cpu_before[name]
            for name, ps in processes.items()
        }
        # The start runs here, as beat's dispatch would in a worker: its CPU is the send's.
        cpu["workers"] += spent["dispatch"]
        kernel = sum(cpu_split(worker.pid)[1] for worker in workers) - kernel_before
        cpu[POSTGRES] = spent["postgres"]
        for worker in workers:
            peaks[worker.pid] = max(peaks[worker.pid], memory_peak(worker.pid))
        # The limit again, once the send is done and counted: a moment's noise before it (the
        # database writing out the readers just made) does not make it look lower than it is.
        for sessions, keep in raw:
            if keep:
                again = smtp_source(tmp / "message.txt", sink_port, sessions, keep)
                raw[sessions, keep] = max(raw[sessions, keep], again)
        if args.dkim:
            signatures.append(signature_cost(tmp / "dkim.pem"))
    finally:
        for process in [*workers, sink]:
            process.send_signal(signal.SIGTERM)
        for process in [*workers, sink]:
            process.wait(timeout=30)
    batches = batch_times(tmp)
    at_once = batches_at_once(tmp)
    report(args, size, len(message), elapsed, counts, raw, batches, peaks)
    sent = max(counts["sent"], 1)
    spans = ", ".join(f"{n}: {seconds:.2f} s" for n, seconds in at_once.items())
    print(f"batches running at once, first batch to last: {spans}")
    for name, seconds in cpu.items():
        print(f"CPU per message, {name}: {seconds / sent * 1e6:.0f} µs")
    # The kernel's part is mostly the sockets: the same copies smtp-source makes.
    print(f"  of the workers' CPU, in the kernel: {kernel / sent * 1e6:.0f} µs")
    print(
        f"after the start (render + ledger): {counts['sent'] / (elapsed - starting):.0f} emails/s"
    )
    # Idle time is CPU the send could have used: waits no other work filled.
    print(f"the machine's CPU during the send: {machine[0]}")
    print(f"  after the start: {machine[1]}")
    for name, seconds in built.items():
        print(f"building one tracked copy in process, {name}: {seconds * 1e6:.0f} µs")
    if args.dkim:
        dkim_ceiling(signatures, cpu, sent, counts["sent"] / elapsed)
    if args.profile:
        print_profile(tmp, sent, cpu["workers"])


def signature_cost(key_file: Path, count: int = 2000) -> float:
    """Seconds of CPU for one RSA signature with the workers' key and library."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, utils

    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    digest = bytes(32)
    started = time.process_time()
    for _ in range(count):
        key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    return (time.process_time() - started) / count


def dkim_ceiling(signatures: list[float], cpu: dict, sent: int, rate: float) -> None:
    """What the machine could sign and send at best: its cores over the CPU every signed
    message costs outside our code (the signature, the sink, PostgreSQL).

    A signature timed alone has cost 250 µs and 350 µs within minutes on one machine: the
    fastest of its timings is taken, so the ceiling is never lower than the machine's and
    what the workers spend over the signature never looks smaller than it is."""
    signature = min(signatures)
    floor = signature + (cpu["smtp-sink"] + cpu[POSTGRES]) / sent
    ceiling = (os.cpu_count() or 1) / floor
    timed = ", ".join(f"{seconds * 1e6:.0f}" for seconds in signatures)
    print(f"RSA-2048 signature:     {signature * 1e6:.0f} µs of CPU each (the fastest of {timed})")
    print(
        f"ceiling for signed mail: {os.cpu_count()} cores / ({signature * 1e6:.0f} signature"
        f" + {floor * 1e6 - signature * 1e6:.0f} sink and PostgreSQL µs) = {ceiling:.0f} emails/s;"
        f" end to end is {rate / ceiling:.0%} of it"
    )
    print(f"worker CPU over the signature: {cpu['workers'] / sent * 1e6 - signature * 1e6:.0f} µs")


def print_profile(tmp: Path, sent: int, workers_cpu: float) -> None:
    """The workers' CPU per message by stage, and the functions it is spent in."""
    stages, functions, ours = (collections.Counter() for _ in range(3))
    for path in tmp.glob("profile-*.json"):
        profile = json.loads(path.read_text())
        stages.update(profile["stages"])
        functions.update(profile["functions"])
        ours.update(profile["ours"])
    # What no stage's clock took: Celery, the threads, the loop between stages.
    stages["other (Celery, threads, the loop)"] = workers_cpu - sum(stages.values())
    print(f"worker CPU by stage (timed), µs per message, of {workers_cpu / sent * 1e6:.0f}:")
    for stage, seconds in stages.most_common():
        print(f"  {stage:<34} {seconds / sent * 1e6:6.1f}")
    for title, totals in (
        ("functions (self)", functions),
        ("our functions (self + libraries)", ours),
    ):
        print(f"  top {title}, sampled (with threads, favouring where they wait):")
        for name, seconds in totals.most_common(15):
            print(f"    {seconds / sent * 1e6:6.1f}  {name}")


def dkim_key(tmp: Path) -> str:
    """A fresh 2048-bit RSA key, as a sender would publish."""
    from newsletter.signing import new_key

    path = tmp / "dkim.pem"
    path.write_bytes(new_key()[0])
    return str(path)


def prepare(count: int, shuffled: bool = False) -> tuple[int, int]:
    """A list of `count` confirmed readers and a draft digest of the sample feed."""
    import sqlalchemy as sa
    from flask import current_app
    from flask_migrate import upgrade

    from newsletter.digest.compose import compose_issue
    from newsletter.extensions import db
    from newsletter.models import MailingList
    from newsletter.posts import feeds, service

    upgrade(directory=str(ROOT / "newsletter" / "migrations"))
    weekly = MailingList(
        slug="weekly",
        name="Weekly Digest",
        from_email="digest@news.example.org",
        from_name="Example News",
        opt_in="double",
        postal_address="Example News, 1 Main Street, Springfield",
    )
    db.session.add(weekly)
    db.session.commit()
    started = time.monotonic()
    # Set-wise, as an import would: readers are not the thing measured here.
    db.session.execute(
        sa.text(
            "INSERT INTO subscribers (email, name, status, attributes, created_at) "
            "SELECT 'reader' || n || '@example.org', 'Reader ' || n, 'active', '{}', now() "
            "FROM generate_series(1, :count) AS n"
        ),
        {"count": count},
    )
    db.session.execute(
        sa.text(
            "INSERT INTO subscriptions (subscriber_id, list_id, status, created_at) "
            "SELECT id, :list_id, 'confirmed', now() FROM subscribers"
            # A list's rows move as they change (confirmed, paused, moved to another rhythm):
            # after months they lie in no order.
            + (" ORDER BY random()" if shuffled else "")
        ),
        {"list_id": weekly.id},
    )
    db.session.commit()
    # As autovacuum would have by send day, and not while the limit is measured.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    print(f"readers created: {count} in {time.monotonic() - started:.1f} s", flush=True)
    with serve_folder(ROOT / "tests" / "data") as base:
        # Served on loopback, which feeds may only use when the operator names it.
        current_app.config["FEED_ALLOW_HOSTS"] = base.removeprefix("http://")
        feed = service.add_feed(weekly, f"{base}/interlink-feed.xml")
        feeds.fetch_feed(feed)
    issue = compose_issue(
        weekly, datetime(2019, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)
    )
    return issue.id, count


def send_letter(issue_id: int):
    """The issue's letter as a send makes it: rendered with its tracked links (and the open
    pixel when the list counts opens), each link at its position."""
    from newsletter.digest.render import render_issue, tracked_links
    from newsletter.extensions import db
    from newsletter.models import Issue
    from newsletter.sending.letter import IssueLetter

    issue = db.session.get(Issue, issue_id)
    mailing_list = issue.mailing_list
    links = tracked_links(issue) if mailing_list.track_clicks else []
    html, text = render_issue(issue, links=links, pixel=mailing_list.track_opens)
    return IssueLetter(issue, html, text, link_urls=dict(enumerate(links, 1)))


def sample_message(issue_id: int) -> bytes:
    """One reader's email, built as the workers build it: what smtp-source sends."""
    return bytes(send_letter(issue_id).build(1, 1, "reader1@example.org", "Reader 1", tracked=True))


def build_cost(issue_id: int, copies: int = 2000) -> dict[str, float]:
    """Seconds of this thread's CPU to build one tracked copy, in process, with and without
    the DKIM signature (when a key is configured): the build apart from Celery and SMTP."""
    letter = send_letter(issue_id)
    costs = {}
    for name, signature in (("signed", letter.signature), ("unsigned", None)):
        if name == "signed" and not signature:
            continue
        letter.signature = signature
        started = time.thread_time()
        for n in range(copies):
            letter.build(n, n, f"reader{n}@example.org", f"Reader {n}", tracked=True)
        costs[name] = (time.thread_time() - started) / copies
    return costs


def smtp_source(message: Path, port: int, sessions: int, keep: bool, count=10_000) -> float:
    """The best of three runs of smtp-source with this many sessions, so the limit does not
    look lower than it is for a moment's noise. By default smtp-source opens a connection
    per message; with `keep` (its -d) it sends them all over one, as the workers do."""
    command = ["smtp-source", "-s", str(sessions), "-m", str(count), "-F", str(message)]
    command += ["-d"] if keep else []
    command += ["-f", "digest@news.example.org", "-t", "reader@example.org", f"127.0.0.1:{port}"]
    rates = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run(command, check=True)
        rates.append(count / (time.monotonic() - started))
    return max(rates)


def start_workers(args, env: dict, tmp: Path) -> list[subprocess.Popen]:
    workers = []
    for n in range(args.workers):
        log = open(tmp / f"worker-{n}.log", "wb")  # noqa: SIM115
        profiler = [str(ROOT / "bench" / "cpu_profile.py"), str(tmp / f"profile-{n}.json")]
        workers.append(
            subprocess.Popen(
                [sys.executable, *(profiler if args.profile else []), "-m", "newsletter"]
                + ["worker", "--pool", args.pool]
                + ["--concurrency", str(args.concurrency), "--name", f"bench{n}@%h"]
                + ["--loglevel", "INFO"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        )
    return workers


def wait_until_ready(tmp: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logs = [path.read_text(errors="replace") for path in tmp.glob("worker-*.log")]
        if sum(" ready." in log for log in logs) >= count:
            return
        time.sleep(0.1)
    raise RuntimeError("the workers did not start")


def send(issue_id: int) -> tuple[float, float, dict, list[list[int]], dict[str, float]]:
    """Schedule the issue now, start it as beat would, wait for the last delivery; returns
    the seconds from the scheduled time to the last delivery and to the start of sending,
    the counts, the machine's CPU ticks at the scheduled time, the start and the end, and
    the CPU seconds of the start here ("dispatch") and of PostgreSQL's sessions ("postgres":
    the workers' and the one that made the ledger)."""
    from newsletter.extensions import db
    from newsletter.models import Issue
    from newsletter.sending import ledger, lifecycle, loop

    issue = db.session.get(Issue, issue_id)
    send_at = datetime.now(UTC) + timedelta(seconds=1)
    lifecycle.schedule_issue(issue, send_at)
    # The clock starts at the scheduled time, not at the second of waiting before it.
    time.sleep(max(0.0, (send_at - datetime.now(UTC)).total_seconds()))
    sessions = backend_cpu()
    started, ticks, dispatching = time.monotonic(), [machine_ticks()], time.thread_time()
    while not loop.dispatch():
        time.sleep(0.05)
    starting, dispatching = time.monotonic() - started, time.thread_time() - dispatching
    ticks.append(machine_ticks())
    print(f"issue started (render + ledger): {starting:.2f} s", flush=True)
    while True:
        db.session.expire_all()
        issue = db.session.get(Issue, issue_id)
        if issue.status == "sent":
            break
        if issue.status != "sending":
            raise RuntimeError(f"the issue stopped: {issue.status} (see the workers' logs)")
        time.sleep(0.05)
    ticks.append(machine_ticks())
    # Ours too: it made the ledger (and its looking since costs PostgreSQL little).
    postgres = sum(cpu - sessions.get(pid, 0.0) for pid, cpu in backend_cpu().items())
    # To the moment the last batch recorded the issue sent, not to when we looked.
    elapsed = (issue.finished_at - send_at).total_seconds()
    spent = {"dispatch": dispatching, "postgres": postgres}
    return elapsed, starting, ledger.counts(issue_id), ticks, spent


def backend_cpu() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL session on this database, ours included."""
    import sqlalchemy as sa

    from newsletter.extensions import db

    pids = db.session.scalars(
        sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    )
    db.session.commit()
    return {pid: cpu_seconds(pid) for pid in pids}


def watch_memory(workers: list[subprocess.Popen], peaks: dict[int, int]) -> None:
    while all(worker.poll() is None for worker in workers):
        for worker in workers:
            peaks[worker.pid] = max(peaks[worker.pid], memory_peak(worker.pid))
        time.sleep(1)


def batches_at_once(tmp: Path) -> dict[int, float]:
    """How long (s) so many batches ran at once, from the first batch's start to the last's
    end, read from the workers' logs: fewer than the chains is time the send left idle."""
    edges = []
    for log in tmp.glob("worker-*.log"):
        for match in STAMPED.finditer(log.read_text()):
            end = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            edges += [(end - float(match.group(5)), 1), (end, -1)]
    edges.sort()
    running, since, spans = 0, None, collections.Counter()
    for moment, step in edges:
        if since is not None:
            spans[running] += moment - since
        running, since = running + step, moment
    return dict(sorted(spans.items(), reverse=True))


def batch_times(tmp: Path) -> list[float]:
    times = []
    for log in tmp.glob("worker-*.log"):
        times += [float(m.group(4)) for m in BATCH_LINE.finditer(log.read_text())]
    return sorted(times)


def report(args, size, message_bytes, elapsed, counts, raw, batches, peaks) -> None:
    rate = counts["sent"] / elapsed
    print(f"subscribers:            {size}")
    print(
        f"workers:                {args.workers} processes, {args.pool} pool,"
        f" {args.concurrency} batch(es) at once each"
    )
    print(f"message size:           {message_bytes} bytes, DKIM {'on' if args.dkim else 'off'}")
    print(f"sent / failed / pending: {counts['sent']} / {counts['failed']} / {counts['pending']}")
    print(f"end to end:             {elapsed:.1f} s, {rate:.0f} emails/s")
    for (sessions, keep), raw_rate in raw.items():
        how = "connections kept (-d)" if keep else "a connection per message"
        print(
            f"smtp-source, {sessions} session(s), {how}: {raw_rate:.0f} emails/s;"
            f" end to end is {rate / raw_rate:.0%} of it"
        )
    if batches:
        p99 = batches[min(len(batches) - 1, int(len(batches) * 0.99))]
        print(
            f"batches:                {len(batches)} of up to {args.batch_size};"
            f" p50 {statistics.median(batches):.3f} s, p99 {p99:.3f} s"
        )
    for n, peak in enumerate(peaks.values()):
        print(f"worker {n} peak memory:   {peak / 1024:.0f} MB")


if __name__ == "__main__":
    main()
