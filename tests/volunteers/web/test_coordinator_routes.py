"""Coordinator application pages through the Flask client: the queue (filters, sorting, pagination,
duplicate tags, statement count), one application (convictions audited), shortlist and reject."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers import queries
from portal.volunteers.models import Application, ApplicationStatus
from tests.statements import page_statements
from tests.volunteers.builders import NOW, make_application

S = ApplicationStatus


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def coordinator(login_as):
    return login_as(Role.COORDINATOR)


_counter = iter(range(10_000))


def _word(number: int) -> str:
    """Names may hold only letters: 0 -> "Aaa", 1 -> "Aab", ... (sorts like the numbers)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return (letters[number // 676 % 26] + letters[number // 26 % 26] + letters[number % 26]).capitalize()


def _make(app, status=S.SUBMITTED, *, name=None, email=None, now=NOW, **overrides) -> int:
    number = next(_counter)
    with app.app_context():
        application = make_application(
            db.session, status=status, now=now,
            personal_details={"full_name": name or f"Person {_word(number)}"},
            contact_details={"email": email or f"person{number}@example.org"},
            **overrides,
        )
        db.session.commit()
        return application.id


def _get(app, application_id) -> Application:
    with app.app_context():
        found = db.session.get(Application, application_id)
        db.session.expunge(found)
        return found


def day(value: dt.date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


# ---------------------------------------------------------------------------------------------
# The queue


def test_queue_lists_submitted_applications_but_not_drafts(app, client, coordinator):
    _make(app, name="Aoife Kelly")
    _make(app, status=S.SHORTLISTED, name="Jean-Luc Martin")
    _make(app, status=S.DRAFT, name="Draft Person")
    page = client.get("/volunteering/applications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Aoife Kelly" in html and "Jean-Luc Martin" in html
    assert "Draft Person" not in html
    assert "Shortlisted" in html and "2 applications" in html


def test_queue_filters_by_status_district_and_availability(app, client, coordinator):
    _make(app, name="Submitted Person")
    _make(app, status=S.SHORTLISTED, name="Shortlisted Person")
    _make(app, name="Harwich Person", districts={"districts": ["Tendring"]},
          availability={"availability": {"tuesday": ["afternoon"]}})
    html = client.get("/volunteering/applications?status=shortlisted").get_data(as_text=True)
    assert "Shortlisted Person" in html and "Submitted Person" not in html
    html = client.get("/volunteering/applications?district=Colchester").get_data(as_text=True)
    assert "Submitted Person" in html and "Harwich Person" not in html
    html = client.get("/volunteering/applications?weekday=tuesday&period=afternoon").get_data(as_text=True)
    assert "Harwich Person" in html and "Submitted Person" not in html


def test_queue_filters_by_submitted_dates_and_sorts_by_name(app, client, coordinator):
    _make(app, name="Zed Early", now=NOW - dt.timedelta(days=20))
    _make(app, name="Amy Late", now=NOW)
    query = {"submitted_from": day(NOW.date() - dt.timedelta(days=5)), "submitted_to": day(NOW.date())}
    html = client.get("/volunteering/applications", query_string=query).get_data(as_text=True)
    assert "Amy Late" in html and "Zed Early" not in html
    html = client.get("/volunteering/applications?sort=name-asc").get_data(as_text=True)
    assert html.index("Amy Late") < html.index("Zed Early")
    html = client.get("/volunteering/applications?sort=name-desc").get_data(as_text=True)
    assert html.index("Zed Early") < html.index("Amy Late")


def test_queue_rejects_a_date_range_that_ends_before_it_starts(app, client, coordinator):
    _make(app, name="Aoife Kelly")
    query = {"submitted_from": day(NOW.date()), "submitted_to": day(NOW.date() - dt.timedelta(days=3))}
    html = client.get("/volunteering/applications", query_string=query).get_data(as_text=True)
    assert "govuk-error-summary" in html
    assert "Submitted to must be the same as or after submitted from" in html
    assert "Aoife Kelly" in html  # the unfiltered queue is still shown


def test_queue_paginates_and_keeps_filters(app, client, coordinator):
    for number in range(27):
        _make(app, name=f"Paged Person {_word(number)}")
    html = client.get("/volunteering/applications?status=submitted&sort=name-asc").get_data(as_text=True)
    assert "page 1 of 2" in html and "Paged Person Aaa" in html and "Paged Person Aba" not in html
    assert "page=2" in html and "status=submitted" in html and "sort=name-asc" in html
    html = client.get("/volunteering/applications?status=submitted&sort=name-asc&page=2").get_data(as_text=True)
    assert "Paged Person Aba" in html and "Paged Person Aaa" not in html


def test_queue_tags_possible_duplicates(app, client, coordinator):
    _make(app, name="Twin One", email="same@example.org")
    _make(app, name="Twin Two", email="same@example.org")
    _make(app, name="Only Once")
    html = client.get("/volunteering/applications?sort=name-asc").get_data(as_text=True)
    assert html.count("Possible duplicate") == 2
    only_row = html[html.index("Only Once"):]
    assert "Possible duplicate" not in only_row.split("</tr>")[0]


def _statements(app, client, url: str) -> int:
    return page_statements(app, client, url)[0]


def test_queue_runs_the_same_number_of_statements_for_3_or_30_applications(app, client, coordinator):
    for _ in range(3):
        _make(app)
    few = _statements(app, client, "/volunteering/applications?sort=name-asc")
    for _ in range(27):
        _make(app)
    many = _statements(app, client, "/volunteering/applications?sort=name-asc")
    assert few == many


# ---------------------------------------------------------------------------------------------
# One application


def test_application_page_shows_everything_and_audits_the_convictions_view(app, client, coordinator):
    application_id = _make(app, name="Siobhán O'Brien",
                           convictions={"has_unspent_convictions": "yes",
                                         "convictions_details": "Fined for careless driving in 2022."})
    other_id = _make(app, name="Someone Else", email="shared@example.org")
    duplicate_id = _make(app, name="Siobhán O'Brien", email="other@example.org")
    html = client.get(f"/volunteering/applications/{application_id}").get_data(as_text=True)
    for text in ("Siobhán O&#39;Brien", "07700 900982", "Colchester, Tendring", "English, Irish",
                 "school governor", "my neighbour", "Jean-Luc Picard", "Zoë Ní Bhriain",
                 "Convictions declaration", "Fined for careless driving", "Possible duplicate"):
        assert text in html, text
    assert f"/volunteering/applications/{duplicate_id}" in html
    assert f"/volunteering/applications/{other_id}" not in html
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "application.convictions_viewed")
        ).all()
        assert len(entries) == 1


def test_a_draft_or_unknown_application_is_not_found(app, client, coordinator):
    draft_id = _make(app, status=S.DRAFT)
    assert client.get(f"/volunteering/applications/{draft_id}").status_code == 404
    assert client.get("/volunteering/applications/99999").status_code == 404
    assert client.post("/volunteering/applications/99999/shortlist").status_code == 404
    assert client.get("/volunteering/applications/99999/reject").status_code == 404


# ---------------------------------------------------------------------------------------------
# Shortlist and reject


def test_shortlist_moves_the_application_and_shows_a_banner(app, client, coordinator):
    application_id = _make(app)
    response = client.post(f"/volunteering/applications/{application_id}/shortlist")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/volunteering/applications/{application_id}")
    assert _get(app, application_id).status == S.SHORTLISTED
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "has been shortlisted for interview" in html


def test_shortlisting_twice_is_refused_with_the_reason(app, client, coordinator):
    application_id = _make(app, status=S.SHORTLISTED)
    response = client.post(f"/volunteering/applications/{application_id}/shortlist")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html
    assert _get(app, application_id).status == S.SHORTLISTED


def test_reject_page_explains_the_email_does_not_include_the_reason(app, client, coordinator):
    application_id = _make(app)
    html = client.get(f"/volunteering/applications/{application_id}/reject").get_data(as_text=True)
    assert "does not include the reason" in html
    assert "govuk-character-count" in html and 'data-maxlength="1000"' in html


def test_reject_without_a_reason_is_an_error_and_saves_nothing(app, client, coordinator):
    application_id = _make(app)
    response = client.post(f"/volunteering/applications/{application_id}/reject", data={"reason": "  "})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html and "Enter the reason for rejecting the application" in html
    assert _get(app, application_id).status == S.SUBMITTED
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []


def test_reject_with_a_reason_changes_status_and_queues_a_kind_email(app, client, coordinator):
    application_id = _make(app)
    response = client.post(f"/volunteering/applications/{application_id}/reject",
                           data={"reason": "Not enough availability in our districts."})
    assert response.status_code == 302
    application = _get(app, application_id)
    assert application.status == S.REJECTED
    assert application.rejection_reason == "Not enough availability in our districts."
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage)).all()
        assert len(messages) == 1
        assert messages[0].recipients == [application.email]
        assert "Not enough availability" not in messages[0].text_body
    assert "has been rejected" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_rejecting_a_withdrawn_application_is_refused_with_the_reason(app, client, coordinator):
    application_id = _make(app, status=S.WITHDRAWN)
    response = client.post(f"/volunteering/applications/{application_id}/reject", data={"reason": "Late"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html and "withdrawn" in html.lower()
    assert _get(app, application_id).status == S.WITHDRAWN
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []


# ---------------------------------------------------------------------------------------------
# Who may use the pages


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.APPLICANT, Role.TRAINER])
def test_other_roles_are_forbidden(app, client, login_as, role):
    application_id = _make(app)
    login_as(role)
    assert client.get("/volunteering/applications").status_code == 403
    assert client.get(f"/volunteering/applications/{application_id}").status_code == 403
    assert client.post(f"/volunteering/applications/{application_id}/shortlist").status_code == 403
    assert client.get(f"/volunteering/applications/{application_id}/reject").status_code == 403
    assert client.post(f"/volunteering/applications/{application_id}/reject", data={"reason": "x"}).status_code == 403
    assert _get(app, application_id).status == S.SUBMITTED


def test_signed_out_people_are_sent_to_sign_in(client):
    assert client.get("/volunteering/applications").status_code == 302


# ---------------------------------------------------------------------------------------------
# Notes


def test_a_coordinator_adds_a_note_that_shows_on_the_application(app, client, coordinator):
    application_id = _make(app)
    response = client.post(f"/volunteering/applications/{application_id}/notes",
                           data={"text": "Spoke to Zoë: she can't do Mondays."})
    assert response.status_code == 302 and response.headers["Location"].endswith("#notes")
    page = client.get(f"/volunteering/applications/{application_id}").get_data(as_text=True)
    assert "Spoke to Zoë: she can&#39;t do Mondays." in page
    # A double click adds one note.
    client.post(f"/volunteering/applications/{application_id}/notes",
                data={"text": "Spoke to Zoë: she can't do Mondays."})
    with app.app_context():
        assert len(queries.list_application_notes(db.session, application_id)) == 1


def test_an_empty_note_shows_an_error_summary(app, client, coordinator):
    application_id = _make(app)
    response = client.post(f"/volunteering/applications/{application_id}/notes", data={"text": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html and "Enter the note" in html and 'href="#text"' in html


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.VOLUNTEER, Role.TRAINER])
def test_other_roles_cannot_add_or_see_notes(app, client, login_as, role):
    application_id = _make(app)
    login_as(role)
    response = client.post(f"/volunteering/applications/{application_id}/notes", data={"text": "Sneaky"})
    assert response.status_code in (403, 404)
    with app.app_context():
        assert queries.list_application_notes(db.session, application_id) == []


def test_a_closed_application_shows_when_its_personal_details_will_be_erased(app, client, coordinator):
    application_id = _make(app, status=S.REJECTED)
    page = client.get(f"/volunteering/applications/{application_id}").get_data(as_text=True)
    assert "will be erased on 23 November 2027" in page
