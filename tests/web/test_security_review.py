"""Regression tests for the outside security review (issue 14): forged hosts, sessions that outlive
signing out, sign-in limits behind a proxy, the development mail page, 405s and weak secret keys."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from portal.config import TestConfig
from portal.core import clock
from portal.core.accounts import Role, SignInSession, User
from portal.extensions import db
from portal.factory import create_app
from tests.builders import PASSWORD, make_user
from tests.smtp import deliver_outbox

COOKIE = "portal_session"


def create(app: Flask, *roles: Role, email: str | None = None) -> str:
    with app.app_context():
        user = make_user(db.session, roles=roles or (Role.VOLUNTEER,), email=email)
        db.session.commit()
        return user.email


def sign_in(client, email: str, password: str = PASSWORD, **kwargs):
    return client.post("/sign-in", data={"email": email, "password": password}, **kwargs)


def replay(app: Flask, cookie: str):
    """A second browser that presents a copy of a captured session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie, domain="localhost")
    return other


# ---------------------------------------------------------------------------------------------
# 1. Links in e-mail come from PORTAL_BASE_URL; other hosts are refused


def test_a_forged_host_header_is_refused_and_sends_nothing(app, client, smtp):
    email = create(app)
    response = client.post("/forgotten-password", data={"email": email}, headers={"Host": "evil.example"})
    assert response.status_code == 400
    deliver_outbox(app)
    assert smtp.inbox.to(email) == []


def test_reset_and_invitation_links_use_the_configured_address_not_the_request(make_app, smtp):
    app = make_app(BASE_URL="https://rj.example.org/portal", TRUSTED_HOSTS=["localhost", "rj.example.org"])
    email = create(app)
    client = app.test_client()
    assert client.post("/forgotten-password", data={"email": email}).status_code == 200
    admin = create(app, Role.ADMIN)
    sign_in(client, admin)
    client.post("/admin/people/invite", data={"name": "Ffion Hughes", "email": "ffion@example.org",
                                               "roles": ["volunteer"]})
    deliver_outbox(app)
    reset = smtp.inbox.to(email)[0].get_body(("plain",)).get_content()
    invitation = smtp.inbox.to("ffion@example.org")[0].get_body(("plain",)).get_content()
    assert re.search(r"https://rj\.example\.org/portal/reset-password/\S+", reset)
    assert re.search(r"https://rj\.example\.org/portal/invitation/\S+", invitation)
    assert "http://localhost" not in reset + invitation


# ---------------------------------------------------------------------------------------------
# 2. Signing out ends the session on the server; sessions have an absolute lifetime


def test_a_cookie_captured_before_signing_out_no_longer_opens_anything(app, client):
    email = create(app, Role.VOLUNTEER)
    sign_in(client, email)
    captured = client.get_cookie(COOKIE).value
    assert replay(app, captured).get("/account/").status_code == 200
    client.post("/sign-out")
    stolen = replay(app, captured)
    for path in ("/account/", "/cases/mine"):
        response = stolen.get(path)
        assert response.status_code == 302 and "/sign-in" in response.location, path
    with app.app_context():
        (row,) = db.session.scalars(select(SignInSession)).all()
        assert row.ended_at is not None


def test_a_cookie_captured_before_a_password_change_is_refused(app, client):
    email = create(app)
    sign_in(client, email)
    captured = client.get_cookie(COOKIE).value
    changed = client.post("/account/password", data={
        "current": PASSWORD, "password": "meadow-harbour-bright-4", "confirm": "meadow-harbour-bright-4"})
    assert changed.status_code == 302
    assert client.get("/account/").status_code == 200  # this browser carries on
    assert replay(app, captured).get("/account/").status_code == 302


def test_a_cookie_of_a_deactivated_person_is_refused(app, client):
    email = create(app)
    sign_in(client, email)
    captured = client.get_cookie(COOKIE).value
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user.is_deactivated = True
        db.session.commit()
    assert replay(app, captured).get("/account/").status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_however_active(make_app, monkeypatch):
    app = make_app(ABSOLUTE_SESSION_LIFETIME=dt.timedelta(hours=12))
    client = app.test_client()
    email = create(app)
    start = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: start)
    sign_in(client, email)
    monkeypatch.setattr(clock, "now", lambda: start + dt.timedelta(hours=11, minutes=59))
    assert client.get("/account/").status_code == 200
    monkeypatch.setattr(clock, "now", lambda: start + dt.timedelta(hours=12, minutes=1))
    response = client.get("/account/")
    assert response.status_code == 302 and "/sign-in" in response.location


def test_each_sign_in_is_its_own_session_and_signing_out_one_keeps_the_other(app):
    email = create(app)
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, email)
    sign_in(laptop, email)
    phone.post("/sign-out")
    assert phone.get("/account/").status_code == 302
    assert laptop.get("/account/").status_code == 200


# ---------------------------------------------------------------------------------------------
# 8. Sign-in limits behind a proxy, and an owner who cannot be locked out for long


def _fail(client, email: str, address: str):
    return sign_in(client, email, "wrong-password", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                   headers={"X-Forwarded-For": address})


def test_behind_a_trusted_proxy_each_person_has_their_own_address_limit(make_app):
    app = make_app(PROXY_COUNT=1, LOGIN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    client = app.test_client()
    emails = [create(app) for _ in range(4)]
    for email in emails[:3]:
        assert _fail(client, email, "203.0.113.7").status_code == 200
    assert _fail(client, emails[3], "203.0.113.7").status_code == 429
    # Someone else behind the same proxy is not affected.
    assert _fail(client, emails[3], "198.51.100.9").status_code == 200


def test_without_a_trusted_proxy_a_forged_forwarded_for_header_changes_nothing(make_app):
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    client = app.test_client()
    emails = [create(app) for _ in range(4)]
    for number, email in enumerate(emails[:3]):
        assert _fail(client, email, f"203.0.113.{number}").status_code == 200
    assert _fail(client, emails[3], "203.0.113.99").status_code == 429


def test_failures_from_elsewhere_do_not_lock_the_owner_out(make_app):
    app = make_app(PROXY_COUNT=1, LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS="3 per 15 minutes",
                   LOGIN_LIMIT_PER_ACCOUNT="50 per hour")
    email = create(app)
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(3):
        assert _fail(attacker, email, "203.0.113.7").status_code == 200
    assert _fail(attacker, email, "203.0.113.7").status_code == 429
    signed_in = sign_in(owner, email, environ_base={"REMOTE_ADDR": "10.0.0.1"},
                        headers={"X-Forwarded-For": "198.51.100.9"})
    assert signed_in.status_code == 302


def test_a_slower_limit_per_account_stops_guessing_from_many_addresses(make_app):
    app = make_app(PROXY_COUNT=1, LOGIN_LIMIT_PER_ACCOUNT="4 per hour")
    email = create(app)
    client = app.test_client()
    for number in range(4):
        assert _fail(client, email, f"203.0.113.{number}").status_code == 200
    assert _fail(client, email, "203.0.113.200").status_code == 429


# ---------------------------------------------------------------------------------------------
# 10. The development mail page is for admins only


def test_the_development_mail_page_needs_an_admin(make_app, tmp_path):
    app = make_app(DEVELOPMENT=True, MAIL_TRANSPORT="files", MAIL_FILE_DIR=str(tmp_path))
    anonymous = app.test_client()
    response = anonymous.get("/dev/mail")
    assert response.status_code == 302 and "/sign-in" in response.location
    volunteer = app.test_client()
    sign_in(volunteer, create(app, Role.VOLUNTEER))
    assert volunteer.get("/dev/mail").status_code == 404
    assert volunteer.get("/dev/mail/anything").status_code == 404
    admin = app.test_client()
    sign_in(admin, create(app, Role.ADMIN))
    assert admin.get("/dev/mail").status_code == 200


# ---------------------------------------------------------------------------------------------
# 11. 405 names the allowed methods; production refuses a weak secret key


def test_a_wrong_method_answers_405_with_an_allow_header(client):
    response = client.get("/sign-out")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "Sorry, there is a problem with that request" in response.text


@pytest.mark.parametrize("key", ["x", "a" * 64, "secret" * 10, "0123456789abcdef"])
def test_production_refuses_a_weak_secret_key(key, database_url):
    with pytest.raises(RuntimeError, match="too weak"):
        create_app(TestConfig, ENV_NAME="production", SECRET_KEY=key, SQLALCHEMY_DATABASE_URI=database_url)


@pytest.mark.parametrize("key", [secrets.token_urlsafe(32), secrets.token_hex(32)])
def test_production_accepts_a_random_32_byte_secret_key(key, database_url):
    app = create_app(TestConfig, ENV_NAME="production", SECRET_KEY=key, SQLALCHEMY_DATABASE_URI=database_url)
    assert app.config["SECRET_KEY"] == key


def test_no_link_is_built_from_the_request_host():
    """Every absolute link goes through portal.web.links (PORTAL_BASE_URL), never `_external=True`."""
    root = Path(__file__).resolve().parents[2] / "portal"
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if path.name != "links.py" and "_external=True" in path.read_text(encoding="utf-8")]
    assert offenders == []
