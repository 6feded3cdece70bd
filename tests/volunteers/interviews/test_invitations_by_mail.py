"""The interview e-mails as they arrive at a real SMTP server, with their .ics parsed back: booked
(REQUEST, SEQUENCE 0), moved (same UID, REQUEST, SEQUENCE 1), cancelled (CANCEL, SEQUENCE 2); a
cancelled slot's CANCEL; the reminder sent once however often the job runs."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import icalendar
import pytest

from portal.core import clock, jobs
from portal.core.accounts import Role
from portal.extensions import db
from portal.volunteers.interviews import services
from portal.volunteers.models import ApplicationStatus
from portal.wiring import connect_handlers
from tests.builders import PASSWORD
from tests.smtp import deliver_outbox
from tests.volunteers.builders import NOW, make_application
from tests.volunteers.interviews.builders import make_slot

S = ApplicationStatus
EMAIL = "siobhan@example.org"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _ics(message: EmailMessage) -> tuple[icalendar.Calendar, icalendar.Event]:
    [part] = [part for part in message.iter_attachments() if part.get_filename() == "interview.ics"]
    parsed = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    [event] = parsed.walk("VEVENT")
    return parsed, event


def _arrived(app, smtp) -> list[EmailMessage]:
    deliver_outbox(app)
    return smtp.inbox.to(EMAIL)


def test_book_move_and_cancel_arrive_with_one_uid_and_a_rising_sequence(app, client, login_as, smtp):
    coordinator = login_as(Role.COORDINATOR)
    with app.app_context():
        first = make_slot(db.session, day=dt.date(2026, 12, 1))
        later = make_slot(db.session, day=dt.date(2027, 4, 6), start_time=dt.time(18, 0))  # BST
        application = make_application(db.session, status=S.SHORTLISTED)
        db.session.commit()
        first_id, later_id, application_id = first.id, later.id, application.id
        sign_in_email = application.user.email
    client.post(f"/volunteering/applications/{application_id}/interview/invite")
    [invitation] = _arrived(app, smtp)
    assert "http://localhost/volunteering/application/interview" in invitation.get_body(("plain",)).get_content()
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": sign_in_email, "password": PASSWORD}).status_code == 302

    assert client.post("/volunteering/application/interview", data={"slot_id": first_id}).status_code == 302
    _invitation, booked = _arrived(app, smtp)
    calendar, event = _ics(booked)
    assert str(calendar["METHOD"]) == "REQUEST"
    uid = str(event["UID"])
    assert uid.startswith("interview-booking-") and uid.endswith("@rj-portal")
    assert event["SEQUENCE"] == 0
    assert event["DTSTART"].to_ical() == b"20261201T100000Z"
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    assert "10:00 GMT" in booked["Subject"]
    booking_id = int(uid.removeprefix("interview-booking-").removesuffix("@rj-portal"))

    client.post(f"/volunteering/interviews/bookings/{booking_id}/change", data={"slot_id": later_id})
    *_, moved = _arrived(app, smtp)
    calendar, event = _ics(moved)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 1
    assert event["DTSTART"].to_ical() == b"20270406T170000Z"  # 18:00 BST
    assert "18:00 BST" in moved["Subject"]

    client.post(f"/volunteering/interviews/bookings/{booking_id}/cancel", data={"reason": ""})
    *_, cancelled = _arrived(app, smtp)
    calendar, event = _ics(cancelled)
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 2
    assert len(smtp.inbox.to(EMAIL)) == 4
    assert coordinator.id


def test_a_cancelled_slot_sends_each_booked_applicant_a_cancel(app, smtp):
    with app.app_context():
        slot = make_slot(db.session, capacity=2)
        coordinator = slot.interviewers[0]
        first = make_application(db.session, status=S.SHORTLISTED)
        second = make_application(db.session, status=S.SHORTLISTED, contact_details={"email": "aoife@example.org"})
        bookings = [services.book_interview(db.session, a.id, slot.id, actor=coordinator, now=NOW)
                    for a in (first, second)]
        services.cancel_slot(db.session, slot.id, "Interviewer ill", actor=coordinator, now=NOW)
        db.session.commit()
        uids = [f"interview-booking-{booking.id}@rj-portal" for booking in bookings]
    deliver_outbox(app)
    for address, uid in zip((EMAIL, "aoife@example.org"), uids, strict=True):
        _booked, cancelled = smtp.inbox.to(address)
        calendar, event = _ics(cancelled)
        assert str(calendar["METHOD"]) == "CANCEL"
        assert str(event["UID"]) == uid and event["SEQUENCE"] == 1


def test_the_reminder_arrives_once_however_often_the_job_runs(app, smtp, monkeypatch):
    connect_handlers()
    with app.app_context():
        slot = make_slot(db.session)
        application = make_application(db.session, status=S.SHORTLISTED)
        services.book_interview(db.session, application.id, slot.id, actor=slot.interviewers[0], now=NOW)
        db.session.commit()
        day_before = slot.starts_at - dt.timedelta(hours=18)
        for minutes in (0, 5, 10):
            jobs.run_all(db.session, now=day_before + dt.timedelta(minutes=minutes),
                         only="volunteers.interview-reminders")
    monkeypatch.setattr(clock, "now", lambda: day_before + dt.timedelta(hours=1))
    deliver_outbox(app)
    reminders = [m for m in smtp.inbox.to(EMAIL) if m["Subject"].strip().startswith("Reminder")]
    assert len(reminders) == 1
    assert "Tuesday 1 December 2026, 10:00 GMT" in reminders[0].get_body(("plain",)).get_content()
