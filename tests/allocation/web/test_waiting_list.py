"""The waiting list at more than a page of cases: 50 a page with GOV.UK pagination that keeps the
filters, each filter narrowing the list and its count, counts from aggregates linking to their lists,
hostile query strings answered with a message (never a 500), and the same statements for few or many."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from portal.allocation.models import AllocationOffer
from portal.cases.models import AllocationRole, Case, CaseStatus, CaseStatusChange
from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from tests.allocation.builders import NOW, TODAY, make_facilitator, make_waiting_case
from tests.builders import make_user
from tests.cases.builders import make_case
from tests.statements import page_statements


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """Waiting times and overdue first contacts are worked out from today: pin it to the builders' day."""
    monkeypatch.setattr(clock, "now", lambda: NOW)


def add_cases(app, count: int, *, district: str = "Canterbury", needs: bool = True, sensitive: bool = False,
              waiting_days: int | None = None, received_on: dt.date | None = None) -> list[str]:
    """`count` cases awaiting allocation; returns their references. `waiting_days`: moved to awaiting
    allocation that many days before today; `received_on`: an early date makes first contact overdue."""
    references = []
    with app.app_context():
        for _ in range(count):
            extra = {"received_on": received_on} if received_on else {}
            if needs:
                case = make_waiting_case(db.session, district=district, is_sensitive=sensitive, **extra)
            else:
                case = make_case(db.session, status=CaseStatus.AWAITING_ALLOCATION, district=district, **extra)
                case.is_sensitive = sensitive
            if waiting_days is not None:
                db.session.add(CaseStatusChange(
                    case_id=case.id, from_status=CaseStatus.ASSESSMENT, to_status=CaseStatus.AWAITING_ALLOCATION,
                    changed_at=NOW - dt.timedelta(days=waiting_days),
                ))
            references.append(case.reference)
        db.session.commit()
    return references


def listed(html: str) -> list[str]:
    table = html.split('data-table="waiting"')[1].split("</table>")[0] if 'data-table="waiting"' in html else ""
    return re.findall(r'href="/allocation/cases/\d+">([^<]+)</a>', table)


def test_fifty_cases_a_page_with_pagination_that_keeps_the_filters(client, login_as, app):
    references = add_cases(app, 60, district="Dover", needs=False)
    add_cases(app, 2)
    login_as(Role.COORDINATOR)

    first = client.get("/allocation/?district=Dover&needs=no").text
    last = client.get("/allocation/?district=Dover&needs=no&page=2").text

    assert listed(first) == references[:50] and listed(last) == references[50:]
    assert "60 cases match, showing 1 to 50" in first
    assert '<nav class="govuk-pagination" aria-label="Pages of waiting cases">' in first
    assert 'href="/allocation/?district=Dover&amp;needs=no&amp;page=2" rel="next"' in first
    assert 'href="/allocation/?district=Dover&amp;needs=no&amp;page=1" rel="prev"' in last
    assert '<option value="Dover" selected>Dover (60)</option>' in first
    assert "62 cases awaiting allocation" in first and "60 without needs recorded" in first


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "3", "３", "\x00"])
def test_a_page_number_that_is_no_page_shows_the_first_or_last_page(client, login_as, app, page):
    references = add_cases(app, 55)
    login_as(Role.COORDINATOR)

    response = client.get("/allocation/", query_string={"page": page})

    assert response.status_code == 200
    assert listed(response.text) == (references[50:] if page == "3" else references[:50])


def test_each_filter_narrows_the_list_and_the_summary_counts_link_to_their_lists(client, login_as, app):
    recorded = add_cases(app, 2, waiting_days=3)
    bare = add_cases(app, 1, needs=False, waiting_days=40)
    sensitive = add_cases(app, 1, district="Thanet", sensitive=True, waiting_days=10)
    overdue = add_cases(app, 1, district="Thanet", received_on=TODAY - dt.timedelta(days=21))
    with app.app_context():
        offered_case = db.session.scalar(select(Case.id).where(Case.reference == recorded[0]))
        person = make_facilitator(db.session, name="Priya Offered")
        db.session.add(AllocationOffer(case_id=offered_case, user_id=person.user_id, role=AllocationRole.LEAD,
                                       respond_by=NOW + dt.timedelta(days=3)))
        db.session.commit()
    login_as(Role.COORDINATOR)

    def shown(query: str) -> list[str]:
        return sorted(listed(client.get(f"/allocation/?{query}").text))

    assert shown("needs=no") == sorted(bare)
    assert shown("needs=yes") == sorted(recorded + sensitive + overdue)
    assert shown("sensitive=yes") == sorted(sensitive)
    assert shown("sensitive=no&district=Thanet") == sorted(overdue)
    assert shown("overdue=y") == sorted(overdue)
    assert shown("offered=yes") == [recorded[0]]
    assert shown("offered=no&district=Canterbury") == sorted(recorded[1:] + bare)
    # More than N whole days since the case moved to awaiting allocation (the others were recorded today).
    assert shown("waited=9") == sorted(bare + sensitive)
    assert shown("waited=10") == sorted(bare)
    assert shown("waited=0") == sorted(recorded + bare + sensitive)
    page = client.get("/allocation/").text
    assert "Priya Offered (lead): offered" in page
    for text, href in (("1 without needs recorded", "needs=no"), ("1 overdue for first contact", "overdue=y"),
                       ("1 sensitive or complex", "sensitive=yes"), ("1 with a live offer out", "offered=yes")):
        assert f'<a class="govuk-link" href="/allocation/?{href}">{text}</a>' in page
    assert "First contact overdue" in client.get("/allocation/?overdue=y").text
    assert "No waiting cases match these filters." in client.get("/allocation/?district=Thanet&needs=no").text


@pytest.mark.parametrize(("query", "message"), [
    ({"district": "Atlantis"}, "Not a valid choice"),
    ({"district": "Dover\x00"}, None),
    ({"waited": "abc"}, "Days waiting must be a whole number, like 28"),
    ({"waited": "-1"}, "Days waiting must be between 0 and 3,650"),
    ({"waited": "99999999999999999999"}, "must be 2,147,483,647 or less"),
    ({"waited": "9999"}, "Days waiting must be between 0 and 3,650"),
    ({"needs": "maybe"}, "Not a valid choice"),
    ({"sensitive": "<script>alert(1)</script>"}, "Not a valid choice"),
    ({"offered": "x" * 10_000}, "Not a valid choice"),
])
def test_hostile_filters_get_a_message_and_the_whole_list(client, login_as, app, query, message):
    references = add_cases(app, 2, district="Dover")
    login_as(Role.COORDINATOR)

    response = client.get("/allocation/", query_string=query)

    assert response.status_code == 200
    assert "<script>alert" not in response.text
    if message:
        assert "govuk-error-summary" in response.text and message in response.text
        assert listed(response.text) == references  # the filters are not applied
        assert 'href="/allocation/?' not in response.text.split("data-table")[1]  # nor carried to other pages
    else:  # the NUL is dropped as the query string is read: an ordinary filter
        assert listed(response.text) == references


def test_the_waiting_list_runs_the_same_statements_for_few_or_many(client, login_as, app):
    urls = ["/allocation/", "/allocation/?district=Canterbury&waited=1&needs=no&sensitive=no&offered=no&overdue=y",
            "/allocation/?page=2", "/allocation/?waited=abc"]

    def grow(count: int) -> None:
        add_cases(app, count, waiting_days=5)
        add_cases(app, count, district="Dover", needs=False, received_on=TODAY - dt.timedelta(days=30))
        with app.app_context():
            people = [make_user(db.session, roles=(Role.VOLUNTEER,)) for _ in range(count)]
            case_ids = db.session.scalars(select(Case.id).order_by(Case.id.desc()).limit(count)).all()
            for person, case_id in zip(people, case_ids, strict=True):
                db.session.add(AllocationOffer(case_id=case_id, user_id=person.id, role=AllocationRole.LEAD,
                                               respond_by=NOW + dt.timedelta(days=3)))
            db.session.commit()

    login_as(Role.COORDINATOR)
    grow(3)
    few = [page_statements(app, client, url)[0] for url in urls]
    grow(40)
    many = [page_statements(app, client, url)[0] for url in urls]

    assert many == few
