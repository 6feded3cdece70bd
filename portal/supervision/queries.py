"""Reads of supervision: `get_*` raises NotFound, `find_*` returns None, `list_*` returns a list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from portal.cases.models import Allocation, Case, CaseSession, SessionType
from portal.cases.queries import MyCase, list_my_cases
from portal.core import settings
from portal.core.accounts import Role, User, UserRole, is_coordinator
from portal.core.clock import LONDON
from portal.core.errors import NotFound
from portal.core.paging import Page, PageWindow
from portal.supervision import rules
from portal.supervision.models import (
    Attendance,
    BookingPurpose,
    BookingStatus,
    SlotStatus,
    SupervisionBooking,
    SupervisionRecord,
    SupervisionSlot,
    Supervisor,
)
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus


def london_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LONDON).date()


# ---------------------------------------------------------------------------------------------
# Settings


def cadence_rules(session: Session) -> rules.CadenceRules:
    """The cadence settings in force (defaults: every 12 weeks, overdue only warns, due soon 14 days)."""
    stored = settings.get_settings(session, {
        rules.CADENCE_SETTING: rules.CADENCE_DEFAULT_WEEKS, rules.BLOCKS_SETTING: rules.BLOCKS_DEFAULT,
        rules.DUE_SOON_SETTING: rules.DUE_SOON_DEFAULT_DAYS,
    })
    return rules.CadenceRules(
        cadence_weeks=int(stored[rules.CADENCE_SETTING]),
        overdue_blocks_allocation=bool(stored[rules.BLOCKS_SETTING]),
        due_soon_days=int(stored[rules.DUE_SOON_SETTING]),
    )


# ---------------------------------------------------------------------------------------------
# Supervisors


def find_current_supervisor(session: Session, user_id: int, *, lock: bool = False) -> Supervisor | None:
    """The person's current naming as a supervisor, or None.

    With `lock` the naming is held (FOR SHARE on PostgreSQL) until the transaction ends, so a slot
    given to them cannot slip past a removal committed at the same moment: either the removal waits
    and then cancels the slot, or this read waits and finds them removed.
    """
    query = select(Supervisor).where(Supervisor.user_id == user_id, Supervisor.ended_at.is_(None))
    if lock:
        query = query.with_for_update(read=True)
    return session.scalar(query)


def is_supervisor(session: Session, user: User | None, *, lock: bool = False) -> bool:
    """A coordinator, or a person a coordinator has named as a supervisor (and not removed); `lock` as
    for `find_current_supervisor`."""
    if user is None or getattr(user, "is_anonymous", False):
        return False
    return is_coordinator(user) or find_current_supervisor(session, user.id, lock=lock) is not None


def list_named_supervisors(session: Session) -> list[Supervisor]:
    """Current named supervisors, by name, each with its account loaded (one statement however many)."""
    return list(
        session.scalars(
            select(Supervisor).join(Supervisor.user).options(contains_eager(Supervisor.user))
            .where(Supervisor.ended_at.is_(None)).order_by(User.name, Supervisor.id)
        )
    )


def list_possible_supervisors(session: Session) -> list[User]:
    """Everyone who may lead a session: coordinators and named supervisors, active, by name."""
    named = select(Supervisor.user_id).where(Supervisor.ended_at.is_(None))
    coordinators = select(UserRole.user_id).where(UserRole.role == Role.COORDINATOR)
    return list(
        session.scalars(
            select(User).where(User.is_deactivated.is_(False), or_(User.id.in_(named), User.id.in_(coordinators)))
            .order_by(User.name, User.id)
        )
    )


def list_active_volunteers(session: Session) -> list[User]:
    """People with an active volunteer record and an active account, by name (who can be booked in)."""
    active = select(Volunteer.user_id).where(Volunteer.status == VolunteerStatus.ACTIVE)
    return list(session.scalars(
        select(User).where(User.is_deactivated.is_(False), User.id.in_(active)).order_by(User.name, User.id)
    ))


def list_coordinators(session: Session) -> list[User]:
    """Active coordinators, by name (they hear about wellbeing concerns)."""
    coordinators = select(UserRole.user_id).where(UserRole.role == Role.COORDINATOR)
    return list(session.scalars(
        select(User).where(User.is_deactivated.is_(False), User.id.in_(coordinators)).order_by(User.name, User.id)
    ))


@dataclass(frozen=True)
class PersonFound:
    id: int
    name: str
    email: str


def _search_people(session: Session, who, search: str, limit: int) -> tuple[list[PersonFound], bool]:
    rows = session.execute(
        select(User.id, User.name, User.email)
        .where(User.is_deactivated.is_(False), User.id.in_(who),
               or_(User.name.icontains(search, autoescape=True), User.email.icontains(search, autoescape=True)))
        .order_by(func.lower(User.name), User.id).limit(limit + 1)
    ).all()
    return [PersonFound(*row) for row in rows[:limit]], len(rows) > limit


def search_active_volunteers(
    session: Session, search: str, *, limit: int, leaving_out: int | None = None
) -> tuple[list[PersonFound], bool]:
    """Up to `limit` of `list_active_volunteers` whose name or e-mail address contains `search` (any case),
    without `leaving_out`; by name, with True when more match. One statement."""
    who = select(Volunteer.user_id).where(Volunteer.status == VolunteerStatus.ACTIVE)
    if leaving_out is not None:
        who = who.where(Volunteer.user_id != leaving_out)
    return _search_people(session, who, search, limit)


def search_people_to_name(session: Session, search: str, *, limit: int) -> tuple[list[PersonFound], bool]:
    """Up to `limit` of `list_people_to_name` whose name or e-mail address contains `search` (any case); by
    name, with True when more match. One statement."""
    named = select(Supervisor.user_id).where(Supervisor.ended_at.is_(None))
    who = select(UserRole.user_id).where(UserRole.role.in_([Role.VOLUNTEER, Role.TRAINER]),
                                         UserRole.user_id.not_in(named))
    return _search_people(session, who, search, limit)


def list_people_to_name(session: Session) -> list[User]:
    """Active volunteers and trainers who could be named supervisors (not already named), by name."""
    named = select(Supervisor.user_id).where(Supervisor.ended_at.is_(None))
    roles = select(UserRole.user_id).where(UserRole.role.in_([Role.VOLUNTEER, Role.TRAINER]))
    return list(
        session.scalars(
            select(User).where(User.is_deactivated.is_(False), User.id.in_(roles), User.id.not_in(named))
            .order_by(User.name, User.id)
        )
    )


# ---------------------------------------------------------------------------------------------
# Slots and bookings


def get_slot(session: Session, slot_id: int) -> SupervisionSlot:
    """The slot with this id; raises NotFound."""
    slot = session.get(SupervisionSlot, slot_id)
    if slot is None:
        raise NotFound("Supervision slot not found")
    return slot


def get_booking(session: Session, booking_id: int) -> SupervisionBooking:
    """The booking with this id; raises NotFound."""
    booking = session.get(SupervisionBooking, booking_id)
    if booking is None:
        raise NotFound("Supervision booking not found")
    return booking


def get_record(session: Session, record_id: int) -> SupervisionRecord:
    """The session record with this id; raises NotFound."""
    record = session.get(SupervisionRecord, record_id)
    if record is None:
        raise NotFound("Supervision record not found")
    return record


def find_record_for_booking(session: Session, booking_id: int) -> SupervisionRecord | None:
    return session.scalar(select(SupervisionRecord).where(SupervisionRecord.booking_id == booking_id))


def list_bookable_slots(
    session: Session, *, now: dt.datetime, user_id: int | None = None, until: dt.datetime | None = None,
    exclude_slot_id: int | None = None,
) -> list[SupervisionSlot]:
    """Open slots a volunteer could book now (a place left, outside the minimum notice), soonest first;
    without slots `user_id` already holds or leads."""
    query = (
        select(SupervisionSlot)
        .where(SupervisionSlot.status == SlotStatus.OPEN, SupervisionSlot.starts_at > now)
        .order_by(SupervisionSlot.starts_at, SupervisionSlot.id)
    )
    if until is not None:
        query = query.where(SupervisionSlot.starts_at < until)
    if user_id is not None:
        query = query.where(
            SupervisionSlot.supervisor_id != user_id,
            ~exists().where(
                SupervisionBooking.slot_id == SupervisionSlot.id, SupervisionBooking.user_id == user_id,
                SupervisionBooking.status == BookingStatus.BOOKED,
            ),
        )
    if exclude_slot_id is not None:
        query = query.where(SupervisionSlot.id != exclude_slot_id)
    return [slot for slot in session.scalars(query) if slot.bookable_from_now(now)]


def list_slots_between(session: Session, start: dt.datetime, end: dt.datetime) -> list[SupervisionSlot]:
    """Open slots starting in [start, end), soonest first (the week view)."""
    return list(
        session.scalars(
            select(SupervisionSlot)
            .where(SupervisionSlot.status == SlotStatus.OPEN, SupervisionSlot.starts_at >= start,
                   SupervisionSlot.starts_at < end)
            .order_by(SupervisionSlot.starts_at, SupervisionSlot.id)
        )
    )


def managed_slots_page(
    session: Session, user: User, *, now: dt.datetime, upcoming: bool, page: int, per_page: int,
    supervisor_id: int | None = None,
) -> Page[SupervisionSlot]:
    """One page of the open slots `user` manages (a coordinator: all, or one supervisor's; a supervisor:
    their own): still to end, soonest first; or ended within `rules.RECORD_WINDOW` (the sessions whose
    record can still be written), latest first. With bookings, their people and records: six statements
    however many slots."""
    query = select(SupervisionSlot).where(SupervisionSlot.status == SlotStatus.OPEN)
    if not is_coordinator(user):
        query = query.where(SupervisionSlot.supervisor_id == user.id)
    elif supervisor_id is not None:
        query = query.where(SupervisionSlot.supervisor_id == supervisor_id)
    if upcoming:
        query = query.where(SupervisionSlot.ends_at > now).order_by(SupervisionSlot.starts_at, SupervisionSlot.id)
    else:
        query = query.where(SupervisionSlot.ends_at <= now, SupervisionSlot.ends_at > now - rules.RECORD_WINDOW)
        query = query.order_by(SupervisionSlot.starts_at.desc(), SupervisionSlot.id.desc())
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    window = PageWindow.of(total, page, per_page)
    slots = session.scalars(
        query.options(selectinload(SupervisionSlot.bookings).selectinload(SupervisionBooking.record))
        .offset(window.offset).limit(window.per_page)
    )
    return Page(list(slots), window)


def _bookable(session: Session, now: dt.datetime, user_id: int | None):
    """SQL for `SupervisionSlot.bookable_from_now` (open, a place left, outside the minimum notice),
    without slots `user_id` already holds or leads."""
    live = (select(func.count(SupervisionBooking.id))
            .where(SupervisionBooking.slot_id == SupervisionSlot.id, SupervisionBooking.status == BookingStatus.BOOKED)
            .correlate(SupervisionSlot).scalar_subquery())
    if session.get_bind().dialect.name == "postgresql":
        notice = func.make_interval(0, 0, 0, 0, SupervisionSlot.minimum_notice_hours)  # years … hours
        notice_kept = SupervisionSlot.starts_at - notice >= now
    else:
        latest_booking = func.datetime(SupervisionSlot.starts_at,
                                       literal("-").concat(SupervisionSlot.minimum_notice_hours).concat(" hours"))
        notice_kept = latest_booking >= func.datetime(literal(now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")))
    conditions = [SupervisionSlot.status == SlotStatus.OPEN, SupervisionSlot.starts_at > now,
                  SupervisionSlot.capacity > live, notice_kept]
    if user_id is not None:
        conditions += [
            SupervisionSlot.supervisor_id != user_id,
            ~exists().where(SupervisionBooking.slot_id == SupervisionSlot.id, SupervisionBooking.user_id == user_id,
                            SupervisionBooking.status == BookingStatus.BOOKED),
        ]
    return conditions


def bookable_slots_page(
    session: Session, *, now: dt.datetime, user_id: int | None, page: int, per_page: int,
    exclude_slot_id: int | None = None,
) -> Page[SupervisionSlot]:
    """One page of `list_bookable_slots`, soonest first, worked out in the database: four statements
    (the count, the slots, their bookings, their supervisors) however many slots are open."""
    conditions = _bookable(session, now, user_id)
    if exclude_slot_id is not None:
        conditions.append(SupervisionSlot.id != exclude_slot_id)
    total = session.scalar(select(func.count(SupervisionSlot.id)).where(*conditions)) or 0
    window = PageWindow.of(total, page, per_page)
    slots = session.scalars(select(SupervisionSlot).where(*conditions)
                            .order_by(SupervisionSlot.starts_at, SupervisionSlot.id)
                            .offset(window.offset).limit(window.per_page))
    return Page(list(slots), window)


def list_managed_slots(
    session: Session, user: User, *, since: dt.datetime, include_cancelled: bool = False
) -> list[SupervisionSlot]:
    """Slots ending after `since` that `user` manages (a coordinator: all; a supervisor: their own)."""
    query = select(SupervisionSlot).where(SupervisionSlot.ends_at > since)
    if not is_coordinator(user):
        query = query.where(SupervisionSlot.supervisor_id == user.id)
    if not include_cancelled:
        query = query.where(SupervisionSlot.status == SlotStatus.OPEN)
    return list(session.scalars(query.order_by(SupervisionSlot.starts_at, SupervisionSlot.id)))


def list_bookings_of(session: Session, user_id: int) -> list[SupervisionBooking]:
    """Every booking of the volunteer (cancelled ones too), latest session first, with slots and records
    (a fixed number of statements: a volunteer has a handful of sessions a year)."""
    return list(
        session.scalars(
            select(SupervisionBooking)
            .join(SupervisionSlot, SupervisionSlot.id == SupervisionBooking.slot_id)
            .where(SupervisionBooking.user_id == user_id)
            .options(selectinload(SupervisionBooking.record), selectinload(SupervisionBooking.slot))
            .order_by(SupervisionSlot.starts_at.desc(), SupervisionBooking.id.desc())
        )
    )


def list_live_bookings_overlapping(
    session: Session, user_id: int, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude_booking_id: int | None
) -> list[SupervisionBooking]:
    """The volunteer's live bookings whose session overlaps [starts_at, ends_at)."""
    query = (
        select(SupervisionBooking)
        .join(SupervisionSlot, SupervisionSlot.id == SupervisionBooking.slot_id)
        .where(
            SupervisionBooking.user_id == user_id, SupervisionBooking.status == BookingStatus.BOOKED,
            SupervisionSlot.status == SlotStatus.OPEN,
            SupervisionSlot.starts_at < ends_at, SupervisionSlot.ends_at > starts_at,
        )
    )
    if exclude_booking_id is not None:
        query = query.where(SupervisionBooking.id != exclude_booking_id)
    return list(session.scalars(query))


def list_records_of(session: Session, user_id: int) -> list[SupervisionRecord]:
    """The volunteer's session records, latest first, with their supervisors and sessions."""
    return list(
        session.scalars(
            select(SupervisionRecord).where(SupervisionRecord.user_id == user_id)
            .options(selectinload(SupervisionRecord.supervisor),
                     selectinload(SupervisionRecord.booking).selectinload(SupervisionBooking.slot))
            .order_by(SupervisionRecord.held_on.desc(), SupervisionRecord.id.desc())
        )
    )


def supervises(session: Session, supervisor: User | None, volunteer_user_id: int, *, now: dt.datetime) -> bool:
    """True while `supervisor` supervises the volunteer, in one query. Both must hold now:

    - they are on the supervisors list: a coordinator, or named and not removed (removing them ends
      this at once);
    - the volunteer holds a live booking (not cancelled, in a slot not cancelled) in a session they
      lead that is still to come or ended less than `rules.RECORD_WINDOW` (four weeks) ago, so they can
      prepare for it and then write or correct its record.

    A cancelled booking gives nothing, whoever made it (a supervisor who books someone into their own
    session and cancels it gains no access), nor does a booking moved into someone else's session.
    Records they wrote earlier let them read those records (`permissions.can_view_record`), not the
    volunteer's whole history.
    """
    if supervisor is None or getattr(supervisor, "is_anonymous", False) or getattr(supervisor, "is_deactivated", True):
        return False
    query = (
        select(SupervisionBooking.id)
        .join(SupervisionSlot, SupervisionSlot.id == SupervisionBooking.slot_id)
        .where(
            SupervisionBooking.user_id == volunteer_user_id, SupervisionBooking.status == BookingStatus.BOOKED,
            SupervisionSlot.supervisor_id == supervisor.id, SupervisionSlot.status == SlotStatus.OPEN,
            SupervisionSlot.ends_at > now - rules.RECORD_WINDOW,
        )
        .limit(1)
    )
    if not is_coordinator(supervisor):
        query = query.where(
            exists().where(Supervisor.user_id == supervisor.id, Supervisor.ended_at.is_(None))
        )
    return session.scalar(query) is not None


def list_discussable_cases(session: Session, user_id: int, *, on: dt.date) -> list[MyCase]:
    """The cases a volunteer is allocated to on `on`: the only ones their supervision may record."""
    user = session.get(User, user_id)
    return [] if user is None else list_my_cases(session, user, on=on)


# ---------------------------------------------------------------------------------------------
# Cadence


@dataclass(frozen=True)
class SupervisionDue:
    """One active volunteer's supervision position on a day."""

    user_id: int
    name: str
    email: str
    due_on: dt.date
    state: rules.DueState
    last_held_on: dt.date | None
    next_booked_at: dt.datetime | None

    @property
    def is_overdue(self) -> bool:
        return self.state is rules.DueState.OVERDUE


def _last_attended(session: Session, user_ids: list[int] | None = None) -> dict[int, SupervisionRecord]:
    query = select(SupervisionRecord).where(SupervisionRecord.attendance == Attendance.ATTENDED)
    if user_ids is not None:
        query = query.where(SupervisionRecord.user_id.in_(user_ids))
    latest: dict[int, SupervisionRecord] = {}
    for record in session.scalars(query.order_by(SupervisionRecord.held_on, SupervisionRecord.id)):
        latest[record.user_id] = record
    return latest


def _next_bookings(session: Session, now: dt.datetime, user_ids: list[int] | None = None) -> dict[int, dt.datetime]:
    query = (
        select(SupervisionBooking.user_id, SupervisionSlot.starts_at)
        .join(SupervisionSlot, SupervisionSlot.id == SupervisionBooking.slot_id)
        .where(SupervisionBooking.status == BookingStatus.BOOKED, SupervisionSlot.status == SlotStatus.OPEN,
               SupervisionSlot.starts_at > now)
        .order_by(SupervisionSlot.starts_at.desc())
    )
    if user_ids is not None:
        query = query.where(SupervisionBooking.user_id.in_(user_ids))
    return {user_id: starts_at for user_id, starts_at in session.execute(query)}


def _due_for(
    volunteer: Volunteer, record: SupervisionRecord | None, next_at: dt.datetime | None, cadence: rules.CadenceRules,
    today: dt.date,
) -> SupervisionDue:
    due = rules.due_on(
        last_held_on=record.held_on if record else None, next_due_on=record.next_due_on if record else None,
        active_since=london_day(volunteer.status_changed_at), cadence_weeks=cadence.cadence_weeks,
    )
    return SupervisionDue(
        user_id=volunteer.user_id, name=volunteer.user.name, email=volunteer.user.email, due_on=due,
        state=rules.due_state(due, today, cadence.due_soon_days), last_held_on=record.held_on if record else None,
        next_booked_at=next_at,
    )


def find_supervision_due(session: Session, user_id: int, *, now: dt.datetime) -> SupervisionDue | None:
    """The volunteer's due date and state, or None unless they are an active volunteer."""
    volunteer = session.scalar(
        select(Volunteer).where(Volunteer.user_id == user_id, Volunteer.status == VolunteerStatus.ACTIVE)
    )
    if volunteer is None:
        return None
    record = _last_attended(session, [user_id]).get(user_id)
    next_at = _next_bookings(session, now, [user_id]).get(user_id)
    return _due_for(volunteer, record, next_at, cadence_rules(session), london_day(now))


def list_supervision_due(session: Session, *, now: dt.datetime) -> list[SupervisionDue]:
    """Every active volunteer's supervision position, the earliest due first (three queries)."""
    volunteers = list(
        session.scalars(
            select(Volunteer).where(Volunteer.status == VolunteerStatus.ACTIVE).options(selectinload(Volunteer.user))
        )
    )
    latest = _last_attended(session)
    upcoming = _next_bookings(session, now)
    cadence = cadence_rules(session)
    today = london_day(now)
    rows = [_due_for(v, latest.get(v.user_id), upcoming.get(v.user_id), cadence, today) for v in volunteers]
    return sorted(rows, key=lambda row: (row.due_on, row.name.lower(), row.user_id))


def allocation_refusal(session: Session, user_id: int, on: dt.date) -> str | None:
    """Why a volunteer overdue for supervision may not take a case on `on`, when the setting blocks
    allocation; None otherwise."""
    cadence = cadence_rules(session)
    if not cadence.overdue_blocks_allocation:
        return None
    return overdue_message(session, user_id, on)


def overdue_message(session: Session, user_id: int, on: dt.date) -> str | None:
    """"Supervision overdue since 3 March 2026" for an active volunteer overdue on `on`, else None."""
    volunteer = session.scalar(
        select(Volunteer).where(Volunteer.user_id == user_id, Volunteer.status == VolunteerStatus.ACTIVE)
    )
    if volunteer is None:
        return None
    record = _last_attended(session, [user_id]).get(user_id)
    due = rules.due_on(
        last_held_on=record.held_on if record else None, next_due_on=record.next_due_on if record else None,
        active_since=london_day(volunteer.status_changed_at), cadence_weeks=cadence_rules(session).cadence_weeks,
    )
    if due >= on:
        return None
    return f"Supervision overdue since {rules.long_date(due)}"


def overdue_since(session: Session, user_ids: Iterable[int], on: dt.date) -> dict[int, dt.date]:
    """The date each of these people has been overdue for supervision since, for the active volunteers
    overdue on `on` (the date `overdue_message` names), in two queries and the cadence settings;
    everyone else is left out."""
    wanted = list(set(user_ids))
    if not wanted:
        return {}
    active = session.execute(
        select(Volunteer.user_id, Volunteer.status_changed_at)
        .where(Volunteer.user_id.in_(wanted), Volunteer.status == VolunteerStatus.ACTIVE)
    ).all()
    if not active:
        return {}
    latest = _last_attended(session, [user_id for user_id, _since in active])
    cadence_weeks = cadence_rules(session).cadence_weeks
    found = {}
    for user_id, active_since in active:
        record = latest.get(user_id)
        due = rules.due_on(
            last_held_on=record.held_on if record else None, next_due_on=record.next_due_on if record else None,
            active_since=london_day(active_since), cadence_weeks=cadence_weeks,
        )
        if due < on:
            found[user_id] = due
    return found


# ---------------------------------------------------------------------------------------------
# Debrief prompts


@dataclass(frozen=True)
class DebriefPrompt:
    """A case meeting the volunteer facilitated recently, with no debrief booked since it was logged."""

    case_id: int
    reference: str
    session_type: SessionType
    held_on: dt.date


def list_debrief_prompts(session: Session, user_id: int, *, now: dt.datetime) -> list[DebriefPrompt]:
    """Case meetings (conferences, panels, preparation meetings…) logged in the last two weeks on
    cases the volunteer is allocated to, logged after their latest debrief booking; newest first."""
    today = london_day(now)
    since = today - dt.timedelta(days=rules.DEBRIEF_PROMPT_DAYS)
    last_debrief = session.scalar(
        select(SupervisionBooking.booked_at)
        .where(SupervisionBooking.user_id == user_id, SupervisionBooking.purpose == BookingPurpose.DEBRIEF,
               SupervisionBooking.status == BookingStatus.BOOKED)
        .order_by(SupervisionBooking.booked_at.desc()).limit(1)
    )
    query = (
        select(Case.id, Case.reference, CaseSession.session_type, CaseSession.held_on)
        .join(CaseSession, CaseSession.case_id == Case.id)
        .join(Allocation, Allocation.case_id == Case.id)
        .where(
            Allocation.user_id == user_id,
            Allocation.starts_on <= CaseSession.held_on,
            or_(Allocation.ends_on.is_(None), Allocation.ends_on > CaseSession.held_on),
            CaseSession.held_on >= since,
            CaseSession.held_on <= today,
        )
        .order_by(CaseSession.held_on.desc(), CaseSession.id.desc())
    )
    if last_debrief is not None:
        query = query.where(and_(CaseSession.created_at > last_debrief))
    return [DebriefPrompt(*row) for row in session.execute(query)]
