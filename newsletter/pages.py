"""The home page and the health check."""

import sqlalchemy as sa
from flask import Blueprint, render_template

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
