"""Training e-mails as they arrive at a real SMTP server, .ics parsed back: enrolment (REQUEST, four UIDs,
SEQUENCE 0, UTC across the October clock change), a moved day (same UIDs, that day's SEQUENCE 1),
withdrawal (CANCEL); the day-before reminder sent once however often the job runs."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import icalendar
import pytest

from portal.core import calendar, clock, jobs
from portal.extensions import db
from portal.training import services
from portal.training.models import Cohort
from portal.wiring import connect_handlers
from tests.smtp import deliver_outbox
from tests.training.builders import NOW, london, make_cohort, make_coordinator, make_trainer, make_volunteer

EMAIL = "zoe.ni.bhriain@example.org"
# Thursday 28 October 2027 (BST) to Tuesday 2 November 2027 (GMT): the clocks go back on 31 October.
DATES = [dt.date(2027, 10, 28), dt.date(2027, 10, 29), dt.date(2027, 11, 1), dt.date(2027, 11, 2)]


moment = {"now": NOW}


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    moment["now"] = NOW
    monkeypatch.setattr(clock, "now", lambda: moment["now"])


def _ics(message: EmailMessage) -> icalendar.Calendar:
    [part] = [part for part in message.iter_attachments() if part.get_filename() == "course-days.ics"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def _arrived(app, smtp) -> list[EmailMessage]:
    deliver_outbox(app)
    return smtp.inbox.to(EMAIL)


def test_enrol_move_a_day_and_withdraw_arrive_as_calendar_updates(app, smtp):
    with app.app_context():
        coordinator = make_coordinator(db.session)
        cohort = make_cohort(db.session, trainers=[make_trainer(db.session)], dates=DATES)
        volunteer = make_volunteer(db.session, email=EMAIL, name="Zoë Ní Bhriain")
        enrolment = services.enrol_volunteer(db.session, cohort.id, volunteer.user_id, actor=coordinator, now=NOW)
        db.session.commit()
        cohort_id, enrolment_id, coordinator_id = cohort.id, enrolment.id, coordinator.id

    [enrolled] = _arrived(app, smtp)
    calendar = _ics(enrolled)
    events = list(calendar.walk("VEVENT"))
    assert str(calendar["METHOD"]) == "REQUEST"
    uids = [f"training-enrolment-{enrolment_id}-day-{n}@rj-portal" for n in (1, 2, 3, 4)]
    assert [str(e["UID"]) for e in events] == uids
    assert [int(e["SEQUENCE"]) for e in events] == [0, 0, 0, 0]
    starts = [e.decoded("DTSTART") for e in events]
    assert all(start.utcoffset() == dt.timedelta(0) for start in starts)
    assert [start.hour for start in starts] == [8, 8, 9, 9]  # 09:30 BST, 09:30 BST, 09:30 GMT, 09:30 GMT
    assert "Day 1: Thursday 28 October 2027, 09:30 to 16:30" in enrolled.get_body(("plain",)).get_content()

    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        moved = [*DATES[:3], dt.date(2027, 11, 3)]
        details = services.CohortDetails(
            name=cohort.name, capacity=cohort.capacity, trainer_ids=sorted(cohort.trainer_ids),
            venue_name=cohort.venue_name, venue_address=cohort.venue_address,
            days=[services.DayTimes(day, dt.time(9, 30), dt.time(16, 30)) for day in moved],
        )
        services.update_cohort(db.session, cohort_id, details, actor=db.session.get(type(coordinator), coordinator_id),
                               now=NOW)
        db.session.commit()
    [_, changed] = _arrived(app, smtp)
    events = {str(e["UID"]): e for e in _ics(changed).walk("VEVENT")}
    day4 = events[f"training-enrolment-{enrolment_id}-day-4@rj-portal"]
    assert int(day4["SEQUENCE"]) == 1 and day4.decoded("DTSTART") == london(dt.date(2027, 11, 3), 9, 30)
    assert int(events[f"training-enrolment-{enrolment_id}-day-1@rj-portal"]["SEQUENCE"]) == 0

    with app.app_context():
        services.withdraw_enrolment(db.session, enrolment_id, actor=db.session.get(type(coordinator), coordinator_id),
                                    now=NOW)
        db.session.commit()
    [_, _, cancelled] = _arrived(app, smtp)
    calendar = _ics(cancelled)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert {str(e["UID"]) for e in calendar.walk("VEVENT")} == set(events)
    assert {str(e["STATUS"]) for e in calendar.walk("VEVENT")} == {"CANCELLED"}


def test_reminder_job_through_the_job_runner_sends_once(app, smtp):
    connect_handlers()
    with app.app_context():
        cohort = make_cohort(db.session, trainers=[make_trainer(db.session)])
        volunteer = make_volunteer(db.session, email=EMAIL)
        services.enrol_volunteer(db.session, cohort.id, volunteer.user_id, actor=volunteer.user, now=NOW)
        db.session.commit()
        day_before = cohort.days[0].starts_at - dt.timedelta(hours=20)
        first = jobs.run_all(db.session, now=day_before, only="training.day-before-reminders")
        second = jobs.run_all(db.session, now=day_before + dt.timedelta(hours=2),
                              only="training.day-before-reminders")
    assert first == {"training.day-before-reminders": "reminded 1"}
    assert second == {"training.day-before-reminders": "reminded 0"}
    moment["now"] = day_before + dt.timedelta(hours=3)
    reminders = [m for m in _arrived(app, smtp) if m["Subject"].startswith("Reminder")]
    assert len(reminders) == 1
    assert "starts tomorrow" in reminders[0].get_body(("plain",)).get_content()


def test_the_personal_calendar_feed_holds_the_course_days(app, client):
    with app.app_context():
        cohort = make_cohort(db.session, trainers=[make_trainer(db.session)], dates=DATES)
        volunteer = make_volunteer(db.session, email=EMAIL)
        enrolment = services.enrol_volunteer(db.session, cohort.id, volunteer.user_id, actor=volunteer.user, now=NOW)
        token = calendar.issue_feed_token(db.session, volunteer.user, now=NOW)
        db.session.commit()
        enrolment_id = enrolment.id
    response = client.get(f"/account/calendar/{token}.ics")
    assert response.status_code == 200
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(response.data).walk("VEVENT")}
    day3 = events[f"training-enrolment-{enrolment_id}-day-3@rj-portal"]
    assert day3.decoded("DTSTART") == london(dt.date(2027, 11, 1), 9, 30)
    assert len([uid for uid in events if uid.startswith(f"training-enrolment-{enrolment_id}-")]) == 4
