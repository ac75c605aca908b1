"""The Solar Hijri (Jalali) calendar, as Iran dates things: conversion to and from Gregorian.

Babel has no such calendar. Farvardin 1 of each year comes from Borkowski's arithmetic (the
one jalaali-js uses): leap years follow 33-year cycles between break years, which matches
the astronomical calendar from 1799 to 2256. Months 1-6 have 31 days, 7-11 have 30 and
Esfand 29, or 30 in a leap year.
"""

from __future__ import annotations

from datetime import date, timedelta

# Years in which the 33-year cycle of leap years restarts.
BREAKS = (-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192,
          2262, 2324, 2394, 2456, 3178)  # fmt: skip
FIRST_YEAR, LAST_YEAR = 1, BREAKS[-1] - 1


def _div(a: int, b: int) -> int:
    """Division that truncates towards zero, as the published algorithm's does."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


def _mod(a: int, b: int) -> int:
    return a - _div(a, b) * b


def new_year(year: int) -> date:
    """The Gregorian date of 1 Farvardin of a Jalali year (Nowruz)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"Jalali year out of range: {year}")
    leap_j, start = -14, BREAKS[0]
    jump = 0
    for brk in BREAKS[1:]:
        jump = brk - start
        if year < brk:
            break
        leap_j += _div(jump, 33) * 8 + _div(_mod(jump, 33), 4)
        start = brk
    n = year - start
    leap_j += _div(n, 33) * 8 + _div(_mod(n, 33) + 3, 4)
    if _mod(jump, 33) == 4 and jump - n == 4:
        leap_j += 1
    gregorian_year = year + 621
    leap_g = _div(gregorian_year, 4) - _div((_div(gregorian_year, 100) + 1) * 3, 4) - 150
    return date(gregorian_year, 3, 1) + timedelta(days=19 + leap_j - leap_g)


def is_leap(year: int) -> bool:
    return (new_year(year + 1) - new_year(year)).days == 366


def month_length(year: int, month: int) -> int:
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if is_leap(year) else 29


def from_jalali(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12 or not 1 <= day <= month_length(year, month):
        raise ValueError(f"No such Jalali date: {year}/{month}/{day}")
    before = (month - 1) * 31 if month <= 7 else 186 + (month - 7) * 30
    return new_year(year) + timedelta(days=before + day - 1)


def to_jalali(value: date) -> tuple[int, int, int]:
    """(year, month, day) in the Solar Hijri calendar."""
    year = value.year - 621
    if value < new_year(year):
        year -= 1
    days = (value - new_year(year)).days
    if days < 186:
        return year, days // 31 + 1, days % 31 + 1
    days -= 186
    return year, days // 30 + 7, days % 30 + 1
