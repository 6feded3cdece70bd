"""Interview use cases: slots (single or a series), invitations, booking, moving and cancelling,
day-before reminders, and the interview record.

Services take the session first and `actor` and `now` (an aware datetime) as keywords, flush and
never commit, audit every change in the same transaction, and queue mail through the outbox with a
dedupe key. Times are typed and shown in Europe/London and stored in UTC. Every e-mail about a
booking carries an .ics with the booking's stable UID and its current SEQUENCE, which rises on every
change (moved, retimed, cancelled).

Lock order, to keep PostgreSQL free of deadlocks: slot rows (lowest id first), then the application row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core import audit, calendar, outbox
from portal.core.accounts import User, is_coordinator
from portal.core.clock import LONDON, london_to_utc
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.validation import FieldErrors, clean_text, online_link_problem, too_long
from portal.volunteers import services as application_services
from portal.volunteers.interviews import permissions, queries
from portal.volunteers.interviews.errors import InterviewInputInvalid, SlotUnavailable
from portal.volunteers.interviews.models import (
    MAX_SCORE,
    MIN_SCORE,
    BookingStatus,
    Criterion,
    InterviewBooking,
    InterviewInvitation,
    InterviewRecord,
    InterviewScore,
    InterviewSlot,
    SlotMode,
    SlotStatus,
)
from portal.volunteers.models import CLOSED_STATUSES, Application, ApplicationStatus, InterviewOutcome

S = ApplicationStatus

MIN_LENGTH_MINUTES = 10
MAX_LENGTH_MINUTES = 240
MAX_CAPACITY = 20
MAX_SERIES_WEEKS = 12
MAX_SERIES_SLOTS = 60
VENUE_MAX = 100
ADDRESS_MAX = 300
NOTES_MAX = 2000
REASON_MAX = 1000
REMINDER_LEAD = dt.timedelta(hours=24)
EVENT_SUMMARY = "Volunteer interview"
INVITE_FILENAME = "interview.ics"


# ---------------------------------------------------------------------------------------------
# Input


@dataclass(frozen=True)
class SlotDetails:
    """What a coordinator types for a slot: a London date and start time, length, place and people."""

    day: dt.date | None
    start_time: dt.time | None
    length_minutes: int | None
    mode: SlotMode | str | None
    venue: str | None = None
    address: str | None = None
    online_link: str | None = None
    interviewer_ids: Sequence[int] = ()
    capacity: int | None = 1


@dataclass(frozen=True)
class SeriesPattern:
    """Repeat a slot every `every_minutes` on its day until `until` (the last one ends by then),
    and/or on the same weekday for `weeks` weeks (1 = this week only)."""

    every_minutes: int | None = None
    until: dt.time | None = None
    weeks: int | None = 1


@dataclass(frozen=True)
class RecordDetails:
    """The panel's record: a score (1 to 5) and notes per criterion, the outcome and why, and the panel."""

    scores: Mapping[str, Any] = field(default_factory=dict)
    notes: Mapping[str, Any] = field(default_factory=dict)
    outcome: InterviewOutcome | str | None = None
    reason: str | None = None
    panel_ids: Sequence[int] = ()


def london_label(moment: dt.datetime) -> str:
    """A UTC instant as people read it here, with GMT or BST: "Tuesday 1 December 2026, 10:00 GMT"."""
    local = moment.astimezone(LONDON)
    return f"{local:%A %-d %B %Y, %H:%M} {local.tzname()}"


def london_time(moment: dt.datetime) -> str:
    """The London wall-clock time of a UTC instant, like 14:30."""
    return f"{moment.astimezone(LONDON):%H:%M}"


def _member(enum_class, value):
    """The enum member for `value`, or None when it is empty or not one."""
    try:
        return enum_class(value) if value else None
    except ValueError:
        return None


def _whole_number(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None




# ---------------------------------------------------------------------------------------------
# Slots


def _require_coordinator(actor: User) -> None:
    if not permissions.can_manage_slots(actor):
        raise PermissionDenied("Only coordinators can manage interviews")


def _interviewers(session: Session, errors: FieldErrors, ids: Sequence[int]) -> list[User]:
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        errors.add("interviewer_ids", "Select at least one interviewer")
        return []
    people = {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}
    chosen = []
    for person_id in wanted:
        person = people.get(person_id)
        if person is None or not is_coordinator(person):
            errors.add("interviewer_ids", "Select interviewers from the list of coordinators")
            return []
        chosen.append(person)
    return chosen


def _check_details(session: Session, details: SlotDetails, errors: FieldErrors, *, now: dt.datetime):
    """Validate a slot's details; returns (first start, length, mode, venue, address, link, interviewers)."""
    starts_at = None
    if details.day is None:
        errors.add("day", "Enter the date of the interview")
    if details.start_time is None:
        errors.add("start_time", "Enter the start time")
    if details.day is not None and details.start_time is not None:
        starts_at = london_to_utc(details.day, details.start_time)
        if starts_at <= now:
            errors.add("day", "The interview must be in the future")
    length = details.length_minutes
    if length is None:
        errors.add("length_minutes", "Enter the length of the interview in minutes")
    elif not MIN_LENGTH_MINUTES <= length <= MAX_LENGTH_MINUTES:
        errors.add("length_minutes",
                   f"The length must be between {MIN_LENGTH_MINUTES} and {MAX_LENGTH_MINUTES} minutes")
    mode = _member(SlotMode, details.mode)
    venue = clean_text(details.venue) or None
    address = clean_text(details.address) or None
    link = clean_text(details.online_link) or None
    if mode is None:
        errors.add("mode", "Select whether the interview is in person or online")
    elif mode == SlotMode.IN_PERSON:
        if not venue:
            errors.add("venue", "Enter the venue for an interview in person")
        elif len(venue) > VENUE_MAX:
            errors.add("venue", too_long("The venue", VENUE_MAX, venue))
        if not address:
            errors.add("address", "Enter the venue’s address")
        elif len(address) > ADDRESS_MAX:
            errors.add("address", too_long("The address", ADDRESS_MAX, address))
        link = None
    else:
        if problem := online_link_problem(link, missing="Enter the link to the video call for an online interview"):
            errors.add("online_link", problem)
        venue = address = None
    capacity = details.capacity
    if capacity is None:
        errors.add("capacity", "Enter how many applicants can book this time")
    elif not 1 <= capacity <= MAX_CAPACITY:
        errors.add("capacity", f"Places must be between 1 and {MAX_CAPACITY}")
    interviewers = _interviewers(session, errors, details.interviewer_ids)
    return starts_at, length, mode, venue, address, link, interviewers


def _series_starts(details: SlotDetails, series: SeriesPattern | None, errors: FieldErrors) -> list[dt.datetime]:
    """Every start (UTC) of a series, each worked out on its own London date (so BST is right)."""
    if details.day is None or details.start_time is None or details.length_minutes is None:
        return []
    series = series or SeriesPattern()
    weeks = 1 if series.weeks is None else series.weeks
    if not 1 <= weeks <= MAX_SERIES_WEEKS:
        errors.add("weeks", f"Repeat for between 1 and {MAX_SERIES_WEEKS} weeks")
        return []
    first = dt.datetime.combine(details.day, details.start_time)
    offsets = [dt.timedelta(0)]
    if series.every_minutes is not None or series.until is not None:
        if series.every_minutes is None:
            errors.add("every_minutes", "Enter how many minutes apart the interviews start")
            return []
        if series.until is None:
            errors.add("until", "Enter the time the last interview must end by")
            return []
        if series.every_minutes < details.length_minutes:
            errors.add("every_minutes", "Interviews in a series must not overlap: start them at least "
                                        f"{details.length_minutes} minutes apart")
            return []
        last_end = dt.datetime.combine(details.day, series.until)
        length = dt.timedelta(minutes=details.length_minutes)
        if last_end < first + length:
            errors.add("until", "The end time must be after the first interview ends "
                                f"({(first + length):%H:%M})")
            return []
        step = dt.timedelta(minutes=series.every_minutes)
        offsets = []
        while first + len(offsets) * step + length <= last_end and len(offsets) <= MAX_SERIES_SLOTS:
            offsets.append(len(offsets) * step)
    count = len(offsets) * weeks
    if count > MAX_SERIES_SLOTS:
        errors.add("weeks", f"A series can have up to {MAX_SERIES_SLOTS} interview times; this one would have "
                            f"{count if len(offsets) <= MAX_SERIES_SLOTS else 'more'}. Make it shorter")
        return []
    starts = []
    for week in range(weeks):
        for offset in offsets:
            local = first + dt.timedelta(weeks=week) + offset
            starts.append(london_to_utc(local.date(), local.time()))
    return starts


def _clashes(
    session: Session, interviewers: list[User], starts_at: dt.datetime, ends_at: dt.datetime, *,
    exclude_slot_id: int | None = None,
) -> list[str]:
    """Messages for interviewers already in another open slot that overlaps this time."""
    if not interviewers:
        return []
    query = select(InterviewSlot).where(
        InterviewSlot.status == SlotStatus.OPEN,
        InterviewSlot.starts_at < ends_at,
        InterviewSlot.ends_at > starts_at,
        InterviewSlot.interviewers.any(User.id.in_([person.id for person in interviewers])),
    )
    if exclude_slot_id is not None:
        query = query.where(InterviewSlot.id != exclude_slot_id)
    messages = []
    for other in session.scalars(query.order_by(InterviewSlot.starts_at)):
        busy = sorted({person.name for person in other.interviewers} & {person.name for person in interviewers})
        for name in busy:
            messages.append(f"{name} is already interviewing at {london_label(other.starts_at)}")
    return messages


def create_slots(
    session: Session, details: SlotDetails, *, series: SeriesPattern | None = None, actor: User, now: dt.datetime,
) -> list[InterviewSlot]:
    """Create one slot, or a series (every N minutes on the day and/or weekly for N weeks).

    Raises InterviewInputInvalid with every problem (past, zero length, missing venue or link, no
    interviewers, overlapping series, too long a series, an interviewer already busy), and
    PermissionDenied for anyone but a coordinator.
    """
    _require_coordinator(actor)
    errors = FieldErrors(InterviewInputInvalid)
    starts_at, length, mode, venue, address, link, interviewers = _check_details(session, details, errors, now=now)
    starts = _series_starts(details, series, errors)
    errors.raise_if_any()
    length_delta = dt.timedelta(minutes=length)
    for start in starts:
        for message in _clashes(session, interviewers, start, start + length_delta):
            errors.add("interviewer_ids", message)
    errors.raise_if_any()
    series_key = uuid.uuid4().hex if len(starts) > 1 else None
    slots = []
    for start in starts:
        slot = InterviewSlot(
            starts_at=start, ends_at=start + length_delta, mode=mode, venue=venue, address=address,
            online_link=link, capacity=details.capacity, status=SlotStatus.OPEN, series_key=series_key,
            created_by_id=actor.id, created_at=now, updated_at=now, interviewers=list(interviewers),
        )
        session.add(slot)
        slots.append(slot)
    session.flush()
    for slot in slots:
        audit.record(session, actor, "interview.slot_created", slot, at=now, starts_at=slot.starts_at,
                     length_minutes=length, mode=mode, capacity=slot.capacity, series_key=series_key,
                     interviewers=[person.id for person in interviewers])
    return slots


def _lock_slot(session: Session, slot_id: int) -> InterviewSlot:
    slot = session.scalar(
        select(InterviewSlot).where(InterviewSlot.id == slot_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if slot is None:
        raise NotFound("Interview slot not found")
    return slot


def _lock_application(session: Session, application_id: int) -> Application:
    application = session.scalar(
        select(Application).where(Application.id == application_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if application is None:
        raise NotFound("Application not found")
    return application


def _taken_places(session: Session, slot_id: int) -> int:
    """Live bookings in the slot (counted in the database, under the slot's lock)."""
    return session.scalar(
        select(func.count(InterviewBooking.id))
        .join(Application, Application.id == InterviewBooking.application_id)
        .where(InterviewBooking.slot_id == slot_id, InterviewBooking.status == BookingStatus.BOOKED,
               Application.status.not_in(CLOSED_STATUSES))
    ) or 0


def _active_bookings_of(session: Session, slot_id: int) -> list[InterviewBooking]:
    return list(
        session.scalars(
            select(InterviewBooking)
            .where(InterviewBooking.slot_id == slot_id, InterviewBooking.status == BookingStatus.BOOKED)
            .order_by(InterviewBooking.id)
            .execution_options(populate_existing=True)
        )
    )


def update_slot(
    session: Session, slot_id: int, details: SlotDetails, *, actor: User, now: dt.datetime, manage_url: str = "",
) -> InterviewSlot:
    """Change a future slot. When its time or place changes, everyone booked gets an updated invitation
    (same UID, SEQUENCE raised). Places cannot drop below the bookings already made.

    Raises InterviewInputInvalid, RuleViolation for a cancelled or past slot, PermissionDenied.
    """
    _require_coordinator(actor)
    slot = _lock_slot(session, slot_id)
    if slot.is_cancelled:
        raise RuleViolation("This interview time has been cancelled and cannot be changed")
    if slot.starts_at <= now:
        raise RuleViolation("This interview time has passed and cannot be changed")
    errors = FieldErrors(InterviewInputInvalid)
    starts_at, length, mode, venue, address, link, interviewers = _check_details(session, details, errors, now=now)
    taken = _taken_places(session, slot.id)
    if details.capacity is not None and "capacity" not in errors and details.capacity < taken:
        errors.add("capacity", f"{taken} applicants have booked this time: places cannot be fewer than {taken}")
    errors.raise_if_any()
    ends_at = starts_at + dt.timedelta(minutes=length)
    for message in _clashes(session, interviewers, starts_at, ends_at, exclude_slot_id=slot.id):
        errors.add("interviewer_ids", message)
    errors.raise_if_any()
    before = {"starts_at": slot.starts_at, "ends_at": slot.ends_at, "mode": slot.mode, "venue": slot.venue,
              "address": slot.address, "online_link": slot.online_link}
    after = {"starts_at": starts_at, "ends_at": ends_at, "mode": mode, "venue": venue, "address": address,
             "online_link": link}
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    old_interviewers = [person.id for person in slot.interviewers]
    slot.starts_at, slot.ends_at, slot.mode = starts_at, ends_at, mode
    slot.venue, slot.address, slot.online_link = venue, address, link
    slot.capacity = details.capacity
    slot.interviewers = list(interviewers)
    slot.updated_at = now
    session.flush()
    audit.record(session, actor, "interview.slot_updated", slot, at=now,
                 changes={key: {"from": old, "to": new} for key, (old, new) in changed.items()},
                 capacity=slot.capacity, interviewers_before=old_interviewers,
                 interviewers=[person.id for person in interviewers])
    if changed:
        for booking in _active_bookings_of(session, slot.id):
            booking.sequence += 1
            booking.updated_at = now
            if "starts_at" in changed:
                booking.reminded_for = None
            session.flush()
            audit.record(session, actor, "interview.booking_updated", booking, at=now, slot_id=slot.id,
                         sequence=booking.sequence, changed=sorted(changed))
            _send_invitation(session, booking, now=now, kind="updated", manage_url=manage_url)
    return slot


def cancel_slot(
    session: Session, slot_id: int, reason: str, *, actor: User, now: dt.datetime, booking_url: str = "",
) -> InterviewSlot:
    """Cancel a slot: every live booking in it is cancelled (METHOD:CANCEL e-mailed to each applicant,
    SEQUENCE raised), and their applications go back to shortlisted and are asked to book again.

    Cancelling again returns the slot unchanged. Raises InterviewInputInvalid without a reason.
    """
    _require_coordinator(actor)
    slot = _lock_slot(session, slot_id)
    if slot.is_cancelled:
        return slot
    reason = clean_text(reason)
    errors = FieldErrors(InterviewInputInvalid)
    if not reason:
        errors.add("reason", "Enter why you are cancelling this interview time")
    elif len(reason) > REASON_MAX:
        errors.add("reason", too_long("The reason", REASON_MAX, reason))
    errors.raise_if_any()
    slot.status = SlotStatus.CANCELLED
    slot.cancelled_at = now
    slot.cancellation_reason = reason
    slot.updated_at = now
    session.flush()
    bookings = _active_bookings_of(session, slot.id)
    audit.record(session, actor, "interview.slot_cancelled", slot, at=now, reason=reason,
                 bookings=[booking.id for booking in bookings])
    for booking in bookings:
        _cancel(session, booking, actor=actor, now=now, reason=reason, by_organiser=True, booking_url=booking_url)
    return slot


# ---------------------------------------------------------------------------------------------
# Invitations, booking, moving and cancelling


def _recipient(application: Application) -> str:
    return application.email or application.user.email


def booking_event(booking: InterviewBooking, *, cancelled: bool | None = None) -> calendar.CalendarEvent:
    """The booking as a calendar event: its stable UID, current SEQUENCE, UTC times, generic summary."""
    slot = booking.slot
    application = booking.application
    organiser = slot.interviewers[0] if slot.interviewers else None
    if slot.mode == SlotMode.ONLINE:
        description = f"Online interview. Join by video: {slot.online_link}"
        location = "Online"
    else:
        description = f"Interview in person at {slot.where}."
        location = slot.where
    return calendar.CalendarEvent(
        uid=calendar.event_uid("interview-booking", booking.id),
        summary=EVENT_SUMMARY,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        sequence=booking.sequence,
        description=description,
        location=location,
        url=slot.online_link or "",
        organizer=calendar.Person(organiser.name, organiser.email) if organiser else None,
        attendees=(calendar.Person(application.display_name, _recipient(application)),),
        cancelled=booking.status == BookingStatus.CANCELLED if cancelled is None else cancelled,
    )


def _mail_context(booking: InterviewBooking, **extra: Any) -> dict[str, Any]:
    slot = booking.slot
    application = booking.application
    return {
        "name": application.display_name,
        "reference": application.reference,
        "when": london_label(slot.starts_at),
        "ends": london_time(slot.ends_at),
        "length_minutes": slot.length_minutes,
        "online": slot.mode == SlotMode.ONLINE,
        "where": slot.where,
        "online_link": slot.online_link or "",
        "interviewers": ", ".join(person.name for person in slot.interviewers),
        **extra,
    }


_SUBJECTS = {
    "booked": "Your volunteer interview is booked: {when}",
    "moved": "Your volunteer interview has moved: {when}",
    "updated": "Your volunteer interview has changed: {when}",
}


def _send_invitation(
    session: Session, booking: InterviewBooking, *, now: dt.datetime, kind: str, manage_url: str = "",
) -> None:
    """E-mail the applicant the booking with an .ics (METHOD:REQUEST) at its current SEQUENCE."""
    ics = calendar.build_invite([booking_event(booking)], calendar.Method.REQUEST, now=now)
    context = _mail_context(booking, kind=kind, manage_url=manage_url)
    outbox.queue(
        session,
        to=_recipient(booking.application),
        subject=_SUBJECTS[kind].format(when=context["when"]),
        template="volunteers/interview_booked",
        context=context,
        attachments=[outbox.Attachment(INVITE_FILENAME, "text/calendar; method=REQUEST; charset=UTF-8", ics)],
        dedupe_key=f"volunteers.interview_booking:{booking.id}:{booking.sequence}",
        now=now,
    )


def _send_cancellation(
    session: Session, booking: InterviewBooking, *, now: dt.datetime, by_organiser: bool, booking_url: str,
    closed: bool = False,
) -> None:
    ics = calendar.build_invite([booking_event(booking, cancelled=True)], calendar.Method.CANCEL, now=now)
    context = _mail_context(booking, by_organiser=by_organiser, booking_url=booking_url, closed=closed)
    outbox.queue(
        session,
        to=_recipient(booking.application),
        subject=f"Your volunteer interview on {context['when']} is cancelled",
        template="volunteers/interview_cancelled",
        context=context,
        attachments=[outbox.Attachment(INVITE_FILENAME, "text/calendar; method=CANCEL; charset=UTF-8", ics)],
        dedupe_key=f"volunteers.interview_booking:{booking.id}:{booking.sequence}",
        now=now,
    )


def invite_to_book(
    session: Session, application_id: int, *, actor: User, now: dt.datetime, booking_url: str = "",
) -> InterviewInvitation:
    """E-mail a shortlisted applicant inviting them to choose an interview time at `booking_url`.

    Each call sends a new invitation (a reminder to book is a second invitation). Raises RuleViolation
    unless the application is shortlisted, PermissionDenied for anyone but a coordinator.
    """
    _require_coordinator(actor)
    application = _lock_application(session, application_id)
    if application.status != S.SHORTLISTED:
        raise RuleViolation(
            f"Only a shortlisted applicant can be invited to book an interview (this one is "
            f"{application.status.label})"
        )
    invitation = InterviewInvitation(application_id=application.id, invited_by_id=actor.id, invited_at=now)
    session.add(invitation)
    session.flush()
    audit.record(session, actor, "interview.invited", application, at=now, reference=application.reference,
                 invitation_id=invitation.id)
    outbox.queue(
        session,
        to=_recipient(application),
        subject="Please choose a time for your volunteer interview",
        template="volunteers/interview_invitation",
        context={"name": application.display_name, "reference": application.reference,
                 "booking_url": booking_url},
        dedupe_key=f"volunteers.interview_invitation:{invitation.id}",
        now=now,
    )
    return invitation


def _check_bookable(session: Session, slot: InterviewSlot, *, actor: User, now: dt.datetime) -> None:
    """Raise SlotUnavailable unless the slot is open, in time and has a place (under its lock)."""
    if slot.is_cancelled:
        raise SlotUnavailable("That interview time has been cancelled: choose another")
    if slot.starts_at <= now:
        raise SlotUnavailable("That interview time has passed: choose another")
    # Coordinators may book at short notice; applicants need the minimum notice.
    if not is_coordinator(actor) and slot.starts_at < now + queries.minimum_notice(session):
        hours = int(queries.minimum_notice(session).total_seconds() // 3600)
        raise SlotUnavailable(f"Interviews must be booked at least {hours} hours ahead: choose a later time")
    if _taken_places(session, slot.id) >= slot.capacity:
        raise SlotUnavailable("Sorry, someone has just booked the last place at that time: choose another")


def book_interview(
    session: Session, application_id: int, slot_id: int, *, actor: User, now: dt.datetime, manage_url: str = "",
) -> InterviewBooking:
    """Book the shortlisted applicant into a slot (they book it themselves, or a coordinator for them),
    move the application to interview booked, and e-mail the applicant an invitation (.ics, SEQUENCE 0).

    Booking the same slot again (double click) returns the booking unchanged. The slot row is locked,
    so its last place cannot be taken twice. Raises SlotUnavailable (full, cancelled, past, too soon),
    RuleViolation (not shortlisted, already booked elsewhere), NotFound for someone else's application.
    """
    slot = _lock_slot(session, slot_id)
    application = _lock_application(session, application_id)
    if not (is_coordinator(actor) or (actor is not None and application.user_id == actor.id)):
        raise NotFound("Application not found")
    existing = queries.find_active_booking(session, application.id)
    if existing is not None:
        if existing.slot_id == slot.id:
            return existing
        raise RuleViolation(
            f"An interview is already booked for {london_label(existing.slot.starts_at)}: change that booking "
            "instead"
        )
    if not permissions.can_book_interview(actor, application):
        raise RuleViolation(
            f"Only a shortlisted applicant can book an interview (this application is {application.status.label})"
        )
    _check_bookable(session, slot, actor=actor, now=now)
    booking = InterviewBooking(
        application_id=application.id, slot_id=slot.id, status=BookingStatus.BOOKED, sequence=0,
        booked_by_id=actor.id, booked_at=now, updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(booking)
    except IntegrityError as clash:
        # Another request booked for this application at the same moment: theirs stands.
        existing = queries.find_active_booking(session, application.id)
        if existing is None:
            raise
        if existing.slot_id == slot.id:
            return existing
        raise RuleViolation(
            "An interview is already booked for this application: change that booking instead"
        ) from clash
    session.refresh(slot)
    application_services.change_status(
        session, application, S.INTERVIEW_BOOKED, actor=actor, now=now, booking_id=booking.id, slot_id=slot.id,
    )
    audit.record(session, actor, "interview.booked", booking, at=now, application_id=application.id,
                 slot_id=slot.id, starts_at=slot.starts_at, by_coordinator=is_coordinator(actor))
    _send_invitation(session, booking, now=now, kind="booked", manage_url=manage_url)
    return booking


def _load_booking_for(session: Session, booking_id: int, actor: User) -> InterviewBooking:
    booking = queries.get_booking(session, booking_id)
    # Someone else's booking is "not found", so ids in URLs reveal nothing.
    if not permissions.can_view_booking(actor, booking):
        raise NotFound("Interview booking not found")
    return booking


def move_booking(
    session: Session, booking_id: int, slot_id: int, *, actor: User, now: dt.datetime, manage_url: str = "",
) -> InterviewBooking:
    """Move a live booking to another slot: same UID, SEQUENCE raised, an updated invitation e-mailed.

    Moving to the slot it is already in returns it unchanged. Both slots are locked (lowest id first).
    Raises SlotUnavailable, RuleViolation for a cancelled booking or a past interview, NotFound for
    someone else's booking.
    """
    booking = _load_booking_for(session, booking_id, actor)
    if booking.slot_id == slot_id and booking.is_active:
        return booking
    for locked_id in sorted({booking.slot_id, slot_id}):
        _lock_slot(session, locked_id)
    application = _lock_application(session, booking.application_id)
    session.refresh(booking)
    if not booking.is_active or application.status != S.INTERVIEW_BOOKED:
        raise RuleViolation("This interview booking has been cancelled: book a new time instead")
    if booking.slot.starts_at <= now:
        raise RuleViolation("This interview has already started and cannot be moved")
    target = session.get(InterviewSlot, slot_id)
    if target is None:
        raise NotFound("Interview slot not found")
    _check_bookable(session, target, actor=actor, now=now)
    old_slot = booking.slot
    booking.slot_id = target.id
    booking.sequence += 1
    booking.updated_at = now
    booking.reminded_for = None
    session.flush()
    session.refresh(booking)
    session.refresh(old_slot)
    session.refresh(target)
    audit.record(session, actor, "interview.moved", booking, at=now, application_id=application.id,
                 from_slot_id=old_slot.id, to_slot_id=target.id, from_starts_at=old_slot.starts_at,
                 to_starts_at=target.starts_at, sequence=booking.sequence)
    _send_invitation(session, booking, now=now, kind="moved", manage_url=manage_url)
    return booking


def _cancel(
    session: Session, booking: InterviewBooking, *, actor: User, now: dt.datetime, reason: str | None,
    by_organiser: bool, booking_url: str,
) -> None:
    booking.status = BookingStatus.CANCELLED
    booking.sequence += 1
    booking.cancelled_at = now
    booking.cancelled_by_id = actor.id if actor is not None else None
    booking.cancellation_reason = reason
    booking.updated_at = now
    session.flush()
    audit.record(session, actor, "interview.booking_cancelled", booking, at=now,
                 application_id=booking.application_id, slot_id=booking.slot_id, reason=reason,
                 sequence=booking.sequence, by_organiser=by_organiser)
    application = _lock_application(session, booking.application_id)
    if application.status == S.INTERVIEW_BOOKED:
        application_services.change_status(session, application, S.SHORTLISTED, actor=actor, now=now,
                                           booking_id=booking.id, reason=reason)
    if application.status not in CLOSED_STATUSES:
        _send_cancellation(session, booking, now=now, by_organiser=by_organiser, booking_url=booking_url)


def cancel_booking(
    session: Session, booking_id: int, *, actor: User, now: dt.datetime, reason: str | None = None,
    booking_url: str = "",
) -> InterviewBooking:
    """Cancel a live booking (the applicant's own, or any by a coordinator): METHOD:CANCEL e-mailed with
    SEQUENCE raised, the application back to shortlisted so a new time can be booked. Other bookings in
    the same slot are untouched. Cancelling again returns it unchanged.

    Raises RuleViolation once the interview has started, NotFound for someone else's booking.
    """
    booking = _load_booking_for(session, booking_id, actor)
    _lock_slot(session, booking.slot_id)
    session.refresh(booking)
    if not booking.is_active:
        return booking
    if booking.slot.starts_at <= now:
        raise RuleViolation("This interview has already started and cannot be cancelled")
    reason = clean_text(reason) or None
    if reason and len(reason) > REASON_MAX:
        raise InterviewInputInvalid({"reason": [too_long("The reason", REASON_MAX, reason)]})
    by_organiser = is_coordinator(actor) and booking.application.user_id != actor.id
    _cancel(session, booking, actor=actor, now=now, reason=reason, by_organiser=by_organiser,
            booking_url=booking_url)
    return booking


# ---------------------------------------------------------------------------------------------
# Reminders


def send_interview_reminders(session: Session, *, now: dt.datetime) -> int:
    """E-mail a reminder for every live booking whose interview starts within the next 24 hours;
    returns how many were queued.

    Each booking is reminded once for its start time however often the job runs, including bookings
    made less than a day ahead; a booking moved to another time is reminded again for the new time.
    Cancelled bookings, cancelled slots and closed applications are never reminded.
    """
    due = list(
        session.scalars(
            select(InterviewBooking)
            .join(InterviewSlot, InterviewSlot.id == InterviewBooking.slot_id)
            .join(Application, Application.id == InterviewBooking.application_id)
            .where(
                InterviewBooking.status == BookingStatus.BOOKED,
                InterviewSlot.status == SlotStatus.OPEN,
                Application.status == S.INTERVIEW_BOOKED,
                InterviewSlot.starts_at > now,
                InterviewSlot.starts_at <= now + REMINDER_LEAD,
            )
            .order_by(InterviewSlot.starts_at, InterviewBooking.id)
            .with_for_update(skip_locked=True, of=InterviewBooking)
        )
    )
    sent = 0
    for booking in due:
        starts_at = booking.slot.starts_at
        if booking.reminded_for is not None and booking.reminded_for == starts_at:
            continue
        context = _mail_context(booking)
        outbox.queue(
            session,
            to=_recipient(booking.application),
            subject=f"Reminder: your volunteer interview is on {context['when']}",
            template="volunteers/interview_reminder",
            context=context,
            dedupe_key=f"volunteers.interview_reminder:{booking.id}:{starts_at.astimezone(dt.UTC):%Y%m%dT%H%M}",
            now=now,
        )
        booking.reminded_for = starts_at
        audit.record(session, None, "interview.reminded", booking, at=now, starts_at=starts_at)
        sent += 1
    session.flush()
    return sent


def release_closed_bookings(session: Session, *, now: dt.datetime) -> int:
    """Cancel the live bookings of applications that were withdrawn or rejected since booking, so the
    place is free and the applicant's calendar drops the interview (METHOD:CANCEL, SEQUENCE raised);
    returns how many were released. Safe to run as often as wanted: a released booking is not live.
    """
    stale = list(
        session.scalars(
            select(InterviewBooking)
            .join(Application, Application.id == InterviewBooking.application_id)
            .where(InterviewBooking.status == BookingStatus.BOOKED, Application.status.in_(CLOSED_STATUSES))
            .order_by(InterviewBooking.id)
            .with_for_update(skip_locked=True, of=InterviewBooking)
        )
    )
    for booking in stale:
        application = booking.application
        booking.status = BookingStatus.CANCELLED
        booking.sequence += 1
        booking.cancelled_at = now
        booking.cancellation_reason = f"Application {application.status.label}"
        booking.updated_at = now
        session.flush()
        audit.record(session, None, "interview.booking_released", booking, at=now, application_id=application.id,
                     application_status=application.status, sequence=booking.sequence)
        if booking.slot.starts_at > now:
            _send_cancellation(session, booking, now=now, by_organiser=False, booking_url="", closed=True)
    session.flush()
    return len(stale)


# ---------------------------------------------------------------------------------------------
# The interview record


def _check_record(session: Session, details: RecordDetails) -> tuple[dict, InterviewOutcome, str, list[User]]:
    errors = FieldErrors(InterviewInputInvalid)
    scores: dict[Criterion, tuple[int, str | None]] = {}
    for criterion in Criterion:
        raw = details.scores.get(criterion.value, details.scores.get(criterion))
        name = f"{criterion.value}_score"
        score = _whole_number(raw)
        if score is None:
            errors.add(name, f"Select a score for {criterion.label.lower()}")
        elif not MIN_SCORE <= score <= MAX_SCORE:
            errors.add(name, f"The score for {criterion.label.lower()} must be between {MIN_SCORE} and {MAX_SCORE}")
        notes = clean_text(details.notes.get(criterion.value, details.notes.get(criterion))) or None
        if notes and len(notes) > NOTES_MAX:
            errors.add(f"{criterion.value}_notes", too_long(f"Notes on {criterion.label.lower()}", NOTES_MAX, notes))
        scores[criterion] = (score, notes)
    outcome = _member(InterviewOutcome, details.outcome)
    if outcome is None:
        errors.add("outcome", "Select the outcome: offer, reject or hold")
    reason = clean_text(details.reason)
    if not reason:
        errors.add("reason", "Enter the reason for the outcome")
    elif len(reason) > REASON_MAX:
        errors.add("reason", too_long("The reason", REASON_MAX, reason))
    panel_errors = FieldErrors(InterviewInputInvalid)
    panel = _interviewers(session, panel_errors, details.panel_ids)
    for message in panel_errors.errors.get("interviewer_ids", []):
        errors.add("panel_ids", message.replace("interviewer", "panel member"))
    errors.raise_if_any()
    return scores, outcome, reason, panel


def save_interview_record(
    session: Session, application_id: int, details: RecordDetails, *, actor: User, now: dt.datetime,
) -> InterviewRecord:
    """Record (or later correct) the interview: scores and notes per criterion, outcome and reason, panel.

    The first save moves the application from interview booked to interviewed; both set
    `application.interview_outcome`. Every save is audited with what changed. Raises
    InterviewInputInvalid with every problem, RuleViolation when the application is at another
    stage, PermissionDenied for anyone but a coordinator.
    """
    if not permissions.can_record_interview(actor):
        raise PermissionDenied("Only coordinators can record interviews")
    application = _lock_application(session, application_id)
    if application.status not in (S.INTERVIEW_BOOKED, S.INTERVIEWED):
        raise RuleViolation(
            f"An interview can be recorded only once it is booked (this application is {application.status.label})"
        )
    scores, outcome, reason, panel = _check_record(session, details)
    record = queries.find_record(session, application.id)
    summary = {criterion.value: score for criterion, (score, _notes) in scores.items()}
    if record is None:
        booking = queries.find_active_booking(session, application.id)
        record = InterviewRecord(
            application_id=application.id, booking_id=booking.id if booking else None, outcome=outcome,
            outcome_reason=reason, recorded_by_id=actor.id, recorded_at=now, updated_by_id=actor.id,
            updated_at=now, panel=list(panel),
            scores=[InterviewScore(criterion=criterion, score=score, notes=notes)
                    for criterion, (score, notes) in scores.items()],
        )
        session.add(record)
        application.interview_outcome = outcome
        session.flush()
        if application.status == S.INTERVIEW_BOOKED:
            application_services.change_status(session, application, S.INTERVIEWED, actor=actor, now=now,
                                               outcome=outcome)
        audit.record(session, actor, "interview.recorded", record, at=now, application_id=application.id,
                     outcome=outcome, reason=reason, scores=summary, panel=[person.id for person in panel])
        return record
    changes: dict[str, Any] = {}
    if record.outcome != outcome:
        changes["outcome"] = {"from": record.outcome, "to": outcome}
    if record.outcome_reason != reason:
        changes["reason"] = {"from": record.outcome_reason, "to": reason}
    old_panel = sorted(person.id for person in record.panel)
    if old_panel != sorted(person.id for person in panel):
        changes["panel"] = {"from": old_panel, "to": sorted(person.id for person in panel)}
    for criterion, (score, notes) in scores.items():
        row = record.score_for(criterion)
        if row is None:
            record.scores.append(InterviewScore(criterion=criterion, score=score, notes=notes))
            changes[criterion.value] = {"from": None, "to": score}
            continue
        if row.score != score:
            changes[criterion.value] = {"from": row.score, "to": score}
        if row.notes != notes:
            changes[f"{criterion.value}_notes"] = "changed"
        row.score, row.notes = score, notes
    record.outcome, record.outcome_reason, record.panel = outcome, reason, list(panel)
    record.updated_by_id, record.updated_at = actor.id, now
    application.interview_outcome = outcome
    application.updated_at = now
    session.flush()
    audit.record(session, actor, "interview.record_updated", record, at=now, application_id=application.id,
                 changes=changes)
    return record


# ---------------------------------------------------------------------------------------------
# Calendar feeds


def feed_events_for(session: Session, user: User, *, now: dt.datetime) -> list[calendar.CalendarEvent]:
    """Interviews for a person's calendar feed: their own booking as an applicant, and the bookings in
    slots they interview at (cancelled ones marked cancelled), from a week ago on."""
    since = now - dt.timedelta(days=7)
    own = list(
        session.scalars(
            select(InterviewBooking)
            .join(Application, Application.id == InterviewBooking.application_id)
            .join(InterviewSlot, InterviewSlot.id == InterviewBooking.slot_id)
            .where(Application.user_id == user.id, InterviewSlot.ends_at > since)
        )
    )
    interviewing = queries.list_bookings_of_interviewer(session, user.id, since=since) if is_coordinator(user) else []
    seen: dict[int, InterviewBooking] = {booking.id: booking for booking in [*own, *interviewing]}
    return [booking_event(booking) for booking in seen.values()]


def erase_interview_record(session: Session, application_id: int, *, now: dt.datetime) -> bool:
    """Delete the interview record (scores, notes, reason, panel) of an application whose personal data
    is being erased after the retention period; returns whether there was one. Bookings stay: they hold
    only times and places."""
    record = queries.find_record(session, application_id)
    if record is None:
        return False
    session.delete(record)
    session.flush()
    audit.record(session, None, "interview.record_erased", ("volunteer_applications", application_id), at=now)
    return True
