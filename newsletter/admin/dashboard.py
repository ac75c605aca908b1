"""The dashboard: each list at a glance."""

from flask import render_template

from newsletter.admin import bp
from newsletter.lists import NO_POSTAL_ADDRESS
from newsletter.lists.overview import overview


@bp.get("/")
def dashboard():
    return render_template(
        "admin/dashboard.html", lists=overview(), no_postal_address=NO_POSTAL_ADDRESS
    )
