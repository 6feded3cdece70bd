"""Interview pages through the Flask client: the slot list, creating (singly and as a series),
changing and cancelling slots, inviting, booking (by the applicant and for them), changing and
cancelling a booking, the interview record, the two panels, and who may reach each page."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from sqlalchemy import func, select

from portal.core import calendar, clock
from portal.core.accounts import Role, User
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.interviews import services
from portal.volunteers.interviews.models import BookingStatus, Criterion, InterviewBooking, InterviewSlot, SlotStatus
from portal.volunteers.models import Application, ApplicationStatus, InterviewOutcome
from tests.volunteers.builders import NOW, make_application, make_coordinator
from tests.volunteers.interviews.builders import make_slot

S = ApplicationStatus


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def coordinator(login_as):
    return login_as(Role.COORDINATOR, name="Priya Shah")


def _slot(app, *, interviewer_id: int | None = None, **overrides) -> int:
    with app.app_context():
        interviewer = db.session.get(User, interviewer_id) if interviewer_id else make_coordinator(db.session)
        slot = make_slot(db.session, coordinator=interviewer, **overrides)
        db.session.commit()
        return slot.id


def _application(app, status=S.SHORTLISTED, **overrides) -> tuple[int, str]:
    with app.app_context():
        application = make_application(db.session, status=status, **overrides)
        db.session.commit()
        return application.id, application.user.email


def _book(app, application_id: int, slot_id: int) -> int:
    with app.app_context():
        actor = make_coordinator(db.session)
        booking = services.book_interview(db.session, application_id, slot_id, actor=actor, now=NOW)
        db.session.commit()
        return booking.id


def _status(app, application_id: int) -> ApplicationStatus:
    with app.app_context():
        return db.session.get(Application, application_id).status


def _mails(app, template: str) -> list[OutboxMessage]:
    with app.app_context():
        messages = list(db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == f"volunteers/{template}").order_by(OutboxMessage.id)
        ))
        for message in messages:
            db.session.expunge(message)
        return messages


def _sign_in_as_applicant(client, email: str) -> None:
    client.post("/sign-out")
    response = client.post("/sign-in", data={"email": email, "password": "kettle-orchard-lantern-42"})
    assert response.status_code == 302


def _slot_form(**overrides) -> dict:
    values = {
        "day": ["1", "12", "2026"], "start_time": "10:00", "length_minutes": "60", "mode": "in_person",
        "venue": "Colchester Town Hall", "address": "High Street, Colchester", "online_link": "",
        "capacity": "1", "every_minutes": "", "until": "", "weeks": "1",
    }
    values.update(overrides)
    return values


def _error_summary(html: str) -> str:
    assert "govuk-error-summary" in html
    return html


# ---------------------------------------------------------------------------------------------
# Who may reach which page


COORDINATOR_PAGES = [
    "/volunteering/interviews", "/volunteering/interviews/new",
]


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.VOLUNTEER, Role.TRAINER, Role.ADMIN])
def test_only_coordinators_reach_the_slot_pages(app, client, login_as, role):
    slot_id = _slot(app)
    application_id, _email = _application(app)
    login_as(role)
    for path in [*COORDINATOR_PAGES, f"/volunteering/interviews/{slot_id}/edit",
                 f"/volunteering/interviews/{slot_id}/cancel",
                 f"/volunteering/applications/{application_id}/interview/book",
                 f"/volunteering/applications/{application_id}/interview/record"]:
        assert client.get(path).status_code == 403, path
    assert client.post(f"/volunteering/applications/{application_id}/interview/invite").status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client):
    assert client.get("/volunteering/interviews").status_code == 302
    assert client.get("/volunteering/application/interview").status_code == 302


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.TRAINER, Role.ADMIN])
def test_other_roles_cannot_reach_bookings(app, client, login_as, role):
    application_id, _email = _application(app)
    booking_id = _book(app, application_id, _slot(app))
    login_as(role)
    assert client.get(f"/volunteering/interviews/bookings/{booking_id}/change").status_code == 403
    assert client.get(f"/volunteering/interviews/bookings/{booking_id}/cancel").status_code == 403
    assert client.get("/volunteering/application/interview").status_code == 403


def test_an_applicant_reaching_someone_elses_booking_gets_404(app, client):
    theirs, _ = _application(app)
    booking_id = _book(app, theirs, _slot(app))
    _mine, email = _application(app)
    _sign_in_as_applicant(client, email)
    assert client.get(f"/volunteering/interviews/bookings/{booking_id}/change").status_code == 404
    assert client.post(f"/volunteering/interviews/bookings/{booking_id}/cancel").status_code == 404
    assert client.get("/volunteering/interviews/bookings/99999/change").status_code == 404
    assert _status(app, theirs) == S.INTERVIEW_BOOKED


# ---------------------------------------------------------------------------------------------
# Slots


def test_the_slot_list_shows_who_is_booked_and_places_left(app, client, coordinator):
    slot_id = _slot(app, capacity=2, interviewer_id=coordinator.id)
    application_id, _ = _application(app, personal_details={"full_name": "Zoë Ní Bhriain"})
    _book(app, application_id, slot_id)
    page = client.get("/volunteering/interviews")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Tuesday 1 December 2026, 10:00 GMT to 11:00" in html
    assert "Zoë Ní Bhriain" in html and "1 of 2" in html and "Priya Shah" in html


def test_creating_a_series_of_slots(app, client, coordinator):
    assert client.get("/volunteering/interviews/new").status_code == 200
    response = client.post("/volunteering/interviews/new", data=_slot_form(
        interviewer_ids=[str(coordinator.id)], every_minutes="75", until="13:00", weeks="2"))
    assert response.status_code == 302 and response.location.endswith("/volunteering/interviews")
    with app.app_context():
        starts = list(db.session.scalars(select(InterviewSlot.starts_at).order_by(InterviewSlot.starts_at)))
    assert [f"{start:%d %H:%M}" for start in starts] == ["01 10:00", "01 11:15", "08 10:00", "08 11:15"]
    assert "4 interview times created" in client.get("/volunteering/interviews").get_data(as_text=True)


def test_creating_an_online_slot_in_summer_stores_utc(app, client, coordinator):
    response = client.post("/volunteering/interviews/new", data=_slot_form(
        day=["15", "6", "2027"], start_time="14.30", mode="online", venue="", address="",
        online_link="https://meet.example.org/rj-interview", interviewer_ids=[str(coordinator.id)]))
    assert response.status_code == 302
    with app.app_context():
        slot = db.session.scalar(select(InterviewSlot))
        assert slot.starts_at == dt.datetime(2027, 6, 15, 13, 30, tzinfo=dt.UTC)
        assert slot.online_link == "https://meet.example.org/rj-interview" and slot.venue is None


def test_bad_slot_input_shows_an_error_summary(app, client, coordinator):
    response = client.post("/volunteering/interviews/new", data=_slot_form(
        day=["1", "11", "2026"], length_minutes="0", venue="", start_time="25:00"))
    html = _error_summary(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Enter start time as a 24-hour time, like 14:30" in html
    response = client.post("/volunteering/interviews/new", data=_slot_form(
        day=["1", "11", "2026"], length_minutes="0", venue=""))
    html = _error_summary(response.get_data(as_text=True))
    assert response.status_code == 400
    for message in ("The interview must be in the future", "The length must be between 10 and 240 minutes",
                    "Enter the venue for an interview in person", "Select at least one interviewer"):
        assert message in html
    response = client.post("/volunteering/interviews/new", data=_slot_form(
        interviewer_ids=[str(coordinator.id)], every_minutes="60", until="09:00"))
    assert "The end time must be after the first interview ends (11:00)" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(InterviewSlot.id))) == 0


def test_changing_a_slots_time_tells_everyone_booked(app, client, coordinator):
    slot_id = _slot(app, interviewer_id=coordinator.id)
    application_id, _ = _application(app)
    _book(app, application_id, slot_id)
    page = client.get(f"/volunteering/interviews/{slot_id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="10:00"' in html and "1 applicant has booked this time" in html
    response = client.post(f"/volunteering/interviews/{slot_id}/edit", data=_slot_form(
        start_time="11:30", interviewer_ids=[str(coordinator.id)]))
    assert response.status_code == 302
    updates = [m for m in _mails(app, "interview_booked") if "has changed" in m.subject]
    assert len(updates) == 1 and "11:30 GMT" in updates[0].subject
    bad = client.post(f"/volunteering/interviews/{slot_id}/edit", data=_slot_form(
        mode="online", online_link="", interviewer_ids=[str(coordinator.id)]))
    assert bad.status_code == 400
    assert "Enter the link to the video call" in _error_summary(bad.get_data(as_text=True))


def test_cancelling_a_slot(app, client, coordinator):
    slot_id = _slot(app, interviewer_id=coordinator.id)
    application_id, _ = _application(app)
    _book(app, application_id, slot_id)
    page = client.get(f"/volunteering/interviews/{slot_id}/cancel")
    assert page.status_code == 200 and "Siobhán O&#39;Brien" in page.get_data(as_text=True)
    bad = client.post(f"/volunteering/interviews/{slot_id}/cancel", data={"reason": ""})
    assert "Enter why you are cancelling this interview time" in _error_summary(bad.get_data(as_text=True))
    response = client.post(f"/volunteering/interviews/{slot_id}/cancel", data={"reason": "Room flooded"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(InterviewSlot, slot_id).status == SlotStatus.CANCELLED
    assert _status(app, application_id) == S.SHORTLISTED
    [cancelled] = _mails(app, "interview_cancelled")
    assert "http://localhost/volunteering/application/interview" in cancelled.text_body


# ---------------------------------------------------------------------------------------------
# Inviting and booking for an applicant


def test_the_application_page_offers_to_invite_or_book_a_shortlisted_applicant(app, client, coordinator):
    application_id, _ = _application(app)
    html = client.get(f"/volunteering/applications/{application_id}").get_data(as_text=True)
    assert "Invite to book an interview" in html and "Book a time for them" in html
    response = client.post(f"/volunteering/applications/{application_id}/interview/invite")
    assert response.status_code == 302
    [invitation] = _mails(app, "interview_invitation")
    assert "http://localhost/volunteering/application/interview" in invitation.text_body
    html = client.get(f"/volunteering/applications/{application_id}").get_data(as_text=True)
    assert "Invited to book on 23 November 2026 at 10:00" in html and "Invite again" in html


def test_inviting_someone_not_shortlisted_says_why(app, client, coordinator):
    application_id, _ = _application(app, status=S.SUBMITTED)
    response = client.post(f"/volunteering/applications/{application_id}/interview/invite", follow_redirects=True)
    assert "Only a shortlisted applicant can be invited" in response.get_data(as_text=True)
    assert _mails(app, "interview_invitation") == []


def test_a_coordinator_books_a_time_for_an_applicant_even_at_short_notice(app, client, coordinator):
    soon = _slot(app, day=dt.date(2026, 11, 23), start_time=dt.time(15, 0))
    application_id, _ = _application(app)
    page = client.get(f"/volunteering/applications/{application_id}/interview/book")
    assert page.status_code == 200 and "Monday 23 November 2026, 15:00 GMT" in page.get_data(as_text=True)
    bad = client.post(f"/volunteering/applications/{application_id}/interview/book", data={})
    assert "Select an interview time" in _error_summary(bad.get_data(as_text=True))
    response = client.post(f"/volunteering/applications/{application_id}/interview/book", data={"slot_id": soon})
    assert response.status_code == 302
    assert _status(app, application_id) == S.INTERVIEW_BOOKED
    html = client.get(f"/volunteering/applications/{application_id}").get_data(as_text=True)
    assert "Booked for" in html and "Monday 23 November 2026, 15:00 GMT" in html
    assert "Record the interview" in html and "Change the interview time" in html


# ---------------------------------------------------------------------------------------------
# The applicant's own interview


def test_the_progress_page_asks_a_shortlisted_applicant_to_book(app, client):
    _slot(app)
    _application_id, email = _application(app)
    _sign_in_as_applicant(client, email)
    html = client.get("/volunteering/application/progress").get_data(as_text=True)
    assert "Action needed" in html and "Book your interview" in html and "1 free interview time" in html


def test_the_applicant_books_a_time_once_however_often_they_press(app, client, smtp):
    slot_id = _slot(app)
    too_soon = _slot(app, day=dt.date(2026, 11, 24), start_time=dt.time(9, 0))
    application_id, email = _application(app)
    _sign_in_as_applicant(client, email)
    page = client.get("/volunteering/application/interview")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Tuesday 1 December 2026, 10:00 GMT" in html and "1 place left" in html
    assert "Tuesday 24 November" not in html  # inside the 24 hours' notice
    bad = client.post("/volunteering/application/interview", data={})
    assert "Select an interview time" in _error_summary(bad.get_data(as_text=True))
    refused = client.post("/volunteering/application/interview", data={"slot_id": too_soon})
    assert refused.status_code == 409
    assert "at least 24 hours ahead" in _error_summary(refused.get_data(as_text=True))
    first = client.post("/volunteering/application/interview", data={"slot_id": slot_id})
    second = client.post("/volunteering/application/interview", data={"slot_id": slot_id})
    assert first.status_code == second.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(InterviewBooking.id))) == 1
    assert _status(app, application_id) == S.INTERVIEW_BOOKED
    html = client.get("/volunteering/application/progress").get_data(as_text=True)
    assert "Your interview" in html and "Colchester Town Hall" in html and "Change your interview time" in html
    assert len(_mails(app, "interview_booked")) == 1


def test_the_applicant_changes_and_cancels_their_interview(app, client):
    first = _slot(app)
    later = _slot(app, day=dt.date(2026, 12, 3))
    application_id, email = _application(app)
    booking_id = _book(app, application_id, first)
    _sign_in_as_applicant(client, email)
    page = client.get(f"/volunteering/interviews/bookings/{booking_id}/change")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Thursday 3 December 2026" in html
    moved = client.post(f"/volunteering/interviews/bookings/{booking_id}/change", data={"slot_id": later})
    assert moved.status_code == 302 and moved.location.endswith("/volunteering/application/progress")
    with app.app_context():
        booking = db.session.get(InterviewBooking, booking_id)
        assert booking.slot_id == later and booking.sequence == 1
    assert client.get(f"/volunteering/interviews/bookings/{booking_id}/cancel").status_code == 200
    cancelled = client.post(f"/volunteering/interviews/bookings/{booking_id}/cancel", data={"reason": ""})
    assert cancelled.status_code == 302
    with app.app_context():
        booking = db.session.get(InterviewBooking, booking_id)
        assert booking.status == BookingStatus.CANCELLED and booking.sequence == 2
    assert _status(app, application_id) == S.SHORTLISTED
    html = client.get("/volunteering/application/progress").get_data(as_text=True)
    assert "Book your interview" in html


def test_a_cancelled_booking_can_no_longer_be_changed(app, client, coordinator):
    application_id, _ = _application(app)
    booking_id = _book(app, application_id, _slot(app))
    client.post(f"/volunteering/interviews/bookings/{booking_id}/cancel", data={"reason": "Clash"})
    response = client.get(f"/volunteering/interviews/bookings/{booking_id}/change", follow_redirects=True)
    assert "This interview can no longer be changed" in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# The interview record


def _record_form(coordinator_id: int, **overrides) -> dict:
    values = {f"{c.value}_score": "4" for c in Criterion}
    values.update({f"{c.value}_notes": "" for c in Criterion})
    values.update({"outcome": "offer", "reason": "Warm, reflective, clear about safety.",
                   "panel_ids": [str(coordinator_id)]})
    values.update(overrides)
    return values


def test_recording_the_interview(app, client, coordinator):
    application_id, _ = _application(app)
    _book(app, application_id, _slot(app, interviewer_id=coordinator.id))
    page = client.get(f"/volunteering/applications/{application_id}/interview/record")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Understanding of restorative justice values" in html and "Reliability and commitment" in html
    bad = client.post(f"/volunteering/applications/{application_id}/interview/record",
                      data=_record_form(coordinator.id, safety_score="", outcome="", reason=""))
    html = _error_summary(bad.get_data(as_text=True))
    assert bad.status_code == 400
    assert "Select a score for safety awareness" in html and "Enter the reason for the outcome" in html
    good = client.post(f"/volunteering/applications/{application_id}/interview/record",
                       data=_record_form(coordinator.id, communication_notes="Listened well."))
    assert good.status_code == 302
    assert _status(app, application_id) == S.INTERVIEWED
    with app.app_context():
        assert db.session.get(Application, application_id).interview_outcome == InterviewOutcome.OFFER
    html = client.get(f"/volunteering/applications/{application_id}").get_data(as_text=True)
    assert "Interview record" in html and "20 out of 25" in html and "Listened well." in html
    assert "Change the interview record" in html
    edit = client.get(f"/volunteering/applications/{application_id}/interview/record").get_data(as_text=True)
    assert "Listened well." in edit and "Changes you save now are recorded" in edit
    again = client.post(f"/volunteering/applications/{application_id}/interview/record",
                        data=_record_form(coordinator.id, outcome="hold", reason="Wait for references."))
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(Application, application_id).interview_outcome == InterviewOutcome.HOLD


def test_an_interview_not_yet_booked_cannot_be_recorded(app, client, coordinator):
    application_id, _ = _application(app)
    response = client.get(f"/volunteering/applications/{application_id}/interview/record", follow_redirects=True)
    assert "An interview can be recorded only once it is booked" in response.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Calendar feeds


def test_the_booked_interview_is_in_the_applicants_and_interviewers_calendar_feeds(app, client):
    application_id, _ = _application(app)
    with app.app_context():
        interviewer = make_coordinator(db.session)
        slot = make_slot(db.session, coordinator=interviewer)
        booking = services.book_interview(db.session, application_id, slot.id, actor=interviewer, now=NOW)
        applicant = db.session.get(Application, application_id).user
        tokens = [calendar.issue_feed_token(db.session, person, now=NOW) for person in (applicant, interviewer)]
        db.session.commit()
        uid = calendar.event_uid("interview-booking", booking.id)
    for token in tokens:
        response = client.get(f"/account/calendar/{token}.ics")
        assert response.status_code == 200
        [event] = [e for e in icalendar.Calendar.from_ical(response.data).walk("VEVENT") if str(e["UID"]) == uid]
        assert event["DTSTART"].to_ical() == b"20261201T100000Z" and str(event["STATUS"]) == "CONFIRMED"


def test_a_coordinator_moves_and_cancels_a_booking_from_the_application_page(app, client, coordinator):
    first, later = _slot(app), _slot(app, day=dt.date(2026, 12, 3))
    application_id, _ = _application(app)
    booking_id = _book(app, application_id, first)
    moved = client.post(f"/volunteering/interviews/bookings/{booking_id}/change", data={"slot_id": later})
    assert moved.status_code == 302 and moved.location.endswith(f"/volunteering/applications/{application_id}")
    page = client.get(f"/volunteering/interviews/bookings/{booking_id}/cancel")
    assert "The interview with Siobhán O&#39;Brien" in page.get_data(as_text=True)
    cancelled = client.post(f"/volunteering/interviews/bookings/{booking_id}/cancel", data={"reason": "Panel ill"})
    assert cancelled.status_code == 302
    html = client.get(f"/volunteering/applications/{application_id}").get_data(as_text=True)
    assert "Cancelled bookings (1)" in html and "Panel ill" in html and "Book a time for them" in html
    [message] = _mails(app, "interview_cancelled")
    assert "we have had to cancel" in message.text_body


def test_a_cancelled_slot_cannot_be_edited(app, client, coordinator):
    slot_id = _slot(app)
    client.post(f"/volunteering/interviews/{slot_id}/cancel", data={"reason": "Double-booked room"})
    response = client.get(f"/volunteering/interviews/{slot_id}/edit", follow_redirects=True)
    assert "That interview time has been cancelled" in response.get_data(as_text=True)
    assert "Double-booked room" not in client.get("/volunteering/interviews").get_data(as_text=True)
    assert client.get("/volunteering/interviews/99999/edit").status_code == 404
