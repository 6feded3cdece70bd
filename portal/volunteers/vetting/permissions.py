"""Who may see and change vetting records: pure predicates, no queries of their own.

Coordinators and admins see every volunteer's vetting; coordinators record checks; admins change the
rules. A volunteer sees only their own checks (never the coordinators' notes) and reports their own
changes of circumstances. Nobody else sees any.
"""

from __future__ import annotations

from typing import Any

from portal.core.accounts import Role, is_coordinator, is_signed_in
from portal.volunteers.profiles.models import Volunteer


def is_admin(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.ADMIN)


def can_view_vetting(user: Any, volunteer: Volunteer | None = None) -> bool:
    """Every volunteer's vetting (volunteer=None), or this volunteer's."""
    if is_coordinator(user) or is_admin(user):
        return True
    return volunteer is not None and is_own(user, volunteer)


def is_own(user: Any, volunteer: Volunteer) -> bool:
    return is_signed_in(user) and volunteer.user_id == user.id


def can_record_check(user: Any, volunteer: Volunteer | None = None) -> bool:
    """Record a check, a renewal or a decision; a coordinator never records their own."""
    return is_coordinator(user) and (volunteer is None or volunteer.user_id != user.id)


def can_change_rules(user: Any) -> bool:
    return is_admin(user)


def can_view_circumstances(user: Any) -> bool:
    """Reported changes of circumstances are restricted: coordinators and admins."""
    return is_coordinator(user) or is_admin(user)


def can_report_circumstances(user: Any, volunteer: Volunteer) -> bool:
    return is_own(user, volunteer)
