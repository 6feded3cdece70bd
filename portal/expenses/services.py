"""Expense claim use cases: drafts and lines, mileage at HMRC rates, receipts, submission, queries,
approval (per line or whole claim), rejection, withdrawal, payment batches, rates and policy.

Every service takes the session first and `actor` and `now` (an aware datetime) as keywords; "today"
is `now`'s date in Europe/London. Services flush and never commit, audit every change in the same
transaction, queue an e-mail to the claimant on every status change, and raise NotFound,
PermissionDenied, RuleViolation or ValidationFailed (LineInvalid, ClaimIncomplete, UploadRejected).

Rules that make the known pitfalls impossible:
- each line stores the rate figures it was priced at; changing rates never touches an existing line;
- nobody decides on their own claim; an approval names the claim version the approver saw;
- changing an approved claim sends it back to submitted, clearing the line decisions;
- a claim joins one batch (one foreign key) and is paid once (paid is final, under a row lock).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.cases.models import Allocation, CaseSession
from portal.core import audit, files, numbering, outbox, settings
from portal.core.accounts import User
from portal.core.clock import LONDON
from portal.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed, transition_error
from portal.core.validation import FieldErrors, clean_text, too_long
from portal.expenses import mileage, permissions, queries
from portal.expenses.errors import ClaimIncomplete, LineInvalid
from portal.expenses.models import (
    COUNTED_STATUSES,
    PAYABLE_STATUSES,
    ActivityKind,
    BatchReferenceCounter,
    BatchStatus,
    Category,
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimReferenceCounter,
    ClaimStatus,
    LineDecision,
    MileageRate,
    OtherMileage,
    PaymentBatch,
    Receipt,
    Vehicle,
)
from portal.training.models import CohortDay, Enrolment, EnrolmentStatus

S = ClaimStatus

# Where a claim may go next. Paid, rejected and withdrawn are final.
CLAIM_TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.QUERIED, S.APPROVED, S.REJECTED, S.WITHDRAWN}),
    S.QUERIED: frozenset({S.SUBMITTED, S.REJECTED, S.WITHDRAWN}),
    # Back to submitted when the claimant changes it after approval.
    S.APPROVED: frozenset({S.IN_BATCH, S.SUBMITTED}),
    # Back to approved when taken out of a batch before it is locked.
    S.IN_BATCH: frozenset({S.PAID, S.APPROVED}),
    S.PAID: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# Policy settings (admin-editable) and their defaults.
POLICY_SETTING = "expenses.policy"
DESCRIPTION_MAX = 500
REASON_MAX = 2000
PLACE_MAX = 120
MAX_MILES_PER_LINE = Decimal("1000")
MAX_PASSENGERS = {Vehicle.CAR_VAN: 8, Vehicle.MOTORCYCLE: 0, Vehicle.BICYCLE: 0}
MAX_OTHER_MILES = Decimal("100000")
RECEIPT_MAX_BYTES = 8 * 1024 * 1024
RECEIPTS_PER_LINE = 10


@dataclass(frozen=True)
class Policy:
    """The service's expenses policy. Amounts in pence."""

    receipt_required_above_pence: int = 500
    subsistence_cap_pence: int = 1000
    old_claim_months: int = 3
    preapproval_categories: tuple[str, ...] = (Category.OTHER.value,)
    max_line_pence: int = 50_000
    default_cost_code: str = "VOL-EXP"

    def needs_receipt(self, line: ClaimLine) -> bool:
        return not line.is_mileage and line.amount_pence > self.receipt_required_above_pence

    def needs_preapproval(self, category: Category) -> bool:
        return category.value in self.preapproval_categories


def get_policy(session: Session) -> Policy:
    """The stored policy, with defaults for anything never set."""
    stored = settings.get_setting(session, POLICY_SETTING, {}) or {}
    policy = Policy()
    known = {name: stored[name] for name in Policy.__dataclass_fields__ if name in stored}
    if "preapproval_categories" in known:
        known["preapproval_categories"] = tuple(known["preapproval_categories"])
    return replace(policy, **known)


def update_policy(session: Session, *, actor: User, now: dt.datetime, **values: Any) -> Policy:
    """Change policy settings (admins only); raises ValidationFailed for impossible values."""
    if not permissions.can_manage_policy(actor):
        raise PermissionDenied("Only admins can change the expenses policy")
    current = get_policy(session)
    errors = FieldErrors(LineInvalid)
    for name in ("receipt_required_above_pence", "subsistence_cap_pence", "max_line_pence"):
        if name in values and (not isinstance(values[name], int) or values[name] < 0 or values[name] > 10_000_000):
            errors.add(name, "Enter an amount between £0 and £100,000")
    if "old_claim_months" in values and (
        not isinstance(values["old_claim_months"], int) or not 1 <= values["old_claim_months"] <= 72
    ):
        errors.add("old_claim_months", "Enter a number of months between 1 and 72")
    if "preapproval_categories" in values:
        unknown = set(values["preapproval_categories"]) - {category.value for category in Category}
        if unknown:
            errors.add("preapproval_categories", "Choose categories from the list")
        values["preapproval_categories"] = tuple(
            category.value for category in Category if category.value in values["preapproval_categories"]
        )
    if "default_cost_code" in values:
        values["default_cost_code"] = _clean(values["default_cost_code"])
        if not values["default_cost_code"] or len(values["default_cost_code"]) > 40:
            errors.add("default_cost_code", "Enter a cost code of 40 characters or fewer")
    errors.raise_if_any()
    policy = replace(current, **{k: v for k, v in values.items() if k in Policy.__dataclass_fields__})
    stored = {name: getattr(policy, name) for name in Policy.__dataclass_fields__}
    stored["preapproval_categories"] = list(policy.preapproval_categories)
    settings.set_setting(session, POLICY_SETTING, stored)
    audit.record(session, actor, "expenses.policy_changed", None, at=now, **stored)
    return policy


# ---------------------------------------------------------------------------------------------
# Small helpers


def _clean(value: Any) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(value if value is not None else ""))).strip()


def london_today(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()


def format_pence(pence: int) -> str:
    """£1,234.50"""
    sign = "-" if pence < 0 else ""
    pounds, pennies = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{pennies:02d}"


def format_miles(miles: Decimal | int | None) -> str:
    """12.5 → "12.5", 44.0 → "44", 10000 → "10,000"."""
    if miles is None:
        return ""
    value = Decimal(miles)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.1f}"


_MONEY = re.compile(r"^£?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")


def parse_pounds(raw: Any) -> int | None:
    """Pence from what a person types ("12.50", "£12.5", "1,200"), or None if it is not an amount."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw * 100
    if isinstance(raw, Decimal):
        raw = str(raw)
    text = _clean(raw).replace(" ", "")
    if text.startswith("£-") or text.startswith("-"):
        return None
    match = _MONEY.match(text)
    if not match:
        return None
    pounds = int(match.group(1).replace(",", ""))
    pennies = int((match.group(2) or "0").ljust(2, "0"))
    return pounds * 100 + pennies


def _parse_decimal(raw: Any) -> Decimal | None:
    text = _clean(raw).replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(_clean(value))
    except ValueError:
        return None


def _take_reference(session: Session, table, prefix: str, now: dt.datetime) -> str:
    year = london_today(now).year
    return f"{prefix}-{year}-{numbering.take_yearly_number(session, table, year):05d}"


def _load_claim(session: Session, claim_id: int, *, for_update: bool = False) -> Claim:
    query = select(Claim).where(Claim.id == claim_id)
    if for_update:
        query = query.with_for_update()
    claim = session.scalar(query)
    if claim is None:
        raise NotFound("Claim not found")
    if for_update:
        session.refresh(claim)
    return claim


def _own_claim(session: Session, claim_id: int, actor: User, *, for_update: bool = True) -> Claim:
    claim = _load_claim(session, claim_id, for_update=for_update)
    # Someone else's claim is "not found", so ids in URLs reveal nothing.
    if not permissions.is_claimant(actor, claim):
        raise NotFound("Claim not found")
    return claim


def _decidable_claim(session: Session, claim_id: int, actor: User) -> Claim:
    claim = _load_claim(session, claim_id, for_update=True)
    if not permissions.can_approve_claims(actor):
        raise PermissionDenied("Only coordinators can decide on expense claims")
    if permissions.is_claimant(actor, claim):
        raise PermissionDenied("You cannot decide on your own claim: another coordinator must do it")
    return claim


def _status_message(claim: Claim, target: ClaimStatus, note: str | None) -> tuple[str, str]:
    total = format_pence(claim.approved_pence if target in PAYABLE_STATUSES else claim.total_pence)
    messages = {
        S.SUBMITTED: ("has been submitted", f"We have received your claim for {total}. A coordinator will check it."),
        S.QUERIED: ("has a question from a coordinator",
                    "A coordinator has a question about your claim. Sign in to answer it; you can change the "
                    "claim while you do."),
        S.APPROVED: ("has been approved", f"Your claim has been approved: {total} will be paid in the next "
                                          "payment run."),
        S.IN_BATCH: ("is in a payment run", f"Your claim for {total} has been added to a payment run."),
        S.PAID: ("has been paid", f"Your claim for {total} was paid on {claim.paid_on:%-d %B %Y}."
                 if claim.paid_on else f"Your claim for {total} has been paid."),
        S.REJECTED: ("has been rejected", "A coordinator has rejected your claim."),
        S.WITHDRAWN: ("has been withdrawn", "Your claim has been withdrawn. Nothing will be paid for it."),
    }
    headline, body = messages[target]
    return headline, body


def _move(
    session: Session, claim: Claim, target: ClaimStatus, *, actor: User | None, now: dt.datetime,
    note: str | None = None, notify: bool = True, **details: Any,
) -> ClaimEvent:
    current = claim.status
    if target not in CLAIM_TRANSITIONS[current]:
        raise transition_error("expense claim", current.label, target.label)
    claim.status = target
    claim.updated_at = now
    claim.version += 1
    event = ClaimEvent(claim=claim, at=now, actor_id=actor.id if actor else None, from_status=current,
                       to_status=target, note=note)
    session.add(event)
    session.flush()
    audit.record(session, actor, f"expense_claim.{target.value}", claim, at=now, reference=claim.reference,
                 from_status=current, to_status=target, note=note, **details)
    if notify:
        headline, body = _status_message(claim, target, note)
        outbox.queue(
            session, to=claim.claimant.email, subject=f"Your expense claim {claim.reference} {headline}",
            template="expenses/status_changed",
            context={"name": claim.claimant.name, "reference": claim.reference, "status": target.label,
                     "body": body, "note": note},
            dedupe_key=f"expenses.claim_event:{event.id}", now=now,
        )
    return event


def _touch(claim: Claim, now: dt.datetime) -> None:
    claim.updated_at = now
    claim.version += 1


def _editable(session: Session, claim: Claim, actor: User, now: dt.datetime) -> None:
    """Let the claimant change the claim, sending an approved claim back for approval."""
    if claim.status in (S.DRAFT, S.QUERIED):
        return
    if claim.status is S.APPROVED:
        for line in claim.lines:
            line.decision = LineDecision.PENDING
            line.decision_reason = None
        claim.decided_at = None
        claim.decided_by_id = None
        _move(session, claim, S.SUBMITTED, actor=actor, now=now,
              note="Changed by the claimant after approval: it needs approving again")
        return
    raise RuleViolation(
        f"Claim {claim.reference} is {claim.status.label} and cannot be changed"
        + (": withdraw it, or wait for a coordinator's question" if claim.status is S.SUBMITTED else "")
    )


# ---------------------------------------------------------------------------------------------
# Rates and other organisations' miles


def add_mileage_rate(
    session: Session, *, vehicle: str, pence_per_mile: int, effective_from: dt.date,
    threshold_miles: int | None = None, pence_per_mile_after: int | None = None, actor: User, now: dt.datetime,
) -> MileageRate:
    """Add a rate from `effective_from`; the rate in force before it ends the day before. Admins only.

    Existing lines keep the figures they were priced at. Raises ValidationFailed for impossible figures
    and RuleViolation for a date on or before the latest rate's start.
    """
    if not permissions.can_manage_policy(actor):
        raise PermissionDenied("Only admins can change mileage rates")
    errors = FieldErrors(LineInvalid)
    if vehicle not in mileage.RATE_KINDS:
        errors.add("vehicle", "Choose a vehicle, or passengers")
    if not isinstance(pence_per_mile, int) or not 1 <= pence_per_mile <= 200:
        errors.add("pence_per_mile", "Enter pence a mile between 1 and 200")
    if vehicle == Vehicle.CAR_VAN.value:
        if not isinstance(threshold_miles, int) or not 1 <= threshold_miles <= 100_000:
            errors.add("threshold_miles", "Enter the threshold in miles, between 1 and 100,000")
        if not isinstance(pence_per_mile_after, int) or not 1 <= pence_per_mile_after <= 200:
            errors.add("pence_per_mile_after", "Enter pence a mile after the threshold, between 1 and 200")
    else:
        threshold_miles = pence_per_mile_after = None
    errors.raise_if_any()
    latest = session.scalar(
        select(MileageRate).where(MileageRate.vehicle == vehicle).order_by(MileageRate.effective_from.desc())
        .limit(1).with_for_update()
    )
    if latest is not None and effective_from <= latest.effective_from:
        raise ValidationFailed(
            f"A rate already starts on {latest.effective_from:%-d %B %Y}: a new rate must start after it",
            field="effective_from",
        )
    if latest is not None and (latest.effective_to is None or latest.effective_to >= effective_from):
        latest.effective_to = effective_from - dt.timedelta(days=1)
    rate = MileageRate(
        vehicle=vehicle, pence_per_mile=pence_per_mile, threshold_miles=threshold_miles,
        pence_per_mile_after=pence_per_mile_after, effective_from=effective_from, created_by_id=actor.id,
        created_at=now,
    )
    session.add(rate)
    session.flush()
    audit.record(session, actor, "expenses.mileage_rate_added", rate, at=now, vehicle=vehicle,
                 pence_per_mile=pence_per_mile, threshold_miles=threshold_miles,
                 pence_per_mile_after=pence_per_mile_after, effective_from=effective_from)
    return rate


def declared_other_miles(session: Session, user_id: int, tax_year: int) -> Decimal:
    row = session.scalar(select(OtherMileage).where(OtherMileage.user_id == user_id,
                                                    OtherMileage.tax_year == tax_year))
    return row.miles if row else Decimal("0")


def declare_other_mileage(
    session: Session, tax_year: int, miles: Any, *, actor: User, now: dt.datetime,
) -> OtherMileage:
    """Record the miles the actor has been paid for by other organisations in `tax_year` (they count
    towards the 10,000-mile threshold for lines priced from now on)."""
    if not permissions.can_claim(actor):
        raise PermissionDenied("Only volunteers can claim expenses")
    value = _parse_decimal(miles)
    this_year = mileage.tax_year_of(london_today(now))
    if tax_year not in (this_year, this_year - 1):
        raise ValidationFailed("Choose this tax year or last tax year", field="tax_year")
    if value is None:
        raise ValidationFailed("Enter the miles as a number, like 1200 or 350.5", field="miles")
    if value < 0:
        raise ValidationFailed("Miles cannot be negative", field="miles")
    if value > MAX_OTHER_MILES or value != value.quantize(mileage.TENTH):
        raise ValidationFailed("Enter miles up to 100,000, to at most one decimal place", field="miles")
    row = session.scalar(select(OtherMileage).where(OtherMileage.user_id == actor.id,
                                                    OtherMileage.tax_year == tax_year))
    if row is None:
        row = OtherMileage(user_id=actor.id, tax_year=tax_year, miles=value, updated_at=now)
        session.add(row)
    else:
        row.miles = value
        row.updated_at = now
    session.flush()
    audit.record(session, actor, "expenses.other_mileage_declared", row, at=now, tax_year=tax_year, miles=value)
    return row


def miles_counted(session: Session, user_id: int, tax_year: int, *, exclude_line_id: int | None = None) -> Decimal:
    """Car and van miles that count towards the threshold in `tax_year`: other organisations' declared
    miles plus every car or van line the person has claimed (not rejected or withdrawn)."""
    query = (
        select(func.coalesce(func.sum(ClaimLine.miles), 0))
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(
            Claim.claimant_id == user_id,
            Claim.status.in_(COUNTED_STATUSES),
            ClaimLine.category == Category.MILEAGE,
            ClaimLine.vehicle == Vehicle.CAR_VAN,
            ClaimLine.tax_year == tax_year,
            ClaimLine.decision != LineDecision.REJECTED,
        )
    )
    if exclude_line_id is not None:
        query = query.where(ClaimLine.id != exclude_line_id)
    claimed = Decimal(session.scalar(query) or 0)
    return claimed + declared_other_miles(session, user_id, tax_year)


# ---------------------------------------------------------------------------------------------
# Activities a line can be for


@dataclass(frozen=True)
class Activity:
    kind: ActivityKind
    activity_id: int
    day: dt.date
    label: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.activity_id}"


def list_activities(session: Session, user: User, *, today: dt.date, days_back: int = 400) -> list[Activity]:
    """Training days of the person's cohorts and meetings on cases allocated to them, up to today,
    newest first: what a line may be linked to."""
    since = today - dt.timedelta(days=days_back)
    found: list[Activity] = []
    rows = session.execute(
        select(CohortDay, Enrolment)
        .join(Enrolment, Enrolment.cohort_id == CohortDay.cohort_id)
        .where(Enrolment.user_id == user.id,
               Enrolment.status.in_((EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)))
    ).all()
    for day, _enrolment in rows:
        held = day.starts_at.astimezone(LONDON).date()
        if since <= held <= today:
            found.append(Activity(ActivityKind.TRAINING_DAY, day.id, held,
                                  f"Training: {day.cohort.course.title}, day {day.day_number}"))
    meetings = session.execute(
        select(CaseSession, Allocation)
        .join(Allocation, Allocation.case_id == CaseSession.case_id)
        .where(Allocation.user_id == user.id, CaseSession.held_on >= since, CaseSession.held_on <= today)
    ).all()
    seen: set[int] = set()
    for meeting, allocation in meetings:
        if meeting.id in seen or not allocation.is_current_on(meeting.held_on):
            continue
        seen.add(meeting.id)
        reference = allocation.case.reference
        found.append(Activity(ActivityKind.CASE_MEETING, meeting.id, meeting.held_on,
                              f"Case {reference}: {meeting.session_type.label}"))
    found.sort(key=lambda activity: (activity.day, activity.key), reverse=True)
    return found


def _activity_for(
    session: Session, user: User, kind: ActivityKind, activity_id: int, today: dt.date,
) -> Activity | None:
    for activity in list_activities(session, user, today=today, days_back=3660):
        if activity.kind is kind and activity.activity_id == activity_id:
            return activity
    return None


# ---------------------------------------------------------------------------------------------
# Claims and lines


def start_claim(session: Session, *, actor: User, now: dt.datetime) -> Claim:
    """A new draft claim for the actor."""
    if not permissions.can_claim(actor):
        raise PermissionDenied("Only volunteers can claim expenses")
    claim = Claim(reference=_take_reference(session, ClaimReferenceCounter.__table__, "EXP", now),
                  claimant_id=actor.id, status=S.DRAFT, created_at=now, updated_at=now)
    session.add(claim)
    session.flush()
    session.add(ClaimEvent(claim=claim, at=now, actor_id=actor.id, from_status=None, to_status=S.DRAFT))
    session.flush()
    audit.record(session, actor, "expense_claim.started", claim, at=now, reference=claim.reference)
    return claim


@dataclass
class _LineValues:
    spent_on: dt.date
    category: Category
    description: str
    amount_pence: int | None
    activity: Activity | None
    activity_kind: ActivityKind | None
    activity_label: str | None
    pre_approval: str | None
    from_place: str | None = None
    to_place: str | None = None
    miles: Decimal | None = None
    vehicle: Vehicle | None = None
    passengers: int = 0


def _validate_line(
    session: Session, claim: Claim, data: Mapping[str, Any], *, actor: User, now: dt.datetime,
    policy: Policy, line_id: int | None,
) -> _LineValues:
    errors = FieldErrors(LineInvalid)
    today = london_today(now)
    raw_date = data.get("spent_on")
    spent_on = _parse_date(raw_date)
    if raw_date in (None, ""):
        errors.add("spent_on", "Enter the date of the expense")
    elif spent_on is None:
        errors.add("spent_on", "The date of the expense must be a real date")
    elif spent_on > today:
        errors.add("spent_on", "The date of the expense must be today or in the past")
    elif spent_on < today - dt.timedelta(days=6 * 365):
        errors.add("spent_on", "The date of the expense must be within the last 6 years")
    try:
        category = Category(_clean(data.get("category")))
    except ValueError:
        category = None
        errors.add("category", "Choose the kind of expense")
    description = _clean(data.get("description"))
    if not description:
        errors.add("description", "Describe what the expense was for")
    elif len(description) > DESCRIPTION_MAX:
        errors.add("description", too_long("The description", DESCRIPTION_MAX))

    # What it was for
    activity = None
    activity_kind = None
    activity_label = None
    raw_activity = _clean(data.get("activity"))
    purpose = _clean(data.get("purpose"))
    if raw_activity:
        kind_text, _, id_text = raw_activity.partition(":")
        try:
            activity_kind = ActivityKind(kind_text)
        except ValueError:
            errors.add("activity", "Choose what the expense was for from the list")
        if activity_kind in (ActivityKind.TRAINING_DAY, ActivityKind.CASE_MEETING):
            activity = _activity_for(session, claim.claimant, activity_kind, int(id_text), today) \
                if id_text.isdigit() else None
            if activity is None:
                errors.add("activity", "Choose a training day or case meeting of yours from the list")
                activity_kind = None
            else:
                activity_label = activity.label
                if spent_on and spent_on != activity.day:
                    errors.add("spent_on", f"The date must be the day of the activity ({activity.day:%-d %B %Y})")
        elif activity_kind in (ActivityKind.SUPERVISION, ActivityKind.OTHER):
            if not purpose:
                errors.add("purpose", "Say what the expense was for, without naming participants")
            elif len(purpose) > 200:
                errors.add("purpose", "What it was for must be 200 characters or fewer")
            activity_label = purpose
    pre_approval = _clean(data.get("pre_approval")) or None
    if category and policy.needs_preapproval(category):
        if not pre_approval:
            errors.add("pre_approval", f"{category.label.capitalize()} expenses need approval before you spend: "
                                       "say who approved it and when")
        elif len(pre_approval) > 300:
            errors.add("pre_approval", "The pre-approval details must be 300 characters or fewer")
    else:
        pre_approval = None

    values = _LineValues(spent_on=spent_on, category=category, description=description, amount_pence=None,
                         activity=activity, activity_kind=activity_kind, activity_label=activity_label,
                         pre_approval=pre_approval)
    if category is Category.MILEAGE:
        from_place = _clean(data.get("from_place"))
        to_place = _clean(data.get("to_place"))
        if not from_place:
            errors.add("from_place", "Enter where the journey started (a postcode or place)")
        elif len(from_place) > PLACE_MAX:
            errors.add("from_place", too_long("Where the journey started", PLACE_MAX))
        if not to_place:
            errors.add("to_place", "Enter where the journey ended (a postcode or place)")
        elif len(to_place) > PLACE_MAX:
            errors.add("to_place", too_long("Where the journey ended", PLACE_MAX))
        elif from_place and re.sub(r"\W", "", from_place).casefold() == re.sub(r"\W", "", to_place).casefold():
            errors.add("to_place", "The journey must end somewhere other than where it started: "
                                   "for a return trip, enter the miles there and back")
        miles = _parse_decimal(data.get("miles"))
        if _clean(data.get("miles")) == "":
            errors.add("miles", "Enter the miles driven")
        elif miles is None:
            errors.add("miles", "Enter the miles as a number, like 12 or 12.5")
        elif miles <= 0:
            errors.add("miles", "The miles must be more than 0")
        elif miles > MAX_MILES_PER_LINE:
            errors.add("miles", f"The miles must be {MAX_MILES_PER_LINE:,} or fewer for one journey")
        elif miles != miles.quantize(mileage.TENTH):
            errors.add("miles", "Enter the miles to at most one decimal place, like 12.5")
        try:
            vehicle = Vehicle(_clean(data.get("vehicle")))
        except ValueError:
            vehicle = None
            errors.add("vehicle", "Choose the vehicle: car or van, motorcycle or bicycle")
        raw_passengers = _clean(data.get("passengers")) or "0"
        passengers = int(raw_passengers) if raw_passengers.isdigit() else None
        if passengers is None:
            errors.add("passengers", "Enter the number of passengers as a whole number, like 0 or 2")
        elif vehicle is not None and passengers > MAX_PASSENGERS[vehicle]:
            if vehicle is Vehicle.CAR_VAN:
                errors.add("passengers", f"A car or van can carry at most {MAX_PASSENGERS[vehicle]} passengers")
            else:
                errors.add("passengers", "Passenger payments are only for cars and vans: enter 0")
        values.from_place, values.to_place = from_place, to_place
        values.miles, values.vehicle, values.passengers = miles, vehicle, passengers or 0
    elif category is not None:
        raw_amount = data.get("amount")
        amount = parse_pounds(raw_amount)
        if _clean(raw_amount) == "":
            errors.add("amount", "Enter the amount you spent")
        elif amount is None:
            if _clean(raw_amount).lstrip("£ ").startswith("-"):
                errors.add("amount", "The amount must be more than £0")
            else:
                errors.add("amount", "Enter the amount in pounds and pence, like 12.50")
        elif amount <= 0:
            errors.add("amount", "The amount must be more than £0")
        elif amount > policy.max_line_pence:
            errors.add("amount", f"The amount must be {format_pence(policy.max_line_pence)} or less for one "
                                 "expense: ask your coordinator about larger costs")
        elif category is Category.SUBSISTENCE and spent_on:
            same_day = sum(
                line.amount_pence for line in claim.lines
                if line.category is Category.SUBSISTENCE and line.spent_on == spent_on and line.id != line_id
            )
            if amount + same_day > policy.subsistence_cap_pence:
                errors.add("amount", f"Subsistence is capped at {format_pence(policy.subsistence_cap_pence)} a day"
                           + (f" (this claim already has {format_pence(same_day)} for that day)" if same_day else ""))
        values.amount_pence = amount
    errors.raise_if_any()
    return values


def _apply(session: Session, claim: Claim, line: ClaimLine, values: _LineValues, now: dt.datetime) -> None:
    line.spent_on = values.spent_on
    line.category = values.category
    line.description = values.description
    line.activity_kind = values.activity_kind
    line.activity_id = values.activity.activity_id if values.activity else None
    line.activity_label = values.activity_label
    line.pre_approval = values.pre_approval
    line.decision = LineDecision.PENDING
    line.decision_reason = None
    line.updated_at = now
    if values.category is Category.MILEAGE:
        tax_year = mileage.tax_year_of(values.spent_on)
        rate = mileage.rate_on(session, values.vehicle.value, values.spent_on)
        passenger_rate = mileage.rate_on(session, mileage.PASSENGER, values.spent_on)
        before = miles_counted(session, claim.claimant_id, tax_year, exclude_line_id=line.id) \
            if values.vehicle is Vehicle.CAR_VAN else Decimal("0")
        price = mileage.price_journey(values.miles, rate=rate, passengers=values.passengers,
                                      passenger_rate=passenger_rate, miles_before=before)
        line.from_place, line.to_place = values.from_place, values.to_place
        line.miles, line.vehicle, line.passengers = values.miles, values.vehicle, values.passengers
        line.tax_year = tax_year
        line.miles_at_rate, line.pence_per_mile = price.miles_at_rate, price.pence_per_mile
        line.miles_at_rate_after, line.pence_per_mile_after = price.miles_at_rate_after, price.pence_per_mile_after
        line.passenger_pence_per_mile = price.passenger_pence_per_mile
        line.mileage_rate_id = rate.rate_id
        line.amount_pence = price.amount_pence
    else:
        line.from_place = line.to_place = None
        line.miles = line.vehicle = line.tax_year = None
        line.passengers = 0
        line.miles_at_rate = line.pence_per_mile = line.miles_at_rate_after = None
        line.pence_per_mile_after = line.passenger_pence_per_mile = line.mileage_rate_id = None
        line.amount_pence = values.amount_pence


def save_line(
    session: Session, claim_id: int, data: Mapping[str, Any], *, line_id: int | None = None, actor: User,
    now: dt.datetime,
) -> ClaimLine:
    """Add a line to the actor's claim (or change line `line_id`), priced now.

    Mileage is priced at the rates in force on the day of the journey, with the car and van miles the
    person has already claimed in that tax year (plus other organisations' miles) counted towards the
    threshold. Raises LineInvalid with every problem, RuleViolation when the claim cannot be changed,
    NotFound for anyone but the claimant.
    """
    claim = _own_claim(session, claim_id, actor)
    line = None
    if line_id is not None:
        line = next((item for item in claim.lines if item.id == line_id), None)
        if line is None:
            raise NotFound("Line not found")
    if not claim.is_editable_by_claimant:
        _editable(session, claim, actor, now)  # raises
    values = _validate_line(session, claim, data, actor=actor, now=now, policy=get_policy(session), line_id=line_id)
    _editable(session, claim, actor, now)
    with session.no_autoflush:  # a new line is priced before it is written
        if line is None:
            line = ClaimLine(claim=claim, created_at=now)
        _apply(session, claim, line, values, now)
    session.add(line)
    _touch(claim, now)
    session.flush()
    audit.record(session, actor, "expense_line.saved" if line_id else "expense_line.added", line, at=now,
                 claim=claim.reference, category=line.category, amount_pence=line.amount_pence,
                 miles=line.miles, spent_on=line.spent_on)
    return line


def remove_line(session: Session, claim_id: int, line_id: int, *, actor: User, now: dt.datetime,
                directory: str | Path | None = None) -> None:
    """Remove a line (and its receipts) from the actor's claim."""
    claim = _own_claim(session, claim_id, actor)
    line = next((item for item in claim.lines if item.id == line_id), None)
    if line is None:
        raise NotFound("Line not found")
    _editable(session, claim, actor, now)
    stored = [receipt.stored_name for receipt in line.receipts]
    claim.lines.remove(line)
    _touch(claim, now)
    session.flush()
    audit.record(session, actor, "expense_line.removed", ("expense_lines", line_id), at=now,
                 claim=claim.reference, stored_receipts=stored)
    if directory is not None:
        for name in stored:
            files.delete(directory, name)


def add_receipt(
    session: Session, line_id: int, data: bytes, *, filename: str | None, directory: str | Path, actor: User,
    now: dt.datetime, max_bytes: int = RECEIPT_MAX_BYTES,
) -> Receipt:
    """Check a receipt by content (JPEG, PNG or PDF, see `portal.core.files`) and keep it in the private
    `directory`: photos are stored re-encoded (no EXIF location, nothing hidden after the image), PDFs as sent.

    Raises UploadRejected with a message for the claimant, RuleViolation when the claim cannot be changed.
    """
    line = session.get(ClaimLine, line_id)
    if line is None:
        raise NotFound("Line not found")
    claim = _own_claim(session, line.claim_id, actor)
    checked = files.check_upload(data, filename=filename, allowed=files.RECEIPT_KINDS, max_bytes=max_bytes)
    if len(line.receipts) >= RECEIPTS_PER_LINE:
        raise files.UploadRejected(f"A line can have at most {RECEIPTS_PER_LINE} receipts")
    _editable(session, claim, actor, now)
    stored_name = files.save(directory, checked.data)
    receipt = Receipt(line=line, stored_name=stored_name, display_name=checked.display_name, kind=checked.kind,
                      content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
                      is_reencoded=checked.reencoded, uploaded_by_id=actor.id, uploaded_at=now)
    session.add(receipt)
    line.updated_at = now
    _touch(claim, now)
    session.flush()
    audit.record(session, actor, "expense_receipt.added", receipt, at=now, claim=claim.reference,
                 line_id=line.id, kind=checked.kind, size=checked.size, sha256=checked.sha256)
    return receipt


def remove_receipt(session: Session, receipt_id: int, *, directory: str | Path, actor: User,
                   now: dt.datetime) -> None:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound("Receipt not found")
    claim = _own_claim(session, receipt.line.claim_id, actor)
    _editable(session, claim, actor, now)
    stored_name = receipt.stored_name
    receipt.line.receipts.remove(receipt)
    _touch(claim, now)
    session.flush()
    audit.record(session, actor, "expense_receipt.removed", ("expense_receipts", receipt_id), at=now,
                 claim=claim.reference)
    files.delete(directory, stored_name)


def submission_problems(claim: Claim, policy: Policy, *, today: dt.date) -> list[str]:
    """Why the claim cannot be submitted yet (empty when it can)."""
    if not claim.lines:
        return ["Add at least one expense before you submit the claim"]
    problems = []
    for number, line in enumerate(claim.lines, start=1):
        what = f"Expense {number} ({line.category.label}, {line.spent_on:%-d %B %Y})"
        if policy.needs_receipt(line) and not line.receipts:
            problems.append(f"{what}: add a receipt (needed for expenses over "
                            f"{format_pence(policy.receipt_required_above_pence)})")
        if line.spent_on > today:
            problems.append(f"{what}: the date must be today or in the past")
        if policy.needs_preapproval(line.category) and not line.pre_approval:
            problems.append(f"{what}: say who approved it before you spent it")
    return problems


def submit_claim(session: Session, claim_id: int, *, actor: User, now: dt.datetime) -> Claim:
    """Submit a draft for approval (a second submit returns it unchanged). Raises ClaimIncomplete naming
    each line that needs something (a receipt, pre-approval), RuleViolation for a claim that is closed."""
    claim = _own_claim(session, claim_id, actor)
    if claim.status is S.SUBMITTED:
        return claim
    if claim.status is not S.DRAFT:
        raise transition_error("expense claim", claim.status.label, S.SUBMITTED.label)
    problems = submission_problems(claim, get_policy(session), today=london_today(now))
    if problems:
        raise ClaimIncomplete(reasons=problems)
    claim.submitted_at = now
    _move(session, claim, S.SUBMITTED, actor=actor, now=now)
    return claim


def answer_query(session: Session, claim_id: int, answer: str, *, actor: User, now: dt.datetime) -> Claim:
    """The claimant answers a coordinator's question; the claim goes back to submitted."""
    claim = _own_claim(session, claim_id, actor)
    if claim.status is not S.QUERIED:
        raise transition_error("expense claim", claim.status.label, S.SUBMITTED.label,
                               "only a claim with a question can be answered")
    text = clean_text(answer)
    if not text:
        raise ValidationFailed("Enter your answer", field="answer")
    if len(text) > REASON_MAX:
        raise ValidationFailed(too_long("The answer", REASON_MAX), field="answer")
    problems = submission_problems(claim, get_policy(session), today=london_today(now))
    if problems:
        raise ClaimIncomplete(reasons=problems)
    _move(session, claim, S.SUBMITTED, actor=actor, now=now, note=text)
    claim.submitted_at = now
    return claim


def withdraw_claim(session: Session, claim_id: int, *, actor: User, now: dt.datetime,
                   reason: str | None = None) -> Claim:
    """The claimant withdraws a claim that has not been approved (withdrawing again changes nothing)."""
    claim = _own_claim(session, claim_id, actor)
    if claim.status is S.WITHDRAWN:
        return claim
    text = clean_text(reason) or None
    if text and len(text) > REASON_MAX:
        raise ValidationFailed(too_long("The reason", REASON_MAX), field="reason")
    _move(session, claim, S.WITHDRAWN, actor=actor, now=now, note=text)
    return claim


# ---------------------------------------------------------------------------------------------
# Approvers


def query_claim(session: Session, claim_id: int, question: str, *, actor: User, now: dt.datetime) -> Claim:
    """Ask the claimant a question; they can change the claim and answer it."""
    claim = _decidable_claim(session, claim_id, actor)
    text = clean_text(question)
    if not text:
        raise ValidationFailed("Enter your question for the claimant", field="question")
    if len(text) > REASON_MAX:
        raise ValidationFailed(too_long("The question", REASON_MAX), field="question")
    _move(session, claim, S.QUERIED, actor=actor, now=now, note=text)
    claim.query_text = text
    return claim


def decide_line(
    session: Session, line_id: int, *, approve: bool, reason: str | None = None, actor: User, now: dt.datetime,
) -> ClaimLine:
    """Approve or reject one line of a submitted claim (a reason is needed to reject)."""
    line = session.get(ClaimLine, line_id)
    if line is None:
        raise NotFound("Line not found")
    claim = _decidable_claim(session, line.claim_id, actor)
    if claim.status is not S.SUBMITTED:
        raise RuleViolation(f"Claim {claim.reference} is {claim.status.label}: only a submitted claim can be decided")
    text = clean_text(reason) or None
    if approve:
        _require_duplicates_checked(session, line)
    elif not text:
        raise ValidationFailed("Enter why this expense is not approved", field="reason")
    if text and len(text) > 500:
        raise ValidationFailed("The reason must be 500 characters or fewer", field="reason")
    line.decision = LineDecision.APPROVED if approve else LineDecision.REJECTED
    line.decision_reason = None if approve else text
    _touch(claim, now)
    session.flush()
    audit.record(session, actor, f"expense_line.{line.decision.value}", line, at=now, claim=claim.reference,
                 reason=line.decision_reason, amount_pence=line.amount_pence)
    return line


def _require_duplicates_checked(session: Session, line: ClaimLine) -> None:
    from_queries = queries.find_duplicates(session, line)
    if from_queries and not line.duplicate_dismissed_at:
        raise RuleViolation(
            f"The {line.category.label} expense on {line.spent_on:%-d %B %Y} may be a duplicate of "
            + ", ".join(f"a line on claim {other.claim.reference}" for other in from_queries)
            + ": check it, and dismiss the warning with a reason if it is not a duplicate"
        )


def dismiss_duplicate(session: Session, line_id: int, reason: str, *, actor: User, now: dt.datetime) -> ClaimLine:
    """Record that a line flagged as a possible duplicate was checked and is not one."""
    line = session.get(ClaimLine, line_id)
    if line is None:
        raise NotFound("Line not found")
    claim = _decidable_claim(session, line.claim_id, actor)
    text = clean_text(reason)
    if not text:
        raise ValidationFailed("Enter why this is not a duplicate", field="reason")
    if len(text) > 500:
        raise ValidationFailed("The reason must be 500 characters or fewer", field="reason")
    line.duplicate_dismissed_reason = text
    line.duplicate_dismissed_at = now
    line.duplicate_dismissed_by_id = actor.id
    session.flush()
    audit.record(session, actor, "expense_line.duplicate_dismissed", line, at=now, claim=claim.reference,
                 reason=text, others=[other.id for other in queries.find_duplicates(session, line)])
    return line


def approve_claim(
    session: Session, claim_id: int, *, actor: User, now: dt.datetime, expected_version: int | None = None,
    cost_code: str | None = None,
) -> Claim:
    """Approve a submitted claim: lines not yet decided are approved with it. Another coordinator than the
    claimant only; with `expected_version`, only the version the approver looked at (a claim changed
    or decided meanwhile raises RuleViolation). A claim whose lines are all rejected cannot be approved."""
    claim = _decidable_claim(session, claim_id, actor)
    if claim.status is not S.SUBMITTED:
        raise transition_error("expense claim", claim.status.label, S.APPROVED.label)
    if expected_version is not None and claim.version != expected_version:
        raise RuleViolation(f"Claim {claim.reference} changed while you were looking at it: check it again")
    for line in claim.lines:
        if line.decision is LineDecision.PENDING:
            _require_duplicates_checked(session, line)
    for line in claim.lines:
        if line.decision is LineDecision.PENDING:
            line.decision = LineDecision.APPROVED
    if not any(line.decision is LineDecision.APPROVED for line in claim.lines):
        raise RuleViolation("Every expense on this claim is rejected: reject the claim instead")
    code = _clean(cost_code) or get_policy(session).default_cost_code
    if len(code) > 40:
        raise ValidationFailed("The cost code must be 40 characters or fewer", field="cost_code")
    claim.cost_code = code
    claim.decided_at = now
    claim.decided_by_id = actor.id
    _move(session, claim, S.APPROVED, actor=actor, now=now, approved_pence=claim.approved_pence,
          cost_code=code)
    return claim


def reject_claim(session: Session, claim_id: int, reason: str, *, actor: User, now: dt.datetime) -> Claim:
    """Reject a submitted or queried claim with a reason the claimant is told."""
    claim = _decidable_claim(session, claim_id, actor)
    text = clean_text(reason)
    if claim.status not in (S.SUBMITTED, S.QUERIED):
        raise transition_error("expense claim", claim.status.label, S.REJECTED.label)
    if not text:
        raise ValidationFailed("Enter why the claim is rejected", field="reason")
    if len(text) > REASON_MAX:
        raise ValidationFailed(too_long("The reason", REASON_MAX), field="reason")
    claim.rejection_reason = text
    claim.decided_at = now
    claim.decided_by_id = actor.id
    _move(session, claim, S.REJECTED, actor=actor, now=now, note=text)
    return claim


# ---------------------------------------------------------------------------------------------
# Payment batches


def _require_payments(actor: User) -> None:
    if not permissions.can_run_payments(actor):
        raise PermissionDenied("Only coordinators and admins can run payment batches")


def _load_batch(session: Session, batch_id: int) -> PaymentBatch:
    batch = session.scalar(select(PaymentBatch).where(PaymentBatch.id == batch_id).with_for_update())
    if batch is None:
        raise NotFound("Payment batch not found")
    session.refresh(batch)
    return batch


def create_batch(session: Session, *, actor: User, now: dt.datetime, claim_ids: list[int] | None = None
                 ) -> PaymentBatch:
    """Gather approved claims not yet in a batch (all of them, or `claim_ids`) into a new open batch."""
    _require_payments(actor)
    query = select(Claim).where(Claim.status == S.APPROVED, Claim.batch_id.is_(None)).order_by(Claim.id)
    if claim_ids is not None:
        query = query.where(Claim.id.in_(claim_ids))
    claims = list(session.scalars(query.with_for_update()))
    for claim in claims:
        session.refresh(claim)
    claims = [claim for claim in claims if claim.status is S.APPROVED and claim.batch_id is None]
    if claim_ids is not None and len(claims) != len(set(claim_ids)):
        raise RuleViolation("Some of the chosen claims are no longer approved or are already in a batch")
    if not claims:
        raise RuleViolation("There are no approved claims waiting for payment")
    batch = PaymentBatch(reference=_take_reference(session, BatchReferenceCounter.__table__, "PAY", now),
                         status=BatchStatus.OPEN, created_by_id=actor.id, created_at=now)
    session.add(batch)
    session.flush()
    for claim in claims:
        claim.batch_id = batch.id
        _move(session, claim, S.IN_BATCH, actor=actor, now=now, batch=batch.reference)
    audit.record(session, actor, "expense_batch.created", batch, at=now, reference=batch.reference,
                 claims=[claim.reference for claim in claims])
    session.refresh(batch)
    return batch


def remove_from_batch(session: Session, batch_id: int, claim_id: int, *, actor: User, now: dt.datetime) -> None:
    """Take a claim out of an open batch; it is approved and waiting again."""
    _require_payments(actor)
    batch = _load_batch(session, batch_id)
    if batch.status is not BatchStatus.OPEN:
        raise RuleViolation(f"Batch {batch.reference} is {batch.status.label}: claims can no longer be removed")
    claim = _load_claim(session, claim_id, for_update=True)
    if claim.batch_id != batch.id:
        raise NotFound("Claim not in this batch")
    claim.batch_id = None
    _move(session, claim, S.APPROVED, actor=actor, now=now, notify=False, note=f"Taken out of {batch.reference}")
    audit.record(session, actor, "expense_batch.claim_removed", batch, at=now, claim=claim.reference)


def lock_batch(session: Session, batch_id: int, *, actor: User, now: dt.datetime) -> PaymentBatch:
    """Lock an open batch: its claims are fixed and it can be exported and paid."""
    _require_payments(actor)
    batch = _load_batch(session, batch_id)
    if batch.status is BatchStatus.LOCKED:
        return batch
    if batch.status is not BatchStatus.OPEN:
        raise RuleViolation(f"Batch {batch.reference} is {batch.status.label} and cannot be locked")
    if not batch.claims:
        raise RuleViolation(f"Batch {batch.reference} has no claims")
    batch.status = BatchStatus.LOCKED
    batch.locked_at = now
    batch.locked_by_id = actor.id
    session.flush()
    audit.record(session, actor, "expense_batch.locked", batch, at=now, reference=batch.reference,
                 total_pence=batch.total_pence, claims=len(batch.claims))
    return batch


def record_export(session: Session, batch_id: int, file_format: str, *, actor: User, now: dt.datetime
                  ) -> PaymentBatch:
    """Audit an export of a locked or paid batch (finance files come only from a fixed batch)."""
    _require_payments(actor)
    batch = _load_batch(session, batch_id)
    if batch.status is BatchStatus.OPEN:
        raise RuleViolation(f"Lock batch {batch.reference} before exporting it, so the file matches what is paid")
    batch.export_count += 1
    session.flush()
    audit.record(session, actor, "expense_batch.exported", batch, at=now, reference=batch.reference,
                 format=file_format, total_pence=batch.total_pence)
    return batch


def mark_batch_paid(session: Session, batch_id: int, paid_on: dt.date, *, actor: User, now: dt.datetime
                    ) -> PaymentBatch:
    """Record that finance paid a locked batch on `paid_on`: every claim in it is paid, once."""
    _require_payments(actor)
    batch = _load_batch(session, batch_id)
    if batch.status is BatchStatus.PAID:
        raise RuleViolation(f"Batch {batch.reference} was already marked paid on {batch.paid_on:%-d %B %Y}")
    if batch.status is not BatchStatus.LOCKED:
        raise RuleViolation(f"Lock batch {batch.reference} before marking it paid")
    if paid_on > london_today(now):
        raise ValidationFailed("The payment date must be today or in the past", field="paid_on")
    if paid_on < batch.created_at.astimezone(LONDON).date():
        raise ValidationFailed("The payment date cannot be before the batch was made", field="paid_on")
    batch.status = BatchStatus.PAID
    batch.paid_on = paid_on
    batch.paid_recorded_at = now
    batch.paid_by_id = actor.id
    for claim in batch.claims:
        claim.paid_on = paid_on
        _move(session, claim, S.PAID, actor=actor, now=now, batch=batch.reference, paid_on=paid_on)
    audit.record(session, actor, "expense_batch.paid", batch, at=now, reference=batch.reference, paid_on=paid_on,
                 total_pence=batch.total_pence)
    return batch
