"""Interview services on a plain Session: slots and series, booking, moving, cancelling, invitations,
reminders, the interview record and calendar feed events. Each rule and transition, with its e-mail."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.core import calendar, jobs, settings
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.outbox import OutboxMessage
from portal.volunteers import services as application_services
from portal.volunteers.interviews import queries, services
from portal.volunteers.interviews.errors import InterviewInputInvalid, SlotUnavailable
from portal.volunteers.interviews.models import (
    BookingStatus,
    Criterion,
    InterviewBooking,
    InterviewSlot,
    SlotMode,
    SlotStatus,
)
from portal.volunteers.models import ApplicationStatus, InterviewOutcome
from portal.wiring import connect_handlers
from tests.builders import make_user
from tests.volunteers.builders import NOW, make_applicant, make_application, make_coordinator
from tests.volunteers.interviews.builders import SLOT_DAY, make_slot, slot_details

S = ApplicationStatus


@pytest.fixture
def coordinator(session):
    return make_coordinator(session, name="Priya Shah")


@pytest.fixture
def shortlisted(session):
    return make_application(session, status=S.SHORTLISTED)


def mails(session, template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.template == f"volunteers/{template}")
    return list(session.scalars(query))


def parse_ics(message: OutboxMessage) -> tuple[icalendar.Calendar, icalendar.Event]:
    [attachment] = message.attachments
    parsed = icalendar.Calendar.from_ical(attachment.data)
    [event] = parsed.walk("VEVENT")
    return parsed, event


def actions(session, prefix: str) -> list[str]:
    return list(session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id)
    ))


def errors_of(raised: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return raised.value.errors


# ---------------------------------------------------------------------------------------------
# Slots


def test_a_slot_typed_in_london_time_is_stored_in_utc_in_winter_and_summer(session, coordinator):
    winter = make_slot(session, coordinator=coordinator)
    summer = make_slot(session, coordinator=coordinator, day=dt.date(2027, 6, 15), start_time=dt.time(10, 0))
    assert winter.starts_at == dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    assert winter.ends_at - winter.starts_at == dt.timedelta(minutes=60)
    assert summer.starts_at == dt.datetime(2027, 6, 15, 9, 0, tzinfo=dt.UTC)  # 10:00 BST
    assert summer.interviewers == [coordinator]
    assert summer.places_left == 1 and summer.status == SlotStatus.OPEN
    assert actions(session, "interview.slot") == ["interview.slot_created", "interview.slot_created"]


def test_a_series_every_hour_until_one_oclock_makes_three_slots_sharing_a_series_key(session, coordinator):
    slots = services.create_slots(
        session, slot_details([coordinator]),
        series=services.SeriesPattern(every_minutes=60, until=dt.time(13, 0)), actor=coordinator, now=NOW,
    )
    assert [f"{slot.starts_at:%H:%M}" for slot in slots] == ["10:00", "11:00", "12:00"]
    assert len({slot.series_key for slot in slots}) == 1 and slots[0].series_key


def test_a_weekly_series_keeps_london_wall_clock_time_across_the_clocks_going_forward(session, coordinator):
    slots = services.create_slots(
        session, slot_details([coordinator], day=dt.date(2027, 3, 23), start_time=dt.time(18, 30)),
        series=services.SeriesPattern(weeks=2), actor=coordinator, now=NOW,
    )
    # 23 March is GMT, 30 March is BST (clocks went forward on 28 March 2027).
    assert [slot.starts_at for slot in slots] == [
        dt.datetime(2027, 3, 23, 18, 30, tzinfo=dt.UTC), dt.datetime(2027, 3, 30, 17, 30, tzinfo=dt.UTC),
    ]


def test_every_minutes_and_weekly_combine(session, coordinator):
    slots = services.create_slots(
        session, slot_details([coordinator], length_minutes=45),
        series=services.SeriesPattern(every_minutes=60, until=dt.time(12, 0), weeks=3), actor=coordinator, now=NOW,
    )
    assert len(slots) == 6
    assert {slot.starts_at.date() for slot in slots} == {SLOT_DAY, dt.date(2026, 12, 8), dt.date(2026, 12, 15)}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"day": None}, "day", "Enter the date of the interview"),
        ({"start_time": None}, "start_time", "Enter the start time"),
        ({"day": dt.date(2026, 11, 23), "start_time": dt.time(9, 0)}, "day", "The interview must be in the future"),
        ({"length_minutes": 0}, "length_minutes", "The length must be between 10 and 240 minutes"),
        ({"length_minutes": None}, "length_minutes", "Enter the length of the interview in minutes"),
        ({"mode": None}, "mode", "Select whether the interview is in person or online"),
        ({"venue": ""}, "venue", "Enter the venue for an interview in person"),
        ({"address": "  "}, "address", "Enter the venue’s address"),
        ({"venue": "x" * 101}, "venue", "The venue must be 100 characters or fewer (you have entered 101)"),
        ({"mode": SlotMode.ONLINE, "online_link": ""}, "online_link",
         "Enter the link to the video call for an online interview"),
        ({"mode": SlotMode.ONLINE, "online_link": "teams meeting"}, "online_link",
         "Enter the link in full, starting with https://"),
        ({"capacity": 0}, "capacity", "Places must be between 1 and 20"),
        ({"interviewer_ids": []}, "interviewer_ids", "Select at least one interviewer"),
    ],
)
def test_bad_slot_input_is_refused_with_a_message_for_the_field(session, coordinator, overrides, field, message):
    with pytest.raises(InterviewInputInvalid) as raised:
        services.create_slots(session, slot_details([coordinator], **overrides), actor=coordinator, now=NOW)
    assert message in errors_of(raised)[field]
    assert session.scalar(select(func.count(InterviewSlot.id))) == 0


def test_interviewers_must_be_coordinators(session, coordinator):
    volunteer = make_user(session)
    with pytest.raises(InterviewInputInvalid) as raised:
        services.create_slots(session, slot_details([coordinator, volunteer]), actor=coordinator, now=NOW)
    assert errors_of(raised)["interviewer_ids"] == ["Select interviewers from the list of coordinators"]


@pytest.mark.parametrize(
    ("series", "field", "message"),
    [
        (services.SeriesPattern(every_minutes=60, until=dt.time(9, 0)), "until",
         "The end time must be after the first interview ends (11:00)"),
        (services.SeriesPattern(every_minutes=30, until=dt.time(13, 0)), "every_minutes",
         "Interviews in a series must not overlap: start them at least 60 minutes apart"),
        (services.SeriesPattern(every_minutes=60), "until", "Enter the time the last interview must end by"),
        (services.SeriesPattern(weeks=0), "weeks", "Repeat for between 1 and 12 weeks"),
        (services.SeriesPattern(every_minutes=60, until=dt.time(20, 0), weeks=12), "weeks",
         "A series can have up to 60 interview times; this one would have 120. Make it shorter"),
    ],
)
def test_bad_series_is_refused(session, coordinator, series, field, message):
    with pytest.raises(InterviewInputInvalid) as raised:
        services.create_slots(session, slot_details([coordinator]), series=series, actor=coordinator, now=NOW)
    assert errors_of(raised)[field] == [message]


def test_an_interviewer_cannot_be_in_two_overlapping_slots(session, coordinator):
    make_slot(session, coordinator=coordinator)
    with pytest.raises(InterviewInputInvalid) as raised:
        make_slot(session, coordinator=coordinator, start_time=dt.time(10, 30))
    assert errors_of(raised)["interviewer_ids"] == [
        "Priya Shah is already interviewing at Tuesday 1 December 2026, 10:00 GMT"
    ]


def test_only_coordinators_create_slots(session):
    applicant = make_applicant(session)
    with pytest.raises(PermissionDenied):
        services.create_slots(session, slot_details([]), actor=applicant, now=NOW)


# ---------------------------------------------------------------------------------------------
# Booking


def test_the_applicant_books_a_slot_and_gets_an_invitation_with_sequence_0(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    booking = services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW,
                                      manage_url="https://portal.example/volunteering/application/progress")
    assert shortlisted.status == S.INTERVIEW_BOOKED
    assert booking.status == BookingStatus.BOOKED and booking.sequence == 0
    assert slot.places_left == 0
    assert actions(session, "application.interview") == ["application.interview_booked"]
    assert "interview.booked" in actions(session, "interview.")
    [message] = mails(session, "interview_booked")
    assert message.recipients == ["siobhan@example.org"]
    assert "Tuesday 1 December 2026, 10:00 GMT" in message.subject
    assert "Colchester Town Hall" in message.text_body and "Priya Shah" in message.text_body
    assert "https://portal.example/volunteering/application/progress" in message.text_body
    parsed, event = parse_ics(message)
    assert message.attachments[0].content_type.startswith("text/calendar; method=REQUEST")
    assert str(parsed["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == calendar.event_uid("interview-booking", booking.id)
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
    assert event["DTSTART"].to_ical() == b"20261201T100000Z"
    assert str(event["SUMMARY"]) == "Volunteer interview"


def test_booking_twice_the_same_slot_makes_one_booking_and_one_email(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    first = services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    again = services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    assert again.id == first.id
    assert session.scalar(select(func.count(InterviewBooking.id))) == 1
    assert len(mails(session, "interview_booked")) == 1


def test_a_second_booking_for_the_same_application_is_refused(session, coordinator, shortlisted):
    first, second = make_slot(session, coordinator=coordinator), make_slot(session, start_time=dt.time(14, 0))
    services.book_interview(session, shortlisted.id, first.id, actor=shortlisted.user, now=NOW)
    with pytest.raises(RuleViolation, match="already booked for Tuesday 1 December 2026, 10:00 GMT"):
        services.book_interview(session, shortlisted.id, second.id, actor=shortlisted.user, now=NOW)


def test_the_database_holds_one_live_booking_per_application(session, coordinator, shortlisted):
    first, second = make_slot(session, coordinator=coordinator), make_slot(session, start_time=dt.time(14, 0))
    services.book_interview(session, shortlisted.id, first.id, actor=shortlisted.user, now=NOW)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(InterviewBooking(application_id=shortlisted.id, slot_id=second.id, status=BookingStatus.BOOKED))
    cancelled_too = InterviewBooking(application_id=shortlisted.id, slot_id=second.id,
                                     status=BookingStatus.CANCELLED)
    session.add(cancelled_too)
    session.flush()
    assert cancelled_too.id is not None


def test_a_full_slot_cannot_be_booked(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    other = make_application(session, status=S.SHORTLISTED)
    services.book_interview(session, other.id, slot.id, actor=other.user, now=NOW)
    with pytest.raises(SlotUnavailable, match="someone has just booked the last place"):
        services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    assert shortlisted.status == S.SHORTLISTED


def test_a_slot_for_two_takes_two_applicants(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator, capacity=2)
    other = make_application(session, status=S.SHORTLISTED)
    services.book_interview(session, other.id, slot.id, actor=other.user, now=NOW)
    services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    assert slot.places_left == 0
    assert queries.list_bookable_slots(session, now=NOW) == []


def test_applicants_need_the_minimum_notice_but_coordinators_may_book_sooner(session, coordinator, shortlisted):
    soon = make_slot(session, coordinator=coordinator, day=dt.date(2026, 11, 24), start_time=dt.time(9, 0))
    assert queries.list_bookable_slots(session, now=NOW) == []
    with pytest.raises(SlotUnavailable, match="at least 24 hours ahead"):
        services.book_interview(session, shortlisted.id, soon.id, actor=shortlisted.user, now=NOW)
    booking = services.book_interview(session, shortlisted.id, soon.id, actor=coordinator, now=NOW)
    assert booking.booked_by_id == coordinator.id
    assert shortlisted.status == S.INTERVIEW_BOOKED


def test_the_minimum_notice_is_a_setting(session, coordinator):
    slot = make_slot(session, coordinator=coordinator, day=dt.date(2026, 11, 24), start_time=dt.time(9, 0))
    settings.set_setting(session, queries.MINIMUM_NOTICE_SETTING, 2)
    assert queries.list_bookable_slots(session, now=NOW) == [slot]


def test_cancelled_and_past_slots_cannot_be_booked(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    with pytest.raises(SlotUnavailable, match="has passed"):
        services.book_interview(session, shortlisted.id, slot.id, actor=coordinator,
                                now=slot.starts_at + dt.timedelta(minutes=1))
    services.cancel_slot(session, slot.id, "Room unavailable", actor=coordinator, now=NOW)
    with pytest.raises(SlotUnavailable, match="has been cancelled"):
        services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)


def test_an_applicant_cannot_book_for_someone_else(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    stranger = make_application(session, status=S.SHORTLISTED)
    with pytest.raises(NotFound):
        services.book_interview(session, shortlisted.id, slot.id, actor=stranger.user, now=NOW)


@pytest.mark.parametrize("status", [S.SUBMITTED, S.INTERVIEWED, S.REJECTED, S.WITHDRAWN])
def test_only_a_shortlisted_application_can_book(session, coordinator, status):
    slot = make_slot(session, coordinator=coordinator)
    application = make_application(session, status=status)
    with pytest.raises(RuleViolation, match="Only a shortlisted applicant"):
        services.book_interview(session, application.id, slot.id, actor=coordinator, now=NOW)


def test_a_withdrawn_applicants_booking_frees_its_place(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    other = make_application(session, status=S.SHORTLISTED)
    services.book_interview(session, other.id, slot.id, actor=other.user, now=NOW)
    other.status = S.WITHDRAWN
    session.flush()
    services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    assert shortlisted.status == S.INTERVIEW_BOOKED


# ---------------------------------------------------------------------------------------------
# Moving and cancelling


def test_moving_keeps_the_uid_and_raises_the_sequence(session, coordinator, shortlisted):
    first = make_slot(session, coordinator=coordinator)
    second = make_slot(session, coordinator=coordinator, start_time=dt.time(14, 0))
    booking = services.book_interview(session, shortlisted.id, first.id, actor=shortlisted.user, now=NOW)
    services.move_booking(session, booking.id, second.id, actor=shortlisted.user, now=NOW)
    assert booking.slot_id == second.id and booking.sequence == 1
    assert first.places_left == 1 and second.places_left == 0
    assert shortlisted.status == S.INTERVIEW_BOOKED
    booked, moved = mails(session, "interview_booked")
    assert "has moved" in moved.subject and "14:00 GMT" in moved.subject
    parsed, event = parse_ics(moved)
    assert str(parsed["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == str(parse_ics(booked)[1]["UID"])
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)
    assert "interview.moved" in actions(session, "interview.")


def test_moving_to_a_full_slot_is_refused_and_changes_nothing(session, coordinator, shortlisted):
    first = make_slot(session, coordinator=coordinator)
    full = make_slot(session, coordinator=coordinator, start_time=dt.time(14, 0))
    other = make_application(session, status=S.SHORTLISTED)
    services.book_interview(session, other.id, full.id, actor=other.user, now=NOW)
    booking = services.book_interview(session, shortlisted.id, first.id, actor=shortlisted.user, now=NOW)
    with pytest.raises(SlotUnavailable):
        services.move_booking(session, booking.id, full.id, actor=shortlisted.user, now=NOW)
    assert booking.slot_id == first.id and booking.sequence == 0


def test_someone_elses_booking_is_not_found(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    other_slot = make_slot(session, coordinator=coordinator, start_time=dt.time(14, 0))
    booking = services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    stranger = make_applicant(session)
    with pytest.raises(NotFound):
        services.move_booking(session, booking.id, other_slot.id, actor=stranger, now=NOW)
    with pytest.raises(NotFound):
        services.cancel_booking(session, booking.id, actor=stranger, now=NOW)
    assert booking.is_active


def test_the_applicant_cancels_and_gets_a_cancel_invitation_and_can_book_again(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator, capacity=2)
    other = make_application(session, status=S.SHORTLISTED)
    others = services.book_interview(session, other.id, slot.id, actor=other.user, now=NOW)
    booking = services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    services.cancel_booking(session, booking.id, actor=shortlisted.user, now=NOW, reason="Ill",
                            booking_url="https://portal.example/book")
    assert booking.status == BookingStatus.CANCELLED and booking.sequence == 1
    assert shortlisted.status == S.SHORTLISTED
    # The other applicant in the same slot is untouched.
    assert others.is_active and others.sequence == 0 and other.status == S.INTERVIEW_BOOKED
    [cancelled] = mails(session, "interview_cancelled")
    assert cancelled.recipients == ["siobhan@example.org"]
    assert "as you asked" in cancelled.text_body and "https://portal.example/book" in cancelled.text_body
    parsed, event = parse_ics(cancelled)
    assert str(parsed["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == calendar.event_uid("interview-booking", booking.id)
    assert event["SEQUENCE"] == 1
    again = services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    assert again.id != booking.id and again.sequence == 0
    assert services.cancel_booking(session, booking.id, actor=shortlisted.user, now=NOW) is booking


def test_a_coordinator_cancelling_says_sorry(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    booking = services.book_interview(session, shortlisted.id, slot.id, actor=coordinator, now=NOW)
    services.cancel_booking(session, booking.id, actor=coordinator, now=NOW)
    [cancelled] = mails(session, "interview_cancelled")
    assert "we have had to cancel" in cancelled.text_body


def test_an_interview_that_has_started_cannot_be_cancelled(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    booking = services.book_interview(session, shortlisted.id, slot.id, actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="already started"):
        services.cancel_booking(session, booking.id, actor=shortlisted.user, now=slot.starts_at)


# ---------------------------------------------------------------------------------------------
# Changing and cancelling slots


def test_retiming_a_slot_sends_everyone_booked_an_update_with_the_sequence_raised(session, coordinator):
    slot = make_slot(session, coordinator=coordinator, capacity=2)
    first, second = make_application(session, status=S.SHORTLISTED), make_application(session, status=S.SHORTLISTED)
    bookings = [services.book_interview(session, a.id, slot.id, actor=coordinator, now=NOW) for a in (first, second)]
    services.update_slot(session, slot.id, slot_details([coordinator], start_time=dt.time(11, 0), capacity=2),
                         actor=coordinator, now=NOW)
    assert slot.starts_at == dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)
    assert [booking.sequence for booking in bookings] == [1, 1]
    updates = [m for m in mails(session, "interview_booked") if "has changed" in m.subject]
    assert len(updates) == 2
    for booking, message in zip(bookings, updates, strict=True):
        parsed, event = parse_ics(message)
        assert str(parsed["METHOD"]) == "REQUEST" and event["SEQUENCE"] == 1
        assert str(event["UID"]) == calendar.event_uid("interview-booking", booking.id)
        assert event.decoded("DTSTART") == dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC)
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "interview.slot_updated"))
    assert entry.details["changes"]["starts_at"]["to"] == "2026-12-01T11:00:00+00:00"


def test_changing_only_the_interviewers_sends_nothing(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    services.book_interview(session, shortlisted.id, slot.id, actor=coordinator, now=NOW)
    colleague = make_coordinator(session)
    services.update_slot(session, slot.id, slot_details([coordinator, colleague]), actor=coordinator, now=NOW)
    assert len(slot.interviewers) == 2
    assert len(mails(session, "interview_booked")) == 1


def test_places_cannot_drop_below_the_bookings_made(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator, capacity=2)
    other = make_application(session, status=S.SHORTLISTED)
    for application in (shortlisted, other):
        services.book_interview(session, application.id, slot.id, actor=coordinator, now=NOW)
    with pytest.raises(InterviewInputInvalid) as raised:
        services.update_slot(session, slot.id, slot_details([coordinator], capacity=1), actor=coordinator, now=NOW)
    assert errors_of(raised)["capacity"] == ["2 applicants have booked this time: places cannot be fewer than 2"]


def test_cancelling_a_slot_cancels_every_booking_and_asks_them_to_book_again(session, coordinator):
    slot = make_slot(session, coordinator=coordinator, capacity=2)
    first, second = make_application(session, status=S.SHORTLISTED), make_application(session, status=S.SHORTLISTED)
    bookings = [services.book_interview(session, a.id, slot.id, actor=coordinator, now=NOW) for a in (first, second)]
    services.cancel_slot(session, slot.id, "Interviewer ill", actor=coordinator, now=NOW,
                         booking_url="https://portal.example/book")
    assert slot.status == SlotStatus.CANCELLED and slot.cancellation_reason == "Interviewer ill"
    assert [b.status for b in bookings] == [BookingStatus.CANCELLED] * 2
    assert [b.sequence for b in bookings] == [1, 1]
    assert first.status == second.status == S.SHORTLISTED
    cancellations = mails(session, "interview_cancelled")
    assert len(cancellations) == 2
    for message in cancellations:
        parsed, event = parse_ics(message)
        assert str(parsed["METHOD"]) == "CANCEL" and event["SEQUENCE"] == 1
        assert "we have had to cancel" in message.text_body and "https://portal.example/book" in message.text_body
    assert services.cancel_slot(session, slot.id, "again", actor=coordinator, now=NOW) is slot
    assert len(mails(session, "interview_cancelled")) == 2


def test_cancelling_a_slot_needs_a_reason(session, coordinator):
    slot = make_slot(session, coordinator=coordinator)
    with pytest.raises(InterviewInputInvalid) as raised:
        services.cancel_slot(session, slot.id, "  ", actor=coordinator, now=NOW)
    assert errors_of(raised)["reason"] == ["Enter why you are cancelling this interview time"]
    assert slot.status == SlotStatus.OPEN


# ---------------------------------------------------------------------------------------------
# Invitations


def test_inviting_a_shortlisted_applicant_emails_the_booking_link(session, coordinator, shortlisted):
    services.invite_to_book(session, shortlisted.id, actor=coordinator, now=NOW,
                            booking_url="https://portal.example/volunteering/application/interview")
    [message] = mails(session, "interview_invitation")
    assert message.recipients == ["siobhan@example.org"]
    assert "https://portal.example/volunteering/application/interview" in message.text_body
    assert queries.find_latest_invitation(session, shortlisted.id).invited_by_id == coordinator.id
    assert actions(session, "interview.invited") == ["interview.invited"]


def test_only_shortlisted_applicants_are_invited(session, coordinator):
    application = make_application(session, status=S.SUBMITTED)
    with pytest.raises(RuleViolation, match="submitted"):
        services.invite_to_book(session, application.id, actor=coordinator, now=NOW)
    with pytest.raises(PermissionDenied):
        services.invite_to_book(session, application.id, actor=application.user, now=NOW)


# ---------------------------------------------------------------------------------------------
# Reminders


def test_the_reminder_job_sends_once_the_day_before_however_often_it_runs(session, coordinator, shortlisted):
    connect_handlers()
    slot = make_slot(session, coordinator=coordinator)
    services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    session.commit()
    too_early = slot.starts_at - dt.timedelta(hours=25)
    day_before = slot.starts_at - dt.timedelta(hours=20)
    assert jobs.run_all(session, now=too_early, only="volunteers.interview-reminders") == {
        "volunteers.interview-reminders": "reminded 0"}
    assert jobs.run_all(session, now=day_before, only="volunteers.interview-reminders") == {
        "volunteers.interview-reminders": "reminded 1"}
    assert jobs.run_all(session, now=day_before + dt.timedelta(minutes=5), only="volunteers.interview-reminders") == {
        "volunteers.interview-reminders": "reminded 0"}
    [reminder] = mails(session, "interview_reminder")
    assert reminder.recipients == ["siobhan@example.org"]
    assert "Tuesday 1 December 2026, 10:00 GMT" in reminder.text_body


def test_a_late_booking_is_still_reminded(session, coordinator, shortlisted):
    slot = make_slot(session, coordinator=coordinator)
    late = slot.starts_at - dt.timedelta(hours=3)
    services.book_interview(session, shortlisted.id, slot.id, actor=coordinator, now=late)
    assert services.send_interview_reminders(session, now=late + dt.timedelta(minutes=1)) == 1
    assert services.send_interview_reminders(session, now=late + dt.timedelta(minutes=2)) == 0


def test_cancelled_bookings_are_not_reminded_and_moved_ones_are_reminded_for_the_new_time(
    session, coordinator, shortlisted,
):
    first = make_slot(session, coordinator=coordinator)
    later = make_slot(session, coordinator=coordinator, day=dt.date(2026, 12, 2))
    other = make_application(session, status=S.SHORTLISTED)
    cancelled = services.book_interview(session, other.id, first.id, actor=coordinator, now=NOW)
    services.cancel_booking(session, cancelled.id, actor=coordinator, now=NOW)
    booking = services.book_interview(session, shortlisted.id, first.id, actor=coordinator, now=NOW)
    assert services.send_interview_reminders(session, now=first.starts_at - dt.timedelta(hours=2)) == 1
    services.move_booking(session, booking.id, later.id, actor=coordinator, now=first.starts_at - dt.timedelta(hours=1))
    assert services.send_interview_reminders(session, now=later.starts_at - dt.timedelta(hours=2)) == 1
    reminders = mails(session, "interview_reminder")
    assert [m.recipients for m in reminders] == [["siobhan@example.org"]] * 2
    assert "Wednesday 2 December 2026" in reminders[1].text_body


def test_a_withdrawn_applicants_booking_is_released_with_a_cancel_once(session, coordinator, shortlisted):
    connect_handlers()
    slot = make_slot(session, coordinator=coordinator)
    booking = services.book_interview(session, shortlisted.id, slot.id, actor=shortlisted.user, now=NOW)
    application_services.withdraw_application(session, shortlisted.id, actor=shortlisted.user, now=NOW)
    session.commit()
    for _ in range(2):
        jobs.run_all(session, now=NOW, only="volunteers.interview-releases")
    assert booking.status == BookingStatus.CANCELLED and booking.sequence == 1
    assert slot.places_left == 1
    [cancelled] = mails(session, "interview_cancelled")
    assert "because your application" in cancelled.text_body and "choose a new time" not in cancelled.text_body
    parsed, event = parse_ics(cancelled)
    assert str(parsed["METHOD"]) == "CANCEL" and event["SEQUENCE"] == 1
    assert actions(session, "interview.booking_released") == ["interview.booking_released"]
    assert services.send_interview_reminders(session, now=slot.starts_at - dt.timedelta(hours=2)) == 0


# ---------------------------------------------------------------------------------------------
# The interview record


def _record(coordinator, **overrides) -> services.RecordDetails:
    values = {
        "scores": {criterion.value: 4 for criterion in Criterion},
        "notes": {Criterion.COMMUNICATION.value: "Listened well; summarised back accurately."},
        "outcome": InterviewOutcome.OFFER, "reason": "Strong on values and safety.",
        "panel_ids": [coordinator.id],
    }
    return services.RecordDetails(**{**values, **overrides})


def _booked(session, coordinator, application):
    slot = make_slot(session, coordinator=coordinator)
    return services.book_interview(session, application.id, slot.id, actor=coordinator, now=NOW)


def test_recording_the_interview_moves_the_application_to_interviewed(session, coordinator, shortlisted):
    booking = _booked(session, coordinator, shortlisted)
    record = services.save_interview_record(session, shortlisted.id, _record(coordinator), actor=coordinator, now=NOW)
    assert shortlisted.status == S.INTERVIEWED
    assert shortlisted.interview_outcome == InterviewOutcome.OFFER
    assert record.booking_id == booking.id and record.recorded_by_id == coordinator.id
    assert record.panel == [coordinator] and record.total == 20
    assert record.score_for(Criterion.COMMUNICATION).notes == "Listened well; summarised back accurately."
    assert actions(session, "application.interviewed") == ["application.interviewed"]
    assert actions(session, "interview.recorded") == ["interview.recorded"]


def test_editing_the_record_later_is_audited_with_what_changed(session, coordinator, shortlisted):
    _booked(session, coordinator, shortlisted)
    services.save_interview_record(session, shortlisted.id, _record(coordinator), actor=coordinator, now=NOW)
    colleague = make_coordinator(session)
    changed = _record(colleague, outcome=InterviewOutcome.HOLD, reason="Wait for references.",
                      scores={**{c.value: 4 for c in Criterion}, Criterion.SAFETY.value: 2})
    record = services.save_interview_record(session, shortlisted.id, changed, actor=colleague, now=NOW)
    assert shortlisted.status == S.INTERVIEWED and shortlisted.interview_outcome == InterviewOutcome.HOLD
    assert record.updated_by_id == colleague.id and record.recorded_by_id == coordinator.id
    assert record.score_for(Criterion.SAFETY).score == 2 and record.panel == [colleague]
    [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "interview.record_updated"))
    assert entry.actor_id == colleague.id
    assert entry.details["changes"]["outcome"] == {"from": "offer", "to": "hold"}
    assert entry.details["changes"]["safety"] == {"from": 4, "to": 2}


def test_bad_record_input_lists_every_problem(session, coordinator, shortlisted):
    _booked(session, coordinator, shortlisted)
    bad = _record(coordinator, scores={Criterion.RJ_VALUES.value: 6, Criterion.COMMUNICATION.value: "x"},
                  outcome=None, reason="", panel_ids=[], notes={"safety": "n" * 2001})
    with pytest.raises(InterviewInputInvalid) as raised:
        services.save_interview_record(session, shortlisted.id, bad, actor=coordinator, now=NOW)
    errors = errors_of(raised)
    assert errors["rj_values_score"] == ["The score for understanding of restorative justice values must be "
                                         "between 1 and 5"]
    assert errors["communication_score"] == ["Select a score for communication"]
    assert errors["reflection_score"] == ["Select a score for reflection and self-awareness"]
    assert errors["safety_notes"] == ["Notes on safety awareness must be 2,000 characters or fewer "
                                      "(you have entered 2,001)"]
    assert errors["outcome"] == ["Select the outcome: offer, reject or hold"]
    assert errors["reason"] == ["Enter the reason for the outcome"]
    assert errors["panel_ids"] == ["Select at least one panel member"]
    assert shortlisted.status == S.INTERVIEW_BOOKED


def test_an_interview_is_recorded_only_once_booked_and_only_by_coordinators(session, coordinator, shortlisted):
    with pytest.raises(RuleViolation, match="only once it is booked"):
        services.save_interview_record(session, shortlisted.id, _record(coordinator), actor=coordinator, now=NOW)
    _booked(session, coordinator, shortlisted)
    with pytest.raises(PermissionDenied):
        services.save_interview_record(session, shortlisted.id, _record(coordinator), actor=shortlisted.user,
                                       now=NOW)


# ---------------------------------------------------------------------------------------------
# Calendar feeds


def test_applicants_and_interviewers_see_the_interview_in_their_feeds(session, coordinator, shortlisted):
    connect_handlers()
    booking = _booked(session, coordinator, shortlisted)
    uid = calendar.event_uid("interview-booking", booking.id)
    for person in (shortlisted.user, coordinator):
        events = calendar.collect_feed_events(session, person, now=NOW)
        assert [event.uid for event in events if event.uid.startswith("interview-booking")] == [uid]
    stranger = make_coordinator(session)
    assert not [e for e in calendar.collect_feed_events(session, stranger, now=NOW) if e.uid == uid]
