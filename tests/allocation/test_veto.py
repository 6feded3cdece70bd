"""The allocation veto: `cases.services.allocate_case` refuses a volunteer allocation's rules rule out,
with the reasons; and two allocations racing for a volunteer's last place take it only once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.allocation import handlers
from portal.cases import services as case_services
from portal.cases.errors import AllocationBlocked
from portal.cases.models import Allocation, AllocationRole, CaseStatus
from portal.core.accounts import User
from portal.supervision import services as supervision_services
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    VolunteerAbsence,
    VolunteerStatus,
)
from tests.allocation.builders import NOW, make_coordinator, make_facilitator, make_waiting_case
from tests.cases.builders import make_allocation, make_case
from tests.conftest import POSTGRES_URL


def allocate(session, case, user_id, role=AllocationRole.LEAD, *, actor=None):
    return case_services.allocate_case(session, case.id, user_id, role, actor=actor or make_coordinator(session),
                                       now=NOW)


def test_an_eligible_volunteer_is_allocated_and_the_case_itself_does_not_count_against_them(session):
    case = make_waiting_case(session)
    lead, co = make_facilitator(session, max_cases=1), make_facilitator(session, max_cases=1)
    allocate(session, case, lead.user_id)
    allocation = allocate(session, case, co.user_id, AllocationRole.CO_FACILITATOR)
    assert allocation.user_id == co.user_id and case.status is CaseStatus.ALLOCATED


def test_a_volunteer_at_their_limit_is_refused_with_the_reason(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session, max_cases=1)
    make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), volunteer.user)
    with pytest.raises(AllocationBlocked) as blocked:
        allocate(session, case, volunteer.user_id)
    assert blocked.value.reasons == ["holds 1 of 1 cases"]
    assert session.scalars(select(Allocation).where(Allocation.case_id == case.id)).all() == []


def test_every_allocation_reason_is_joined_into_one_refusal(session):
    case = make_waiting_case(session, is_sensitive=True)
    volunteer = make_facilitator(session, status=VolunteerStatus.TRAINING, experience=ExperienceLevel.NEW)
    volunteer.paused_until = dt.date(2027, 5, 12)
    session.add(ConflictOfInterest(volunteer_id=volunteer.id, kind=ConflictKind.PERSON, name="aoife oconnor",
                                   declared_at=NOW))
    session.flush()
    with pytest.raises(AllocationBlocked) as blocked:
        allocate(session, case, volunteer.user_id)
    assert blocked.value.reasons == [
        "in training, not yet active; paused until 12 May 2027; declared a conflict of interest with a person on "
        "this case (aoife oconnor); not trained for sensitive and complex cases"
    ]


def test_vetting_and_supervision_reasons_come_once_from_their_own_modules(session):
    case = make_waiting_case(session)
    coordinator = make_coordinator(session)
    volunteer = make_facilitator(session, cleared_on=dt.date(2025, 11, 20))  # lapsed on 20 November 2026
    volunteer.status_changed_at = NOW - dt.timedelta(weeks=20)
    session.flush()
    supervision_services.set_cadence_rules(session, cadence_weeks=12, overdue_blocks_allocation=True,
                                           due_soon_days=14, actor=coordinator, now=NOW)
    with pytest.raises(AllocationBlocked) as blocked:
        allocate(session, case, volunteer.user_id, actor=coordinator)
    assert sorted(blocked.value.reasons) == [
        "Police vetting (NPPV2) lapsed on 20 November 2026", "Supervision overdue since 28 September 2026"]


def test_overdue_supervision_in_warn_mode_and_a_short_absence_do_not_stop_an_allocation(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session)
    volunteer.status_changed_at = NOW - dt.timedelta(weeks=20)
    session.add(VolunteerAbsence(volunteer_id=volunteer.id, starts_on=dt.date(2026, 12, 1),
                                 ends_on=dt.date(2026, 12, 5)))
    session.flush()
    assert allocate(session, case, volunteer.user_id).user_id == volunteer.user_id


def test_staff_with_no_volunteer_record_are_not_refused(session):
    case = make_waiting_case(session)
    coordinator = make_coordinator(session)
    assert handlers.refuse_allocation_when_ineligible(case, session=session, user_id=coordinator.id,
                                                      role=AllocationRole.LEAD, on=NOW.date()) is None
    assert allocate(session, case, coordinator.id, actor=coordinator).user_id == coordinator.id


def test_a_deactivated_account_is_refused_once_by_the_cases_module(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session, name="Rhys Pritchard")
    volunteer.user.is_deactivated = True
    session.flush()
    with pytest.raises(AllocationBlocked) as blocked:
        allocate(session, case, volunteer.user_id)
    assert blocked.value.reasons == ["Rhys Pritchard's account is deactivated"]


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock")
def test_two_cases_allocated_the_same_volunteers_last_place_at_once_only_one_takes_it(engine):
    with Session(engine) as setup:
        coordinator = make_coordinator(setup)
        first_case, second_case = make_waiting_case(setup), make_waiting_case(setup)
        volunteer = make_facilitator(setup, max_cases=1)
        setup.commit()
        coordinator_id, user_id = coordinator.id, volunteer.user_id
        first_id, second_id = first_case.id, second_case.id
    result: dict[str, object] = {}

    def allocate_in_another_transaction():
        with Session(engine) as second:
            actor = second.get(User, coordinator_id)
            try:
                case_services.allocate_case(second, second_id, user_id, AllocationRole.LEAD, actor=actor, now=NOW)
                second.commit()
                result["outcome"] = "allocated"
            except AllocationBlocked as blocked:
                result["outcome"] = blocked.reasons

    with Session(engine) as first:
        actor = first.get(User, coordinator_id)
        case_services.allocate_case(first, first_id, user_id, AllocationRole.LEAD, actor=actor, now=NOW)
        other = threading.Thread(target=allocate_in_another_transaction)
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()  # blocked on this transaction's lock on the volunteer row
        first.commit()
    other.join(timeout=30)

    assert waited
    assert result["outcome"] == ["holds 1 of 1 cases"]
    with Session(engine) as check:
        cases = check.scalars(select(Allocation.case_id).where(Allocation.user_id == user_id)).all()
    assert cases == [first_id]
