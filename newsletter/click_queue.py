"""Clicks and opens queued in Redis and written to the database in batches.

The redirect (redirects.py) only pushes a short record onto a Redis list; beat's
`drain_clicks` job writes a few thousand at a time in four statements, the same rows
analytics.record_click writes for one. The queue is used when the broker is Redis and the
database PostgreSQL (whose ids are never reused, so redirects.py may keep them in memory);
otherwise every click is written as it comes, as before.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
import time
from datetime import UTC, datetime

import redis
import sqlalchemy as sa
from flask import Flask, current_app

from newsletter.analytics import (
    BURST_SECONDS,
    copies,
    first_moments,
    likely_machine,
    who_clicked,
)
from newsletter.extensions import db
from newsletter.models import Delivery, IssueLink, LinkClick

logger = logging.getLogger(__name__)

BATCH = 5000  # records per transaction
CONFIRM_EVERY = 64  # pushes between reading Redis's replies
TIMEOUTS = {"socket_timeout": 2, "socket_connect_timeout": 2}
# A drain that holds the lock longer than this (per batch) may see a second one start.
LOCK_SECONDS = 60


class ClickQueue:
    """The Redis list of one installation (named after its task queue)."""

    def __init__(self, url: str, name: str):
        self.url = url
        self.client = _client(url)
        self.key = f"{name}-clicks"

    def __len__(self) -> int:
        return self.client.llen(self.key)


def click_record(delivery_id: int, position: int, machine: bool = False) -> bytes:
    """A click; `machine`: its agent is a machine's (analytics.machine_agent)."""
    return f"c {delivery_id} {position} {time.time():.3f} {machine:d}".encode()


def open_record(delivery_id: int, machine: bool = False) -> bytes:
    return f"o {delivery_id} {time.time():.3f} {machine:d}".encode()


class Pushes:
    """Records pushed onto the queue without waiting for Redis's reply to each.

    Each record is written to Redis's socket before the redirect answers; the replies are
    read every CONFIRM_EVERY pushes and when the process exits, so a click costs one write
    to a socket, not a round trip. A record Redis refused, or whose reply was lost with the
    connection, is written to the database directly: it may then count twice, never not at
    all."""

    def __init__(self, app: Flask, queue: ClickQueue):
        self.app = app
        self.queue = queue
        self.lock = threading.Lock()  # one connection, one conversation at a time
        self.connection = None
        self.pid = 0
        self.unread: list[bytes] = []  # sent, their replies not read yet
        atexit.register(self.confirm)

    def push(self, record: bytes) -> bool:
        """False when Redis cannot take it now: the caller writes the click itself."""
        with self.lock:
            try:
                self._connection().send_command("RPUSH", self.queue.key, record)
            except (redis.RedisError, OSError):
                logger.warning("Redis cannot take clicks; writing them directly", exc_info=True)
                self._lose(self.unread)
                return False
            self.unread.append(record)
            if len(self.unread) >= CONFIRM_EVERY:
                self._confirm()
            return True

    def confirm(self) -> None:
        """Read the replies to what was sent; write what Redis did not take."""
        with self.lock:
            self._confirm()

    def _confirm(self) -> None:
        if self.pid != os.getpid():
            return  # a forked process reads no replies off its parent's connection
        unread, self.unread = self.unread, []
        for index, record in enumerate(unread):
            try:
                self.connection.read_response()
            except redis.ResponseError:
                logger.error("Redis refused a click; writing it directly", exc_info=True)
                self._write([record])
            except (redis.RedisError, OSError):
                self._lose(unread[index:])
                return

    def _connection(self):
        if self.connection is None or self.pid != os.getpid():
            # A forked worker starts its own; the parent's unread replies are the parent's.
            pool = redis.ConnectionPool.from_url(self.queue.url, **TIMEOUTS)
            self.connection, self.pid, self.unread = pool.make_connection(), os.getpid(), []
        return self.connection

    def _lose(self, records: list[bytes]) -> None:
        if self.connection is not None:
            self.connection.disconnect()
        self.connection, self.unread = None, []
        if records:
            self._write(records)

    def _write(self, records: list[bytes]) -> None:
        try:
            with self.app.app_context():
                write(records)
                db.session.commit()
        except Exception:
            logger.exception("%d clicks could be neither queued nor written", len(records))


def for_app(config) -> ClickQueue | None:
    """The app's click queue, or None when clicks are written as they come."""
    broker = config["BROKER_URL"]
    database = config["SQLALCHEMY_DATABASE_URI"]
    if broker.startswith(("redis://", "rediss://")) and database.startswith("postgresql"):
        return ClickQueue(broker, config["TASK_QUEUE"])
    return None


@functools.cache
def _client(url: str) -> redis.Redis:
    # One pool per process and URL; redis-py opens new connections after a fork.
    return redis.Redis.from_url(url, **TIMEOUTS)


def drain(batch: int = BATCH) -> int:
    """Write what is queued, a batch per transaction; returns the records written.

    A batch leaves the list only after its commit, so a worker killed in between leaves it
    for the next drain: a click may then count twice, never not at all. A lock keeps two
    drains from reading the same batch."""
    queue = for_app(current_app.config)
    if queue is None:
        return 0
    lock = queue.client.lock(queue.key + "-drain", timeout=LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        return 0
    written = 0
    try:
        while True:
            lock.reacquire()  # a full lease for each batch; raises if another drain took it
            records = queue.client.lrange(queue.key, 0, batch - 1)
            if not records:
                break
            write(records)
            db.session.commit()
            queue.client.ltrim(queue.key, len(records), -1)
            written += len(records)
            if len(records) < batch:
                break
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("the click drain outlived its lock")
    return written


def write(records: list[bytes]) -> None:
    """The rows of queued clicks and opens, as analytics.record_click and record_open write
    them one by one, each said to be a machine's or not as they say it (and, seen together
    here, a copy's different links within a second: a scanner's); not committed. A record
    whose copy or link is gone is dropped."""
    clicks, opens = _parse(records)
    copies = _copies({number for number, *_ in clicks} | {number for number, *_ in opens})
    links = _links({copy.issue_id for copy in copies.values()})
    scanned = _bursts(clicks)
    rows, clicked, opened = [], {}, {}
    for index, (number, position, moment, by_agent) in enumerate(clicks):
        copy = copies.get(number)
        link = links.get((copy.issue_id, position)) if copy else None
        if link is None:
            continue
        machine = index in scanned or likely_machine(by_agent, moment, copy.sent_at)
        rows.append(
            {
                "link_id": link,
                "clicked_at": moment,
                "subscriber_id": who_clicked(copy),
                "likely_machine": machine,
            }
        )
        if not copy.no_tracking:
            clicked[number] = _earlier(clicked.get(number), moment, machine)
    for number, moment, by_agent in opens:
        copy = copies.get(number)
        if copy and not copy.no_tracking:
            machine = likely_machine(by_agent, moment, copy.sent_at)
            opened[number] = _earlier(opened.get(number), moment, machine)
    if rows:
        db.session.execute(sa.insert(LinkClick), rows)
    first_moments("clicked", clicked)
    first_moments("opened", opened)


def _earlier(
    known: tuple[datetime, bool] | None, moment: datetime, machine: bool
) -> tuple[datetime, bool]:
    """A copy's first moment in the batch, and whether all its clicks (opens) in it look like
    a machine's."""
    if known is None:
        return moment, machine
    return min(known[0], moment), known[1] and machine


def _bursts(clicks: list[tuple]) -> set[int]:
    """The indexes of clicks on a copy's different links within BURST_SECONDS of each other:
    a scanner walking every link of it. A person's double click is on one link."""
    found: set[int] = set()
    by_copy: dict[int, list[int]] = {}
    for index, (number, *_) in enumerate(clicks):
        by_copy.setdefault(number, []).append(index)
    for indexes in by_copy.values():
        if len(indexes) < 2:
            continue
        indexes.sort(key=lambda i: clicks[i][2])
        for n, i in enumerate(indexes):
            for j in indexes[n + 1 :]:
                if (clicks[j][2] - clicks[i][2]).total_seconds() > BURST_SECONDS:
                    break
                if clicks[j][1] != clicks[i][1]:
                    found.update((i, j))
    return found


def _parse(records: list[bytes]) -> tuple[list, list]:
    """Clicks as (copy, position, moment, machine agent), opens as (copy, moment, machine
    agent); records queued before agents were asked have none: a person's."""
    clicks, opens = [], []
    for record in records:
        try:
            kind, *fields = record.decode().split()
            if kind == "c":
                machine = fields[3:4] == ["1"]
                clicks.append((int(fields[0]), int(fields[1]), _moment(fields[2]), machine))
            elif kind == "o":
                opens.append((int(fields[0]), _moment(fields[1]), fields[2:3] == ["1"]))
        except (ValueError, IndexError):
            # Dropped, or it would hold up every click behind it.
            logger.warning("not a queued click: %r", record)
    return clicks, opens


def _moment(seconds: str) -> datetime:
    return datetime.fromtimestamp(float(seconds), UTC)


def _copies(numbers: set[int]) -> dict:
    if not numbers:
        return {}
    rows = db.session.execute(copies().where(Delivery.id.in_(numbers)))
    return {row.id: row for row in rows}


def _links(issue_ids: set[int]) -> dict[tuple[int, int], int]:
    if not issue_ids:
        return {}
    rows = db.session.execute(
        sa.select(IssueLink.issue_id, IssueLink.position, IssueLink.id).where(
            IssueLink.issue_id.in_(issue_ids)
        )
    )
    return {(issue_id, position): link_id for issue_id, position, link_id in rows}
