"""GET /api/v1/openapi.json, built from the operations each module registered."""

import re

from flask import current_app

from newsletter.api.common import OPERATIONS, bp

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["code", "message", "fields"],
        }
    },
}


def _path(rule: str) -> tuple[str, list[dict]]:
    """Flask's /issues/<int:issue_id> as OpenAPI's /issues/{issue_id}, with its parameters."""
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "integer"} if converter == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def _query(model) -> list[dict]:
    """A query model's fields as OpenAPI's query parameters."""
    if model is None:
        return []
    described = model.model_json_schema()
    return [
        {
            "name": name,
            "in": "query",
            "required": name in described.get("required", []),
            "schema": schema,
        }
        for name, schema in described["properties"].items()
    ]


def build_spec() -> dict:
    paths: dict = {}
    for op in OPERATIONS:
        path, params = _path(op.rule)
        params += _query(op.query)
        success = {"description": "OK"}
        if op.status != 204:  # No Content has no body, so no media type
            success["content"] = {op.content_type: {"schema": op.response or {"type": "object"}}}
        entry = {
            "summary": op.summary,
            "parameters": params,
            "responses": {
                str(op.status): success,
                **{
                    str(status): {
                        "description": "OK",
                        "content": {"application/json": {"schema": schema}},
                    }
                    for status, schema in op.also.items()
                },
                "default": {
                    "description": "Error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
            },
        }
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": op.body.model_json_schema()}},
            }
        paths.setdefault("/api/v1" + path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "newsletter API", "version": "1"},
        "servers": [{"url": current_app.config["BASE_URL"]}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA},
        },
        "paths": paths,
    }


@bp.get("/openapi.json")
def openapi_spec():
    return build_spec()
