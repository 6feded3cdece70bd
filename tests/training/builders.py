"""Builders for training test data: plain functions that flush (never commit) and have valid defaults.

`make_cohort` gives a cohort four days (09:30 to 16:30 London time on four weekdays from `starts_on`);
`enrol` gives a person a volunteer record (an offer) and a place on the cohort without e-mails, so that a
test can start from an enrolled volunteer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.accounts import Role, User
from portal.training.models import Cohort, CohortDay, CohortTrainer, Course, Enrolment, EnrolmentStatus
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from tests.builders import FIXED_NOW, make_user

LONDON = ZoneInfo("Europe/London")
NOW = FIXED_NOW  # Monday 23 November 2026, 10:00 UTC
TODAY = NOW.date()
FIRST_DAY = dt.date(2026, 12, 7)  # a Monday two weeks after NOW
COMPETENCIES = ["Preparation", "Neutrality", "Managing disclosure of harm", "Safeguarding escalation"]


def london(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in London on `day`, as an aware UTC datetime (as stored)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(dt.UTC)


def course_dates(starts_on: dt.date, count: int = 4) -> list[dt.date]:
    """`count` weekdays from `starts_on` (inclusive)."""
    dates: list[dt.date] = []
    day = starts_on
    while len(dates) < count:
        if day.weekday() < 5:
            dates.append(day)
        day += dt.timedelta(days=1)
    return dates


def make_trainer(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.TRAINER,), **overrides)


def make_coordinator(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.COORDINATOR,), **overrides)


def make_course(session: Session, **overrides) -> Course:
    values = {
        "title": "Restorative justice facilitator course",
        "description": "Four days of practice, role play and reflection.",
        "hours": 28,
        "competencies": list(COMPETENCIES),
        **overrides,
    }
    course = Course(**values)
    session.add(course)
    session.flush()
    return course


def make_cohort(
    session: Session,
    course: Course | None = None,
    *,
    starts_on: dt.date = FIRST_DAY,
    dates: Sequence[dt.date] | None = None,
    trainers: Sequence[User] = (),
    capacity: int = 12,
    name: str | None = None,
    **overrides,
) -> Cohort:
    """A cohort with four days (09:30 to 16:30 London time), at a venue unless `online_link` is given."""
    course = course or make_course(session)
    days = list(dates) if dates is not None else course_dates(starts_on)
    values = {
        "name": name or f"{days[0]:%B %Y} cohort",
        "capacity": capacity,
        "venue_name": "Community Hall",
        "venue_address": "1 Market Street, Maidstone ME14 1AA",
        "access_notes": "Step-free entrance at the side door.",
        **overrides,
    }
    cohort = Cohort(course=course, **values)
    cohort.days = [
        CohortDay(day_number=number, starts_at=london(day, 9, 30), ends_at=london(day, 16, 30))
        for number, day in enumerate(days, start=1)
    ]
    cohort.trainer_links = [CohortTrainer(user_id=trainer.id) for trainer in trainers]
    session.add(cohort)
    session.flush()
    return cohort


def make_volunteer(
    session: Session, user: User | None = None, *, status: VolunteerStatus = VolunteerStatus.VETTING, **overrides
) -> Volunteer:
    """A volunteer record (the person has an offer), for a new volunteer user unless `user` is given."""
    user = user or make_user(session, roles=(Role.VOLUNTEER,), **overrides)
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
    if volunteer is None:
        volunteer = Volunteer(user_id=user.id, status=status, offered_at=NOW, status_changed_at=NOW)
        session.add(volunteer)
        session.flush()
    return volunteer


def enrol(
    session: Session,
    cohort: Cohort,
    user: User | None = None,
    *,
    status: EnrolmentStatus = EnrolmentStatus.ENROLLED,
    now: dt.datetime = NOW,
    **overrides,
) -> Enrolment:
    """A place (or a waiting-list place) on the cohort for `user` (a new volunteer with an offer if None),
    written directly: no e-mail, no audit. Use the services to test enrolment itself."""
    if user is None:
        user = make_volunteer(session, status=VolunteerStatus.TRAINING).user
    else:
        make_volunteer(session, user, status=VolunteerStatus.TRAINING)
    enrolment = Enrolment(
        cohort_id=cohort.id,
        user_id=user.id,
        status=status,
        enrolled_at=now if status is not EnrolmentStatus.WAITING else None,
        waiting_since=now if status is EnrolmentStatus.WAITING else None,
        **overrides,
    )
    session.add(enrolment)
    session.flush()
    session.refresh(cohort)
    return enrolment
