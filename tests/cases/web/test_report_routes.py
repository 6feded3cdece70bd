"""Referrer reports through the Flask client: figures on screen and in the CSV for a small known
data set, the export audited, bad period input, and who may see them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from portal.cases.models import CaseStatus, ClosureReason, Feedback
from portal.core import clock
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.extensions import db
from tests.cases.builders import NOW, harmed, make_case, make_consent, responsible

NOVEMBER = {"kind": "month", "year": "2026", "month": "11"}


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def known_cases(app):
    """November 2026: Kent Police refer two cases (one first contact in time, one late; one
    consent from each party of the first), Essex Police one (not yet contacted) that is closed as
    ineligible; Kent Police's October case is outside the month. Two feedback responses (4 and 5)."""
    with app.app_context():
        in_time = make_case(db.session, referrer_organisation="Kent Police", received_on=dt.date(2026, 11, 2))
        in_time.first_contact_on = in_time.first_contact_due_on
        late = make_case(db.session, referrer_organisation="Kent Police", received_on=dt.date(2026, 11, 3))
        late.first_contact_on = late.first_contact_due_on + dt.timedelta(days=3)
        make_consent(db.session, harmed(in_time), given_on=dt.date(2026, 11, 10))
        make_consent(db.session, responsible(in_time), given_on=dt.date(2026, 11, 11))
        make_case(
            db.session, referrer_organisation="Essex Police", received_on=dt.date(2026, 11, 5),
            district="Chelmsford", status=CaseStatus.CLOSED, closure_reason=ClosureReason.INELIGIBLE,
        )
        october = make_case(db.session, referrer_organisation="Kent Police", received_on=dt.date(2026, 10, 6))
        october.first_contact_on = october.first_contact_due_on
        for party, score in ((harmed(in_time), 4), (responsible(in_time), 5)):
            db.session.add(Feedback(case_id=in_time.id, party_id=party.id, satisfaction=score,
                                    given_on=dt.date(2026, 11, 20), created_at=NOW))
        db.session.commit()


def _figures(page: str) -> dict[str, str]:
    """Measure -> value from the report's tables."""
    pairs = re.findall(
        r'<th scope="row" class="govuk-table__header">(.*?)</th>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">(.*?)</td>',
        page,
    )
    return {measure.replace("&#39;", "'"): value for measure, value in pairs}


def _csv(response) -> dict[str, str]:
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Measure", "Value"]
    return dict(rows[1:])


def test_report_for_all_referrers_shows_the_month_figures(client, login_as, known_cases):
    login_as(Role.COORDINATOR)

    response = client.get("/cases/reports", query_string=NOVEMBER)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "November 2026: all referrers" in page
    figures = _figures(page)
    assert figures["Referrals received"] == "3"
    assert figures["First contact within the Victims' Code time"] == "1"
    assert figures["First contact late"] == "1"
    assert figures["Not yet contacted"] == "1"
    assert figures["Consented to take part (any party)"] == "1"
    assert figures["Consented to take part (% of referrals)"] == "33%"
    assert figures["Consented: harmed person"] == "1"
    assert figures["Consented: person responsible"] == "1"
    assert figures["Ineligible"] == "1"
    assert figures["Feedback responses"] == "2"
    assert figures["Average satisfaction (1–5)"] == "4.5"
    assert "Cases closed, by reason" in page and "Interventions started, by type" in page


def test_report_for_one_referrer_counts_only_their_referrals(client, login_as, known_cases):
    login_as(Role.COORDINATOR)

    page = client.get("/cases/reports", query_string={**NOVEMBER, "referrer": "Kent Police"}).get_data(as_text=True)

    assert "November 2026: Kent Police" in page
    figures = _figures(page)
    assert figures["Referrals received"] == "2"
    assert figures["First contact within the Victims' Code time"] == "1"
    assert figures["First contact within time (% of referrals)"] == "50%"
    assert figures["Not yet contacted"] == "0"
    assert figures["Ineligible"] == "0"


def test_quarter_and_year_reports_cover_their_whole_period(client, login_as, known_cases):
    login_as(Role.COORDINATOR)

    quarter = client.get("/cases/reports", query_string={"kind": "quarter", "year": "2026", "quarter": "4"})
    year = client.get("/cases/reports", query_string={"kind": "year", "year": "2026", "referrer": "Kent Police"})

    assert "Q4 2026" in quarter.get_data(as_text=True)
    assert _figures(quarter.get_data(as_text=True))["Referrals received"] == "4"
    assert _figures(year.get_data(as_text=True))["Referrals received"] == "3"


def test_first_visit_shows_last_month_for_all_referrers(client, login_as, known_cases):
    login_as(Role.COORDINATOR)

    page = client.get("/cases/reports").get_data(as_text=True)

    assert "October 2026: all referrers" in page
    assert _figures(page)["Referrals received"] == "1"


def test_csv_has_the_same_figures_downloads_as_an_attachment_and_is_audited(
    app, client, login_as, known_cases
):
    coordinator = login_as(Role.COORDINATOR)
    query = {**NOVEMBER, "referrer": "Kent Police"}
    page = client.get("/cases/reports", query_string=query).get_data(as_text=True)
    assert "/cases/reports.csv?" in page and "referrer=Kent+Police" in page

    response = client.get("/cases/reports.csv", query_string=query)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "referrer-report-2026-11-01-to-2026-11-30-kent-police.csv" in disposition
    figures = _csv(response)
    assert figures["Period"] == "November 2026"
    assert figures["Referrer"] == "Kent Police"
    assert figures["Referrals received"] == "2"
    assert figures["First contact late"] == "1"
    assert figures["Consented: harmed person"] == "1"
    assert figures["Closed: ineligible"] == "0"
    assert figures["Average satisfaction (1–5)"] == "4.5"
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cases.report_exported"))
        assert entry is not None
        assert entry.actor_id == coordinator.id
        assert entry.details["period"] == "November 2026"
        assert entry.details["referrer"] == "Kent Police"


def test_csv_neutralises_text_a_spreadsheet_would_run_as_a_formula(app, client, login_as):
    login_as(Role.COORDINATOR)
    with app.app_context():
        make_case(db.session, referrer_organisation="=HYPERLINK(\"http://evil.example\")",
                  received_on=dt.date(2026, 11, 2))
        db.session.commit()

    response = client.get(
        "/cases/reports.csv", query_string={**NOVEMBER, "referrer": "=HYPERLINK(\"http://evil.example\")"}
    )

    assert response.status_code == 200
    assert _csv(response)["Referrer"] == "'=HYPERLINK(\"http://evil.example\")"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kind": "month", "year": "twenty", "month": "3"}, "Year must be 4 digits, like 2026"),
        ({"kind": "month", "year": "", "month": "3"}, "Enter the year"),
        ({"kind": "month", "year": "1999", "month": "3"}, "Year must be between 2000 and 2026"),
        ({"kind": "month", "year": "2026", "month": "13"}, "Choose the month"),
        ({"kind": "quarter", "year": "2026"}, "Choose the quarter"),
        ({"kind": "fortnight", "year": "2026"}, "Choose a month, quarter or year"),
        ({"kind": "month", "year": "2026", "month": "12"}, "December 2026 has not started yet"),
        ({**NOVEMBER, "referrer": "Nobody Constabulary"}, "Choose a referrer from the list"),
    ],
)
def test_bad_period_input_shows_an_error_summary_and_no_figures(client, login_as, query, message):
    login_as(Role.COORDINATOR)

    response = client.get("/cases/reports", query_string=query)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page and "There is a problem" in page
    assert message in page
    assert "<title>Error: Referrer reports" in page
    assert "Referrals received" not in page


def test_csv_with_bad_input_shows_the_form_with_errors_and_audits_nothing(app, client, login_as):
    login_as(Role.COORDINATOR)

    response = client.get("/cases/reports.csv", query_string={"kind": "month", "year": "abc"})

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "govuk-error-summary" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "cases.report_exported")) is None


@pytest.mark.parametrize("path", ["/cases/reports", "/cases/reports.csv?kind=year&year=2026"])
@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.APPLICANT, Role.TRAINER])
def test_only_coordinators_see_referrer_reports(client, login_as, path, role):
    login_as(role)
    assert client.get(path).status_code == 403
