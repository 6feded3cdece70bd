"""A weekly availability pattern as 21 bits: one per weekday period (morning, afternoon, evening).

Bit `weekday index * 3 + period index` is set when the person (or, for a case, the parties) can meet
then; Monday morning is bit 0, Sunday evening bit 20. The same encoding serves volunteers
(`Volunteer.availability_mask`) and cases (allocation's meeting pattern), so overlap is `a & b`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from portal.volunteers.models import DAY_PERIODS, WEEKDAYS

SLOTS: tuple[tuple[str, str], ...] = tuple((day, period) for day in WEEKDAYS for period in DAY_PERIODS)
FULL_MASK = (1 << len(SLOTS)) - 1


def bit(day: str, period: str) -> int:
    """The bit for one weekday period; ValueError for an unknown day or period."""
    return 1 << (WEEKDAYS.index(day) * len(DAY_PERIODS) + DAY_PERIODS.index(period))


def to_mask(pattern: Mapping[str, Iterable[str]]) -> int:
    """{"monday": ["morning", "evening"], …} as a mask; unknown days or periods raise ValueError."""
    mask = 0
    for day, periods in pattern.items():
        for period in periods:
            mask |= bit(day, period)
    return mask


def from_mask(mask: int) -> dict[str, list[str]]:
    """The mask as {day: [periods]} in week order, leaving out days with nothing set."""
    pattern: dict[str, list[str]] = {}
    for day, period in SLOTS:
        if mask & bit(day, period):
            pattern.setdefault(day, []).append(period)
    return pattern


def count(mask: int) -> int:
    """How many weekday periods the mask holds."""
    return (mask & FULL_MASK).bit_count()


def describe(mask: int) -> str:
    """"Monday morning and evening; Thursday afternoon", or "No times" for an empty mask."""
    pattern = from_mask(mask)
    if not pattern:
        return "No times"
    parts = []
    for day, periods in pattern.items():
        words = periods[0] if len(periods) == 1 else ", ".join(periods[:-1]) + " and " + periods[-1]
        parts.append(f"{day.capitalize()} {words}")
    return "; ".join(parts)
