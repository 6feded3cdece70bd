"""Facilitator pages through the Flask client: "my cases", the facilitator's case page, what it
never shows, the audit of every view, and 404/403 for everyone who has no business there."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.cases import services
from portal.cases.models import AllocationRole, CaseStatus, ClosureReason, NoteVisibility
from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.audit import AuditEntry
from portal.extensions import db
from tests.cases.builders import (
    NOW,
    harmed,
    make_allocation,
    make_case,
    make_coordinator,
    make_facilitator,
    make_risk_assessment,
    responsible,
)

POLICE_INTELLIGENCE = "Intelligence: known associate of a county lines group (restricted)"
FACTORS = "Acknowledges harm; no contact order ended"
MITIGATIONS = "Meet at the Canterbury hub with two facilitators"
RESTRICTED_NOTE = "Restricted: safeguarding referral made for the harmed person's child"
COORDINATOR_NOTE = "Coordinator only: MARAC discussion pending"
GENERAL_NOTE = "Harmed person prefers afternoon meetings"
RESPONSIBLE_ADDRESS = "22 Mill Lane, Whitstable CT5 2BB"
HARMED_ADDRESS = "1 Orchard Row, Canterbury CT1 1AA"


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    """The pages read clock.now() and clock.today(): pin them to the builders' Monday."""
    monkeypatch.setattr(clock, "now", lambda: NOW)


@dataclass
class Setup:
    case_id: int
    reference: str
    allocation_id: int
    coordinator_id: int
    harmed_id: int


def _allocated_case(facilitator: User, *, home_visit: bool = False, status=CaseStatus.ALLOCATED) -> Setup:
    """A case with the facilitator allocated as lead, working with the harmed person only, plus
    everything a facilitator must not see."""
    coordinator = make_coordinator(db.session)
    case = make_case(db.session, status=status, actor=coordinator)
    harmed_person, other = harmed(case), responsible(case)
    harmed_person.home_visit_approved = home_visit
    other.home_visit_approved = True  # approved for the co-facilitator's party, never for this one
    make_risk_assessment(
        db.session, case, mitigations=MITIGATIONS, police_intelligence=POLICE_INTELLIGENCE
    )
    allocation = make_allocation(
        db.session, case, facilitator, role=AllocationRole.LEAD, parties=[harmed_person]
    )
    for text, visibility in (
        (GENERAL_NOTE, NoteVisibility.GENERAL),
        (RESTRICTED_NOTE, NoteVisibility.RESTRICTED),
        (COORDINATOR_NOTE, NoteVisibility.COORDINATOR_ONLY),
    ):
        services.add_note(db.session, case.id, text, visibility=visibility, actor=coordinator, now=NOW)
    db.session.commit()
    return Setup(case.id, case.reference, allocation.id, coordinator.id, harmed_person.id)


def _views(case_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "case.viewed", AuditEntry.subject_id == case_id
            )
        )
    )


def test_my_cases_lists_only_current_allocations_of_the_signed_in_volunteer(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        mine = _allocated_case(volunteer)
        ended = _allocated_case(volunteer)
        services.end_allocation(
            db.session, ended.allocation_id, reason="moved away", actor=None, now=NOW
        )
        someone_else = make_case(db.session, status=CaseStatus.ALLOCATED, district="Thanet")
        make_allocation(db.session, someone_else, make_facilitator(db.session))
        db.session.commit()
        other_reference = someone_else.reference

    response = client.get("/cases/mine")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "My cases" in page
    assert mine.reference in page
    assert f"/cases/mine/{mine.case_id}" in page
    assert ended.reference not in page
    assert other_reference not in page
    assert "1 case allocated to you" in page


def test_my_cases_says_so_when_there_are_none(client, login_as):
    login_as(Role.VOLUNTEER)

    response = client.get("/cases/mine")

    assert response.status_code == 200
    assert "You have no cases allocated to you" in response.get_data(as_text=True)


def test_case_page_shows_own_party_contact_risk_rating_and_mitigations(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        setup = _allocated_case(volunteer)

    response = client.get(f"/cases/mine/{setup.case_id}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert setup.reference in page
    assert "Aoife O&#39;Connor" in page
    assert "07700 900001" in page  # own party's phone
    assert "aoife@example.org" in page
    assert "Mobile only, after 5pm" in page
    assert '<td class="govuk-table__cell">Low</td>' in page
    assert MITIGATIONS in page
    assert GENERAL_NOTE in page


def test_case_page_never_shows_police_intelligence_restricted_notes_or_other_party_details(
    app, client, login_as
):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        setup = _allocated_case(volunteer, home_visit=True)

    page = client.get(f"/cases/mine/{setup.case_id}").get_data(as_text=True)

    assert "Intelligence" not in page and "county lines" not in page
    assert FACTORS not in page
    assert "safeguarding referral" not in page
    assert "MARAC" not in page
    # The other party: named, but no address (even with a home visit approved), phone or notes.
    assert "Jamie Ní Bhriain-Smith" in page
    assert "Mill Lane" not in page and "CT5 2BB" not in page
    assert "07700 900002" not in page
    assert "Via probation officer" not in page
    # Their own party's address, because the home visit is approved.
    assert HARMED_ADDRESS in page


def test_own_party_address_is_hidden_until_a_home_visit_is_approved(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        setup = _allocated_case(volunteer, home_visit=False)

    page = client.get(f"/cases/mine/{setup.case_id}").get_data(as_text=True)

    assert "Orchard Row" not in page
    assert "only shown when a home visit is approved" in page


def test_every_view_of_the_case_page_is_audited(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        setup = _allocated_case(volunteer)

    client.get(f"/cases/mine/{setup.case_id}")
    client.get(f"/cases/mine/{setup.case_id}")

    with app.app_context():
        views = _views(setup.case_id)
        assert len(views) == 2
        assert {entry.actor_id for entry in views} == {volunteer.id}
        assert all(entry.subject_type == "cases" for entry in views)
        assert all(entry.details["restricted"] is False for entry in views)
        assert views[0].details["reference"] == setup.reference
        assert views[0].at == NOW


def test_case_page_is_404_after_the_allocation_ends(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        setup = _allocated_case(volunteer)
    assert client.get(f"/cases/mine/{setup.case_id}").status_code == 200

    with app.app_context():
        coordinator = db.session.get(User, setup.coordinator_id)
        services.end_allocation(
            db.session, setup.allocation_id, reason="Volunteer stepped back", actor=coordinator, now=NOW
        )
        db.session.commit()

    response = client.get(f"/cases/mine/{setup.case_id}")

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert setup.reference not in page and "Aoife" not in page
    assert setup.reference not in client.get("/cases/mine").get_data(as_text=True)
    with app.app_context():
        assert len(_views(setup.case_id)) == 1  # the refused request is not a view


def test_case_page_is_404_once_the_case_is_closed(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        setup = _allocated_case(volunteer)
        coordinator = db.session.get(User, setup.coordinator_id)
        services.close_case(
            db.session, setup.case_id, ClosureReason.DECLINED_HARMED, actor=coordinator, now=NOW
        )
        db.session.commit()

    response = client.get(f"/cases/mine/{setup.case_id}")

    assert response.status_code == 404
    assert "Aoife" not in response.get_data(as_text=True)


def test_a_volunteer_never_allocated_or_guessing_an_id_gets_404_with_no_data(app, client, login_as):
    login_as(Role.VOLUNTEER)
    with app.app_context():
        someone_else = make_facilitator(db.session)
        db.session.commit()
        setup = _allocated_case(someone_else)

    for case_id in (setup.case_id, setup.case_id + 1000):
        response = client.get(f"/cases/mine/{case_id}")
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert setup.reference not in page and "Aoife" not in page and "Page not found" in page
    with app.app_context():
        assert _views(setup.case_id) == []


def test_an_allocation_that_starts_later_gives_no_access_yet(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    with app.app_context():
        case = make_case(db.session, status=CaseStatus.ALLOCATED)
        make_allocation(db.session, case, volunteer, starts_on=NOW.date().replace(day=30))
        db.session.commit()
        case_id = case.id

    assert client.get(f"/cases/mine/{case_id}").status_code == 404


@pytest.mark.parametrize("path", ["/cases/mine", "/cases/mine/1"])
def test_applicants_are_refused_the_facilitator_pages(client, login_as, path):
    login_as(Role.APPLICANT)
    assert client.get(path).status_code == 403


def test_coordinators_use_their_own_case_pages_not_these(client, login_as):
    login_as(Role.COORDINATOR)
    assert client.get("/cases/mine").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/cases/mine/1")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
