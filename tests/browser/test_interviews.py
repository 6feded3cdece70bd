"""The interview journey in a real browser: a coordinator creates an interview time and invites a
shortlisted applicant, the applicant books it from their progress page, and the coordinator records
the interview (a missing score is explained first). The pages pass axe on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from playwright.sync_api import expect

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.volunteers.models import Application, ApplicationStatus, InterviewOutcome
from tests.browser.axe import assert_accessible
from tests.browser.test_case_journey import fill_date
from tests.browser.test_smoke import sign_in
from tests.builders import make_user
from tests.volunteers.builders import make_application

pytestmark = pytest.mark.browser


def test_coordinator_offers_a_time_the_applicant_books_it_and_the_interview_is_recorded(
    app: Flask, live_server: str, new_page,
):
    with app.app_context():
        coordinator_email = make_user(db.session, roles=(Role.COORDINATOR,), name="Priya Shah").email
        application = make_application(db.session, status=ApplicationStatus.SHORTLISTED,
                                       personal_details={"full_name": "Zoë Ní Bhriain", "preferred_name": ""})
        application_id, applicant_email = application.id, application.user.email
        db.session.commit()
    day = clock.today() + dt.timedelta(days=7)

    coordinator = new_page()
    coordinator.goto("/sign-in")
    sign_in(coordinator, coordinator_email)
    coordinator.goto("/volunteering/interviews")
    coordinator.get_by_role("button", name="Create interview times").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Create interview times")
    assert_accessible(coordinator)
    fill_date(coordinator, "day", day)
    coordinator.get_by_label("Start time").fill("10:00")
    coordinator.get_by_label("In person").check()
    coordinator.get_by_label("Venue").fill("Colchester Town Hall")
    coordinator.get_by_label("Address").fill("High Street, Colchester CO1 1PJ")
    expect(coordinator.get_by_label("Priya Shah")).to_be_checked()
    coordinator.get_by_role("button", name="Create interview times").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("1 interview time created")
    expect(coordinator.locator("table")).to_contain_text("Nobody yet")
    assert_accessible(coordinator)

    coordinator.goto(f"/volunteering/applications/{application_id}")
    coordinator.get_by_role("button", name="Invite to book an interview").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("inviting them to choose")
    assert_accessible(coordinator)

    applicant = new_page()
    applicant.goto("/sign-in")
    sign_in(applicant, applicant_email)
    applicant.goto("/volunteering/application/progress")
    expect(applicant.locator(".govuk-notification-banner")).to_contain_text("Book your interview")
    assert_accessible(applicant)
    applicant.get_by_role("button", name="Book your interview").click()
    expect(applicant.get_by_role("heading", level=1)).to_have_text("Choose a time for your interview")
    applicant.get_by_role("button", name="Book this time").click()
    expect(applicant.locator(".govuk-error-summary")).to_contain_text("Select an interview time")
    expect(applicant).to_have_title(re.compile(r"^Error: "))
    assert_accessible(applicant)
    applicant.get_by_label(re.compile(r"10:00 (GMT|BST) to 11:00")).check()
    applicant.get_by_role("button", name="Book this time").click()
    expect(applicant.locator(".govuk-notification-banner--success")).to_contain_text("Your interview is booked")
    expect(applicant.locator("main")).to_contain_text("Colchester Town Hall")
    expect(applicant.get_by_role("link", name="Change your interview time")).to_be_visible()
    assert_accessible(applicant)

    coordinator.goto(f"/volunteering/applications/{application_id}")
    coordinator.get_by_role("link", name="Record the interview").click()
    assert_accessible(coordinator)
    for legend in ("restorative justice values", "Communication", "Reflection", "Safety awareness", "Reliability"):
        coordinator.get_by_role("group", name=re.compile(f"Score for .*{legend}")).get_by_label("4").check()
    coordinator.get_by_label("Offer a place").check()
    coordinator.get_by_role("button", name="Save interview record").click()
    expect(coordinator.locator(".govuk-error-summary")).to_contain_text("Enter the reason for the outcome")
    assert_accessible(coordinator)
    coordinator.get_by_label("Reason for the outcome").fill("Warm, reflective and clear about safety.")
    coordinator.get_by_role("button", name="Save interview record").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("Interview record saved")
    expect(coordinator.locator("main")).to_contain_text("20 out of 25")
    assert_accessible(coordinator)
    with app.app_context():
        saved = db.session.get(Application, application_id)
        assert saved.status == ApplicationStatus.INTERVIEWED
        assert saved.interview_outcome == InterviewOutcome.OFFER
