"""Who may see and do what on a case: pure predicates over loaded objects, no queries of their own.

Coordinators run cases and see everything. A volunteer facilitator sees a case only while they hold
a current allocation on it (from allocation to de-allocation or closure), and then only what the
role needs (rj-domain.md §4.6): contact details of the parties they work with, an address only where a
home visit is approved, the risk rating and mitigations but never police intelligence, general notes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from portal.cases.models import Allocation, Case, NoteVisibility, Party
from portal.core.accounts import is_coordinator, is_signed_in


def can_manage_cases(user: Any) -> bool:
    """Take referrals, move cases, allocate, close and reopen: coordinators."""
    return is_coordinator(user)


def current_allocation(user: Any, case: Case, *, on: dt.date) -> Allocation | None:
    """The user's allocation on `case` that is current on `on`, or None."""
    if not is_signed_in(user):
        return None
    for allocation in case.allocations:
        if allocation.user_id == user.id and allocation.is_current_on(on):
            return allocation
    return None


def can_view_case(user: Any, case: Case, *, on: dt.date) -> bool:
    """Coordinators see every case; anyone else only a case they are allocated to on `on`."""
    return is_coordinator(user) or current_allocation(user, case, on=on) is not None


def can_record_on_case(user: Any, case: Case, *, on: dt.date) -> bool:
    """Log contact attempts, sessions, consents and feedback: whoever may view the case."""
    return can_view_case(user, case, on=on)


def can_see_restricted(user: Any, case: Case | None = None) -> bool:
    """Restricted notes and details (each view audited): coordinators."""
    return is_coordinator(user)


def can_see_coordinator_only(user: Any) -> bool:
    return is_coordinator(user)


def can_see_police_intelligence(user: Any) -> bool:
    """Police intelligence in risk assessments: coordinators, never facilitators."""
    return is_coordinator(user)


def visible_note_kinds(user: Any) -> frozenset[NoteVisibility]:
    """The note visibilities this person may read."""
    if is_coordinator(user):
        return frozenset(NoteVisibility)
    return frozenset({NoteVisibility.GENERAL})


def can_add_note(user: Any, case: Case, visibility: NoteVisibility, *, on: dt.date) -> bool:
    """Anyone on the case may write general or restricted notes; coordinator-only notes are theirs."""
    if visibility is NoteVisibility.COORDINATOR_ONLY:
        return is_coordinator(user)
    return can_view_case(user, case, on=on)


def own_party_ids(user: Any, case: Case, *, on: dt.date) -> frozenset[int]:
    """The parties a facilitator works with on `case`: those on their current allocation, plus
    the supporters and parents or guardians of those parties."""
    allocation = current_allocation(user, case, on=on)
    if allocation is None:
        return frozenset()
    assigned = allocation.party_ids
    linked = {party.id for party in case.parties if party.supports_party_id in assigned}
    return frozenset(assigned | linked)


def can_see_party_contact_details(user: Any, case: Case, party: Party, *, on: dt.date) -> bool:
    """Phone, e-mail and safe-contact notes: coordinators, and facilitators for their own parties."""
    return is_coordinator(user) or party.id in own_party_ids(user, case, on=on)


def can_see_party_address(user: Any, case: Case, party: Party, *, on: dt.date) -> bool:
    """A home address: coordinators; a facilitator only for their own party with a home visit approved."""
    if is_coordinator(user):
        return True
    return party.home_visit_approved and party.id in own_party_ids(user, case, on=on)


def can_see_case_viewers(user: Any) -> bool:
    """The audit of who viewed a case: coordinators."""
    return is_coordinator(user)


def can_view_referrer_reports(user: Any) -> bool:
    return is_coordinator(user)
