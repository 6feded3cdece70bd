"""Allocations flagged for a coordinator's review (a facilitator's vetting lapsed, say), on a plain
Session: who is flagged, idempotence, the audit, clearing, and the coordinator's list."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases import queries, services
from portal.cases.models import Allocation, CaseStatus
from portal.core.audit import AuditEntry
from portal.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from tests.cases.builders import NOW, TODAY, make_allocation, make_case, make_coordinator, make_facilitator

LAPSED = "DBS check expired on 20 November 2026"
LATER = NOW + dt.timedelta(hours=3)


def review_audit(session: Session) -> list[tuple[str, int, dict]]:
    return [
        (entry.action, entry.subject_id, entry.details)
        for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("case.allocation_%review%")).order_by(AuditEntry.id)
        )
    ]


def test_flagging_marks_current_allocations_on_open_cases_and_audits_each_case(session):
    coordinator, facilitator, someone_else = (
        make_coordinator(session), make_facilitator(session), make_facilitator(session)
    )
    first = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), facilitator)
    second = make_allocation(session, make_case(session, status=CaseStatus.INTERVENTION), facilitator)
    ended = make_allocation(session, make_case(session, status=CaseStatus.PREPARATION), facilitator,
                            ends_on=TODAY)
    on_closed = make_allocation(session, make_case(session, status=CaseStatus.CLOSED), facilitator)
    not_theirs = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), someone_else)

    flagged = services.flag_allocations_for_review(session, facilitator.id, LAPSED, actor=coordinator, now=NOW)

    assert [allocation.id for allocation in flagged] == [first.id, second.id]
    for allocation in (first, second):
        assert allocation.needs_review
        assert (allocation.review_reason, allocation.review_flagged_at) == (LAPSED, NOW)
    for allocation in (ended, on_closed, not_theirs):
        assert not allocation.needs_review and allocation.review_flagged_at is None
    assert review_audit(session) == [
        ("case.allocation_flagged_for_review", first.case_id,
         {"allocation_id": first.id, "user_id": facilitator.id, "reason": LAPSED}),
        ("case.allocation_flagged_for_review", second.case_id,
         {"allocation_id": second.id, "user_id": facilitator.id, "reason": LAPSED}),
    ]


def test_flagging_again_for_the_same_reason_changes_nothing(session):
    facilitator = make_facilitator(session)
    allocation = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), facilitator)
    services.flag_allocations_for_review(session, facilitator.id, LAPSED, actor=None, now=NOW)

    again = services.flag_allocations_for_review(session, facilitator.id, f"  {LAPSED} ", actor=None, now=LATER)

    assert again == []
    assert allocation.review_flagged_at == NOW
    assert len(review_audit(session)) == 1


def test_a_job_can_flag_without_an_actor(session):
    facilitator = make_facilitator(session)
    make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), facilitator)
    services.flag_allocations_for_review(session, facilitator.id, LAPSED, actor=None, now=NOW)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "case.allocation_flagged_for_review"))
    assert entry.actor_id is None


def test_a_cleared_review_stays_cleared_for_the_same_reason_and_a_new_reason_flags_again(session):
    coordinator, facilitator = make_coordinator(session), make_facilitator(session)
    allocation = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), facilitator)
    services.flag_allocations_for_review(session, facilitator.id, LAPSED, actor=None, now=NOW)
    services.clear_allocation_review(session, allocation.id, actor=coordinator, now=NOW)

    assert services.flag_allocations_for_review(session, facilitator.id, LAPSED, actor=None, now=LATER) == []
    assert not allocation.needs_review

    renewed = services.flag_allocations_for_review(
        session, facilitator.id, "Supervision overdue since 3 November 2026", actor=None, now=LATER
    )
    assert renewed == [allocation] and allocation.needs_review
    assert (allocation.review_flagged_at, allocation.review_cleared_at, allocation.review_cleared_by_id) == (
        LATER, None, None
    )


def test_flagging_needs_a_reason_and_a_person_without_cases_gets_an_empty_list(session):
    facilitator = make_facilitator(session)
    make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), facilitator)
    with pytest.raises(ValidationFailed, match="Give the reason"):
        services.flag_allocations_for_review(session, facilitator.id, "  ", actor=None, now=NOW)
    assert services.flag_allocations_for_review(
        session, make_facilitator(session).id, LAPSED, actor=None, now=NOW
    ) == []
    assert review_audit(session) == []


def test_a_coordinator_clears_a_review_and_it_is_audited(session):
    coordinator, facilitator = make_coordinator(session), make_facilitator(session)
    allocation = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), facilitator)
    services.flag_allocations_for_review(session, facilitator.id, LAPSED, actor=None, now=NOW)

    cleared = services.clear_allocation_review(session, allocation.id, actor=coordinator, now=LATER)

    assert cleared is allocation and not allocation.needs_review
    assert (allocation.review_cleared_at, allocation.review_cleared_by_id) == (LATER, coordinator.id)
    assert allocation.review_reason == LAPSED  # kept as history
    assert review_audit(session)[-1] == (
        "case.allocation_review_cleared", allocation.case_id,
        {"allocation_id": allocation.id, "user_id": facilitator.id, "reason": LAPSED},
    )


def test_clearing_is_for_coordinators_and_only_for_a_flag_still_waiting(session):
    coordinator, facilitator = make_coordinator(session), make_facilitator(session)
    allocation = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), facilitator)
    with pytest.raises(RuleViolation, match="not flagged for review"):
        services.clear_allocation_review(session, allocation.id, actor=coordinator, now=NOW)
    services.flag_allocations_for_review(session, facilitator.id, LAPSED, actor=None, now=NOW)
    with pytest.raises(PermissionDenied):
        services.clear_allocation_review(session, allocation.id, actor=facilitator, now=NOW)
    services.clear_allocation_review(session, allocation.id, actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="already cleared on 23 November 2026"):
        services.clear_allocation_review(session, allocation.id, actor=coordinator, now=LATER)
    assert allocation.review_cleared_at == NOW


def test_ending_a_flagged_allocation_takes_it_off_the_review_list(session):
    coordinator, facilitator = make_coordinator(session), make_facilitator(session)
    allocation = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), facilitator)
    services.flag_allocations_for_review(session, facilitator.id, LAPSED, actor=None, now=NOW)
    services.end_allocation(session, allocation.id, reason="Vetting lapsed", actor=coordinator, now=NOW)
    assert not allocation.needs_review
    assert queries.list_allocations_needing_review(session) == []
    with pytest.raises(RuleViolation, match="ended on 23 November 2026"):
        services.clear_allocation_review(session, allocation.id, actor=coordinator, now=NOW)


def test_the_review_list_holds_waiting_flags_on_open_cases_longest_waiting_first(session):
    coordinator = make_coordinator(session)
    late, early, cleared = make_facilitator(session), make_facilitator(session), make_facilitator(session)
    late_allocation = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), late)
    early_allocation = make_allocation(session, make_case(session, status=CaseStatus.INTERVENTION), early)
    cleared_allocation = make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), cleared)
    services.flag_allocations_for_review(session, late.id, LAPSED, actor=None, now=LATER)
    services.flag_allocations_for_review(session, early.id, LAPSED, actor=None, now=NOW)
    services.flag_allocations_for_review(session, cleared.id, LAPSED, actor=None, now=NOW)
    services.clear_allocation_review(session, cleared_allocation.id, actor=coordinator, now=NOW)
    session.expire_all()

    waiting = queries.list_allocations_needing_review(session)

    assert [allocation.id for allocation in waiting] == [early_allocation.id, late_allocation.id]
    assert waiting[0].case.reference and waiting[0].user.name  # loaded with the list
    assert [a.id for a in queries.list_allocations_needing_review(session, limit=1)] == [early_allocation.id]
    assert isinstance(waiting[0], Allocation)
