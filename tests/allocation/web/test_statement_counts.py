"""The allocation pages run a fixed number of SQL statements whatever the number of volunteers,
waiting cases, offers, away dates and conflicts."""

from __future__ import annotations

import datetime as dt

from portal.allocation.models import AllocationOffer
from portal.cases.models import AllocationRole
from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.volunteers.profiles.models import ConflictKind, ConflictOfInterest, VolunteerAbsence
from tests.allocation.builders import make_facilitator, make_waiting_case
from tests.builders import PASSWORD
from tests.statements import page_statements


def statements(app, client, url: str) -> int:
    return page_statements(app, client, url)[0]


def add_world(app, *, volunteers: int, cases: int) -> int:
    """More facilitators (each with away dates and a conflict) and more waiting cases, each of
    which gets an offer; returns the first case's id."""
    with app.app_context():
        first = None
        people = [make_facilitator(db.session, max_cases=10) for _ in range(volunteers)]
        for person in people:
            db.session.add(VolunteerAbsence(volunteer_id=person.id, starts_on=dt.date(2027, 3, 1),
                                            ends_on=dt.date(2027, 3, 5)))
            db.session.add(ConflictOfInterest(volunteer_id=person.id, kind=ConflictKind.PLACE, name="Ramsgate"))
        for number in range(cases):
            case = make_waiting_case(db.session)
            first = first or case.id
            db.session.add(AllocationOffer(
                case_id=case.id, user_id=people[number % len(people)].user_id, role=AllocationRole.LEAD,
                respond_by=clock.now() + dt.timedelta(days=3),
            ))
        db.session.commit()
        return first


def test_the_coordinators_pages_run_the_same_statements_for_few_or_many(app, client, login_as):
    case_id = add_world(app, volunteers=3, cases=2)
    login_as(Role.COORDINATOR)
    pages = ["/allocation/", f"/allocation/cases/{case_id}", f"/allocation/cases/{case_id}?q=test"]
    few = [statements(app, client, url) for url in pages]

    add_world(app, volunteers=25, cases=12)
    many = [statements(app, client, url) for url in pages]

    assert many == few


def test_a_volunteers_offers_and_availability_pages_run_the_same_statements_for_few_or_many(app, client):
    with app.app_context():
        me = make_facilitator(db.session)
        db.session.commit()
        user_id, volunteer_id, email = me.user_id, me.id, me.user.email
    signed_in = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 302
    grown = 0

    def grow(count: int) -> None:
        nonlocal grown
        with app.app_context():
            for number in range(grown, grown + count):
                case = make_waiting_case(db.session)
                db.session.add(AllocationOffer(case_id=case.id, user_id=user_id, role=AllocationRole.LEAD,
                                               respond_by=clock.now() + dt.timedelta(days=3)))
                start = dt.date(2027, 1, 1) + dt.timedelta(days=10 * number)
                db.session.add(VolunteerAbsence(volunteer_id=volunteer_id, starts_on=start,
                                                ends_on=start + dt.timedelta(days=2)))
                db.session.add(ConflictOfInterest(volunteer_id=volunteer_id, kind=ConflictKind.PERSON,
                                                  name=f"Person {number}"))
            db.session.commit()
        grown += count

    pages = ["/allocation/offers", "/volunteering/my-availability"]
    grow(1)
    few = [statements(app, client, url) for url in pages]
    grow(6)
    many = [statements(app, client, url) for url in pages]

    assert many == few
