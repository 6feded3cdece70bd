"""Supervision pages through the test client: status, redirects, errors shown, and someone else's
booking or record is a 404 on every route."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.cases import services as case_services
from portal.cases.models import CaseStatus, SessionType
from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.supervision import services
from portal.supervision.models import BookingStatus, SupervisionBooking, SupervisionSlot
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from tests import builders
from tests.cases.builders import make_allocation, make_case
from tests.supervision.builders import slot_details

IN_A_WEEK = clock.today() + dt.timedelta(days=7)


def _volunteer_record(user_id: int) -> None:
    db.session.add(Volunteer(user_id=user_id, status=VolunteerStatus.ACTIVE, status_changed_at=clock.now()))


def publish(app, supervisor_id: int, **overrides) -> int:
    with app.app_context():
        supervisor = db.session.get(User, supervisor_id)
        details = slot_details(supervisor, day=overrides.pop("day", IN_A_WEEK), **overrides)
        slot = services.publish_slots(db.session, details, actor=supervisor, now=clock.now())[0]
        db.session.commit()
        return slot.id


def book(app, slot_id: int, user_id: int) -> int:
    with app.app_context():
        person = db.session.get(User, user_id)
        booking = services.book_slot(db.session, slot_id, user_id=user_id, actor=person, now=clock.now())
        db.session.commit()
        return booking.id


@pytest.fixture
def coordinator(app):
    with app.app_context():
        user = builders.make_user(db.session, roles=(Role.COORDINATOR,), name="Siobhán O'Neill")
        db.session.commit()
        return user.id


@pytest.fixture
def other_volunteer(app):
    with app.app_context():
        user = builders.make_user(db.session, roles=(Role.VOLUNTEER,), name="Other Person")
        _volunteer_record(user.id)
        db.session.commit()
        return user.id


def sign_in_volunteer(app, login_as):
    user = login_as(Role.VOLUNTEER, name="Zoë Ní Bhriain")
    with app.app_context():
        _volunteer_record(user.id)
        db.session.commit()
    return user


def test_a_coordinator_publishes_a_series_and_sees_it(app, client, login_as):
    login_as(Role.COORDINATOR)
    page = client.get("/supervision/manage/slots/new")
    assert page.status_code == 200 and "Publish supervision" in page.text
    form = {
        "day": [str(IN_A_WEEK.day), str(IN_A_WEEK.month), str(IN_A_WEEK.year)], "start_time": "18:30",
        "length_minutes": "90", "kind": "group", "capacity": "6", "mode": "online",
        "online_link": "https://meet.example.org/rj", "minimum_notice_hours": "24", "cutoff_hours": "12",
        "repeat": "fortnightly", "occurrences": "3",
    }
    with app.app_context():
        form["supervisor_id"] = str(db.session.scalar(select(User.id).order_by(User.id.desc())))
    response = client.post("/supervision/manage/slots/new", data=form)
    assert response.status_code == 302 and response.location.endswith("/supervision/manage")
    listing = client.get("/supervision/manage")
    assert "3 supervision sessions published" in listing.text
    with app.app_context():
        assert db.session.scalar(select(SupervisionSlot.capacity)) == 6


def test_bad_slot_input_is_shown_in_the_error_summary(app, client, login_as):
    user = login_as(Role.COORDINATOR)
    past = clock.today() - dt.timedelta(days=2)
    form = {
        "supervisor_id": str(user.id), "day": [str(past.day), str(past.month), str(past.year)],
        "start_time": "25:00", "length_minutes": "60", "kind": "individual", "mode": "in_person", "venue": "",
        "minimum_notice_hours": "24", "cutoff_hours": "24", "repeat": "none",
    }
    response = client.post("/supervision/manage/slots/new", data=form)
    assert response.status_code == 400
    assert "govuk-error-summary" in response.text
    assert "Enter start time as a 24-hour time, like 14:30" in response.text
    response = client.post("/supervision/manage/slots/new", data={**form, "start_time": "10:00"})
    assert response.status_code == 400
    assert "The session must be in the future" in response.text
    assert "Enter the venue and address for a session in person" in response.text


def test_a_volunteer_lists_books_moves_and_cancels(app, client, login_as, coordinator):
    first = publish(app, coordinator)
    second = publish(app, coordinator, start_time=dt.time(15, 0))
    volunteer = sign_in_volunteer(app, login_as)

    listing = client.get("/supervision/slots")
    assert listing.status_code == 200 and "Siobhán O&#39;Neill" in listing.text
    week = client.get(f"/supervision/slots/week?start={IN_A_WEEK.isoformat()}")
    assert week.status_code == 200 and f'data-day="{IN_A_WEEK.isoformat()}"' in week.text

    assert client.get(f"/supervision/slots/{first}/book").status_code == 200
    booked = client.post(f"/supervision/slots/{first}/book", data={"purpose": "supervision"})
    assert booked.status_code == 302 and booked.location.endswith("/supervision/")
    mine = client.get("/supervision/")
    assert "Supervision booked" in mine.text and 'data-table="upcoming"' in mine.text
    with app.app_context():
        booking_id = db.session.scalar(select(SupervisionBooking.id).where(SupervisionBooking.user_id == volunteer.id))

    move_page = client.get(f"/supervision/bookings/{booking_id}/move")
    assert move_page.status_code == 200
    moved = client.post(f"/supervision/bookings/{booking_id}/move", data={"slot_id": str(second)})
    assert moved.status_code == 302
    cancelled = client.post(f"/supervision/bookings/{booking_id}/cancel", data={"reason": "Unwell"})
    assert cancelled.status_code == 302
    with app.app_context():
        booking = db.session.get(SupervisionBooking, booking_id)
        assert booking.slot_id == second and booking.status is BookingStatus.CANCELLED and booking.sequence == 2
        subjects = list(db.session.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.id)))
        assert [subject.split(":")[0] for subject in subjects] == [
            "Supervision booked", "Supervision moved", "Supervision cancelled"]


def test_a_full_slot_says_so_on_the_booking_page(app, client, login_as, coordinator, other_volunteer):
    slot = publish(app, coordinator)
    book(app, slot, other_volunteer)
    sign_in_volunteer(app, login_as)
    response = client.post(f"/supervision/slots/{slot}/book", data={"purpose": "supervision"})
    assert response.status_code == 400
    assert "someone has just taken the last place" in response.text


def test_group_supervision_needs_the_confidentiality_agreement(app, client, login_as, coordinator):
    slot = publish(app, coordinator, kind="group", capacity=5)
    sign_in_volunteer(app, login_as)
    response = client.post(f"/supervision/slots/{slot}/book", data={"purpose": "supervision"})
    assert response.status_code == 400 and "Confirm that you will keep what others share confidential" in response.text
    agreed = client.post(f"/supervision/slots/{slot}/book", data={"purpose": "supervision", "ground_rules": "y"})
    assert agreed.status_code == 302


def test_someone_elses_booking_and_record_are_not_found_on_every_route(app, client, login_as, coordinator,
                                                                      other_volunteer):
    slot = publish(app, coordinator, day=clock.today() + dt.timedelta(days=3))
    theirs = book(app, slot, other_volunteer)
    with app.app_context():
        booking = db.session.get(SupervisionBooking, theirs)
        actor = db.session.get(User, coordinator)
        record = services.record_session(db.session, theirs, services.RecordDetails(attendance="did_not_attend"),
                                         actor=actor, now=booking.slot.starts_at + dt.timedelta(minutes=5))
        db.session.commit()
        record_id = record.id
    sign_in_volunteer(app, login_as)

    for url in (f"/supervision/bookings/{theirs}", f"/supervision/bookings/{theirs}/move",
                f"/supervision/bookings/{theirs}/cancel", f"/supervision/bookings/{theirs}/record",
                f"/supervision/records/{record_id}", f"/supervision/volunteers/{other_volunteer}"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, data={}).status_code in (404, 405), url
    with app.app_context():
        assert db.session.get(SupervisionBooking, theirs).status is BookingStatus.BOOKED


def test_the_volunteer_sees_their_actions_but_not_the_confidential_record(app, client, login_as, coordinator):
    volunteer = sign_in_volunteer(app, login_as)
    slot = publish(app, coordinator, day=clock.today() + dt.timedelta(days=3))
    booking_id = book(app, slot, volunteer.id)
    with app.app_context():
        booking = db.session.get(SupervisionBooking, booking_id)
        record = services.record_session(
            db.session, booking_id, services.RecordDetails(
                attendance="attended", actions="Read the shuttle guidance", wellbeing_concerns="Seemed exhausted",
                next_due_on=booking.slot.starts_at.date() + dt.timedelta(weeks=6)),
            actor=db.session.get(User, coordinator), now=booking.slot.starts_at + dt.timedelta(hours=1))
        db.session.commit()
        record_id = record.id
    page = client.get(f"/supervision/bookings/{booking_id}")
    assert page.status_code == 200 and "Read the shuttle guidance" in page.text
    assert "Seemed exhausted" not in page.text
    assert client.get(f"/supervision/records/{record_id}").status_code == 404


def test_the_supervisor_records_a_session_and_the_viewing_is_audited(app, client, login_as, other_volunteer):
    supervisor = login_as(Role.COORDINATOR)
    slot = publish(app, supervisor.id, day=clock.today() + dt.timedelta(days=2))
    booking_id = book(app, slot, other_volunteer)
    with app.app_context():
        db.session.get(SupervisionSlot, slot).starts_at = clock.now() - dt.timedelta(hours=1)
        db.session.get(SupervisionSlot, slot).ends_at = clock.now()
        db.session.commit()
    form = client.get(f"/supervision/bookings/{booking_id}/record")
    assert form.status_code == 200
    due = clock.today() + dt.timedelta(weeks=8)
    response = client.post(f"/supervision/bookings/{booking_id}/record", data={
        "attendance": "attended", "actions": "Reflective log", "wellbeing_concerns": "",
        "next_due_on": [str(due.day), str(due.month), str(due.year)],
    })
    assert response.status_code == 302
    detail = client.get(response.location)
    assert detail.status_code == 200 and "Reflective log" in detail.text
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "supervision.record_viewed"))


def test_the_cadence_list_shows_overdue_volunteers_to_coordinators_only(app, client, login_as):
    with app.app_context():
        late = builders.make_user(db.session, roles=(Role.VOLUNTEER,), name="Gwen Late")
        db.session.add(Volunteer(user_id=late.id, status=VolunteerStatus.ACTIVE,
                                 status_changed_at=clock.now() - dt.timedelta(weeks=20)))
        db.session.commit()
    login_as(Role.COORDINATOR)
    page = client.get("/supervision/cadence")
    assert page.status_code == 200
    overdue = page.text.split('data-table="overdue"')[1].split("</table>")[0]
    assert "Gwen Late" in overdue
    rules = client.post("/supervision/rules", data={"cadence_weeks": "8", "due_soon_days": "10",
                                                    "overdue_blocks_allocation": "block"})
    assert rules.status_code == 302
    assert "blocked from new case allocations" in client.get("/supervision/cadence").text


def test_volunteers_cannot_reach_the_coordinator_pages(client, login_as):
    login_as(Role.VOLUNTEER)
    for url in ("/supervision/manage", "/supervision/manage/slots/new", "/supervision/cadence",
                "/supervision/supervisors", "/supervision/rules"):
        assert client.get(url).status_code == 403, url


def test_a_named_supervisor_publishes_and_manages_only_their_own_slots(app, client, login_as, coordinator):
    others = publish(app, coordinator)
    supervisor = login_as(Role.VOLUNTEER, name="Dafydd Morgan")
    with app.app_context():
        services.name_supervisor(db.session, supervisor.id, actor=db.session.get(User, coordinator), now=clock.now())
        db.session.commit()
    assert client.get("/supervision/manage").status_code == 200
    assert client.get(f"/supervision/manage/slots/{others}/edit").status_code == 404
    assert client.get(f"/supervision/manage/slots/{others}/cancel").status_code == 404


def test_a_coordinator_names_and_removes_a_supervisor(app, client, login_as, other_volunteer):
    login_as(Role.COORDINATOR)
    named = client.post("/supervision/supervisors", data={"user_id": str(other_volunteer)})
    assert named.status_code == 302
    assert "Other Person can now publish supervision" in client.get("/supervision/supervisors").text
    removed = client.post(f"/supervision/supervisors/{other_volunteer}/remove", data={})
    assert removed.status_code == 302
    assert "No supervisors named yet" in client.get("/supervision/supervisors").text


def test_a_coordinator_cancels_a_slot_and_everyone_booked_is_told(app, client, login_as, other_volunteer):
    supervisor = login_as(Role.COORDINATOR)
    slot = publish(app, supervisor.id, kind="group", capacity=4)
    book(app, slot, other_volunteer)
    assert client.get(f"/supervision/manage/slots/{slot}/cancel").status_code == 200
    empty = client.post(f"/supervision/manage/slots/{slot}/cancel", data={"reason": ""})
    assert empty.status_code == 400 and "Enter why you are cancelling this session" in empty.text
    response = client.post(f"/supervision/manage/slots/{slot}/cancel", data={"reason": "Supervisor unwell"})
    assert response.status_code == 302
    with app.app_context():
        last = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert last.subject.startswith("Supervision cancelled") and "Supervisor unwell" in last.text_body


def test_the_personal_feed_carries_supervision(app, client, login_as, coordinator):
    volunteer = sign_in_volunteer(app, login_as)
    slot = publish(app, coordinator)
    book(app, slot, volunteer.id)
    issued = client.post("/account/calendar-feed", data={})
    url = issued.text.split("/account/calendar/")[1].split(".ics")[0]
    feed = client.get(f"/account/calendar/{url}.ics")
    assert feed.status_code == 200
    assert "UID:supervision-booking-" in feed.text and "SUMMARY:RJ supervision" in feed.text


def test_after_the_cut_off_the_volunteer_is_told_whom_to_contact(app, client, login_as, coordinator):
    volunteer = sign_in_volunteer(app, login_as)
    slot = publish(app, coordinator, day=clock.today() + dt.timedelta(days=3), cutoff_hours=24 * 5,
                   minimum_notice_hours=1)
    booking_id = book(app, slot, volunteer.id)
    mine = client.get("/supervision/")
    assert "Past the cut-off: contact Siobhán O&#39;Neill to change it" in mine.text
    response = client.post(f"/supervision/bookings/{booking_id}/cancel", data={"reason": ""})
    assert response.status_code == 400
    assert "can no longer be cancelled online" in response.text


def test_the_volunteer_page_prompts_a_debrief_after_a_logged_case_meeting(app, client, login_as):
    volunteer = sign_in_volunteer(app, login_as)
    with app.app_context():
        case = make_case(db.session, status=CaseStatus.INTERVENTION, now=clock.now(),
                         received_on=clock.today() - dt.timedelta(days=20))
        make_allocation(db.session, case, db.session.get(User, volunteer.id),
                        starts_on=clock.today() - dt.timedelta(days=10))
        case_services.record_session(db.session, case.id, session_type=SessionType.CONFERENCE,
                                     held_on=clock.today() - dt.timedelta(days=1), duration_minutes=120,
                                     attendees="Both parties", actor=db.session.get(User, volunteer.id),
                                     now=clock.now())
        db.session.commit()
        reference = case.reference
    page = client.get("/supervision/")
    assert f'data-debrief-prompt="{reference}"' in page.text and "Book a debrief" in page.text
    assert "purpose=debrief" in page.text


def test_places_below_the_bookings_are_refused_on_the_edit_page(app, client, login_as, other_volunteer):
    supervisor = login_as(Role.COORDINATOR)
    slot = publish(app, supervisor.id, kind="group", capacity=3)
    book(app, slot, other_volunteer)
    with app.app_context():
        third = builders.make_user(db.session, roles=(Role.VOLUNTEER,))
        db.session.commit()
        third_id = third.id
    book(app, slot, third_id)
    page = client.get(f"/supervision/manage/slots/{slot}/edit")
    assert page.status_code == 200 and "2 booked" in page.text
    response = client.post(f"/supervision/manage/slots/{slot}/edit", data={
        "supervisor_id": str(supervisor.id), "day": [str(IN_A_WEEK.day), str(IN_A_WEEK.month), str(IN_A_WEEK.year)],
        "start_time": "10:00", "length_minutes": "60", "kind": "group", "capacity": "1", "mode": "in_person",
        "venue": "Canterbury", "minimum_notice_hours": "24", "cutoff_hours": "24",
    })
    assert response.status_code == 400
    assert "A group must have between 2 and 30 places" in response.text
    response = client.post(f"/supervision/manage/slots/{slot}/edit", data={
        "supervisor_id": str(supervisor.id), "day": [str(IN_A_WEEK.day), str(IN_A_WEEK.month), str(IN_A_WEEK.year)],
        "start_time": "10:00", "length_minutes": "60", "kind": "individual", "mode": "in_person",
        "venue": "Canterbury", "minimum_notice_hours": "24", "cutoff_hours": "24",
    })
    assert response.status_code == 400
    assert "2 volunteers have booked this session: places cannot be fewer than 2" in response.text


def test_a_coordinator_reads_a_volunteers_supervision_history(app, client, login_as, other_volunteer):
    supervisor = login_as(Role.COORDINATOR)
    slot = publish(app, supervisor.id)
    book(app, slot, other_volunteer)
    page = client.get(f"/supervision/volunteers/{other_volunteer}")
    assert page.status_code == 200 and "Supervision: Other Person" in page.text
    assert 'data-table="history"' in page.text


def test_a_supervisor_books_a_volunteer_in_at_short_notice(app, client, login_as, other_volunteer):
    supervisor = login_as(Role.COORDINATOR)
    slot = publish(app, supervisor.id, day=clock.today() + dt.timedelta(days=2), minimum_notice_hours=1)
    with app.app_context():
        db.session.get(SupervisionSlot, slot).minimum_notice_hours = 24 * 7
        db.session.commit()
    page = client.get(f"/supervision/manage/slots/{slot}/book-for")
    assert page.status_code == 200 and "Other Person" not in page.text  # found by a search, not listed
    found = client.get(f"/supervision/manage/slots/{slot}/book-for", query_string={"q": "other per"})
    assert found.status_code == 200 and "Other Person" in found.text
    missing = client.post(f"/supervision/manage/slots/{slot}/book-for", data={"user_id": "", "purpose": "debrief"})
    assert missing.status_code == 400 and "Select the volunteer to book in" in missing.text
    response = client.post(f"/supervision/manage/slots/{slot}/book-for",
                           data={"user_id": str(other_volunteer), "purpose": "debrief"})
    assert response.status_code == 302
    with app.app_context():
        booking = db.session.scalar(select(SupervisionBooking))
        assert booking.user_id == other_volunteer and booking.purpose.value == "debrief"


def test_the_week_view_puts_sessions_on_their_london_day_across_the_clocks_changing(app, client, login_as,
                                                                                     coordinator):
    # The clocks go forward at 01:00 GMT on Sunday 28 March 2027: an hour from 00:30 GMT ends at 02:30 BST.
    publish(app, coordinator, day=dt.date(2027, 3, 28), start_time=dt.time(0, 30))
    publish(app, coordinator, day=dt.date(2027, 3, 29), start_time=dt.time(0, 30))  # 23:30 UTC on the Sunday
    sign_in_volunteer(app, login_as)
    page = client.get("/supervision/slots/week?start=2027-03-24")
    assert "Supervision in the week of 22 March 2027" in page.text
    sunday = page.text.split('data-day="2027-03-28"')[1].split("</ul>")[0]
    assert "00:30 to 02:30" in sunday and sunday.count("<li>") == 1
    next_week = client.get("/supervision/slots/week?start=2027-03-29")
    assert "00:30 to 01:30" in next_week.text.split('data-day="2027-03-29"')[1].split("</ul>")[0]
