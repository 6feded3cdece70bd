"""Offers of a case to facilitators: refused with every reason, e-mailed without names, accepted by both
into an allocation, declined, withdrawn, lapsed before the job ran; bulk proposal items; the settings."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.allocation import permissions, scoring, services
from portal.allocation.errors import AllocationInputInvalid, OfferRefused
from portal.allocation.models import (
    AllocationOffer,
    AllocationProposal,
    OfferStatus,
    ProposalItem,
    ProposalItemStatus,
)
from portal.cases.models import Allocation, AllocationRole, CaseStatus
from portal.cases.services import allocate_case
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.outbox import OutboxMessage
from tests.allocation.builders import (
    NOW,
    START,
    make_coordinator,
    make_facilitator,
    make_waiting_case,
    set_needs,
)
from tests.builders import make_user

LEAD, CO = AllocationRole.LEAD, AllocationRole.CO_FACILITATOR
LATER = NOW + dt.timedelta(hours=1)


def mail(session, template: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                                .order_by(OutboxMessage.id)))


def actions(session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("allocation.%"))
                                .order_by(AuditEntry.id)))


def offered_pair(session, **case_overrides):
    coordinator = make_coordinator(session, name="Grace Coordinator")
    case = make_waiting_case(session, **case_overrides)
    lead = make_facilitator(session, name="Priya Lead")
    co = make_facilitator(session, name="Tom Co")
    offers = services.offer_case(session, case.id, [(lead.user_id, LEAD), (co.user_id, CO)], actor=coordinator,
                                 now=NOW, site_url="https://portal.example/")
    return coordinator, case, lead, co, offers


# ---------------------------------------------------------------------------------------------
# Offering


def test_offering_a_pair_creates_live_offers_due_in_72_hours_and_audits_them(session):
    coordinator, case, lead, co, offers = offered_pair(session)

    assert [(offer.user_id, offer.role, offer.status) for offer in offers] == [
        (lead.user_id, LEAD, OfferStatus.OFFERED), (co.user_id, CO, OfferStatus.OFFERED)]
    assert all(offer.respond_by == NOW + dt.timedelta(hours=72) for offer in offers)
    assert all(offer.offered_by_id == coordinator.id and offer.case_id == case.id for offer in offers)
    assert actions(session) == ["allocation.offered", "allocation.offered"]


def test_each_facilitator_is_emailed_what_they_need_to_decide_and_no_names(session):
    _coordinator, case, lead, _co, offers = offered_pair(session)

    messages = mail(session, "allocation/offer_made")
    assert [message.recipients for message in messages] == [[offers[0].user.email], [offers[1].user.email]]
    first = messages[0]
    assert first.subject == "Case offer: Canterbury, as lead facilitator — please reply by 26 November 2026 at 10:00"
    for expected in ("District: Canterbury", "Expected to start: November 2026, for about 7 weeks",
                     "Expected hours: 20", "Type of offence: burglary", "Your role: lead facilitator",
                     "by 26 November 2026 at 10:00", f"https://portal.example/allocation/offers/{offers[0].id}"):
        assert expected in first.text_body
    assert f'href="https://portal.example/allocation/offers/{offers[0].id}"' in first.html_body
    for secret in [party.name for party in case.parties] + [case.summary, case.reference, "Orchard Row"]:
        assert secret not in first.text_body and secret not in first.html_body
    assert "co-facilitator" in messages[1].subject


def test_the_time_to_answer_follows_the_admin_setting(session):
    admin = make_user(session, roles=(Role.ADMIN,))
    services.set_weights(session, scoring.DEFAULT_WEIGHTS, 48, actor=admin, now=NOW)

    _coordinator, _case, _lead, _co, offers = offered_pair(session)

    assert {offer.respond_by for offer in offers} == {NOW + dt.timedelta(hours=48)}


def test_a_double_click_returns_the_same_offers_and_sends_nothing_twice(session):
    coordinator, case, lead, co, offers = offered_pair(session)

    again = services.offer_case(session, case.id, [(lead.user_id, LEAD), (co.user_id, CO)], actor=coordinator,
                                now=LATER)

    assert [offer.id for offer in again] == [offer.id for offer in offers]
    assert session.scalars(select(AllocationOffer)).all() == offers
    assert len(mail(session, "allocation/offer_made")) == 2


def test_an_ineligible_facilitator_is_refused_with_every_reason_and_their_name(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session)
    untrained = make_facilitator(session, name="Una Trained", trained=False, max_cases=1)
    busy_case = make_waiting_case(session)
    # A live offer of another case holds their one place (an untrained person cannot be allocated).
    session.add(AllocationOffer(case_id=busy_case.id, user_id=untrained.user_id, role=LEAD,
                                respond_by=NOW + dt.timedelta(days=1), offered_at=NOW))
    fine = make_facilitator(session, name="Fiona Fine")
    session.flush()

    with pytest.raises(OfferRefused) as refused:
        services.offer_case(session, case.id, [(fine.user_id, LEAD), (untrained.user_id, CO)], actor=coordinator,
                            now=NOW)

    assert refused.value.reasons == ["Una Trained: has not completed the facilitator course",
                                     "Una Trained: holds 1 of 1 cases"]
    assert session.scalars(select(AllocationOffer).where(AllocationOffer.case_id == case.id)).all() == []
    assert mail(session, "allocation/offer_made") == []


def test_a_person_with_no_volunteer_record_is_refused(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session)
    staff = make_user(session, roles=(Role.COORDINATOR,), name="Sid Staff")

    with pytest.raises(OfferRefused) as refused:
        services.offer_case(session, case.id, [(staff.id, LEAD)], actor=coordinator, now=NOW)

    assert refused.value.reasons == ["Sid Staff: has no volunteer record"]


def test_the_shape_of_an_offer_is_checked_before_anyone_is_assessed(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session, needs={"facilitators_needed": 1})
    one, two = make_facilitator(session), make_facilitator(session)

    with pytest.raises(OfferRefused) as refused:
        services.offer_case(session, case.id, [(one.user_id, LEAD), (two.user_id, LEAD)], actor=coordinator,
                            now=NOW)

    assert refused.value.reasons == [
        "Choose one lead facilitator at most",
        f"{case.reference} needs 1 facilitator and already has 0 allocated or offered",
    ]
    with pytest.raises(OfferRefused, match="Choose at least one facilitator"):
        services.offer_case(session, case.id, [], actor=coordinator, now=NOW)
    with pytest.raises(OfferRefused, match="Choose each facilitator once"):
        services.offer_case(session, case.id, [(one.user_id, LEAD), (one.user_id, CO)], actor=coordinator, now=NOW)


def test_a_second_lead_or_the_same_person_in_another_role_is_refused(session):
    coordinator, case, lead, _co, _offers = offered_pair(session)
    other = make_facilitator(session, name="Olu Other")
    set_needs(session, case, facilitators_needed=2)

    with pytest.raises(OfferRefused) as refused:
        services.offer_case(session, case.id, [(other.user_id, LEAD)], actor=coordinator, now=LATER)
    assert f"{case.reference} is already offered to Priya Lead as lead facilitator" in refused.value.reasons

    with pytest.raises(OfferRefused) as refused:
        services.offer_case(session, case.id, [(lead.user_id, CO)], actor=coordinator, now=LATER)
    assert refused.value.reasons[0] == f"Priya Lead: already has a live offer of {case.reference} as lead facilitator"


def test_a_case_not_awaiting_allocation_is_not_offered(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session)
    case.status = CaseStatus.ASSESSMENT
    volunteer = make_facilitator(session)

    with pytest.raises(OfferRefused) as refused:
        services.offer_case(session, case.id, [(volunteer.user_id, LEAD)], actor=coordinator, now=NOW)

    assert refused.value.reasons == [
        f"{case.reference} is in assessment: a case is offered once it is awaiting allocation"]


def test_an_allocated_case_short_of_a_co_facilitator_is_offered_for_that_place_only(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session)
    lead = make_facilitator(session, name="Priya Lead")
    allocate_case(session, case.id, lead.user_id, LEAD, actor=coordinator, now=NOW)
    assert case.status is CaseStatus.ALLOCATED
    co, third = make_facilitator(session), make_facilitator(session)

    [offer] = services.offer_case(session, case.id, [(co.user_id, CO)], actor=coordinator, now=NOW)

    assert offer.role is CO
    with pytest.raises(OfferRefused) as refused:
        services.offer_case(session, case.id, [(third.user_id, CO)], actor=coordinator, now=NOW)
    assert refused.value.reasons == [f"{case.reference} needs 2 facilitators and already has 2 allocated or offered"]
    with pytest.raises(OfferRefused, match="already allocated"):
        services.offer_case(session, case.id, [(lead.user_id, CO)], actor=coordinator, now=NOW)


def test_only_coordinators_offer_cases(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session)

    with pytest.raises(PermissionDenied):
        services.offer_case(session, case.id, [(volunteer.user_id, LEAD)], actor=volunteer.user, now=NOW)
    with pytest.raises(NotFound):
        services.offer_case(session, case.id + 999, [(volunteer.user_id, LEAD)], actor=make_coordinator(session),
                            now=NOW)


# ---------------------------------------------------------------------------------------------
# Accepting


def test_both_accepting_allocates_the_case_lead_first_with_every_party_and_tells_the_coordinator(session):
    coordinator, case, lead, co, offers = offered_pair(session)

    services.accept_offer(session, offers[1].id, actor=co.user, now=LATER)
    assert case.status is CaseStatus.AWAITING_ALLOCATION  # the lead has not answered yet
    assert session.scalars(select(Allocation)).all() == []
    services.accept_offer(session, offers[0].id, actor=lead.user, now=LATER)

    allocations = session.scalars(select(Allocation).order_by(Allocation.id)).all()
    assert [(a.user_id, a.role) for a in allocations] == [(lead.user_id, LEAD), (co.user_id, CO)]
    assert all(a.party_ids == {party.id for party in case.parties} for a in allocations)
    assert case.status is CaseStatus.ALLOCATED
    assert [(offer.status, offer.allocation_id) for offer in offers] == [
        (OfferStatus.ALLOCATED, allocations[0].id), (OfferStatus.ALLOCATED, allocations[1].id)]
    assert offers[0].responded_at == LATER
    [told] = mail(session, "allocation/case_allocated")
    assert told.recipients == [coordinator.email]
    assert "Priya Lead (lead facilitator)" in told.text_body and "Tom Co (co-facilitator)" in told.text_body
    assert actions(session) == ["allocation.offered", "allocation.offered", "allocation.offer_accepted",
                                "allocation.offer_accepted", "allocation.case_allocated"]


def test_a_single_facilitator_case_is_allocated_on_acceptance(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session, needs={"facilitators_needed": 1})
    volunteer = make_facilitator(session)
    [offer] = services.offer_case(session, case.id, [(volunteer.user_id, LEAD)], actor=coordinator, now=NOW)

    services.accept_offer(session, offer.id, actor=volunteer.user, now=LATER)

    assert offer.status is OfferStatus.ALLOCATED
    assert case.status is CaseStatus.ALLOCATED


def test_an_acceptance_no_longer_waits_for_an_offer_past_its_time(session):
    _coordinator, case, lead, _co, offers = offered_pair(session)
    offers[1].respond_by = NOW + dt.timedelta(hours=2)  # the co-facilitator's offer ran out first

    services.accept_offer(session, offers[0].id, actor=lead.user, now=NOW + dt.timedelta(hours=3))

    assert offers[0].status is OfferStatus.ALLOCATED
    assert case.status is CaseStatus.ALLOCATED


def test_someone_else_cannot_accept_or_decline_an_offer(session):
    _coordinator, _case, lead, co, offers = offered_pair(session)

    with pytest.raises(NotFound):
        services.accept_offer(session, offers[0].id, actor=co.user, now=LATER)
    with pytest.raises(NotFound):
        services.decline_offer(session, offers[0].id, None, actor=co.user, now=LATER)
    with pytest.raises(NotFound):
        services.accept_offer(session, offers[0].id + 999, actor=lead.user, now=LATER)
    assert offers[0].status is OfferStatus.OFFERED


def test_an_offer_past_its_time_has_lapsed_even_before_the_job_runs(session):
    _coordinator, _case, lead, _co, offers = offered_pair(session)

    services.accept_offer(session, offers[0].id, actor=lead.user, now=offers[0].respond_by)  # on the minute: fine
    with pytest.raises(RuleViolation, match="^This offer lapsed on 26 November 2026 at 10:00$"):
        services.decline_offer(session, offers[1].id, None, actor=offers[1].user,
                               now=offers[1].respond_by + dt.timedelta(seconds=1))
    assert offers[1].status is OfferStatus.OFFERED


def test_withdrawn_declined_and_accepted_offers_cannot_be_answered_again(session):
    coordinator, _case, lead, co, offers = offered_pair(session)
    services.withdraw_offer(session, offers[0].id, "The harmed person asked for a woman facilitator",
                            actor=coordinator, now=LATER)
    services.decline_offer(session, offers[1].id, None, actor=co.user, now=LATER)

    with pytest.raises(RuleViolation, match="^This offer was withdrawn: The harmed person asked for a woman"):
        services.accept_offer(session, offers[0].id, actor=lead.user, now=LATER)
    with pytest.raises(RuleViolation, match="^You declined this offer on 23 November 2026 at 11:00$"):
        services.accept_offer(session, offers[1].id, actor=co.user, now=LATER)


def test_accepting_twice_says_it_was_accepted(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session, needs={"facilitators_needed": 1})
    volunteer = make_facilitator(session)
    [offer] = services.offer_case(session, case.id, [(volunteer.user_id, LEAD)], actor=coordinator, now=NOW)
    services.accept_offer(session, offer.id, actor=volunteer.user, now=LATER)

    with pytest.raises(RuleViolation, match="^You accepted this offer on 23 November 2026 at 11:00$"):
        services.accept_offer(session, offer.id, actor=volunteer.user, now=LATER)


def test_acceptance_checks_eligibility_again(session):
    _coordinator, _case, lead, _co, offers = offered_pair(session)
    lead.paused_until = START + dt.timedelta(weeks=5)  # paused since the offer, for most of the case

    with pytest.raises(OfferRefused) as refused:
        services.accept_offer(session, offers[0].id, actor=lead.user, now=LATER)

    assert refused.value.reasons == ["Priya Lead: paused until 4 January 2027"]


# ---------------------------------------------------------------------------------------------
# Declining and withdrawing


def test_declining_with_a_reason_tells_the_coordinator(session):
    coordinator, case, _lead, co, offers = offered_pair(session)

    services.decline_offer(session, offers[1].id, "  Away that month  ", actor=co.user, now=LATER)

    assert (offers[1].status, offers[1].decline_reason, offers[1].responded_at) == (
        OfferStatus.DECLINED, "Away that month", LATER)
    [told] = mail(session, "allocation/offer_declined")
    assert told.recipients == [coordinator.email]
    assert told.subject == f"Tom Co declined {case.reference}"
    assert "Their reason: Away that month" in told.text_body
    assert actions(session)[-1] == "allocation.offer_declined"


def test_a_decline_reason_is_optional_and_at_most_500_characters(session):
    _coordinator, _case, lead, co, offers = offered_pair(session)

    with pytest.raises(AllocationInputInvalid) as refused:
        services.decline_offer(session, offers[0].id, "x" * 501, actor=lead.user, now=LATER)
    assert refused.value.errors == {"reason": ["The reason must be 500 characters or fewer (you have entered 501)"]}
    services.decline_offer(session, offers[0].id, "x" * 500, actor=lead.user, now=LATER)
    services.decline_offer(session, offers[1].id, "", actor=co.user, now=LATER)
    assert offers[1].decline_reason is None
    assert "Their reason" not in mail(session, "allocation/offer_declined")[1].text_body


def test_a_lead_who_accepted_keeps_their_place_when_the_co_facilitator_declines(session):
    coordinator, case, lead, co, offers = offered_pair(session)
    services.accept_offer(session, offers[0].id, actor=lead.user, now=LATER)
    services.decline_offer(session, offers[1].id, None, actor=co.user, now=LATER)
    replacement = make_facilitator(session, name="Rae Replacement")

    [offer] = services.offer_case(session, case.id, [(replacement.user_id, CO)], actor=coordinator, now=LATER)
    services.accept_offer(session, offer.id, actor=replacement.user, now=LATER)

    assert offers[0].status is OfferStatus.ALLOCATED
    assert {a.user_id for a in case.current_allocations} == {lead.user_id, replacement.user_id}


def test_withdrawing_tells_the_volunteer_without_names(session):
    coordinator, case, lead, _co, offers = offered_pair(session)
    services.accept_offer(session, offers[0].id, actor=lead.user, now=LATER)

    services.withdraw_offer(session, offers[0].id, "Case put on hold", actor=coordinator, now=LATER)

    assert (offers[0].status, offers[0].ended_reason) == (OfferStatus.WITHDRAWN, "Case put on hold")
    [told] = mail(session, "allocation/offer_withdrawn")
    assert told.recipients == [lead.user.email]
    assert "has been withdrawn: Case put on hold" in told.text_body
    assert case.reference not in told.text_body
    assert actions(session)[-1] == "allocation.offer_withdrawn"


def test_only_coordinators_withdraw_and_only_live_offers(session):
    coordinator, _case, lead, co, offers = offered_pair(session)

    with pytest.raises(PermissionDenied):
        services.withdraw_offer(session, offers[0].id, None, actor=lead.user, now=LATER)
    services.decline_offer(session, offers[1].id, None, actor=co.user, now=LATER)
    with pytest.raises(RuleViolation, match="already ended: it was declined"):
        services.withdraw_offer(session, offers[1].id, None, actor=coordinator, now=LATER)


# ---------------------------------------------------------------------------------------------
# Bulk proposal items


def proposal_item(session, case, lead, co=None) -> ProposalItem:
    proposal = AllocationProposal(created_at=NOW)
    item = ProposalItem(case_id=case.id, lead_user_id=lead.user_id, co_user_id=co.user_id if co else None,
                        score=150.0)
    proposal.items = [item]
    session.add(proposal)
    session.flush()
    return item


def test_confirming_an_item_offers_its_pair_once_however_often_it_is_confirmed(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session)
    lead, co = make_facilitator(session), make_facilitator(session)
    item = proposal_item(session, case, lead, co)

    offers = services.confirm_proposal_item(session, item.id, actor=coordinator, now=NOW)
    again = services.confirm_proposal_item(session, item.id, actor=coordinator, now=LATER)

    assert [(offer.user_id, offer.role, offer.proposal_item_id) for offer in offers] == [
        (lead.user_id, LEAD, item.id), (co.user_id, CO, item.id)]
    assert again == offers
    assert (item.status, item.decided_by_id, item.decided_at) == (ProposalItemStatus.CONFIRMED, coordinator.id, NOW)
    assert len(mail(session, "allocation/offer_made")) == 2
    assert actions(session).count("allocation.proposal_item_confirmed") == 1


def test_an_item_whose_volunteer_became_ineligible_is_refused_and_stays_proposed(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session, needs={"facilitators_needed": 1})
    lead = make_facilitator(session, name="Lola Left")
    item = proposal_item(session, case, lead)
    lead.status = lead.status.LEFT

    with pytest.raises(OfferRefused, match="Lola Left: left"):
        services.confirm_proposal_item(session, item.id, actor=coordinator, now=NOW)
    assert item.status is ProposalItemStatus.PROPOSED


def test_discarding_an_item_offers_nothing_and_a_discarded_item_cannot_be_confirmed(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session)
    lead, co = make_facilitator(session), make_facilitator(session)
    item = proposal_item(session, case, lead, co)

    services.discard_proposal_item(session, item.id, actor=coordinator, now=NOW)
    services.discard_proposal_item(session, item.id, actor=coordinator, now=NOW)

    assert item.status is ProposalItemStatus.DISCARDED
    assert actions(session) == ["allocation.proposal_item_discarded"]
    with pytest.raises(RuleViolation, match="was discarded"):
        services.confirm_proposal_item(session, item.id, actor=coordinator, now=NOW)
    assert session.scalars(select(AllocationOffer)).all() == []


def test_a_confirmed_item_cannot_be_discarded(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session)
    lead, co = make_facilitator(session), make_facilitator(session)
    item = proposal_item(session, case, lead, co)
    services.confirm_proposal_item(session, item.id, actor=coordinator, now=NOW)

    with pytest.raises(RuleViolation, match="already confirmed"):
        services.discard_proposal_item(session, item.id, actor=coordinator, now=NOW)
    with pytest.raises(PermissionDenied):
        services.confirm_proposal_item(session, item.id, actor=lead.user, now=NOW)


# ---------------------------------------------------------------------------------------------
# Settings


def test_an_admin_sets_the_weights_and_offer_hours_and_it_is_audited(session):
    admin = make_user(session, roles=(Role.ADMIN,))
    weights = {**scoring.DEFAULT_WEIGHTS, "availability": 50, "recent": 0}

    assert services.set_weights(session, weights, 96, actor=admin, now=NOW) == weights

    assert scoring.get_weights(session) == weights
    assert scoring.get_offer_hours(session) == 96
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "allocation.settings_changed"))
    assert entry.details["before"]["offer_hours"] == 72 and entry.details["after"]["weights"]["availability"] == 50


def test_weights_and_hours_out_of_range_are_named_against_their_fields(session):
    admin = make_user(session, roles=(Role.ADMIN,))

    with pytest.raises(AllocationInputInvalid) as refused:
        services.set_weights(session, {**scoring.DEFAULT_WEIGHTS, "district": 101, "caseload": -1, "speed": 5,
                                       "recent": None}, 337, actor=admin, now=NOW)
    assert refused.value.errors == {
        "speed": ["There is no part of the score called speed"],
        "district": ["The weight for works in the case's district must be between 0 and 100"],
        "caseload": ["The weight for spare capacity (spreads work fairly) must be between 0 and 100"],
        "recent": ["Enter a weight for few recent allocations"],
        "offer_hours": ["Facilitators must have between 1 and 336 hours to answer"],
    }
    with pytest.raises(AllocationInputInvalid) as refused:
        services.set_weights(session, dict.fromkeys(scoring.DEFAULT_WEIGHTS, 0), 0, actor=admin, now=NOW)
    assert refused.value.reasons == ["At least one weight must be more than 0",
                                     "Facilitators must have between 1 and 336 hours to answer"]
    assert scoring.get_offer_hours(session) == 72


def test_only_admins_change_the_settings(session):
    with pytest.raises(PermissionDenied):
        services.set_weights(session, scoring.DEFAULT_WEIGHTS, 72, actor=make_coordinator(session), now=NOW)


# ---------------------------------------------------------------------------------------------
# Permissions


def test_a_facilitator_sees_and_answers_only_their_own_waiting_offer(session):
    coordinator, _case, lead, co, offers = offered_pair(session)
    admin = make_user(session, roles=(Role.ADMIN,))

    assert permissions.can_view_offer(lead.user, offers[0]) and permissions.can_answer_offer(lead.user, offers[0])
    assert not permissions.can_view_offer(co.user, offers[0]) and not permissions.can_view_offer(coordinator, offers[0])
    assert permissions.can_withdraw_offer(coordinator, offers[0]) and not permissions.can_withdraw_offer(lead.user,
                                                                                                          offers[0])
    assert permissions.can_manage_allocation(coordinator) and not permissions.can_manage_allocation(lead.user)
    assert permissions.can_change_weights(admin) and not permissions.can_change_weights(coordinator)
    services.decline_offer(session, offers[1].id, None, actor=co.user, now=LATER)
    assert permissions.can_view_offer(co.user, offers[1]) and not permissions.can_answer_offer(co.user, offers[1])
    assert not permissions.can_withdraw_offer(coordinator, offers[1])
