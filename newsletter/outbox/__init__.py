"""The local outbox of the embedded defaults: an SMTP server and a page to read what it kept."""

from newsletter.outbox.views import bp

__all__ = ["bp"]
