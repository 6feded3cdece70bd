"""Eligibility for a case, rule by rule, with the reasons coordinators read; and the allocation reads
it is built on (needs, loads, waiting cases)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from portal.allocation import eligibility, queries
from portal.allocation.eligibility import Reason
from portal.allocation.models import AllocationOffer, OfferStatus
from portal.cases import services as case_services
from portal.cases.models import AllocationRole, CaseStatus, PartyRole
from portal.core.errors import NotFound
from portal.supervision import services as supervision_services
from portal.volunteers.profiles import availability
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    VolunteerAbsence,
    VolunteerStatus,
)
from tests.allocation.builders import (
    NOW,
    START,
    TODAY,
    make_coordinator,
    make_facilitator,
    make_waiting_case,
    set_needs,
)
from tests.cases.builders import make_allocation, make_case

END = START + dt.timedelta(weeks=6)  # the default waiting case's expected end: 11 January 2027


def assess(session, case, volunteer, *, today=TODAY):
    return eligibility.assess_one(session, case, volunteer.user_id, today=today)


def offer(session, case, volunteer, status=OfferStatus.OFFERED):
    row = AllocationOffer(case_id=case.id, user_id=volunteer.user_id, role=AllocationRole.LEAD, status=status,
                          offered_at=NOW, respond_by=NOW + dt.timedelta(hours=72))
    session.add(row)
    session.flush()
    return row


def declare(session, volunteer, kind, name, *, withdrawn=False):
    session.add(ConflictOfInterest(volunteer_id=volunteer.id, kind=kind, name=name, declared_at=NOW,
                                   withdrawn_at=NOW if withdrawn else None))
    session.flush()


def away(session, volunteer, starts_on, ends_on):
    session.add(VolunteerAbsence(volunteer_id=volunteer.id, starts_on=starts_on, ends_on=ends_on))
    session.flush()


def party(role, name, address=None, language=None):
    return case_services.PartyDetails(role=role, name=name, address=address, interpreter_language=language)


def test_a_default_facilitator_is_eligible_for_an_ordinary_case(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session, name="Aled Jones")
    result = assess(session, case, volunteer)
    assert result.eligible and result.reasons == [] and result.warnings == []
    assert (result.user_id, result.name) == (volunteer.user_id, "Aled Jones")


# --- status -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "text"), [
    (VolunteerStatus.TRAINING, "in training, not yet active"),
    (VolunteerStatus.VETTING, "being vetted, not yet active"),
    (VolunteerStatus.PAUSED, "paused"),
    (VolunteerStatus.LEFT, "left"),
])
def test_only_active_volunteers_are_eligible(session, status, text):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session, status=status)
    assert assess(session, case, volunteer).reasons == [Reason("status", text)]


def test_a_deactivated_account_is_not_eligible(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session)
    volunteer.user.is_deactivated = True
    session.flush()
    assert assess(session, case, volunteer).reasons == [Reason("status", "account is deactivated")]


def test_staff_and_unknown_people_have_no_volunteer_record(session):
    case = make_waiting_case(session)
    coordinator = make_coordinator(session, name="Priya Coordinator")
    results = eligibility.assess(session, case.id, [coordinator.id, 987654], today=TODAY)
    assert results[coordinator.id].name == "Priya Coordinator"
    assert results[coordinator.id].reasons == [Reason("status", "has no volunteer record")]
    assert results[987654].reasons == [Reason("status", "has no volunteer record")]


def test_an_unknown_case_is_not_found(session):
    with pytest.raises(NotFound):
        eligibility.assess(session, 987654, [1], today=TODAY)


# --- vetting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cleared_on", "reasons"), [
    # Police vetting lasts 12 months. Expiring the day after the expected end: in date throughout.
    (dt.date(2026, 1, 12), []),
    # Expiring on the last expected day (the check counts up to, not including, its expiry day).
    (dt.date(2026, 1, 11), ["Police vetting (NPPV2) expires on 11 January 2027, before the case is expected to end"]),
    # Expiring the day after the expected start.
    (dt.date(2025, 12, 1), ["Police vetting (NPPV2) expires on 1 December 2026, before the case is expected to end"]),
    # Expiring on the expected start day: not cleared to start.
    (dt.date(2025, 11, 30), ["Police vetting (NPPV2) lapsed on 30 November 2026"]),
    # Expired the day before the expected start.
    (dt.date(2025, 11, 29), ["Police vetting (NPPV2) lapsed on 29 November 2026"]),
])
def test_vetting_must_clear_the_volunteer_on_the_expected_start_and_end(session, cleared_on, reasons):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session, cleared_on=cleared_on)
    result = assess(session, case, volunteer)
    assert [reason.text for reason in result.reasons] == reasons
    assert {reason.rule for reason in result.reasons} <= {"vetting"}


def test_vetting_is_checked_from_today_when_the_expected_start_has_passed(session):
    case = make_waiting_case(session, needs={"expected_start_on": dt.date(2026, 11, 2),
                                             "expected_end_on": dt.date(2026, 11, 27)})
    lapses_today = make_facilitator(session, cleared_on=dt.date(2025, 11, 23))
    lapsed_before_today = make_facilitator(session, cleared_on=dt.date(2025, 11, 20))
    assert assess(session, case, lapses_today).reasons == [
        Reason("vetting", "Police vetting (NPPV2) lapsed on 23 November 2026")]
    assert assess(session, case, lapsed_before_today).reasons == [
        Reason("vetting", "Police vetting (NPPV2) lapsed on 20 November 2026")]


def test_missing_vetting_gives_vettings_own_reasons(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session, cleared=False)
    assert assess(session, case, volunteer).reasons == [
        Reason("vetting", "No police vetting (NPPV) recorded"), Reason("vetting", "No references recorded")]


# --- training -----------------------------------------------------------------------------------


def test_the_facilitator_course_must_be_completed(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session, trained=False)
    assert assess(session, case, volunteer).reasons == [
        Reason("training", "has not completed the facilitator course")]


# --- supervision --------------------------------------------------------------------------------


def overdue_facilitator(session):
    volunteer = make_facilitator(session)
    volunteer.status_changed_at = NOW - dt.timedelta(weeks=20)  # due 12 weeks later: 28 September 2026
    session.flush()
    return volunteer


def test_overdue_supervision_is_a_warning_by_default(session):
    case = make_waiting_case(session)
    volunteer = overdue_facilitator(session)
    result = assess(session, case, volunteer)
    assert result.eligible
    assert result.warnings == [Reason("supervision", "Supervision overdue since 28 September 2026")]


def test_overdue_supervision_is_a_reason_when_the_setting_blocks(session):
    case = make_waiting_case(session)
    volunteer = overdue_facilitator(session)
    supervision_services.set_cadence_rules(session, cadence_weeks=12, overdue_blocks_allocation=True,
                                           due_soon_days=14, actor=make_coordinator(session), now=NOW)
    result = assess(session, case, volunteer)
    assert result.reasons == [Reason("supervision", "Supervision overdue since 28 September 2026")]
    assert result.warnings == []


def test_supervision_due_today_is_not_overdue(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session)
    volunteer.status_changed_at = NOW - dt.timedelta(weeks=12)  # due today
    session.flush()
    assert assess(session, case, volunteer).warnings == []
    assert assess(session, case, volunteer, today=TODAY + dt.timedelta(days=1)).warnings == [
        Reason("supervision", "Supervision overdue since 23 November 2026")]


# --- capacity -----------------------------------------------------------------------------------


def test_capacity_counts_allocations_and_live_offers_but_not_this_case(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session, max_cases=3)
    held = make_case(session, status=CaseStatus.ALLOCATED)
    make_allocation(session, held, volunteer.user)
    offer(session, held, volunteer, OfferStatus.ACCEPTED)  # the same case again: counted once
    offer(session, make_waiting_case(session), volunteer)
    offer(session, make_waiting_case(session), volunteer, OfferStatus.DECLINED)  # not live
    make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), volunteer.user,
                    ends_on=dt.date(2026, 11, 20))  # ended
    offer(session, case, volunteer)  # an offer of this very case
    assert assess(session, case, volunteer).eligible  # holds 2 of 3

    offer(session, make_waiting_case(session), volunteer, OfferStatus.ACCEPTED)
    assert assess(session, case, volunteer).reasons == [Reason("capacity", "holds 3 of 3 cases")]


# --- pause and away -----------------------------------------------------------------------------


def ten_day_case(session):
    """Expected 1 to 10 December 2026: ten days, so five is exactly half."""
    return make_waiting_case(session, needs={"expected_start_on": dt.date(2026, 12, 1),
                                             "expected_end_on": dt.date(2026, 12, 10)})


def test_away_for_exactly_half_the_period_is_a_warning(session):
    case = ten_day_case(session)
    volunteer = make_facilitator(session)
    away(session, volunteer, dt.date(2026, 11, 28), dt.date(2026, 12, 5))
    result = assess(session, case, volunteer)
    assert result.eligible
    assert result.warnings == [Reason("away", "away 28 November – 5 December")]


def test_away_for_more_than_half_the_period_is_a_reason(session):
    case = ten_day_case(session)
    volunteer = make_facilitator(session)
    away(session, volunteer, dt.date(2026, 12, 1), dt.date(2026, 12, 3))
    away(session, volunteer, dt.date(2026, 12, 3), dt.date(2026, 12, 6))  # overlapping days count once
    result = assess(session, case, volunteer)
    assert result.reasons == [Reason("away", "away 1–3 December"), Reason("away", "away 3–6 December")]


def test_absences_outside_the_period_do_not_count(session):
    case = ten_day_case(session)
    volunteer = make_facilitator(session)
    away(session, volunteer, dt.date(2026, 11, 20), dt.date(2026, 11, 30))
    away(session, volunteer, dt.date(2026, 12, 11), dt.date(2027, 1, 4))
    result = assess(session, case, volunteer)
    assert result.reasons == [] and result.warnings == []


def test_a_pause_over_most_of_the_period_is_a_reason_naming_its_end(session):
    case = make_waiting_case(session)
    volunteer = make_facilitator(session)
    volunteer.paused_until = dt.date(2027, 5, 12)
    session.flush()
    assert assess(session, case, volunteer).reasons == [Reason("pause", "paused until 12 May 2027")]


def test_a_pause_with_an_absence_adds_up(session):
    case = ten_day_case(session)
    volunteer = make_facilitator(session)
    volunteer.paused_until = dt.date(2026, 12, 3)  # three days
    session.flush()
    assert assess(session, case, volunteer).warnings == [Reason("pause", "paused until 3 December 2026")]
    away(session, volunteer, dt.date(2026, 12, 8), dt.date(2026, 12, 10))  # three more: six of ten
    assert assess(session, case, volunteer).reasons == [
        Reason("pause", "paused until 3 December 2026"), Reason("away", "away 8–10 December")]


def test_a_pause_that_ends_before_the_case_starts_does_not_count(session):
    case = ten_day_case(session)
    volunteer = make_facilitator(session)
    volunteer.paused_until = dt.date(2026, 11, 30)
    session.flush()
    result = assess(session, case, volunteer)
    assert result.reasons == [] and result.warnings == []


def test_away_dates_name_the_year_when_it_is_not_this_year():
    assert eligibility.day_range(dt.date(2027, 5, 12), dt.date(2027, 5, 26), TODAY) == "12–26 May 2027"
    assert eligibility.day_range(dt.date(2026, 12, 28), dt.date(2027, 1, 3), TODAY) == \
        "28 December 2026 – 3 January 2027"
    assert eligibility.day_range(dt.date(2026, 12, 24), dt.date(2026, 12, 24), TODAY) == "24 December"


# --- conflicts ----------------------------------------------------------------------------------


def case_with(session, *parties, district="Canterbury"):
    return make_waiting_case(session, district=district, parties=list(parties))


def test_a_person_conflict_matches_without_accents_apostrophes_or_case(session):
    case = case_with(session, party(PartyRole.HARMED_PERSON, "Siân O'Brien"),
                     party(PartyRole.PERSON_RESPONSIBLE, "Tom Price"))
    volunteer = make_facilitator(session)
    declare(session, volunteer, ConflictKind.PERSON, "sian  obrien")
    assert assess(session, case, volunteer).reasons == [
        Reason("conflict", "declared a conflict of interest with a person on this case (sian  obrien)")]


def test_a_person_conflict_matches_when_every_declared_word_is_in_the_name(session):
    case = case_with(session, party(PartyRole.HARMED_PERSON, "Jamie Ní Bhriain-Smith"),
                     party(PartyRole.PERSON_RESPONSIBLE, "Tom Price"))
    by_words, by_initial, other, withdrawn = (make_facilitator(session) for _ in range(4))
    declare(session, by_words, ConflictKind.PERSON, "Jamie Smith")
    declare(session, by_initial, ConflictKind.PERSON, "J. Smith")
    declare(session, other, ConflictKind.PERSON, "Jamie Jones")
    declare(session, other, ConflictKind.PERSON, "   ")  # names nobody
    declare(session, withdrawn, ConflictKind.PERSON, "Tom Price", withdrawn=True)
    assert assess(session, case, by_words).reasons == [
        Reason("conflict", "declared a conflict of interest with a person on this case (Jamie Smith)")]
    assert assess(session, case, by_initial).reasons == [
        Reason("conflict", "declared a conflict of interest with a person on this case (J. Smith)")]
    assert assess(session, case, other).eligible
    assert assess(session, case, withdrawn).eligible


def test_a_place_conflict_matches_the_district_or_a_partys_address(session):
    case = case_with(session, party(PartyRole.HARMED_PERSON, "Ann Lee", "1 Orchard Row, Canterbury CT1 1AA"),
                     party(PartyRole.PERSON_RESPONSIBLE, "Tom Price", "22 Mill Lane, Whitstable CT5 2BB"),
                     district="Swale")
    district, address, elsewhere, person_named_like_a_place = (make_facilitator(session) for _ in range(4))
    declare(session, district, ConflictKind.PLACE, "SWALE")
    declare(session, address, ConflictKind.PLACE, "Mill Lane, Whitstable")
    declare(session, elsewhere, ConflictKind.PLACE, "Dover")
    declare(session, person_named_like_a_place, ConflictKind.PERSON, "Whitstable")
    assert assess(session, case, district).reasons == [
        Reason("conflict", "declared a conflict of interest with a place on this case (SWALE)")]
    assert assess(session, case, address).reasons == [
        Reason("conflict", "declared a conflict of interest with a place on this case (Mill Lane, Whitstable)")]
    assert assess(session, case, elsewhere).eligible
    assert assess(session, case, person_named_like_a_place).eligible


def test_names_are_normalised_for_matching():
    assert eligibility.name_words("  Siân  O’Brien-Smith ") == ["sian", "obrien", "smith"]
    assert eligibility.names_match("O Brien", "Siân O'Brien") is False  # "o" alone is an initial of "obrien"…
    assert eligibility.names_match("sian o brien", "Siân O'Brien")      # …and equal once spaces are collapsed
    assert not eligibility.names_match("", "Siân O'Brien")


# --- sensitive ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("is_sensitive", "is_complex", "experience", "eligible"), [
    (True, False, ExperienceLevel.EXPERIENCED, False),
    (False, True, ExperienceLevel.NEW, False),
    (True, True, ExperienceLevel.SPECIALIST, True),
    (False, False, ExperienceLevel.NEW, True),
])
def test_sensitive_and_complex_cases_need_a_specialist(session, is_sensitive, is_complex, experience, eligible):
    case = make_waiting_case(session, is_sensitive=is_sensitive, needs={"is_complex": is_complex})
    volunteer = make_facilitator(session, experience=experience)
    expected = [] if eligible else [Reason("sensitive", "not trained for sensitive and complex cases")]
    assert assess(session, case, volunteer).reasons == expected


# --- every reason at once, for many people, in a constant number of queries ---------------------


def test_every_reason_is_given_not_just_the_first(session):
    case = make_waiting_case(session, is_sensitive=True)
    volunteer = make_facilitator(session, status=VolunteerStatus.TRAINING, trained=False, max_cases=1)
    make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), volunteer.user)
    assert [reason.rule for reason in assess(session, case, volunteer).reasons] == [
        "status", "training", "capacity", "sensitive"]


def count_statements(session, action):
    statements = []

    def counted(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", counted)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_number_of_volunteers(session):
    case = make_waiting_case(session)
    volunteers = [make_facilitator(session, max_cases=1) for _ in range(20)]
    for volunteer in volunteers:
        away(session, volunteer, dt.date(2026, 12, 1), dt.date(2026, 12, 3))
        declare(session, volunteer, ConflictKind.PERSON, "Nobody On The Case")
        make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), volunteer.user)
    volunteers[0].status_changed_at = NOW - dt.timedelta(weeks=20)
    session.commit()
    case_id, ids = case.id, [volunteer.user_id for volunteer in volunteers]

    def run(user_ids):
        session.expunge_all()
        results = {}
        count = count_statements(
            session, lambda: results.update(eligibility.assess(session, case_id, user_ids, today=TODAY)))
        return count, results

    two, two_results = run(ids[:2])
    twenty, twenty_results = run(ids)
    assert two == twenty
    assert twenty <= 25
    assert len(twenty_results) == 20
    assert all(result.reasons == [Reason("capacity", "holds 1 of 1 cases")] for result in twenty_results.values())
    assert two_results[ids[0]].warnings[0].text == "Supervision overdue since 28 September 2026"


# --- the reads eligibility is built on ----------------------------------------------------------


def test_a_case_without_recorded_needs_gets_the_defaults(session):
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION, parties=[
        party(PartyRole.HARMED_PERSON, "Ann Lee", language="Polish"),
        party(PartyRole.PERSON_RESPONSIBLE, "Tom Price", language="Welsh"),
        party(PartyRole.SUPPORTER, "Eve Lee", language="Polish"),
    ])
    assert queries.find_case_needs(session, case.id) is None
    needs = queries.needs_or_default(session, case, today=TODAY)  # a Monday: the Monday after is a week on
    assert needs.meeting_mask == availability.to_mask(
        {day: ["morning", "afternoon"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")})
    assert (needs.languages, needs.is_complex, needs.expected_hours, needs.facilitators_needed) == (
        ["Polish", "Welsh"], False, 20, 2)
    assert (needs.expected_start_on, needs.expected_end_on) == (START, dt.date(2027, 1, 25))
    assert queries.needs_or_default(session, case, today=dt.date(2026, 11, 29)).expected_start_on == START
    assert needs not in session
    recorded = set_needs(session, case, expected_hours=30)
    assert queries.needs_or_default(session, case, today=TODAY) is recorded


def test_loads_and_recent_allocations_by_user(session):
    busy, free = make_facilitator(session), make_facilitator(session)
    first = make_case(session, status=CaseStatus.ALLOCATED)
    make_allocation(session, first, busy.user, starts_on=TODAY - dt.timedelta(days=90))
    make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), busy.user,
                    starts_on=TODAY - dt.timedelta(days=91), ends_on=TODAY)
    waiting = make_waiting_case(session)
    offer(session, waiting, busy)
    assert queries.load_by_user(session, [busy.user_id, free.user_id]) == {busy.user_id: 2, free.user_id: 0}
    assert queries.load_by_user(session, [busy.user_id], exclude_case_id=waiting.id) == {busy.user_id: 1}
    assert queries.load_by_user(session) == {busy.user_id: 2}
    assert queries.recent_allocations_by_user(session, [busy.user_id, free.user_id], today=TODAY) == {
        busy.user_id: 1, free.user_id: 0}


def test_waiting_cases_have_no_allocation_or_live_offer_oldest_first(session):
    volunteer = make_facilitator(session)
    newer = make_waiting_case(session, received_on=dt.date(2026, 11, 18))
    older = make_waiting_case(session, received_on=dt.date(2026, 11, 2))
    offered = make_waiting_case(session)
    offer(session, offered, volunteer)
    declined = make_waiting_case(session, received_on=dt.date(2026, 11, 20))
    offer(session, declined, volunteer, OfferStatus.DECLINED)
    allocated = make_waiting_case(session)
    make_allocation(session, allocated, volunteer.user)
    make_case(session, status=CaseStatus.TRIAGE)
    assert queries.list_waiting_cases(session) == [older, newer, declined]
