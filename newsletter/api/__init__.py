"""The JSON API under /api/v1."""

from newsletter.api.views import bp

__all__ = ["bp"]
