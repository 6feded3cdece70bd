"""Supervision use cases: supervisors named, slots published (one or a weekly or fortnightly series),
changed and cancelled; volunteers book, move and cancel; sessions recorded; reminders and cadence.

Services take the session first and `actor` and `now` (an aware datetime) as keywords, flush and never
commit, audit every change in the same transaction and queue mail through the outbox with a dedupe key.
Times are typed and shown in Europe/London and stored in UTC. Every booking is its own calendar event
(one per attendee, so one person's change touches nobody else in a group): a stable UID from its id,
SEQUENCE raised on every change, METHOD:REQUEST on booking and change, METHOD:CANCEL on cancellation.

Lock order, to keep PostgreSQL free of deadlocks: slot rows (lowest id first), then the volunteer's
user row (which serialises one person's bookings, so two can never overlap).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.cases.models import Allocation, Case, CaseSession
from portal.config import Config
from portal.core import audit, calendar, outbox, settings
from portal.core.accounts import User, is_coordinator
from portal.core.clock import LONDON, london_to_utc
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.outbox import OutboxMessage
from portal.core.validation import FieldErrors, clean_text, online_link_problem, too_long
from portal.supervision import permissions, queries, rules
from portal.supervision.errors import CutoffPassed, SlotUnavailable, SupervisionInputInvalid
from portal.supervision.models import (
    Attendance,
    BookingPurpose,
    BookingStatus,
    SlotKind,
    SlotMode,
    SlotStatus,
    SupervisionBooking,
    SupervisionRecord,
    SupervisionSlot,
    Supervisor,
)

MIN_LENGTH_MINUTES = 15
MAX_LENGTH_MINUTES = 480
MAX_GROUP_CAPACITY = 30
MAX_NOTICE_HOURS = 24 * 14
MAX_OCCURRENCES = 26
VENUE_MAX = 300
TEXT_MAX = 4000
REASON_MAX = 1000
REMINDER_LEADS = (dt.timedelta(hours=48), dt.timedelta(hours=2))
INVITE_FILENAME = "supervision.ics"
REPEATS = {"none": None, "weekly": 1, "fortnightly": 2}
# Pages that e-mails sent outside a request (jobs, signal receivers) link to; tests/supervision/
# test_reminder_links.py checks each still reaches its route.
MINE_PATH = "/supervision/"
SLOTS_PATH = "/supervision/slots"
DEBRIEF_PATH = "/supervision/slots?purpose=debrief"


# ---------------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class SlotDetails:
    """What a coordinator or supervisor types for a slot: a London date and start time, length, kind,
    places, where, who leads it, the minimum notice to book and the cut-off for cancelling."""

    day: dt.date | None
    start_time: dt.time | None
    length_minutes: int | None
    kind: SlotKind | str | None
    mode: SlotMode | str | None
    supervisor_id: int | None
    capacity: int | None = 1
    venue: str | None = None
    online_link: str | None = None
    minimum_notice_hours: int | None = 24
    cutoff_hours: int | None = 24


@dataclass(frozen=True)
class RecordDetails:
    """The supervisor's record of a session."""

    attendance: Attendance | str | None
    case_ids: Sequence[int] = ()
    actions: str | None = None
    wellbeing_concerns: str | None = None
    next_due_on: dt.date | None = None


def _member(enum_class, value):
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


def london_label(moment: dt.datetime) -> str:
    """A UTC instant as people read it here, with GMT or BST: "Tuesday 1 December 2026, 10:00 GMT"."""
    local = moment.astimezone(LONDON)
    return f"{local:%A %-d %B %Y, %H:%M} {local.tzname()}"


def london_time(moment: dt.datetime) -> str:
    return f"{moment.astimezone(LONDON):%H:%M}"


def slot_label(slot: SupervisionSlot) -> str:
    """"Tuesday 1 December 2026, 10:00 GMT to 11:00"."""
    return f"{london_label(slot.starts_at)} to {london_time(slot.ends_at)}"


def portal_link(path: str) -> str:
    """An absolute link to a page of the portal, for e-mail sent outside a request (jobs, signal
    receivers), built on PORTAL_BASE_URL (`Config.BASE_URL`)."""
    return f"{Config.BASE_URL.rstrip('/')}{path}"


def _hours(hours: int) -> str:
    if hours and hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


# ---------------------------------------------------------------------------------------------
# Supervisors and rules


def _require_coordinator(actor: User, what: str) -> None:
    if not is_coordinator(actor):
        raise PermissionDenied(f"Only coordinators can {what}")


def name_supervisor(session: Session, user_id: int, *, actor: User, now: dt.datetime) -> Supervisor:
    """Name a person as a supervisor (they may then publish slots and record sessions). Naming someone
    already named returns their naming unchanged. Raises NotFound, RuleViolation, PermissionDenied."""
    _require_coordinator(actor, "name supervisors")
    person = session.get(User, user_id)
    if person is None:
        raise NotFound("Person not found")
    if person.is_deactivated:
        raise RuleViolation(f"{person.name}'s account is deactivated")
    existing = queries.find_current_supervisor(session, person.id)
    if existing is not None:
        return existing
    supervisor = Supervisor(user_id=person.id, named_by_id=actor.id, named_at=now)
    session.add(supervisor)
    session.flush()
    audit.record(session, actor, "supervision.supervisor_named", supervisor, at=now, user_id=person.id)
    return supervisor


@dataclass(frozen=True)
class SupervisorRemoved:
    """A naming ended, and the sessions of theirs that it cancelled."""

    supervisor: Supervisor
    cancelled_slots: list[SupervisionSlot]


REMOVAL_REASON = "The supervisor leading this session is no longer available"


def remove_supervisor(session: Session, user_id: int, *, actor: User, now: dt.datetime,
                      booking_url: str = "") -> SupervisorRemoved:
    """End a person's naming as a supervisor. Their access ends at once: every check of a slot,
    booking, record or history asks whether they are on the list now. Each open session they lead
    that has not started is cancelled through `cancel_slot`, so everyone booked is e-mailed a
    METHOD:CANCEL with a link to book another (`booking_url`); sessions already started stay for a
    coordinator to record. A coordinator keeps their sessions (they supervise without being named).

    The naming is locked first, so a slot published for them at the same moment is either cancelled
    here or refused there. Raises NotFound when they are not a named supervisor, PermissionDenied.
    """
    _require_coordinator(actor, "remove supervisors")
    supervisor = session.scalar(
        select(Supervisor).where(Supervisor.user_id == user_id, Supervisor.ended_at.is_(None)).with_for_update()
    )
    if supervisor is None:
        raise NotFound("That person is not a named supervisor")
    supervisor.ended_at = now
    session.flush()
    upcoming: list[int] = []
    if not is_coordinator(supervisor.user):
        upcoming = list(session.scalars(
            select(SupervisionSlot.id)
            .where(SupervisionSlot.supervisor_id == user_id, SupervisionSlot.status == SlotStatus.OPEN,
                   SupervisionSlot.starts_at > now)
            .order_by(SupervisionSlot.id)  # the lock order: slots lowest id first
        ))
    audit.record(session, actor, "supervision.supervisor_removed", supervisor, at=now, user_id=user_id,
                 cancelled_slot_ids=upcoming)
    cancelled = [cancel_slot(session, slot_id, REMOVAL_REASON, actor=actor, now=now, booking_url=booking_url)
                 for slot_id in upcoming]
    return SupervisorRemoved(supervisor, cancelled)


def set_cadence_rules(
    session: Session, *, cadence_weeks: int | None, overdue_blocks_allocation: bool, due_soon_days: int | None,
    actor: User, now: dt.datetime,
) -> rules.CadenceRules:
    """Change how often supervision is due, whether an overdue volunteer is blocked from new cases (or
    only flagged), and how early "due soon" starts. Raises SupervisionInputInvalid, PermissionDenied."""
    _require_coordinator(actor, "change the supervision rules")
    errors = FieldErrors(SupervisionInputInvalid)
    if cadence_weeks is None:
        errors.add("cadence_weeks", "Enter how many weeks apart supervision must be")
    elif not rules.MIN_CADENCE_WEEKS <= cadence_weeks <= rules.MAX_CADENCE_WEEKS:
        errors.add("cadence_weeks",
                   f"Supervision must be between {rules.MIN_CADENCE_WEEKS} and {rules.MAX_CADENCE_WEEKS} weeks apart")
    if due_soon_days is None:
        errors.add("due_soon_days", "Enter how many days before the due date to show supervision as due soon")
    elif not 1 <= due_soon_days <= 60:
        errors.add("due_soon_days", "Due soon must be between 1 and 60 days")
    errors.raise_if_any()
    before = queries.cadence_rules(session)
    settings.set_setting(session, rules.CADENCE_SETTING, cadence_weeks)
    settings.set_setting(session, rules.BLOCKS_SETTING, bool(overdue_blocks_allocation))
    settings.set_setting(session, rules.DUE_SOON_SETTING, due_soon_days)
    after = queries.cadence_rules(session)
    audit.record(session, actor, "supervision.rules_changed", ("settings", None), at=now,
                 before=before.__dict__, after=after.__dict__)
    return after


# ---------------------------------------------------------------------------------------------
# Slots


def _check_details(session: Session, details: SlotDetails, errors: FieldErrors, *, actor: User, now: dt.datetime):
    """Validate a slot's details; returns (first start, length, kind, capacity, mode, venue, link, supervisor)."""
    starts_at = None
    if details.day is None:
        errors.add("day", "Enter the date of the session")
    if details.start_time is None:
        errors.add("start_time", "Enter the start time")
    if details.day is not None and details.start_time is not None:
        starts_at = london_to_utc(details.day, details.start_time)
        if starts_at <= now:
            errors.add("day", "The session must be in the future")
    length = details.length_minutes
    if length is None:
        errors.add("length_minutes", "Enter the length of the session in minutes")
    elif length <= 0:
        errors.add("length_minutes", "The session must end after it starts: enter a length above 0 minutes")
    elif not MIN_LENGTH_MINUTES <= length <= MAX_LENGTH_MINUTES:
        errors.add("length_minutes",
                   f"The length must be between {MIN_LENGTH_MINUTES} and {MAX_LENGTH_MINUTES} minutes")
    kind = _member(SlotKind, details.kind)
    capacity = details.capacity
    if kind is None:
        errors.add("kind", "Select whether the session is individual or group supervision")
    elif kind == SlotKind.INDIVIDUAL:
        capacity = 1
    elif capacity is None:
        errors.add("capacity", "Enter how many volunteers can join the group")
    elif not 2 <= capacity <= MAX_GROUP_CAPACITY:
        errors.add("capacity", f"A group must have between 2 and {MAX_GROUP_CAPACITY} places")
    mode = _member(SlotMode, details.mode)
    venue = clean_text(details.venue) or None
    link = clean_text(details.online_link) or None
    if mode is None:
        errors.add("mode", "Select whether the session is in person or online")
    elif mode == SlotMode.IN_PERSON:
        if not venue:
            errors.add("venue", "Enter the venue and address for a session in person")
        elif len(venue) > VENUE_MAX:
            errors.add("venue", too_long("The venue", VENUE_MAX, venue))
        link = None
    else:
        if problem := online_link_problem(link, missing="Enter the link to the video call for an online session"):
            errors.add("online_link", problem)
        venue = None
    for name, value, what in (("minimum_notice_hours", details.minimum_notice_hours, "The minimum notice"),
                              ("cutoff_hours", details.cutoff_hours, "The cancellation cut-off")):
        if value is None:
            errors.add(name, f"Enter {what[4:]} in hours (0 for none)")
        elif not 0 <= value <= MAX_NOTICE_HOURS:
            errors.add(name, f"{what} must be between 0 and {MAX_NOTICE_HOURS} hours (two weeks)")
    supervisor = None
    if details.supervisor_id is None:
        errors.add("supervisor_id", "Select who will supervise")
    else:
        supervisor = session.get(User, details.supervisor_id)
        # Locked, so a removal at the same moment cannot miss this slot (see remove_supervisor).
        if supervisor is None or supervisor.is_deactivated or not queries.is_supervisor(session, supervisor,
                                                                                          lock=True):
            errors.add("supervisor_id", "Select the supervisor from the list")
            supervisor = None
        elif not is_coordinator(actor) and supervisor.id != actor.id:
            errors.add("supervisor_id", "You can publish slots only for sessions you supervise yourself")
            supervisor = None
    return starts_at, length, kind, capacity, mode, venue, link, supervisor


def _series_starts(
    details: SlotDetails, repeat: str, occurrences: int | None, errors: FieldErrors,
) -> list[dt.datetime]:
    """Every start (UTC) of a series, each worked out on its own London date (so BST is right)."""
    if repeat not in REPEATS:
        errors.add("repeat", "Select how often the session repeats")
        return []
    if details.day is None or details.start_time is None:
        return []
    step = REPEATS[repeat]
    count = 1 if step is None else occurrences
    if count is None:
        errors.add("occurrences", "Enter how many sessions the series has")
        return []
    if not 1 <= count <= MAX_OCCURRENCES:
        errors.add("occurrences", f"A series can have between 1 and {MAX_OCCURRENCES} sessions")
        return []
    return [london_to_utc(details.day + dt.timedelta(weeks=(step or 0) * number), details.start_time)
            for number in range(count)]


def _require_publisher(session: Session, actor: User) -> None:
    if not permissions.can_publish_slots(actor, is_supervisor=queries.is_supervisor(session, actor)):
        raise PermissionDenied("Only coordinators and supervisors can publish supervision slots")


def _leader_clashes(session: Session, supervisor_id: int, starts_at: dt.datetime, ends_at: dt.datetime, *,
                    exclude_slot_id: int | None = None) -> list[SupervisionSlot]:
    query = select(SupervisionSlot).where(
        SupervisionSlot.supervisor_id == supervisor_id, SupervisionSlot.status == SlotStatus.OPEN,
        SupervisionSlot.starts_at < ends_at, SupervisionSlot.ends_at > starts_at,
    )
    if exclude_slot_id is not None:
        query = query.where(SupervisionSlot.id != exclude_slot_id)
    return list(session.scalars(query))


def publish_slots(
    session: Session, details: SlotDetails, *, repeat: str = "none", occurrences: int | None = 1,
    actor: User, now: dt.datetime,
) -> list[SupervisionSlot]:
    """Publish one slot, or a weekly or fortnightly series at the same London time (right across the
    clocks changing). Volunteers can book them at once.

    Raises SupervisionInputInvalid with every problem (past, no length, no venue or link, bad places,
    notice, the supervisor already leading a session then), PermissionDenied unless the actor is a
    coordinator or a named supervisor.
    """
    _require_publisher(session, actor)
    errors = FieldErrors(SupervisionInputInvalid)
    starts_at, length, kind, capacity, mode, venue, link, supervisor = _check_details(
        session, details, errors, actor=actor, now=now)
    starts = _series_starts(details, repeat, occurrences, errors)
    notice = details.minimum_notice_hours
    too_soon = starts_at is not None and notice is not None and starts_at - dt.timedelta(hours=notice) < now
    if too_soon and "day" not in errors:
        errors.add("minimum_notice_hours", "The session starts within its minimum notice, so nobody could book "
                                           "it: start it later or shorten the notice")
    errors.raise_if_any()
    length_delta = dt.timedelta(minutes=length)
    for start in starts:
        for other in _leader_clashes(session, supervisor.id, start, start + length_delta):
            errors.add("day", f"{supervisor.name} already supervises at {slot_label(other)}")
    errors.raise_if_any()
    series_key = uuid.uuid4().hex if len(starts) > 1 else None
    slots = [
        SupervisionSlot(
            kind=kind, mode=mode, starts_at=start, ends_at=start + length_delta, capacity=capacity, venue=venue,
            online_link=link, supervisor_id=supervisor.id, minimum_notice_hours=details.minimum_notice_hours,
            cutoff_hours=details.cutoff_hours, status=SlotStatus.OPEN, sequence=0, series_key=series_key,
            created_by_id=actor.id, created_at=now, updated_at=now,
        )
        for start in starts
    ]
    session.add_all(slots)
    session.flush()
    for slot in slots:
        audit.record(session, actor, "supervision.slot_published", slot, at=now, starts_at=slot.starts_at,
                     length_minutes=length, kind=kind, capacity=capacity, mode=mode, supervisor_id=supervisor.id,
                     minimum_notice_hours=slot.minimum_notice_hours, cutoff_hours=slot.cutoff_hours,
                     series_key=series_key, repeat=repeat)
    return slots


def _lock_slot(session: Session, slot_id: int) -> SupervisionSlot:
    slot = session.scalar(
        select(SupervisionSlot).where(SupervisionSlot.id == slot_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if slot is None:
        raise NotFound("Supervision slot not found")
    return slot


def _lock_person(session: Session, user_id: int) -> None:
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


def _taken_places(session: Session, slot_id: int) -> int:
    """Live bookings in the slot, counted in the database under the slot's lock."""
    return session.scalar(
        select(func.count(SupervisionBooking.id))
        .where(SupervisionBooking.slot_id == slot_id, SupervisionBooking.status == BookingStatus.BOOKED)
    ) or 0


def _live_bookings_of(session: Session, slot_id: int) -> list[SupervisionBooking]:
    return list(
        session.scalars(
            select(SupervisionBooking)
            .where(SupervisionBooking.slot_id == slot_id, SupervisionBooking.status == BookingStatus.BOOKED)
            .order_by(SupervisionBooking.id)
            .execution_options(populate_existing=True)
        )
    )


def _managed_slot(session: Session, slot_id: int, actor: User) -> SupervisionSlot:
    slot = _lock_slot(session, slot_id)
    if not permissions.can_manage_slot(actor, slot, is_supervisor=queries.is_supervisor(session, actor)):
        raise NotFound("Supervision slot not found")
    return slot


def update_slot(session: Session, slot_id: int, details: SlotDetails, *, actor: User, now: dt.datetime,
                manage_url: str = "") -> SupervisionSlot:
    """Change a future slot. When its time or place changes, everyone booked gets an updated invitation
    (their own UID, SEQUENCE raised). Places cannot drop below the bookings already made, and a group
    with bookings cannot become individual.

    Raises SupervisionInputInvalid, RuleViolation for a cancelled or past slot, NotFound for a slot the
    actor does not manage.
    """
    slot = _managed_slot(session, slot_id, actor)
    if slot.is_cancelled:
        raise RuleViolation("This supervision slot has been cancelled and cannot be changed")
    if slot.starts_at <= now:
        raise RuleViolation("This session has already started and cannot be changed")
    errors = FieldErrors(SupervisionInputInvalid)
    starts_at, length, kind, capacity, mode, venue, link, supervisor = _check_details(
        session, details, errors, actor=actor, now=now)
    taken = _taken_places(session, slot.id)
    if capacity is not None and "capacity" not in errors and "kind" not in errors and capacity < taken:
        field = "capacity" if kind == SlotKind.GROUP else "kind"
        errors.add(field, f"{taken} volunteers have booked this session: places cannot be fewer than {taken}")
    errors.raise_if_any()
    ends_at = starts_at + dt.timedelta(minutes=length)
    for other in _leader_clashes(session, supervisor.id, starts_at, ends_at, exclude_slot_id=slot.id):
        errors.add("day", f"{supervisor.name} already supervises at {slot_label(other)}")
    for booking in _live_bookings_of(session, slot.id):
        # A new time must not make anyone booked hold two overlapping sessions.
        _lock_person(session, booking.user_id)
        for clash in queries.list_live_bookings_overlapping(session, booking.user_id, starts_at, ends_at,
                                                            exclude_booking_id=booking.id):
            errors.add("day", f"{booking.user.name} has other supervision booked at {slot_label(clash.slot)}")
    errors.raise_if_any()
    before = {"starts_at": slot.starts_at, "ends_at": slot.ends_at, "mode": slot.mode, "venue": slot.venue,
              "online_link": slot.online_link, "supervisor_id": slot.supervisor_id}
    after = {"starts_at": starts_at, "ends_at": ends_at, "mode": mode, "venue": venue, "online_link": link,
             "supervisor_id": supervisor.id}
    changed = {key: {"from": before[key], "to": after[key]} for key in before if before[key] != after[key]}
    settings_before = (slot.kind, slot.capacity, slot.minimum_notice_hours, slot.cutoff_hours)
    slot.starts_at, slot.ends_at, slot.mode, slot.venue, slot.online_link = starts_at, ends_at, mode, venue, link
    slot.supervisor_id, slot.kind, slot.capacity = supervisor.id, kind, capacity
    slot.minimum_notice_hours, slot.cutoff_hours = details.minimum_notice_hours, details.cutoff_hours
    settings_after = (slot.kind, slot.capacity, slot.minimum_notice_hours, slot.cutoff_hours)
    if changed or settings_before != settings_after:
        slot.sequence += 1
    slot.updated_at = now
    session.flush()
    session.refresh(slot, ["supervisor"])
    audit.record(session, actor, "supervision.slot_updated", slot, at=now, changes=changed, kind=kind,
                 capacity=capacity, minimum_notice_hours=slot.minimum_notice_hours, cutoff_hours=slot.cutoff_hours)
    if changed:
        for booking in _live_bookings_of(session, slot.id):
            booking.sequence += 1
            booking.updated_at = now
            if "starts_at" in changed:
                booking.scheduled_at = now
            session.flush()
            audit.record(session, actor, "supervision.booking_updated", booking, at=now, slot_id=slot.id,
                         sequence=booking.sequence, changed=sorted(changed))
            _send_invitation(session, booking, now=now, kind="updated", manage_url=manage_url)
    return slot


def cancel_slot(session: Session, slot_id: int, reason: str, *, actor: User, now: dt.datetime,
                booking_url: str = "") -> SupervisionSlot:
    """Cancel a slot: every live booking in it is cancelled and each volunteer is told, with a
    METHOD:CANCEL for their own event. Cancelling again returns the slot unchanged.

    Raises SupervisionInputInvalid without a reason, RuleViolation once the session has started,
    NotFound for a slot the actor does not manage.
    """
    slot = _managed_slot(session, slot_id, actor)
    if slot.is_cancelled:
        return slot
    if slot.starts_at <= now:
        raise RuleViolation("This session has already started and cannot be cancelled")
    reason = clean_text(reason)
    errors = FieldErrors(SupervisionInputInvalid)
    if not reason:
        errors.add("reason", "Enter why you are cancelling this session")
    elif len(reason) > REASON_MAX:
        errors.add("reason", too_long("The reason", REASON_MAX, reason))
    errors.raise_if_any()
    slot.status = SlotStatus.CANCELLED
    slot.sequence += 1
    slot.cancelled_at, slot.cancelled_by_id, slot.cancellation_reason = now, actor.id, reason
    slot.updated_at = now
    session.flush()
    bookings = _live_bookings_of(session, slot.id)
    audit.record(session, actor, "supervision.slot_cancelled", slot, at=now, reason=reason,
                 bookings=[booking.id for booking in bookings])
    for booking in bookings:
        _cancel(session, booking, actor=actor, now=now, reason=reason, by_organiser=True, booking_url=booking_url)
    return slot


# ---------------------------------------------------------------------------------------------
# Calendar and mail


def _summary(booking: SupervisionBooking) -> str:
    # Generic on purpose: invitations end up in personal calendars, so no case or people details.
    if booking.purpose == BookingPurpose.DEBRIEF:
        return "RJ debrief"
    return "RJ group supervision" if booking.slot.kind == SlotKind.GROUP else "RJ supervision"


def booking_event(booking: SupervisionBooking, *, cancelled: bool | None = None) -> calendar.CalendarEvent:
    """The booking as the volunteer's own calendar event: stable UID, current SEQUENCE, UTC times,
    only the volunteer and the supervisor on it (never the other members of a group)."""
    slot = booking.slot
    if slot.mode == SlotMode.ONLINE:
        description, location = f"Online. Join by video: {slot.online_link}", "Online"
    else:
        description, location = f"In person at {slot.venue}.", slot.venue or ""
    return calendar.CalendarEvent(
        uid=calendar.event_uid("supervision-booking", booking.id),
        summary=_summary(booking),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        sequence=booking.sequence,
        description=description,
        location=location,
        url=slot.online_link or "",
        organizer=calendar.Person(slot.supervisor.name, slot.supervisor.email),
        attendees=(calendar.Person(booking.user.name, booking.user.email),),
        cancelled=(not booking.is_live) if cancelled is None else cancelled,
    )


def slot_event(slot: SupervisionSlot) -> calendar.CalendarEvent:
    """The slot as the supervisor's calendar event (feed only): places booked, no names."""
    booked = len(slot.live_bookings)
    what = "RJ group supervision" if slot.kind == SlotKind.GROUP else "RJ supervision"
    return calendar.CalendarEvent(
        uid=calendar.event_uid("supervision-slot", slot.id),
        summary=f"{what} (leading): {booked} of {slot.capacity} booked",
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        sequence=slot.sequence,
        location="Online" if slot.mode == SlotMode.ONLINE else slot.venue or "",
        url=slot.online_link or "",
        cancelled=slot.is_cancelled,
    )


def _context(booking: SupervisionBooking, **extra: Any) -> dict[str, Any]:
    slot = booking.slot
    return {
        "name": booking.user.name,
        "what": _summary(booking).replace("RJ ", "").capitalize(),
        "when": london_label(slot.starts_at),
        "ends": london_time(slot.ends_at),
        "length_minutes": slot.length_minutes,
        "online": slot.mode == SlotMode.ONLINE,
        "where": slot.where,
        "online_link": slot.online_link or "",
        "supervisor": slot.supervisor.name,
        "cutoff": london_label(slot.cutoff_at),
        "manage_url": "",
        **extra,
    }


_SUBJECTS = {
    "booked": "Supervision booked: {when}",
    "moved": "Supervision moved: {when}",
    "updated": "Supervision changed: {when}",
}


def _send_invitation(session: Session, booking: SupervisionBooking, *, now: dt.datetime, kind: str,
                     manage_url: str = "") -> None:
    """E-mail the volunteer their own event as METHOD:REQUEST at its current SEQUENCE."""
    ics = calendar.build_invite([booking_event(booking)], calendar.Method.REQUEST, now=now)
    context = _context(booking, kind=kind, manage_url=manage_url)
    outbox.queue(
        session, to=booking.user.email, subject=_SUBJECTS[kind].format(when=context["when"]),
        template="supervision/booking", context=context,
        attachments=[outbox.Attachment(INVITE_FILENAME, "text/calendar; method=REQUEST; charset=UTF-8", ics)],
        dedupe_key=f"supervision.booking:{booking.id}:{booking.sequence}", now=now,
    )


def _send_cancellation(session: Session, booking: SupervisionBooking, *, now: dt.datetime, by_organiser: bool,
                       reason: str | None, booking_url: str) -> None:
    ics = calendar.build_invite([booking_event(booking, cancelled=True)], calendar.Method.CANCEL, now=now)
    context = _context(booking, by_organiser=by_organiser, reason=reason or "", booking_url=booking_url)
    outbox.queue(
        session, to=booking.user.email, subject=f"Supervision cancelled: {context['when']}",
        template="supervision/cancelled", context=context,
        attachments=[outbox.Attachment(INVITE_FILENAME, "text/calendar; method=CANCEL; charset=UTF-8", ics)],
        dedupe_key=f"supervision.booking:{booking.id}:{booking.sequence}", now=now,
    )


# ---------------------------------------------------------------------------------------------
# Booking, moving and cancelling


def _check_bookable(session: Session, slot: SupervisionSlot, user_id: int, *, actor: User, now: dt.datetime,
                    exclude_booking_id: int | None = None) -> None:
    """Raise SlotUnavailable unless the person may take a place in the slot now (under its lock)."""
    if slot.is_cancelled:
        raise SlotUnavailable("That session has been cancelled: choose another")
    if slot.starts_at <= now:
        raise SlotUnavailable("That session has already started: choose a later one")
    if slot.supervisor_id == user_id:
        raise SlotUnavailable("You supervise that session, so you cannot book a place in it")
    # The volunteer needs the minimum notice; a coordinator or the supervisor booking for them does not.
    if actor.id == user_id and slot.starts_at - slot.minimum_notice < now:
        raise SlotUnavailable(
            f"That session must be booked at least {_hours(slot.minimum_notice_hours)} ahead "
            f"(by {london_label(slot.starts_at - slot.minimum_notice)}): choose a later one"
        )
    if _taken_places(session, slot.id) >= slot.capacity:
        raise SlotUnavailable("Sorry, someone has just taken the last place in that session: choose another")
    clashes = queries.list_live_bookings_overlapping(session, user_id, slot.starts_at, slot.ends_at,
                                                     exclude_booking_id=exclude_booking_id)
    if clashes:
        raise SlotUnavailable(
            f"You already have supervision booked at {slot_label(clashes[0].slot)}, which overlaps that session"
        )


def _may_act_for(session: Session, actor: User, user_id: int, slot: SupervisionSlot) -> bool:
    return actor.id == user_id or permissions.can_manage_slot(
        actor, slot, is_supervisor=queries.is_supervisor(session, actor))


def book_slot(
    session: Session, slot_id: int, *, user_id: int, purpose: BookingPurpose | str = BookingPurpose.SUPERVISION,
    actor: User, now: dt.datetime, manage_url: str = "",
) -> SupervisionBooking:
    """Book a volunteer a place in a slot (they book it themselves, or its supervisor or a coordinator
    for them, who may override the minimum notice) and e-mail them an invitation (.ics, SEQUENCE 0).

    Booking the same slot again (a double click) returns the booking unchanged. The slot row is
    locked, so its last place cannot be taken twice, and then the person's row, so they can never hold
    two overlapping bookings. Raises SlotUnavailable (full, cancelled, past, too soon, overlapping),
    RuleViolation for someone who is not a volunteer, NotFound for a slot or person out of reach.
    """
    slot = _lock_slot(session, slot_id)
    if not _may_act_for(session, actor, user_id, slot):
        raise NotFound("Supervision slot not found")
    person = session.get(User, user_id)
    if person is None:
        raise NotFound("Person not found")
    if not permissions.can_book_slots(person):
        raise RuleViolation(f"{person.name} is not a volunteer, so cannot book supervision")
    purpose = _member(BookingPurpose, purpose) or BookingPurpose.SUPERVISION
    _lock_person(session, person.id)
    existing = session.scalar(
        select(SupervisionBooking).where(SupervisionBooking.slot_id == slot.id, SupervisionBooking.user_id == person.id,
                                         SupervisionBooking.status == BookingStatus.BOOKED)
    )
    if existing is not None:
        return existing
    _check_bookable(session, slot, person.id, actor=actor, now=now)
    booking = SupervisionBooking(
        slot_id=slot.id, user_id=person.id, purpose=purpose, status=BookingStatus.BOOKED, sequence=0,
        booked_by_id=actor.id, booked_at=now, scheduled_at=now, updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(booking)
    except IntegrityError:
        # The same person's other click won the race for this slot: theirs stands.
        existing = session.scalar(
            select(SupervisionBooking).where(SupervisionBooking.slot_id == slot.id,
                                             SupervisionBooking.user_id == person.id,
                                             SupervisionBooking.status == BookingStatus.BOOKED)
        )
        if existing is None:
            raise
        return existing
    session.refresh(slot)
    audit.record(session, actor, "supervision.booked", booking, at=now, slot_id=slot.id, user_id=person.id,
                 starts_at=slot.starts_at, purpose=purpose, for_someone_else=actor.id != person.id)
    _send_invitation(session, booking, now=now, kind="booked", manage_url=manage_url)
    return booking


def _load_booking_for(session: Session, booking_id: int, actor: User) -> SupervisionBooking:
    booking = queries.get_booking(session, booking_id)
    # Someone else's booking is "not found", so ids in URLs reveal nothing.
    if not permissions.can_view_booking(actor, booking, is_supervisor=queries.is_supervisor(session, actor)):
        raise NotFound("Supervision booking not found")
    return booking


def _check_cutoff(booking: SupervisionBooking, actor: User, now: dt.datetime, verb: str) -> None:
    slot = booking.slot
    if slot.starts_at <= now:
        raise RuleViolation(f"This session has already started and cannot be {verb}")
    # After the cut-off the volunteer asks the supervisor or a coordinator, who may still change it.
    if actor.id == booking.user_id and now > slot.cutoff_at:
        raise CutoffPassed(
            f"This session can no longer be {verb} online: the cut-off was {london_label(slot.cutoff_at)} "
            f"({_hours(slot.cutoff_hours)} before it starts). Please contact {slot.supervisor.name} or a coordinator"
        )


def move_booking(session: Session, booking_id: int, slot_id: int, *, actor: User, now: dt.datetime,
                 manage_url: str = "") -> SupervisionBooking:
    """Move a live booking to another slot: same UID, SEQUENCE raised, an updated invitation e-mailed.

    Moving to the slot it is already in returns it unchanged. Both slots are locked (lowest id first),
    then the person. Raises CutoffPassed, SlotUnavailable, RuleViolation for a cancelled booking,
    NotFound for someone else's booking.
    """
    booking = _load_booking_for(session, booking_id, actor)
    if booking.slot_id == slot_id and booking.is_live:
        return booking
    for locked_id in sorted({booking.slot_id, slot_id}):
        _lock_slot(session, locked_id)
    _lock_person(session, booking.user_id)
    session.refresh(booking)
    if not booking.is_live:
        raise RuleViolation("This booking has been cancelled: book a new session instead")
    _check_cutoff(booking, actor, now, "moved")
    target = session.get(SupervisionSlot, slot_id)
    if target is None or (actor.id != booking.user_id and not permissions.can_manage_slot(
            actor, target, is_supervisor=queries.is_supervisor(session, actor))):
        raise NotFound("Supervision slot not found")
    _check_bookable(session, target, booking.user_id, actor=actor, now=now, exclude_booking_id=booking.id)
    old_slot = booking.slot
    booking.slot_id = target.id
    booking.sequence += 1
    booking.scheduled_at = booking.updated_at = now
    session.flush()
    session.refresh(booking)
    session.refresh(old_slot)
    session.refresh(target)
    audit.record(session, actor, "supervision.booking_moved", booking, at=now, from_slot_id=old_slot.id,
                 to_slot_id=target.id, from_starts_at=old_slot.starts_at, to_starts_at=target.starts_at,
                 sequence=booking.sequence)
    _send_invitation(session, booking, now=now, kind="moved", manage_url=manage_url)
    return booking


def _cancel(session: Session, booking: SupervisionBooking, *, actor: User, now: dt.datetime, reason: str | None,
            by_organiser: bool, booking_url: str) -> None:
    booking.status = BookingStatus.CANCELLED
    booking.sequence += 1
    booking.cancelled_at, booking.cancelled_by_id, booking.cancellation_reason = now, actor.id, reason
    booking.updated_at = now
    session.flush()
    audit.record(session, actor, "supervision.booking_cancelled", booking, at=now, slot_id=booking.slot_id,
                 user_id=booking.user_id, reason=reason, sequence=booking.sequence, by_organiser=by_organiser)
    _send_cancellation(session, booking, now=now, by_organiser=by_organiser, reason=reason, booking_url=booking_url)


def cancel_booking(session: Session, booking_id: int, *, actor: User, now: dt.datetime, reason: str | None = None,
                   booking_url: str = "") -> SupervisionBooking:
    """Cancel one live booking (the volunteer's own before the cut-off; the supervisor or a
    coordinator's until it starts): METHOD:CANCEL e-mailed with SEQUENCE raised. Other bookings in the
    same group are untouched. Cancelling again returns it unchanged.

    Raises CutoffPassed, RuleViolation once the session has started, NotFound for someone else's booking.
    """
    booking = _load_booking_for(session, booking_id, actor)
    _lock_slot(session, booking.slot_id)
    session.refresh(booking)
    if not booking.is_live:
        return booking
    _check_cutoff(booking, actor, now, "cancelled")
    reason = clean_text(reason) or None
    if reason and len(reason) > REASON_MAX:
        raise SupervisionInputInvalid({"reason": [too_long("The reason", REASON_MAX, reason)]})
    _cancel(session, booking, actor=actor, now=now, reason=reason, by_organiser=actor.id != booking.user_id,
            booking_url=booking_url)
    return booking


# ---------------------------------------------------------------------------------------------
# Session records


def record_session(session: Session, booking_id: int, details: RecordDetails, *, actor: User,
                   now: dt.datetime) -> SupervisionRecord:
    """Record (or later correct) a session: attended or not, the cases discussed (only the
    volunteer's own on that day), actions agreed, wellbeing concerns and when the next supervision
    is due (no later than the cadence allows). An attended session resets the volunteer's due date.

    Raises SupervisionInputInvalid with every problem, RuleViolation before the session starts or for
    a cancelled booking, NotFound for anyone but a coordinator or the session's supervisor (while on
    the supervisors list, for a live booking, up to `rules.RECORD_WINDOW` after the session).
    """
    booking = queries.get_booking(session, booking_id)
    if not permissions.can_record_session(actor, booking, is_supervisor=queries.is_supervisor(session, actor),
                                          now=now):
        raise NotFound("Supervision booking not found")
    slot = booking.slot
    if not booking.is_live:
        raise RuleViolation("This booking was cancelled, so there is no session to record")
    if slot.starts_at > now:
        raise RuleViolation(f"This session starts {london_label(slot.starts_at)}: record it once it has started")
    held_on = queries.london_day(slot.starts_at)
    cadence = queries.cadence_rules(session)
    errors = FieldErrors(SupervisionInputInvalid)
    attendance = _member(Attendance, details.attendance)
    if attendance is None:
        errors.add("attendance", "Select whether the volunteer attended")
    wanted = list(dict.fromkeys(int(case_id) for case_id in details.case_ids))
    own = {case.case_id: case for case in queries.list_discussable_cases(session, booking.user_id, on=held_on)}
    if set(wanted) - set(own):
        errors.add("case_ids", "Choose only cases the volunteer was allocated to on the day of the session")
    actions = clean_text(details.actions) or None
    concerns = clean_text(details.wellbeing_concerns) or None
    for name, value, what in (("actions", actions, "Actions agreed"), ("wellbeing_concerns", concerns,
                                                                        "Wellbeing concerns")):
        if value and len(value) > TEXT_MAX:
            errors.add(name, too_long(what, TEXT_MAX, value))
    next_due_on = details.next_due_on
    latest = held_on + dt.timedelta(weeks=cadence.cadence_weeks)
    if attendance == Attendance.ATTENDED:
        if next_due_on is None:
            errors.add("next_due_on", "Enter when the next supervision is due")
        elif next_due_on <= held_on:
            errors.add("next_due_on", "The next supervision must be due after this session")
        elif next_due_on > latest:
            errors.add("next_due_on", f"The next supervision must be due within {cadence.cadence_weeks} weeks of "
                                      f"this session (by {rules.long_date(latest)})")
    else:
        next_due_on = None
        if wanted:
            errors.add("case_ids", "Cases discussed can be recorded only when the volunteer attended")
    errors.raise_if_any()
    from_cases = sorted(wanted)
    record = queries.find_record_for_booking(session, booking.id)
    case_rows = _case_rows(session, from_cases)
    if record is None:
        record = SupervisionRecord(
            booking_id=booking.id, user_id=booking.user_id, supervisor_id=slot.supervisor_id, held_on=held_on,
            attendance=attendance, actions=actions, wellbeing_concerns=concerns, next_due_on=next_due_on,
            recorded_by_id=actor.id, recorded_at=now, updated_by_id=actor.id, updated_at=now, cases=case_rows,
        )
        session.add(record)
        session.flush()
        audit.record(session, actor, "supervision.session_recorded", record, at=now, booking_id=booking.id,
                     user_id=booking.user_id, attendance=attendance, case_ids=from_cases, next_due_on=next_due_on,
                     has_actions=bool(actions), has_wellbeing_concerns=bool(concerns))
        _tell_coordinators_of_concern(session, record, actor=actor, now=now)
        return record
    changed = []
    for name, value in (("attendance", attendance), ("actions", actions), ("wellbeing_concerns", concerns),
                        ("next_due_on", next_due_on)):
        if getattr(record, name) != value:
            changed.append(name)
            setattr(record, name, value)
    if sorted(case.id for case in record.cases) != from_cases:
        changed.append("cases")
        record.cases = case_rows
    record.updated_by_id, record.updated_at = actor.id, now
    session.flush()
    # The confidential text itself stays out of the audit trail: only which parts changed.
    audit.record(session, actor, "supervision.record_updated", record, at=now, booking_id=booking.id,
                 changed=changed, attendance=attendance, case_ids=from_cases, next_due_on=next_due_on)
    if "wellbeing_concerns" in changed:
        _tell_coordinators_of_concern(session, record, actor=actor, now=now)
    return record


def _tell_coordinators_of_concern(session: Session, record: SupervisionRecord, *, actor: User,
                                  now: dt.datetime) -> None:
    """A wellbeing concern reaches every coordinator at once (without its words: e-mail is not the place)."""
    if not record.wellbeing_concerns:
        return
    coordinators = [person for person in queries.list_coordinators(session) if person.id != actor.id]
    if not coordinators:
        return
    volunteer = session.get(User, record.user_id)
    outbox.queue(
        session, to=[person.email for person in coordinators],
        subject=f"Wellbeing concern recorded for {volunteer.name}", template="supervision/wellbeing_concern",
        context={"volunteer": volunteer.name, "supervisor": actor.name, "held_on": rules.long_date(record.held_on)},
        dedupe_key=f"supervision.wellbeing:{record.id}:{now:%Y%m%dT%H%M%S}", now=now,
    )


def _case_rows(session: Session, case_ids: list[int]):
    if not case_ids:
        return []
    return list(session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.reference)))


def view_record(session: Session, record_id: int, *, actor: User, now: dt.datetime) -> SupervisionRecord:
    """The whole record for a coordinator, the supervisor who led the session while on the supervisors
    list, or whoever supervises the volunteer now (`queries.supervises`); the viewing audited. Raises
    NotFound for anyone else (the volunteer reads only their actions, on their booking)."""
    record = queries.get_record(session, record_id)
    allowed = permissions.can_view_record(
        actor, record, is_supervisor=queries.is_supervisor(session, actor),
        supervises_volunteer=queries.supervises(session, actor, record.user_id, now=now),
    )
    if not allowed:
        raise NotFound("Supervision record not found")
    audit.record(session, actor, "supervision.record_viewed", record, at=now, user_id=record.user_id)
    return record


# ---------------------------------------------------------------------------------------------
# Debrief prompts


def _facilitators_on(session: Session, case_id: int, on: dt.date) -> list[User]:
    """Everyone allocated to the case on `on` (whoever has left it since), as the prompt list counts them."""
    return list(
        session.scalars(
            select(User)
            .join(Allocation, Allocation.user_id == User.id)
            .where(Allocation.case_id == case_id, Allocation.starts_on <= on,
                   or_(Allocation.ends_on.is_(None), Allocation.ends_on > on))
            .distinct()
            .order_by(User.id)
        )
    )


def prompt_debriefs(session: Session, case_session_id: int, *, actor: User | None, now: dt.datetime,
                    booking_url: str | None = None) -> int:
    """E-mail each facilitator of a logged case session a prompt to book a debrief, with a link to the
    debrief booking page (`booking_url`, by default the configured portal's). Returns how many were queued.

    The facilitators are the volunteers allocated to the case on the day it was held, the same people
    the prompt list on their supervision page shows it to, including whoever logged it. Each person is
    prompted once per session, however often this runs (dedupe key). Raises NotFound for an unknown session.
    """
    logged = session.get(CaseSession, case_session_id)
    if logged is None:
        raise NotFound("Case session not found")
    case = session.get(Case, logged.case_id)
    link = booking_url or portal_link(DEBRIEF_PATH)
    sent = 0
    for person in _facilitators_on(session, logged.case_id, logged.held_on):
        if person.is_deactivated or not permissions.can_book_slots(person):
            continue
        if _queue_once(
            session, f"supervision.debrief_prompt:{logged.id}:{person.id}",
            to=person.email, subject=f"Book a debrief after the {logged.session_type.label} on {case.reference}",
            template="supervision/debrief_prompt",
            context={"name": person.name, "session_type": logged.session_type.label, "reference": case.reference,
                     "held_on": rules.long_date(logged.held_on), "booking_url": link},
            now=now,
        ):
            audit.record(session, actor, "supervision.debrief_prompted", ("users", person.id), at=now,
                         case_session_id=logged.id, case_id=logged.case_id)
            sent += 1
    return sent


# ---------------------------------------------------------------------------------------------
# Reminders (jobs)


def _job_lock(session: Session, name: str) -> bool:
    """On PostgreSQL, one machine at a time runs a job (a transaction-scoped advisory lock); True elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:name))"), {"name": name}))


def _queue_once(session: Session, dedupe_key: str, **message: Any) -> bool:
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return False
    outbox.queue(session, dedupe_key=dedupe_key, **message)
    return True


def send_session_reminders(session: Session, *, now: dt.datetime, manage_url: str | None = None) -> int:
    """Remind volunteers 48 hours and 2 hours before each booked session, with a link to their
    supervision page (`manage_url`, by default the configured portal's); returns how many were queued.

    Each reminder goes once per booking and start time however often the job runs (a moved booking is
    reminded again for its new time). A reminder whose moment had already passed when the booking got
    its time is not sent, because the confirmation has just gone: a booking made 30 hours ahead gets
    only the 2-hour reminder. When the job was not run for a while only the latest reminder goes.
    Cancelled bookings and cancelled slots are never reminded. Rows are claimed with SKIP LOCKED, so
    several machines can run the job at once.
    """
    longest = max(REMINDER_LEADS)
    due = list(
        session.scalars(
            select(SupervisionBooking)
            .join(SupervisionSlot, SupervisionSlot.id == SupervisionBooking.slot_id)
            .where(SupervisionBooking.status == BookingStatus.BOOKED, SupervisionSlot.status == SlotStatus.OPEN,
                   SupervisionSlot.starts_at > now, SupervisionSlot.starts_at <= now + longest)
            .order_by(SupervisionSlot.starts_at, SupervisionBooking.id)
            .with_for_update(skip_locked=True, of=SupervisionBooking)
        )
    )
    sent = 0
    for booking in due:
        starts_at = booking.slot.starts_at
        lead = min(lead for lead in REMINDER_LEADS if starts_at - lead <= now)
        column = "reminded_2h_for" if lead == dt.timedelta(hours=2) else "reminded_48h_for"
        if getattr(booking, column) == starts_at or booking.scheduled_at >= starts_at - lead:
            continue
        hours = int(lead.total_seconds() // 3600)
        context = _context(booking, hours=hours, manage_url=manage_url or portal_link(MINE_PATH))
        queued = _queue_once(
            session, f"supervision.reminder:{booking.id}:{hours}h:{starts_at:%Y%m%dT%H%MZ}",
            to=booking.user.email, subject=f"Reminder: supervision {context['when']}",
            template="supervision/reminder", context=context, now=now,
        )
        setattr(booking, column, starts_at)
        if queued:
            audit.record(session, None, "supervision.reminded", booking, at=now, hours=hours, starts_at=starts_at)
            sent += 1
    session.flush()
    return sent


def send_due_reminders(session: Session, *, now: dt.datetime, booking_url: str | None = None) -> int:
    """Tell each active volunteer once when their supervision is due soon, and once when it is overdue,
    unless they have already booked a session before it falls due, with a link to book one
    (`booking_url`, by default the configured portal's). Returns how many were queued."""
    if not _job_lock(session, "supervision.due-reminders"):
        return 0
    booking_url = booking_url or portal_link(SLOTS_PATH)
    sent = 0
    for row in queries.list_supervision_due(session, now=now):
        if row.state is rules.DueState.IN_DATE:
            continue
        if row.next_booked_at is not None and (row.is_overdue or queries.london_day(row.next_booked_at) <= row.due_on):
            continue
        kind = "overdue" if row.is_overdue else "due_soon"
        subject = ("Your supervision is overdue" if row.is_overdue
                   else f"Your supervision is due by {rules.long_date(row.due_on)}")
        if _queue_once(
            session, f"supervision.{kind}:{row.user_id}:{row.due_on.isoformat()}",
            to=row.email, subject=subject, template=f"supervision/{kind}",
            context={"name": row.name, "due": rules.long_date(row.due_on), "booking_url": booking_url}, now=now,
        ):
            audit.record(session, None, f"supervision.{kind}_reminded", ("users", row.user_id), at=now,
                         due_on=row.due_on)
            sent += 1
    return sent


# ---------------------------------------------------------------------------------------------
# Calendar feeds


FEED_HISTORY = dt.timedelta(days=30)


def feed_events_for(session: Session, user: User, *, now: dt.datetime) -> list[calendar.CalendarEvent]:
    """A person's supervision for their calendar feed, from 30 days ago: their own bookings (cancelled
    ones marked cancelled) and the sessions they lead."""
    since = now - FEED_HISTORY
    own = session.scalars(
        select(SupervisionBooking)
        .join(SupervisionSlot, SupervisionSlot.id == SupervisionBooking.slot_id)
        .where(SupervisionBooking.user_id == user.id, SupervisionSlot.ends_at > since)
    )
    events = [booking_event(booking) for booking in own]
    leading = session.scalars(
        select(SupervisionSlot).where(SupervisionSlot.supervisor_id == user.id, SupervisionSlot.ends_at > since)
    )
    events.extend(slot_event(slot) for slot in leading)
    return events
