"""What every API endpoint shares: authentication, errors, body validation, documentation."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask import Blueprint, g, request, url_for
from pydantic import BaseModel, ValidationError

from newsletter import accounts
from newsletter.errors import NewsletterError, error_response
from newsletter.extensions import db

bp = Blueprint("api", __name__)

# Routes anyone may read without a token.
PUBLIC_ENDPOINTS = {"api.openapi_spec"}


class ApiError(NewsletterError):
    """An answer the API decided on itself, possibly naming several fields."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message, status=status, code=code)
        self._fields = fields or {}

    @property
    def fields(self) -> dict:
        return self._fields


@bp.errorhandler(NewsletterError)
def _newsletter_error(exc: NewsletterError):
    """Every rule a service or the API enforced, in the API's one error shape."""
    return error_response(exc)


@bp.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Send an API token: Authorization: Bearer <token>.")
    user = accounts.user_for_token(token.strip())
    if user is None:
        raise ApiError(401, "unauthorized", "That API token is not valid.")
    g.api_user = user


def parse(model: type[BaseModel], data: Any = None) -> BaseModel:
    """Validate a JSON body (or the given data); field errors become a 422 in the API shape."""
    if data is None:
        data = request.get_json(silent=True)
        if data is None and request.get_data():
            raise ApiError(400, "bad_request", "The body is not valid JSON.")
        if not isinstance(data, dict):
            raise ApiError(400, "bad_request", "The body must be a JSON object.")
        _only_known(model, data, "field")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "body"
            fields.setdefault(name, error["msg"])
        raise ApiError(422, "invalid", "Some fields are not valid.", fields) from exc


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string's parameters, as `model` has them; a wrong value, or a parameter it
    does not name, is a 422 naming it."""
    data = request.args.to_dict()
    _only_known(model, data, "parameter")
    return parse(model, data)


def _only_known(model: type[BaseModel], data: dict, what: str) -> None:
    """A misspelt name ("nmae", "?stauts=") was ignored with a 200: the change it meant not
    made, or every subscriber listed where some were asked for."""
    names = {info.alias or name for name, info in model.model_fields.items()}
    unknown = sorted(set(data) - names)
    if unknown:
        fields = {str(name)[:64]: f"There is no such {what}." for name in unknown[:20]}
        raise ApiError(422, "invalid", f"Some {what}s are not known.", fields)


def next_page(items: list[dict], limit: int) -> int | None:
    """Where the next page starts: the last item's id, when this page is full."""
    return items[-1]["id"] if len(items) == limit else None


def created(body: dict, view: str, **ids: int):
    """A 201 with the new resource's address in Location, as HTTP has it (RFC 9110 15.3.2):
    a client followed up with the id from the body alone."""
    return body, 201, {"Location": url_for(f".{view}", **ids)}


def known_status(kind: type[StrEnum], value: str) -> str:
    """A status filter's value, if it is one: "?status=nonsense" found nothing, as if there
    were none of a real status."""
    if value not in set(kind):
        raise invalid("status", f"status must be one of {', '.join(kind)}.")
    return value


def invalid(field_name: str | None, message: str, status: int = 422) -> NewsletterError:
    """An error for a rule the API enforced, naming the field when there is one."""
    return NewsletterError(message, field_name, status=status)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.")


def get_or_404(model, ident: int, what: str):
    found = db.session.get(model, ident)
    if found is None:
        raise not_found(what)
    return found


@dataclass
class Operation:
    rule: str
    method: str
    summary: str
    body: type[BaseModel] | None = None
    response: dict = field(default_factory=dict)
    status: int = 200
    content_type: str = "application/json"
    # Other successful answers: {status: response schema}.
    also: dict = field(default_factory=dict)
    query: type[BaseModel] | None = None  # the query string's parameters


OPERATIONS: list[Operation] = []


def route(
    rule: str,
    method: str,
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: dict | None = None,
    status: int = 200,
    content_type: str = "application/json",
    also: dict | None = None,
):
    """bp.route that also records the operation for openapi.json."""
    OPERATIONS.append(
        Operation(
            rule,
            method.lower(),
            summary,
            body,
            response or {},
            status,
            content_type,
            also or {},
            query,
        )
    )
    return bp.route(rule, methods=[method])
