"""make_offer on a plain Session: every rule, the volunteer record, the role, the audit and the e-mail."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from portal.core.accounts import Role
from portal.core.audit import AuditEntry
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.outbox import OutboxMessage
from portal.extensions import db
from portal.volunteers.models import Application, ApplicationStatus, InterviewOutcome
from portal.volunteers.profiles import services
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.references import services as reference_services
from portal.volunteers.vetting import queries as vetting_queries
from portal.volunteers.vetting.models import CheckKind, CheckStatus
from tests.builders import make_user
from tests.smtp import deliver_outbox
from tests.volunteers.builders import NOW, make_application, make_coordinator

S = ApplicationStatus


def ready_for_offer(session, *, now: dt.datetime = NOW, satisfactory=("yes", "yes"),
                    outcome=InterviewOutcome.OFFER) -> tuple[Application, object]:
    """An interviewed application with the panel's outcome and both references recorded by phone."""
    coordinator = make_coordinator(session)
    application = make_application(session, status=S.INTERVIEWED, now=now)
    application.interview_outcome = outcome
    for position, verdict in zip((1, 2), satisfactory, strict=True):
        if verdict is not None:
            reference_services.record_reference(
                session, application.id, position, received_by="phone", summary="Spoke to them.",
                is_satisfactory=verdict, note="Concerns about reliability." if verdict == "no" else "",
                actor=coordinator, now=now,
            )
    session.flush()
    return application, coordinator


def test_an_offer_creates_the_volunteer_in_vetting_with_the_applications_answers(session):
    application, coordinator = ready_for_offer(session)
    volunteer = services.make_offer(session, application.id, actor=coordinator, now=NOW)
    assert application.status == S.OFFERED
    assert volunteer.status == VolunteerStatus.VETTING and volunteer.user_id == application.user_id
    assert volunteer.application_id == application.id and volunteer.offered_at == NOW
    assert volunteer.districts == ["Colchester", "Tendring"]
    assert volunteer.availability == {"monday": ["evening"], "saturday": ["morning"]}
    assert volunteer.languages == ["English", "Irish"] and volunteer.phone == "07700 900982"
    assert application.user.roles == {Role.APPLICANT, Role.VOLUNTEER}
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"application.offered", "volunteer.created", "user.roles_changed"} <= actions


def test_the_references_of_recruitment_become_the_vetting_references_check(session):
    application, coordinator = ready_for_offer(session)
    volunteer = services.make_offer(session, application.id, actor=coordinator, now=NOW)
    checks = vetting_queries.list_checks(session, volunteer.id)
    assert [(check.kind, check.status, check.cleared_on) for check in checks] == [
        (CheckKind.REFERENCES, CheckStatus.CLEARED, NOW.date())
    ]
    assert application.reference in checks[0].notes
    clearance = vetting_queries.cleared_to_practise(session, volunteer.user_id, NOW.date())
    assert not clearance.cleared and "No references recorded" not in clearance.reasons
    # A double click records it once.
    services.make_offer(session, application.id, actor=coordinator, now=NOW)
    assert len(vetting_queries.list_checks(session, volunteer.id)) == 1


def test_the_offer_email_says_what_happens_next(session):
    application, coordinator = ready_for_offer(session)
    services.make_offer(session, application.id, actor=coordinator, now=NOW)
    [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.template == "volunteers/offer_made"))
    assert message.recipients == ["siobhan@example.org"]
    assert "Dear Shiv" in message.text_body
    for words in ("vetting forms", "4-day facilitator course", "reimburse"):
        assert words in message.text_body


def test_offering_twice_returns_the_same_volunteer_and_sends_one_email(session):
    application, coordinator = ready_for_offer(session)
    first = services.make_offer(session, application.id, actor=coordinator, now=NOW)
    second = services.make_offer(session, application.id, actor=coordinator, now=NOW + dt.timedelta(seconds=1))
    assert first.id == second.id
    assert len(session.scalars(select(Volunteer)).all()) == 1
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.template == "volunteers/offer_made"))
               .all()) == 1
    assert len(session.scalars(select(AuditEntry).where(AuditEntry.action == "application.offered")).all()) == 1


@pytest.mark.parametrize("status", [S.SUBMITTED, S.SHORTLISTED, S.INTERVIEW_BOOKED, S.REJECTED, S.WITHDRAWN])
def test_an_offer_needs_an_interviewed_application(session, status):
    application, coordinator = ready_for_offer(session)
    application.status = status
    session.flush()
    with pytest.raises(RuleViolation) as raised:
        services.make_offer(session, application.id, actor=coordinator, now=NOW)
    assert raised.value.reasons == [
        f"The application is {status.label}: an offer can be made only after the interview"
    ]
    assert session.scalars(select(Volunteer)).all() == []


@pytest.mark.parametrize(("outcome", "message"), [
    (None, "The interview outcome has not been recorded"),
    (InterviewOutcome.HOLD, "The interview outcome is “hold”, not “offer”"),
    (InterviewOutcome.REJECT, "The interview outcome is “reject”, not “offer”"),
])
def test_an_offer_needs_the_panels_decision_to_offer(session, outcome, message):
    application, coordinator = ready_for_offer(session, outcome=outcome)
    with pytest.raises(RuleViolation) as raised:
        services.make_offer(session, application.id, actor=coordinator, now=NOW)
    assert raised.value.reasons == [message]
    assert application.status == S.INTERVIEWED


def test_an_offer_names_each_missing_or_unsatisfactory_reference(session):
    application, coordinator = ready_for_offer(session, satisfactory=("no", None))
    with pytest.raises(RuleViolation) as raised:
        services.make_offer(session, application.id, actor=coordinator, now=NOW)
    assert raised.value.reasons == [
        "The reference from Jean-Luc Picard was recorded as not satisfactory",
        "The reference from Zoë Ní Bhriain has not been requested",
    ]
    assert str(raised.value).startswith("An offer cannot be made yet.")
    assert application.user.roles == {Role.APPLICANT}


def test_a_received_but_undecided_reference_blocks_the_offer(session):
    application, coordinator = ready_for_offer(session, satisfactory=("yes", None))
    reference_services.request_references(session, application.id, link_prefix="http://localhost/r/",
                                          actor=coordinator, now=NOW)
    with pytest.raises(RuleViolation) as raised:
        services.make_offer(session, application.id, actor=coordinator, now=NOW)
    assert raised.value.reasons == ["The reference from Zoë Ní Bhriain has not been received"]


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.VOLUNTEER, Role.TRAINER, Role.ADMIN])
def test_only_coordinators_make_offers(session, role):
    application, _ = ready_for_offer(session)
    with pytest.raises(PermissionDenied):
        services.make_offer(session, application.id, actor=make_user(session, roles=(role,)), now=NOW)
    assert application.status == S.INTERVIEWED


def test_an_unknown_or_draft_application_is_not_found(session):
    coordinator = make_coordinator(session)
    draft = make_application(session)
    for application_id in (draft.id, 99999):
        with pytest.raises(NotFound):
            services.make_offer(session, application_id, actor=coordinator, now=NOW)


def test_a_volunteer_who_left_and_reapplied_is_taken_back_into_vetting(session):
    application, coordinator = ready_for_offer(session)
    old = Volunteer(user_id=application.user_id, status=VolunteerStatus.LEFT)
    session.add(old)
    session.flush()
    volunteer = services.make_offer(session, application.id, actor=coordinator, now=NOW)
    assert volunteer.id == old.id and volunteer.status == VolunteerStatus.VETTING
    assert volunteer.application_id == application.id


def test_the_offer_email_reaches_the_smtp_server(app, smtp):
    today = dt.datetime.now(dt.UTC)
    with app.app_context():
        application, coordinator = ready_for_offer(db.session, now=today)
        services.make_offer(db.session, application.id, actor=coordinator, now=today)
        db.session.commit()
    deliver_outbox(app)
    [message] = smtp.inbox.to("siobhan@example.org")
    assert message["Subject"].startswith("We are offering you a place as a volunteer")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "4-day facilitator course" in body and "vetting" in body
