"""Jobs and signal receivers of portal.volunteers.references, connected by portal.wiring."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from portal.core import jobs
from portal.volunteers.references import services


@jobs.register("volunteers.reference-chasers")
def chase_references(session: Session, *, now: dt.datetime) -> str:
    """Remind referees who have not replied (twice at most), then tell the coordinator the reference is missing."""
    report = services.chase_references(session, now=now)
    return f"chased {report.chased}, reported missing {report.reported_missing}"
