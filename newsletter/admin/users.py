"""User management, for admins only."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from newsletter import accounts
from newsletter.admin import admin_only, bp
from newsletter.errors import NewsletterError
from newsletter.extensions import db
from newsletter.models import User


@bp.route("/users", methods=["GET", "POST"])
@admin_only
def users():
    error = None
    if request.method == "POST":
        try:
            user = accounts.create_user(
                request.form.get("email", ""),
                request.form.get("password", ""),
                request.form.get("role", "editor"),
            )
        except NewsletterError as exc:  # AccountError, InvalidEmail
            error = str(exc)
        else:
            flash(f"Created {user.role} {user.email}.")
            return redirect(url_for("admin.users"))
    everyone = db.session.scalars(sa.select(User).order_by(User.email)).all()
    return render_template("admin/users.html", users=everyone, roles=accounts.ROLES, error=error)
