"""Reads for coursework and practical assessment: `get_*` raises NotFound, `find_*` returns None,
`list_*` returns a list. Nothing here hides results from volunteers: pages show outcome and feedback
only through `permissions.can_see_result` (released work)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.core.accounts import User, is_coordinator
from portal.core.clock import LONDON, add_working_days
from portal.core.errors import NotFound
from portal.core.paging import Page, PageWindow
from portal.training.coursework.models import (
    Assignment,
    Attempt,
    ConflictOfInterest,
    MarkingStatus,
    PracticalAssessment,
)
from portal.training.models import PLACE_STATUSES, Cohort, CohortTrainer, Enrolment, EnrolmentStatus

M = MarkingStatus
# Markers aim to return feedback within this many working days of the work coming in.
MARKING_WORKING_DAYS = 10


def _get(session: Session, model: type, object_id: int, what: str):
    found = session.get(model, object_id)
    if found is None:
        raise NotFound(f"No such {what}")
    return found


def get_cohort(session: Session, cohort_id: int) -> Cohort:
    return _get(session, Cohort, cohort_id, "cohort")


def get_enrolment(session: Session, enrolment_id: int) -> Enrolment:
    return _get(session, Enrolment, enrolment_id, "enrolment")


def get_assignment(session: Session, assignment_id: int) -> Assignment:
    return _get(session, Assignment, assignment_id, "assignment")


def get_attempt(session: Session, attempt_id: int) -> Attempt:
    return _get(session, Attempt, attempt_id, "coursework")


def get_practical(session: Session, practical_id: int) -> PracticalAssessment:
    return _get(session, PracticalAssessment, practical_id, "practical assessment")


def find_enrolment(session: Session, cohort_id: int, user_id: int) -> Enrolment | None:
    """The person's place on the cohort (enrolled or completed), or None."""
    return session.scalar(
        select(Enrolment).where(Enrolment.cohort_id == cohort_id, Enrolment.user_id == user_id,
                                Enrolment.status.in_(PLACE_STATUSES)).order_by(Enrolment.id.desc()).limit(1)
    )


def list_assignments(session: Session, cohort_id: int) -> list[Assignment]:
    return list(session.scalars(select(Assignment).where(Assignment.cohort_id == cohort_id)
                                .order_by(Assignment.due_at, Assignment.id)))


def list_attempts(session: Session, assignment_id: int, enrolment_id: int) -> list[Attempt]:
    """Every attempt of one volunteer at one assignment, first first (the history)."""
    return list(session.scalars(select(Attempt).where(Attempt.assignment_id == assignment_id,
                                                      Attempt.enrolment_id == enrolment_id)
                                .order_by(Attempt.number)))


def list_ready_to_release(session: Session, assignment_id: int) -> list[Attempt]:
    return list(session.scalars(
        select(Attempt).where(
            Attempt.assignment_id == assignment_id,
            or_(Attempt.status == M.MODERATED, (Attempt.status == M.MARKED) & Attempt.needs_moderation.is_(False)),
        ).order_by(Attempt.id)
    ))


def list_unmarked_for(session: Session, *, marker_id: int, volunteer_id: int) -> list[Attempt]:
    return list(session.scalars(
        select(Attempt).join(Enrolment, Attempt.enrolment_id == Enrolment.id).where(
            Attempt.marker_id == marker_id, Enrolment.user_id == volunteer_id,
            Attempt.status.in_((M.SUBMITTED, M.IN_MARKING)),
        )
    ))


def conflicted_volunteer_ids(session: Session, trainer_id: int) -> frozenset[int]:
    """The volunteers (user ids) this trainer declared a conflict of interest with."""
    return frozenset(session.scalars(select(ConflictOfInterest.volunteer_id)
                                     .where(ConflictOfInterest.trainer_id == trainer_id)))


def list_conflicts(session: Session, trainer_id: int) -> list[ConflictOfInterest]:
    """The conflicts this trainer declared, with the volunteers, in two statements."""
    return list(session.scalars(select(ConflictOfInterest).where(ConflictOfInterest.trainer_id == trainer_id)
                                .options(selectinload(ConflictOfInterest.volunteer))
                                .order_by(ConflictOfInterest.declared_at)))


def _trainees(trainer: User):
    query = select(User.id).join(Enrolment, Enrolment.user_id == User.id).where(
        Enrolment.status.in_(PLACE_STATUSES), Enrolment.user_id != trainer.id)
    if not is_coordinator(trainer):
        query = query.join(CohortTrainer, CohortTrainer.cohort_id == Enrolment.cohort_id).where(
            CohortTrainer.user_id == trainer.id)
    return query


def list_trainees(session: Session, trainer: User) -> list[User]:
    """Volunteers with a place on a cohort this person trains (every cohort for a coordinator), by name."""
    return list(session.scalars(select(User).where(User.id.in_(_trainees(trainer))).order_by(User.name)))


def search_trainees(session: Session, trainer: User, search: str, *, limit: int) -> tuple[list[User], bool]:
    """Up to `limit` of `list_trainees` whose name or e-mail address contains `search` (any case), leaving
    out those a conflict is already declared with; with True when more match. One statement."""
    declared = select(ConflictOfInterest.volunteer_id).where(ConflictOfInterest.trainer_id == trainer.id)
    found = list(session.scalars(
        select(User).where(User.id.in_(_trainees(trainer)), User.id.not_in(declared),
                           or_(User.name.icontains(search, autoescape=True),
                               User.email.icontains(search, autoescape=True)))
        .order_by(func.lower(User.name), User.id).limit(limit + 1)))
    return found[:limit], len(found) > limit


def is_trainee(session: Session, trainer: User, user_id: int) -> bool:
    """True when the person is one of `list_trainees`, in one statement."""
    return session.scalar(_trainees(trainer).where(User.id == user_id).limit(1)) is not None


def latest_practicals(session: Session, enrolment_ids: Iterable[int]) -> dict[int, PracticalAssessment]:
    """Each enrolment's latest practical assessment (those observed at least once), in one statement."""
    ids = list(enrolment_ids)
    latest: dict[int, PracticalAssessment] = {}
    if ids:
        for practical in session.scalars(select(PracticalAssessment).where(PracticalAssessment.enrolment_id.in_(ids))
                                         .order_by(PracticalAssessment.number)):
            latest[practical.enrolment_id] = practical
    return latest


def latest_practical(session: Session, enrolment_id: int) -> PracticalAssessment | None:
    return session.scalar(select(PracticalAssessment).where(PracticalAssessment.enrolment_id == enrolment_id)
                          .order_by(PracticalAssessment.number.desc()).limit(1))


def list_practicals(session: Session, enrolment_id: int) -> list[PracticalAssessment]:
    return list(session.scalars(select(PracticalAssessment).where(PracticalAssessment.enrolment_id == enrolment_id)
                                .order_by(PracticalAssessment.number)))


def marking_due_on(attempt: Attempt) -> dt.date | None:
    """When feedback is due: MARKING_WORKING_DAYS working days after the work came in (England and Wales)."""
    if attempt.submitted_at is None:
        return None
    return add_working_days(attempt.submitted_at.astimezone(LONDON).date(), MARKING_WORKING_DAYS)


# ---------------------------------------------------------------------------------------------
# Pages


@dataclass
class WorkRow:
    """One volunteer's standing on one assignment: their place, latest attempt (None: nothing yet), history."""

    enrolment: Enrolment
    assignment: Assignment
    attempts: list[Attempt]

    @property
    def latest(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def status(self) -> MarkingStatus:
        return self.latest.status if self.latest else M.NOT_SUBMITTED

    @property
    def deadline(self) -> dt.datetime:
        return self.latest.deadline if self.latest else self.assignment.due_at


def _rows(session: Session, assignments: Iterable[Assignment], enrolments: Iterable[Enrolment]) -> list[WorkRow]:
    assignments, enrolments = list(assignments), list(enrolments)
    if not assignments or not enrolments:
        return []
    attempts = session.scalars(select(Attempt).where(
        Attempt.assignment_id.in_([a.id for a in assignments]),
        Attempt.enrolment_id.in_([e.id for e in enrolments])).options(selectinload(Attempt.marker))
        .order_by(Attempt.number))
    by_key: dict[tuple[int, int], list[Attempt]] = {}
    for attempt in attempts:
        by_key.setdefault((attempt.assignment_id, attempt.enrolment_id), []).append(attempt)
    return [WorkRow(enrolment, assignment, by_key.get((assignment.id, enrolment.id), []))
            for assignment in assignments for enrolment in enrolments]


def cohort_work_rows(
    session: Session, assignments: list[Assignment], enrolments: list[Enrolment]
) -> dict[int, list[WorkRow]]:
    """`assignment_rows` for each of a cohort's assignments by id, for its `cohort_enrolments`, in one
    statement."""
    rows: dict[int, list[WorkRow]] = {assignment.id: [] for assignment in assignments}
    for row in _rows(session, assignments, enrolments):
        rows[row.assignment.id].append(row)
    return rows


def assignment_rows(session: Session, assignment: Assignment) -> list[WorkRow]:
    """Every volunteer with a place on the assignment's cohort, by name, with their attempts."""
    enrolments = session.scalars(select(Enrolment).join(User, Enrolment.user_id == User.id).where(
        Enrolment.cohort_id == assignment.cohort_id, Enrolment.status.in_(PLACE_STATUSES))
        .options(selectinload(Enrolment.user), selectinload(Enrolment.cohort)).order_by(User.name))
    return _rows(session, [assignment], enrolments)


def my_coursework(session: Session, user_id: int) -> list[WorkRow]:
    """The person's own assignments on every cohort they hold a place on, soonest deadline first."""
    enrolments = list(session.scalars(select(Enrolment).where(
        Enrolment.user_id == user_id, Enrolment.status.in_(PLACE_STATUSES))))
    rows: list[WorkRow] = []
    for enrolment in enrolments:
        rows.extend(_rows(session, list_assignments(session, enrolment.cohort_id), [enrolment]))
    return sorted(rows, key=lambda row: row.deadline)


def my_enrolments(session: Session, user_id: int) -> list[Enrolment]:
    return list(session.scalars(select(Enrolment).where(
        Enrolment.user_id == user_id, Enrolment.status.in_(PLACE_STATUSES)).order_by(Enrolment.id)))


@dataclass
class MarkingQueue:
    """A trainer's marking: counts by kind, and the rows with their due dates (earliest first)."""

    mine: list[Attempt] = field(default_factory=list)          # allocated to me, not yet marked
    unallocated: list[Attempt] = field(default_factory=list)   # submitted, anyone on the cohort may take it
    to_moderate: list[Attempt] = field(default_factory=list)   # sampled, marked by someone else
    to_release: list[Attempt] = field(default_factory=list)    # ready to release
    waiting_for_moderation: list[Attempt] = field(default_factory=list)  # mine, sampled, with a second trainer

    @property
    def counts(self) -> dict[str, int]:
        return {"mine": len(self.mine), "unallocated": len(self.unallocated),
                "to_moderate": len(self.to_moderate), "to_release": len(self.to_release)}


def marking_queue(session: Session, user: User, *, now: dt.datetime) -> MarkingQueue:
    """Work in the cohorts this person trains (every cohort for a coordinator), leaving out volunteers they
    declared a conflict with and their own work. Work someone took from the queue and left (their lock ran out
    before they finished) is back among the work waiting for a marker."""
    query = (select(Attempt).join(Enrolment, Attempt.enrolment_id == Enrolment.id)
             .where(Attempt.status.in_((M.SUBMITTED, M.IN_MARKING, M.MARKED, M.MODERATED)),
                    Enrolment.user_id != user.id))
    trained = set(session.scalars(select(CohortTrainer.cohort_id).where(CohortTrainer.user_id == user.id)))
    if not is_coordinator(user):
        query = query.where(Enrolment.cohort_id.in_(trained or {0}))
    conflicts = conflicted_volunteer_ids(session, user.id)
    queue = MarkingQueue()
    # The page shows each attempt's assignment, cohort, volunteer and lock holder: loaded together.
    query = query.options(selectinload(Attempt.assignment), selectinload(Attempt.lock_holder),
                          selectinload(Attempt.enrolment).options(selectinload(Enrolment.user),
                                                                  selectinload(Enrolment.cohort)))
    for attempt in session.scalars(query.order_by(Attempt.submitted_at, Attempt.id)):
        if attempt.enrolment.user_id in conflicts:
            continue
        marks_here = attempt.enrolment.cohort_id in trained
        if attempt.status in (M.SUBMITTED, M.IN_MARKING):
            if attempt.marker_id == user.id:
                queue.mine.append(attempt)
            elif (attempt.marker_id is None or attempt.is_abandoned(now)) and marks_here:
                queue.unallocated.append(attempt)
        elif attempt.status is M.MARKED and attempt.needs_moderation:
            if attempt.marker_id == user.id:
                queue.waiting_for_moderation.append(attempt)
            else:
                queue.to_moderate.append(attempt)
        else:
            queue.to_release.append(attempt)
    return queue


def _trained_cohorts(user: User):
    query = select(Cohort).where(Cohort.cancelled_at.is_(None))
    if not is_coordinator(user):
        query = query.join(CohortTrainer, CohortTrainer.cohort_id == Cohort.id).where(CohortTrainer.user_id == user.id)
    return query


def list_trained_cohorts(session: Session, user: User) -> list[Cohort]:
    """Cohorts whose coursework this person manages: those they train, or all for a coordinator."""
    return list(session.scalars(_trained_cohorts(user).order_by(Cohort.id.desc())))


def trained_cohorts_page(session: Session, user: User, *, page: int, per_page: int) -> Page[Cohort]:
    """One page of `list_trained_cohorts` (newest first) with their courses, in three statements."""
    total = session.scalar(select(func.count()).select_from(_trained_cohorts(user).subquery())) or 0
    window = PageWindow.of(total, page, per_page)
    cohorts = session.scalars(_trained_cohorts(user).options(selectinload(Cohort.course))
                              .order_by(Cohort.id.desc()).offset(window.offset).limit(window.per_page))
    return Page(list(cohorts), window)


def cohort_enrolments(session: Session, cohort_id: int) -> list[Enrolment]:
    """The people holding a place on the cohort, by name, with their accounts (two statements)."""
    return list(session.scalars(select(Enrolment).join(User, Enrolment.user_id == User.id).where(
        Enrolment.cohort_id == cohort_id, Enrolment.status.in_((EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED))
    ).options(selectinload(Enrolment.user)).order_by(User.name)))
