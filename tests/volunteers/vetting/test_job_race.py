"""The vetting job run on two machines at once (two PostgreSQL connections) sends each mail once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.outbox import OutboxMessage
from portal.volunteers.vetting import services
from portal.volunteers.vetting.models import CheckStatus, VettingCheck
from tests.conftest import POSTGRES_URL
from tests.volunteers.vetting.builders import make_cleared_volunteer, make_coordinator

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) to prove SKIP LOCKED"),
]

NOW = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)


def test_two_machines_running_the_job_at_once_send_each_reminder_and_lapse_notice_once(engine):
    with Session(engine) as setup:
        make_coordinator(setup)
        # One check due its 7-day reminder today, one expiring today.
        make_cleared_volunteer(setup, cleared_on=dt.date(2025, 11, 30))
        make_cleared_volunteer(setup, cleared_on=dt.date(2025, 11, 23))
        setup.commit()
    other_result: dict[str, object] = {}

    def run_on_the_other_machine():
        with Session(engine) as second:
            other_result["run"] = services.send_vetting_reminders(second, now=NOW)
            second.commit()

    with Session(engine) as first:
        first_run = services.send_vetting_reminders(first, now=NOW)
        other = threading.Thread(target=run_on_the_other_machine)
        other.start()
        other.join(timeout=30)  # SKIP LOCKED: the other machine does not wait for this transaction
        finished_while_locked = not other.is_alive()
        first.commit()
    other.join(timeout=30)

    assert finished_while_locked
    assert (first_run.reminded, first_run.lapsed) == (1, 1)
    assert (other_result["run"].reminded, other_result["run"].lapsed) == (0, 0)
    with Session(engine) as check:
        per_key = check.execute(
            select(OutboxMessage.template, func.count()).group_by(OutboxMessage.template)
        ).all()
        lapsed = check.scalar(select(func.count()).select_from(VettingCheck)
                              .where(VettingCheck.status == CheckStatus.LAPSED))
    assert dict(per_key) == {
        "volunteers/vetting_reminder": 1, "volunteers/vetting_reminder_coordinator": 1,
        "volunteers/vetting_lapsed": 1, "volunteers/vetting_lapsed_coordinator": 1,
    }
    assert lapsed == 1
