"""Time zones people can choose: the zone database's names, read once (available_timezones()
walks the database at each call), without the two that name no place: "localtime" (this
machine's own zone) and "Factory" (a zone of no offset meant as a placeholder)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.core import get_global
from babel.dates import get_timezone_location

from newsletter.i18n import digits

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


def choices(locale: str, chosen: str | None = None) -> list[tuple[str, str]]:
    """(name, label) of the zones `offered`, labelled in the reader's language with their
    offset now ("Iran Time (UTC+03:30)", "وقت ایران (UTC+۰۳:۳۰)") and ordered by it: a list
    of 490 names such as "Asia/Tehran", in English whatever the page's language. A place's
    older names (America/Buenos_Aires beside America/Argentina/Buenos_Aires) are left out,
    but for the reader's own."""
    labelled = list(_labelled(locale, _this_hour()))
    if valid(chosen) and chosen not in {name for name, _ in labelled}:
        labelled.append((chosen, label(chosen, locale)))
    return labelled


def _this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@lru_cache(maxsize=8)
def _labelled(locale: str, hour: datetime) -> tuple[tuple[str, str], ...]:
    """For each language, read again each hour: offsets move with the clocks."""
    aliases = get_global("zone_aliases")
    named = [name for name in _places() if name not in aliases]
    offsets = {name: hour.astimezone(ZoneInfo(name)).utcoffset() for name in named}
    labels = {name: label(name, locale, hour) for name in named}
    return tuple(
        (name, labels[name]) for name in sorted(named, key=lambda n: (offsets[n], labels[n]))
    )


def label(name: str, locale: str, hour: datetime | None = None) -> str:
    """The zone as `choices` shows it, with its offset at `hour` (by default now)."""
    utc = offset_text((hour or _this_hour()).astimezone(ZoneInfo(name)))
    if name == "UTC":
        return utc
    try:
        place = get_timezone_location(name, locale=locale)
    except LookupError:  # a name the CLDR does not know
        place = name
    return digits(f"{place} ({utc})", locale)


# Times as editors read them (the admin, their emails).
# English whatever the server's locale: the admin speaks English.
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(day: date) -> str:
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def offset_text(local: datetime) -> str:
    """'UTC+03:30', of an aware local time."""
    minutes = int(local.utcoffset().total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def shown(at: datetime | None, zone_name: str) -> str:
    """'Fri 4 Dec 2026, 09:00 Asia/Tehran (05:30 UTC)'; the UTC date too when it differs."""
    if at is None:
        return ""
    local = at.astimezone(ZoneInfo(zone_name))
    text = f"{day_text(local.date())}, {local:%H:%M} {zone_name}"
    if zone_name == "UTC":
        return text
    utc = at.astimezone(UTC)
    if utc.date() == local.date():
        return f"{text} ({utc:%H:%M} UTC)"
    if utc.year == local.year:
        day = f"{DAYS[utc.weekday()]} {utc.day} {MONTHS[utc.month - 1]}"
    else:
        day = day_text(utc.date())
    return f"{text} ({day}, {utc:%H:%M} UTC)"
