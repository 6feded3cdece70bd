"""Jobs and signal receivers of portal.volunteers.vetting, connected by portal.wiring."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.cases.signals import allocation_requested
from portal.core import jobs
from portal.volunteers.vetting import queries, services


@jobs.register("volunteers.vetting-reminders")
def send_vetting_reminders(session: Session, *, now: dt.datetime) -> str:
    """Mark expired vetting checks lapsed (telling the volunteer and coordinators, flagging current
    allocations), and send the 60, 30 and 7 day reminders, each once."""
    return str(services.send_vetting_reminders(session, now=now))


@allocation_requested.connect
def refuse_allocation_without_clearance(case, *, session: Session, user_id: int, on: dt.date, **_kwargs) -> str | None:
    """Veto: nobody takes a case on a day they are not cleared to practise."""
    clearance = queries.cleared_to_practise(session, user_id, on)
    return None if clearance.cleared else "; ".join(clearance.reasons)
