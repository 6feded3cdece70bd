"""Demo cases on a plain Session: every status of the state machine, made through the services,
and loading twice adds nothing."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.cases import queries
from portal.cases.demo import DISTRICTS, load_demo_cases
from portal.cases.models import Allocation, Case, CaseStatus, CaseStatusChange, ContactAttempt
from portal.core.audit import AuditEntry
from tests.cases.builders import NOW, make_coordinator, make_facilitator


def _load(session: Session, count: int = 40):
    coordinator = make_coordinator(session)
    volunteers = [make_facilitator(session) for _ in range(4)]
    cases = load_demo_cases(session, coordinator=coordinator, volunteers=volunteers, now=NOW, count=count)
    session.commit()
    return cases, coordinator, volunteers


def test_demo_cases_cover_every_status_and_a_second_load_adds_nothing(session: Session):
    cases, coordinator, volunteers = _load(session)

    assert len(cases) == 40
    statuses = Counter(session.scalars(select(Case.status)))
    assert set(statuses) == set(CaseStatus)
    assert sum(statuses.values()) == 40
    assert load_demo_cases(session, coordinator=coordinator, volunteers=volunteers, now=NOW, count=40) == []
    assert session.scalar(select(func.count(Case.id))) == 40


def test_demo_cases_are_realistic_and_went_through_the_services(session: Session):
    cases, _coordinator, volunteers = _load(session)

    assert {case.district for case in cases} <= set(DISTRICTS)
    assert all(case.reference.startswith("RJ-") for case in cases)
    # Every move was a real transition, recorded and audited.
    moves = session.scalar(select(func.count(CaseStatusChange.id)))
    audited = session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "case.status_changed"))
    assert moves > len(cases) and audited == moves - len(cases)  # the referral's own entry is not a move
    assert session.scalar(select(func.count(ContactAttempt.id))) > 0
    for case in cases:
        assert case.received_on <= NOW.date()
        if case.status is CaseStatus.CLOSED:
            assert case.closure_reason is not None
            assert all(allocation.ends_on is not None for allocation in case.allocations)
        if case.status in (CaseStatus.ALLOCATED, CaseStatus.PREPARATION, CaseStatus.INTERVENTION):
            assert any(allocation.ends_on is None for allocation in case.allocations)
    assert session.scalar(select(func.count(Allocation.id))) > 0
    # The first volunteer has cases to look at, and the facilitator view works for them.
    mine = queries.list_my_cases(session, volunteers[0], on=NOW.date())
    assert mine
    view = queries.get_case_for_facilitator(session, mine[0].case_id, volunteers[0], on=NOW.date())
    assert view.parties


def test_demo_cases_include_allocations_waiting_for_review(session: Session):
    _cases, _coordinator, volunteers = _load(session)

    waiting = queries.list_allocations_needing_review(session)

    assert waiting and {allocation.user_id for allocation in waiting} == {volunteers[-1].id}
    assert all(allocation.review_reason.startswith("DBS check expired on") for allocation in waiting)
