"""Two applicants take the last place in a slot at the same moment (PostgreSQL row lock on the slot)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.volunteers.interviews import services
from portal.volunteers.interviews.errors import SlotUnavailable
from portal.volunteers.interviews.models import BookingStatus, InterviewBooking
from portal.volunteers.models import Application, ApplicationStatus
from tests.conftest import POSTGRES_URL
from tests.volunteers.builders import NOW, make_application
from tests.volunteers.interviews.builders import make_slot

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock"),
]


def test_the_last_place_cannot_be_taken_twice_at_the_same_moment(engine):
    with Session(engine) as setup:
        slot = make_slot(setup)
        first = make_application(setup, status=ApplicationStatus.SHORTLISTED)
        second = make_application(setup, status=ApplicationStatus.SHORTLISTED)
        setup.commit()
        slot_id, first_id, second_id = slot.id, first.id, second.id
        first_user_id, second_user_id = first.user_id, second.user_id
    result: dict[str, object] = {}

    def book_in_another_transaction():
        with Session(engine) as other:
            try:
                services.book_interview(other, second_id, slot_id, actor=other.get(User, second_user_id), now=NOW)
                other.commit()
                result["outcome"] = "booked"
            except SlotUnavailable as refused:
                result["outcome"] = refused.reasons

    with Session(engine) as one:
        services.book_interview(one, first_id, slot_id, actor=one.get(User, first_user_id), now=NOW)
        racer = threading.Thread(target=book_in_another_transaction)
        racer.start()
        racer.join(timeout=1)
        waited = racer.is_alive()  # blocked on this transaction's lock on the slot row
        one.commit()
    racer.join(timeout=30)

    assert waited
    assert result["outcome"] != "booked"
    assert any("last place" in reason for reason in result["outcome"])
    with Session(engine) as check:
        booked = check.scalars(
            select(InterviewBooking.application_id).where(InterviewBooking.status == BookingStatus.BOOKED)
        ).all()
        assert booked == [first_id]
        assert check.get(Application, second_id).status == ApplicationStatus.SHORTLISTED


def test_two_clicks_on_the_same_time_at_the_same_moment_make_one_booking(engine):
    with Session(engine) as setup:
        slot = make_slot(setup, capacity=3)
        application = make_application(setup, status=ApplicationStatus.SHORTLISTED)
        setup.commit()
        slot_id, application_id, user_id = slot.id, application.id, application.user_id
    result: dict[str, object] = {}

    def click_again():
        try:
            with Session(engine) as other:
                booking = services.book_interview(other, application_id, slot_id, actor=other.get(User, user_id),
                                                  now=NOW)
                result["id"] = booking.id
                other.commit()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            result["error"] = error

    with Session(engine) as one:
        first_id = services.book_interview(one, application_id, slot_id, actor=one.get(User, user_id), now=NOW).id
        racer = threading.Thread(target=click_again)
        racer.start()
        racer.join(timeout=1)
        waited = racer.is_alive()
        one.commit()
    racer.join(timeout=30)

    assert "error" not in result, result.get("error")
    assert waited
    assert result["id"] == first_id
    with Session(engine) as check:
        assert check.scalar(select(func.count(InterviewBooking.id))) == 1
