"""Reads of volunteer records: `get_*` raises NotFound, `find_*` returns None, `list_*` returns a list."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from portal.core.accounts import User
from portal.core.errors import NotFound
from portal.core.paging import Page, PageWindow
from portal.core.search import clean_term, contains
from portal.volunteers.profiles.models import ConflictOfInterest, Volunteer, VolunteerAbsence, VolunteerStatus


def get_volunteer(session: Session, volunteer_id: int) -> Volunteer:
    """The volunteer record with this id; raises NotFound."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("Volunteer not found")
    return volunteer


def find_volunteer_for_user(session: Session, user_id: int) -> Volunteer | None:
    """The person's volunteer record, or None if they were never offered a place."""
    return session.scalar(select(Volunteer).where(Volunteer.user_id == user_id))


@dataclass(frozen=True)
class VolunteerFilter:
    """What the coordinators' volunteer list is narrowed to; every field is optional. `search` is found
    anywhere in the name or e-mail address, ignoring case, with `%` and `_` taken literally; `district`
    is one of the volunteer's districts exactly as recorded."""

    statuses: tuple[VolunteerStatus, ...] = ()
    search: str = ""
    district: str | None = None


def _filtered(query: Select, filters: VolunteerFilter, *, joined_user: bool) -> Select:
    if filters.statuses:
        query = query.where(Volunteer.status.in_(filters.statuses))
    if filters.district:
        # Portable across SQLite and PostgreSQL: the stored JSON text holds the encoded name.
        query = query.where(cast(Volunteer.districts, String).contains(json.dumps(filters.district), autoescape=True))
    term = clean_term(filters.search)
    if term:
        if not joined_user:
            query = query.join(User, Volunteer.user_id == User.id)
        # Two trigram index scans OR-ed together on PostgreSQL (ix_users_name_trgm, ix_users_email_trgm).
        query = query.where(or_(contains(User.name, term), contains(User.email, term)))
    return query


def _in_name_order(filters: VolunteerFilter, *, limit: int | None, offset: int = 0) -> Select:
    # The window's ids are picked first from narrow (id, sort key) rows, then only those records are
    # read: sorting every wide volunteer-and-account row spills to disk at national size.
    sort_name = func.lower(User.name).label("sort_name")
    chosen = _filtered(select(Volunteer.id, sort_name).join(User, Volunteer.user_id == User.id), filters,
                       joined_user=True).order_by(sort_name, Volunteer.id).limit(limit).offset(offset).subquery()
    return (
        select(Volunteer).join(chosen, chosen.c.id == Volunteer.id).join(User, Volunteer.user_id == User.id)
        .options(contains_eager(Volunteer.user)).order_by(chosen.c.sort_name, Volunteer.id)
    )


def list_volunteer_page(
    session: Session, filters: VolunteerFilter = VolunteerFilter(), *, page: int = 1, per_page: int = 50
) -> Page[Volunteer]:
    """One page of volunteer records in name order, each with its account loaded, narrowed by `filters`.
    A page past the end gives the last page. Three statements (a count, the page, the accounts' roles)
    however many volunteers there are."""
    total = session.scalar(_filtered(select(func.count(Volunteer.id)), filters, joined_user=False)) or 0
    window = PageWindow.of(total, page, per_page)
    rows = session.scalars(_in_name_order(filters, limit=window.per_page, offset=window.offset))
    return Page(list(rows), window)


def list_volunteers(
    session: Session, *, statuses: tuple[VolunteerStatus, ...] = (), search: str | None = None,
    limit: int | None = None,
) -> list[Volunteer]:
    """Volunteer records in name order (at most `limit`), each with its account loaded, optionally only
    in `statuses` and whose name or e-mail contains `search` (as `list_volunteer_page`)."""
    filters = VolunteerFilter(statuses=tuple(statuses), search=search or "")
    return list(session.scalars(_in_name_order(filters, limit=limit)))


# ---------------------------------------------------------------------------------------------
# Many people at once (allocation asks about every candidate for a case)


def volunteers_by_user(session: Session, user_ids: Iterable[int]) -> dict[int, Volunteer]:
    """The volunteer record (with its account loaded) of each of these people who has one, in one query."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    query = (
        select(Volunteer, User).join(User, Volunteer.user_id == User.id).where(Volunteer.user_id.in_(wanted))
    )
    return {volunteer.user_id: volunteer for volunteer, _user in session.execute(query)}


def absences_by_volunteer(
    session: Session, volunteer_ids: Iterable[int], starts_on: dt.date, ends_on: dt.date
) -> dict[int, list[VolunteerAbsence]]:
    """Each volunteer's absences that overlap `starts_on`..`ends_on` (both included), earliest first,
    in one query; a volunteer with none is left out."""
    wanted = set(volunteer_ids)
    found: dict[int, list[VolunteerAbsence]] = {}
    if not wanted:
        return found
    query = (
        select(VolunteerAbsence)
        .where(VolunteerAbsence.volunteer_id.in_(wanted), VolunteerAbsence.starts_on <= ends_on,
               VolunteerAbsence.ends_on >= starts_on)
        .order_by(VolunteerAbsence.starts_on, VolunteerAbsence.id)
    )
    for absence in session.scalars(query):
        found.setdefault(absence.volunteer_id, []).append(absence)
    return found


def current_conflicts_by_volunteer(
    session: Session, volunteer_ids: Iterable[int]
) -> dict[int, list[ConflictOfInterest]]:
    """Each volunteer's current (not withdrawn) declared conflicts of interest, oldest first, in one
    query; a volunteer with none is left out. Restricted: for coordinators' eyes only."""
    wanted = set(volunteer_ids)
    found: dict[int, list[ConflictOfInterest]] = {}
    if not wanted:
        return found
    query = (
        select(ConflictOfInterest)
        .where(ConflictOfInterest.volunteer_id.in_(wanted), ConflictOfInterest.withdrawn_at.is_(None))
        .order_by(ConflictOfInterest.declared_at, ConflictOfInterest.id)
    )
    for conflict in session.scalars(query):
        found.setdefault(conflict.volunteer_id, []).append(conflict)
    return found


def get_volunteer_for_user(session: Session, user_id: int) -> Volunteer:
    """The person's volunteer record; raises NotFound if they were never offered a place."""
    volunteer = find_volunteer_for_user(session, user_id)
    if volunteer is None:
        raise NotFound("Volunteer not found")
    return volunteer


def is_paused(volunteer: Volunteer, *, today: dt.date) -> bool:
    """Whether the volunteer's own pause covers `today` (the last day of a pause is included)."""
    return volunteer.paused_until is not None and volunteer.paused_until >= today


def list_absences(session: Session, volunteer_id: int, *, today: dt.date) -> list[VolunteerAbsence]:
    """The volunteer's dates away that have not ended before `today`, soonest first."""
    return list(session.scalars(
        select(VolunteerAbsence)
        .where(VolunteerAbsence.volunteer_id == volunteer_id, VolunteerAbsence.ends_on >= today)
        .order_by(VolunteerAbsence.starts_on, VolunteerAbsence.id)
    ))


def list_conflicts(session: Session, volunteer_id: int) -> list[ConflictOfInterest]:
    """Every conflict of interest the volunteer declared: current ones first, each group newest first.
    Restricted: show only to the volunteer and coordinators (permissions.can_view_conflicts)."""
    return list(session.scalars(
        select(ConflictOfInterest)
        .where(ConflictOfInterest.volunteer_id == volunteer_id)
        .order_by(ConflictOfInterest.withdrawn_at.is_not(None), ConflictOfInterest.declared_at.desc(),
                  ConflictOfInterest.id.desc())
    ))
