"""Reads for a bulk proposal's review page: its items a page at a time (with their case and people),
the cases it could not staff a page at a time, and the counts of each, in a fixed number of
statements however many cases the proposal holds."""

from __future__ import annotations

import enum

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload

from portal.allocation import queries
from portal.allocation.models import AllocationProposal, ProposalItem, ProposalItemStatus
from portal.cases.models import Case
from portal.core.paging import Page, PageWindow


class ProposalView(enum.StrEnum):
    """Which part of a proposal the review page shows."""

    ALL = "all"
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    DISCARDED = "discarded"
    UNSTAFFED = "unstaffed"

    @classmethod
    def read(cls, value: str | None) -> ProposalView:
        """The view named by `value`; ALL for anything else (a hostile query string included)."""
        return cls(value) if value in cls._value2member_map_ else cls.ALL

    @property
    def status(self) -> ProposalItemStatus | None:
        return ProposalItemStatus(self.value) if self.value in ProposalItemStatus._value2member_map_ else None


def unstaffed_conditions(proposal: AllocationProposal) -> list:
    """The WHERE conditions of a case the proposal could not staff: still waiting
    (`queries.waiting_conditions`), recorded before the proposal was made and without an item in it."""
    staffed = exists().where(ProposalItem.proposal_id == proposal.id, ProposalItem.case_id == Case.id)
    return [*queries.waiting_conditions(), ~staffed, Case.created_at <= proposal.created_at]


def view_counts(session: Session, proposal: AllocationProposal) -> dict[ProposalView, int]:
    """How many items each view of the proposal holds (two aggregate queries): its items by status,
    all of them, and the cases still waiting that it found nobody for (see `unstaffed_page`)."""
    by_status = dict(session.execute(
        select(ProposalItem.status, func.count()).where(ProposalItem.proposal_id == proposal.id)
        .group_by(ProposalItem.status)
    ).all())
    counts = {view: by_status.get(view.status, 0) for view in ProposalView if view.status is not None}
    counts[ProposalView.ALL] = sum(by_status.values())
    counts[ProposalView.UNSTAFFED] = session.scalar(
        select(func.count()).select_from(Case).where(*unstaffed_conditions(proposal))
    ) or 0
    return {view: counts[view] for view in ProposalView}


def items_page(
    session: Session, proposal: AllocationProposal, *, status: ProposalItemStatus | None = None, total: int,
    page: int = 1, per_page: int = 50,
) -> Page[ProposalItem]:
    """One page of the proposal's items (those with `status`, or all), in the order they were made,
    each with its case, lead and co-facilitator loaded (one statement). `total` is how many there are
    (from `view_counts`)."""
    window = PageWindow.of(total, page, per_page)
    query = select(ProposalItem).where(ProposalItem.proposal_id == proposal.id)
    if status is not None:
        query = query.where(ProposalItem.status == status)
    items = list(session.scalars(
        query.options(joinedload(ProposalItem.case), joinedload(ProposalItem.lead), joinedload(ProposalItem.co))
        .order_by(ProposalItem.id).limit(window.per_page).offset(window.offset)
    ))
    return Page(items, window)


def unstaffed_page(
    session: Session, proposal: AllocationProposal, *, total: int, page: int = 1, per_page: int = 50,
) -> Page[Case]:
    """One page of the cases the proposal could not staff (`unstaffed_conditions`), oldest received
    first. `total` is how many there are (from `view_counts`)."""
    window = PageWindow.of(total, page, per_page)
    cases = list(session.scalars(
        select(Case).where(*unstaffed_conditions(proposal)).order_by(Case.received_on, Case.id)
        .limit(window.per_page).offset(window.offset)
    ))
    return Page(cases, window)

