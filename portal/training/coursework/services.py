"""Coursework use cases: assignments and versioned rubrics, extensions, submission (upload or typed text) with a
receipt, allocation, the marking lock, marking, moderation of a sample, release, resubmission after a refer,
conflicts of interest, and the observed practical assessment.

Every function takes the Session first and `actor`/`now` as keywords, flushes and never commits, audits every
change, and queues mail through the outbox. Rows two people can race for are locked (`with_for_update`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portal.core import audit, files, outbox, settings
from portal.core.accounts import Role, User, is_coordinator
from portal.core.clock import LONDON, london_to_utc
from portal.core.errors import DomainError, NotFound, PermissionDenied, transition_error
from portal.core.validation import too_long
from portal.training.coursework import permissions, queries
from portal.training.coursework.errors import (
    AssignmentInvalid,
    MarkingLocked,
    MarkingRefused,
    PracticalInvalid,
    SubmissionRefused,
)
from portal.training.coursework.models import (
    Assignment,
    Attempt,
    ConflictOfInterest,
    MarkingStatus,
    Outcome,
    PracticalAssessment,
    RubricVersion,
)
from portal.training.coursework.storage import MAX_FILE_BYTES, FileStore, check_upload
from portal.training.models import Cohort, Enrolment, EnrolmentStatus
from portal.training.permissions import trains

M = MarkingStatus

# Where an attempt may go next. Marked work goes to moderation when sampled, otherwise straight to release;
# a marker may reopen marked work until it is moderated or released. Released is final.
MARKING_TRANSITIONS: dict[MarkingStatus, frozenset[MarkingStatus]] = {
    M.NOT_SUBMITTED: frozenset({M.SUBMITTED}),
    M.SUBMITTED: frozenset({M.SUBMITTED, M.IN_MARKING}),
    M.IN_MARKING: frozenset({M.SUBMITTED, M.MARKED}),
    M.MARKED: frozenset({M.IN_MARKING, M.MODERATED, M.RELEASED}),
    M.MODERATED: frozenset({M.RELEASED}),
    M.RELEASED: frozenset(),
}

LOCK_MINUTES = 45
TITLE_MAX = 200
INSTRUCTIONS_MAX = 10_000
TEXT_MAX = 50_000
FEEDBACK_MAX = 10_000
REASON_MAX = 500
MAX_ATTEMPTS = 2
MODERATION_SETTING = "training.moderate_one_in"
DEFAULT_MODERATE_ONE_IN = 5
RESUBMISSION_DAYS = 14
SCENARIO_MAX = 500
ANONYMISED_MESSAGE = "Confirm that you have removed or changed the names and details of any real people"
EVIDENCE_MAX = 2000


# ---------------------------------------------------------------------------------------------
# Helpers


def _clean(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value or "")).replace("\r\n", "\n").strip()


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(LONDON):%-d %B %Y at %-I:%M%p}".replace("AM", "am").replace("PM", "pm")


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()


def _move(attempt: Attempt, target: MarkingStatus) -> MarkingStatus:
    previous = attempt.status
    if target not in MARKING_TRANSITIONS[previous]:
        raise transition_error("piece of coursework", previous.value, target.value)
    attempt.status = target
    return previous


def _locked_attempt(session: Session, attempt_id: int) -> Attempt:
    # FOR UPDATE: two trainers taking, marking or moderating the same work queue behind each other.
    attempt = session.scalar(
        select(Attempt).where(Attempt.id == attempt_id).with_for_update().execution_options(populate_existing=True)
    )
    if attempt is None:
        raise NotFound("No such coursework")
    return attempt


def _conflicted(session: Session, trainer_id: int, volunteer_id: int) -> bool:
    return volunteer_id in queries.conflicted_volunteer_ids(session, trainer_id)


def _mail_volunteer(session: Session, attempt: Attempt, *, template: str, subject: str, key: str,
                    now: dt.datetime, **context: Any) -> None:
    person = attempt.enrolment.user
    outbox.queue(
        session, to=person.email, subject=subject, template=f"training/{template}",
        context={"name": person.name, "assignment": attempt.assignment.title,
                 "course": attempt.enrolment.cohort.course.title,
                 "page_path": f"/training/coursework/assignments/{attempt.assignment_id}", **context},
        dedupe_key=key, now=now,
    )


def default_moderate_one_in(session: Session) -> int:
    """The moderation sample for new assignments: every fail and 1 in this many other outcomes (a setting)."""
    return int(settings.get_setting(session, MODERATION_SETTING, DEFAULT_MODERATE_ONE_IN))


# ---------------------------------------------------------------------------------------------
# Assignments and rubrics


def parse_rubric(text: str) -> list[dict[str, Any]]:
    """A rubric typed one criterion per line, "Criterion: lowest level | ... | highest level", as criteria.
    Raises AssignmentInvalid on the "rubric" field."""
    criteria: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(_clean(text).splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, rest = line.partition(":")
        levels = [level.strip() for level in rest.split("|") if level.strip()]
        if not colon or not name.strip():
            problems.append(f"Rubric line {number}: write the criterion, a colon, then its levels, like "
                            "‘Reflection: Not yet | Meets | Exceeds’")
        elif len(levels) < 2:
            problems.append(f"Rubric line {number}: give ‘{name.strip()}’ at least two levels separated by |")
        elif name.strip().lower() in {criterion["name"].lower() for criterion in criteria}:
            problems.append(f"Rubric line {number}: ‘{name.strip()}’ appears twice")
        elif len(set(levels)) != len(levels):
            problems.append(f"Rubric line {number}: ‘{name.strip()}’ has the same level twice")
        else:
            criteria.append({"name": name.strip()[:200], "levels": [level[:100] for level in levels]})
    if problems:
        raise AssignmentInvalid({"rubric": problems})
    return criteria


def rubric_text(criteria: Sequence[Mapping[str, Any]]) -> str:
    """The typed form of a rubric (the inverse of parse_rubric)."""
    return "\n".join(f"{criterion['name']}: {' | '.join(criterion['levels'])}" for criterion in criteria)


@dataclass(frozen=True)
class AssignmentDetails:
    title: str
    instructions: str
    due_at: dt.datetime
    rubric: str = ""
    moderate_one_in: int = DEFAULT_MODERATE_ONE_IN


def _checked_details(details: AssignmentDetails, *, now: dt.datetime, new: bool) -> list[dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    if not _clean(details.title):
        errors.setdefault("title", []).append("Enter a title")
    elif len(_clean(details.title)) > TITLE_MAX:
        errors.setdefault("title", []).append(too_long("Title", TITLE_MAX))
    if len(_clean(details.instructions)) > INSTRUCTIONS_MAX:
        errors.setdefault("instructions", []).append(too_long("Instructions", INSTRUCTIONS_MAX))
    if new and details.due_at <= now:
        errors.setdefault("due_on", []).append("The deadline must be in the future")
    if details.moderate_one_in < 0 or details.moderate_one_in > 100:
        errors.setdefault("moderate_one_in", []).append("Sample between 0 (fails only) and 100")
    try:
        criteria = parse_rubric(details.rubric)
    except AssignmentInvalid as invalid:
        errors.update(invalid.errors)
        criteria = []
    if errors:
        raise AssignmentInvalid(errors)
    return criteria


def create_assignment(session: Session, cohort_id: int, details: AssignmentDetails, *, actor: User,
                      now: dt.datetime) -> Assignment:
    """Set written coursework for a cohort, with rubric version 1. Raises AssignmentInvalid, PermissionDenied."""
    cohort = queries.get_cohort(session, cohort_id)
    if not permissions.can_manage_coursework(actor, cohort):
        raise PermissionDenied("Only the cohort's trainers and coordinators set its coursework")
    criteria = _checked_details(details, now=now, new=True)
    assignment = Assignment(
        cohort_id=cohort.id, title=_clean(details.title), instructions=_clean(details.instructions),
        due_at=details.due_at, moderate_one_in=details.moderate_one_in, created_by_id=actor.id, created_at=now,
    )
    assignment.rubric_versions = [RubricVersion(number=1, criteria=criteria, created_by_id=actor.id, created_at=now)]
    session.add(assignment)
    session.flush()
    audit.record(session, actor, "coursework.assignment_created", assignment, at=now, cohort_id=cohort.id,
                 title=assignment.title, due_at=assignment.due_at, rubric_version=1)
    return assignment


def update_assignment(session: Session, assignment_id: int, details: AssignmentDetails, *, actor: User,
                      now: dt.datetime) -> Assignment:
    """Change an assignment. A rubric change makes a new rubric version once any marking has used the current
    one (marks keep the version they used); before that the current version is corrected in place."""
    assignment = queries.get_assignment(session, assignment_id)
    if not permissions.can_manage_coursework(actor, assignment.cohort):
        raise PermissionDenied("Only the cohort's trainers and coordinators change its coursework")
    criteria = _checked_details(details, now=now, new=False)
    changes: dict[str, Any] = {}
    for field, value in (("title", _clean(details.title)), ("instructions", _clean(details.instructions)),
                         ("due_at", details.due_at), ("moderate_one_in", details.moderate_one_in)):
        if getattr(assignment, field) != value:
            changes[field] = value
            setattr(assignment, field, value)
    current = assignment.rubric
    if current is None or current.criteria != criteria:
        in_use = current is not None and session.scalar(
            select(func.count(Attempt.id)).where(Attempt.rubric_version_id == current.id)
        )
        if current is None or in_use:
            number = (current.number if current else 0) + 1
            assignment.rubric_versions.append(
                RubricVersion(number=number, criteria=criteria, created_by_id=actor.id, created_at=now)
            )
        else:
            current.criteria = criteria
        changes["rubric_version"] = assignment.rubric_versions[-1].number
    session.flush()
    if changes:
        audit.record(session, actor, "coursework.assignment_changed", assignment, at=now, **changes)
    return assignment


def _latest_attempt(session: Session, assignment_id: int, enrolment_id: int, *, lock: bool = False) -> Attempt | None:
    query = (select(Attempt).where(Attempt.assignment_id == assignment_id, Attempt.enrolment_id == enrolment_id)
             .order_by(Attempt.number.desc()).limit(1))
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def _new_attempt(session: Session, assignment: Assignment, enrolment: Enrolment, *, number: int = 1,
                 due_at: dt.datetime | None = None, now: dt.datetime) -> Attempt:
    attempt = Attempt(assignment_id=assignment.id, enrolment_id=enrolment.id, number=number,
                      status=M.NOT_SUBMITTED, due_at=due_at, levels={}, created_at=now)
    session.add(attempt)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # Someone else opened the same attempt a moment ago (a double click): use theirs.
        existing = _latest_attempt(session, assignment.id, enrolment.id)
        if existing is None or existing.number != number:
            raise
        return existing
    session.refresh(attempt)
    return attempt


def grant_extension(session: Session, assignment_id: int, enrolment_id: int, due_at: dt.datetime, reason: str, *,
                    actor: User, now: dt.datetime) -> Attempt:
    """Give one volunteer a later deadline (for their current attempt) before their work is submitted.
    Raises MarkingRefused, PermissionDenied."""
    assignment = queries.get_assignment(session, assignment_id)
    enrolment = queries.get_enrolment(session, enrolment_id)
    if enrolment.cohort_id != assignment.cohort_id:
        raise NotFound("No such enrolment on this cohort")
    if not permissions.can_manage_coursework(actor, assignment.cohort):
        raise PermissionDenied("Only the cohort's trainers and coordinators grant extensions")
    reason = _clean(reason)
    if not reason:
        raise MarkingRefused("Enter the reason for the extension")
    if len(reason) > REASON_MAX:
        raise MarkingRefused(too_long("The reason", REASON_MAX))
    attempt = _latest_attempt(session, assignment.id, enrolment.id, lock=True)
    if attempt is None:
        attempt = _new_attempt(session, assignment, enrolment, now=now)
    if attempt.status is not M.NOT_SUBMITTED:
        raise MarkingRefused(f"{enrolment.user.name} has already submitted this work: an extension no longer applies")
    base = assignment.due_at if attempt.number == 1 else (attempt.due_at or assignment.due_at)
    if due_at <= base or due_at <= now:
        raise MarkingRefused(f"The new deadline must be after {_when(max(base, now))}")
    previous = attempt.due_at
    attempt.due_at = due_at
    attempt.extension_reason = reason
    session.flush()
    audit.record(session, actor, "coursework.extension_granted", attempt, at=now, user_id=enrolment.user_id,
                 previous=previous, due_at=due_at, reason=reason)
    _mail_volunteer(session, attempt, template="coursework_extension", subject=f"New deadline: {assignment.title}",
                    key=f"coursework.extension:{attempt.id}:{due_at.isoformat()}", now=now, due=_when(due_at))
    return attempt


# ---------------------------------------------------------------------------------------------
# Submission


def submit_work(
    session: Session,
    assignment_id: int,
    *,
    file_name: str | None = None,
    file_data: bytes = b"",
    text: str = "",
    anonymised: bool = False,
    store: FileStore,
    actor: User,
    now: dt.datetime,
    max_bytes: int = MAX_FILE_BYTES,
) -> Attempt:
    """Submit (or, before marking starts, replace) the actor's own work: a PDF, DOCX or ODT checked by content,
    and/or text typed in the page, with the volunteer's declaration that real people in it are anonymised. Late
    work is accepted and shown as late. The file is kept under a random id; the receipt (time, file name, size,
    SHA-256) is e-mailed. Raises UploadRejected, SubmissionRefused."""
    assignment = queries.get_assignment(session, assignment_id)
    enrolment = queries.find_enrolment(session, assignment.cohort_id, actor.id)
    if enrolment is None:
        raise NotFound("No such assignment")
    if enrolment.status is not EnrolmentStatus.ENROLLED:
        raise SubmissionRefused("Only volunteers enrolled on the cohort can submit its coursework")
    text = _clean(text)
    if len(text) > TEXT_MAX:
        raise SubmissionRefused(f"Your work must be {TEXT_MAX:,} characters or fewer (it is {len(text):,})")
    has_file = bool(file_name) or bool(file_data)
    checked = check_upload(file_name, file_data, max_bytes=max_bytes) if has_file else None
    if checked is None and not text:
        raise SubmissionRefused("Upload a file or type your work in the box")
    if not anonymised:
        # Coursework draws on real cases: it must not identify participants (criminal offence data).
        raise SubmissionRefused(ANONYMISED_MESSAGE)

    attempt = _latest_attempt(session, assignment.id, enrolment.id, lock=True)
    if attempt is None:
        attempt = _new_attempt(session, assignment, enrolment, now=now)
    if attempt.status not in (M.NOT_SUBMITTED, M.SUBMITTED) or attempt.marker_id is not None:
        if attempt.status is M.RELEASED:
            raise SubmissionRefused("Your work has been marked: read your feedback below")
        raise SubmissionRefused("Your work is being marked, so it can no longer be replaced")

    previous_file, previous_sha = attempt.file_id, attempt.sha256
    replacing = attempt.status is M.SUBMITTED
    _move(attempt, M.SUBMITTED)
    attempt.submitted_at = now
    attempt.text = text or None
    if checked is not None:
        attempt.file_id = store.save(checked.data)
        attempt.file_name, attempt.file_type = checked.display_name, checked.kind
        attempt.file_size = checked.size
        attempt.sha256 = checked.sha256
    else:
        attempt.file_id = attempt.file_name = attempt.file_type = None
        attempt.file_size = None
        attempt.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    session.flush()
    if previous_file and previous_file != attempt.file_id:
        store.delete(previous_file)
    audit.record(session, actor, "coursework.resubmitted_before_marking" if replacing else "coursework.submitted",
                 attempt, at=now, assignment_id=assignment.id, attempt=attempt.number, file_name=attempt.file_name,
                 file_size=attempt.file_size, sha256=attempt.sha256, previous_sha256=previous_sha,
                 late=attempt.is_late, anonymised_declared=True)
    _mail_volunteer(
        session, attempt, template="coursework_received", subject=f"We have received your work: {assignment.title}",
        key=f"coursework.received:{attempt.id}:{attempt.sha256}:{now.isoformat()}", now=now,
        submitted=_when(now), file_name=attempt.file_name, size=files.size_label(attempt.file_size or 0),
        sha256=attempt.sha256, typed=bool(text), late=attempt.is_late,
    )
    return attempt


# ---------------------------------------------------------------------------------------------
# Allocation, the marking lock and marking


def eligible_markers(session: Session, attempt: Attempt) -> list[User]:
    """The cohort's trainers who may mark this work: not the volunteer, no conflict of interest declared."""
    volunteer_id = attempt.enrolment.user_id
    return [
        trainer for trainer in attempt.enrolment.cohort.trainers
        if trainer.id != volunteer_id and trainer.has_role(Role.TRAINER)
        and not _conflicted(session, trainer.id, volunteer_id)
    ]


def eligible_markers_of(session: Session, cohort: Cohort, attempts: Sequence[Attempt]) -> dict[int, list[User]]:
    """`eligible_markers` for each of these attempts at the cohort's work, by attempt id; one statement for
    the conflicts of interest however many attempts."""
    trainers = [trainer for trainer in cohort.trainers if trainer.has_role(Role.TRAINER)]
    volunteer_ids = {attempt.enrolment.user_id for attempt in attempts}
    conflicts = set(session.execute(
        select(ConflictOfInterest.trainer_id, ConflictOfInterest.volunteer_id).where(
            ConflictOfInterest.trainer_id.in_([trainer.id for trainer in trainers]),
            ConflictOfInterest.volunteer_id.in_(volunteer_ids))
    ).all()) if trainers and volunteer_ids else set()
    return {attempt.id: [trainer for trainer in trainers if trainer.id != attempt.enrolment.user_id
                         and (trainer.id, attempt.enrolment.user_id) not in conflicts]
            for attempt in attempts}


def allocate_work(session: Session, attempt_id: int, marker_id: int, *, actor: User, now: dt.datetime) -> Attempt:
    """Give submitted work to a marker (a trainer of the cohort with no conflict of interest). Work someone holds
    the lock on cannot be moved. Raises MarkingRefused, MarkingLocked, PermissionDenied."""
    attempt = _locked_attempt(session, attempt_id)
    if not permissions.can_manage_coursework(actor, attempt.enrolment.cohort):
        raise PermissionDenied("Only the cohort's trainers and coordinators allocate its marking")
    if attempt.status not in (M.SUBMITTED, M.IN_MARKING):
        raise MarkingRefused(f"Only submitted work not yet marked can be allocated (this is {attempt.status.label})")
    marker = session.get(User, marker_id)
    if marker is None or marker not in eligible_markers(session, attempt):
        raise MarkingRefused("Choose a trainer of this cohort who has not declared a conflict of interest "
                             "with this volunteer")
    if attempt.locked_by_other(marker.id, now):
        raise MarkingLocked(f"{attempt.lock_holder.name} is marking this work until {_when(attempt.lock_expires_at)}")
    previous = attempt.marker_id
    attempt.marker_id = marker.id
    attempt.allocated_at = now
    attempt.taken_from_queue = False
    if attempt.lock_holder_id not in (None, marker.id):
        attempt.lock_holder_id = attempt.lock_expires_at = None
    session.flush()
    audit.record(session, actor, "coursework.allocated", attempt, at=now, marker_id=marker.id, previous=previous)
    if marker.id != actor.id:
        due = queries.marking_due_on(attempt)
        outbox.queue(
            session, to=marker.email, subject=f"Coursework to mark: {attempt.assignment.title}",
            template="training/coursework_allocated",
            context={"marker": marker.name, "allocated_by": actor.name, "assignment": attempt.assignment.title,
                     "volunteer": attempt.enrolment.user.name, "cohort": attempt.enrolment.cohort.name,
                     "due": f"{due:%-d %B %Y}" if due else "soon", "page_path": "/training/marking"},
            dedupe_key=f"coursework.allocated:{attempt.id}:{marker.id}:{now.isoformat()}", now=now,
        )
    return attempt


def start_marking(session: Session, attempt_id: int, *, actor: User, now: dt.datetime) -> Attempt:
    """Take work from the queue (or open work allocated to the actor) and hold the marking lock for LOCK_MINUTES.
    The attempt keeps the rubric version current at this moment. Two trainers cannot both hold it: the row is
    locked while this runs. Raises MarkingLocked, MarkingRefused."""
    attempt = _locked_attempt(session, attempt_id)
    enrolment = attempt.enrolment
    if not trains(actor, enrolment.cohort):
        raise NotFound("No such coursework")
    if _conflicted(session, actor.id, enrolment.user_id):
        raise MarkingRefused("You have declared a conflict of interest with this volunteer, so you cannot mark "
                             "their work")
    if attempt.locked_by_other(actor.id, now):
        raise MarkingLocked(f"{attempt.lock_holder.name} is already marking this work (locked until "
                            f"{_when(attempt.lock_expires_at)})")
    previous_marker = attempt.marker_id
    taking_over = previous_marker not in (None, actor.id) and attempt.is_abandoned(now)
    if previous_marker not in (None, actor.id) and not taking_over:
        raise MarkingLocked(f"This work is allocated to {attempt.marker.name}")
    if attempt.status not in (M.SUBMITTED, M.IN_MARKING, M.MARKED):
        raise MarkingRefused(f"This work cannot be marked now (it is {attempt.status.label})")
    taken = previous_marker is None or taking_over
    if taken:
        attempt.taken_from_queue = True
    if attempt.status is not M.IN_MARKING:
        _move(attempt, M.IN_MARKING)
    attempt.marker_id = actor.id
    attempt.allocated_at = now if taken else (attempt.allocated_at or now)
    attempt.lock_holder_id = actor.id
    attempt.lock_expires_at = now + dt.timedelta(minutes=LOCK_MINUTES)
    if attempt.rubric_version_id is None and attempt.assignment.rubric is not None:
        attempt.rubric_version_id = attempt.assignment.rubric.id
    session.flush()
    audit.record(session, actor, "coursework.marking_started", attempt, at=now, taken_from_queue=taken,
                 taken_over_from=previous_marker if taking_over else None, lock_expires_at=attempt.lock_expires_at,
                 rubric_version_id=attempt.rubric_version_id)
    return attempt


def stop_marking(session: Session, attempt_id: int, *, actor: User, now: dt.datetime) -> Attempt:
    """Let go of the marking lock. Work taken from the queue and not yet marked goes back to the queue; work
    allocated by someone else stays with its marker."""
    attempt = _locked_attempt(session, attempt_id)
    if attempt.lock_holder_id != actor.id:
        raise MarkingRefused("You are not marking this work")
    attempt.lock_holder_id = attempt.lock_expires_at = None
    if attempt.status is M.IN_MARKING and attempt.outcome is None and attempt.marked_at is None:
        _move(attempt, M.SUBMITTED)
        if attempt.taken_from_queue:
            attempt.marker_id = attempt.allocated_at = None
            attempt.taken_from_queue = False
    session.flush()
    audit.record(session, actor, "coursework.marking_stopped", attempt, at=now)
    return attempt


def _sampled(session: Session, attempt: Attempt) -> bool:
    """Every fail is moderated, and one in `moderate_one_in` of the other outcomes of the assignment (the first,
    then every Nth), so every assignment has at least one pass looked at by a second trainer."""
    if attempt.outcome is Outcome.FAIL:
        return True
    every = attempt.assignment.moderate_one_in
    if every <= 0:
        return False
    earlier = session.scalar(
        select(func.count(Attempt.id)).where(
            Attempt.assignment_id == attempt.assignment_id, Attempt.id != attempt.id,
            Attempt.marked_at.is_not(None), Attempt.outcome != Outcome.FAIL,
        )
    ) or 0
    return earlier % every == 0


def save_marking(
    session: Session,
    attempt_id: int,
    *,
    levels: Mapping[str, str],
    outcome: Outcome | None,
    feedback: str,
    resubmit_due_at: dt.datetime | None = None,
    finish: bool = True,
    actor: User,
    now: dt.datetime,
) -> Attempt:
    """Save the marker's rubric levels, outcome and feedback; with `finish`, the work is marked (lock let go) and
    sampled for moderation. Only the lock holder may save. A refer needs a resubmission deadline and is possible on
    the first attempt only. Raises MarkingLocked, MarkingRefused (reasons list every problem)."""
    attempt = _locked_attempt(session, attempt_id)
    if attempt.lock_holder_id != actor.id or attempt.status is not M.IN_MARKING:
        raise MarkingLocked("You are not holding the marking lock on this work: open it from the marking queue")
    if attempt.locked_by_other(actor.id, now):  # pragma: no cover - holder is the actor
        raise MarkingLocked("Someone else is marking this work")
    rubric = attempt.rubric_version
    criteria = rubric.criteria if rubric is not None else []
    problems: list[str] = []
    chosen: dict[str, str] = {}
    for criterion in criteria:
        level = (levels or {}).get(criterion["name"])
        if level in criterion["levels"]:
            chosen[criterion["name"]] = level
        elif level:
            problems.append(f"Choose one of the levels for ‘{criterion['name']}’")
        elif finish:
            problems.append(f"Choose a level for ‘{criterion['name']}’")
    feedback = _clean(feedback)
    if finish and outcome is None:
        problems.append("Choose an outcome: pass, refer or fail")
    if finish and not feedback:
        problems.append("Write feedback for the volunteer")
    if len(feedback) > FEEDBACK_MAX:
        problems.append(too_long("Feedback", FEEDBACK_MAX))
    if outcome is Outcome.REFER:
        if attempt.number >= MAX_ATTEMPTS:
            problems.append("This is already the volunteer's resubmission: the outcome can only be pass or fail")
        elif resubmit_due_at is None:
            problems.append("Give the deadline for the resubmission")
        elif resubmit_due_at <= now:
            problems.append("The resubmission deadline must be in the future")
    if problems:
        raise MarkingRefused(reasons=problems)
    attempt.levels = chosen
    attempt.outcome = outcome
    attempt.feedback = feedback or None
    attempt.resubmit_due_at = resubmit_due_at if outcome is Outcome.REFER else None
    if finish:
        _move(attempt, M.MARKED)
        attempt.marked_at = now
        attempt.lock_holder_id = attempt.lock_expires_at = None
        session.flush()
        attempt.needs_moderation = attempt.needs_moderation or _sampled(session, attempt)
    else:
        attempt.lock_expires_at = now + dt.timedelta(minutes=LOCK_MINUTES)
    session.flush()
    audit.record(session, actor, "coursework.marked" if finish else "coursework.marking_saved", attempt, at=now,
                 outcome=outcome, levels=chosen, rubric_version_id=attempt.rubric_version_id,
                 needs_moderation=attempt.needs_moderation, resubmit_due_at=attempt.resubmit_due_at)
    return attempt


def moderate_work(
    session: Session,
    attempt_id: int,
    *,
    agree: bool,
    note: str,
    outcome: Outcome | None = None,
    resubmit_due_at: dt.datetime | None = None,
    actor: User,
    now: dt.datetime,
) -> Attempt:
    """A second trainer (never the marker) confirms or changes the outcome of sampled work, with a note.
    Raises MarkingRefused, PermissionDenied."""
    attempt = _locked_attempt(session, attempt_id)
    enrolment = attempt.enrolment
    if not (is_coordinator(actor) or trains(actor, enrolment.cohort)):
        raise NotFound("No such coursework")
    if attempt.marker_id == actor.id:
        raise MarkingRefused("You marked this work: a second trainer must moderate it")
    if _conflicted(session, actor.id, enrolment.user_id):
        raise MarkingRefused("You have declared a conflict of interest with this volunteer")
    if attempt.status is not M.MARKED or not attempt.needs_moderation:
        raise MarkingRefused(f"This work is not waiting for moderation (it is {attempt.status.label})")
    note = _clean(note)
    problems = []
    if not agree:
        if outcome is None or outcome is attempt.outcome:
            problems.append("Choose the outcome you think is right (different from the marker's)")
        if not note:
            problems.append("Explain why you disagree with the marker")
        if outcome is Outcome.REFER:
            if attempt.number >= MAX_ATTEMPTS:
                problems.append("This is already the volunteer's resubmission: the outcome can only be pass or fail")
            elif resubmit_due_at is None or resubmit_due_at <= now:
                problems.append("Give a resubmission deadline in the future")
    if len(note) > FEEDBACK_MAX:
        problems.append(too_long("The note", FEEDBACK_MAX))
    if problems:
        raise MarkingRefused(reasons=problems)
    previous = attempt.outcome
    _move(attempt, M.MODERATED)
    if not agree:
        attempt.marker_outcome = previous
        attempt.outcome = outcome
        attempt.resubmit_due_at = resubmit_due_at if outcome is Outcome.REFER else None
    attempt.moderator_id = actor.id
    attempt.moderation_note = note or None
    attempt.moderated_at = now
    session.flush()
    audit.record(session, actor, "coursework.moderated", attempt, at=now, agreed=agree, marker_outcome=previous,
                 outcome=attempt.outcome)
    return attempt


def release_work(session: Session, attempt_id: int, *, actor: User, now: dt.datetime) -> Attempt:
    """Show the outcome and feedback to the volunteer and e-mail them that it is ready. Sampled work must be
    moderated first. A refer on the first attempt opens the one resubmission (attempt 2, with its deadline).
    Raises MarkingRefused, PermissionDenied."""
    attempt = _locked_attempt(session, attempt_id)
    if not permissions.can_manage_coursework(actor, attempt.enrolment.cohort):
        raise PermissionDenied("Only the cohort's trainers and coordinators release feedback")
    if attempt.status is M.MARKED and attempt.needs_moderation:
        raise MarkingRefused("This work was sampled for moderation: a second trainer must moderate it first")
    _move(attempt, M.RELEASED)
    attempt.released_at = now
    attempt.released_by_id = actor.id
    session.flush()
    resubmission = None
    if attempt.outcome is Outcome.REFER and attempt.number < MAX_ATTEMPTS:
        resubmission = _new_attempt(session, attempt.assignment, attempt.enrolment, number=attempt.number + 1,
                                    due_at=attempt.resubmit_due_at, now=now)
    audit.record(session, actor, "coursework.released", attempt, at=now, outcome=attempt.outcome,
                 resubmission_attempt_id=resubmission.id if resubmission else None)
    _mail_volunteer(session, attempt, template="coursework_released",
                    subject=f"Feedback on your coursework is ready: {attempt.assignment.title}",
                    key=f"coursework.released:{attempt.id}", now=now)
    return attempt


def release_ready_work(session: Session, assignment_id: int, *, actor: User, now: dt.datetime) -> list[Attempt]:
    """Release every attempt of the assignment that is ready (marked and not sampled, or moderated)."""
    assignment = queries.get_assignment(session, assignment_id)
    if not permissions.can_manage_coursework(actor, assignment.cohort):
        raise PermissionDenied("Only the cohort's trainers and coordinators release feedback")
    ready = [attempt.id for attempt in queries.list_ready_to_release(session, assignment.id)]
    return [release_work(session, attempt_id, actor=actor, now=now) for attempt_id in ready]


# ---------------------------------------------------------------------------------------------
# Conflicts of interest


def declare_conflict(session: Session, volunteer_id: int, reason: str, *, actor: User,
                     now: dt.datetime) -> ConflictOfInterest:
    """Record that the actor (a trainer) must not assess a volunteer. Unmarked work of that volunteer allocated to
    the actor goes back to the queue. Declaring the same conflict twice is harmless. Raises MarkingRefused."""
    if not permissions.can_see_marking(actor):
        raise PermissionDenied("Only trainers declare conflicts of interest")
    volunteer = session.get(User, volunteer_id)
    if volunteer is None:
        raise NotFound("No such person")
    if volunteer.id == actor.id:
        raise MarkingRefused("Choose someone other than yourself")
    reason = _clean(reason)
    if not reason:
        raise MarkingRefused("Say what the conflict is, for example ‘my sister’")
    if len(reason) > REASON_MAX:
        raise MarkingRefused(too_long("The reason", REASON_MAX))
    existing = session.scalar(select(ConflictOfInterest).where(ConflictOfInterest.trainer_id == actor.id,
                                                               ConflictOfInterest.volunteer_id == volunteer.id))
    if existing is not None:
        return existing
    conflict = ConflictOfInterest(trainer_id=actor.id, volunteer_id=volunteer.id, reason=reason, declared_at=now)
    session.add(conflict)
    session.flush()
    returned = []
    for attempt in queries.list_unmarked_for(session, marker_id=actor.id, volunteer_id=volunteer.id):
        locked = _locked_attempt(session, attempt.id)
        locked.marker_id = locked.lock_holder_id = locked.lock_expires_at = None
        if locked.status is M.IN_MARKING:
            _move(locked, M.SUBMITTED)
        returned.append(locked.id)
    session.flush()
    audit.record(session, actor, "coursework.conflict_declared", conflict, at=now, volunteer_id=volunteer.id,
                 returned_to_queue=returned)
    return conflict


def withdraw_conflict(session: Session, volunteer_id: int, *, actor: User,
                      now: dt.datetime) -> ConflictOfInterest | None:
    """Withdraw the actor's own declared conflict of interest with a volunteer (declared by mistake, or no longer
    true): from now on the actor may be allocated, and may take, mark, moderate and observe, that volunteer's work.
    Returns the withdrawn conflict, or None when the actor had declared none (withdrawing twice is harmless).
    Another trainer's declaration is never touched. Raises PermissionDenied for anyone but trainers and
    coordinators."""
    if not permissions.can_see_marking(actor):
        raise PermissionDenied("Only trainers withdraw conflicts of interest")
    # The volunteer is loaded with it, so callers can still name them once the row is gone.
    conflict = session.scalar(select(ConflictOfInterest).options(joinedload(ConflictOfInterest.volunteer))
                              .where(ConflictOfInterest.trainer_id == actor.id,
                                     ConflictOfInterest.volunteer_id == volunteer_id))
    if conflict is None:
        return None
    audit.record(session, actor, "coursework.conflict_withdrawn", conflict, at=now, volunteer_id=volunteer_id,
                 reason=conflict.reason, declared_at=conflict.declared_at)
    session.delete(conflict)
    session.flush()
    return conflict


# ---------------------------------------------------------------------------------------------
# Practical assessment


@dataclass(frozen=True)
class CompetencyResult:
    name: str
    met: bool
    evidence: str


def record_practical(
    session: Session,
    enrolment_id: int,
    *,
    observed_on: dt.date,
    scenario: str,
    results: Sequence[CompetencyResult],
    outcome: Outcome,
    notes: str = "",
    actor: User,
    now: dt.datetime,
) -> PracticalAssessment:
    """Record an observed role play against every competency of the course (met / not yet met, with evidence)
    and its outcome. A pass needs every competency met; a later record supersedes earlier ones (all are kept).
    Raises PracticalInvalid with every problem, MarkingRefused, PermissionDenied."""
    enrolment = queries.get_enrolment(session, enrolment_id)
    if not (is_coordinator(actor) or trains(actor, enrolment.cohort)):
        raise NotFound("No such enrolment")
    if _conflicted(session, actor.id, enrolment.user_id) or actor.id == enrolment.user_id:
        raise MarkingRefused("You have declared a conflict of interest with this volunteer, so another trainer "
                             "must observe them")
    latest = queries.latest_practical(session, enrolment.id)
    if latest is not None and latest.outcome is Outcome.PASS:
        raise MarkingRefused(f"{enrolment.user.name} passed the practical assessment on {latest.observed_on:%-d %B %Y}")
    problems: list[str] = []
    expected = list(enrolment.cohort.course.competencies or [])
    given = {result.name: result for result in results}
    if observed_on > _today(now):
        problems.append("The date observed must be today or in the past")
    scenario = _clean(scenario)
    if not scenario:
        problems.append("Describe the role play scenario")
    elif len(scenario) > SCENARIO_MAX:
        problems.append(too_long("The scenario", SCENARIO_MAX))
    record: list[dict[str, Any]] = []
    for name in expected:
        result = given.get(name)
        evidence = _clean(result.evidence) if result else ""
        if result is None:
            problems.append(f"Say whether ‘{name}’ was met")
            continue
        if not evidence:
            problems.append(f"Give the evidence you saw for ‘{name}’")
        elif len(evidence) > EVIDENCE_MAX:
            problems.append(too_long(f"Evidence for ‘{name}’", EVIDENCE_MAX))
        record.append({"name": name, "met": bool(result.met), "evidence": evidence})
    unknown = set(given) - set(expected)
    if unknown:
        problems.append("These are not competencies of this course: " + ", ".join(sorted(unknown)))
    if outcome is Outcome.PASS and any(not item["met"] for item in record):
        problems.append("A pass needs every competency met: choose refer or fail, or change the record")
    notes = _clean(notes)
    if outcome is not Outcome.PASS and not notes:
        problems.append("Say what the volunteer needs to do next")
    if problems:
        raise PracticalInvalid(reasons=problems)
    number = (latest.number + 1) if latest else 1
    practical = PracticalAssessment(enrolment_id=enrolment.id, number=number, observed_on=observed_on,
                                    observer_id=actor.id, scenario=scenario, competencies=record, outcome=outcome,
                                    notes=notes, recorded_at=now)
    session.add(practical)
    session.flush()
    audit.record(session, actor, "coursework.practical_recorded", practical, at=now, enrolment_id=enrolment.id,
                 user_id=enrolment.user_id, outcome=outcome, met=[item["name"] for item in record if item["met"]])
    return practical


# ---------------------------------------------------------------------------------------------
# Completion and the cohort report (read only: asked through training's signals)


def coursework_problems(session: Session, enrolment: Enrolment) -> list[str]:
    """What is missing from the written coursework, in the coordinator's words; empty when every assignment of
    the cohort has a released pass."""
    assignments = queries.list_assignments(session, enrolment.cohort_id)
    if not assignments:
        return ["Coursework not yet passed: no coursework has been set for this cohort"]
    missing = []
    for assignment in assignments:
        latest = _latest_attempt(session, assignment.id, enrolment.id)
        if latest is None or latest.status is M.NOT_SUBMITTED:
            why = "not submitted"
        elif latest.status is not M.RELEASED:
            why = "being marked"
        elif latest.outcome is Outcome.PASS:
            continue
        else:
            why = latest.outcome.label if latest.outcome else "not passed"
        missing.append(f"{assignment.title} ({why})")
    return [f"Coursework not yet passed: {'; '.join(missing)}"] if missing else []


def practical_problem(session: Session, enrolment: Enrolment) -> str | None:
    latest = queries.latest_practical(session, enrolment.id)
    if latest is None:
        return "Practical assessment not yet passed: not yet observed"
    if latest.outcome is not Outcome.PASS:
        return f"Practical assessment not yet passed: {latest.outcome.label} on {latest.observed_on:%-d %B %Y}"
    return None


def assessment_standing(session: Session, enrolment: Enrolment) -> str | None:
    """'passed', 'referred', 'failed' or None (nothing released or observed yet), for the cohort report."""
    return assessment_standings(session, enrolment.cohort_id, [enrolment])[enrolment.id]


def assessment_standings(session: Session, cohort_id: int, enrolments: Sequence[Enrolment]) -> dict[int, str | None]:
    """`assessment_standing` for each of the cohort's `enrolments` by id, in three statements (the cohort's
    assignments, the enrolments' attempts at them, their practical assessments) however many there are."""
    ids = [enrolment.id for enrolment in enrolments]
    if not ids:
        return {}
    assignments = queries.list_assignments(session, cohort_id)
    latest: dict[tuple[int, int], Attempt] = {}
    released: dict[tuple[int, int], Attempt] = {}
    if assignments:
        for attempt in session.scalars(
            select(Attempt).where(Attempt.enrolment_id.in_(ids),
                                  Attempt.assignment_id.in_([assignment.id for assignment in assignments]))
            .order_by(Attempt.number)
        ):
            key = (attempt.assignment_id, attempt.enrolment_id)
            latest[key] = attempt
            if attempt.status is M.RELEASED:
                released[key] = attempt
    practicals: dict[int, PracticalAssessment] = {}
    for practical in session.scalars(
        select(PracticalAssessment).where(PracticalAssessment.enrolment_id.in_(ids))
        .order_by(PracticalAssessment.number)
    ):
        practicals[practical.enrolment_id] = practical
    standings: dict[int, str | None] = {}
    for enrolment_id in ids:
        outcomes = [released[key].outcome for key in ((a.id, enrolment_id) for a in assignments)
                    if key in released and released[key].outcome is not None]
        practical = practicals.get(enrolment_id)
        if practical is not None:
            outcomes.append(practical.outcome)
        coursework_passed = bool(assignments) and all(
            (attempt := latest.get((a.id, enrolment_id))) is not None and attempt.status is M.RELEASED
            and attempt.outcome is Outcome.PASS for a in assignments)
        if not outcomes:
            standings[enrolment_id] = None
        elif Outcome.FAIL in outcomes:
            standings[enrolment_id] = "failed"
        elif Outcome.REFER in outcomes:
            standings[enrolment_id] = "referred"
        elif coursework_passed and practical is not None and practical.outcome is Outcome.PASS:
            standings[enrolment_id] = "passed"
        else:
            standings[enrolment_id] = None
    return standings


def london_end_of_day(day: dt.date) -> dt.datetime:
    """A deadline typed as a date means the end of that day in London (23:59)."""
    return london_to_utc(day, dt.time(23, 59))


# ---------------------------------------------------------------------------------------------
# Demo data

DEMO_TITLE = "Reflective account of a role play"
DEMO_RUBRIC = ("Reflection on own practice: Not yet | Meets | Exceeds\n"
               "Use of restorative principles: Not yet | Meets | Exceeds\n"
               "Safeguarding awareness: Not yet | Meets | Exceeds")
# The marking state each enrolled volunteer of a started cohort is taken to, in turn.
_DEMO_PLAN = ("released_pass", "resubmitted", "moderated", "marked", "submitted", "in_marking", "extension")


def _demo_step(session: Session, plan: str, assignment: Assignment, enrolment: Enrolment, *, marker: User,
               moderator: User, now: dt.datetime) -> None:
    due = assignment.due_at
    submitted = min(due - dt.timedelta(days=2), now - dt.timedelta(hours=6))
    marked = min(submitted + dt.timedelta(days=1), now - dt.timedelta(hours=3))
    store = FileStore(os.devnull)  # typed work only: nothing is written
    volunteer = enrolment.user
    if plan == "extension":
        grant_extension(session, assignment.id, enrolment.id, max(due, now) + dt.timedelta(days=7),
                        "Caring responsibilities this month", actor=marker, now=now - dt.timedelta(hours=1))
        return
    attempt = submit_work(session, assignment.id, store=store, actor=volunteer, now=submitted, anonymised=True,
                          text="In the role play I prepared the person harmed by explaining what to expect, "
                               "kept to open questions, and checked in after the hardest moment.")
    if plan == "submitted":
        return
    start_marking(session, attempt.id, actor=marker, now=now - dt.timedelta(minutes=10) if plan == "in_marking"
                  else marked)
    if plan == "in_marking":
        return
    outcome = {"released_pass": Outcome.PASS, "resubmitted": Outcome.REFER}.get(plan, Outcome.FAIL)
    criteria = attempt.rubric_version.criteria if attempt.rubric_version else []
    level = "Not yet" if outcome is not Outcome.PASS else "Meets"
    save_marking(session, attempt.id, levels={c["name"]: level for c in criteria}, outcome=outcome,
                 feedback="You prepared carefully and stayed neutral. Next time, check the person harmed has "
                          "support arranged for after the meeting.",
                 resubmit_due_at=marked + dt.timedelta(days=14) if outcome is Outcome.REFER else None,
                 actor=marker, now=marked)
    if plan == "marked":
        return
    if attempt.needs_moderation:
        moderate_work(session, attempt.id, agree=True, note="Agree with the marker.", actor=moderator, now=marked)
    if plan == "moderated":
        return
    release_work(session, attempt.id, actor=marker, now=marked + dt.timedelta(minutes=30))
    if plan == "resubmitted":
        submit_work(session, assignment.id, store=store, actor=volunteer, anonymised=True,
                    now=min(marked + dt.timedelta(days=2), now - dt.timedelta(minutes=30)),
                    text="Revised: I have added how I would arrange support and follow-up for both people.")


def _demo_practical(session: Session, enrolment: Enrolment, outcome: Outcome, *, observer: User,
                    now: dt.datetime) -> None:
    competencies = list(enrolment.cohort.course.competencies or [])
    results = [CompetencyResult(name, outcome is Outcome.PASS or index > 0, f"Observed: {name.lower()}.")
               for index, name in enumerate(competencies)]
    record_practical(session, enrolment.id, observed_on=_today(now), scenario="Burglary: the person harmed meets "
                     "the young person responsible", results=results, outcome=outcome,
                     notes="" if outcome is Outcome.PASS else "Practise preparing the person harmed, then observe "
                                                              "again at the next cohort.", actor=observer, now=now)


def load_demo_coursework(session: Session, *, now: dt.datetime) -> list[Assignment]:
    """Coursework for every cohort without any: an assignment with a rubric; on cohorts that have started, the
    enrolled volunteers' work taken (in turn) to released pass, referred and resubmitted, moderated, marked and
    awaiting moderation, submitted, in marking, and not submitted with an extension, plus practical
    observations. Made through the services; idempotent; flushes, never commits. Returns the assignments made."""
    coordinator = session.scalar(
        select(User).join(User.role_links).where(User.role_links.any(role=Role.COORDINATOR)).order_by(User.id).limit(1)
    )
    made: list[Assignment] = []
    turn = 0
    for cohort in session.scalars(select(Cohort).where(Cohort.cancelled_at.is_(None)).order_by(Cohort.id)):
        if cohort.starts_at is None or queries.list_assignments(session, cohort.id):
            continue
        trainers = [t for t in cohort.trainers if t.has_role(Role.TRAINER)]
        actor = trainers[0] if trainers else coordinator
        if actor is None:
            continue
        created = min(cohort.starts_at, now) - dt.timedelta(days=1)
        due = max(cohort.ends_at or cohort.starts_at, created) + dt.timedelta(days=14)
        assignment = create_assignment(
            session, cohort.id,
            AssignmentDetails(title=DEMO_TITLE, due_at=due, rubric=DEMO_RUBRIC, moderate_one_in=5,
                              instructions="Write 800 to 1,200 words reflecting on the role play you facilitated on "
                                           "day 3: what went well, what you would change, and why."),
            actor=actor, now=created,
        )
        made.append(assignment)
        if cohort.starts_at > now or not trainers:
            continue
        moderator = trainers[1] if len(trainers) > 1 else coordinator
        enrolled = [e for e in cohort.enrolments if e.status is EnrolmentStatus.ENROLLED]
        for enrolment in enrolled:
            plan = _DEMO_PLAN[turn % len(_DEMO_PLAN)]
            turn += 1
            try:
                with session.begin_nested():
                    _demo_step(session, plan, assignment, enrolment, marker=trainers[0], moderator=moderator,
                               now=now)
                if plan in ("released_pass", "resubmitted") and (cohort.ends_at or now) <= now:
                    with session.begin_nested():
                        _demo_practical(session, enrolment, Outcome.PASS if plan == "released_pass" else
                                        Outcome.REFER, observer=moderator if moderator is not None else actor,
                                        now=now - dt.timedelta(hours=2))
            except DomainError:
                continue  # a demo volunteer in an unexpected state is left as they are
    return made
