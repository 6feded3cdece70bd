"""Smoke test in a real browser: every role signs in, lands on its home page and signs out, the
sign-in errors are shown the GOV.UK way, the pages pass axe, and all of it works without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.core.accounts import Role
from portal.extensions import db
from tests import builders
from tests.browser.axe import assert_accessible

pytestmark = pytest.mark.browser


def create_person(app: Flask, role: Role) -> str:
    """A committed person holding only `role`; returns their e-mail address."""
    with app.app_context():
        user = builders.make_user(db.session, roles=(role,))
        email = user.email
        db.session.commit()
    return email


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(builders.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def expect_signed_out(page: Page, base_url: str) -> None:
    expect(page).to_have_url(f"{base_url}/sign-in")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "You have signed out."
    )
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_signs_in_to_their_home_page_and_signs_out(
    app: Flask, live_server: str, page: Page, role: Role
):
    email = create_person(app, role)

    page.goto("/sign-in")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert_accessible(page)

    sign_in(page, email)
    expect(page).to_have_url(f"{live_server}/{role.value}")
    expect(page).to_have_title(re.compile(rf"^{role.label} home – "))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    expect_signed_out(page, live_server)

    # The session really is over: the home page now asks for a sign-in.
    page.goto(f"/{role.value}")
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/sign-in\?next="))


def test_empty_sign_in_shows_an_accessible_error_summary_linked_to_the_fields(
    live_server: str, page: Page
):
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in", exact=True).click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: Sign in – "))
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    email_link = summary.get_by_role("link", name="Enter your email address")
    password_link = summary.get_by_role("link", name="Enter your password")
    expect(email_link).to_have_attribute("href", "#email")
    expect(password_link).to_have_attribute("href", "#password")
    expect(page.locator("#email")).to_have_accessible_name("Email address")
    expect(page.locator("#password")).to_have_accessible_name("Password")
    assert_accessible(page)

    email_link.click()
    expect(page.get_by_label("Email address", exact=True)).to_be_focused()
    password_link.click()
    expect(page.get_by_label("Password", exact=True)).to_be_focused()


def test_signing_in_and_out_works_without_javascript(
    app: Flask, live_server: str, new_page: Callable[..., Page]
):
    email = create_person(app, Role.VOLUNTEER)
    page = new_page(java_script_enabled=False)

    page.goto("/sign-in")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bjs-enabled\b"))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    expect(page.get_by_role("link", name="Enter your email address")).to_have_attribute(
        "href", "#email"
    )

    sign_in(page, email)
    expect(page).to_have_url(f"{live_server}/volunteer")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect_signed_out(page, live_server)


def test_pages_run_their_script_under_the_real_content_security_policy(
    app: Flask, browser, live_server: str
):
    """Without the axe bypass, the CSP blocks nothing the pages need and the script still runs."""
    email = create_person(app, Role.COORDINATOR)
    context = browser.new_context(base_url=live_server)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.goto("/sign-in")
        expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b"))
        sign_in(page, email)
        expect(page).to_have_url(f"{live_server}/coordinator")
        expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
        assert problems == []
    finally:
        context.close()
