"""Who may do what with supervision: pure predicates `can_<verb>_<noun>(user, obj=None) -> bool`.

"Supervisor" means a coordinator, or a person a coordinator has named (the caller looks that up once
and passes `is_supervisor`).
"""

from __future__ import annotations

from typing import Any

from portal.core.accounts import Role, is_coordinator, is_signed_in
from portal.supervision.models import SupervisionBooking, SupervisionRecord, SupervisionSlot


def can_publish_slots(user: Any, *, is_supervisor: bool) -> bool:
    """Coordinators and the supervisors they name publish supervision slots."""
    return is_coordinator(user) or (is_signed_in(user) and is_supervisor)


def can_manage_slot(user: Any, slot: SupervisionSlot) -> bool:
    """Change or cancel a slot: any coordinator, or the slot's own supervisor."""
    return is_coordinator(user) or (is_signed_in(user) and slot.supervisor_id == user.id)


def can_book_slots(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.VOLUNTEER)


def can_view_booking(user: Any, booking: SupervisionBooking) -> bool:
    """The volunteer's own booking, or a booking in a slot the person manages."""
    return is_signed_in(user) and (booking.user_id == user.id or can_manage_slot(user, booking.slot))


def can_record_session(user: Any, booking: SupervisionBooking) -> bool:
    """The session's supervisor, or a coordinator; never the volunteer themselves."""
    return can_manage_slot(user, booking.slot) and booking.user_id != user.id


def can_view_record(user: Any, record: SupervisionRecord, *, supervises_volunteer: bool = False) -> bool:
    """The whole record: coordinators, and the volunteer's supervisors."""
    if not is_signed_in(user) or record.user_id == user.id:
        return False
    return is_coordinator(user) or record.supervisor_id == user.id or supervises_volunteer


def can_view_actions(user: Any, record: SupervisionRecord) -> bool:
    """The volunteer sees the actions agreed in their own sessions (and nothing else of the record)."""
    return is_signed_in(user) and record.user_id == user.id


def can_see_cadence(user: Any) -> bool:
    return is_coordinator(user)
