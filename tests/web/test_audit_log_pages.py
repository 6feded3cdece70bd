"""The audit log at more than a page: newest first, paged by keyset ("Newer" / "Older" links carrying an
entry's id, no total), filters kept in those links, hostile cursors ignored, and the same number of
SQL statements however long the log is (the person page's recent entries too)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest

from portal.core import audit, clock
from portal.core.accounts import Role
from portal.core.audit import AuditFilter
from portal.extensions import db
from tests.builders import FIXED_NOW, PASSWORD, make_user
from tests.statements import page_statements

PAGE_SIZE = 5
START = FIXED_NOW - dt.timedelta(days=30)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: FIXED_NOW)


@pytest.fixture
def small_pages(make_app):
    return make_app(AUDIT_PAGE_SIZE=PAGE_SIZE)


def add_views(app, case_ids, *, at=lambda number: START + dt.timedelta(hours=number), action="case.viewed",
              actor_email=None) -> None:
    """One `action` entry per case id, the n-th at `at(n)` (so later ids are newer unless `at` says not)."""
    with app.app_context():
        actor = None
        if actor_email:
            actor = make_user(db.session, email=actor_email)
        for number, case_id in enumerate(case_ids):
            audit.record(db.session, actor, action, ("cases", case_id), at=at(number))
        db.session.commit()


def case_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<td class="govuk-table__cell">cases (\d+)</td>', html)]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return unescape(found.group(1)) if found else None


def signed_in_admin(app):
    client = app.test_client()
    with app.app_context():
        make_user(db.session, roles=[Role.ADMIN], email="admin@example.org")
        db.session.commit()
    assert client.post("/sign-in", data={"email": "admin@example.org", "password": PASSWORD}).status_code == 302
    return client


def test_older_links_walk_every_entry_once_while_new_entries_arrive(small_pages):
    client = signed_in_admin(small_pages)
    # Two entries share each moment, so the order has to fall back on the id.
    add_views(small_pages, range(1, 24), at=lambda number: START + dt.timedelta(hours=number // 2))
    page = client.get("/admin/audit?subject_type=cases")
    seen = case_ids(page.text)
    assert seen == [23, 22, 21, 20, 19] and link(page.text, "prev") is None
    arrivals = iter(range(100, 200))
    while older := link(page.text, "next"):
        # Someone works on while the admin reads: newer entries must not shift the older pages.
        moment = FIXED_NOW + dt.timedelta(minutes=len(seen))
        add_views(small_pages, [next(arrivals), next(arrivals)],
                  at=lambda number, moment=moment: moment + dt.timedelta(minutes=number))
        page = client.get(older)
        assert page.status_code == 200 and link(page.text, "prev")
        seen += case_ids(page.text)
    assert seen == list(range(23, 0, -1))  # no repeats, no gaps, newest first


def test_newer_links_walk_back_to_the_newest_page(small_pages):
    client = signed_in_admin(small_pages)
    add_views(small_pages, range(1, 18))
    page = client.get("/admin/audit?subject_type=cases")
    for _ in range(3):
        page = client.get(link(page.text, "next"))
    assert case_ids(page.text) == [2, 1] and link(page.text, "next") is None
    newer = client.get(link(page.text, "prev"))
    assert case_ids(newer.text) == [7, 6, 5, 4, 3]
    back = client.get(link(newer.text, "prev"))
    assert case_ids(back.text) == [12, 11, 10, 9, 8]
    # Fewer than a page newer than this: the newest page, full, with no "Newer" link.
    top = client.get(link(back.text, "prev"))
    assert case_ids(top.text) == [17, 16, 15, 14, 13] and link(top.text, "prev") is None


def test_filters_stay_in_the_cursor_links_and_narrow_every_page(small_pages):
    client = signed_in_admin(small_pages)
    add_views(small_pages, range(1, 31), actor_email="ada@example.org")
    add_views(small_pages, range(1, 31), action="case.closed", actor_email="bob@example.org")
    # Cases 1 to 30 were viewed (and closed) hour by hour from START at 10:00: the next day holds 15 to 30.
    day = START.date() + dt.timedelta(days=1)
    dates = (f"from_date={day.day}&from_date={day.month}&from_date={day.year}"
             f"&to_date={day.day}&to_date={day.month}&to_date={day.year}")
    page = client.get(f"/admin/audit?action=case.viewed&actor=ada@&{dates}")
    seen = case_ids(page.text)
    while older := link(page.text, "next"):
        for part in ("action=case.viewed", "actor=ada", f"from_date={day.day}", f"from_date={day.month}",
                     f"from_date={day.year}", f"to_date={day.year}"):
            assert part in older
        page = client.get(older)
        assert "action=case.viewed" in link(page.text, "prev")
        assert "case.closed" not in page.text.split("<tbody")[1]
        seen += case_ids(page.text)
    assert seen == list(range(30, 14, -1))
    by_object = client.get("/admin/audit?subject_type=cases&subject_id=7&action=case.closed")
    assert case_ids(by_object.text) == [7] and "bob@example.org" in by_object.text


@pytest.mark.parametrize("cursor", [
    "before=abc", "before=9223372036854775808", "before=-5", "before=0", "before=99999999",
    "after=2147483648", "after=%00", "before=%EF%BC%93", "after=1e3", "before=&after=",
    "before=x&before=1",
])
def test_hostile_or_unknown_cursors_give_the_newest_page(small_pages, cursor):
    client = signed_in_admin(small_pages)
    add_views(small_pages, range(1, 9))
    response = client.get(f"/admin/audit?subject_type=cases&{cursor}")
    assert response.status_code == 200
    assert case_ids(response.text) == [8, 7, 6, 5, 4] and link(response.text, "prev") is None


def test_an_unknown_action_is_a_clear_message_not_a_failure(small_pages):
    client = signed_in_admin(small_pages)
    add_views(small_pages, range(1, 3))
    response = client.get("/admin/audit?action=drop+table")
    assert response.status_code == 200 and "There is a problem" in response.text
    assert "Not a valid choice" in response.text
    assert '<option value="case.viewed">' in response.text  # the fixed list, not read from the log


def test_slices_are_newest_first_by_time_then_id_whatever_order_they_were_written(session):
    late, early = FIXED_NOW, FIXED_NOW - dt.timedelta(days=1)
    for number, at in enumerate([late, early, late, early, late], start=1):
        audit.record(session, None, "case.viewed", ("cases", number), at=at)
    session.commit()
    first = audit.list_slice(session, AuditFilter(), per_page=2)
    assert [entry.subject_id for entry in first.entries] == [5, 3] and first.newer is None
    second = audit.list_slice(session, AuditFilter(), before=first.older, per_page=2)
    assert [entry.subject_id for entry in second.entries] == [1, 4]
    last = audit.list_slice(session, AuditFilter(), before=second.older, per_page=2)
    assert [entry.subject_id for entry in last.entries] == [2] and last.older is None
    again = audit.list_slice(session, AuditFilter(), after=last.newer, per_page=2)
    assert [entry.subject_id for entry in again.entries] == [1, 4]


def add_people_and_history(app, start: int, count: int) -> int:
    """`count` people, each with a role change and views of a case by them; returns the last one's id."""
    with app.app_context():
        admin = make_user(db.session, roles=[Role.ADMIN], email=f"second-admin{start}@example.org")
        person = None
        for number in range(start, start + count):
            person = make_user(db.session, roles=[Role.VOLUNTEER, Role.TRAINER], email=f"p{number}@example.org")
            audit.record(db.session, admin, "user.roles_changed", person, at=START + dt.timedelta(minutes=number))
            audit.record(db.session, person, "case.viewed", ("cases", number), at=START + dt.timedelta(hours=number))
        db.session.commit()
        return person.id


def test_statement_counts_do_not_grow_with_the_log(make_app):
    app = make_app(AUDIT_PAGE_SIZE=PAGE_SIZE)
    client = signed_in_admin(app)

    def counts(person_id: int) -> list[int]:
        first = client.get("/admin/audit").text
        urls = ["/admin/audit", "/admin/audit?action=case.viewed&actor=%40example.org",
                "/admin/audit?subject_type=users", link(first, "next"), f"/admin/people/{person_id}"]
        return [page_statements(app, client, url)[0] for url in urls]

    small = counts(add_people_and_history(app, 0, 4))
    large = counts(add_people_and_history(app, 100, 40))
    assert small == large
    assert max(large) <= 30
