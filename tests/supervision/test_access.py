"""Who may read a volunteer's supervision (history, records, wellbeing concerns, the record form with
their cases): coordinators, and a supervisor on the supervisors list with a live booking in a session
they lead (to come, or ended less than four weeks ago). Booking someone in and cancelling gives
nothing; removing a supervisor ends their access and cancels their upcoming sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.cases.models import CaseStatus
from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.supervision import permissions, queries, rules, services
from portal.supervision.errors import SupervisionInputInvalid
from portal.supervision.models import BookingStatus, SlotStatus, SupervisionBooking, SupervisionSlot
from tests.cases.builders import make_allocation, make_case
from tests.supervision.builders import (
    NEXT_MONDAY,
    NOW,
    make_coordinator,
    make_slot,
    make_volunteer,
    slot_details,
)

AFTER = dt.datetime(2026, 11, 30, 11, 5, tzinfo=dt.UTC)  # just after next Monday's 10:00 session
CONCERN = "Struggling after the conference"


def named_supervisor(session, coordinator, **overrides) -> User:
    supervisor = make_volunteer(session, name="Dafydd Morgan", **overrides)
    services.name_supervisor(session, supervisor.id, actor=coordinator, now=NOW)
    return supervisor


def recorded_session(session, supervisor, volunteer, **slot_overrides):
    """A session next Monday that `volunteer` booked and `supervisor` led, recorded as it ended."""
    slot = make_slot(session, actor=supervisor, **slot_overrides)
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=NOW)
    return services.record_session(session, booking.id, services.RecordDetails(
        attendance="attended", actions="Read the shuttle guidance", wellbeing_concerns=CONCERN,
        next_due_on=dt.date(2027, 2, 1)), actor=supervisor, now=slot.ends_at)


def cancellations_to(session, address: str) -> list[OutboxMessage]:
    return [message for message in session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "supervision/cancelled").order_by(OutboxMessage.id))
        if address in message.recipients]


# ---------------------------------------------------------------------------------------------
# The rule, on a plain Session


def test_booking_a_volunteer_in_and_cancelling_gives_the_supervisor_nothing(session):
    coordinator = make_coordinator(session)
    supervisor = named_supervisor(session, coordinator)
    volunteer = make_volunteer(session)
    earlier = recorded_session(session, coordinator, volunteer)
    later = NEXT_MONDAY + dt.timedelta(weeks=1)
    slot = make_slot(session, actor=supervisor, day=later)
    booking = services.book_slot(session, slot.id, user_id=volunteer.id, actor=supervisor, now=AFTER)
    assert queries.supervises(session, supervisor, volunteer.id, now=AFTER)

    services.cancel_booking(session, booking.id, actor=supervisor, now=AFTER, reason="Booked by mistake")

    assert not queries.supervises(session, supervisor, volunteer.id, now=AFTER)
    with pytest.raises(NotFound):
        services.view_record(session, earlier.id, actor=supervisor, now=AFTER)
    assert not permissions.can_record_session(supervisor, booking, is_supervisor=True, now=AFTER)
    with pytest.raises(NotFound):
        services.record_session(session, booking.id, services.RecordDetails(attendance="did_not_attend"),
                                actor=supervisor, now=slot.ends_at)


def test_a_live_booking_shows_the_history_but_another_supervisors_wellbeing_concerns_stay_hidden(session):
    coordinator = make_coordinator(session)
    supervisor = named_supervisor(session, coordinator)
    volunteer = make_volunteer(session)
    earlier = recorded_session(session, coordinator, volunteer)
    slot = make_slot(session, actor=supervisor, day=NEXT_MONDAY + dt.timedelta(weeks=2))
    services.book_slot(session, slot.id, user_id=volunteer.id, actor=volunteer, now=AFTER)

    assert queries.supervises(session, supervisor, volunteer.id, now=AFTER)
    assert services.view_record(session, earlier.id, actor=supervisor, now=AFTER) is earlier
    assert not permissions.can_read_wellbeing_concerns(supervisor, earlier)
    assert permissions.can_read_wellbeing_concerns(coordinator, earlier)
    assert not queries.supervises(session, named_supervisor(session, coordinator), volunteer.id, now=AFTER)


def test_access_lasts_four_weeks_after_the_session_and_the_author_keeps_their_own_record(session):
    coordinator = make_coordinator(session)
    supervisor = named_supervisor(session, coordinator)
    volunteer = make_volunteer(session)
    others = recorded_session(session, coordinator, volunteer, start_time=dt.time(14, 0))
    own = recorded_session(session, supervisor, volunteer)
    ended = own.booking.slot.ends_at
    inside, outside = ended + rules.RECORD_WINDOW - dt.timedelta(minutes=1), ended + rules.RECORD_WINDOW

    assert queries.supervises(session, supervisor, volunteer.id, now=inside)
    assert permissions.can_record_session(supervisor, own.booking, is_supervisor=True, now=inside)
    assert not queries.supervises(session, supervisor, volunteer.id, now=outside)
    assert not permissions.can_record_session(supervisor, own.booking, is_supervisor=True, now=outside)
    assert services.view_record(session, own.id, actor=supervisor, now=outside) is own
    with pytest.raises(NotFound):
        services.view_record(session, others.id, actor=supervisor, now=outside)


def test_removing_a_supervisor_ends_their_access_and_cancels_their_upcoming_sessions(session):
    coordinator = make_coordinator(session)
    supervisor = named_supervisor(session, coordinator)
    volunteer, first, second = make_volunteer(session), make_volunteer(session), make_volunteer(session)
    own = recorded_session(session, supervisor, volunteer)
    individual = make_slot(session, actor=supervisor, day=NEXT_MONDAY + dt.timedelta(weeks=1))
    group = make_slot(session, actor=supervisor, day=NEXT_MONDAY + dt.timedelta(weeks=2), kind="group",
                      capacity=4)
    empty = make_slot(session, actor=supervisor, day=NEXT_MONDAY + dt.timedelta(weeks=3))
    services.book_slot(session, individual.id, user_id=volunteer.id, actor=volunteer, now=AFTER)
    for person in (first, second):
        services.book_slot(session, group.id, user_id=person.id, actor=person, now=AFTER)
    someone_elses = make_slot(session, actor=coordinator, day=NEXT_MONDAY + dt.timedelta(weeks=1))
    assert queries.supervises(session, supervisor, volunteer.id, now=AFTER)

    removed = services.remove_supervisor(session, supervisor.id, actor=coordinator, now=AFTER,
                                         booking_url="https://portal.example.org/supervision/slots")

    assert [slot.id for slot in removed.cancelled_slots] == [individual.id, group.id, empty.id]
    assert all(slot.status is SlotStatus.CANCELLED for slot in (individual, group, empty))
    assert someone_elses.status is SlotStatus.OPEN and own.booking.slot.status is SlotStatus.OPEN
    for person in (volunteer, first, second):
        [message] = cancellations_to(session, person.email)
        assert message.attachments[0].content_type.startswith("text/calendar; method=CANCEL")
        assert "no longer available" in message.text_body
        assert "https://portal.example.org/supervision/slots" in message.text_body
    assert not queries.supervises(session, supervisor, volunteer.id, now=AFTER)
    with pytest.raises(NotFound):
        services.view_record(session, own.id, actor=supervisor, now=AFTER)
    with pytest.raises(NotFound):
        services.record_session(session, own.booking_id, services.RecordDetails(attendance="did_not_attend"),
                                actor=supervisor, now=AFTER)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "supervision.supervisor_removed"))
    assert entry.details["cancelled_slot_ids"] == [individual.id, group.id, empty.id]


def test_a_removed_supervisor_cannot_be_given_a_new_session(session):
    coordinator = make_coordinator(session)
    supervisor = named_supervisor(session, coordinator)
    services.remove_supervisor(session, supervisor.id, actor=coordinator, now=NOW)
    with pytest.raises(SupervisionInputInvalid) as refused:
        services.publish_slots(session, slot_details(supervisor), actor=coordinator, now=NOW)
    assert refused.value.errors["supervisor_id"] == ["Select the supervisor from the list"]


# ---------------------------------------------------------------------------------------------
# The pages: every refusal is a 404


def _past_session_with_concern(supervisor_id: int, volunteer_id: int) -> tuple[int, int]:
    """A session two days ago led by `supervisor_id`, recorded with a wellbeing concern (app context)."""
    supervisor = db.session.get(User, supervisor_id)
    details = slot_details(supervisor, day=clock.today() + dt.timedelta(days=3), start_time=dt.time(9, 0))
    slot = services.publish_slots(db.session, details, actor=supervisor, now=clock.now())[0]
    booking = services.book_slot(db.session, slot.id, user_id=volunteer_id,
                                 actor=db.session.get(User, volunteer_id), now=clock.now())
    slot.starts_at = clock.now() - dt.timedelta(days=2)
    slot.ends_at = slot.starts_at + dt.timedelta(hours=1)
    db.session.flush()
    record = services.record_session(db.session, booking.id, services.RecordDetails(
        attendance="attended", wellbeing_concerns=CONCERN, next_due_on=clock.today() + dt.timedelta(weeks=8)),
        actor=supervisor, now=clock.now())
    return booking.id, record.id


@pytest.fixture
def people(app):
    """A coordinator, a named supervisor (signed in by the test) and a volunteer with a recorded session
    led by the coordinator and an allocated case."""
    with app.app_context():
        coordinator = make_coordinator(db.session, name="Siobhán O'Neill")
        volunteer = make_volunteer(db.session, name="Zoë Ní Bhriain", active_since=clock.now())
        _booking_id, record_id = _past_session_with_concern(coordinator.id, volunteer.id)
        case = make_case(db.session, status=CaseStatus.ALLOCATED, now=clock.now(),
                         received_on=clock.today() - dt.timedelta(days=20))
        make_allocation(db.session, case, volunteer, starts_on=clock.today() - dt.timedelta(days=10))
        db.session.commit()
        return {"coordinator": coordinator.id, "volunteer": volunteer.id, "record": record_id,
                "case": case.reference}


def sign_in_supervisor(app, login_as, coordinator_id: int) -> User:
    supervisor = login_as(Role.VOLUNTEER, name="Dafydd Morgan")
    with app.app_context():
        services.name_supervisor(db.session, supervisor.id, actor=db.session.get(User, coordinator_id),
                                 now=clock.now())
        db.session.commit()
    return supervisor


def own_slot(app, supervisor_id: int) -> int:
    with app.app_context():
        supervisor = db.session.get(User, supervisor_id)
        details = slot_details(supervisor, day=clock.today() + dt.timedelta(days=7), start_time=dt.time(14, 0))
        slot = services.publish_slots(db.session, details, actor=supervisor, now=clock.now())[0]
        db.session.commit()
        return slot.id


def test_booking_someone_in_then_cancelling_opens_no_page(app, client, login_as, people):
    supervisor = sign_in_supervisor(app, login_as, people["coordinator"])
    slot_id = own_slot(app, supervisor.id)
    booked = client.post(f"/supervision/manage/slots/{slot_id}/book-for",
                         data={"user_id": str(people["volunteer"]), "purpose": "supervision"})
    assert booked.status_code == 302
    with app.app_context():
        booking_id = db.session.scalar(select(SupervisionBooking.id).where(SupervisionBooking.slot_id == slot_id))
    cancelled = client.post(f"/supervision/bookings/{booking_id}/cancel", data={"reason": "Changed my mind"})
    assert cancelled.status_code == 302

    for url in (f"/supervision/volunteers/{people['volunteer']}", f"/supervision/records/{people['record']}",
                f"/supervision/bookings/{booking_id}/record"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert CONCERN not in response.text and people["case"] not in response.text
    assert client.post(f"/supervision/bookings/{booking_id}/record",
                       data={"attendance": "did_not_attend"}).status_code == 404
    with app.app_context():
        assert db.session.get(SupervisionBooking, booking_id).status is BookingStatus.CANCELLED


def test_a_live_booking_opens_the_history_record_and_form_without_other_supervisors_concerns(app, client, login_as,
                                                                                            people):
    supervisor = sign_in_supervisor(app, login_as, people["coordinator"])
    slot_id = own_slot(app, supervisor.id)
    booked = client.post(f"/supervision/manage/slots/{slot_id}/book-for",
                         data={"user_id": str(people["volunteer"]), "purpose": "supervision"})
    assert booked.status_code == 302
    with app.app_context():
        booking_id = db.session.scalar(select(SupervisionBooking.id).where(SupervisionBooking.slot_id == slot_id))

    history = client.get(f"/supervision/volunteers/{people['volunteer']}")
    assert history.status_code == 200 and 'data-table="history"' in history.text
    record = client.get(f"/supervision/records/{people['record']}")
    assert record.status_code == 200 and "Siobhán O&#39;Neill" in record.text
    assert CONCERN not in record.text and "Seen only by coordinators" in record.text
    assert "Change the record" not in record.text
    form = client.get(f"/supervision/bookings/{booking_id}/record")
    assert form.status_code == 200 and people["case"] in form.text


def test_a_coordinator_still_reads_the_wellbeing_concerns(app, client, login_as, people):
    login_as(Role.COORDINATOR)
    record = client.get(f"/supervision/records/{people['record']}")
    assert record.status_code == 200 and CONCERN in record.text


def test_a_removed_supervisor_gets_404_on_their_records_and_record_forms(app, client, login_as, people):
    supervisor = sign_in_supervisor(app, login_as, people["coordinator"])
    with app.app_context():
        booking_id, record_id = _past_session_with_concern(supervisor.id, people["volunteer"])
        db.session.commit()
    assert client.get(f"/supervision/records/{record_id}").status_code == 200
    assert client.get(f"/supervision/bookings/{booking_id}/record").status_code == 200
    with app.app_context():
        services.remove_supervisor(db.session, supervisor.id, actor=db.session.get(User, people["coordinator"]),
                                   now=clock.now())
        db.session.commit()

    for url in (f"/supervision/records/{record_id}", f"/supervision/bookings/{booking_id}/record",
                f"/supervision/bookings/{booking_id}", f"/supervision/records/{people['record']}",
                f"/supervision/volunteers/{people['volunteer']}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert CONCERN not in response.text
    assert client.post(f"/supervision/bookings/{booking_id}/record",
                       data={"attendance": "did_not_attend"}).status_code == 404


def test_removing_a_supervisor_on_the_page_cancels_their_sessions_and_tells_those_booked(app, client, login_as,
                                                                                        people):
    with app.app_context():
        supervisor = named_supervisor(db.session, db.session.get(User, people["coordinator"]))
        db.session.commit()
        supervisor_id = supervisor.id
    slot_id = own_slot(app, supervisor_id)
    with app.app_context():
        volunteer = db.session.get(User, people["volunteer"])
        services.book_slot(db.session, slot_id, user_id=volunteer.id, actor=volunteer, now=clock.now())
        db.session.commit()
        email = volunteer.email
    login_as(Role.COORDINATOR)

    removed = client.post(f"/supervision/supervisors/{supervisor_id}/remove", data={})

    assert removed.status_code == 302
    assert "1 upcoming session they led cancelled" in client.get(removed.location).text
    with app.app_context():
        assert db.session.get(SupervisionSlot, slot_id).status is SlotStatus.CANCELLED
        [message] = cancellations_to(db.session, email)
        assert message.attachments[0].content_type.startswith("text/calendar; method=CANCEL")
        assert "/supervision/slots" in message.text_body
