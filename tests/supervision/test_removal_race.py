"""A supervisor is removed at the same moment a session is published for them: the naming's row lock
means the new session is either cancelled by the removal or refused (PostgreSQL only)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.core.errors import DomainError
from portal.supervision import services
from portal.supervision.models import SlotStatus, SupervisionSlot
from tests.conftest import POSTGRES_URL
from tests.supervision.builders import NOW, make_coordinator, make_volunteer, slot_details

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
                result["outcome"] = "done"
            except DomainError as refused:
                result["outcome"] = refused

    with Session(engine) as one:
        first(one)
        racer = threading.Thread(target=in_another_transaction)
        racer.start()
        racer.join(timeout=1)
        result["waited"] = racer.is_alive()  # blocked on this transaction's row lock
        one.commit()
    racer.join(timeout=30)
    return result


@pytest.fixture
def named(engine) -> tuple[int, int]:
    with Session(engine) as setup:
        coordinator = make_coordinator(setup)
        supervisor = make_volunteer(setup)
        services.name_supervisor(setup, supervisor.id, actor=coordinator, now=NOW)
        setup.commit()
        return coordinator.id, supervisor.id


def publish(supervisor_id: int):
    def run(session: Session) -> None:
        supervisor = session.get(User, supervisor_id)
        services.publish_slots(session, slot_details(supervisor), actor=supervisor, now=NOW)
    return run


def remove(coordinator_id: int, supervisor_id: int):
    def run(session: Session) -> None:
        services.remove_supervisor(session, supervisor_id, actor=session.get(User, coordinator_id), now=NOW)
    return run


def test_a_removal_waits_for_a_session_being_published_and_cancels_it(engine, named):
    coordinator_id, supervisor_id = named
    result = race(engine, publish(supervisor_id), remove(coordinator_id, supervisor_id))

    assert result["waited"] and result["outcome"] == "done"
    with Session(engine) as check:
        assert list(check.scalars(select(SupervisionSlot.status))) == [SlotStatus.CANCELLED]


def test_a_session_published_during_a_removal_is_refused(engine, named):
    coordinator_id, supervisor_id = named
    result = race(engine, remove(coordinator_id, supervisor_id), publish(supervisor_id))

    assert result["waited"]
    assert result["outcome"].errors["supervisor_id"] == ["Select the supervisor from the list"]
    with Session(engine) as check:
        assert check.scalar(select(SupervisionSlot.id)) is None
