"""The coordinator's "Allocate a facilitator" page at national size: it lists at most 50 facilitators (a
search finds the rest), a facilitator beyond the first 50 can still be allocated, and the page runs the
same statements for 5 facilitators or 60."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.cases.models import Allocation, CaseStatus
from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from tests.cases.builders import NOW, make_case, make_facilitator
from tests.statements import page_statements


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _waiting_case(app, facilitators: int) -> int:
    with app.app_context():
        case = make_case(db.session, status=CaseStatus.AWAITING_ALLOCATION)
        for number in range(facilitators):
            make_facilitator(db.session, name=f"Facilitator {number:03d}", email=f"f{number:03d}@example.org")
        db.session.commit()
        return case.id


def _options(html: str) -> list[str]:
    select_html = html.split('name="volunteer_id"')[1].split("</select>")[0]
    return [unescape(label) for label in re.findall(r"<option[^>]*>([^<]+)</option>", select_html)][1:]


def test_the_page_lists_the_first_fifty_and_a_search_finds_the_rest(app, client, login_as):
    login_as(Role.COORDINATOR)
    case_id = _waiting_case(app, 60)
    html = client.get(f"/cases/{case_id}/allocate").text
    assert len(_options(html)) == 50
    assert _options(html)[0] == "Facilitator 000 (f000@example.org)"
    assert "The list shows the first 50 of 60 facilitators: search to find others." in html
    found = client.get(f"/cases/{case_id}/allocate?search=tor 05").text
    assert _options(found) == [f"Facilitator 05{n} (f05{n}@example.org)" for n in range(10)]
    assert "10 facilitators matching &lsquo;tor 05&rsquo;." in found
    none = client.get(f"/cases/{case_id}/allocate?search=100%25").text
    assert _options(none) == [] and "No facilitator matches &lsquo;100%&rsquo;." in none


def test_a_facilitator_beyond_the_first_fifty_can_be_allocated(app, client, login_as):
    login_as(Role.COORDINATOR)
    case_id = _waiting_case(app, 60)
    with app.app_context():
        last = db.session.scalar(select(db.metadata.tables["users"].c.id)
                                 .where(db.metadata.tables["users"].c.email == "f059@example.org"))
    response = client.post(f"/cases/{case_id}/allocate", data={"volunteer_id": last, "role": "lead"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Allocation.user_id).where(Allocation.case_id == case_id)) == last


def test_someone_who_is_not_a_facilitator_is_refused_on_the_field(app, client, login_as):
    coordinator = login_as(Role.COORDINATOR)
    case_id = _waiting_case(app, 3)
    response = client.post(f"/cases/{case_id}/allocate", data={"volunteer_id": coordinator.id, "role": "lead"})
    assert "There is a problem" in response.text and 'href="#volunteer_id"' in response.text
    with app.app_context():
        assert db.session.scalar(select(Allocation.id)) is None


def test_the_page_runs_the_same_statements_for_five_facilitators_or_sixty(app, client, login_as):
    login_as(Role.COORDINATOR)
    small_case = _waiting_case(app, 5)
    small, _ = page_statements(app, client, f"/cases/{small_case}/allocate")
    with app.app_context():
        for number in range(100, 155):
            make_facilitator(db.session, name=f"Facilitator {number:03d}", email=f"f{number:03d}@example.org")
        db.session.commit()
    large, html = page_statements(app, client, f"/cases/{small_case}/allocate")
    assert len(_options(html)) == 50
    assert large == small
