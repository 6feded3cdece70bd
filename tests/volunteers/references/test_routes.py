"""Reference pages through the Flask client: the coordinator's pages, the referee's public form reached
by its single-use link, the applicant's progress panel, and who may reach what."""

from __future__ import annotations

import datetime as dt
import html as html_lib

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.models import ApplicationStatus
from portal.volunteers.references import services
from portal.volunteers.references.models import Reference, ReferenceStatus
from tests.volunteers.builders import NOW, make_application, make_coordinator
from tests.volunteers.references.helpers import GOOD_ANSWERS, LINK_PREFIX, messages, tokens_sent_to

S = ApplicationStatus


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _make(app, status=S.INTERVIEWED, user_id=None) -> int:
    with app.app_context():
        user = db.session.get(User, user_id) if user_id else None
        application = make_application(db.session, status=status, user=user)
        db.session.commit()
        return application.id


def _request(app, application_id) -> list[int]:
    """Ask for both references through the service (a coordinator made for the purpose)."""
    with app.app_context():
        references = services.request_references(db.session, application_id, link_prefix=LINK_PREFIX,
                                                  actor=make_coordinator(db.session), now=NOW)
        db.session.commit()
        return [reference.id for reference in references]


def _token(app, email="zoe@example.org", index=-1) -> str:
    with app.app_context():
        return tokens_sent_to(db.session, email)[index]


def _reference(app, reference_id) -> Reference:
    with app.app_context():
        reference = db.session.get(Reference, reference_id)
        db.session.expunge(reference)
        return reference


def _text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


# ---------------------------------------------------------------------------------------------
# Requesting


def test_request_page_lists_the_referees_and_sending_emails_both(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app, status=S.SHORTLISTED)
    page = client.get(f"/volunteering/applications/{application_id}/references/request")
    assert page.status_code == 200
    assert "Jean-Luc Picard" in _text(page) and "zoe@example.org" in _text(page)
    response = client.post(f"/volunteering/applications/{application_id}/references/request")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/volunteering/applications/{application_id}")
    with app.app_context():
        sent = messages(db.session, "volunteers/reference_request")
        assert sorted(m.recipients[0] for m in sent) == ["jl@example.org", "zoe@example.org"]
        assert "http://localhost/volunteering/reference/" in sent[0].text_body
    detail = _text(client.get(response.headers["Location"]))
    assert "We have e-mailed both referees" in detail
    assert "References" in detail and detail.count("Requested") >= 2


def test_requesting_twice_by_double_click_sends_each_referee_one_email(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app, status=S.SHORTLISTED)
    for _ in range(2):
        assert client.post(f"/volunteering/applications/{application_id}/references/request").status_code == 302
    with app.app_context():
        assert len(messages(db.session, "volunteers/reference_request")) == 2
        assert len(db.session.scalars(select(Reference)).all()) == 2


def test_the_emailed_link_opens_the_form(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app, status=S.SHORTLISTED)
    client.post(f"/volunteering/applications/{application_id}/references/request")
    client.post("/sign-out")
    page = client.get(f"/volunteering/reference/{_token(app)}")
    assert page.status_code == 200 and "Reference for Siobhán O'Brien" in _text(page)


def test_requesting_for_a_submitted_application_is_refused_with_an_error_summary(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app, status=S.SUBMITTED)
    response = client.post(f"/volunteering/applications/{application_id}/references/request")
    assert response.status_code == 409
    html = _text(response)
    assert "govuk-error-summary" in html and "once an application is shortlisted" in html
    with app.app_context():
        assert db.session.scalars(select(Reference)).all() == []


def test_the_references_panel_is_hidden_before_the_shortlist(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app, status=S.SUBMITTED)
    html = _text(client.get(f"/volunteering/applications/{application_id}"))
    assert 'id="references"' not in html


def test_resend_to_a_corrected_address(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app)
    first, _ = _request(app, application_id)
    url = f"/volunteering/applications/{application_id}/references/{first}/resend"
    page = client.get(url)
    assert page.status_code == 200 and 'value="jl@example.org"' in page.get_data(as_text=True)
    bad = client.post(url, data={"email": "picard at example"})
    assert bad.status_code == 400
    assert "govuk-error-summary" in _text(bad) and "Enter an email address in the correct format" in _text(bad)
    good = client.post(url, data={"email": "picard@example.org"})
    assert good.status_code == 302
    assert _reference(app, first).email == "picard@example.org"
    with app.app_context():
        assert tokens_sent_to(db.session, "picard@example.org")


# ---------------------------------------------------------------------------------------------
# The referee's form


def test_a_referee_sends_their_reference_once(app, client):
    application_id = _make(app)
    _, second = _request(app, application_id)
    url = f"/volunteering/reference/{_token(app)}"
    page = client.get(url)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'value="Zoë Ní Bhriain"' in page.get_data(as_text=True)
    assert "not shown to Siobhán O'Brien" in _text(page)
    response = client.post(url, data={**GOOD_ANSWERS, "confirmed": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/volunteering/reference-sent")
    assert "Thank you for your reference" in _text(client.get(response.headers["Location"]))
    reference = _reference(app, second)
    assert reference.status == ReferenceStatus.RECEIVED
    assert reference.capacity == "Fellow governor at St Helena's school"
    used = client.get(url)
    assert used.status_code == 410 and "You have already sent this reference" in _text(used)
    again = client.post(url, data={**GOOD_ANSWERS, "reliability": "Second go", "confirmed": "y"})
    assert again.status_code == 410
    assert _reference(app, second).reliability == GOOD_ANSWERS["reliability"]
    with app.app_context():
        assert len(db.session.scalars(select(Reference)).all()) == 2


def test_missing_answers_show_an_error_summary_and_keep_what_was_typed(app, client):
    application_id = _make(app)
    _request(app, application_id)
    url = f"/volunteering/reference/{_token(app)}"
    response = client.post(url, data={"referee_name": "Seán O'Connor-Ní Bhriain", "known_for": "",
                                      "capacity": "Neighbour – très proche", "has_concerns": "yes",
                                      "suitability": "x" * 2001})
    assert response.status_code == 400
    html = _text(response)
    assert "govuk-error-summary" in html
    for message in ("Enter how long you have known the applicant",
                    "Your answer about suitability must be 2,000 characters or fewer (you have entered 2,001)",
                    "Describe your concerns", "Tell us how reliable the applicant is",
                    "Select whether you would recommend the applicant as a volunteer",
                    "Confirm that what you have written is true to the best of your knowledge"):
        assert message in html, message
    assert 'value="Seán O\'Connor-Ní Bhriain"' in html and "Neighbour – très proche" in html
    assert client.get(url).status_code == 200  # the link still works


def test_an_expired_link_and_a_wrong_token(app, client, monkeypatch):
    application_id = _make(app)
    _request(app, application_id)
    token = _token(app)
    monkeypatch.setattr(clock, "now", lambda: NOW + dt.timedelta(days=29))
    expired = client.get(f"/volunteering/reference/{token}")
    assert expired.status_code == 410 and "This link has expired" in _text(expired)
    assert client.post(f"/volunteering/reference/{token}", data=GOOD_ANSWERS).status_code == 410
    assert client.get("/volunteering/reference/made-up-token").status_code == 404


# ---------------------------------------------------------------------------------------------
# Reading and deciding


def _answered(app, client) -> tuple[int, int]:
    application_id = _make(app)
    _, second = _request(app, application_id)
    client.post(f"/volunteering/reference/{_token(app)}", data={**GOOD_ANSWERS, "confirmed": "y"})
    return application_id, second


def test_the_coordinator_reads_a_reference_and_records_a_decision(app, client, login_as):
    application_id, reference_id = _answered(app, client)
    login_as(Role.COORDINATOR)
    url = f"/volunteering/applications/{application_id}/references/{reference_id}"
    page = client.get(url)
    assert page.status_code == 200
    html = _text(page)
    assert GOOD_ANSWERS["suitability"] in html and "Received: decision needed" in html
    bad = client.post(url, data={"is_satisfactory": "no", "note": ""})
    assert bad.status_code == 400
    assert "govuk-error-summary" in _text(bad) and "Enter a note saying why" in _text(bad)
    assert _reference(app, reference_id).is_satisfactory is None
    good = client.post(url, data={"is_satisfactory": "yes", "note": "Specific and warm."})
    assert good.status_code == 302
    assert _reference(app, reference_id).is_satisfactory is True
    assert "Satisfactory" in _text(client.get(good.headers["Location"]))


def test_a_reference_under_another_applications_id_is_not_found(app, client, login_as):
    application_id, reference_id = _answered(app, client)
    other_id = _make(app)
    login_as(Role.COORDINATOR)
    assert client.get(f"/volunteering/applications/{other_id}/references/{reference_id}").status_code == 404
    assert client.get(f"/volunteering/applications/{application_id}/references/99999").status_code == 404
    assert client.get(f"/volunteering/applications/{application_id}/referees/3/record").status_code == 404
    assert client.get("/volunteering/applications/99999/references/request").status_code == 404


def test_recording_a_reference_by_phone(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app)
    url = f"/volunteering/applications/{application_id}/referees/1/record"
    page = client.get(url)
    assert page.status_code == 200 and "Record the reference from Jean-Luc Picard" in _text(page)
    bad = client.post(url, data={"received_by": "phone", "summary": "", "is_satisfactory": ""})
    assert bad.status_code == 400
    html = _text(bad)
    assert "govuk-error-summary" in html and "Enter a summary of what the referee said" in html
    assert "Select whether the reference is satisfactory" in html
    good = client.post(url, data={"received_by": "phone", "summary": "Called: knows her 10 years, Zoë's friend.",
                                  "is_satisfactory": "yes", "note": ""})
    assert good.status_code == 302
    with app.app_context():
        reference = db.session.scalar(select(Reference).where(Reference.application_id == application_id))
        assert reference.summary == "Called: knows her 10 years, Zoë's friend." and reference.is_satisfactory
    assert "Satisfactory" in _text(client.get(good.headers["Location"]))


# ---------------------------------------------------------------------------------------------
# Permissions and the applicant's view


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.VOLUNTEER, Role.TRAINER, Role.ADMIN])
def test_other_roles_cannot_reach_the_coordinator_pages(app, client, login_as, role):
    application_id, reference_id = _answered(app, client)
    login_as(role)
    base = f"/volunteering/applications/{application_id}"
    for url in (f"{base}/references/request", f"{base}/references/{reference_id}",
                f"{base}/references/{reference_id}/resend", f"{base}/referees/1/record"):
        assert client.get(url).status_code == 403, url
        assert client.post(url, data={"is_satisfactory": "yes", "email": "a@example.org"}).status_code == 403, url
    assert _reference(app, reference_id).is_satisfactory is None


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    application_id, reference_id = _answered(app, client)
    response = client.get(f"/volunteering/applications/{application_id}/references/{reference_id}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_the_applicant_sees_progress_but_never_what_referees_wrote(app, client, login_as):
    applicant = login_as(Role.APPLICANT)
    application_id = _make(app, user_id=applicant.id)
    _request(app, application_id)
    page = _text(client.get("/volunteering/application/progress"))
    assert "Your references" in page and page.count("Asked on 23 November 2026") == 2
    client.post("/sign-out")
    client.post(f"/volunteering/reference/{_token(app)}", data={**GOOD_ANSWERS, "confirmed": "y"})
    client.post("/sign-in", data={"email": applicant.email, "password": "kettle-orchard-lantern-42"})
    page = _text(client.get("/volunteering/application/progress"))
    assert "Received" in page and "Asked on 23 November 2026" in page
    assert GOOD_ANSWERS["suitability"] not in page and GOOD_ANSWERS["capacity"] not in page


def test_no_mail_is_sent_for_a_bad_request(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app, status=S.WITHDRAWN)
    assert client.post(f"/volunteering/applications/{application_id}/references/request").status_code == 409
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage)).all() == []
