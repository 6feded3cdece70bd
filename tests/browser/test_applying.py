"""A newcomer finds the volunteering page, creates an account, confirms it from the e-mail and reaches
their task list; every page on the way passes axe."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible
from tests.smtp import SMTPServer, deliver_outbox

pytestmark = pytest.mark.browser


def test_a_newcomer_creates_an_account_and_starts_an_application(
    app: Flask, live_server: str, page: Page, smtp: SMTPServer
):
    page.goto("/")
    page.get_by_role("link", name="Find out about volunteering as a restorative justice facilitator").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Start now").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Full name", exact=True).fill("Zoë Ní Bhriain")
    page.get_by_label("Email address", exact=True).fill("zoe.nibhriain@example.org")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(page)

    deliver_outbox(app)
    body = smtp.inbox.to("zoe.nibhriain@example.org")[-1].get_body(("plain",)).get_content()
    page.goto(re.search(r"https?://[^/\s]+(/confirm-email/\S+)", body).group(1))
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill("lantern-orchard-kettle-42")
    page.get_by_label("Confirm new password", exact=True).fill("lantern-orchard-kettle-42")
    page.get_by_role("button", name="Save password").click()
    expect(page).to_have_url(f"{live_server}/applicant")  # signed in, on the applicant's home
    page.goto("/volunteering/application")
    assert_accessible(page)

    page.get_by_role("button", name="Start your application").click()
    expect(page.locator(".govuk-task-list")).to_be_visible()
    assert_accessible(page)

    page.locator(".govuk-task-list a").first.click()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
