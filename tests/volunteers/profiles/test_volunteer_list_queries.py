"""`list_volunteer_page` and `list_volunteers` on a plain Session: name order, the page window, filters
by status, district and search (wildcards taken literally), and the allocation search's limit."""

from __future__ import annotations

import pytest

from portal.core.search import clean_term, contains_pattern
from portal.volunteers.profiles import queries
from portal.volunteers.profiles.models import VolunteerStatus
from portal.volunteers.profiles.queries import VolunteerFilter
from tests.volunteers.vetting.builders import make_volunteer


def add(session, name: str, *, status=VolunteerStatus.ACTIVE, districts=("Chelmsford",), email=None):
    volunteer = make_volunteer(session, status=status, name=name, email=email)
    volunteer.districts = list(districts)
    session.flush()
    return volunteer


def names(volunteers) -> list[str]:
    return [volunteer.name for volunteer in volunteers]


def test_a_page_is_in_name_order_ignoring_case_with_its_window(session):
    for name in ("carys evans", "Amara Okafor", "Bea Smith", "Dewi Price", "ann lee"):
        add(session, name)
    page = queries.list_volunteer_page(session, page=2, per_page=2)
    assert names(page.rows) == ["Bea Smith", "carys evans"]
    assert (page.window.page, page.window.pages, page.window.total, page.window.first, page.last) == (2, 3, 5, 3, 4)
    last = queries.list_volunteer_page(session, page=50, per_page=2)
    assert last.window.page == 3 and names(last.rows) == ["Dewi Price"]


def test_an_empty_list_is_one_empty_page(session):
    page = queries.list_volunteer_page(session)
    assert page.rows == [] and (page.window.page, page.window.pages, page.window.total) == (1, 1, 0)


def test_filters_narrow_by_status_district_and_search_together(session):
    add(session, "Amara Okafor")
    add(session, "Amy Okafor", status=VolunteerStatus.TRAINING)
    add(session, "Ann Okafor", districts=("Maldon", "Braintree"))
    add(session, "Rhys Pritchard", districts=("Maldon",))
    both = VolunteerFilter(statuses=(VolunteerStatus.ACTIVE,), district="Maldon", search="okafor")
    assert names(queries.list_volunteer_page(session, both).rows) == ["Ann Okafor"]
    assert names(queries.list_volunteer_page(session, VolunteerFilter(district="Braintree")).rows) == ["Ann Okafor"]
    training = VolunteerFilter(statuses=(VolunteerStatus.TRAINING, VolunteerStatus.PAUSED))
    assert names(queries.list_volunteer_page(session, training).rows) == ["Amy Okafor"]


def test_a_district_name_is_matched_whole_not_as_part_of_another(session):
    add(session, "Ann Lee", districts=("South Maldon",))
    add(session, "Bo Lee", districts=("Maldon",))
    assert names(queries.list_volunteer_page(session, VolunteerFilter(district="Maldon")).rows) == ["Bo Lee"]


def test_search_takes_wildcards_literally_and_finds_e_mail_addresses(session):
    add(session, "Dee Ford", email="dee_ford@example.org")
    add(session, "Deep Ford", email="deepford@example.org")
    add(session, "Per Cent", email="per100%cent@example.org")
    assert names(queries.list_volunteers(session, search="e_f")) == ["Dee Ford"]
    assert names(queries.list_volunteers(session, search="%")) == ["Per Cent"]
    assert names(queries.list_volunteers(session, search="DEEPFORD@")) == ["Deep Ford"]
    assert names(queries.list_volunteers(session, search="ford")) == ["Dee Ford", "Deep Ford"]


def test_list_volunteers_stops_at_the_limit_in_name_order(session):
    for number in range(5):
        add(session, f"Volunteer {number}")
    assert names(queries.list_volunteers(session, search="volunteer", limit=3)) == [
        "Volunteer 0", "Volunteer 1", "Volunteer 2"]
    assert len(queries.list_volunteers(session)) == 5


@pytest.mark.parametrize(("raw", "cleaned"), [
    ("  ann   smith ", "ann smith"), ("a\tb\nc", "abc"), (None, ""), ("x" * 150, "x" * 100), ("O'Neill", "O'Neill"),
])
def test_a_search_term_is_cleaned(raw, cleaned):
    assert clean_term(raw) == cleaned


def test_like_wildcards_and_the_escape_character_are_escaped():
    assert contains_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"
