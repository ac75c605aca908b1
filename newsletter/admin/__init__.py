"""The editors' web app under /admin: sign-in, roles, and the screens built on the services."""

import time
from functools import wraps

from flask import Blueprint, Flask, abort, request, session
from flask_login import LoginManager, current_user, login_required

from newsletter import accounts, heartbeats
from newsletter.models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")
login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please sign in."
login_manager.session_protection = "strong"

# Reachable without signing in (an invitation's token is its own proof).
OPEN_ENDPOINTS = {"admin.login", "admin.invitation"}


# A sign-in lasts this long at most (OWASP ASVS 3.3.2): Flask's cookie was accepted for 31
# days. Counted here, not by the cookie's age, which the public forms' CSRF tokens share.
SIGN_IN_MAX_AGE = 12 * 3600


def signed_in() -> None:
    """Marks the session's sign-in time, after login_user."""
    session["signed_in_at"] = int(time.time())


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    if time.time() - session.get("signed_in_at", 0) > SIGN_IN_MAX_AGE:
        return None
    return accounts.user_for_session(session_id)


@bp.before_request
def _require_sign_in():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    return login_required(lambda: None)()


@bp.context_processor
def _scheduler():
    """Said on every page while issues wait on a scheduler that stopped (heartbeats.py)."""
    if not current_user.is_authenticated:
        return {}
    return {"scheduler_late": heartbeats.late_since()}


def admin_only(view):
    """For user management and settings: editors get 403."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return guarded


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    from newsletter.admin import (  # noqa: F401  (each module adds its routes)
        auth,
        dashboard,
        inbound,
        issues,
        lists,
        posts,
        subscriber_clicks,
        subscribers,
        times,
        users,
    )

    # Every time shown to an editor: in the list's zone, with UTC beside.
    app.add_template_filter(times.shown, "local")
    app.add_template_filter(times.day_text, "day")
    app.add_template_global(times.next_slot)
    app.register_blueprint(bp)
