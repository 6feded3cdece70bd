"""Who may do what with supervision: pure predicates `can_<verb>_<noun>(user, obj=None) -> bool`.

"Supervisor" means a coordinator, or a person a coordinator has named and not removed: the caller
looks that up once (`queries.is_supervisor`) and passes `is_supervisor`, so removing someone from the
supervisors list ends everything below at once. Whether they supervise a particular volunteer now
(a live booking in a session they lead) comes from `queries.supervises`, passed as
`supervises_volunteer`. Every refusal of a booking, a record or a history is shown as "not found".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from portal.core.accounts import Role, is_coordinator, is_signed_in
from portal.supervision import rules
from portal.supervision.models import SupervisionBooking, SupervisionRecord, SupervisionSlot


def can_publish_slots(user: Any, *, is_supervisor: bool) -> bool:
    """Coordinators and the supervisors they name publish supervision slots."""
    return is_coordinator(user) or (is_signed_in(user) and is_supervisor)


def can_manage_slot(user: Any, slot: SupervisionSlot, *, is_supervisor: bool) -> bool:
    """Change or cancel a slot: any coordinator, or the slot's own supervisor while on the list."""
    return is_coordinator(user) or (is_signed_in(user) and is_supervisor and slot.supervisor_id == user.id)


def can_book_slots(user: Any) -> bool:
    return is_signed_in(user) and user.has_role(Role.VOLUNTEER)


def can_view_booking(user: Any, booking: SupervisionBooking, *, is_supervisor: bool) -> bool:
    """The volunteer's own booking, or a booking in a slot the person manages."""
    return is_signed_in(user) and (
        booking.user_id == user.id or can_manage_slot(user, booking.slot, is_supervisor=is_supervisor)
    )


def can_record_session(user: Any, booking: SupervisionBooking, *, is_supervisor: bool, now: dt.datetime) -> bool:
    """Write or correct the record of a session (the form shows the volunteer's cases): a coordinator;
    or the session's supervisor, while on the list, for a booking still live, until `rules.RECORD_WINDOW`
    after the session ends. Never the volunteer themselves."""
    if not is_signed_in(user) or booking.user_id == user.id:
        return False
    if is_coordinator(user):
        return True
    slot = booking.slot
    return (
        is_supervisor and slot.supervisor_id == user.id and booking.is_live and not slot.is_cancelled
        and slot.ends_at > now - rules.RECORD_WINDOW
    )


def can_view_record(user: Any, record: SupervisionRecord, *, is_supervisor: bool,
                    supervises_volunteer: bool = False) -> bool:
    """The whole record: coordinators; and, while on the supervisors list, the supervisor who led the
    session (their own record, which they may need for their accreditation) and whoever supervises the
    volunteer now."""
    if not is_signed_in(user) or record.user_id == user.id:
        return False
    if is_coordinator(user):
        return True
    return is_supervisor and (record.supervisor_id == user.id or supervises_volunteer)


def can_read_wellbeing_concerns(user: Any, record: SupervisionRecord) -> bool:
    """Of those who may view the record, the wellbeing concerns are for coordinators (who are told of
    every concern) and the supervisor who wrote them; another supervisor sees the rest of the record."""
    return is_coordinator(user) or (is_signed_in(user) and record.supervisor_id == user.id)


def can_view_history(user: Any, *, supervises_volunteer: bool) -> bool:
    """A volunteer's supervision history (and the other records in it): coordinators, and the
    volunteer's current supervisors (`queries.supervises`)."""
    return is_coordinator(user) or (is_signed_in(user) and supervises_volunteer)


def can_view_actions(user: Any, record: SupervisionRecord) -> bool:
    """The volunteer sees the actions agreed in their own sessions (and nothing else of the record)."""
    return is_signed_in(user) and record.user_id == user.id


def can_see_cadence(user: Any) -> bool:
    return is_coordinator(user)
