"""Mail sent to the lists' posts addresses that waits for an editor: approve, reject with a
reply, or always allow its sender."""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for

from newsletter.admin import bp
from newsletter.extensions import db
from newsletter.lists import get_list
from newsletter.models import HeldPost
from newsletter.posts import inbound
from newsletter.posts.service import PostError
from newsletter.statuses import HeldStatus

RECENT = 20


@bp.app_template_global()
def held_count(mailing_list=None) -> int:
    return inbound.held_count(mailing_list)


@bp.get("/held")
def all_held():
    return _page(None)


@bp.get("/lists/<slug>/held")
def held(slug: str):
    return _page(get_list(slug))


def _page(mailing_list):
    where = [HeldPost.list_id == mailing_list.id] if mailing_list else []
    query = sa.select(HeldPost).where(*where)
    waiting = query.where(HeldPost.status == HeldStatus.HELD).order_by(HeldPost.id)
    decided = query.where(HeldPost.status != HeldStatus.HELD).order_by(HeldPost.id.desc())
    return render_template(
        "admin/held.html",
        mailing_list=mailing_list,
        address=inbound.posts_address(mailing_list) if mailing_list else None,
        trusted=bool(current_app.config.get("INBOUND_AUTHSERV_ID")),
        waiting=db.session.scalars(waiting).all(),
        decided=db.session.scalars(decided.limit(RECENT)).all(),
    )


def _held(held_id: int) -> HeldPost:
    return db.session.get(HeldPost, held_id) or abort(404)


def _back(held: HeldPost):
    return redirect(url_for("admin.held", slug=held.mailing_list.slug))


@bp.post("/held/<int:held_id>/approve")
def approve_held(held_id: int):
    held = _held(held_id)
    try:
        inbound.approve(held, request.form.get("title", ""), request.form.get("url", ""))
        flash("Approved: the message is a post of this week.")
    except PostError as exc:
        flash(str(exc))
    return _back(held)


@bp.post("/held/<int:held_id>/reject")
def reject_held(held_id: int):
    held = _held(held_id)
    reply = request.form.get("reply", "").strip()
    if request.form.get("confirm") != "yes":
        flash("Tick “I am sure” to reject the message.")
        return _back(held)
    try:
        done = inbound.reject(held, reply)
        flash(
            ("Rejected; your reply was sent." if reply else "Rejected.")
            if done
            else "This message is no longer held."
        )
    except PostError as exc:
        flash(str(exc))
    return _back(held)


@bp.post("/held/<int:held_id>/allow")
def allow_held_sender(held_id: int):
    held = _held(held_id)
    inbound.allow_sender(held.mailing_list, held.sender)
    flash(f"{held.sender}'s mail to this list will become posts when authenticated.")
    return _back(held)
