"""Time zones people can choose: the zone database's names, read once (available_timezones()
walks the database at each call), without the two that name no place: "localtime" (this
machine's own zone) and "Factory" (a zone of no offset meant as a placeholder)."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

NO_PLACE = frozenset({"localtime", "Factory"})
# The regions of the zone database's current names ("Asia/Tehran"); older aliases ("Iran",
# "US/Pacific", "Etc/GMT+3") are still taken, as a browser or a file may give them.
REGIONS = (
    "Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/",
    "Europe/", "Indian/", "Pacific/",
)  # fmt: skip


@cache
def names() -> frozenset[str]:
    """Every name a choice may hold."""
    return frozenset(available_timezones()) - NO_PLACE


def valid(name: str | None) -> bool:
    return name in names()


def offered(chosen: str | None = None) -> tuple[str, ...]:
    """The names a list to choose from shows: each place's, UTC, and the one a person has
    already chosen (an alias kept from a browser or a file), so that saving keeps it."""
    extra = (chosen,) if valid(chosen) and chosen not in _places() else ()
    return _places() + extra


@cache
def _places() -> tuple[str, ...]:
    return tuple(sorted(name for name in names() if name.startswith(REGIONS))) + ("UTC",)
