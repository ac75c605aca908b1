"""The Message-ID of each copy of an issue: <delivery id.MAC.issue id.random@domain>.

A report that quotes it (a complaint, a bounce sent to a fixed address) names its delivery
for sure, as a VERP return path does. The MAC, from the app's secret, is what makes that so:
every reader sees their own copy's Message-ID, and without it a reader could write a
neighbour's by changing the number, and unsubscribe the whole list one forged complaint at a
time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from newsletter.macs import LENGTH, matches, short_mac

_PURPOSE = b"newsletter-message-id"
_OURS = re.compile(rf"^<(\d+)\.([0-9a-f]{{{LENGTH}}})\.\d+\.[0-9a-f]+@[^<>@\s]+>$", re.IGNORECASE)


def make(delivery_id: int, suffix: str, secret: str) -> str:
    """The Message-ID of one delivery; `suffix` is the issue's "<issue id>.<random>@<domain>"."""
    return f"<{delivery_id}.{short_mac(_PURPOSE, delivery_id, secret)}.{suffix}>"


def in_our_form(message_id: str) -> bool:
    """Whether it is shaped as an issue copy's, whatever its MAC says."""
    return bool(_OURS.match(message_id.strip()))


def delivery_id(message_id: str, secrets: Sequence[str]) -> int | None:
    """The delivery a Message-ID names, or None when it is not one of ours or is forged;
    `secrets` are the keys it may be signed with (macs.keys)."""
    match = _OURS.match(message_id.strip())
    if not match:
        return None
    number = int(match.group(1))
    return number if matches(_PURPOSE, number, match.group(2), secrets) else None
