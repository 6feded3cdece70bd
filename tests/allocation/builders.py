"""Builders for allocation test data: plain functions that flush (never commit).

`make_facilitator` gives a volunteer who is eligible for an ordinary case by default: active, police
vetting and references cleared through the vetting service, the course completed, available on weekday
mornings and afternoons in Canterbury. `make_waiting_case` gives a case awaiting allocation with its
needs recorded (the parties meet on weekday mornings and afternoons; expected from next Monday for
six weeks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy.orm import Session

from portal.allocation.models import CaseNeeds
from portal.cases.models import Case, CaseStatus
from portal.core.accounts import Role, User
from portal.training.models import EnrolmentStatus
from portal.volunteers.profiles import availability
from portal.volunteers.profiles.models import ExperienceLevel, Volunteer, VolunteerStatus
from portal.volunteers.vetting.models import CheckKind
from tests.builders import FIXED_NOW, make_user
from tests.cases.builders import make_case
from tests.training.builders import enrol, make_cohort
from tests.volunteers.vetting.builders import record

NOW = FIXED_NOW  # Monday 23 November 2026, 10:00 UTC
TODAY = NOW.date()
START = dt.date(2026, 11, 30)  # the Monday after NOW
WEEKDAY_DAYTIME = {day: ["morning", "afternoon"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def make_coordinator(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.COORDINATOR,), **overrides)


def make_facilitator(
    session: Session,
    *,
    name: str | None = None,
    status: VolunteerStatus = VolunteerStatus.ACTIVE,
    experience: ExperienceLevel = ExperienceLevel.EXPERIENCED,
    districts: Iterable[str] = ("Canterbury",),
    pattern: Mapping[str, Iterable[str]] = WEEKDAY_DAYTIME,
    languages: Iterable[str] = ("English",),
    max_cases: int = 2,
    drives: bool = True,
    cleared: bool = True,
    trained: bool = True,
    cleared_on: dt.date = TODAY - dt.timedelta(days=30),
) -> Volunteer:
    """An active volunteer who, by default, passes every eligibility rule for a Canterbury case."""
    user = make_user(session, roles=(Role.VOLUNTEER,), name=name)
    volunteer = Volunteer(
        user=user, user_id=user.id, status=status, offered_at=NOW - dt.timedelta(days=200),
        status_changed_at=NOW - dt.timedelta(days=30), experience=experience, districts=list(districts),
        availability={day: list(periods) for day, periods in pattern.items()},
        availability_mask=availability.to_mask(pattern), languages=list(languages), max_cases=max_cases,
        drives=drives,
    )
    session.add(volunteer)
    session.flush()
    if cleared:
        actor = make_coordinator(session)
        record(session, volunteer, CheckKind.NPPV, actor=actor, cleared_on=cleared_on)
        record(session, volunteer, CheckKind.REFERENCES, actor=actor, cleared_on=cleared_on, reference_last4=None)
    if trained:
        cohort = make_cohort(session, starts_on=dt.date(2026, 6, 1))
        enrol(session, cohort, user, status=EnrolmentStatus.COMPLETED, completed_on=dt.date(2026, 6, 4))
        volunteer.status = status  # enrol() leaves an existing record's status alone; keep ours
        session.flush()
    return volunteer


def set_needs(session: Session, case: Case, **overrides) -> CaseNeeds:
    """Record (or replace) the case's needs directly, for setting up a test."""
    values = {
        "meeting_mask": availability.to_mask(WEEKDAY_DAYTIME), "languages": [], "is_complex": False,
        "expected_hours": 20, "facilitators_needed": 2, "expected_start_on": START,
        "expected_end_on": START + dt.timedelta(weeks=6), "updated_at": NOW,
    }
    values.update(overrides)
    if "pattern" in values:
        values["meeting_mask"] = availability.to_mask(values.pop("pattern"))
    needs = session.get(CaseNeeds, case.id)
    if needs is None:
        needs = CaseNeeds(case_id=case.id, **values)
        session.add(needs)
    else:
        for key, value in values.items():
            setattr(needs, key, value)
    session.flush()
    return needs


def make_waiting_case(session: Session, *, district: str = "Canterbury", is_sensitive: bool = False,
                      needs: Mapping | None = None, **overrides) -> Case:
    """A case awaiting allocation in `district`, with its needs recorded (override with `needs`)."""
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION, district=district, **overrides)
    case.is_sensitive = is_sensitive
    set_needs(session, case, **dict(needs or {}))
    return case
