"""Who may see and do what with coursework and practical assessments: pure predicates.

Volunteers see only their own work, and its outcome and feedback only once released. Trainers see and mark
only the work of cohorts they train, never the work of a volunteer they declared a conflict with
(`conflicts`: the volunteer user ids the person declared). Coordinators see everything and allocate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from portal.core.accounts import Role, is_coordinator, is_signed_in
from portal.training.coursework.models import Attempt, MarkingStatus
from portal.training.models import Cohort, Enrolment
from portal.training.permissions import trains

NO_CONFLICTS: frozenset[int] = frozenset()


def is_trainer(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.TRAINER)


def can_manage_coursework(user: Any, cohort: Cohort) -> bool:
    """Set assignments and rubrics, grant extensions, allocate, release, see the cohort's work."""
    return is_coordinator(user) or trains(user, cohort)


def can_see_marking(user: Any) -> bool:
    """The marking queue and the conflicts page."""
    return is_coordinator(user) or is_trainer(user)


def is_own_work(user: Any, enrolment: Enrolment) -> bool:
    return is_signed_in(user) and enrolment.user_id == user.id


def can_view_attempt(user: Any, attempt: Attempt, conflicts: Collection[int] = NO_CONFLICTS) -> bool:
    """The submission itself (receipt and file): the volunteer, the cohort's trainers without a conflict,
    coordinators."""
    enrolment = attempt.enrolment
    if is_own_work(user, enrolment) or is_coordinator(user):
        return True
    return trains(user, enrolment.cohort) and enrolment.user_id not in conflicts


def can_see_result(user: Any, attempt: Attempt, conflicts: Collection[int] = NO_CONFLICTS) -> bool:
    """Outcome and feedback: staff who may view the attempt; the volunteer only once it is released."""
    if is_own_work(user, attempt.enrolment) and not is_coordinator(user):
        return attempt.status is MarkingStatus.RELEASED
    return can_view_attempt(user, attempt, conflicts)


def can_mark(user: Any, attempt: Attempt, conflicts: Collection[int] = NO_CONFLICTS,
             now: dt.datetime | None = None) -> bool:
    """Take (if unallocated, or left by whoever took it: pass `now`) or mark (if allocated to them) this work."""
    enrolment = attempt.enrolment
    return (
        trains(user, enrolment.cohort)
        and enrolment.user_id not in conflicts
        and enrolment.user_id != user.id
        and (attempt.marker_id in (None, user.id) or (now is not None and attempt.is_abandoned(now)))
        and attempt.status in (MarkingStatus.SUBMITTED, MarkingStatus.IN_MARKING, MarkingStatus.MARKED)
    )


def can_moderate(user: Any, attempt: Attempt, conflicts: Collection[int] = NO_CONFLICTS) -> bool:
    """A second trainer (or a coordinator), never the marker, moderates sampled work."""
    enrolment = attempt.enrolment
    return (
        (is_coordinator(user) or trains(user, enrolment.cohort))
        and enrolment.user_id not in conflicts
        and attempt.marker_id != user.id
        and attempt.status is MarkingStatus.MARKED
        and attempt.needs_moderation
    )


def can_release(user: Any, attempt: Attempt) -> bool:
    ready = attempt.status is MarkingStatus.MODERATED or (
        attempt.status is MarkingStatus.MARKED and not attempt.needs_moderation
    )
    return ready and can_manage_coursework(user, attempt.enrolment.cohort)


def can_record_practical(user: Any, enrolment: Enrolment, conflicts: Collection[int] = NO_CONFLICTS) -> bool:
    return (
        (is_coordinator(user) or trains(user, enrolment.cohort))
        and enrolment.user_id not in conflicts
        and enrolment.user_id != user.id
    )


def can_view_practical(user: Any, enrolment: Enrolment, conflicts: Collection[int] = NO_CONFLICTS) -> bool:
    if is_own_work(user, enrolment) or is_coordinator(user):
        return True
    return trains(user, enrolment.cohort) and enrolment.user_id not in conflicts
