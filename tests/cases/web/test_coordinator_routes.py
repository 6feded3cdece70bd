"""Coordinator case pages through the Flask client: each page and form (error path and happy path),
the status moves and their refusals, the audit of every view, 403/404, and the query count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from portal.cases.models import (
    ActionStatus,
    AgreementAction,
    Allocation,
    Case,
    CaseNote,
    CaseSession,
    CaseStatus,
    Consent,
    ContactAttempt,
    Feedback,
    OutcomeAgreement,
    Party,
    RiskAssessment,
    SessionType,
)
from portal.core import clock
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.extensions import db
from tests.cases.builders import (
    NOW,
    harmed,
    make_agreement,
    make_allocation,
    make_case,
    make_consent,
    make_coordinator,
    make_facilitator,
    make_risk_assessment,
    responsible,
)
from tests.statements import page_statements

TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def day(value) -> list[str]:
    return [str(value.day), str(value.month), str(value.year)]


@dataclass
class Setup:
    case_id: int
    reference: str
    harmed_id: int
    responsible_id: int


def _case(app, status: CaseStatus = CaseStatus.REFERRAL_RECEIVED, **overrides) -> Setup:
    with app.app_context():
        case = make_case(db.session, status=status, **overrides)
        setup = Setup(case.id, case.reference, harmed(case).id, responsible(case).id)
        db.session.commit()
    return setup


def _changes(app) -> int:
    """Audit entries other than views: every change writes one."""
    with app.app_context():
        return db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action != "case.viewed")
        )


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _status(app, case_id: int) -> CaseStatus:
    with app.app_context():
        return db.session.get(Case, case_id).status


@pytest.fixture
def coordinator(login_as):
    return login_as(Role.COORDINATOR, name="Chidi Okafor")


# ---------------------------------------------------------------------------------------------
# Access


PAGES = [
    "/cases/{id}", "/cases/{id}/views", "/cases/{id}/referral", "/cases/{id}/parties/new",
    "/cases/{id}/parties/{harmed}", "/cases/{id}/parties/{harmed}/home-visit",
    "/cases/{id}/contact-attempts/new", "/cases/{id}/consents/new", "/cases/{id}/risk-assessments/new",
    "/cases/{id}/notes/new", "/cases/{id}/sessions/new", "/cases/{id}/intervention",
    "/cases/{id}/agreement", "/cases/{id}/feedback/new", "/cases/{id}/allocate", "/cases/{id}/close",
]


def _url(template: str, setup: Setup) -> str:
    return template.format(id=setup.case_id, harmed=setup.harmed_id)


def test_every_page_renders_for_a_coordinator(app, client, coordinator):
    setup = _case(app, CaseStatus.AWAITING_ALLOCATION)
    for url in ["/cases/", "/cases/new", *(_url(page, setup) for page in PAGES)]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "There is a problem" not in response.text, url


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.TRAINER, Role.APPLICANT, Role.ADMIN])
def test_other_roles_get_403_on_every_coordinator_page(app, client, login_as, role):
    setup = _case(app)
    login_as(role)
    for url in ["/cases/", "/cases/new", *(_url(page, setup) for page in PAGES)]:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/cases/{setup.case_id}/move", data={"target": "triage"}).status_code == 403
    assert client.post("/cases/new", data={}).status_code == 403
    assert _status(app, setup.case_id) is CaseStatus.REFERRAL_RECEIVED


def test_signed_out_people_are_sent_to_sign_in(app, client):
    setup = _case(app)
    response = client.get(f"/cases/{setup.case_id}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_unknown_ids_are_404(app, client, coordinator):
    setup = _case(app)
    other = _case(app)
    for url in [page.format(id=999_999, harmed=setup.harmed_id) for page in PAGES]:
        assert client.get(url).status_code == 404, url
    assert client.post("/cases/999999/move", data={"target": "triage"}).status_code == 404
    # Another case's party, consent or allocation under this case's URL is not found either.
    assert client.get(f"/cases/{setup.case_id}/parties/{other.harmed_id}").status_code == 404
    with app.app_context():
        consent = make_consent(db.session, db.session.get(Party, other.harmed_id))
        allocation = make_allocation(db.session, db.session.get(Case, other.case_id))
        db.session.commit()
        consent_id, allocation_id = consent.id, allocation.id
    assert client.get(f"/cases/{setup.case_id}/consents/{consent_id}/withdraw").status_code == 404
    assert client.get(f"/cases/{setup.case_id}/allocations/{allocation_id}/end").status_code == 404
    assert client.get(f"/cases/{other.case_id}/consents/{consent_id}/withdraw").status_code == 200


# ---------------------------------------------------------------------------------------------
# The case list


def test_case_list_filters_shows_overdue_and_pages_keeping_the_filters(app, client, coordinator):
    with app.app_context():
        for number in range(27):
            if number % 2:  # received three weeks ago and never contacted: overdue
                make_case(db.session, district="Canterbury", received_on=dt.date(2026, 11, 2))
            else:
                make_case(db.session, district="Dover")
        make_case(db.session, district="Thanet", referrer_organisation="Thanet Housing", is_sensitive=True,
                  sensitive_kinds=frozenset())
        db.session.commit()
    page = client.get("/cases/")
    assert page.status_code == 200
    assert "28 cases, page 1 of 2" in page.text
    assert "Overdue" in page.text
    assert "Record a referral" in page.text

    dover = client.get("/cases/?district=Dover&status=&referrer=&sensitive=")
    assert "14 cases" in dover.text and "Thanet" not in dover.text.split("<table")[1]
    thanet = client.get("/cases/?referrer=Thanet+Housing")
    assert "1 case." in thanet.text
    sensitive = client.get("/cases/?sensitive=yes")
    assert "1 case." in sensitive.text
    status = client.get("/cases/?status=triage")
    assert "0 cases" in status.text and "No cases match" in status.text

    second = client.get("/cases/?district=Canterbury&overdue=y&page=1")
    assert "13 cases" in second.text
    paged = client.get("/cases/?status=referral_received&page=2")
    assert "page 2 of 2" in paged.text
    assert "status=referral_received" in paged.text and "page=1" in paged.text


def test_case_list_rejects_a_made_up_status(app, client, coordinator):
    _case(app)
    response = client.get("/cases/?status=lost")
    assert response.status_code == 200
    assert "There is a problem" in response.text and "1 case" in response.text


# ---------------------------------------------------------------------------------------------
# Referral intake


def _referral(**overrides) -> dict:
    data = {
        "source": "police", "referrer_organisation": "Kent Police", "referrer_name": "PC Ruth Adeyemi",
        "received_on": day(TODAY), "offence_category": "burglary", "justice_stage": "pre_charge",
        "district": "Canterbury", "victim_has_enhanced_rights": "no", "summary": "Shed burgled",
        "harmed_name": "Aoife O'Connor", "harmed_phone": "07700 900001",
        "responsible_name": "Jamie Smith",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_recording_a_referral_redirects_to_the_case_with_its_reference(app, client, coordinator):
    response = client.post("/cases/new", data=_referral())
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalar(select(Case))
        assert [party.name for party in case.parties] == ["Aoife O'Connor", "Jamie Smith"]
        assert response.headers["Location"].endswith(f"/cases/{case.id}")
        reference = case.reference
    page = client.get(response.headers["Location"])
    assert f"Referral recorded: {reference}" in page.text
    assert "Aoife O&#39;Connor" in page.text or "Aoife O'Connor" in page.text
    assert "Referral received" in page.text


def test_referral_form_errors_are_shown_and_nothing_is_saved(app, client, coordinator):
    before = _changes(app)
    shape = client.post("/cases/new", data=_referral(district="", summary="", received_on=None, source=""))
    assert shape.status_code == 200
    assert "There is a problem" in shape.text and "Error: Record a referral" in shape.text
    for message in ("Enter the district", "Enter a summary of the referral",
                    "Enter the date the referral was received", "Choose where the referral came from"):
        assert message in shape.text

    nobody = client.post("/cases/new", data=_referral(harmed_name="", responsible_name=""))
    assert "A referral needs at least one harmed person or person responsible" in nobody.text
    assert 'href="#harmed_name"' in nobody.text

    future = client.post("/cases/new", data=_referral(received_on=["1", "1", "2027"]))
    assert "The date the referral was received cannot be in the future" in future.text

    not_a_date = client.post("/cases/new", data=_referral(received_on=["31", "2", "2026"]))
    assert "must be a real date" in not_a_date.text
    assert _count(app, Case) == 0 and _changes(app) == before


def test_editing_the_referral(app, client, coordinator):
    setup = _case(app)
    bad = client.post(f"/cases/{setup.case_id}/referral", data=_referral(referrer_organisation=""))
    assert "Enter the referring organisation" in bad.text
    good = client.post(f"/cases/{setup.case_id}/referral", data=_referral(district="Dover"))
    assert good.status_code == 302
    with app.app_context():
        assert db.session.get(Case, setup.case_id).district == "Dover"


# ---------------------------------------------------------------------------------------------
# The case page, its audit and the views page


def test_viewing_the_case_is_audited_and_listed_on_the_views_page(app, client, coordinator):
    setup = _case(app)
    page = client.get(f"/cases/{setup.case_id}")
    assert page.status_code == 200
    assert setup.reference in page.text and "Timeline" in page.text
    assert "Referral recorded" in page.text
    with app.app_context():
        views = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.viewed")))
    assert len(views) == 1
    assert views[0].actor_id == coordinator.id and views[0].subject_id == setup.case_id
    assert views[0].details["restricted"] is True
    listing = client.get(f"/cases/{setup.case_id}/views")
    assert "1 view." in listing.text and "Chidi Okafor" in listing.text


def test_views_page_is_paginated(app, client, coordinator):
    setup = _case(app)
    for _ in range(51):
        client.get(f"/cases/{setup.case_id}")
    first = client.get(f"/cases/{setup.case_id}/views")
    assert "51 views, page 1 of 2" in first.text
    assert "page=2" in first.text
    assert "page 2 of 2" in client.get(f"/cases/{setup.case_id}/views?page=2").text


# ---------------------------------------------------------------------------------------------
# Status moves


def test_an_allowed_move_is_saved_with_a_banner(app, client, coordinator):
    setup = _case(app)
    response = client.post(f"/cases/{setup.case_id}/move", data={"target": "triage"})
    assert response.status_code == 302
    assert _status(app, setup.case_id) is CaseStatus.TRIAGE
    assert "is now in triage" in client.get(response.headers["Location"]).text


def test_a_refused_move_shows_the_reasons_and_saves_nothing(app, client, coordinator):
    setup = _case(app, CaseStatus.CONTACTING)
    before = _changes(app)
    response = client.post(f"/cases/{setup.case_id}/move", data={"target": "assessment"})
    assert response.status_code == 409
    assert "There is a problem" in response.text
    assert "A case cannot move from contacting to assessment" in response.text
    assert "nobody has been reached yet" in response.text
    assert _status(app, setup.case_id) is CaseStatus.CONTACTING
    assert _changes(app) == before

    setup = _case(app, CaseStatus.ASSESSMENT)
    refused = client.post(f"/cases/{setup.case_id}/move", data={"target": "awaiting_allocation"})
    assert refused.status_code == 409
    assert "it needs written consent to take part" in refused.text
    assert "it needs an initial risk assessment that says proceed" in refused.text


def test_a_move_the_case_cannot_make_from_its_status_is_a_form_error(app, client, coordinator):
    setup = _case(app)
    response = client.post(f"/cases/{setup.case_id}/move", data={"target": "closed"})
    assert "Not a valid choice" in response.text or "There is a problem" in response.text
    assert _status(app, setup.case_id) is CaseStatus.REFERRAL_RECEIVED


def test_hold_needs_a_reason_and_returns_where_it_was(app, client, coordinator):
    setup = _case(app, CaseStatus.TRIAGE)
    refused = client.post(f"/cases/{setup.case_id}/move", data={"target": "on_hold"})
    assert refused.status_code == 409 and "give the reason for the hold" in refused.text
    held = client.post(f"/cases/{setup.case_id}/move", data={
        "target": "on_hold", "reason": "Awaiting sentence", "review_on": day(TODAY)})
    assert held.status_code == 302 and _status(app, setup.case_id) is CaseStatus.ON_HOLD
    page = client.get(f"/cases/{setup.case_id}")
    assert "Awaiting sentence" in page.text
    back = client.post(f"/cases/{setup.case_id}/move", data={"target": "triage"})
    assert back.status_code == 302 and _status(app, setup.case_id) is CaseStatus.TRIAGE


def test_closing_needs_a_fitting_reason(app, client, coordinator):
    setup = _case(app, CaseStatus.TRIAGE)
    missing = client.post(f"/cases/{setup.case_id}/close", data={})
    assert "Choose the closure reason" in missing.text
    wrong = client.post(f"/cases/{setup.case_id}/close", data={"closure_reason": "completed_direct"})
    assert "There is a problem" in wrong.text
    assert _status(app, setup.case_id) is CaseStatus.TRIAGE
    closed = client.post(f"/cases/{setup.case_id}/close", data={"closure_reason": "ineligible", "notes": "Out of area"})
    assert closed.status_code == 302 and _status(app, setup.case_id) is CaseStatus.CLOSED
    # Closing twice is harmless: the reason is no longer offered and nothing changes.
    again = client.post(f"/cases/{setup.case_id}/close", data={"closure_reason": "ineligible"})
    assert again.status_code == 200 and _status(app, setup.case_id) is CaseStatus.CLOSED


# ---------------------------------------------------------------------------------------------
# Records: error path (message shown, nothing saved) and happy path for each form


def _form_round_trip(app, client, url, bad, message, good, model):
    before_rows, before_changes = _count(app, model), _changes(app)
    refused = client.post(url, data=bad)
    assert refused.status_code == 200, refused.text
    assert "There is a problem" in refused.text
    assert message in refused.text
    assert _count(app, model) == before_rows and _changes(app) == before_changes
    saved = client.post(url, data=good)
    assert saved.status_code == 302, saved.text
    assert _changes(app) > before_changes
    return saved


def test_contact_attempt_form(app, client, coordinator):
    setup = _case(app, CaseStatus.CONTACTING)
    url = f"/cases/{setup.case_id}/contact-attempts/new"
    good = {"party_id": setup.harmed_id, "attempted_on": day(TODAY), "attempted_time": "09:30",
            "method": "phone", "outcome": "contact_made"}
    _form_round_trip(app, client, url, {**good, "attempted_on": day(TODAY.replace(year=2027))},
                     "A contact attempt cannot be in the future", good, ContactAttempt)
    bad_time = client.post(url, data={**good, "attempted_time": "25:00"})
    assert "in the 24-hour clock" in bad_time.text
    with app.app_context():
        assert db.session.get(Case, setup.case_id).first_contact_on == TODAY


def test_consent_and_withdrawal_forms(app, client, coordinator):
    setup = _case(app, CaseStatus.ASSESSMENT)
    url = f"/cases/{setup.case_id}/consents/new"
    good = {"party_id": setup.harmed_id, "purpose": "participation", "method": "written",
            "given_on": day(TODAY)}
    _form_round_trip(app, client, url, {**good, "method": ""}, "Choose how consent was given", good, Consent)
    twice = client.post(url, data=good)
    assert "has already given this consent" in twice.text
    assert _count(app, Consent) == 1
    with app.app_context():
        consent_id = db.session.scalar(select(Consent.id))
    withdraw = f"/cases/{setup.case_id}/consents/{consent_id}/withdraw"
    _form_round_trip(app, client, withdraw, {"withdrawn_on": day(TODAY.replace(year=2027))},
                     "cannot be in the future", {"withdrawn_on": day(TODAY), "reason": "Changed mind"},
                     Consent)
    with app.app_context():
        assert db.session.get(Consent, consent_id).withdrawn_on == TODAY


def test_risk_assessment_form_and_approval(app, client, coordinator):
    setup = _case(app, CaseStatus.ASSESSMENT)
    url = f"/cases/{setup.case_id}/risk-assessments/new"
    good = {"stage": "initial", "assessed_on": day(TODAY), "factors": "No concerns", "rating": "low",
            "proceed": "yes", "police_intelligence": "Nothing known"}
    _form_round_trip(app, client, url, {**good, "factors": ""}, "Describe the risk factors considered",
                     good, RiskAssessment)
    with app.app_context():
        assessment = db.session.scalar(select(RiskAssessment))
        assert assessment.proceed is True and assessment.approved_by_id is None
        assessment_id = assessment.id
    page = client.get(f"/cases/{setup.case_id}")
    assert "Nothing known" in page.text  # police intelligence: coordinators see it
    approved = client.post(f"/cases/{setup.case_id}/risk-assessments/{assessment_id}/approve")
    assert approved.status_code == 302
    with app.app_context():
        assert db.session.get(RiskAssessment, assessment_id).approved_by_id == coordinator.id
    again = client.post(f"/cases/{setup.case_id}/risk-assessments/{assessment_id}/approve",
                        follow_redirects=True)
    assert "already approved" in again.text


def test_note_form(app, client, coordinator):
    setup = _case(app)
    url = f"/cases/{setup.case_id}/notes/new"
    _form_round_trip(app, client, url, {"text": "", "visibility": "general"}, "Enter the note",
                     {"text": "Called the referrer", "visibility": "coordinator_only"}, CaseNote)
    assert "Called the referrer" in client.get(f"/cases/{setup.case_id}").text


def test_session_form(app, client, coordinator):
    setup = _case(app, CaseStatus.PREPARATION)
    url = f"/cases/{setup.case_id}/sessions/new"
    good = {"session_type": "preparation_meeting", "held_on": day(TODAY), "duration_minutes": "60",
            "attendees": "Aoife and the facilitator"}
    _form_round_trip(app, client, url, {**good, "session_type": "conference"},
                     "is logged once the case is in intervention", good, CaseSession)
    zero = client.post(url, data={**good, "duration_minutes": "0"})
    assert "between 1 and 1440 minutes" in zero.text


def test_intervention_type_form(app, client, coordinator):
    setup = _case(app, CaseStatus.PREPARATION)
    url = f"/cases/{setup.case_id}/intervention"
    missing = client.post(url, data={})
    assert "Choose the intervention" in missing.text
    assert client.post(url, data={"intervention_type": "shuttle"}).status_code == 302
    late = _case(app, CaseStatus.MONITORING)
    refused = client.post(f"/cases/{late.case_id}/intervention", data={"intervention_type": "shuttle"})
    assert "cannot change once the intervention has started" in refused.text


def test_agreement_actions_and_action_status(app, client, coordinator):
    setup = _case(app, CaseStatus.INTERVENTION)
    url = f"/cases/{setup.case_id}/agreement"
    good = {"agreed_on": day(TODAY), "action_description": "Repair the shed", "action_owner": "Jamie",
            "action_due_on": day(TODAY.replace(month=12))}
    _form_round_trip(app, client, url, {**good, "action_owner": ""}, "Say who owns the action", good,
                     OutcomeAgreement)
    page = client.get(url)
    assert "Repair the shed" in page.text and "Add an action" in page.text
    bad_action = client.post(f"{url}/actions", data={"description": "", "owner": "Jamie", "due_on": day(TODAY)})
    assert "Describe the action" in bad_action.text
    added = client.post(f"{url}/actions", data={"description": "Write a letter", "owner": "Jamie",
                                                "due_on": day(TODAY)})
    assert added.status_code == 302
    with app.app_context():
        action_id = db.session.scalar(select(AgreementAction.id).order_by(AgreementAction.id))
    done = client.post(f"/cases/{setup.case_id}/actions/{action_id}/status", data={"status": "done"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(AgreementAction, action_id).status is ActionStatus.DONE
    refused = client.post(f"/cases/{setup.case_id}/actions/{action_id}/status", data={"status": "not_done"},
                          follow_redirects=True)
    assert "cannot move from done to not done" in refused.text


def test_agreement_outside_intervention_is_refused(app, client, coordinator):
    setup = _case(app, CaseStatus.PREPARATION)
    response = client.post(f"/cases/{setup.case_id}/agreement", data={"agreed_on": day(TODAY)})
    assert "An outcome agreement is recorded during the intervention" in response.text


def test_feedback_form(app, client, coordinator):
    setup = _case(app, CaseStatus.FOLLOW_UP)
    url = f"/cases/{setup.case_id}/feedback/new"
    good = {"party_id": setup.harmed_id, "given_on": day(TODAY), "satisfaction": "5", "felt_safe": "yes"}
    _form_round_trip(app, client, url, {**good, "satisfaction": ""}, "Choose a satisfaction score", good,
                     Feedback)
    twice = client.post(url, data=good)
    assert "already recorded" in twice.text and _count(app, Feedback) == 1


def test_party_forms_and_home_visit(app, client, coordinator):
    setup = _case(app)
    url = f"/cases/{setup.case_id}/parties/new"
    good = {"role": "supporter", "name": "Siobhan O'Connor", "supports_party_id": setup.harmed_id}
    _form_round_trip(app, client, url, {**good, "name": ""}, "Enter the person&#39;s full name", good, Party)
    linked = client.post(url, data={"role": "harmed_person", "name": "Second", "supports_party_id": setup.harmed_id})
    assert "Only a supporter or a parent or guardian can be linked" in linked.text
    edit = f"/cases/{setup.case_id}/parties/{setup.harmed_id}"
    assert "Aoife" in client.get(edit).text
    assert client.post(edit, data={"role": "harmed_person", "name": "Aoife Byrne"}).status_code == 302
    visit = f"/cases/{setup.case_id}/parties/{setup.harmed_id}/home-visit"
    assert "Say whether a home visit is approved" in client.post(visit, data={}).text
    assert client.post(visit, data={"approved": "yes"}).status_code == 302
    with app.app_context():
        party = db.session.get(Party, setup.harmed_id)
        assert party.name == "Aoife Byrne" and party.home_visit_approved


def test_allocation_blocked_reasons_show_on_the_field_then_allocate_and_end(app, client, coordinator):
    early = _case(app, CaseStatus.TRIAGE)
    setup = _case(app, CaseStatus.AWAITING_ALLOCATION)
    with app.app_context():
        volunteer = make_facilitator(db.session, name="Val Volunteer")
        make_coordinator(db.session, name="Not In The List")
        db.session.commit()
        volunteer_id = volunteer.id
    form = client.get(f"/cases/{setup.case_id}/allocate").text
    assert "Val Volunteer" in form and "Not In The List" not in form
    blocked = client.post(f"/cases/{early.case_id}/allocate", data={"volunteer_id": volunteer_id, "role": "lead"})
    assert "There is a problem" in blocked.text
    assert "a case is allocated once it is awaiting allocation" in blocked.text
    assert 'href="#volunteer_id"' in blocked.text
    assert _count(app, Allocation) == 0
    missing = client.post(f"/cases/{setup.case_id}/allocate", data={"role": "lead"})
    assert "Choose a facilitator" in missing.text
    ok = client.post(f"/cases/{setup.case_id}/allocate",
                     data={"volunteer_id": volunteer_id, "role": "lead", "party_ids": [setup.harmed_id]})
    assert ok.status_code == 302
    assert _status(app, setup.case_id) is CaseStatus.ALLOCATED
    twice = client.post(f"/cases/{setup.case_id}/allocate", data={"volunteer_id": volunteer_id, "role": "lead"})
    assert "already allocated" in twice.text and _count(app, Allocation) == 1
    with app.app_context():
        allocation_id = db.session.scalar(select(Allocation.id))
    end = f"/cases/{setup.case_id}/allocations/{allocation_id}/end"
    assert "Give the reason the allocation ends" in client.post(end, data={}).text
    assert client.post(end, data={"reason": "Moved away"}).status_code == 302
    again = client.post(end, data={"reason": "Moved away"})
    assert "already ended" in again.text


def test_the_journey_to_awaiting_allocation_through_the_pages(app, client, coordinator):
    setup = _case(app, CaseStatus.ASSESSMENT)
    with app.app_context():
        case = db.session.get(Case, setup.case_id)
        make_consent(db.session, harmed(case))
        make_risk_assessment(db.session, case)
        db.session.commit()
    moved = client.post(f"/cases/{setup.case_id}/move", data={"target": "awaiting_allocation"})
    assert moved.status_code == 302
    assert "is now awaiting allocation" in client.get(f"/cases/{setup.case_id}").text


# ---------------------------------------------------------------------------------------------
# A fixed number of SQL statements, whatever the data size


def _statements(app, client, url: str) -> int:
    return page_statements(app, client, url)[0]


def _rich_cases(app, how_many: int) -> int:
    """`how_many` cases, each with an allocation, consent, risk assessment and agreement."""
    with app.app_context():
        volunteer = make_facilitator(db.session)
        last = None
        for _ in range(how_many):
            case = make_case(db.session, status=CaseStatus.INTERVENTION, sensitive_kinds=frozenset())
            make_allocation(db.session, case, volunteer, parties=[harmed(case)])
            make_consent(db.session, harmed(case))
            make_consent(db.session, responsible(case))
            make_risk_assessment(db.session, case)
            make_agreement(db.session, case, actions=(ActionStatus.OPEN, ActionStatus.DONE))
            last = case.id
        db.session.commit()
        return last


def test_list_and_case_pages_run_the_same_number_of_statements_for_3_or_30_cases(app, client, coordinator):
    few_case = _rich_cases(app, 3)
    few = (_statements(app, client, "/cases/"), _statements(app, client, f"/cases/{few_case}"))
    many_case = _rich_cases(app, 27)
    many = (_statements(app, client, "/cases/"), _statements(app, client, f"/cases/{many_case}"))
    assert few == many


# ---------------------------------------------------------------------------------------------
# The case page timeline, a page at a time


def _timeline_case(app, how_many: int) -> int:
    """A case whose timeline holds exactly `how_many` events: the referral, then sessions a day apart."""
    setup = _case(app)
    with app.app_context():
        for number in range(how_many - 1):
            db.session.add(CaseSession(
                case_id=setup.case_id, session_type=SessionType.PREPARATION_MEETING,
                held_on=TODAY + dt.timedelta(days=number + 1), duration_minutes=100 + number,
                attendees="Aoife", created_at=NOW,
            ))
        db.session.commit()
    return setup.case_id


def _timeline_items(html: str) -> int:
    return html.split('id="timeline"', 1)[1].count("govuk-!-margin-bottom-3")


def test_the_case_page_timeline_is_paged_newest_first_keeping_the_anchor(app, client, coordinator):
    case_id = _timeline_case(app, 30)

    first = client.get(f"/cases/{case_id}").text
    second = client.get(f"/cases/{case_id}?timeline_page=2").text
    beyond = client.get(f"/cases/{case_id}?timeline_page=9")

    assert _timeline_items(first) == 25 and _timeline_items(second) == 5
    assert first.index("(128 minutes)") < first.index("(127 minutes)")  # newest first
    assert "Referral recorded" not in first and "Referral recorded" in second
    assert f'href="/cases/{case_id}?timeline_page=2#timeline"' in first
    assert "timeline_page=1#timeline" in second and "timeline_page=3" not in second
    assert beyond.status_code == 200 and _timeline_items(beyond.text) == 5


def test_the_case_page_runs_the_same_statements_for_5_or_60_timeline_events(app, client, coordinator):
    few = _timeline_case(app, 5)
    many = _timeline_case(app, 60)
    assert _statements(app, client, f"/cases/{few}") == _statements(app, client, f"/cases/{many}")
    assert (_statements(app, client, f"/cases/{few}?timeline_page=2")
            == _statements(app, client, f"/cases/{many}?timeline_page=2"))


# ---------------------------------------------------------------------------------------------
# The parties an allocation works with


def _allocated(app, **kwargs) -> tuple[Setup, int]:
    setup = _case(app, CaseStatus.ALLOCATED)
    with app.app_context():
        case = db.session.get(Case, setup.case_id)
        allocation = make_allocation(db.session, case, parties=[harmed(case)], **kwargs)
        db.session.commit()
        return setup, allocation.id


def _party_ids(app, allocation_id: int) -> frozenset[int]:
    with app.app_context():
        return db.session.get(Allocation, allocation_id).party_ids


def test_choosing_the_parties_an_allocation_works_with(app, client, coordinator):
    setup, allocation_id = _allocated(app)
    url = f"/cases/{setup.case_id}/allocations/{allocation_id}/parties"
    assert url in client.get(f"/cases/{setup.case_id}").text

    form = client.get(url)
    assert form.status_code == 200
    assert f'value="{setup.harmed_id}" checked' in form.text
    assert f'value="{setup.responsible_id}" checked' not in form.text

    saved = client.post(url, data={"party_ids": [setup.responsible_id]})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/cases/{setup.case_id}")
    assert _party_ids(app, allocation_id) == {setup.responsible_id}
    assert client.post(url, data={}).status_code == 302
    assert _party_ids(app, allocation_id) == frozenset()


def test_the_parties_of_an_ended_allocation_cannot_change(app, client, coordinator):
    setup, allocation_id = _allocated(app, ends_on=TODAY)
    url = f"/cases/{setup.case_id}/allocations/{allocation_id}/parties"
    assert url not in client.get(f"/cases/{setup.case_id}").text
    before = _changes(app)

    refused = client.post(url, data={"party_ids": [setup.responsible_id]})

    assert refused.status_code == 200
    assert "There is a problem" in refused.text and "This allocation has ended" in refused.text
    assert 'href="#party_ids"' in refused.text
    assert _party_ids(app, allocation_id) == {setup.harmed_id} and _changes(app) == before
    made_up = client.post(url, data={"party_ids": [999_999]})  # not one of the case's parties
    assert made_up.status_code == 200 and "There is a problem" in made_up.text
    assert _party_ids(app, allocation_id) == {setup.harmed_id}


def test_the_parties_page_is_404_for_another_cases_allocation(app, client, coordinator):
    setup, _ = _allocated(app)
    other, other_allocation_id = _allocated(app)
    assert client.get(f"/cases/{setup.case_id}/allocations/{other_allocation_id}/parties").status_code == 404
    assert client.post(f"/cases/{setup.case_id}/allocations/{other_allocation_id}/parties",
                       data={"party_ids": [setup.harmed_id]}).status_code == 404
    assert client.get(f"/cases/{setup.case_id}/allocations/999999/parties").status_code == 404
    assert _party_ids(app, other_allocation_id) == {other.harmed_id}


def test_the_parties_page_is_403_for_a_volunteer(app, client, login_as):
    setup, allocation_id = _allocated(app)
    login_as(Role.VOLUNTEER)
    url = f"/cases/{setup.case_id}/allocations/{allocation_id}/parties"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"party_ids": [setup.responsible_id]}).status_code == 403
    assert _party_ids(app, allocation_id) == {setup.harmed_id}
