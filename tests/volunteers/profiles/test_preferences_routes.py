"""The availability and preferences pages through the Flask client: each page for its owner, errors in
the summary, another volunteer's dates away or conflict is a 404, the coordinators' section of the
volunteer record (with the audited view of conflicts and the experience form), and CSRF."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.audit import AuditEntry
from portal.extensions import db
from portal.volunteers.profiles import availability, services
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    Volunteer,
    VolunteerAbsence,
    VolunteerStatus,
)
from tests.builders import PASSWORD
from tests.volunteers.vetting.builders import NOW, TODAY, make_volunteer

CONFLICT_NAME = "Dafydd Jenkins"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def _date(day: dt.date, name: str) -> dict[str, list[str]]:
    return {name: [str(day.day), str(day.month), str(day.year)]}


def _sign_in(client, email: str) -> None:
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302


def _volunteer_id_for(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Volunteer.id).where(Volunteer.user_id == user_id))


@pytest.fixture
def me(app, login_as) -> User:
    """A signed-in volunteer with a record: Monday evenings in Colchester, two cases at most."""
    user = login_as(Role.VOLUNTEER, name="Zoë Ní Bhriain")
    with app.app_context():
        volunteer = Volunteer(user_id=user.id, status=VolunteerStatus.ACTIVE, districts=["Colchester"],
                              languages=["English"], availability={"monday": ["evening"]},
                              availability_mask=availability.bit("monday", "evening"))
        db.session.add(volunteer)
        db.session.commit()
    return user


@pytest.fixture
def other(app) -> dict:
    """Another volunteer with dates away and a declared conflict."""
    with app.app_context():
        volunteer = make_volunteer(db.session, name="Rhys Pritchard")
        absence = services.add_absence(db.session, volunteer.user_id, TODAY + dt.timedelta(days=3),
                                       TODAY + dt.timedelta(days=9), "Holiday", actor=volunteer.user, now=NOW)
        conflict = services.declare_conflict(db.session, volunteer.user_id, ConflictKind.PERSON, CONFLICT_NAME,
                                             "Former colleague", actor=volunteer.user, now=NOW)
        db.session.commit()
        return {"id": volunteer.id, "email": volunteer.user.email, "absence": absence.id, "conflict": conflict.id}


def _preferences(**overrides) -> dict:
    data = {"monday": ["morning", "evening"], "saturday": ["afternoon"], "districts": ["Colchester", "Tendring"],
            "max_cases": "3", "languages": "English, polish, Polish", "drives": "yes"}
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------------------
# The volunteer's pages


def test_the_page_shows_everything_with_change_links(client, me):
    page = client.get("/volunteering/my-availability")
    assert page.status_code == 200
    html = _text(page)
    assert "Monday evening" in html and "Colchester" in html and "New facilitator" in html
    assert 'href="/volunteering/my-availability/edit#monday"' in html
    assert 'href="/volunteering/my-availability/edit#max_cases"' in html
    assert "Only coordinators can see these." in html
    assert "Save experience level" not in html


def test_the_edit_page_saves_everything_and_keeps_the_mask_in_step(app, client, me):
    form = _text(client.get("/volunteering/my-availability/edit"))
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">' in form
    assert '<span class="govuk-visually-hidden">Monday </span>Evening' in form
    assert re.search(r'name="monday"[^>]*value="evening"[^>]*checked', form)  # today's answers are ticked
    response = client.post("/volunteering/my-availability/edit", data=_preferences())
    assert response.status_code == 302 and response.location.endswith("/volunteering/my-availability")
    assert client.post("/volunteering/my-availability/edit", data=_preferences()).status_code == 302  # twice
    html = _text(client.get(response.location))
    assert "Your availability and preferences are saved" in html
    assert "Monday morning and evening; Saturday afternoon" in html
    with app.app_context():
        volunteer = db.session.scalar(select(Volunteer).where(Volunteer.user_id == me.id))
        assert volunteer.availability == {"monday": ["morning", "evening"], "saturday": ["afternoon"]}
        assert volunteer.availability_mask == availability.to_mask(volunteer.availability)
        assert volunteer.districts == ["Colchester", "Tendring"] and volunteer.languages == ["English", "polish"]
        assert volunteer.max_cases == 3 and volunteer.drives is True and volunteer.preferences_updated_at == NOW


def test_errors_appear_in_the_summary_with_each_fields_message(app, client, me):
    data = _preferences(max_cases="0", districts=[], drives="")
    del data["monday"], data["saturday"]
    response = client.post("/volunteering/my-availability/edit", data=data)
    assert response.status_code == 400
    html = _text(response)
    assert "govuk-error-summary" in html and html.count("<title>Error: ") == 1
    for message in ("Choose at least one time you are available, or pause your volunteering instead",
                    "Choose at least one district you work in", "The most cases at once must be between 1 and 10",
                    "Select yes if you can drive to meetings"):
        assert html.count(message) == 2, message  # in the summary and on the field
    assert 'href="#monday"' in html
    not_a_number = _text(client.post("/volunteering/my-availability/edit", data=_preferences(max_cases="two")))
    assert "The most cases at once must be a whole number, like 2" in not_a_number
    with app.app_context():
        volunteer = db.session.scalar(select(Volunteer).where(Volunteer.user_id == me.id))
        assert volunteer.max_cases == 2 and volunteer.availability == {"monday": ["evening"]}


def test_dates_away_are_added_once_and_removed(app, client, me):
    data = {**_date(TODAY + dt.timedelta(days=10), "starts_on"), **_date(TODAY + dt.timedelta(days=20), "ends_on"),
            "note": "Holiday in Cork"}
    assert client.get("/volunteering/my-availability/away/new").status_code == 200
    assert client.post("/volunteering/my-availability/away/new", data=data).status_code == 302
    assert client.post("/volunteering/my-availability/away/new", data=data).status_code == 302  # a double click
    html = _text(client.get("/volunteering/my-availability"))
    assert "3 December 2026 to 13 December 2026" in html and "Holiday in Cork" in html
    with app.app_context():
        [absence_id] = db.session.scalars(select(VolunteerAbsence.id)).all()
    assert client.post(f"/volunteering/my-availability/away/{absence_id}/remove").status_code == 302
    assert client.post(f"/volunteering/my-availability/away/{absence_id}/remove").status_code == 404
    with app.app_context():
        assert db.session.scalars(select(VolunteerAbsence)).all() == []


def test_bad_dates_away_are_shown_in_the_summary(client, me):
    data = {**_date(TODAY - dt.timedelta(days=1), "starts_on"), "ends_on": ["31", "2", "2027"]}
    html = _text(client.post("/volunteering/my-availability/away/new", data=data))
    assert "govuk-error-summary" in html and "The last day away must be a real date" in html
    data = {**_date(TODAY - dt.timedelta(days=1), "starts_on"), **_date(TODAY, "ends_on")}
    response = client.post("/volunteering/my-availability/away/new", data=data)
    assert response.status_code == 400
    assert _text(response).count("The first day you are away must be today or in the future") == 2


def test_a_conflict_is_declared_privately_and_withdrawn(app, client, me):
    page = _text(client.get("/volunteering/my-availability/conflicts/new"))
    assert "Only coordinators can see what you write here." in page
    empty = client.post("/volunteering/my-availability/conflicts/new", data={"kind": "person", "name": " - "})
    assert empty.status_code == 400 and _text(empty).count("Enter the name of the person or place") == 2
    data = {"kind": "place", "name": "St Osyth Primary School", "details": "My son goes there"}
    assert client.post("/volunteering/my-availability/conflicts/new", data=data).status_code == 302
    assert client.post("/volunteering/my-availability/conflicts/new", data=data).status_code == 302
    html = _text(client.get("/volunteering/my-availability"))
    assert html.count("St Osyth Primary School") == 2  # the name and the hidden part of its button
    with app.app_context():
        [conflict_id] = db.session.scalars(select(ConflictOfInterest.id)).all()
    assert client.post(f"/volunteering/my-availability/conflicts/{conflict_id}/withdraw").status_code == 302
    assert client.post(f"/volunteering/my-availability/conflicts/{conflict_id}/withdraw").status_code == 302
    assert "St Osyth Primary School" not in _text(client.get("/volunteering/my-availability"))
    with app.app_context():
        assert db.session.get(ConflictOfInterest, conflict_id).withdrawn_at == NOW


def test_pausing_and_resuming(app, client, me):
    assert client.get("/volunteering/my-availability/pause").status_code == 200
    too_far = client.post("/volunteering/my-availability/pause", data=_date(TODAY + dt.timedelta(days=400), "until"))
    assert too_far.status_code == 400
    assert "The last day of your pause must be on or before 23 November 2027" in _text(too_far)
    data = {**_date(dt.date(2027, 1, 31), "until"), "reason": "Moving house"}
    assert client.post("/volunteering/my-availability/pause", data=data).status_code == 302
    html = _text(client.get("/volunteering/my-availability"))
    assert "You will not be offered new cases until after 31 January 2027." in html and "Moving house" in html
    assert client.post("/volunteering/my-availability/resume").status_code == 302
    assert client.post("/volunteering/my-availability/resume").status_code == 302
    with app.app_context():
        volunteer = db.session.scalar(select(Volunteer).where(Volunteer.user_id == me.id))
        assert volunteer.paused_until is None and volunteer.status is VolunteerStatus.ACTIVE


def test_another_volunteers_dates_away_and_conflict_are_not_found(app, client, me, other):
    for url in (f"/volunteering/my-availability/away/{other['absence']}/remove",
                f"/volunteering/my-availability/conflicts/{other['conflict']}/withdraw"):
        assert client.post(url).status_code == 404, url
        assert client.get(url).status_code == 405, url
    with app.app_context():
        assert db.session.get(VolunteerAbsence, other["absence"]) is not None
        assert db.session.get(ConflictOfInterest, other["conflict"]).is_current


def test_conflicts_never_appear_on_a_page_another_volunteer_can_open(app, client, me, other):
    mine = _volunteer_id_for(app, me.id)
    for url in ("/", "/volunteering/my-availability", "/volunteering/my-availability/edit",
                "/volunteering/my-availability/conflicts/new", "/volunteering/my-vetting",
                f"/volunteering/volunteers/{other['id']}", f"/volunteering/volunteers/{mine}",
                f"/volunteering/volunteers/{other['id']}/experience", "/volunteering/volunteers"):
        response = client.get(url, follow_redirects=True)
        assert CONFLICT_NAME not in _text(response), url
        assert "Former colleague" not in _text(response), url
    assert client.get(f"/volunteering/volunteers/{other['id']}").status_code == 404


def test_only_volunteers_with_a_record_reach_the_pages(client, login_as):
    login_as(Role.COORDINATOR)
    assert client.get("/volunteering/my-availability").status_code == 403
    client.post("/sign-out")
    login_as(Role.VOLUNTEER)  # the role, but no volunteer record yet
    assert client.get("/volunteering/my-availability").status_code == 404
    assert client.post("/volunteering/my-availability/edit", data=_preferences()).status_code == 404


# ---------------------------------------------------------------------------------------------
# Coordinators


def test_the_volunteer_record_shows_preferences_and_audits_the_view_of_conflicts(app, client, login_as, other):
    coordinator = login_as(Role.COORDINATOR)
    page = client.get(f"/volunteering/volunteers/{other['id']}")
    assert page.status_code == 200
    html = _text(page)
    assert "Availability and preferences" in html and "No times" in html
    assert "26 November 2026 to 2 December 2026 (Holiday)" in html
    assert CONFLICT_NAME in html and "Former colleague" in html
    assert "Save experience level" in html
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "volunteers.conflicts_viewed"))
        assert entry.actor_id == coordinator.id and entry.subject_id == other["id"]
        assert entry.details == {"conflicts": 1}


def test_an_admin_sees_the_preferences_but_never_the_conflicts(app, client, login_as, other):
    login_as(Role.ADMIN)
    html = _text(client.get(f"/volunteering/volunteers/{other['id']}"))
    assert "Availability and preferences" in html
    assert CONFLICT_NAME not in html and "Save experience level" not in html
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "volunteers.conflicts_viewed")) is None


def test_a_coordinator_sets_the_experience_level(app, client, login_as, other):
    login_as(Role.COORDINATOR)
    url = f"/volunteering/volunteers/{other['id']}/experience"
    response = client.post(url, data={"experience": "specialist"})
    assert response.status_code == 302 and response.location.endswith(f"/volunteering/volunteers/{other['id']}")
    assert "experience level is now “Trained for sensitive and complex cases”" in _text(client.get(response.location))
    missing = client.post(url, data={})
    assert missing.status_code == 400 and _text(missing).count("Select an experience level") == 2
    assert client.post("/volunteering/volunteers/999999/experience", data={"experience": "new"}).status_code == 404
    with app.app_context():
        assert db.session.get(Volunteer, other["id"]).experience is ExperienceLevel.SPECIALIST


def test_a_volunteer_can_neither_see_nor_use_the_experience_form(app, client, me, other):
    mine = _volunteer_id_for(app, me.id)
    for volunteer_id in (mine, other["id"]):
        url = f"/volunteering/volunteers/{volunteer_id}/experience"
        assert client.get(url).status_code == 403
        assert client.post(url, data={"experience": "specialist"}).status_code == 403
    assert "Save experience level" not in _text(client.get("/volunteering/my-availability"))
    with app.app_context():
        assert db.session.get(Volunteer, mine).experience is ExperienceLevel.NEW


# ---------------------------------------------------------------------------------------------
# CSRF


def test_posts_need_the_csrf_token(app, make_app, me):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    _sign_in_with_token(client, me.email)
    for url, data in (("/volunteering/my-availability/edit", _preferences()),
                      ("/volunteering/my-availability/resume", {})):
        assert client.post(url, data=data).status_code == 400, url
    page = client.get("/volunteering/my-availability/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/volunteering/my-availability/edit", data={**_preferences(), "csrf_token": token}) \
        .status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Volunteer).where(Volunteer.user_id == me.id)).max_cases == 3


def _sign_in_with_token(client, email: str) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
