"""The course journey in a real browser: a coordinator creates a cohort (a day out of order is explained
first), a volunteer with an offer enrols and shares a dietary need, and the cohort's trainer takes the
register for day 1. The pages pass axe on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from playwright.sync_api import expect

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.test_case_journey import fill_date
from tests.browser.test_smoke import sign_in
from tests.builders import make_user
from tests.training.builders import NOW, make_course, make_trainer, make_volunteer

pytestmark = pytest.mark.browser
FIRST = dt.date(2026, 12, 7)  # a Monday, two weeks after NOW


def test_coordinator_creates_a_cohort_volunteer_enrols_trainer_takes_register(
    app: Flask, live_server: str, new_page, monkeypatch
):
    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    with app.app_context():
        coordinator_email = make_user(db.session, roles=(Role.COORDINATOR,)).email
        trainer = make_trainer(db.session, name="Tomasz Nowak")
        trainer_email = trainer.email
        volunteer_email = make_volunteer(db.session, name="Zoë Ní Bhriain").user.email
        make_course(db.session, title="RJ facilitator course")
        db.session.commit()

    # The coordinator adds a cohort; a day out of order is explained first.
    page = new_page()
    page.goto("/sign-in")
    sign_in(page, coordinator_email)
    page.goto("/training/")
    page.get_by_role("link", name="RJ facilitator course").click()
    page.get_by_role("button", name="Add a cohort").click()
    assert_accessible(page)
    page.get_by_label("Cohort name").fill("Maidstone, December")
    page.get_by_label("Places").fill("8")
    dates = [FIRST + dt.timedelta(days=n) for n in range(4)]
    for number, day in enumerate([dates[1], dates[0], dates[2], dates[3]], start=1):
        fill_date(page, f"day{number}_date", day)
        page.locator(f"#day{number}_starts").fill("09:30")
        page.locator(f"#day{number}_ends").fill("16:30")
    page.get_by_label("Venue name").fill("Community Hall")
    page.get_by_label("Tomasz Nowak").check()
    page.get_by_role("button", name="Save cohort").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Day 2 is before day 1: enter the days in order")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    fill_date(page, "day1_date", dates[0])
    fill_date(page, "day2_date", dates[1])
    page.get_by_role("button", name="Save cohort").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Cohort “Maidstone, December” added")
    expect(page.get_by_role("heading", name="Maidstone, December", level=1)).to_be_visible()
    assert_accessible(page)

    # The volunteer finds it on the training page and enrols, sharing a dietary need.
    page = new_page()
    page.goto("/sign-in")
    sign_in(page, volunteer_email)
    page.goto("/training/")
    page.get_by_role("link", name="Maidstone, December").click()
    assert_accessible(page)
    page.get_by_label("Dietary needs (optional)").fill("Vegetarian")
    page.get_by_role("button", name="Join this course").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("You are enrolled")
    expect(page.get_by_role("heading", name="Your course", level=1)).to_be_visible()
    assert_accessible(page)

    # On day 1 the trainer sees the need and takes the register.
    moment["now"] = clock.london_to_utc(FIRST, dt.time(9, 45))
    page = new_page()
    page.goto("/sign-in")
    sign_in(page, trainer_email)
    page.goto("/training/")
    page.get_by_role("link", name="Maidstone, December").click()
    expect(page.locator("table").first).to_contain_text("Vegetarian")
    page.get_by_role("link", name="Register for day 1").click()
    assert_accessible(page)
    page.get_by_role("group", name="How did Zoë Ní Bhriain attend?").get_by_label("Late", exact=True).check()
    page.get_by_label("Reason for Zoë Ní Bhriain (needed for an absence)").fill("Train delayed")
    page.get_by_role("button", name="Save register").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Register for day 1 saved")
    page.get_by_role("link", name="Zoë Ní Bhriain").click()
    expect(page.locator("table")).to_contain_text("Late (Train delayed)")
    assert_accessible(page)
