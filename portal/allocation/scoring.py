"""The ranking score: its parts, their weights (an admin setting) and how they combine.

Each part is a number from 0 to 1 (1 is best for the case); the score is the weighted sum, out of
the total of the weights (100 with the defaults). Ranking (one case, in SQL then Python) and the bulk
proposal (many cases, with numpy) both use `PARTS`, `part_values` and `combine`, so the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.core import settings
from portal.volunteers.profiles.models import ExperienceLevel

WEIGHTS_SETTING = "allocation.weights"
OFFER_HOURS_SETTING = "allocation.offer_response_hours"
DEFAULT_OFFER_HOURS = 72
RECENT_DAYS = 90       # allocations that started this many days ago or less count as recent
RECENT_CAP = 3         # three or more recent allocations scores 0 for "recent allocations"

PARTS: tuple[tuple[str, str], ...] = (
    ("availability", "Availability overlap with the case's meeting times"),
    ("district", "Works in the case's district"),
    ("caseload", "Spare capacity (spreads work fairly)"),
    ("experience", "Experience"),
    ("language", "Speaks the languages the case needs"),
    ("recent", "Few recent allocations"),
)
SHORT_LABELS: dict[str, str] = {
    "availability": "Availability", "district": "District", "caseload": "Spare capacity",
    "experience": "Experience", "language": "Languages", "recent": "Few recent cases",
}
DEFAULT_WEIGHTS: dict[str, int] = {
    "availability": 35, "district": 20, "caseload": 15, "experience": 10, "language": 10, "recent": 10,
}
EXPERIENCE_VALUE: dict[ExperienceLevel, float] = {
    ExperienceLevel.NEW: 0.0, ExperienceLevel.EXPERIENCED: 0.75, ExperienceLevel.SPECIALIST: 1.0,
}


def get_weights(session: Session) -> dict[str, int]:
    """The weights in force: the defaults with the admin's changes (whole numbers 0–100)."""
    stored = settings.get_setting(session, WEIGHTS_SETTING) or {}
    return {name: int(stored.get(name, default)) for name, default in DEFAULT_WEIGHTS.items()}


def get_offer_hours(session: Session) -> int:
    """How long a facilitator has to accept or decline an offer, in hours."""
    return int(settings.get_setting(session, OFFER_HOURS_SETTING, DEFAULT_OFFER_HOURS))


@dataclass(frozen=True)
class Inputs:
    """What the score of one volunteer for one case is made from (counts, not yet fractions)."""

    overlap_slots: int        # weekday periods both the volunteer and the case have
    case_slots: int           # weekday periods the case has (at least 1)
    in_district: bool
    load: int                 # current allocations plus live offers
    max_cases: int
    experience: ExperienceLevel
    languages_matched: int
    languages_needed: int
    recent_allocations: int


def part_values(inputs: Inputs) -> dict[str, float]:
    """Each part from 0 to 1, keyed by the names in PARTS."""
    return {
        "availability": inputs.overlap_slots / max(inputs.case_slots, 1),
        "district": 1.0 if inputs.in_district else 0.0,
        "caseload": max(0.0, 1.0 - inputs.load / max(inputs.max_cases, 1)),
        "experience": EXPERIENCE_VALUE[ExperienceLevel(inputs.experience)],
        "language": 1.0 if inputs.languages_needed == 0 else inputs.languages_matched / inputs.languages_needed,
        "recent": 1.0 - min(inputs.recent_allocations, RECENT_CAP) / RECENT_CAP,
    }


def combine(parts: Mapping[str, float], weights: Mapping[str, int]) -> float:
    """The score: the weighted sum of the parts, rounded to 2 decimal places."""
    return round(sum(weights[name] * parts[name] for name, _label in PARTS), 2)


@dataclass(frozen=True)
class Score:
    """A volunteer's score for a case with the weighted points of each part, for showing."""

    total: float
    points: dict[str, float]   # part name -> weight * value, rounded to 1 place

    @classmethod
    def of(cls, inputs: Inputs, weights: Mapping[str, int]) -> Score:
        parts = part_values(inputs)
        return cls(
            total=combine(parts, weights),
            points={name: round(weights[name] * parts[name], 1) for name, _label in PARTS},
        )
