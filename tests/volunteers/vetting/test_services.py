"""Recording checks and renewals: impossible dates, duplicates, history, overrides, audit."""

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from portal.core.audit import AuditEntry
from portal.core.errors import NotFound
from portal.core.outbox import OutboxMessage
from portal.volunteers.vetting import queries, services
from portal.volunteers.vetting.errors import CheckInvalid
from portal.volunteers.vetting.models import CheckKind, CheckStatus, CircumstanceKind
from tests.volunteers.vetting.builders import (
    NOW,
    TODAY,
    details,
    make_coordinator,
    make_volunteer,
    record,
)


def _problems(session, volunteer, kind=CheckKind.NPPV, status=CheckStatus.CLEARED, **overrides):
    with pytest.raises(CheckInvalid) as raised:
        record(session, volunteer, kind, status, **overrides)
    return raised.value.errors


def test_a_cleared_check_gets_its_expiry_from_the_rule_and_is_audited(session):
    volunteer = make_volunteer(session)
    check = record(session, volunteer, cleared_on=dt.date(2026, 3, 3))
    assert check.expires_on == dt.date(2027, 3, 3)
    assert check.expiry_override_reason is None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "vetting.check_recorded"))
    assert entry.subject_id == check.id and entry.details["expires_on"] == "2027-03-03"


def test_cleared_before_submitted_is_rejected(session):
    errors = _problems(session, make_volunteer(session), cleared_on=dt.date(2026, 3, 3),
                       submitted_on=dt.date(2026, 3, 10))
    assert errors == {"cleared_on": ["The date cleared must be the same as or after the date submitted"]}


def test_a_clearance_date_in_the_future_is_rejected(session):
    errors = _problems(session, make_volunteer(session), cleared_on=TODAY + dt.timedelta(days=1))
    assert "The date cleared must be today or in the past" in errors["cleared_on"]


def test_an_expiry_before_clearance_is_rejected_and_an_override_needs_a_reason(session):
    volunteer = make_volunteer(session)
    errors = _problems(session, volunteer, cleared_on=dt.date(2026, 3, 3), expires_on=dt.date(2026, 3, 1))
    assert errors == {
        "expires_on": ["The expiry date must be after the date cleared"],
        "expiry_override_reason": ["Give the reason for changing the expiry date from 3 March 2027"],
    }


def test_an_overridden_expiry_is_kept_with_its_reason(session):
    volunteer = make_volunteer(session)
    check = record(session, volunteer, cleared_on=dt.date(2026, 3, 3), expires_on=dt.date(2026, 9, 3),
                   expiry_override_reason="Force vetting unit granted six months only")
    assert check.expires_on == dt.date(2026, 9, 3)
    assert check.expiry_override_reason == "Force vetting unit granted six months only"


def test_an_overlapping_duplicate_of_one_kind_is_rejected_with_the_way_to_renew(session):
    volunteer = make_volunteer(session)
    record(session, volunteer, cleared_on=dt.date(2026, 3, 3))
    errors = _problems(session, volunteer, cleared_on=dt.date(2026, 6, 1))
    assert errors["cleared_on"] == [
        "This overlaps the police vetting (NPPV2) cleared on 3 March 2026, in date until 2 March 2027. "
        "To record a renewal, use “Record a renewal” on that check"
    ]


def test_two_checks_of_one_kind_in_progress_are_rejected(session):
    volunteer = make_volunteer(session)
    record(session, volunteer, status=CheckStatus.SUBMITTED)
    errors = _problems(session, volunteer, status=CheckStatus.SUBMITTED)
    assert errors["status"] == [
        "A check of this kind is already in progress (police vetting (NPPV2), submitted on 13 November 2026): "
        "record the decision on that one instead"]


def test_a_whole_certificate_number_is_never_stored(session):
    errors = _problems(session, make_volunteer(session), reference_last4="001234567890")
    assert errors == {"reference_last4": [
        "Enter only the last 4 characters of the certificate or reference number, never the whole number"]}


def test_a_renewal_is_a_new_check_and_the_old_one_stays(session):
    volunteer = make_volunteer(session)
    old = record(session, volunteer, cleared_on=dt.date(2025, 12, 1))
    renewal = record(session, volunteer, cleared_on=dt.date(2026, 11, 20), renews_id=old.id)
    assert renewal.renews_id == old.id
    assert renewal.expires_on == dt.date(2027, 11, 20)
    assert old.status is CheckStatus.CLEARED and old.expires_on == dt.date(2026, 12, 1)
    assert [check.id for check in queries.list_checks(session, volunteer.id)] == [renewal.id, old.id]
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "vetting.check_renewed")) is not None


def test_a_renewal_cleared_before_the_old_check_is_rejected_and_renewing_twice_too(session):
    volunteer = make_volunteer(session)
    old = record(session, volunteer, cleared_on=dt.date(2025, 12, 1))
    errors = _problems(session, volunteer, cleared_on=dt.date(2025, 11, 1), renews_id=old.id)
    assert "A renewal must be cleared after the check it renews (cleared on 1 December 2025)" in errors["cleared_on"]
    record(session, volunteer, cleared_on=dt.date(2026, 11, 20), renews_id=old.id)
    errors = _problems(session, volunteer, cleared_on=dt.date(2026, 11, 21), renews_id=old.id)
    assert errors["kind"] == ["The police vetting (NPPV2) cleared on 1 December 2025 has already been renewed"]


def test_renewing_another_volunteers_check_is_not_found(session):
    mine, theirs = make_volunteer(session), make_volunteer(session)
    their_check = record(session, theirs, cleared_on=dt.date(2025, 12, 1))
    with pytest.raises(NotFound):
        record(session, mine, cleared_on=dt.date(2026, 11, 20), renews_id=their_check.id)


def test_a_decision_on_a_submitted_check_follows_the_transitions(session):
    volunteer = make_volunteer(session)
    actor = make_coordinator(session)
    check = record(session, volunteer, status=CheckStatus.SUBMITTED, actor=actor)
    cleared = details(CheckKind.NPPV, CheckStatus.CLEARED, submitted_on=check.submitted_on,
                      cleared_on=TODAY - dt.timedelta(days=1))
    services.update_check(session, check.id, cleared, actor=actor, now=NOW)
    assert check.status is CheckStatus.CLEARED and check.expires_on == dt.date(2027, 11, 22)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "vetting.check_updated"))
    assert entry.details["changes"]["status"] == ["submitted", "cleared"]
    with pytest.raises(CheckInvalid) as raised:
        services.update_check(session, check.id, details(CheckKind.NPPV, CheckStatus.SUBMITTED), actor=actor, now=NOW)
    assert raised.value.errors == {"status": ["A check cannot move from cleared to submitted"]}


def test_refused_needs_the_date_of_the_decision(session):
    errors = _problems(session, make_volunteer(session), status=CheckStatus.REFUSED)
    assert errors == {"decided_on": ["Enter the date the check was refused"]}


def test_rules_are_validated_and_audited(session):
    admin = make_coordinator(session)
    rules = queries.get_rules(session)
    with pytest.raises(CheckInvalid) as raised:
        services.set_rules(session, {CheckKind.NPPV: replace(rules[CheckKind.NPPV], months=0)}, actor=admin, now=NOW)
    assert raised.value.errors == {
        "nppv-months": ["Police vetting (NPPV): the period must be between 1 and 120 months"]}
    services.set_rules(session, {CheckKind.DBS: replace(rules[CheckKind.DBS], required=True)}, actor=admin, now=NOW)
    assert queries.get_rules(session)[CheckKind.DBS].required
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "vetting.rules_changed")) is not None


def test_a_change_of_circumstances_alerts_coordinators_without_the_details(session):
    volunteer = make_volunteer(session)
    coordinator = make_coordinator(session)
    report = services.report_circumstances(
        session, volunteer.id, CircumstanceKind.CONVICTION, "Cautioned for a public order offence",
        changed_on=TODAY, actor=volunteer.user, now=NOW,
    )
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.template == "volunteers/vetting_circumstances"))
    assert coordinator.email in message.recipients
    assert "public order" not in message.text_body and volunteer.name in message.text_body
    assert queries.list_circumstance_reports(session, volunteer.id) == [report]


def test_a_change_of_circumstances_needs_details(session):
    volunteer = make_volunteer(session)
    with pytest.raises(CheckInvalid) as raised:
        services.report_circumstances(session, volunteer.id, CircumstanceKind.OTHER, "  ", changed_on=None,
                                      actor=volunteer.user, now=NOW)
    assert raised.value.errors == {"details": ["Tell us what has changed"]}


def test_a_withdrawn_clearance_keeps_its_dates_but_no_longer_counts(session):
    volunteer = make_volunteer(session)
    actor = make_coordinator(session)
    check = record(session, volunteer, CheckKind.NPPV, actor=actor, cleared_on=dt.date(2026, 3, 3))
    record(session, volunteer, CheckKind.REFERENCES, actor=actor, cleared_on=dt.date(2026, 3, 3), reference_last4=None)
    assert queries.cleared_to_practise(session, volunteer.user_id, TODAY).cleared
    withdrawn = details(CheckKind.NPPV, CheckStatus.WITHDRAWN, cleared_on=dt.date(2026, 3, 3),
                        submitted_on=dt.date(2026, 2, 1), decided_on=TODAY)
    services.update_check(session, check.id, withdrawn, actor=actor, now=NOW)
    assert (check.cleared_on, check.expires_on) == (dt.date(2026, 3, 3), dt.date(2027, 3, 3))
    clearance = queries.cleared_to_practise(session, volunteer.user_id, TODAY)
    assert clearance.reasons == ["Police vetting (NPPV2) was withdrawn on 23 November 2026"]


def test_after_a_refused_renewal_a_new_renewal_can_be_cleared(session):
    volunteer = make_volunteer(session)
    actor = make_coordinator(session)
    old = record(session, volunteer, actor=actor, cleared_on=dt.date(2025, 12, 1))
    record(session, volunteer, status=CheckStatus.REFUSED, actor=actor, renews_id=old.id,
           submitted_on=dt.date(2026, 10, 1), decided_on=dt.date(2026, 10, 20))
    second = record(session, volunteer, status=CheckStatus.SUBMITTED, actor=actor, renews_id=old.id,
                    submitted_on=dt.date(2026, 10, 25))
    errors = _problems(session, volunteer, actor=actor, cleared_on=dt.date(2026, 11, 20), renews_id=old.id)
    assert errors["kind"][0].startswith("A renewal of the police vetting (NPPV2) cleared on 1 December 2025 is "
                                        "already in progress")
    services.update_check(session, second.id, details(CheckKind.NPPV, CheckStatus.CLEARED,
                                                      submitted_on=dt.date(2026, 10, 25),
                                                      cleared_on=dt.date(2026, 11, 20)), actor=actor, now=NOW)
    assert second.status is CheckStatus.CLEARED and second.expires_on == dt.date(2027, 11, 20)


def test_an_old_check_can_be_corrected_after_it_was_renewed(session):
    volunteer = make_volunteer(session)
    actor = make_coordinator(session)
    old = record(session, volunteer, actor=actor, cleared_on=dt.date(2025, 12, 1))
    record(session, volunteer, actor=actor, cleared_on=dt.date(2026, 11, 20), renews_id=old.id)
    corrected = details(CheckKind.NPPV, CheckStatus.CLEARED, cleared_on=dt.date(2025, 12, 1),
                        notes="Certificate seen by the coordinator")
    services.update_check(session, old.id, corrected, actor=actor, now=NOW)
    assert old.notes == "Certificate seen by the coordinator"
