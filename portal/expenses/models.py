"""Expense claims: claims and their lines, receipts, mileage rates, other organisations' miles,
the claim's history, and payment batches. Money is integer pence; miles are Decimal to 0.1 mile.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow


def _enum(enum_class: type[enum.Enum], length: int = 30) -> Enum:
    return string_enum(enum_class, length)


class ClaimStatus(LabelledEnum):
    """Where a claim is; moves are governed by services.CLAIM_TRANSITIONS."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    QUERIED = "queried"
    APPROVED = "approved"
    IN_BATCH = "in_batch"
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return "in payment batch" if self is ClaimStatus.IN_BATCH else self.value


# Claims whose lines count (towards the mileage threshold, as possible duplicates); claims that are paid or due.
COUNTED_STATUSES = frozenset(ClaimStatus) - {ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN}
PAYABLE_STATUSES = frozenset({ClaimStatus.APPROVED, ClaimStatus.IN_BATCH, ClaimStatus.PAID})


class Category(LabelledEnum):
    MILEAGE = "mileage"
    PUBLIC_TRANSPORT = "public_transport"
    PARKING = "parking"
    SUBSISTENCE = "subsistence"
    PHONE_POSTAGE = "phone_postage"
    CARE_OF_DEPENDANTS = "care_of_dependants"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"phone_postage": "phone and postage"}.get(self.value, self.value.replace("_", " "))


class Vehicle(LabelledEnum):
    CAR_VAN = "car_van"
    MOTORCYCLE = "motorcycle"
    BICYCLE = "bicycle"

    @property
    def label(self) -> str:
        return "car or van" if self is Vehicle.CAR_VAN else self.value


class ActivityKind(LabelledEnum):
    TRAINING_DAY = "training_day"
    SUPERVISION = "supervision"
    CASE_MEETING = "case_meeting"
    OTHER = "other"


class LineDecision(LabelledEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class BatchStatus(LabelledEnum):
    OPEN = "open"
    LOCKED = "locked"
    PAID = "paid"


class ClaimReferenceCounter(Base):
    """The last claim number issued in a year; its row is updated while a number is taken."""

    __tablename__ = "expense_claim_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class BatchReferenceCounter(Base):
    __tablename__ = "expense_batch_reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class MileageRate(Base):
    """An HMRC Approved Mileage Allowance Payment rate for one vehicle (or passengers), from a date.

    Car and van rates have a lower rate past `threshold_miles` in a tax year. A rate runs from
    `effective_from` to `effective_to` inclusive (open-ended when None). Lines copy the figures they
    used, so editing or replacing a rate never changes an existing claim.
    """

    __tablename__ = "expense_mileage_rates"
    __table_args__ = (
        CheckConstraint("pence_per_mile > 0 AND pence_per_mile <= 200", name="pence_per_mile_sensible"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="ends_after_start"),
        UniqueConstraint("vehicle", "effective_from", name="uq_expense_mileage_rates_vehicle_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A Vehicle value, or "passenger" for the per-passenger supplement.
    vehicle: Mapped[str] = mapped_column(String(20))
    pence_per_mile: Mapped[int]
    threshold_miles: Mapped[int | None]
    pence_per_mile_after: Mapped[int | None]
    effective_from: Mapped[dt.date]
    effective_to: Mapped[dt.date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OtherMileage(Base):
    """Miles a volunteer declares they have been paid for by other organisations in a tax year: they
    count towards the 10,000-mile threshold (HMRC counts every organisation a volunteer drives for)."""

    __tablename__ = "expense_other_mileage"
    __table_args__ = (UniqueConstraint("user_id", "tax_year", name="uq_expense_other_mileage_user_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The calendar year in which the tax year starts (2026 = 6 April 2026 to 5 April 2027).
    tax_year: Mapped[int]
    miles: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PaymentBatch(Base):
    """Approved claims gathered for finance: open (claims may be added or removed), locked, paid."""

    __tablename__ = "expense_payment_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), default=BatchStatus.OPEN)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_at: Mapped[dt.datetime | None]
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    paid_on: Mapped[dt.date | None]
    paid_recorded_at: Mapped[dt.datetime | None]
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    export_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    claims: Mapped[list[Claim]] = relationship(back_populates="batch", order_by="Claim.id")

    @property
    def total_pence(self) -> int:
        return sum(claim.approved_pence for claim in self.claims)


class Claim(Base):
    """One volunteer's claim: lines, status, and who decided what."""

    __tablename__ = "expense_claims"
    __table_args__ = (
        Index("ix_expense_claims_claimant_id_status", "claimant_id", "status"),
        CheckConstraint("status <> 'in_batch' OR batch_id IS NOT NULL", name="in_batch_has_batch"),
        CheckConstraint("status <> 'paid' OR (batch_id IS NOT NULL AND paid_on IS NOT NULL)", name="paid_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ClaimStatus] = mapped_column(_enum(ClaimStatus), default=ClaimStatus.DRAFT, index=True)
    # Raised on every change, so an approval is tied to the content the approver saw.
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Indexed: the coordinators' lists order by it and filter by the month submitted.
    submitted_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    query_text: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    cost_code: Mapped[str | None] = mapped_column(String(40))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("expense_payment_batches.id", ondelete="RESTRICT"), index=True
    )
    paid_on: Mapped[dt.date | None]

    claimant: Mapped[User] = relationship(foreign_keys=[claimant_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    batch: Mapped[PaymentBatch | None] = relationship(back_populates="claims")
    lines: Mapped[list[ClaimLine]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimLine.id"
    )
    events: Mapped[list[ClaimEvent]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimEvent.id"
    )

    @property
    def total_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)

    @property
    def approved_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines if line.decision is LineDecision.APPROVED)

    @property
    def is_editable_by_claimant(self) -> bool:
        return self.status in (ClaimStatus.DRAFT, ClaimStatus.QUERIED, ClaimStatus.APPROVED)


class ClaimLine(Base):
    """One expense on a claim. Mileage lines keep the rates they were priced at."""

    __tablename__ = "expense_lines"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("miles IS NULL OR miles > 0", name="miles_positive"),
        CheckConstraint("passengers >= 0 AND passengers <= 8", name="passengers_possible"),
        Index("ix_expense_lines_spent_on_category_amount", "spent_on", "category", "amount_pence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id", ondelete="CASCADE"), index=True)
    spent_on: Mapped[dt.date]
    category: Mapped[Category] = mapped_column(_enum(Category))
    description: Mapped[str] = mapped_column(String(500))
    amount_pence: Mapped[int]
    activity_kind: Mapped[ActivityKind | None] = mapped_column(_enum(ActivityKind))
    activity_id: Mapped[int | None]
    activity_label: Mapped[str | None] = mapped_column(String(200))
    pre_approval: Mapped[str | None] = mapped_column(String(300))
    # Mileage
    from_place: Mapped[str | None] = mapped_column(String(120))
    to_place: Mapped[str | None] = mapped_column(String(120))
    miles: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    vehicle: Mapped[Vehicle | None] = mapped_column(_enum(Vehicle))
    passengers: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    tax_year: Mapped[int | None]
    miles_at_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    pence_per_mile: Mapped[int | None]
    miles_at_rate_after: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    pence_per_mile_after: Mapped[int | None]
    passenger_pence_per_mile: Mapped[int | None]
    mileage_rate_id: Mapped[int | None] = mapped_column(ForeignKey("expense_mileage_rates.id", ondelete="SET NULL"))
    # The approver's decision on this line
    decision: Mapped[LineDecision] = mapped_column(_enum(LineDecision), default=LineDecision.PENDING)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    # A possible duplicate that someone checked and dismissed
    duplicate_dismissed_reason: Mapped[str | None] = mapped_column(String(500))
    duplicate_dismissed_at: Mapped[dt.datetime | None]
    duplicate_dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="lines")
    receipts: Mapped[list[Receipt]] = relationship(
        back_populates="line", cascade="all, delete-orphan", order_by="Receipt.id"
    )

    @property
    def is_mileage(self) -> bool:
        return self.category is Category.MILEAGE


class Receipt(Base):
    """A receipt file for a line: metadata here, bytes in the private upload folder under `stored_name`."""

    __tablename__ = "expense_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("expense_lines.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # True when the stored bytes are an image re-encoded by `portal.core.files` (only those may be shown in
    # the browser); receipts stored before re-encoding began are False and are always downloaded.
    is_reencoded: Mapped[bool] = mapped_column(default=False, server_default=false())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    line: Mapped[ClaimLine] = relationship(back_populates="receipts")


class ClaimEvent(Base):
    """The claim's history: every status change and query answer, with who, when and why."""

    __tablename__ = "expense_claim_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_status: Mapped[ClaimStatus | None] = mapped_column(_enum(ClaimStatus))
    to_status: Mapped[ClaimStatus] = mapped_column(_enum(ClaimStatus))
    note: Mapped[str | None] = mapped_column(Text)

    claim: Mapped[Claim] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
