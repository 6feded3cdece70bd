"""Every home page runs the same number of SQL statements with 5 or 15 of everything (volunteers, cases
waiting and overdue, allocations under review, expense claims, cohorts, supervision bookings,
applications), and shows counts from aggregate queries that link to their lists."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from portal.cases.models import CaseStatus
from portal.core import clock
from portal.core.accounts import Role, User
from portal.expenses.models import Category, Claim, ClaimLine, ClaimStatus
from portal.extensions import db
from portal.supervision import services as supervision_services
from portal.volunteers.models import ApplicationStatus
from tests.builders import FIXED_NOW
from tests.cases.builders import make_allocation, make_case
from tests.statements import page_statements
from tests.supervision.builders import make_slot
from tests.supervision.builders import make_volunteer as make_supervised_volunteer
from tests.training.builders import enrol, make_cohort
from tests.volunteers.builders import make_application

HOMES = ("/", "/coordinator", "/volunteer", "/trainer", "/applicant")
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: FIXED_NOW)


def grow(app, count: int, person_id: int) -> None:
    """`count` more of everything, much of it the signed-in person's own: volunteers, open cases (overdue
    for first contact) with the person allocated and the allocation flagged for review, expense claims
    (the person's, submitted, queried and draft, and others' approved), cohorts the person trains and is
    enrolled on, supervision slots the person is booked into, and submitted applications."""
    with app.app_context():
        person = db.session.get(User, person_id)
        for _ in range(count):
            number = next(_numbers)
            volunteer = make_supervised_volunteer(db.session, email=f"grown{number}@example.org")
            case = make_case(db.session, status=CaseStatus.TRIAGE)
            allocation = make_allocation(db.session, case, person)
            allocation.review_flagged_at, allocation.review_reason = FIXED_NOW, "Vetting lapsed"
            for status, claimant in ((ClaimStatus.SUBMITTED, person), (ClaimStatus.QUERIED, person),
                                     (ClaimStatus.DRAFT, person), (ClaimStatus.APPROVED, volunteer)):
                claim = Claim(reference=f"EXP-H-{next(_numbers):06d}", claimant_id=claimant.id, status=status,
                              submitted_at=FIXED_NOW)
                claim.lines = [ClaimLine(spent_on=FIXED_NOW.date(), category=Category.PARKING, description="Parking",
                                         amount_pence=300)]
                db.session.add(claim)
            cohort = make_cohort(db.session, trainers=[person], name=f"Cohort {number}",
                                 starts_on=dt.date(2027, 1, 4) + dt.timedelta(weeks=number))
            enrol(db.session, cohort, person)
            slot = make_slot(db.session, day=dt.date(2026, 11, 30) + dt.timedelta(days=number))
            supervision_services.book_slot(db.session, slot.id, user_id=person.id, actor=person, now=FIXED_NOW)
            make_application(db.session, status=ApplicationStatus.SUBMITTED,
                             contact_details={"email": f"applicant{number}@example.org"})
        db.session.commit()


def statements(app, client) -> dict[str, int]:
    return {url: page_statements(app, client, url)[0] for url in HOMES if url != "/"}


def test_every_home_runs_the_same_statements_at_5_and_15_of_everything(app, client, login_as):
    person = login_as(Role.COORDINATOR, Role.VOLUNTEER, Role.TRAINER, Role.APPLICANT)
    grow(app, 5, person.id)
    small = statements(app, client)
    assert client.get("/").status_code == 302  # signed in: on to the most senior role's home
    grow(app, 10, person.id)
    large = statements(app, client)
    assert large == small
    assert max(small.values()) <= 30


def test_the_public_front_page_runs_no_query_that_grows(app, client, login_as):
    count, html = page_statements(app, client, "/")
    assert "Sign in" in html and count <= 2


def test_the_coordinator_home_counts_what_waits_and_links_to_each_list(app, client, login_as):
    person = login_as(Role.COORDINATOR, Role.VOLUNTEER)
    grow(app, 3, person.id)
    html = client.get("/coordinator").text
    assert ('<li data-count="applications"><a class="govuk-link" href="/volunteering/applications?status=submitted">'
            "3 applications waiting for a decision</a></li>") in html
    assert '<a class="govuk-link" href="/expenses/review">3 expense claims to decide</a>' in html
    assert '<a class="govuk-link" href="/expenses/batches">3 approved claims waiting for a payment batch</a>' in html


def test_the_volunteer_home_counts_their_own_claims_that_need_them(app, client, login_as):
    person = login_as(Role.VOLUNTEER, Role.COORDINATOR)
    assert "Your expenses" not in client.get("/volunteer").text  # nothing waiting: no panel
    grow(app, 2, person.id)
    html = client.get("/volunteer").text
    assert '<a class="govuk-link" href="/expenses/">2 expense claims with a question for you</a>' in html
    assert "2 draft expense claims not yet submitted" in html
