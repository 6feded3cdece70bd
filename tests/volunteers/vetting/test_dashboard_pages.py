"""The vetting dashboard through the Flask client at more than a page of data: one group at a time, 50
rows a page with GOV.UK pagination, filters that survive hostile input, a complete CSV export, and
statement counts that stay the same as the number of volunteers grows (the coordinator home too)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.volunteers.vetting.models import CheckKind, CheckStatus
from tests.statements import page_statements
from tests.volunteers.vetting.builders import NOW, TODAY, add_check, make_volunteer

GROUPS = ("lapsed", "missing", "expiring-30", "expiring-60", "expiring-90", "waiting")


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """The dashboard reads the clock; pin it to the builders' date so the groups are fixed."""
    monkeypatch.setattr(clock, "now", lambda: NOW)


def days(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def add_volunteers(app, start: int, count: int) -> None:
    """Volunteers with something in every group: police vetting expiring in 20, 45 or 75 days,
    national security vetting lapsed with a renewal submitted, a refused DBS check, and (every other
    one) no references."""
    with app.app_context():
        for number in range(start, start + count):
            volunteer = make_volunteer(db.session, name=f"Volunteer {number:03d}",
                                       email=f"volunteer{number:03d}@example.org")
            expires = (20, 45, 75)[number % 3]
            add_check(db.session, volunteer, CheckKind.NPPV, CheckStatus.CLEARED, cleared_on=days(expires - 365),
                      expires_on=days(expires))
            add_check(db.session, volunteer, CheckKind.NSV, CheckStatus.CLEARED, cleared_on=days(-1900),
                      expires_on=days(-75))
            add_check(db.session, volunteer, CheckKind.NSV, CheckStatus.SUBMITTED, submitted_on=days(-80))
            add_check(db.session, volunteer, CheckKind.DBS, CheckStatus.REFUSED, submitted_on=days(-40),
                      decided_on=days(-12))
            if number % 2:
                add_check(db.session, volunteer, CheckKind.REFERENCES, CheckStatus.CLEARED, cleared_on=days(-500))
        db.session.commit()


def add_missing(app, names: list[str]) -> None:
    """Volunteers with nothing recorded: police vetting and references missing for each."""
    with app.app_context():
        for number, name in enumerate(names):
            make_volunteer(db.session, name=name, email=f"missing{number:03d}@example.org")
        db.session.commit()


def table_names(html: str, group: str) -> list[str]:
    table = html.split(f'data-group="{group}">')[1].split("</table>")[0]
    return [unescape(name) for name in re.findall(r'href="/volunteering/volunteers/\d+">([^<]+)</a>', table)]


def test_each_group_has_its_count_and_the_others_are_links_keeping_the_filters(client, login_as, app):
    add_volunteers(app, 0, 4)
    login_as(Role.COORDINATOR)
    html = client.get("/volunteering/vetting?group=expiring-60&kind=nppv").text
    assert 'id="expiring-60">Expiring in 31 to 60 days (1)' in html
    assert table_names(html, "expiring-60") == ["Volunteer 001"]
    assert ('<a class="govuk-link govuk-!-font-weight-bold" href="/volunteering/vetting?group=expiring-60&amp;'
            'kind=nppv" aria-current="page">Expiring in 31 to 60 days (1)</a>') in html
    assert ('<a class="govuk-link" href="/volunteering/vetting?group=expiring-30&amp;kind=nppv">'
            "Expiring within 30 days (2)</a>") in html
    assert 'href="/volunteering/vetting?group=lapsed&amp;kind=nppv">Lapsed or refused (0)</a>' in html


def test_a_group_shows_fifty_rows_a_page_with_pagination_that_keeps_the_filters(client, login_as, app):
    add_missing(app, [f"Missing {number:03d}" for number in range(120)])
    login_as(Role.COORDINATOR)
    first = client.get("/volunteering/vetting?group=missing&kind=nppv").text
    assert 'id="missing">Missing (120)' in first and "Showing 1 to 50 of 120, page 1 of 3." in first
    assert table_names(first, "missing") == [f"Missing {number:03d}" for number in range(50)]
    assert '<nav class="govuk-pagination" aria-label="Pages of missing">' in first
    assert 'href="/volunteering/vetting?kind=nppv&amp;group=missing&amp;page=2" rel="next"' in first
    assert 'aria-current="page"' in first.split('class="govuk-pagination"')[1]

    last = client.get("/volunteering/vetting?group=missing&kind=nppv&page=3").text
    assert table_names(last, "missing") == [f"Missing {number:03d}" for number in range(100, 120)]
    assert "Showing 101 to 120 of 120, page 3 of 3." in last and 'rel="next"' not in last
    assert 'href="/volunteering/vetting?kind=nppv&amp;group=missing&amp;page=2" rel="prev"' in last
    # Police vetting and references for each, without the kind filter.
    assert "Missing (240)" in client.get("/volunteering/vetting?group=missing").text


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "4", "３"])
def test_a_page_number_that_is_no_page_shows_the_first_or_last_page(client, login_as, app, page):
    add_missing(app, [f"Missing {number:03d}" for number in range(60)])
    login_as(Role.COORDINATOR)
    response = client.get(f"/volunteering/vetting?group=missing&kind=nppv&page={page}")
    assert response.status_code == 200
    expected = "Missing 050" if page == "4" else "Missing 000"
    assert table_names(response.text, "missing")[0] == expected


def test_the_filters_narrow_every_group_and_its_count(client, login_as, app):
    add_volunteers(app, 0, 4)
    add_missing(app, ["Siobhán O'Brien", "Jo 100% Smith", "Kim_Lee"])
    login_as(Role.COORDINATOR)
    required = client.get("/volunteering/vetting?group=lapsed&required=yes").text
    assert 'id="lapsed">Lapsed or refused (0)' in required  # only optional checks lapsed or were refused
    assert "Submitted and waiting for a decision (0)" in required
    lapsed = client.get("/volunteering/vetting?group=lapsed&kind=dbs").text
    assert 'id="lapsed">Lapsed or refused (4)' in lapsed
    assert "Enhanced DBS check (enhanced, barred lists) was refused on 11 November 2026" in lapsed
    found = client.get("/volunteering/vetting", query_string={"search": "  o'BRIEN "}).text
    assert 'id="missing">Missing (2)' in found and table_names(found, "missing") == ["Siobhán O'Brien"] * 2
    by_email = client.get("/volunteering/vetting", query_string={"search": "volunteer002@"}).text
    assert table_names(by_email, "lapsed") == ["Volunteer 002"] * 2


@pytest.mark.parametrize("search, names", [
    ("100%", ["Jo 100% Smith"]),
    ("_", ["Kim_Lee"]),
    ("\x00", ["Jo 100% Smith", "Kim_Lee", "Siobhán O'Brien"]),  # a NUL is dropped: no filter
    ("Kim\x00_Lee", ["Kim_Lee"]),
    ("<script>alert(1)</script>", []),
    ("x" * 10_000, []),
    ("Ǆ\u202e\U0001F600", []),
])
def test_the_search_is_plain_text_whatever_is_typed(client, login_as, app, search, names):
    add_missing(app, ["Siobhán O'Brien", "Jo 100% Smith", "Kim_Lee"])
    login_as(Role.COORDINATOR)
    response = client.get("/volunteering/vetting", query_string={"group": "missing", "kind": "nppv",
                                                                 "search": search})
    assert response.status_code == 200
    if names:
        assert table_names(response.text, "missing") == names
    else:
        assert 'id="missing">Missing (0)' in response.text and "None match the filters." in response.text
    assert "<script>alert" not in response.text
    if len(search) > 100:
        assert f'value="{"x" * 100}"' in response.text and "x" * 101 not in response.text


def test_an_unknown_group_or_kind_is_ignored(client, login_as, app):
    add_volunteers(app, 0, 2)
    login_as(Role.COORDINATOR)
    response = client.get("/volunteering/vetting?group=everything&kind=passport&required=maybe")
    assert response.status_code == 200
    assert 'id="lapsed">Lapsed or refused (4)' in response.text


def test_the_csv_export_is_complete_past_a_page(client, login_as, app):
    add_missing(app, [f"Missing {number:03d}" for number in range(60)])
    login_as(Role.COORDINATOR)
    lines = client.get("/volunteering/vetting/export.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 1 + 120
    assert sum(line.startswith("Missing,Missing 059,") for line in lines) == 2


def test_the_dashboard_and_the_coordinator_home_run_the_same_statements_for_5_or_15_volunteers(
    client, login_as, app
):
    login_as(Role.COORDINATOR)
    urls = ["/coordinator", "/volunteering/vetting", *(f"/volunteering/vetting?group={key}" for key in GROUPS),
            "/volunteering/vetting?group=expiring-30&kind=nppv&required=yes&search=volunteer&page=2"]
    add_volunteers(app, 0, 5)
    few = {url: page_statements(app, client, url) for url in urls}
    add_volunteers(app, 5, 10)
    many = {url: page_statements(app, client, url) for url in urls}

    assert {url: count for url, (count, _html) in many.items()} == {url: count for url, (count, _html) in few.items()}
    # A lapsed national security vetting and a refused DBS check each.
    assert "10 checks lapsed or refused" in few["/coordinator"][1]
    assert "30 checks lapsed or refused" in many["/coordinator"][1]
    assert 'id="waiting">Submitted and waiting for a decision (15)' in many["/volunteering/vetting?group=waiting"][1]
