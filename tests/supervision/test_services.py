"""Supervision services on a plain Session: publishing, booking, moving, cancelling, the rules that refuse."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.outbox import OutboxMessage
from portal.supervision import queries, services
from portal.supervision.errors import CutoffPassed, SlotUnavailable, SupervisionInputInvalid
from portal.supervision.models import BookingStatus, SlotKind, SlotStatus
from tests.supervision.builders import NEXT_MONDAY, NOW, make_coordinator, make_slot, make_volunteer, slot_details


def actions(session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def mail_to(session, address: str) -> list[OutboxMessage]:
    return [m for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)) if address in m.recipients]


# ---------------------------------------------------------------------------------------------
# Publishing


def test_a_weekly_series_keeps_its_london_time_across_the_clocks_changing(session):
    coordinator = make_coordinator(session)
    details = slot_details(coordinator, day=dt.date(2027, 3, 22), start_time=dt.time(18, 30))
    slots = services.publish_slots(session, details, repeat="weekly", occurrences=3, actor=coordinator, now=NOW)

    assert [slot.starts_at for slot in slots] == [
        dt.datetime(2027, 3, 22, 18, 30, tzinfo=dt.UTC),  # GMT
        dt.datetime(2027, 3, 29, 17, 30, tzinfo=dt.UTC),  # BST from 28 March
        dt.datetime(2027, 4, 5, 17, 30, tzinfo=dt.UTC),
    ]
    assert len({slot.series_key for slot in slots}) == 1 and slots[0].series_key
    assert actions(session).count("supervision.slot_published") == 3


def test_a_fortnightly_group_series_online(session):
    coordinator = make_coordinator(session)
    details = slot_details(coordinator, kind="group", capacity=6, mode="online", venue=None,
                           online_link="https://meet.example.org/rj-group")
    slots = services.publish_slots(session, details, repeat="fortnightly", occurrences=2, actor=coordinator, now=NOW)

    assert [slot.starts_at.date() for slot in slots] == [NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(weeks=2)]
    assert all(slot.kind is SlotKind.GROUP and slot.capacity == 6 and slot.venue is None for slot in slots)


def test_bad_slot_input_is_explained_field_by_field(session):
    coordinator = make_coordinator(session)
    details = slot_details(coordinator, day=dt.date(2026, 11, 20), length_minutes=0, kind="group", capacity=1,
                           mode="online", venue=None, online_link="meet.example.org", minimum_notice_hours=-1)
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.publish_slots(session, details, repeat="weekly", occurrences=40, actor=coordinator, now=NOW)

    errors = refused.value.errors
    assert errors["day"] == ["The session must be in the future"]
    assert errors["length_minutes"] == ["The session must end after it starts: enter a length above 0 minutes"]
    assert errors["capacity"] == ["A group must have between 2 and 30 places"]
    assert errors["online_link"] == ["Enter the link in full, starting with https://"]
    assert "between 0 and 336 hours" in errors["minimum_notice_hours"][0]
    assert errors["occurrences"] == ["A series can have between 1 and 26 sessions"]


def test_a_slot_inside_its_own_minimum_notice_is_refused(session):
    coordinator = make_coordinator(session)
    details = slot_details(coordinator, day=NOW.date(), start_time=dt.time(15, 0), minimum_notice_hours=24)
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.publish_slots(session, details, actor=coordinator, now=NOW)
    assert "within its minimum notice" in refused.value.errors["minimum_notice_hours"][0]


def test_a_supervisor_cannot_lead_two_sessions_at_once(session):
    coordinator = make_coordinator(session)
    make_slot(session, actor=coordinator)
    with pytest.raises(SupervisionInputInvalid) as refused:
        make_slot(session, actor=coordinator, start_time=dt.time(10, 30))
    assert "already supervises at Monday 30 November 2026, 10:00 GMT" in refused.value.errors["day"][0]


def test_named_supervisors_publish_their_own_slots_only_and_volunteers_none(session):
    coordinator = make_coordinator(session)
    supervisor = make_volunteer(session, name="Dafydd Morgan")
    volunteer = make_volunteer(session)
    with pytest.raises(PermissionDenied):
        make_slot(session, actor=supervisor)
    services.name_supervisor(session, supervisor.id, actor=coordinator, now=NOW)

    slot = make_slot(session, actor=supervisor)
    assert slot.supervisor_id == supervisor.id
    with pytest.raises(SupervisionInputInvalid) as refused:
        make_slot(session, actor=supervisor, supervisor=coordinator, start_time=dt.time(14, 0))
    assert refused.value.errors["supervisor_id"] == ["You can publish slots only for sessions you supervise yourself"]
    with pytest.raises(PermissionDenied):
        make_slot(session, actor=volunteer)
    services.remove_supervisor(session, supervisor.id, actor=coordinator, now=NOW)
    assert not queries.is_supervisor(session, supervisor)
    assert "supervision.supervisor_named" in actions(session) and "supervision.supervisor_removed" in actions(session)


# ---------------------------------------------------------------------------------------------
# Booking


def test_a_volunteer_books_a_place_and_gets_an_invitation(session):
    slot = make_slot(session)
    volunteer = make_volunteer(session, name="Zoë Ní Bhriain")
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)

    assert booking.status is BookingStatus.BOOKED and booking.sequence == 0
    assert slot.places_left == 0
    [message] = mail_to(session, volunteer.email)
    assert message.subject == "Supervision booked: Monday 30 November 2026, 10:00 GMT"
    assert "Canterbury Volunteer Centre" in message.text_body
    assert message.attachments[0].content_type.startswith("text/calendar; method=REQUEST")
    assert "supervision.booked" in actions(session)


def test_booking_twice_by_double_click_returns_the_same_booking(session):
    slot = make_slot(session, kind="group", capacity=4)
    volunteer = make_volunteer(session)
    first = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    again = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    assert again.id == first.id
    assert len(slot.live_bookings) == 1


def test_a_full_slot_cannot_be_booked(session):
    slot = make_slot(session)
    first, second = make_volunteer(session), make_volunteer(session)
    services.book_slot(session, slot.id, user_id=first.id, actor=first, now=NOW)
    with pytest.raises(SlotUnavailable, match="last place"):
        services.book_slot(session, slot.id, user_id=second.id, actor=second, now=NOW)


def test_one_volunteer_cannot_hold_two_overlapping_bookings(session):
    coordinator, other_supervisor = make_coordinator(session), make_coordinator(session)
    first = make_slot(session, actor=coordinator)
    overlapping = make_slot(session, actor=other_supervisor, start_time=dt.time(10, 30))
    volunteer = make_volunteer(session)
    services.book_slot(session, first.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    with pytest.raises(SlotUnavailable) as refused:
        services.book_slot(session, overlapping.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    assert refused.value.reasons == [
        "You already have supervision booked at Monday 30 November 2026, 10:00 GMT to 11:00, "
        "which overlaps that session"
    ]


def test_booking_inside_the_minimum_notice_is_refused_but_a_coordinator_may_book_for_the_volunteer(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, day=dt.date(2026, 11, 27), minimum_notice_hours=72)
    volunteer = make_volunteer(session)
    late = NOW + dt.timedelta(hours=25)
    with pytest.raises(SlotUnavailable) as refused:
        services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=late)
    assert refused.value.reasons == [
        "That session must be booked at least 3 days ahead (by Tuesday 24 November 2026, 10:00 GMT): choose a later one"
    ]
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=coordinator, now=late)
    assert booking.booked_by_id == coordinator.id


def test_past_and_cancelled_slots_cannot_be_booked(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator)
    volunteer = make_volunteer(session)
    with pytest.raises(SlotUnavailable, match="already started"):
        services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=slot.starts_at)
    services.cancel_slot(session, slot.id, "Supervisor unwell", actor=coordinator, now=NOW)
    with pytest.raises(SlotUnavailable, match="cancelled"):
        services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)


def test_someone_who_is_not_a_volunteer_cannot_book(session):
    slot = make_slot(session)
    coordinator = make_coordinator(session)
    with pytest.raises(RuleViolation, match="is not a volunteer"):
        services.book_slot(session, slot.id, user_id=coordinator.id, actor=coordinator, now=NOW)


# ---------------------------------------------------------------------------------------------
# Moving and cancelling


def test_moving_keeps_the_booking_and_raises_its_sequence(session):
    coordinator = make_coordinator(session)
    first = make_slot(session, actor=coordinator)
    later = make_slot(session, actor=coordinator, start_time=dt.time(14, 0))
    volunteer = make_volunteer(session)
    booking = services.book_slot(session, first.id, user_id=volunteer.id, actor=volunteer, now=NOW)

    moved = services.move_booking(session, booking.id, later.id, actor=volunteer, now=NOW + dt.timedelta(hours=1))

    assert moved.id == booking.id and moved.slot_id == later.id and moved.sequence == 1
    assert first.places_left == 1 and later.places_left == 0
    assert [m.subject for m in mail_to(session, volunteer.email)][-1] == (
        "Supervision moved: Monday 30 November 2026, 14:00 GMT")
    assert "supervision.booking_moved" in actions(session)


def test_a_volunteer_cannot_cancel_or_move_after_the_cut_off_but_the_supervisor_can(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, cutoff_hours=48)
    other = make_slot(session, actor=coordinator, day=dt.date(2026, 12, 7))
    volunteer = make_volunteer(session)
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    late = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)

    with pytest.raises(CutoffPassed) as refused:
        services.cancel_booking(session, booking.id, actor=volunteer, now=late)
    assert refused.value.reasons[0].startswith(
        "This session can no longer be cancelled online: the cut-off was Saturday 28 November 2026, 10:00 GMT")
    with pytest.raises(CutoffPassed):
        services.move_booking(session, booking.id, other.id, actor=volunteer, now=late)

    services.cancel_booking(session, booking.id, actor=coordinator, now=late, reason="Room flooded")
    assert booking.status is BookingStatus.CANCELLED and booking.cancelled_by_id == coordinator.id


def test_cancelling_one_place_in_a_group_touches_nobody_else(session):
    slot = make_slot(session, kind="group", capacity=3)
    first, second = make_volunteer(session), make_volunteer(session)
    mine = services.book_slot(session, slot.id, user_id=first.id, actor=first, now=NOW)
    theirs = services.book_slot(session, slot.id, user_id=second.id, actor=second, now=NOW)

    services.cancel_booking(session, mine.id, actor=first, now=NOW)

    assert mine.status is BookingStatus.CANCELLED and mine.sequence == 1
    assert theirs.status is BookingStatus.BOOKED and theirs.sequence == 0
    assert len(mail_to(session, second.email)) == 1  # only their own confirmation
    assert mail_to(session, first.email)[-1].subject.startswith("Supervision cancelled")


def test_someone_elses_booking_is_not_found(session):
    slot = make_slot(session, kind="group", capacity=3)
    owner, stranger = make_volunteer(session), make_volunteer(session)
    booking = services.book_slot(session, slot.id, user_id=owner.id, actor=owner, now=NOW)
    with pytest.raises(NotFound):
        services.cancel_booking(session, booking.id, actor=stranger, now=NOW)
    with pytest.raises(NotFound):
        services.move_booking(session, booking.id, slot.id + 1, actor=stranger, now=NOW)
    with pytest.raises(NotFound):
        services.book_slot(session, slot.id, user_id=owner.id, actor=stranger, now=NOW)


def test_cancelling_a_slot_cancels_every_booking_and_tells_each_person(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, kind="group", capacity=3)
    people = [make_volunteer(session) for _ in range(2)]
    bookings = [services.book_slot(session, slot.id, user_id=p.id, actor=p, now=NOW) for p in people]

    services.cancel_slot(session, slot.id, "Supervisor unwell", actor=coordinator, now=NOW)

    assert slot.status is SlotStatus.CANCELLED
    assert all(b.status is BookingStatus.CANCELLED and b.sequence == 1 for b in bookings)
    for person in people:
        last = mail_to(session, person.email)[-1]
        assert "Supervisor unwell" in last.text_body
        assert last.attachments[0].content_type.startswith("text/calendar; method=CANCEL")


def test_a_slot_needs_a_reason_to_be_cancelled(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator)
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.cancel_slot(session, slot.id, "  ", actor=coordinator, now=NOW)
    assert refused.value.errors == {"reason": ["Enter why you are cancelling this session"]}


def test_places_cannot_drop_below_the_bookings_made(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, kind="group", capacity=4)
    for _ in range(3):
        person = make_volunteer(session)
        services.book_slot(session, slot.id, user_id=person.id, actor=person, now=NOW)
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.update_slot(session, slot.id, slot_details(coordinator, kind="group", capacity=2),
                             actor=coordinator, now=NOW)
    assert refused.value.errors["capacity"] == [
        "3 volunteers have booked this session: places cannot be fewer than 3"]


def test_retiming_a_slot_sends_each_volunteer_an_update_with_a_higher_sequence(session):
    coordinator = make_coordinator(session)
    slot = make_slot(session, actor=coordinator, kind="group", capacity=4)
    person = make_volunteer(session)
    booking = services.book_slot(session, slot.id, user_id=person.id, actor=person, now=NOW)
    services.update_slot(session, slot.id, slot_details(coordinator, kind="group", capacity=4,
                                                        start_time=dt.time(11, 0)), actor=coordinator, now=NOW)
    assert booking.sequence == 1 and slot.sequence == 1
    assert mail_to(session, person.email)[-1].subject == "Supervision changed: Monday 30 November 2026, 11:00 GMT"


def test_a_new_time_that_would_make_a_booked_volunteer_overlap_is_refused(session):
    coordinator, colleague = make_coordinator(session), make_coordinator(session)
    slot = make_slot(session, actor=coordinator)
    afternoon = make_slot(session, actor=colleague, start_time=dt.time(14, 0))
    person = make_volunteer(session, name="Rhiannon Pugh")
    services.book_slot(session, slot.id, user_id=person.id, actor=person, now=NOW)
    services.book_slot(session, afternoon.id, user_id=person.id, actor=person, now=NOW)
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.update_slot(session, slot.id, slot_details(coordinator, start_time=dt.time(13, 30)),
                             actor=coordinator, now=NOW)
    assert refused.value.errors["day"] == [
        "Rhiannon Pugh has other supervision booked at Monday 30 November 2026, 14:00 GMT to 15:00"]
