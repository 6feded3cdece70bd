"""On a phone-sized screen: a volunteer claims mileage and parking with a receipt photo; a coordinator
asks a question, the volunteer answers, the coordinator approves, batches the claim, exports the
spreadsheet (read back with openpyxl) and marks it paid. Pages pass axe and never scroll sideways."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Page, expect

from portal.core import clock
from portal.core.accounts import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import serve
from tests.browser.test_case_journey import fill_date
from tests.browser.test_smoke import create_person, sign_in
from tests.expenses.builders import jpeg_bytes

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture
def live_server(make_app, tmp_path: Path) -> Iterator[str]:
    """The portal over real HTTP with CSRF on, keeping receipts in this test's own folder."""
    with serve(make_app(WTF_CSRF_ENABLED=True, EXPENSES_RECEIPT_DIR=str(tmp_path / "receipts"))) as url:
        yield url


def fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_a_claim_from_phone_to_paid(app: Flask, live_server: str, new_page, tmp_path: Path):
    today = clock.today()
    volunteer_email = create_person(app, Role.VOLUNTEER)
    coordinator_email = create_person(app, Role.COORDINATOR)
    volunteer = new_page(**PHONE)
    coordinator = new_page(**PHONE)

    volunteer.goto("/sign-in")
    sign_in(volunteer, volunteer_email)
    volunteer.goto("/expenses/")
    expect(volunteer.get_by_role("heading", name="Your expense claims", level=1)).to_be_visible()
    assert_accessible(volunteer)
    volunteer.get_by_role("button", name="Start a new claim").click()
    claim_url = volunteer.url
    reference = volunteer.locator(".govuk-caption-l").inner_text()

    volunteer.get_by_role("link", name="Add a journey (mileage)").click()
    fill_date(volunteer, "spent_on", today)
    volunteer.get_by_label("From").fill("CM1 1QH")
    volunteer.get_by_label("To", exact=True).fill("CM1 1QH")
    volunteer.get_by_label("Miles").fill("0")
    volunteer.get_by_label("Car or van").check()
    volunteer.get_by_label("Description").fill("To the training venue and back")
    volunteer.get_by_role("button", name="Save expense").click()
    summary = volunteer.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The miles must be more than 0")
    expect(summary).to_contain_text("must end somewhere other than where it started")
    assert_accessible(volunteer)
    fits_the_screen(volunteer)
    volunteer.get_by_label("To", exact=True).fill("CO1 1ZZ")
    volunteer.get_by_label("Miles").fill("44")
    volunteer.get_by_role("button", name="Save expense").click()
    expect(volunteer.locator(".govuk-notification-banner--success")).to_contain_text("Expense added")

    volunteer.get_by_role("link", name="Add another expense").click()
    fill_date(volunteer, "spent_on", today)
    volunteer.get_by_label("Parking").check()
    volunteer.get_by_label("Amount").fill("6.40")
    volunteer.get_by_label("Description").fill("Car park at the training venue")
    volunteer.get_by_label("Receipts").set_input_files(
        files=[{"name": "IMG_2041.HEIC", "mimeType": "image/heic", "buffer": jpeg_bytes(2041)}])
    assert_accessible(volunteer)
    fits_the_screen(volunteer)
    volunteer.get_by_role("button", name="Save expense").click()
    expect(volunteer.locator("#main-content")).to_contain_text("44 miles at 45p")
    expect(volunteer.locator("#main-content")).to_contain_text("IMG_2041.jpg")
    expect(volunteer.locator("#main-content")).to_contain_text("£26.20")  # £19.80 + £6.40
    assert_accessible(volunteer)
    fits_the_screen(volunteer)
    volunteer.get_by_role("button", name="Submit claim").click()
    expect(volunteer.locator(".govuk-notification-banner--success")).to_contain_text(f"Claim {reference} submitted")

    coordinator.goto("/sign-in")
    sign_in(coordinator, coordinator_email)
    coordinator.goto("/expenses/review")
    assert_accessible(coordinator)
    coordinator.get_by_role("link", name=reference).click()
    receipt = coordinator.request.get(coordinator.get_by_role("link", name="IMG_2041.jpg").get_attribute("href"))
    # The photo is kept re-encoded (no EXIF, nothing after the image): the same picture, not the same bytes.
    assert receipt.ok and receipt.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(receipt.body())).size == Image.open(io.BytesIO(jpeg_bytes(2041))).size
    assert "sandbox" in receipt.headers["content-security-policy"]
    assert_accessible(coordinator)
    fits_the_screen(coordinator)
    coordinator.get_by_role("link", name="Ask a question").click()
    coordinator.get_by_label("Your question for the claimant").fill("Was the parking for the same training day?")
    coordinator.get_by_role("button", name="Send question").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("Question sent")

    volunteer.goto(claim_url)
    expect(volunteer.locator(".govuk-inset-text")).to_contain_text("Was the parking for the same training day?")
    volunteer.get_by_role("link", name="Answer the question").click()
    assert_accessible(volunteer)
    volunteer.get_by_label("Your answer").fill("Yes, day 1 in Colchester")
    volunteer.get_by_role("button", name="Send answer and resubmit").click()
    expect(volunteer.locator(".govuk-notification-banner--success")).to_contain_text("Answer sent")

    coordinator.goto(claim_url)
    expect(coordinator.locator("#main-content")).to_contain_text("Yes, day 1 in Colchester")
    coordinator.get_by_role("button", name="Approve claim").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text(f"Claim {reference} approved")

    coordinator.goto("/expenses/batches")
    assert_accessible(coordinator)
    coordinator.get_by_role("button", name="Make a payment batch").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text(re.compile(r"PAY-\d{4}-\d{5}"))
    coordinator.get_by_role("button", name="Lock batch").click()
    with coordinator.expect_download() as download_info:
        coordinator.get_by_role("link", name=re.compile("Download spreadsheet")).click()
    saved = tmp_path / "batch.xlsx"
    download_info.value.save_as(saved)
    workbook = load_workbook(io.BytesIO(saved.read_bytes()))
    claims = list(workbook["Claims"].iter_rows(values_only=True))
    assert claims[1][1] == reference and Decimal(str(claims[1][4])) == Decimal("26.20")
    assert len(list(workbook["Lines"].iter_rows(values_only=True))) == 3
    fill_date(coordinator, "paid_on", today)
    assert_accessible(coordinator)
    fits_the_screen(coordinator)
    coordinator.get_by_role("button", name="Mark as paid").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("marked paid")

    volunteer.goto("/expenses/")
    expect(volunteer.locator(".govuk-summary-card").first).to_contain_text("Paid")
