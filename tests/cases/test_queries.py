"""Case queries on a plain Session: lookups, the filtered list and its fixed query count, the
facilitator's view, the timeline, who viewed a case, and the referrer report."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.cases import queries, services
from portal.cases.models import (
    ActionStatus,
    AllocationRole,
    CaseSession,
    CaseStatus,
    CaseStatusChange,
    ClosureReason,
    ConsentMethod,
    ConsentPurpose,
    ContactMethod,
    ContactOutcome,
    Feedback,
    InterventionType,
    NoteVisibility,
    PartyRole,
    ReferralSource,
    RiskRating,
    SensitiveKind,
    SessionType,
)
from portal.cases.queries import CaseFilter, ReportPeriod
from portal.core.errors import NotFound
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


@contextmanager
def counting_statements(session: Session) -> Iterator[Callable[[], int]]:
    """Count the SQL statements sent on the session's connection inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- lookups ---------------------------------------------------------------------------------------


def test_get_case_raises_not_found_and_find_by_reference_returns_none(session):
    case = make_case(session)
    assert queries.get_case(session, case.id) is case
    with pytest.raises(NotFound, match="There is no case 12345"):
        queries.get_case(session, 12345)
    assert queries.find_case_by_reference(session, "  rj-2026-00001 ") is case
    assert queries.find_case_by_reference(session, "RJ-2026-99999") is None


# --- the case list ---------------------------------------------------------------------------------


def test_the_case_list_filters_by_status_district_referrer_source_and_sensitivity(session):
    kent = make_case(session, status=S.TRIAGE, district="Canterbury")
    probation = make_case(session, status=S.CONTACTING, district="Dover", source=ReferralSource.PROBATION,
                          referrer_organisation="Kent Probation")
    sensitive = make_case(session, status=S.TRIAGE, district="Dover",
                          sensitive_kinds=frozenset({SensitiveKind.DOMESTIC_ABUSE}))

    def references(**filters) -> list[str]:
        return [case.reference for case in queries.list_cases(session, CaseFilter(**filters), today=TODAY).cases]

    assert references(status=S.TRIAGE) == [sensitive.reference, kent.reference]
    assert references(district="Dover") == [sensitive.reference, probation.reference]
    assert references(referrer="Kent Probation") == [probation.reference]
    assert references(source=ReferralSource.PROBATION) == [probation.reference]
    assert references(sensitive=True) == [sensitive.reference]
    assert references(sensitive=False, district="Dover") == [probation.reference]
    assert queries.list_referrers(session) == ["Kent Police", "Kent Probation"]
    assert queries.list_districts(session) == ["Canterbury", "Dover"]


def test_the_overdue_filter_lists_open_uncontacted_cases_past_their_date_most_overdue_first(session):
    late = make_case(session, received_on=dt.date(2026, 11, 9))  # due 16 November
    later = make_case(session, received_on=dt.date(2026, 11, 2))  # due 9 November
    due_today = make_case(session, received_on=dt.date(2026, 11, 16))  # due 23 November: not yet overdue
    contacted = make_case(session, received_on=dt.date(2026, 11, 2))
    contacted.first_contact_on = dt.date(2026, 11, 20)
    make_case(session, status=S.CLOSED, received_on=dt.date(2026, 11, 2))

    page = queries.list_cases(session, CaseFilter(overdue=True), today=TODAY)

    assert [case.reference for case in page.cases] == [later.reference, late.reference]
    assert queries.list_overdue_first_contacts(session, today=TODAY) == [later, late]
    assert late.is_first_contact_overdue(TODAY) and not due_today.is_first_contact_overdue(TODAY)


def test_the_case_list_pages_and_a_page_past_the_end_shows_the_last(session):
    for _ in range(5):
        make_case(session)
    first = queries.list_cases(session, today=TODAY, page=1, per_page=2)
    last = queries.list_cases(session, today=TODAY, page=99, per_page=2)
    assert (first.total, first.pages, len(first.cases), first.has_previous, first.has_next) == (5, 3, 2, False, True)
    assert (last.page, [case.reference for case in last.cases], last.has_next) == (3, ["RJ-2026-00001"], False)


def _fill(session: Session, count: int) -> None:
    coordinator = make_coordinator(session)
    for number in range(count):
        case = make_case(session, status=S.PREPARATION, actor=coordinator,
                         sensitive_kinds=frozenset({SensitiveKind.HATE_CRIME}) if number % 2 else frozenset())
        make_allocation(session, case, make_facilitator(session))
        make_allocation(session, case, make_facilitator(session), role=AllocationRole.CO_FACILITATOR)
    session.commit()


def _count_list_statements(session: Session) -> int:
    session.expunge_all()
    with counting_statements(session) as statements:
        page = queries.list_cases(session, today=TODAY, per_page=50)
        for case in page.cases:  # what the list shows: no statement may be sent for any of it
            assert case.reference and case.status and case.district is not None
            _ = case.sensitive_kinds
            _ = [(allocation.user.name, allocation.user.roles) for allocation in case.current_allocations]
        return statements()


def test_the_case_list_runs_the_same_number_of_statements_for_3_cases_and_for_30(session):
    _fill(session, 3)
    few = _count_list_statements(session)
    _fill(session, 27)
    many = _count_list_statements(session)

    assert few == many
    assert many <= 6


# --- the facilitator's view -------------------------------------------------------------------------


@pytest.fixture
def allocated_case(session):
    """A case in preparation: the lead works with the harmed person only."""
    coordinator = make_coordinator(session)
    lead = make_facilitator(session, name="Priya Patel")
    co = make_facilitator(session, name="Dewi Evans")
    case = make_case(session, status=S.PREPARATION, actor=coordinator)
    supporter = services.add_party(
        session, case.id,
        services.PartyDetails(role=PartyRole.SUPPORTER, name="Niamh O'Connor", phone="07700 900003",
                              supports_party_id=harmed(case).id),
        actor=coordinator, now=NOW,
    )
    make_allocation(session, case, lead, parties=[harmed(case)])
    make_allocation(session, case, co, role=AllocationRole.CO_FACILITATOR, parties=[responsible(case)])
    make_risk_assessment(session, case, rating=RiskRating.MEDIUM, police_intelligence="PNC: two prior assaults")
    for visibility in NoteVisibility:
        services.add_note(session, case.id, f"A {visibility.value} note", visibility=visibility,
                          actor=coordinator, now=NOW)
    make_consent(session, harmed(case))
    for who in (harmed(case), responsible(case)):
        services.record_contact_attempt(
            session, case.id, who.id, attempted_at=NOW - dt.timedelta(days=3), method=ContactMethod.PHONE,
            outcome=ContactOutcome.CONTACT_MADE, actor=coordinator, now=NOW,
        )
    return case, lead, co, coordinator, supporter


def test_a_facilitator_sees_contact_details_of_their_own_parties_only(session, allocated_case):
    case, lead, *_ = allocated_case
    view = queries.get_case_for_facilitator(session, case.id, lead, on=TODAY)
    parties = {party.name: party for party in view.parties}

    own, supporter, other = parties["Aoife O'Connor"], parties["Niamh O'Connor"], parties["Jamie Ní Bhriain-Smith"]
    assert (own.is_own, own.phone, own.safe_contact_notes) == (True, "07700 900001", "Mobile only, after 5pm")
    assert (supporter.is_own, supporter.phone) == (True, "07700 900003")
    assert (other.is_own, other.phone, other.email, other.safe_contact_notes, other.address) == (
        False, None, None, None, None,
    )
    assert [attempt.party_id for attempt in view.contact_attempts] == [harmed(case).id]
    assert view.my_role is AllocationRole.LEAD
    assert view.co_facilitators == ["Dewi Evans"]


def test_an_address_is_shown_only_for_an_own_party_with_a_home_visit_approved(session, allocated_case):
    case, lead, _co, coordinator, _supporter = allocated_case
    assert _party_view(session, case, lead, "Aoife O'Connor").address is None

    services.set_home_visit_approval(session, harmed(case).id, True, actor=coordinator, now=NOW)
    services.set_home_visit_approval(session, responsible(case).id, True, actor=coordinator, now=NOW)

    assert _party_view(session, case, lead, "Aoife O'Connor").address == "1 Orchard Row, Canterbury CT1 1AA"
    assert _party_view(session, case, lead, "Jamie Ní Bhriain-Smith").address is None


def _party_view(session, case, user, name):
    view = queries.get_case_for_facilitator(session, case.id, user, on=TODAY)
    return next(party for party in view.parties if party.name == name)


def test_a_facilitator_sees_the_risk_rating_and_mitigations_but_never_police_intelligence(session, allocated_case):
    case, lead, *_ = allocated_case
    view = queries.get_case_for_facilitator(session, case.id, lead, on=TODAY)
    assert [(risk.rating, risk.mitigations) for risk in view.risk_assessments] == [
        (RiskRating.MEDIUM, "Meet in a neutral venue; two facilitators"),
    ]
    assert "PNC" not in repr(dataclasses.asdict(view))
    assert "police_intelligence" not in {field.name for field in dataclasses.fields(queries.RiskView)}


def test_a_facilitator_sees_general_notes_only(session, allocated_case):
    case, lead, *_ = allocated_case
    view = queries.get_case_for_facilitator(session, case.id, lead, on=TODAY)
    assert [note.text for note in view.notes] == ["A general note"]


def test_a_case_is_not_found_for_someone_never_allocated_or_no_longer_allocated(session, allocated_case):
    case, lead, co, coordinator, _supporter = allocated_case
    stranger = make_facilitator(session)
    for user in (stranger, coordinator):
        with pytest.raises(NotFound, match=f"There is no case {case.id}"):
            queries.get_case_for_facilitator(session, case.id, user, on=TODAY)
    with pytest.raises(NotFound):
        queries.get_case_for_facilitator(session, case.id, lead, on=RECEIVED_ON - dt.timedelta(days=1))

    services.end_allocation(session, case.allocations[1].id, reason="Unwell", actor=coordinator, now=NOW)
    with pytest.raises(NotFound):
        queries.get_case_for_facilitator(session, case.id, co, on=TODAY)

    services.close_case(session, case.id, ClosureReason.WITHDRAWN_HARMED, actor=coordinator, now=NOW)
    with pytest.raises(NotFound):
        queries.get_case_for_facilitator(session, case.id, lead, on=TODAY)


def test_my_cases_lists_only_current_allocations(session):
    me = make_facilitator(session)
    mine = make_case(session, status=S.PREPARATION)
    ended = make_case(session, status=S.PREPARATION)
    someone_elses = make_case(session, status=S.PREPARATION)
    make_allocation(session, mine, me, role=AllocationRole.CO_FACILITATOR)
    make_allocation(session, ended, me, ends_on=TODAY)
    make_allocation(session, someone_elses)

    cases = queries.list_my_cases(session, me, on=TODAY)

    assert [(row.reference, row.role) for row in cases] == [(mine.reference, AllocationRole.CO_FACILITATOR)]
    assert [row.reference for row in queries.list_my_cases(session, me, on=TODAY - dt.timedelta(days=1))] == [
        ended.reference, mine.reference,
    ]


# --- timeline and views ----------------------------------------------------------------------------


def test_the_timeline_merges_every_record_in_date_order(session):
    coordinator = make_coordinator(session)
    case = make_case(session, actor=coordinator, now=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC))
    services.move_case(session, case.id, S.TRIAGE, actor=coordinator, now=dt.datetime(2026, 11, 16, 10, tzinfo=dt.UTC))
    services.record_contact_attempt(
        session, case.id, harmed(case).id, attempted_at=dt.datetime(2026, 11, 17, 11, tzinfo=dt.UTC),
        method=ContactMethod.PHONE, outcome=ContactOutcome.CONTACT_MADE, actor=coordinator, now=NOW,
    )
    make_consent(session, harmed(case), given_on=dt.date(2026, 11, 18))
    make_risk_assessment(session, case, assessed_on=dt.date(2026, 11, 19), police_intelligence="Known associate")
    services.add_note(session, case.id, "Prefers a female facilitator", actor=coordinator,
                      now=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))

    events = queries.list_case_timeline(session, case.id, viewer=coordinator)

    assert [(event.on, event.kind) for event in events] == [
        (dt.date(2026, 11, 16), "status"),
        (dt.date(2026, 11, 16), "status"),
        (dt.date(2026, 11, 17), "contact"),
        (dt.date(2026, 11, 18), "consent"),
        (dt.date(2026, 11, 19), "risk"),
        (dt.date(2026, 11, 20), "note"),
    ]
    assert events[1].summary == f"Moved from referral received to triage by {coordinator.name}"
    assert events[2].summary == "Contact attempt by phone with Aoife O'Connor (harmed person): contact made"
    assert events[4].summary == "Initial risk assessment: low risk, proceed"
    assert "Known associate" not in repr(events)


def test_the_timeline_shows_a_facilitator_general_notes_only(session, allocated_case):
    case, lead, _co, coordinator, _supporter = allocated_case

    def notes(viewer):
        return [event.detail for event in queries.list_case_timeline(session, case.id, viewer=viewer)
                if event.kind == "note"]

    assert notes(lead) == ["A general note"]
    assert notes(coordinator) == ["A general note", "A restricted note", "A coordinator_only note"]


def test_the_timeline_runs_a_fixed_number_of_statements(session, allocated_case):
    case, _lead, _co, coordinator, _supporter = allocated_case
    case_id = case.id
    session.add(CaseSession(case_id=case.id, session_type=SessionType.PREPARATION_MEETING, held_on=TODAY,
                            duration_minutes=60, attendees="Aoife", created_at=NOW))
    make_agreement(session, case, actions=[ActionStatus.DONE])
    session.add(Feedback(case_id=case.id, party_id=harmed(case).id, satisfaction=4, given_on=TODAY, created_at=NOW))
    session.commit()
    session.expunge_all()
    coordinator = session.merge(coordinator)
    with counting_statements(session) as statements:
        events = queries.list_case_timeline(session, case_id, viewer=coordinator)
        kinds = {event.kind for event in events}
        assert statements() <= 11
    assert kinds == {"status", "allocation", "contact", "consent", "risk", "note", "session", "agreement", "feedback"}


def test_coordinators_can_see_who_viewed_a_case(session):
    coordinator = make_coordinator(session, name="Siobhán O'Neill")
    facilitator = make_facilitator(session, name="Zoë Ní Bhriain")
    case = make_case(session)
    services.record_case_viewed(session, case, facilitator, restricted=False, now=NOW)
    services.record_case_viewed(session, case, coordinator, restricted=True, now=NOW + dt.timedelta(minutes=5))
    services.record_case_viewed(session, make_case(session), coordinator, restricted=False, now=NOW)

    page = queries.list_case_views(session, case.id)

    assert [(entry.actor.name, entry.details["restricted"]) for entry in page.entries] == [
        ("Siobhán O'Neill", True), ("Zoë Ní Bhriain", False),
    ]


# --- the referrer report ---------------------------------------------------------------------------


def _report_data(session: Session) -> None:
    """November 2026: three Kent Police referrals and one from Victim Support; one in October."""
    coordinator = make_coordinator(session)
    in_time = make_case(session, received_on=dt.date(2026, 11, 2), status=S.FOLLOW_UP)
    in_time.first_contact_on = dt.date(2026, 11, 5)  # due 9 November
    in_time.intervention_type = InterventionType.FACE_TO_FACE_CONFERENCE
    make_consent(session, harmed(in_time))
    make_consent(session, responsible(in_time))
    make_agreement(session, in_time, actions=[ActionStatus.DONE, ActionStatus.DONE],
                   agreed_on=dt.date(2026, 11, 12))
    session.add(Feedback(case_id=in_time.id, party_id=harmed(in_time).id, satisfaction=5,
                         given_on=dt.date(2026, 11, 20), created_at=NOW))
    session.add(Feedback(case_id=in_time.id, party_id=responsible(in_time).id, satisfaction=4,
                         given_on=dt.date(2026, 11, 20), created_at=NOW))
    # It entered intervention in November, then closed completed.
    session.add(CaseStatusChange(
        case_id=in_time.id, from_status=S.PREPARATION, to_status=S.INTERVENTION,
        changed_at=dt.datetime(2026, 11, 11, 10, tzinfo=dt.UTC),
    ))
    services.close_case(session, in_time.id, ClosureReason.COMPLETED_DIRECT, actor=coordinator,
                        now=dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC))

    late = make_case(session, received_on=dt.date(2026, 11, 2), status=S.ASSESSMENT)
    late.first_contact_on = dt.date(2026, 11, 12)
    make_consent(session, harmed(late))

    make_case(session, received_on=dt.date(2026, 11, 20), status=S.CONTACTING)  # not yet contacted

    make_case(session, received_on=dt.date(2026, 11, 3), source=ReferralSource.VICTIM_SERVICES,
              referrer_organisation="Victim Support", status=S.CLOSED, closure_reason=ClosureReason.INELIGIBLE,
              now=dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC))
    make_case(session, received_on=dt.date(2026, 10, 30))  # October: outside the period
    session.flush()


def test_the_referrer_report_counts_a_month_for_one_referrer(session):
    _report_data(session)

    report = queries.referrer_report(session, ReportPeriod.month(2026, 11), referrer="Kent Police")

    assert (report.received, report.first_contact_in_time, report.first_contact_late, report.not_yet_contacted) == (
        3, 1, 1, 1,
    )
    assert report.consented_any == 2
    assert report.consented_by_role == {PartyRole.HARMED_PERSON: 2, PartyRole.PERSON_RESPONSIBLE: 1}
    assert report.interventions_by_type == {InterventionType.FACE_TO_FACE_CONFERENCE: 1}
    assert (report.agreements_made, report.agreements_completed) == (1, 1)
    assert report.closures_by_reason == {ClosureReason.COMPLETED_DIRECT: 1}
    assert (report.feedback_responses, report.satisfaction_average) == (2, 4.5)
    assert report.first_contact_in_time_rate == pytest.approx(1 / 3)
    assert ("Referrals received", "3") in report.rows()
    assert ("Average satisfaction (1–5)", "4.5") in report.rows()


def test_the_referrer_report_for_all_referrers_and_an_empty_period(session):
    _report_data(session)

    everyone = queries.referrer_report(session, ReportPeriod.quarter(2026, 4))
    empty = queries.referrer_report(session, ReportPeriod.year(2025))

    assert everyone.received == 5
    assert everyone.closures_by_reason == {ClosureReason.COMPLETED_DIRECT: 1, ClosureReason.INELIGIBLE: 1}
    assert (empty.received, empty.consented_any, empty.satisfaction_average, empty.consent_rate) == (0, 0, None, None)


def test_the_referrer_report_runs_a_fixed_number_of_aggregate_statements(session):
    _report_data(session)
    session.commit()
    with counting_statements(session) as statements:
        queries.referrer_report(session, ReportPeriod.financial_year(2026), referrer="Kent Police")
        assert statements() == 6
    with counting_statements(session) as statements:
        queries.referrer_report(session, ReportPeriod.financial_year(2026))
        assert statements() == 6


def test_report_periods_cover_whole_months_quarters_and_years():
    assert ReportPeriod.month(2028, 2) == ReportPeriod(dt.date(2028, 2, 1), dt.date(2028, 2, 29), "February 2028")
    assert ReportPeriod.quarter(2026, 4).starts_on == dt.date(2026, 10, 1)
    assert ReportPeriod.quarter(2026, 4).ends_on == dt.date(2026, 12, 31)
    assert ReportPeriod.financial_year(2026) == ReportPeriod(dt.date(2026, 4, 1), dt.date(2027, 3, 31), "2026–27")
    with pytest.raises(ValueError):
        ReportPeriod.quarter(2026, 5)


def test_consent_uptake_follows_the_consent_services(session):
    """The report reads consent uptake from dates the services keep on the case: recorded consent
    counts, withdrawn consent still counts (it was given), and a party's change of role moves it."""
    coordinator = make_coordinator(session)
    case = make_case(session, received_on=dt.date(2026, 11, 2), status=S.ASSESSMENT)
    supporter = services.add_party(
        session, case.id, services.PartyDetails(role=PartyRole.SUPPORTER, name="Ben Okoro"),
        actor=coordinator, now=NOW,
    )
    november = ReportPeriod.month(2026, 11)
    consent = services.record_consent(
        session, harmed(case).id, purpose=ConsentPurpose.PARTICIPATION, given_on=dt.date(2026, 11, 10),
        method=ConsentMethod.WRITTEN, actor=coordinator, now=NOW,
    )
    services.record_consent(
        session, supporter.id, purpose=ConsentPurpose.PARTICIPATION, given_on=dt.date(2026, 11, 9),
        method=ConsentMethod.WRITTEN, actor=coordinator, now=NOW,
    )
    assert (case.harmed_consented_on, case.responsible_consented_on) == (dt.date(2026, 11, 10), None)
    assert queries.referrer_report(session, november).consented_by_role == {PartyRole.HARMED_PERSON: 1}

    services.withdraw_consent(session, consent.id, withdrawn_on=TODAY, actor=coordinator, now=NOW)
    assert queries.referrer_report(session, november).consented_any == 1

    services.update_party(
        session, supporter.id, services.PartyDetails(role=PartyRole.PERSON_RESPONSIBLE, name="Ben Okoro"),
        actor=coordinator, now=NOW,
    )
    assert case.responsible_consented_on == dt.date(2026, 11, 9)
    report = queries.referrer_report(session, november)
    assert (report.consented_any, report.consented_by_role) == (
        1, {PartyRole.HARMED_PERSON: 1, PartyRole.PERSON_RESPONSIBLE: 1},
    )


def test_consent_for_other_purposes_does_not_count_as_uptake(session):
    case = make_case(session, received_on=dt.date(2026, 11, 2))
    make_consent(session, harmed(case), purpose=ConsentPurpose.CONTACT)
    assert queries.referrer_report(session, ReportPeriod.month(2026, 11)).consented_any == 0


# --- the paged timeline ------------------------------------------------------------------------------


def _case_with_events(session, how_many: int):
    """A case whose timeline holds exactly `how_many` events (the referral, then sessions a day apart)."""
    coordinator = make_coordinator(session)
    case = make_case(session, actor=coordinator)
    existing = len(queries.list_case_timeline(session, case.id, viewer=coordinator))
    for number in range(how_many - existing):
        session.add(CaseSession(case_id=case.id, session_type=SessionType.PREPARATION_MEETING,
                                held_on=TODAY + dt.timedelta(days=number + 1), duration_minutes=30 + number,
                                attendees="Aoife", created_at=NOW))
    session.commit()
    assert len(queries.list_case_timeline(session, case.id, viewer=coordinator)) == how_many
    return case, coordinator


def test_the_paged_timeline_is_newest_first_25_a_page(session):
    case, coordinator = _case_with_events(session, 30)

    first, page, pages = queries.list_case_timeline_page(session, case.id, viewer=coordinator, page=1)
    second, page_2, _ = queries.list_case_timeline_page(session, case.id, viewer=coordinator, page=2)

    assert (len(first), page, pages) == (25, 1, 2)
    assert (len(second), page_2) == (5, 2)
    assert first + second == list(reversed(queries.list_case_timeline(session, case.id, viewer=coordinator)))
    assert first[0].summary == "Preparation meeting (58 minutes)"


def test_the_paged_timeline_clamps_a_page_out_of_range(session):
    case, coordinator = _case_with_events(session, 30)

    beyond, page, pages = queries.list_case_timeline_page(session, case.id, viewer=coordinator, page=99)
    before, first_page, _ = queries.list_case_timeline_page(session, case.id, viewer=coordinator, page=-3)

    assert (len(beyond), page, pages) == (5, 2, 2)
    assert (len(before), first_page) == (25, 1)
    empty_case = make_case(session)
    assert queries.list_case_timeline_page(session, empty_case.id, viewer=coordinator, page=5)[1:] == (1, 1)


def test_the_paged_timeline_runs_the_same_statements_for_5_or_60_events(session):
    counts = []
    for how_many in (5, 60):
        case, coordinator = _case_with_events(session, how_many)
        case_id = case.id
        session.expunge_all()
        coordinator = session.merge(coordinator)
        with counting_statements(session) as statements:
            events, page, _pages = queries.list_case_timeline_page(session, case_id, viewer=coordinator, page=2)
            counts.append(statements())
        assert len(events) == (5 if how_many == 5 else 25)
    assert counts[0] == counts[1]
