"""Pure rules of supervision cadence: when each volunteer's next supervision falls due, and the
settings an admin or coordinator may change.

RJC Practitioner Code C: case supervision with an experienced case supervisor at least every 12 weeks.
Dates are calendar dates in Europe/London.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

CADENCE_SETTING = "supervision.cadence_weeks"
CADENCE_DEFAULT_WEEKS = 12
BLOCKS_SETTING = "supervision.overdue_blocks_allocation"
BLOCKS_DEFAULT = False  # warn only, unless a coordinator switches blocking on
DUE_SOON_SETTING = "supervision.due_soon_days"
DUE_SOON_DEFAULT_DAYS = 14
DEBRIEF_PROMPT_DAYS = 14
# How long after a session ends its supervisor may still write or correct the record, and so keeps
# access to the volunteer's supervision history; after that a coordinator does it. Four weeks: the
# sessions the supervisors' page lists as recent.
RECORD_WINDOW = dt.timedelta(days=28)
MIN_CADENCE_WEEKS = 1
MAX_CADENCE_WEEKS = 52


class DueState(enum.StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    IN_DATE = "in_date"

    @property
    def label(self) -> str:
        return {"overdue": "Overdue", "due_soon": "Due soon", "in_date": "In date"}[self.value]


def due_on(
    *, last_held_on: dt.date | None, next_due_on: dt.date | None, active_since: dt.date, cadence_weeks: int
) -> dt.date:
    """The date a volunteer's next supervision is due by.

    After an attended session: the date the supervisor set, or the cadence from that session. Before
    any: the cadence from the day they became active.
    """
    if last_held_on is not None:
        return next_due_on or last_held_on + dt.timedelta(weeks=cadence_weeks)
    return active_since + dt.timedelta(weeks=cadence_weeks)


def due_state(due: dt.date, today: dt.date, soon_days: int) -> DueState:
    """Overdue once the due date has passed; due soon within `soon_days` of it."""
    if due < today:
        return DueState.OVERDUE
    if (due - today).days <= soon_days:
        return DueState.DUE_SOON
    return DueState.IN_DATE


@dataclass(frozen=True)
class CadenceRules:
    cadence_weeks: int = CADENCE_DEFAULT_WEEKS
    overdue_blocks_allocation: bool = BLOCKS_DEFAULT
    due_soon_days: int = DUE_SOON_DEFAULT_DAYS


def long_date(day: dt.date) -> str:
    """3 March 2026."""
    return f"{day:%-d %B %Y}"
