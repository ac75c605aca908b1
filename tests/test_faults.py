"""Faults in the middle of a send, with real worker processes: a worker killed with SIGKILL,
Redis restarted, the SMTP server gone. Each time the issue finishes after recovery, every
reader gets it, and repeats are no more than the messages in flight at the fault. Then four
workers share one issue with no reader served twice."""

import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from builders import add_subscribers, draft, states
from conftest import free_port, wait_until

from newsletter.extensions import db
from newsletter.models import Issue
from newsletter.sending import lifecycle

pytestmark = pytest.mark.slow

READERS = 300
WINDOW = 10
# Small batches, so a fault lands mid-send; leases, beat and stall detection as shipped, so
# recovery is measured with the default settings (within 60 s, inside the test's 90).
SMALL_BATCHES = {
    "NEWSLETTER_SEND_WINDOW": str(WINDOW),
    "NEWSLETTER_BATCH_SIZE": "50",
}


@pytest.fixture
def shared_backends(backends):
    """Several workers on one issue is a PostgreSQL and Redis deployment: claims made one at a
    time under an advisory lock, and a broker that hands each task to one worker. The
    embedded defaults are for one."""
    if not (
        backends.database_url.startswith("postgresql") and backends.broker_url.startswith("redis")
    ):
        pytest.skip("needs PostgreSQL and Redis, as several workers do")
    return backends


def wait_ready(process, timeout: float = 60) -> None:
    wait_until(
        lambda: b" ready." in process.log_path.read_bytes(),
        timeout=timeout,
        message=f"worker {process.pid} did not start",
    )


def kill_at_message(inbox, process, number: int) -> threading.Event:
    """SIGKILL the process as the inbox takes its `number`th message; the event says when."""
    killed = threading.Event()

    def on_message(count):
        if count == number:
            process.send_signal(signal.SIGKILL)
            killed.set()

    inbox.handler.on_message = on_message
    return killed


def served(inbox) -> Counter:
    return Counter(r for m in inbox.messages for r in m.recipients)


def assert_everyone_served(inbox, issue_id: int, max_repeats: int) -> None:
    try:
        wait_until(lambda: db.session.get(Issue, issue_id).status == "sent", timeout=90)
    except AssertionError:
        issue = db.session.get(Issue, issue_id)
        raise AssertionError(
            f"the issue did not finish after recovery: {issue.status}, {states(issue_id)},"
            f" {issue.error_streak} errors in a row, {len(inbox.messages)} messages received"
        ) from None
    counts = served(inbox)
    assert set(counts) == {f"reader{n}@example.org" for n in range(READERS)}
    assert sum(counts.values()) - READERS <= max_repeats
    assert states(issue_id) == {"total": READERS, "sent": READERS, "failed": 0, "pending": 0}


def test_a_worker_killed_mid_send(app, weekly, inbox, worker_process, shared_backends):
    add_subscribers(weekly, READERS)
    issue = draft(weekly)
    victim = worker_process("--pool", "solo", **SMALL_BATCHES)
    wait_ready(victim)
    killed = kill_at_message(inbox, victim, 100)
    lifecycle.send_issue_now(issue)
    assert killed.wait(60), "the send never reached 100 messages"
    victim.wait(timeout=10)
    at_kill = len(inbox.messages)
    assert at_kill < READERS
    # The one survivor runs beat too: it frees the dead batch's rows and carries on.
    worker_process("--pool", "solo", "--beat", **SMALL_BATCHES)
    # Only the dead worker's unrecorded window can be sent twice.
    assert_everyone_served(inbox, issue.id, max_repeats=WINDOW)


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server to restart")
def test_redis_restarted_mid_send(app, weekly, inbox, worker_process, shared_backends, tmp_path):
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    redis = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        add_subscribers(weekly, READERS)
        issue = draft(weekly)
        sender = worker_process(
            "--pool",
            "solo",
            "--beat",
            NEWSLETTER_BROKER_URL=f"redis://127.0.0.1:{port}/0",
            **SMALL_BATCHES,
        )
        wait_ready(sender)
        restart = kill_at_message(inbox, redis, 100)
        # Due now: the worker's own beat starts it, through the Redis about to die.
        lifecycle.schedule_issue(issue, datetime.now(UTC))
        assert restart.wait(60), "the send never reached 100 messages"
        redis.wait(timeout=10)
        # Everything queued in Redis is gone; the ledger in the database is not.
        redis = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        # No worker died, so nothing is sent twice.
        assert_everyone_served(inbox, issue.id, max_repeats=0)
        assert sender.poll() is None
    finally:
        redis.kill()
        redis.wait()


def test_the_smtp_server_gone_mid_send(app, weekly, inbox, worker):
    app.config["SEND_WINDOW"] = WINDOW
    app.config["BATCH_SIZE"] = 50
    add_subscribers(weekly, READERS)
    issue = draft(weekly)

    def go_away_at_100(count):
        if count == 100:
            threading.Thread(target=inbox.stop).start()

    inbox.handler.on_message = go_away_at_100
    lifecycle.send_issue_now(issue)
    # Gone until the workers have failed to reach it a few times (backoff from 0.2 s).
    wait_until(
        lambda: db.session.get(Issue, issue.id).error_streak >= 3,
        timeout=60,
        message="no failed connection was counted",
    )
    assert len(inbox.messages) < READERS
    inbox.handler.on_message = None
    inbox.start()
    # At most the message in flight on each of the two worker threads' connections.
    assert_everyone_served(inbox, issue.id, max_repeats=2)


def test_four_worker_processes_share_one_issue(app, weekly, inbox, worker_process, shared_backends):
    add_subscribers(weekly, READERS)
    issue = draft(weekly)
    # A queue of their own: the suite's in-process worker must not take their batches.
    settings = {
        "NEWSLETTER_BATCH_SIZE": "15",
        "NEWSLETTER_SEND_PARALLEL": "8",
        "NEWSLETTER_TASK_QUEUE": f"{shared_backends.queue}-four",
        "NEWSLETTER_BEAT_INTERVAL": "0.5",
    }
    workers = [worker_process("--pool", "solo", **settings) for _ in range(3)]
    workers.append(worker_process("--pool", "solo", "--beat", **settings))
    for process in workers:
        wait_ready(process)
    # A server that takes a moment per message, so no worker can finish before the others
    # have fetched their batches.
    inbox.handler.on_message = lambda count: time.sleep(0.01)
    lifecycle.schedule_issue(issue, datetime.now(UTC))  # the fourth worker's beat starts it
    assert_everyone_served(inbox, issue.id, max_repeats=0)
    assert max(served(inbox).values()) == 1
    for process in workers:
        log = process.log_path.read_text()
        sent = sum(int(n) for n in re.findall(r"batch: (\d+) sent", log))
        assert sent > 0, f"worker {process.pid} sent nothing"
