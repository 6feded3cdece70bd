"""The audit trail: same-transaction entries, filters and pages."""

import datetime as dt

from sqlalchemy import func, select

from portal.core import audit
from portal.core.accounts import Role
from portal.core.audit import AuditEntry, AuditFilter
from portal.core.audit_actions import ACTIONS
from tests.builders import FIXED_NOW, make_user


def test_entry_is_written_in_the_callers_transaction_and_rolls_back_with_it(session):
    admin = make_user(session, roles=[Role.ADMIN])
    session.commit()
    audit.record(session, admin, "case.viewed", ("cases", 12), at=FIXED_NOW, restricted=True, on=dt.date(2026, 1, 2))
    session.rollback()
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "case.viewed")) == 0
    entry = audit.record(session, admin, "case.viewed", ("cases", 12), at=FIXED_NOW, on=dt.date(2026, 1, 2))
    session.commit()
    assert entry.details == {"on": "2026-01-02"}
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("cases", 12, admin.id)


def test_filters_by_who_what_object_and_dates_and_pages_newest_first(session):
    ada = make_user(session, email="ada@example.org")
    bob = make_user(session, email="bob@example.org")
    for day in range(1, 8):
        audit.record(session, ada, "case.viewed", ("cases", day), at=FIXED_NOW.replace(day=day))
    audit.record(session, bob, "case.closed", ("cases", 3), at=FIXED_NOW.replace(day=3))

    by_ada = audit.list_entries(session, AuditFilter(actor_email="ADA@"), per_page=3)
    assert by_ada.total == 7 and by_ada.pages == 3 and len(by_ada.entries) == 3
    assert by_ada.entries[0].subject_id == 7  # newest first
    last = audit.list_entries(session, AuditFilter(actor_email="ada@"), page=3, per_page=3)
    assert [e.subject_id for e in last.entries] == [1]
    beyond = audit.list_entries(session, AuditFilter(actor_email="ada@"), page=99, per_page=3)
    assert beyond.page == 3

    closed = audit.list_entries(session, AuditFilter(action="case.closed"))
    assert [e.actor_id for e in closed.entries] == [bob.id]
    on_case_3 = audit.list_entries(session, AuditFilter(subject_type="cases", subject_id=3))
    assert on_case_3.total == 2
    window = audit.list_entries(
        session, AuditFilter(from_date=dt.date(2026, 11, 2), to_date=dt.date(2026, 11, 4))
    )
    assert sorted(e.subject_id for e in window.entries) == [2, 3, 3, 4]
    assert "case.closed" in ACTIONS
