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
            return api_error(exc.code or 500, code, exc.description or exc.name)
        page = render_template(
            "error.html", code=exc.code, name=exc.name, description=exc.description
        )
        return page, exc.code

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
