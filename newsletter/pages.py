"""The home page and the health check."""

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
    did not (a database gone was a 500 page in HTML, a broker gone went unseen)."""
    failed = {name: why for name, check in CHECKS.items() if (why := _fails(check))}
    if failed:
        return {"status": "unavailable", **failed}, 503
    return {"status": "ok"}


def _database() -> None:
    db.session.execute(sa.text("SELECT 1"))


def _broker() -> None:
    with current_app.extensions["celery"].connection_for_write() as connection:
        # One try, no wait before it: a health check answers in a moment (2 s before).
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)


CHECKS = {"database": _database, "broker": _broker}


def _fails(check) -> str | None:
    """Why a check failed, in a line (the exception's kind: never a password in a URL)."""
    try:
        check()
    except Exception as exc:  # any failure is "unavailable", said by its kind
        db.session.rollback()
        return type(exc).__name__
    return None


@bp.get("/favicon.ico")
def favicon():
    """Where browsers and feed readers look for an icon without asking the page (each page
    logged a 404 in the browser's console)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
