"""The links the browser journey found missing: trainers and coordinators reach marking and coursework from the
training home and from a cohort's page; an enrolled volunteer reaches their coursework from the training home and
from their course page."""

from __future__ import annotations

import pytest

from portal.core import clock
from portal.extensions import db
from portal.training.models import EnrolmentStatus
from tests import builders
from tests.training.builders import NOW, enrol, make_cohort, make_coordinator, make_trainer

MARKING = 'href="/training/marking"'
COURSEWORK_BY_COHORT = 'href="/training/coursework/cohorts"'
MY_COURSEWORK = 'href="/training/coursework"'


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def people(app) -> dict[str, object]:
    with app.app_context():
        trainer = make_trainer(db.session)
        cohort = make_cohort(db.session, trainers=[trainer])
        enrolled = enrol(db.session, cohort)
        waiting = enrol(db.session, cohort, status=EnrolmentStatus.WAITING)
        coordinator = make_coordinator(db.session)
        db.session.commit()
        return {"trainer": trainer.email, "coordinator": coordinator.email, "volunteer": enrolled.user.email,
                "waiting": waiting.user.email, "cohort_id": cohort.id, "enrolment_id": enrolled.id,
                "waiting_id": waiting.id}


def _page(app, email: str, url: str) -> str:
    client = app.test_client()
    assert client.post("/sign-in", data={"email": email, "password": builders.PASSWORD}).status_code == 302
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["trainer", "coordinator"])
def test_training_home_links_staff_to_marking_and_coursework_by_cohort(app, people, who):
    page = _page(app, people[who], "/training/")
    assert MARKING in page and COURSEWORK_BY_COHORT in page


def test_volunteer_training_home_links_to_their_coursework_and_not_to_marking(app, people):
    page = _page(app, people["volunteer"], "/training/")
    assert MY_COURSEWORK in page and "Your coursework and practical assessment" in page
    assert MARKING not in page and COURSEWORK_BY_COHORT not in page


def test_enrolled_volunteers_course_page_links_to_their_coursework(app, people):
    page = _page(app, people["volunteer"], f"/training/enrolments/{people['enrolment_id']}")
    assert MY_COURSEWORK in page


def test_a_waiting_list_place_has_no_coursework_link(app, people):
    page = _page(app, people["waiting"], f"/training/enrolments/{people['waiting_id']}")
    assert MY_COURSEWORK not in page


@pytest.mark.parametrize("who", ["trainer", "coordinator"])
def test_cohort_page_links_to_its_coursework_and_practical_assessment(app, people, who):
    page = _page(app, people[who], f"/training/cohorts/{people['cohort_id']}")
    link = f'href="/training/coursework/cohorts/{people["cohort_id"]}">Coursework and practical assessment</a>'
    assert link in page
