"""Case services on a plain Session: intake, records, allocation, closure, audit and signals."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.cases import permissions, services, signals
from portal.cases.errors import AllocationBlocked
from portal.cases.models import (
    ActionStatus,
    AllocationRole,
    Case,
    CaseStatus,
    ClosureReason,
    ConsentMethod,
    ConsentPurpose,
    ContactMethod,
    ContactOutcome,
    InterventionType,
    NoteVisibility,
    PartyRole,
    ReferralSource,
    RiskRating,
    RiskStage,
    SensitiveKind,
    SessionType,
)
from portal.core import account_services
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from tests.builders import make_user
from tests.cases.builders import (
    NOW,
    TODAY,
    default_parties,
    harmed,
    make_allocation,
    make_case,
    make_consent,
    make_coordinator,
    make_facilitator,
    referral_details,
    responsible,
)
from tests.conftest import POSTGRES_URL

S = CaseStatus
TOMORROW = TODAY + dt.timedelta(days=1)


def audit_actions(session: Session, case: Case) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.subject_type == "cases", AuditEntry.subject_id == case.id)
            .order_by(AuditEntry.id)
        )
    )


# --- intake --------------------------------------------------------------------------------------


def test_importing_the_services_does_not_import_flask():
    code = "import sys, portal.cases.services, portal.cases.queries; sys.exit('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr or "importing portal.cases pulled in flask"


def test_a_referral_opens_a_case_with_a_readable_reference_numbered_per_year(session):
    coordinator = make_coordinator(session)
    first = make_case(session, actor=coordinator)
    second = make_case(session, actor=coordinator)
    next_year = make_case(session, actor=coordinator, now=dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC))

    assert (first.reference, second.reference, next_year.reference) == (
        "RJ-2026-00001", "RJ-2026-00002", "RJ-2027-00001",
    )
    assert first.status is S.REFERRAL_RECEIVED
    assert [party.role for party in first.parties] == [PartyRole.HARMED_PERSON, PartyRole.PERSON_RESPONSIBLE]
    assert audit_actions(session, first) == ["case.referral_recorded"]


def test_the_year_of_the_reference_is_the_london_date_of_recording(session):
    new_year_in_london = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)  # GMT: still 2026
    assert make_case(session, now=new_year_in_london).reference == "RJ-2026-00001"


@pytest.mark.parametrize(
    "received_on, enhanced, due_on",
    [
        (dt.date(2026, 11, 16), False, dt.date(2026, 11, 23)),  # Monday + 5 working days
        (dt.date(2026, 11, 16), True, dt.date(2026, 11, 17)),  # enhanced rights: 1 working day
        (dt.date(2026, 11, 20), True, dt.date(2026, 11, 23)),  # Friday: the weekend does not count
        (dt.date(2026, 12, 23), False, dt.date(2027, 1, 4)),  # Christmas, Boxing Day (Mon 28), New Year
    ],
)
def test_first_contact_is_due_by_the_victims_code_in_working_days(session, received_on, enhanced, due_on):
    case = make_case(session, received_on=received_on, victim_has_enhanced_rights=enhanced,
                     now=dt.datetime(2027, 1, 6, 9, tzinfo=dt.UTC))
    assert case.first_contact_due_on == due_on


def test_a_referral_received_in_the_future_is_refused_with_every_problem(session):
    with pytest.raises(ValidationFailed) as refused:
        services.record_referral(
            session,
            referral_details(received_on=TOMORROW, incident_on=TOMORROW + dt.timedelta(days=1),
                             referrer_organisation=" ", summary=""),
            [services.PartyDetails(role=PartyRole.SUPPORTER, name="Sam")],
            actor=None, now=NOW,
        )
    assert refused.value.reasons == [
        "The date the referral was received cannot be in the future",
        "The date of the incident cannot be in the future",
        "The incident cannot be after the referral was received",
        "Enter a summary of the referral",
        "Enter the referring organisation",
        "A referral needs at least one harmed person or person responsible",
    ]
    assert session.scalar(select(func.count(Case.id))) == 0


def test_a_self_referral_needs_no_referring_organisation(session):
    case = make_case(session, source=ReferralSource.SELF_REFERRAL, referrer_organisation=None)
    assert (case.source, case.referrer_organisation) == (ReferralSource.SELF_REFERRAL, None)


def test_naming_a_sensitive_kind_marks_the_case_sensitive(session):
    case = make_case(session, sensitive_kinds=frozenset({SensitiveKind.DOMESTIC_ABUSE, SensitiveKind.HATE_CRIME}))
    assert case.is_sensitive
    assert case.sensitive_kinds == {SensitiveKind.DOMESTIC_ABUSE, SensitiveKind.HATE_CRIME}

    with pytest.raises(ValidationFailed, match="must be marked sensitive"):
        make_case(session, sensitive_kinds=frozenset({SensitiveKind.SEXUAL_OFFENCE}), is_sensitive=False)


def test_updating_the_referral_recomputes_the_due_date_and_audits_the_changed_fields(session):
    coordinator = make_coordinator(session)
    case = make_case(session)
    services.update_referral(
        session, case.id, referral_details(victim_has_enhanced_rights=True,
                                           sensitive_kinds=frozenset({SensitiveKind.SERIOUS_VIOLENCE})),
        actor=coordinator, now=NOW,
    )
    assert case.first_contact_due_on == dt.date(2026, 11, 17)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "case.referral_updated"))
    assert set(entry.details["changed"]) == {
        "victim_has_enhanced_rights", "first_contact_due_on", "is_sensitive", "sensitive_kinds",
    }


def test_everything_a_service_writes_goes_with_the_callers_transaction(session):
    make_case(session)
    session.rollback()
    assert session.scalar(select(func.count(Case.id))) == 0
    assert session.scalar(select(func.count(AuditEntry.id))) == 0


def test_a_supporter_is_linked_to_a_principal_party_on_the_same_case(session):
    coordinator = make_coordinator(session)
    case = make_case(session)
    other = make_case(session)
    supporter = services.add_party(
        session, case.id,
        services.PartyDetails(role=PartyRole.PARENT_OR_GUARDIAN, name="Mairead O'Connor",
                              supports_party_id=harmed(case).id),
        actor=coordinator, now=NOW,
    )
    assert supporter.supports is harmed(case)
    assert supporter in case.parties

    with pytest.raises(ValidationFailed, match="linked to a harmed person or person responsible on this case"):
        services.add_party(
            session, case.id,
            services.PartyDetails(role=PartyRole.SUPPORTER, name="Stranger", supports_party_id=harmed(other).id),
            actor=coordinator, now=NOW,
        )


def test_party_changes_are_audited_by_field_name_without_the_values(session):
    coordinator = make_coordinator(session)
    case = make_case(session)
    person = harmed(case)
    services.update_party(
        session, person.id,
        services.PartyDetails(role=person.role, name=person.name, phone="07700 900999",
                              address="9 New Street, Canterbury CT1 9ZZ", email=person.email,
                              safe_contact_notes=person.safe_contact_notes),
        actor=coordinator, now=NOW,
    )
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "case.party_updated"))
    assert entry.details == {"party_id": person.id, "changed": ["phone", "address"]}
    assert person.address == "9 New Street, Canterbury CT1 9ZZ"


def test_only_a_coordinator_approves_a_home_visit(session):
    case = make_case(session)
    with pytest.raises(PermissionDenied):
        services.set_home_visit_approval(session, harmed(case).id, True, actor=make_facilitator(session), now=NOW)
    services.set_home_visit_approval(session, harmed(case).id, True, actor=make_coordinator(session), now=NOW)
    assert harmed(case).home_visit_approved


# --- contact attempts ----------------------------------------------------------------------------


def test_the_first_successful_contact_sets_the_first_contact_date(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.CONTACTING)

    def attempt(at, outcome):
        return services.record_contact_attempt(
            session, case.id, harmed(case).id, attempted_at=at, method=ContactMethod.PHONE,
            outcome=outcome, actor=coordinator, now=NOW,
        )

    attempt(dt.datetime(2026, 11, 17, 9, tzinfo=dt.UTC), ContactOutcome.NO_ANSWER)
    assert case.first_contact_on is None
    attempt(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), ContactOutcome.CONTACT_MADE)
    assert case.first_contact_on == dt.date(2026, 11, 20)
    attempt(dt.datetime(2026, 11, 18, 9, tzinfo=dt.UTC), ContactOutcome.CONTACT_MADE)  # logged late
    assert case.first_contact_on == dt.date(2026, 11, 18)
    assert case.first_contact_in_time is True
    assert audit_actions(session, case).count("case.contact_attempt_recorded") == 3


def test_a_contact_attempt_in_the_future_or_before_the_referral_is_refused(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.CONTACTING)
    for when, message in [
        (NOW + dt.timedelta(minutes=1), "A contact attempt cannot be in the future"),
        (dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC),
         "A contact attempt cannot be before the referral was received (16 November 2026)"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            services.record_contact_attempt(
                session, case.id, harmed(case).id, attempted_at=when, method=ContactMethod.EMAIL,
                outcome=ContactOutcome.CONTACT_MADE, actor=coordinator, now=NOW,
            )
        assert refused.value.reasons == [message]
        assert refused.value.field == "attempted_at"
    assert case.first_contact_on is None


def test_a_contact_attempt_with_a_party_of_another_case_is_not_found(session):
    case, other = make_case(session), make_case(session)
    with pytest.raises(NotFound):
        services.record_contact_attempt(
            session, case.id, harmed(other).id, attempted_at=NOW, method=ContactMethod.PHONE,
            outcome=ContactOutcome.CONTACT_MADE, actor=make_coordinator(session), now=NOW,
        )


def test_nothing_is_logged_on_a_closed_case(session):
    case = make_case(session, status=S.CLOSED)
    with pytest.raises(RuleViolation, match="is closed: logging a contact attempt is not possible"):
        services.record_contact_attempt(
            session, case.id, harmed(case).id, attempted_at=NOW, method=ContactMethod.PHONE,
            outcome=ContactOutcome.CONTACT_MADE, actor=make_coordinator(session), now=NOW,
        )


# --- consent ---------------------------------------------------------------------------------------


def test_consent_is_recorded_once_and_can_be_withdrawn_once(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.ASSESSMENT)
    consent = services.record_consent(
        session, harmed(case).id, purpose=ConsentPurpose.PARTICIPATION, given_on=TODAY,
        method=ConsentMethod.WRITTEN, intervention_type=InterventionType.LETTER, actor=coordinator, now=NOW,
    )
    with pytest.raises(RuleViolation, match="Aoife O'Connor has already given this consent"):
        services.record_consent(
            session, harmed(case).id, purpose=ConsentPurpose.PARTICIPATION, given_on=TODAY,
            method=ConsentMethod.WRITTEN, intervention_type=InterventionType.LETTER, actor=coordinator, now=NOW,
        )

    services.withdraw_consent(session, consent.id, withdrawn_on=TODAY, reason="Changed her mind",
                              actor=coordinator, now=NOW)
    assert (consent.withdrawn_on, consent.is_current) == (TODAY, False)
    with pytest.raises(RuleViolation, match="already withdrawn on 23 November 2026"):
        services.withdraw_consent(session, consent.id, withdrawn_on=TODAY, actor=coordinator, now=NOW)
    assert audit_actions(session, case) == [
        "case.referral_recorded", "case.consent_recorded", "case.consent_withdrawn",
    ]


def test_consent_dates_in_the_future_and_types_on_other_purposes_are_refused(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.ASSESSMENT)
    with pytest.raises(ValidationFailed) as refused:
        services.record_consent(
            session, harmed(case).id, purpose=ConsentPurpose.CONTACT, given_on=TOMORROW,
            method=ConsentMethod.VERBAL, intervention_type=InterventionType.SHUTTLE, actor=coordinator, now=NOW,
        )
    assert refused.value.reasons == [
        "The date consent was given cannot be in the future",
        "Only consent to take part can name an intervention type",
    ]

    consent = make_consent(session, harmed(case), given_on=TODAY)
    with pytest.raises(ValidationFailed) as refused:
        services.withdraw_consent(session, consent.id, withdrawn_on=TODAY - dt.timedelta(days=1),
                                  actor=coordinator, now=NOW)
    assert refused.value.reasons == ["Consent cannot be withdrawn before it was given"]
    with pytest.raises(ValidationFailed, match="withdrawn cannot be in the future"):
        services.withdraw_consent(session, consent.id, withdrawn_on=TOMORROW, actor=coordinator, now=NOW)


# --- risk, notes, sessions, agreements, feedback -------------------------------------------------


def test_a_risk_assessment_keeps_police_intelligence_out_of_the_audit_trail(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.ASSESSMENT)
    assessment = services.record_risk_assessment(
        session, case.id, stage=RiskStage.INITIAL, factors="Previous threats to the harmed person",
        rating=RiskRating.HIGH, proceed=False, assessed_on=TODAY,
        police_intelligence="Intelligence report 44/2026: associates", approved_by=coordinator,
        actor=coordinator, now=NOW,
    )
    assert (assessment.approved_by_id, assessment.assessed_by_id) == (coordinator.id, coordinator.id)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "case.risk_assessed"))
    assert "Intelligence" not in str(entry.details)
    assert entry.details["rating"] == "high"


def test_a_risk_assessment_is_approved_by_a_coordinator_only(session):
    facilitator = make_facilitator(session)
    case = make_case(session, status=S.ASSESSMENT)
    with pytest.raises(RuleViolation, match="only be approved by a coordinator"):
        services.record_risk_assessment(
            session, case.id, stage=RiskStage.INITIAL, factors="None known", rating=RiskRating.LOW,
            proceed=True, assessed_on=TODAY, approved_by=facilitator, actor=facilitator, now=NOW,
        )
    assessment = services.record_risk_assessment(
        session, case.id, stage=RiskStage.INITIAL, factors="None known", rating=RiskRating.LOW,
        proceed=True, assessed_on=TODAY, actor=facilitator, now=NOW,
    )
    with pytest.raises(PermissionDenied):
        services.approve_risk_assessment(session, assessment.id, actor=facilitator, now=NOW)
    coordinator = make_coordinator(session)
    services.approve_risk_assessment(session, assessment.id, actor=coordinator, now=NOW)
    assert assessment.approved_by_id == coordinator.id


def test_a_risk_assessment_dated_tomorrow_is_refused(session):
    case = make_case(session, status=S.ASSESSMENT)
    with pytest.raises(ValidationFailed, match="risk assessment cannot be in the future"):
        services.record_risk_assessment(
            session, case.id, stage=RiskStage.INITIAL, factors="x", rating=RiskRating.LOW, proceed=True,
            assessed_on=TOMORROW, actor=make_coordinator(session), now=NOW,
        )


def test_only_coordinators_write_coordinator_only_notes(session):
    case = make_case(session, status=S.PREPARATION)
    facilitator = make_facilitator(session)
    with pytest.raises(PermissionDenied):
        services.add_note(session, case.id, "Safeguarding referral made", visibility=NoteVisibility.COORDINATOR_ONLY,
                          actor=facilitator, now=NOW)
    note = services.add_note(session, case.id, "  Disclosed a new concern  ", visibility=NoteVisibility.RESTRICTED,
                             actor=facilitator, now=NOW)
    assert (note.text, note.visibility, note.author_id) == ("Disclosed a new concern", NoteVisibility.RESTRICTED,
                                                            facilitator.id)
    with pytest.raises(ValidationFailed, match="Enter the note"):
        services.add_note(session, case.id, "   ", actor=facilitator, now=NOW)


def test_sessions_are_logged_only_by_allocated_cases_and_conferences_only_in_intervention(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.ASSESSMENT)

    def log(session_type, held_on=TODAY, minutes=90):
        return services.record_session(
            session, case.id, session_type=session_type, held_on=held_on, duration_minutes=minutes,
            attendees="Aoife O'Connor; two facilitators", actor=coordinator, now=NOW,
        )

    with pytest.raises(RuleViolation, match="RJ-2026-00001 is in assessment"):
        log(SessionType.PREPARATION_MEETING)
    case.status = S.PREPARATION
    with pytest.raises(RuleViolation, match="A conference is logged once the case is in intervention"):
        log(SessionType.CONFERENCE)
    with pytest.raises(ValidationFailed) as refused:
        log(SessionType.PREPARATION_MEETING, held_on=TOMORROW, minutes=0)
    assert refused.value.reasons == [
        "The session date cannot be in the future", "The duration must be between 1 minute and 24 hours",
    ]
    assert log(SessionType.PREPARATION_MEETING).duration_minutes == 90


def test_the_intervention_type_is_fixed_once_the_intervention_starts(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.PREPARATION)
    services.choose_intervention_type(session, case.id, InterventionType.SHUTTLE, actor=coordinator, now=NOW)
    assert case.intervention_type is InterventionType.SHUTTLE
    case.status = S.INTERVENTION
    with pytest.raises(RuleViolation, match="cannot change once the intervention has started"):
        services.choose_intervention_type(session, case.id, InterventionType.LETTER, actor=coordinator, now=NOW)


def test_an_agreement_is_recorded_once_during_the_intervention_with_owned_dated_actions(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.INTERVENTION)
    agreement = services.record_agreement(
        session, case.id, agreed_on=TODAY,
        actions=[
            services.ActionDetails("Write a letter of apology", TODAY + dt.timedelta(days=14),
                                   owner_party_id=responsible(case).id),
            services.ActionDetails("Repair the shed door", TODAY + dt.timedelta(days=28), owner="Jamie and a mentor"),
        ],
        actor=coordinator, now=NOW,
    )
    assert [(action.owner, action.status) for action in agreement.actions] == [
        ("Jamie Ní Bhriain-Smith", ActionStatus.OPEN), ("Jamie and a mentor", ActionStatus.OPEN),
    ]
    assert case.agreement is agreement
    with pytest.raises(RuleViolation, match="already has an outcome agreement"):
        services.record_agreement(session, case.id, agreed_on=TODAY, actor=coordinator, now=NOW)
    with pytest.raises(ValidationFailed, match="cannot be due before the agreement was made"):
        services.add_action(session, agreement.id,
                            services.ActionDetails("Late", TODAY - dt.timedelta(days=1), owner="Jamie"),
                            actor=coordinator, now=NOW)
    services.add_action(session, agreement.id, services.ActionDetails("Call", TODAY, owner="Jamie"),
                        actor=coordinator, now=NOW)
    assert len(agreement.actions) == 3


def test_an_agreement_outside_the_intervention_is_refused(session):
    case = make_case(session, status=S.PREPARATION)
    with pytest.raises(RuleViolation, match="recorded during the intervention; RJ-2026-00001 is in preparation"):
        services.record_agreement(session, case.id, agreed_on=TODAY, actor=make_coordinator(session), now=NOW)


def test_feedback_is_recorded_once_per_party_with_satisfaction_from_1_to_5(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.FOLLOW_UP)
    for score in (0, 6):
        with pytest.raises(ValidationFailed, match="Satisfaction must be a whole number from 1 to 5"):
            services.record_feedback(session, harmed(case).id, satisfaction=score, given_on=TODAY,
                                     actor=coordinator, now=NOW)
    feedback = services.record_feedback(
        session, harmed(case).id, satisfaction=5, given_on=TODAY, felt_safe=True, felt_prepared=True,
        would_recommend=True, comments="I got my answers", actor=coordinator, now=NOW,
    )
    assert (feedback.satisfaction, feedback.case_id) == (5, case.id)
    with pytest.raises(RuleViolation, match="already recorded"):
        services.record_feedback(session, harmed(case).id, satisfaction=4, given_on=TODAY,
                                 actor=coordinator, now=NOW)


def test_feedback_before_the_intervention_is_refused(session):
    case = make_case(session, status=S.PREPARATION)
    with pytest.raises(RuleViolation, match="from the intervention onwards"):
        services.record_feedback(session, harmed(case).id, satisfaction=4, given_on=TODAY,
                                 actor=make_coordinator(session), now=NOW)


# --- allocation ----------------------------------------------------------------------------------


def _vetting_expired(case, *, session, user_id, role, on, **kwargs):
    return "vetting expired on 3 March 2026"


def _supervision_fine(case, *, session, user_id, role, on, **kwargs):
    return None


def test_first_allocation_moves_the_case_to_allocated_and_tells_other_modules(session):
    coordinator = make_coordinator(session)
    facilitator = make_facilitator(session)
    case = make_case(session, status=S.AWAITING_ALLOCATION)
    heard: list[tuple[str, object]] = []

    def on_allocated(sender, **kwargs):
        heard.append(("allocated", sender))

    def on_status(sender, **kwargs):
        heard.append(("status", kwargs["previous"]))

    with signals.case_allocated.connected_to(on_allocated), signals.case_status_changed.connected_to(on_status), \
            signals.allocation_requested.connected_to(_supervision_fine):
        allocation = services.allocate_case(
            session, case.id, facilitator.id, AllocationRole.LEAD, actor=coordinator, now=NOW,
            party_ids=[harmed(case).id],
        )

    assert (allocation.starts_on, allocation.ends_on, allocation.party_ids) == (TODAY, None, {harmed(case).id})
    assert case.status is S.ALLOCATED
    assert heard == [("status", S.AWAITING_ALLOCATION), ("allocated", allocation)]
    assert permissions.can_view_case(facilitator, case, on=TODAY)
    assert "case.allocated" in audit_actions(session, case)


def test_an_allocation_refused_by_another_module_gives_every_reason_and_allocates_nobody(session):
    coordinator = make_coordinator(session)
    lead = make_facilitator(session, name="Priya Patel")
    case = make_case(session, status=S.PREPARATION)
    make_allocation(session, case, lead, role=AllocationRole.LEAD)
    applicant = make_user(session, roles=(Role.APPLICANT,), name="Tom Nowak")

    with signals.allocation_requested.connected_to(_vetting_expired), pytest.raises(AllocationBlocked) as blocked:
        services.allocate_case(session, case.id, applicant.id, AllocationRole.LEAD, actor=coordinator, now=NOW)

    assert blocked.value.reasons == [
        "Tom Nowak is not a facilitator",
        "RJ-2026-00001 already has a lead facilitator (Priya Patel)",
        "vetting expired on 3 March 2026",
    ]
    assert len(case.allocations) == 1


def test_an_allocation_is_refused_before_the_case_is_ready_and_twice_for_the_same_person(session):
    coordinator = make_coordinator(session)
    facilitator = make_facilitator(session)
    early = make_case(session, status=S.ASSESSMENT)
    with pytest.raises(AllocationBlocked) as blocked:
        services.allocate_case(session, early.id, facilitator.id, AllocationRole.LEAD, actor=coordinator, now=NOW)
    assert blocked.value.reasons == [
        "RJ-2026-00001 is in assessment: a case is allocated once it is awaiting allocation"
    ]

    case = make_case(session, status=S.AWAITING_ALLOCATION)
    services.allocate_case(session, case.id, facilitator.id, AllocationRole.CO_FACILITATOR, actor=coordinator, now=NOW)
    with pytest.raises(AllocationBlocked, match="already allocated to RJ-2026-00002"):
        services.allocate_case(session, case.id, facilitator.id, AllocationRole.LEAD, actor=coordinator, now=NOW)


def test_a_deactivated_account_cannot_be_allocated(session):
    admin = make_user(session, roles=(Role.ADMIN,))
    facilitator = make_facilitator(session, name="Gwen Morgan")
    account_services.deactivate_user(session, facilitator, actor=admin, now=NOW)
    case = make_case(session, status=S.AWAITING_ALLOCATION)
    with pytest.raises(AllocationBlocked) as blocked:
        services.allocate_case(session, case.id, facilitator.id, AllocationRole.LEAD,
                               actor=make_coordinator(session), now=NOW)
    assert blocked.value.reasons == ["Gwen Morgan's account is deactivated"]


def test_ending_an_allocation_ends_access_at_once_and_is_announced(session):
    coordinator = make_coordinator(session)
    facilitator = make_facilitator(session)
    case = make_case(session, status=S.PREPARATION)
    allocation = make_allocation(session, case, facilitator)
    ended: list[str] = []

    def on_ended(sender, **kwargs):
        ended.append(kwargs["reason"])

    with signals.allocation_ended.connected_to(on_ended):
        services.end_allocation(session, allocation.id, reason="Moving away", actor=coordinator, now=NOW)

    assert (allocation.ends_on, allocation.ended_reason) == (TODAY, "Moving away")
    assert ended == ["Moving away"]
    assert not permissions.can_view_case(facilitator, case, on=TODAY)
    assert case.status is S.PREPARATION
    with pytest.raises(RuleViolation, match="already ended on 23 November 2026"):
        services.end_allocation(session, allocation.id, reason="again", actor=coordinator, now=NOW)


def test_an_allocation_needs_a_reason_to_end(session):
    case = make_case(session, status=S.PREPARATION)
    allocation = make_allocation(session, case)
    with pytest.raises(ValidationFailed, match="Give the reason"):
        services.end_allocation(session, allocation.id, reason="  ", actor=make_coordinator(session), now=NOW)


def test_closing_a_case_ends_every_allocation_and_announces_the_closure(session):
    coordinator = make_coordinator(session)
    lead, co = make_facilitator(session), make_facilitator(session)
    case = make_case(session, status=S.FOLLOW_UP)
    make_allocation(session, case, lead)
    make_allocation(session, case, co, role=AllocationRole.CO_FACILITATOR)
    closed: list[ClosureReason] = []

    def on_closed(sender, **kwargs):
        closed.append(kwargs["reason"])

    with signals.case_closed.connected_to(on_closed):
        services.close_case(session, case.id, ClosureReason.COMPLETED_DIRECT, actor=coordinator, now=NOW,
                            notes="Both parties satisfied")

    assert (case.status, case.closure_reason, case.closed_on, case.closure_notes) == (
        S.CLOSED, ClosureReason.COMPLETED_DIRECT, TODAY, "Both parties satisfied",
    )
    assert [allocation.ended_reason for allocation in case.allocations] == ["case closed", "case closed"]
    assert not permissions.can_view_case(lead, case, on=TODAY)
    assert closed == [ClosureReason.COMPLETED_DIRECT]
    assert audit_actions(session, case)[-4:] == [
        "case.status_changed", "case.allocation_ended", "case.allocation_ended", "case.closed",
    ]


def test_a_case_view_is_audited_with_whether_restricted_details_were_shown(session):
    coordinator = make_coordinator(session)
    case = make_case(session)
    entry = services.record_case_viewed(session, case, coordinator, restricted=True, now=NOW)
    assert (entry.action, entry.actor_id, entry.subject_id, entry.details["restricted"]) == (
        "case.viewed", coordinator.id, case.id, True,
    )


def test_an_unknown_case_is_not_found(session):
    with pytest.raises(NotFound, match="There is no case 999"):
        services.move_case(session, 999, S.TRIAGE, actor=make_coordinator(session), now=NOW)


# --- concurrency (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock")
@pytest.mark.parametrize("counter_exists", [False, True], ids=["first-of-year", "counter-row-exists"])
def test_two_referrals_recorded_at_the_same_moment_get_different_references(engine, counter_exists):
    if counter_exists:
        with Session(engine) as setup:
            make_case(setup)
            setup.commit()
    expected_first = 2 if counter_exists else 1
    result: dict[str, object] = {}

    def record_in_another_transaction():
        try:
            with Session(engine) as second:
                result["reference"] = services.record_referral(
                    second, referral_details(), default_parties(), actor=None, now=NOW
                ).reference
                second.commit()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            result["error"] = error

    with Session(engine) as first:
        reference = services.record_referral(
            first, referral_details(), default_parties(), actor=None, now=NOW
        ).reference
        other = threading.Thread(target=record_in_another_transaction)
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()  # blocked on this transaction's lock on the year's number
        first.commit()
    other.join(timeout=30)

    assert "error" not in result, result.get("error")
    assert waited
    assert (reference, result["reference"]) == (
        f"RJ-2026-{expected_first:05d}", f"RJ-2026-{expected_first + 1:05d}",
    )

