"""A service's refusal of a button on a case page (approve a risk assessment, change an agreement
action's status) comes back as a GOV.UK error summary on that page, linked to the record it was about,
with the reason repeated at the record, and changes nothing (ARCHITECTURE.md §5)."""

from __future__ import annotations

import pytest

from portal.cases.models import ActionStatus, AgreementAction, CaseStatus, RiskAssessment
from portal.core import clock
from portal.core.accounts import Role
from portal.extensions import db
from tests.cases.builders import NOW, make_agreement, make_case, make_risk_assessment


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def coordinator(login_as):
    return login_as(Role.COORDINATOR, name="Chidi Okafor")


def _error_summary(html: str) -> str:
    start = html.index('class="govuk-error-summary"')
    return html[start:html.index("</div>", html.index("govuk-error-summary__body", start))]


def test_approving_an_approved_risk_assessment_shows_an_error_summary(app, client, coordinator):
    with app.app_context():
        case = make_case(db.session, status=CaseStatus.ASSESSMENT)
        assessment = make_risk_assessment(db.session, case)
        case_id, assessment_id = case.id, assessment.id
        db.session.commit()
    url = f"/cases/{case_id}/risk-assessments/{assessment_id}/approve"
    first = client.post(url, follow_redirects=True)
    assert "Risk assessment approved" in first.text

    again = client.post(url)

    assert again.status_code == 409
    summary = _error_summary(again.text)
    assert "There is a problem" in summary
    assert f'href="#assessment-{assessment_id}"' in summary and "already approved" in summary
    assert f'id="assessment-{assessment_id}"' in again.text
    assert again.text.count("This risk assessment is already approved") == 2  # summary and the card
    assert "govuk-notification-banner" not in again.text
    with app.app_context():
        assert db.session.get(RiskAssessment, assessment_id).approved_by_id == coordinator.id


def test_a_refused_action_status_shows_an_error_summary_on_the_agreement_page(app, client, coordinator):
    with app.app_context():
        case = make_case(db.session, status=CaseStatus.MONITORING)
        agreement = make_agreement(db.session, case, actions=[ActionStatus.DONE])
        case_id, action_id = case.id, agreement.actions[0].id
        db.session.commit()

    refused = client.post(f"/cases/{case_id}/actions/{action_id}/status", data={"status": "not_done"})

    assert refused.status_code == 409
    summary = _error_summary(refused.text)
    assert f'href="#action-{action_id}"' in summary
    assert "An agreement action cannot move from done to not done" in summary
    assert f'id="action-{action_id}"' in refused.text
    assert refused.text.count("An agreement action cannot move from done to not done") == 2
    assert "<title>Error: Outcome agreement" in refused.text
    with app.app_context():
        assert db.session.get(AgreementAction, action_id).status is ActionStatus.DONE


def test_an_action_on_a_closed_case_is_refused_in_the_error_summary(app, client, coordinator):
    with app.app_context():
        case = make_case(db.session, status=CaseStatus.CLOSED)
        agreement = make_agreement(db.session, case, actions=[ActionStatus.OPEN])
        case_id, action_id, reference = case.id, agreement.actions[0].id, case.reference
        db.session.commit()

    refused = client.post(f"/cases/{case_id}/actions/{action_id}/status", data={"status": "done"})

    assert refused.status_code == 409
    assert f"Case {reference} is closed: changing an action is not possible" in _error_summary(refused.text)
    with app.app_context():
        assert db.session.get(AgreementAction, action_id).status is ActionStatus.OPEN
