"""Builders for supervision test data: plain functions that flush (never commit) and have valid defaults."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.core.accounts import Role, User
from portal.supervision import services
from portal.supervision.models import SupervisionSlot
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from tests.builders import FIXED_NOW, make_user

NOW = FIXED_NOW  # Monday 23 November 2026, 10:00 UTC (GMT)
TODAY = NOW.date()
NEXT_MONDAY = dt.date(2026, 11, 30)


def make_coordinator(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.COORDINATOR,), **overrides)


def make_volunteer(
    session: Session, *, status: VolunteerStatus = VolunteerStatus.ACTIVE, active_since: dt.datetime = NOW,
    **overrides,
) -> User:
    """A volunteer's account with their volunteer record (active since `active_since`)."""
    user = make_user(session, roles=(Role.VOLUNTEER,), **overrides)
    session.add(Volunteer(user_id=user.id, status=status, status_changed_at=active_since, offered_at=active_since))
    session.flush()
    return user


def slot_details(supervisor: User, **overrides) -> services.SlotDetails:
    values = {
        "day": NEXT_MONDAY, "start_time": dt.time(10, 0), "length_minutes": 60, "kind": "individual",
        "mode": "in_person", "supervisor_id": supervisor.id, "capacity": 1,
        "venue": "Canterbury Volunteer Centre, 12 Stour Street, CT1 2NR", "online_link": None,
        "minimum_notice_hours": 24, "cutoff_hours": 24,
    }
    values.update(overrides)
    return services.SlotDetails(**values)


def make_slot(
    session: Session, *, actor: User | None = None, supervisor: User | None = None, now: dt.datetime = NOW,
    **overrides,
) -> SupervisionSlot:
    """One published slot (individual, in person, next Monday 10:00 by default)."""
    actor = actor or make_coordinator(session)
    supervisor = supervisor or actor
    return services.publish_slots(session, slot_details(supervisor, **overrides), actor=actor, now=now)[0]
