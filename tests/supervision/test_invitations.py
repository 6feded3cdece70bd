"""The .ics sent with each supervision e-mail, parsed back: one event per attendee, a UID stable across
every change, SEQUENCE rising, METHOD:CANCEL on cancellation, UTC times right across the clocks changing.
Also delivered through the real SMTP server to check the MIME parts."""

from __future__ import annotations

import datetime as dt

import icalendar
from sqlalchemy import select

from portal.core import calendar, clock
from portal.core.accounts import User
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.supervision import services
from tests.smtp import deliver_outbox
from tests.supervision.builders import NOW, make_coordinator, make_slot, make_volunteer


def invites_to(session, address: str) -> list[icalendar.Calendar]:
    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return [icalendar.Calendar.from_ical(m.attachments[0].data) for m in messages
            if address in m.recipients and m.attachments]


def only_event(invite: icalendar.Calendar):
    (event,) = invite.walk("VEVENT")
    return event


def test_book_move_cancel_keeps_one_uid_with_a_rising_sequence_across_the_clocks_changing(session):
    coordinator = make_coordinator(session)
    before_change = make_slot(session, actor=coordinator, day=dt.date(2027, 3, 26), start_time=dt.time(10, 0))
    after_change = make_slot(session, actor=coordinator, day=dt.date(2027, 3, 29), start_time=dt.time(10, 0))
    volunteer = make_volunteer(session)

    booking = services.book_slot(session, before_change.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    services.move_booking(session, booking.id, after_change.id, actor=volunteer, now=NOW + dt.timedelta(hours=1))
    services.cancel_booking(session, booking.id, actor=coordinator, now=NOW + dt.timedelta(hours=2))

    invites = invites_to(session, volunteer.email)
    assert [str(invite["METHOD"]) for invite in invites] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [only_event(invite) for invite in invites]
    assert {str(event["UID"]) for event in events} == {f"supervision-booking-{booking.id}@rj-portal"}
    assert [event["SEQUENCE"] for event in events] == [0, 1, 2]
    # 10:00 in London is 10:00 UTC on Friday 26 March (GMT) and 09:00 UTC on Monday 29 March (BST).
    assert events[0].decoded("DTSTART") == dt.datetime(2027, 3, 26, 10, 0, tzinfo=dt.UTC)
    assert events[1].decoded("DTSTART") == dt.datetime(2027, 3, 29, 9, 0, tzinfo=dt.UTC)
    assert events[1].decoded("DTEND") == dt.datetime(2027, 3, 29, 10, 0, tzinfo=dt.UTC)
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert str(events[0]["SUMMARY"]) == "RJ supervision"
    assert str(events[0]["ORGANIZER"]) == f"mailto:{coordinator.email}"


def test_a_group_sends_one_event_per_attendee_and_a_cancellation_touches_only_that_one(session):
    slot = make_slot(session, kind="group", capacity=4, mode="online", venue=None,
                     online_link="https://meet.example.org/group")
    first, second = make_volunteer(session), make_volunteer(session)
    mine = services.book_slot(session, slot.id, user_id=first.id, actor=first, now=NOW)
    theirs = services.book_slot(session, slot.id, user_id=second.id, actor=second, now=NOW)
    services.cancel_booking(session, mine.id, actor=first, now=NOW)

    first_events = [only_event(invite) for invite in invites_to(session, first.email)]
    second_events = [only_event(invite) for invite in invites_to(session, second.email)]
    assert {str(e["UID"]) for e in first_events} == {f"supervision-booking-{mine.id}@rj-portal"}
    assert [str(e["UID"]) for e in second_events] == [f"supervision-booking-{theirs.id}@rj-portal"]
    attendees = second_events[0]["ATTENDEE"]
    assert str(attendees) == f"mailto:{second.email}"  # nobody else in the group is named
    assert str(second_events[0]["SUMMARY"]) == "RJ group supervision"
    assert str(second_events[0]["URL"]) == "https://meet.example.org/group"


def test_the_invitation_arrives_as_a_calendar_part_with_a_matching_method(app, smtp):
    with app.app_context():
        coordinator = make_coordinator(db.session)
        volunteer = make_volunteer(db.session)
        slot = make_slot(db.session, actor=coordinator, day=clock.today() + dt.timedelta(days=7), now=clock.now())
        services.book_slot(db.session, slot.id, user_id=volunteer.id, actor=db.session.get(User, volunteer.id),
                           now=clock.now())
        db.session.commit()
        address = volunteer.email
    deliver_outbox(app)
    [message] = smtp.inbox.to(address)
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert parts and parts[0].get_param("method") == "REQUEST"
    parsed = icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))
    assert str(parsed["METHOD"]) == "REQUEST"


def test_the_feed_has_the_volunteers_bookings_and_the_sessions_a_supervisor_leads(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, day=dt.date(2027, 4, 5), start_time=dt.time(9, 30),
                     kind="group", capacity=3)
    volunteer = make_volunteer(session)
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)

    feed = icalendar.Calendar.from_ical(calendar.build_feed(
        calendar.collect_feed_events(session, volunteer, now=NOW), name="Zoë", now=NOW))
    (event,) = feed.walk("VEVENT")
    assert str(event["UID"]) == f"supervision-booking-{booking.id}@rj-portal"
    assert event.decoded("DTSTART") == dt.datetime(2027, 4, 5, 8, 30, tzinfo=dt.UTC)  # 09:30 BST
    (leading,) = calendar.collect_feed_events(session, coordinator, now=NOW)
    assert leading.uid == f"supervision-slot-{slot.id}@rj-portal" and leading.summary.endswith("1 of 3 booked")
