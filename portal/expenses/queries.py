"""Reads for expense claims: claims a person may see, possible duplicates and other flags, receipts,
payment batches, rates, and the reports (totals by month, category, activity and volunteer; miles).

Every list a page shows is one page (`claims_page`, `batches_page`, `volunteer_totals_page`, `miles_page`)
with its totals summed in SQL, so a page runs the same statements with 100 claims or 100,000."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Numeric, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from portal.core import search
from portal.core.accounts import User
from portal.core.clock import london_to_utc
from portal.core.errors import NotFound
from portal.core.paging import Page, PageWindow
from portal.expenses import mileage, permissions
from portal.expenses.models import (
    COUNTED_STATUSES,
    PAYABLE_STATUSES,
    BatchStatus,
    Category,
    Claim,
    ClaimEvent,
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


# ---------------------------------------------------------------------------------------------
# Pages of claims and batches: a count, the page's rows and the page's totals, whatever the number of claims

PAGE_SIZE = 50


def get_claim_in_full(session: Session, claim_id: int) -> Claim:
    """The claim with everything its page shows (claimant, batch, lines with receipts, history with who
    acted) loaded in a fixed number of statements, or NotFound."""
    claim = session.get(Claim, claim_id, options=[
        joinedload(Claim.claimant), joinedload(Claim.batch),
        selectinload(Claim.lines).selectinload(ClaimLine.receipts),
        selectinload(Claim.events).joinedload(ClaimEvent.actor),
    ])
    if claim is None:
        raise NotFound("Claim not found")
    return claim


@dataclass(frozen=True)
class ClaimRow:
    """A claim as a list shows it, with its totals worked out in SQL."""

    id: int
    reference: str
    status: ClaimStatus
    claimant_name: str
    submitted_at: dt.datetime | None
    updated_at: dt.datetime
    cost_code: str | None
    lines: int = 0
    total_pence: int = 0
    approved_pence: int = 0


@dataclass(frozen=True)
class ClaimFilter:
    """Which claims a list shows; every field is optional. Drafts appear only in a claimant's own list.
    `search` is part of the claimant's name (any case); `month` is the first day of the month (UK time)
    in which the claims were submitted."""

    statuses: tuple[ClaimStatus, ...] = ()
    claimant_id: int | None = None
    batch_id: int | None = None
    search: str = ""
    month: dt.date | None = None


# How a list is ordered: the queue oldest submission first, a claimant's own newest first, a batch in claim
# order, and closed claims (nine in ten of all claims) newest first by id, which the primary key serves
# without sorting 90,000 rows for each page.
CLAIM_ORDERS = {
    "oldest-submitted": (Claim.submitted_at.asc().nulls_last(), Claim.id.asc()),
    "newest-made": (Claim.id.desc(),),
    "newest": (Claim.created_at.desc(), Claim.id.desc()),
    "claim": (Claim.id.asc(),),
}


def _claim_conditions(filters: ClaimFilter) -> list:
    conditions = []
    if filters.statuses:
        conditions.append(Claim.status.in_(filters.statuses))
    if filters.claimant_id is None:
        conditions.append(Claim.status != ClaimStatus.DRAFT)
    else:
        conditions.append(Claim.claimant_id == filters.claimant_id)
    if filters.batch_id is not None:
        conditions.append(Claim.batch_id == filters.batch_id)
    if filters.search:
        conditions.append(search.contains(User.name, filters.search))
    if filters.month is not None:
        following = (filters.month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        conditions.append(Claim.submitted_at >= london_to_utc(filters.month, dt.time()))
        conditions.append(Claim.submitted_at < london_to_utc(following, dt.time()))
    return conditions


def _approved(amount):
    return func.coalesce(func.sum(case((ClaimLine.decision == LineDecision.APPROVED, amount), else_=0)), 0)


def _line_totals(session: Session, claim_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(lines, total pence, approved pence) per claim id, in one statement."""
    if not claim_ids:
        return {}
    rows = session.execute(
        select(ClaimLine.claim_id, func.count(ClaimLine.id), func.sum(ClaimLine.amount_pence),
               _approved(ClaimLine.amount_pence))
        .where(ClaimLine.claim_id.in_(claim_ids)).group_by(ClaimLine.claim_id)
    )
    return {claim_id: (lines, int(total or 0), int(approved or 0)) for claim_id, lines, total, approved in rows}


def claims_page(session: Session, filters: ClaimFilter, *, page: int = 1, per_page: int = PAGE_SIZE,
                order: str = "oldest-submitted") -> Page[ClaimRow]:
    """One page of claims matching `filters` with their totals, in three statements (a count, the page,
    the page's line totals) however many claims there are. A page past the end gives the last page."""
    conditions = _claim_conditions(filters)
    counted = select(func.count(Claim.id)).select_from(Claim)
    if filters.search:
        counted = counted.join(User, User.id == Claim.claimant_id)
    window = PageWindow.of(session.scalar(counted.where(*conditions)) or 0, page, per_page)
    if not window.total:
        return Page([], window)
    found = session.execute(
        select(Claim.id, Claim.reference, Claim.status, User.name, Claim.submitted_at, Claim.updated_at,
               Claim.cost_code)
        .join(User, User.id == Claim.claimant_id).where(*conditions)
        .order_by(*CLAIM_ORDERS.get(order, CLAIM_ORDERS["oldest-submitted"]))
        .offset(window.offset).limit(window.per_page)
    ).all()
    totals = _line_totals(session, [row.id for row in found])
    return Page([ClaimRow(*row, *totals.get(row.id, (0, 0, 0))) for row in found], window)


@dataclass(frozen=True)
class BatchTotals:
    claims: int = 0
    approved_pence: int = 0


def _approved_of_claim():
    # A correlated sum per claim reads each claim's few lines by index; a join would make PostgreSQL
    # hash every line in the table to total a page of batches.
    return (select(func.coalesce(func.sum(ClaimLine.amount_pence), 0))
            .where(ClaimLine.claim_id == Claim.id, ClaimLine.decision == LineDecision.APPROVED)
            .correlate(Claim).scalar_subquery())


def awaiting_batch_totals(session: Session) -> BatchTotals:
    """How many approved claims wait for a payment batch, and their approved amount (one statement)."""
    claims, pence = session.execute(
        select(func.count(Claim.id), func.coalesce(func.sum(_approved_of_claim()), 0))
        .where(Claim.status == ClaimStatus.APPROVED, Claim.batch_id.is_(None))
    ).one()
    return BatchTotals(claims or 0, int(pence or 0))


def batch_totals(session: Session, batch_ids: list[int]) -> dict[int, BatchTotals]:
    """Claims and approved amount per payment batch, in one statement."""
    if not batch_ids:
        return {}
    rows = session.execute(
        select(Claim.batch_id, func.count(Claim.id), func.coalesce(func.sum(_approved_of_claim()), 0))
        .where(Claim.batch_id.in_(batch_ids)).group_by(Claim.batch_id)
    )
    return {batch_id: BatchTotals(claims, int(pence or 0)) for batch_id, claims, pence in rows}


@dataclass(frozen=True)
class BatchRow:
    batch: PaymentBatch
    totals: BatchTotals


def batches_page(session: Session, *, page: int = 1, per_page: int = PAGE_SIZE) -> Page[BatchRow]:
    """One page of payment batches, newest first, with their totals: three statements."""
    window = PageWindow.of(session.scalar(select(func.count(PaymentBatch.id))) or 0, page, per_page)
    if not window.total:
        return Page([], window)
    batches = list(session.scalars(
        select(PaymentBatch).order_by(PaymentBatch.id.desc()).offset(window.offset).limit(window.per_page)))
    totals = batch_totals(session, [batch.id for batch in batches])
    return Page([BatchRow(batch, totals.get(batch.id, BatchTotals())) for batch in batches], window)


def find_duplicates(session: Session, line: ClaimLine) -> list[ClaimLine]:
    """Other lines that may be the same expense: the same person, date, category and amount on a claim
    that is not withdrawn or rejected, or a receipt with the same file contents (anyone's)."""
    return duplicates_by_line(session, line.claim.claimant_id, [line])[line.id]


def duplicates_by_line(session: Session, claimant_id: int, lines: list[ClaimLine]) -> dict[int, list[ClaimLine]]:
    """`find_duplicates` for several lines of one claimant in at most two statements, whatever their number:
    each line's possible duplicates (with their claims loaded), by line id."""
    found: dict[int, dict[int, ClaimLine]] = {line.id: {} for line in lines}
    if not lines:
        return {}
    counted = Claim.status.in_(COUNTED_STATUSES)
    same = (
        select(ClaimLine).join(Claim, Claim.id == ClaimLine.claim_id)
        .where(counted, Claim.claimant_id == claimant_id, ClaimLine.spent_on.in_({line.spent_on for line in lines}))
        .options(contains_eager(ClaimLine.claim))
    )
    for other in session.scalars(same):
        for line in lines:
            if other.id != line.id and (other.spent_on, other.category, other.amount_pence) == (
                    line.spent_on, line.category, line.amount_pence):
                found[line.id][other.id] = other
    wanted: dict[str, set[int]] = {}
    for line in lines:
        for receipt in line.receipts:
            wanted.setdefault(receipt.sha256, set()).add(line.id)
    if wanted:
        shared = (
            select(ClaimLine, Receipt.sha256)
            .join(Receipt, Receipt.line_id == ClaimLine.id)
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(Receipt.sha256.in_(wanted), counted)
            .options(contains_eager(ClaimLine.claim))
        )
        for other, sha256 in session.execute(shared):
            for line_id in wanted.get(sha256, ()):
                if other.id != line_id:
                    found[line_id][other.id] = other
    return {line_id: sorted(others.values(), key=lambda other: other.id) for line_id, others in found.items()}


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
    needing pre-approval, or missing a receipt the policy asks for. At most two statements (the
    duplicates), however many lines the claim has, once its lines and receipts are loaded."""
    submitted = claim.submitted_at.date() if claim.submitted_at else today
    oldest = _months_before(submitted, policy.old_claim_months)
    duplicates = duplicates_by_line(
        session, claim.claimant_id, [line for line in claim.lines if not line.duplicate_dismissed_at])
    flags: dict[int, LineFlags] = {}
    for line in claim.lines:
        flag = LineFlags(duplicates=duplicates.get(line.id, []))
        if line.spent_on < oldest:
            flag.messages.append(f"Spent more than {policy.old_claim_months} months before the claim was made")
        if policy.needs_preapproval(line.category):
            flag.messages.append(f"Needs pre-approval: {line.pre_approval or 'none given'}")
        if policy.needs_receipt(line) and not line.receipts:
            flag.messages.append("No receipt")
        flags[line.id] = flag
    return flags


def get_batch(session: Session, batch_id: int) -> PaymentBatch:
    batch = session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound("Payment batch not found")
    return batch


def count_claims(session: Session, statuses: tuple[ClaimStatus, ...], *, claimant_id: int | None = None
                 ) -> dict[ClaimStatus, int]:
    """How many claims are in each of `statuses` (everyone's, or one claimant's): one aggregate statement."""
    # count(*), not count(id): PostgreSQL then answers from the status index alone (no visit to each row).
    query = select(Claim.status, func.count()).where(Claim.status.in_(statuses)).group_by(Claim.status)
    if claimant_id is not None:
        query = query.where(Claim.claimant_id == claimant_id)
    found = dict(session.execute(query).all())
    return {status: found.get(status, 0) for status in statuses}


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
    """Approved amounts (pence) of payable claims grouped by month, category and activity, for a date range."""

    starts_on: dt.date
    ends_on: dt.date
    total_pence: int = 0
    by_month: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    by_activity: dict[str, int] = field(default_factory=dict)


def _payable_lines(starts_on: dt.date, ends_on: dt.date) -> list:
    return [Claim.status.in_(PAYABLE_STATUSES), ClaimLine.decision == LineDecision.APPROVED,
            ClaimLine.spent_on >= starts_on, ClaimLine.spent_on <= ends_on]


def expense_totals(session: Session, starts_on: dt.date, ends_on: dt.date) -> Totals:
    """Approved lines of approved, batched or paid claims spent between the two dates (inclusive), summed
    in SQL: one statement returning at most months × categories × activities rows, however many claims."""
    year, month = func.extract("year", ClaimLine.spent_on), func.extract("month", ClaimLine.spent_on)
    rows = session.execute(
        select(year, month, ClaimLine.category, ClaimLine.activity_kind, func.sum(ClaimLine.amount_pence))
        .join(Claim, Claim.id == ClaimLine.claim_id).where(*_payable_lines(starts_on, ends_on))
        .group_by(year, month, ClaimLine.category, ClaimLine.activity_kind)
    ).all()
    totals = Totals(starts_on, ends_on)
    months: dict[tuple[int, int], int] = defaultdict(int)
    categories: dict[str, int] = defaultdict(int)
    activities: dict[str, int] = defaultdict(int)
    for year_number, month_number, category, activity_kind, amount in rows:
        amount = int(amount or 0)
        totals.total_pence += amount
        months[int(year_number), int(month_number)] += amount
        categories[category.label.capitalize()] += amount
        activities[(activity_kind.label.capitalize() if activity_kind else "Not linked")] += amount
    totals.by_month = {dt.date(*key, 1).strftime("%B %Y"): months[key] for key in sorted(months)}
    totals.by_category = dict(sorted(categories.items()))
    totals.by_activity = dict(sorted(activities.items()))
    return totals


@dataclass(frozen=True)
class VolunteerTotal:
    user_id: int
    name: str
    pence: int


def _volunteer_totals(starts_on: dt.date, ends_on: dt.date):
    return (
        select(User.id, User.name, func.sum(ClaimLine.amount_pence))
        .select_from(ClaimLine).join(Claim, Claim.id == ClaimLine.claim_id).join(User, User.id == Claim.claimant_id)
        .where(*_payable_lines(starts_on, ends_on)).group_by(User.id, User.name)
    )


def _rows_and_total(session: Session, query, page: int, per_page: int) -> tuple[list, PageWindow]:
    """The rows of `query` on `page` with the number of all its rows, counted in the same statement
    (COUNT(*) OVER ()), so a grouped report is aggregated once, not once to count and again to page.
    Only a page past the end costs two more statements (its total, then the last page)."""
    counted = query.add_columns(func.count().over())
    window = PageWindow.of(page * per_page, page, per_page)
    found = session.execute(counted.offset(window.offset).limit(per_page)).all()
    if not found and page > 1:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        window = PageWindow.of(total, page, per_page)
        found = session.execute(counted.offset(window.offset).limit(per_page)).all()
    return [row[:-1] for row in found], PageWindow.of(found[0][-1] if found else 0, window.page, per_page)


def volunteer_totals_page(session: Session, starts_on: dt.date, ends_on: dt.date, *, page: int = 1,
                          per_page: int = PAGE_SIZE) -> Page[VolunteerTotal]:
    """Approved amounts per claimant (as `expense_totals`), by name, one page: one statement."""
    found, window = _rows_and_total(session, _volunteer_totals(starts_on, ends_on).order_by(User.name, User.id),
                                    page, per_page)
    return Page([VolunteerTotal(user_id, name, int(pence or 0)) for user_id, name, pence in found], window)


def volunteer_totals(session: Session, starts_on: dt.date, ends_on: dt.date) -> list[VolunteerTotal]:
    """Every claimant's approved amount (for the CSV export), by name: one statement."""
    rows = session.execute(_volunteer_totals(starts_on, ends_on).order_by(User.name, User.id))
    return [VolunteerTotal(user_id, name, int(pence or 0)) for user_id, name, pence in rows]


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


MILES = Numeric(9, 1)


def _miles_by_volunteer(tax_year: int):
    """Per volunteer: car and van miles claimed in the tax year (claims not rejected or withdrawn, lines not
    rejected) and miles declared for other organisations; largest total first."""
    zero = cast(literal(0), MILES)
    claimed = (
        select(Claim.claimant_id.label("user_id"), cast(func.sum(ClaimLine.miles), MILES).label("claimed"),
               zero.label("other"))
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(Claim.status.in_(COUNTED_STATUSES), ClaimLine.category == Category.MILEAGE,
               ClaimLine.vehicle == Vehicle.CAR_VAN, ClaimLine.tax_year == tax_year,
               ClaimLine.decision != LineDecision.REJECTED)
        .group_by(Claim.claimant_id)
    )
    other = select(OtherMileage.user_id.label("user_id"), zero.label("claimed"),
                   cast(OtherMileage.miles, MILES).label("other")).where(OtherMileage.tax_year == tax_year)
    both = union_all(claimed, other).subquery()
    per = (
        select(both.c.user_id, func.sum(both.c.claimed).label("claimed"), func.sum(both.c.other).label("other"))
        .group_by(both.c.user_id).subquery()
    )
    rows = (
        select(per.c.user_id, User.name, per.c.claimed, per.c.other).join(User, User.id == per.c.user_id)
        .order_by((per.c.claimed + per.c.other).desc(), User.name, User.id)
    )
    return per, rows


def _miles(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.1"))


def _miles_rows(rows) -> list[VolunteerMiles]:
    return [VolunteerMiles(user_id, name, _miles(claimed), _miles(other)) for user_id, name, claimed, other in rows]


def miles_page(session: Session, tax_year: int, *, page: int = 1, per_page: int = PAGE_SIZE) -> Page[VolunteerMiles]:
    """One page of `miles_by_volunteer`, summed in SQL: one statement however many volunteers."""
    _per, rows = _miles_by_volunteer(tax_year)
    found, window = _rows_and_total(session, rows, page, per_page)
    return Page(_miles_rows(found), window)


def miles_by_volunteer(session: Session, tax_year: int) -> list[VolunteerMiles]:
    """Car and van miles claimed in the tax year per volunteer (claims not rejected or withdrawn, lines not
    rejected), with the miles they declared from other organisations, largest total first (one statement)."""
    _per, rows = _miles_by_volunteer(tax_year)
    return _miles_rows(session.execute(rows))


def batch_is_exportable(batch: PaymentBatch) -> bool:
    return batch.status in (BatchStatus.LOCKED, BatchStatus.PAID)
