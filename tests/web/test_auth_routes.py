"""Sign-in, sign-out, role homes, password reset and invitations through the web."""

import re

from sqlalchemy import select

from portal.core.accounts import Role, User
from portal.extensions import db
from tests.builders import PASSWORD, make_user
from tests.smtp import deliver_outbox


def create(app, *roles, **overrides):
    with app.app_context():
        user = make_user(db.session, roles=roles or (Role.VOLUNTEER,), **overrides)
        db.session.commit()
        return user.id, user.email


def test_each_role_lands_on_its_own_home(app, client):
    for role in Role:
        _, email = create(app, role)
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302
        home = client.get("/", follow_redirects=True)
        assert home.request.path == f"/{role.value}"
        assert f"{role.label}</span>" in home.text
        client.post("/sign-out")


def test_person_with_several_roles_lands_on_the_most_senior_and_can_reach_the_others(app, client, login_as):
    login_as(Role.VOLUNTEER, Role.COORDINATOR)
    home = client.get("/", follow_redirects=True)
    assert home.request.path == "/coordinator"
    assert 'href="/volunteer"' in home.text
    assert client.get("/volunteer").status_code == 200
    assert client.get("/admin").status_code == 403


def test_wrong_password_and_unknown_email_show_the_same_error_summary(app, client):
    _, email = create(app)
    wrong = client.post("/sign-in", data={"email": email, "password": "not-the-password"})
    unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "There is a problem" in response.text
        assert "Enter a correct email address and password" in response.text
        assert 'href="#email"' in response.text
        assert "<title>Error: Sign in" in response.text


def test_empty_sign_in_says_what_to_enter(client):
    response = client.post("/sign-in", data={"email": "", "password": ""})
    assert "Enter your email address" in response.text
    assert "Enter your password" in response.text


def test_sign_out_ends_the_session(app, client, login_as):
    login_as(Role.VOLUNTEER)
    assert client.get("/volunteer").status_code == 200
    response = client.post("/sign-out", follow_redirects=True)
    assert "You have signed out." in response.text
    assert client.get("/volunteer").status_code == 302


def test_pages_need_sign_in_and_return_to_the_page_afterwards(app, client):
    _, email = create(app, Role.ADMIN)
    response = client.get("/admin/people")
    assert response.status_code == 302 and "/sign-in?next=" in response.location
    signed_in = client.post(
        "/sign-in?next=/admin/people", data={"email": email, "password": PASSWORD}
    )
    assert signed_in.location == "/admin/people"


def test_sign_in_never_redirects_off_site(app, client):
    _, email = create(app)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post(f"/sign-in?next={target}", data={"email": email, "password": PASSWORD})
        assert response.location == "/"
        client.post("/sign-out")


def test_forgotten_password_sends_a_link_that_works_once(app, client, smtp):
    _, email = create(app, name="Ada O'Brien")
    response = client.post("/forgotten-password", data={"email": email.upper()})
    assert "Check your email" in response.text
    unknown = client.post("/forgotten-password", data={"email": "nobody@example.org"})
    assert "Check your email" in unknown.text  # says the same either way

    deliver_outbox(app)
    (message,) = smtp.inbox.to(email)
    link = re.search(r"http://localhost(/reset-password/\S+)", message.get_body(("plain",)).get_content()).group(1)

    form = client.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.text
    weak = client.post(link, data={"password": "password123", "confirm": "password123"})
    assert "harder to guess" in weak.text
    mismatch = client.post(link, data={"password": "meadow-harbour-bright-4", "confirm": "other"})
    assert "The passwords do not match" in mismatch.text
    done = client.post(link, data={"password": "meadow-harbour-bright-4", "confirm": "meadow-harbour-bright-4"})
    assert done.status_code == 302
    again = client.get(link)
    assert again.status_code == 410 and "This link has expired" in again.text
    assert client.post("/sign-in", data={"email": email, "password": "meadow-harbour-bright-4"}).status_code == 302


def test_admin_invites_someone_who_sets_a_password_and_signs_in(app, client, login_as, smtp):
    login_as(Role.ADMIN)
    response = client.post(
        "/admin/people/invite",
        data={"name": "Ffion Hughes-O'Connor", "email": "Ffion@Example.org", "roles": ["trainer", "volunteer"]},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ffion@example.org"))
        assert user.roles == {Role.TRAINER, Role.VOLUNTEER}
        assert user.name == "Ffion Hughes-O'Connor"
    deliver_outbox(app)
    (message,) = smtp.inbox.to("ffion@example.org")
    link = re.search(r"http://localhost(/invitation/\S+)", message.get_body(("plain",)).get_content()).group(1)
    client.post("/sign-out")
    set_password = client.post(link, data={"password": "amber-valley-kite-88", "confirm": "amber-valley-kite-88"})
    assert set_password.status_code == 302
    signed_in = client.post("/sign-in", data={"email": "ffion@example.org", "password": "amber-valley-kite-88"})
    assert signed_in.status_code == 302
    assert client.get("/", follow_redirects=True).request.path == "/trainer"


def test_invite_with_missing_fields_and_duplicate_email_shows_errors_and_saves_nothing(app, client, login_as):
    admin = login_as(Role.ADMIN)
    empty = client.post("/admin/people/invite", data={"name": "", "email": "", "roles": []})
    assert "Enter the person&#39;s full name" in empty.text
    assert "Choose at least one role" in empty.text
    duplicate = client.post(
        "/admin/people/invite", data={"name": "Someone", "email": admin.email, "roles": ["volunteer"]}
    )
    assert "There is already an account" in duplicate.text
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_admin_changes_roles_and_deactivates_and_the_person_is_signed_out_at_next_request(make_app, login_as, app):
    other_client = app.test_client()
    volunteer_id, volunteer_email = create(app, Role.VOLUNTEER)
    other_client.post("/sign-in", data={"email": volunteer_email, "password": PASSWORD})
    assert other_client.get("/volunteer").status_code == 200

    admin_client = app.test_client()
    _, admin_email = create(app, Role.ADMIN)
    admin_client.post("/sign-in", data={"email": admin_email, "password": PASSWORD})
    roles = admin_client.post(f"/admin/people/{volunteer_id}", data={"roles": ["volunteer", "trainer"]})
    assert roles.status_code == 302
    assert other_client.get("/trainer").status_code == 200

    deactivated = admin_client.post(f"/admin/people/{volunteer_id}/deactivate", follow_redirects=True)
    assert "can no longer sign in" in deactivated.text
    locked_out = other_client.get("/volunteer")
    assert locked_out.status_code == 302 and "/sign-in" in locked_out.location
    again = other_client.post("/sign-in", data={"email": volunteer_email, "password": PASSWORD})
    assert "Enter a correct email address and password" in again.text


def test_people_pages_are_for_admins_only_and_unknown_people_are_404(app, client, login_as):
    login_as(Role.COORDINATOR)
    assert client.get("/admin/people").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    client.post("/sign-out")
    login_as(Role.ADMIN)
    assert client.get("/admin/people/999999").status_code == 404


def test_change_password_checks_the_current_one_and_keeps_this_browser_signed_in(app, client, login_as):
    login_as(Role.VOLUNTEER)
    wrong = client.post(
        "/account/password",
        data={"current": "nope-nope-nope", "password": "river-stone-cloud-5", "confirm": "river-stone-cloud-5"},
    )
    assert "Your current password is not right" in wrong.text
    done = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": "river-stone-cloud-5", "confirm": "river-stone-cloud-5"},
    )
    assert done.status_code == 302
    assert client.get("/volunteer").status_code == 200
