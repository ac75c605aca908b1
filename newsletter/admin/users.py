"""User management, for admins only, and the invitation page where a new user sets a password.

The admin never types or sees anyone's password: adding a user makes an invitation link,
emailed to them and shown once to copy (mail may not be set up), where they choose their own."""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from newsletter import accounts, editors
from newsletter.admin import admin_only, bp
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.i18n import DEFAULT_LOCALE, LOCALES
from newsletter.models import User

# The languages an invitation can be written in, as the admin picks them.
LANGUAGES = {"en": "English", "fa": "فارسی (Persian)"}


def _users_page(error: str | None = None, **invitation):
    everyone = db.session.scalars(sa.select(User).order_by(User.email)).all()
    return render_template(
        "admin/users.html",
        users=everyone,
        roles=accounts.ROLES,
        languages={code: LANGUAGES[code] for code in LOCALES},
        language=request.form.get("language") or DEFAULT_LOCALE,
        error=error,
        email=request.form.get("email", "") if error else "",
        role=request.form.get("role", "editor") if error else "editor",
        **invitation,
    ), (422 if error else 200)


def _invite(user: User):
    """Email the user a fresh link and show it to the admin too, with whether it went."""
    # From the configured address, like every link we send: behind a proxy the request's
    # own host may be one nobody outside can reach.
    link = current_app.config["BASE_URL"] + url_for(
        "admin.invitation", token=accounts.new_invitation(user)
    )
    try:
        editors.email_invitation(user, link, current_user.email, request.form.get("language"))
        mail_error = None
    except OSError as exc:  # no mail server, or it refused: the admin passes the link on
        current_app.logger.warning("invitation to %s not emailed: %s", user.email, exc)
        mail_error = str(exc) or type(exc).__name__
    return _users_page(invited=user, link=link, mail_error=mail_error)


@bp.route("/users", methods=["GET", "POST"])
@admin_only
def users():
    if request.method == "POST":
        try:
            user = accounts.invite_user(
                request.form.get("email", ""), request.form.get("role", "editor")
            )
        except NewsletterError as exc:  # AccountError, InvalidEmail
            return _users_page(str(exc))
        return _invite(user)
    return _users_page()


@bp.post("/users/<int:user_id>/invitation")
@admin_only
def new_invitation(user_id: int):
    """A fresh link for someone who lost theirs or forgot their password."""
    return _invite(db.session.get(User, user_id) or abort(404))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    try:
        user = accounts.user_for_invitation(token)
    except accounts.InvitationError as exc:
        return render_template("admin/invitation.html", failure=str(exc), user=None), 404
    error = None
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("repeat", ""):
            error = "The two passwords differ."
        else:
            try:
                accounts.accept_invitation(token, password)
            except accounts.AccountError as exc:
                error = str(exc)
            else:
                flash("Your password is set: sign in with it.")
                return redirect(url_for("admin.login"))
    page = render_template("admin/invitation.html", user=user, error=error, failure=None)
    return page, (422 if error else 200)
