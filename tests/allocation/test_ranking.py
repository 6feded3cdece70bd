"""Ranking the facilitators for one case: worked examples whose order and scores are derived by hand,
the weights setting, the exact rules applied after the database's preselection, and a constant
number of statements.

Default weights: availability 35, district 20, caseload 15, experience 10, language 10, recent 10.
The waiting case is in Canterbury; its parties meet on weekday mornings and afternoons (10 periods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.allocation import scoring
from portal.allocation.models import AllocationOffer, OfferStatus
from portal.allocation.ranking import POOL_FACTOR, SHORTLIST_FACTOR, explain, rank_candidates
from portal.cases.models import AllocationRole, CaseStatus
from portal.core import settings
from portal.core.errors import NotFound
from portal.volunteers.profiles.models import ExperienceLevel, VolunteerStatus
from tests.allocation.builders import NOW, START, TODAY, make_facilitator, make_waiting_case
from tests.builders import make_user
from tests.cases.builders import make_allocation, make_case

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
MORNINGS = {day: ["morning"] for day in WEEKDAYS}
EVENINGS = {day: ["evening"] for day in WEEKDAYS}


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


def rules(explanation) -> set[str]:
    """The rules that refuse the volunteer, from an explanation."""
    return {reason.rule for reason in explanation.assessment.reasons}


def hold_case(session, volunteer, *, starts_on: dt.date = TODAY - dt.timedelta(days=200)):
    """Give the volunteer a current allocation on another (allocated) case."""
    other = make_case(session, status=CaseStatus.ALLOCATED)
    return make_allocation(session, other, volunteer.user, role=AllocationRole.CO_FACILITATOR, starts_on=starts_on)


def offer(session, case, volunteer, status: OfferStatus = OfferStatus.OFFERED) -> AllocationOffer:
    row = AllocationOffer(
        case_id=case.id, user_id=volunteer.user_id, role=AllocationRole.LEAD, status=status, offered_at=NOW,
        respond_by=NOW + dt.timedelta(days=3),
    )
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def worked_example(session):
    """Four facilitators whose scores for the Canterbury case are worked out by hand below."""
    case = make_waiting_case(session)
    amira = make_facilitator(session, name="Amira Haddad")
    bryn = make_facilitator(
        session, name="Bryn Jones", experience=ExperienceLevel.SPECIALIST, districts=("Dover",),
        pattern={"monday": ["morning"], "tuesday": ["morning"]},
    )
    chidi = make_facilitator(session, name="Chidi Okafor", experience=ExperienceLevel.NEW, max_cases=3)
    hold_case(session, chidi, starts_on=TODAY - dt.timedelta(days=14))
    dee = make_facilitator(session, name="Dee Walsh", pattern=MORNINGS)
    return case, amira, bryn, chidi, dee


def test_worked_example_ranks_by_the_weighted_sum_of_the_parts(session, worked_example):
    case, amira, bryn, chidi, dee = worked_example

    ranking = rank_candidates(session, case, today=TODAY)

    # Amira: 35×10/10 + 20×1 + 15×(1 − 0/2) + 10×0.75 + 10×1 (no language needed) + 10×(1 − 0/3)
    #      = 35 + 20 + 15 + 7.5 + 10 + 10 = 97.5
    # Chidi (new; holds 1 of 3, started 14 days ago so also 1 recent):
    #        35 + 20 + 15×(1 − 1/3) + 10×0 + 10 + 10×(1 − 1/3) = 35 + 20 + 10 + 0 + 10 + 6.667 = 81.67
    # Dee (weekday mornings only, 5 of the 10 periods): 35×5/10 + 20 + 15 + 7.5 + 10 + 10 = 80
    # Bryn (specialist, Dover, Monday and Tuesday mornings): 35×2/10 + 0 + 15 + 10×1 + 10 + 10 = 52
    assert [c.user_id for c in ranking.candidates] == [amira.user_id, chidi.user_id, dee.user_id, bryn.user_id]
    assert [c.score.total for c in ranking.candidates] == [97.5, 81.67, 80.0, 52.0]
    assert ranking.considered == 4
    chidi_row = ranking.candidates[1]
    assert chidi_row.name == "Chidi Okafor"
    assert chidi_row.inputs == scoring.Inputs(
        overlap_slots=10, case_slots=10, in_district=True, load=1, max_cases=3,
        experience=ExperienceLevel.NEW, languages_matched=0, languages_needed=0, recent_allocations=1,
    )
    assert chidi_row.score.points == {
        "availability": 35.0, "district": 20.0, "caseload": 10.0, "experience": 0.0, "language": 10.0,
        "recent": 6.7,
    }
    bryn_row = ranking.candidates[3]
    assert (bryn_row.inputs.overlap_slots, bryn_row.inputs.in_district) == (2, False)
    assert bryn_row.districts == ["Dover"] and bryn_row.drives is True


def test_changing_the_weights_setting_changes_the_order(session, worked_example):
    case, amira, bryn, chidi, dee = worked_example
    settings.set_setting(session, scoring.WEIGHTS_SETTING, {
        "availability": 0, "district": 0, "caseload": 0, "experience": 100, "language": 0, "recent": 0,
    })

    ranking = rank_candidates(session, case, today=TODAY)

    # Experience alone: Bryn 100×1 = 100; Amira and Dee 100×0.75 = 75 (tie: lower user id first,
    # Amira was made first); Chidi 100×0 = 0.
    assert [c.user_id for c in ranking.candidates] == [bryn.user_id, amira.user_id, dee.user_id, chidi.user_id]
    assert [c.score.total for c in ranking.candidates] == [100.0, 75.0, 75.0, 0.0]


def test_languages_are_matched_whatever_their_case(session):
    case = make_waiting_case(session, needs={"languages": ["Polish", "welsh"]})
    both = make_facilitator(session, languages=("English", "Polish", "Welsh"))
    one = make_facilitator(session, languages=("english", "POLISH"))
    neither = make_facilitator(session, languages=("English",))

    ranking = rank_candidates(session, case, today=TODAY)

    # both:    35 + 20 + 15 + 7.5 + 10×2/2 + 10 = 97.5
    # one:     35 + 20 + 15 + 7.5 + 10×1/2 + 10 = 92.5
    # neither: 35 + 20 + 15 + 7.5 + 10×0/2 + 10 = 87.5
    assert [(c.user_id, c.score.total) for c in ranking.candidates] == [
        (both.user_id, 97.5), (one.user_id, 92.5), (neither.user_id, 87.5),
    ]
    assert ranking.candidates[1].inputs.languages_matched == 1


def test_live_offers_on_other_cases_count_as_load_and_people_already_offered_this_case_are_left_out(session):
    case = make_waiting_case(session)
    offered_here = make_facilitator(session)
    offered_elsewhere = make_facilitator(session)
    declined_elsewhere = make_facilitator(session)
    offer(session, case, offered_here)
    offer(session, make_waiting_case(session), offered_elsewhere)
    offer(session, make_waiting_case(session), declined_elsewhere, OfferStatus.DECLINED)

    ranking = rank_candidates(session, case, today=TODAY)

    # declined elsewhere holds nothing: 97.5; offered elsewhere holds 1 of 2: 35 + 20 + 15×(1 − 1/2)
    # + 7.5 + 10 + 10 = 90 (an offer is not an allocation, so nothing recent).
    assert [(c.user_id, c.score.total) for c in ranking.candidates] == [
        (declined_elsewhere.user_id, 97.5), (offered_elsewhere.user_id, 90.0),
    ]


def test_python_totals_follow_the_database_order(session):
    case = make_waiting_case(session, needs={"languages": ["Urdu"]})
    patterns = [MORNINGS, EVENINGS, {"monday": ["morning", "afternoon"]}, {"friday": ["afternoon"]}]
    levels = list(ExperienceLevel)
    for number in range(14):
        volunteer = make_facilitator(
            session, pattern=patterns[number % 4] | {"wednesday": ["afternoon"]},
            experience=levels[number % 3], districts=("Canterbury",) if number % 2 else ("Thanet",),
            languages=("Urdu",) if number % 5 == 0 else ("English",), max_cases=1 + number % 4,
        )
        if number % 3 == 0 and number % 4:
            hold_case(session, volunteer, starts_on=TODAY - dt.timedelta(days=number * 10))

    ranking = rank_candidates(session, case, today=TODAY, limit=20)

    totals = [c.score.total for c in ranking.candidates]
    assert len(totals) == 14 and len(set(totals)) > 5
    assert totals == sorted(totals, reverse=True)
    assert all(c.score == scoring.Score.of(c.inputs, scoring.get_weights(session)) for c in ranking.candidates)


def test_people_who_fail_the_rules_are_absent_but_explained(session, worked_example):
    case, amira, *_ = worked_example
    lapsed = make_facilitator(session, name="Lapsed Vetting", cleared=False)
    paused = make_facilitator(session, name="On A Long Pause")
    # The expected period is START to START + 42 days (43 days): a pause over 22 of them blocks.
    paused.paused_until = START + dt.timedelta(days=21)
    short_pause = make_facilitator(session, name="On A Short Pause")
    short_pause.paused_until = START + dt.timedelta(days=20)
    full = make_facilitator(session, name="Full Up", max_cases=1)
    hold_case(session, full)
    training = make_facilitator(session, name="Still Training", status=VolunteerStatus.TRAINING)
    session.flush()

    ranking = rank_candidates(session, case, today=TODAY)

    listed = {c.user_id: c for c in ranking.candidates}
    assert not set(listed) & {lapsed.user_id, paused.user_id, full.user_id, training.user_id}
    # A pause over 21 of the 43 days is shown as a warning, not a reason.
    assert [reason.rule for reason in listed[short_pause.user_id].warnings] == ["pause"]
    explanation = explain(session, case, lapsed.user_id, today=TODAY)
    assert not explanation.eligible
    assert rules(explanation) == {"vetting"}
    # Scored as if they could take it: the same 97.5 as Amira.
    assert explanation.score.total == 97.5
    assert "pause" in rules(explain(session, case, paused.user_id, today=TODAY))
    assert "status" in rules(explain(session, case, training.user_id, today=TODAY))
    full_explained = explain(session, case, full.user_id, today=TODAY)
    assert "capacity" in rules(full_explained)
    # Holds 1 of 1: caseload 15×max(0, 1 − 1/1) = 0, so 35 + 20 + 0 + 7.5 + 10 + 10 = 82.5.
    assert (full_explained.inputs.load, full_explained.score.total) == (1, 82.5)
    assert explain(session, case, amira.user_id, today=TODAY).eligible


def test_a_deactivated_account_is_not_suggested_but_is_explained(session):
    case = make_waiting_case(session)
    kept = make_facilitator(session)
    gone = make_facilitator(session)
    gone.user.is_deactivated = True
    session.flush()

    ranking = rank_candidates(session, case, today=TODAY)

    assert [c.user_id for c in ranking.candidates] == [kept.user_id]
    assert rules(explain(session, case, gone.user_id, today=TODAY)) == {"status"}


def test_explaining_someone_who_is_not_a_volunteer_is_not_found(session):
    case = make_waiting_case(session)
    with pytest.raises(NotFound):
        explain(session, case, make_user(session).id, today=TODAY)


def test_a_sensitive_case_is_ranked_among_specialists_only(session):
    case = make_waiting_case(session, is_sensitive=True)
    make_facilitator(session)
    specialist = make_facilitator(session, experience=ExperienceLevel.SPECIALIST)

    ranking = rank_candidates(session, case, today=TODAY)

    assert [c.user_id for c in ranking.candidates] == [specialist.user_id]


def test_when_the_top_of_the_list_is_ineligible_the_next_pool_is_fetched(session):
    case = make_waiting_case(session)
    # People who score 97.5 but whose vetting never cleared fill the whole first pool (limit 1).
    for _ in range(POOL_FACTOR):
        make_facilitator(session, cleared=False)
    # Cleared, in Dover: 35 + 0 + 15 + 7.5 + 10 + 10 = 77.5.
    dover = make_facilitator(session, districts=("Dover",))

    ranking = rank_candidates(session, case, today=TODAY, limit=1)

    assert [(c.user_id, c.score.total) for c in ranking.candidates] == [(dover.user_id, 77.5)]
    assert ranking.considered == POOL_FACTOR + 1  # a full pool, then Dover alone


def test_when_the_shortlist_cannot_hold_the_best_everyone_is_scored(session):
    case = make_waiting_case(session)
    # With limit 1 the shortlist holds SHORTLIST_FACTOR × POOL_FACTOR people by record points
    # (availability, district, experience, language): fill it, and one more, with people who hold
    # 1 of 1 cases. Their record points: 35 + 20 + 7.5 + 10 = 72.5 each.
    for _ in range(SHORTLIST_FACTOR * POOL_FACTOR + 1):
        hold_case(session, make_facilitator(session, max_cases=1, cleared=False, trained=False))
    # Record points 35 + 0 + 7.5 + 10 = 52.5, so left out of the shortlist; in full
    # 35 + 0 + 15 + 7.5 + 10 + 10 = 77.5.
    dover = make_facilitator(session, districts=("Dover",))

    ranking = rank_candidates(session, case, today=TODAY, limit=1)

    assert [(c.user_id, c.score.total) for c in ranking.candidates] == [(dover.user_id, 77.5)]


def test_the_number_of_statements_does_not_grow_with_the_volunteers(session):
    case = make_waiting_case(session)
    for _ in range(3):
        make_facilitator(session)
    session.commit()
    with counting_statements(session) as few:
        assert len(rank_candidates(session, case, today=TODAY).candidates) == 3
    for _ in range(27):
        hold_case(session, make_facilitator(session))
    session.commit()
    session.expire_all()
    with counting_statements(session) as many:
        assert len(rank_candidates(session, case, today=TODAY).candidates) == 10

    assert many() == few()


def test_suggested_pairs_come_from_the_ranked_candidates(session, worked_example):
    case, amira, bryn, chidi, dee = worked_example

    ranking = rank_candidates(session, case, today=TODAY)

    # Amira + Chidi = 97.5 + 81.67 = 179.17; Amira + Dee = 177.5; Chidi + Dee = 161.67 (Dee leads:
    # experienced over new). Bryn shares Monday and Tuesday mornings with everyone: Amira + Bryn = 149.5.
    assert [(p.lead.user_id, p.co.user_id, p.total) for p in ranking.pairs] == [
        (amira.user_id, chidi.user_id, 179.17), (amira.user_id, dee.user_id, 177.5),
        (dee.user_id, chidi.user_id, 161.67),
    ]
    assert ranking.needs.facilitators_needed == 2
