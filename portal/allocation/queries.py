"""Reads of allocation: a case's needs, volunteers' loads and the cases waiting for facilitators.

`get_*` raises NotFound, `find_*` returns None, `list_*` returns a list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import exists, func, inspect, select, union
from sqlalchemy.orm import Session

from portal.allocation.models import LIVE_OFFER_STATUSES, AllocationOffer, CaseNeeds
from portal.allocation.scoring import RECENT_DAYS
from portal.cases.models import Allocation, Case, CaseStatus, Party
from portal.volunteers.profiles import availability

DEFAULT_HOURS = 20
DEFAULT_FACILITATORS = 2
DEFAULT_WEEKS = 8
# Weekday mornings and afternoons: when most parties can meet, until a coordinator says otherwise.
DEFAULT_MEETING_MASK = availability.to_mask(
    {day: ("morning", "afternoon") for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}
)


def find_case_needs(session: Session, case_id: int) -> CaseNeeds | None:
    """The needs a coordinator recorded for the case, or None."""
    return session.get(CaseNeeds, case_id)


def next_monday(today: dt.date) -> dt.date:
    """The first Monday after `today` (a week on when today is a Monday)."""
    return today + dt.timedelta(days=7 - today.weekday())


def needs_or_default(session: Session, case: Case, *, today: dt.date) -> CaseNeeds:
    """The case's recorded needs, or (unsaved, never added to the session) the defaults: weekday
    mornings and afternoons, the languages the parties need interpreters for, not complex, 20 hours,
    two facilitators, from the Monday after `today` for eight weeks."""
    needs = find_case_needs(session, case.id)
    return needs if needs is not None else _default_needs(case, today)


def needs_by_case(session: Session, cases: Iterable[Case], *, today: dt.date) -> dict[int, CaseNeeds]:
    """`needs_or_default` for many cases in one query, plus one for the interpreter languages of
    those without recorded needs whose parties are not loaded yet: two statements at most, however
    many cases."""
    cases = list(cases)
    if not cases:
        return {}
    stored = {
        needs.case_id: needs
        for needs in session.scalars(select(CaseNeeds).where(CaseNeeds.case_id.in_([case.id for case in cases])))
    }
    bare = [case for case in cases if case.id not in stored]
    unloaded = {case.id for case in bare if "parties" in inspect(case).unloaded}
    languages: dict[int, list[str | None]] = {}
    if unloaded:
        for case_id, language in session.execute(
            select(Party.case_id, Party.interpreter_language).where(
                Party.case_id.in_(unloaded), Party.interpreter_language.is_not(None)
            )
        ):
            languages.setdefault(case_id, []).append(language)
    for case in bare:
        spoken = languages.get(case.id, []) if case.id in unloaded else [
            party.interpreter_language for party in case.parties
        ]
        stored[case.id] = default_needs(case.id, spoken, today=today)
    return {case.id: stored[case.id] for case in cases}


def _default_needs(case: Case, today: dt.date) -> CaseNeeds:
    return default_needs(case.id, [party.interpreter_language for party in case.parties], today=today)


def default_needs(case_id: int, interpreter_languages: Iterable[str | None], *, today: dt.date) -> CaseNeeds:
    """The needs assumed for a case nobody has recorded needs for (unsaved, never added to a
    session): see `needs_or_default`. `interpreter_languages` are its parties' (None or blank for
    a party who needs no interpreter)."""
    starts_on = next_monday(today)
    languages = sorted({language.strip() for language in interpreter_languages if language and language.strip()})
    return CaseNeeds(
        case_id=case_id, meeting_mask=DEFAULT_MEETING_MASK, languages=languages, is_complex=False,
        expected_hours=DEFAULT_HOURS, facilitators_needed=DEFAULT_FACILITATORS, expected_start_on=starts_on,
        expected_end_on=starts_on + dt.timedelta(weeks=DEFAULT_WEEKS),
    )


def load_by_user(
    session: Session, user_ids: Iterable[int] | None = None, *, exclude_case_id: int | None = None
) -> dict[int, int]:
    """How many cases each person holds: current allocations plus live offers (offered or accepted),
    a case with both counted once, in one query.

    With `user_ids`, every one of them is a key (0 when they hold none); without, only people holding
    a case. `exclude_case_id` leaves that case out (the case being allocated).
    """
    wanted = None if user_ids is None else set(user_ids)
    if wanted is not None and not wanted:
        return {}
    allocations = select(Allocation.user_id, Allocation.case_id).where(Allocation.ends_on.is_(None))
    offers = select(AllocationOffer.user_id, AllocationOffer.case_id).where(
        AllocationOffer.status.in_(LIVE_OFFER_STATUSES)
    )
    if wanted is not None:
        allocations = allocations.where(Allocation.user_id.in_(wanted))
        offers = offers.where(AllocationOffer.user_id.in_(wanted))
    if exclude_case_id is not None:
        allocations = allocations.where(Allocation.case_id != exclude_case_id)
        offers = offers.where(AllocationOffer.case_id != exclude_case_id)
    held = union(allocations, offers).subquery()  # UNION (not UNION ALL): a case held twice counts once
    counts = dict(session.execute(select(held.c.user_id, func.count()).group_by(held.c.user_id)).all())
    if wanted is None:
        return counts
    return {user_id: counts.get(user_id, 0) for user_id in wanted}


def recent_allocations_by_user(
    session: Session, user_ids: Iterable[int] | None = None, *, today: dt.date
) -> dict[int, int]:
    """How many allocations each person started within `scoring.RECENT_DAYS` days up to `today`
    (ended ones too), in one query. Keys as for `load_by_user`."""
    wanted = None if user_ids is None else set(user_ids)
    if wanted is not None and not wanted:
        return {}
    query = (
        select(Allocation.user_id, func.count(Allocation.id))
        .where(Allocation.starts_on >= today - dt.timedelta(days=RECENT_DAYS), Allocation.starts_on <= today)
        .group_by(Allocation.user_id)
    )
    if wanted is not None:
        query = query.where(Allocation.user_id.in_(wanted))
    counts = dict(session.execute(query).all())
    if wanted is None:
        return counts
    return {user_id: counts.get(user_id, 0) for user_id in wanted}


def waiting_conditions() -> list:
    """The WHERE conditions of a case waiting for facilitators: awaiting allocation with no current
    allocation and no live offer."""
    allocated = exists().where(Allocation.case_id == Case.id, Allocation.ends_on.is_(None))
    # NOT IN, not NOT EXISTS: live offers are few, so PostgreSQL hashes them once instead of probing per case.
    offered = Case.id.in_(select(AllocationOffer.case_id).where(AllocationOffer.status.in_(LIVE_OFFER_STATUSES)))
    return [Case.status == CaseStatus.AWAITING_ALLOCATION, ~allocated, ~offered]


def list_waiting_cases(session: Session) -> list[Case]:
    """Cases awaiting allocation with no current allocation and no live offer, oldest received first."""
    return list(session.scalars(select(Case).where(*waiting_conditions()).order_by(Case.received_on, Case.id)))
