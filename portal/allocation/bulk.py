"""The bulk proposal: facilitators for every case awaiting allocation at once, with the highest total
score that respects every volunteer's case limit and every eligibility rule.

One case at a time, `eligibility.assess` answers with reasons; here only yes or no is needed, for a
thousand cases and tens of thousands of volunteers, so the same rules are applied to facts loaded once
(a few Core queries) and compared with numpy, one case at a time over all volunteers. The score parts
use the formulas of `scoring.part_values` and `scoring.combine` (tests compare them pairing by pairing
with `Score.of`, and the eligibility with `eligibility.assess`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sqlalchemy import String, and_, case, cast, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from portal.allocation import eligibility, proposals, queries, scoring
from portal.allocation.models import AllocationProposal, CaseNeeds, ProposalItem
from portal.allocation.solver import Edge, Solution, solve_arrays
from portal.cases.models import Case, CaseStatus, Party
from portal.core import audit
from portal.core.accounts import User
from portal.core.clock import to_london
from portal.supervision import queries as supervision_queries
from portal.training.models import Enrolment, EnrolmentStatus
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    Volunteer,
    VolunteerAbsence,
    VolunteerStatus,
)
from portal.volunteers.vetting import queries as vetting_queries
from portal.volunteers.vetting.models import HELD_STATUSES, CheckStatus, VettingCheck

TOP_K = 40  # candidates kept per case for the solver: plenty for the case limits in practice
NO_SHARED_TIME = "The two facilitators have no available time in common with the case's meeting times"
ONLY_ONE = "Only one facilitator could be found: offer a co-facilitator from the case page"
NEW_ALONE = "A new facilitator on their own: offer an experienced co-facilitator from the case page"
_NEVER = dt.date.max
_EXPERIENCE_RANK = {ExperienceLevel.NEW: 0, ExperienceLevel.EXPERIENCED: 1, ExperienceLevel.SPECIALIST: 2}
_EXPERIENCE_LEVELS = tuple(_EXPERIENCE_RANK)


# ---------------------------------------------------------------------------------------------
# Vetting: on which days each volunteer is cleared to practise


def _kind_cleared(checks: Sequence[tuple], day: dt.date) -> bool:
    """The checks of one kind clear the volunteer on `day`: the same answer as
    `vetting.queries.check_problem(...) is None`. Each check is (status, cleared_on, expires_on,
    decided_on), the status a CheckStatus or its value."""
    latest_cleared = None
    refused = None
    for status, cleared_on, expires_on, decided_on in checks:
        if status in HELD_STATUSES and cleared_on is not None and cleared_on <= day and (
            expires_on is None or day < expires_on
        ):
            latest_cleared = cleared_on if latest_cleared is None else max(latest_cleared, cleared_on)
        elif status == CheckStatus.REFUSED and decided_on is not None and decided_on <= day:
            refused = decided_on if refused is None else max(refused, decided_on)
    return latest_cleared is not None and not (refused is not None and refused >= latest_cleared)


def cleared_spells(checks_by_kind: dict, required: Sequence) -> list[tuple[dt.date, dt.date]]:
    """The spells [from, to) in which every required kind of check clears the volunteer (`to` is
    `date.max` for a spell with no end); `checks_by_kind` maps a kind to checks as `_kind_cleared`
    takes them.

    Whether a kind clears can change only on a day some check of it is cleared, expires or is
    refused, so the answer is worked out on those days and holds until the next one.
    """
    if not required:
        return [(dt.date.min, _NEVER)]
    # The common record, one held check of each kind and nothing else: one spell, no searching.
    if all(len(checks_by_kind.get(kind, ())) == 1 for kind in required):
        only = [checks_by_kind[kind][0] for kind in required]
        if all(status in HELD_STATUSES and cleared_on is not None for status, cleared_on, _e, _d in only):
            start = max(cleared_on for _s, cleared_on, _e, _d in only)
            end = min(_NEVER if expires_on is None else expires_on for _s, _c, expires_on, _d in only)
            return [(start, end)] if start < end else []
    days = sorted({
        day for kind in required for _s, cleared_on, expires_on, decided_on in checks_by_kind.get(kind, ())
        for day in (cleared_on, expires_on, decided_on) if day is not None
    })
    spells: list[tuple[dt.date, dt.date]] = []
    for i, day in enumerate(days):
        if all(_kind_cleared(checks_by_kind.get(kind, ()), day) for kind in required):
            until = days[i + 1] if i + 1 < len(days) else _NEVER
            if spells and spells[-1][1] == day:
                spells[-1] = (spells[-1][0], until)
            else:
                spells.append((day, until))
    return spells


# ---------------------------------------------------------------------------------------------
# The volunteers who could take any case, and the facts the rules and the score need


@dataclass
class Pool:
    """Every active, trained volunteer with a free place, as numpy arrays (one row per volunteer)."""

    user_id: np.ndarray
    volunteer_id: np.ndarray
    mask: np.ndarray
    max_cases: np.ndarray
    load: np.ndarray
    recent: np.ndarray
    experience: np.ndarray          # index into _EXPERIENCE_LEVELS
    experience_value: np.ndarray    # scoring.EXPERIENCE_VALUE of it
    paused_until: np.ndarray        # ordinal; 0 when not paused
    overdue: np.ndarray             # supervision overdue and the setting blocks allocation
    districts_json: np.ndarray      # the stored JSON text, searched as ranking's SQL searches it
    languages_json: np.ndarray      # the same, lower case
    spell_index: np.ndarray         # cleared spells: which volunteer row, from, to (ordinals)
    spell_from: np.ndarray
    spell_to: np.ndarray
    absence_index: np.ndarray       # absences: which volunteer row, first and last day (ordinals)
    absence_from: np.ndarray
    absence_to: np.ndarray
    conflicts: ConflictIndex        # current conflicts of pool members
    _cleared_on: dict[int, np.ndarray] = field(default_factory=dict)
    _in_district: dict[str, np.ndarray] = field(default_factory=dict)
    _speaks: dict[str, np.ndarray] = field(default_factory=dict)
    _away_rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.user_id)

    @property
    def capacity(self) -> np.ndarray:
        return self.max_cases - self.load

    @property
    def away_rows(self) -> np.ndarray:
        """The rows with a pause or an absence (the only ones the away rule can stop), sorted."""
        if self._away_rows is None:
            self._away_rows = np.union1d(np.flatnonzero(self.paused_until), self.absence_index)
        return self._away_rows

    @property
    def absence_slot(self) -> np.ndarray:
        """For each absence, the position of its volunteer's row in `away_rows`."""
        return np.searchsorted(self.away_rows, self.absence_index)

    def cleared_on(self, day: int) -> np.ndarray:
        """Who is cleared to practise on `day` (an ordinal)."""
        if day not in self._cleared_on:
            cleared = np.zeros(len(self), dtype=bool)
            cleared[self.spell_index[(self.spell_from <= day) & (day < self.spell_to)]] = True
            self._cleared_on[day] = cleared
        return self._cleared_on[day]

    def in_district(self, district: str) -> np.ndarray:
        if district not in self._in_district:
            self._in_district[district] = np.strings.find(self.districts_json, json.dumps(district)) >= 0
        return self._in_district[district]

    def speaks(self, language: str) -> np.ndarray:
        needle = json.dumps(language.lower())
        if needle not in self._speaks:
            self._speaks[needle] = np.strings.find(self.languages_json, needle) >= 0
        return self._speaks[needle]


def load_pool(session: Session, *, today: dt.date) -> Pool:
    """The volunteers who pass the rules that do not depend on the case (active, account open, course
    completed, under their case limit), with everything the other rules and the score need."""
    connection = session.connection()  # plain rows: no ORM work for tens of thousands of them
    completed = select(Enrolment.user_id).where(Enrolment.status == EnrolmentStatus.COMPLETED)
    rows = connection.execute(
        select(
            Volunteer.id, Volunteer.user_id, Volunteer.availability_mask, Volunteer.max_cases,
            type_coerce(Volunteer.experience, String), Volunteer.paused_until, cast(Volunteer.districts, String),
            cast(Volunteer.languages, String),
        )
        .join(User, User.id == Volunteer.user_id)
        .where(Volunteer.status == VolunteerStatus.ACTIVE, User.is_deactivated.is_(False),
               Volunteer.user_id.in_(completed))
        .order_by(Volunteer.user_id)
    ).all()
    loads = queries.load_by_user(session)
    rows = [row for row in rows if loads.get(row[1], 0) < row[3]]
    recents = queries.recent_allocations_by_user(session, today=today)
    ids, user_ids, masks, max_cases, levels, paused, districts, languages = (
        list(column) for column in zip(*rows, strict=True)
    ) if rows else ([] for _ in range(8))
    row_of = {volunteer_id: i for i, volunteer_id in enumerate(ids)}
    user_id_array = np.array(user_ids, dtype=np.int64)
    experience = np.array([_EXPERIENCE_RANK[ExperienceLevel(level)] for level in levels], dtype=np.int64)
    spell_index, spell_from, spell_to = _vetting_spells(session, row_of)

    absence_index, absence_from, absence_to = [], [], []
    for volunteer_id, starts_on, ends_on in connection.execute(
        select(VolunteerAbsence.volunteer_id, VolunteerAbsence.starts_on, VolunteerAbsence.ends_on)
        .where(VolunteerAbsence.ends_on >= today)
        .order_by(VolunteerAbsence.volunteer_id, VolunteerAbsence.starts_on)
    ).all():
        if volunteer_id not in row_of:
            continue
        row, first, last = row_of[volunteer_id], starts_on.toordinal(), ends_on.toordinal()
        # Overlapping or touching absences are merged, so that a day away counts once.
        if absence_index and absence_index[-1] == row and first <= absence_to[-1] + 1:
            absence_to[-1] = max(absence_to[-1], last)
        else:
            absence_index.append(row)
            absence_from.append(first)
            absence_to.append(last)

    conflicts = [
        (row_of[conflict.volunteer_id], conflict)
        for conflict in connection.execute(
            select(ConflictOfInterest.volunteer_id, ConflictOfInterest.kind, ConflictOfInterest.name)
            .where(ConflictOfInterest.withdrawn_at.is_(None))
        ).all()
        if conflict.volunteer_id in row_of
    ]

    return Pool(
        user_id=user_id_array,
        volunteer_id=np.array(ids, dtype=np.int64),
        mask=np.array(masks, dtype=np.int64),
        max_cases=np.array(max_cases, dtype=np.int64),
        load=np.array([loads.get(user_id, 0) for user_id in user_ids], dtype=np.int64),
        recent=np.array([recents.get(user_id, 0) for user_id in user_ids], dtype=np.int64),
        experience=experience,
        experience_value=np.array([scoring.EXPERIENCE_VALUE[level] for level in _EXPERIENCE_LEVELS])[experience],
        paused_until=np.array([day.toordinal() if day else 0 for day in paused], dtype=np.int64),
        overdue=_supervision_blocks(session, user_id_array, today=today),
        districts_json=np.array([text or "" for text in districts], dtype=np.str_),
        languages_json=np.array([(text or "").lower() for text in languages], dtype=np.str_),
        spell_index=np.array(spell_index, dtype=np.int64), spell_from=np.array(spell_from, dtype=np.int64),
        spell_to=np.array(spell_to, dtype=np.int64),
        absence_index=np.array(absence_index, dtype=np.int64), absence_from=np.array(absence_from, dtype=np.int64),
        absence_to=np.array(absence_to, dtype=np.int64),
        conflicts=ConflictIndex(conflicts),
    )


def _vetting_spells(session: Session, row_of: dict[int, int]) -> tuple[list[int], list[int], list[int]]:
    """The cleared spells of the pool (rows of `row_of`, a volunteer id -> row), as three lists: row,
    first day and the day after the last (ordinals).

    Most volunteers hold one cleared check of each required kind and nothing else; their spell comes
    from a summary row each (from the latest clearance to the earliest expiry). The others' checks
    are read in full and worked out by `cleared_spells`.
    """
    required = [kind for kind, rule in vetting_queries.get_rules(session).items() if rule.required]
    if not required:
        return list(row_of.values()), [dt.date.min.toordinal()] * len(row_of), [_NEVER.toordinal()] * len(row_of)
    connection = session.connection()
    held = and_(VettingCheck.status.in_(HELD_STATUSES), VettingCheck.cleared_on.is_not(None))
    # Every volunteer's summary (cheaper for the database than joining the pool's conditions again).
    of_required = VettingCheck.kind.in_(required)
    spells: dict[int, list[tuple[dt.date, dt.date]]] = {}
    involved = []
    per_kind = [func.sum(case((VettingCheck.kind == kind, 1), else_=0)) for kind in required]
    for volunteer_id, held_checks, cleared_on, expires_on, *kinds in connection.execute(
        select(VettingCheck.volunteer_id, func.sum(case((held, 1), else_=0)), func.max(VettingCheck.cleared_on),
               func.min(VettingCheck.expires_on), *per_kind)
        .where(of_required).group_by(VettingCheck.volunteer_id)
    ).all():
        if volunteer_id not in row_of:
            continue
        if held_checks == len(required) and all(count == 1 for count in kinds):
            end = expires_on or _NEVER  # min() leaves out checks that never expire
            spells[volunteer_id] = [(cleared_on, end)] if cleared_on < end else []
        else:
            involved.append(volunteer_id)
    if involved:
        by_volunteer: dict[int, dict] = {}
        for volunteer_id, kind, status, cleared_on, expires_on, decided_on in connection.execute(
            select(VettingCheck.volunteer_id, VettingCheck.kind, VettingCheck.status, VettingCheck.cleared_on,
                   VettingCheck.expires_on, VettingCheck.decided_on)
            .where(of_required, VettingCheck.volunteer_id.in_(involved))
        ).all():
            by_volunteer.setdefault(volunteer_id, {}).setdefault(kind, []).append(
                (status, cleared_on, expires_on, decided_on)
            )
        for volunteer_id, checks_by_kind in by_volunteer.items():
            spells[volunteer_id] = cleared_spells(checks_by_kind, required)
    rows, starts, ends = [], [], []
    for volunteer_id, mine in spells.items():  # volunteers with no checks at all have no spell
        for start, end in mine:
            rows.append(row_of[volunteer_id])
            starts.append(start.toordinal())
            ends.append(end.toordinal())
    return rows, starts, ends


def _supervision_blocks(session: Session, user_ids: np.ndarray, *, today: dt.date) -> np.ndarray:
    """Who is overdue for supervision on `today`, when the setting makes that block allocation
    (otherwise overdue only warns, and nobody is held back)."""
    if not supervision_queries.cadence_rules(session).overdue_blocks_allocation:
        return np.zeros(len(user_ids), dtype=bool)
    overdue = supervision_queries.overdue_since(session, user_ids.tolist(), today)
    return np.fromiter((user_id in overdue for user_id in user_ids.tolist()), dtype=bool, count=len(user_ids))


# ---------------------------------------------------------------------------------------------
# One case against the whole pool


@dataclass(frozen=True)
class CaseView:
    """What the rules and the score need of one waiting case."""

    case: Case
    needs: CaseNeeds
    parties: tuple = ()             # (case_id, name, address, interpreter_language) of each party

    @cached_property
    def party_names(self) -> tuple[str, ...]:
        return tuple(party.name for party in self.parties)

    @cached_property
    def places(self) -> tuple[str, ...]:
        """The district, then each party's address."""
        return (self.case.district, *(party.address for party in self.parties if party.address))


def _period(view: CaseView, today: dt.date) -> tuple[int, int, bool]:
    """What the case-wide rules depend on: the first and last day of the period (ordinals) and
    whether only specialists may take it."""
    needs = view.needs
    first = max(needs.expected_start_on, today)
    last = max(needs.expected_end_on, first)
    return first.toordinal(), last.toordinal(), bool(view.case.is_sensitive or needs.is_complex)


def _allowed_over(pool: Pool, first: int, last: int, specialists_only: bool) -> np.ndarray:
    """Who passes the rules that depend only on the period and the kind of case (all but conflicts)."""
    allowed = ~pool.overdue & pool.cleared_on(first) & pool.cleared_on(last)
    if specialists_only:
        allowed &= pool.experience == _EXPERIENCE_RANK[ExperienceLevel.SPECIALIST]
    return allowed & ~_away_for_most(pool, first, last)


def _conflicted_rows(pool: Pool, view: CaseView) -> list[int]:
    """The pool rows with a conflict of interest with the case."""
    return pool.conflicts.blocked_rows(view)


def eligible_for(pool: Pool, view: CaseView, *, today: dt.date) -> np.ndarray:
    """Which of the pool may take the case: the rules of `eligibility.assess` that depend on the case
    (vetting on the first and last day of the expected period, pause and absences over it, conflicts,
    sensitive cases), on top of the pool's own (status, training, case limit, supervision when it
    blocks). The period runs from the expected start, or today if later, to the expected end."""
    allowed = _allowed_over(pool, *_period(view, today))
    allowed[_conflicted_rows(pool, view)] = False
    return allowed


class ConflictIndex:
    """The pool's current conflicts, indexed so that a case is compared only with those that could
    match it; `eligibility.names_match` then decides. A declared name matches only a name that is the
    same once its words are joined, or that holds each of its words longer than an initial, so
    looking up by the joined words, or requiring all those longer words, loses no match: a conflict
    that matches a text is found by looking that text up (or is one of `always`, with initials only)."""

    def __init__(self, conflicts: Sequence[tuple[int, ConflictOfInterest]]) -> None:
        self.by_word: dict[tuple[ConflictKind, str], list] = defaultdict(list)
        self.by_joined: dict[tuple[ConflictKind, str], list] = defaultdict(list)
        self.always: list[tuple[int, ConflictOfInterest]] = []
        self.rows = {row for row, _conflict in conflicts}
        self._words: dict[str, tuple[str, ...]] = {}
        self._matches: dict[tuple[str, str], bool] = {}
        self._by_text: dict[tuple[ConflictKind, str], tuple[int, ...]] = {}
        for row, conflict in conflicts:
            words = self.words(conflict.name)
            if not words:
                continue  # a declaration with no words matches nothing
            self.by_joined[(conflict.kind, "".join(words))].append((row, conflict))
            long_words = frozenset(word for word in words if len(word) > 1)
            if long_words:
                self.by_word[(conflict.kind, min(long_words))].append((row, conflict, long_words))
            else:
                self.always.append((row, conflict))

    def __len__(self) -> int:
        return len(self.rows)

    def conflicts_with(self, conflict: ConflictOfInterest, view: CaseView) -> bool:
        """`eligibility.conflict_rule`'s test: a person on the case, or its district or a party's address."""
        names = view.party_names if conflict.kind is ConflictKind.PERSON else view.places
        return any(self.names_match(conflict.name, name) for name in names)

    def names_match(self, declared: str, actual: str) -> bool:
        # Districts recur in case after case: each pairing of names is compared once.
        key = (declared, actual)
        if key not in self._matches:
            self._matches[key] = eligibility.words_match(self.words(declared), self.words(actual))
        return self._matches[key]

    def words(self, text: str) -> tuple[str, ...]:
        if text not in self._words:
            self._words[text] = tuple(eligibility.name_words(text))
        return self._words[text]

    def _text_candidates(self, kind: ConflictKind, text: str) -> list[tuple[int, ConflictOfInterest]]:
        words = self.words(text)
        found = list(self.by_joined.get((kind, "".join(words)), ()))
        present = set(words)
        for word in present:
            found.extend(
                (row, conflict) for row, conflict, needed in self.by_word.get((kind, word), ()) if needed <= present
            )
        return found

    def candidates(self, view: CaseView) -> list[tuple[int, ConflictOfInterest]]:
        """The conflicts that might match the case (a superset of those that do)."""
        if not self.rows:
            return []
        found = list(self.always)
        for kind, texts in ((ConflictKind.PERSON, view.party_names), (ConflictKind.PLACE, view.places)):
            for text in texts:
                found.extend(self._text_candidates(kind, text))
        return found

    def matching_text(self, kind: ConflictKind, text: str) -> tuple[int, ...]:
        """The rows with a conflict of `kind` (other than `always`) that matches `text`; worked out
        once per text (a district recurs in case after case)."""
        key = (kind, text)
        if key not in self._by_text:
            self._by_text[key] = tuple(sorted({
                row for row, conflict in self._text_candidates(kind, text) if self.names_match(conflict.name, text)
            }))
        return self._by_text[key]

    def blocked_rows(self, view: CaseView) -> list[int]:
        """The rows with a conflict of interest with the case (as `conflicts_with`)."""
        if not self.rows:
            return []
        rows = {row for row, conflict in self.always if self.conflicts_with(conflict, view)}
        for kind, texts in ((ConflictKind.PERSON, view.party_names), (ConflictKind.PLACE, view.places)):
            for text in texts:
                rows.update(self.matching_text(kind, text))
        return sorted(rows)


def _away_for_most(pool: Pool, first: int, last: int) -> np.ndarray:
    """Who is paused or away on more than half the days from `first` to `last` (ordinals, both
    included). Absences are merged when loaded, so the days of each volunteer's add up."""
    away = np.zeros(len(pool), dtype=bool)
    rows = pool.away_rows
    if not len(rows):
        return away
    covered = np.clip(np.minimum(pool.paused_until[rows], last) - first + 1, 0, None)
    if len(pool.absence_index):
        after_pause = np.maximum(first, pool.paused_until[pool.absence_index] + 1)
        days = np.clip(np.minimum(pool.absence_to, last) - np.maximum(pool.absence_from, after_pause) + 1, 0, None)
        covered = covered + np.bincount(pool.absence_slot, weights=days, minlength=len(rows)).astype(np.int64)
    away[rows] = covered * 2 > last - first + 1
    return away


def unrounded_scores(pool: Pool, view: CaseView, weights: dict[str, int], rows: np.ndarray | None = None) -> np.ndarray:
    """The pool's scores for the case (or those of `rows` only) before rounding: `scoring.part_values`
    and the sum of `scoring.combine`, term by term in the same order, so that rounding one to 2
    places gives `Score.of(...).total` exactly."""
    rows = np.arange(len(pool)) if rows is None else np.asarray(rows)
    return _score_matrix(pool, [view], weights, rows[None, :])[0]


def _score_matrix(pool: Pool, views: Sequence[CaseView], weights: dict[str, int], rows: np.ndarray) -> np.ndarray:
    """`unrounded_scores` of `rows[i]` (pool rows, one line per case) for `views[i]`, for many cases
    at once. Every element goes through the same floating-point operations in the same order as
    one case at a time would, so the answers are identical to the last bit."""
    masks = np.array([int(view.needs.meeting_mask) for view in views], dtype=np.int64)[:, None]
    slots = np.array([max(int(view.needs.meeting_mask).bit_count(), 1) for view in views], dtype=np.int64)[:, None]
    language = np.ones(rows.shape)
    district = np.empty(rows.shape)
    for i, view in enumerate(views):
        district[i] = pool.in_district(view.case.district)[rows[i]]
        languages = list(view.needs.languages or [])
        if languages:
            matched = sum(pool.speaks(name)[rows[i]].astype(np.int64) for name in languages)
            language[i] = matched / len(languages)
    parts = {
        "availability": np.bitwise_count(pool.mask[rows] & masks).astype(np.int64) / slots,
        "district": district,
        "caseload": np.maximum(0.0, 1.0 - pool.load[rows] / np.maximum(pool.max_cases[rows], 1)),
        "experience": pool.experience_value[rows],
        "language": language,
        "recent": 1.0 - np.minimum(pool.recent[rows], scoring.RECENT_CAP) / scoring.RECENT_CAP,
    }
    total = np.zeros(rows.shape)
    for name, _label in scoring.PARTS:
        total = total + weights[name] * parts[name]
    return total


def _rough_matrix(pool: Pool, views: Sequence[CaseView], weights: dict[str, int], rows: np.ndarray,
                  fixed: np.ndarray) -> np.ndarray:
    """The scores of `rows` (the same pool rows for every case) for each of `views`, summed in a
    faster order than `unrounded_scores` (so they may differ from it in the last bits): for choosing
    the best candidates, not for keeping. `fixed[i]` holds the parts that do not depend on the case
    but on its district, for `rows`."""
    masks = np.array([int(view.needs.meeting_mask) for view in views], dtype=np.int64)[:, None]
    per_slot = np.array([weights["availability"] / max(int(view.needs.meeting_mask).bit_count(), 1)
                         for view in views])[:, None]
    points = fixed + per_slot * np.bitwise_count(pool.mask[rows][None, :] & masks)
    plain = np.ones(len(views), dtype=bool)
    for i, view in enumerate(views):
        languages = list(view.needs.languages or [])
        if languages:
            plain[i] = False
            matched = sum(pool.speaks(name)[rows].astype(np.int64) for name in languages)
            points[i] = points[i] + (weights["language"] / len(languages)) * matched
    points[plain] = points[plain] + weights["language"]
    return points


# ---------------------------------------------------------------------------------------------
# The proposal


@dataclass
class BulkInput:
    """The solver's input for the waiting cases, and how to map its indices back. The eligible
    pairings are four parallel arrays (case index, pool row, score, new facilitator); `edges` gives
    them as `solver.Edge`s, for tests and benchmarks."""

    views: list[CaseView]
    pool: Pool
    places: list[int]
    capacities: list[int]
    edge_case: np.ndarray
    edge_volunteer: np.ndarray
    edge_score: np.ndarray
    edge_new: np.ndarray

    @cached_property
    def edges(self) -> list[Edge]:
        return [Edge(*values) for values in zip(self.edge_case.tolist(), self.edge_volunteer.tolist(),
                                                 self.edge_score.tolist(), self.edge_new.tolist(), strict=True)]


def _views(session: Session, cases: Sequence[Case], *, today: dt.date) -> list[CaseView]:
    """The cases with their needs (recorded, or `queries.default_needs`) and parties, in at most
    three statements however many cases."""
    if not cases:
        return []
    # Read by case status rather than by a list of thousands of ids (a superset, filtered here).
    awaiting = select(Case.id).where(Case.status == CaseStatus.AWAITING_ALLOCATION)
    stored = {
        needs.case_id: needs for needs in session.scalars(select(CaseNeeds).where(CaseNeeds.case_id.in_(awaiting)))
    }
    parties: dict[int, list] = defaultdict(list)
    # Parties matter to declared conflicts, and their interpreters to the default needs; when neither
    # applies they are not read at all.
    if any(case.id not in stored for case in cases) or session.scalar(
        select(func.count()).where(ConflictOfInterest.withdrawn_at.is_(None))
    ):
        for party in session.execute(
            select(Party.case_id, Party.name, Party.address, Party.interpreter_language)
            .where(Party.case_id.in_(awaiting)).order_by(Party.id)
        ).all():
            parties[party.case_id].append(party)
    views = []
    for waiting in cases:
        mine = tuple(parties.get(waiting.id, ()))
        needs = stored.get(waiting.id) or queries.default_needs(
            waiting.id, [party.interpreter_language for party in mine], today=today
        )
        views.append(CaseView(waiting, needs, mine))
    return views


CHUNK_CELLS = 2_000_000  # cases × candidates scored at once: about 16 MB for each float matrix


def _waiting(session: Session) -> list:
    """The waiting cases (`queries.list_waiting_cases`) as plain rows of what the rules read."""
    return session.execute(
        select(Case.id, Case.district, Case.is_sensitive).where(*queries.waiting_conditions())
        .order_by(Case.received_on, Case.id)
    ).all()


def build_input(session: Session, *, today: dt.date, top_k: int = TOP_K) -> BulkInput:
    """The waiting cases, the pool, and for each case its best `top_k` eligible volunteers as edges
    (scores rounded as `scoring.combine` rounds them).

    Cases are grouped by what the case-wide rules depend on (the period, specialists only), so those
    rules run once a group; each group is then scored as a matrix, a chunk of cases at a time."""
    views = _views(session, _waiting(session), today=today)
    pool = load_pool(session, today=today)
    weights = scoring.get_weights(session)
    groups: dict[tuple[int, int, bool], list[int]] = defaultdict(list)
    for c, view in enumerate(views):
        groups[_period(view, today)].append(c)
    blocked = {c: rows for c, view in enumerate(views) if (rows := _conflicted_rows(pool, view))} if len(
        pool.conflicts) else {}
    districts = sorted({view.case.district for view in views})
    district_of = {name: i for i, name in enumerate(districts)}
    # The parts that do not depend on the case, summed once, plus the district part, once per district:
    # good enough to choose the best `top_k`, whose scores are then worked out exactly.
    fixed = (
        weights["caseload"] * np.maximum(0.0, 1.0 - pool.load / np.maximum(pool.max_cases, 1))
        + weights["experience"] * pool.experience_value
        + weights["recent"] * (1.0 - np.minimum(pool.recent, scoring.RECENT_CAP) / scoring.RECENT_CAP)
    )
    fixed_by_district = np.array([fixed + weights["district"] * pool.in_district(name) for name in districts]
                                 ).reshape(len(districts), len(pool))
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for key, members in groups.items():
        rows = np.flatnonzero(_allowed_over(pool, *key))
        if not len(rows):
            continue
        size = max(1, CHUNK_CELLS // len(rows))
        for start in range(0, len(members), size):
            found.append(_best(pool, views, members[start:start + size], rows, weights, top_k,
                               fixed_by_district, district_of, blocked))
    cases, volunteers, totals = (np.concatenate(parts) for parts in zip(*found, strict=True)) if found else (
        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    order = np.lexsort((volunteers, cases))
    cases, volunteers, totals = cases[order], volunteers[order], totals[order]
    return BulkInput(
        views=views, pool=pool, places=[int(view.needs.facilitators_needed) for view in views],
        capacities=[int(capacity) for capacity in pool.capacity], edge_case=cases, edge_volunteer=volunteers,
        edge_score=np.array([round(total, 2) for total in totals.tolist()], dtype=np.float64),
        edge_new=pool.experience[volunteers] == _EXPERIENCE_RANK[ExperienceLevel.NEW],
    )


def _best(pool: Pool, views: list[CaseView], members: list[int], rows: np.ndarray, weights: dict[str, int],
          top_k: int, fixed_by_district: np.ndarray, district_of: dict[str, int],
          blocked: dict[int, list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the cases `members` (indices into `views`), all allowed `rows` but for conflicts: each
    case's best `top_k` rows and their exact unrounded scores, as (case, row, score) arrays."""
    chunk = [views[c] for c in members]
    districts = np.array([district_of[view.case.district] for view in chunk], dtype=np.intp)
    rough = _rough_matrix(pool, chunk, weights, rows, fixed_by_district[np.ix_(districts, rows)])
    for i, c in enumerate(members):
        if c in blocked:
            wanted = np.array(blocked[c], dtype=np.int64)
            at = np.minimum(np.searchsorted(rows, wanted), len(rows) - 1)
            rough[i, at[rows[at] == wanted]] = -np.inf
    if len(rows) > top_k:
        top = np.argpartition(rough, len(rows) - top_k, axis=1)[:, len(rows) - top_k:]
    else:
        top = np.broadcast_to(np.arange(len(rows)), rough.shape)
    keep = np.isfinite(np.take_along_axis(rough, top, axis=1))
    chosen = rows[top]
    totals = _score_matrix(pool, chunk, weights, chosen)
    case_index = np.broadcast_to(np.array(members, dtype=np.int64)[:, None], chosen.shape)
    return case_index[keep], chosen[keep], totals[keep]


def propose(session: Session, *, actor: User, now: dt.datetime) -> AllocationProposal:
    """A proposal for every case awaiting allocation (`queries.list_waiting_cases`): the eligible
    facilitators with the highest total score such that nobody exceeds their case limit, nobody is
    on a case twice and no case gets two new facilitators (`solver.solve`). One item per case that
    got someone (lead: the more experienced, then the higher score); the cases nobody could take
    have no item (`unstaffed_cases`). Flushed and audited, never committed."""
    today = to_london(now).date()
    bulk = build_input(session, today=today)
    solution = solve_arrays(bulk.places, bulk.capacities, bulk.edge_case, bulk.edge_volunteer, bulk.edge_score,
                            bulk.edge_new)
    proposal = AllocationProposal(
        created_at=now, created_by_id=actor.id, cases_considered=len(bulk.views),
        total_score=round(solution.total_score, 2),
    )
    session.add(proposal)
    session.flush()
    items = _item_rows(proposal.id, bulk, solution)
    if items:
        # One multi-row INSERT for up to a thousand items, rather than the unit of work's bookkeeping.
        session.execute(insert(ProposalItem.__table__), items)
    session.expire(proposal, ["items"])
    audit.record(
        session, actor, "allocation.proposal_created", proposal, at=now, cases_considered=len(bulk.views),
        cases_staffed=len(items), total_score=proposal.total_score,
    )
    return proposal


def _item_rows(proposal_id: int, bulk: BulkInput, solution: Solution) -> list[dict]:
    pool = bulk.pool
    score_of = {(edge.case, edge.volunteer): edge.score for edge in solution.chosen}
    items = []
    for c, rows in sorted(solution.people.items()):
        view = bulk.views[c]
        ordered = sorted(rows, key=lambda row: (-pool.experience[row], -score_of[(c, row)], pool.user_id[row]))
        lead, co = ordered[0], (ordered[1] if len(ordered) > 1 else None)
        note = None
        if co is not None and not (int(pool.mask[lead]) & int(pool.mask[co]) & int(view.needs.meeting_mask)):
            note = NO_SHARED_TIME
        elif co is None and pool.experience[lead] == _EXPERIENCE_RANK[ExperienceLevel.NEW]:
            # The solver keeps two new facilitators apart; one alone is flagged for the coordinator.
            note = NEW_ALONE
        elif co is None and view.needs.facilitators_needed > 1:
            note = ONLY_ONE
        items.append({
            "proposal_id": proposal_id, "case_id": view.case.id, "lead_user_id": int(pool.user_id[lead]),
            "co_user_id": None if co is None else int(pool.user_id[co]),
            "score": round(sum(score_of[(c, row)] for row in ordered), 2), "note": note,
        })
    return items


def unstaffed_cases(session: Session, proposal: AllocationProposal) -> list[Case]:
    """The cases still awaiting allocation that the proposal found nobody for: waiting now, recorded
    before the proposal was made, and without an item in it (oldest received first). Every one of
    them: the review page shows them a page at a time (`proposals.unstaffed_page`)."""
    return list(session.scalars(
        select(Case).where(*proposals.unstaffed_conditions(proposal)).order_by(Case.received_on, Case.id)
    ))
