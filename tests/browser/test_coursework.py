"""In a real browser: a volunteer uploads coursework (a wrong file is explained first) and gets a receipt; a
trainer takes it from the marking queue and marks it against the rubric; a second trainer moderates it; the
trainer releases it and the volunteer reads the feedback. Every page passes axe on the way."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from portal.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.conftest import serve
from tests.browser.test_smoke import sign_in
from tests.training.coursework.builders import Setting, docx_bytes, pdf_bytes

pytestmark = pytest.mark.browser


@pytest.fixture
def coursework_app(make_app, tmp_path) -> Flask:
    return make_app(WTF_CSRF_ENABLED=True, COURSEWORK_UPLOAD_DIR=str(tmp_path / "coursework"))


@pytest.fixture
def server(coursework_app: Flask) -> Iterator[str]:
    """The portal on a live local server, with uploads kept in a temporary folder."""
    with serve(coursework_app) as url:
        yield url


@pytest.fixture
def open_as(browser: Browser, server: str):
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


def test_upload_mark_moderate_release_and_read_feedback(coursework_app: Flask, open_as):
    with coursework_app.app_context():
        setting = Setting(db.session, volunteers=1)
        db.session.commit()
        volunteer_email, volunteer_name = setting.volunteer.email, setting.volunteer.name
        trainer_email, second_email = setting.trainer.email, setting.second.email
        assignment_id = setting.assignment.id

    volunteer = open_as(volunteer_email)
    volunteer.goto("/training/coursework")
    expect(volunteer.get_by_role("heading", name="Your coursework", level=1)).to_be_visible()
    assert_accessible(volunteer)
    volunteer.get_by_role("link", name="Reflective essay").click()
    expect(volunteer.get_by_role("heading", name="Reflective essay", level=1)).to_be_visible()
    assert_accessible(volunteer)

    volunteer.get_by_label("Upload a file").set_input_files(
        {"name": "essay.pdf", "mimeType": "application/pdf", "buffer": docx_bytes()})
    volunteer.get_by_label("I have removed or changed the names").check()
    volunteer.get_by_role("button", name="Submit my work").click()
    expect(volunteer.locator(".govuk-error-summary")).to_contain_text("is a Word document (DOCX) but its name ends "
                                                                      "in .pdf")
    expect(volunteer).to_have_title(re.compile(r"^Error: "))
    assert_accessible(volunteer)

    volunteer.get_by_label("Upload a file").set_input_files(
        {"name": "essay.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()})
    volunteer.get_by_label("I have removed or changed the names").check()
    volunteer.get_by_role("button", name="Submit my work").click()
    expect(volunteer.get_by_role("heading", name="Work received")).to_be_visible()
    expect(volunteer.locator(".govuk-summary-list")).to_contain_text("essay.pdf")
    assert_accessible(volunteer)

    trainer = open_as(trainer_email)
    trainer.goto(f"/training/coursework/assignments/{assignment_id}/work")
    expect(trainer.get_by_role("cell", name=volunteer_name, exact=True)).to_be_visible()
    assert_accessible(trainer)
    trainer.goto("/training/marking")
    assert_accessible(trainer)
    trainer.get_by_role("button", name=re.compile("Take and mark")).click()
    expect(trainer.get_by_role("heading", level=1)).to_contain_text("Mark")
    assert_accessible(trainer)
    trainer.get_by_role("group", name="Reflection").get_by_label("Meets").check()
    trainer.get_by_role("group", name="Use of theory").get_by_label("Exceeds").check()
    trainer.get_by_role("group", name="Outcome").get_by_label("Pass").check()
    trainer.get_by_label("Feedback for the volunteer").fill("A clear, honest reflection on your preparation.")
    trainer.get_by_role("button", name="Finish marking").click()
    expect(trainer.locator(".govuk-notification-banner")).to_contain_text("Marking finished")

    hidden = volunteer.goto(f"/training/coursework/assignments/{assignment_id}")
    assert hidden is not None
    expect(volunteer.locator("main")).not_to_contain_text("A clear, honest reflection")

    second = open_as(second_email)
    second.goto("/training/marking")
    second.get_by_role("link", name=re.compile("Moderate")).click()
    assert_accessible(second)
    second.get_by_label("Yes, I agree").check()
    second.get_by_role("button", name="Save moderation").click()
    expect(second.locator(".govuk-notification-banner")).to_contain_text("Moderation saved")

    trainer.goto("/training/marking")
    ready = trainer.get_by_role("table").filter(has_text="Ready to release")
    ready.get_by_role("link", name=re.compile("View")).click()
    assert_accessible(trainer)
    trainer.get_by_role("button", name=re.compile("Release feedback")).click()
    expect(trainer.locator(".govuk-notification-banner")).to_contain_text("Feedback released")

    volunteer.goto(f"/training/coursework/assignments/{assignment_id}")
    expect(volunteer.locator("main")).to_contain_text("A clear, honest reflection on your preparation.")
    expect(volunteer.locator("main")).to_contain_text("Feedback ready")
    assert_accessible(volunteer)
