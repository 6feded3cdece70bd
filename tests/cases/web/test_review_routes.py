"""An allocation flagged for review through the Flask client: the warning on the case page, clearing
it (CSRF, audit, a refusal in the error summary), 403/404, the home panel partial, query count."""

from __future__ import annotations

import re

import pytest
from flask import render_template
from sqlalchemy import event, select

from portal.cases import queries, services
from portal.cases.models import Allocation, CaseStatus
from portal.core import clock
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.extensions import db
from tests.builders import PASSWORD, make_user
from tests.cases.builders import NOW, make_allocation, make_case, make_facilitator

LAPSED = "DBS check expired on 20 November 2026"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def coordinator(login_as):
    return login_as(Role.COORDINATOR, name="Chidi Okafor")


def _flagged(app, *, flag: bool = True) -> tuple[int, int]:
    """A case with one current allocation (Priya Shah, lead), flagged for review: (case, allocation)."""
    with app.app_context():
        case = make_case(db.session, status=CaseStatus.ALLOCATED)
        facilitator = make_facilitator(db.session, name="Priya Shah")
        allocation = make_allocation(db.session, case, facilitator)
        if flag:
            services.flag_allocations_for_review(db.session, facilitator.id, LAPSED, actor=None, now=NOW)
        db.session.commit()
        return case.id, allocation.id


def test_the_case_page_warns_about_a_flagged_allocation(app, client, coordinator):
    case_id, allocation_id = _flagged(app)
    page = client.get(f"/cases/{case_id}").text
    assert "govuk-warning-text" in page
    assert f"Priya Shah's allocation as lead needs review: {LAPSED}" in page
    assert f'action="/cases/{case_id}/allocations/{allocation_id}/review"' in page
    assert "Needs review" in page


def test_a_case_without_a_flag_shows_no_warning(app, client, coordinator):
    case_id, _allocation_id = _flagged(app, flag=False)
    page = client.get(f"/cases/{case_id}").text
    assert "needs review" not in page and "govuk-warning-text" not in page


def test_a_coordinator_clears_the_review_and_the_warning_goes(app, client, coordinator):
    case_id, allocation_id = _flagged(app)
    response = client.post(f"/cases/{case_id}/allocations/{allocation_id}/review")
    assert response.status_code == 302 and response.location.endswith(f"/cases/{case_id}")
    page = client.get(f"/cases/{case_id}").text
    assert "Review of Priya Shah&#39;s allocation cleared" in page
    assert "needs review" not in page
    with app.app_context():
        allocation = db.session.get(Allocation, allocation_id)
        assert allocation.review_cleared_by_id == coordinator.id and not allocation.needs_review
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.allocation_review_cleared"))
        assert (entry.actor_id, entry.subject_id) == (coordinator.id, case_id)


def test_clearing_twice_shows_the_refusal_in_the_error_summary(app, client, coordinator):
    case_id, allocation_id = _flagged(app)
    url = f"/cases/{case_id}/allocations/{allocation_id}/review"
    assert client.post(url).status_code == 302
    again = client.post(url)
    assert again.status_code == 409
    assert "There is a problem" in again.text
    assert f'href="#allocation-{allocation_id}"' in again.text
    assert f'id="allocation-{allocation_id}"' in again.text
    assert "review was already cleared on 23 November 2026" in again.text
    assert "<title>Error: " in again.text


def test_clearing_someone_elses_allocation_through_another_case_is_a_404(app, client, coordinator):
    case_id, _allocation_id = _flagged(app)
    _other_case, other_allocation = _flagged(app)
    assert client.post(f"/cases/{case_id}/allocations/{other_allocation}/review").status_code == 404
    with app.app_context():
        assert db.session.get(Allocation, other_allocation).needs_review


def test_a_volunteer_cannot_clear_a_review(app, client, login_as):
    case_id, allocation_id = _flagged(app)
    login_as(Role.VOLUNTEER)
    assert client.post(f"/cases/{case_id}/allocations/{allocation_id}/review").status_code == 403
    with app.app_context():
        assert db.session.get(Allocation, allocation_id).needs_review


def test_clearing_needs_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    case_id, allocation_id = _flagged(app)
    with app.app_context():
        email = make_user(db.session, roles=(Role.COORDINATOR,)).email
        db.session.commit()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/sign-in").text).group(1)
    assert client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    url = f"/cases/{case_id}/allocations/{allocation_id}/review"
    assert client.post(url).status_code == 400
    with app.app_context():
        assert db.session.get(Allocation, allocation_id).needs_review
    page = client.get(f"/cases/{case_id}").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(url, data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert not db.session.get(Allocation, allocation_id).needs_review


def _statements(app, client, url: str) -> int:
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(*_args):
        seen.append("statement")

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_a_flag_adds_no_statement_to_the_case_page(app, client, coordinator):
    plain, _ = _flagged(app, flag=False)
    flagged, _ = _flagged(app)
    assert _statements(app, client, f"/cases/{plain}") == _statements(app, client, f"/cases/{flagged}")


def test_the_home_panel_partial_lists_flagged_allocations(app, coordinator):
    case_id, allocation_id = _flagged(app)
    with app.test_request_context():
        reference = db.session.get(Allocation, allocation_id).case.reference
        html = render_template("cases/_review_panel.html",
                               review=queries.list_allocations_needing_review(db.session, limit=10))
        empty = render_template("cases/_review_panel.html", review=[])
    assert reference in html and "Priya Shah (lead)" in html and LAPSED in html
    assert f'href="/cases/{case_id}#review-{allocation_id}"' in html
    assert "No allocation needs review" in empty


def test_the_case_list_tags_a_case_with_an_allocation_to_review(app, client, coordinator):
    _flagged(app)
    _flagged(app, flag=False)
    page = client.get("/cases/").text
    assert page.count("Allocation to review") == 1
