"""Signing in and out."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from newsletter import accounts
from newsletter.admin import bp
from newsletter.extensions import limiter


def _safe_next(target: str | None) -> str:
    """Only local paths: a sign-in link must not bounce people to another site."""
    if target and target.startswith("/") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            user = accounts.sign_in(request.form.get("email", ""), request.form.get("password", ""))
        except accounts.SignInError as exc:
            error = str(exc)
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template(
        "admin/login.html", error=error, email=request.form.get("email", "")
    ), status


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))
