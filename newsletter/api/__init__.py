"""The JSON API under /api/v1: bearer tokens, errors as {"error": {code, message, fields}}."""

from newsletter.api.common import bp

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

__all__ = ["bp"]
