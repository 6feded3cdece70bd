"""The debrief prompt by e-mail: logging a case session e-mails each facilitator on the day (the logger
too) a link to book a debrief, once per session per person; the link reaches the debrief booking page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from portal.cases import services as case_services
from portal.cases.models import AllocationRole, CaseStatus, SessionType
from portal.config import Config
from portal.core import clock
from portal.core.accounts import Role, User
from portal.core.audit import AuditEntry
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.supervision import services
from tests import builders
from tests.cases.builders import make_allocation, make_case
from tests.supervision.builders import NOW, make_coordinator, make_volunteer, slot_details

HELD_ON = dt.date(2026, 11, 20)
DEBRIEF_LINK = f"{Config.BASE_URL.rstrip('/')}/supervision/slots?purpose=debrief"


def prompts(session) -> list[OutboxMessage]:
    return list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "supervision/debrief_prompt").order_by(OutboxMessage.id)))


def log_conference(session, case, actor, *, held_on=HELD_ON, now=NOW):
    return case_services.record_session(
        session, case.id, session_type=SessionType.CONFERENCE, held_on=held_on, duration_minutes=90,
        attendees="Both parties", actor=actor, now=now)


def test_logging_a_case_meeting_emails_each_facilitator_on_the_day_a_link_to_book_a_debrief(session):
    case = make_case(session, status=CaseStatus.INTERVENTION)
    lead, co_facilitator, left_since = make_volunteer(session), make_volunteer(session), make_volunteer(session)
    left_before, joined_after = make_volunteer(session), make_volunteer(session)
    make_allocation(session, case, lead)
    make_allocation(session, case, co_facilitator, role=AllocationRole.CO_FACILITATOR)
    make_allocation(session, case, left_since, ends_on=dt.date(2026, 11, 22))
    make_allocation(session, case, left_before, ends_on=HELD_ON)
    make_allocation(session, case, joined_after, role=AllocationRole.CO_FACILITATOR, starts_on=dt.date(2026, 11, 21))

    logged = log_conference(session, case, lead)

    messages = prompts(session)
    assert sorted(m.recipients[0] for m in messages) == sorted([lead.email, co_facilitator.email, left_since.email])
    message = next(m for m in messages if m.recipients == [lead.email])
    assert message.subject == f"Book a debrief after the conference on {case.reference}"
    assert f"You facilitated a conference on case {case.reference} on 20 November 2026" in message.text_body
    assert f"Please book a debrief: {DEBRIEF_LINK}" in message.text_body
    assert f'<a href="{DEBRIEF_LINK}">Book a debrief</a>' in message.html_body
    assert "Aoife" not in message.text_body  # no party's name in an e-mail
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "supervision.debrief_prompted")).all()
    assert sorted(entry.subject_id for entry in audited) == sorted([lead.id, co_facilitator.id, left_since.id])
    assert {entry.details["case_session_id"] for entry in audited} == {logged.id}
    assert {entry.actor_id for entry in audited} == {lead.id}


def test_each_facilitator_is_prompted_once_per_session_however_often_it_is_sent(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=CaseStatus.INTERVENTION)
    volunteer = make_volunteer(session)
    make_allocation(session, case, volunteer)

    first = log_conference(session, case, coordinator)
    assert services.prompt_debriefs(session, first.id, actor=coordinator, now=NOW + dt.timedelta(minutes=1)) == 0
    assert len(prompts(session)) == 1

    log_conference(session, case, coordinator, held_on=dt.date(2026, 11, 22))
    assert [m.recipients for m in prompts(session)] == [[volunteer.email]] * 2
    assert session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "supervision.debrief_prompted")) == 2


def test_facilitators_who_cannot_book_supervision_are_not_e_mailed(session):
    coordinator = make_coordinator(session)
    case = make_case(session, status=CaseStatus.INTERVENTION)
    staff_facilitator = make_coordinator(session)
    deactivated = make_volunteer(session)
    deactivated.is_deactivated = True
    make_allocation(session, case, staff_facilitator)
    make_allocation(session, case, deactivated, role=AllocationRole.CO_FACILITATOR)

    logged = log_conference(session, case, coordinator)

    assert prompts(session) == []
    assert services.prompt_debriefs(session, logged.id, actor=coordinator, now=NOW) == 0


def test_a_session_logged_and_rolled_back_queues_no_prompt(session):
    case = make_case(session, status=CaseStatus.INTERVENTION)
    volunteer = make_volunteer(session)
    make_allocation(session, case, volunteer)
    session.commit()

    log_conference(session, case, volunteer)
    session.rollback()

    assert prompts(session) == []


def test_a_session_logged_on_the_case_page_e_mails_a_link_that_opens_the_debrief_booking_page(
    app, client, login_as,
):
    coordinator = login_as(Role.COORDINATOR)
    with app.app_context():
        case = make_case(db.session, status=CaseStatus.INTERVENTION, now=clock.now(),
                         received_on=clock.today() - dt.timedelta(days=20))
        volunteer = builders.make_user(db.session, roles=(Role.VOLUNTEER,))
        make_allocation(db.session, case, volunteer, starts_on=clock.today() - dt.timedelta(days=10))
        supervisor = db.session.get(User, coordinator.id)
        services.publish_slots(db.session, slot_details(supervisor, day=clock.today() + dt.timedelta(days=7)),
                               actor=supervisor, now=clock.now())
        db.session.commit()
        case_id, volunteer_email = case.id, volunteer.email
    held = clock.today() - dt.timedelta(days=1)
    response = client.post(f"/cases/{case_id}/sessions/new", data={
        "session_type": "conference", "held_on": [str(held.day), str(held.month), str(held.year)],
        "duration_minutes": "90", "attendees": "Both parties"})
    assert response.status_code == 302

    with app.app_context():
        [message] = prompts(db.session)
        assert message.recipients == [volunteer_email]
        assert DEBRIEF_LINK in message.text_body
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "supervision.debrief_prompted"))
        assert entry.actor_id == coordinator.id

    client.post("/sign-out")
    login_as(Role.VOLUNTEER)
    page = client.get(DEBRIEF_LINK.removeprefix(Config.BASE_URL.rstrip("/")))
    assert page.status_code == 200
    assert "purpose=debrief" in page.text  # each session's Book link carries on as a debrief booking

