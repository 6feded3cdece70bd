"""Reads of interview slots, bookings and records: `get_*` raises NotFound, `find_*` returns None,
`list_*` returns a list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.core import settings
from portal.core.accounts import Role, User, UserRole
from portal.core.errors import NotFound
from portal.core.paging import Page, PageWindow
from portal.volunteers.interviews.models import (
    BookingStatus,
    InterviewBooking,
    InterviewInvitation,
    InterviewRecord,
    InterviewSlot,
    SlotStatus,
)

MINIMUM_NOTICE_SETTING = "volunteers.interview_minimum_notice_hours"
MINIMUM_NOTICE_DEFAULT_HOURS = 24


def minimum_notice(session: Session) -> dt.timedelta:
    """How far ahead an applicant must book or move to a slot (a setting; 24 hours by default)."""
    return dt.timedelta(hours=int(settings.get_setting(session, MINIMUM_NOTICE_SETTING,
                                                       MINIMUM_NOTICE_DEFAULT_HOURS)))


def get_slot(session: Session, slot_id: int) -> InterviewSlot:
    """The slot with this id; raises NotFound."""
    slot = session.get(InterviewSlot, slot_id)
    if slot is None:
        raise NotFound("Interview slot not found")
    return slot


def get_booking(session: Session, booking_id: int) -> InterviewBooking:
    """The booking with this id; raises NotFound."""
    booking = session.get(InterviewBooking, booking_id)
    if booking is None:
        raise NotFound("Interview booking not found")
    return booking


def find_active_booking(session: Session, application_id: int) -> InterviewBooking | None:
    """The application's live (not cancelled) booking, or None."""
    return session.scalar(
        select(InterviewBooking).where(
            InterviewBooking.application_id == application_id, InterviewBooking.status == BookingStatus.BOOKED
        )
    )


def list_bookings(session: Session, application_id: int) -> list[InterviewBooking]:
    """Every booking of the application, newest first (cancelled ones too), with their slots (a fixed
    number of statements however many bookings)."""
    return list(
        session.scalars(
            select(InterviewBooking)
            .where(InterviewBooking.application_id == application_id)
            .options(joinedload(InterviewBooking.slot))
            .order_by(InterviewBooking.booked_at.desc(), InterviewBooking.id.desc())
        )
    )


def find_latest_invitation(session: Session, application_id: int) -> InterviewInvitation | None:
    return session.scalar(
        select(InterviewInvitation)
        .where(InterviewInvitation.application_id == application_id)
        .order_by(InterviewInvitation.invited_at.desc(), InterviewInvitation.id.desc())
    )


def find_record(session: Session, application_id: int) -> InterviewRecord | None:
    """The application's interview record, or None before the interview is recorded."""
    return session.scalar(select(InterviewRecord).where(InterviewRecord.application_id == application_id))


def _with_bookings(query):
    # Places left and the booked names need each booking's application: load them with the slots, not per row.
    return query.options(selectinload(InterviewSlot.bookings).joinedload(InterviewBooking.application))


def _upcoming(now: dt.datetime, include_cancelled: bool):
    query = select(InterviewSlot).where(InterviewSlot.ends_at > now)
    if not include_cancelled:
        query = query.where(InterviewSlot.status == SlotStatus.OPEN)
    return query


def list_upcoming_slots(session: Session, *, now: dt.datetime, include_cancelled: bool = False) -> list[InterviewSlot]:
    """Slots that have not ended yet, soonest first, with their bookings (and their applications) and
    interviewers: three statements however many slots."""
    query = _upcoming(now, include_cancelled).order_by(InterviewSlot.starts_at, InterviewSlot.id)
    return list(session.scalars(_with_bookings(query)))


def upcoming_slots_page(session: Session, *, now: dt.datetime, page: int = 1, per_page: int = 50,
                        include_cancelled: bool = False) -> Page[InterviewSlot]:
    """One page of `list_upcoming_slots`: a count and the page's slots with what they show, in a fixed
    number of statements. A page past the end gives the last page."""
    upcoming = _upcoming(now, include_cancelled)
    window = PageWindow.of(session.scalar(select(func.count()).select_from(upcoming.subquery())) or 0, page,
                           per_page)
    if not window.total:
        return Page([], window)
    query = upcoming.order_by(InterviewSlot.starts_at, InterviewSlot.id).offset(window.offset).limit(window.per_page)
    return Page(list(session.scalars(_with_bookings(query))), window)


def list_bookable_slots(
    session: Session, *, now: dt.datetime, notice: dt.timedelta | None = None, exclude_slot_id: int | None = None,
) -> list[InterviewSlot]:
    """Open slots with a place left that start at least `notice` from now (the minimum notice setting
    by default), soonest first. `exclude_slot_id` leaves out the slot the applicant already holds."""
    notice = minimum_notice(session) if notice is None else notice
    slots = list(
        session.scalars(
            _with_bookings(select(InterviewSlot)
                           .where(InterviewSlot.status == SlotStatus.OPEN, InterviewSlot.starts_at >= now + notice)
                           .order_by(InterviewSlot.starts_at, InterviewSlot.id))
        )
    )
    return [slot for slot in slots if slot.places_left > 0 and slot.id != exclude_slot_id]


def list_coordinators(session: Session) -> list[User]:
    """The people who may interview (active coordinators), by name."""
    return list(
        session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.COORDINATOR, User.is_deactivated.is_(False))
            .order_by(User.name, User.id)
        )
    )


def list_bookings_of_interviewer(
    session: Session, user_id: int, *, since: dt.datetime,
) -> list[InterviewBooking]:
    """Bookings (live and cancelled) in slots this person interviews at, ending after `since`."""
    return list(
        session.scalars(
            select(InterviewBooking)
            .join(InterviewSlot, InterviewSlot.id == InterviewBooking.slot_id)
            .where(InterviewSlot.interviewers.any(User.id == user_id), InterviewSlot.ends_at > since)
            .order_by(InterviewSlot.starts_at, InterviewBooking.id)
        )
    )
