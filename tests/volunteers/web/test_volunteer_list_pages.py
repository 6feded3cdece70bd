"""The coordinators' volunteer list through the Flask client: 50 volunteers a page with GOV.UK pagination,
status, district and name or e-mail filters kept by every page link, searches that take `%`, `_`, `\\`,
apostrophes and accents literally, hostile input answered with a message (never a 500), and the same
number of SQL statements at 5 volunteers as at 60."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.volunteers.profiles.models import VolunteerStatus
from tests.statements import page_statements
from tests.volunteers.vetting.builders import NOW, make_volunteer

URL = "/volunteering/volunteers"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """Clearance depends on today's date; pin it to the builders' date."""
    monkeypatch.setattr(clock, "now", lambda: NOW)


def add_volunteers(app, start: int, count: int, *, status=VolunteerStatus.ACTIVE, districts=("Chelmsford",),
                   prefix: str = "Volunteer") -> None:
    with app.app_context():
        for number in range(start, start + count):
            volunteer = make_volunteer(db.session, status=status, name=f"{prefix} {number:03d}",
                                       email=f"{prefix.lower()}{number:03d}@example.org")
            volunteer.districts = list(districts)
        db.session.commit()


def add_people(app, people: list[tuple[str, str]]) -> None:
    with app.app_context():
        for name, email in people:
            make_volunteer(db.session, name=name, email=email)
        db.session.commit()


def names(html: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'href="/volunteering/volunteers/\d+">([^<]+)</a>', html)]


def page_links(html: str) -> list[dict[str, list[str]]]:
    """The query string of every pagination link."""
    navigation = re.split(r'<nav class="govuk-pagination', html)[1].split("</nav>")[0]
    return [parse_qs(urlsplit(unescape(href)).query) for href in re.findall(r'href="([^"]+)"', navigation)]


def test_fifty_volunteers_a_page_in_name_order_then_the_rest_on_page_two(client, login_as, app):
    add_volunteers(app, 0, 60)
    login_as(Role.COORDINATOR)
    first = client.get(URL).text
    assert names(first) == [f"Volunteer {number:03d}" for number in range(50)]
    assert "60 volunteers, showing 1 to 50 (page 1 of 2)." in first
    second = client.get(URL, query_string={"page": 2}).text
    assert names(second) == [f"Volunteer {number:03d}" for number in range(50, 60)]
    assert "showing 51 to 60 (page 2 of 2)" in second


def test_a_page_past_the_end_shows_the_last_page_and_a_hostile_page_the_first(client, login_as, app):
    add_volunteers(app, 0, 55)
    login_as(Role.COORDINATOR)
    assert "(page 2 of 2)" in client.get(URL, query_string={"page": 999}).text
    for hostile in ("abc", "-3", "0", "99999999999999999999999", "1e9", "\x00", "２"):
        response = client.get(URL, query_string={"page": hostile})
        assert response.status_code == 200, hostile
        assert "(page 1 of 2)" in response.text, hostile


def test_one_page_needs_no_pagination(client, login_as, app):
    add_volunteers(app, 0, 3)
    login_as(Role.COORDINATOR)
    html = client.get(URL).text
    assert names(html) == ["Volunteer 000", "Volunteer 001", "Volunteer 002"]
    assert "govuk-pagination" not in html and "3 volunteers." in html


def test_status_district_and_search_filters_are_kept_by_every_page_link(client, login_as, app):
    add_volunteers(app, 0, 70)
    add_volunteers(app, 100, 5, status=VolunteerStatus.TRAINING)
    add_volunteers(app, 200, 5, districts=("Braintree",))
    login_as(Role.COORDINATOR)
    wanted = {"search": "volunteer", "status": "active", "district": "Chelmsford"}
    html = client.get(URL, query_string=wanted).text
    assert "70 volunteers match the filters" in html
    links = page_links(html)
    assert links and all({key: values[0] for key, values in link.items() if key != "page"} == wanted
                         for link in links)
    second = client.get(URL, query_string={**wanted, "page": 2}).text
    assert names(second) == [f"Volunteer {number:03d}" for number in range(50, 70)]


def test_status_and_district_each_narrow_the_list(client, login_as, app):
    add_volunteers(app, 0, 2)
    add_volunteers(app, 10, 2, status=VolunteerStatus.TRAINING, prefix="Trainee")
    add_volunteers(app, 20, 2, districts=("Braintree", "Maldon"), prefix="Braintree")
    login_as(Role.COORDINATOR)
    assert names(client.get(URL, query_string={"status": "training"}).text) == ["Trainee 010", "Trainee 011"]
    assert names(client.get(URL, query_string={"district": "Maldon"}).text) == ["Braintree 020", "Braintree 021"]
    both = client.get(URL, query_string={"district": "Chelmsford", "status": "active"}).text
    assert names(both) == ["Volunteer 000", "Volunteer 001"]


PEOPLE = [
    ("Siobhán O'Neill", "siobhan.oneill@example.org"),
    ("Zoë Brontë", "zoe@example.org"),
    ("Dee Ford", "dee_ford@example.org"),
    ("Deep Ford", "deepford@example.org"),
    ("Per Cent", "per100%cent@example.org"),
    ("Percy Centime", "percy100xcent@example.org"),
    ("Back Slash", "back\\slash@example.org"),
    ("Ann Smith", "ann.smith@example.org"),
]


@pytest.mark.parametrize(("term", "found"), [
    ("o'neill", ["Siobhán O'Neill"]),
    ("Siobhán", ["Siobhán O'Neill"]),
    ("zoë", ["Zoë Brontë"]),
    ("BRONT", ["Zoë Brontë"]),
    ("e_f", ["Dee Ford"]),
    ("100%", ["Per Cent"]),
    ("%", ["Per Cent"]),
    ("_", ["Dee Ford"]),
    ("\\", ["Back Slash"]),
    ("  ann   smith ", ["Ann Smith"]),
    ("SMITH@EXAMPLE", ["Ann Smith"]),
    ("nobody", []),
])
def test_search_finds_part_of_a_name_or_email_taking_wildcards_literally(client, login_as, app, term, found):
    add_people(app, PEOPLE)
    login_as(Role.COORDINATOR)
    html = client.get(URL, query_string={"search": term}).text
    assert names(html) == found
    if not found:
        assert "No volunteers match." in html


@pytest.mark.parametrize(("query", "message"), [
    ({"status": "emperor"}, "Not a valid choice"),
    ({"district": "Atlantis"}, "Not a valid choice"),
    ({"search": "smith\nBcc: x@example.org"}, "must not contain line breaks or control characters"),
    ({"search": "x" * 500}, "100"),
])
def test_hostile_filters_are_refused_with_a_message_and_the_whole_list_is_shown(client, login_as, app, query,
                                                                                 message):
    add_volunteers(app, 0, 2)
    login_as(Role.COORDINATOR)
    response = client.get(URL, query_string=query)
    assert response.status_code == 200
    assert "govuk-error-summary" in response.text and message in response.text
    assert names(response.text) == ["Volunteer 000", "Volunteer 001"]


def test_a_nul_byte_in_the_search_is_dropped(client, login_as, app):
    add_people(app, PEOPLE)
    login_as(Role.COORDINATOR)
    response = client.get(URL, query_string={"search": "smi\x00th"})
    assert response.status_code == 200 and names(response.text) == ["Ann Smith"]


def test_only_coordinators_see_the_list(client, login_as, app):
    login_as(Role.VOLUNTEER)
    assert client.get(URL).status_code == 403


def _statements(app, client, url: str) -> int:
    count, _html = page_statements(app, client, url)
    return count


@pytest.mark.parametrize("url", [URL, f"{URL}?status=active&district=Chelmsford&search=volunteer",
                                 f"{URL}?page=2", f"{URL}?search=%25"])
def test_the_page_runs_as_many_statements_for_60_volunteers_as_for_5(client, login_as, app, url):
    login_as(Role.COORDINATOR)
    add_volunteers(app, 0, 5)
    small = _statements(app, client, url)
    add_volunteers(app, 5, 55)
    assert _statements(app, client, url) == small
    assert small <= 12
