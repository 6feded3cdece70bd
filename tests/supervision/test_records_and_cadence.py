"""Session records (confidential, own cases only), the cadence (due dates, overdue), the allocation veto
and the debrief prompts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.cases import services as case_services
from portal.cases.errors import AllocationBlocked
from portal.cases.models import AllocationRole, CaseStatus, SessionType
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, RuleViolation
from portal.core.outbox import OutboxMessage
from portal.supervision import queries, rules, services
from portal.supervision.errors import SupervisionInputInvalid
from portal.supervision.models import Attendance
from portal.volunteers.profiles.models import VolunteerStatus
from tests.cases.builders import make_allocation, make_case
from tests.supervision.builders import NEXT_MONDAY, NOW, make_coordinator, make_slot, make_volunteer

AFTER = dt.datetime(2026, 11, 30, 11, 5, tzinfo=dt.UTC)  # just after next Monday's session


def booked(session, *, supervisor=None, volunteer=None):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, supervisor=supervisor or coordinator)
    volunteer = volunteer or make_volunteer(session)
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    return coordinator, volunteer, booking


def test_the_supervisor_records_a_session_with_the_volunteers_own_cases_only(session):
    coordinator, volunteer, booking = booked(session)
    own = make_case(session, status=CaseStatus.ALLOCATED)
    make_allocation(session, own, volunteer)
    ended = make_case(session, status=CaseStatus.ALLOCATED)
    make_allocation(session, ended, volunteer, ends_on=dt.date(2026, 11, 20))
    someone_elses = make_case(session, status=CaseStatus.ALLOCATED)
    make_allocation(session, someone_elses)

    with pytest.raises(SupervisionInputInvalid) as refused:
        services.record_session(session, booking.id, services.RecordDetails(
            attendance="attended", case_ids=[own.id, someone_elses.id], next_due_on=dt.date(2027, 2, 1)),
            actor=coordinator, now=AFTER)
    assert refused.value.errors["case_ids"] == [
        "Choose only cases the volunteer was allocated to on the day of the session"]
    with pytest.raises(SupervisionInputInvalid):
        services.record_session(session, booking.id, services.RecordDetails(attendance="attended",
                                case_ids=[ended.id], next_due_on=dt.date(2027, 2, 1)), actor=coordinator, now=AFTER)

    record = services.record_session(session, booking.id, services.RecordDetails(
        attendance="attended", case_ids=[own.id], actions="Read the shuttle guidance", wellbeing_concerns="Tired",
        next_due_on=dt.date(2027, 2, 1)), actor=coordinator, now=AFTER)

    assert record.held_on == NEXT_MONDAY and [case.id for case in record.cases] == [own.id]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "supervision.session_recorded"))
    assert entry.details["case_ids"] == [own.id] and "Tired" not in str(entry.details)


def test_a_session_is_recorded_only_after_it_starts_and_only_by_its_supervisor_or_a_coordinator(session):
    coordinator, volunteer, booking = booked(session)
    details = services.RecordDetails(attendance="did_not_attend")
    with pytest.raises(RuleViolation, match="record it once it has started"):
        services.record_session(session, booking.id, details, actor=coordinator, now=NOW)
    with pytest.raises(NotFound):
        services.record_session(session, booking.id, details, actor=volunteer, now=AFTER)
    with pytest.raises(NotFound):
        services.record_session(session, booking.id, details, actor=make_volunteer(session), now=AFTER)
    record = services.record_session(session, booking.id, details, actor=coordinator, now=AFTER)
    assert record.attendance is Attendance.DID_NOT_ATTEND and record.next_due_on is None


def test_the_next_due_date_must_fall_within_the_cadence(session):
    coordinator, _volunteer, booking = booked(session)
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.record_session(session, booking.id, services.RecordDetails(
            attendance="attended", next_due_on=dt.date(2027, 6, 1)), actor=coordinator, now=AFTER)
    assert refused.value.errors["next_due_on"] == [
        "The next supervision must be due within 12 weeks of this session (by 22 February 2027)"]
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.record_session(session, booking.id, services.RecordDetails(attendance="attended"),
                                actor=coordinator, now=AFTER)
    assert refused.value.errors["next_due_on"] == ["Enter when the next supervision is due"]


def test_records_are_confidential_to_supervisors_and_coordinators(session):
    coordinator, volunteer, booking = booked(session)
    record = services.record_session(session, booking.id, services.RecordDetails(
        attendance="attended", next_due_on=dt.date(2027, 2, 1)), actor=coordinator, now=AFTER)
    other_coordinator = make_coordinator(session)

    assert services.view_record(session, record.id, actor=other_coordinator, now=AFTER) is record
    with pytest.raises(NotFound):
        services.view_record(session, record.id, actor=volunteer, now=AFTER)
    with pytest.raises(NotFound):
        services.view_record(session, record.id, actor=make_volunteer(session), now=AFTER)
    assert session.scalar(select(AuditEntry.actor_id).where(AuditEntry.action == "supervision.record_viewed")) == (
        other_coordinator.id)


def test_correcting_a_record_is_audited_with_what_changed(session):
    coordinator, _volunteer, booking = booked(session)
    details = services.RecordDetails(attendance="attended", actions="One", next_due_on=dt.date(2027, 2, 1))
    services.record_session(session, booking.id, details, actor=coordinator, now=AFTER)
    services.record_session(session, booking.id, services.RecordDetails(
        attendance="attended", actions="Two", next_due_on=dt.date(2027, 1, 18)), actor=coordinator, now=AFTER)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "supervision.record_updated"))
    assert entry.details["changed"] == ["actions", "next_due_on"]


# ---------------------------------------------------------------------------------------------
# Cadence


def test_due_dates_follow_the_cadence_from_becoming_active_or_the_last_session():
    assert rules.due_on(last_held_on=None, next_due_on=None, active_since=dt.date(2026, 9, 1),
                        cadence_weeks=12) == dt.date(2026, 11, 24)
    assert rules.due_on(last_held_on=dt.date(2026, 11, 30), next_due_on=dt.date(2027, 1, 11),
                        active_since=dt.date(2026, 1, 1), cadence_weeks=12) == dt.date(2027, 1, 11)
    assert rules.due_state(dt.date(2026, 11, 22), NOW.date(), 14) is rules.DueState.OVERDUE
    assert rules.due_state(dt.date(2026, 12, 7), NOW.date(), 14) is rules.DueState.DUE_SOON
    assert rules.due_state(dt.date(2026, 12, 8), NOW.date(), 14) is rules.DueState.IN_DATE


def test_the_coordinator_list_shows_overdue_and_due_soon_active_volunteers(session):
    overdue = make_volunteer(session, name="Aled Overdue", active_since=NOW - dt.timedelta(weeks=20))
    soon = make_volunteer(session, name="Bethan Soon", active_since=NOW - dt.timedelta(weeks=11))
    fresh = make_volunteer(session, name="Cerys Fresh", active_since=NOW)
    make_volunteer(session, name="Paused Person", status=VolunteerStatus.PAUSED,
                   active_since=NOW - dt.timedelta(weeks=30))

    rows = queries.list_supervision_due(session, now=NOW)

    assert [(row.name, row.state) for row in rows] == [
        ("Aled Overdue", rules.DueState.OVERDUE), ("Bethan Soon", rules.DueState.DUE_SOON),
        ("Cerys Fresh", rules.DueState.IN_DATE)]
    assert rows[0].due_on == (NOW - dt.timedelta(weeks=8)).date()
    assert {row.user_id for row in rows} == {overdue.id, soon.id, fresh.id}


def test_an_attended_session_resets_the_due_date(session):
    volunteer = make_volunteer(session, active_since=NOW - dt.timedelta(weeks=11))
    coordinator, _volunteer, booking = booked(session, volunteer=volunteer)
    before = queries.find_supervision_due(session, volunteer.id, now=AFTER)
    assert before.state is rules.DueState.DUE_SOON and before.due_on == NEXT_MONDAY
    services.record_session(session, booking.id, services.RecordDetails(
        attendance="attended", next_due_on=dt.date(2027, 2, 1)), actor=coordinator, now=AFTER)
    after = queries.find_supervision_due(session, volunteer.id, now=AFTER)
    assert after.due_on == dt.date(2027, 2, 1) and after.last_held_on == NEXT_MONDAY


def test_an_overdue_volunteer_is_blocked_from_allocation_only_when_the_setting_says_block(session):
    coordinator = make_coordinator(session)
    volunteer = make_volunteer(session, active_since=dt.datetime(2025, 12, 8, 12, tzinfo=dt.UTC))
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION)
    assert queries.overdue_message(session, volunteer.id, NOW.date()) == "Supervision overdue since 2 March 2026"
    assert queries.allocation_refusal(session, volunteer.id, NOW.date()) is None

    services.set_cadence_rules(session, cadence_weeks=12, overdue_blocks_allocation=True, due_soon_days=14,
                               actor=coordinator, now=NOW)
    with pytest.raises(AllocationBlocked) as blocked:
        case_services.allocate_case(session, case.id, volunteer.id, AllocationRole.LEAD, actor=coordinator, now=NOW)
    assert "Supervision overdue since 2 March 2026" in blocked.value.reasons


def test_cadence_rules_are_validated_and_audited(session):
    coordinator = make_coordinator(session)
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.set_cadence_rules(session, cadence_weeks=0, overdue_blocks_allocation=False, due_soon_days=None,
                                   actor=coordinator, now=NOW)
    assert set(refused.value.errors) == {"cadence_weeks", "due_soon_days"}
    services.set_cadence_rules(session, cadence_weeks=8, overdue_blocks_allocation=False, due_soon_days=7,
                               actor=coordinator, now=NOW)
    assert queries.cadence_rules(session) == rules.CadenceRules(8, False, 7)
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "supervision.rules_changed"))


# ---------------------------------------------------------------------------------------------
# Debriefs


def test_a_logged_case_meeting_prompts_its_facilitators_to_book_a_debrief_until_they_do(session):
    coordinator = make_coordinator(session)
    volunteer = make_volunteer(session)
    case = make_case(session, status=CaseStatus.INTERVENTION)
    make_allocation(session, case, volunteer)
    case_services.record_session(session, case.id, session_type=SessionType.CONFERENCE, held_on=dt.date(2026, 11, 20),
                                 duration_minutes=90, attendees="Both parties", actor=volunteer, now=NOW)

    [prompt] = queries.list_debrief_prompts(session, volunteer.id, now=NOW)
    assert (prompt.reference, prompt.session_type, prompt.held_on) == (
        case.reference, SessionType.CONFERENCE, dt.date(2026, 11, 20))
    assert queries.list_debrief_prompts(session, make_volunteer(session).id, now=NOW) == []

    slot = make_slot(session, actor=coordinator)
    services.book_slot(session, slot.id, user_id=volunteer.id, purpose="debrief", actor=volunteer,
                       now=NOW + dt.timedelta(minutes=5))
    assert queries.list_debrief_prompts(session, volunteer.id, now=NOW + dt.timedelta(minutes=5)) == []


def test_a_wellbeing_concern_is_sent_to_the_other_coordinators_without_its_words(session):
    coordinator, _volunteer, booking = booked(session)
    colleague = make_coordinator(session)
    services.record_session(session, booking.id, services.RecordDetails(
        attendance="attended", wellbeing_concerns="Struggling after the conference", next_due_on=dt.date(2027, 2, 1)),
        actor=coordinator, now=AFTER)
    [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "supervision/wellbeing_concern"))
    assert colleague.email in message.recipients and coordinator.email not in message.recipients
    assert "Struggling" not in message.text_body
