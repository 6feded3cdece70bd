"""The supervision reminder job: 48 and 2 hours before, each once however often it runs, late bookings
get the reminders still ahead of them, cancelled and moved bookings are handled; due and overdue notices."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.core import jobs
from portal.core.outbox import OutboxMessage
from portal.supervision import services
from tests.supervision.builders import NOW, make_coordinator, make_slot, make_volunteer

STARTS = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)  # the default slot: next Monday 10:00 GMT


def reminders(session) -> list[tuple[str, str]]:
    return [(m.recipients[0], m.subject) for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "supervision/reminder").order_by(OutboxMessage.id))]


def run(session, now):
    return services.send_session_reminders(session, now=now)


def test_each_reminder_goes_once_however_often_the_job_runs(session):
    slot = make_slot(session)
    volunteer = make_volunteer(session)
    services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)

    assert run(session, STARTS - dt.timedelta(hours=49)) == 0
    assert run(session, STARTS - dt.timedelta(hours=48)) == 1
    assert run(session, STARTS - dt.timedelta(hours=47)) == 0
    assert run(session, STARTS - dt.timedelta(hours=3)) == 0
    assert run(session, STARTS - dt.timedelta(hours=2)) == 1
    assert run(session, STARTS - dt.timedelta(minutes=30)) == 0
    assert run(session, STARTS + dt.timedelta(minutes=1)) == 0
    assert [subject for _to, subject in reminders(session)] == [
        "Reminder: supervision Monday 30 November 2026, 10:00 GMT"] * 2
    texts = [m.text_body for m in session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "supervision/reminder").order_by(OutboxMessage.id))]
    assert "in 48 hours" in texts[0] and "in 2 hours" in texts[1]


def test_a_booking_made_30_hours_ahead_gets_only_the_2_hour_reminder(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, minimum_notice_hours=4)
    volunteer = make_volunteer(session)
    services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=STARTS - dt.timedelta(hours=30))

    assert run(session, STARTS - dt.timedelta(hours=29)) == 0
    assert run(session, STARTS - dt.timedelta(hours=2)) == 1
    assert [m.text_body.count("in 2 hours") for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "supervision/reminder"))] == [1]


def test_a_job_that_missed_the_48_hour_moment_sends_only_the_latest_reminder(session):
    slot = make_slot(session)
    volunteer = make_volunteer(session)
    services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    assert run(session, STARTS - dt.timedelta(hours=1)) == 1
    assert run(session, STARTS - dt.timedelta(minutes=50)) == 0
    assert len(reminders(session)) == 1


def test_cancelled_bookings_are_not_reminded_and_moved_ones_are_reminded_for_their_new_time(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, kind="group", capacity=3)
    later = make_slot(session, actor=coordinator, day=dt.date(2026, 12, 7))
    leaving, moving = make_volunteer(session), make_volunteer(session)
    cancelled = services.book_slot(session, slot.id, user_id=leaving.id, actor=leaving, now=NOW)
    moved = services.book_slot(session, slot.id, user_id=moving.id, actor=moving, now=NOW)
    services.cancel_booking(session, cancelled.id, actor=leaving, now=NOW)

    assert run(session, STARTS - dt.timedelta(hours=48)) == 1
    services.move_booking(session, moved.id, later.id, actor=moving, now=STARTS - dt.timedelta(hours=47))
    assert run(session, later.starts_at - dt.timedelta(hours=48)) == 1
    assert [to for to, _subject in reminders(session)] == [moving.email, moving.email]
    assert reminders(session)[-1][1] == "Reminder: supervision Monday 7 December 2026, 10:00 GMT"


def test_volunteers_are_told_once_when_supervision_is_due_soon_and_once_when_overdue(session):
    soon = make_volunteer(session, name="Bethan Soon", active_since=NOW - dt.timedelta(weeks=11))
    late = make_volunteer(session, name="Aled Late", active_since=NOW - dt.timedelta(weeks=13))
    booked = make_volunteer(session, name="Cerys Booked", active_since=NOW - dt.timedelta(weeks=11))
    slot = make_slot(session)
    services.book_slot(session, slot.id, user_id=booked.id, actor=booked, now=NOW)

    assert services.send_due_reminders(session, now=NOW) == 2
    assert services.send_due_reminders(session, now=NOW + dt.timedelta(hours=1)) == 0
    sent = {(m.recipients[0], m.template) for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.template.in_(["supervision/due_soon", "supervision/overdue"])))}
    assert sent == {(soon.email, "supervision/due_soon"), (late.email, "supervision/overdue")}


def test_the_registered_job_runs_both_and_reports(session):
    slot = make_slot(session)
    volunteer = make_volunteer(session)
    services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    results = jobs.run_all(session, now=STARTS - dt.timedelta(hours=48), only="supervision.reminders")
    assert results == {"supervision.reminders": "reminded 1 sessions, 0 due or overdue"}
