"""Error answers: JSON in the API's shape under /api, a page everywhere else (the admin's own
under /admin). An unexpected error gets a short reference, logged with it and shown to people,
so an editor's report finds its traceback."""

import math
import secrets
import time

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, NotFound


class NewsletterError(Exception):
    """A rule of the newsletter refused what was asked; the message says why, to people.

    field names what was wrong (None when it is nothing the caller sent), status is the HTTP
    status the API answers with, code the API's error code: "invalid" for 422, "conflict" for
    409 unless given. Subclasses set their own defaults as class attributes.
    """

    field: str | None = None
    status: int = 422
    code: str | None = None

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if self.code is None:
            self.code = "invalid" if self.status == 422 else "conflict"

    @property
    def fields(self) -> dict:
        return {self.field: self.message} if self.field else {}


class NotFoundError(NewsletterError):
    """What the caller named does not exist. Pages answer 404; the API answers with the
    error's status (a subclass sets it: 422 when a body or query named it, as a field)."""


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    """The API's one error answer: {"error": {"code", "message", "fields"}}."""
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    response = jsonify(body)
    response.status_code = status
    return response


def error_response(exc: NewsletterError):
    """What the API answers when a NewsletterError (an ApiError among them) reaches it."""
    response = api_error(exc.status, exc.code, exc.message, exc.fields)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="newsletter"'
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _page(**values) -> str:
    if request.path == "/admin" or request.path.startswith("/admin/"):
        try:
            return render_template("admin/error.html", **values)
        except Exception:  # the admin's chrome needs the database; the plain page does not
            pass
    return render_template("error.html", **values)


def _minutes_to_wait() -> int | None:
    """Whole minutes until the rate limit that refused this request lets one through, which
    the Retry-After header gives in seconds; None when no limit of ours refused it."""
    from newsletter.extensions import limiter

    refused = limiter.current_limit
    if refused is None:
        return None
    seconds = int(refused.reset_at - time.time())  # as the limiter writes Retry-After
    return max(1, math.ceil(seconds / 60))


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if _wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            body = api_error(exc.code or 500, code, exc.description or exc.name)
            status = body.status_code
        else:
            wait = _minutes_to_wait() if exc.code == 429 else None
            body = _page(code=exc.code, name=exc.name, description=exc.description, wait=wait)
            status = exc.code
        # The exception's own headers, such as Allow on a 405 and Retry-After on a 429.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(NotFoundError)
    def _not_found(exc: NotFoundError):
        # The API's blueprint answers these in its own shape before this is asked.
        return _http_error(NotFound())

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        reference = secrets.token_hex(4)
        app.logger.exception("unhandled error, reference %s", reference)
        _forget_session()
        if _wants_json():
            return api_error(
                500, "internal_error", f"Something went wrong on our side (reference {reference})."
            )
        page = _page(
            code=500,
            name="Something went wrong",
            description="Please try again in a moment.",
            reference=reference,
        )
        return page, 500


def _forget_session() -> None:
    """A failed statement leaves the session unusable for the error page's own queries."""
    from newsletter.extensions import db

    try:
        db.session.rollback()
    except Exception:
        pass
