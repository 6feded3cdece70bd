"""Coordinators' allocation pages through the test client: the waiting list, a case's page (needs,
pairs, suggestions, search with reasons, offers; audited), the needs form, offering and withdrawing,
bulk proposals and the admin settings; and who may see them."""

from __future__ import annotations

import datetime as dt

import pytest
from markupsafe import escape
from sqlalchemy import select

from portal.allocation import scoring
from portal.allocation.models import (
    AllocationOffer,
    AllocationProposal,
    CaseNeeds,
    OfferStatus,
    ProposalItem,
    ProposalItemStatus,
)
from portal.cases.models import AllocationRole, CaseStatus
from portal.core import clock
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.profiles.models import ExperienceLevel
from tests.allocation.builders import make_facilitator, make_waiting_case
from tests.cases.builders import make_allocation, make_case


@pytest.fixture
def world(app):
    """A waiting Canterbury case and three eligible facilitators; a fourth holds all their places."""
    with app.app_context():
        case = make_waiting_case(db.session)
        amara = make_facilitator(db.session, name="Amara Okafor", experience=ExperienceLevel.SPECIALIST)
        rhys = make_facilitator(db.session, name="Rhys Pritchard")
        tomos = make_facilitator(db.session, name="Tomos Evans", experience=ExperienceLevel.NEW)
        full = make_facilitator(db.session, name="Farah Qureshi", max_cases=1)
        make_allocation(db.session, make_case(db.session, status=CaseStatus.ALLOCATED), full.user)
        db.session.commit()
        return {"case_id": case.id, "reference": case.reference, "amara": amara.user_id, "rhys": rhys.user_id,
                "tomos": tomos.user_id, "full": full.user_id}


def offers_of(app, case_id: int) -> list[tuple[int, AllocationRole, OfferStatus]]:
    with app.app_context():
        return [(offer.user_id, offer.role, offer.status) for offer in db.session.scalars(
            select(AllocationOffer).where(AllocationOffer.case_id == case_id).order_by(AllocationOffer.id))]


def test_the_waiting_list_shows_needs_and_live_offers(app, client, login_as, world):
    with app.app_context():
        bare = make_case(db.session, status=CaseStatus.AWAITING_ALLOCATION, district="Dover")
        db.session.add(AllocationOffer(case_id=world["case_id"], user_id=world["rhys"], role=AllocationRole.LEAD,
                                       respond_by=clock.now() + dt.timedelta(days=3)))
        db.session.commit()
        bare_reference = bare.reference
    login_as(Role.COORDINATOR)

    page = client.get("/allocation/")

    assert page.status_code == 200
    assert world["reference"] in page.text and bare_reference in page.text
    assert "Not recorded" in page.text  # the Dover case has no needs yet
    assert "Rhys Pritchard (lead): offered" in page.text
    assert "Propose facilitators for every waiting case" in page.text


def test_the_case_page_shows_needs_pairs_and_scored_suggestions_and_is_audited(app, client, login_as, world):
    coordinator = login_as(Role.COORDINATOR)

    page = client.get(f"/allocation/cases/{world['case_id']}")

    assert page.status_code == 200
    assert "Monday morning and afternoon" in page.text  # the needs, in words
    assert "Offer to this pair" in page.text
    assert "Amara Okafor" in page.text and "Rhys Pritchard" in page.text
    for _name, label in scoring.PARTS:
        assert str(escape(label)) in page.text
    assert "Farah Qureshi" not in page.text  # no places left: not suggested
    # Everyone shares every meeting time and the district: full points of each part's weight.
    assert "Availability: 35.0 of 35" in page.text and "District: 20.0 of 20" in page.text
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "allocation.page_viewed"))
        assert entry.actor_id == coordinator.id and entry.subject_id == world["case_id"]


def test_searching_a_volunteer_explains_why_they_are_not_suggested(app, client, login_as, world):
    login_as(Role.COORDINATOR)

    page = client.get(f"/allocation/cases/{world['case_id']}", query_string={"q": "farah"})

    assert page.status_code == 200
    assert "Not suggested because:" in page.text
    assert "holds 1 of 1 cases" in page.text
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "allocation.page_viewed"))
        assert entry.details["explained_user_id"] == world["full"]


def test_a_search_with_several_matches_lists_them_to_choose_from(client, login_as, world):
    login_as(Role.COORDINATOR)

    page = client.get(f"/allocation/cases/{world['case_id']}", query_string={"q": "r"})

    assert "Amara Okafor" in page.text and "Farah Qureshi" in page.text
    assert f"user_id={world['full']}" in page.text
    assert "Not suggested because:" not in page.text


def test_offering_a_pair_makes_two_offers_and_a_second_click_changes_nothing(app, client, login_as, world):
    login_as(Role.COORDINATOR)
    form = {"lead_id": world["amara"], "co_id": world["rhys"]}

    sent = client.post(f"/allocation/cases/{world['case_id']}/offers", data=form)
    again = client.post(f"/allocation/cases/{world['case_id']}/offers", data=form)

    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/allocation/cases/{world['case_id']}")
    assert again.status_code == 302
    assert offers_of(app, world["case_id"]) == [
        (world["amara"], AllocationRole.LEAD, OfferStatus.OFFERED),
        (world["rhys"], AllocationRole.CO_FACILITATOR, OfferStatus.OFFERED),
    ]
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 2
    page = client.get(f"/allocation/cases/{world['case_id']}")
    assert "Amara Okafor and Rhys Pritchard" in page.text  # the flash message
    assert "Withdraw" in page.text


def test_an_offer_to_an_ineligible_volunteer_is_refused_with_the_reasons(app, client, login_as, world):
    login_as(Role.COORDINATOR)

    page = client.post(f"/allocation/cases/{world['case_id']}/offers", data={"lead_id": world["full"]})

    assert page.status_code == 409
    assert "govuk-error-summary" in page.text and "The case could not be offered" in page.text
    assert "Farah Qureshi: holds 1 of 1 cases" in page.text
    assert page.text.count("<title>Error: ") == 1
    assert offers_of(app, world["case_id"]) == []


def test_an_offer_with_nobody_chosen_says_so(client, login_as, world):
    login_as(Role.COORDINATOR)

    page = client.post(f"/allocation/cases/{world['case_id']}/offers", data={})

    assert page.status_code == 400 and "Choose who to offer the case to" in page.text


def test_the_needs_form_shows_every_problem_then_saves(app, client, login_as, world):
    login_as(Role.COORDINATOR)
    url = f"/allocation/cases/{world['case_id']}/needs"
    form_page = client.get(url)
    assert form_page.status_code == 200
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">' in form_page.text
    assert 'id="monday"' in form_page.text or 'name="monday"' in form_page.text
    start = clock.today() + dt.timedelta(days=14)
    end = start + dt.timedelta(weeks=4)

    refused = client.post(url, data={
        "expected_hours": "0", "facilitators_needed": "2",
        "expected_start_on": [str(start.day), str(start.month), str(start.year)],
        "expected_end_on": [str(start.day), str(start.month), str(start.year - 1)],
    })

    assert refused.status_code == 400
    assert "Choose at least one time when the parties can meet" in refused.text
    assert "Expected hours must be between 1 and 200" in refused.text
    assert "The expected end date must be the same as or after the start date" in refused.text

    saved = client.post(url, data={
        "tuesday": ["evening"], "saturday": ["morning", "afternoon"], "languages": "Polish, British Sign Language",
        "is_complex": "y", "expected_hours": "12", "facilitators_needed": "1",
        "expected_start_on": [str(start.day), str(start.month), str(start.year)],
        "expected_end_on": [str(end.day), str(end.month), str(end.year)],
    })

    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/allocation/cases/{world['case_id']}")
    with app.app_context():
        needs = db.session.get(CaseNeeds, world["case_id"])
        assert needs.languages == ["Polish", "British Sign Language"] and needs.is_complex
        assert (needs.expected_hours, needs.facilitators_needed) == (12, 1)
        assert (needs.expected_start_on, needs.expected_end_on) == (start, end)
    page = client.get(f"/allocation/cases/{world['case_id']}")
    assert "Tuesday evening; Saturday morning and afternoon" in page.text


def test_withdrawing_an_offer_tells_the_facilitator_and_ends_it(app, client, login_as, world):
    login_as(Role.COORDINATOR)
    client.post(f"/allocation/cases/{world['case_id']}/offers", data={"lead_id": world["rhys"]})
    with app.app_context():
        offer_id = db.session.scalar(select(AllocationOffer.id))

    assert client.get(f"/allocation/offers/{offer_id}/withdraw").status_code == 200
    done = client.post(f"/allocation/offers/{offer_id}/withdraw", data={"reason": "The parties asked for a woman"})
    again = client.post(f"/allocation/offers/{offer_id}/withdraw", data={"reason": "again"})

    assert done.status_code == 302 and again.status_code == 302
    assert offers_of(app, world["case_id"]) == [(world["rhys"], AllocationRole.LEAD, OfferStatus.WITHDRAWN)]
    with app.app_context():
        offer = db.session.get(AllocationOffer, offer_id)
        assert offer.ended_reason == "The parties asked for a woman"
        mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [message.template for message in mail] == ["allocation/offer_made", "allocation/offer_withdrawn"]
    assert client.get("/allocation/offers/999999/withdraw").status_code == 404


def test_a_bulk_proposal_is_shown_and_confirmed_case_by_case(app, client, login_as, world):
    login_as(Role.COORDINATOR)

    made = client.post("/allocation/proposals", data={})

    assert made.status_code == 302
    with app.app_context():
        proposal = db.session.scalar(select(AllocationProposal))
        item = db.session.scalar(select(ProposalItem))
        proposal_id, item_id = proposal.id, item.id
    assert made.headers["Location"].endswith(f"/allocation/proposals/{proposal_id}")
    page = client.get(f"/allocation/proposals/{proposal_id}")
    assert page.status_code == 200 and world["reference"] in page.text and "Adjust" in page.text
    assert client.get("/allocation/").text.count(f"/allocation/proposals/{proposal_id}") == 1

    confirmed = client.post(f"/allocation/proposals/{proposal_id}/items/{item_id}/confirm", data={})
    twice = client.post(f"/allocation/proposals/{proposal_id}/items/{item_id}/confirm", data={})
    discard = client.post(f"/allocation/proposals/{proposal_id}/items/{item_id}/discard", data={})

    assert confirmed.status_code == 302 and twice.status_code == 302
    assert discard.status_code == 409 and "already confirmed" in discard.text
    with app.app_context():
        assert db.session.get(ProposalItem, item_id).status is ProposalItemStatus.CONFIRMED
    assert len(offers_of(app, world["case_id"])) == 2
    assert client.post(f"/allocation/proposals/{proposal_id}/items/999999/confirm").status_code == 404


def test_only_admins_change_the_weights_and_bad_weights_are_explained(app, client, login_as):
    login_as(Role.COORDINATOR)
    assert client.get("/allocation/settings").status_code == 403
    client.post("/sign-out")
    login_as(Role.ADMIN)
    page = client.get("/allocation/settings")
    assert page.status_code == 200 and 'value="35"' in page.text
    form = {f"weight_{name}": "10" for name, _label in scoring.PARTS} | {"offer_hours": "48"}

    refused = client.post("/allocation/settings", data=form | {"weight_district": "101"})
    not_a_number = client.post("/allocation/settings", data=form | {"offer_hours": "x"})
    saved = client.post("/allocation/settings", data=form)

    assert refused.status_code == 400 and "must be between 0 and 100" in refused.text
    assert '<a href="#weight_district">' in refused.text  # the summary links to the field
    assert not_a_number.status_code == 400 and "Hours must be a whole number, like 72" in not_a_number.text
    assert saved.status_code == 302
    with app.app_context():
        assert scoring.get_weights(db.session)["district"] == 10
        assert scoring.get_offer_hours(db.session) == 48


@pytest.mark.parametrize("url", ["/allocation/", "/allocation/cases/{case_id}", "/allocation/cases/{case_id}/needs"])
def test_volunteers_cannot_open_the_coordinators_pages(client, login_as, world, url):
    login_as(Role.VOLUNTEER)
    assert client.get(url.format(case_id=world["case_id"])).status_code == 403


def test_a_case_that_does_not_exist_is_a_404(client, login_as):
    login_as(Role.COORDINATOR)
    assert client.get("/allocation/cases/999999").status_code == 404
    assert client.get("/allocation/proposals/999999").status_code == 404
