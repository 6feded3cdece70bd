"""A coordinator records a renewal of a lapsed police vetting check in a real browser: the dashboard
lists it as lapsed, one click opens the renewal form, a wrong date is explained, and once saved the
volunteer's record says cleared to practise. The pages pass axe on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.volunteers.vetting.models import CheckKind
from portal.volunteers.vetting.rules import add_months
from tests.browser.axe import assert_accessible
from tests.browser.test_case_journey import fill_date
from tests.browser.test_smoke import create_person, sign_in
from tests.volunteers.vetting.builders import make_volunteer, record

pytestmark = pytest.mark.browser


def test_coordinator_records_a_renewal_from_the_dashboard(app: Flask, live_server: str, page: Page):
    today = clock.today()
    email = create_person(app, Role.COORDINATOR)
    with app.app_context():
        volunteer = make_volunteer(db.session, name="Rhys Pritchard")
        record(db.session, volunteer, cleared_on=add_months(today, -12) - dt.timedelta(days=3), now=clock.now())
        record(db.session, volunteer, CheckKind.REFERENCES, cleared_on=today - dt.timedelta(days=400),
               reference_last4=None, now=clock.now())
        db.session.commit()

    page.goto("/sign-in")
    sign_in(page, email)
    page.goto("/volunteering/vetting")
    expect(page.get_by_role("heading", name="Vetting", level=1)).to_be_visible()
    lapsed = page.locator('table[data-group="lapsed"]')
    expect(lapsed).to_contain_text("Rhys Pritchard")
    assert_accessible(page)

    lapsed.get_by_role("link", name=re.compile("Record renewal")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a renewal of police vetting (NPPV2)")
    assert_accessible(page)

    # A clearance date in the future is explained in the error summary.
    fill_date(page, "submitted_on", today - dt.timedelta(days=10))
    fill_date(page, "cleared_on", today + dt.timedelta(days=1))
    page.get_by_role("button", name="Save renewal").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The date cleared must be today or in the past")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)

    fill_date(page, "cleared_on", today)
    page.get_by_label("Last 4 characters of the certificate or reference number").fill("4q7b")
    page.get_by_role("button", name="Save renewal").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Renewal of police vetting (NPPV2) recorded as cleared")
    expect(page.get_by_role("heading", name="Rhys Pritchard", level=1)).to_be_visible()
    expect(page.locator('[data-clearance="cleared"]')).to_contain_text("Cleared to practise")
    expect(page.locator("table")).to_contain_text("…4Q7B")
    assert_accessible(page)
