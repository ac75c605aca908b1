"""Dates as Iranian sites' feeds write them, taught to feedparser (its date handlers are
tried newest first; each returns None for what it does not read): Iran's zone names, which
it took for UTC, and Solar Hijri (Jalali) dates, which it read as Gregorian years 1398 or
1403, so a week's posts landed in no week's issue."""

from __future__ import annotations

import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import feedparser
from feedparser.datetimes.rfc822 import _parse_date_rfc822

from newsletter import jalali

# Iran Standard and Daylight Time (the clocks kept +03:30 all year from 2022).
_IRAN_ZONE = re.compile(r"\s(IRST|IRDT)\s*$", re.IGNORECASE)
_OFFSETS = {"irst": " +0330", "irdt": " +0430"}
_TEHRAN = ZoneInfo("Asia/Tehran")
# "۱۴۰۳/۰۹/۱۵ - ۱۳:۳۰", "1403-09-15 13:30": a Solar Hijri year is 13xx or 14xx.
_JALALI = re.compile(
    r"^\D{0,40}?(1[34]\d\d)\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})"
    r"(?:\D{1,10}?(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?)?\D{0,40}$"
)
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def _iran_zone(value: str):
    named = _IRAN_ZONE.search(value)
    if named is None:
        return None
    return _parse_date_rfc822(value[: named.start()] + _OFFSETS[named.group(1).lower()])


def _solar_hijri(value: str):
    found = _JALALI.match(value.translate(_DIGITS).strip())
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in found.groups())
    try:
        day_of = jalali.from_jalali(year, month, day)
        moment = datetime(day_of.year, day_of.month, day_of.day, hour, minute, second)
    except ValueError:  # no such month, day or hour
        return None
    return time.gmtime(moment.replace(tzinfo=_TEHRAN).timestamp())


def teach() -> None:
    """Registering is idempotent: each handler is added once per process."""
    known = feedparser.datetimes._date_handlers
    for handler in (_iran_zone, _solar_hijri):
        if handler not in known:
            feedparser.registerDateHandler(handler)
