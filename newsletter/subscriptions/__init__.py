"""Joining and leaving lists: the public forms and the services behind them."""

from newsletter.subscriptions.views import bp

__all__ = ["bp"]
