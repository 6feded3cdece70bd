"""Facilitators' case offers through the test client: their list, an offer showing only what they
need to decide, accepting (both accept: allocated, with a link to the case), declining with a reason,
answering an offer that has ended, and someone else's offer is a 404 on every route."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.allocation import services
from portal.allocation.models import AllocationOffer, OfferStatus
from portal.cases.models import AllocationRole, Case, CaseStatus, OffenceCategory
from portal.core import clock
from portal.core.accounts import Role, User
from portal.extensions import db
from portal.volunteers.profiles.models import ExperienceLevel
from tests import builders
from tests.allocation.builders import make_coordinator, make_facilitator, make_waiting_case, set_needs


def sign_in(client: FlaskClient, email: str) -> None:
    client.post("/sign-out")
    response = client.post("/sign-in", data={"email": email, "password": builders.PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def offered(app):
    """A Canterbury burglary offered to a lead and a co-facilitator, answered by neither yet."""
    with app.app_context():
        case = make_waiting_case(db.session, offence_category=OffenceCategory.BURGLARY)
        start = clock.today() + dt.timedelta(days=10)
        set_needs(db.session, case, expected_start_on=start, expected_end_on=start + dt.timedelta(weeks=6) -
                  dt.timedelta(days=1), expected_hours=18)
        lead = make_facilitator(db.session, name="Amara Okafor", experience=ExperienceLevel.SPECIALIST)
        co = make_facilitator(db.session, name="Rhys Pritchard")
        stranger = make_facilitator(db.session, name="Tomos Evans")
        coordinator = make_coordinator(db.session)
        offers = services.offer_case(
            db.session, case.id, [(lead.user_id, AllocationRole.LEAD), (co.user_id, AllocationRole.CO_FACILITATOR)],
            actor=coordinator, now=clock.now(),
        )
        db.session.commit()
        return {
            "case_id": case.id, "reference": case.reference, "summary": case.summary, "start": start,
            "parties": [party.name for party in case.parties], "lead": lead.user.email, "co": co.user.email,
            "stranger": stranger.user.email, "lead_offer": offers[0].id, "co_offer": offers[1].id,
            "coordinator_id": coordinator.id,
        }


def status_of(app, offer_id: int) -> OfferStatus:
    with app.app_context():
        return db.session.get(AllocationOffer, offer_id).status


def test_a_facilitator_sees_their_offers_live_first(app, client, offered):
    with app.app_context():
        older = make_waiting_case(db.session, district="Dover")
        user_id = db.session.scalar(select(AllocationOffer.user_id).where(AllocationOffer.id == offered["lead_offer"]))
        ended = AllocationOffer(case_id=older.id, user_id=user_id, role=AllocationRole.LEAD,
                                status=OfferStatus.DECLINED, offered_at=clock.now() + dt.timedelta(hours=1),
                                respond_by=clock.now() + dt.timedelta(days=3))
        db.session.add(ended)
        db.session.commit()
    sign_in(client, offered["lead"])

    page = client.get("/allocation/offers")

    assert page.status_code == 200
    assert page.text.index("in Canterbury") < page.text.index("in Dover")  # the live one first
    assert "Lead facilitator" in page.text


def test_an_offer_shows_only_what_is_needed_to_decide(client, offered):
    sign_in(client, offered["co"])

    page = client.get(f"/allocation/offers/{offered['co_offer']}")

    assert page.status_code == 200
    assert "Burglary in Canterbury" in page.text
    assert "Co-facilitator" in page.text
    assert f"From {offered['start']:%B %Y}, for about 6 weeks" in page.text
    assert "About 18 hours" in page.text
    assert "Respond by" in page.text and "Accept the case" in page.text and "Decline the case" in page.text
    for secret in [offered["reference"], offered["summary"], *offered["parties"], "Amara Okafor"]:
        assert secret not in page.text


@pytest.mark.parametrize("method,path", [("get", ""), ("post", "/accept"), ("post", "/decline")])
def test_someone_elses_offer_is_a_404(app, client, offered, method, path):
    sign_in(client, offered["stranger"])

    response = getattr(client, method)(f"/allocation/offers/{offered['lead_offer']}{path}", data={})

    assert response.status_code == 404
    assert status_of(app, offered["lead_offer"]) is OfferStatus.OFFERED
    assert client.get("/allocation/offers/999999").status_code == 404


def test_when_both_accept_the_case_is_allocated_and_linked(app, client, offered):
    sign_in(client, offered["lead"])
    first = client.post(f"/allocation/offers/{offered['lead_offer']}/accept", data={})
    twice = client.post(f"/allocation/offers/{offered['lead_offer']}/accept", data={})
    waiting = client.get(f"/allocation/offers/{offered['lead_offer']}")

    assert first.status_code == 302 and twice.status_code == 302
    assert "once your co-facilitator accepts too" in waiting.text
    assert status_of(app, offered["lead_offer"]) is OfferStatus.ACCEPTED

    sign_in(client, offered["co"])
    client.post(f"/allocation/offers/{offered['co_offer']}/accept", data={})
    page = client.get(f"/allocation/offers/{offered['co_offer']}")

    assert "It is now in your cases" in page.text
    assert f"/cases/mine/{offered['case_id']}" in page.text
    assert status_of(app, offered["co_offer"]) is OfferStatus.ALLOCATED
    with app.app_context():
        assert db.session.get(Case, offered["case_id"]).status is CaseStatus.ALLOCATED
    assert client.get(f"/cases/mine/{offered['case_id']}").status_code == 200


def test_declining_with_a_reason_ends_the_offer_and_a_second_click_changes_nothing(app, client, offered):
    sign_in(client, offered["co"])

    declined = client.post(f"/allocation/offers/{offered['co_offer']}/decline",
                           data={"reason": "I know the family through school"})
    again = client.post(f"/allocation/offers/{offered['co_offer']}/decline", data={"reason": "again"})

    assert declined.status_code == 302 and declined.headers["Location"].endswith("/allocation/offers")
    assert again.status_code == 302
    assert status_of(app, offered["co_offer"]) is OfferStatus.DECLINED
    with app.app_context():
        assert db.session.get(AllocationOffer, offered["co_offer"]).decline_reason == "I know the family through school"
    assert "There is nothing more to do" in client.get(f"/allocation/offers/{offered['co_offer']}").text


def test_a_decline_reason_that_is_too_long_is_shown_on_the_field(app, client, offered):
    sign_in(client, offered["co"])

    page = client.post(f"/allocation/offers/{offered['co_offer']}/decline", data={"reason": "x" * 501})

    assert page.status_code == 400
    assert "The reason must be 500 characters or fewer" in page.text and '<a href="#reason">' in page.text
    assert status_of(app, offered["co_offer"]) is OfferStatus.OFFERED


def test_accepting_a_withdrawn_offer_says_why_not(app, client, offered):
    with app.app_context():
        coordinator = db.session.get(User, offered["coordinator_id"])
        services.withdraw_offer(db.session, offered["lead_offer"], "The harmed person withdrew", actor=coordinator,
                                now=clock.now())
        db.session.commit()
    sign_in(client, offered["lead"])

    page = client.post(f"/allocation/offers/{offered['lead_offer']}/accept", data={})

    assert page.status_code == 409
    assert "This offer was withdrawn: The harmed person withdrew" in page.text
    assert "Accept the case" not in page.text
    assert status_of(app, offered["lead_offer"]) is OfferStatus.WITHDRAWN


def test_coordinators_without_the_volunteer_role_cannot_open_offer_pages(client, login_as, offered):
    login_as(Role.COORDINATOR)
    assert client.get("/allocation/offers").status_code == 403
    assert client.get(f"/allocation/offers/{offered['lead_offer']}").status_code == 403
