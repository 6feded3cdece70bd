"""Who may see and do what with a volunteer application: pure predicates, no queries of their own.

Applicants see and change only their own application (and change it only while it is a draft);
coordinators see every application and decide on them; other roles see none. The convictions
declaration is restricted to coordinators.
"""

from __future__ import annotations

from typing import Any

from portal.core.accounts import Role, is_coordinator, is_signed_in
from portal.volunteers.models import CLOSED_STATUSES, Application


def is_owner(user: Any, application: Application) -> bool:
    return is_signed_in(user) and application.user_id == user.id


def can_start_application(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.APPLICANT)


def can_view_application(user: Any, application: Application) -> bool:
    return is_coordinator(user) or is_owner(user, application)


def can_edit_application(user: Any, application: Application) -> bool:
    return is_owner(user, application) and application.is_draft


def can_withdraw_application(user: Any, application: Application) -> bool:
    return (is_owner(user, application) or is_coordinator(user)) and application.status not in CLOSED_STATUSES


def can_review_applications(user: Any) -> bool:
    """Shortlist, reject, move on and list every application."""
    return is_coordinator(user)


def can_view_convictions(user: Any, application: Application) -> bool:
    """The declaration is restricted data: coordinators, and the applicant while writing it."""
    return is_coordinator(user) or can_edit_application(user, application)
