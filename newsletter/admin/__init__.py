"""The editors' web app under /admin: sign-in, roles, and the screens built on the services."""

from functools import wraps

from flask import Blueprint, Flask, abort, request
from flask_login import LoginManager, current_user, login_required

from newsletter import accounts
from newsletter.models import User

bp = Blueprint("admin", __name__, url_prefix="/admin")
login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please sign in."
login_manager.session_protection = "strong"

# Reachable without signing in (an invitation's token is its own proof).
OPEN_ENDPOINTS = {"admin.login", "admin.invitation"}


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    return accounts.user_for_session(session_id)


@bp.before_request
def _require_sign_in():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    return login_required(lambda: None)()


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
