"""Reads of training: courses, cohorts, rosters, a volunteer's enrolments, registers and the cohort report.

`get_*` raises NotFound, `find_*` returns None, `list_*` returns a list.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.core.accounts import Role, User, UserRole
from portal.core.clock import LONDON
from portal.core.errors import NotFound
from portal.training import services, signals
from portal.training.models import (
    LIVE_STATUSES,
    Cohort,
    CohortDay,
    CohortTrainer,
    Course,
    Enrolment,
    EnrolmentStatus,
    MakeUpBooking,
)
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus


def get_course(session: Session, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound("Course not found")
    return course


def get_cohort(session: Session, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound("Cohort not found")
    return cohort


def get_cohort_day(session: Session, cohort_id: int, day_number: int) -> CohortDay:
    """Day `day_number` of the cohort; NotFound for a day outside it."""
    day = session.scalar(select(CohortDay).where(CohortDay.cohort_id == cohort_id, CohortDay.day_number == day_number))
    if day is None:
        raise NotFound("Course day not found")
    return day


def get_enrolment(session: Session, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise NotFound("Enrolment not found")
    return enrolment


def get_make_up(session: Session, booking_id: int) -> MakeUpBooking:
    booking = session.get(MakeUpBooking, booking_id)
    if booking is None:
        raise NotFound("Make-up booking not found")
    return booking


def list_courses(session: Session) -> list[Course]:
    return list(session.scalars(select(Course).order_by(Course.title, Course.id)))


def _cohort_order(cohorts: list[Cohort]) -> list[Cohort]:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(cohorts, key=lambda c: (c.starts_at or far, c.id))


def list_cohorts(session: Session, *, trainer_id: int | None = None, course_id: int | None = None) -> list[Cohort]:
    """Every cohort (or those one trainer trains, or of one course), by start date."""
    query = select(Cohort).options(selectinload(Cohort.days), selectinload(Cohort.trainer_links))
    if trainer_id is not None:
        query = query.join(CohortTrainer).where(CohortTrainer.user_id == trainer_id)
    if course_id is not None:
        query = query.where(Cohort.course_id == course_id)
    return _cohort_order(list(session.scalars(query).unique()))


def list_open_cohorts(session: Session, *, now: dt.datetime) -> list[Cohort]:
    """Cohorts a volunteer could join today: not cancelled and not yet started (full ones too: waiting list)."""
    cohorts = session.scalars(
        select(Cohort).where(Cohort.cancelled_at.is_(None)).options(selectinload(Cohort.days))
    ).all()
    return _cohort_order([c for c in cohorts if c.starts_at is not None and c.starts_at > now])


def list_enrolments_for_user(session: Session, user_id: int) -> list[Enrolment]:
    """A person's own enrolments, newest first."""
    return list(session.scalars(
        select(Enrolment).where(Enrolment.user_id == user_id).order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
    ))


def find_live_enrolment(session: Session, cohort_id: int, user_id: int) -> Enrolment | None:
    return session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == cohort_id, Enrolment.user_id == user_id, Enrolment.status.in_(LIVE_STATUSES)))


def list_trainers(session: Session) -> list[User]:
    """People with the trainer role and an active account, by name."""
    users = session.scalars(
        select(User).join(UserRole).where(UserRole.role == Role.TRAINER).order_by(User.name)
    ).unique()
    return [user for user in users if not user.is_deactivated]


def list_enrollable_volunteers(session: Session) -> list[User]:
    """People with an offer who are still in vetting or training (whom a coordinator may enrol), by name."""
    volunteers = session.scalars(
        select(Volunteer).where(Volunteer.status.in_(services.ENROLLABLE_VOLUNTEER_STATUSES))
    ).all()
    return sorted((v.user for v in volunteers if not v.user.is_deactivated), key=lambda u: (u.name.casefold(), u.id))


def places_left(session: Session, cohort: Cohort) -> int:
    return max(cohort.capacity - services.places_taken(session, cohort.id), 0)


@dataclass(frozen=True)
class Roster:
    enrolled: list[Enrolment]
    completed: list[Enrolment]
    waiting: list[Enrolment]
    withdrawn: list[Enrolment]
    make_ups_in: list[MakeUpBooking]

    @property
    def holding_places(self) -> list[Enrolment]:
        return self.enrolled + self.completed


def cohort_roster(session: Session, cohort: Cohort) -> Roster:
    """The cohort's people by status (waiting list in order), and make-up visitors from other cohorts."""
    by_name = sorted(cohort.enrolments, key=lambda e: (e.user.name.casefold(), e.id))
    waiting = sorted((e for e in cohort.enrolments if e.status is EnrolmentStatus.WAITING),
                     key=lambda e: (e.waiting_since or e.created_at, e.id))
    make_ups = list(session.scalars(
        select(MakeUpBooking).join(CohortDay).where(
            CohortDay.cohort_id == cohort.id, MakeUpBooking.cancelled_at.is_(None)
        ).order_by(CohortDay.day_number, MakeUpBooking.id)
    ))
    return Roster(
        enrolled=[e for e in by_name if e.status is EnrolmentStatus.ENROLLED],
        completed=[e for e in by_name if e.status is EnrolmentStatus.COMPLETED],
        waiting=waiting,
        withdrawn=[e for e in by_name if e.status is EnrolmentStatus.WITHDRAWN],
        make_ups_in=make_ups,
    )


@dataclass(frozen=True)
class RegisterRow:
    enrolment: Enrolment
    mark: str | None
    reason: str | None
    is_make_up: bool


def register_rows(session: Session, day: CohortDay) -> list[RegisterRow]:
    """One row per person on the day's register, with what has been recorded so far."""
    rows = []
    for enrolment in services.register_enrolments(session, day):
        attendance = next((a for a in enrolment.attendances if a.cohort_day_id == day.id), None)
        rows.append(RegisterRow(
            enrolment=enrolment,
            mark=attendance.mark.value if attendance else None,
            reason=attendance.reason if attendance else None,
            is_make_up=enrolment.cohort_id != day.cohort_id,
        ))
    return rows


def assessment_outcome(session: Session, enrolment: Enrolment) -> str | None:
    """"passed", "referred", "failed" or None, as training.coursework answers (worst answer wins)."""
    answers = {reply for _receiver, reply in signals.assessment_outcome_requested.send(enrolment, session=session)}
    for outcome in ("failed", "referred", "passed"):
        if outcome in answers:
            return outcome
    return None


@dataclass(frozen=True)
class CohortReport:
    cohort: Cohort
    enrolled: int
    attended_all_days: int
    passed: int
    referred: int
    completed: int
    withdrawn: int
    waiting: int
    active: int
    days_to_active: list[int]

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.enrolled if self.enrolled else None

    @property
    def median_days_to_active(self) -> float | None:
        return statistics.median(self.days_to_active) if self.days_to_active else None


def cohort_report(session: Session, cohort: Cohort) -> CohortReport:
    """Per-cohort figures: people who held a place, attended all four days (make-up days count), passed
    and were referred (as the coursework package answers), completed, the completion rate, and days from
    the last course day to becoming an active volunteer."""
    holders = [e for e in cohort.enrolments if e.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)]
    attended_all = sum(1 for e in holders if all(p.attended for p in services.day_progress(session, e)))
    outcomes = [assessment_outcome(session, e) for e in holders]
    completed = [e for e in holders if e.status is EnrolmentStatus.COMPLETED]
    last_day = cohort.ends_at.astimezone(LONDON).date() if cohort.ends_at else None
    days_to_active = []
    for enrolment in completed:
        volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == enrolment.user_id))
        if volunteer is not None and volunteer.status is VolunteerStatus.ACTIVE and last_day is not None:
            became_active = volunteer.status_changed_at.astimezone(LONDON).date()
            days_to_active.append(max((became_active - last_day).days, 0))
    return CohortReport(
        cohort=cohort,
        enrolled=len(holders),
        attended_all_days=attended_all,
        passed=sum(1 for e, outcome in zip(holders, outcomes, strict=True)
                   if outcome == "passed" or (outcome is None and e.status is EnrolmentStatus.COMPLETED)),
        referred=outcomes.count("referred"),
        completed=len(completed),
        withdrawn=sum(1 for e in cohort.enrolments if e.status is EnrolmentStatus.WITHDRAWN),
        waiting=sum(1 for e in cohort.enrolments if e.status is EnrolmentStatus.WAITING),
        active=len(days_to_active),
        days_to_active=days_to_active,
    )


def needing_make_up(session: Session, cohort: Cohort) -> list[tuple[Enrolment, list[int]]]:
    """Enrolled people of the cohort who missed a day, with the day numbers still to make up."""
    result = []
    for enrolment in cohort.enrolments:
        if enrolment.status is not EnrolmentStatus.ENROLLED:
            continue
        missing = [p.day_number for p in services.day_progress(session, enrolment) if p.needs_make_up]
        if missing:
            result.append((enrolment, missing))
    return result


def course_completed_on(session: Session, user_ids: Iterable[int]) -> dict[int, dt.date | None]:
    """The day each of these people first completed a course (an enrolment completed), in one query.

    People who have completed none are left out; a completion with no recorded date maps to None.
    """
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Enrolment.user_id, func.min(Enrolment.completed_on))
        .where(Enrolment.user_id.in_(wanted), Enrolment.status == EnrolmentStatus.COMPLETED)
        .group_by(Enrolment.user_id)
    )
    return {user_id: completed_on for user_id, completed_on in rows}
