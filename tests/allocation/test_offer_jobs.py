"""The offer jobs and receivers: unanswered offers lapse once and the coordinator is told once; a
volunteer who loses their clearance (the vetting job, a refused check) has their live offers withdrawn."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal.allocation import handlers, scoring, services
from portal.allocation.models import AllocationOffer, OfferStatus
from portal.cases import services as case_services
from portal.cases.models import AllocationRole, CaseStatus
from portal.core import jobs, settings
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.volunteers.vetting import services as vetting_services
from portal.volunteers.vetting.models import CheckKind, CheckStatus, VettingCheck
from tests.allocation.builders import NOW, TODAY, make_coordinator, make_facilitator, make_waiting_case
from tests.volunteers.vetting.builders import details

LEAD, CO = AllocationRole.LEAD, AllocationRole.CO_FACILITATOR
DUE = NOW + dt.timedelta(hours=72)


def mail(session, template: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                                .order_by(OutboxMessage.id)))


def offered_pair(session, **case_overrides):
    coordinator = make_coordinator(session, name="Grace Coordinator")
    case = make_waiting_case(session, **case_overrides)
    lead = make_facilitator(session, name="Priya Lead")
    co = make_facilitator(session, name="Tom Co")
    offers = services.offer_case(session, case.id, [(lead.user_id, LEAD), (co.user_id, CO)], actor=coordinator,
                                 now=NOW)
    return coordinator, case, lead, co, offers


# ---------------------------------------------------------------------------------------------
# Lapsing


def test_the_lapse_job_is_registered():
    assert jobs._registry["allocation.lapse-offers"].run is handlers.lapse_offers


def test_unanswered_offers_lapse_after_their_time_and_the_coordinator_is_told_once(session):
    coordinator, case, lead, _co, offers = offered_pair(session)
    services.accept_offer(session, offers[0].id, actor=lead.user, now=NOW + dt.timedelta(hours=1))

    assert services.lapse_overdue_offers(session, now=DUE) == 0  # on the minute it may still be answered
    assert services.lapse_overdue_offers(session, now=DUE + dt.timedelta(minutes=1)) == 1
    assert services.lapse_overdue_offers(session, now=DUE + dt.timedelta(minutes=2)) == 0

    assert [offer.status for offer in offers] == [OfferStatus.ACCEPTED, OfferStatus.LAPSED]
    assert offers[1].ended_reason == "No answer by 26 November 2026 at 10:00"
    [told] = mail(session, "allocation/offer_lapsed")
    assert told.recipients == [coordinator.email]
    assert told.subject == f"Offer of {case.reference} to Tom Co lapsed"
    assert "did not answer the offer of" in told.text_body
    lapsed = session.scalars(select(AuditEntry).where(AuditEntry.action == "allocation.offer_lapsed")).all()
    assert [(entry.actor_id, entry.details["offer_id"]) for entry in lapsed] == [(None, offers[1].id)]


def test_the_job_through_the_registry_reports_what_it_did(session):
    offered_pair(session)
    session.commit()

    results = jobs.run_all(session, now=DUE + dt.timedelta(hours=1), only="allocation.lapse-offers")
    again = jobs.run_all(session, now=DUE + dt.timedelta(hours=2), only="allocation.lapse-offers")

    assert results == {"allocation.lapse-offers": "lapsed 2 offers"}
    assert again == {"allocation.lapse-offers": "lapsed 0 offers"}
    assert len(mail(session, "allocation/offer_lapsed")) == 2


# ---------------------------------------------------------------------------------------------
# Clearance lost


def test_the_vetting_job_withdraws_the_live_offers_of_someone_whose_police_vetting_lapses(session):
    settings.set_setting(session, scoring.OFFER_HOURS_SETTING, 24 * 14)
    coordinator = make_coordinator(session, name="Grace Coordinator")
    # The case runs this week; the lead's police vetting (12 months) ends on 1 December.
    case = make_waiting_case(session, needs={"expected_start_on": TODAY, "expected_end_on": dt.date(2026, 11, 30)})
    lapsing = make_facilitator(session, name="Priya Lapsing", cleared_on=dt.date(2025, 12, 1))
    other = make_facilitator(session, name="Tom Fine")
    offers = services.offer_case(session, case.id, [(lapsing.user_id, LEAD), (other.user_id, CO)],
                                 actor=coordinator, now=NOW)
    services.accept_offer(session, offers[0].id, actor=lapsing.user, now=NOW + dt.timedelta(hours=1))
    session.commit()

    lapse_day = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)
    jobs.run_all(session, now=lapse_day, only="volunteers.vetting-reminders")
    jobs.run_all(session, now=lapse_day + dt.timedelta(hours=1), only="volunteers.vetting-reminders")

    session.expire_all()
    assert [offer.status for offer in offers] == [OfferStatus.WITHDRAWN, OfferStatus.OFFERED]
    assert offers[0].ended_reason == "Police vetting (NPPV2) lapsed on 1 December 2026"
    [told] = mail(session, "allocation/offer_withdrawn_clearance")
    assert told.recipients == [coordinator.email]
    assert told.subject == (f"Offer of {case.reference} to Priya Lapsing withdrawn: "
                            "Police vetting (NPPV2) lapsed on 1 December 2026")
    assert "no longer cleared to practise" in told.text_body
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "allocation.offer_withdrawn"))
    assert (entry.actor_id, entry.details["offer_id"]) == (None, offers[0].id)


def test_a_refused_police_check_withdraws_live_offers_at_once(session):
    coordinator, case, lead, co, offers = offered_pair(session)
    nppv = session.scalar(select(VettingCheck).where(VettingCheck.volunteer_id == lead.id,
                                                     VettingCheck.kind == CheckKind.NPPV))

    vetting_services.update_check(
        session, nppv.id, details(CheckKind.NPPV, CheckStatus.WITHDRAWN, cleared_on=nppv.cleared_on,
                                  decided_on=TODAY),
        actor=coordinator, now=NOW + dt.timedelta(hours=2),
    )

    assert [offer.status for offer in offers] == [OfferStatus.WITHDRAWN, OfferStatus.OFFERED]
    assert offers[0].ended_reason
    assert len(mail(session, "allocation/offer_withdrawn_clearance")) == 1
    assert session.scalars(select(AllocationOffer).where(AllocationOffer.user_id == co.user_id)).one().is_live


# ---------------------------------------------------------------------------------------------
# The case stops


def test_putting_a_case_on_hold_withdraws_its_live_offers_and_tells_each_facilitator(session):
    coordinator, case, lead, co, offers = offered_pair(session)
    services.accept_offer(session, offers[0].id, actor=lead.user, now=NOW + dt.timedelta(hours=1))

    case_services.move_case(session, case.id, CaseStatus.ON_HOLD, actor=coordinator, now=NOW + dt.timedelta(hours=2),
                            reason="Awaiting sentence")

    assert [(offer.status, offer.ended_reason) for offer in offers] == [
        (OfferStatus.WITHDRAWN, "The case has been put on hold")] * 2
    told = mail(session, "allocation/offer_withdrawn")
    assert sorted(message.recipients[0] for message in told) == sorted([lead.user.email, co.user.email])
    assert "has been withdrawn: The case has been put on hold" in told[0].text_body
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "allocation.offer_withdrawn")).all()
    assert {entry.actor_id for entry in entries} == {coordinator.id}


def test_allocation_through_the_offers_leaves_the_offers_alone(session):
    _coordinator, case, lead, co, offers = offered_pair(session)

    services.accept_offer(session, offers[0].id, actor=lead.user, now=NOW + dt.timedelta(hours=1))
    services.accept_offer(session, offers[1].id, actor=co.user, now=NOW + dt.timedelta(hours=1))

    assert case.status is CaseStatus.ALLOCATED
    assert [offer.status for offer in offers] == [OfferStatus.ALLOCATED] * 2
    assert mail(session, "allocation/offer_withdrawn") == []
