"""Two volunteers take the last place on a cohort at the same moment (PostgreSQL row lock)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.training import services
from portal.training.models import Enrolment, EnrolmentStatus
from tests.conftest import POSTGRES_URL
from tests.training.builders import NOW, make_cohort, make_trainer, make_volunteer

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock"),
]


def test_the_last_place_cannot_be_taken_twice_at_the_same_moment(engine):
    with Session(engine) as setup:
        cohort = make_cohort(setup, trainers=[make_trainer(setup)], capacity=1)
        first, second = make_volunteer(setup), make_volunteer(setup)
        setup.commit()
        cohort_id, first_id, second_id = cohort.id, first.user_id, second.user_id
    result: dict[str, object] = {}

    def enrol_in_another_transaction():
        with Session(engine) as other:
            actor = other.get(User, second_id)
            enrolment = services.enrol_volunteer(other, cohort_id, second_id, actor=actor, now=NOW)
            other.commit()
            result["status"] = enrolment.status

    with Session(engine) as mine:
        actor = mine.get(User, first_id)
        taken = services.enrol_volunteer(mine, cohort_id, first_id, actor=actor, now=NOW)
        other = threading.Thread(target=enrol_in_another_transaction)
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()  # blocked on this transaction's lock on the cohort row
        mine.commit()
        assert taken.status is EnrolmentStatus.ENROLLED
    other.join(timeout=30)

    assert waited
    assert result["status"] is EnrolmentStatus.WAITING
    with Session(engine) as check:
        statuses = dict(check.execute(
            select(Enrolment.user_id, Enrolment.status).where(Enrolment.cohort_id == cohort_id)).all())
    assert statuses == {first_id: EnrolmentStatus.ENROLLED, second_id: EnrolmentStatus.WAITING}


def test_the_same_person_enrolled_twice_at_once_gets_one_place(engine):
    with Session(engine) as setup:
        cohort = make_cohort(setup, trainers=[make_trainer(setup)], capacity=5)
        volunteer = make_volunteer(setup)
        setup.commit()
        cohort_id, user_id = cohort.id, volunteer.user_id
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def enrol():
        with Session(engine) as own:
            actor = own.get(User, user_id)
            barrier.wait(timeout=10)
            try:
                services.enrol_volunteer(own, cohort_id, user_id, actor=actor, now=NOW)
                own.commit()
                outcomes.append("enrolled")
            except services.AlreadyEnrolled:
                own.rollback()
                outcomes.append("already")

    threads = [threading.Thread(target=enrol) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["already", "enrolled"]
    with Session(engine) as check:
        count = len(check.scalars(select(Enrolment.id).where(Enrolment.cohort_id == cohort_id)).all())
    assert count == 1
