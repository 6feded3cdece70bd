"""The named supervisors' page lists every current supervisor with their account in one statement: the
same statements for 2 supervisors or 8 (the national bench found one query per supervisor)."""

from __future__ import annotations

import pytest

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.supervision import services
from tests.statements import page_statements
from tests.supervision.builders import NOW, make_coordinator, make_volunteer


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    monkeypatch.setattr(clock, "today", lambda: NOW.date())


def name_supervisors(app, start: int, count: int) -> None:
    with app.app_context():
        actor = make_coordinator(db.session, name=f"Coordinator {start}", email=f"coordinator{start}@example.org")
        for number in range(start, start + count):
            person = make_volunteer(db.session, name=f"Supervisor {number:02d}", email=f"sup{number:02d}@example.org")
            services.name_supervisor(db.session, person.id, actor=actor, now=NOW)
        db.session.commit()


def test_the_supervisors_page_runs_the_same_statements_for_two_supervisors_or_eight(app, client, login_as):
    login_as(Role.COORDINATOR)
    name_supervisors(app, 0, 2)
    small, html = page_statements(app, client, "/supervision/supervisors")
    assert html.count("Remove<span") == 2
    name_supervisors(app, 2, 6)
    large, html = page_statements(app, client, "/supervision/supervisors")
    assert html.count("Remove<span") == 8 and "Supervisor 07" in html
    assert large == small
