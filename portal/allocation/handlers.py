"""Jobs and signal receivers of portal.allocation, connected by portal.wiring: the veto on allocations,
the offer lapse job, and withdrawing live offers when vetting says a volunteer is no longer cleared
or when their case is put on hold or closed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.allocation import eligibility, services
from portal.cases.models import CaseStatus
from portal.cases.signals import allocation_requested, case_status_changed
from portal.core import jobs
from portal.volunteers.profiles.models import Volunteer
from portal.volunteers.vetting.signals import clearance_lost

# Vetting and supervision answer the veto with their own receivers; the cases module itself refuses
# a deactivated account. Training is left to the status rule: only completing the course
# (training.services.activate_if_cleared) makes a volunteer active, and records made active before
# enrolments were kept (imports, demo and older test data) must still be allocatable.
VETO_RULES = frozenset({"status", "capacity", "pause", "away", "conflict", "sensitive"})


@allocation_requested.connect
def refuse_allocation_when_ineligible(case, *, session: Session, user_id: int, on: dt.date, **_kwargs) -> str | None:
    """Veto: a volunteer takes a case only when eligible by allocation's own rules (active, under
    their case limit, not paused or away for most of the case, no declared conflict, trained for
    a sensitive case). Locks the volunteer's row first, so that two allocations racing for their last
    place are decided one after the other. People with no volunteer record (staff) are not refused."""
    volunteer = session.scalar(
        select(Volunteer).where(Volunteer.user_id == user_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if volunteer is None:
        return None
    assessment = eligibility.assess_one(session, case, user_id, today=on)
    reasons = [
        reason.text for reason in assessment.reasons
        if reason.rule in VETO_RULES and reason.text != eligibility.DEACTIVATED
    ]
    return "; ".join(reasons) or None

# A held or closed case cannot be taken up; moves between open stages leave offers alone.
_ENDS_OFFERS = {CaseStatus.ON_HOLD: "The case has been put on hold", CaseStatus.CLOSED: "The case has been closed"}


@jobs.register("allocation.lapse-offers")
def lapse_offers(session: Session, *, now: dt.datetime) -> str:
    """Offers not answered by their respond-by time lapse; the coordinator who made each is told once."""
    return f"lapsed {services.lapse_overdue_offers(session, now=now)} offers"


@clearance_lost.connect
def withdraw_offers_without_clearance(volunteer, *, session: Session, user_id: int, reason: str,
                                      now: dt.datetime, **_kwargs) -> None:
    """A volunteer no longer cleared to practise cannot take up an offer: withdraw their live offers
    and tell the coordinators who made them."""
    services.withdraw_offers_for_lost_clearance(session, user_id, reason, now=now)


@case_status_changed.connect
def withdraw_offers_of_stopped_case(case, *, session: Session, actor, now: dt.datetime, **_kwargs) -> None:
    """A case put on hold or closed is no longer on offer: withdraw its live offers, telling each
    facilitator."""
    reason = _ENDS_OFFERS.get(case.status)
    if reason is not None:
        services.withdraw_offers_for_case(session, case, reason, actor=actor, now=now)
