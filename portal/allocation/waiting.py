"""The coordinators' list of cases awaiting allocation: one page at a time, narrowed by filters, with
counts from aggregate queries.

Every function runs a fixed number of statements, however many cases are waiting: `waiting_summary`
one, `waiting_districts` one, `waiting_page` three (the count, the page with its needs flag and
waiting-since date, and the page's live offers with their people's names).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from portal.allocation.models import LIVE_OFFER_STATUSES, AllocationOffer, CaseNeeds, OfferStatus
from portal.cases.models import AllocationRole, Case, CaseStatus, CaseStatusChange
from portal.core.accounts import User
from portal.core.clock import london_to_utc, to_london
from portal.core.paging import Page, PageWindow


@dataclass(frozen=True)
class WaitingFilter:
    """What the waiting list is narrowed to; every field is optional.

    `waited_days`: only cases waiting for more than this many whole days (since they last moved to
    awaiting allocation). `needs_recorded`, `sensitive`, `offered`: True for only those that are,
    False for only those that are not."""

    district: str | None = None
    waited_days: int | None = None
    overdue: bool = False
    sensitive: bool | None = None
    needs_recorded: bool | None = None
    offered: bool | None = None

    @property
    def narrowed(self) -> bool:
        return self != WaitingFilter()


@dataclass(frozen=True)
class WaitingSummary:
    """Counts over every case awaiting allocation."""

    total: int
    without_needs: int
    overdue: int
    sensitive: int
    offered: int


@dataclass(frozen=True)
class LiveOffer:
    """A live offer as the list shows it: to whom, in which role, how far it has got."""

    name: str
    role: AllocationRole
    status: OfferStatus


@dataclass(frozen=True)
class WaitingRow:
    """One case on the list, with what the row shows beside it."""

    case: Case
    waiting_since: dt.date
    needs_recorded: bool
    offers: list[LiveOffer]


def _awaiting():
    return Case.status == CaseStatus.AWAITING_ALLOCATION


def _has_needs():
    return exists().where(CaseNeeds.case_id == Case.id)


def _has_live_offer():
    # IN, not EXISTS: live offers are few, so PostgreSQL hashes them once instead of probing per case.
    return Case.id.in_(select(AllocationOffer.case_id).where(AllocationOffer.status.in_(LIVE_OFFER_STATUSES)))


def _first_contact_overdue(today: dt.date):
    # The same rule as the case list's "overdue for first contact" (a waiting case is never closed).
    return and_(Case.first_contact_on.is_(None), Case.first_contact_due_on < today)


def _waiting_since():
    """When the case last moved to awaiting allocation; when it was recorded, for a case created
    in that status (an import)."""
    moved = (
        select(func.max(CaseStatusChange.changed_at))
        .where(CaseStatusChange.case_id == Case.id, CaseStatusChange.to_status == CaseStatus.AWAITING_ALLOCATION)
        .scalar_subquery()
    )
    return func.coalesce(moved, Case.created_at)


def _conditions(filters: WaitingFilter, today: dt.date) -> list:
    conditions = [_awaiting()]
    if filters.district:
        conditions.append(Case.district == filters.district)
    if filters.waited_days is not None:
        # More than N whole days: waiting since before the start of the day N days ago (London time).
        since = london_to_utc(today - dt.timedelta(days=filters.waited_days), dt.time())
        conditions.append(_waiting_since() < since)
    if filters.overdue:
        conditions.append(_first_contact_overdue(today))
    if filters.sensitive is not None:
        conditions.append(Case.is_sensitive.is_(filters.sensitive))
    if filters.needs_recorded is not None:
        conditions.append(_has_needs() if filters.needs_recorded else ~_has_needs())
    if filters.offered is not None:
        conditions.append(_has_live_offer() if filters.offered else ~_has_live_offer())
    return conditions


def waiting_summary(session: Session, *, today: dt.date) -> WaitingSummary:
    """How many cases await allocation, and how many of them have no needs recorded, are overdue
    for first contact, are sensitive, have a live offer out: one aggregate query."""

    def counted(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(
        select(func.count(), counted(~_has_needs()), counted(_first_contact_overdue(today)),
               counted(Case.is_sensitive.is_(True)), counted(_has_live_offer()))
        .select_from(Case).where(_awaiting())
    ).one()
    return WaitingSummary(*(int(value) for value in row))


def waiting_districts(session: Session) -> list[tuple[str, int]]:
    """Each district with cases awaiting allocation and how many, by name: one aggregate query."""
    return [
        (district, int(count)) for district, count in session.execute(
            select(Case.district, func.count()).where(_awaiting()).group_by(Case.district).order_by(Case.district)
        )
    ]


def waiting_page(
    session: Session, filters: WaitingFilter = WaitingFilter(), *, today: dt.date, page: int = 1, per_page: int = 50,
) -> Page[WaitingRow]:
    """One page of the cases awaiting allocation that match `filters`, oldest received first (then
    by id), each with its waiting-since date (London), whether its needs are recorded and its live
    offers. A page past the end gives the last page."""
    conditions = _conditions(filters, today)
    total = session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
    window = PageWindow.of(total, page, per_page)
    found = session.execute(
        select(Case, _has_needs().label("needs_recorded"), _waiting_since().label("waiting_since"))
        .where(*conditions).order_by(Case.received_on, Case.id).limit(window.per_page).offset(window.offset)
    ).all()
    ids = [row.Case.id for row in found]
    offers: dict[int, list[LiveOffer]] = {case_id: [] for case_id in ids}
    if ids:
        for case_id, name, role, status in session.execute(
            select(AllocationOffer.case_id, User.name, AllocationOffer.role, AllocationOffer.status)
            .join(User, User.id == AllocationOffer.user_id)
            .where(AllocationOffer.case_id.in_(ids), AllocationOffer.status.in_(LIVE_OFFER_STATUSES))
            .order_by(AllocationOffer.role, AllocationOffer.id)
        ):
            offers[case_id].append(LiveOffer(name, role, status))
    rows = [
        WaitingRow(case=row.Case, waiting_since=_london_day(row.waiting_since), needs_recorded=bool(row.needs_recorded),
                   offers=offers[row.Case.id])
        for row in found
    ]
    return Page(rows, window)


def _london_day(moment) -> dt.date:
    # coalesce() hands SQLite's stored text back untyped; PostgreSQL gives an aware datetime.
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return to_london(moment).date()
