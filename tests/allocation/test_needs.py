"""Recording what a case asks of its facilitators: every bad input named against its field, audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.allocation import services
from portal.allocation.errors import AllocationInputInvalid
from portal.allocation.models import CaseNeeds
from portal.cases.models import CaseStatus
from portal.core.audit import AuditEntry
from portal.core.errors import PermissionDenied, RuleViolation
from portal.volunteers.profiles import availability
from tests.allocation.builders import NOW, START, TODAY, make_coordinator, make_facilitator
from tests.cases.builders import make_case


def details(**overrides) -> services.NeedsDetails:
    values = {
        "pattern": {"tuesday": ["evening"], "saturday": ["morning", "afternoon"]},
        "languages": ["Polish", " polish ", "", "Welsh"],
        "is_complex": True,
        "expected_hours": 30,
        "facilitators_needed": 2,
        "expected_start_on": START,
        "expected_end_on": START + dt.timedelta(weeks=10),
    }
    values.update(overrides)
    return services.NeedsDetails(**values)


def problems(session, case, **overrides) -> dict[str, list[str]]:
    with pytest.raises(AllocationInputInvalid) as refused:
        services.set_case_needs(session, case.id, details(**overrides), actor=make_coordinator(session), now=NOW)
    return refused.value.errors


def test_needs_are_recorded_with_the_meeting_pattern_as_a_mask_and_audited(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)

    needs = services.set_case_needs(session, case.id, details(), actor=coordinator, now=NOW)

    stored = session.get(CaseNeeds, case.id)
    assert stored is needs
    assert availability.from_mask(stored.meeting_mask) == {"tuesday": ["evening"], "saturday": ["morning", "afternoon"]}
    assert stored.languages == ["Polish", "Welsh"]  # blanks and a repeat in other letters dropped
    assert (stored.is_complex, stored.expected_hours, stored.facilitators_needed) == (True, 30, 2)
    assert (stored.expected_start_on, stored.expected_end_on) == (START, START + dt.timedelta(weeks=10))
    assert stored.updated_by_id == coordinator.id
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "allocation.needs_set"))
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("cases", case.id, coordinator.id)
    assert entry.details["before"] is None
    assert entry.details["after"]["meeting_times"] == "Tuesday evening; Saturday morning and afternoon"


def test_recording_needs_again_replaces_them_and_the_audit_keeps_both(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)
    services.set_case_needs(session, case.id, details(), actor=coordinator, now=NOW)

    services.set_case_needs(session, case.id, details(expected_hours=12, facilitators_needed=1),
                            actor=coordinator, now=NOW)

    assert session.scalars(select(CaseNeeds)).all() == [session.get(CaseNeeds, case.id)]
    assert session.get(CaseNeeds, case.id).expected_hours == 12
    last = session.scalars(select(AuditEntry).where(AuditEntry.action == "allocation.needs_set")
                           .order_by(AuditEntry.id)).all()[-1]
    assert last.details["before"]["expected_hours"] == 30
    assert last.details["after"]["facilitators_needed"] == 1


def test_every_problem_is_named_against_its_field_at_once(session):
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)

    errors = problems(session, case, pattern={}, expected_hours=0, facilitators_needed=3,
                      expected_start_on=TODAY - dt.timedelta(days=1), expected_end_on=TODAY - dt.timedelta(days=5))

    assert errors == {
        "pattern": ["Choose at least one time when the parties can meet"],
        "expected_hours": ["Expected hours must be between 1 and 200"],
        "facilitators_needed": ["A case needs 1 or 2 facilitators"],
        "expected_start_on": ["The expected start date must be today (23 November 2026) or later"],
        "expected_end_on": ["The expected end date must be the same as or after the start date"],
    }


def test_missing_numbers_and_dates_are_asked_for(session):
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)

    errors = problems(session, case, expected_hours=None, facilitators_needed=None, expected_start_on=None,
                      expected_end_on=None)

    assert errors == {
        "expected_hours": ["Enter the expected hours"],
        "facilitators_needed": ["Choose how many facilitators the case needs"],
        "expected_start_on": ["Enter the expected start date"],
        "expected_end_on": ["Enter the expected end date"],
    }


def test_an_unknown_day_or_period_is_refused(session):
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)

    errors = problems(session, case, pattern={"funday": ["morning"]})

    assert list(errors) == ["pattern"]
    assert errors["pattern"][0].startswith("Choose times from morning, afternoon, evening")


@pytest.mark.parametrize(("hours", "accepted"), [(1, True), (200, True), (201, False), (-3, False)])
def test_expected_hours_run_from_1_to_200(session, hours, accepted):
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)
    if accepted:
        needs = services.set_case_needs(session, case.id, details(expected_hours=hours),
                                        actor=make_coordinator(session), now=NOW)
        assert needs.expected_hours == hours
    else:
        assert problems(session, case, expected_hours=hours) == {
            "expected_hours": ["Expected hours must be between 1 and 200"]}


def test_a_period_of_exactly_a_year_is_allowed_but_not_a_day_more(session):
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)
    year_later = dt.date(2027, 11, 30)

    needs = services.set_case_needs(session, case.id, details(expected_end_on=year_later),
                                    actor=make_coordinator(session), now=NOW)

    assert needs.expected_end_on == year_later
    assert problems(session, case, expected_end_on=year_later + dt.timedelta(days=1)) == {
        "expected_end_on": ["The expected period must be 1 year or shorter"]}


def test_a_case_may_start_today_and_end_the_same_day(session):
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)

    needs = services.set_case_needs(session, case.id, details(expected_start_on=TODAY, expected_end_on=TODAY),
                                    actor=make_coordinator(session), now=NOW)

    assert needs.expected_start_on == needs.expected_end_on == TODAY


def test_only_coordinators_record_needs(session):
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)
    volunteer = make_facilitator(session)

    with pytest.raises(PermissionDenied):
        services.set_case_needs(session, case.id, details(), actor=volunteer.user, now=NOW)
    assert session.get(CaseNeeds, case.id) is None


def test_a_closed_case_keeps_its_needs(session):
    case = make_case(session, status=CaseStatus.CLOSED)

    with pytest.raises(RuleViolation, match="is closed"):
        services.set_case_needs(session, case.id, details(), actor=make_coordinator(session), now=NOW)
