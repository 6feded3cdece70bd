"""The bulk proposal: its eligibility and scores against the one-case answers (`eligibility.assess`,
`scoring.Score.of`), the vetting spells against vetting's own rule, and the proposal it stores."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select

from portal.allocation import bulk, eligibility, queries, scoring
from portal.allocation.models import AllocationProposal, ProposalItem
from portal.cases.models import CaseStatus, PartyRole
from portal.cases.services import PartyDetails
from portal.core import settings
from portal.core.audit import AuditEntry
from portal.supervision import rules as supervision_rules
from portal.volunteers.profiles import availability
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    Volunteer,
    VolunteerAbsence,
    VolunteerStatus,
)
from portal.volunteers.vetting.models import CheckKind, CheckStatus, VettingCheck
from portal.volunteers.vetting.queries import clearance_of
from portal.volunteers.vetting.rules import rules_from_setting
from tests.allocation.builders import (
    NOW,
    START,
    TODAY,
    make_coordinator,
    make_facilitator,
    make_waiting_case,
)
from tests.cases.builders import make_allocation, make_case

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
MORNINGS = {day: ["morning"] for day in WEEKDAYS}
EVENINGS = {day: ["evening"] for day in WEEKDAYS}
SLOTS = availability.SLOTS


def random_pattern(rng: random.Random) -> dict[str, list[str]]:
    return availability.from_mask(rng.randrange(1, 1 << len(SLOTS)))


def random_world(session, seed: int) -> None:
    """Volunteers and waiting cases that exercise every rule: vetting cleared, lapsing in the period,
    lapsed or missing; training; status; case limits with allocations held; pauses and absences for
    some or most of the period; conflicts with people and places; sensitive and complex cases."""
    rng = random.Random(seed)
    for _ in range(16):
        cleared_on = rng.choice([TODAY - dt.timedelta(days=30)] * 3 + [TODAY - dt.timedelta(days=350),
                                                                      TODAY - dt.timedelta(days=400)])
        volunteer = make_facilitator(
            session, status=rng.choice([VolunteerStatus.ACTIVE] * 5 + [VolunteerStatus.TRAINING]),
            experience=rng.choice(list(ExperienceLevel)), districts=rng.sample(["Canterbury", "Dover", "Thanet"], 2),
            pattern=random_pattern(rng), languages=rng.sample(["English", "polish", "Welsh"], rng.randint(1, 2)),
            max_cases=rng.randint(1, 2), cleared=rng.random() < 0.85, trained=rng.random() < 0.85,
            cleared_on=cleared_on,
        )
        if rng.random() < 0.3:
            make_allocation(session, make_case(session, status=CaseStatus.ALLOCATED), volunteer.user,
                            starts_on=TODAY - dt.timedelta(days=rng.randint(1, 200)))
        if rng.random() < 0.25:
            volunteer.paused_until = START + dt.timedelta(days=rng.choice([5, 30]))
        if rng.random() < 0.3:
            first = START + dt.timedelta(days=rng.randint(-3, 20))
            session.add(VolunteerAbsence(volunteer=volunteer, starts_on=first,
                                         ends_on=first + dt.timedelta(days=rng.choice([4, 26]))))
        if rng.random() < 0.3:
            kind, name = rng.choice([(ConflictKind.PERSON, "aoife oconnor"), (ConflictKind.PERSON, "J. Smith"),
                                     (ConflictKind.PLACE, "Whitstable"), (ConflictKind.PLACE, "Dover")])
            session.add(ConflictOfInterest(volunteer=volunteer, kind=kind, name=name, declared_at=NOW))
        if rng.random() < 0.2:
            volunteer.status_changed_at = NOW - dt.timedelta(weeks=20)  # supervision overdue by now
    for _ in range(6):
        start = rng.choice([START, TODAY - dt.timedelta(days=7)])
        make_waiting_case(
            session, district=rng.choice(["Canterbury", "Dover", "Thanet"]), is_sensitive=rng.random() < 0.2,
            needs={"is_complex": rng.random() < 0.15, "languages": rng.sample(["English", "Polish", "Welsh"],
                                                                              rng.randint(0, 2)),
                   "facilitators_needed": rng.choice([1, 2]), "pattern": random_pattern(rng),
                   "expected_start_on": start, "expected_end_on": start + dt.timedelta(weeks=6)},
        )
    session.flush()


def bulk_eligibility(session) -> dict[tuple[int, int], bool]:
    pool = bulk.load_pool(session, today=TODAY)
    views = bulk._views(session, queries.list_waiting_cases(session), today=TODAY)
    found = {}
    for view in views:
        allowed = bulk.eligible_for(pool, view, today=TODAY)
        for row, user_id in enumerate(pool.user_id.tolist()):
            found[(view.case.id, user_id)] = bool(allowed[row])
    return found


@pytest.mark.parametrize("blocks", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_eligibility_equals_assess_for_every_case_and_volunteer(session, seed, blocks):
    settings.set_setting(session, supervision_rules.BLOCKS_SETTING, blocks)
    random_world(session, seed)
    user_ids = [user_id for (user_id,) in session.execute(select(Volunteer.user_id))]
    found = bulk_eligibility(session)

    compared = eligible = 0
    for case in queries.list_waiting_cases(session):
        for user_id, assessment in eligibility.assess(session, case, user_ids, today=TODAY).items():
            assert found.get((case.id, user_id), False) is assessment.eligible, (case.id, assessment)
            compared += 1
            eligible += assessment.eligible
    assert compared == 6 * 16
    assert 0 < eligible < compared  # the data set has both answers


def test_bulk_scores_equal_score_of_for_every_pairing(session):
    random_world(session, 7)
    settings.set_setting(session, scoring.WEIGHTS_SETTING, {"availability": 40, "district": 7, "recent": 13})
    weights = scoring.get_weights(session)
    pool = bulk.load_pool(session, today=TODAY)
    loads = queries.load_by_user(session, pool.user_id.tolist())
    recents = queries.recent_allocations_by_user(session, pool.user_id.tolist(), today=TODAY)
    volunteers = {v.user_id: v for v in session.scalars(select(Volunteer))}

    checked = 0
    views = bulk._views(session, queries.list_waiting_cases(session), today=TODAY)
    for view in views:
        totals = bulk.unrounded_scores(pool, view, weights)
        for row, user_id in enumerate(pool.user_id.tolist()):
            volunteer, needs = volunteers[user_id], view.needs
            spoken = {language.lower() for language in volunteer.languages}
            inputs = scoring.Inputs(
                overlap_slots=availability.count(volunteer.availability_mask & needs.meeting_mask),
                case_slots=availability.count(needs.meeting_mask),
                in_district=view.case.district in volunteer.districts,
                load=loads[user_id], max_cases=volunteer.max_cases, experience=volunteer.experience,
                languages_matched=sum(language.lower() in spoken for language in needs.languages),
                languages_needed=len(needs.languages), recent_allocations=recents[user_id],
            )
            assert round(float(totals[row]), 2) == scoring.Score.of(inputs, weights).total
            checked += 1
    assert checked == len(views) * len(pool) >= 6 * 5


def _check(kind, status, cleared=None, expires=None, decided=None, check_id=0) -> VettingCheck:
    return VettingCheck(id=check_id, kind=kind, status=status, cleared_on=cleared, expires_on=expires,
                        decided_on=decided, submitted_on=(cleared or decided or TODAY) - dt.timedelta(days=10))


def random_history(rng: random.Random) -> list[VettingCheck]:
    checks = []
    for number in range(rng.randint(0, 5)):
        kind = rng.choice([CheckKind.NPPV, CheckKind.REFERENCES, CheckKind.DBS])
        status = rng.choice([CheckStatus.CLEARED, CheckStatus.LAPSED, CheckStatus.REFUSED, CheckStatus.SUBMITTED,
                             CheckStatus.WITHDRAWN])
        day = TODAY + dt.timedelta(days=rng.randint(-400, 60))
        if status in (CheckStatus.CLEARED, CheckStatus.LAPSED):
            expires = day + dt.timedelta(days=rng.randint(30, 400)) if rng.random() < 0.8 else None
            checks.append(_check(kind, status, cleared=day, expires=expires, check_id=number))
        elif status in (CheckStatus.REFUSED, CheckStatus.WITHDRAWN):
            checks.append(_check(kind, status, decided=day, check_id=number))
        else:
            checks.append(_check(kind, status, check_id=number))
    return checks


@pytest.mark.parametrize("seed", range(40))
def test_cleared_spells_agree_with_vettings_own_rule_on_every_day(seed):
    rng = random.Random(seed)
    rules = rules_from_setting({"dbs": {"required": seed % 2 == 0}})
    required = [kind for kind, rule in rules.items() if rule.required]
    history = random_history(rng)
    by_kind: dict = {}
    for check in history:
        by_kind.setdefault(check.kind, []).append((check.status, check.cleared_on, check.expires_on, check.decided_on))

    spells = bulk.cleared_spells(by_kind, required)

    for offset in range(-420, 480, 3):
        day = TODAY + dt.timedelta(days=offset)
        in_spell = any(start <= day < end for start, end in spells)
        assert in_spell is clearance_of(history, rules, day).cleared, (day, spells)


# ---------------------------------------------------------------------------------------------
# The proposal


def test_proposal_staffs_cases_within_limits_with_the_experienced_facilitator_as_lead(session):
    coordinator = make_coordinator(session)
    first = make_waiting_case(session)
    second = make_waiting_case(session, needs={"facilitators_needed": 1})
    lone = make_waiting_case(session, district="Dover", is_sensitive=True)  # nobody here is a specialist
    new = make_facilitator(session, name="Nell New", experience=ExperienceLevel.NEW, max_cases=2)
    other_new = make_facilitator(session, name="Nia New", experience=ExperienceLevel.NEW, max_cases=2)
    old_hand = make_facilitator(session, name="Olu Experienced", max_cases=1)
    evenings = make_facilitator(session, name="Eve Evenings", pattern=EVENINGS, max_cases=1)

    proposal = bulk.propose(session, actor=coordinator, now=NOW)

    items = {item.case_id: item for item in proposal.items}
    assert proposal.cases_considered == 3
    assert set(items) == {first.id, second.id}
    assert lone.id not in items and [case.id for case in bulk.unstaffed_cases(session, proposal)] == [lone.id]
    taken = [user_id for item in proposal.items for user_id in (item.lead_user_id, item.co_user_id) if user_id]
    assert taken.count(old_hand.user_id) <= 1 and taken.count(evenings.user_id) <= 1
    for item in proposal.items:
        people = {item.lead_user_id, item.co_user_id}
        assert not {new.user_id, other_new.user_id} <= people  # never two new facilitators together
        if item.co_user_id in (new.user_id, other_new.user_id):
            assert item.lead_user_id in (old_hand.user_id, evenings.user_id)
    assert items[second.id].co_user_id is None
    assert proposal.total_score == pytest.approx(sum(item.score for item in proposal.items))
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "allocation.proposal_created"))
    assert entry is not None and entry.subject_id == proposal.id


def test_a_pair_with_no_time_in_common_is_proposed_with_a_note_saying_so(session):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session, needs={"pattern": {day: ["morning", "evening"] for day in WEEKDAYS}})
    mornings = make_facilitator(session, pattern=MORNINGS, experience=ExperienceLevel.SPECIALIST)
    evenings = make_facilitator(session, pattern=EVENINGS, experience=ExperienceLevel.NEW)

    proposal = bulk.propose(session, actor=coordinator, now=NOW)

    item = session.scalar(select(ProposalItem).where(ProposalItem.proposal_id == proposal.id))
    assert (item.case_id, item.lead_user_id, item.co_user_id) == (case.id, mornings.user_id, evenings.user_id)
    assert item.note == bulk.NO_SHARED_TIME


def test_the_solver_maximises_the_total_rather_than_giving_each_case_its_best(session):
    # One place each; the Canterbury specialist scores best for both cases, but only the Dover case
    # has nobody else, so the total is highest with the specialist in Dover.
    coordinator = make_coordinator(session)
    canterbury = make_waiting_case(session, needs={"facilitators_needed": 1})
    dover = make_waiting_case(session, district="Dover", needs={"facilitators_needed": 1})
    star = make_facilitator(session, experience=ExperienceLevel.SPECIALIST, max_cases=1,
                            districts=("Canterbury", "Dover"))
    local = make_facilitator(session, max_cases=1)

    proposal = bulk.propose(session, actor=coordinator, now=NOW)

    assert {item.case_id: item.lead_user_id for item in proposal.items} == {
        canterbury.id: local.user_id, dover.id: star.user_id,
    }


def test_a_case_with_no_recorded_needs_uses_the_defaults_and_parties_languages(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=CaseStatus.AWAITING_ALLOCATION, parties=[
        PartyDetails(role=PartyRole.HARMED_PERSON, name="Ola Nowak", interpreter_language="Polish"),
        PartyDetails(role=PartyRole.PERSON_RESPONSIBLE, name="Sam Dee"),
    ])
    speaker = make_facilitator(session, languages=("English", "Polish"))
    make_facilitator(session, languages=("English",), experience=ExperienceLevel.NEW)

    proposal = bulk.propose(session, actor=coordinator, now=NOW)

    assert [(item.case_id, item.lead_user_id) for item in proposal.items] == [(case.id, speaker.user_id)]
    assert session.get(AllocationProposal, proposal.id).cases_considered == 1


def test_nothing_waiting_gives_an_empty_proposal(session):
    proposal = bulk.propose(session, actor=make_coordinator(session), now=NOW)

    assert (proposal.cases_considered, proposal.items, proposal.total_score) == (0, [], 0.0)
    assert bulk.unstaffed_cases(session, proposal) == []


def test_only_each_cases_best_candidates_become_edges_with_their_exact_scores(session):
    random_world(session, 11)
    rng = random.Random(11)
    for _ in range(8):
        make_facilitator(session, pattern=random_pattern(rng), experience=rng.choice(list(ExperienceLevel)),
                         districts=rng.sample(["Canterbury", "Dover", "Thanet"], 2), max_cases=rng.randint(1, 3))
    weights = scoring.get_weights(session)

    every = bulk.build_input(session, today=TODAY, top_k=1000)
    best_two = bulk.build_input(session, today=TODAY, top_k=2)

    for c in range(len(every.views)):
        all_scores = sorted((edge.score for edge in every.edges if edge.case == c), reverse=True)
        kept = sorted((edge.score for edge in best_two.edges if edge.case == c), reverse=True)
        assert kept == all_scores[:2]
    assert len(best_two.edges) < len(every.edges) // 2
    pool = best_two.pool
    for edge in best_two.edges:
        totals = bulk.unrounded_scores(pool, best_two.views[edge.case], weights)
        assert edge.score == round(float(totals[edge.volunteer]), 2)
        assert edge.is_new is bool(pool.experience[edge.volunteer] == 0)



@pytest.mark.parametrize(
    ("experience", "note"), [(ExperienceLevel.NEW, bulk.NEW_ALONE), (ExperienceLevel.EXPERIENCED, bulk.ONLY_ONE)]
)
def test_a_case_with_one_facilitator_found_is_flagged_for_the_coordinator(session, experience, note):
    coordinator = make_coordinator(session)
    case = make_waiting_case(session, district="Canterbury")
    make_facilitator(session, name="The Only One", experience=experience)
    proposal = bulk.propose(session, actor=coordinator, now=NOW)
    assert [(item.case_id, item.co_user_id, item.note) for item in proposal.items] == [(case.id, None, note)]
