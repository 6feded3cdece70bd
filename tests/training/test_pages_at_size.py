"""Training pages with a full cohort and many cohorts: statement counts that stay the same as people and
cohorts are added, lists 50 a page, and a coordinator enrolling a volunteer found by a search (no select
of everyone, no JavaScript), whatever is typed into it."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role, User
from portal.extensions import db
from portal.training.coursework import services as coursework_services
from portal.training.coursework.models import Attempt, ConflictOfInterest, MarkingStatus
from portal.training.models import Attendance, AttendanceMark, Cohort, CohortTrainer, Enrolment, EnrolmentStatus
from portal.volunteers.profiles.models import VolunteerStatus
from tests.statements import page_statements
from tests.training.builders import NOW, enrol, make_cohort, make_trainer, make_volunteer

DUE = NOW + dt.timedelta(days=30)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    monkeypatch.setattr(clock, "today", lambda: NOW.date())


@pytest.fixture
def full_cohort(app, login_as):
    """A cohort the signed-in coordinator trains, with a second trainer, an assignment and a course."""
    coordinator = login_as(Role.COORDINATOR, Role.TRAINER)
    with app.app_context():
        trainer = make_trainer(db.session, name="Tara Trainer")
        cohort = make_cohort(db.session, trainers=[trainer], capacity=40, name="Kent cohort")
        db.session.add(CohortTrainer(cohort_id=cohort.id, user_id=coordinator.id))
        assignment = coursework_services.create_assignment(
            db.session, cohort.id, coursework_services.AssignmentDetails(
                title="Reflective essay", instructions="Reflect on a role play.", due_at=DUE),
            actor=db.session.get(User, coordinator.id), now=NOW)
        db.session.commit()
        return {"cohort": cohort.id, "assignment": assignment.id, "course": cohort.course_id,
                "coordinator": coordinator.id, "trainer": trainer.id}


def add_people(app, world, start: int, count: int) -> None:
    """Enrolled volunteers who each missed day 1 (so need a make-up day), submitted their essay, and one
    waiting; the second trainer declared a conflict with each."""
    with app.app_context():
        cohort = db.session.get(Cohort, world["cohort"])
        day_one = cohort.days[0]
        for number in range(start, start + count):
            user = make_volunteer(db.session, status=VolunteerStatus.TRAINING, name=f"Volunteer {number:03d}",
                                  email=f"volunteer{number:03d}@example.org").user
            enrolment = enrol(db.session, cohort, user)
            db.session.add(Attendance(enrolment_id=enrolment.id, cohort_day_id=day_one.id,
                                      mark=AttendanceMark.ABSENT, reason="Unwell"))
            db.session.add(Attempt(assignment_id=world["assignment"], enrolment_id=enrolment.id, number=1,
                                   status=MarkingStatus.SUBMITTED, submitted_at=NOW, text="My reflections",
                                   levels={}))
            db.session.add(ConflictOfInterest(trainer_id=world["trainer"], volunteer_id=user.id, reason="Friend",
                                              declared_at=NOW))
        enrol(db.session, cohort, status=EnrolmentStatus.WAITING)
        db.session.commit()


def test_a_full_cohorts_pages_run_the_same_statements_however_many_people(app, client, full_cohort):
    world = full_cohort
    cohort, assignment = world["cohort"], world["assignment"]
    urls = [f"/training/cohorts/{cohort}", f"/training/cohorts/{cohort}?q=volunteer",
            f"/training/cohorts/{cohort}/report", f"/training/cohorts/{cohort}/days/1/register",
            f"/training/coursework/cohorts/{cohort}", f"/training/coursework/assignments/{assignment}/work",
            "/training/marking", "/training/marking/conflicts?q=volunteer"]
    add_people(app, world, 0, 5)
    small = [page_statements(app, client, url)[0] for url in urls]
    add_people(app, world, 5, 19)  # 24 enrolled
    large = [page_statements(app, client, url) for url in urls]
    assert dict(zip(urls, [count for count, _html in large], strict=True)) == dict(zip(urls, small, strict=True))
    assert max(small) <= 30
    cohort_page = large[0][1]
    assert "Volunteer 023" in cohort_page and "Needs a make-up day" in cohort_page
    assert "24 of 40 places taken" in cohort_page
    assert "Waiting for a marker (24)" in large[6][1]


def add_cohorts(app, world, start: int, count: int) -> None:
    """Cohorts of the course, each trained by the signed-in coordinator, with two people enrolled."""
    with app.app_context():
        course = db.session.get(Cohort, world["cohort"]).course
        coordinator = db.session.get(User, world["coordinator"])
        for number in range(start, start + count):
            cohort = make_cohort(db.session, course, starts_on=dt.date(2027, 1, 4) + dt.timedelta(weeks=number),
                                 name=f"Cohort {number:03d}", trainers=[coordinator])
            enrol(db.session, cohort)
            enrol(db.session, cohort)
        db.session.commit()


def test_cohort_lists_run_the_same_statements_however_many_cohorts(app, client, login_as, full_cohort):
    world = full_cohort
    urls = ["/training/", f"/training/courses/{world['course']}", "/training/coursework/cohorts"]
    add_cohorts(app, world, 0, 5)
    small = [page_statements(app, client, url)[0] for url in urls]
    add_cohorts(app, world, 5, 10)
    large = [page_statements(app, client, url)[0] for url in urls]
    assert large == small and max(small) <= 30

    client.post("/sign-out")
    login_as(Role.VOLUNTEER)  # the same cohorts, as ones to join
    volunteer_small = page_statements(app, client, "/training/")[0]
    add_cohorts(app, world, 15, 10)
    volunteer_large, html = page_statements(app, client, "/training/")
    assert volunteer_large == volunteer_small
    assert "Cohort 024" in html and "Courses you can join" in html


def cohort_names(html: str) -> list[str]:
    """The cohorts in the "All cohorts" table (the coordinator trains them too, in a table above)."""
    table = html.split(">All cohorts</caption>")[1].split("</table>")[0]
    return [unescape(name) for name in re.findall(r'href="/training/cohorts/\d+">(Cohort \d+)</a>', table)]


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "3", "３", "\x00"])
def test_all_cohorts_show_fifty_a_page_and_a_page_that_is_no_page_shows_the_first_or_last(
        app, client, full_cohort, page):
    add_cohorts(app, full_cohort, 0, 60)
    first = client.get("/training/").text
    assert "Showing 1 to 50 of 61 cohorts, page 1 of 2." in first
    assert 'href="/training/?page=2" rel="next"' in first
    response = client.get("/training/", query_string={"page": page})
    assert response.status_code == 200
    names = cohort_names(response.get_data(as_text=True))
    if page == "3":
        assert names == [f"Cohort {n:03d}" for n in range(49, 60)]  # the last page: the Kent cohort is first
    else:
        assert len(names) == 49 and names[0] == "Cohort 000"


# ---------------------------------------------------------------------------------------------
# Enrolling a volunteer found by a search


def enrol_section(html: str) -> str:
    return html.split('id="enrol"')[1]


@pytest.fixture
def people(app):
    with app.app_context():
        for number in range(30):
            make_volunteer(db.session, name=f"Sam Smith {number:02d}", email=f"sam{number:02d}@example.org")
        zoe = make_volunteer(db.session, name="Zoë Ní Bhriain", email="zoe@example.org").user
        make_volunteer(db.session, status=VolunteerStatus.ACTIVE, name="Ada Active", email="ada@example.org")
        gone = make_volunteer(db.session, name="Gone Person", email="gone@example.org").user
        gone.is_deactivated = True
        make_volunteer(db.session, name="Jo 100% Smith", email="jo@example.org")
        db.session.commit()
        return {"zoe": zoe.id}


def test_a_coordinator_finds_a_volunteer_by_name_and_enrols_them(app, client, full_cohort, people):
    cohort = full_cohort["cohort"]
    page = client.get(f"/training/cohorts/{cohort}").text
    section = enrol_section(page)
    assert "Sam Smith" not in section and "<select" not in section and "data-enrol-search" in section

    many = enrol_section(client.get(f"/training/cohorts/{cohort}", query_string={"q": "smith"}).text)
    assert many.count('name="user_id"') == 20 and "data-more-matches" in many
    assert "Jo 100% Smith (jo@example.org)" in many  # by name: "Jo" comes before "Sam"

    found = client.get(f"/training/cohorts/{cohort}", query_string={"q": "  ZOë  ní "})
    section = enrol_section(found.text)
    assert section.count('name="user_id"') == 1 and "Zoë Ní Bhriain (zoe@example.org)" in section
    assert 'name="q" value="ZOë ní"' in section  # SQLite folds the case of ASCII letters only

    done = client.post(f"/training/cohorts/{cohort}/enrol", data={"user_id": str(people["zoe"]), "q": "zoë"})
    assert done.status_code == 302 and done.location.endswith(f"/training/cohorts/{cohort}")
    after = client.get(done.location).text
    assert "Zoë Ní Bhriain is enrolled" in after
    again = enrol_section(client.get(f"/training/cohorts/{cohort}", query_string={"q": "zoë"}).text)
    assert "data-no-matches" in again  # already enrolled: no longer offered
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == people["zoe"]))
        assert enrolment.cohort_id == cohort and enrolment.status is EnrolmentStatus.ENROLLED


@pytest.mark.parametrize("search", ["ada", "gone", "nobody at all"])
def test_people_who_cannot_be_enrolled_are_not_offered(app, client, full_cohort, people, search):
    section = enrol_section(client.get(f"/training/cohorts/{full_cohort['cohort']}",
                                       query_string={"q": search}).text)
    assert "data-no-matches" in section and 'name="user_id"' not in section


@pytest.mark.parametrize("search, offered", [
    ("100%", 1), ("%", 1), ("_", 0), ("\x00", 0), ("Sam\x00 Smith 01", 1), ("<script>alert(1)</script>", 0),
    ("x" * 10_000, 0), ("Ǆ\u202e\U0001F600", 0),
])
def test_the_search_is_plain_text_whatever_is_typed(app, client, full_cohort, people, search, offered):
    response = client.get(f"/training/cohorts/{full_cohort['cohort']}", query_string={"q": search})
    assert response.status_code == 200
    section = enrol_section(response.get_data(as_text=True))
    assert section.count('name="user_id"') == offered
    assert "<script>alert(1)</script>" not in section
    if len(search) > 100:
        assert "The search must be 100 characters or fewer" in section


@pytest.mark.parametrize("user_id", ["", "abc", "99999999999999999999", "-1", "0"])
def test_enrolling_someone_who_is_not_there_is_explained_never_a_failure(app, client, full_cohort, people,
                                                                         user_id):
    response = client.post(f"/training/cohorts/{full_cohort['cohort']}/enrol", data={"user_id": user_id, "q": "sam"})
    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert 'class="govuk-error-message"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Enrolment.id).where(Enrolment.cohort_id == full_cohort["cohort"])) is None


def test_the_cohort_page_does_not_grow_with_the_number_of_volunteers_who_could_enrol(app, client, full_cohort):
    def enrol_size() -> int:
        return len(enrol_section(client.get(f"/training/cohorts/{full_cohort['cohort']}").text))

    before = enrol_size()
    with app.app_context():
        for number in range(200):
            make_volunteer(db.session, name=f"Extra Person {number:03d}")
        db.session.commit()
    assert enrol_size() == before
