"""The clock: now and today in UTC and Europe/London, and England and Wales working days."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


def now() -> dt.datetime:
    """The current instant, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in Europe/London (the date a coordinator sees on the wall)."""
    return now().astimezone(LONDON).date()


def to_london(moment: dt.datetime) -> dt.datetime:
    """An aware datetime shown in UK local time (GMT or BST)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(LONDON)


def london_to_utc(day: dt.date, time: dt.time) -> dt.datetime:
    """The UTC instant of a wall-clock time in London on a given day."""
    return dt.datetime.combine(day, time, tzinfo=LONDON).astimezone(dt.UTC)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # England and Wales share one list of bank holidays; the package keeps it current.
    return holidays.UK(subdiv="ENG", years=year)


def is_bank_holiday(day: dt.date) -> bool:
    """True on an England and Wales bank holiday."""
    return day in _bank_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, and not an England and Wales bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (start itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
