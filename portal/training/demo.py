"""Demo training data: the facilitator course with a past, a current and a future cohort, made through the
services (enrolments, a waiting list, a withdrawal, registers, a missed day and its make-up booking).

Used by `flask demo load`; idempotent (nothing is added once the demo course exists). Flushes, never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.core.clock import LONDON
from portal.core.errors import DomainError
from portal.training import services
from portal.training.models import Cohort, Course, Enrolment, EnrolmentStatus
from portal.training.services import CohortDetails, CourseDetails, DayTimes, Mark
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus

DEMO_COURSE_TITLE = "Restorative justice facilitator course"
COMPETENCIES = [
    "Preparing participants safely",
    "Staying neutral and fair",
    "Managing disclosure of harm",
    "Safeguarding and escalation",
    "Running a restorative conference",
]


def _weekdays_from(first: dt.date, count: int = 4) -> list[dt.date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _enrollable(session: Session, users: Sequence[User], now: dt.datetime) -> list[User]:
    """The demo volunteers who can enrol; a demo account without a volunteer record is given one (an offer)."""
    ready = []
    for user in users:
        volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
        if volunteer is None:
            volunteer = Volunteer(user_id=user.id, status=VolunteerStatus.VETTING, offered_at=now,
                                  status_changed_at=now, created_at=now)
            session.add(volunteer)
            session.flush()
        if volunteer.status in services.ENROLLABLE_VOLUNTEER_STATUSES:
            ready.append(user)
    return ready


def _cohort(session: Session, course: Course, *, name: str, first: dt.date, capacity: int, trainers: Sequence[User],
            coordinator: User, created: dt.datetime, online: bool = False) -> Cohort:
    details = CohortDetails(
        name=name, capacity=capacity,
        days=[DayTimes(day, dt.time(9, 30), dt.time(16, 30)) for day in _weekdays_from(first)],
        trainer_ids=[trainer.id for trainer in trainers],
        venue_name=None if online else "Chelmsford Community Hub",
        venue_address=None if online else "Market Road, Chelmsford CM1 1XA",
        access_notes=None if online else "Step-free entrance from the car park; hearing loop in the main room.",
        online_link="https://meet.example.org/rj-course" if online else None,
    )
    return services.create_cohort(session, course.id, details, actor=coordinator, now=created)


def load_demo_training(
    session: Session, *, coordinator: User, trainers: Sequence[User], volunteers: Sequence[User], now: dt.datetime
) -> list[Cohort]:
    """The demo course and three cohorts (past, current, future); returns the cohorts, or [] when loaded before.

    Past cohort: everyone's four registers taken, one person left early on day 3 and is booked onto day 3 of
    the current cohort. Current cohort: day 1 register taken. Future cohort: full, with a waiting list and a
    withdrawal that promoted the first person waiting. Completion waits for coursework (see
    `complete_demo_enrolments`, run after the coursework demo).
    """
    if session.scalar(select(Course).where(Course.title == DEMO_COURSE_TITLE)) is not None:
        return []
    trainers = list(trainers)[:2] or [coordinator]
    people = _enrollable(session, volunteers, now)
    today = now.astimezone(LONDON).date()
    long_ago = now - dt.timedelta(days=150)
    course = services.create_course(
        session, CourseDetails(title=DEMO_COURSE_TITLE, hours=28, competencies=COMPETENCIES,
                               description="Four days of practice, role play and reflection, following the "
                                           "Restorative Justice Council's practitioner standards."),
        actor=coordinator, now=long_ago,
    )
    past = _cohort(session, course, name="Earlier cohort (Chelmsford)",
                   first=_monday_on_or_after(today - dt.timedelta(days=70)), capacity=8, trainers=trainers,
                   coordinator=coordinator, created=long_ago)
    current_first = today - dt.timedelta(days=1)
    while current_first.weekday() >= 5:  # the last weekday before today: day 1 done, days to come
        current_first -= dt.timedelta(days=1)
    current = _cohort(session, course, name="Current cohort (online)", first=current_first, capacity=8,
                      trainers=trainers[:1], coordinator=coordinator, created=long_ago, online=True)
    future = _cohort(session, course, name="Next cohort (Chelmsford)",
                     first=_monday_on_or_after(today + dt.timedelta(days=21)), capacity=3, trainers=trainers,
                     coordinator=coordinator, created=long_ago)

    groups = people[:4], people[4:7], people[7:12]
    past_enrolments = [services.enrol_volunteer(session, past.id, user.id, actor=coordinator, now=long_ago,
                                                dietary_needs="Vegetarian" if index == 0 else None)
                       for index, user in enumerate(groups[0])]
    for day in past.days:
        marks = {e.id: Mark("present") for e in past_enrolments}
        if day.day_number == 3 and past_enrolments:
            marks[past_enrolments[-1].id] = Mark("left_early", "Family emergency at lunchtime")
        if day.day_number == 2 and len(past_enrolments) > 1:
            marks[past_enrolments[1].id] = Mark("late", "Train cancelled")
        if marks:
            services.take_register(session, day.id, marks, actor=trainers[0], now=day.starts_at)
    if past_enrolments:
        missed_day = current.day(3)
        if missed_day is not None and missed_day.starts_at > now:
            services.book_make_up(session, past_enrolments[-1].id, missed_day.id, actor=coordinator, now=now)

    current_enrolments = [
        services.enrol_volunteer(session, current.id, user.id, actor=user, now=long_ago,
                                 access_needs="Needs captions on video calls" if index == 0 else None)
        for index, user in enumerate(groups[1])
    ]
    day_one = current.day(1)
    if current_enrolments and day_one is not None and day_one.starts_at <= now:
        marks = {e.id: Mark("present") for e in current_enrolments}
        marks[current_enrolments[-1].id] = Mark("absent", "Unwell")
        services.take_register(session, day_one.id, marks, actor=trainers[0], now=day_one.starts_at)

    future_enrolments = [services.enrol_volunteer(session, future.id, user.id, actor=user, now=now)
                         for user in groups[2]]
    if len(future_enrolments) > future.capacity:
        services.withdraw_enrolment(session, future_enrolments[0].id, actor=future_enrolments[0].user, now=now,
                                    reason="Starting a new job")
    return [past, current, future]


def complete_demo_enrolments(session: Session, *, coordinator: User, now: dt.datetime) -> list[Enrolment]:
    """Record completion for every enrolment on a finished demo cohort that has everything it needs (run after
    the coursework demo has passed some people); the others are left as they are. Returns those completed."""
    course = session.scalar(select(Course).where(Course.title == DEMO_COURSE_TITLE))
    if course is None:
        return []
    completed = []
    for cohort in course.cohorts:
        if cohort.ends_at is None or cohort.ends_at > now:
            continue
        for enrolment in list(cohort.enrolments):
            if enrolment.status is not EnrolmentStatus.ENROLLED:
                continue
            try:
                with session.begin_nested():
                    services.complete_enrolment(session, enrolment.id, actor=coordinator, now=now)
            except DomainError:
                continue
            completed.append(enrolment)
    return completed
