"""What readers touch after a send, under load: the click redirect, the one-click
unsubscribe, the subscribe form and an archive page, driven by wrk against gunicorn.

Makes a list of N confirmed subscribers in a fresh PostgreSQL database, composes a digest
from the sample feed and starts it as beat would (render, tracked links, one delivery per
subscriber), then marks it sent. Each endpoint gets a file of paths over many subscribers
(a valid click token per delivery, an unsubscribe token per subscriber), which wrk's Lua
script walks round-robin, each thread from its own place. In the same run, the same
gunicorn settings serve a WSGI app that answers "hello", with the same wrk settings: the
ceiling on this machine. Prints requests per second, p50 and p99, the ratio to the
ceiling, the CPU per request of gunicorn's workers, of PostgreSQL's sessions, of Redis (when
it runs here) and of the whole machine, and the answers by status class; exits non-zero
when anything answered 5xx. Then writes the clicks the redirect queued, as beat's
drain_clicks job would, and says what that cost.

    .venv/bin/python bench/web.py --subscribers 10000 --duration 10 --connections 32

Needs PostgreSQL and Redis on 127.0.0.1 (or --database-url / --redis-url); installs
Debian's wrk package when it is missing.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_seconds, free_port, fresh_database, need_wrk  # noqa: E402
from send import prepare  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.5  # the redirect's share of the ceiling
TARGET_P99_MS = 50

HELLO = """
def app(environ, start_response):
    body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [body]
"""

# Each thread walks the paths round-robin from its own place; `response` counts answers by
# status class, `done` prints one line the bench reads.
SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
wrk.method = "%(method)s"
%(body)s
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  index = id * math.floor(#paths / %(threads)d)
  s2, s3, s4, s5 = 0, 0, 0, 0
end
function request()
  index = index %% #paths + 1
  return wrk.format(nil, paths[index])
end
function response(status, headers, body)
  if status >= 500 then s5 = s5 + 1
  elseif status >= 400 then s4 = s4 + 1
  elseif status >= 300 then s3 = s3 + 1
  else s2 = s2 + 1 end
end
function done(summary, latency, requests)
  local t = {0, 0, 0, 0}
  for _, thread in ipairs(threads) do
    t[1] = t[1] + thread:get("s2"); t[2] = t[2] + thread:get("s3")
    t[3] = t[3] + thread:get("s4"); t[4] = t[4] + thread:get("s5")
  end
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    t[1], t[2], t[3], t[4], e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Endpoint:
    name: str
    paths: list[str]
    method: str = "GET"
    body: str | None = None


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    socket_errors: int
    # CPU µs per request: gunicorn's workers, PostgreSQL's sessions, the whole machine.
    cpu: dict[str, float] | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn's (sync)"
    )
    parser.add_argument("--database-url", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    need_wrk()
    with fresh_database(args.database_url) as database_url, tempfile.TemporaryDirectory() as tmp:
        failed = run(args, database_url, Path(tmp))
    sys.exit(1 if failed else 0)


def run(args, database_url: str, tmp: Path) -> bool:
    queue = f"bench-web-{os.getpid()}"
    env = {
        **os.environ,
        "NEWSLETTER_DATABASE_URL": database_url,
        "NEWSLETTER_BROKER_URL": args.redis_url,
        # Goodbye emails wait in a queue of the bench's own, emptied at the end.
        "NEWSLETTER_TASK_QUEUE": queue,
        "NEWSLETTER_SMTP_URL": "smtp://127.0.0.1:1",
        "NEWSLETTER_BASE_URL": "https://news.example.org",
        "NEWSLETTER_SECRET_KEY": "bench-secret",
    }
    os.environ.update(env)
    from newsletter import create_app

    load_average = os.getloadavg()
    app = create_app()
    with app.app_context():
        endpoints = sent_issue(args.subscribers)
    (tmp / "hello.py").write_text(HELLO)
    ceiling_endpoint = Endpoint("hello (the ceiling)", ["/"])
    try:
        # Both servers up at once (idle workers cost nothing), so the ceiling is measured
        # just before and just after the redirect: others' load on a shared machine moves
        # both alike.
        with (
            gunicorn(args, "hello:app", env, tmp) as hello,
            gunicorn(args, "newsletter:create_app()", env, tmp) as server,
        ):
            for endpoint in endpoints:
                warm_up(args, endpoint, tmp, server)
            ceilings = [load(args, ceiling_endpoint, tmp, hello)]
            results = {}
            for endpoint in endpoints:
                results[endpoint.name] = load(args, endpoint, tmp, server)
                if len(ceilings) == 1:
                    ceilings.append(load(args, ceiling_endpoint, tmp, hello))
        ceiling = mean(ceilings)
        with app.app_context():
            drained = drain_clicks()
    finally:
        import redis

        redis.Redis.from_url(args.redis_url).delete(queue, f"{queue}-clicks")
    report(args, ceiling, results)
    rates = ", ".join(f"{run.rate:.0f}" for run in ceilings)
    print(f"the ceiling before and after the redirect: {rates} req/s")
    print(f"load average before the bench (1, 5, 15 min): {', '.join(map(str, load_average))}")
    print(drained)
    return any(result.statuses["5xx"] for result in [ceiling, *results.values()])


def sent_issue(count: int) -> list[Endpoint]:
    """A sent digest to `count` subscribers, and the paths readers of it would ask for."""
    import sqlalchemy as sa

    from newsletter import analytics, links
    from newsletter.extensions import db
    from newsletter.models import Delivery, Issue, IssueLink, MailingList
    from newsletter.sending import loop

    issue_id, _ = prepare(count)
    issue = db.session.get(Issue, issue_id)
    issue.status, issue.send_at = "scheduled", datetime.now(UTC)
    db.session.commit()
    started = time.monotonic()
    assert loop.claim_due_issues() == [issue_id]  # render, tracked links, the ledger
    # As if the workers had sent every copy.
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.issue_id == issue_id)
        .values(status="sent", sent_at=datetime.now(UTC))
    )
    db.session.execute(sa.update(Issue).where(Issue.id == issue_id).values(status="sent"))
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    print(f"issue sent (render + ledger): {time.monotonic() - started:.1f} s", flush=True)
    issue = db.session.get(Issue, issue_id)
    mailing_list = db.session.get(MailingList, issue.list_id)
    positions = db.session.scalars(
        sa.select(IssueLink.position).where(IssueLink.issue_id == issue_id)
    ).all()
    deliveries = db.session.execute(
        sa.select(Delivery.id, Delivery.subscriber_id)
        .where(Delivery.issue_id == issue_id)
        .order_by(Delivery.id)
    ).all()
    print(f"deliveries: {len(deliveries)}, tracked links: {len(positions)}", flush=True)
    clicks = [
        f"/r/{analytics.token(row.id)}/{positions[n % len(positions)]}"
        for n, row in enumerate(deliveries)
    ]
    unsubscribe = links.Links(links.UNSUBSCRIBE, mailing_list.id)
    leaving = [f"/unsubscribe/{unsubscribe.token(row.subscriber_id)}" for row in deliveries]
    return [
        Endpoint("click redirect GET /r/<token>/<n>", clicks),
        Endpoint(
            "one-click unsubscribe POST",
            leaving,
            method="POST",
            body="List-Unsubscribe=One-Click",
        ),
        Endpoint("subscribe form GET", [f"/subscribe/{mailing_list.slug}"]),
        Endpoint("archive page GET", [f"/archive/{mailing_list.slug}/{issue.number}"]),
    ]


def mean(results: list[Result]) -> Result:
    """The runs' rates, percentiles and CPU averaged; their answers added up."""
    n = len(results)
    return Result(
        rate=sum(r.rate for r in results) / n,
        p50_ms=sum(r.p50_ms for r in results) / n,
        p99_ms=sum(r.p99_ms for r in results) / n,
        statuses={k: sum(r.statuses[k] for r in results) for k in results[0].statuses},
        socket_errors=sum(r.socket_errors for r in results),
        cpu={k: sum(r.cpu[k] for r in results) / n for k in results[0].cpu},
    )


def drain_clicks() -> str:
    """What beat's drain_clicks job does with the redirects' queued clicks, timed here: the
    clicks' cost that left the request."""
    import sqlalchemy as sa
    from flask import current_app

    from newsletter import click_queue
    from newsletter.extensions import db

    queue = click_queue.for_app(current_app.config)
    if queue is None:
        return "clicks were written as they came (no Redis queue)"
    waiting = len(queue)
    backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    db.session.commit()
    started, cpu, pg = time.monotonic(), time.process_time(), cpu_seconds(backend)
    written = click_queue.drain()
    wall, cpu, pg = (
        time.monotonic() - started,
        time.process_time() - cpu,
        cpu_seconds(backend) - pg,
    )
    per_click = max(written, 1) / 1e6
    return (
        f"drain: {written} of {waiting} queued clicks written in {wall:.2f} s; CPU per click:"
        f" {cpu / per_click:.0f} µs in the drain, {pg / per_click:.0f} µs in PostgreSQL"
    )


class gunicorn:  # noqa: N801 - used as `with gunicorn(...)`
    """gunicorn serving `app` with the settings `newsletter serve` uses (sync workers, the
    access log on standard output), until the block ends."""

    def __init__(self, args, app: str, env: dict, tmp: Path):
        self.port = free_port()
        self.count = args.workers
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(args.workers), "--worker-class", "sync"]
        command += ["--access-logfile", "-", app]
        self.process = subprocess.Popen(
            command, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def __enter__(self):
        # The master listens before it forks: wait for every worker too, or a load started
        # at once counts the CPU of only some of them.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                if len(self.workers()) == self.count:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def workers(self) -> list[int]:
        """The worker processes: children of gunicorn's master."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def script(args, endpoint: Endpoint, tmp: Path) -> Path:
    slug = "".join(c if c.isalnum() else "-" for c in endpoint.name)
    paths = tmp / f"{slug}.paths"
    paths.write_text("\n".join(endpoint.paths) + "\n")
    body = ""
    if endpoint.body:
        body = f'wrk.body = "{endpoint.body}"\n'
        body += 'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"'
    lua = tmp / f"{slug}.lua"
    lua.write_text(
        SCRIPT % {"paths": paths, "method": endpoint.method, "body": body, "threads": args.threads}
    )
    return lua


def wrk(args, url: str, lua: Path, duration: int, connections: int) -> Result:
    command = ["wrk", "--latency", "-t", str(args.threads), "-c", str(connections)]
    command += ["-d", f"{duration}s", "-s", str(lua), url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    requests, micros, p50, p99, s2, s3, s4, s5, errors = map(int, line.split()[1:])
    return Result(
        rate=requests / (micros / 1e6),
        p50_ms=p50 / 1000,
        p99_ms=p99 / 1000,
        statuses={"2xx": s2, "3xx": s3, "4xx": s4, "5xx": s5},
        socket_errors=errors,
    )


def load(args, endpoint: Endpoint, tmp: Path, server: gunicorn) -> Result:
    lua = script(args, endpoint, tmp)
    groups = {
        "gunicorn": server.workers(),
        "PostgreSQL": postgres_sessions(),
        "Redis": redis_server(args.redis_url),
    }
    before = {name: sum(map(cpu_seconds, pids)) for name, pids in groups.items()}
    machine = busy_seconds()
    result = wrk(args, server.url, lua, args.duration, args.connections)
    machine = busy_seconds() - machine
    requests = result.rate * args.duration
    result.cpu = {
        name: (sum(map(cpu_seconds, pids)) - before[name]) / requests * 1e6
        for name, pids in groups.items()
    }
    result.cpu["machine"] = machine / requests * 1e6
    return result


def postgres_sessions() -> list[int]:
    """Server process ids of every session on the bench's database but the bench's own."""
    import sqlalchemy as sa

    from newsletter import create_app
    from newsletter.extensions import db

    with create_app().app_context():
        pids = db.session.scalars(
            sa.text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
        db.session.remove()
        db.engine.dispose()
    return list(pids)


def redis_server(url: str) -> list[int]:
    """Redis's process when it runs on this machine (its CPU counts only then)."""
    import redis

    pid = redis.Redis.from_url(url).info("server")["process_id"]
    return [pid] if Path(f"/proc/{pid}").exists() else []


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent on anything but idling, from /proc/stat."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def warm_up(args, endpoint: Endpoint, tmp: Path, server: gunicorn) -> None:
    """Every worker imports, connects and compiles its templates before the clock runs. The
    unsubscribe warms up with its GET page, so every leaving is left for the measurement."""
    warm = Endpoint(endpoint.name + " warm", endpoint.paths[-200:])
    wrk(args, server.url, script(args, warm, tmp), 2, args.workers * 2)


def report(args, ceiling: Result, results: dict[str, Result]) -> None:
    print(
        f"machine: {os.cpu_count()} cores; gunicorn: {args.workers} sync workers; wrk:"
        f" {args.threads} threads, {args.connections} connections, {args.duration} s each"
    )
    print(
        f"{'endpoint':<36} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'ceiling':>7}"
        f" {'CPU µs/request: gunicorn':>25} {'PostgreSQL':>10} {'Redis':>6} {'machine':>8}"
        "  answers"
    )
    for name, result in {"hello (the ceiling)": ceiling, **results}.items():
        answers = ", ".join(f"{n} {cls}" for cls, n in result.statuses.items() if n)
        if result.socket_errors:
            answers += f", {result.socket_errors} socket errors"
        cpu = result.cpu
        print(
            f"{name:<36} {result.rate:>6.0f} {result.p50_ms:>7.1f} {result.p99_ms:>7.1f}"
            f" {result.rate / ceiling.rate:>7.0%} {cpu['gunicorn']:>25.0f}"
            f" {cpu['PostgreSQL']:>10.0f} {cpu['Redis']:>6.0f} {cpu['machine']:>8.0f}  {answers}"
        )
    redirect = next(iter(results.values()))
    met = redirect.rate >= TARGET * ceiling.rate and redirect.p99_ms < TARGET_P99_MS
    print(
        f"target (redirect ≥ {TARGET:.0%} of the ceiling, p99 < {TARGET_P99_MS} ms):"
        f" {'met' if met else 'not met'}"
    )
    print(
        "machine: CPU the whole machine spent per request, wrk and anything else running included"
    )


if __name__ == "__main__":
    main()
