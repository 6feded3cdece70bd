"""The best facilitators for one case, with the parts of their scores, and why anyone else is not.

Ranking runs in two steps. One SQL statement preselects the volunteers who could take the case on
the plain facts (active, not paused for most of the expected period, under their case limit,
trained for sensitive and complex work when the case needs it) and scores them in the database
from the same `scoring.Inputs` the Python score uses, best first. To spare the joins and most of
the arithmetic, it first shortlists the volunteers whose records (availability, district,
experience, language) score best, and Python checks that nobody left out could have beaten the
rows it got, or asks again without the shortlist. Then the exact rules (`eligibility.assess`) run
on a pool from the top of that list only, and the Python score is computed for the survivors. The
SQL score is built with the same operations in the same order as `scoring.part_values` and
`scoring.combine`, so both give the same number and the SQL order is the order shown.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field

from sqlalchemy import (
    Date,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import case as case_when
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from portal.allocation import eligibility, queries, scoring
from portal.allocation.eligibility import Assessment, Reason
from portal.allocation.models import LIVE_OFFER_STATUSES, AllocationOffer, CaseNeeds
from portal.allocation.pairs import Pair, suggest_pairs
from portal.cases.models import Allocation, Case
from portal.core.errors import NotFound
from portal.volunteers.profiles import availability
from portal.volunteers.profiles.models import ExperienceLevel, Volunteer, VolunteerStatus

POOL_FACTOR = 2  # rows fetched from the database per pool, as a multiple of the number wanted
SHORTLIST_FACTOR = 10  # volunteers scored in full for the first pool, as a multiple of its size


@dataclass(frozen=True)
class Candidate:
    """An eligible volunteer for the case, with the inputs and parts of their score."""

    user_id: int
    name: str
    experience: ExperienceLevel
    drives: bool
    districts: list[str]
    availability_mask: int
    score: scoring.Score
    inputs: scoring.Inputs
    warnings: list[Reason] = field(default_factory=list)


@dataclass(frozen=True)
class Ranking:
    """The top candidates for a case, best first, and suggested pairs drawn from them.

    `considered` is how many volunteers were looked at closely: taken from the top of the
    database's list and assessed against every rule until enough candidates were found. (Counting
    everyone who passed the preselection as well would cost a fifth of the statement's time.)"""

    candidates: list[Candidate]
    considered: int
    needs: CaseNeeds
    pairs: list[Pair]


@dataclass(frozen=True)
class Explanation:
    """Why one volunteer is or is not suggested: their assessment and their score, even when they
    are not eligible."""

    assessment: Assessment
    inputs: scoring.Inputs
    score: scoring.Score
    availability_mask: int

    @property
    def eligible(self) -> bool:
        return self.assessment.eligible


def _like_escaped(value: str) -> str:
    """`value` as a LIKE pattern matching it anywhere, with "/" as the escape character."""
    escaped = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _json_text_contains(column, name: str, *, ignore_case: bool = False) -> ColumnElement[bool]:
    # Portable across SQLite and PostgreSQL: search the stored JSON text for the encoded value
    # (the pattern, bound as `name`, comes from `_json_pattern`).
    text_value = cast(column, String)
    if ignore_case:
        text_value = func.lower(text_value)
    return text_value.like(bindparam(name, type_=String), escape="/")


def _json_pattern(value: str, *, ignore_case: bool = False) -> str:
    return _like_escaped(json.dumps(value.lower() if ignore_case else value))


class _SharedSlots(FunctionElement):
    """_SharedSlots(mask, meeting_mask, *bits): how many weekday periods `mask` shares with the
    meeting mask, whose set bits are `bits`. Portable: a sum of one CASE per bit; on PostgreSQL,
    bit_count (PostgreSQL 14 or later), which takes a fifth off the ranking statement's time."""

    type = Integer()
    name = "shared_slots"
    inherit_cache = True


@compiles(_SharedSlots)
def _shared_slots_portable(element, compiler, **kw):
    mask, _meeting, *bits = element.clauses
    if not bits:
        return "0"
    return " + ".join(
        f"CASE WHEN ({compiler.process(mask, **kw)} & {compiler.process(bit, **kw)}) <> 0 THEN 1 ELSE 0 END"
        for bit in bits
    )


@compiles(_SharedSlots, "postgresql")
def _shared_slots_postgresql(element, compiler, **kw):
    mask, meeting, *_bits = element.clauses
    width = len(availability.SLOTS)
    return f"bit_count(CAST(({compiler.process(mask, **kw)} & {compiler.process(meeting, **kw)}) AS BIT({width})))"


def _count_true(conditions: list[ColumnElement[bool]]) -> ColumnElement[int]:
    """How many of `conditions` hold, as one SQL expression (0 for none)."""
    if not conditions:
        return literal(0)
    terms = [case_when((condition, 1), else_=0) for condition in conditions]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _allocation_counts():
    """Per user, in one pass over the allocations: current allocations on cases other than the one
    being allocated (`case_id`), and allocations started from `recent_from` to `today`."""
    current = and_(Allocation.ends_on.is_(None), Allocation.case_id != bindparam("case_id"))
    recent = and_(
        Allocation.starts_on >= bindparam("recent_from", type_=Date),
        Allocation.starts_on <= bindparam("today", type_=Date),
    )
    return (
        select(
            Allocation.user_id,
            func.sum(case_when((current, 1), else_=0)).label("current"),
            func.sum(case_when((recent, 1), else_=0)).label("recent"),
        )
        .where(or_(Allocation.ends_on.is_(None), Allocation.starts_on >= bindparam("recent_from", type_=Date)))
        .group_by(Allocation.user_id)
        .subquery("allocated")
    )


def _offer_counts():
    """Per user: live offers on cases other than `case_id` that they do not already hold, so that with
    `_allocation_counts` a case counts once, as `queries.load_by_user` counts it."""
    held = exists().where(
        Allocation.case_id == AllocationOffer.case_id, Allocation.user_id == AllocationOffer.user_id,
        Allocation.ends_on.is_(None),
    )
    return (
        select(AllocationOffer.user_id, func.count().label("offers"))
        .where(
            AllocationOffer.case_id != bindparam("case_id"), AllocationOffer.status.in_(LIVE_OFFER_STATUSES), ~held
        )
        .group_by(AllocationOffer.user_id)
        .subquery("offered")
    )


def _pause_blocks_from(needs: CaseNeeds, today: dt.date) -> dt.date:
    """The first `paused_until` that alone covers more than half the expected period (from its start
    or today, if later, to its end), so that `eligibility` refuses rather than warns."""
    starts_on = max(needs.expected_start_on, today)
    days = (max(needs.expected_end_on, starts_on) - starts_on).days + 1
    return starts_on + dt.timedelta(days=days // 2)


def _as_float(expression):
    return cast(expression, Float)


def _weighted_sum(columns, names: list[str], *, language_count: int) -> ColumnElement[float]:
    """The sum of the weighted parts `names` (weight × value, added in that order) from `columns`
    (overlap, in_district, load, max_cases, experience, languages_matched, recent), each exactly as
    scoring.part_values and scoring.combine work it out, so that IEEE doubles give the same total
    in SQL and in Python. Parts with only a few possible values take their weighted values as
    parameters (`_points` works them out in Python the same way), which spares the database most
    of the arithmetic on every row."""
    def part(name: str) -> ColumnElement[float]:
        if name == "availability":
            return bindparam("weight_availability", type_=Float) * (
                _as_float(columns.overlap) / bindparam("case_slots", type_=Float)
            )
        if name == "district":
            return case_when((columns.in_district == 1, bindparam("points_district", type_=Float)), else_=0.0)
        if name == "caseload":
            return bindparam("weight_caseload", type_=Float) * case_when(
                (columns.load >= columns.max_cases, 0.0),
                else_=1.0 - _as_float(columns.load) / _as_float(columns.max_cases),
            )
        if name == "experience":
            return case_when(
                *[(columns.experience == level, bindparam(f"points_{level.value}", type_=Float))
                  for level in scoring.EXPERIENCE_VALUE],
                else_=0.0,
            )
        if name == "language":
            if not language_count:
                return bindparam("points_language", type_=Float)
            return bindparam("weight_language", type_=Float) * (
                _as_float(columns.languages_matched) / float(language_count)
            )
        return case_when(  # recent
            *[(columns.recent == count, bindparam(f"points_recent_{count}", type_=Float))
              for count in range(scoring.RECENT_CAP)],
            else_=bindparam(f"points_recent_{scoring.RECENT_CAP}", type_=Float),
        )

    total = part(names[0])
    for name in names[1:]:
        total = total + part(name)
    return total


# The parts that depend on the volunteer's record alone; the rest (caseload, recent) are worth at
# most their weights, which bounds what they can add.
ROW_PARTS = ["availability", "district", "experience", "language"]


@functools.lru_cache(maxsize=512)
def _statement(bit_count: int, language_count: int, *, specialist: bool, one_person: bool = False,
               shortlist: int | None = None) -> Select:
    """The scoring statement for cases of one shape, built once and reused with new parameters
    (building it is a good part of the time otherwise); `_scored` makes the parameters. It gives
    volunteers with their score inputs and total, best first (ties: lower user id): those passing
    the plain rules, or only `user_id` (whatever the rules say) when `one_person`.

    With `shortlist`, only the `shortlist` volunteers with the best parts that depend on their
    record alone (availability, district, experience, language: "record points") are scored in
    full, which spares the joins and most of the arithmetic for everyone else. Each row then also
    carries `shortlisted` (how many passed the record-only rules, up to `shortlist` + 1) and
    `best_left_out` (the record points of the best volunteer left out): anyone left out scores at
    most that plus the caseload and recent weights, which `rank_candidates` checks against the
    rows it got before trusting them."""
    case_id = bindparam("case_id")
    record = select(
        Volunteer.user_id, Volunteer.experience, Volunteer.drives, Volunteer.districts,
        Volunteer.availability_mask, Volunteer.max_cases,
        _SharedSlots(
            Volunteer.availability_mask, bindparam("meeting_mask", type_=Integer),
            *[bindparam(f"bit_{index}", type_=Integer) for index in range(bit_count)],
        ).label("overlap"),
        case_when((_json_text_contains(Volunteer.districts, "district"), 1), else_=0).label("in_district"),
        _count_true([
            _json_text_contains(Volunteer.languages, f"language_{index}", ignore_case=True)
            for index in range(language_count)
        ]).label("languages_matched"),
    )
    if one_person:
        record = record.where(Volunteer.user_id == bindparam("user_id"))
    else:
        # The plain rules, never stricter than `eligibility`, which applies the exact ones after (a
        # short pause, say, is only a warning there, so it is kept here). The course and deactivated
        # accounts are left to `eligibility`: an active volunteer has completed the course and has
        # an account in use in practice, and checking them here costs a quarter of the time.
        record = record.where(
            Volunteer.status == VolunteerStatus.ACTIVE,
            or_(Volunteer.paused_until.is_(None), Volunteer.paused_until < bindparam("pause_blocks_from", type_=Date)),
        )
        if specialist:
            record = record.where(Volunteer.experience == ExperienceLevel.SPECIALIST)
    # OFFSET 0 keeps PostgreSQL from folding a subquery into the query around it, where it would
    # work each input out again for every expression that uses it.
    people = record.offset(_literal_count(0)).subquery("people")
    extra_columns = []
    if shortlist is not None:
        points = _weighted_sum(people.c, ROW_PARTS, language_count=language_count).label("points")
        best = (
            select(people, points).order_by(points.desc(), people.c.user_id)
            .limit(_literal_count(shortlist + 1)).subquery("best")
        )
        ranked = select(
            best,
            func.row_number().over(order_by=(best.c.points.desc(), best.c.user_id)).label("place"),
            func.count().over().label("shortlisted"),
            func.min(best.c.points).over().label("lowest_points"),
        ).subquery("ranked")
        people = ranked
        extra_columns = [
            ranked.c.shortlisted,
            case_when((ranked.c.shortlisted > shortlist, ranked.c.lowest_points), else_=None).label("best_left_out"),
        ]

    allocated, offered = _allocation_counts(), _offer_counts()
    load = func.coalesce(allocated.c.current, 0) + func.coalesce(offered.c.offers, 0)
    facts = (
        select(
            people.c.user_id, people.c.experience, people.c.drives, people.c.districts, people.c.availability_mask,
            people.c.max_cases, people.c.overlap, people.c.in_district, people.c.languages_matched,
            load.label("load"), func.coalesce(allocated.c.recent, 0).label("recent"), *extra_columns,
        )
        .outerjoin(allocated, allocated.c.user_id == people.c.user_id)
        .outerjoin(offered, offered.c.user_id == people.c.user_id)
    )
    if not one_person:
        facts = facts.where(
            load < people.c.max_cases,
            # People already on the case or offered it are left out. Two NOT EXISTS (not NOT (A OR
            # B)) so that PostgreSQL plans them as anti-joins.
            ~exists().where(
                Allocation.case_id == case_id, Allocation.user_id == people.c.user_id, Allocation.ends_on.is_(None)
            ),
            ~exists().where(
                AllocationOffer.case_id == case_id, AllocationOffer.user_id == people.c.user_id,
                AllocationOffer.status.in_(LIVE_OFFER_STATUSES),
            ),
        )
    if shortlist is not None:
        facts = facts.where(people.c.place <= shortlist)
    facts = facts.offset(_literal_count(0)).subquery("facts")
    total = _weighted_sum(facts.c, [name for name, _label in scoring.PARTS], language_count=language_count)
    total = total.label("total")
    return select(facts, total).order_by(total.desc(), facts.c.user_id)


def _literal_count(value: int):
    # Written into the SQL rather than bound, so that PostgreSQL plans for the number of rows even
    # when the driver has prepared the statement (a generic plan does not know bound limits).
    return bindparam(None, value, type_=Integer, literal_execute=True)


@functools.lru_cache(maxsize=512)
def _page(statement: Select, limit: int, offset: int) -> Select:
    return statement.limit(_literal_count(limit)).offset(_literal_count(offset))


@dataclass(frozen=True)
class _Scored:
    """What the scoring statement for one case needs: its shape (bits, languages, specialists only),
    its parameters, and the counts the inputs need."""

    shape: tuple[int, int, bool]
    parameters: dict
    case_slots: int
    languages_needed: int


def _points(weights: dict[str, int]) -> dict[str, float]:
    """The weighted values of the parts with few possible values, as `scoring.part_values` and
    `scoring.combine` work them out (weight × value)."""
    recent_cap = scoring.RECENT_CAP
    return {
        "points_district": weights["district"] * 1.0,
        "points_language": weights["language"] * 1.0,
        **{f"points_{level.value}": weights["experience"] * value for level, value in scoring.EXPERIENCE_VALUE.items()},
        **{f"points_recent_{count}": weights["recent"] * (1.0 - min(count, recent_cap) / recent_cap)
           for count in range(recent_cap + 1)},
    }


def _scored(case: Case, needs: CaseNeeds, weights: dict[str, int], *, today: dt.date,
            user_id: int | None = None) -> _Scored:
    bits = [1 << index for index in range(len(availability.SLOTS)) if needs.meeting_mask & (1 << index)]
    languages = list(needs.languages or [])
    parameters = {
        "case_id": case.id, "today": today, "recent_from": today - dt.timedelta(days=scoring.RECENT_DAYS),
        "pause_blocks_from": _pause_blocks_from(needs, today), "case_slots": float(max(len(bits), 1)),
        "district": _json_pattern(case.district), "meeting_mask": needs.meeting_mask,
        **{f"bit_{index}": bit for index, bit in enumerate(bits)},
        **{f"language_{index}": _json_pattern(language, ignore_case=True) for index, language in enumerate(languages)},
        **{f"weight_{name}": float(weights[name]) for name, _label in scoring.PARTS},
        **_points(weights),
    }
    if user_id is not None:
        parameters["user_id"] = user_id
    return _Scored(
        shape=(len(bits), len(languages), bool(case.is_sensitive or needs.is_complex)), parameters=parameters,
        case_slots=len(bits), languages_needed=len(languages),
    )


def _inputs(row, scored: _Scored) -> scoring.Inputs:
    return scoring.Inputs(
        overlap_slots=int(row.overlap), case_slots=scored.case_slots, in_district=bool(row.in_district),
        load=int(row.load), max_cases=row.max_cases, experience=ExperienceLevel(row.experience),
        languages_matched=int(row.languages_matched), languages_needed=scored.languages_needed,
        recent_allocations=int(row.recent),
    )


def _fetch(session: Session, scored: _Scored, limit: int, offset: int, *, shortlist: int | None = None) -> list:
    bits, languages, specialist = scored.shape
    statement = _statement(bits, languages, specialist=specialist, shortlist=shortlist)
    return session.execute(_page(statement, limit, offset), scored.parameters).all()


def _first_pool(session: Session, scored: _Scored, weights: dict[str, int], pool: int) -> list:
    """The top `pool` rows of the scoring statement: from the shortlist when it provably holds
    them (nobody left out could score more than the last row), else from everyone."""
    rows = _fetch(session, scored, pool, 0, shortlist=SHORTLIST_FACTOR * pool)
    if rows and rows[0].best_left_out is None:
        return rows  # nobody was left out of the shortlist
    if len(rows) == pool:
        # Anyone left out scores at most their record points plus the full caseload and recent
        # weights (the margin covers rounding: the two sums add the same doubles in other orders).
        most_left_out = rows[0].best_left_out + weights["caseload"] + weights["recent"]
        if rows[-1].total > most_left_out + 1e-9:
            return rows
    return _fetch(session, scored, pool, 0)


def rank_candidates(session: Session, case: Case, *, today: dt.date, limit: int = 10) -> Ranking:
    """The `limit` best eligible facilitators for `case`, best first (ties: lower user id), with
    suggested pairs. Volunteers already on the case or holding a live offer for it are left out.
    A constant number of statements, whatever the number of volunteers, when the first pool holds
    enough eligible people."""
    needs = queries.needs_or_default(session, case, today=today)
    weights = scoring.get_weights(session)
    scored = _scored(case, needs, weights, today=today)
    pool = max(limit, 1) * POOL_FACTOR
    candidates: list[Candidate] = []
    considered = 0
    offset = 0
    rows = _first_pool(session, scored, weights, pool)
    while rows:
        considered += len(rows)
        assessments = eligibility.assess(session, case, [row.user_id for row in rows], today=today)
        for row in rows:
            assessment = assessments[row.user_id]
            if not assessment.eligible:
                continue
            inputs = _inputs(row, scored)
            candidates.append(Candidate(
                user_id=row.user_id, name=assessment.name, experience=ExperienceLevel(row.experience),
                drives=row.drives, districts=list(row.districts or []),
                availability_mask=row.availability_mask, score=scoring.Score.of(inputs, weights),
                inputs=inputs, warnings=list(assessment.warnings),
            ))
            if len(candidates) == limit:
                break
        if len(candidates) >= limit or len(rows) < pool:
            break
        offset += pool
        rows = _fetch(session, scored, pool, offset)
    return Ranking(
        candidates=candidates, considered=considered, needs=needs,
        pairs=suggest_pairs(candidates, needs),
    )


def explain(session: Session, case: Case, user_id: int, *, today: dt.date) -> Explanation:
    """Every reason and warning for one volunteer and `case`, with the score they would have even
    if they are not eligible; NotFound when `user_id` is not a volunteer."""
    needs = queries.needs_or_default(session, case, today=today)
    weights = scoring.get_weights(session)
    scored = _scored(case, needs, weights, today=today, user_id=user_id)
    bits, languages, _specialist = scored.shape
    row = session.execute(_statement(bits, languages, specialist=False, one_person=True), scored.parameters).first()
    if row is None:
        raise NotFound("No such volunteer")
    assessment = eligibility.assess(session, case, [user_id], today=today)[user_id]
    inputs = _inputs(row, scored)
    return Explanation(
        assessment=assessment, inputs=inputs, score=scoring.Score.of(inputs, weights),
        availability_mask=row.availability_mask,
    )
