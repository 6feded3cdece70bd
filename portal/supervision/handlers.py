"""Jobs and signal receivers of portal.supervision, connected by portal.wiring."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.cases.models import CaseSession
from portal.cases.signals import allocation_requested, case_session_logged
from portal.core import calendar, jobs
from portal.core.accounts import User
from portal.supervision import queries, services


@jobs.register("supervision.reminders")
def send_supervision_reminders(session: Session, *, now: dt.datetime) -> str:
    """Remind volunteers 48 and 2 hours before each session, and when their supervision is due soon or
    overdue (each reminder once)."""
    sessions = services.send_session_reminders(session, now=now)
    due = services.send_due_reminders(session, now=now)
    return f"reminded {sessions} sessions, {due} due or overdue"


@calendar.feed_events_requested.connect
def supervision_feed_events(user: User, *, session: Session, now: dt.datetime) -> list[calendar.CalendarEvent]:
    """Volunteers see their supervision bookings, supervisors the sessions they lead."""
    return services.feed_events_for(session, user, now=now)


@allocation_requested.connect
def refuse_allocation_when_supervision_overdue(
    case, *, session: Session, user_id: int, on: dt.date, **_kwargs
) -> str | None:
    """Veto: a volunteer overdue for supervision takes no new case, when the setting
    `supervision.overdue_blocks_allocation` says block (by default it only warns on the cadence list)."""
    return queries.allocation_refusal(session, user_id, on)


@case_session_logged.connect
def prompt_debriefs_by_email(
    case_session: CaseSession, *, session: Session, actor: User | None, now: dt.datetime, **_kwargs
) -> None:
    """After a case session is logged, e-mail its facilitators a prompt to book a debrief (once each)."""
    services.prompt_debriefs(session, case_session.id, actor=actor, now=now)
