"""Field types that the services' pydantic shapes and the API's bodies share, and how times
are written out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from newsletter.text import has_line_break


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _one_line(value: str) -> str:
    if has_line_break(value):
        raise ValueError("must be one line (no line breaks)")
    return value.strip()


# A day's room at either end of what datetime holds, for the day added or taken away later,
# or a zone's offset (an hour on the last day at -12 is in year 10000 in UTC).
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset, for example 2026-12-01T09:00:00+01:00")
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:  # 0001-01-01T00:00+14:00 is in the year 0 in UTC
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError("must fall between 0001-01-02 and 9999-12-30 in UTC")
    return value


def _day_or_time(value):
    """A bare date means midnight UTC."""
    if isinstance(value, str) and len(value) == 10:
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return value


OneLine = Annotated[str, AfterValidator(_one_line)]


def one_line(max_length: int):
    """OneLine of at most max_length characters, said so in characters: as an optional
    field's Field(max_length=…), pydantic checked it after the validator and spoke of items."""
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_one_line)]


Aware = Annotated[datetime, AfterValidator(_aware)]
DayOrTime = Annotated[datetime, BeforeValidator(_day_or_time), AfterValidator(_aware)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
