"""The whole recruitment journey in a real browser, with the e-mails read back from the test SMTP server:
a newcomer applies, a coordinator shortlists and offers interview times, the applicant books one and
moves it, the interview is recorded, both referees answer through their single-use links, and the
coordinator makes the offer. The invitations' .ics parse back with a stable UID and a rising SEQUENCE.
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage

import icalendar
import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.volunteers.models import Application, ApplicationStatus
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from tests.browser.axe import assert_accessible
from tests.browser.test_case_journey import fill_date
from tests.browser.test_smoke import sign_in
from tests.builders import make_user
from tests.smtp import SMTPServer, deliver_outbox

pytestmark = pytest.mark.browser

APPLICANT = "siobhan.obrien@example.org"
REFEREES = ("jl.picard@example.org", "zoe.referee@example.org")


def _apply(page: Page, live_server: str, app: Flask, smtp: SMTPServer) -> None:
    page.goto("/volunteering/account")
    page.get_by_label("Full name", exact=True).fill("Siobhán O'Brien")
    page.get_by_label("Email address", exact=True).fill(APPLICANT)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    deliver_outbox(app)
    body = smtp.inbox.to(APPLICANT)[-1].get_body(("plain",)).get_content()
    page.goto(re.search(r"https?://[^/\s]+(/confirm-email/\S+)", body).group(1))
    page.get_by_label("New password", exact=True).fill("lantern-orchard-kettle-42")
    page.get_by_label("Confirm new password", exact=True).fill("lantern-orchard-kettle-42")
    page.get_by_role("button", name="Save password").click()
    expect(page).to_have_url(f"{live_server}/applicant")  # signed in, on the applicant's home
    page.goto("/volunteering/application")
    page.get_by_role("button", name="Start your application").click()
    save = page.get_by_role("button", name="Save and continue")

    page.goto("/volunteering/application/personal_details")
    page.get_by_label("Full name", exact=True).fill("Siobhán O'Brien")
    fill_date(page, "date_of_birth", dt.date(1985, 4, 12))
    save.click()
    page.goto("/volunteering/application/contact_details")
    page.get_by_label("Email address").fill(APPLICANT)
    page.get_by_label("UK telephone number").fill("07700 900982")
    page.get_by_label("Address line 1").fill("3 Quay Street")
    page.get_by_label("Town or city").fill("Colchester")
    page.get_by_label("Postcode").fill("co1 2ab")
    save.click()
    page.goto("/volunteering/application/districts")
    page.get_by_label("Colchester").check()
    save.click()
    page.goto("/volunteering/application/availability")
    page.get_by_role("group", name="Monday").get_by_label("Evening").check()
    save.click()
    page.goto("/volunteering/application/languages")
    page.get_by_label("Which languages do you speak?").fill("English, Irish")
    save.click()
    page.goto("/volunteering/application/experience")
    page.get_by_label("Tell us about your relevant experience").fill("School governor for ten years.")
    save.click()
    page.goto("/volunteering/application/motivation")
    page.get_by_label("Why do you want to volunteer with us?").fill("A conference helped my neighbour.")
    save.click()
    page.goto("/volunteering/application/referees")
    page.get_by_label("First referee’s full name").fill("Jean-Luc Picard")
    page.get_by_label("First referee’s email address").fill(REFEREES[0])
    page.get_by_label("How do you know the first referee?").fill("Line manager")
    page.get_by_label("Second referee’s full name").fill("Zoë Ní Bhriain")
    page.get_by_label("Second referee’s email address").fill(REFEREES[1])
    page.get_by_label("How do you know the second referee?").fill("Fellow governor")
    save.click()
    page.goto("/volunteering/application/convictions")
    page.get_by_label("No", exact=True).check()
    save.click()
    page.goto("/volunteering/application/agreements")
    page.get_by_label("I have read and agree to the privacy notice").check()
    page.get_by_label("I can volunteer for at least 12 months after training").check()
    save.click()
    expect(page.locator(".govuk-task-list")).not_to_contain_text("Not started")
    page.goto("/volunteering/application/check")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("^(Accept and send|Send)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Application sent")
    expect(page).to_have_url(f"{live_server}/volunteering/application/confirmation")


def _invitations(smtp: SMTPServer, address: str) -> list[icalendar.Calendar]:
    calendars = []
    for message in smtp.inbox.to(address):
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                calendars.append(icalendar.Calendar.from_ical(part.get_content()))
    return calendars


def _only_event(calendar: icalendar.Calendar) -> icalendar.Event:
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return events[0]


def _link_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",)).get_content()
    # E-mailed links are built on PORTAL_BASE_URL, not on the live server's address: follow the path.
    return re.search(r"https?://[^/\s]+(/volunteering/reference/\S+)", body).group(1)


def test_a_newcomer_is_taken_from_application_to_offer(app: Flask, live_server: str, new_page, smtp: SMTPServer):
    with app.app_context():
        coordinator_email = make_user(db.session, roles=(Role.COORDINATOR,), name="Priya Shah").email
        db.session.commit()
    day = clock.today() + dt.timedelta(days=7)

    applicant = new_page()
    _apply(applicant, live_server, app, smtp)
    with app.app_context():
        application = db.session.query(Application).filter_by(email=APPLICANT).one()
        application_id, reference = application.id, application.reference
    deliver_outbox(app)
    assert any(reference in message["Subject"] for message in smtp.inbox.to(APPLICANT))

    coordinator = new_page()
    coordinator.goto("/sign-in")
    sign_in(coordinator, coordinator_email)
    coordinator.goto("/volunteering/applications")
    coordinator.get_by_role("link", name=reference).click()
    coordinator.get_by_role("button", name="Shortlist for interview").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("shortlisted")

    # Two interview times, an hour apart, then an invitation to choose.
    coordinator.goto("/volunteering/interviews")
    coordinator.get_by_role("button", name="Create interview times").click()
    fill_date(coordinator, "day", day)
    coordinator.get_by_label("Start time").fill("10:00")
    coordinator.get_by_label("In person").check()
    coordinator.get_by_label("Venue").fill("Colchester Town Hall")
    coordinator.get_by_label("Address").fill("High Street, Colchester CO1 1PJ")
    coordinator.get_by_label("Repeat every (minutes)").fill("60")
    coordinator.get_by_label("Last interview ends by").fill("12:00")
    coordinator.get_by_role("button", name="Create interview times").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("2 interview times created")
    coordinator.goto(f"/volunteering/applications/{application_id}")
    coordinator.get_by_role("button", name="Invite to book an interview").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("inviting them to choose")

    # The applicant books 10:00, then moves to 11:00.
    applicant.goto("/volunteering/application/progress")
    applicant.get_by_role("button", name="Book your interview").click()
    applicant.get_by_label(re.compile(r"10:00 (GMT|BST) to 11:00")).check()
    applicant.get_by_role("button", name="Book this time").click()
    expect(applicant.locator(".govuk-notification-banner--success")).to_contain_text("Your interview is booked")
    applicant.get_by_role("link", name="Change your interview time").click()
    applicant.get_by_label(re.compile(r"11:00 (GMT|BST) to 12:00")).check()
    applicant.get_by_role("button", name="Change to this time").click()
    expect(applicant.locator(".govuk-notification-banner--success")).to_contain_text("The interview has moved")
    assert_accessible(applicant)

    deliver_outbox(app)
    invitations = _invitations(smtp, APPLICANT)
    assert [str(calendar["METHOD"]) for calendar in invitations] == ["REQUEST", "REQUEST"]
    booked, moved = (_only_event(calendar) for calendar in invitations)
    assert str(booked["UID"]) == str(moved["UID"]) and str(booked["UID"]).startswith("interview-booking-")
    assert (int(booked["SEQUENCE"]), int(moved["SEQUENCE"])) == (0, 1)
    assert moved.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert moved.decoded("DTSTART") - booked.decoded("DTSTART") == dt.timedelta(hours=1)

    # The interview is recorded with an offer as the outcome, and references are requested.
    coordinator.goto(f"/volunteering/applications/{application_id}")
    coordinator.get_by_role("link", name="Record the interview").click()
    for legend in ("restorative justice values", "Communication", "Reflection", "Safety awareness", "Reliability"):
        coordinator.get_by_role("group", name=re.compile(f"Score for .*{legend}")).get_by_label("4").check()
    coordinator.get_by_label("Offer a place").check()
    coordinator.get_by_label("Reason for the outcome").fill("Warm, reflective and clear about safety.")
    coordinator.get_by_role("button", name="Save interview record").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("Interview record saved")
    # No offer yet: the page says what is missing.
    expect(coordinator.locator("#offer + p + ul")).to_contain_text("reference")
    assert_accessible(coordinator)
    coordinator.get_by_role("button", name="Request references").click()
    coordinator.get_by_role("button", name="Send the requests").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_be_visible()

    # Each referee follows the link in their e-mail; the link works once.
    deliver_outbox(app)
    for address, name in zip(REFEREES, ("Jean-Luc Picard", "Zoë Ní Bhriain"), strict=True):
        link = _link_in(smtp.inbox.to(address)[-1])
        referee = new_page()
        referee.goto(link)
        assert_accessible(referee)
        referee.get_by_label("Your full name").fill(name)
        referee.get_by_label("How long have you known the applicant?").fill("6 years")
        referee.get_by_label("How do you know the applicant?").fill("Through the school's governing body")
        referee.get_by_label(re.compile("How suitable is the applicant")).fill("Calm, fair and discreet.")
        referee.get_by_label("How reliable is the applicant?").fill("Never missed a meeting.")
        referee.get_by_role("group", name=re.compile("Do you have any concerns")).get_by_label("No").check()
        referee.get_by_role("group", name=re.compile("Would you recommend")).get_by_label("Yes").check()
        referee.get_by_label(re.compile("I confirm that what I have written is true")).check()
        referee.get_by_role("button", name="Send reference").click()
        expect(referee.get_by_role("heading", level=1)).to_contain_text("Thank you")
        assert referee.goto(link).status == 410

    for name in ("Jean-Luc Picard", "Zoë Ní Bhriain"):
        coordinator.goto(f"/volunteering/applications/{application_id}")
        coordinator.get_by_role("link", name=f"Read and decide on the reference from {name}").click()
        coordinator.get_by_role("group", name="Is this reference satisfactory?").get_by_label("Yes").check()
        coordinator.get_by_role("button", name="Save decision").click()
        expect(coordinator.locator(".govuk-notification-banner--success")).to_be_visible()

    coordinator.goto(f"/volunteering/applications/{application_id}")
    coordinator.get_by_role("button", name="Make an offer").click()
    coordinator.get_by_role("button", name="Make the offer").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_be_visible()
    assert_accessible(coordinator)

    applicant.goto("/volunteering/application/progress")
    expect(applicant.locator("main")).to_contain_text("Vetting (you are here)")
    with app.app_context():
        assert db.session.get(Application, application_id).status == ApplicationStatus.OFFERED
        volunteer = db.session.query(Volunteer).filter_by(application_id=application_id).one()
        assert volunteer.status == VolunteerStatus.VETTING and volunteer.user.has_role(Role.VOLUNTEER)
    deliver_outbox(app)
    subjects = [message["Subject"] for message in smtp.inbox.to(APPLICANT)]
    assert any("offer" in subject.lower() for subject in subjects), subjects
