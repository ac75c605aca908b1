"""Error answers: JSON in the API's shape under /api, a page everywhere else."""

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if _wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            body, status = api_error(exc.code or 500, code, exc.description or exc.name)
        else:
            body, status = (
                render_template(
                    "error.html", code=exc.code, name=exc.name, description=exc.description
                ),
                exc.code,
            )
        # The exception's own headers, such as Allow on a 405 and Retry-After on a 429.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        if _wants_json():
            return api_error(500, "internal_error", "Something went wrong on our side.")
        page = render_template(
            "error.html",
            code=500,
            name="Something went wrong",
            description="Please try again in a moment.",
        )
        return page, 500
