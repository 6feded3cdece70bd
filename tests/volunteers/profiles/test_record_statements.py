"""The coordinators' volunteer record page (with its availability section, away dates and audited
conflicts of interest) runs a fixed number of SQL statements however many of them there are, and
keeps its audit entry."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.volunteers.profiles.models import ConflictKind, ConflictOfInterest, VolunteerAbsence
from tests.allocation.builders import make_facilitator
from tests.statements import page_statements


def test_the_record_page_statements_do_not_grow_with_away_dates_and_conflicts(app, client, login_as):
    with app.app_context():
        volunteer = make_facilitator(db.session, name="Rhiannon Price")
        db.session.commit()
        volunteer_id = volunteer.id

    def grow(start: int, count: int) -> None:
        with app.app_context():
            for number in range(start, start + count):
                first = dt.date(2027, 2, 1) + dt.timedelta(days=10 * number)
                db.session.add(VolunteerAbsence(volunteer_id=volunteer_id, starts_on=first,
                                                ends_on=first + dt.timedelta(days=3)))
                db.session.add(ConflictOfInterest(volunteer_id=volunteer_id, kind=ConflictKind.PERSON,
                                                  name=f"Neighbour {number}"))
            db.session.commit()

    login_as(Role.COORDINATOR)
    url = f"/volunteering/volunteers/{volunteer_id}"
    grow(0, 1)
    few, _ = page_statements(app, client, url)
    grow(1, 6)
    many, page = page_statements(app, client, url)

    assert many == few
    assert "Neighbour 6" in page
    with app.app_context():
        viewed = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.action == "volunteers.conflicts_viewed"))
    assert viewed == 2
