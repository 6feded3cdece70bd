"""Input at the edge (security review, issue 14, defects 4-6): ids too big for the database are 404,
numbers too big are form errors, NUL and other untypeable characters are cleaned from every form and
query parameter, single-line answers refuse line breaks, and the parsers that used to raise do not.

Each test here failed before the fix (most answered 500 on PostgreSQL; the line breaks were stored),
except the page-number test: the queries already clamped page numbers, and it keeps them so."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import IntegerField, PasswordField, SelectChoice, SelectMultipleField, StringField, TextAreaField

from portal.cases.models import Case, CaseSensitiveKind, CaseStatus
from portal.core import clock
from portal.core.accounts import Role, User
from portal.extensions import db
from portal.supervision.models import SupervisionSlot
from portal.volunteers.interviews.models import InterviewSlot
from portal.volunteers.vetting.models import VettingCheck
from portal.web.baseform import PortalForm
from portal.web.fields import GovDateField, WholeNumberField
from portal.web.input import DATABASE_INT_MAX, clean_text
from tests.cases.builders import NOW, make_case
from tests.volunteers.vetting.builders import make_volunteer

TODAY = NOW.date()
TOO_BIG = [str(2**31), str(2**63), "1" + "0" * 40]


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _day(value: dt.date) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


def _count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------------------------------
# Defect 4: integers too big for the database


@pytest.mark.parametrize("number", TOO_BIG)
def test_an_id_too_big_for_the_database_is_page_not_found(client, login_as, number):
    login_as(Role.COORDINATOR)
    assert client.get(f"/training/enrolments/{number}").status_code == 404
    assert client.get(f"/cases/{number}").status_code == 404
    assert client.post(f"/cases/{number}/move", data={"status": "closed"}).status_code == 404
    assert client.get("/training/enrolments/2147483647").status_code == 404  # the largest id: looked up, not there


def test_a_person_too_big_for_the_database_is_a_form_error(app, client, login_as):
    login_as(Role.COORDINATOR)
    response = client.post("/supervision/supervisors", data={"user_id": str(2**31)})
    assert response.status_code != 500
    assert "Person must be one of the choices shown" in response.text


def test_interviewers_and_notice_hours_too_big_for_the_database_are_form_errors(app, client, login_as):
    coordinator = login_as(Role.COORDINATOR)
    interview = client.post("/volunteering/interviews/new", data={
        "day": ["1", "12", "2026"], "start_time": "10:00", "length_minutes": "60", "mode": "in_person",
        "venue": "Colchester Town Hall", "address": "High Street, Colchester", "capacity": "1", "weeks": "1",
        "interviewer_ids": [str(coordinator.id), str(2**63)],
    })
    assert interview.status_code == 400
    assert "Interviewers must be one of the choices shown" in interview.text
    slot = client.post("/supervision/manage/slots/new", data={
        "supervisor_id": str(coordinator.id), "day": _day(TODAY + dt.timedelta(days=7)), "start_time": "18:30",
        "length_minutes": "90", "kind": "group", "capacity": "6", "mode": "online",
        "online_link": "https://meet.example.org/rj", "minimum_notice_hours": str(2**31), "cutoff_hours": "12",
        "repeat": "none",
    })
    assert slot.status_code == 400
    assert "must be 2,147,483,647 or less" in slot.text
    assert _count(app, InterviewSlot) == 0 and _count(app, SupervisionSlot) == 0


@pytest.mark.parametrize("page", ["-1", "0", str(2**31), str(2**63), "two", "%00"])
def test_a_page_number_out_of_range_shows_the_first_page(app, client, login_as, page):
    login_as(Role.COORDINATOR)
    with app.app_context():
        make_case(db.session, district="Dover")
        db.session.commit()
    response = client.get(f"/cases/?district=Dover&page={page}")
    assert response.status_code == 200 and "Dover" in response.text


def test_a_volunteer_too_big_for_the_database_in_the_allocation_search_is_ignored(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        case_id = make_case(db.session, status=CaseStatus.AWAITING_ALLOCATION).id
        db.session.commit()
    response = client.get(f"/allocation/cases/{case_id}?user_id={2**31}")
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------
# Defect 5: NUL bytes and other characters nobody types


def test_signing_in_with_a_nul_byte_says_the_details_are_wrong(client, login_as):
    response = client.post("/sign-in", data={"email": "someone\x00@example.org", "password": "pass\x00word"})
    assert response.status_code == 200
    assert "Enter a correct email address and password" in response.text


def test_a_json_body_does_not_skip_the_cleaning(client):
    response = client.post("/sign-in", json={"email": "someone\x00@example.org", "password": "x\x00"})
    assert response.status_code < 500


def test_searching_for_a_nul_byte_finds_nothing_and_says_so(client, login_as):
    login_as(Role.COORDINATOR)
    for url in ("/volunteering/volunteers?search=%00", "/cases/?search=%00&district=%00",
                "/volunteering/applications?search=%00", "/admin/audit?action=%00"):
        assert client.get(url).status_code < 500, url


def test_a_nul_byte_in_a_note_is_removed_and_the_rest_is_kept(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        case_id = make_case(db.session).id
        db.session.commit()
    response = client.post(f"/cases/{case_id}/notes/new", data={"text": "Rang\x00 the\x1b school\r\nNo answer",
                                                                      "visibility": "general"})
    assert response.status_code == 302
    assert "Rang the school\r\nNo answer" in client.get(f"/cases/{case_id}").text.replace("<br>", "")


def test_the_applicant_account_form_refuses_a_line_break_in_the_name(app, client):
    response = client.post("/volunteering/account", data={"name": "Ada\r\nBcc: x@example.org",
                                                          "email": "ada@example.org"})
    assert response.status_code < 500
    assert "Full name must not contain line breaks or control characters" in response.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "ada@example.org")) is None


# ---------------------------------------------------------------------------------------------
# Defect 6: other parsers that raised, and control characters in single-line fields


def _referral(**overrides) -> dict:
    data = {
        "source": "police", "referrer_organisation": "Kent Police", "referrer_name": "PC Ruth Adeyemi",
        "received_on": _day(TODAY), "offence_category": "burglary", "justice_stage": "pre_charge",
        "district": "Canterbury", "victim_has_enhanced_rights": "no", "summary": "Shed burgled",
        "harmed_name": "Aoife O'Connor", "responsible_name": "Jamie Smith",
    }
    data.update(overrides)
    return data


def _pairs(data: dict) -> list[tuple[str, str]]:
    return [(key, item) for key, value in data.items() for item in (value if isinstance(value, list) else [value])]


def test_a_district_with_a_line_break_is_refused_with_a_message(app, client, login_as):
    login_as(Role.COORDINATOR)
    response = client.post("/cases/new", data=_referral(district="Canterbury\r\nBcc: attacker@example.org"))
    assert response.status_code == 200  # the form page again, with its error summary
    assert "District must not contain line breaks or control characters" in response.text
    assert 'href="#district"' in response.text
    assert _count(app, Case) == 0


def test_an_empty_sensitive_kinds_means_none_chosen(app, client, login_as):
    login_as(Role.COORDINATOR)
    response = client.post("/cases/new", data=MultiDict([*_pairs(_referral()), ("sensitive_kinds", "")]))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Case)).sensitive_kinds == frozenset()


def test_a_blank_beside_a_made_up_sensitive_kind_is_refused(app, client, login_as):
    login_as(Role.COORDINATOR)
    data = MultiDict([*_pairs(_referral()), ("sensitive_kinds", ""), ("sensitive_kinds", "made-up")])
    response = client.post("/cases/new", data=data)
    assert response.status_code == 200 and "govuk-error-summary" in response.text
    assert _count(app, Case) == 0 and _count(app, CaseSensitiveKind) == 0


def test_a_vetting_date_in_the_year_9999_is_refused_with_a_message(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        volunteer_id = make_volunteer(db.session).id
        db.session.commit()
    response = client.post(f"/volunteering/volunteers/{volunteer_id}/checks/new/nppv", data={
        "status": "cleared", "level": "NPPV3", "submitted_on": ["1", "12", "9999"], "cleared_on": ["31", "12", "9999"],
    })
    assert response.status_code == 400
    assert "Date cleared must be before 1 January 2200" in response.text
    assert _count(app, VettingCheck) == 0


# ---------------------------------------------------------------------------------------------
# The rules themselves, for any input (Hypothesis, derandomised so every run tries the same values)


class _Everything(PortalForm):
    class Meta:
        csrf = False

    name = StringField("Name")
    notes = TextAreaField("Notes")
    password = PasswordField("Password")
    count = IntegerField("Count")
    hours = WholeNumberField("Hours")
    on = GovDateField("Date")
    kinds = SelectMultipleField("Kinds", choices=[SelectChoice("a", "A"), SelectChoice("b", "B")])


_ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(_ANY_TEXT)
def test_cleaning_removes_only_the_untypeable_control_characters(text):
    cleaned = clean_text(text)
    assert not any(ord(character) < 32 and character not in "\t\n\r" for character in cleaned)
    assert cleaned == "".join(c for c in text if ord(c) >= 32 or c in "\t\n\r")


# The app fixture is only read (a request context for the form), so sharing it between examples is safe.
SHARED_APP = [HealthCheck.function_scoped_fixture]


@settings(derandomize=True, max_examples=300, deadline=None, suppress_health_check=SHARED_APP)
@given(name=_ANY_TEXT, notes=_ANY_TEXT, count=st.integers(min_value=-(2**70), max_value=2**70))
def test_a_portal_form_never_accepts_a_line_break_in_a_single_line_field_or_a_number_the_database_refuses(
    app, name, notes, count
):
    data = MultiDict([("name", name), ("notes", notes), ("password", name), ("count", str(count)),
                      ("hours", str(count))])
    with app.test_request_context():
        form = _Everything(formdata=data)
        form.validate()
    single_line_ok = not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in name)
    assert ("name" in form.errors) == (not single_line_ok)
    assert "notes" not in form.errors and "password" not in form.errors
    fits = -(2**31) <= count <= DATABASE_INT_MAX
    assert ("count" in form.errors) == (not fits) and ("hours" in form.errors) == (not fits)


@settings(derandomize=True, max_examples=200, deadline=None, suppress_health_check=SHARED_APP)
@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_a_portal_form_refuses_dates_outside_1900_to_2199(app, day):
    with app.test_request_context():
        form = _Everything(formdata=MultiDict([("on", part) for part in (str(day.day), str(day.month),
                                                                           f"{day.year:04d}")]))
        form.validate()
    assert ("on" in form.errors) == (not dt.date(1900, 1, 1) <= day <= dt.date(2199, 12, 31))
