"""Demo allocation data on a plain Session, loaded after the vetting and training demos: every
waiting case has needs, the first has suggested facilitators and pairs, one facilitator is away, one
paused, one has declared a conflict with the first case, one offer is live, and loading twice adds
nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.allocation import queries, ranking
from portal.allocation.demo import load_demo_allocation
from portal.allocation.models import LIVE_OFFER_STATUSES, AllocationOffer, CaseNeeds
from portal.cases.models import CaseStatus
from portal.core.accounts import Role
from portal.training.demo import load_demo_training
from portal.volunteers.profiles.models import ConflictOfInterest, Volunteer, VolunteerAbsence
from portal.volunteers.vetting.demo import load_demo_vetting
from tests.allocation.builders import NOW, TODAY
from tests.builders import make_user
from tests.cases.builders import make_case


def _demo_world(session: Session):
    coordinator = make_user(session, roles=(Role.COORDINATOR, Role.TRAINER), email="coordinator@example.org",
                            name="Siobhán O'Neill")
    facilitators = [make_user(session, email="volunteer@example.org", name="Zoë Ní Bhriain")] + [
        make_user(session, email=f"volunteer{number:02d}@example.org") for number in range(1, 7)
    ]
    trainees = [make_user(session, email=f"trainee{number:02d}@example.org") for number in range(1, 13)]
    load_demo_vetting(session, now=NOW, coordinator=coordinator, facilitators=facilitators)
    load_demo_training(session, coordinator=coordinator, trainers=[coordinator], volunteers=trainees, now=NOW)
    return [make_case(session, status=CaseStatus.AWAITING_ALLOCATION, district=district)
            for district in ("Chelmsford", "Braintree", "Colchester", "Harlow")]


def test_demo_allocation_makes_the_suggestions_meaningful(session: Session):
    cases = _demo_world(session)

    loaded = load_demo_allocation(session, now=NOW)
    session.commit()

    waiting = queries.list_waiting_cases(session)
    assert {case.id for case in loaded} == {case.id for case in cases}
    assert len(waiting) == len(cases) - 1  # one case is offered
    assert all(queries.find_case_needs(session, case.id) is not None for case in cases)
    first = ranking.rank_candidates(session, waiting[0], today=TODAY)
    assert len(first.candidates) >= 3 and first.pairs
    assert len({candidate.experience for candidate in first.candidates}) > 1
    assert session.scalar(select(func.count(AllocationOffer.id))
                          .where(AllocationOffer.status.in_(LIVE_OFFER_STATUSES))) == 1
    assert session.scalar(select(func.count(VolunteerAbsence.id))) == 1
    assert session.scalar(select(func.count(Volunteer.id)).where(Volunteer.paused_until > TODAY)) == 1
    conflict = session.scalar(select(ConflictOfInterest))
    assert conflict is not None and conflict.name in {party.name for party in waiting[0].parties}
    explained = ranking.explain(session, waiting[0], conflict.volunteer.user_id, today=TODAY)
    assert [reason.rule for reason in explained.assessment.reasons] == ["conflict"]
    masks = {volunteer.availability_mask for volunteer in session.scalars(select(Volunteer))}
    assert len(masks) >= 4

    needs_before = session.scalar(select(func.count()).select_from(CaseNeeds))
    assert load_demo_allocation(session, now=NOW) == []
    assert session.scalar(select(func.count()).select_from(CaseNeeds)) == needs_before
