"""Times as editors type and read them: wall-clock times in a list's time zone, kept in UTC.

read_local turns what an editor typed into a UTC moment; shown writes a UTC moment back in
the list's zone with the UTC time beside it. Clock changes are said out loud: a wall time the
clocks skip is moved forward past the gap, a wall time they repeat takes the first of the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from newsletter import autopilot
from newsletter.errors import NewsletterError
from newsletter.models import MailingList, utcnow
from newsletter.zones import day_text, offset_text, shown  # noqa: F401  (the admin's filters)

# Far enough for any post or schedule, near enough that no offset overflows a datetime.
YEARS = range(1900, 3000)


class TimeInputError(NewsletterError, ValueError):
    """What an editor typed is not a date and time we can read; the message says why."""


@dataclass(frozen=True)
class Reading:
    """A typed wall time as a UTC moment, and what the clocks did to it, if anything."""

    at: datetime
    note: str = ""


def from_wall(wall: datetime, zone_name: str) -> Reading:
    """A naive wall time in the zone as a UTC moment, with a note when the clocks change."""
    zone = ZoneInfo(zone_name)
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    at = first.astimezone(UTC)
    if first.utcoffset() == second.utcoffset():
        return Reading(at)
    where = f"in {zone_name} on {day_text(wall.date())}"
    if at.astimezone(zone).replace(tzinfo=None) != wall:
        # In the gap fold=0 takes the offset from before the change: the time moves forward.
        moved = at.astimezone(zone)
        note = (
            f"{wall:%H:%M} does not exist {where}: the clocks go forward. It was moved to "
            f"{moved:%H:%M} {moved.tzname()} ({at:%H:%M} UTC)."
        )
    else:
        note = (
            f"{wall:%H:%M} happens twice {where}: the clocks go back. The first was used, "
            f"{first:%H:%M} {first.tzname()} ({offset_text(first)}), which is {at:%H:%M} UTC."
        )
    return Reading(at, note)


def _typed(text: str | None, label: str, kind: type[date], example: str):
    """The date or datetime in the text, within YEARS; TimeInputError naming the field."""
    text = (text or "").strip()
    if not text:
        raise TimeInputError(f"{label}: enter a date.", label)
    try:
        typed = kind.fromisoformat(text)
    except ValueError:
        raise TimeInputError(f"{label}: “{text[:40]}” is not {example}.", label) from None
    if typed.year not in YEARS:
        raise TimeInputError(
            f"{label}: the year must be between {YEARS.start} and {YEARS.stop - 1}.", label
        )
    return typed


def read_local(text: str | None, zone_name: str, label: str) -> Reading:
    """What an editor typed in a date or datetime-local field, read in the list's time zone.

    A date alone is its midnight. An explicit offset ("…+03:30") is taken as typed.
    """
    typed = _typed(text, label, datetime, "a date and time like 2026-12-04 09:00")
    if typed.tzinfo is not None:
        return Reading(typed.astimezone(UTC))
    return from_wall(typed, zone_name)


def read_day(text: str | None, label: str) -> date:
    """A calendar day an editor typed (YYYY-MM-DD): a day everywhere, not a moment."""
    return _typed(text, label, date, "a date like 2026-12-04")


def next_weekly(weekday: int, hhmm: str, zone_name: str, now: datetime) -> Reading:
    """The first weekly slot (Monday is 0, "HH:MM" in the zone) after now."""
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    hour, minute = (int(part) for part in hhmm.split(":"))
    day = today + timedelta(days=(weekday - today.weekday()) % 7)
    for week in (0, 7):
        wall = datetime.combine(day + timedelta(days=week), time(hour, minute))
        slot = from_wall(wall, zone_name)
        if slot.at > now:
            return slot
    raise AssertionError("a weekly slot within two weeks always exists")


def next_slot(mailing_list: MailingList) -> Reading:
    """The list's next weekly send time (its autopilot slot): on autopilot, the first in a
    week it has not handled yet, as it skips a slot moved later in a handled week."""
    weekly = (mailing_list.send_weekday, mailing_list.send_time, mailing_list.timezone)
    slot = next_weekly(*weekly, utcnow())
    handled = mailing_list.autopilot_week
    if not mailing_list.autopilot or handled is None:
        return slot
    if autopilot.slot_week(mailing_list, slot.at) > handled:
        return slot
    later = next_weekly(*weekly, slot.at)
    return Reading(later.at, f"Autopilot has done this week's issue. {later.note}".strip())
