"""Two volunteers take the last place in a slot at the same moment, and one volunteer books two
overlapping sessions at the same moment (PostgreSQL row locks on the slot and on the person)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.supervision import services
from portal.supervision.errors import SlotUnavailable
from portal.supervision.models import BookingStatus, SupervisionBooking
from tests.conftest import POSTGRES_URL
from tests.supervision.builders import NOW, make_coordinator, make_slot, make_volunteer

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock"),
]


def race(engine, first, second) -> dict[str, object]:
    """Run `first` in one transaction and, while it holds its locks, `second` in another thread."""
    result: dict[str, object] = {}

    def in_another_transaction():
        with Session(engine) as other:
            try:
                second(other)
                other.commit()
                result["outcome"] = "booked"
            except SlotUnavailable as refused:
                result["outcome"] = refused.reasons

    with Session(engine) as one:
        first(one)
        racer = threading.Thread(target=in_another_transaction)
        racer.start()
        racer.join(timeout=1)
        result["waited"] = racer.is_alive()  # blocked on this transaction's row lock
        one.commit()
    racer.join(timeout=30)
    return result


def test_the_last_place_cannot_be_taken_twice_at_the_same_moment(engine):
    with Session(engine) as setup:
        slot = make_slot(setup, kind="group", capacity=2)
        early, first, second = make_volunteer(setup), make_volunteer(setup), make_volunteer(setup)
        services.book_slot(setup, slot.id, user_id=early.id, actor=early, now=NOW)
        setup.commit()
        slot_id, first_id, second_id = slot.id, first.id, second.id

    result = race(
        engine,
        lambda s: services.book_slot(s, slot_id, user_id=first_id, actor=s.get(User, first_id), now=NOW),
        lambda s: services.book_slot(s, slot_id, user_id=second_id, actor=s.get(User, second_id), now=NOW),
    )

    assert result["waited"]
    assert result["outcome"] != "booked" and any("last place" in reason for reason in result["outcome"])
    with Session(engine) as check:
        live = check.scalar(select(func.count(SupervisionBooking.id)).where(
            SupervisionBooking.slot_id == slot_id, SupervisionBooking.status == BookingStatus.BOOKED))
        assert live == 2


def test_one_volunteer_cannot_book_two_overlapping_sessions_at_the_same_moment(engine):
    with Session(engine) as setup:
        one_supervisor, other_supervisor = make_coordinator(setup), make_coordinator(setup)
        morning = make_slot(setup, actor=one_supervisor)
        overlapping = make_slot(setup, actor=other_supervisor, start_time=dt.time(10, 30))
        volunteer = make_volunteer(setup)
        setup.commit()
        ids = morning.id, overlapping.id, volunteer.id

    result = race(
        engine,
        lambda s: services.book_slot(s, ids[0], user_id=ids[2], actor=s.get(User, ids[2]), now=NOW),
        lambda s: services.book_slot(s, ids[1], user_id=ids[2], actor=s.get(User, ids[2]), now=NOW),
    )

    assert result["waited"]
    assert any("overlaps" in reason for reason in result["outcome"])
    with Session(engine) as check:
        assert check.scalar(select(func.count(SupervisionBooking.id))) == 1
