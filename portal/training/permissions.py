"""Who may see and do what in training: pure predicates, no queries of their own.

Coordinators run every course and cohort. Trainers see and run only the cohorts they train (registers,
the cohort page, its report). Volunteers see only their own enrolments, and cohorts open to join.
"""

from __future__ import annotations

from typing import Any

from portal.core.accounts import Role, is_coordinator, is_signed_in
from portal.training.models import Cohort, Enrolment, EnrolmentStatus


def trains(user: Any, cohort: Cohort) -> bool:
    return is_signed_in(user) and user.has_role(Role.TRAINER) and user.id in cohort.trainer_ids


def can_manage_courses(user: Any) -> bool:
    """Create and edit courses and cohorts, enrol anyone, withdraw anyone, record completion."""
    return is_coordinator(user)


def can_view_cohort(user: Any, cohort: Cohort) -> bool:
    """The cohort page with names, waiting list and shared needs."""
    return is_coordinator(user) or trains(user, cohort)


def can_take_register(user: Any, cohort: Cohort) -> bool:
    return is_coordinator(user) or trains(user, cohort)


def can_view_report(user: Any, cohort: Cohort) -> bool:
    return is_coordinator(user) or trains(user, cohort)


def can_join_cohorts(user: Any) -> bool:
    """See cohorts open to join and enrol oneself (eligibility is the service's to judge)."""
    return is_signed_in(user) and user.has_role(Role.VOLUNTEER)


def is_own(user: Any, enrolment: Enrolment) -> bool:
    return is_signed_in(user) and enrolment.user_id == user.id


def can_view_enrolment(user: Any, enrolment: Enrolment) -> bool:
    return is_own(user, enrolment) or can_view_cohort(user, enrolment.cohort)


def can_withdraw(user: Any, enrolment: Enrolment) -> bool:
    live = enrolment.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITING)
    return live and (is_own(user, enrolment) or is_coordinator(user))


def can_edit_needs(user: Any, enrolment: Enrolment) -> bool:
    return is_own(user, enrolment) and enrolment.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITING)


def can_book_make_up(user: Any, enrolment: Enrolment) -> bool:
    return is_coordinator(user) and enrolment.status is EnrolmentStatus.ENROLLED


def can_complete(user: Any, enrolment: Enrolment) -> bool:
    return (is_coordinator(user) or trains(user, enrolment.cohort)) and enrolment.status is EnrolmentStatus.ENROLLED


def can_view_certificate(user: Any, enrolment: Enrolment) -> bool:
    completed = enrolment.status is EnrolmentStatus.COMPLETED
    return completed and (is_own(user, enrolment) or is_coordinator(user) or trains(user, enrolment.cohort))
