"""RJ case tracking: referrals, parties, consent, risk, sessions, agreements, feedback, allocation.

Usable with a plain SQLAlchemy Session and no Flask (this package never imports it). Services take
the session first and `actor` (a User) and `now` (an aware datetime) as keywords, flush and never
commit: the caller owns the transaction.

Public API
----------
services (writes; every change is audited in the same transaction)
    record_referral(session, ReferralDetails, [PartyDetails], *, actor, now) -> Case
    update_referral(session, case_id, ReferralDetails, *, actor, now) -> Case
    add_party / update_party(session, case_id | party_id, PartyDetails, *, actor, now) -> Party
    set_home_visit_approval(session, party_id, approved, *, actor, now) -> Party
    record_contact_attempt(session, case_id, party_id, *, attempted_at, method, outcome, ...) -> ContactAttempt
    record_consent(session, party_id, *, purpose, given_on, method, intervention_type=None, ...) -> Consent
    withdraw_consent(session, consent_id, *, withdrawn_on, reason=None, actor, now) -> Consent
    record_risk_assessment(session, case_id, *, stage, factors, rating, proceed, assessed_on, ...)
    approve_risk_assessment(session, assessment_id, *, actor, now) -> RiskAssessment
    add_note(session, case_id, text, *, visibility, actor, now) -> CaseNote
    record_session(session, case_id, *, session_type, held_on, duration_minutes, attendees, ...)
    choose_intervention_type(session, case_id, intervention_type, *, actor, now) -> Case
    record_agreement(session, case_id, *, agreed_on, actions=[ActionDetails], ...) -> OutcomeAgreement
    add_action(session, agreement_id, ActionDetails, *, actor, now) -> AgreementAction
    set_action_status(session, action_id, status, *, actor, now) -> AgreementAction
    record_feedback(session, party_id, *, satisfaction, given_on, felt_safe, ...) -> Feedback
    move_case(session, case_id, target, *, actor, now, reason=None, closure_reason=None,
              review_on=None) -> Case                       (CASE_TRANSITIONS and their guards)
    close_case(session, case_id, closure_reason, *, actor, now, notes=None) -> Case
    allocate_case(session, case_id, user_id, role, *, actor, now, party_ids=()) -> Allocation
    set_allocation_parties(session, allocation_id, party_ids, *, actor, now) -> Allocation
    end_allocation(session, allocation_id, *, reason, actor, now) -> Allocation
    flag_allocations_for_review(session, user_id, reason, *, actor, now) -> list[Allocation]
                                            (idempotent per reason; actor None from a job)
    clear_allocation_review(session, allocation_id, *, actor, now) -> Allocation
    record_case_viewed(session, case, viewer, *, restricted, now) -> AuditEntry
queries (reads; a fixed number of statements each)
    get_case, find_case_by_reference, list_cases(CaseFilter, today=, page=) -> CasePage,
    list_overdue_first_contacts, list_referrers, list_districts, list_my_cases(user, on=),
    get_case_for_facilitator(case_id, user, on=) -> FacilitatorCaseView,
    list_case_timeline(case_id, viewer=), list_case_timeline_page(case_id, viewer=, page=) -> (events, page, pages),
    list_case_views(case_id) -> AuditPage, list_allocations_needing_review(limit=),
    referrer_report(ReportPeriod, referrer=None) -> ReferrerReport
permissions (pure predicates): can_view_case(user, case, on=), can_manage_cases, can_see_restricted, ...
signals: allocation_requested (veto), case_allocated, allocation_ended, case_status_changed, case_closed
errors: AllocationBlocked(RuleViolation) with `reasons`

A script, with no Flask anywhere::

    import datetime as dt
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker
    from portal.cases import services
    from portal.cases.models import *  # enums
    from portal.core.accounts import find_user_by_email

    engine = create_engine("sqlite:///instance/portal.db")
    now = dt.datetime.now(dt.UTC)
    with sessionmaker(engine).begin() as session:          # commits at the end of the block
        coordinator = find_user_by_email(session, "coordinator@example.org")
        case = services.record_referral(session, services.ReferralDetails(
            source=ReferralSource.POLICE, referrer_organisation="Kent Police",
            received_on=now.date(), offence_category=OffenceCategory.BURGLARY,
            justice_stage=JusticeStage.COMMUNITY_SENTENCE, district="Canterbury",
            summary="Burglary of a garden shed"), [
            services.PartyDetails(role=PartyRole.HARMED_PERSON, name="Aoife O'Connor")],
            actor=coordinator, now=now)
        harmed = case.parties[0]
        for target in (CaseStatus.TRIAGE, CaseStatus.CONTACTING):
            services.move_case(session, case.id, target, actor=coordinator, now=now)
        services.record_contact_attempt(session, case.id, harmed.id, attempted_at=now,
            method=ContactMethod.PHONE, outcome=ContactOutcome.CONTACT_MADE, actor=coordinator, now=now)
        services.move_case(session, case.id, CaseStatus.ASSESSMENT, actor=coordinator, now=now)
        services.record_consent(session, harmed.id, purpose=ConsentPurpose.PARTICIPATION,
            given_on=now.date(), method=ConsentMethod.WRITTEN, actor=coordinator, now=now)
        services.record_risk_assessment(session, case.id, stage=RiskStage.INITIAL,
            factors="No concerns", rating=RiskRating.LOW, proceed=True, assessed_on=now.date(),
            actor=coordinator, now=now)
        services.move_case(session, case.id, CaseStatus.AWAITING_ALLOCATION, actor=coordinator, now=now)

Higher modules answer `allocation_requested` from their handlers.py; call
`portal.wiring.connect_handlers()` first in a script that allocates.
"""
