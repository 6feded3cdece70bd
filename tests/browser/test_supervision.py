"""Supervision in a real browser: a coordinator publishes a weekly series, a volunteer books a session
and moves the booking, and once the session has been held the supervisor records it. The pages pass
axe on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from portal.supervision import services
from portal.supervision.models import SupervisionBooking, SupervisionRecord
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from tests import builders
from tests.browser.axe import assert_accessible
from tests.browser.test_case_journey import fill_date
from tests.browser.test_smoke import sign_in
from tests.supervision.builders import slot_details

pytestmark = pytest.mark.browser


def test_publish_a_series_book_move_and_record(app: Flask, live_server: str, new_page):
    with app.app_context():
        coordinator = builders.make_user(db.session, roles=(Role.COORDINATOR,), name="Siobhán O'Neill")
        volunteer = builders.make_user(db.session, roles=(Role.VOLUNTEER,), name="Zoë Ní Bhriain")
        db.session.add(Volunteer(user_id=volunteer.id, status=VolunteerStatus.ACTIVE, status_changed_at=clock.now()))
        db.session.commit()
        coordinator_email, volunteer_email, volunteer_id = coordinator.email, volunteer.email, volunteer.id
    first_day = clock.today() + dt.timedelta(days=7)

    # The coordinator publishes a weekly series of three individual sessions.
    staff: Page = new_page()
    staff.goto("/sign-in")
    sign_in(staff, coordinator_email)
    staff.goto("/supervision/manage")
    staff.get_by_role("button", name="Publish supervision").click()
    expect(staff.get_by_role("heading", name="Publish supervision", level=1)).to_be_visible()
    assert_accessible(staff)
    fill_date(staff, "day", first_day)
    staff.get_by_label("Start time").fill("10:00")
    staff.get_by_label("Individual (one volunteer)").check()
    staff.get_by_label("In person").check()
    staff.get_by_label("Venue and address").fill("Canterbury Volunteer Centre, 12 Stour Street, CT1 2NR")
    staff.get_by_label("Every week").check()
    staff.get_by_label("Number of sessions in the series").fill("3")
    staff.get_by_role("button", name="Publish").click()
    expect(staff.locator(".govuk-notification-banner--success")).to_contain_text("3 supervision sessions published")
    expect(staff.locator('table[data-table="upcoming"] tbody tr')).to_have_count(3)
    assert_accessible(staff)

    # The volunteer books the first and moves to the second.
    mine: Page = new_page()
    mine.goto("/sign-in")
    sign_in(mine, volunteer_email)
    mine.goto("/supervision/")
    expect(mine.get_by_role("heading", name="Your supervision", level=1)).to_be_visible()
    assert_accessible(mine)
    mine.get_by_role("button", name="Book supervision").click()
    assert_accessible(mine)
    mine.locator('table[data-table="slots"] tbody tr').first.get_by_role("link", name=re.compile("^Book")).click()
    expect(mine.get_by_role("heading", name="Book this session", level=1)).to_be_visible()
    assert_accessible(mine)
    mine.get_by_role("button", name="Book this session").click()
    expect(mine.locator(".govuk-notification-banner--success")).to_contain_text("Supervision booked")
    mine.get_by_role("link", name=re.compile("^Move")).click()
    expect(mine.get_by_role("heading", name="Move your booking", level=1)).to_be_visible()
    assert_accessible(mine)
    mine.get_by_role("radio").first.check()
    mine.get_by_role("button", name="Move my booking").click()
    expect(mine.locator(".govuk-notification-banner--success")).to_contain_text("Booking moved")
    second_week = first_day + dt.timedelta(days=7)
    expect(mine.locator('table[data-table="upcoming"]')).to_contain_text(f"{second_week:%-d %B %Y}")

    # Time passes: the session is held (moved into the past), and the supervisor records it.
    with app.app_context():
        booking = db.session.scalar(select(SupervisionBooking).where(SupervisionBooking.user_id == volunteer_id))
        booking.slot.starts_at = clock.now() - dt.timedelta(hours=2)
        booking.slot.ends_at = clock.now() - dt.timedelta(hours=1)
        db.session.commit()
    staff.goto("/supervision/manage")
    staff.locator('table[data-table="recent"]').get_by_role("link", name=re.compile("^Record")).click()
    expect(staff.get_by_role("heading", name="Record supervision with Zoë Ní Bhriain", level=1)).to_be_visible()
    assert_accessible(staff)
    staff.get_by_role("button", name="Save the record").click()
    expect(staff.locator(".govuk-error-summary")).to_contain_text("Select whether the volunteer attended")
    staff.get_by_label("Attended", exact=True).check()
    staff.get_by_label("Actions agreed").fill("Write a reflective log of the conference")
    staff.get_by_role("button", name="Save the record").click()
    expect(staff.locator(".govuk-notification-banner--success")).to_contain_text("Session with Zoë Ní Bhriain recorded")
    expect(staff.get_by_role("heading", name="Supervision record: Zoë Ní Bhriain", level=1)).to_be_visible()
    assert_accessible(staff)
    with app.app_context():
        assert db.session.scalar(select(SupervisionRecord.actions)) == "Write a reflective log of the conference"


def test_the_other_supervision_pages_pass_axe(app: Flask, live_server: str, new_page):
    with app.app_context():
        coordinator = builders.make_user(db.session, roles=(Role.COORDINATOR,), name="Siobhán O'Neill")
        volunteer = builders.make_user(db.session, roles=(Role.VOLUNTEER,), name="Zoë Ní Bhriain")
        db.session.add(Volunteer(user_id=volunteer.id, status=VolunteerStatus.ACTIVE,
                                 status_changed_at=clock.now() - dt.timedelta(weeks=20)))
        details = slot_details(coordinator, day=clock.today() + dt.timedelta(days=5), kind="group", capacity=4)
        [slot] = services.publish_slots(db.session, details, actor=coordinator, now=clock.now())
        booking = services.book_slot(db.session, slot.id, user_id=volunteer.id, actor=volunteer, now=clock.now())
        db.session.commit()
        coordinator_email, volunteer_email = coordinator.email, volunteer.email
        slot_id, booking_id, volunteer_id = slot.id, booking.id, volunteer.id

    staff: Page = new_page()
    staff.goto("/sign-in")
    sign_in(staff, coordinator_email)
    for path, heading in (("/supervision/cadence", "Supervision due"), ("/supervision/supervisors", "Supervisors"),
                          ("/supervision/rules", "Supervision rules"),
                          (f"/supervision/volunteers/{volunteer_id}", "Supervision: Zoë Ní Bhriain"),
                          (f"/supervision/manage/slots/{slot_id}/edit", "Change the session"),
                          (f"/supervision/manage/slots/{slot_id}/cancel", "Cancel the session"),
                          (f"/supervision/manage/slots/{slot_id}/book-for", "Book a volunteer in")):
        staff.goto(path)
        expect(staff.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert_accessible(staff)
    staff.goto("/supervision/cadence")
    expect(staff.locator('table[data-table="overdue"]')).to_contain_text("Zoë Ní Bhriain")

    mine: Page = new_page()
    mine.goto("/sign-in")
    sign_in(mine, volunteer_email)
    for path, heading in (("/supervision/slots/week", "Supervision in the week of"),
                          (f"/supervision/bookings/{booking_id}", "Supervision booking"),
                          (f"/supervision/bookings/{booking_id}/cancel", "Cancel the booking")):
        mine.goto(path)
        expect(mine.get_by_role("heading", level=1)).to_contain_text(heading)
        assert_accessible(mine)
    mine.get_by_role("button", name="Cancel the booking").click()
    expect(mine.locator(".govuk-notification-banner--success")).to_contain_text("Booking cancelled")
