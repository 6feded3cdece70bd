"""Reads of training: courses, cohorts, rosters, a volunteer's enrolments, registers and the cohort report.

`get_*` raises NotFound, `find_*` returns None, `list_*` returns a list.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.core.accounts import Role, User, UserRole
from portal.core.clock import LONDON
from portal.core.errors import NotFound
from portal.core.paging import Page, PageWindow
from portal.training import services, signals
from portal.training.models import (
    LIVE_STATUSES,
    Attendance,
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


def _first_day():
    return (select(CohortDay.cohort_id, func.min(CohortDay.starts_at).label("starts_at"))
            .group_by(CohortDay.cohort_id).subquery("first_day"))


def _with_table_parts(query):
    """What a cohort table shows, loaded in a fixed number of statements: course, days, trainers."""
    return query.options(selectinload(Cohort.course), selectinload(Cohort.days),
                         selectinload(Cohort.trainer_links).selectinload(CohortTrainer.user))


def cohorts_page(
    session: Session, *, page: int, per_page: int, course_id: int | None = None, trainer_id: int | None = None,
    newest_first: bool = False,
) -> Page[Cohort]:
    """One page of cohorts (of one course, or one trainer's, or all) by their first day (cohorts without
    days last), or newest first; five statements however many cohorts. A page past the end gives the last."""
    conditions = []
    if course_id is not None:
        conditions.append(Cohort.course_id == course_id)
    if trainer_id is not None:
        conditions.append(Cohort.id.in_(select(CohortTrainer.cohort_id).where(CohortTrainer.user_id == trainer_id)))
    total = session.scalar(select(func.count(Cohort.id)).where(*conditions)) or 0
    window = PageWindow.of(total, page, per_page)
    first = _first_day()
    undated = case((first.c.starts_at.is_(None), 1), else_=0)
    order = ((undated, first.c.starts_at.desc(), Cohort.id.desc()) if newest_first
             else (undated, first.c.starts_at, Cohort.id))
    cohorts = session.scalars(_with_table_parts(
        select(Cohort).outerjoin(first, first.c.cohort_id == Cohort.id).where(*conditions)
        .order_by(*order).offset(window.offset).limit(window.per_page)
    )).all()
    return Page(list(cohorts), window)


def list_open_cohorts_soonest(session: Session, *, now: dt.datetime, limit: int) -> list[Cohort]:
    """The `limit` soonest cohorts a volunteer could join (as `list_open_cohorts`), in four statements."""
    first = _first_day()
    return list(session.scalars(_with_table_parts(
        select(Cohort).join(first, first.c.cohort_id == Cohort.id)
        .where(Cohort.cancelled_at.is_(None), first.c.starts_at > now)
        .order_by(first.c.starts_at, Cohort.id).limit(limit)
    )))


def places_left_of(session: Session, cohorts: Iterable[Cohort]) -> dict[int, int]:
    """Places left on each of these cohorts by id, in one statement."""
    cohorts = list(cohorts)
    if not cohorts:
        return {}
    taken = dict(session.execute(
        select(Enrolment.cohort_id, func.count(Enrolment.id))
        .where(Enrolment.cohort_id.in_([c.id for c in cohorts]), Enrolment.status == EnrolmentStatus.ENROLLED)
        .group_by(Enrolment.cohort_id)
    ).all())
    return {c.id: max(c.capacity - taken.get(c.id, 0), 0) for c in cohorts}


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


@dataclass(frozen=True)
class EnrollablePerson:
    user_id: int
    name: str
    email: str


def search_enrollable_volunteers(
    session: Session, cohort_id: int, search: str, *, limit: int
) -> tuple[list[EnrollablePerson], bool]:
    """Up to `limit` people whose name or e-mail address contains `search` (any case) and whom a
    coordinator may enrol on the cohort: an offer, still in vetting or training, an active account, and
    no place or waiting-list place on it already. By name; with True when more match. One statement."""
    live_here = select(Enrolment.user_id).where(Enrolment.cohort_id == cohort_id,
                                               Enrolment.status.in_(LIVE_STATUSES))
    rows = session.execute(
        select(User.id, User.name, User.email)
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(Volunteer.status.in_(services.ENROLLABLE_VOLUNTEER_STATUSES), User.is_deactivated.is_(False),
               User.id.not_in(live_here),
               or_(User.name.icontains(search, autoescape=True), User.email.icontains(search, autoescape=True)))
        .order_by(func.lower(User.name), User.id)
        .limit(limit + 1)
    ).all()
    return [EnrollablePerson(*row) for row in rows[:limit]], len(rows) > limit


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


def cohort_enrolments(session: Session, cohort: Cohort) -> list[Enrolment]:
    """Every enrolment of the cohort with its person, in two statements (a cohort holds at most its
    capacity, its waiting list and those who withdrew)."""
    return list(session.scalars(
        select(Enrolment).where(Enrolment.cohort_id == cohort.id).options(selectinload(Enrolment.user))
        .order_by(Enrolment.id)
    ))


def cohort_roster(session: Session, cohort: Cohort, enrolments: list[Enrolment] | None = None) -> Roster:
    """The cohort's people by status (waiting list in order), and make-up visitors from other cohorts;
    a fixed number of statements however many people."""
    enrolments = cohort_enrolments(session, cohort) if enrolments is None else enrolments
    by_name = sorted(enrolments, key=lambda e: (e.user.name.casefold(), e.id))
    waiting = sorted((e for e in enrolments if e.status is EnrolmentStatus.WAITING),
                     key=lambda e: (e.waiting_since or e.created_at, e.id))
    make_ups = list(session.scalars(
        select(MakeUpBooking).join(CohortDay).where(
            CohortDay.cohort_id == cohort.id, MakeUpBooking.cancelled_at.is_(None)
        ).order_by(CohortDay.day_number, MakeUpBooking.id)
        .options(selectinload(MakeUpBooking.enrolment).options(selectinload(Enrolment.user),
                                                                selectinload(Enrolment.cohort)))
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
    """One row per person on the day's register, with what has been recorded so far; a fixed number of
    statements however many people."""
    rows = []
    enrolments = services.register_enrolments(session, day)
    recorded = {a.enrolment_id: a for a in session.scalars(select(Attendance).where(
        Attendance.cohort_day_id == day.id, Attendance.enrolment_id.in_([e.id for e in enrolments])))}
    for enrolment in enrolments:
        attendance = recorded.get(enrolment.id)
        rows.append(RegisterRow(
            enrolment=enrolment,
            mark=attendance.mark.value if attendance else None,
            reason=attendance.reason if attendance else None,
            is_make_up=enrolment.cohort_id != day.cohort_id,
        ))
    return rows


def assessment_outcomes(session: Session, cohort: Cohort, enrolments: list[Enrolment]) -> dict[int, str | None]:
    """"passed", "referred", "failed" or None for each enrolment, as training.coursework answers (worst
    answer wins)."""
    replies = [reply for _receiver, reply in signals.assessment_outcome_requested.send(
        cohort, session=session, enrolments=enrolments)]
    found: dict[int, str | None] = {}
    for enrolment in enrolments:
        answers = {reply.get(enrolment.id) for reply in replies}
        found[enrolment.id] = next((outcome for outcome in ("failed", "referred", "passed") if outcome in answers),
                                   None)
    return found


def assessment_outcome(session: Session, enrolment: Enrolment) -> str | None:
    """One enrolment's `assessment_outcomes`."""
    return assessment_outcomes(session, enrolment.cohort, [enrolment])[enrolment.id]


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
    enrolments = cohort_enrolments(session, cohort)
    holders = [e for e in enrolments if e.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)]
    progress = services.day_progress_of(session, holders)
    attended_all = sum(1 for e in holders if all(p.attended for p in progress[e.id]))
    standing = assessment_outcomes(session, cohort, holders)
    outcomes = [standing[e.id] for e in holders]
    completed = [e for e in holders if e.status is EnrolmentStatus.COMPLETED]
    last_day = cohort.ends_at.astimezone(LONDON).date() if cohort.ends_at else None
    became_active_at = dict(session.execute(
        select(Volunteer.user_id, Volunteer.status_changed_at)
        .where(Volunteer.user_id.in_([e.user_id for e in completed]), Volunteer.status == VolunteerStatus.ACTIVE)
    ).all()) if completed else {}
    days_to_active = []
    for enrolment in completed:
        active_at = became_active_at.get(enrolment.user_id)
        if active_at is not None and last_day is not None:
            became_active = active_at.astimezone(LONDON).date()
            days_to_active.append(max((became_active - last_day).days, 0))
    return CohortReport(
        cohort=cohort,
        enrolled=len(holders),
        attended_all_days=attended_all,
        passed=sum(1 for e, outcome in zip(holders, outcomes, strict=True)
                   if outcome == "passed" or (outcome is None and e.status is EnrolmentStatus.COMPLETED)),
        referred=outcomes.count("referred"),
        completed=len(completed),
        withdrawn=sum(1 for e in enrolments if e.status is EnrolmentStatus.WITHDRAWN),
        waiting=sum(1 for e in enrolments if e.status is EnrolmentStatus.WAITING),
        active=len(days_to_active),
        days_to_active=days_to_active,
    )


def needing_make_up(
    session: Session, cohort: Cohort, enrolments: list[Enrolment] | None = None
) -> list[tuple[Enrolment, list[int]]]:
    """Enrolled people of the cohort who missed a day, with the day numbers still to make up; a fixed
    number of statements however many people."""
    enrolments = cohort_enrolments(session, cohort) if enrolments is None else enrolments
    enrolled = [e for e in enrolments if e.status is EnrolmentStatus.ENROLLED]
    progress = services.day_progress_of(session, enrolled)
    result = []
    for enrolment in enrolled:
        missing = [p.day_number for p in progress[enrolment.id] if p.needs_make_up]
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
