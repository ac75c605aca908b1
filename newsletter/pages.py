"""The home page and the health check."""

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, url_for

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
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/favicon.ico")
def favicon():
    """Where browsers and feed readers look for an icon without asking the page (each page
    logged a 404 in the browser's console)."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
