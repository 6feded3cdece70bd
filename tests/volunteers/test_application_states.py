"""The application state machine: every move of the table allowed through its service, every other
move refused with a message naming both states, and every change audited."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from portal.core.audit import AuditEntry
from portal.core.errors import PermissionDenied, RuleViolation
from portal.volunteers import services
from portal.volunteers.models import ApplicationStatus
from portal.volunteers.services import APPLICATION_TRANSITIONS
from tests.volunteers.builders import NOW, make_applicant, make_application, make_coordinator

S = ApplicationStatus
ALLOWED = [(current, target) for current, targets in APPLICATION_TRANSITIONS.items() for target in targets]
REFUSED = [
    (current, target)
    for current, target in itertools.product(S, S)
    if target not in APPLICATION_TRANSITIONS[current] and current != target
]


def _move(session, application, target, coordinator):
    """Make the move through the service that owns it."""
    if target == S.SUBMITTED:
        return services.submit_application(session, application.id, actor=application.user, now=NOW)
    if target == S.WITHDRAWN:
        return services.withdraw_application(session, application.id, actor=application.user, now=NOW)
    if target == S.REJECTED:
        return services.reject_application(session, application.id, "Not enough availability",
                                           actor=coordinator, now=NOW)
    if target == S.SHORTLISTED and application.status == S.SUBMITTED:
        return services.shortlist_application(session, application.id, actor=coordinator, now=NOW)
    return services.move_application(session, application.id, target, actor=coordinator, now=NOW)


def test_the_table_reaches_every_status_and_rejected_and_withdrawn_are_final():
    reachable = {target for targets in APPLICATION_TRANSITIONS.values() for target in targets}
    assert reachable == set(S) - {S.DRAFT}
    assert APPLICATION_TRANSITIONS[S.REJECTED] == frozenset()
    assert APPLICATION_TRANSITIONS[S.WITHDRAWN] == frozenset()


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{c}->{t}" for c, t in ALLOWED])
def test_every_move_in_the_table_is_allowed_and_audited(session, current, target):
    coordinator = make_coordinator(session)
    application = make_application(session, status=current)
    if current == S.DRAFT:
        application.submitted_at = None

    moved = _move(session, application, target, coordinator)

    assert moved.status == target
    assert moved.status_changed_at == NOW
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == f"application.{target.value}"))
    assert entry is not None
    assert entry.subject_id == application.id
    assert entry.details["from_status"] == current.value
    assert entry.details["to_status"] == target.value


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=[f"{c}->{t}" for c, t in REFUSED])
def test_every_move_outside_the_table_is_refused_naming_both_states(session, current, target):
    coordinator = make_coordinator(session)
    application = make_application(session, status=current)
    if current == S.DRAFT:
        application.submitted_at = None
    if target == S.DRAFT:
        with pytest.raises(RuleViolation) as refused:
            services.move_application(session, application.id, target, actor=coordinator, now=NOW)
    elif target == S.SUBMITTED:
        # Submitting something already submitted is a harmless repeat; only a closed draft is refused.
        application.submitted_at = None
        with pytest.raises(RuleViolation) as refused:
            services.submit_application(session, application.id, actor=application.user, now=NOW)
    else:
        with pytest.raises(RuleViolation) as refused:
            _move(session, application, target, coordinator)
    assert str(refused.value) == (
        f"An application cannot move from {current.value.replace('_', ' ')} to {target.value.replace('_', ' ')}"
    )
    session.refresh(application)
    assert application.status == current


def test_move_application_sends_submit_reject_and_withdraw_to_their_own_services(session):
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.SUBMITTED)
    for target, service in ((S.REJECTED, "reject_application"), (S.WITHDRAWN, "withdraw_application")):
        with pytest.raises(RuleViolation, match=service):
            services.move_application(session, application.id, target, actor=coordinator, now=NOW)


@pytest.mark.parametrize("service", ["shortlist", "reject", "move"])
def test_only_coordinators_decide_on_applications(session, service):
    application = make_application(session, status=S.SUBMITTED)
    for someone in (application.user, make_applicant(session)):
        with pytest.raises(PermissionDenied, match="Only coordinators"):
            if service == "shortlist":
                services.shortlist_application(session, application.id, actor=someone, now=NOW)
            elif service == "reject":
                services.reject_application(session, application.id, "No", actor=someone, now=NOW)
            else:
                services.move_application(session, application.id, S.SHORTLISTED, actor=someone, now=NOW)
    assert application.status == S.SUBMITTED
