"""Route tests for the public volunteer page, applicant accounts and the application pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.models import Application, ApplicationStatus
from tests.builders import make_user
from tests.smtp import deliver_outbox
from tests.volunteers.builders import make_application

GOOD_PASSWORD = "correct horse battery staple"


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _current(app, user_id: int) -> Application | None:
    with app.app_context():
        application = db.session.scalar(
            select(Application).where(Application.user_id == user_id).order_by(Application.id.desc())
        )
        if application is not None:
            db.session.expunge(application)
        return application


def _start(client) -> None:
    assert client.post("/volunteering/application/start").status_code == 302


VALID_FORMS = {
    "personal_details": {"full_name": "Siobhán O'Brien", "preferred_name": "Shiv",
                         "date_of_birth": ["12", "4", "1985"]},
    "contact_details": {"email": "siobhan@example.org", "phone": "07700 900982", "address_line_1": "3 Quay Street",
                        "address_line_2": "", "town": "Colchester", "postcode": "co1 2ab"},
    "districts": {"districts": ["Colchester", "Tendring"]},
    "availability": {"monday": ["evening"], "saturday": ["morning", "afternoon"]},
    "languages": {"languages": "English, Irish"},
    "experience": {"experience": "Ten years as a school governor."},
    "motivation": {"motivation": "I saw what a conference did for my neighbour."},
    "referees": {"referee_1_name": "Jean-Luc Picard", "referee_1_email": "jl@example.org",
                 "referee_1_relationship": "Line manager", "referee_2_name": "Zoë Ní Bhriain",
                 "referee_2_email": "zoe@example.org", "referee_2_relationship": "Fellow governor"},
    "convictions": {"has_unspent_convictions": "no"},
    "equality": {"age_band": "35_44", "sex": "prefer_not_to_say"},
    "agreements": {"privacy_notice_agreed": "y", "commitment_agreed": "y"},
}


def _post_section(client, section: str, data: dict):
    return client.post(f"/volunteering/application/{section}", data=data)


def _fill(client, skip: tuple[str, ...] = ()) -> None:
    for section, data in VALID_FORMS.items():
        if section not in skip:
            response = _post_section(client, section, data)
            assert response.status_code == 302, (section, response.get_data(as_text=True)[:3000])


# ---------------------------------------------------------------------------------------------
# Public page and accounts


def test_about_page_is_public(client):
    response = client.get("/volunteering/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Volunteer with us" in page
    assert "4-day" in page and "12 months" in page and "18 to 20 hours" in page
    assert "/volunteering/account" in page


def _account_form(**overrides):
    return {"name": "Zoë Ní Bhriain", "email": "zoe@example.org", "website": "", **overrides}


def _emailed_link(app, smtp, address: str, path: str) -> str:
    deliver_outbox(app)
    (message,) = smtp.inbox.to(address)
    found = re.search(rf"http://localhost({path}/\S+)", message.get_body(("plain",)).get_content())
    assert found, message.get_body(("plain",)).get_content()
    return found.group(1)


def test_account_page_shows_form_with_hidden_honeypot(client):
    page = client.get("/volunteering/account").get_data(as_text=True)
    assert 'name="website"' in page and 'tabindex="-1"' in page and 'aria-hidden="true"' in page


def test_creating_an_account_emails_a_link_that_confirms_the_address_and_signs_in(app, client, smtp):
    response = client.post("/volunteering/account", data=_account_form())
    assert response.status_code == 200 and "Check your email" in response.text
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "zoe@example.org"))
        assert user is not None and user.name == "Zoë Ní Bhriain" and user.has_role(Role.APPLICANT)
        assert user.password_hash is None  # nobody can sign in until the address is confirmed
    link = _emailed_link(app, smtp, "zoe@example.org", "/confirm-email")
    page = client.get(link)
    assert page.status_code == 200 and "Choose your password" in page.text
    weak = client.post(link, data={"password": "password", "confirm": "password"})
    assert "There is a problem" in weak.text
    done = client.post(link, data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert done.status_code == 302
    assert "Start your application" in client.get("/volunteering/application").text
    assert client.get(link).status_code == 410  # the link works once
    client.post("/sign-out")
    assert client.post("/sign-in", data={"email": "zoe@example.org", "password": GOOD_PASSWORD}).status_code == 302


def test_signing_up_with_a_taken_address_looks_the_same_and_emails_the_owner(app, client, smtp):
    with app.app_context():
        staff = make_user(db.session, roles=(Role.COORDINATOR,), email="priya@example.org", name="Priya Shah")
        password_hash = staff.password_hash
        db.session.commit()
    new = client.post("/volunteering/account", data=_account_form())
    taken = app.test_client().post("/volunteering/account", data=_account_form(email="PRIYA@example.org"))
    assert taken.status_code == new.status_code == 200
    # The pages differ only in the address echoed back: nothing says who already has an account.
    assert taken.text.replace("PRIYA@example.org", "X") == new.text.replace("zoe@example.org", "X")
    deliver_outbox(app)
    (message,) = smtp.inbox.to("priya@example.org")
    body = message.get_body(("plain",)).get_content()
    assert "You already have an account" in message["Subject"]
    assert "http://localhost/sign-in" in body and "http://localhost/forgotten-password" in body
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == "priya@example.org"))
        assert owner.roles == {Role.COORDINATOR} and owner.password_hash == password_hash
        assert _count(app, User) == 2


def test_signing_up_again_before_confirming_sends_a_fresh_link_and_the_old_one_stops(app, client, smtp):
    client.post("/volunteering/account", data=_account_form())
    first = _emailed_link(app, smtp, "zoe@example.org", "/confirm-email")
    smtp.inbox.messages.clear()
    client.post("/volunteering/account", data=_account_form())
    second = _emailed_link(app, smtp, "zoe@example.org", "/confirm-email")
    assert first != second
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    assert _count(app, User) == 1


def test_honeypot_pretends_success_but_creates_nothing(app, client):
    response = client.post("/volunteering/account", data=_account_form(website="http://spam.example"))
    assert response.status_code == 200 and "Check your email" in response.text
    assert _count(app, User) == 0
    assert _count(app, OutboxMessage) == 0


def test_account_creation_is_rate_limited(app, client):
    for _ in range(10):
        client.post("/volunteering/account", data=_account_form(name="", email="x@example.org"))
    response = client.post("/volunteering/account", data=_account_form())
    assert response.status_code == 429
    assert _count(app, User) == 0


# ---------------------------------------------------------------------------------------------
# The application


@pytest.fixture
def applicant(login_as):
    return login_as(Role.APPLICANT)


def test_task_list_starts_the_draft(app, client, applicant):
    assert _current(app, applicant.id) is None
    _start(client)
    _start(client)  # a second start returns the same draft
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 1
    page = client.get("/volunteering/application").get_data(as_text=True)
    assert "Personal details" in page and "Not started" in page and "Optional" in page


def test_personal_details_happy_path_keeps_the_name_as_typed(app, client, applicant):
    _start(client)
    response = _post_section(client, "personal_details", VALID_FORMS["personal_details"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/volunteering/application")
    application = _current(app, applicant.id)
    assert application.full_name == "Siobhán O'Brien"
    assert application.date_of_birth == dt.date(1985, 4, 12)
    page = client.get("/volunteering/application/personal_details").get_data(as_text=True)
    assert "Siobhán O&#39;Brien" in page or "Siobhán O'Brien" in page


def test_personal_details_missing_and_under_18(app, client, applicant):
    _start(client)
    response = _post_section(client, "personal_details", {"full_name": "", "date_of_birth": ["", "", ""]})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page and "Enter your full name" in page and "Enter your date of birth" in page
    young = clock.today().replace(day=1, year=clock.today().year - 10)
    response = _post_section(client, "personal_details",
                             {"full_name": "Jean-Luc Picard",
                              "date_of_birth": [str(young.day), str(young.month), str(young.year)]})
    assert response.status_code == 400
    assert "You must be 18 or over" in response.get_data(as_text=True)
    response = _post_section(client, "personal_details",
                             {"full_name": "Jean-Luc Picard", "date_of_birth": ["31", "2", "1990"]})
    assert "Date of birth must be a real date" in response.get_data(as_text=True)
    assert _current(app, applicant.id).date_of_birth is None


def test_contact_details_bad_postcode_and_normalised_postcode(app, client, applicant):
    _start(client)
    bad = {**VALID_FORMS["contact_details"], "postcode": "not a postcode", "email": "nope"}
    response = _post_section(client, "contact_details", bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter a full UK postcode, like AA1 1AA" in page and "in the correct format" in page
    response = _post_section(client, "contact_details", VALID_FORMS["contact_details"])
    assert response.status_code == 302
    assert _current(app, applicant.id).postcode == "CO1 2AB"


@pytest.mark.parametrize(
    ("section", "data", "message"),
    [
        ("districts", {}, "Select at least one district"),
        ("districts", {"districts": ["Atlantis"]}, "Select districts from the list"),
        ("availability", {}, "Select at least one time"),
        ("availability", {"monday": ["midnight"]}, "Choose morning, afternoon or evening for Monday"),
        ("languages", {"languages": ""}, "Enter at least one language"),
        ("experience", {"experience": ""}, "Tell us about your relevant experience"),
        ("experience", {"experience": "x" * 2001}, "2,000 characters or fewer"),
        ("motivation", {"motivation": ""}, "Tell us why you want to volunteer"),
        ("referees", {**VALID_FORMS["referees"], "referee_2_email": "jl@example.org"}, "different email"),
        ("referees", {"referee_1_name": "R2-D2"}, "must only include letters"),
        ("convictions", {}, "Select yes if you have any unspent convictions"),
        ("convictions", {"has_unspent_convictions": "yes"}, "Give details of your unspent convictions"),
        ("equality", {"sex": "banana"}, "Prefer not to say"),
        ("agreements", {}, "privacy notice"),
    ],
)
def test_section_errors(app, client, applicant, section, data, message):
    _start(client)
    response = _post_section(client, section, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert message in page.replace("&#39;", "'").replace("&#34;", '"')


def test_every_section_saves_and_prefills(app, client, applicant):
    _start(client)
    _fill(client)
    application = _current(app, applicant.id)
    assert application.districts == ["Colchester", "Tendring"]
    assert application.availability == {"monday": ["evening"], "saturday": ["morning", "afternoon"]}
    assert application.languages == ["English", "Irish"]
    assert application.has_unspent_convictions is False
    page = client.get("/volunteering/application/availability").get_data(as_text=True)
    assert 'value="evening" checked' in page or "checked" in page
    task_list = client.get("/volunteering/application").get_data(as_text=True)
    assert "You have completed 11 of 11 sections" in task_list


def test_unknown_section_is_404(client, applicant):
    _start(client)
    assert client.get("/volunteering/application/nonsense").status_code == 404


def test_incomplete_submit_is_refused(app, client, applicant):
    _start(client)
    _fill(client, skip=("referees", "agreements"))
    response = client.post("/volunteering/application/check")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page and "Referees" in page and "Privacy notice and commitment" in page
    assert _current(app, applicant.id).status == ApplicationStatus.DRAFT
    assert _count(app, OutboxMessage) == 0


def test_check_answers_then_submit_shows_reference_and_queues_email(app, client, applicant):
    _start(client)
    _fill(client)
    page = client.get("/volunteering/application/check").get_data(as_text=True)
    assert "Check your answers" in page and "Change" in page and "Siobhán O" in page
    response = client.post("/volunteering/application/check")
    assert response.status_code == 302
    application = _current(app, applicant.id)
    assert application.status == ApplicationStatus.SUBMITTED
    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert application.reference in confirmation and "Application sent" in confirmation
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage)).all()
        assert len(messages) == 1
        assert messages[0].recipients == ["siobhan@example.org"]
        assert application.reference in messages[0].subject
    # Double click / back button: nothing more is created or sent.
    again = client.post("/volunteering/application/check")
    assert again.status_code == 302
    assert _count(app, OutboxMessage) == 1
    assert _count(app, Application) == 1
    # Once sent, the sections can no longer be changed and the progress page takes over.
    assert client.get("/volunteering/application").headers["Location"].endswith("/volunteering/application/progress")
    assert client.get("/volunteering/application/motivation").status_code == 302
    progress = client.get("/volunteering/application/progress").get_data(as_text=True)
    assert "Submitted" in progress and "Interview" in progress and "Vetting" in progress


def test_withdraw(app, client, applicant, monkeypatch):
    # The erasure date is a year after withdrawal: pin the clock so the date on the page is known.
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC))
    _start(client)
    assert client.get("/volunteering/application/withdraw").status_code == 200
    response = client.post("/volunteering/application/withdraw", data={"reason": "I have moved away"})
    assert response.status_code == 302
    application = _current(app, applicant.id)
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.withdrawal_reason == "I have moved away"
    page = client.get("/volunteering/application/progress").get_data(as_text=True)
    assert "You withdrew your application" in page
    assert "We will erase your personal details from this application on 23 November 2027" in page


def test_withdraw_page_says_how_long_the_application_is_kept(client, applicant):
    _start(client)
    page = client.get("/volunteering/application/withdraw").get_data(as_text=True)
    assert "We keep a withdrawn application for 365 days" in page


def test_convictions_details_are_revealed_under_yes(client, applicant):
    _start(client)
    page = client.get("/volunteering/application/convictions").get_data(as_text=True)
    conditional = page.index('class="govuk-radios__conditional')
    assert page.index('name="convictions_details"') > conditional
    assert page.count('name="convictions_details"') == 1
    assert 'data-aria-controls="conditional-has_unspent_convictions' in page


def test_applicant_sees_only_their_own_application(app, client, applicant):
    with app.app_context():
        other = make_application(db.session)
        other_reference = other.reference
        db.session.commit()
    _start(client)
    page = client.get("/volunteering/application").get_data(as_text=True)
    assert other_reference not in page
    assert other_reference not in client.get("/volunteering/application/check").get_data(as_text=True)


APPLICANT_PAGES = [
    ("get", "/volunteering/application"),
    ("post", "/volunteering/application/start"),
    ("get", "/volunteering/application/personal_details"),
    ("post", "/volunteering/application/personal_details"),
    ("get", "/volunteering/application/check"),
    ("post", "/volunteering/application/check"),
    ("get", "/volunteering/application/confirmation"),
    ("get", "/volunteering/application/progress"),
    ("get", "/volunteering/application/withdraw"),
    ("post", "/volunteering/application/withdraw"),
]


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.COORDINATOR])
@pytest.mark.parametrize(("method", "path"), APPLICANT_PAGES)
def test_other_roles_are_refused(client, login_as, role, method, path):
    login_as(role)
    assert getattr(client, method)(path).status_code == 403


@pytest.mark.parametrize(("method", "path"), APPLICANT_PAGES)
def test_signed_out_people_are_sent_to_sign_in(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]



def test_the_privacy_notice_is_public_and_gives_the_retention_periods(client):
    page = client.get("/volunteering/privacy").get_data(as_text=True)
    assert "Privacy notice for volunteer applicants" in page
    assert "deleted 90 days after you last changed it" in page and "erase your personal details 365" in page


def test_the_agreements_page_links_to_the_privacy_notice(client, applicant):
    _start(client)
    page = client.get("/volunteering/application/agreements").get_data(as_text=True)
    assert 'href="/volunteering/privacy"' in page
