"""Who may do what with references: pure predicates, no queries of their own.

Coordinators request, read and decide on references. Referees reach only their own reference form, through
its single-use link (no account). Applicants see only whether each reference was asked for and has arrived,
never what a referee wrote nor the coordinator's decision; other roles see nothing.
"""

from __future__ import annotations

from typing import Any

from portal.core.accounts import is_coordinator
from portal.volunteers.models import Application, ApplicationStatus
from portal.volunteers.permissions import is_owner

# References are asked for from the shortlist on, and while the application is still open.
REQUESTABLE_STATUSES = frozenset({
    ApplicationStatus.SHORTLISTED, ApplicationStatus.INTERVIEW_BOOKED, ApplicationStatus.INTERVIEWED,
    ApplicationStatus.OFFERED,
})


def can_manage_references(user: Any) -> bool:
    """Request, read, record and decide on references."""
    return is_coordinator(user)


def can_request_references(user: Any, application: Application) -> bool:
    return can_manage_references(user) and application.status in REQUESTABLE_STATUSES


def can_read_reference(user: Any) -> bool:
    """What a referee wrote: coordinators only (never the applicant)."""
    return is_coordinator(user)


def can_see_reference_progress(user: Any, application: Application) -> bool:
    """Whether each reference was asked for and has arrived (no contents): the applicant and coordinators."""
    return is_coordinator(user) or is_owner(user, application)
