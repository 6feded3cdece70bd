"""Claim workflow: every transition and forbidden move, self-approval, edits after approval, per-line
decisions, duplicates, bad input, and payment batches (one batch, paid once)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from portal.core.files import UploadRejected
from portal.core.outbox import OutboxMessage
from portal.expenses import queries, services
from portal.expenses.errors import ClaimIncomplete, LineInvalid
from portal.expenses.models import BatchStatus, ClaimStatus, LineDecision
from tests.builders import make_user
from tests.expenses.builders import (
    NOW,
    TODAY,
    add_line,
    expense_data,
    heic_bytes,
    jpeg_bytes,
    make_coordinator,
    make_submitted_claim,
    make_volunteer,
    mileage_data,
    pdf_bytes,
    start_claim,
)

LATER = NOW + dt.timedelta(hours=1)


def mail_subjects(session, address):
    return [m.subject for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            if address in m.recipients]


def actions(session, claim):
    return [entry.action for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "expense_claims", AuditEntry.subject_id == claim.id)
        .order_by(AuditEntry.id))]


# ---------------------------------------------------------------------------------------------
# Drafts and submission


def test_a_volunteer_submits_a_claim_and_is_told_by_email(session, receipts_dir):
    volunteer = make_volunteer(session)
    claim = make_submitted_claim(session, volunteer, receipts_dir)
    assert claim.status is ClaimStatus.SUBMITTED and claim.submitted_at == NOW
    assert claim.total_pence == 900 + 1200
    assert mail_subjects(session, volunteer.email) == [f"Your expense claim {claim.reference} has been submitted"]
    assert actions(session, claim) == ["expense_claim.started", "expense_claim.submitted"]
    assert [(e.from_status, e.to_status) for e in claim.events] == [
        (None, ClaimStatus.DRAFT), (ClaimStatus.DRAFT, ClaimStatus.SUBMITTED)]


def test_an_empty_claim_cannot_be_submitted(session):
    volunteer = make_volunteer(session)
    claim = start_claim(session, volunteer)
    with pytest.raises(ClaimIncomplete, match="Add at least one expense"):
        services.submit_claim(session, claim.id, actor=volunteer, now=NOW)


def test_a_line_over_the_receipt_limit_cannot_be_submitted_without_a_receipt_but_mileage_can(session):
    volunteer = make_volunteer(session)
    claim = start_claim(session, volunteer)
    add_line(session, claim, mileage_data("20"))
    add_line(session, claim, expense_data("4.99"))  # at or under £5: no receipt needed
    add_line(session, claim, expense_data("5.01", category="public_transport"))
    with pytest.raises(ClaimIncomplete) as problem:
        services.submit_claim(session, claim.id, actor=volunteer, now=NOW)
    assert problem.value.reasons == [
        "Expense 3 (public transport, 23 November 2026): add a receipt (needed for expenses over £5.00)"]
    assert claim.status is ClaimStatus.DRAFT


def test_receipts_are_checked_by_content_and_iphone_photos_are_asked_for_as_jpeg(session, receipts_dir):
    volunteer = make_volunteer(session)
    line = add_line(session, start_claim(session, volunteer), expense_data())
    # HEIC cannot be decoded here, so it cannot be checked or re-encoded: the claimant is told how to send a JPEG.
    with pytest.raises(UploadRejected, match="upload it as a JPEG instead"):
        services.add_receipt(session, line.id, heic_bytes(), filename="IMG_4410.HEIC", directory=receipts_dir,
                             actor=volunteer, now=NOW)
    receipt = services.add_receipt(session, line.id, jpeg_bytes() + b"<script>alert(1)</script>",
                                   filename="IMG_4410.HEIC", directory=receipts_dir, actor=volunteer, now=NOW)
    assert (receipt.kind, receipt.display_name, receipt.is_reencoded) == ("jpeg", "IMG_4410.jpg", True)
    stored = (receipts_dir / receipt.stored_name[:2] / receipt.stored_name).read_bytes()
    assert stored.startswith(b"\xff\xd8\xff") and b"<script" not in stored
    assert (receipt.size, receipt.sha256) == (len(stored), hashlib.sha256(stored).hexdigest())
    document = services.add_receipt(session, line.id, pdf_bytes(), filename="taxi.pdf", directory=receipts_dir,
                                    actor=volunteer, now=NOW)
    assert (document.kind, document.is_reencoded) == ("pdf", False)
    assert (receipts_dir / document.stored_name[:2] / document.stored_name).read_bytes() == pdf_bytes()
    with pytest.raises(UploadRejected, match="must be a JPEG, PNG or PDF"):
        services.add_receipt(session, line.id, b"GIF89a......", filename="r.jpg", directory=receipts_dir,
                             actor=volunteer, now=NOW)
    with pytest.raises(UploadRejected, match="smaller than"):
        services.add_receipt(session, line.id, pdf_bytes(), filename="r.pdf", directory=receipts_dir,
                             actor=volunteer, now=NOW, max_bytes=10)


def test_someone_elses_claim_does_not_exist_for_them(session, receipts_dir):
    owner = make_volunteer(session)
    other = make_volunteer(session)
    claim = start_claim(session, owner)
    line = add_line(session, claim, expense_data())
    with pytest.raises(NotFound):
        services.save_line(session, claim.id, expense_data(), actor=other, now=NOW)
    with pytest.raises(NotFound):
        services.add_receipt(session, line.id, jpeg_bytes(), filename="a.jpg", directory=receipts_dir, actor=other,
                             now=NOW)
    with pytest.raises(NotFound):
        services.submit_claim(session, claim.id, actor=other, now=NOW)
    with pytest.raises(NotFound):
        services.withdraw_claim(session, claim.id, actor=other, now=NOW)


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(("data", "field", "message"), [
    (expense_data("-4.00"), "amount", "The amount must be more than £0"),
    (expense_data("0"), "amount", "The amount must be more than £0"),
    (expense_data("4.505"), "amount", "Enter the amount in pounds and pence, like 12.50"),
    (expense_data("twelve"), "amount", "Enter the amount in pounds and pence, like 12.50"),
    (expense_data("50000"), "amount", "The amount must be £500.00 or less for one expense"),
    (expense_data("", ), "amount", "Enter the amount you spent"),
    (expense_data(spent_on=TODAY + dt.timedelta(days=1)), "spent_on", "must be today or in the past"),
    (expense_data(spent_on="2026-02-30"), "spent_on", "must be a real date"),
    (expense_data(category="lunch"), "category", "Choose the kind of expense"),
    (expense_data(description="  "), "description", "Describe what the expense was for"),
    (expense_data("10.01", category="subsistence"), "amount", "Subsistence is capped at £10.00 a day"),
    (expense_data(category="other"), "pre_approval", "Other expenses need approval before you spend"),
    (mileage_data("0"), "miles", "The miles must be more than 0"),
    (mileage_data("-3"), "miles", "The miles must be more than 0"),
    (mileage_data("1001"), "miles", "The miles must be 1,000 or fewer for one journey"),
    (mileage_data("12.55"), "miles", "at most one decimal place"),
    (mileage_data("ten"), "miles", "Enter the miles as a number"),
    (mileage_data("5", to_place="cm1 1aa"), "to_place", "must end somewhere other than where it started"),
    (mileage_data("5", passengers=9), "passengers", "A car or van can carry at most 8 passengers"),
    (mileage_data("5", vehicle="bicycle", passengers=1), "passengers", "only for cars and vans"),
    (mileage_data("5", passengers="-1"), "passengers", "Enter the number of passengers as a whole number"),
    (mileage_data("5", vehicle="tractor"), "vehicle", "Choose the vehicle"),
    (mileage_data("5", from_place=""), "from_place", "Enter where the journey started"),
    (expense_data(activity="other:"), "purpose", "Say what the expense was for"),
    (expense_data(activity="training_day:999"), "activity", "Choose a training day or case meeting of yours"),
])
def test_bad_input_gets_a_clear_message_on_the_right_field(session, data, field, message):
    volunteer = make_volunteer(session)
    claim = start_claim(session, volunteer)
    with pytest.raises(LineInvalid) as problem:
        add_line(session, claim, data)
    assert any(message in text for text in problem.value.errors[field]), problem.value.errors
    assert claim.lines == []


def test_the_subsistence_cap_is_per_day_across_lines(session):
    volunteer = make_volunteer(session)
    claim = start_claim(session, volunteer)
    add_line(session, claim, expense_data("6.00", category="subsistence"))
    with pytest.raises(LineInvalid, match="this claim already has £6.00 for that day"):
        add_line(session, claim, expense_data("4.01", category="subsistence"))
    add_line(session, claim, expense_data("4.00", category="subsistence"))
    assert claim.total_pence == 1000


def test_policy_changes_move_the_limits(session):
    admin = make_user(session, roles=(Role.ADMIN,))
    volunteer = make_volunteer(session)
    services.update_policy(session, actor=admin, now=NOW, subsistence_cap_pence=1500, preapproval_categories=[],
                           receipt_required_above_pence=0)
    claim = start_claim(session, volunteer)
    add_line(session, claim, expense_data("15.00", category="subsistence"))
    add_line(session, claim, expense_data("1.00", category="other"))
    assert services.submission_problems(claim, services.get_policy(session), today=TODAY) == [
        "Expense 1 (subsistence, 23 November 2026): add a receipt (needed for expenses over £0.00)",
        "Expense 2 (other, 23 November 2026): add a receipt (needed for expenses over £0.00)",
    ]
    with pytest.raises(PermissionDenied):
        services.update_policy(session, actor=volunteer, now=NOW, subsistence_cap_pence=1)
    with pytest.raises(ValidationFailed):
        services.update_policy(session, actor=admin, now=NOW, old_claim_months=0)


# ---------------------------------------------------------------------------------------------
# Approval


def test_query_then_answer_then_approve_emails_the_claimant_each_time(session, receipts_dir):
    volunteer = make_volunteer(session)
    coordinator = make_coordinator(session)
    claim = make_submitted_claim(session, volunteer, receipts_dir)
    services.query_claim(session, claim.id, "Was the parking for the training day?", actor=coordinator, now=NOW)
    assert claim.status is ClaimStatus.QUERIED
    # While queried the claimant may change the claim; it stays queried until answered.
    add_line(session, claim, expense_data("3.00", category="phone_postage", description="Posted forms"))
    assert claim.status is ClaimStatus.QUERIED
    services.answer_query(session, claim.id, "Yes, the Chelmsford day", actor=volunteer, now=LATER)
    assert claim.status is ClaimStatus.SUBMITTED
    services.approve_claim(session, claim.id, actor=coordinator, now=LATER, expected_version=claim.version)
    assert claim.status is ClaimStatus.APPROVED
    assert claim.approved_pence == 900 + 1200 + 300 and claim.cost_code == "VOL-EXP"
    assert mail_subjects(session, volunteer.email) == [
        f"Your expense claim {claim.reference} has been submitted",
        f"Your expense claim {claim.reference} has a question from a coordinator",
        f"Your expense claim {claim.reference} has been submitted",
        f"Your expense claim {claim.reference} has been approved",
    ]
    assert [event.note for event in claim.events][-3:] == [
        "Was the parking for the training day?", "Yes, the Chelmsford day", None]


def test_nobody_decides_on_their_own_claim(session, receipts_dir):
    coordinator_volunteer = make_user(session, roles=(Role.COORDINATOR, Role.VOLUNTEER))
    claim = make_submitted_claim(session, coordinator_volunteer, receipts_dir)
    for attempt in (
        lambda: services.approve_claim(session, claim.id, actor=coordinator_volunteer, now=NOW),
        lambda: services.query_claim(session, claim.id, "?", actor=coordinator_volunteer, now=NOW),
        lambda: services.reject_claim(session, claim.id, "no", actor=coordinator_volunteer, now=NOW),
        lambda: services.decide_line(session, claim.lines[0].id, approve=True, actor=coordinator_volunteer, now=NOW),
    ):
        with pytest.raises(PermissionDenied, match="your own claim"):
            attempt()
    assert claim.status is ClaimStatus.SUBMITTED


def test_volunteers_cannot_approve(session, receipts_dir):
    claim = make_submitted_claim(session, make_volunteer(session), receipts_dir)
    with pytest.raises(PermissionDenied):
        services.approve_claim(session, claim.id, actor=make_volunteer(session), now=NOW)


def test_an_approval_is_tied_to_the_version_the_approver_saw(session, receipts_dir):
    coordinator = make_coordinator(session)
    claim = make_submitted_claim(session, make_volunteer(session), receipts_dir)
    seen = claim.version
    services.decide_line(session, claim.lines[0].id, approve=False, reason="Not an RJ journey", actor=coordinator,
                         now=NOW)
    with pytest.raises(RuleViolation, match="changed while you were looking at it"):
        services.approve_claim(session, claim.id, actor=make_coordinator(session), now=NOW, expected_version=seen)


def test_approval_per_line_pays_only_the_approved_lines(session, receipts_dir):
    coordinator = make_coordinator(session)
    claim = make_submitted_claim(session, make_volunteer(session), receipts_dir)
    mileage_line, parking_line = claim.lines
    with pytest.raises(ValidationFailed, match="Enter why this expense is not approved"):
        services.decide_line(session, mileage_line.id, approve=False, actor=coordinator, now=NOW)
    services.decide_line(session, mileage_line.id, approve=False, reason="Journey from home is not claimable",
                         actor=coordinator, now=NOW)
    services.approve_claim(session, claim.id, actor=coordinator, now=NOW)
    assert (mileage_line.decision, parking_line.decision) == (LineDecision.REJECTED, LineDecision.APPROVED)
    assert claim.approved_pence == 1200


def test_a_claim_with_every_line_rejected_cannot_be_approved(session, receipts_dir):
    coordinator = make_coordinator(session)
    claim = make_submitted_claim(session, make_volunteer(session), receipts_dir, miles=None)
    services.decide_line(session, claim.lines[0].id, approve=False, reason="No", actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="reject the claim instead"):
        services.approve_claim(session, claim.id, actor=coordinator, now=NOW)


def test_editing_an_approved_claim_sends_it_back_for_approval(session, receipts_dir):
    volunteer = make_volunteer(session)
    coordinator = make_coordinator(session)
    claim = make_submitted_claim(session, volunteer, receipts_dir)
    services.approve_claim(session, claim.id, actor=coordinator, now=NOW)
    line = claim.lines[1]
    services.save_line(session, claim.id, expense_data("24.00"), line_id=line.id, actor=volunteer, now=LATER)
    assert claim.status is ClaimStatus.SUBMITTED
    assert {item.decision for item in claim.lines} == {LineDecision.PENDING}
    assert claim.decided_by_id is None and claim.approved_pence == 0
    assert claim.events[-1].note == "Changed by the claimant after approval: it needs approving again"


def test_reject_needs_a_reason_and_is_final(session, receipts_dir):
    volunteer = make_volunteer(session)
    coordinator = make_coordinator(session)
    claim = make_submitted_claim(session, volunteer, receipts_dir)
    with pytest.raises(ValidationFailed, match="Enter why the claim is rejected"):
        services.reject_claim(session, claim.id, " ", actor=coordinator, now=NOW)
    services.reject_claim(session, claim.id, "These were paid by the venue", actor=coordinator, now=NOW)
    assert (claim.status, claim.rejection_reason) == (ClaimStatus.REJECTED, "These were paid by the venue")
    with pytest.raises(RuleViolation, match="cannot be changed"):
        services.save_line(session, claim.id, expense_data(), actor=volunteer, now=NOW)
    with pytest.raises(RuleViolation, match="cannot move from rejected to withdrawn"):
        services.withdraw_claim(session, claim.id, actor=volunteer, now=NOW)


@pytest.mark.parametrize("status_before", ["draft", "submitted", "queried"])
def test_a_claim_can_be_withdrawn_until_it_is_approved(session, receipts_dir, status_before):
    volunteer = make_volunteer(session)
    claim = start_claim(session, volunteer) if status_before == "draft" else \
        make_submitted_claim(session, volunteer, receipts_dir)
    if status_before == "queried":
        services.query_claim(session, claim.id, "Which day?", actor=make_coordinator(session), now=NOW)
    services.withdraw_claim(session, claim.id, actor=volunteer, now=NOW, reason="Claimed twice by mistake")
    assert claim.status is ClaimStatus.WITHDRAWN
    assert services.withdraw_claim(session, claim.id, actor=volunteer, now=NOW).status is ClaimStatus.WITHDRAWN


def test_forbidden_moves_name_both_states(session, receipts_dir):
    volunteer = make_volunteer(session)
    coordinator = make_coordinator(session)
    draft = start_claim(session, volunteer)
    add_line(session, draft, mileage_data("21"))
    with pytest.raises(RuleViolation, match="cannot move from draft to approved"):
        services.approve_claim(session, draft.id, actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="cannot move from draft to queried"):
        services.query_claim(session, draft.id, "?", actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="cannot move from draft to submitted"):
        services.answer_query(session, draft.id, "an answer", actor=volunteer, now=NOW)
    submitted = make_submitted_claim(session, volunteer, receipts_dir)
    with pytest.raises(RuleViolation, match="submitted and cannot be changed: withdraw it"):
        services.save_line(session, submitted.id, expense_data(), actor=volunteer, now=NOW)
    services.approve_claim(session, submitted.id, actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="cannot move from approved to withdrawn"):
        services.withdraw_claim(session, submitted.id, actor=volunteer, now=NOW)
    with pytest.raises(RuleViolation, match="cannot move from approved to rejected"):
        services.reject_claim(session, submitted.id, "late", actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="cannot move from approved to approved"):
        services.approve_claim(session, submitted.id, actor=make_coordinator(session), now=NOW)


# ---------------------------------------------------------------------------------------------
# Duplicates


def test_the_same_expense_on_two_claims_is_flagged_until_dismissed_with_a_reason(session, receipts_dir):
    volunteer = make_volunteer(session)
    coordinator = make_coordinator(session)
    first = make_submitted_claim(session, volunteer, receipts_dir, miles=None)
    second = make_submitted_claim(session, volunteer, receipts_dir, miles=None)
    line = second.lines[0]
    assert [other.id for other in queries.find_duplicates(session, line)] == [first.lines[0].id]
    with pytest.raises(RuleViolation, match="may be a duplicate"):
        services.approve_claim(session, second.id, actor=coordinator, now=NOW)
    with pytest.raises(ValidationFailed, match="Enter why this is not a duplicate"):
        services.dismiss_duplicate(session, line.id, "", actor=coordinator, now=NOW)
    services.dismiss_duplicate(session, line.id, "Two separate days at the venue, both receipts seen",
                               actor=coordinator, now=NOW)
    flags = queries.line_flags(session, second, services.get_policy(session), today=TODAY)
    assert flags[line.id].duplicates == []
    services.approve_claim(session, second.id, actor=coordinator, now=NOW)
    assert second.status is ClaimStatus.APPROVED


def test_the_same_receipt_file_on_anyones_claim_is_flagged(session, receipts_dir):
    first_volunteer, second_volunteer = make_volunteer(session), make_volunteer(session)
    first = start_claim(session, first_volunteer)
    a = add_line(session, first, expense_data("7.00"))
    second = start_claim(session, second_volunteer)
    b = add_line(session, second, expense_data("8.00", spent_on=TODAY - dt.timedelta(days=1)))
    for line, person in ((a, first_volunteer), (b, second_volunteer)):
        services.add_receipt(session, line.id, jpeg_bytes(42), filename="same.jpg", directory=receipts_dir,
                             actor=person, now=NOW)
    assert [other.id for other in queries.find_duplicates(session, b)] == [a.id]


def test_old_expenses_are_flagged_for_the_approver(session, receipts_dir):
    volunteer = make_volunteer(session)
    claim = start_claim(session, volunteer)
    old = add_line(session, claim, mileage_data(spent_on=dt.date(2026, 8, 22)))
    recent = add_line(session, claim, mileage_data(spent_on=dt.date(2026, 8, 23), to_place="Z"))
    flags = queries.line_flags(session, claim, services.get_policy(session), today=TODAY)
    assert flags[old.id].messages == ["Spent more than 3 months before the claim was made"]
    assert flags[recent.id].messages == []


# ---------------------------------------------------------------------------------------------
# Payment batches


def approved_claim(session, receipts_dir, volunteer=None, coordinator=None):
    claim = make_submitted_claim(session, volunteer or make_volunteer(session), receipts_dir)
    services.approve_claim(session, claim.id, actor=coordinator or make_coordinator(session), now=NOW)
    return claim


def test_a_batch_is_made_locked_and_paid_once(session, receipts_dir):
    coordinator = make_coordinator(session)
    claims = [approved_claim(session, receipts_dir, coordinator=coordinator) for _ in range(2)]
    batch = services.create_batch(session, actor=coordinator, now=NOW)
    assert [claim.status for claim in claims] == [ClaimStatus.IN_BATCH] * 2
    assert batch.total_pence == 2 * 2100 and batch.reference == "PAY-2026-00001"
    with pytest.raises(RuleViolation, match="no approved claims waiting"):
        services.create_batch(session, actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="Lock batch"):
        services.mark_batch_paid(session, batch.id, TODAY, actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="Lock batch"):
        services.record_export(session, batch.id, "csv", actor=coordinator, now=NOW)
    services.lock_batch(session, batch.id, actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation, match="can no longer be removed"):
        services.remove_from_batch(session, batch.id, claims[0].id, actor=coordinator, now=NOW)
    with pytest.raises(ValidationFailed, match="today or in the past"):
        services.mark_batch_paid(session, batch.id, TODAY + dt.timedelta(days=1), actor=coordinator, now=NOW)
    services.mark_batch_paid(session, batch.id, TODAY, actor=coordinator, now=NOW)
    assert batch.status is BatchStatus.PAID
    assert [(claim.status, claim.paid_on) for claim in claims] == [(ClaimStatus.PAID, TODAY)] * 2
    with pytest.raises(RuleViolation, match="already marked paid"):
        services.mark_batch_paid(session, batch.id, TODAY, actor=coordinator, now=NOW)
    subjects = mail_subjects(session, claims[0].claimant.email)
    assert subjects[-2:] == [f"Your expense claim {claims[0].reference} is in a payment run",
                             f"Your expense claim {claims[0].reference} has been paid"]


def test_a_claim_taken_out_of_an_open_batch_can_join_the_next_one_only(session, receipts_dir):
    coordinator = make_coordinator(session)
    claim = approved_claim(session, receipts_dir, coordinator=coordinator)
    first = services.create_batch(session, actor=coordinator, now=NOW)
    services.remove_from_batch(session, first.id, claim.id, actor=coordinator, now=NOW)
    assert (claim.status, claim.batch_id) == (ClaimStatus.APPROVED, None)
    second = services.create_batch(session, actor=coordinator, now=NOW, claim_ids=[claim.id])
    assert claim.batch_id == second.id
    with pytest.raises(RuleViolation, match="already in a batch"):
        services.create_batch(session, actor=coordinator, now=NOW, claim_ids=[claim.id])


def test_volunteers_cannot_run_payments(session, receipts_dir):
    approved_claim(session, receipts_dir)
    with pytest.raises(PermissionDenied):
        services.create_batch(session, actor=make_volunteer(session), now=NOW)


def test_every_change_is_audited(session, receipts_dir):
    volunteer = make_volunteer(session)
    coordinator = make_coordinator(session)
    claim = start_claim(session, volunteer)
    line = add_line(session, claim, expense_data("7.00"))
    services.save_line(session, claim.id, expense_data("7.50"), line_id=line.id, actor=volunteer, now=NOW)
    receipt = services.add_receipt(session, line.id, jpeg_bytes(), filename="a.jpg", directory=receipts_dir,
                                   actor=volunteer, now=NOW)
    services.remove_receipt(session, receipt.id, directory=receipts_dir, actor=volunteer, now=NOW)
    services.add_receipt(session, line.id, pdf_bytes(), filename="a.pdf", directory=receipts_dir, actor=volunteer,
                         now=NOW)
    extra = add_line(session, claim, mileage_data("3"))
    services.remove_line(session, claim.id, extra.id, actor=volunteer, now=NOW, directory=receipts_dir)
    services.declare_other_mileage(session, 2026, "12", actor=volunteer, now=NOW)
    services.submit_claim(session, claim.id, actor=volunteer, now=NOW)
    services.decide_line(session, line.id, approve=True, actor=coordinator, now=NOW)
    services.approve_claim(session, claim.id, actor=coordinator, now=NOW)
    batch = services.create_batch(session, actor=coordinator, now=NOW)
    services.lock_batch(session, batch.id, actor=coordinator, now=NOW)
    services.record_export(session, batch.id, "xlsx", actor=coordinator, now=NOW)
    services.mark_batch_paid(session, batch.id, TODAY, actor=coordinator, now=NOW)
    recorded = {entry.action for entry in session.scalars(select(AuditEntry))}
    assert {
        "expense_claim.started", "expense_line.added", "expense_line.saved", "expense_receipt.added",
        "expense_receipt.removed", "expense_line.removed", "expenses.other_mileage_declared",
        "expense_claim.submitted", "expense_line.approved", "expense_claim.approved", "expense_batch.created",
        "expense_claim.in_batch", "expense_batch.locked", "expense_batch.exported", "expense_batch.paid",
        "expense_claim.paid",
    } <= recorded
