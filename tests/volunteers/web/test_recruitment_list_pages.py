"""Recruitment pages at more than a page of data: the interview times list (50 a page with GOV.UK
pagination, hostile page numbers), the application queue's shared pagination, and statement counts that
stay the same as slots, bookings, applications, notes and duplicates grow."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from portal.core import clock
from portal.core.accounts import Role, User
from portal.extensions import db
from portal.volunteers import services as application_services
from portal.volunteers.interviews import services as interview_services
from portal.volunteers.models import ApplicationStatus
from tests.statements import page_statements
from tests.volunteers.builders import NOW, make_application
from tests.volunteers.interviews.builders import make_slot

S = ApplicationStatus
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def coordinator(login_as) -> User:
    return login_as(Role.COORDINATOR)


def add_slots(app, count: int, coordinator_id: int, *, booked: bool = True) -> None:
    """`count` slots on successive days from 1 December 2026, each (if `booked`) with a shortlisted
    applicant booked into it."""
    with app.app_context():
        person = db.session.get(User, coordinator_id)
        for _ in range(count):
            slot = make_slot(db.session, coordinator=person, day=_next_day())
            if booked:
                application = make_application(db.session, status=S.SHORTLISTED,
                                               contact_details={"email": f"slot{next(_numbers)}@example.org"})
                interview_services.book_interview(db.session, application.id, slot.id, actor=person, now=NOW)
        db.session.commit()


def slot_rows(html: str) -> int:
    body = html.split('data-list="slots"')[1].split("</table>")[0].split("<tbody")[1]
    return body.count('<tr class="govuk-table__row">')


def test_interview_times_show_fifty_a_page_soonest_first(app, client, coordinator):
    add_slots(app, 53, coordinator.id, booked=False)
    html = client.get("/volunteering/interviews").text
    assert slot_rows(html) == 50 and "53 upcoming interview times, showing 1 to 50" in html
    assert 'href="/volunteering/interviews?page=2"' in html
    assert slot_rows(client.get("/volunteering/interviews?page=2").text) == 3


@pytest.mark.parametrize("page", ["0", "-1", "x", "99999999999999999999", "\x00", "9999"])
def test_a_hostile_page_number_on_interview_times_gives_a_page(app, client, coordinator, page):
    add_slots(app, 51, coordinator.id, booked=False)
    response = client.get("/volunteering/interviews", query_string={"page": page})
    assert response.status_code == 200 and slot_rows(response.text) in (50, 1)


def test_interview_times_run_the_same_statements_at_5_and_15_booked_slots(app, client, coordinator):
    add_slots(app, 5, coordinator.id)
    small, html = page_statements(app, client, "/volunteering/interviews")
    assert html.count("Nobody yet") == 0 and "0 of 1" in html
    add_slots(app, 10, coordinator.id)
    large, _ = page_statements(app, client, "/volunteering/interviews")
    assert large == small and small <= 30


def test_the_queue_uses_numbered_pagination_that_keeps_the_filters(app, client, coordinator):
    with app.app_context():
        for number in range(27):
            make_application(db.session, status=S.SUBMITTED, contact_details={"email": f"q{number}@example.org"})
        db.session.commit()
    html = client.get("/volunteering/applications?status=submitted&page=abc").text
    assert 'href="/volunteering/applications?status=submitted&amp;page=2"' in html
    assert 'aria-current="page"' in html  # the current page is a numbered link
    assert client.get("/volunteering/applications?page=99999999999999999999").status_code == 200


def _next_day() -> dt.date:
    return dt.date(2026, 12, 1) + dt.timedelta(days=next(_numbers))


def _detail_statements(app, client, coordinator_id: int, extra: int) -> int:
    """An interviewed application with `extra` notes, `extra` possible duplicates (same e-mail address),
    and `extra` cancelled bookings before its live one; the page's statement count."""
    with app.app_context():
        person = db.session.get(User, coordinator_id)
        email = f"detail{next(_numbers)}@example.org"
        application = make_application(db.session, status=S.SHORTLISTED, contact_details={"email": email})
        for number in range(extra):
            make_application(db.session, status=S.SUBMITTED, contact_details={"email": email})
            application_services.add_application_note(db.session, application.id, f"Rang them ({number})",
                                                  actor=person, now=NOW)
            slot = make_slot(db.session, coordinator=person, day=_next_day())
            booking = interview_services.book_interview(db.session, application.id, slot.id, actor=person, now=NOW)
            interview_services.cancel_booking(db.session, booking.id, actor=person, now=NOW, reason="Ill")
        slot = make_slot(db.session, coordinator=person, day=_next_day())
        interview_services.book_interview(db.session, application.id, slot.id, actor=person, now=NOW)
        db.session.commit()
        application_id = application.id
    count, html = page_statements(app, client, f"/volunteering/applications/{application_id}")
    assert len(re.findall(r"Rang them \(\d\)", html)) == extra
    return count


def test_an_application_page_runs_the_same_statements_at_2_and_6_notes_duplicates_and_bookings(
        app, client, coordinator):
    small = _detail_statements(app, client, coordinator.id, 2)
    large = _detail_statements(app, client, coordinator.id, 6)
    assert large == small and small <= 30
