"""Expense pages through the client: each page per role, the claim journey, receipts served only to the
claimant and approvers, exports read back with openpyxl, and a 404 for every guessed id."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from sqlalchemy import select

from portal.core import clock, files
from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.expenses import services
from portal.expenses.models import BatchStatus, Claim, ClaimStatus, Receipt
from portal.extensions import db
from tests import builders
from tests.expenses.builders import expense_data, jpeg_bytes, mileage_data, pdf_bytes


@pytest.fixture
def sign_in(app):
    """A new person with `roles`, signed in on their own client: returns (client, user id)."""

    def make(*roles: Role):
        with app.app_context():
            user = builders.make_user(db.session, roles=roles)
            db.session.commit()
            user_id, email = user.id, user.email
        client = app.test_client()
        response = client.post("/sign-in", data={"email": email, "password": builders.PASSWORD})
        assert response.status_code == 302
        return client, user_id

    return make


def _user(user_id):
    return db.session.get(services.User, user_id)


def make_claim(app, user_id, receipts_dir, *, submit=True, approve_by=None):
    """A claim made through the services for `user_id`, committed; returns (claim id, receipt id)."""
    now = clock.now()
    with app.app_context():
        volunteer = _user(user_id)
        claim = services.start_claim(db.session, actor=volunteer, now=now)
        services.save_line(db.session, claim.id, mileage_data("10", spent_on=now.date()), actor=volunteer, now=now)
        line = services.save_line(db.session, claim.id, expense_data("6.40", spent_on=now.date()), actor=volunteer,
                                  now=now)
        receipt = services.add_receipt(db.session, line.id, jpeg_bytes(user_id), filename="parking.jpg",
                                       directory=receipts_dir, actor=volunteer, now=now)
        if submit:
            services.submit_claim(db.session, claim.id, actor=volunteer, now=now)
        if approve_by is not None:
            services.approve_claim(db.session, claim.id, actor=_user(approve_by), now=now)
        db.session.commit()
        return claim.id, receipt.id


def date_fields(name, day):
    return {name: [str(day.day), str(day.month), str(day.year)]}


def test_a_volunteer_claims_mileage_and_parking_with_a_receipt_and_submits(app, sign_in, receipts_dir):
    client, user_id = sign_in(Role.VOLUNTEER)
    assert client.get("/expenses/").status_code == 200
    response = client.post("/expenses/claims/new")
    assert response.status_code == 302
    claim_url = response.headers["Location"]
    claim_id = int(claim_url.rstrip("/").split("/")[-1])
    today = clock.today()
    page = client.get(f"/expenses/claims/{claim_id}/lines/new/mileage")
    assert page.status_code == 200 and "45p a mile" in page.text
    response = client.post(f"/expenses/claims/{claim_id}/lines/new/mileage", data={
        **date_fields("spent_on", today), "from_place": "CM1 1QH", "to_place": "CO1 1ZZ", "miles": "23.5",
        "vehicle": "car_van", "passengers": "1", "description": "To the training venue", "activity": ""})
    assert response.status_code == 302, response.text
    response = client.post(f"/expenses/claims/{claim_id}/lines/new/expense", data={
        **date_fields("spent_on", today), "category": "parking", "amount": "6.40", "description": "Car park",
        "activity": "other", "purpose": "Training day", "receipts": [(io.BytesIO(jpeg_bytes(7)), "IMG_0007.HEIC")]},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.text
    page = client.get(claim_url)
    assert "23.5 miles at 45p" in page.text and "£11.75" in page.text and "IMG_0007.jpg" in page.text
    response = client.post(f"/expenses/claims/{claim_id}/submit")
    assert response.status_code == 302
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert claim.status is ClaimStatus.SUBMITTED
        assert claim.total_pence == 1175 + 640  # 23.5 × 45p + 23.5 × 5p = 1,057.5 + 117.5


def test_bad_line_input_is_shown_against_the_fields(app, sign_in):
    client, _ = sign_in(Role.VOLUNTEER)
    claim_url = client.post("/expenses/claims/new").headers["Location"]
    claim_id = int(claim_url.rstrip("/").split("/")[-1])
    tomorrow = clock.today() + dt.timedelta(days=1)
    response = client.post(f"/expenses/claims/{claim_id}/lines/new/mileage", data={
        **date_fields("spent_on", tomorrow), "from_place": "CM1 1QH", "to_place": "cm1 1qh", "miles": "0",
        "vehicle": "bicycle", "passengers": "2", "description": "Trip"})
    assert response.status_code == 400
    for message in ("The date of the expense must be today or in the past", "The miles must be more than 0",
                    "must end somewhere other than where it started", "only for cars and vans"):
        assert message in response.text
    response = client.post(f"/expenses/claims/{claim_id}/lines/new/expense", data={
        **date_fields("spent_on", clock.today()), "category": "parking", "amount": "-5", "description": "x",
        "receipts": [(io.BytesIO(b"<html>"), "receipt.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 400 and "The amount must be more than £0" in response.text


def test_a_bad_receipt_saves_nothing_and_says_why(app, sign_in):
    client, _ = sign_in(Role.VOLUNTEER)
    claim_id = int(client.post("/expenses/claims/new").headers["Location"].rstrip("/").split("/")[-1])
    response = client.post(f"/expenses/claims/{claim_id}/lines/new/expense", data={
        **date_fields("spent_on", clock.today()), "category": "parking", "amount": "6.00", "description": "Car park",
        "receipts": [(io.BytesIO(b"MZ\x90\x00 not a photo"), "receipt.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 400 and "must be a JPEG, PNG or PDF" in response.text
    with app.app_context():
        assert db.session.get(Claim, claim_id).lines == []


def test_submitting_without_a_needed_receipt_lists_what_is_missing(app, sign_in):
    client, user_id = sign_in(Role.VOLUNTEER)
    claim_id = int(client.post("/expenses/claims/new").headers["Location"].rstrip("/").split("/")[-1])
    client.post(f"/expenses/claims/{claim_id}/lines/new/expense", data={
        **date_fields("spent_on", clock.today()), "category": "public_transport", "amount": "12.00",
        "description": "Train"})
    response = client.post(f"/expenses/claims/{claim_id}/submit")
    assert response.status_code == 409 and "add a receipt" in response.text


def test_receipts_are_served_to_the_claimant_and_approvers_only(app, sign_in, receipts_dir):
    owner, owner_id = sign_in(Role.VOLUNTEER)
    other, _ = sign_in(Role.VOLUNTEER)
    coordinator, _ = sign_in(Role.COORDINATOR)
    admin, _ = sign_in(Role.ADMIN)
    _claim_id, receipt_id = make_claim(app, owner_id, receipts_dir)
    response = owner.get(f"/expenses/receipts/{receipt_id}")
    with app.app_context():
        stored = files.read(receipts_dir, db.session.get(Receipt, receipt_id).stored_name)
    assert response.status_code == 200 and response.data == stored  # the re-encoded photo
    assert response.headers["Content-Type"] == "image/jpeg" and "no-store" in response.headers["Cache-Control"]
    assert coordinator.get(f"/expenses/receipts/{receipt_id}").status_code == 200
    assert other.get(f"/expenses/receipts/{receipt_id}").status_code == 404
    assert admin.get(f"/expenses/receipts/{receipt_id}").status_code == 404
    assert owner.get(f"/expenses/receipts/{receipt_id + 1000}").status_code == 404


def _upload_receipt(app, client, claim_id, data, name):
    """Add a parking line to the claim through the page, then upload `data` to it as a receipt."""
    response = client.post(f"/expenses/claims/{claim_id}/lines/new/expense", data={
        **date_fields("spent_on", clock.today()), "category": "parking", "amount": "6.00",
        "description": "Car park", "activity": "other", "purpose": "Training day"})
    assert response.status_code == 302, response.text
    with app.app_context():
        line_id = db.session.get(Claim, claim_id).lines[-1].id
    return client.post(f"/expenses/claims/{claim_id}/lines/{line_id}/receipts",
                       data={"receipts": [(io.BytesIO(data), name)]}, content_type="multipart/form-data")


def _receipt_ids(app, claim_id):
    with app.app_context():
        return [receipt.id for line in db.session.get(Claim, claim_id).lines for receipt in line.receipts]


def test_a_receipt_photo_opens_sandboxed_in_the_browser_and_a_receipt_pdf_is_downloaded(app, sign_in):
    client, _ = sign_in(Role.VOLUNTEER)
    claim_id = int(client.post("/expenses/claims/new").headers["Location"].rstrip("/").split("/")[-1])
    response = _upload_receipt(app, client, claim_id, jpeg_bytes(3) + b"<html><script>x()</script>", "photo.jpg")
    assert response.status_code == 302, response.text
    response = _upload_receipt(app, client, claim_id, pdf_bytes(), "taxi.pdf")
    assert response.status_code == 302, response.text
    photo_id, pdf_id = _receipt_ids(app, claim_id)
    photo = client.get(f"/expenses/receipts/{photo_id}")
    assert photo.headers["Content-Disposition"].startswith("inline;") and b"<script" not in photo.data
    document = client.get(f"/expenses/receipts/{pdf_id}")
    assert document.headers["Content-Disposition"].startswith("attachment;") and document.data == pdf_bytes()
    for response in (photo, document):
        assert response.status_code == 200
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_photo_stored_before_reencoding_began_is_downloaded_not_shown(app, sign_in, receipts_dir):
    owner, owner_id = sign_in(Role.VOLUNTEER)
    _claim_id, receipt_id = make_claim(app, owner_id, receipts_dir)
    with app.app_context():
        db.session.get(Receipt, receipt_id).is_reencoded = False
        db.session.commit()
    response = owner.get(f"/expenses/receipts/{receipt_id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_receipt_pdf_with_javascript_is_refused_and_nothing_is_kept(app, sign_in, receipts_dir):
    client, _ = sign_in(Role.VOLUNTEER)
    claim_id = int(client.post("/expenses/claims/new").headers["Location"].rstrip("/").split("/")[-1])
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_open_action(JavaScript("app.launchURL('https://attacker.example/')"))
    buffer = io.BytesIO()
    writer.write(buffer)
    response = _upload_receipt(app, client, claim_id, buffer.getvalue(), "taxi.pdf")
    assert response.status_code == 400 and "The selected PDF contains JavaScript" in response.text
    assert _receipt_ids(app, claim_id) == []
    assert not receipts_dir.exists() or not any(path.is_file() for path in receipts_dir.rglob("*"))


def test_every_claim_route_is_a_404_for_another_volunteer(app, sign_in, receipts_dir):
    owner, owner_id = sign_in(Role.VOLUNTEER)
    other, _ = sign_in(Role.VOLUNTEER)
    claim_id, receipt_id = make_claim(app, owner_id, receipts_dir, submit=False)
    with app.app_context():
        line_id = db.session.get(Claim, claim_id).lines[0].id
    gets = [f"/expenses/claims/{claim_id}", f"/expenses/claims/{claim_id}/lines/new/mileage",
            f"/expenses/claims/{claim_id}/lines/new/expense", f"/expenses/claims/{claim_id}/lines/{line_id}/edit",
            f"/expenses/claims/{claim_id}/lines/{line_id}/receipts", f"/expenses/claims/{claim_id}/withdraw",
            f"/expenses/claims/{claim_id}/answer", f"/expenses/receipts/{receipt_id}"]
    posts = [f"/expenses/claims/{claim_id}/submit", f"/expenses/claims/{claim_id}/lines/{line_id}/remove",
             f"/expenses/receipts/{receipt_id}/remove", f"/expenses/claims/{claim_id}/withdraw",
             f"/expenses/claims/{claim_id}/lines/new/expense", f"/expenses/claims/{claim_id}/lines/{line_id}/receipts"]
    for url in gets:
        assert other.get(url).status_code == 404, url
    for url in posts:
        assert other.post(url).status_code == 404, url
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert (claim.status, len(claim.lines), len(claim.lines[1].receipts)) == (ClaimStatus.DRAFT, 2, 1)


@pytest.mark.parametrize(("url", "allowed"), [
    ("/expenses/", {Role.VOLUNTEER}),
    ("/expenses/other-miles", {Role.VOLUNTEER}),
    ("/expenses/review", {Role.COORDINATOR}),
    ("/expenses/batches", {Role.COORDINATOR, Role.ADMIN}),
    ("/expenses/reports", {Role.COORDINATOR, Role.ADMIN}),
    ("/expenses/settings", {Role.ADMIN}),
    ("/expenses/rates", {Role.ADMIN}),
])
def test_each_page_is_for_its_roles(sign_in, url, allowed):
    for role in (Role.VOLUNTEER, Role.COORDINATOR, Role.ADMIN, Role.APPLICANT):
        client, _ = sign_in(role)
        assert client.get(url).status_code == (200 if role in allowed else 403), (url, role)


def test_signed_out_people_are_sent_to_sign_in(client):
    assert client.get("/expenses/").status_code == 302


def test_a_coordinator_queries_then_approves_and_cannot_decide_their_own_claim(app, sign_in, receipts_dir):
    volunteer, volunteer_id = sign_in(Role.VOLUNTEER)
    coordinator, _ = sign_in(Role.COORDINATOR)
    claim_id, _ = make_claim(app, volunteer_id, receipts_dir)
    assert "EXP-" in coordinator.get("/expenses/review").text
    response = coordinator.post(f"/expenses/claims/{claim_id}/query", data={"question": "Which venue?"})
    assert response.status_code == 302
    assert "Which venue?" in volunteer.get(f"/expenses/claims/{claim_id}").text
    assert volunteer.post(f"/expenses/claims/{claim_id}/answer", data={"answer": "Chelmsford"}).status_code == 302
    page = coordinator.get(f"/expenses/claims/{claim_id}")
    assert "Approve claim" in page.text
    with app.app_context():
        version = db.session.get(Claim, claim_id).version
    stale = coordinator.post(f"/expenses/claims/{claim_id}/approve", data={"version": str(version - 1)})
    assert stale.status_code == 409 and "changed while you were looking at it" in stale.text
    response = coordinator.post(f"/expenses/claims/{claim_id}/approve", data={"version": str(version),
                                                                               "cost_code": "PCC-2026"})
    assert response.status_code == 302
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert (claim.status, claim.cost_code) == (ClaimStatus.APPROVED, "PCC-2026")

    both, both_id = sign_in(Role.COORDINATOR, Role.VOLUNTEER)
    own_id, _ = make_claim(app, both_id, receipts_dir)
    assert both.post(f"/expenses/claims/{own_id}/approve", data={}).status_code == 403
    assert "Approve claim" not in both.get(f"/expenses/claims/{own_id}").text


def test_per_line_rejection_and_duplicate_dismissal_pages(app, sign_in, receipts_dir):
    _volunteer, volunteer_id = sign_in(Role.VOLUNTEER)
    coordinator, _ = sign_in(Role.COORDINATOR)
    first_id, _ = make_claim(app, volunteer_id, receipts_dir)
    second_id, _ = make_claim(app, volunteer_id, receipts_dir)
    with app.app_context():
        mileage_line, parking_line = db.session.get(Claim, second_id).lines
        mileage_id, parking_id = mileage_line.id, parking_line.id
    page = coordinator.get(f"/expenses/claims/{second_id}")
    assert "Possible duplicate of" in page.text
    blocked = coordinator.post(f"/expenses/lines/{parking_id}/decide", data={"approve": "y"})
    assert blocked.status_code == 409 and "may be a duplicate" in blocked.text
    assert coordinator.get(f"/expenses/lines/{parking_id}/not-a-duplicate").status_code == 200
    response = coordinator.post(f"/expenses/lines/{parking_id}/not-a-duplicate", data={"reason": "Two visits"})
    assert response.status_code == 302
    response = coordinator.post(f"/expenses/lines/{mileage_id}/decide", data={"reject": "y", "reason": ""})
    assert response.status_code == 409 and "Enter why this expense is not approved" in response.text
    coordinator.post(f"/expenses/lines/{mileage_id}/not-a-duplicate", data={"reason": "Two visits"})
    coordinator.post(f"/expenses/lines/{mileage_id}/decide", data={"reject": "y", "reason": "Home to venue"})
    coordinator.post(f"/expenses/claims/{second_id}/approve", data={})
    with app.app_context():
        claim = db.session.get(Claim, second_id)
        assert (claim.status, claim.approved_pence) == (ClaimStatus.APPROVED, 640)
        assert db.session.get(Claim, first_id).status is ClaimStatus.SUBMITTED


def test_batch_export_reads_back_with_the_right_totals_and_is_paid_once(app, sign_in, receipts_dir):
    coordinator, coordinator_id = sign_in(Role.COORDINATOR)
    _v1, first = sign_in(Role.VOLUNTEER)
    _v2, second = sign_in(Role.VOLUNTEER)
    claim_ids = [make_claim(app, user_id, receipts_dir, approve_by=coordinator_id)[0] for user_id in (first, second)]
    assert "2 approved claims are waiting" in coordinator.get("/expenses/batches").text
    response = coordinator.post("/expenses/batches/new")
    batch_url = response.headers["Location"]
    batch_id = int(batch_url.rstrip("/").split("/")[-1])
    assert coordinator.get(f"{batch_url}/batch.xlsx").status_code == 409  # not locked yet
    coordinator.post(f"{batch_url}/lock")
    workbook = load_workbook(io.BytesIO(coordinator.get(f"{batch_url}/batch.xlsx").data))
    assert workbook.sheetnames == ["Claims", "Lines"]
    claims_rows = list(workbook["Claims"].iter_rows(values_only=True))
    assert claims_rows[0][:5] == ("Batch", "Claim reference", "Payee", "Payee email", "Total (£)")
    assert [Decimal(str(row[4])) for row in claims_rows[1:3]] == [Decimal("10.90")] * 2
    assert claims_rows[-1][1] == "Total" and Decimal(str(claims_rows[-1][4])) == Decimal("21.80")
    line_rows = list(workbook["Lines"].iter_rows(values_only=True))[1:]
    assert len(line_rows) == 4 and sum(Decimal(str(row[14])) for row in line_rows) == Decimal("21.80")
    claims_csv = coordinator.get(f"{batch_url}/claims.csv").data.decode("utf-8-sig").splitlines()
    assert len(claims_csv) == 3 and claims_csv[1].split(",")[4] == "10.90"
    assert len(coordinator.get(f"{batch_url}/lines.csv").data.decode("utf-8-sig").splitlines()) == 5
    paid = coordinator.post(f"{batch_url}/paid", data=date_fields("paid_on", clock.today()))
    assert paid.status_code == 302
    again = coordinator.post(f"{batch_url}/paid", data=date_fields("paid_on", clock.today()))
    assert again.status_code == 409 and "already marked paid" in again.text
    with app.app_context():
        assert {db.session.get(Claim, claim_id).status for claim_id in claim_ids} == {ClaimStatus.PAID}
        batch = services.queries.get_batch(db.session, batch_id)
        assert (batch.status, batch.export_count) == (BatchStatus.PAID, 3)
        exported = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "expense_batch.exported"))
        assert len(list(exported)) == 3
    report = coordinator.get("/expenses/reports")
    assert report.status_code == 200 and "£21.80" in report.text


def test_admin_changes_policy_and_adds_a_rate(app, sign_in):
    admin, _ = sign_in(Role.ADMIN)
    response = admin.post("/expenses/settings", data={
        "receipt_required_above": "10.00", "subsistence_cap": "12.50", "max_line": "400", "old_claim_months": "6",
        "preapproval_categories": ["other", "care_of_dependants"], "default_cost_code": "RJ-01"})
    assert response.status_code == 302
    with app.app_context():
        policy = services.get_policy(db.session)
        assert (policy.subsistence_cap_pence, policy.preapproval_categories) == (1250, ("care_of_dependants", "other"))
    bad = admin.post("/expenses/rates", data={"vehicle": "car_van", "pence_per_mile": "50",
                                              **date_fields("effective_from", dt.date(2027, 4, 6))})
    assert bad.status_code == 400 and "Enter the threshold in miles" in bad.text
    response = admin.post("/expenses/rates", data={
        "vehicle": "car_van", "pence_per_mile": "50", "threshold_miles": "10000", "pence_per_mile_after": "30",
        **date_fields("effective_from", dt.date(2027, 4, 6))})
    assert response.status_code == 302
    assert "50p" in admin.get("/expenses/rates").text


def test_declaring_other_organisations_miles(app, sign_in):
    client, user_id = sign_in(Role.VOLUNTEER)
    assert client.post("/expenses/other-miles", data={"tax_year": "2026", "miles": "-4"}).status_code == 400
    year = str(services.mileage.tax_year_of(clock.today()))
    assert client.post("/expenses/other-miles", data={"tax_year": year, "miles": "1200.5"}).status_code == 302
    with app.app_context():
        assert services.declared_other_miles(db.session, user_id, int(year)) == Decimal("1200.5")


def test_a_draft_is_the_claimants_own_business(app, sign_in, receipts_dir):
    _owner, owner_id = sign_in(Role.VOLUNTEER)
    coordinator, _ = sign_in(Role.COORDINATOR)
    claim_id, receipt_id = make_claim(app, owner_id, receipts_dir, submit=False)
    assert coordinator.get(f"/expenses/claims/{claim_id}").status_code == 404
    assert coordinator.get(f"/expenses/receipts/{receipt_id}").status_code == 404


def test_changing_an_approved_claim_sends_it_back_and_says_so(app, sign_in, receipts_dir):
    volunteer, volunteer_id = sign_in(Role.VOLUNTEER)
    _coordinator, coordinator_id = sign_in(Role.COORDINATOR)
    claim_id, _ = make_claim(app, volunteer_id, receipts_dir, approve_by=coordinator_id)
    with app.app_context():
        line_id = db.session.get(Claim, claim_id).lines[1].id
    page = volunteer.get(f"/expenses/claims/{claim_id}")
    assert "If you change it, it goes back to a coordinator" in page.text
    edit = volunteer.get(f"/expenses/claims/{claim_id}/lines/{line_id}/edit")
    assert edit.status_code == 200 and 'value="6.40"' in edit.text
    response = volunteer.post(f"/expenses/claims/{claim_id}/lines/{line_id}/edit", data={
        **date_fields("spent_on", clock.today()), "category": "parking", "amount": "8.40", "description": "Car park"},
        follow_redirects=True)
    assert "gone back for approval" in response.text
    with app.app_context():
        claim = db.session.get(Claim, claim_id)
        assert (claim.status, claim.total_pence) == (ClaimStatus.SUBMITTED, 450 + 840)


def test_status_emails_reach_the_claimant(app, sign_in, receipts_dir, smtp):
    from tests.smtp import deliver_outbox

    _volunteer, volunteer_id = sign_in(Role.VOLUNTEER)
    make_claim(app, volunteer_id, receipts_dir)
    deliver_outbox(app)
    with app.app_context():
        email = db.session.get(services.User, volunteer_id).email
    [message] = smtp.inbox.to(email)
    assert "has been submitted" in message["Subject"]
    assert "We have received your claim for £10.90" in message.get_body(("plain",)).get_content()


def test_coordinator_question_and_reject_pages(app, sign_in, receipts_dir):
    volunteer, volunteer_id = sign_in(Role.VOLUNTEER)
    coordinator, _ = sign_in(Role.COORDINATOR)
    claim_id, _ = make_claim(app, volunteer_id, receipts_dir)
    for url in (f"/expenses/claims/{claim_id}/query", f"/expenses/claims/{claim_id}/reject"):
        assert coordinator.get(url).status_code == 200
        assert volunteer.get(url).status_code == 403
    assert volunteer.get(f"/expenses/claims/{claim_id}/answer").status_code == 404  # nothing asked yet
    empty = coordinator.post(f"/expenses/claims/{claim_id}/reject", data={"reason": " "})
    assert empty.status_code == 400 and "Enter why the claim is rejected" in empty.text
    assert coordinator.post(f"/expenses/claims/{claim_id}/reject", data={"reason": "Duplicate of EXP-1"}
                            ).status_code == 302
    page = volunteer.get(f"/expenses/claims/{claim_id}")
    assert "Why it was rejected" in page.text and "Duplicate of EXP-1" in page.text
    late = coordinator.post(f"/expenses/claims/{claim_id}/query", data={"question": "Anything else?"})
    assert late.status_code == 409 and "cannot move from rejected to queried" in late.text


def test_a_volunteer_withdraws_a_submitted_claim(app, sign_in, receipts_dir):
    volunteer, volunteer_id = sign_in(Role.VOLUNTEER)
    claim_id, _ = make_claim(app, volunteer_id, receipts_dir)
    assert volunteer.get(f"/expenses/claims/{claim_id}/withdraw").status_code == 200
    response = volunteer.post(f"/expenses/claims/{claim_id}/withdraw", data={"reason": "Claimed twice"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Claim, claim_id).status is ClaimStatus.WITHDRAWN
    assert volunteer.post(f"/expenses/claims/{claim_id}/submit").status_code == 409


def test_a_receipt_over_the_size_limit_is_refused_with_its_size(make_app, receipts_dir):
    small = make_app(EXPENSES_RECEIPT_DIR=str(receipts_dir), EXPENSES_RECEIPT_MAX_BYTES=1024)
    with small.app_context():
        user = builders.make_user(db.session, roles=(Role.VOLUNTEER,))
        db.session.commit()
        email = user.email
    client = small.test_client()
    client.post("/sign-in", data={"email": email, "password": builders.PASSWORD})
    claim_id = int(client.post("/expenses/claims/new").headers["Location"].rstrip("/").split("/")[-1])
    big_photo = b"\xff\xd8\xff\xe0" + b"\x00" * 4096
    response = client.post(f"/expenses/claims/{claim_id}/lines/new/expense", data={
        **date_fields("spent_on", clock.today()), "category": "parking", "amount": "6.00", "description": "Car park",
        "receipts": [(io.BytesIO(big_photo), "big.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "The selected file must be smaller than 1 KB (it is 4 KB)" in response.text
