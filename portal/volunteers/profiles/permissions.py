"""Who may make an offer, change a volunteer's allocation details and see their conflicts of interest:
pure predicates, no queries of their own."""

from __future__ import annotations

from typing import Any

from portal.core.accounts import Role, is_coordinator, is_signed_in
from portal.volunteers.profiles.models import Volunteer


def can_make_offer(user: Any) -> bool:
    """Offer a place after interview and references: coordinators only."""
    return is_coordinator(user)


def is_own(user: Any, volunteer: Volunteer) -> bool:
    return is_signed_in(user) and volunteer.user_id == user.id


def can_view_preferences(user: Any, volunteer: Volunteer) -> bool:
    """Availability, districts, case limit, languages, driving, dates away and pause: the volunteer,
    coordinators and admins."""
    return is_own(user, volunteer) or is_coordinator(user) or (is_signed_in(user) and user.has_role(Role.ADMIN))


def can_change_preferences(user: Any, volunteer: Volunteer) -> bool:
    """Change those details (and declare or withdraw conflicts): the volunteer, or a coordinator for them."""
    return is_own(user, volunteer) or is_coordinator(user)


def can_view_conflicts(user: Any, volunteer: Volunteer) -> bool:
    """Declared conflicts of interest are private: the volunteer who declared them and coordinators.
    Admins and other volunteers never see them."""
    return is_own(user, volunteer) or is_coordinator(user)


def can_set_experience(user: Any, volunteer: Volunteer | None = None) -> bool:
    """Set the experience level: coordinators only, and never their own."""
    return is_coordinator(user) and (volunteer is None or volunteer.user_id != user.id)
