"""Short MACs of delivery ids from the app's secret: what VERP return paths and the tokens
of an issue's copies carry, so that nobody can make one that names another delivery."""

from __future__ import annotations

import functools
import hashlib
import hmac

LENGTH = 16  # hex digits: 64 bits


@functools.lru_cache(maxsize=8)
def _prepared(purpose: bytes, secret: str) -> hmac.HMAC:
    # Keyed once: a send makes one MAC a copy, and copying a keyed HMAC skips the key setup.
    key = hashlib.sha256(purpose + b":" + secret.encode()).digest()
    return hmac.new(key, digestmod="sha256")


def short_mac(purpose: bytes, delivery_id: int, secret: str) -> str:
    """The first LENGTH hex digits of the HMAC of the delivery id, under a key of its own
    for each purpose."""
    mac = _prepared(purpose, secret).copy()
    mac.update(str(delivery_id).encode())
    return mac.hexdigest()[:LENGTH]
