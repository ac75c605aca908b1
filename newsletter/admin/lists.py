"""Lists: create and edit, and the snippet that embeds the subscribe form elsewhere."""

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from pydantic import ValidationError

from newsletter import signing
from newsletter.admin import bp
from newsletter.extensions import db
from newsletter.lists import SlugTaken, create_list, get_list, update_list
from newsletter.lists.shapes import ListChanges, NewList
from newsletter.models import MailingList
from newsletter.subscriptions.embed import embed_snippet

CHECKBOXES = (
    "public",
    "autopilot",
    "autopilot_send",
    "each_post",
    "track_clicks",
    "track_opens",
    "track_subscribers",
)
# Choices an older form (or a script) may leave out: empty keeps what the list has.
LEFT_IF_EMPTY = ("calendar", "each_post_hold", "language")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FORM_FIELDS = (
    "slug name description from_email from_name reply_to opt_in send_weekday send_time timezone "
    "language calendar each_post_hold footer postal_address embed_return_urls"
).split()


def _form_values() -> dict:
    values = {name: request.form.get(name, "").strip() for name in FORM_FIELDS}
    for name in LEFT_IF_EMPTY:
        values[name] = values[name] or None
    for flag in CHECKBOXES:
        values[flag] = request.form.get(flag) == "on"
    return values


def _errors(exc: ValidationError) -> dict[str, str]:
    # pydantic's "Value error, " is how it names our own check's words: they stand alone.
    return {
        ".".join(map(str, e["loc"])): e["msg"].removeprefix("Value error, ") for e in exc.errors()
    }


@bp.get("/lists")
def lists():
    everything = db.session.scalars(sa.select(MailingList).order_by(MailingList.name)).all()
    return render_template("admin/lists.html", lists=everything)


@bp.route("/lists/new", methods=["GET", "POST"])
def new_list():
    values, errors = (
        {
            "opt_in": "double",
            "timezone": "UTC",
            "send_time": "09:00",
            "send_weekday": "4",
            "language": "en",
            "public": True,
            "track_clicks": True,
            "postal_address": current_app.config["POSTAL_ADDRESS"] or "",
        },
        {},
    )
    if request.method == "POST":
        values = _form_values()
        try:
            new = NewList.model_validate({k: v for k, v in values.items() if v != ""})
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            # The form asks for the address the service would otherwise fill with a notice.
            if not new.postal_address:
                errors = {"postal_address": "required: every email shows it"}
            else:
                try:
                    mailing_list = create_list(new)
                except SlugTaken as exc:
                    errors = exc.fields
                else:
                    flash(f"List {mailing_list.name} created.")
                    return redirect(url_for("admin.edit_list", slug=mailing_list.slug))
    return render_template(
        "admin/list_form.html", values=values, errors=errors, weekdays=WEEKDAYS, mailing_list=None
    ), (422 if errors else 200)


@bp.route("/lists/<slug>/edit", methods=["GET", "POST"])
def edit_list(slug: str):
    mailing_list = get_list(slug)
    # 0 is a value (no hold), not an empty field.
    values = {name: _shown(getattr(mailing_list, name)) for name in FORM_FIELDS}
    values |= {flag: getattr(mailing_list, flag) for flag in CHECKBOXES}
    errors = {}
    if request.method == "POST":
        values = _form_values() | {"slug": mailing_list.slug}
        try:
            changes = ListChanges.model_validate({k: v for k, v in values.items() if k != "slug"})
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            # The form sends every field, so an empty one would be a change to nothing.
            if not changes.from_email:
                errors = {"from_email": "required"}
        if not errors:
            update_list(mailing_list, changes)
            flash("Saved.")
            return redirect(url_for("admin.edit_list", slug=slug))
    return render_template(
        "admin/list_form.html",
        values=values,
        errors=errors,
        weekdays=WEEKDAYS,
        mailing_list=mailing_list,
        snippet=embed_snippet(mailing_list),
        dkim_aligned=signing.aligned(mailing_list.from_email),
        dkim_domain=current_app.config["DKIM_DOMAIN"],
    ), (422 if errors else 200)


def _shown(value) -> str:
    return "" if value is None else value
