"""The offer: an interviewed applicant with two satisfactory references becomes a volunteer in vetting.

Services take the session first and `actor` and `now` as keywords, flush and never commit, audit every
change and queue mail through the outbox; they raise NotFound, PermissionDenied and RuleViolation.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import audit, outbox
from portal.core.accounts import Role, User, UserRole
from portal.core.clock import LONDON
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.volunteers import services as application_services
from portal.volunteers.models import Application, ApplicationStatus, InterviewOutcome
from portal.volunteers.profiles import permissions
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.references import queries as reference_queries
from portal.volunteers.vetting import queries as vetting_queries
from portal.volunteers.vetting import services as vetting_services
from portal.volunteers.vetting.models import CheckKind, CheckStatus


def offer_problems(session: Session, application: Application) -> list[str]:
    """Everything that still stands in the way of an offer, in the coordinator's words (empty when ready):
    the application must be interviewed, the panel's decision must be "offer", and both references must
    be received and recorded satisfactory."""
    problems = []
    if application.status != ApplicationStatus.INTERVIEWED:
        problems.append(f"The application is {application.status.label}: an offer can be made only after "
                        "the interview")
    if application.interview_outcome is None:
        problems.append("The interview outcome has not been recorded")
    elif application.interview_outcome != InterviewOutcome.OFFER:
        problems.append(f"The interview outcome is “{application.interview_outcome.label}”, not “offer”")
    references = {reference.position: reference for reference in reference_queries.list_references(
        session, application.id)}
    names = {referee.position: referee.name for referee in application.referees}
    for position in (1, 2):
        who = f"The reference from {names.get(position, f'referee {position}')}"
        reference = references.get(position)
        if reference is None:
            problems.append(f"{who} has not been requested")
        elif not reference.is_received:
            problems.append(f"{who} has not been received")
        elif reference.is_satisfactory is None:
            problems.append(f"{who} has not been recorded as satisfactory")
        elif not reference.is_satisfactory:
            problems.append(f"{who} was recorded as not satisfactory")
    return problems


def find_volunteer_for_application(session: Session, application: Application) -> Volunteer | None:
    return session.scalar(select(Volunteer).where(Volunteer.user_id == application.user_id))


def _record_references_check(
    session: Session, volunteer: Volunteer, application: Application, *, actor: User, now: dt.datetime,
) -> None:
    """The two satisfactory references of recruitment count as the vetting module's references check
    (once: a volunteer who rejoins keeps the check they already have)."""
    held = [check for check in vetting_queries.list_checks(session, volunteer.id)
            if check.kind is CheckKind.REFERENCES and check.status is CheckStatus.CLEARED]
    if held:
        return
    vetting_services.record_check(
        session, volunteer.id,
        vetting_services.CheckDetails(
            kind=CheckKind.REFERENCES, status=CheckStatus.CLEARED, cleared_on=now.astimezone(LONDON).date(),
            decision_maker=actor.name,
            notes=f"Two satisfactory references taken up at recruitment ({application.reference}).",
        ),
        actor=actor, now=now,
    )


def make_offer(session: Session, application_id: int, *, actor: User, now: dt.datetime) -> Volunteer:
    """Offer the applicant a place: the application moves to OFFERED, their volunteer record is created in
    VETTING (districts, availability, languages and phone copied from the application), they gain the
    volunteer role (keeping their other roles), and they are e-mailed what happens next.

    Offering again (double click) returns the same record and sends nothing. Raises PermissionDenied for
    anyone but a coordinator, NotFound for an unknown application, and RuleViolation listing every
    missing requirement (status, interview outcome, each reference).
    """
    if not permissions.can_make_offer(actor):
        raise PermissionDenied("Only coordinators can make offers")
    application = session.scalar(select(Application).where(Application.id == application_id).with_for_update())
    if application is None or application.is_draft:
        raise NotFound("Application not found")
    existing = find_volunteer_for_application(session, application)
    if application.status == ApplicationStatus.OFFERED and existing is not None \
            and existing.application_id == application.id:
        return existing
    problems = offer_problems(session, application)
    if problems:
        raise RuleViolation(f"An offer cannot be made yet. {'. '.join(problems)}", reasons=problems)
    if existing is not None and existing.status != VolunteerStatus.LEFT:
        raise RuleViolation(f"{application.full_name} is already a volunteer ({existing.status.label})")
    application_services.change_status(session, application, ApplicationStatus.OFFERED, actor=actor, now=now)
    volunteer = existing or Volunteer(user_id=application.user_id, created_at=now)
    volunteer.application_id = application.id
    volunteer.status = VolunteerStatus.VETTING
    volunteer.phone = application.phone
    volunteer.districts = list(application.districts or [])
    volunteer.availability = {day: list(periods) for day, periods in (application.availability or {}).items()}
    volunteer.languages = list(application.languages or [])
    volunteer.offered_at = now
    volunteer.status_changed_at = now
    session.add(volunteer)
    session.flush()
    audit.record(session, actor, "volunteer.created" if existing is None else "volunteer.rejoined", volunteer,
                 at=now, reference=application.reference, status=VolunteerStatus.VETTING)
    _record_references_check(session, volunteer, application, actor=actor, now=now)
    user = application.user
    if not user.has_role(Role.VOLUNTEER):
        user.role_links.append(UserRole(role=Role.VOLUNTEER, granted_at=now))
        session.flush()
        audit.record(session, actor, "user.roles_changed", user, at=now, added=[Role.VOLUNTEER], removed=[])
    outbox.queue(
        session,
        to=application.email or user.email,
        subject=f"We are offering you a place as a volunteer ({application.reference})",
        template="volunteers/offer_made",
        context={"name": application.display_name, "reference": application.reference},
        dedupe_key=f"volunteers.offer_made:{application.id}",
        now=now,
    )
    return volunteer
