"""Jobs and signal receivers of portal.volunteers.interviews, connected by portal.wiring."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.core import calendar, jobs
from portal.core.accounts import User
from portal.volunteers.interviews import services
from portal.volunteers.signals import application_anonymised


@jobs.register("volunteers.interview-reminders")
def send_interview_reminders(session: Session, *, now: dt.datetime) -> str:
    """E-mail applicants the day before their interview (once per booking and start time)."""
    return f"reminded {services.send_interview_reminders(session, now=now)}"


@jobs.register("volunteers.interview-releases")
def release_closed_bookings(session: Session, *, now: dt.datetime) -> str:
    """Cancel interviews still booked for applications since withdrawn or rejected (frees the place)."""
    return f"released {services.release_closed_bookings(session, now=now)}"


@calendar.feed_events_requested.connect
def interview_feed_events(user: User, *, session: Session, now: dt.datetime) -> list[calendar.CalendarEvent]:
    """Applicants see their interview, interviewers the interviews they hold, in their calendar feed."""
    return services.feed_events_for(session, user, now=now)


@application_anonymised.connect
def erase_interview_record(application, *, session: Session, now: dt.datetime) -> None:
    """When a closed application's personal data is erased, its interview record goes with it."""
    services.erase_interview_record(session, application.id, now=now)
