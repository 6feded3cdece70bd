"""Route tests for coursework, marking and practical pages: every page for each role, uploads through the form,
downloads, the marking journey, release hiding and showing feedback, and 404 for anyone who may not see."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.training.coursework import services
from portal.training.coursework.models import Attempt, MarkingStatus, Outcome, PracticalAssessment
from portal.training.coursework.storage import FileStore
from portal.training.demo import load_demo_training
from tests import builders
from tests.builders import make_user
from tests.training.builders import COMPETENCIES, NOW, enrol, make_cohort, make_trainer
from tests.training.coursework.builders import (
    Setting,
    docx_bytes,
    macro_docx_bytes,
    odt_bytes,
    pdf_bytes,
    scripted_pdf_bytes,
)

M = MarkingStatus


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def upload_dir(tmp_path):
    return tmp_path / "coursework"


@pytest.fixture
def app(make_app, upload_dir):
    return make_app(COURSEWORK_UPLOAD_DIR=str(upload_dir))


@dataclass
class World:
    assignment_id: int
    cohort_id: int
    enrolment_ids: list[int]
    emails: dict[str, str]


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        setting = Setting(db.session, volunteers=2)
        outsider_trainer = make_trainer(db.session)
        other_cohort = make_cohort(db.session, setting.cohort.course, starts_on=dt.date(2027, 1, 11),
                                   trainers=[outsider_trainer])
        stranger = enrol(db.session, other_cohort).user
        db.session.commit()
        return World(
            assignment_id=setting.assignment.id, cohort_id=setting.cohort.id,
            enrolment_ids=[e.id for e in setting.enrolments],
            emails={"volunteer": setting.enrolments[0].user.email, "other": setting.enrolments[1].user.email,
                    "trainer": setting.trainer.email, "second": setting.second.email,
                    "coordinator": setting.coordinator.email, "outsider": outsider_trainer.email,
                    "stranger": stranger.email},
        )


def client_for(app, world: World, who: str):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": world.emails[who], "password": builders.PASSWORD})
    assert response.status_code == 302
    return client


def _user(app, world, who) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.emails[who]))
        db.session.expunge(user)
        return user


def _attempt(app, world, index: int = 0) -> Attempt | None:
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).where(Attempt.enrolment_id == world.enrolment_ids[index])
                                    .order_by(Attempt.number.desc()))
        if attempt is not None:
            db.session.expunge(attempt)
        return attempt


def _submit(client, world, name="essay.pdf", data=None, text=""):
    payload = {"text": text, "anonymised": "y"}
    if name is not None:
        payload["file"] = (io.BytesIO(pdf_bytes() if data is None else data), name)
    return client.post(f"/training/coursework/assignments/{world.assignment_id}", data=payload,
                       content_type="multipart/form-data")


def _mark_through_service(app, world, outcome=Outcome.PASS, index=0) -> int:
    with app.app_context():
        attempt = db.session.scalar(select(Attempt).where(Attempt.enrolment_id == world.enrolment_ids[index]))
        trainer = db.session.scalar(select(User).where(User.email == world.emails["trainer"]))
        services.start_marking(db.session, attempt.id, actor=trainer, now=NOW)
        services.save_marking(db.session, attempt.id, levels={"Reflection": "Meets", "Use of theory": "Meets"},
                              outcome=outcome, feedback="Secret feedback words", actor=trainer, now=NOW)
        db.session.commit()
        return attempt.id


# ---------------------------------------------------------------------------------------------
# Volunteers: submitting and receipts


def test_volunteer_sees_their_coursework_and_the_assignment(app, world):
    client = client_for(app, world, "volunteer")
    page = client.get("/training/coursework").get_data(as_text=True)
    assert "Reflective essay" in page and "Not submitted" in page
    page = client.get(f"/training/coursework/assignments/{world.assignment_id}").get_data(as_text=True)
    assert "Reflect on a role play." in page and "Submit my work" in page


@pytest.mark.parametrize(("name", "data"), [("essay.pdf", pdf_bytes()), ("essay.docx", docx_bytes()),
                                             ("essay.odt", odt_bytes())])
def test_upload_through_the_page_shows_the_receipt(app, world, upload_dir, name, data):
    client = client_for(app, world, "volunteer")
    response = _submit(client, world, name, data)
    assert response.status_code == 302
    attempt = _attempt(app, world)
    assert response.headers["Location"].endswith(f"/training/coursework/attempts/{attempt.id}/receipt")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Work received" in page and name in page and attempt.sha256[:16] in page
    assert FileStore(upload_dir).read(attempt.file_id) == data


@pytest.mark.parametrize(("name", "data", "message"), [
    ("../../x.pdf", pdf_bytes(), "without folders"),
    ("essay.pdf", b"", "The selected file is empty"),
    ("essay.exe", b"MZ\x90", "must be a PDF, DOCX or ODT"),
    ("essay.pdf", docx_bytes(), "is a Word document (DOCX) but its name ends in .pdf"),
    ("essay.docx", macro_docx_bytes(), "contains macros, which are not allowed"),
    ("essay.pdf", scripted_pdf_bytes(), "The selected PDF contains JavaScript"),
])
def test_bad_uploads_show_an_error_summary_and_store_nothing(app, world, upload_dir, name, data, message):
    client = client_for(app, world, "volunteer")
    response = _submit(client, world, name, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page and message in page.replace("&#39;", "'")
    assert _attempt(app, world) is None
    assert not upload_dir.exists() or not any(upload_dir.rglob("*"))


def test_submitting_without_the_anonymisation_declaration_is_explained(app, world):
    client = client_for(app, world, "volunteer")
    response = client.post(f"/training/coursework/assignments/{world.assignment_id}", data={"text": "My work"})
    assert response.status_code == 400
    assert "Confirm that you have removed or changed the names" in response.get_data(as_text=True)
    assert _attempt(app, world) is None


def test_too_large_an_upload_is_refused(app, world):
    app.config["COURSEWORK_MAX_BYTES"] = 1024
    client = client_for(app, world, "volunteer")
    response = _submit(client, world, "essay.pdf", pdf_bytes() + b" " * 2000)
    assert response.status_code == 400
    assert "must be smaller than 1 KB" in response.get_data(as_text=True)


def test_typed_work_is_accepted_without_a_file(app, world):
    client = client_for(app, world, "volunteer")
    response = _submit(client, world, name=None, text="My typed reflections")
    assert response.status_code == 302
    assert _attempt(app, world).text == "My typed reflections"


def test_download_is_an_attachment_with_a_safe_name_for_the_volunteer_trainer_and_coordinator(app, world):
    _submit(client_for(app, world, "volunteer"), world, "Zoë's essay.pdf", pdf_bytes())
    attempt = _attempt(app, world)
    for who in ("volunteer", "trainer", "coordinator"):
        response = client_for(app, world, who).get(f"/training/coursework/attempts/{attempt.id}/file")
        assert response.status_code == 200, who
        assert response.data == pdf_bytes()
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "Zoe_s essay.pdf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    for who in ("other", "outsider", "stranger"):
        assert client_for(app, world, who).get(f"/training/coursework/attempts/{attempt.id}/file").status_code == 404


def test_another_volunteer_editing_ids_in_urls_gets_404_everywhere(app, world):
    _submit(client_for(app, world, "volunteer"), world)
    attempt = _attempt(app, world)
    client = client_for(app, world, "stranger")
    for url in (f"/training/coursework/assignments/{world.assignment_id}",
                f"/training/coursework/attempts/{attempt.id}/receipt",
                f"/training/coursework/attempts/{attempt.id}/file"):
        assert client.get(url).status_code == 404, url
    other = client_for(app, world, "other")
    assert other.get(f"/training/coursework/attempts/{attempt.id}/receipt").status_code == 404


STAFF_GETS = [
    "/training/coursework/cohorts/{cohort}",
    "/training/coursework/cohorts/{cohort}/assignments/new",
    "/training/coursework/assignments/{assignment}/edit",
    "/training/coursework/assignments/{assignment}/work",
    "/training/coursework/assignments/{assignment}/enrolments/{enrolment}/extension",
    "/training/marking/attempts/{attempt}",
    "/training/practical/enrolments/{enrolment}",
]
STAFF_POSTS = [
    "/training/coursework/assignments/{assignment}/release",
    "/training/marking/attempts/{attempt}/allocate",
    "/training/marking/attempts/{attempt}/take",
    "/training/marking/attempts/{attempt}/stop",
    "/training/marking/attempts/{attempt}/release",
]


def _urls(world, attempt_id, templates):
    values = {"cohort": world.cohort_id, "assignment": world.assignment_id, "enrolment": world.enrolment_ids[0],
              "attempt": attempt_id}
    return [template.format(**values) for template in templates]


def test_trainer_of_another_cohort_gets_404_on_every_staff_route(app, world):
    _submit(client_for(app, world, "volunteer"), world)
    attempt = _attempt(app, world)
    client = client_for(app, world, "outsider")
    for url in _urls(world, attempt.id, STAFF_GETS):
        assert client.get(url).status_code == 404, url
    for url in _urls(world, attempt.id, STAFF_POSTS):
        assert client.post(url).status_code == 404, url
    assert client.get(f"/training/marking/attempts/{attempt.id}/mark").status_code == 404
    assert client.get(f"/training/marking/attempts/{attempt.id}/moderate").status_code == 404
    assert "Reflective essay" not in client.get("/training/marking").get_data(as_text=True)


def test_volunteers_cannot_reach_staff_routes(app, world):
    _submit(client_for(app, world, "volunteer"), world)
    attempt = _attempt(app, world)
    client = client_for(app, world, "volunteer")
    for url in [*_urls(world, attempt.id, STAFF_GETS), "/training/marking", "/training/marking/conflicts"]:
        assert client.get(url).status_code in (403, 404), url
    for url in _urls(world, attempt.id, STAFF_POSTS):
        assert client.post(url).status_code in (403, 404), url


def test_signed_out_people_are_sent_to_sign_in(app, world):
    response = app.test_client().get("/training/coursework")
    assert response.status_code == 302 and "sign-in" in response.headers["Location"]


# ---------------------------------------------------------------------------------------------
# Staff pages


def test_trainer_sets_an_assignment_with_a_rubric(app, world):
    client = client_for(app, world, "trainer")
    response = client.post(f"/training/coursework/cohorts/{world.cohort_id}/assignments/new", data={
        "title": "Case study", "instructions": "Write about a case.", "due_on": ["1", "2", "2027"],
        "rubric": "Insight: Low | High", "moderate_one_in": "4"})
    assert response.status_code == 302
    page = client.get(f"/training/coursework/cohorts/{world.cohort_id}").get_data(as_text=True)
    assert "Case study" in page and "Version 1, 1 criteria" in page


def test_assignment_form_shows_rubric_and_date_errors(app, world):
    client = client_for(app, world, "trainer")
    response = client.post(f"/training/coursework/cohorts/{world.cohort_id}/assignments/new", data={
        "title": "Case study", "due_on": ["1", "2", "2020"], "rubric": "Insight", "moderate_one_in": "4"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The deadline must be in the future" in page and "Rubric line 1" in page


def test_extension_page_grants_a_new_deadline(app, world):
    client = client_for(app, world, "trainer")
    url = f"/training/coursework/assignments/{world.assignment_id}/enrolments/{world.enrolment_ids[0]}/extension"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"due_on": ["1", "3", "2027"], "reason": "Hospital stay"})
    assert response.status_code == 302
    assert _attempt(app, world).due_at.date() == dt.date(2027, 3, 1)
    assert "Hospital stay" in client.get(f"/training/coursework/assignments/{world.assignment_id}/work").get_data(
        as_text=True)


def test_marking_journey_take_mark_moderate_release_and_feedback_appears(app, world, smtp):
    volunteer = client_for(app, world, "volunteer")
    _submit(volunteer, world)
    attempt = _attempt(app, world)
    trainer = client_for(app, world, "trainer")
    queue = trainer.get("/training/marking").get_data(as_text=True)
    assert "Take and mark" in queue and "Waiting for a marker (1)" in queue
    response = trainer.post(f"/training/marking/attempts/{attempt.id}/take")
    assert response.headers["Location"].endswith(f"/training/marking/attempts/{attempt.id}/mark")
    assert "You hold the marking lock" in trainer.get(response.headers["Location"]).get_data(as_text=True)

    second = client_for(app, world, "second")
    refused = second.post(f"/training/marking/attempts/{attempt.id}/take", follow_redirects=True)
    assert "Tara Trainer is already marking this work" in refused.get_data(as_text=True)

    incomplete = trainer.post(f"/training/marking/attempts/{attempt.id}/mark", data={"finish": "Finish marking"})
    assert incomplete.status_code == 409
    assert "Choose a level for" in incomplete.get_data(as_text=True)
    response = trainer.post(f"/training/marking/attempts/{attempt.id}/mark", data={
        "criterion_0": "Meets", "criterion_1": "Exceeds", "outcome": "pass", "feedback": "Secret feedback words",
        "finish": "Finish marking"})
    assert response.status_code == 302
    assert _attempt(app, world).status is M.MARKED and _attempt(app, world).needs_moderation

    hidden = volunteer.get(f"/training/coursework/assignments/{world.assignment_id}").get_data(as_text=True)
    assert "Secret feedback words" not in hidden and "Pass" not in hidden
    assert "Submitted" in hidden

    assert trainer.get(f"/training/marking/attempts/{attempt.id}/moderate").status_code == 404
    response = second.post(f"/training/marking/attempts/{attempt.id}/moderate", data={"decision": "agree"})
    assert response.status_code == 302
    response = trainer.post(f"/training/marking/attempts/{attempt.id}/release")
    assert response.status_code == 302
    shown = volunteer.get(f"/training/coursework/assignments/{world.assignment_id}").get_data(as_text=True)
    assert "Secret feedback words" in shown and "Pass" in shown and "Feedback ready" in shown
    assert "Exceeds" in shown  # the rubric levels the marker chose


def test_allocating_to_a_marker_puts_it_in_their_queue(app, world):
    _submit(client_for(app, world, "volunteer"), world)
    attempt = _attempt(app, world)
    second = _user(app, world, "second")
    coordinator = client_for(app, world, "coordinator")
    work = coordinator.get(f"/training/coursework/assignments/{world.assignment_id}/work").get_data(as_text=True)
    assert "Sam Second" in work
    response = coordinator.post(f"/training/marking/attempts/{attempt.id}/allocate",
                                data={f"a{attempt.id}-marker_id": str(second.id)})
    assert response.status_code == 302
    assert _attempt(app, world).marker_id == second.id
    queue = client_for(app, world, "second").get("/training/marking").get_data(as_text=True)
    assert "Allocated to you (1)" in queue


def test_conflict_declared_on_the_page_hides_the_volunteers_work(app, world):
    _submit(client_for(app, world, "volunteer"), world)
    attempt = _attempt(app, world)
    volunteer = _user(app, world, "volunteer")
    trainer = client_for(app, world, "trainer")
    page = trainer.get("/training/marking/conflicts").get_data(as_text=True)
    assert volunteer.name not in page  # the volunteer is found by a search, not listed with everyone
    found = trainer.get("/training/marking/conflicts", query_string={"q": volunteer.name}).get_data(as_text=True)
    assert volunteer.name in found
    missing = trainer.post("/training/marking/conflicts", data={"volunteer_id": "", "reason": ""})
    assert missing.status_code == 400 and "Choose the volunteer" in missing.get_data(as_text=True)
    response = trainer.post("/training/marking/conflicts", data={"volunteer_id": str(volunteer.id),
                                                                 "reason": "My brother"})
    assert response.status_code == 302
    assert trainer.get(f"/training/marking/attempts/{attempt.id}").status_code == 404
    assert trainer.get(f"/training/coursework/attempts/{attempt.id}/file").status_code == 404
    assert trainer.post(f"/training/marking/attempts/{attempt.id}/take").status_code == 404
    assert "Waiting for a marker (0)" in trainer.get("/training/marking").get_data(as_text=True)


def test_practical_observation_is_recorded_and_the_volunteer_sees_it(app, world):
    trainer = client_for(app, world, "trainer")
    url = f"/training/practical/enrolments/{world.enrolment_ids[0]}"
    page = trainer.get(url).get_data(as_text=True)
    assert all(name in page for name in COMPETENCIES)
    data = {"observed_on": ["23", "11", "2026"], "scenario": "Burglary: victim meets young person",
            "outcome": "pass"}
    for index in range(len(COMPETENCIES)):
        data[f"met_{index}"] = "met"
        data[f"evidence_{index}"] = f"Evidence {index}"
    data["met_1"] = "not_yet"
    refused = trainer.post(url, data=data)
    assert refused.status_code == 409 and "A pass needs every competency met" in refused.get_data(as_text=True)
    data["met_1"] = "met"
    response = trainer.post(url, data=data)
    assert response.status_code == 302
    with app.app_context():
        practical_id = db.session.scalar(select(PracticalAssessment.id))
    volunteer = client_for(app, world, "volunteer")
    assert "Evidence 2" in volunteer.get(f"/training/practical/{practical_id}").get_data(as_text=True)
    assert client_for(app, world, "other").get(f"/training/practical/{practical_id}").status_code == 404
    assert client_for(app, world, "outsider").get(f"/training/practical/{practical_id}").status_code == 404


def test_release_all_releases_ready_work_and_is_audited(app, world):
    _submit(client_for(app, world, "volunteer"), world)
    _submit(client_for(app, world, "other"), world)
    _mark_through_service(app, world, index=0)          # first pass: sampled
    attempt_id = _mark_through_service(app, world, index=1)  # not sampled
    trainer = client_for(app, world, "trainer")
    response = trainer.post(f"/training/coursework/assignments/{world.assignment_id}/release")
    assert response.status_code == 302
    assert _attempt(app, world, 1).status is M.RELEASED
    assert _attempt(app, world, 0).status is M.MARKED
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == attempt_id)))
    assert {"coursework.submitted", "coursework.marking_started", "coursework.marked",
            "coursework.released"} <= actions


def test_staff_pages_render_for_the_trainer(app, world):
    _submit(client_for(app, world, "volunteer"), world)
    attempt = _attempt(app, world)
    trainer = client_for(app, world, "trainer")
    for url in [*_urls(world, attempt.id, STAFF_GETS), "/training/marking", "/training/marking/conflicts",
                "/training/coursework/cohorts"]:
        assert trainer.get(url).status_code == 200, url


def test_every_page_renders_for_demo_work_in_every_state(app):
    with app.app_context():
        coordinator = make_user(db.session, roles=(Role.COORDINATOR,))
        trainers = [make_user(db.session, roles=(Role.TRAINER,)) for _ in range(2)]
        volunteers = [make_user(db.session, roles=(Role.VOLUNTEER,)) for _ in range(10)]
        load_demo_training(db.session, coordinator=coordinator, trainers=trainers, volunteers=volunteers, now=NOW)
        services.load_demo_coursework(db.session, now=NOW)
        db.session.commit()
        attempts = [(a.id, a.assignment_id, a.enrolment.user.email, a.status) for a in db.session.scalars(
            select(Attempt))]
        practicals = [p.id for p in db.session.scalars(select(PracticalAssessment))]
        emails = {"coordinator": coordinator.email, "trainer": trainers[0].email, "second": trainers[1].email}
    clients = {who: app.test_client() for who in emails}
    for who, client in clients.items():
        client.post("/sign-in", data={"email": emails[who], "password": builders.PASSWORD})
    coordinator_client = clients["coordinator"]
    for page in ("/training/marking", "/training/coursework/cohorts"):
        for client in clients.values():
            assert client.get(page).status_code == 200
    for attempt_id, assignment_id, email, status in attempts:
        assert coordinator_client.get(f"/training/coursework/assignments/{assignment_id}/work").status_code == 200
        if status is not M.NOT_SUBMITTED:
            assert coordinator_client.get(f"/training/marking/attempts/{attempt_id}").status_code == 200
        volunteer = app.test_client()
        volunteer.post("/sign-in", data={"email": email, "password": builders.PASSWORD})
        page = volunteer.get(f"/training/coursework/assignments/{assignment_id}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        if status in (M.MARKED, M.MODERATED, M.IN_MARKING):
            assert "check the person harmed has support" not in text
        assert volunteer.get("/training/coursework").status_code == 200
    for practical_id in practicals:
        assert coordinator_client.get(f"/training/practical/{practical_id}").status_code == 200
    moderation = [a for a in attempts if a[3] is M.MARKED]
    assert clients["second"].get(f"/training/marking/attempts/{moderation[0][0]}/moderate").status_code == 200
