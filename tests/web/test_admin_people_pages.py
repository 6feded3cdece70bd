"""The admin's people list at more than a page: 50 a page with GOV.UK pagination, search by name or
e-mail address and a role filter that survive paging and hostile input, and statement counts that stay
the same as the number of people grows (the person page and the admin home too)."""

from __future__ import annotations

import re
from html import unescape

from portal.core.accounts import Role
from portal.extensions import db
from tests.builders import make_user
from tests.statements import page_statements


def add_people(app, start: int, count: int) -> int:
    """`count` people named "Person NNN", every third a coordinator too and every fifth deactivated;
    returns the last one's id."""
    with app.app_context():
        person = None
        for number in range(start, start + count):
            roles = [Role.VOLUNTEER, Role.COORDINATOR] if number % 3 == 0 else [Role.VOLUNTEER]
            person = make_user(db.session, roles=roles, name=f"Person {number:03d}",
                               email=f"member{number:03d}@example.org")
            person.is_deactivated = number % 5 == 0
        db.session.commit()
        return person.id


def names(html: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'href="/admin/people/\d+">([^<]+)</a>', html)]


def test_fifty_people_a_page_active_first_with_pagination(app, client, login_as):
    login_as(Role.ADMIN, name="Aaron Admin")
    add_people(app, 1, 60)
    first = client.get("/admin/people").text
    assert "61 accounts, showing 1 to 50" in first
    listed = names(first)
    assert len(listed) == 50 and listed[:2] == ["Aaron Admin", "Person 001"]
    assert "Trainer" not in first.split("<tbody")[1] and "Volunteer, Coordinator" not in first
    assert "Coordinator, Volunteer" in first  # each row's roles, in the usual order
    assert 'href="/admin/people?page=2"' in first
    second = client.get("/admin/people?page=2").text
    rest = names(second)
    assert "showing 51 to 61" in second and len(rest) == 11
    assert listed[-1] == "Person 005"  # the 49 active first, then the deactivated
    assert rest == [f"Person {number:03d}" for number in range(10, 61, 5)]
    assert not set(listed) & set(rest)


def test_search_and_role_filter_narrow_the_list_and_survive_paging(app, client, login_as):
    login_as(Role.ADMIN)
    add_people(app, 1, 120)
    coordinators = client.get("/admin/people?role=coordinator").text
    assert "40 accounts" in coordinators and names(coordinators)[0] == "Person 003"
    by_name = client.get("/admin/people?search=person+0&role=volunteer").text
    assert "99 accounts, showing 1 to 50" in by_name
    assert 'href="/admin/people?search=person+0&amp;role=volunteer&amp;page=2"' in by_name
    by_email = client.get("/admin/people?search=MEMBER11").text
    assert names(by_email) == [f"Person {n}" for n in (111, 112, 113, 114, 116, 117, 118, 119, 110, 115)]
    literal = client.get("/admin/people?search=%25").text
    assert "0 accounts" in literal and "No one matches these filters." in literal


def test_hostile_filters_give_a_message_or_are_ignored(app, client, login_as):
    login_as(Role.ADMIN)
    add_people(app, 1, 3)
    unknown_role = client.get("/admin/people?role=superuser")
    assert unknown_role.status_code == 200 and "Not a valid choice" in unknown_role.text
    assert "4 accounts" in unknown_role.text  # the filter is not applied
    for query in ("search=%00", "search=Person%00+001", "page=9223372036854775808", "page=-3", "page=abc",
                  "page=99999", "search=" + "x" * 5000, "role=%00"):
        response = client.get(f"/admin/people?{query}")
        assert response.status_code == 200, query
    assert names(client.get("/admin/people?search=Person%00+001").text) == ["Person 001"]
    long_search = client.get("/admin/people?search=" + "x" * 5000).text
    assert "There is a problem" in long_search
    assert "Person 003" in client.get("/admin/people?page=99999").text  # the last page


def test_statement_counts_do_not_grow_with_the_number_of_people(app, client, login_as):
    login_as(Role.ADMIN)

    def counts(person_id: int) -> list[int]:
        urls = ["/admin", "/admin/people", "/admin/people?page=2", "/admin/people?search=person&role=coordinator",
                f"/admin/people/{person_id}"]
        return [page_statements(app, client, url)[0] for url in urls]

    small = counts(add_people(app, 0, 55))
    large = counts(add_people(app, 100, 150))
    assert small == large
    assert max(large) <= 30
