"""The dashboard: each list at a glance."""

from flask import render_template

from newsletter.admin import bp
from newsletter.admin.overview import overview
from newsletter.lists import NO_POSTAL_ADDRESS


@bp.get("/")
def dashboard():
    return render_template(
        "admin/dashboard.html", lists=overview(), no_postal_address=NO_POSTAL_ADDRESS
    )
