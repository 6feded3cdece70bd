"""Two coordinators allocate a lead to the same case at the same moment (PostgreSQL row lock)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases import services
from portal.cases.errors import AllocationBlocked
from portal.cases.models import Allocation, AllocationRole, CaseStatus
from tests.cases.builders import NOW, make_case, make_coordinator, make_facilitator
from tests.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock"),
]


def test_two_leads_allocated_at_the_same_moment_only_one_is_taken(engine):
    with Session(engine) as setup:
        coordinator = make_coordinator(setup)
        case = make_case(setup, status=CaseStatus.AWAITING_ALLOCATION, actor=coordinator)
        first_volunteer, second_volunteer = make_facilitator(setup), make_facilitator(setup)
        setup.commit()
        ids = case.id, coordinator.id, first_volunteer.id, second_volunteer.id
    case_id, coordinator_id, first_id, second_id = ids
    result: dict[str, object] = {}

    def allocate_in_another_transaction():
        with Session(engine) as second:
            actor = second.get(type(coordinator), coordinator_id)
            try:
                services.allocate_case(second, case_id, second_id, AllocationRole.LEAD, actor=actor, now=NOW)
                second.commit()
                result["outcome"] = "allocated"
            except AllocationBlocked as blocked:
                result["outcome"] = blocked.reasons

    with Session(engine) as first:
        actor = first.get(type(coordinator), coordinator_id)
        services.allocate_case(first, case_id, first_id, AllocationRole.LEAD, actor=actor, now=NOW)
        other = threading.Thread(target=allocate_in_another_transaction)
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()  # blocked on this transaction's lock on the case row
        first.commit()
    other.join(timeout=30)

    assert waited
    assert result["outcome"] != "allocated"
    assert any("already has a lead facilitator" in reason for reason in result["outcome"])
    with Session(engine) as check:
        leads = check.scalars(select(Allocation.user_id).where(Allocation.case_id == case_id)).all()
    assert leads == [first_id]
