"""The case state machine (rj-domain.md §1.17): every move of the table allowed when its guards are
met, every other move refused, and each guard's refusal naming both statuses and why."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import select

from portal.cases import services
from portal.cases.models import (
    OPEN_STATUSES,
    ActionStatus,
    CaseSession,
    CaseStatus,
    CaseStatusChange,
    ClosureReason,
    ConsentMethod,
    ContactAttempt,
    ContactMethod,
    ContactOutcome,
    InterventionType,
    RiskStage,
    SessionType,
)
from portal.cases.services import CASE_TRANSITIONS
from portal.core import settings
from portal.core.audit import AuditEntry
from portal.core.errors import RuleViolation
from tests.cases.builders import (
    NOW,
    RECEIVED_ON,
    TODAY,
    harmed,
    make_agreement,
    make_allocation,
    make_case,
    make_consent,
    make_coordinator,
    make_facilitator,
    make_risk_assessment,
    responsible,
)

S = CaseStatus
R = ClosureReason
CONFERENCE = InterventionType.FACE_TO_FACE_CONFERENCE


# Each setup makes the guards of one move true and returns the keyword arguments the move needs.
def _nothing(session, case) -> dict:
    return {}


def _closing(reason: ClosureReason) -> Callable:
    def setup(session, case) -> dict:
        return {"closure_reason": reason}

    return setup


def _contact_made(session, case) -> dict:
    case.first_contact_on = RECEIVED_ON
    return {}


def _ready_for_allocation(session, case) -> dict:
    make_consent(session, harmed(case))
    make_risk_assessment(session, case, stage=RiskStage.INITIAL, proceed=True)
    return {}


def _allocated(session, case) -> dict:
    make_allocation(session, case)
    return {}


def _preparation_meeting(session, case) -> dict:
    session.add(
        CaseSession(case_id=case.id, session_type=SessionType.PREPARATION_MEETING, held_on=TODAY,
                    duration_minutes=60, attendees="Aoife O'Connor", created_at=NOW)
    )
    return {}


def _ready_for_intervention(session, case) -> dict:
    case.intervention_type = CONFERENCE
    make_consent(session, harmed(case), intervention_type=CONFERENCE)
    make_consent(session, responsible(case), intervention_type=CONFERENCE)
    make_risk_assessment(session, case, stage=RiskStage.PRE_INTERVENTION, proceed=True)
    make_allocation(session, case)
    return {}


def _agreement_with_open_action(session, case) -> dict:
    make_agreement(session, case, actions=[ActionStatus.OPEN])
    return {}


def _conference_held(session, case) -> dict:
    session.add(
        CaseSession(case_id=case.id, session_type=SessionType.CONFERENCE, held_on=TODAY,
                    duration_minutes=120, attendees="Both parties", created_at=NOW)
    )
    return {}


def _actions_finished(session, case) -> dict:
    make_agreement(session, case, actions=[ActionStatus.DONE, ActionStatus.NOT_DONE])
    return {}


def _agreement_broken(session, case) -> dict:
    make_agreement(session, case, actions=[ActionStatus.DONE, ActionStatus.NOT_DONE])
    return {"closure_reason": R.AGREEMENT_NOT_FULFILLED}


def _with_reason(session, case) -> dict:
    return {"reason": "Awaiting the outcome of the trial"}


FORWARD: dict[tuple[CaseStatus, CaseStatus], Callable] = {
    (S.REFERRAL_RECEIVED, S.TRIAGE): _nothing,
    (S.TRIAGE, S.CONTACTING): _nothing,
    (S.TRIAGE, S.CLOSED): _closing(R.INELIGIBLE),
    (S.CONTACTING, S.ASSESSMENT): _contact_made,
    (S.CONTACTING, S.CLOSED): _closing(R.DECLINED_HARMED),
    (S.ASSESSMENT, S.AWAITING_ALLOCATION): _ready_for_allocation,
    (S.ASSESSMENT, S.CLOSED): _closing(R.UNSUITABLE_RISK),
    (S.AWAITING_ALLOCATION, S.ALLOCATED): _allocated,
    (S.AWAITING_ALLOCATION, S.CLOSED): _closing(R.WITHDRAWN_HARMED),
    (S.ALLOCATED, S.PREPARATION): _preparation_meeting,
    (S.ALLOCATED, S.AWAITING_ALLOCATION): _nothing,
    (S.ALLOCATED, S.CLOSED): _closing(R.DECLINED_RESPONSIBLE),
    (S.PREPARATION, S.INTERVENTION): _ready_for_intervention,
    (S.PREPARATION, S.AWAITING_ALLOCATION): _nothing,
    (S.PREPARATION, S.CLOSED): _closing(R.COMPLETED_PARTIAL),
    (S.INTERVENTION, S.MONITORING): _agreement_with_open_action,
    (S.INTERVENTION, S.FOLLOW_UP): _conference_held,
    (S.INTERVENTION, S.PREPARATION): _nothing,
    (S.INTERVENTION, S.AWAITING_ALLOCATION): _nothing,
    (S.INTERVENTION, S.CLOSED): _closing(R.WITHDRAWN_RESPONSIBLE),
    (S.MONITORING, S.FOLLOW_UP): _actions_finished,
    (S.MONITORING, S.CLOSED): _agreement_broken,
    (S.FOLLOW_UP, S.CLOSED): _closing(R.COMPLETED_DIRECT),
    (S.CLOSED, S.TRIAGE): lambda session, case: {"reason": "The harmed person asked again"},
    **{(status, S.ON_HOLD): _with_reason for status in OPEN_STATUSES - {S.ON_HOLD}},
}
RESUMABLE = sorted(OPEN_STATUSES - {S.ON_HOLD})
ALLOWED = sorted(
    (source, target) for source, targets in CASE_TRANSITIONS.items() for target in targets
)
REFUSED = sorted(
    (source, target)
    for source, target in itertools.product(CaseStatus, CaseStatus)
    if target not in CASE_TRANSITIONS[source]
)


def _ids(pair) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_every_move_in_the_table_has_a_test_below():
    covered = set(FORWARD) | {(S.ON_HOLD, status) for status in RESUMABLE} | {(S.ON_HOLD, S.CLOSED)}
    assert covered == set(ALLOWED)


@pytest.mark.parametrize("pair", sorted(FORWARD), ids=_ids)
def test_an_allowed_move_succeeds_when_its_guards_are_met_and_is_recorded(session, pair):
    source, target = pair
    coordinator = make_coordinator(session)
    case = make_case(session, status=source, actor=coordinator)
    options = FORWARD[pair](session, case)
    session.flush()

    services.move_case(session, case.id, target, actor=coordinator, now=NOW, **options)

    assert case.status is target
    change = session.scalars(
        select(CaseStatusChange).where(CaseStatusChange.case_id == case.id)
        .order_by(CaseStatusChange.id.desc())
    ).first()
    assert (change.from_status, change.to_status) == (source, target)
    assert session.scalar(
        select(AuditEntry).where(AuditEntry.action == "case.status_changed", AuditEntry.subject_id == case.id)
    ) is not None


@pytest.mark.parametrize("held_from", RESUMABLE, ids=lambda status: status.value)
def test_a_case_on_hold_returns_to_the_status_it_was_held_from(session, held_from):
    coordinator = make_coordinator(session)
    case = make_case(session, status=held_from)
    services.move_case(session, case.id, S.ON_HOLD, actor=coordinator, now=NOW, reason="Party in hospital",
                       review_on=TODAY + dt.timedelta(days=14))
    assert (case.status, case.status_before_hold, case.hold_reason) == (S.ON_HOLD, held_from, "Party in hospital")

    services.move_case(session, case.id, held_from, actor=coordinator, now=NOW)

    assert case.status is held_from
    assert (case.status_before_hold, case.hold_reason, case.hold_review_on) == (None, None, None)


def test_a_case_on_hold_can_be_closed_with_a_reason_that_fits_where_it_was_held_from(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.ON_HOLD, held_from=S.ASSESSMENT)

    services.move_case(session, case.id, S.CLOSED, actor=coordinator, now=NOW,
                       closure_reason=R.WITHDRAWN_HARMED)

    assert (case.status, case.closure_reason, case.closed_on) == (S.CLOSED, R.WITHDRAWN_HARMED, TODAY)
    assert case.status_before_hold is None


@pytest.mark.parametrize("pair", REFUSED, ids=_ids)
def test_a_move_outside_the_table_is_refused_naming_both_statuses(session, pair):
    source, target = pair
    coordinator = make_coordinator(session)
    case = make_case(session, status=source)

    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, target, actor=coordinator, now=NOW, reason="because",
                           closure_reason=R.INELIGIBLE)

    assert str(refused.value).startswith(f"A case cannot move from {source.label} to {target.label}: ")
    if source is target:
        assert str(refused.value).endswith(f"it is already {target.phrase}")
    else:
        assert f"from {source.label} a case can move to " in str(refused.value)
    assert case.status is source


def test_refusal_lists_where_the_case_can_go_instead(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.TRIAGE)
    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, S.INTERVENTION, actor=coordinator, now=NOW)
    assert str(refused.value) == (
        "A case cannot move from triage to intervention: "
        "from triage a case can move to contacting, on hold or closed"
    )


@pytest.mark.parametrize(
    "held_from, target", [(S.TRIAGE, S.CONTACTING), (S.PREPARATION, S.ALLOCATED), (S.MONITORING, S.TRIAGE)]
)
def test_a_case_on_hold_cannot_resume_anywhere_but_where_it_was(session, held_from, target):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.ON_HOLD, held_from=held_from)
    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, target, actor=coordinator, now=NOW)
    assert str(refused.value) == (
        f"A case cannot move from on hold to {target.label}: it was put on hold from "
        f"{held_from.label} and can only return there or be closed"
    )
    assert case.status is S.ON_HOLD


def _refusal(session, case, target, **options) -> str:
    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, target, **{"actor": make_coordinator(session), "now": NOW, **options})
    assert case.status is not target
    return str(refused.value)


def test_assessment_needs_a_successful_contact_first(session):
    case = make_case(session, status=S.CONTACTING)
    contact_attempt = ContactAttempt(
        case_id=case.id, party_id=harmed(case).id, attempted_at=NOW, method=ContactMethod.PHONE,
        outcome=ContactOutcome.NO_ANSWER, created_at=NOW,
    )
    session.add(contact_attempt)
    assert _refusal(session, case, S.ASSESSMENT) == (
        "A case cannot move from contacting to assessment: "
        "nobody has been reached yet; log a successful contact attempt first"
    )


def test_awaiting_allocation_without_consent_or_risk_assessment_gives_both_reasons(session):
    case = make_case(session, status=S.ASSESSMENT)
    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, S.AWAITING_ALLOCATION, actor=make_coordinator(session), now=NOW)
    assert refused.value.reasons == [
        "A case cannot move from assessment to awaiting allocation: it needs written consent to take "
        "part from the harmed person or the person responsible",
        "A case cannot move from assessment to awaiting allocation: it needs an initial risk "
        "assessment that says proceed",
    ]


def test_verbal_consent_does_not_let_a_case_await_allocation_until_confirmed_in_writing(session):
    case = make_case(session, status=S.ASSESSMENT)
    make_consent(session, harmed(case), method=ConsentMethod.VERBAL)
    make_risk_assessment(session, case)
    assert _refusal(session, case, S.AWAITING_ALLOCATION) == (
        "A case cannot move from assessment to awaiting allocation: it needs written consent to take "
        "part from the harmed person or the person responsible (the consent from Aoife O'Connor is "
        "verbal: confirm it in writing)"
    )


def test_withdrawn_consent_and_a_supporters_consent_do_not_count(session):
    case = make_case(session, status=S.ASSESSMENT)
    make_consent(session, harmed(case), withdrawn_on=TODAY)
    supporter = services.add_party(
        session, case.id, services.PartyDetails(role="supporter", name="Niamh O'Connor",
                                                supports_party_id=harmed(case).id),
        actor=make_coordinator(session), now=NOW,
    )
    make_consent(session, supporter)
    make_risk_assessment(session, case)
    assert "it needs written consent to take part" in _refusal(session, case, S.AWAITING_ALLOCATION)


def test_the_latest_initial_risk_assessment_decides(session):
    case = make_case(session, status=S.ASSESSMENT)
    make_consent(session, harmed(case))
    make_risk_assessment(session, case, proceed=True, assessed_on=dt.date(2026, 11, 17))
    make_risk_assessment(session, case, proceed=False, assessed_on=dt.date(2026, 11, 19))
    assert _refusal(session, case, S.AWAITING_ALLOCATION) == (
        "A case cannot move from assessment to awaiting allocation: "
        "the latest initial risk assessment (19 November 2026) says not to proceed"
    )


def test_only_a_coordinator_approves_a_case_for_allocation(session):
    case = make_case(session, status=S.ASSESSMENT)
    _ready_for_allocation(session, case)
    assert _refusal(session, case, S.AWAITING_ALLOCATION, actor=make_facilitator(session)) == (
        "A case cannot move from assessment to awaiting allocation: "
        "only a coordinator can approve a case for allocation"
    )


def test_allocated_needs_someone_allocated(session):
    case = make_case(session, status=S.AWAITING_ALLOCATION)
    make_allocation(session, case, ends_on=TODAY)
    assert _refusal(session, case, S.ALLOCATED) == (
        "A case cannot move from awaiting allocation to allocated: nobody is allocated yet; allocate a facilitator"
    )


def test_preparation_needs_a_preparation_meeting_logged(session):
    case = make_case(session, status=S.ALLOCATED)
    assert _refusal(session, case, S.PREPARATION) == (
        "A case cannot move from allocated to preparation: no preparation meeting has been logged"
    )


def test_intervention_without_anything_in_place_gives_every_reason(session):
    case = make_case(session, status=S.PREPARATION)
    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, S.INTERVENTION, actor=make_coordinator(session), now=NOW)
    prefix = "A case cannot move from preparation to intervention: "
    assert refused.value.reasons == [
        prefix + "no intervention type has been chosen",
        prefix + "it needs a pre-intervention risk assessment that says proceed",
        prefix + "nobody is allocated to facilitate it",
    ]


def test_intervention_needs_both_parties_consent_to_the_chosen_type(session):
    case = make_case(session, status=S.PREPARATION)
    _ready_for_intervention(session, case)
    case.intervention_type = InterventionType.SHUTTLE
    make_consent(session, harmed(case), intervention_type=InterventionType.SHUTTLE)
    assert _refusal(session, case, S.INTERVENTION) == (
        "A case cannot move from preparation to intervention: "
        "the person responsible has not given written consent to a shuttle"
    )


def test_intervention_needs_a_pre_intervention_risk_assessment_that_says_proceed(session):
    case = make_case(session, status=S.PREPARATION)
    _ready_for_intervention(session, case)
    make_risk_assessment(session, case, stage=RiskStage.PRE_INTERVENTION, proceed=False,
                         assessed_on=dt.date(2026, 11, 20))
    assert _refusal(session, case, S.INTERVENTION) == (
        "A case cannot move from preparation to intervention: "
        "the latest pre-intervention risk assessment (20 November 2026) says not to proceed"
    )


def test_monitoring_needs_an_agreement_with_open_actions(session):
    case = make_case(session, status=S.INTERVENTION)
    make_agreement(session, case, actions=[ActionStatus.DONE])
    assert _refusal(session, case, S.MONITORING) == (
        "A case cannot move from intervention to monitoring: there is no outcome agreement with open actions to monitor"
    )


def test_follow_up_from_intervention_needs_the_intervention_delivered_and_no_open_actions(session):
    case = make_case(session, status=S.INTERVENTION)
    make_agreement(session, case, actions=[ActionStatus.OPEN, ActionStatus.OPEN])
    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, S.FOLLOW_UP, actor=make_coordinator(session), now=NOW)
    prefix = "A case cannot move from intervention to follow-up: "
    assert refused.value.reasons == [
        prefix + "no conference, shuttle exchange, letter or panel has been logged",
        prefix + "2 agreement action(s) are still open; move it to monitoring instead",
    ]


def test_follow_up_from_monitoring_waits_for_every_action(session):
    case = make_case(session, status=S.MONITORING)
    make_agreement(session, case, actions=[ActionStatus.DONE, ActionStatus.OPEN])
    assert _refusal(session, case, S.FOLLOW_UP) == (
        "A case cannot move from monitoring to follow-up: 1 agreement action(s) are still open"
    )


def test_back_to_awaiting_allocation_only_once_the_facilitators_have_gone(session):
    case = make_case(session, status=S.PREPARATION)
    make_allocation(session, case)
    assert _refusal(session, case, S.AWAITING_ALLOCATION) == (
        "A case cannot move from preparation to awaiting allocation: "
        "it still has 1 current allocation(s); end them first"
    )


def test_closing_needs_a_closure_reason(session):
    case = make_case(session, status=S.TRIAGE)
    assert _refusal(session, case, S.CLOSED) == "A case cannot move from triage to closed: a closure reason is needed"


def test_closing_refuses_a_reason_that_does_not_fit_the_status_and_lists_those_that_do(session):
    case = make_case(session, status=S.TRIAGE)
    assert _refusal(session, case, S.CLOSED, closure_reason=R.COMPLETED_DIRECT) == (
        "A case cannot move from triage to closed: “completed (direct)” is not a reason to close a case "
        "that is in triage (choose: ineligible; other party not identified; signposted elsewhere)"
    )


def test_closing_for_no_contact_needs_the_configured_number_of_attempts(session):
    case = make_case(session, status=S.CONTACTING)
    for hour in (9, 12):
        session.add(ContactAttempt(
            case_id=case.id, party_id=harmed(case).id, attempted_at=NOW.replace(hour=hour),
            method=ContactMethod.PHONE, outcome=ContactOutcome.NO_ANSWER, created_at=NOW,
        ))
    assert _refusal(session, case, S.CLOSED, closure_reason=R.NO_CONTACT) == (
        "A case cannot move from contacting to closed: "
        "closing for no contact needs 3 unsuccessful contact attempts; 2 logged"
    )

    settings.set_setting(session, services.NO_CONTACT_ATTEMPTS_SETTING, 2)
    services.close_case(session, case.id, R.NO_CONTACT, actor=make_coordinator(session), now=NOW)
    assert case.closure_reason is R.NO_CONTACT


def test_closing_for_agreement_not_fulfilled_needs_an_action_marked_not_done(session):
    case = make_case(session, status=S.MONITORING)
    make_agreement(session, case, actions=[ActionStatus.DONE, ActionStatus.OPEN])
    assert _refusal(session, case, S.CLOSED, closure_reason=R.AGREEMENT_NOT_FULFILLED) == (
        "A case cannot move from monitoring to closed: no agreement action is marked not done"
    )


def test_a_new_referral_cannot_be_closed_before_triage(session):
    case = make_case(session, status=S.ON_HOLD, held_from=S.REFERRAL_RECEIVED)
    assert _refusal(session, case, S.CLOSED, closure_reason=R.INELIGIBLE) == (
        "A case cannot move from on hold to closed: "
        "a case that is a new referral cannot be closed; move it to triage first"
    )


def test_on_hold_needs_a_reason_and_a_review_date_not_in_the_past(session):
    case = make_case(session, status=S.CONTACTING)
    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, S.ON_HOLD, actor=make_coordinator(session), now=NOW,
                           review_on=TODAY - dt.timedelta(days=1))
    prefix = "A case cannot move from contacting to on hold: "
    assert refused.value.reasons == [
        prefix + "give the reason for the hold",
        prefix + "the review date cannot be in the past",
    ]


def test_reopening_needs_a_coordinator_and_a_reason_and_clears_the_closure(session):
    case = make_case(session, status=S.CLOSED, closure_reason=R.INELIGIBLE)
    with pytest.raises(RuleViolation) as refused:
        services.move_case(session, case.id, S.TRIAGE, actor=make_facilitator(session), now=NOW)
    assert refused.value.reasons == [
        "A case cannot move from closed to triage: only a coordinator can reopen a case",
        "A case cannot move from closed to triage: give the reason for reopening",
    ]

    services.move_case(session, case.id, S.TRIAGE, actor=make_coordinator(session), now=NOW,
                       reason="New information from the referrer")

    assert (case.status, case.closure_reason, case.closed_on) == (S.TRIAGE, None, None)


def test_a_refused_move_changes_nothing_and_audits_nothing(session):
    case = make_case(session, status=S.ASSESSMENT)
    with pytest.raises(RuleViolation):
        services.move_case(session, case.id, S.AWAITING_ALLOCATION, actor=make_coordinator(session), now=NOW)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "case.status_changed")) is None
    assert case.status is S.ASSESSMENT


def test_an_action_status_moves_by_its_own_table(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=S.MONITORING)
    agreement = make_agreement(session, case, actions=[ActionStatus.OPEN])
    action = agreement.actions[0]

    services.set_action_status(session, action.id, ActionStatus.DONE, actor=coordinator, now=NOW)
    assert (action.status, action.status_changed_on) == (ActionStatus.DONE, TODAY)

    with pytest.raises(RuleViolation) as refused:
        services.set_action_status(session, action.id, ActionStatus.NOT_DONE, actor=coordinator, now=NOW)
    assert str(refused.value) == "An agreement action cannot move from done to not done"

    services.set_action_status(session, action.id, ActionStatus.OPEN, actor=coordinator, now=NOW)
    assert action.status is ActionStatus.OPEN
