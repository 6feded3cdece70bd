"""Builders for interview test data: plain functions that flush (never commit)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.volunteers.interviews import services
from portal.volunteers.interviews.models import InterviewSlot, SlotMode
from tests.volunteers.builders import NOW, make_coordinator

# Slots are typed in London time: 1 December 2026 is in GMT, so 10:00 there is 10:00 UTC.
SLOT_DAY = dt.date(2026, 12, 1)


def slot_details(interviewers: list[User], **overrides) -> services.SlotDetails:
    values = {
        "day": SLOT_DAY, "start_time": dt.time(10, 0), "length_minutes": 60, "mode": SlotMode.IN_PERSON,
        "venue": "Colchester Town Hall", "address": "High Street, Colchester CO1 1PJ", "online_link": None,
        "interviewer_ids": [person.id for person in interviewers], "capacity": 1,
    }
    return services.SlotDetails(**{**values, **overrides})


def make_slot(
    session: Session, *, coordinator: User | None = None, now: dt.datetime = NOW, **overrides,
) -> InterviewSlot:
    """One open slot (10:00 London on 1 December 2026 unless overridden), created by a coordinator."""
    coordinator = coordinator or make_coordinator(session)
    interviewers = overrides.pop("interviewers", [coordinator])
    [slot] = services.create_slots(session, slot_details(interviewers, **overrides), actor=coordinator, now=now)
    return slot
