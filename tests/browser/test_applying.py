"""A newcomer finds the volunteering page, creates an account and reaches their task list; every page
on the way passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import assert_accessible

pytestmark = pytest.mark.browser


def test_a_newcomer_creates_an_account_and_starts_an_application(live_server: str, page: Page):
    page.goto("/")
    page.get_by_role("link", name="Find out about volunteering as a restorative justice facilitator").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Start now").click()
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Full name", exact=True).fill("Zoë Ní Bhriain")
    page.get_by_label("Email address", exact=True).fill("zoe.nibhriain@example.org")
    page.get_by_label("Create a password", exact=True).fill("lantern-orchard-kettle-42")
    page.get_by_label("Confirm your password", exact=True).fill("lantern-orchard-kettle-42")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{live_server}/volunteering/application")
    assert_accessible(page)

    page.get_by_role("button", name="Start your application").click()
    expect(page.locator(".govuk-task-list")).to_be_visible()
    assert_accessible(page)

    page.locator(".govuk-task-list a").first.click()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
