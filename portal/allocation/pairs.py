"""Suggested lead and co-facilitator pairs for a case, from its ranked candidates.

A pair has at least one experienced facilitator (never two new ones); the lead is the more
experienced of the two (on a tie, the one with the higher score); and the two share at least one
weekday period with each other and with the case's meeting times. A case that needs one facilitator
gets single-person suggestions (`co` is None), led by experienced people when there are any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Protocol

from portal.allocation.models import CaseNeeds
from portal.allocation.scoring import Score
from portal.volunteers.profiles.models import ExperienceLevel

_SENIORITY = {ExperienceLevel.NEW: 0, ExperienceLevel.EXPERIENCED: 1, ExperienceLevel.SPECIALIST: 2}


class Facilitator(Protocol):
    """What pairing needs to know of a candidate (ranking.Candidate has it)."""

    user_id: int
    experience: ExperienceLevel
    availability_mask: int
    score: Score


@dataclass(frozen=True)
class Pair:
    """A suggested lead and co-facilitator (`co` None when the case needs one facilitator).

    `total` is the sum of their scores; `shared_mask` the weekday periods the case and both of them
    have (same encoding as `profiles.availability`)."""

    lead: Facilitator
    co: Facilitator | None
    total: float
    shared_mask: int


def _seniority(person: Facilitator) -> int:
    return _SENIORITY[ExperienceLevel(person.experience)]


def _lead_first(a: Facilitator, b: Facilitator) -> tuple[Facilitator, Facilitator]:
    """The more experienced leads; then the higher score; then, for a stable answer, the lower id."""
    key_a = (_seniority(a), a.score.total, -a.user_id)
    key_b = (_seniority(b), b.score.total, -b.user_id)
    return (a, b) if key_a >= key_b else (b, a)


def suggest_pairs(candidates: Sequence[Facilitator], needs: CaseNeeds, *, limit: int = 3) -> list[Pair]:
    """The best `limit` pairs (or single facilitators) from `candidates`, best total score first;
    ties go to the pair with the lower lead id, then the lower co-facilitator id."""
    meeting = needs.meeting_mask
    if needs.facilitators_needed == 1:
        available = [person for person in candidates if person.availability_mask & meeting]
        experienced = [person for person in available if _seniority(person) > 0]
        singles = [
            Pair(lead=person, co=None, total=person.score.total, shared_mask=person.availability_mask & meeting)
            for person in (experienced or available)
        ]
        singles.sort(key=lambda pair: (-pair.total, pair.lead.user_id))
        return singles[:limit]

    pairs = []
    for a, b in combinations(candidates, 2):
        if _seniority(a) == 0 and _seniority(b) == 0:
            continue
        shared = a.availability_mask & b.availability_mask & meeting
        if not shared:
            continue
        lead, co = _lead_first(a, b)
        pairs.append(Pair(lead=lead, co=co, total=round(lead.score.total + co.score.total, 2), shared_mask=shared))
    pairs.sort(key=lambda pair: (-pair.total, pair.lead.user_id, pair.co.user_id if pair.co else 0))
    return pairs[:limit]
