"""The supervision cadence list at more than a page of volunteers: due dates worked out in the database
agree with the rules (London dates across the clock changes), 50 rows a page, counts per state, filters
that survive hostile input, and a statement count that stays the same as volunteers are added."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.supervision import cadence, queries, rules
from portal.supervision.models import (
    Attendance,
    SlotKind,
    SlotMode,
    SupervisionBooking,
    SupervisionRecord,
    SupervisionSlot,
)
from portal.volunteers.profiles.models import VolunteerStatus
from tests.statements import page_statements
from tests.supervision.builders import NOW, make_coordinator, make_volunteer

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def add_session(session, volunteer, supervisor, starts_at: dt.datetime, *, attended: bool | None = True,
                next_due_on: dt.date | None = None) -> SupervisionBooking:
    """A slot led by `supervisor` with the volunteer booked; with a record unless `attended` is None."""
    slot = SupervisionSlot(kind=SlotKind.INDIVIDUAL, mode=SlotMode.IN_PERSON, starts_at=starts_at,
                           ends_at=starts_at + dt.timedelta(hours=1), venue="Room 1", supervisor_id=supervisor.id)
    session.add(slot)
    session.flush()
    booking = SupervisionBooking(slot_id=slot.id, user_id=volunteer.id)
    session.add(booking)
    session.flush()
    if attended is not None:
        session.add(SupervisionRecord(
            booking_id=booking.id, user_id=volunteer.id, supervisor_id=supervisor.id,
            held_on=queries.london_day(starts_at), next_due_on=next_due_on,
            attendance=Attendance.ATTENDED if attended else Attendance.DID_NOT_ATTEND))
        session.flush()
    return booking


def test_due_dates_from_the_database_agree_with_the_rules(session):
    coordinator = make_coordinator(session, name="Cara Coordinator")
    # Became active late in the evening: the London day is the next day in summer, the same in winter.
    moments = [
        dt.datetime(2026, 7, 1, 23, 30, tzinfo=UTC), dt.datetime(2026, 1, 10, 23, 30, tzinfo=UTC),
        dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC), dt.datetime(2026, 3, 29, 23, 1, tzinfo=UTC),
        dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC), dt.datetime(2026, 10, 25, 23, 30, tzinfo=UTC),
        dt.datetime(2026, 8, 30, 10, 0, tzinfo=UTC), dt.datetime(2026, 9, 14, 23, 0, tzinfo=UTC),
    ]
    for number, moment in enumerate(moments):
        make_volunteer(session, name=f"Active {number}", active_since=moment)
    with_record = make_volunteer(session, name="Recorded", active_since=dt.datetime(2025, 1, 1, tzinfo=UTC))
    add_session(session, with_record, coordinator, dt.datetime(2026, 9, 1, 9, tzinfo=UTC))
    set_date = make_volunteer(session, name="Set date", active_since=dt.datetime(2025, 1, 1, tzinfo=UTC))
    add_session(session, set_date, coordinator, dt.datetime(2026, 6, 1, 9, tzinfo=UTC),
                next_due_on=dt.date(2026, 12, 1))
    add_session(session, set_date, coordinator, dt.datetime(2026, 5, 1, 9, tzinfo=UTC))  # older: ignored
    missed = make_volunteer(session, name="Missed", active_since=dt.datetime(2026, 8, 1, tzinfo=UTC))
    add_session(session, missed, coordinator, dt.datetime(2026, 11, 2, 9, tzinfo=UTC), attended=False)
    booked = make_volunteer(session, name="Booked", active_since=dt.datetime(2026, 9, 1, tzinfo=UTC))
    add_session(session, booked, coordinator, dt.datetime(2026, 12, 2, 9, tzinfo=UTC), attended=None)
    make_volunteer(session, name="Paused", status=VolunteerStatus.PAUSED)

    expected = queries.list_supervision_due(session, now=NOW)
    found = cadence.supervision_due_page(session, now=NOW, filters=cadence.CadenceFilter(), page=1, per_page=50)

    assert [(r.name, r.due_on, r.state, r.last_held_on, r.next_booked_at) for r in found.page.rows] == [
        (r.name, r.due_on, r.state, r.last_held_on, r.next_booked_at) for r in expected]
    assert len(expected) == len(moments) + 4
    assert found.counts.total == len(expected)
    assert found.counts.overdue == sum(1 for r in expected if r.state is rules.DueState.OVERDUE)
    assert found.counts.due_soon == sum(1 for r in expected if r.state is rules.DueState.DUE_SOON) > 0


def add_volunteers(app, start: int, count: int) -> None:
    """Volunteers in every state: overdue (never supervised), due soon (booked in), in date (recently
    supervised by Sam Supervisor)."""
    with app.app_context():
        supervisor = make_coordinator(db.session, name=f"Sam Supervisor {start}")
        for number in range(start, start + count):
            kind = number % 3
            since = NOW - dt.timedelta(weeks=(20, 11, 30)[kind])
            volunteer = make_volunteer(db.session, name=f"Volunteer {number:03d}",
                                       email=f"volunteer{number:03d}@example.org", active_since=since)
            if kind == 1:
                add_session(db.session, volunteer, supervisor, NOW + dt.timedelta(days=3), attended=None)
            if kind == 2:
                add_session(db.session, volunteer, supervisor, NOW - dt.timedelta(weeks=2))
        db.session.commit()


def names_in(html: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'href="/supervision/volunteers/\d+">([^<]+)</a>', html)]


def test_the_statement_count_does_not_grow_with_the_number_of_volunteers(app, client, login_as):
    add_volunteers(app, 0, 5)
    login_as(Role.COORDINATOR)
    urls = ["/supervision/cadence", "/supervision/cadence?state=overdue&booked=no&search=vol",
            "/supervision/cadence?state=in_date&page=2"]
    small = [page_statements(app, client, url)[0] for url in urls]
    add_volunteers(app, 5, 10)
    large = [page_statements(app, client, url) for url in urls]
    assert [count for count, _html in large] == small
    assert max(small) <= 8
    assert len(names_in(large[0][1])) == 15


def test_fifty_a_page_earliest_due_first_with_counts_per_state(app, client, login_as):
    add_volunteers(app, 0, 150)
    login_as(Role.COORDINATOR)
    first = client.get("/supervision/cadence").text
    assert "Showing 1 to 50 of 150, page 1 of 3." in first
    assert len(names_in(first)) == 50
    assert 'data-table="overdue"' in first and 'data-table="due_soon"' not in first
    assert "All active volunteers (150)" in first and "Overdue (50)" in first
    assert "Due in the next 14 days (50)" in first and "In date (50)" in first
    second = client.get("/supervision/cadence?page=2").text
    assert 'data-table="due_soon"' in second and 'data-table="overdue"' not in second
    assert 'href="/supervision/cadence?page=3" rel="next"' in second

    soon = client.get("/supervision/cadence?state=due_soon").text
    assert names_in(soon) == sorted(f"Volunteer {n:03d}" for n in range(150) if n % 3 == 1)[:50]
    assert '<td class="govuk-table__cell">Not booked</td>' not in soon
    assert 'aria-current="page">Due in the next 14 days (50)' in soon


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "4", "３", "1e3", "\x00"])
def test_a_page_number_that_is_no_page_shows_the_first_or_last_page(app, client, login_as, page):
    add_volunteers(app, 0, 60)
    login_as(Role.COORDINATOR)
    response = client.get("/supervision/cadence", query_string={"page": page})
    assert response.status_code == 200
    names = names_in(response.text)
    assert len(names) == (10 if page == "4" else 50)


def test_the_filters_narrow_the_list_and_the_counts(app, client, login_as):
    add_volunteers(app, 0, 9)
    add_volunteers(app, 9, 3)
    login_as(Role.COORDINATOR)
    with app.app_context():
        first_supervisor = queries.list_possible_supervisors(db.session)[0]
        assert first_supervisor.name == "Sam Supervisor 0"
        supervisor_id = first_supervisor.id
    theirs = client.get(f"/supervision/cadence?supervisor={supervisor_id}").text
    # Sam leads the due-soon volunteers' next sessions and led the in-date ones' last.
    assert names_in(theirs) == [f"Volunteer {n:03d}" for n in (1, 4, 7, 2, 5, 8)]
    assert "Overdue (0)" in theirs and "All active volunteers (6)" in theirs
    not_booked = client.get("/supervision/cadence?booked=no&state=overdue").text
    assert names_in(not_booked) == [f"Volunteer {n:03d}" for n in (0, 3, 6, 9)]
    booked = client.get("/supervision/cadence?booked=yes").text
    assert names_in(booked) == [f"Volunteer {n:03d}" for n in (1, 4, 7, 10)]
    by_email = client.get("/supervision/cadence", query_string={"search": "  VOLUNTEER011@ "}).text
    assert names_in(by_email) == ["Volunteer 011"] and "All active volunteers (1)" in by_email
    assert 'href="/supervision/cadence?search=VOLUNTEER011@"' in by_email  # the states' links keep the search


@pytest.mark.parametrize("query, shown", [
    ({"state": "late"}, 6), ({"state": "\x00"}, 6), ({"supervisor": "99999999999999999999"}, 6),
    ({"supervisor": "abc"}, 6), ({"booked": "maybe"}, 6), ({"search": "100%"}, 0), ({"search": "_"}, 0),
    ({"search": "x" * 10_000}, 6), ({"search": "<script>alert(1)</script>"}, 0), ({"search": "Vol\x00unteer"}, 6),
])
def test_hostile_filter_values_are_ignored_or_explained_never_a_failure(app, client, login_as, query, shown):
    add_volunteers(app, 0, 6)
    login_as(Role.COORDINATOR)
    response = client.get("/supervision/cadence", query_string=query)
    assert response.status_code == 200
    assert len(names_in(response.text)) == shown
    assert "<script>alert(1)</script>" not in response.text
    if query.get("search", "").startswith("xxx"):
        assert "The search must be 100 characters or fewer" in response.text
