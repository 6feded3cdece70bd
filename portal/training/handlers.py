"""Jobs and signal receivers of portal.training, connected by portal.wiring."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import jobs
from portal.core.accounts import User
from portal.core.calendar import CalendarEvent, feed_events_requested
from portal.training import services
from portal.training.coursework import handlers as coursework_handlers
from portal.training.models import Enrolment, EnrolmentStatus, MakeUpBooking

# Completion asks coursework through training.signals.completion_requested: wiring training wires its answer.
WIRED_WITH = (coursework_handlers,)


@jobs.register("training.day-before-reminders")
def send_day_before_reminders(session: Session, *, now: dt.datetime) -> str:
    """E-mail everyone enrolled on a cohort that starts tomorrow (once per enrolment)."""
    return f"reminded {services.send_day_before_reminders(session, now=now)}"


@jobs.register("training.activate-cleared")
def activate_cleared_volunteers(session: Session, *, now: dt.datetime) -> str:
    """Make active the volunteers who completed the course and have since been cleared to practise."""
    return f"activated {services.activate_cleared_volunteers(session, now=now)}"


@feed_events_requested.connect
def course_days_for_feed(user: User, *, session: Session, now: dt.datetime, **_kwargs) -> list[CalendarEvent]:
    """The person's course days (cohorts they hold a place on) and live make-up days, for their feed."""
    enrolments = session.scalars(
        select(Enrolment).where(
            Enrolment.user_id == user.id,
            Enrolment.status.in_([EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED]),
        )
    ).all()
    events = [
        services.day_event(enrolment, day)
        for enrolment in enrolments
        if not enrolment.cohort.is_cancelled
        for day in enrolment.cohort.days
    ]
    bookings = session.scalars(
        select(MakeUpBooking).join(Enrolment).where(
            Enrolment.user_id == user.id, MakeUpBooking.cancelled_at.is_(None),
        )
    ).all()
    events.extend(services.make_up_event(booking) for booking in bookings)
    return events
