"""Offers racing on PostgreSQL: two coordinators confirm proposal items sharing a volunteer with one
place left at the same moment; two coordinators offer one case's lead; both facilitators accept at
once (row locks on the case and on the volunteer)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.allocation import services
from portal.allocation.errors import OfferRefused
from portal.allocation.models import (
    AllocationOffer,
    AllocationProposal,
    OfferStatus,
    ProposalItem,
    ProposalItemStatus,
)
from portal.cases.models import Allocation, AllocationRole, Case, CaseStatus
from portal.core.accounts import User
from tests.allocation.builders import NOW, make_coordinator, make_facilitator, make_waiting_case
from tests.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock"),
]

LEAD, CO = AllocationRole.LEAD, AllocationRole.CO_FACILITATOR
LATER = NOW + dt.timedelta(hours=1)


def race(engine, first: Callable[[Session], object], second: Callable[[Session], object]) -> dict[str, object]:
    """Run `first` in one transaction and, while it holds its locks, `second` in another thread."""
    result: dict[str, object] = {}

    def in_another_transaction():
        with Session(engine) as other:
            try:
                second(other)
                other.commit()
                result["outcome"] = "done"
            except OfferRefused as refused:
                result["outcome"] = refused.reasons

    with Session(engine) as one:
        first(one)
        racer = threading.Thread(target=in_another_transaction)
        racer.start()
        racer.join(timeout=1)
        result["waited"] = racer.is_alive()  # blocked on this transaction's row lock
        one.commit()
    racer.join(timeout=30)
    assert not racer.is_alive()
    return result


def test_two_confirmations_sharing_a_volunteer_with_one_place_left_give_it_once(engine):
    with Session(engine) as setup:
        first_coordinator, second_coordinator = make_coordinator(setup), make_coordinator(setup)
        shared = make_facilitator(setup, name="Sam Shared", max_cases=2)
        partners = [make_facilitator(setup), make_facilitator(setup)]
        held = make_waiting_case(setup)  # Sam already holds one case through a live offer
        services.offer_case(setup, held.id, [(shared.user_id, LEAD)], actor=first_coordinator, now=NOW)
        proposal = AllocationProposal(created_at=NOW)
        cases = [make_waiting_case(setup), make_waiting_case(setup)]
        proposal.items = [ProposalItem(case_id=case.id, lead_user_id=shared.user_id, co_user_id=partner.user_id,
                                       score=140.0) for case, partner in zip(cases, partners, strict=True)]
        setup.add(proposal)
        setup.commit()
        first_item, second_item = (item.id for item in proposal.items)
        first_id, second_id, shared_id = first_coordinator.id, second_coordinator.id, shared.user_id

    result = race(
        engine,
        lambda s: services.confirm_proposal_item(s, first_item, actor=s.get(User, first_id), now=LATER),
        lambda s: services.confirm_proposal_item(s, second_item, actor=s.get(User, second_id), now=LATER),
    )

    assert result["waited"]
    assert result["outcome"] == ["Sam Shared: holds 2 of 2 cases"]
    with Session(engine) as check:
        live = check.scalars(select(AllocationOffer.case_id).where(
            AllocationOffer.user_id == shared_id, AllocationOffer.status.in_(["offered", "accepted"]))).all()
        statuses = check.scalars(select(ProposalItem.status).order_by(ProposalItem.id)).all()
    assert len(live) == 2
    assert statuses == [ProposalItemStatus.CONFIRMED, ProposalItemStatus.PROPOSED]


def test_two_coordinators_offering_one_case_to_different_leads_at_once_make_one_offer(engine):
    with Session(engine) as setup:
        first_coordinator, second_coordinator = make_coordinator(setup), make_coordinator(setup)
        case = make_waiting_case(setup)
        first_volunteer = make_facilitator(setup, name="Ada First")
        second_volunteer = make_facilitator(setup)
        setup.commit()
        case_id, first_id, second_id = case.id, first_coordinator.id, second_coordinator.id
        first_volunteer_id, second_volunteer_id = first_volunteer.user_id, second_volunteer.user_id

    result = race(
        engine,
        lambda s: services.offer_case(s, case_id, [(first_volunteer_id, LEAD)], actor=s.get(User, first_id),
                                      now=NOW),
        lambda s: services.offer_case(s, case_id, [(second_volunteer_id, LEAD)], actor=s.get(User, second_id),
                                      now=NOW),
    )

    assert result["waited"]
    with Session(engine) as check:
        reference = check.get(Case, case_id).reference
        offers = check.scalars(select(AllocationOffer.user_id).where(AllocationOffer.case_id == case_id)).all()
    assert result["outcome"] == [f"{reference} is already offered to Ada First as lead facilitator"]
    assert offers == [first_volunteer_id]


def test_both_facilitators_accepting_at_the_same_moment_allocate_the_case_once(engine):
    with Session(engine) as setup:
        coordinator = make_coordinator(setup)
        case = make_waiting_case(setup)
        lead, co = make_facilitator(setup), make_facilitator(setup)
        offers = services.offer_case(setup, case.id, [(lead.user_id, LEAD), (co.user_id, CO)], actor=coordinator,
                                     now=NOW)
        setup.commit()
        case_id, lead_offer, co_offer = case.id, offers[0].id, offers[1].id
        lead_id, co_id = lead.user_id, co.user_id

    result = race(
        engine,
        lambda s: services.accept_offer(s, lead_offer, actor=s.get(User, lead_id), now=LATER),
        lambda s: services.accept_offer(s, co_offer, actor=s.get(User, co_id), now=LATER),
    )

    assert result == {"waited": True, "outcome": "done"}
    with Session(engine) as check:
        allocations = check.execute(select(Allocation.user_id, Allocation.role).where(Allocation.case_id == case_id)
                                    .order_by(Allocation.id)).all()
        statuses = check.scalars(select(AllocationOffer.status).order_by(AllocationOffer.id)).all()
        status = check.get(Case, case_id).status
    assert [tuple(row) for row in allocations] == [(lead_id, LEAD), (co_id, CO)]
    assert statuses == [OfferStatus.ALLOCATED, OfferStatus.ALLOCATED]
    assert status is CaseStatus.ALLOCATED
