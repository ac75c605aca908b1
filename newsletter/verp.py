"""VERP return paths: bounces+<delivery id>-<mac>@<bounce domain>, one per delivery.

A bounce comes back to the envelope sender, so the address alone says which delivery (and
so which subscriber and issue) it is about. The MAC, from the app's secret, means nobody can
make an address that blames another subscriber. Lowercase hex, as some servers lowercase local
parts.
"""

from __future__ import annotations

import re

from flask import current_app

from newsletter import macs
from newsletter.macs import LENGTH

PREFIX = "bounces"
_ADDRESS = re.compile(rf"^{PREFIX}\+(\d+)-([0-9a-f]{{{LENGTH}}})@(.+)$", re.IGNORECASE)


_PURPOSE = b"newsletter-verp"


def enabled() -> bool:
    return bool(current_app.config.get("BOUNCE_DOMAIN"))


def return_path(delivery_id: int) -> str:
    mac = macs.short_mac(_PURPOSE, delivery_id, current_app.config["SECRET_KEY"])
    return f"{PREFIX}+{delivery_id}-{mac}@{current_app.config['BOUNCE_DOMAIN']}"


def delivery_id(address: str) -> int | None:
    """The delivery a return path names, or None when it is not one of ours or is forged."""
    match = _ADDRESS.match(address.strip().strip("<>"))
    if not match or match.group(3).lower() != current_app.config["BOUNCE_DOMAIN"].lower():
        return None
    number, mac = int(match.group(1)), match.group(2)
    return number if macs.matches(_PURPOSE, number, mac, macs.keys(current_app.config)) else None


# List-Unsubscribe's mailto: (RFC 2369) goes to this local part of the bounce domain.
UNSUBSCRIBE = "unsubscribe"


def unsubscribe_address(token: str = "") -> str | None:
    """Where a mail program that writes rather than clicks sends "unsubscribe <token>": the
    bounce server reads it. The token rides in the address too (unsubscribe+<token>@), for
    the programs that keep a mailto:'s address and drop its subject. None without a bounce
    domain."""
    domain = current_app.config.get("BOUNCE_DOMAIN")
    local = f"{UNSUBSCRIBE}+{token}" if token else UNSUBSCRIBE
    return f"{local}@{domain}" if domain else None


def unsubscribe_token(address: str) -> str | None:
    """The token an unsubscribe address carries ("" for none), or None for another address."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    ours = current_app.config.get("BOUNCE_DOMAIN")
    name, _, token = local.partition("+")
    if not ours or domain.lower() != ours.lower() or name.lower() != UNSUBSCRIBE:
        return None
    return token
