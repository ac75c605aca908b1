"""Signing in and out."""

import re
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from newsletter import accounts
from newsletter.admin import bp, signed_in
from newsletter.extensions import limiter

# Browsers drop tabs and line breaks from URLs and read a backslash as a slash, so
# "/\t/evil.test" and "/\\evil.test" both lead off the site.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(target: str | None) -> str:
    """A path on this site to go on to after signing in; anything else is the dashboard."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not _UNSAFE.search(target) and not parts.scheme and not parts.netloc:
            return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            user = accounts.sign_in(
                request.form.get("email", ""),
                request.form.get("password", ""),
                request.remote_addr,
                request.cookies.get(accounts.DEVICE_COOKIE),
            )
        except accounts.SignInError as exc:
            error = str(exc)
        else:
            login_user(user)
            signed_in()
            answer = redirect(safe_next(request.args.get("next")))
            answer.set_cookie(
                accounts.DEVICE_COOKIE,
                accounts.device_cookie(user.email),
                max_age=accounts.DEVICE_DAYS * 86400,
                path=url_for("admin.login"),
                secure=current_app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
                samesite="Lax",
            )
            return answer
    status = 401 if error else 200
    return render_template(
        "admin/login.html", error=error, email=request.form.get("email", "")
    ), status


@bp.post("/logout")
def logout():
    # The cookie alone could be replayed: the user's sessions end on the server too.
    accounts.end_sessions(current_user)
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))
