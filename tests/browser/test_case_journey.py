"""A coordinator's journey in a real browser: record a referral (after fixing its errors), log a
contact, record written consent and an initial risk assessment, and move the case through triage,
contacting and assessment to awaiting allocation. The pages pass axe on the way."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.core import clock
from portal.core.accounts import Role
from tests.browser.axe import assert_accessible
from tests.browser.test_smoke import create_person, sign_in

pytestmark = pytest.mark.browser


def fill_date(page: Page, field: str, day) -> None:
    page.locator(f"#{field}-day").fill(str(day.day))
    page.locator(f"#{field}-month").fill(str(day.month))
    page.locator(f"#{field}-year").fill(str(day.year))


def move_to(page: Page, status_label: str) -> None:
    page.get_by_role("group", name="Move the case to").get_by_label(status_label, exact=True).check()
    page.get_by_role("button", name="Move case").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is now")


def test_coordinator_takes_a_referral_to_awaiting_allocation(app: Flask, live_server: str, page: Page):
    email = create_person(app, Role.COORDINATOR)
    today = clock.today()

    page.goto("/sign-in")
    sign_in(page, email)
    page.goto("/cases/")
    expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Record a referral").click()
    expect(page.get_by_role("heading", name="Record a referral", level=1)).to_be_visible()
    assert_accessible(page)

    # Sent empty: the error summary lists what is missing and links to the fields.
    page.get_by_role("button", name="Record referral").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Error: Record a referral"))
    expect(summary.get_by_role("link", name="Enter the district")).to_have_attribute("href", "#district")
    assert_accessible(page)

    page.get_by_label("Where the referral came from").select_option("police")
    page.get_by_label("Referring organisation", exact=True).fill("Kent Police")
    fill_date(page, "received_on", today)
    page.get_by_label("Offence or incident").select_option("burglary")
    page.get_by_label("Criminal justice stage").select_option("community_sentence")
    page.get_by_label("District", exact=True).fill("Canterbury")
    page.get_by_role("group", name=re.compile("enhanced rights")).get_by_label("No", exact=True).check()
    page.get_by_label("Summary of the referral").fill("Burglary of a garden shed; tools taken.")
    page.get_by_label("Harmed person: full name").fill("Aoife O'Connor")
    page.get_by_label("Harmed person: phone number").fill("07700 900001")
    page.get_by_label("Person responsible: full name").fill("Jamie Smith")
    page.get_by_role("button", name="Record referral").click()

    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(re.compile(r"Referral recorded: RJ-\d{4}-\d{5}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case RJ-")
    assert_accessible(page)

    move_to(page, "Triage")
    move_to(page, "Contacting")

    page.get_by_role("link", name="Log a contact attempt").click()
    page.get_by_label("Aoife O'Connor (harmed person)").check()
    fill_date(page, "attempted_on", today)
    page.get_by_label("Time of the attempt").fill("00:01")
    page.get_by_label("Phone", exact=True).check()
    page.get_by_label("Contact made", exact=True).check()
    page.get_by_role("button", name="Save contact attempt").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Contact attempt saved")

    move_to(page, "Assessment")

    # Too early for awaiting allocation: the refusal says why and nothing moves.
    page.get_by_role("group", name="Move the case to").get_by_label("Awaiting allocation").check()
    page.get_by_role("button", name="Move case").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("it needs written consent to take part")
    expect(page.locator(".govuk-error-summary")).to_contain_text("initial risk assessment")

    page.get_by_role("link", name="Record consent").click()
    page.get_by_label("Aoife O'Connor (harmed person)").check()
    page.get_by_label("Participation", exact=True).check()
    page.get_by_label("Written", exact=True).check()
    fill_date(page, "given_on", today)
    page.get_by_role("button", name="Save consent").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Consent from Aoife")

    page.get_by_role("link", name="Record a risk assessment").click()
    page.get_by_label("Initial", exact=True).check()
    fill_date(page, "assessed_on", today)
    page.get_by_label("Risk factors considered").fill("Acknowledges harm; no other concerns")
    page.get_by_label("Low", exact=True).check()
    page.get_by_role("group", name="Should the case proceed?").get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save risk assessment").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Risk assessment saved")

    move_to(page, "Awaiting allocation")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("is now awaiting allocation")
    expect(page.locator("main .govuk-tag").first).to_have_text("Awaiting allocation")
    assert_accessible(page)
