"""Role home pages show what needs doing today: overdue first contacts, a volunteer's own cases."""

import pytest

from portal.cases import services
from portal.cases.models import CaseStatus
from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from tests.builders import make_user
from tests.cases.builders import NOW, make_allocation, make_case, make_coordinator


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """Pages read the clock; pin it to the case builders' date so 'overdue' is well defined."""
    monkeypatch.setattr(clock, "now", lambda: NOW)


def test_coordinator_home_lists_cases_overdue_for_first_contact(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        coordinator = make_coordinator(db.session)
        late = make_case(db.session, status=CaseStatus.CONTACTING, actor=coordinator,
                         received_on=NOW.date().replace(day=1))
        reference = late.reference
        db.session.commit()
    page = client.get("/coordinator").text
    assert "First contact overdue" in page and reference in page


def test_volunteer_home_lists_their_own_cases_only(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        coordinator = make_coordinator(db.session)
        mine = make_case(db.session, status=CaseStatus.ALLOCATED, actor=coordinator)
        make_allocation(db.session, mine, db.session.get(type(volunteer), volunteer.id))
        someone_elses = make_case(db.session, status=CaseStatus.ALLOCATED, actor=coordinator)
        make_allocation(db.session, someone_elses, make_user(db.session))
        mine_ref, other_ref = mine.reference, someone_elses.reference
        db.session.commit()
    page = client.get("/volunteer").text
    assert mine_ref in page and other_ref not in page


def test_coordinator_home_lists_allocations_flagged_for_review(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        coordinator = make_coordinator(db.session)
        case = make_case(db.session, status=CaseStatus.ALLOCATED, actor=coordinator)
        facilitator = make_user(db.session, name="Declan O'Sullivan")
        make_allocation(db.session, case, facilitator)
        services.flag_allocations_for_review(db.session, facilitator.id, "police vetting lapsed on 1 November 2026",
                                             actor=None, now=NOW)
        reference = case.reference
        db.session.commit()
    page = client.get("/coordinator").text
    assert "Allocations to review" in page and reference in page
    assert "police vetting lapsed on 1 November 2026" in page
