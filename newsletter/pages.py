"""The home page and the health check."""

import threading
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, url_for

from newsletter.extensions import db
from newsletter.models import MailingList

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    lists = db.session.scalars(
        sa.select(MailingList).where(MailingList.public.is_(True)).order_by(MailingList.name)
    ).all()
    return render_template("home.html", lists=lists)


@bp.get("/healthz")
def healthz():
    """200 {"status": "ok"} when the database and the broker answer; else 503, saying which
    did not (a database gone was a 500 page in HTML, a broker gone went unseen). Each has
    CHECK_SECONDS: a server that takes the connection and never answers held the check for
    30 s, past the proxy's and gunicorn's patience, which answered a 500 page instead."""
    app = current_app._get_current_object()
    running = {name: _check(app, name, check) for name, check in CHECKS.items()}
    failed = {}
    for name, future in running.items():
        try:
            why = future.result(timeout=CHECK_SECONDS)
        except TimeoutError:
            why = "no answer in time"
        if why:
            failed[name] = why
    if failed:
        return {"status": "unavailable", **failed}, 503
    return {"status": "ok"}


CHECK_SECONDS = 3
# A check that never returns keeps its thread until its server lets go: a few threads, shared,
# not a new one for each probe of a health checker that asks every few seconds.
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")
# The checks still running, by app and name. A probe while one runs waits for that one: with
# a server that never answers, each probe queued two more behind the held threads, without
# end, and all of them ran at once when it came back.
_in_flight: dict[tuple, Future] = {}
_in_flight_lock = threading.Lock()


def _check(app, name: str, check) -> Future:
    """The check's answer to come: the one running, or a new one."""
    key = (app, name)
    with _in_flight_lock:
        future = _in_flight.get(key)
        if future is None:
            future = _in_flight[key] = _checks.submit(_fails, app, check)
            future.add_done_callback(lambda _: _in_flight.pop(key, None))
    return future


def _database() -> None:
    with db.engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def _broker() -> None:
    with current_app.extensions["celery"].connection_for_write() as connection:
        # One try, no wait before it: a health check answers in a moment (2 s before).
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)


CHECKS = {"database": _database, "broker": _broker}


def _fails(app, check) -> str | None:
    """Why a check failed, in a line (the exception's kind: never a password in a URL)."""
    with app.app_context():
        try:
            check()
        except Exception as exc:  # any failure is "unavailable", said by its kind
            return type(exc).__name__
    return None


@bp.get("/favicon.ico")
def favicon():
    """Where browsers and feed readers look for an icon without asking the page (each page
    logged a 404 in the browser's console)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
