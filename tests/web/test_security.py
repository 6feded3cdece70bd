"""Security by default: CSRF, throttled sign-in, headers, cookies, idle timeout, expiring links."""

import datetime as dt
import re
import time

import pytest
from flask import flash, render_template

from portal.core import account_services
from portal.core.accounts import Role, TokenPurpose
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.extensions import db
from tests.builders import PASSWORD, make_user


def create(app, *roles):
    with app.app_context():
        user = make_user(db.session, roles=roles or (Role.VOLUNTEER,))
        db.session.commit()
        return user.email


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_forms_without_a_csrf_token_are_rejected_and_change_nothing(csrf_app):
    client = csrf_app.test_client()
    email = create(csrf_app)
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Your form could not be sent" in response.text
    assert client.get("/volunteer").status_code == 302  # not signed in


def test_forms_with_the_csrf_token_work(csrf_app):
    client = csrf_app.test_client()
    email = create(csrf_app)
    page = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    home = client.get("/volunteer").text
    sign_out_token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    assert client.post("/sign-out").status_code == 400  # sign-out is a form too
    assert client.post("/sign-out", data={"csrf_token": sign_out_token}).status_code == 302


def test_sign_in_is_throttled_per_account_after_repeated_failures(app):
    email = create(app)
    client = app.test_client()
    for _ in range(5):
        assert client.post("/sign-in", data={"email": email, "password": "wrong-guess-again"}).status_code == 200
    blocked = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    # Another account from the same address is not locked by this one's failures.
    other = create(app)
    assert client.post("/sign-in", data={"email": other, "password": PASSWORD}).status_code == 302


def test_sign_in_is_throttled_per_address_across_accounts(make_app):
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    client = app.test_client()
    for number in range(3):
        client.post("/sign-in", data={"email": f"guess{number}@example.org", "password": "x"})
    blocked = client.post("/sign-in", data={"email": "guess9@example.org", "password": "x"})
    assert blocked.status_code == 429


def test_successful_sign_ins_do_not_count_towards_the_limit(app):
    email = create(app)
    client = app.test_client()
    for _ in range(7):
        assert client.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302
        client.post("/sign-out")


def test_security_headers_are_on_every_response(app, client, login_as):
    for response in (client.get("/sign-in"), client.get("/no-such-page")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
    login_as(Role.VOLUNTEER)
    assert client.get("/volunteer").headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(app, client):
    page = client.get("/sign-in").text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts, "the page should load its script from a file"
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts)


def test_session_cookie_is_httponly_lax_and_secure_outside_development(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    email = create(app)
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_idle_session_is_signed_out(app, client, login_as):
    login_as(Role.VOLUNTEER)
    assert client.get("/volunteer").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 31 * 60
    response = client.get("/volunteer")
    assert response.status_code == 302 and "/sign-in" in response.location
    page = client.get(response.location)
    assert "You were signed out because you had not done anything for 30 minutes." in page.text
    assert client.get("/volunteer").status_code == 302


def test_expired_reset_link_is_refused(app, client):
    with app.app_context():
        user = make_user(db.session)
        sent = []
        account_services.request_password_reset(
            db.session, user.email, link=lambda t: sent.append(t) or t, service_name="Portal",
            lifetime=dt.timedelta(hours=2), now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3),
        )
        db.session.commit()
    response = client.get(f"/reset-password/{sent[0]}")
    assert response.status_code == 410
    posted = client.post(
        f"/reset-password/{sent[0]}", data={"password": "fresh-lantern-oak-1", "confirm": "fresh-lantern-oak-1"}
    )
    assert posted.status_code == 410


def test_invitation_link_cannot_be_used_as_a_reset_link(app, client):
    with app.app_context():
        admin = make_user(db.session, roles=[Role.ADMIN])
        sent = []
        account_services.invite_user(
            db.session, email="new@example.org", name="New Person", roles=[Role.VOLUNTEER], actor=admin,
            link=lambda t: sent.append(t) or t, service_name="Portal", lifetime=dt.timedelta(days=7),
            now=dt.datetime.now(dt.UTC),
        )
        db.session.commit()
        assert account_services.find_valid_token(
            db.session, sent[0], TokenPurpose.INVITATION, now=dt.datetime.now(dt.UTC)
        )
    assert client.get(f"/reset-password/{sent[0]}").status_code == 410
    assert client.get(f"/invitation/{sent[0]}").status_code == 200


def test_unexpected_errors_show_a_friendly_page_without_a_stack_trace(make_app):
    app = make_app()

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_domain_errors_map_to_404_403_and_409_pages(make_app):
    app = make_app()

    @app.route("/missing")
    def missing():
        raise NotFound("case 7")

    @app.route("/forbidden")
    def forbidden():
        raise PermissionDenied("no")

    @app.route("/conflict")
    def conflict():
        raise RuleViolation("A case cannot move from triage to closed: a closure reason is needed")

    client = app.test_client()
    assert client.get("/missing").status_code == 404
    assert "case 7" not in client.get("/missing").text
    assert client.get("/forbidden").status_code == 403
    conflict_page = client.get("/conflict")
    assert conflict_page.status_code == 409
    assert "a closure reason is needed" in conflict_page.text


def test_a_too_large_upload_is_refused_with_a_clear_page(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    response = app.test_client().post("/sign-in", data={"email": "x" * 4096, "password": "y"})
    assert response.status_code == 413
    assert "The file is too large" in response.text


def test_sign_in_limits_are_shared_through_redis_when_configured(make_app):
    """With PORTAL_REDIS_URL set, every worker counts failures in Redis (here: two apps, one store)."""
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    worker_one = make_app(RATELIMIT_STORAGE_URI=url, LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    worker_two = make_app(RATELIMIT_STORAGE_URI=url, LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes")
    email = create(worker_one)
    for _ in range(3):
        worker_one.test_client().post("/sign-in", data={"email": email, "password": "wrong-guess-again"})
    assert any(email.encode() in key for key in redis.Redis.from_url(url).keys("*"))
    worker_two_limited = worker_two.test_client().post("/sign-in", data={"email": email, "password": PASSWORD})
    assert worker_two_limited.status_code == 429


def test_flash_banners_render_their_markup_and_escape_the_message(app, client):
    with app.test_request_context("/"):
        flash("Note about <script>O'Brien</script>", "success")
        html = render_template("base.html", title="Test")
    heading = "<p class='govuk-notification-banner__heading'>"
    assert f"{heading}Note about &lt;script&gt;O&#39;Brien&lt;/script&gt;</p>" in html
    assert "&lt;p class=" not in html
