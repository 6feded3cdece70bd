"""Who may see and do what on a case (rj-domain.md §4.6): pure predicates over loaded objects."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.cases import permissions
from portal.cases.models import AllocationRole, CaseStatus, NoteVisibility
from portal.core import account_services
from portal.core.accounts import Role
from tests.builders import make_user
from tests.cases.builders import (
    NOW,
    RECEIVED_ON,
    TODAY,
    harmed,
    make_allocation,
    make_case,
    make_coordinator,
    make_facilitator,
    responsible,
)


class Anonymous:
    """What Flask-Login's AnonymousUserMixin looks like to a predicate."""

    is_anonymous = True
    is_deactivated = False

    def has_role(self, *roles):
        return False


def test_a_coordinator_may_view_manage_and_see_everything_on_any_case(session):
    coordinator = make_coordinator(session)
    case = make_case(session)
    assert permissions.can_view_case(coordinator, case, on=TODAY)
    assert permissions.can_manage_cases(coordinator)
    assert permissions.can_see_restricted(coordinator, case)
    assert permissions.can_see_police_intelligence(coordinator)
    assert permissions.can_see_case_viewers(coordinator)
    assert permissions.can_view_referrer_reports(coordinator)
    assert permissions.visible_note_kinds(coordinator) == set(NoteVisibility)
    assert permissions.can_see_party_address(coordinator, case, harmed(case), on=TODAY)


def test_a_volunteer_sees_a_case_only_while_allocated_to_it(session):
    volunteer = make_facilitator(session)
    case = make_case(session, status=CaseStatus.PREPARATION)
    assert not permissions.can_view_case(volunteer, case, on=TODAY)

    make_allocation(session, case, volunteer, starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=10))

    assert not permissions.can_view_case(volunteer, case, on=TODAY - dt.timedelta(days=1))
    assert permissions.can_view_case(volunteer, case, on=TODAY)
    assert permissions.can_record_on_case(volunteer, case, on=TODAY)
    assert permissions.can_view_case(volunteer, case, on=TODAY + dt.timedelta(days=9))
    assert not permissions.can_view_case(volunteer, case, on=TODAY + dt.timedelta(days=10))


def test_another_volunteers_allocation_gives_no_access(session):
    mine, theirs = make_facilitator(session), make_facilitator(session)
    case = make_case(session, status=CaseStatus.PREPARATION)
    make_allocation(session, case, theirs)
    assert not permissions.can_view_case(mine, case, on=TODAY)
    assert permissions.current_allocation(mine, case, on=TODAY) is None


def test_a_volunteer_never_manages_cases_or_sees_restricted_details(session):
    volunteer = make_facilitator(session)
    case = make_case(session, status=CaseStatus.PREPARATION)
    make_allocation(session, case, volunteer)
    assert not permissions.can_manage_cases(volunteer)
    assert not permissions.can_see_restricted(volunteer, case)
    assert not permissions.can_see_coordinator_only(volunteer)
    assert not permissions.can_see_police_intelligence(volunteer)
    assert not permissions.can_see_case_viewers(volunteer)
    assert permissions.visible_note_kinds(volunteer) == {NoteVisibility.GENERAL}


@pytest.mark.parametrize(
    "visibility, allowed",
    [(NoteVisibility.GENERAL, True), (NoteVisibility.RESTRICTED, True), (NoteVisibility.COORDINATOR_ONLY, False)],
)
def test_an_allocated_volunteer_may_add_general_and_restricted_notes_only(session, visibility, allowed):
    volunteer = make_facilitator(session)
    case = make_case(session, status=CaseStatus.PREPARATION)
    make_allocation(session, case, volunteer)
    assert permissions.can_add_note(volunteer, case, visibility, on=TODAY) is allowed
    assert permissions.can_add_note(make_coordinator(session), case, visibility, on=TODAY)


def test_a_deactivated_coordinator_and_an_anonymous_visitor_may_do_nothing(session):
    admin = make_user(session, roles=(Role.ADMIN,))
    coordinator = make_coordinator(session)
    account_services.deactivate_user(session, coordinator, actor=admin, now=NOW)
    case = make_case(session)
    for nobody in (coordinator, Anonymous(), None):
        assert not permissions.can_view_case(nobody, case, on=TODAY)
        assert not permissions.can_manage_cases(nobody)
        assert not permissions.can_see_restricted(nobody, case)


def test_an_admin_is_not_a_case_worker(session):
    admin = make_user(session, roles=(Role.ADMIN,))
    case = make_case(session)
    assert not permissions.can_view_case(admin, case, on=TODAY)
    assert not permissions.can_manage_cases(admin)


def test_contact_details_follow_the_parties_a_facilitator_works_with(session):
    lead = make_facilitator(session)
    case = make_case(session, status=CaseStatus.PREPARATION)
    make_allocation(session, case, lead, role=AllocationRole.LEAD, parties=[harmed(case)])

    assert permissions.own_party_ids(lead, case, on=TODAY) == {harmed(case).id}
    assert permissions.can_see_party_contact_details(lead, case, harmed(case), on=TODAY)
    assert not permissions.can_see_party_contact_details(lead, case, responsible(case), on=TODAY)
    before_allocation = RECEIVED_ON - dt.timedelta(days=1)
    assert not permissions.can_see_party_contact_details(lead, case, harmed(case), on=before_allocation)


def test_an_address_needs_an_own_party_and_an_approved_home_visit(session):
    lead = make_facilitator(session)
    case = make_case(session, status=CaseStatus.PREPARATION)
    make_allocation(session, case, lead, parties=[harmed(case)])
    assert not permissions.can_see_party_address(lead, case, harmed(case), on=TODAY)

    harmed(case).home_visit_approved = True
    responsible(case).home_visit_approved = True

    assert permissions.can_see_party_address(lead, case, harmed(case), on=TODAY)
    assert not permissions.can_see_party_address(lead, case, responsible(case), on=TODAY)
