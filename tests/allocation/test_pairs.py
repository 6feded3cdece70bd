"""Pair rules: at least one experienced facilitator, the lead is the more experienced, and the two
share time with each other and with the case."""

from __future__ import annotations

from dataclasses import dataclass

from portal.allocation.models import CaseNeeds
from portal.allocation.pairs import suggest_pairs
from portal.allocation.scoring import Score
from portal.volunteers.profiles.availability import to_mask
from portal.volunteers.profiles.models import ExperienceLevel

NEW, EXPERIENCED, SPECIALIST = ExperienceLevel.NEW, ExperienceLevel.EXPERIENCED, ExperienceLevel.SPECIALIST
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
MORNINGS = to_mask({day: ["morning"] for day in WEEKDAYS})
AFTERNOONS = to_mask({day: ["afternoon"] for day in WEEKDAYS})
EVENINGS = to_mask({day: ["evening"] for day in WEEKDAYS})
DAYTIME = MORNINGS | AFTERNOONS


@dataclass(frozen=True)
class Person:
    """A ranked candidate as pairing sees it (the fields of ranking.Candidate it reads)."""

    user_id: int
    experience: ExperienceLevel
    availability_mask: int
    score: Score


def person(user_id: int, experience: ExperienceLevel, total: float, mask: int = DAYTIME) -> Person:
    return Person(user_id, experience, mask, Score(total=total, points={}))


def needs(*, meeting_mask: int = DAYTIME, facilitators_needed: int = 2) -> CaseNeeds:
    return CaseNeeds(meeting_mask=meeting_mask, facilitators_needed=facilitators_needed, languages=[])


def ids(pairs) -> list[tuple[int, int | None]]:
    return [(pair.lead.user_id, pair.co.user_id if pair.co else None) for pair in pairs]


def test_two_new_facilitators_are_never_paired_even_with_the_best_scores():
    candidates = [person(1, NEW, 95), person(2, NEW, 90), person(3, EXPERIENCED, 40)]

    pairs = suggest_pairs(candidates, needs())

    # The only pairs with an experienced facilitator: 3+1 = 40 + 95 = 135, then 3+2 = 40 + 90 = 130.
    assert ids(pairs) == [(3, 1), (3, 2)]
    assert [pair.total for pair in pairs] == [135, 130]


def test_people_with_no_time_in_common_are_never_paired():
    candidates = [person(1, EXPERIENCED, 90, MORNINGS), person(2, EXPERIENCED, 80, AFTERNOONS)]

    assert suggest_pairs(candidates, needs()) == []


def test_a_pair_must_share_time_with_the_case_as_well_as_with_each_other():
    candidates = [person(1, EXPERIENCED, 90, EVENINGS | MORNINGS), person(2, SPECIALIST, 80, EVENINGS | AFTERNOONS)]

    # They share evenings, but the parties meet on weekday afternoons only.
    assert suggest_pairs(candidates, needs(meeting_mask=AFTERNOONS)) == []
    pair, = suggest_pairs(candidates, needs(meeting_mask=AFTERNOONS | EVENINGS))
    assert pair.shared_mask == EVENINGS


def test_the_lead_is_the_more_experienced_of_the_two_whatever_their_scores():
    new_high, experienced_low = person(1, NEW, 99), person(2, EXPERIENCED, 10)
    specialist_low, experienced_high = person(3, SPECIALIST, 20), person(4, EXPERIENCED, 98)

    assert ids(suggest_pairs([new_high, experienced_low], needs())) == [(2, 1)]
    assert ids(suggest_pairs([experienced_high, specialist_low], needs())) == [(3, 4)]


def test_between_equally_experienced_people_the_higher_score_leads():
    assert ids(suggest_pairs([person(1, EXPERIENCED, 60), person(2, EXPERIENCED, 70)], needs())) == [(2, 1)]


def test_pairs_come_best_total_first_and_stop_at_the_limit():
    candidates = [person(1, SPECIALIST, 90), person(2, EXPERIENCED, 80), person(3, NEW, 70), person(4, NEW, 60)]

    pairs = suggest_pairs(candidates, needs(), limit=3)

    # 1+2 = 170, 1+3 = 160, 1+4 = 150 and 2+3 = 150 (tie: lower lead id first), 2+4 = 140; 3+4 never.
    assert ids(pairs) == [(1, 2), (1, 3), (1, 4)]
    assert ids(suggest_pairs(candidates, needs(), limit=10)) == [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4)]


def test_a_case_needing_one_facilitator_gets_experienced_singles_when_there_are_any():
    candidates = [person(1, NEW, 95), person(2, EXPERIENCED, 70), person(3, SPECIALIST, 80)]

    singles = suggest_pairs(candidates, needs(facilitators_needed=1))

    assert ids(singles) == [(3, None), (2, None)]
    assert singles[0].shared_mask == DAYTIME


def test_new_facilitators_are_suggested_alone_only_when_nobody_experienced_is_available():
    candidates = [person(1, NEW, 60), person(2, NEW, 75), person(3, EXPERIENCED, 90, EVENINGS)]

    # The experienced facilitator is free only in the evenings, when the parties cannot meet.
    assert ids(suggest_pairs(candidates, needs(facilitators_needed=1))) == [(2, None), (1, None)]
