"""Demo supervision: past and future sessions, records, and some volunteers overdue; loaded once."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.supervision import queries, rules
from portal.supervision.demo import load_demo_supervision
from portal.supervision.models import SupervisionBooking, SupervisionRecord
from tests.builders import make_user
from tests.supervision.builders import NOW, make_coordinator, make_volunteer


def test_demo_supervision_has_past_and_future_sessions_and_some_volunteers_overdue(session):
    coordinator = make_coordinator(session)
    volunteers = [make_user(session) for _ in range(10)]

    slots = load_demo_supervision(session, coordinator=coordinator, volunteers=volunteers, now=NOW)

    assert slots and all(slot.starts_at > NOW for slot in slots)
    assert session.scalar(select(func.count(SupervisionRecord.id))) == 8
    assert session.scalar(select(func.count(SupervisionBooking.id))) > 8
    states = {row.user_id: row.state for row in queries.list_supervision_due(session, now=NOW)}
    assert states[volunteers[0].id] is rules.DueState.IN_DATE
    assert rules.DueState.DUE_SOON in states.values()
    assert sum(state is rules.DueState.OVERDUE for state in states.values()) >= 3
    assert queries.find_current_supervisor(session, volunteers[1].id) is not None
    assert load_demo_supervision(session, coordinator=coordinator, volunteers=volunteers, now=NOW) == []


def test_demo_supervision_keeps_existing_volunteer_records(session):
    coordinator = make_coordinator(session)
    existing = make_volunteer(session)
    volunteers = [existing] + [make_user(session) for _ in range(4)]
    load_demo_supervision(session, coordinator=coordinator, volunteers=volunteers, now=NOW)
    assert queries.find_supervision_due(session, existing.id, now=NOW).last_held_on is not None
