"""Case allocation in a real browser: a facilitator adds evenings to their availability; a coordinator
opens a waiting case, sees that facilitator suggested in a pair, searches a volunteer who is not
suggested and reads why, and offers the case to the pair; both facilitators accept from their offer
pages, and the case shows as allocated. The pages pass axe on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from portal.cases.models import CaseStatus
from portal.core import clock
from portal.extensions import db
from portal.volunteers.profiles.models import ExperienceLevel
from tests.allocation.builders import make_coordinator, make_facilitator, make_waiting_case
from tests.browser.axe import assert_accessible
from tests.browser.test_smoke import sign_in
from tests.cases.builders import make_allocation, make_case

pytestmark = pytest.mark.browser

EVENINGS = {"tuesday": ["evening"], "thursday": ["evening"]}


def _world(app: Flask) -> dict:
    """A Chelmsford case whose parties meet on Tuesday and Thursday evenings; Amara is free then,
    Rhys only in the daytime (until he says otherwise); Farah holds as many cases as she will take."""
    with app.app_context():
        start = clock.today() + dt.timedelta(days=7)
        case = make_waiting_case(db.session, district="Chelmsford", needs={
            "pattern": EVENINGS, "expected_start_on": start, "expected_end_on": start + dt.timedelta(weeks=6),
        })
        amara = make_facilitator(db.session, name="Amara Okafor", experience=ExperienceLevel.SPECIALIST,
                                 districts=("Chelmsford",), pattern={"tuesday": ["evening"], "thursday": ["evening"],
                                                                     "saturday": ["morning"]})
        rhys = make_facilitator(db.session, name="Rhys Pritchard", districts=("Chelmsford",))
        farah = make_facilitator(db.session, name="Farah Qureshi", districts=("Chelmsford",), pattern=EVENINGS,
                                 max_cases=1)
        make_allocation(db.session, make_case(db.session, status=CaseStatus.ALLOCATED), farah.user)
        coordinator = make_coordinator(db.session)
        db.session.commit()
        return {"case_id": case.id, "reference": case.reference, "amara": amara.user.email,
                "rhys": rhys.user.email, "coordinator": coordinator.email}


def _accept_offer(page: Page) -> None:
    page.get_by_role("link", name="Case offers").click()
    expect(page.get_by_role("heading", name="Case offers", level=1)).to_be_visible()
    page.get_by_role("link", name=re.compile("in Chelmsford")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("in Chelmsford")
    assert_accessible(page)
    page.get_by_role("button", name="Accept the case").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("You have accepted the case")


def test_a_case_is_offered_to_a_suggested_pair_and_both_accept(app: Flask, live_server: str, new_page):
    world = _world(app)

    # Rhys adds Tuesday and Thursday evenings to his availability.
    rhys = new_page()
    rhys.goto("/sign-in")
    sign_in(rhys, world["rhys"])
    rhys.get_by_role("link", name="My availability").click()
    rhys.get_by_role("link", name="Change when you are available").click()
    rhys.get_by_label("Tuesday Evening", exact=True).check()
    rhys.get_by_label("Thursday Evening", exact=True).check()
    rhys.get_by_role("button", name=re.compile("Save")).click()
    expect(rhys.locator(".govuk-notification-banner--success")).to_contain_text("saved")

    # The coordinator opens the waiting case and sees Amara and Rhys suggested as a pair.
    coordinator = new_page()
    coordinator.goto("/sign-in")
    sign_in(coordinator, world["coordinator"])
    coordinator.get_by_role("link", name="Allocation", exact=True).click()
    expect(coordinator.get_by_role("heading", name="Cases awaiting allocation", level=1)).to_be_visible()
    assert_accessible(coordinator)
    coordinator.get_by_role("link", name=world["reference"]).click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text(f"Allocate case {world['reference']}")
    pair = coordinator.locator("[data-table=pairs] tbody tr").first
    expect(pair).to_contain_text("Amara Okafor")
    expect(pair).to_contain_text("Rhys Pritchard")
    expect(pair).to_contain_text("Tuesday evening; Thursday evening")
    expect(coordinator.locator("[data-table=candidates]")).not_to_contain_text("Farah Qureshi")
    assert_accessible(coordinator)

    # Farah is free at the right times but not suggested: the search says why.
    coordinator.get_by_label("Why is someone not suggested?").fill("Farah")
    coordinator.get_by_role("button", name="Search").click()
    explanation = coordinator.locator("[data-explanation]")
    expect(explanation).to_contain_text("Not suggested because:")
    expect(explanation).to_contain_text("holds 1 of 1 cases")
    assert_accessible(coordinator)

    coordinator.get_by_role("button", name="Offer to this pair to Amara Okafor and Rhys Pritchard").click()
    expect(coordinator.locator(".govuk-notification-banner--success")).to_contain_text(
        "offered to Amara Okafor and Rhys Pritchard")
    offers = coordinator.locator("[data-table=offers]")
    expect(offers).to_contain_text("Lead")
    expect(offers).to_contain_text("Co-facilitator")

    # Both accept from their own offer pages; the second acceptance allocates the case.
    amara = new_page()
    amara.goto("/sign-in")
    sign_in(amara, world["amara"])
    _accept_offer(amara)
    expect(amara.get_by_text("once your co-facilitator accepts too")).to_be_visible()
    _accept_offer(rhys)
    expect(rhys.locator(".govuk-notification-banner--success")).to_contain_text("It is now in your cases")
    rhys.get_by_role("link", name="Open the case").click()
    expect(rhys.get_by_role("heading", level=1)).to_contain_text(world["reference"])

    coordinator.goto(f"/cases/{world['case_id']}")
    expect(coordinator.locator("main .govuk-tag").first).to_have_text("Allocated")
