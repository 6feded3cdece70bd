"""The expenses lists at more than a page of claims: 50 rows a page with GOV.UK pagination, the
coordinator's filters (status, volunteer's name, month) surviving hostile input, reports summed in SQL,
and statement counts that stay the same as claims, batches, lines and volunteers grow."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest

from portal.core import clock
from portal.core.accounts import Role
from portal.expenses.models import (
    ActivityKind,
    BatchStatus,
    Category,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    LineDecision,
    OtherMileage,
    PaymentBatch,
    Receipt,
    Vehicle,
)
from portal.extensions import db
from tests import builders
from tests.expenses.builders import NOW
from tests.statements import page_statements

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def add_claims(app, count: int, *, status: ClaimStatus = ClaimStatus.SUBMITTED, claimant_id: int | None = None,
               batch_id: int | None = None, name: str = "Volunteer", submitted_at: dt.datetime = NOW,
               lines: int = 2) -> list[int]:
    """`count` claims (each by a new volunteer unless `claimant_id`), with `lines` lines of £5.00 parking (the
    first of them 10 miles by car instead); lines of payable claims are approved. Returns their ids."""
    payable = status in (ClaimStatus.APPROVED, ClaimStatus.IN_BATCH, ClaimStatus.PAID)
    ids = []
    with app.app_context():
        for index in range(count):
            number = next(_numbers)
            owner = claimant_id or builders.make_user(
                db.session, name=f"{name} {number:04d}", email=f"claimant{number}@example.org").id
            at = submitted_at - dt.timedelta(hours=index)
            claim = Claim(reference=f"EXP-2026-{number:05d}", claimant_id=owner, status=status,
                          submitted_at=None if status is ClaimStatus.DRAFT else at, created_at=at, updated_at=at,
                          batch_id=batch_id, paid_on=NOW.date() if status is ClaimStatus.PAID else None,
                          cost_code="RJ-01")
            db.session.add(claim)
            db.session.flush()
            for position in range(lines):
                mileage = position == 0
                db.session.add(ClaimLine(
                    claim_id=claim.id, spent_on=NOW.date() - dt.timedelta(days=position), description="Parking",
                    category=Category.MILEAGE if mileage else Category.PARKING, amount_pence=450 if mileage else 500,
                    miles=Decimal("10") if mileage else None, vehicle=Vehicle.CAR_VAN if mileage else None,
                    tax_year=2026 if mileage else None, activity_kind=ActivityKind.TRAINING_DAY if mileage else None,
                    decision=LineDecision.APPROVED if payable else LineDecision.PENDING))
            ids.append(claim.id)
        db.session.commit()
    return ids


def add_batch(app, status: BatchStatus = BatchStatus.OPEN) -> int:
    with app.app_context():
        batch = PaymentBatch(reference=f"PAY-2026-{next(_numbers):05d}", status=status)
        db.session.add(batch)
        db.session.commit()
        return batch.id


def rows(html: str, kind: str = "claims") -> list[str]:
    """The rows of a table, or for claims the summary cards (they stack on a phone)."""
    if kind == "claims":
        return re.findall(r'<div class="govuk-summary-card">', html.split('data-list="claims"')[1])
    table = html.split(f'data-list="{kind}"')[1].split("</table>")[0]
    return re.findall(r'<tr class="govuk-table__row">', table.split("<tbody")[1])


def references(html: str) -> list[str]:
    return re.findall(r">(EXP-2026-\d{5})<", html)


# ---------------------------------------------------------------------------------------------
# The coordinator's queue


def test_the_queue_shows_fifty_claims_a_page_oldest_first_with_pagination(app, client, login_as):
    ids = add_claims(app, 55)
    login_as(Role.COORDINATOR)
    first = client.get("/expenses/review").text
    assert len(rows(first)) == 50 and "55 claims, showing 1 to 50" in first
    assert 'href="/expenses/review?view=to-decide&amp;page=2"' in first
    second = client.get("/expenses/review?view=to-decide&page=2").text
    assert len(rows(second)) == 5
    with app.app_context():
        oldest = db.session.get(Claim, ids[-1]).reference
    assert references(first)[0] == oldest


@pytest.mark.parametrize("page", ["0", "-3", "abc", "2.5", "99999999999999999999", "\x00", "３"])
def test_a_hostile_page_number_gives_a_page_not_an_error(app, client, login_as, page):
    add_claims(app, 55)
    login_as(Role.COORDINATOR)
    response = client.get("/expenses/review", query_string={"page": page})
    assert response.status_code == 200 and len(rows(response.text)) in (50, 5)


def test_a_page_past_the_end_shows_the_last_page(app, client, login_as):
    add_claims(app, 55)
    login_as(Role.COORDINATOR)
    assert len(rows(client.get("/expenses/review?page=9000").text)) == 5


def test_the_queue_finds_claims_by_volunteers_name_and_month(app, client, login_as):
    add_claims(app, 3, name="Ayesha Okafor")
    add_claims(app, 2, name="Brian Smith")
    add_claims(app, 4, name="Brian Smith", submitted_at=dt.datetime(2026, 10, 5, 9, tzinfo=dt.UTC))
    login_as(Role.COORDINATOR)
    html = client.get("/expenses/review?search=okafor").text
    assert len(rows(html)) == 3 and "Brian" not in html.split('data-list="claims"')[1]
    assert len(rows(client.get("/expenses/review?search=BRIAN+smith&month=2026-10").text)) == 4
    assert len(rows(client.get("/expenses/review?month=2026-11").text)) == 5
    # The filters are kept by the status links.
    assert 'href="/expenses/review?view=queried&amp;search=okafor"' in html


def test_a_claim_submitted_late_on_the_last_day_of_a_month_counts_in_that_month_uk_time(app, client, login_as):
    # 23:30 UTC on 31 October 2026 is 23:30 in London (GMT from 25 October): October.
    add_claims(app, 1, submitted_at=dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC))
    # 23:30 UTC on 30 September 2026 is 00:30 on 1 October in London (BST).
    add_claims(app, 1, submitted_at=dt.datetime(2026, 9, 30, 23, 30, tzinfo=dt.UTC))
    login_as(Role.COORDINATOR)
    assert len(rows(client.get("/expenses/review?month=2026-10").text)) == 2
    assert "No claims here" in client.get("/expenses/review?month=2026-09").text


@pytest.mark.parametrize(("query", "message"), [
    ({"month": "9999-12"}, "Not a valid choice"),
    ({"month": "2026-13"}, "Not a valid choice"),
    ({"search": "x" * 101}, "The name must be 100 characters or fewer"),
    ({"search": "Smith\u2028"}, "must not contain line breaks or control characters"),
])
def test_hostile_filters_say_what_is_wrong_and_show_the_whole_queue(app, client, login_as, query, message):
    add_claims(app, 2)
    login_as(Role.COORDINATOR)
    response = client.get("/expenses/review", query_string=query)
    assert response.status_code == 200
    assert "govuk-error-summary" in response.text and message in response.text
    assert len(rows(response.text)) == 2


def test_an_unknown_view_or_a_nul_in_the_search_is_ignored(app, client, login_as):
    add_claims(app, 2, name="Nul Person")
    login_as(Role.COORDINATOR)
    assert "<strong>To decide</strong>" in client.get("/expenses/review?view=%00bogus").text
    assert len(rows(client.get("/expenses/review", query_string={"search": "Nul\x00 Person"}).text)) == 2


def test_closed_claims_show_the_most_recently_made_first(app, client, login_as):
    ids = add_claims(app, 3, status=ClaimStatus.REJECTED)
    login_as(Role.COORDINATOR)
    with app.app_context():
        newest = db.session.get(Claim, ids[-1]).reference
    assert references(client.get("/expenses/review?view=closed").text)[0] == newest


# ---------------------------------------------------------------------------------------------
# A volunteer's own claims


def test_a_volunteers_own_claims_are_paginated_newest_first_and_never_anyone_elses(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    ids = add_claims(app, 52, status=ClaimStatus.DRAFT, claimant_id=volunteer.id)
    add_claims(app, 3)
    first = client.get("/expenses/").text
    assert first.count("<h2 class=\"govuk-summary-card__title\">") == 50 and "52 claims, newest first" in first
    with app.app_context():
        assert references(first)[0] == db.session.get(Claim, ids[0]).reference
    assert client.get("/expenses/?page=2").text.count("<h2 class=\"govuk-summary-card__title\">") == 2
    assert "£9.50 (2 expenses)" in first


# ---------------------------------------------------------------------------------------------
# Payment batches


def test_batches_show_totals_from_sql_and_fifty_a_page(app, client, login_as):
    batch_ids = [add_batch(app, BatchStatus.PAID) for _ in range(51)]
    add_claims(app, 3, status=ClaimStatus.PAID, batch_id=batch_ids[-1])
    add_claims(app, 4, status=ClaimStatus.APPROVED)
    login_as(Role.COORDINATOR)
    html = client.get("/expenses/batches").text
    assert "4 approved claims are waiting for payment, £38.00 in all" in html
    assert len(rows(html, "batches")) == 50
    newest = html.split("<tbody")[1].split("</tr>")[0]
    assert ">3</td>" in newest and "£28.50" in newest
    assert len(rows(client.get("/expenses/batches?page=2").text, "batches")) == 1


def test_a_batch_pages_its_claims_and_totals_them_all(app, client, login_as):
    batch_id = add_batch(app)
    add_claims(app, 53, status=ClaimStatus.IN_BATCH, batch_id=batch_id)
    login_as(Role.COORDINATOR)
    html = client.get(f"/expenses/batches/{batch_id}").text
    assert len(rows(html)) == 50 and "£503.50" in html and ">53</dd>" in html
    assert "Take EXP-2026-" in html  # an open batch's claims can be taken out
    assert len(rows(client.get(f"/expenses/batches/{batch_id}?page=2").text)) == 3


# ---------------------------------------------------------------------------------------------
# Reports


def test_reports_total_in_sql_and_page_the_volunteers(app, client, login_as):
    add_claims(app, 52, status=ClaimStatus.APPROVED, name="Payee")
    add_claims(app, 2, status=ClaimStatus.SUBMITTED, name="Waiting")
    with app.app_context():
        volunteer = builders.make_user(db.session, name="Other Driver")
        db.session.add(OtherMileage(user_id=volunteer.id, tax_year=2026, miles=Decimal("120.5")))
        db.session.commit()
    login_as(Role.COORDINATOR)
    html = client.get("/expenses/reports").text
    assert "<strong>£494.00</strong>" in html  # 52 × £9.50
    assert "November 2026" in html and "£260.00" in html.split("Totals by category")[1]  # 52 × £5.00 parking
    assert len(rows(html, "volunteers")) == 50 and "Waiting" not in html
    assert len(rows(client.get("/expenses/reports?page=2").text, "volunteers")) == 2
    miles = client.get("/expenses/reports?table=miles").text
    table = miles.split('data-list="miles"')[1]
    # 54 claimants with 10 miles each (submitted claims count towards the threshold) and one declared driver.
    assert len(rows(miles, "miles")) == 50 and table.index("Other Driver") < table.index("Payee")
    assert "120.5" in table
    assert len(rows(client.get("/expenses/reports?table=miles&page=2").text, "miles")) == 5


@pytest.mark.parametrize("query", ["tax_year=9999", "tax_year=1999", "tax_year=%00", "table=bogus", "page=-1"])
def test_hostile_report_parameters_show_this_years_report(app, client, login_as, query):
    login_as(Role.COORDINATOR)
    response = client.get(f"/expenses/reports?{query}")
    assert response.status_code == 200 and "6 April 2026" in response.text


def test_the_report_csv_still_has_every_volunteer(app, client, login_as):
    add_claims(app, 55, status=ClaimStatus.PAID, batch_id=add_batch(app, BatchStatus.PAID))
    login_as(Role.COORDINATOR)
    lines = client.get("/expenses/reports.csv").data.decode("utf-8-sig").splitlines()
    assert sum(line.startswith("Volunteer,") for line in lines) == 55
    assert "Total,,522.50" in lines
    assert sum(line.startswith("Car and van miles,") for line in lines) == 55


# ---------------------------------------------------------------------------------------------
# Statements do not grow with data


def _claim_with(app, lines: int) -> int:
    """A claim whose every line has a receipt with the same contents (so each is a possible duplicate of
    the others) and a history entry."""
    claim_id = add_claims(app, 1, lines=lines)[0]
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        for line in claim.lines:
            db.session.add(Receipt(line_id=line.id, stored_name=f"r{line.id}-{next(_numbers)}", display_name="r.jpg",
                                   kind="jpeg", content_type="image/jpeg", size=10, sha256="a" * 64))
            db.session.add(ClaimEvent(claim_id=claim.id, actor_id=claim.claimant_id, to_status=ClaimStatus.SUBMITTED,
                                      note="Sent"))
        db.session.commit()
    return claim_id


def test_coordinator_pages_run_the_same_statements_at_5_and_15_claims(app, client, login_as):
    login_as(Role.COORDINATOR)
    urls = ["/expenses/review", "/expenses/review?view=closed&search=volunteer&month=2026-11",
            "/expenses/review?view=approved", "/expenses/batches", "/expenses/reports",
            "/expenses/reports?table=miles"]
    batch_id = add_batch(app)

    def grow(count: int) -> None:
        add_claims(app, count)
        add_claims(app, count, status=ClaimStatus.REJECTED)
        add_claims(app, count, status=ClaimStatus.APPROVED)
        add_claims(app, count, status=ClaimStatus.IN_BATCH, batch_id=batch_id)
        for _ in range(count):
            add_batch(app, BatchStatus.PAID)

    grow(5)
    small = {url: page_statements(app, client, url)[0] for url in [*urls, f"/expenses/batches/{batch_id}"]}
    grow(10)
    large = {url: page_statements(app, client, url)[0] for url in [*urls, f"/expenses/batches/{batch_id}"]}
    assert large == small
    assert max(small.values()) <= 30


def test_a_volunteers_list_runs_the_same_statements_at_5_and_15_claims(app, client, login_as):
    volunteer = login_as(Role.VOLUNTEER)
    add_claims(app, 5, claimant_id=volunteer.id)
    small, _ = page_statements(app, client, "/expenses/")
    add_claims(app, 10, claimant_id=volunteer.id, status=ClaimStatus.PAID, batch_id=add_batch(app))
    large, _ = page_statements(app, client, "/expenses/")
    assert large == small and small <= 30
    other_miles, _ = page_statements(app, client, "/expenses/other-miles")
    assert other_miles <= 30


def test_a_claim_page_runs_the_same_statements_at_2_and_8_lines(app, client, login_as):
    login_as(Role.COORDINATOR)
    small_id, large_id = _claim_with(app, 2), _claim_with(app, 8)
    small, small_html = page_statements(app, client, f"/expenses/claims/{small_id}")
    large, large_html = page_statements(app, client, f"/expenses/claims/{large_id}")
    assert large == small and small <= 30
    assert large_html.count('id="line-') == 8 and "Possible duplicate of" in large_html
