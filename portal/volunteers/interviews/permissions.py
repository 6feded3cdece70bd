"""Who may do what with interview slots, bookings and records: pure predicates, no queries.

Coordinators manage slots, book for applicants and record interviews; an applicant sees, books,
changes and cancels only their own interview; other roles see nothing.
"""

from __future__ import annotations

from typing import Any

from portal.core.accounts import is_coordinator, is_signed_in
from portal.volunteers.interviews.models import InterviewBooking
from portal.volunteers.models import Application, ApplicationStatus


def _owns(user: Any, application: Application) -> bool:
    return is_signed_in(user) and application.user_id == user.id


def can_manage_slots(user: Any) -> bool:
    """Create, edit, cancel and list interview slots; invite and book for applicants."""
    return is_coordinator(user)


def can_record_interview(user: Any) -> bool:
    return is_coordinator(user)


def can_view_booking(user: Any, booking: InterviewBooking) -> bool:
    return is_coordinator(user) or _owns(user, booking.application)


def can_change_booking(user: Any, booking: InterviewBooking) -> bool:
    """Move or cancel: the applicant (their own) or a coordinator, while the interview is still to come."""
    return booking.is_active and can_view_booking(user, booking) and (
        booking.application.status == ApplicationStatus.INTERVIEW_BOOKED
    )


def can_book_interview(user: Any, application: Application) -> bool:
    """Book a first interview: the shortlisted applicant themselves, or a coordinator for them."""
    return application.status == ApplicationStatus.SHORTLISTED and (is_coordinator(user) or _owns(user, application))
