"""Withdrawing a declared conflict of interest: the service on a plain Session (the trainer may be given the work
again, the withdrawal is audited, withdrawing twice or someone else's conflict changes nothing), and the
conflicts page's button through the client."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.audit import AuditEntry
from portal.core.errors import PermissionDenied
from portal.extensions import db
from portal.training.coursework import queries, services
from portal.training.coursework.errors import MarkingRefused
from portal.training.coursework.models import Attempt, ConflictOfInterest, MarkingStatus
from portal.training.coursework.storage import FileStore
from tests import builders
from tests.training.builders import NOW
from tests.training.coursework.builders import Setting


@pytest.fixture
def store(tmp_path) -> FileStore:
    return FileStore(tmp_path / "uploads")


def _audit(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# ---------------------------------------------------------------------------------------------
# The service


def test_withdrawn_conflict_lets_the_trainer_take_the_work_again_and_is_audited(session, store):
    setting = Setting(session)
    attempt = setting.submit(store)
    services.declare_conflict(session, setting.volunteer.id, "My sister", actor=setting.trainer, now=NOW)
    with pytest.raises(MarkingRefused, match="conflict of interest"):
        services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)

    withdrawn = services.withdraw_conflict(session, setting.volunteer.id, actor=setting.trainer, now=NOW)

    assert withdrawn is not None and withdrawn.volunteer.name == setting.volunteer.name
    assert queries.list_conflicts(session, setting.trainer.id) == []
    assert setting.trainer in services.eligible_markers(session, attempt)
    services.start_marking(session, attempt.id, actor=setting.trainer, now=NOW)
    assert attempt.status is MarkingStatus.IN_MARKING and attempt.lock_holder_id == setting.trainer.id
    [entry] = _audit(session, "coursework.conflict_withdrawn")
    assert entry.actor_id == setting.trainer.id
    assert (entry.details["volunteer_id"], entry.details["reason"]) == (setting.volunteer.id, "My sister")


def test_withdrawing_a_conflict_that_is_not_there_is_harmless_and_not_audited(session):
    setting = Setting(session)
    services.declare_conflict(session, setting.volunteer.id, "Neighbour", actor=setting.trainer, now=NOW)
    assert services.withdraw_conflict(session, setting.volunteer.id, actor=setting.trainer, now=NOW) is not None

    assert services.withdraw_conflict(session, setting.volunteer.id, actor=setting.trainer, now=NOW) is None
    assert len(_audit(session, "coursework.conflict_withdrawn")) == 1


def test_a_trainer_cannot_withdraw_another_trainers_conflict(session):
    setting = Setting(session)
    services.declare_conflict(session, setting.volunteer.id, "We work together", actor=setting.second, now=NOW)

    assert services.withdraw_conflict(session, setting.volunteer.id, actor=setting.trainer, now=NOW) is None
    assert queries.conflicted_volunteer_ids(session, setting.second.id) == {setting.volunteer.id}
    assert _audit(session, "coursework.conflict_withdrawn") == []


def test_only_trainers_and_coordinators_withdraw_conflicts(session):
    setting = Setting(session)
    with pytest.raises(PermissionDenied, match="Only trainers"):
        services.withdraw_conflict(session, setting.enrolments[1].user.id, actor=setting.volunteer, now=NOW)


# ---------------------------------------------------------------------------------------------
# The conflicts page


@pytest.fixture
def routes(make_app, tmp_path, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    app = make_app(COURSEWORK_UPLOAD_DIR=str(tmp_path / "coursework"))
    with app.app_context():
        setting = Setting(db.session, volunteers=1)
        attempt = setting.submit(FileStore(tmp_path / "coursework"))
        services.declare_conflict(db.session, setting.volunteer.id, "My brother", actor=setting.trainer, now=NOW)
        db.session.commit()
        ids = {"volunteer": setting.volunteer.id, "attempt": attempt.id, "trainer": setting.trainer.id}
        emails = {"trainer": setting.trainer.email, "volunteer": setting.volunteer.email}
        name = setting.volunteer.name
    return app, ids, emails, name


def _client(app, email: str):
    client = app.test_client()
    assert client.post("/sign-in", data={"email": email, "password": builders.PASSWORD}).status_code == 302
    return client


def test_the_conflicts_page_withdraws_a_conflict_with_its_button(routes):
    app, ids, emails, name = routes
    trainer = _client(app, emails["trainer"])
    page = trainer.get("/training/marking/conflicts").get_data(as_text=True)
    assert "My brother" in page
    assert f"Withdraw<span class=\"govuk-visually-hidden\"> the conflict with {name}</span>" in page
    assert trainer.get(f"/training/marking/attempts/{ids['attempt']}").status_code == 404

    response = trainer.post(f"/training/marking/conflicts/{ids['volunteer']}/withdraw")

    assert response.status_code == 302 and response.location.endswith("/training/marking/conflicts")
    page = trainer.get("/training/marking/conflicts").get_data(as_text=True)
    assert f"Conflict of interest with {name} withdrawn" in page
    assert "My brother" not in page
    assert trainer.get(f"/training/marking/attempts/{ids['attempt']}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(ConflictOfInterest).where(
            ConflictOfInterest.trainer_id == ids["trainer"])) is None
        assert db.session.get(Attempt, ids["attempt"]).status is MarkingStatus.SUBMITTED


def test_a_second_click_on_withdraw_is_harmless(routes):
    app, ids, emails, _name = routes
    trainer = _client(app, emails["trainer"])
    assert trainer.post(f"/training/marking/conflicts/{ids['volunteer']}/withdraw").status_code == 302

    again = trainer.post(f"/training/marking/conflicts/{ids['volunteer']}/withdraw", follow_redirects=True)

    assert again.status_code == 200
    assert "You have no conflict of interest with this volunteer to withdraw" in again.get_data(as_text=True)
    with app.app_context():
        assert len(list(db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "coursework.conflict_withdrawn")))) == 1


def test_a_volunteer_cannot_withdraw_a_conflict(routes):
    app, ids, emails, _name = routes
    volunteer = _client(app, emails["volunteer"])

    response = volunteer.post(f"/training/marking/conflicts/{ids['volunteer']}/withdraw")

    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(ConflictOfInterest.id).where(
            ConflictOfInterest.trainer_id == ids["trainer"])) is not None
