"""What the long-running processes hold after months of work: every cache has a bound, every
connection, thread and file descriptor a send or a request takes is given back.

The figures (memory per issue, per thousand requests) are printed by bench/soak.py; these
tests check what does not depend on the machine. Those that start real processes are slow.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import pkgutil
import smtplib
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from bounce_mail import BOUNCE_DOMAIN, dsn
from builders import (
    add_subscribers,
    archived_issues,
    confirmed_subscriber,
    needs_queue,
    weekly_issue,
)
from conftest import free_port, wait_until
from limits import RateLimitItemPerSecond

import newsletter
from newsletter import analytics, click_queue, links, pages, redirects, verp
from newsletter.archive import pages as archive_pages
from newsletter.extensions import db, limiter
from newsletter.models import Delivery, Issue, IssueLink
from newsletter.sending import lifecycle, loop, throttle

# --- Caches: each has a bound --------------------------------------------------------------


@pytest.mark.slow
def test_the_archive_keeps_at_most_its_page_budget_however_many_issues_are_read(client, weekly):
    archive_pages._pages.clear()
    most = archive_pages.MOST_PAGES
    issues = archived_issues(weekly, most + 100)
    for issue in issues:
        assert client.get(f"/archive/weekly/{issue.number}").status_code == 200
    assert len(archive_pages._pages) == most
    # The last ones read are the ones kept, and still answer the same.
    newest = client.get(f"/archive/weekly/{issues[-1].number}").get_data(as_text=True)
    assert f"A post of issue {issues[-1].number}" in newest
    assert len(archive_pages._pages) == most


@pytest.mark.slow
def test_the_redirect_table_keeps_at_most_its_issues_links_and_runs(app, weekly):
    reader = confirmed_subscriber(weekly, "reader@example.org")
    issues = archived_issues(weekly, redirects.MOST_ISSUES + 50)
    copies = []
    for issue in issues:
        db.session.add(
            IssueLink(issue_id=issue.id, position=1, url=f"https://example.org/{issue.number}")
        )
        delivery = Delivery(issue_id=issue.id, subscriber_id=reader.id, status="sent")
        db.session.add(delivery)
        copies.append(delivery)
    db.session.commit()
    table = redirects.Copies(app)
    for delivery in copies:
        assert table.answer(delivery.id, 1) is not None
    starts, runs = table.index
    assert len(table.links) == redirects.MOST_ISSUES
    # Only the kept issues' runs: the index does not grow with the issues forgotten.
    assert {issue_id for _, _, issue_id in runs} == set(table.links)
    assert len(starts) == len(runs) == redirects.MOST_ISSUES
    # A forgotten issue's link still answers, read again.
    assert table.answer(copies[0].id, 1) is not None
    assert len(table.links) == redirects.MOST_ISSUES


def test_the_click_buffer_holds_at_most_one_confirmation_s_worth(app):
    queue = needs_queue(app)
    pushes = click_queue.Pushes(app, queue)
    try:
        for n in range(10 * click_queue.CONFIRM_EVERY + 3):
            assert pushes.push(click_queue.open_record(n + 1))
            assert len(pushes.unread) < click_queue.CONFIRM_EVERY
        pushes.confirm()
        assert pushes.unread == []
    finally:
        queue.client.delete(queue.key)


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_send_rate_without_redis_keeps_two_windows_of_each_limit(monkeypatch):
    """As Redis's keys expire after two windows (the GRANT script's EXPIRE), the process's
    own count keeps the current window and the one before, however long it sends."""
    clock = Clock(1_000_000.0)
    monkeypatch.setattr(throttle.time, "time", clock)
    windows = throttle.Throttle(throttle.Limits(per_second=100, per_hour=100_000), None)
    for _ in range(5000):  # a send of an hour and a half at one grant a second
        assert windows.take(10) == 10
        clock.now += 1.1
    kept = windows.local.counts
    assert len(kept) <= 4  # (1 s, this one), (1 s, the last), (1 h, this one), (1 h, the last)
    # The arithmetic is the same: the current hour's count is all this hour's grants.
    hour = int(clock.now // 3600)
    assert kept[(3600, hour - 1)] + kept.get((3600, hour), 0) > 0


def test_the_sliding_window_still_limits_after_windows_are_forgotten(monkeypatch):
    clock = Clock(2_000_000.0)
    monkeypatch.setattr(throttle.time, "time", clock)
    windows = throttle.Throttle(throttle.Limits(per_second=10), None)
    assert windows.take(10, patience=0) == 10
    assert windows.take(1, patience=0) == 0  # the second's permits are spent
    clock.now += 1.5  # half of the last second still overlaps: half its count still counts
    assert windows.take(10, patience=0) == 5


CACHE = type(functools.lru_cache(lambda: None))


def _caches():
    """Every functools cache in the package's modules: (module.name, cache)."""
    for info in pkgutil.walk_packages(newsletter.__path__, "newsletter."):
        if ".migrations" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if type(value) is CACHE and value.__module__ == info.name:
                yield f"{info.name}.{name}", value


# Unbounded, and rightly: keyed by a setting, of which a process has one.
KEYED_BY_A_SETTING = {"newsletter.click_queue._client"}


def test_every_cache_keyed_by_what_grows_has_a_maxsize():
    found = dict(_caches())
    assert "newsletter.macs._prepared" in found  # the walk does find them
    unbounded = {
        name
        for name, cache in found.items()
        if cache.cache_parameters()["maxsize"] is None
        and inspect.signature(inspect.unwrap(cache)).parameters
        and name not in KEYED_BY_A_SETTING
    }
    assert unbounded == set()


@pytest.mark.slow
def test_web_rate_limits_in_memory_forget_clients_after_their_window(app):
    """Without Redis, the limiter's counters of thousands of clients (sign-in failures,
    subscribe forms) are gone once their window has passed."""
    storage = limiter.limiter.storage
    if not hasattr(storage, "expirations"):
        pytest.skip("the rate limits are kept in Redis here")
    second = RateLimitItemPerSecond(1)
    for n in range(3000):
        limiter.limiter.hit(second, "soak", f"203.0.113.{n}")
    assert len(storage.storage) >= 3000

    def forgotten():
        limiter.limiter.hit(second, "soak", "a later client")  # the store sweeps on a hit
        return len(storage.storage) < 10

    wait_until(forgotten, timeout=10, interval=0.2)


# --- Health checks: a hung server is asked once at a time ----------------------------------


@pytest.mark.slow
def test_a_hung_database_is_asked_once_however_often_the_probe_comes(client, monkeypatch):
    """A database that takes the connection and never answers held each probe's check in a
    thread; the pool's four threads were soon all held and every later probe queued two more
    checks, without end, all run at once when the server came back."""
    release, asked = threading.Event(), []

    def hangs() -> None:
        asked.append(1)
        release.wait(30)

    monkeypatch.setattr(pages, "CHECK_SECONDS", 0.05)
    monkeypatch.setattr(pages, "CHECKS", {"database": hangs, "broker": hangs})
    try:
        for _ in range(12):
            answer = client.get("/healthz")
            assert answer.status_code == 503
            assert answer.json == {
                "status": "unavailable",
                "database": "no answer in time",
                "broker": "no answer in time",
            }
    finally:
        release.set()
    wait_until(lambda: pages._checks._work_queue.empty(), timeout=10)
    assert len(asked) == 2  # one check of each kind in flight, not one a probe
    monkeypatch.setattr(pages, "CHECKS", {"database": lambda: None, "broker": lambda: None})
    wait_until(lambda: client.get("/healthz").status_code == 200, timeout=10)


# --- A send gives back what it takes --------------------------------------------------------


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _leases() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("lease-")]


def _send_whole(issue: Issue) -> None:
    lifecycle.schedule_issue(issue, issue.created_at)
    loop.claim_due_issues()
    while loop.send_batch(issue.id).next_in is not None:
        pass
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).status == "sent"


@pytest.mark.slow
def test_a_send_gives_back_its_connections_threads_and_sockets(app, weekly, inbox):
    """After each issue, the engine's pool has every connection back, no lease thread is left
    and the SMTP sockets are closed: a worker that sends every week for a year holds what it
    held after its first send."""
    app.config["BATCH_SIZE"] = 7  # several batches, each its own SMTP session and lease
    add_subscribers(weekly, 20)
    _send_whole(weekly_issue(weekly, 1))  # the pools and imports of a first send
    inbox.wait_for(20)
    pool, fds = db.engine.pool, _fds()
    checked_out = pool.checkedout()
    for number in range(2, 7):
        _send_whole(weekly_issue(weekly, number))
        assert pool.checkedout() == checked_out
        assert _leases() == []
    inbox.wait_for(6 * 20)
    wait_until(lambda: _fds() <= fds, timeout=10, message=f"{_fds()} fds, {fds} before")


# --- Real processes ------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """A process and its descendants (a prefork pool, gunicorn's workers)."""
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        found.append(each)
        children = Path(f"/proc/{each}/task/{each}/children").read_text().split()
        todo.extend(int(child) for child in children)
    return found


def _holds(pid: int) -> dict[str, int]:
    """Open fds and threads of a process and its descendants."""
    found = {"fds": 0, "threads": 0}
    for each in _tree(pid):
        found["fds"] += len(os.listdir(f"/proc/{each}/fd"))
        status = Path(f"/proc/{each}/status").read_text()
        found["threads"] += int(status.split("Threads:")[1].split()[0])
    return found


def _ports(pid: int) -> set[int]:
    """The local TCP ports of a process's and its descendants' sockets."""
    inodes, ports = set(), set()
    for each in _tree(pid):
        for fd in Path(f"/proc/{each}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:  # closed meanwhile
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        for table in ("tcp", "tcp6"):
            for line in Path(f"/proc/{each}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _sessions(pid: int) -> int:
    """PostgreSQL sessions on the test database of a process and its descendants: by their
    sockets' ports, as this test process's own pool (the session's worker thread among it)
    holds sessions of its own."""
    count = db.session.scalar(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND client_port = ANY(:ports)"
        ),
        {"ports": sorted(_ports(pid)) or [-1]},
    )
    db.session.commit()
    return count


def _ready(process, text: str, timeout: float = 60) -> None:
    wait_until(lambda: text in Path(process.log_path).read_text(errors="replace"), timeout)


def _port_open(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the redirect's answer itself is what is asked


def _sent_by_beat(issue: Issue) -> None:
    lifecycle.schedule_issue(issue, issue.created_at)
    wait_until(lambda: issue.id in loop.dispatch(), timeout=20)
    wait_until(lambda: db.session.get(Issue, issue.id).status == "sent", timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_worker_holds_as_much_after_many_issues_as_after_a_few(
    app, weekly, inbox, worker_process, pool
):
    """Once the process that sends has sent (its connections to the database, the broker and
    the SMTP server opened), more issues hold no more fds, threads or sessions. One process
    in the pool: with two, the second may send first after the warm-up."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's sessions are counted")
    add_subscribers(weekly, 60)
    # No lease renewed during the test: a renewal while a batch holds its two connections
    # opens a third, kept in the pool after (bounded by the pool, not by the issues).
    worker = worker_process(
        "--pool",
        pool,
        "--concurrency",
        "1",
        NEWSLETTER_BATCH_SIZE="20",
        NEWSLETTER_SEND_PARALLEL="2",
        NEWSLETTER_CLAIM_LEASE="900",
    )
    _ready(worker, " ready.")
    samples = []
    for number in range(1, 16):
        _sent_by_beat(weekly_issue(weekly, number))
        if number in (5, 15):  # the first five are the warm-up
            time.sleep(0.5)  # the last batch's lease thread and SMTP session end
            samples.append({**_holds(worker.pid), "sessions": _sessions(worker.pid)})
    # No more of any after ten more issues (one fewer fd: a session that ended meanwhile).
    first, last = samples
    assert all(last[name] <= first[name] for name in first), (first, last)
    inbox.wait_for(15 * 60, timeout=30)


@pytest.mark.slow
def test_the_web_app_holds_as_much_after_thousands_of_distinct_pages(
    app, weekly, newsletter_process
):
    readers = add_subscribers(weekly, 300)
    issues = archived_issues(weekly, 300)
    copies = [
        Delivery(issue_id=issue.id, subscriber_id=readers[0].id, status="sent") for issue in issues
    ]
    db.session.add_all(copies)
    db.session.add_all(
        IssueLink(issue_id=i.id, position=1, url="https://example.org/") for i in issues
    )
    db.session.commit()
    paths = [f"/archive/weekly/{issue.number}" for issue in issues]
    paths += [f"/preferences/{links.make(links.PREFERENCES, r.id, weekly.id)}" for r in readers]
    paths += [f"/r/{analytics.token(copy.id)}/1" for copy in copies]
    port = free_port()
    web = newsletter_process("serve", "--port", str(port), "--workers", "1")
    wait_until(lambda: _port_open(port), timeout=60)

    opener = urllib.request.build_opener(NoRedirects)

    def get(path: str) -> int:
        try:
            with opener.open(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    for path in paths[::10]:  # warm-up: one of each kind, the templates compiled
        get(path)
    before = _holds(web.pid)
    assert {get(path) for path in paths} == {200, 302}
    after = _holds(web.pid)
    assert after["threads"] == before["threads"]
    assert after["fds"] <= before["fds"] + 1  # the socket of a keep-alive at most


@pytest.mark.slow
def test_the_web_server_s_arbiter_holds_no_database_session(app, newsletter_process):
    """gunicorn's arbiter checks the schema, then forks its workers and only watches them:
    the check's connection was kept open for the server's life, and each worker inherited
    its socket. Each worker connects when it first needs to."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's sessions are counted")
    port = free_port()
    web = newsletter_process("serve", "--port", str(port), "--workers", "2")
    wait_until(lambda: _port_open(port), timeout=60)
    wait_until(lambda: len(_tree(web.pid)) == 3, timeout=20)  # the arbiter and two workers
    wait_until(lambda: _sessions(web.pid) == 0, timeout=10, message="a session is held")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as answer:
        assert answer.status == 200
    assert _sessions(web.pid) == 1  # the worker that answered


@pytest.mark.slow
def test_the_bounce_server_holds_as_much_after_hundreds_of_reports(app, weekly, newsletter_process):
    app.config["BOUNCE_DOMAIN"] = BOUNCE_DOMAIN
    reader = confirmed_subscriber(weekly, "reader@example.org")
    issues = archived_issues(weekly, 5)
    copies = [Delivery(issue_id=i.id, subscriber_id=reader.id, status="sent") for i in issues]
    db.session.add_all(copies)
    db.session.commit()
    paths = [verp.return_path(copy.id) for copy in copies]
    port = free_port()
    server = newsletter_process(
        "bounces", "serve", "--port", str(port), NEWSLETTER_BOUNCE_DOMAIN=BOUNCE_DOMAIN
    )
    wait_until(lambda: _port_open(port), timeout=60)

    def report(n: int) -> None:
        to = paths[n % len(paths)]
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("", [to], dsn("reader@example.org", "4.2.2", to=to))

    for n in range(100):  # the warm-up: the database's and the broker's connections opened
        report(n)
    before = _holds(server.pid)
    for n in range(300):
        report(n)
    # A session's socket is closed a moment after its QUIT.
    wait_until(
        lambda: _holds(server.pid)["fds"] <= before["fds"],
        timeout=10,
        message=f"{_holds(server.pid)} after 300 reports, {before} before",
    )
    # The main thread, the server's event loop, and the loop's default executor, which
    # starts threads as reports overlap, up to its bound.
    assert _holds(server.pid)["threads"] <= 2 + min(32, (os.cpu_count() or 1) + 4)
