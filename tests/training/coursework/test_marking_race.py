"""Two trainers take the same work from the marking queue at the same moment (PostgreSQL row lock)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.accounts import User
from portal.core.audit import AuditEntry
from portal.training.coursework import services
from portal.training.coursework.errors import MarkingLocked
from portal.training.coursework.models import Attempt, MarkingStatus
from portal.training.coursework.storage import FileStore
from tests.conftest import POSTGRES_URL
from tests.training.builders import NOW
from tests.training.coursework.builders import Setting

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove the lock"),
]


def test_two_trainers_taking_the_same_work_at_once_only_one_holds_the_lock(engine, tmp_path):
    with Session(engine) as setup:
        setting = Setting(setup, volunteers=1)
        attempt = setting.submit(FileStore(tmp_path))
        setup.commit()
        attempt_id, first_id, second_id = attempt.id, setting.trainer.id, setting.second.id
    result: dict[str, object] = {}

    def take_in_another_transaction():
        with Session(engine) as second:
            actor = second.get(User, second_id)
            try:
                services.start_marking(second, attempt_id, actor=actor, now=NOW)
                second.commit()
                result["outcome"] = "took it"
            except MarkingLocked as locked:
                result["outcome"] = locked.reasons

    with Session(engine) as first:
        actor = first.get(User, first_id)
        services.start_marking(first, attempt_id, actor=actor, now=NOW)
        other = threading.Thread(target=take_in_another_transaction)
        other.start()
        other.join(timeout=1)
        waited = other.is_alive()  # blocked on this transaction's lock on the attempt row
        first.commit()
    other.join(timeout=30)

    assert waited
    assert result["outcome"] != "took it"
    assert any("is already marking this work" in reason for reason in result["outcome"])
    with Session(engine) as check:
        attempt = check.get(Attempt, attempt_id)
        assert attempt.status is MarkingStatus.IN_MARKING
        assert attempt.marker_id == first_id and attempt.lock_holder_id == first_id
        starts = check.scalars(select(AuditEntry.actor_id).where(AuditEntry.action == "coursework.marking_started"))
        assert list(starts) == [first_id]
