"""The coordinators' supervision cadence list, computed in the database: one page of active volunteers,
earliest due first, with counts per state, in one statement (and the settings) however many volunteers.

Each volunteer's due date follows `rules.due_on`: after an attended session the date the supervisor set
(or the cadence from that session); before any, the cadence from the day (in London) they became
active. The date is an SQL expression, so filtering by state, ordering and paging happen in the query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Date, and_, case, cast, exists, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from portal.core.accounts import User
from portal.core.paging import Page, PageWindow
from portal.supervision import rules
from portal.supervision.models import (
    Attendance,
    BookingStatus,
    SlotStatus,
    SupervisionBooking,
    SupervisionRecord,
    SupervisionSlot,
)
from portal.supervision.queries import SupervisionDue, cadence_rules, london_day
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus

LONDON_ZONE = "Europe/London"


class BookedFilter:
    """Values of the "next session booked" filter."""

    BOOKED = "yes"
    NOT_BOOKED = "no"


@dataclass(frozen=True)
class CadenceFilter:
    """What a coordinator narrows the list to; None or "" means any."""

    state: rules.DueState | None = None
    supervisor_id: int | None = None
    booked: str = ""
    search: str = ""


@dataclass(frozen=True)
class CadenceCounts:
    """How many volunteers match the other filters, in each state."""

    overdue: int = 0
    due_soon: int = 0
    in_date: int = 0

    @property
    def total(self) -> int:
        return self.overdue + self.due_soon + self.in_date

    def of(self, state: rules.DueState | None) -> int:
        return self.total if state is None else getattr(self, state.value)


@dataclass(frozen=True)
class CadencePage:
    page: Page[SupervisionDue]
    counts: CadenceCounts
    rules: rules.CadenceRules


# ---------------------------------------------------------------------------------------------
# Date arithmetic in SQL (PostgreSQL and SQLite say it differently)


def _plus_days(session: Session, day: ColumnElement, days: int) -> ColumnElement:
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(day + literal(days), Date)
    return type_coerce(func.date(day, f"{days:+d} days"), Date)


def _london_date(session: Session, moment: ColumnElement) -> ColumnElement:
    """The calendar date in London of a UTC timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(LONDON_ZONE, moment), Date)
    # SQLite has no time zones; British Summer Time runs from 01:00 UTC on the last Sunday of March
    # (the first Sunday on or after 25 March) to 01:00 UTC on the last Sunday of October.
    year = func.strftime("%Y", moment)
    summer = and_(
        moment >= func.datetime(year.concat("-03-25"), "weekday 0", "+1 hours"),
        moment < func.datetime(year.concat("-10-25"), "weekday 0", "+1 hours"),
    )
    return type_coerce(func.date(moment, case((summer, "+1 hours"), else_="+0 hours")), Date)


# ---------------------------------------------------------------------------------------------
# The list


def _latest_attended():
    """Each volunteer's latest attended session (by day, then id): the rows of the subquery with
    `later_id` None. Ascending order with lead() reads `ix_supervision_records_attended` in order, with no
    sort."""
    ordered = select(
        SupervisionRecord.user_id, SupervisionRecord.held_on, SupervisionRecord.next_due_on,
        SupervisionRecord.supervisor_id,
        func.lead(SupervisionRecord.id).over(
            partition_by=SupervisionRecord.user_id, order_by=(SupervisionRecord.held_on, SupervisionRecord.id),
        ).label("later_id"),
    ).where(SupervisionRecord.attendance == Attendance.ATTENDED)
    return ordered.subquery("latest_attended")


def _next_booked(now: dt.datetime):
    """Each volunteer's earliest live booking in a session still to start."""
    return (
        select(SupervisionBooking.user_id, func.min(SupervisionSlot.starts_at).label("starts_at"))
        .join(SupervisionSlot, SupervisionSlot.id == SupervisionBooking.slot_id)
        .where(SupervisionBooking.status == BookingStatus.BOOKED, SupervisionSlot.status == SlotStatus.OPEN,
               SupervisionSlot.starts_at > now)
        .group_by(SupervisionBooking.user_id)
        .subquery("next_booked")
    )


def _state_condition(due: ColumnElement, state: rules.DueState, today: dt.date, soon_days: int) -> ColumnElement:
    soon_until = today + dt.timedelta(days=soon_days)
    if state is rules.DueState.OVERDUE:
        return due < today
    if state is rules.DueState.DUE_SOON:
        return and_(due >= today, due <= soon_until)
    return due > soon_until


def supervision_due_page(
    session: Session, *, now: dt.datetime, filters: CadenceFilter, page: int, per_page: int
) -> CadencePage:
    """One page of active volunteers' supervision positions (earliest due first, then by name) matching
    `filters`, with counts per state under the other filters. Two statements: the cadence settings, and
    the page with the counts (one more for a page past the end, which gives the last page)."""
    cadence = cadence_rules(session)
    today = london_day(now)
    weeks_in_days = cadence.cadence_weeks * 7
    latest = _latest_attended()
    upcoming = _next_booked(now)
    due = case(
        (latest.c.held_on.is_not(None),
         func.coalesce(latest.c.next_due_on, _plus_days(session, latest.c.held_on, weeks_in_days))),
        else_=_plus_days(session, _london_date(session, Volunteer.status_changed_at), weeks_in_days),
    )
    due = type_coerce(due, Date)

    conditions: list[ColumnElement] = [Volunteer.status == VolunteerStatus.ACTIVE]
    if filters.supervisor_id is not None:
        leads_next = exists().where(
            SupervisionBooking.user_id == Volunteer.user_id, SupervisionBooking.status == BookingStatus.BOOKED,
            SupervisionSlot.id == SupervisionBooking.slot_id, SupervisionSlot.status == SlotStatus.OPEN,
            SupervisionSlot.starts_at > now, SupervisionSlot.supervisor_id == filters.supervisor_id,
        )
        conditions.append(or_(latest.c.supervisor_id == filters.supervisor_id, leads_next))
    if filters.booked == BookedFilter.BOOKED:
        conditions.append(upcoming.c.starts_at.is_not(None))
    elif filters.booked == BookedFilter.NOT_BOOKED:
        conditions.append(upcoming.c.starts_at.is_(None))
    if filters.search:
        conditions.append(or_(User.name.icontains(filters.search, autoescape=True),
                              User.email.icontains(filters.search, autoescape=True)))

    state_of = case(
        (_state_condition(due, rules.DueState.OVERDUE, today, cadence.due_soon_days), rules.DueState.OVERDUE.value),
        (_state_condition(due, rules.DueState.DUE_SOON, today, cadence.due_soon_days), rules.DueState.DUE_SOON.value),
        else_=rules.DueState.IN_DATE.value,
    )
    matching = (
        select(Volunteer.user_id, User.name, User.email, due.label("due_on"), latest.c.held_on,
               upcoming.c.starts_at.label("next_at"), state_of.label("state"), func.lower(User.name).label("sort_name"))
        .select_from(Volunteer)
        .join(User, User.id == Volunteer.user_id)
        .outerjoin(latest, and_(latest.c.user_id == Volunteer.user_id, latest.c.later_id.is_(None)))
        .outerjoin(upcoming, upcoming.c.user_id == Volunteer.user_id)
        .where(*conditions)
        .cte("matching")
    )

    def tally(state: rules.DueState):
        return func.coalesce(func.sum(case((matching.c.state == state.value, 1), else_=0)), 0)

    counts_query = select(tally(rules.DueState.OVERDUE).label("overdue"), tally(rules.DueState.DUE_SOON).label("soon"),
                          tally(rules.DueState.IN_DATE).label("in_date")).subquery("counts")

    def run(window_offset: int):
        shown = select(matching).order_by(matching.c.due_on, matching.c.sort_name, matching.c.user_id)
        if filters.state is not None:
            shown = shown.where(matching.c.state == filters.state.value)
        shown = shown.offset(window_offset).limit(per_page).subquery("shown")
        # The counts come on every row, and on one row of their own when the page is empty.
        return session.execute(
            select(counts_query, shown).select_from(counts_query.outerjoin(shown, literal(True)))
            .order_by(shown.c.due_on, shown.c.sort_name, shown.c.user_id)
        ).all()

    requested = PageWindow.of(max(page, 1) * per_page, page, per_page)  # the page asked for, before the count
    found = run(requested.offset)
    first = found[0]
    counts = CadenceCounts(overdue=int(first.overdue), due_soon=int(first.soon), in_date=int(first.in_date))
    window = PageWindow.of(counts.of(filters.state), page, per_page)
    if window.offset != requested.offset:  # past the last page: show the last (one more statement)
        found = run(window.offset)
    rows = [
        SupervisionDue(
            user_id=row.user_id, name=row.name, email=row.email, due_on=row.due_on, state=rules.DueState(row.state),
            last_held_on=row.held_on, next_booked_at=row.next_at,
        )
        for row in found if row.user_id is not None
    ]
    return CadencePage(page=Page(rows, window), counts=counts, rules=cadence)
