"""Reads for expense claims: claims a person may see, possible duplicates and other flags, receipts,
payment batches, rates, and the reports (totals by month, category, activity and volunteer; miles)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.core.accounts import User
from portal.core.errors import NotFound
from portal.expenses import mileage, permissions
from portal.expenses.models import (
    COUNTED_STATUSES,
    PAYABLE_STATUSES,
    BatchStatus,
    Category,
    Claim,
    ClaimLine,
    ClaimStatus,
    LineDecision,
    MileageRate,
    OtherMileage,
    PaymentBatch,
    Receipt,
    Vehicle,
)


def get_claim(session: Session, claim_id: int) -> Claim:
    """The claim, or NotFound."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound("Claim not found")
    return claim


def get_visible_claim(session: Session, claim_id: int, viewer: User) -> Claim:
    """The claim if `viewer` may see it; NotFound otherwise (someone else's claim does not exist for them)."""
    claim = get_claim(session, claim_id)
    if not permissions.can_view_claim(viewer, claim):
        raise NotFound("Claim not found")
    return claim


def get_visible_receipt(session: Session, receipt_id: int, viewer: User) -> Receipt:
    """A receipt the viewer may open (the claimant's own, or any for an approver), else NotFound."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or not permissions.can_view_receipts(viewer, receipt.line.claim):
        raise NotFound("Receipt not found")
    return receipt


def list_my_claims(session: Session, user: User) -> list[Claim]:
    """The person's claims, newest first, with their lines."""
    return list(session.scalars(
        select(Claim).where(Claim.claimant_id == user.id).options(selectinload(Claim.lines))
        .order_by(Claim.created_at.desc(), Claim.id.desc())
    ))


def list_claims(session: Session, statuses: tuple[ClaimStatus, ...], *, limit: int = 500) -> list[Claim]:
    """Claims in any of `statuses` (never drafts), oldest submission first."""
    statuses = tuple(status for status in statuses if status is not ClaimStatus.DRAFT)
    return list(session.scalars(
        select(Claim).where(Claim.status.in_(statuses)).options(selectinload(Claim.lines))
        .order_by(Claim.submitted_at.asc().nulls_last(), Claim.id).limit(limit)
    ))


def find_duplicates(session: Session, line: ClaimLine) -> list[ClaimLine]:
    """Other lines that may be the same expense: the same person, date, category and amount on a claim
    that is not withdrawn or rejected, or a receipt with the same file contents (anyone's)."""
    same = select(ClaimLine).join(Claim, Claim.id == ClaimLine.claim_id).where(
        ClaimLine.id != line.id,
        Claim.status.in_(COUNTED_STATUSES),
        Claim.claimant_id == line.claim.claimant_id,
        ClaimLine.spent_on == line.spent_on,
        ClaimLine.category == line.category,
        ClaimLine.amount_pence == line.amount_pence,
    )
    found = {other.id: other for other in session.scalars(same)}
    hashes = [receipt.sha256 for receipt in line.receipts]
    if hashes:
        shared = (
            select(ClaimLine)
            .join(Receipt, Receipt.line_id == ClaimLine.id)
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(Receipt.sha256.in_(hashes), ClaimLine.id != line.id, Claim.status.in_(COUNTED_STATUSES))
        )
        found.update({other.id: other for other in session.scalars(shared)})
    return sorted(found.values(), key=lambda other: other.id)


@dataclass
class LineFlags:
    """What an approver should look at on a line."""

    duplicates: list[ClaimLine] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.duplicates or self.messages)


def _months_before(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def line_flags(session: Session, claim: Claim, policy, *, today: dt.date) -> dict[int, LineFlags]:
    """Flags per line: possible duplicates (unless dismissed), spent long before the claim was made,
    needing pre-approval, or missing a receipt the policy asks for."""
    submitted = claim.submitted_at.date() if claim.submitted_at else today
    oldest = _months_before(submitted, policy.old_claim_months)
    flags: dict[int, LineFlags] = {}
    for line in claim.lines:
        flag = LineFlags()
        if not line.duplicate_dismissed_at:
            flag.duplicates = find_duplicates(session, line)
        if line.spent_on < oldest:
            flag.messages.append(f"Spent more than {policy.old_claim_months} months before the claim was made")
        if policy.needs_preapproval(line.category):
            flag.messages.append(f"Needs pre-approval: {line.pre_approval or 'none given'}")
        if policy.needs_receipt(line) and not line.receipts:
            flag.messages.append("No receipt")
        flags[line.id] = flag
    return flags


def list_batches(session: Session) -> list[PaymentBatch]:
    return list(session.scalars(
        select(PaymentBatch).options(selectinload(PaymentBatch.claims)).order_by(PaymentBatch.id.desc())
    ))


def get_batch(session: Session, batch_id: int) -> PaymentBatch:
    batch = session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound("Payment batch not found")
    return batch


def count_awaiting_batch(session: Session) -> int:
    return session.scalar(
        select(func.count(Claim.id)).where(Claim.status == ClaimStatus.APPROVED, Claim.batch_id.is_(None))
    ) or 0


def list_rates(session: Session) -> list[MileageRate]:
    return list(session.scalars(
        select(MileageRate).order_by(MileageRate.vehicle, MileageRate.effective_from.desc())
    ))


def current_rates(session: Session, day: dt.date) -> list[mileage.Rate]:
    """The rate in force on `day` for each vehicle and for passengers."""
    return [mileage.rate_on(session, kind, day) for kind in mileage.RATE_KINDS]


# ---------------------------------------------------------------------------------------------
# Reports


@dataclass
class Totals:
    """Approved amounts (pence) of payable claims grouped several ways, for a date range."""

    starts_on: dt.date
    ends_on: dt.date
    total_pence: int = 0
    by_month: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_activity: dict[str, int] = field(default_factory=dict)
    by_volunteer: dict[str, int] = field(default_factory=dict)


def expense_totals(session: Session, starts_on: dt.date, ends_on: dt.date) -> Totals:
    """Approved lines of approved, batched or paid claims spent between the two dates (inclusive)."""
    rows = session.execute(
        select(ClaimLine.spent_on, ClaimLine.category, ClaimLine.activity_kind, ClaimLine.amount_pence, User.name,
               User.id)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .join(User, User.id == Claim.claimant_id)
        .where(Claim.status.in_(PAYABLE_STATUSES), ClaimLine.decision == LineDecision.APPROVED,
               ClaimLine.spent_on >= starts_on, ClaimLine.spent_on <= ends_on)
        .order_by(ClaimLine.spent_on)
    ).all()
    totals = Totals(starts_on, ends_on)
    months: dict[str, int] = defaultdict(int)
    categories: dict[str, int] = defaultdict(int)
    activities: dict[str, int] = defaultdict(int)
    volunteers: dict[str, int] = defaultdict(int)
    for spent_on, category, activity_kind, amount, name, _user_id in rows:
        totals.total_pence += amount
        months[spent_on.strftime("%B %Y")] += amount
        categories[category.label.capitalize()] += amount
        activities[(activity_kind.label.capitalize() if activity_kind else "Not linked")] += amount
        volunteers[name] += amount
    totals.by_month = dict(months)
    totals.by_category = dict(sorted(categories.items()))
    totals.by_activity = dict(sorted(activities.items()))
    totals.by_volunteer = dict(sorted(volunteers.items()))
    return totals


@dataclass(frozen=True)
class VolunteerMiles:
    user_id: int
    name: str
    claimed_miles: Decimal
    other_miles: Decimal

    @property
    def total_miles(self) -> Decimal:
        return self.claimed_miles + self.other_miles

    @property
    def remaining_at_full_rate(self) -> Decimal:
        threshold = mileage.DEFAULT_RATES[Vehicle.CAR_VAN.value].threshold_miles or 0
        return max(Decimal("0"), Decimal(threshold) - self.total_miles)


def miles_by_volunteer(session: Session, tax_year: int) -> list[VolunteerMiles]:
    """Car and van miles claimed in the tax year per volunteer (claims not rejected or withdrawn, lines not
    rejected), with the miles they declared from other organisations."""
    claimed = dict(session.execute(
        select(Claim.claimant_id, func.sum(ClaimLine.miles))
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(Claim.status.in_(COUNTED_STATUSES), ClaimLine.category == Category.MILEAGE,
               ClaimLine.vehicle == Vehicle.CAR_VAN, ClaimLine.tax_year == tax_year,
               ClaimLine.decision != LineDecision.REJECTED)
        .group_by(Claim.claimant_id)
    ).all())
    other = dict(session.execute(
        select(OtherMileage.user_id, OtherMileage.miles).where(OtherMileage.tax_year == tax_year)
    ).all())
    ids = set(claimed) | set(other)
    if not ids:
        return []
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
    result = [
        VolunteerMiles(user_id, names.get(user_id, ""), Decimal(claimed.get(user_id) or 0),
                       Decimal(other.get(user_id) or 0))
        for user_id in ids
    ]
    return sorted(result, key=lambda row: (-row.total_miles, row.name))


def batch_is_exportable(batch: PaymentBatch) -> bool:
    return batch.status in (BatchStatus.LOCKED, BatchStatus.PAID)
