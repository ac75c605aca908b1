"""The public archive of sent issues, with its own feed."""

from newsletter.archive.views import bp

__all__ = ["bp"]
