"""The JSON API under /api/v1: bearer tokens, errors as {"error": {code, message, fields}}."""

# Each resource module adds its routes to bp when imported.
from newsletter.api import (  # noqa: E402,F401
    feeds,
    imports,
    issues,
    lists,
    openapi,
    posts,
    subscribers,
)
from newsletter.api.common import bp

__all__ = ["bp"]
