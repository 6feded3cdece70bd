"""The volunteers module's periodic jobs, run by `flask jobs run`."""

import datetime as dt

from sqlalchemy.orm import Session

from portal.core import jobs
from portal.volunteers import services


@jobs.register("volunteers.draft-reminders")
def remind_stale_drafts(session: Session, *, now: dt.datetime) -> str:
    """E-mail applicants whose draft has not been touched for 30 days (once per draft)."""
    return f"reminded {services.remind_stale_drafts(session, now=now)}"


@jobs.register("volunteers.delete-expired-drafts")
def delete_expired_drafts(session: Session, *, now: dt.datetime) -> str:
    """Delete drafts left longer than the retention setting, with their referees and answers."""
    return f"deleted {services.delete_expired_drafts(session, now=now)}"


@jobs.register("volunteers.anonymise-closed-applications")
def anonymise_closed_applications(session: Session, *, now: dt.datetime) -> str:
    """Erase personal data of applications rejected or withdrawn longer ago than the retention setting."""
    return f"anonymised {services.anonymise_closed_applications(session, now=now)}"
