"""Builders for case test data: plain functions that flush (never commit) and have valid defaults.

`make_case(status=...)` puts a case straight into a status without its guards, so a test can start
from any point of the state machine; everything else goes through the services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from portal.cases import services
from portal.cases.models import (
    ActionStatus,
    AgreementAction,
    Allocation,
    AllocationParty,
    AllocationRole,
    Case,
    CaseStatus,
    ClosureReason,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    InterventionType,
    JusticeStage,
    OffenceCategory,
    OutcomeAgreement,
    Party,
    PartyRole,
    ReferralSource,
    RiskAssessment,
    RiskRating,
    RiskStage,
)
from portal.core.accounts import Role, User
from tests.builders import FIXED_NOW, make_user

NOW = FIXED_NOW  # Monday 23 November 2026, 10:00 UTC
TODAY = NOW.date()
RECEIVED_ON = dt.date(2026, 11, 16)  # the Monday before


def make_coordinator(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.COORDINATOR,), **overrides)


def make_facilitator(session: Session, **overrides) -> User:
    return make_user(session, roles=(Role.VOLUNTEER,), **overrides)


def referral_details(**overrides) -> services.ReferralDetails:
    values = {
        "source": ReferralSource.POLICE,
        "referrer_organisation": "Kent Police",
        "referrer_name": "PC Ruth Adeyemi",
        "referrer_email": "ruth.adeyemi@police.example",
        "received_on": RECEIVED_ON,
        "offence_category": OffenceCategory.BURGLARY,
        "justice_stage": JusticeStage.COMMUNITY_SENTENCE,
        "district": "Canterbury",
        "summary": "Burglary of a garden shed; tools taken.",
        **overrides,
    }
    return services.ReferralDetails(**values)


def default_parties() -> list[services.PartyDetails]:
    return [
        services.PartyDetails(
            role=PartyRole.HARMED_PERSON, name="Aoife O'Connor", phone="07700 900001",
            email="aoife@example.org", address="1 Orchard Row, Canterbury CT1 1AA",
            safe_contact_notes="Mobile only, after 5pm",
        ),
        services.PartyDetails(
            role=PartyRole.PERSON_RESPONSIBLE, name="Jamie Ní Bhriain-Smith", phone="07700 900002",
            address="22 Mill Lane, Whitstable CT5 2BB", safe_contact_notes="Via probation officer",
        ),
    ]


def make_case(
    session: Session,
    *,
    status: CaseStatus = CaseStatus.REFERRAL_RECEIVED,
    parties: Sequence[services.PartyDetails] | None = None,
    actor: User | None = None,
    now: dt.datetime = NOW,
    held_from: CaseStatus = CaseStatus.TRIAGE,
    closure_reason: ClosureReason = ClosureReason.INELIGIBLE,
    **overrides,
) -> Case:
    """A recorded referral (harmed person and person responsible), put straight into `status`."""
    case = services.record_referral(
        session, referral_details(**overrides), default_parties() if parties is None else parties,
        actor=actor, now=now,
    )
    if status is CaseStatus.ON_HOLD:
        case.status_before_hold = held_from
        case.hold_reason = "Awaiting sentence"
    if status is CaseStatus.CLOSED:
        case.closure_reason = closure_reason
        case.closed_on = now.date()
    case.status = status
    session.flush()
    return case


def party(case: Case, role: PartyRole) -> Party:
    return next(item for item in case.parties if item.role is role)


def harmed(case: Case) -> Party:
    return party(case, PartyRole.HARMED_PERSON)


def responsible(case: Case) -> Party:
    return party(case, PartyRole.PERSON_RESPONSIBLE)


def make_consent(
    session: Session,
    who: Party,
    *,
    purpose: ConsentPurpose = ConsentPurpose.PARTICIPATION,
    method: ConsentMethod = ConsentMethod.WRITTEN,
    intervention_type: InterventionType | None = None,
    given_on: dt.date = RECEIVED_ON,
    withdrawn_on: dt.date | None = None,
) -> Consent:
    consent = Consent(
        case_id=who.case_id, party=who, purpose=purpose, method=method,
        intervention_type=intervention_type, given_on=given_on, withdrawn_on=withdrawn_on,
        created_at=NOW,
    )
    session.add(consent)
    if purpose is ConsentPurpose.PARTICIPATION:
        who.case.note_participation_consent(who.role, given_on)
    session.flush()
    return consent


def make_risk_assessment(
    session: Session,
    case: Case,
    *,
    stage: RiskStage = RiskStage.INITIAL,
    proceed: bool = True,
    rating: RiskRating = RiskRating.LOW,
    assessed_on: dt.date = RECEIVED_ON,
    mitigations: str | None = "Meet in a neutral venue; two facilitators",
    police_intelligence: str | None = None,
) -> RiskAssessment:
    assessment = RiskAssessment(
        case_id=case.id, stage=stage, factors="Acknowledges harm; no contact order ended",
        rating=rating, mitigations=mitigations, police_intelligence=police_intelligence,
        proceed=proceed, assessed_on=assessed_on, created_at=NOW,
    )
    session.add(assessment)
    session.flush()
    return assessment


def make_allocation(
    session: Session,
    case: Case,
    user: User | None = None,
    *,
    role: AllocationRole = AllocationRole.LEAD,
    parties: Sequence[Party] = (),
    starts_on: dt.date = RECEIVED_ON,
    ends_on: dt.date | None = None,
) -> Allocation:
    """An allocation written directly (no signal, no status change), for setting up a test."""
    allocation = Allocation(
        case=case, user_id=(user or make_facilitator(session)).id, role=role, starts_on=starts_on,
        ends_on=ends_on, ended_reason="ended in a test" if ends_on else None, created_at=NOW,
    )
    allocation.party_links = [AllocationParty(party_id=item.id) for item in parties]
    session.add(allocation)
    session.flush()
    return allocation


def make_agreement(
    session: Session,
    case: Case,
    *,
    actions: Sequence[ActionStatus] = (ActionStatus.OPEN,),
    agreed_on: dt.date = TODAY,
) -> OutcomeAgreement:
    """An outcome agreement with one action per status given."""
    agreement = OutcomeAgreement(case=case, agreed_on=agreed_on, created_at=NOW)
    agreement.actions = [
        AgreementAction(
            owner="Jamie Ní Bhriain-Smith", description=f"Action {number}",
            due_on=agreed_on + dt.timedelta(days=28), status=status,
            status_changed_on=None if status is ActionStatus.OPEN else agreed_on,
        )
        for number, status in enumerate(actions, start=1)
    ]
    session.add(agreement)
    session.flush()
    return agreement
