"""What a case asks of its facilitators, offers of a case to a facilitator, and bulk proposals."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cases.models import AllocationRole, Case, LabelledEnum
from portal.core.accounts import User
from portal.core.db import Base, string_enum, utcnow


class CaseNeeds(Base):
    """What a case asks for, recorded by a coordinator before allocation (one row per case).

    `meeting_mask` uses the weekly encoding of `portal.volunteers.profiles.availability`. The
    expected period runs from `expected_start_on` to `expected_end_on`, both included.
    """

    __tablename__ = "allocation_case_needs"
    __table_args__ = (
        CheckConstraint("expected_end_on >= expected_start_on", name="ends_after_start"),
        CheckConstraint("facilitators_needed BETWEEN 1 AND 2", name="facilitators_needed_in_range"),
        CheckConstraint("expected_hours BETWEEN 1 AND 200", name="expected_hours_in_range"),
        CheckConstraint("meeting_mask > 0 AND meeting_mask < 2097152", name="meeting_mask_in_range"),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    meeting_mask: Mapped[int]
    languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    is_complex: Mapped[bool] = mapped_column(default=False, server_default=false())
    expected_hours: Mapped[int] = mapped_column(default=20, server_default=text("20"))
    facilitators_needed: Mapped[int] = mapped_column(default=2, server_default=text("2"))
    expected_start_on: Mapped[dt.date]
    expected_end_on: Mapped[dt.date]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship()


class OfferStatus(LabelledEnum):
    """offered → accepted | declined | lapsed | withdrawn; accepted → allocated | withdrawn."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"
    ALLOCATED = "allocated"


LIVE_OFFER_STATUSES = frozenset({OfferStatus.OFFERED, OfferStatus.ACCEPTED})
OFFER_TRANSITIONS: dict[OfferStatus, frozenset[OfferStatus]] = {
    OfferStatus.OFFERED: frozenset(
        {OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.LAPSED, OfferStatus.WITHDRAWN}
    ),
    OfferStatus.ACCEPTED: frozenset({OfferStatus.ALLOCATED, OfferStatus.WITHDRAWN}),
    OfferStatus.DECLINED: frozenset(),
    OfferStatus.LAPSED: frozenset(),
    OfferStatus.WITHDRAWN: frozenset(),
    OfferStatus.ALLOCATED: frozenset(),
}
_LIVE = "status IN ('offered', 'accepted')"


class AllocationOffer(Base):
    """A case offered to one facilitator as lead or co-facilitator, to accept or decline by `respond_by`.

    A live offer (offered or accepted) holds one of the volunteer's case places until it ends.
    """

    __tablename__ = "allocation_offers"
    __table_args__ = (
        # One live offer per person per case, and one live lead offer per case, even under races.
        Index(
            "uq_allocation_offers_live_person", "case_id", "user_id", unique=True,
            sqlite_where=text(_LIVE), postgresql_where=text(_LIVE),
        ),
        Index(
            "uq_allocation_offers_live_lead", "case_id", unique=True,
            sqlite_where=text(f"{_LIVE} AND role = 'lead'"), postgresql_where=text(f"{_LIVE} AND role = 'lead'"),
        ),
        Index("ix_allocation_offers_user_id_status", "user_id", "status"),
        Index("ix_allocation_offers_status_respond_by", "status", "respond_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[AllocationRole] = mapped_column(string_enum(AllocationRole, 20))
    status: Mapped[OfferStatus] = mapped_column(
        string_enum(OfferStatus, 20), default=OfferStatus.OFFERED, server_default=OfferStatus.OFFERED.value
    )
    score: Mapped[float | None] = mapped_column(Float)
    offered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    respond_by: Mapped[dt.datetime]
    responded_at: Mapped[dt.datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    ended_reason: Mapped[str | None] = mapped_column(String(300))
    allocation_id: Mapped[int | None] = mapped_column(ForeignKey("case_allocations.id", ondelete="SET NULL"))
    proposal_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocation_proposal_items.id", ondelete="SET NULL"), index=True
    )

    case: Mapped[Case] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_OFFER_STATUSES


class ProposalStatus(LabelledEnum):
    OPEN = "open"
    CLOSED = "closed"


class ProposalItemStatus(LabelledEnum):
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"


class AllocationProposal(Base):
    """A bulk proposal for the cases awaiting allocation, made by the solver for a coordinator to
    confirm, adjust or discard case by case."""

    __tablename__ = "allocation_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ProposalStatus] = mapped_column(
        string_enum(ProposalStatus, 10), default=ProposalStatus.OPEN, server_default=ProposalStatus.OPEN.value
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cases_considered: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    total_score: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))

    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[ProposalItem]] = relationship(
        back_populates="proposal", order_by="ProposalItem.id", cascade="all, delete-orphan", passive_deletes=True
    )


class ProposalItem(Base):
    """The solver's facilitators for one case: a lead and, when the case needs two, a co-facilitator."""

    __tablename__ = "allocation_proposal_items"
    __table_args__ = (Index("uq_allocation_proposal_items_case", "proposal_id", "case_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("allocation_proposals.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    lead_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    co_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[ProposalItemStatus] = mapped_column(
        string_enum(ProposalItemStatus, 20), default=ProposalItemStatus.PROPOSED,
        server_default=ProposalItemStatus.PROPOSED.value,
    )
    note: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    proposal: Mapped[AllocationProposal] = relationship(back_populates="items")
    case: Mapped[Case] = relationship()
    lead: Mapped[User] = relationship(foreign_keys=[lead_user_id])
    co: Mapped[User | None] = relationship(foreign_keys=[co_user_id])
