"""iCalendar invitations and feeds, parsed back with the icalendar package."""

import datetime as dt

import icalendar
import pytest

from portal.core import calendar
from portal.core.calendar import CalendarEvent, Method, Person
from portal.core.clock import london_to_utc
from tests.builders import FIXED_NOW, make_user

ORGANISER = Person("Siobhán O'Neill", "coordinator@example.org")
VOLUNTEER = Person("Zoë Ní Bhriain", "zoe@example.org")


def supervision(sequence=0, day=dt.date(2026, 3, 27)):
    return CalendarEvent(
        uid=calendar.event_uid("supervision-booking", 42),
        summary="Supervision with Siobhán",
        starts_at=london_to_utc(day, dt.time(10, 0)),
        ends_at=london_to_utc(day, dt.time(11, 0)),
        sequence=sequence,
        location="Chelmsford, Room 2",
        organizer=ORGANISER,
        attendees=(VOLUNTEER,),
    )


def parse(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def test_invitation_has_method_uid_sequence_stamp_and_utc_times():
    data = calendar.build_invite([supervision(sequence=2)], Method.REQUEST, now=FIXED_NOW)
    parsed = parse(data)
    assert parsed["METHOD"] == "REQUEST"
    (event,) = parsed.walk("VEVENT")
    assert str(event["UID"]) == "supervision-booking-42@rj-portal"
    assert event["SEQUENCE"] == 2
    assert event.decoded("DTSTAMP") == FIXED_NOW
    start = event.decoded("DTSTART")
    assert start.utcoffset() == dt.timedelta(0)
    assert start == dt.datetime(2026, 3, 27, 10, 0, tzinfo=dt.UTC)  # GMT: London 10:00 is 10:00 UTC
    assert b"DTSTART:20260327T100000Z" in data
    assert str(event["ORGANIZER"]) == "mailto:coordinator@example.org"
    assert event["ORGANIZER"].params["CN"] == "Siobhán O'Neill"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:zoe@example.org"


def test_times_are_right_across_british_summer_time():
    after_change = supervision(day=dt.date(2026, 3, 30))  # BST began on 29 March 2026
    (event,) = parse(calendar.build_invite([after_change], Method.REQUEST, now=FIXED_NOW)).walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 30, 9, 0, tzinfo=dt.UTC)


def test_cancellation_keeps_the_uid_and_marks_the_event_cancelled():
    (event,) = parse(calendar.build_invite([supervision(sequence=3)], Method.CANCEL, now=FIXED_NOW)).walk("VEVENT")
    assert str(event["UID"]) == "supervision-booking-42@rj-portal"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 3


def test_event_ending_before_it_starts_and_naive_times_are_refused():
    backwards = CalendarEvent(
        uid="x@rj-portal", summary="x", starts_at=FIXED_NOW, ends_at=FIXED_NOW - dt.timedelta(hours=1)
    )
    with pytest.raises(ValueError, match="end after it starts"):
        calendar.build_invite([backwards], Method.REQUEST, now=FIXED_NOW)
    naive = CalendarEvent(
        uid="y@rj-portal",
        summary="y",
        starts_at=dt.datetime(2026, 1, 1, 9),  # noqa: DTZ001 - naive on purpose
        ends_at=dt.datetime(2026, 1, 1, 10),  # noqa: DTZ001
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.build_invite([naive], Method.REQUEST, now=FIXED_NOW)


def test_feed_lists_events_in_order_with_a_name():
    later = supervision(day=dt.date(2026, 4, 10))
    earlier = CalendarEvent(
        uid=calendar.event_uid("course-day", 1), summary="Facilitator course day 1",
        starts_at=london_to_utc(dt.date(2026, 4, 1), dt.time(9, 30)),
        ends_at=london_to_utc(dt.date(2026, 4, 1), dt.time(16, 30)),
    )
    parsed = parse(calendar.build_feed([later, earlier], name="Zoë: RJ portal", now=FIXED_NOW))
    assert str(parsed["X-WR-CALNAME"]) == "Zoë: RJ portal"
    assert [str(e["SUMMARY"]) for e in parsed.walk("VEVENT")] == [
        "Facilitator course day 1", "Supervision with Siobhán",
    ]


def test_feed_token_is_secret_revocable_and_replaced_on_reset(session):
    user = make_user(session)
    first = calendar.issue_feed_token(session, user, now=FIXED_NOW)
    assert calendar.find_user_by_feed_token(session, first) is user
    second = calendar.issue_feed_token(session, user, now=FIXED_NOW)
    assert calendar.find_user_by_feed_token(session, first) is None
    assert calendar.find_user_by_feed_token(session, second) is user
    assert calendar.revoke_feed_tokens(session, user, now=FIXED_NOW) == 1
    assert calendar.find_user_by_feed_token(session, second) is None
    assert not calendar.has_feed_token(session, user)


def test_modules_contribute_feed_events_through_the_signal(session):
    user = make_user(session)

    def course_days(sender, **kwargs):
        return [supervision()] if sender is user else []

    with calendar.feed_events_requested.connected_to(course_days):
        events = calendar.collect_feed_events(session, user, now=FIXED_NOW)
    assert [e.uid for e in events] == ["supervision-booking-42@rj-portal"]
