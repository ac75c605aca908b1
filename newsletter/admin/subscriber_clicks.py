"""A subscriber's clicks, linked from their page; where their lists do not keep who clicked,
the page says so instead."""

from flask import abort, render_template

from newsletter.admin import bp
from newsletter.extensions import db
from newsletter.models import Subscriber
from newsletter.subscriptions.clicks import clicks_of


@bp.get("/subscribers/<int:subscriber_id>/clicks")
def subscriber_clicks(subscriber_id: int):
    subscriber = db.session.get(Subscriber, subscriber_id) or abort(404)
    return render_template(
        "admin/subscriber_clicks.html", subscriber=subscriber, history=clicks_of(subscriber)
    )
