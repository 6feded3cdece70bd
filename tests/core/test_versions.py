"""Data versions on a real database: a tracked model's flush gives its name a new token in the same
transaction, and `cached` answers from memory only while the token is unchanged."""

from __future__ import annotations

import datetime as dt

from portal.core import clock, versions
from portal.core.accounts import Role
from portal.core.settings import Setting
from portal.extensions import db
from portal.volunteers.profiles.models import VolunteerStatus
from portal.volunteers.vetting.models import VETTING_VERSION, CheckKind, CheckStatus
from tests.volunteers.vetting.builders import NOW, TODAY, add_check, make_volunteer


def test_a_tracked_flush_gives_a_new_token_and_an_untracked_one_does_not(session):
    assert versions.token(session, VETTING_VERSION) is None
    volunteer = make_volunteer(session, name="Ada O'Neill", email="ada@example.org")
    session.flush()
    first = versions.token(session, VETTING_VERSION)
    assert first is not None and len(first) == 32
    session.add(Setting(key="unrelated", value=1))
    session.flush()
    assert versions.token(session, VETTING_VERSION) == first
    volunteer.status = VolunteerStatus.PAUSED
    session.flush()
    assert versions.token(session, VETTING_VERSION) != first


def test_a_rolled_back_change_leaves_the_token_as_it_was(session):
    make_volunteer(session, name="Bea", email="bea@example.org")
    session.commit()
    before = versions.token(session, VETTING_VERSION)
    make_volunteer(session, name="Cy", email="cy@example.org")
    session.flush()
    assert versions.token(session, VETTING_VERSION) != before
    session.rollback()
    assert versions.token(session, VETTING_VERSION) == before


def test_cached_computes_once_per_token_and_key(session):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert versions.cached(session, VETTING_VERSION, "k", compute) == 1  # no token yet: never cached
    assert versions.cached(session, VETTING_VERSION, "k", compute) == 2
    make_volunteer(session, name="Dee", email="dee@example.org")
    session.commit()
    assert versions.cached(session, VETTING_VERSION, "k", compute) == 3
    assert versions.cached(session, VETTING_VERSION, "k", compute) == 3
    assert versions.cached(session, VETTING_VERSION, "other", compute) == 4
    versions.bump(session, VETTING_VERSION)
    assert versions.cached(session, VETTING_VERSION, "k", compute) == 5


def _vetting_panel(html: str) -> str:
    return html.split('data-panel="vetting">')[1].split("</ul>")[0]


def test_the_home_counts_follow_a_check_recorded_between_visits(client, login_as, app, monkeypatch):
    """The coordinator home's vetting panel, kept in memory between visits, changes as soon as a check does."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    login_as(Role.COORDINATOR)
    first = _vetting_panel(client.get("/coordinator").text)
    assert "0 checks expiring within 30 days" in first
    assert _vetting_panel(client.get("/coordinator").text) == first
    with app.app_context():
        volunteer = make_volunteer(db.session, name="Eve", email="eve@example.org")
        add_check(db.session, volunteer, CheckKind.NPPV, CheckStatus.CLEARED,
                  cleared_on=TODAY - dt.timedelta(days=345), expires_on=TODAY + dt.timedelta(days=20))
        db.session.commit()
    assert "1 check expiring within 30 days" in _vetting_panel(client.get("/coordinator").text)
