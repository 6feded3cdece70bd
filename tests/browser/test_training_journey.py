"""The whole course in a real browser, every step through the pages and their links: a coordinator creates a
cohort and sets its coursework; a volunteer (already cleared by vetting) enrols, and the confirmation e-mail's
.ics parses back to the four days; the trainer takes the register on each day; the volunteer uploads coursework;
the trainer marks it, the coordinator moderates the sample, the trainer releases it and records the practical
assessment and the completion; the volunteer reads the feedback and the certificate and is told they are active.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import EmailMessage

import icalendar
import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import User
from portal.extensions import db
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from tests.browser.axe import assert_accessible
from tests.browser.conftest import serve
from tests.browser.test_case_journey import fill_date
from tests.browser.test_smoke import sign_in
from tests.smtp import SMTPServer, deliver_outbox
from tests.training.builders import COMPETENCIES, NOW, make_coordinator, make_course, make_trainer
from tests.training.coursework.builders import pdf_bytes
from tests.volunteers.vetting.builders import make_cleared_volunteer

pytestmark = pytest.mark.browser

DAYS = [dt.date(2026, 12, 7), dt.date(2026, 12, 8), dt.date(2026, 12, 9), dt.date(2026, 12, 10)]  # Mon to Thu, GMT
VOLUNTEER = "Zoë Ní Bhriain"
VOLUNTEER_EMAIL = "zoe.ni.bhriain@example.org"
COHORT = "Maidstone, December"
COURSE = "Restorative justice facilitator course"
FEEDBACK = "A clear, honest reflection: you prepared both people well."


@pytest.fixture
def journey_app(make_app, tmp_path) -> Flask:
    # The journey moves the clock across the four course days within one signed-in session each; the
    # 12-hour absolute session lifetime (tested in tests/web/test_security_review.py) would end them.
    return make_app(WTF_CSRF_ENABLED=True, COURSEWORK_UPLOAD_DIR=str(tmp_path / "coursework"),
                    ABSOLUTE_SESSION_LIFETIME=dt.timedelta(days=3650))


@pytest.fixture
def server(journey_app: Flask) -> Iterator[str]:
    """The portal on a live local server, with uploads kept in a temporary folder."""
    with serve(journey_app) as url:
        yield url


@pytest.fixture
def open_as(browser: Browser, server: str):
    """Sign a person in, in their own browser context; every context is closed before the server stops."""
    contexts = []

    def signed_in(email: str) -> Page:
        context = browser.new_context(base_url=server, bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        page.goto("/sign-in")
        sign_in(page, email)
        return page

    yield signed_in
    for context in contexts:
        context.close()


@pytest.fixture
def moment(monkeypatch) -> dict[str, dt.datetime]:
    """The portal's clock, moved on by the test as the course goes by."""
    now = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: now["now"])
    return now


def _mail_to_volunteer(app: Flask, smtp: SMTPServer, subject: str) -> EmailMessage:
    deliver_outbox(app)
    [message] = [m for m in smtp.inbox.to(VOLUNTEER_EMAIL) if m["Subject"] == subject]
    return message


def _invitation(message: EmailMessage) -> icalendar.Calendar:
    [part] = [part for part in message.iter_attachments() if part.get_filename() == "course-days.ics"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def test_a_volunteer_goes_from_enrolment_to_certificate_through_the_pages(
    journey_app: Flask, open_as, moment, smtp: SMTPServer
):
    with journey_app.app_context():
        coordinator_email = make_coordinator(db.session, name="Priya Shah").email
        trainer_email = make_trainer(db.session, name="Tomasz Nowak").email
        make_cleared_volunteer(db.session, status=VolunteerStatus.VETTING, name=VOLUNTEER, email=VOLUNTEER_EMAIL)
        make_course(db.session, title=COURSE)
        db.session.commit()

    # 23 November: the coordinator adds a cohort and sets its coursework.
    coordinator = open_as(coordinator_email)
    coordinator.get_by_role("link", name="Training", exact=True).first.click()
    coordinator.get_by_role("link", name=COURSE).click()
    coordinator.get_by_role("button", name="Add a cohort").click()
    coordinator.get_by_label("Cohort name").fill(COHORT)
    coordinator.get_by_label("Places").fill("8")
    for number, day in enumerate(DAYS, start=1):
        fill_date(coordinator, f"day{number}_date", day)
        coordinator.locator(f"#day{number}_starts").fill("09:30")
        coordinator.locator(f"#day{number}_ends").fill("16:30")
    coordinator.get_by_label("Venue name").fill("Community Hall")
    coordinator.get_by_label("Venue address").fill("1 Market Street, Maidstone ME14 1AA")
    coordinator.get_by_label("Tomasz Nowak").check()
    coordinator.get_by_role("button", name="Save cohort").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text(f"Cohort “{COHORT}” added")

    coordinator.get_by_role("link", name="Coursework and practical assessment").click()
    expect(coordinator.get_by_role("heading", name=f"Coursework: {COHORT}", level=1)).to_be_visible()
    coordinator.get_by_role("button", name="Set coursework").click()
    coordinator.get_by_label("Title").fill("Reflective essay")
    coordinator.get_by_label("Instructions for volunteers").fill("Reflect on the role play you facilitated.")
    fill_date(coordinator, "due_on", dt.date(2026, 12, 18))
    coordinator.get_by_label("Rubric").fill("Reflection: Not yet | Meets | Exceeds\n"
                                            "Use of theory: Not yet | Meets | Exceeds")
    coordinator.get_by_role("button", name="Save assignment").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text("‘Reflective essay’ has "
                                                                                         "been set")

    # The volunteer finds the cohort on the training page and enrols.
    volunteer = open_as(VOLUNTEER_EMAIL)
    volunteer.get_by_role("link", name="Training", exact=True).first.click()
    volunteer.get_by_role("link", name=COHORT).click()
    volunteer.get_by_label("Access needs (optional)").fill("A chair with arms, please")
    volunteer.get_by_role("button", name="Join this course").click()
    expect(volunteer.locator(".govuk-notification-banner--success")).to_contain_text("You are enrolled")
    expect(volunteer.get_by_role("heading", name="Your course", level=1)).to_be_visible()
    assert_accessible(volunteer)

    # The confirmation e-mail's invitation holds the four days, in UTC (December: GMT, so 09:30 is 09:30Z).
    invitation = _invitation(_mail_to_volunteer(journey_app, smtp, f"You are enrolled on {COURSE}"))
    events = list(invitation.walk("VEVENT"))
    assert str(invitation["METHOD"]) == "REQUEST"
    assert len(events) == 4
    assert [e.decoded("DTSTART") for e in events] == [clock.london_to_utc(day, dt.time(9, 30)) for day in DAYS]
    assert [e.decoded("DTEND") for e in events] == [clock.london_to_utc(day, dt.time(16, 30)) for day in DAYS]
    assert all(e.decoded("DTSTART").utcoffset() == dt.timedelta(0) for e in events)
    assert [str(e["SUMMARY"]) for e in events] == [f"{COURSE}: day {n} of 4" for n in (1, 2, 3, 4)]

    # On each of the four days the trainer takes the register.
    trainer = open_as(trainer_email)
    for number, day in enumerate(DAYS, start=1):
        moment["now"] = clock.london_to_utc(day, dt.time(9, 45))
        trainer.get_by_role("link", name="Training", exact=True).first.click()
        trainer.get_by_role("link", name=COHORT).first.click()
        if number == 1:
            expect(trainer.locator("table").first).to_contain_text("A chair with arms, please")
        trainer.get_by_role("link", name=f"Register for day {number}").click()
        trainer.get_by_role("group", name=f"How did {VOLUNTEER} attend?").get_by_label("Present", exact=True).check()
        trainer.get_by_role("button", name="Save register").click()
        expect(trainer.locator(".govuk-notification-banner--success")).to_contain_text(
            f"Register for day {number} saved")

    # After day 4 the volunteer uploads their essay and gets a receipt.
    moment["now"] = clock.london_to_utc(DAYS[3], dt.time(19, 0))
    volunteer.get_by_role("link", name="Training", exact=True).first.click()
    volunteer.get_by_role("link", name=f"{COURSE}: {COHORT}").click()
    expect(volunteer.locator("table")).to_contain_text("Present")
    volunteer.get_by_role("link", name="Your coursework and practical assessment").click()
    volunteer.get_by_role("link", name="Reflective essay").click()
    volunteer.get_by_label("Upload a file").set_input_files(
        {"name": "reflective-essay.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()})
    volunteer.get_by_label("I have removed or changed the names").check()
    volunteer.get_by_role("button", name="Submit my work").click()
    expect(volunteer.get_by_role("heading", name="Work received")).to_be_visible()
    expect(volunteer.locator(".govuk-summary-list")).to_contain_text("reflective-essay.pdf")

    # Next morning the trainer takes it from the marking queue and marks it.
    moment["now"] = clock.london_to_utc(dt.date(2026, 12, 11), dt.time(10, 0))
    trainer.get_by_role("link", name="Training", exact=True).first.click()
    trainer.get_by_role("link", name="Marking", exact=True).click()
    trainer.get_by_role("button", name=re.compile(f"Take and mark {VOLUNTEER}")).click()
    expect(trainer.get_by_role("heading", level=1)).to_have_text(f"Mark {VOLUNTEER}'s work")
    trainer.get_by_role("group", name="Reflection").get_by_label("Exceeds").check()
    trainer.get_by_role("group", name="Use of theory").get_by_label("Meets").check()
    trainer.get_by_role("group", name="Outcome").get_by_label("Pass").check()
    trainer.get_by_label("Feedback for the volunteer").fill(FEEDBACK)
    trainer.get_by_role("button", name="Finish marking").click()
    expect(trainer.locator(".govuk-notification-banner")).to_contain_text("Marking finished")

    volunteer.reload()
    expect(volunteer.locator("main")).not_to_contain_text(FEEDBACK)

    # The first pass of an assignment is sampled: the coordinator moderates it.
    coordinator.get_by_role("link", name="Training", exact=True).first.click()
    coordinator.get_by_role("link", name="Marking", exact=True).click()
    coordinator.get_by_role("link", name=re.compile(f"Moderate {VOLUNTEER}")).click()
    coordinator.get_by_label("Yes, I agree").check()
    coordinator.get_by_role("button", name="Save moderation").click()
    expect(coordinator.locator(".govuk-notification-banner")).to_contain_text("Moderation saved")

    # The trainer releases the feedback.
    trainer.get_by_role("link", name="Training", exact=True).first.click()
    trainer.get_by_role("link", name="Marking", exact=True).click()
    trainer.get_by_role("table").filter(has_text="Ready to release").get_by_role(
        "link", name=re.compile(f"View {VOLUNTEER}")).click()
    trainer.get_by_role("button", name=f"Release feedback to {VOLUNTEER}").click()
    expect(trainer.locator(".govuk-notification-banner")).to_contain_text(f"Feedback released to {VOLUNTEER}")

    # The trainer records the practical assessment observed on day 4.
    trainer.get_by_role("link", name="Training", exact=True).first.click()
    trainer.get_by_role("link", name=COHORT).first.click()
    trainer.get_by_role("link", name="Coursework and practical assessment").click()
    trainer.get_by_role("link", name=f"Record observation for {VOLUNTEER}").click()
    fill_date(trainer, "observed_on", DAYS[3])
    trainer.get_by_label("Role play scenario").fill("Burglary: the person harmed meets the young person responsible")
    for competency in COMPETENCIES:
        trainer.get_by_role("group", name=f"Was ‘{competency}’ met?").get_by_label("Met", exact=True).check()
        trainer.get_by_label(f"Evidence for ‘{competency}’").fill(f"Observed: {competency.lower()}.")
    trainer.get_by_role("group", name="Outcome").get_by_label("Pass").check()
    trainer.get_by_role("button", name="Save observation record").click()
    expect(trainer.locator(".govuk-notification-banner--success")).to_contain_text("Observation record saved")

    # Everything is done: the trainer records the completion.
    trainer.get_by_role("link", name="Training", exact=True).first.click()
    trainer.get_by_role("link", name=COHORT).first.click()
    trainer.get_by_role("link", name=VOLUNTEER).first.click()
    trainer.get_by_role("link", name="Record completion").click()
    trainer.get_by_role("button", name="Record the course as completed").click()
    expect(trainer.locator(".govuk-notification-banner--success")).to_contain_text(
        f"{VOLUNTEER} has completed the course")

    # The volunteer reads the released feedback, then opens the certificate.
    volunteer.get_by_role("link", name="Training", exact=True).first.click()
    volunteer.get_by_role("link", name="Your coursework and practical assessment").click()
    expect(volunteer.locator("main")).to_contain_text("Observed role play on 10 December 2026")
    volunteer.get_by_role("link", name="Reflective essay").click()
    expect(volunteer.locator("main")).to_contain_text("Feedback ready")
    expect(volunteer.locator("main")).to_contain_text(FEEDBACK)
    expect(volunteer.locator("main")).to_contain_text("Exceeds")
    assert_accessible(volunteer)

    volunteer.get_by_role("link", name="Training", exact=True).first.click()
    volunteer.get_by_role("link", name="Your certificate").click()
    certificate = volunteer.locator(".portal-certificate")
    expect(volunteer.get_by_role("heading", name="Certificate of completion", level=1)).to_be_visible()
    expect(certificate).to_contain_text(VOLUNTEER)
    expect(certificate).to_contain_text(f"completed {COURSE} (28 hours)")
    expect(certificate).to_contain_text("on 11 December 2026")
    expect(certificate).to_contain_text("Trainers: Tomasz Nowak")
    assert_accessible(volunteer)

    completed = _mail_to_volunteer(journey_app, smtp, f"You have completed {COURSE}")
    assert "You are now an active volunteer facilitator" in completed.get_body(("plain",)).get_content()
    with journey_app.app_context():
        status = db.session.scalar(select(Volunteer.status).join(User, User.id == Volunteer.user_id)
                                   .where(User.email == VOLUNTEER_EMAIL))
    assert status is VolunteerStatus.ACTIVE
