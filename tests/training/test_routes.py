"""Training pages through the Flask client: each page for each role, errors shown, and 404 for
cohorts a trainer does not train and enrolments that are not the volunteer's own."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.training import services, signals
from portal.training.models import Cohort, CohortDay, Course, Enrolment, EnrolmentStatus
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from tests.training.builders import (
    FIRST_DAY,
    NOW,
    enrol,
    make_cohort,
    make_course,
    make_trainer,
    make_volunteer,
)

moment = {"now": NOW}


@pytest.fixture
def app(make_app):
    # These tests move the clock days ahead within one signed-in session; the 12-hour absolute session
    # lifetime (tested in tests/web/test_security_review.py) would otherwise sign the trainer out.
    return make_app(ABSOLUTE_SESSION_LIFETIME=dt.timedelta(days=3650))


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    moment["now"] = NOW
    monkeypatch.setattr(clock, "now", lambda: moment["now"])


def _cohort(app, *, trainer_id: int | None = None, capacity: int = 12, **overrides) -> int:
    with app.app_context():
        trainer = db.session.get(User, trainer_id) if trainer_id else make_trainer(db.session)
        cohort = make_cohort(db.session, trainers=[trainer], capacity=capacity, **overrides)
        db.session.commit()
        return cohort.id


def _enrol(app, cohort_id: int, user_id: int | None = None, **overrides) -> int:
    with app.app_context():
        user = db.session.get(User, user_id) if user_id else None
        enrolment = enrol(db.session, db.session.get(Cohort, cohort_id), user, **overrides)
        db.session.commit()
        return enrolment.id


def _offer(app, user_id: int) -> None:
    with app.app_context():
        make_volunteer(db.session, db.session.get(User, user_id))
        db.session.commit()


def _enrolment(app, enrolment_id: int) -> tuple[EnrolmentStatus, str | None]:
    with app.app_context():
        enrolment = db.session.get(Enrolment, enrolment_id)
        return enrolment.status, enrolment.dietary_needs


def _day_start(app, cohort_id: int, number: int) -> dt.datetime:
    with app.app_context():
        return db.session.scalar(select(CohortDay.starts_at).where(
            CohortDay.cohort_id == cohort_id, CohortDay.day_number == number))


def _date_fields(prefix: str, day: dt.date) -> dict[str, str]:
    return {prefix: [str(day.day), str(day.month), str(day.year)]}


def _cohort_form(trainer_id: int, dates: list[dt.date], **overrides) -> dict:
    data = {"name": "Maidstone, December", "capacity": "10", "trainer_ids": [str(trainer_id)],
            "venue_name": "Community Hall", "venue_address": "1 Market Street", "access_notes": "",
            "online_link": ""}
    for number, day in enumerate(dates, start=1):
        data.update(_date_fields(f"day{number}_date", day))
        data[f"day{number}_starts"] = "09:30"
        data[f"day{number}_ends"] = "16:30"
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------------------
# Home


def test_training_home_shows_a_trainer_only_their_cohorts(app, client, login_as):
    trainer = login_as(Role.TRAINER, name="Tomasz Nowak")
    _cohort(app, trainer_id=trainer.id, name="North cohort")
    _cohort(app, name="South cohort")
    page = client.get("/training/")
    assert page.status_code == 200
    assert "North cohort" in page.text and "South cohort" not in page.text
    assert "Add a course" not in page.text


def test_training_home_shows_a_coordinator_every_cohort(app, client, login_as):
    login_as(Role.COORDINATOR)
    _cohort(app, name="South cohort")
    page = client.get("/training/")
    assert "Add a course" in page.text and "South cohort" in page.text


def test_training_home_shows_a_volunteer_their_course_and_cohorts_to_join(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    _enrol(app, _cohort(app, name="North cohort"), volunteer.id)
    _cohort(app, name="South cohort", starts_on=dt.date(2027, 2, 1))
    page = client.get("/training/")
    assert "Your course" in page.text and "South cohort" in page.text
    assert "North cohort" in page.text  # their own enrolment, not offered again
    assert page.text.count("North cohort") == 1


def test_applicants_have_no_training_pages(client, login_as):
    login_as(Role.APPLICANT)
    assert client.get("/training/").status_code == 403


# ---------------------------------------------------------------------------------------------
# Courses and cohorts


def test_coordinator_adds_a_course_and_sees_a_clear_error_for_a_blank_title(app, client, login_as):
    login_as(Role.COORDINATOR)
    bad = client.post("/training/courses/new", data={"title": "", "hours": "28"})
    assert "Enter the course title" in bad.text
    made = client.post("/training/courses/new", data={"title": "RJ facilitator course", "hours": "28",
                                                      "competencies": "Preparation\nNeutrality"})
    assert made.status_code == 302
    with app.app_context():
        course = db.session.scalar(select(Course))
        assert course.competencies == ["Preparation", "Neutrality"]
    assert client.get(made.headers["Location"]).status_code == 200
    assert client.get(f"/training/courses/{course.id}/edit").status_code == 200


def test_trainers_and_volunteers_cannot_add_courses(client, login_as):
    login_as(Role.TRAINER)
    assert client.get("/training/courses/new").status_code == 403
    login_as(Role.VOLUNTEER)
    assert client.get("/training/courses/new").status_code == 403


def test_coordinator_creates_a_cohort_and_days_out_of_order_are_explained(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        course_id = make_course(db.session).id
        trainer_id = make_trainer(db.session).id
        db.session.commit()
    dates = [FIRST_DAY + dt.timedelta(days=n) for n in range(4)]
    out_of_order = client.post(f"/training/courses/{course_id}/cohorts/new",
                               data=_cohort_form(trainer_id, [dates[1], dates[0], dates[2], dates[3]]))
    assert out_of_order.status_code == 200
    assert "Day 2 is before day 1: enter the days in order" in out_of_order.text
    assert 'href="#day2_date' in out_of_order.text
    bad_time = client.post(f"/training/courses/{course_id}/cohorts/new",
                           data=_cohort_form(trainer_id, dates, day3_starts="half nine"))
    assert "Day 3 starts must be a time like 09:30" in bad_time.text
    made = client.post(f"/training/courses/{course_id}/cohorts/new", data=_cohort_form(trainer_id, dates))
    assert made.status_code == 302
    with app.app_context():
        cohort = db.session.scalar(select(Cohort))
        assert [day.starts_at.hour for day in cohort.days] == [9, 9, 9, 9]  # 09:30 GMT in December
        cohort_id = cohort.id
    page = client.get(f"/training/cohorts/{cohort_id}/edit")
    assert page.status_code == 200 and 'value="09:30"' in page.text


def test_capacity_below_the_number_enrolled_is_refused_on_the_edit_page(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        trainer = make_trainer(db.session)
        cohort = make_cohort(db.session, trainers=[trainer])
        enrol(db.session, cohort)
        enrol(db.session, cohort)
        db.session.commit()
        cohort_id, trainer_id = cohort.id, trainer.id
    dates = [FIRST_DAY + dt.timedelta(days=n) for n in range(4)]
    page = client.post(f"/training/cohorts/{cohort_id}/edit", data=_cohort_form(trainer_id, dates, capacity="1"))
    assert "Capacity cannot be below the 2 people already enrolled" in page.text


# ---------------------------------------------------------------------------------------------
# The cohort page and who sees it


def test_cohort_page_for_its_trainer_shows_people_and_shared_needs(app, client, login_as):
    trainer = login_as(Role.TRAINER)
    cohort_id = _cohort(app, trainer_id=trainer.id, capacity=1)
    _enrol(app, cohort_id, dietary_needs="Vegetarian", access_needs="Hearing loop")
    _enrol(app, cohort_id, status=EnrolmentStatus.WAITING)
    page = client.get(f"/training/cohorts/{cohort_id}")
    assert page.status_code == 200
    assert "Vegetarian" in page.text and "Hearing loop" in page.text
    assert "Waiting list (1)" in page.text
    assert "Enrol a volunteer" not in page.text  # coordinators only
    assert client.get(f"/training/cohorts/{cohort_id}/report").status_code == 200


def test_trainers_get_404_for_cohorts_they_do_not_train(app, client, login_as):
    login_as(Role.TRAINER)
    other = _cohort(app)
    enrolment_id = _enrol(app, other)
    for url in (f"/training/cohorts/{other}", f"/training/cohorts/{other}/report",
                f"/training/cohorts/{other}/days/1/register", f"/training/enrolments/{enrolment_id}",
                f"/training/enrolments/{enrolment_id}/complete"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/training/cohorts/{other}/days/1/register", data={}).status_code == 404


def test_volunteers_cannot_see_cohort_pages_or_other_peoples_enrolments(app, client, login_as):
    login_as(Role.VOLUNTEER)
    cohort_id = _cohort(app)
    someone_else = _enrol(app, cohort_id)
    assert client.get(f"/training/cohorts/{cohort_id}").status_code == 403
    assert client.get(f"/training/cohorts/{cohort_id}/days/1/register").status_code == 403
    for url in (f"/training/enrolments/{someone_else}", f"/training/enrolments/{someone_else}/withdraw",
                f"/training/enrolments/{someone_else}/certificate"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/training/enrolments/{someone_else}/needs", data={}).status_code == 404
    assert client.get("/training/enrolments/999999").status_code == 404


# ---------------------------------------------------------------------------------------------
# Enrolment


def test_coordinator_enrols_a_volunteer_and_twice_is_explained(app, client, login_as):
    login_as(Role.COORDINATOR)
    cohort_id = _cohort(app)
    with app.app_context():
        volunteer = make_volunteer(db.session, name="Zoë Ní Bhriain")
        db.session.commit()
        user_id = volunteer.user_id
    done = client.post(f"/training/cohorts/{cohort_id}/enrol", data={"user_id": str(user_id)})
    assert done.status_code == 302
    assert "Zoë Ní Bhriain is enrolled" in client.get(done.headers["Location"]).text
    twice = client.post(f"/training/cohorts/{cohort_id}/enrol", data={"user_id": str(user_id)})
    assert twice.status_code == 400
    assert "Zoë Ní Bhriain is already enrolled on" in twice.text
    with app.app_context():
        assert db.session.scalar(select(Volunteer.status).where(Volunteer.user_id == user_id)) \
            is VolunteerStatus.TRAINING
        subjects = db.session.scalars(select(OutboxMessage.subject)).all()
    assert len(subjects) == 1 and subjects[0].startswith("You are enrolled")


def test_volunteer_joins_shares_needs_and_a_second_click_is_harmless(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    _offer(app, volunteer.id)
    cohort_id = _cohort(app)
    assert "Join this course" in client.get(f"/training/cohorts/{cohort_id}/join").text
    joined = client.post(f"/training/cohorts/{cohort_id}/join", data={"dietary_needs": "Vegan"})
    assert joined.status_code == 302
    enrolment_url = joined.headers["Location"]
    assert "You are enrolled" in client.get(enrolment_url).text
    again = client.post(f"/training/cohorts/{cohort_id}/join", data={"dietary_needs": "Vegan"})
    assert again.status_code == 302 and again.headers["Location"] == enrolment_url
    with app.app_context():
        enrolment = db.session.scalar(select(Enrolment))
        assert (enrolment.status, enrolment.dietary_needs) == (EnrolmentStatus.ENROLLED, "Vegan")
    saved = client.post(f"{enrolment_url}/needs", data={"dietary_needs": "", "access_needs": "Step-free"})
    assert saved.status_code == 302
    assert _enrolment(app, enrolment.id) == (EnrolmentStatus.ENROLLED, None)


def test_volunteer_without_an_offer_is_told_why_they_cannot_join(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    cohort_id = _cohort(app)
    page = client.get(f"/training/cohorts/{cohort_id}/join")
    assert f"{volunteer.name} has not been offered a volunteer place yet" in page.text
    refused = client.post(f"/training/cohorts/{cohort_id}/join", data={})
    assert refused.status_code == 200 and "has not been offered a volunteer place yet" in refused.text
    with app.app_context():
        assert db.session.scalar(select(Enrolment)) is None


def test_full_cohort_offers_the_waiting_list(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    _offer(app, volunteer.id)
    cohort_id = _cohort(app, capacity=1)
    _enrol(app, cohort_id)
    assert "Join the waiting list" in client.get(f"/training/cohorts/{cohort_id}/join").text
    joined = client.post(f"/training/cohorts/{cohort_id}/join", data={})
    assert "You are on the waiting list" in client.get(joined.headers["Location"]).text


def test_volunteer_withdraws_and_the_first_waiting_gets_the_place(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    cohort_id = _cohort(app, capacity=1)
    mine = _enrol(app, cohort_id, volunteer.id)
    waiting = _enrol(app, cohort_id, status=EnrolmentStatus.WAITING)
    assert client.get(f"/training/enrolments/{mine}/withdraw").status_code == 200
    done = client.post(f"/training/enrolments/{mine}/withdraw", data={"reason": "New job"})
    assert done.status_code == 302
    assert _enrolment(app, mine)[0] is EnrolmentStatus.WITHDRAWN
    assert _enrolment(app, waiting)[0] is EnrolmentStatus.ENROLLED
    assert client.get(f"/training/enrolments/{mine}/withdraw").status_code == 404  # nothing left to withdraw


# ---------------------------------------------------------------------------------------------
# Registers, make-up days, completion


def test_trainer_takes_a_register_and_an_absence_needs_a_reason(app, client, login_as):
    trainer = login_as(Role.TRAINER)
    cohort_id = _cohort(app, trainer_id=trainer.id)
    with app.app_context():
        present = make_volunteer(db.session, name="Ann Present").user_id
        absent = make_volunteer(db.session, name="Bob Absent").user_id
        db.session.commit()
    first = _enrol(app, cohort_id, present)
    second = _enrol(app, cohort_id, absent)
    url = f"/training/cohorts/{cohort_id}/days/1/register"
    assert "you can record apologies in advance" in client.get(url).text
    moment["now"] = _day_start(app, cohort_id, 1) + dt.timedelta(minutes=20)
    page = client.get(url)
    assert "Ann Present" in page.text and "Bob Absent" in page.text
    missing = client.post(url, data={f"mark_{first}": "present", f"mark_{second}": "absent"})
    assert "Give a reason for Bob Absent&#39;s absence" in missing.text
    saved = client.post(url, data={f"mark_{first}": "late", f"reason_{first}": "Bus",
                                   f"mark_{second}": "absent", f"reason_{second}": "Unwell"})
    assert saved.status_code == 302
    assert "Register for day 1 saved" in client.get(saved.headers["Location"]).text
    assert "Needs a make-up day" in client.get(f"/training/cohorts/{cohort_id}").text
    assert client.get(f"/training/cohorts/{cohort_id}/days/5/register").status_code == 404


def test_coordinator_books_a_make_up_day_on_a_later_cohort(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        trainer = make_trainer(db.session)
        course = make_course(db.session)
        cohort = make_cohort(db.session, course, trainers=[trainer])
        later = make_cohort(db.session, course, trainers=[trainer], starts_on=dt.date(2027, 1, 11), name="January")
        enrolment = enrol(db.session, cohort)
        day = cohort.days[1]
        services.take_register(db.session, day.id, {enrolment.id: services.Mark("absent", "Unwell")},
                               actor=trainer, now=day.starts_at)
        db.session.commit()
        enrolment_id, later_day_id = enrolment.id, later.days[1].id
    page = client.get(f"/training/enrolments/{enrolment_id}")
    assert "Book a make-up day" in page.text
    options = client.get(f"/training/enrolments/{enrolment_id}/make-up/2")
    assert "January" in options.text
    booked = client.post(f"/training/enrolments/{enrolment_id}/make-up/2", data={"cohort_day_id": str(later_day_id)})
    assert booked.status_code == 302
    assert "is booked onto a make-up day 2" in client.get(booked.headers["Location"]).text


def test_completion_page_lists_what_is_missing_then_records_it_and_shows_a_certificate(app, client, login_as):
    """Attendance is judged here; coursework and practical are silenced (tests/training/coursework covers them)."""
    coordinator = login_as(Role.COORDINATOR)
    with app.app_context():
        trainer = make_trainer(db.session)
        cohort = make_cohort(db.session, trainers=[trainer])
        enrolment = enrol(db.session, cohort)
        db.session.commit()
        enrolment_id, days = enrolment.id, [(d.id, d.starts_at) for d in cohort.days]
    page = client.get(f"/training/enrolments/{enrolment_id}/complete")
    assert "Day 1 attendance not yet recorded" in page.text
    assert client.get(f"/training/enrolments/{enrolment_id}/certificate").status_code == 404
    with app.app_context():
        actor = db.session.get(User, coordinator.id)
        for day_id, starts_at in days:
            services.take_register(db.session, day_id, {enrolment_id: services.Mark("present")}, actor=actor,
                                   now=starts_at)
        db.session.commit()
    moment["now"] = days[-1][1] + dt.timedelta(days=1)
    with signals.completion_requested.muted():
        done = client.post(f"/training/enrolments/{enrolment_id}/complete", data={})
    assert done.status_code == 302
    assert _enrolment(app, enrolment_id)[0] is EnrolmentStatus.COMPLETED
    certificate = client.get(f"/training/enrolments/{enrolment_id}/certificate")
    assert certificate.status_code == 200 and "Certificate of completion" in certificate.text
    report = client.get(f"/training/cohorts/{cohort.id}/report")
    assert "100%" in report.text


# ---------------------------------------------------------------------------------------------
# Who reaches what


def _fixture_ids(app) -> dict[str, int]:
    with app.app_context():
        trainer = make_trainer(db.session)
        course = make_course(db.session)
        cohort = make_cohort(db.session, course, trainers=[trainer])
        later = make_cohort(db.session, course, trainers=[trainer], starts_on=dt.date(2027, 1, 11))
        enrolment = enrol(db.session, cohort)
        services.take_register(db.session, cohort.days[0].id, {enrolment.id: services.Mark("absent", "Unwell")},
                               actor=trainer, now=cohort.days[0].starts_at)
        booking = services.book_make_up(db.session, enrolment.id, later.days[0].id, actor=trainer,
                                        now=cohort.days[0].starts_at)
        db.session.commit()
        return {"course": course.id, "cohort": cohort.id, "enrolment": enrolment.id, "booking": booking.id}


COORDINATOR_ONLY = [
    ("GET", "/training/courses/new"),
    ("GET", "/training/courses/{course}"),
    ("GET", "/training/courses/{course}/edit"),
    ("GET", "/training/courses/{course}/cohorts/new"),
    ("GET", "/training/cohorts/{cohort}/edit"),
    ("POST", "/training/cohorts/{cohort}/enrol"),
    ("GET", "/training/enrolments/{enrolment}/make-up/1"),
    ("POST", "/training/make-ups/{booking}/cancel"),
    ("GET", "/training/cohorts/{cohort}/cancel"),
]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.VOLUNTEER])
def test_coordinator_pages_are_refused_to_trainers_and_volunteers(app, client, login_as, role):
    ids = _fixture_ids(app)
    login_as(role)
    for method, url in COORDINATOR_ONLY:
        response = client.open(url.format(**ids), method=method, data={})
        assert response.status_code == 403, (method, url)


def test_staff_pages_are_refused_to_volunteers(app, client, login_as):
    ids = _fixture_ids(app)
    login_as(Role.VOLUNTEER)
    for url in ("/training/cohorts/{cohort}", "/training/cohorts/{cohort}/report",
                "/training/cohorts/{cohort}/days/1/register", "/training/enrolments/{enrolment}/complete"):
        assert client.get(url.format(**ids)).status_code == 403, url


def test_the_cohorts_trainer_sees_its_enrolments_but_not_the_coordinators_pages(app, client, login_as):
    trainer = login_as(Role.TRAINER)
    cohort_id = _cohort(app, trainer_id=trainer.id)
    enrolment_id = _enrol(app, cohort_id, access_needs="Wheelchair user")
    page = client.get(f"/training/enrolments/{enrolment_id}")
    assert page.status_code == 200 and "Wheelchair user" in page.text
    assert "Withdraw" not in page.text and "Book a make-up day" not in page.text
    assert client.get(f"/training/enrolments/{enrolment_id}/withdraw").status_code == 404


def test_a_volunteer_cannot_open_the_join_page_of_a_started_cohort(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    _offer(app, volunteer.id)
    cohort_id = _cohort(app)
    moment["now"] = _day_start(app, cohort_id, 1) + dt.timedelta(minutes=1)
    assert client.get(f"/training/cohorts/{cohort_id}/join").status_code == 404
    assert client.post(f"/training/cohorts/{cohort_id}/join", data={}).status_code == 404
    assert client.get("/training/cohorts/999999/join").status_code == 404


def test_coordinator_cancels_a_make_up_day(app, client, login_as):
    ids = _fixture_ids(app)
    login_as(Role.COORDINATOR)
    page = client.get(f"/training/enrolments/{ids['enrolment']}")
    assert "Cancel" in page.text
    done = client.post(f"/training/make-ups/{ids['booking']}/cancel", data={})
    assert done.status_code == 302
    assert "Make-up day cancelled" in client.get(done.headers["Location"]).text
    assert "Book a make-up day" in client.get(f"/training/enrolments/{ids['enrolment']}").text


def test_coordinator_cancels_a_cohort_and_a_reason_is_required(app, client, login_as):
    login_as(Role.COORDINATOR)
    cohort_id = _cohort(app)
    enrolment_id = _enrol(app, cohort_id)
    assert "Cancel the cohort" in client.get(f"/training/cohorts/{cohort_id}").text
    missing = client.post(f"/training/cohorts/{cohort_id}/cancel", data={"reason": ""})
    assert "Give a reason: it is sent to everyone enrolled" in missing.text
    done = client.post(f"/training/cohorts/{cohort_id}/cancel", data={"reason": "Venue flooded"})
    assert done.status_code == 302
    assert "is cancelled and everyone on it has been told" in client.get(done.headers["Location"]).text
    assert _enrolment(app, enrolment_id)[0] is EnrolmentStatus.WITHDRAWN
