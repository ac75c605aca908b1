"""How long to wait before trying again, shared by batches, deliveries and notices."""

from __future__ import annotations

import random

from flask import current_app

# However many failures, a retry is never put off longer than this.
MAX_DELAY = 600.0


def backoff(retries: int) -> float:
    """Exponential backoff with jitter, from SEND_RETRY_BASE seconds, capped at ten minutes."""
    base = current_app.config["SEND_RETRY_BASE"]
    return min(MAX_DELAY, base * 2**retries) * random.uniform(0.8, 1.2)
