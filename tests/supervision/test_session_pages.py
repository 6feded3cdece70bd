"""Supervision sessions at more than a page: bookable sessions worked out in the database agree with the
rules, lists 50 a page, people chosen by a search (no select of every volunteer), and statement counts
that stay the same as sessions, bookings and volunteers are added."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role, User
from portal.extensions import db
from portal.supervision import queries
from portal.supervision.models import (
    Attendance,
    BookingStatus,
    SlotKind,
    SlotMode,
    SlotStatus,
    SupervisionBooking,
    SupervisionRecord,
    SupervisionSlot,
    Supervisor,
)
from tests.statements import page_statements
from tests.supervision.builders import NOW, make_coordinator, make_volunteer

HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    monkeypatch.setattr(clock, "today", lambda: NOW.date())


def add_slot(session, supervisor_id: int, starts_at: dt.datetime, *, capacity: int = 1, notice_hours: int = 24,
             booked: list[int] = (), status: SlotStatus = SlotStatus.OPEN, recorded: bool = False) -> SupervisionSlot:
    slot = SupervisionSlot(kind=SlotKind.GROUP if capacity > 1 else SlotKind.INDIVIDUAL, mode=SlotMode.IN_PERSON,
                           starts_at=starts_at, ends_at=starts_at + HOUR, capacity=capacity, venue="Room 1",
                           supervisor_id=supervisor_id, minimum_notice_hours=notice_hours, status=status)
    session.add(slot)
    session.flush()
    for user_id in booked:
        booking = SupervisionBooking(slot_id=slot.id, user_id=user_id)
        session.add(booking)
        session.flush()
        if recorded:
            session.add(SupervisionRecord(booking_id=booking.id, user_id=user_id, supervisor_id=supervisor_id,
                                          held_on=queries.london_day(starts_at), attendance=Attendance.ATTENDED))
    session.flush()
    return slot


def test_bookable_sessions_from_the_database_agree_with_the_rules(session):
    coordinator = make_coordinator(session)
    me = make_volunteer(session)
    others = [make_volunteer(session).id for _ in range(3)]
    add_slot(session, coordinator.id, NOW + 24 * HOUR, notice_hours=24)                     # notice exactly kept
    add_slot(session, coordinator.id, NOW + 24 * HOUR - dt.timedelta(seconds=1), notice_hours=24)  # too late
    add_slot(session, coordinator.id, NOW + 2 * HOUR, notice_hours=1)
    add_slot(session, coordinator.id, NOW + 2 * HOUR, notice_hours=3)
    add_slot(session, coordinator.id, NOW + 30 * HOUR, notice_hours=0)
    add_slot(session, coordinator.id, NOW + 100 * HOUR, capacity=3, booked=others[:2])      # one place left
    add_slot(session, coordinator.id, NOW + 101 * HOUR, capacity=2, booked=others[:2])      # full
    add_slot(session, coordinator.id, NOW + 102 * HOUR, booked=[me.id])                     # mine already
    add_slot(session, me.id, NOW + 103 * HOUR)                                              # I lead it
    add_slot(session, coordinator.id, NOW + 104 * HOUR, status=SlotStatus.CANCELLED)
    add_slot(session, coordinator.id, NOW - 2 * HOUR)                                       # past
    cancelled = add_slot(session, coordinator.id, NOW + 105 * HOUR, booked=[others[2]])     # place freed again
    session.scalar(select(SupervisionBooking).where(SupervisionBooking.slot_id == cancelled.id)).status = \
        BookingStatus.CANCELLED
    session.flush()
    session.expire_all()

    expected = [slot.id for slot in queries.list_bookable_slots(session, now=NOW, user_id=me.id)]
    found = queries.bookable_slots_page(session, now=NOW, user_id=me.id, page=1, per_page=50)
    assert [slot.id for slot in found.rows] == expected and found.window.total == len(expected) == 5
    anyone = queries.bookable_slots_page(session, now=NOW, user_id=None, page=1, per_page=50)
    assert [slot.id for slot in anyone.rows] == [s.id for s in queries.list_bookable_slots(session, now=NOW)]


def add_sessions(app, start: int, count: int) -> dict:
    """Per number: a volunteer, an upcoming session they are booked on, an open one, and a session of last
    week they attended (recorded)."""
    with app.app_context():
        coordinator = db.session.scalar(select(User).where(User.email == "cara@example.org")) or \
            make_coordinator(db.session, name="Cara Coordinator", email="cara@example.org")
        for number in range(start, start + count):
            volunteer = make_volunteer(db.session, name=f"Volunteer {number:03d}",
                                       email=f"volunteer{number:03d}@example.org")
            add_slot(db.session, coordinator.id, NOW + dt.timedelta(days=3, hours=number), booked=[volunteer.id])
            add_slot(db.session, coordinator.id, NOW + dt.timedelta(days=4, hours=number), capacity=4)
            add_slot(db.session, coordinator.id, NOW - dt.timedelta(days=7, hours=number), booked=[volunteer.id],
                     recorded=True)
        db.session.commit()
        return {"coordinator": coordinator.id}


def test_the_coordinators_pages_run_the_same_statements_however_many_sessions(app, client, login_as):
    login_as(Role.COORDINATOR)
    add_sessions(app, 0, 5)
    with app.app_context():
        slot_id = db.session.scalar(select(SupervisionSlot.id).order_by(SupervisionSlot.starts_at.desc()))
        volunteer_id = db.session.scalar(select(User.id).where(User.name == "Volunteer 000"))
        record_id = db.session.scalar(select(SupervisionRecord.id).where(SupervisionRecord.user_id == volunteer_id))
    urls = ["/supervision/manage", "/supervision/manage?view=recent", f"/supervision/volunteers/{volunteer_id}",
            f"/supervision/records/{record_id}", f"/supervision/manage/slots/{slot_id}/book-for?q=volunteer",
            "/supervision/supervisors?q=volunteer"]
    small = [page_statements(app, client, url)[0] for url in urls]
    add_sessions(app, 5, 10)
    large = [page_statements(app, client, url) for url in urls]
    assert dict(zip(urls, [count for count, _html in large], strict=True)) == dict(zip(urls, small, strict=True))
    assert max(small) <= 30
    assert "Upcoming sessions (30)" in large[0][1] and "Sessions in the last four weeks (15)" in large[0][1]


def test_a_volunteers_pages_run_the_same_statements_however_many_sessions(app, client, login_as):
    me = login_as(Role.VOLUNTEER)
    with app.app_context():
        db.session.add(queries.Volunteer(user_id=me.id, status=queries.VolunteerStatus.ACTIVE,
                                         status_changed_at=NOW - dt.timedelta(weeks=4)))
        db.session.commit()
    world = add_sessions(app, 0, 5)
    with app.app_context():
        for number in range(3):
            add_slot(db.session, world["coordinator"], NOW + dt.timedelta(days=2, hours=number), booked=[me.id])
            add_slot(db.session, world["coordinator"], NOW - dt.timedelta(days=9, hours=number), booked=[me.id],
                     recorded=True)
        db.session.commit()
        booking_id = db.session.scalar(select(SupervisionBooking.id).where(SupervisionBooking.user_id == me.id))
    urls = ["/supervision/", "/supervision/slots", f"/supervision/bookings/{booking_id}/move",
            "/supervision/slots/week"]
    small = [page_statements(app, client, url)[0] for url in urls]
    add_sessions(app, 5, 10)
    large = [page_statements(app, client, url)[0] for url in urls]
    assert large == small and max(small) <= 30


def slot_rows(html: str) -> int:
    return len(re.findall(r'href="/supervision/slots/\d+/book', html))


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "3", "３", "\x00"])
def test_bookable_sessions_show_fifty_a_page(app, client, login_as, page):
    login_as(Role.VOLUNTEER)
    add_sessions(app, 0, 40)  # 40 open group sessions and 40 individual ones others hold
    first = client.get("/supervision/slots?purpose=debrief").text
    assert slot_rows(first) == 40
    with app.app_context():
        coordinator = db.session.scalar(select(User.id).where(User.email == "cara@example.org"))
        for number in range(20):
            add_slot(db.session, coordinator, NOW + dt.timedelta(days=10, hours=number))
        db.session.commit()
    first = client.get("/supervision/slots?purpose=debrief").text
    assert slot_rows(first) == 50 and "Showing 1 to 50 of 60, page 1 of 2." in first
    assert 'href="/supervision/slots?purpose=debrief&amp;page=2" rel="next"' in first
    response = client.get("/supervision/slots", query_string={"page": page, "purpose": "<b>"})
    assert response.status_code == 200
    assert slot_rows(response.get_data(as_text=True)) == (10 if page == "3" else 50)
    assert "purpose=%3Cb%3E" not in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Choosing a person by a search


@pytest.fixture
def crowd(app):
    with app.app_context():
        for number in range(30):
            make_volunteer(db.session, name=f"Sam Smith {number:02d}", email=f"sam{number:02d}@example.org")
        make_volunteer(db.session, name="Zoë Ní Bhriain", email="zoe@example.org")
        gone = make_volunteer(db.session, name="Gone Person", email="gone@example.org")
        gone.is_deactivated = True
        db.session.commit()


def radios(html: str) -> int:
    return html.count('name="user_id"')


def test_a_coordinator_names_a_supervisor_found_by_a_search(app, client, login_as, crowd):
    login_as(Role.COORDINATOR)
    page = client.get("/supervision/supervisors").text
    assert "Sam Smith" not in page and "<select" not in page.split("Name a supervisor")[1]
    many = client.get("/supervision/supervisors", query_string={"q": "smith"}).text
    assert radios(many) == 20 and "data-more-matches" in many
    found = client.get("/supervision/supervisors", query_string={"q": "zoë"}).text
    assert radios(found) == 1 and "Zoë Ní Bhriain (zoe@example.org)" in found
    assert "data-no-matches" in client.get("/supervision/supervisors", query_string={"q": "gone"}).text
    with app.app_context():
        zoe = db.session.scalar(select(User.id).where(User.email == "zoe@example.org"))
    named = client.post("/supervision/supervisors?q=zo%C3%AB", data={"user_id": str(zoe), "q": "zoë"})
    assert named.status_code == 302
    assert "Zoë Ní Bhriain can now publish supervision" in client.get(named.location).text
    assert "data-no-matches" in client.get("/supervision/supervisors", query_string={"q": "zoë"}).text
    with app.app_context():
        assert db.session.scalar(select(Supervisor.user_id).where(Supervisor.ended_at.is_(None))) == zoe


def test_a_supervisor_books_in_a_volunteer_found_by_a_search(app, client, login_as, crowd):
    coordinator = login_as(Role.COORDINATOR)
    with app.app_context():
        slot = add_slot(db.session, coordinator.id, NOW + 3 * HOUR)
        db.session.commit()
        slot_id = slot.id
        sam = db.session.scalar(select(User.id).where(User.email == "sam07@example.org"))
    url = f"/supervision/manage/slots/{slot_id}/book-for"
    assert "Sam Smith" not in client.get(url).text
    found = client.get(url, query_string={"q": "SAM07@"}).text
    assert radios(found) == 1 and "Sam Smith 07 (sam07@example.org)" in found
    missing = client.post(url, data={"user_id": "", "purpose": "debrief", "q": "sam07@"})
    assert missing.status_code == 400 and "Select the volunteer to book in" in missing.text
    assert radios(missing.text) == 1  # the search is shown again
    booked = client.post(url, data={"user_id": str(sam), "purpose": "debrief", "q": "sam07@"})
    assert booked.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(SupervisionBooking.user_id).where(SupervisionBooking.slot_id == slot_id)) == sam


@pytest.mark.parametrize("search, offered", [
    ("%", 0), ("_", 0), ("\x00", 0), ("Sam\x00 Smith 01", 1), ("<script>alert(1)</script>", 0),
    ("x" * 10_000, 0), ("Ǆ\u202e\U0001F600", 0),
])
def test_the_people_search_is_plain_text_whatever_is_typed(app, client, login_as, crowd, search, offered):
    login_as(Role.COORDINATOR)
    response = client.get("/supervision/supervisors", query_string={"q": search})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert radios(html) == offered and "<script>alert(1)</script>" not in html
    if len(search) > 100:
        assert "The search must be 100 characters or fewer" in html


@pytest.mark.parametrize("user_id", ["abc", "99999999999999999999", "-1", "0"])
def test_naming_someone_who_is_not_there_is_explained_never_a_failure(app, client, login_as, crowd, user_id):
    login_as(Role.COORDINATOR)
    response = client.post("/supervision/supervisors", data={"user_id": user_id, "q": "sam"})
    assert response.status_code in (400, 404)
    with app.app_context():
        assert db.session.scalar(select(Supervisor.id)) is None
