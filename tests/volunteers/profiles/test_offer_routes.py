"""The offer page through the Flask client: what is missing, making the offer, the applicant's progress
page afterwards, and who may reach it."""

from __future__ import annotations

import html as html_lib

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.models import Application, ApplicationStatus, InterviewOutcome
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.references import services as reference_services
from tests.volunteers.builders import NOW, make_application, make_coordinator

S = ApplicationStatus


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _make(app, *, ready: bool = True, user_id: int | None = None) -> int:
    """An interviewed application; when `ready`, with the panel's offer and two satisfactory references."""
    with app.app_context():
        user = db.session.get(User, user_id) if user_id else None
        application = make_application(db.session, status=S.INTERVIEWED, user=user)
        application.interview_outcome = InterviewOutcome.OFFER if ready else InterviewOutcome.HOLD
        coordinator = make_coordinator(db.session)
        for position in (1, 2) if ready else (1,):
            reference_services.record_reference(
                db.session, application.id, position, received_by="post", summary="A glowing letter.",
                is_satisfactory="yes", note="", actor=coordinator, now=NOW,
            )
        db.session.commit()
        return application.id


def _text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def test_the_offer_page_lists_what_is_missing_and_refuses_with_an_error_summary(app, client, login_as):
    login_as(Role.COORDINATOR)
    application_id = _make(app, ready=False)
    url = f"/volunteering/applications/{application_id}/offer"
    page = client.get(url)
    assert page.status_code == 200
    html = _text(page)
    assert "The interview outcome is “hold”, not “offer”" in html
    assert "The reference from Zoë Ní Bhriain has not been requested" in html
    response = client.post(url)
    assert response.status_code == 409
    html = _text(response)
    assert "govuk-error-summary" in html and "An offer cannot be made yet." in html
    with app.app_context():
        assert db.session.get(Application, application_id).status == S.INTERVIEWED
        assert db.session.scalars(select(Volunteer)).all() == []


def test_making_the_offer_moves_the_applicant_to_vetting(app, client, login_as):
    applicant = login_as(Role.APPLICANT)
    application_id = _make(app, user_id=applicant.id)
    client.post("/sign-out")
    login_as(Role.COORDINATOR)
    url = f"/volunteering/applications/{application_id}/offer"
    page = _text(client.get(url))
    assert "4-day facilitator course" in page and "Make the offer" in page
    response = client.post(url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/volunteering/applications/{application_id}")
    assert client.post(url).status_code == 302  # a second click changes nothing (checked below)
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application.status == S.OFFERED
        [volunteer] = db.session.scalars(select(Volunteer)).all()
        assert volunteer.status == VolunteerStatus.VETTING and volunteer.user_id == applicant.id
        assert db.session.get(User, applicant.id).roles == {Role.APPLICANT, Role.VOLUNTEER}
        offers = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "volunteers/offer_made"))
        assert len(offers.all()) == 1
    detail = _text(client.get(response.headers["Location"]))
    assert "has been offered a place and is now in vetting" in detail
    client.post("/sign-out")
    client.post("/sign-in", data={"email": applicant.email, "password": "kettle-orchard-lantern-42"})
    progress = _text(client.get("/volunteering/application/progress"))
    assert "Vetting (you are here)" in progress and "References (done)" in progress


def test_the_application_page_offers_the_button_only_when_ready(app, client, login_as):
    login_as(Role.COORDINATOR)
    ready_id = _make(app)
    not_ready_id = _make(app, ready=False)
    ready = _text(client.get(f"/volunteering/applications/{ready_id}"))
    assert f"/volunteering/applications/{ready_id}/offer" in ready and "Make an offer" in ready
    not_ready = _text(client.get(f"/volunteering/applications/{not_ready_id}"))
    assert "Before you can make an offer" in not_ready and "Make an offer" not in not_ready


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.VOLUNTEER, Role.TRAINER, Role.ADMIN])
def test_other_roles_cannot_make_offers(app, client, login_as, role):
    application_id = _make(app)
    login_as(role)
    url = f"/volunteering/applications/{application_id}/offer"
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    with app.app_context():
        assert db.session.get(Application, application_id).status == S.INTERVIEWED


def test_an_unknown_or_draft_application_is_not_found(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        draft = make_application(db.session)
        db.session.commit()
        draft_id = draft.id
    assert client.get(f"/volunteering/applications/{draft_id}/offer").status_code == 404
    assert client.post("/volunteering/applications/99999/offer").status_code == 404
