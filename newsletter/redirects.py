"""The click redirect and the open pixel, answered in front of Flask.

After a send, `GET /r/<token>/<position>` and `GET /o/<token>.gif` are most of what readers
ask of the app. Flask's request handling with the app's hooks costs about 0.3 ms of CPU and
writing a click 2 ms; this layer checks the token, finds the link in memory, queues the
click in Redis (click_queue.py) and answers with the app's security headers. Whatever it
cannot answer goes on to Flask, whose views (analytics_views.py) answer as they always did:
a forged token or a position that is not a link of the copy's issue gets the 404 page, and
a click Redis cannot take is written directly.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from typing import NamedTuple

import sqlalchemy as sa
from flask import Flask
from werkzeug.wrappers import Response

from newsletter import analytics, click_queue, macs
from newsletter.analytics_views import gif, redirect_to
from newsletter.extensions import db
from newsletter.hardening import secure
from newsletter.models import Delivery, IssueLink

logger = logging.getLogger(__name__)

CLICK = re.compile(r"/r/([0-9]{1,18}-[0-9a-f]{16})/([0-9]{1,9})")
OPEN = re.compile(r"/o/([0-9]{1,18}-[0-9a-f]{16})\.gif")
# Issues whose deliveries and links one process keeps; clicks on older ones are rarer.
MOST_ISSUES = 100


class Answer(NamedTuple):
    """A WSGI answer built once by the functions Flask's views use, security headers and
    all, and given again for every request that asks for it."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def of(cls, response: Response) -> Answer:
        response = secure(response)
        return cls(response.status, response.headers.to_wsgi_list(), response.get_data())


def init_app(app: Flask) -> None:
    """Put the layer in front of the app when clicks are queued (click_queue.for_app)."""
    queue = click_queue.for_app(app.config)
    if queue is not None:
        app.wsgi_app = Redirects(app, queue, app.wsgi_app)


class Redirects:
    """WSGI middleware: /r/ and /o/ here, everything else to the app behind."""

    def __init__(self, app: Flask, queue: click_queue.ClickQueue, behind):
        self.behind = behind
        self.pushes = click_queue.Pushes(app, queue)
        self.secrets = macs.keys(app.config)
        self.copies = Copies(app)
        self.pixel = Answer.of(gif())

    def __call__(self, environ, start_response):
        answer = None
        method = environ["REQUEST_METHOD"]
        if method in ("GET", "HEAD"):
            path = environ.get("PATH_INFO", "")
            counted = method == "GET"  # a HEAD is a link checker's or a scanner's, no reader's
            if path.startswith("/r/"):
                answer = self.click(path, counted, environ.get("HTTP_USER_AGENT"))
            elif path.startswith("/o/"):
                answer = self.open(path, counted, environ.get("HTTP_USER_AGENT"))
        if answer is None:
            return self.behind(environ, start_response)
        start_response(answer.status, list(answer.headers))
        return [b"" if method == "HEAD" else answer.body]

    def click(self, path: str, counted: bool = True, agent: str | None = None) -> Answer | None:
        match = CLICK.fullmatch(path)
        number = match and analytics.delivery_id(match.group(1), self.secrets)
        if not number:
            return None
        position = int(match.group(2))
        try:
            answer = self.copies.answer(number, position)
        except sa.exc.SQLAlchemyError:
            # Flask's view meets the same trouble and answers with the app's error page.
            logger.exception("could not read the links of delivery %s's issue", number)
            return None
        if answer is None:
            return None
        # Whether the agent is a machine's is asked here (one regular expression); whether
        # the click came too soon after the send, where its copy is read (click_queue.write).
        record = click_queue.click_record(number, position, analytics.machine_agent(agent))
        if counted and not self.pushes.push(record):
            return None
        return answer

    def open(self, path: str, counted: bool = True, agent: str | None = None) -> Answer | None:
        match = OPEN.fullmatch(path)
        number = match and analytics.delivery_id(match.group(1), self.secrets)
        if not number:
            return None
        record = click_queue.open_record(number, analytics.machine_agent(agent))
        if counted and not self.pushes.push(record):
            return None
        return self.pixel


class Copies:
    """Which issue each delivery belongs to, and the answers to that issue's links, read
    once per issue.

    An issue's deliveries and links are written together when its send starts
    (sending/loop.py's _freeze) and never change after, and PostgreSQL never gives an id
    twice, so what was read stays true. Deliveries are kept as runs of consecutive ids: an
    issue's ledger is one INSERT, so its ids are usually one run."""

    def __init__(self, app: Flask):
        self.app = app
        # The runs' first ids, sorted, and the runs: (first id, last id, issue id).
        self.index: tuple[list[int], list[tuple[int, int, int]]] = ([], [])
        self.links: dict[int, dict[int, Answer]] = {}  # issue id → position → its redirect
        self.lock = threading.Lock()

    def answer(self, delivery_id: int, position: int) -> Answer | None:
        """The redirect to the link at `position` of the delivery's issue, None when there is
        no such delivery or link."""
        starts, runs = self.index
        index = bisect.bisect_right(starts, delivery_id) - 1
        if index >= 0 and runs[index][1] >= delivery_id:
            issue_id = runs[index][2]
        else:
            issue_id = self._load(delivery_id)
        links = self.links.get(issue_id)
        return links.get(position) if links else None

    def _load(self, delivery_id: int) -> int | None:
        with self.lock, self.app.app_context():
            issue_id = db.session.scalar(
                sa.select(Delivery.issue_id).where(Delivery.id == delivery_id)
            )
            if issue_id is None or issue_id in self.links:
                return issue_id
            links = {
                position: Answer.of(redirect_to(url))
                for position, url in db.session.execute(
                    sa.select(IssueLink.position, IssueLink.url).where(
                        IssueLink.issue_id == issue_id
                    )
                )
            }
            runs = [(first, last, issue_id) for first, last in _runs(issue_id)]
            kept = self.index[1]
            if len(self.links) >= MOST_ISSUES:
                oldest = next(iter(self.links))
                del self.links[oldest]
                kept = [run for run in kept if run[2] != oldest]
            self.links[issue_id] = links
            runs = sorted(kept + runs)
            # One assignment: answer() reads without the lock.
            self.index = ([first for first, _, _ in runs], runs)
        return issue_id


def _runs(issue_id: int) -> list[tuple[int, int]]:
    """The issue's delivery ids as (first, last) runs of consecutive ids."""
    ids = sa.select(
        Delivery.id,
        (Delivery.id - sa.func.row_number().over(order_by=Delivery.id)).label("run"),
    ).where(Delivery.issue_id == issue_id)
    ids = ids.subquery()
    return db.session.execute(
        sa.select(sa.func.min(ids.c.id), sa.func.max(ids.c.id)).group_by(ids.c.run)
    ).all()
