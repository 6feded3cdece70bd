"""Searching the case list through the Flask client: by part of a case reference, a crime reference or
the name of a person on the case (who is then named in the row), with `%`, `_`, apostrophes and accents
taken literally, the search kept by the page links, and a fixed number of SQL statements."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.cases import services
from portal.cases.models import PartyRole
from portal.core.accounts import Role
from portal.extensions import db
from tests.cases.builders import make_case
from tests.statements import page_statements

URL = "/cases/"


def person(name: str, role: PartyRole = PartyRole.HARMED_PERSON) -> services.PartyDetails:
    return services.PartyDetails(role=role, name=name, phone="07700 900123")


def add_case(app, *names: str, crime_reference: str | None = None) -> str:
    with app.app_context():
        case = make_case(db.session, parties=[person(name) for name in names], crime_reference=crime_reference)
        reference = case.reference
        db.session.commit()
    return reference


def references(html: str) -> set[str]:
    return set(re.findall(r'href="/cases/\d+">(RJ-[^<]+)</a>', html))


def found_people(html: str) -> list[str]:
    return [unescape(text) for text in re.findall(r"<span [^>]*data-person-found>([^<]+)</span>", html)]


def test_a_person_s_name_finds_their_case_and_names_them(client, login_as, app):
    oconnor = add_case(app, "Aoife O'Connor", "Jamie Ní Bhriain-Smith")
    add_case(app, "Ruth Adeyemi")
    login_as(Role.COORDINATOR)
    for term in ("o'connor", "AOIFE", "ní bhriain", "bhriain-smith"):
        html = client.get(URL, query_string={"search": term}).text
        assert references(html) == {oconnor}, term
        assert "1 case." in html
    html = client.get(URL, query_string={"search": "o'connor"}).text
    assert found_people(html) == ["Aoife O'Connor (harmed person)"]


def test_part_of_a_case_or_crime_reference_finds_the_case(client, login_as, app):
    first = add_case(app, "Sam Jones", crime_reference="42/118/26")
    second = add_case(app, "Kim Lee", crime_reference="KP-5521-B")
    login_as(Role.COORDINATOR)
    assert references(client.get(URL, query_string={"search": first.lower()}).text) == {first}
    assert references(client.get(URL, query_string={"search": second[-3:]}).text) == {second}
    assert references(client.get(URL, query_string={"search": "118/26"}).text) == {first}
    assert references(client.get(URL, query_string={"search": "kp-5521"}).text) == {second}
    assert found_people(client.get(URL, query_string={"search": "118/26"}).text) == []


@pytest.mark.parametrize(("term", "expected"), [
    ("%", {"Per Cent 100%"}), ("_", {"Jo_Ann Smith"}), ("o_a", {"Jo_Ann Smith"}), ("zoë", {"Zoë Brontë"}),
    ("nobody", set()),
])
def test_wildcards_are_taken_literally(client, login_as, app, term, expected):
    by_name = {name: add_case(app, name) for name in ("Per Cent 100%", "Jo_Ann Smith", "Joanna Smith", "Zoë Brontë")}
    login_as(Role.COORDINATOR)
    html = client.get(URL, query_string={"search": term}).text
    assert references(html) == {by_name[name] for name in expected}
    if not expected:
        assert "No cases match." in html


def test_the_search_is_kept_by_the_page_links(client, login_as, app):
    for number in range(30):
        add_case(app, f"Pat Smith {number}")
    add_case(app, "Lee Other")
    login_as(Role.COORDINATOR)
    html = client.get(URL, query_string={"search": "smith", "status": "referral_received"}).text
    assert "30 cases, page 1 of 2." in html
    navigation = re.split(r'<nav class="govuk-pagination', html)[1].split("</nav>")[0]
    links = [parse_qs(urlsplit(unescape(href)).query) for href in re.findall(r'href="([^"]+)"', navigation)]
    assert links and all(link["search"] == ["smith"] and link["status"] == ["referral_received"] for link in links)
    assert len(references(client.get(URL, query_string={"search": "smith", "page": 2}).text)) == 5


def test_a_hostile_search_is_refused_with_a_message(client, login_as, app):
    add_case(app, "Sam Jones")
    login_as(Role.COORDINATOR)
    for term in ("smith\nBcc: x@example.org", "x" * 500):
        response = client.get(URL, query_string={"search": term})
        assert response.status_code == 200 and "govuk-error-summary" in response.text


def test_a_search_runs_as_many_statements_for_15_cases_as_for_3(client, login_as, app):
    login_as(Role.COORDINATOR)
    for number in range(3):
        add_case(app, f"Pat Smith {number}", f"Chris Smithson {number}")
    url = f"{URL}?search=smith"
    small, _html = page_statements(app, client, url)
    for number in range(3, 15):
        add_case(app, f"Pat Smith {number}", f"Chris Smithson {number}")
    large, html = page_statements(app, client, url)
    assert large == small
    assert len(found_people(html)) == 30
