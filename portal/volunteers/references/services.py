"""Reference use cases: request both references by single-use link, take the referee's answers, record a
reference received by post or phone, decide on it, and chase referees who have not replied.

Services take the session first and `actor` and `now` as keywords, flush and never commit, audit every
change in the same transaction and queue mail through the outbox. They raise NotFound, PermissionDenied,
RuleViolation, ReferenceInvalid (answers, with messages per field) and ReferenceLinkUnusable (used,
expired or unknown links).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.core import audit, outbox, settings
from portal.core.accounts import Role, User, UserRole, digest, is_coordinator, normalise_email
from portal.core.clock import LONDON
from portal.core.errors import NotFound, PermissionDenied, RuleViolation
from portal.core.validation import FieldErrors, clean_text, too_long
from portal.volunteers.models import CLOSED_STATUSES, Application, ApplicationStatus
from portal.volunteers.references import permissions, queries
from portal.volunteers.references.errors import LinkState, ReferenceInvalid, ReferenceLinkUnusable
from portal.volunteers.references.models import (
    ReceivedBy,
    Reference,
    ReferenceLink,
    ReferenceStatus,
    WouldRecommend,
)

CHASE_DAYS_SETTING = "volunteers.reference_chase_days"
CHASE_DAYS_DEFAULT = 7
LINK_DAYS_SETTING = "volunteers.reference_link_days"
LINK_DAYS_DEFAULT = 28
# Two reminders, then the coordinator is told; referees are not nagged beyond that.
MAX_CHASES = 2

NAME_MAX = 100
KNOWN_FOR_MAX = 100
CAPACITY_MAX = 200
TEXT_MAX = 2000
NOTE_MAX = 2000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


# ---------------------------------------------------------------------------------------------
# Small helpers


class _Errors(FieldErrors):
    """FieldErrors that raise ReferenceInvalid and can read one text answer."""

    def __init__(self) -> None:
        super().__init__(ReferenceInvalid)

    def text(self, data: Mapping[str, Any], field: str, what: str, limit: int, *, missing: str | None) -> str | None:
        value = clean_text(data.get(field))
        if not value:
            if missing:
                self.add(field, missing)
            return None
        if len(value) > limit:
            self.add(field, too_long(what, limit, value))
        return value


def _yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"yes": True, "no": False}.get(clean_text(value).lower())


def chase_days(session: Session) -> int:
    """Days to wait for a referee's reply before each reminder (the `volunteers.reference_chase_days` setting)."""
    return int(settings.get_setting(session, CHASE_DAYS_SETTING, CHASE_DAYS_DEFAULT))


def link_days(session: Session) -> int:
    """How long a reference link works (the `volunteers.reference_link_days` setting)."""
    return int(settings.get_setting(session, LINK_DAYS_SETTING, LINK_DAYS_DEFAULT))


def _require_manager(actor: User) -> None:
    if not permissions.can_manage_references(actor):
        raise PermissionDenied("Only coordinators can manage references")


def _load_application(session: Session, application_id: int) -> Application:
    application = session.scalar(select(Application).where(Application.id == application_id).with_for_update())
    if application is None or application.is_draft:
        raise NotFound("Application not found")
    return application


def _require_requestable(application: Application) -> None:
    if application.status not in permissions.REQUESTABLE_STATUSES:
        raise RuleViolation(
            f"References can be asked for once an application is shortlisted and while it is open: "
            f"application {application.reference} is {application.status.label}"
        )


def _issue_link(session: Session, reference: Reference, *, now: dt.datetime) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        ReferenceLink(
            reference_id=reference.id, token_digest=digest(raw), created_at=now,
            expires_at=now + dt.timedelta(days=link_days(session)),
        )
    )
    session.flush()
    return raw


def _revoke_links(session: Session, reference: Reference, *, now: dt.datetime) -> None:
    session.execute(
        update(ReferenceLink)
        .where(ReferenceLink.reference_id == reference.id, ReferenceLink.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def _day(moment: dt.datetime) -> str:
    return f"{moment.astimezone(LONDON):%-d %B %Y}"


def _send_link(session: Session, reference: Reference, *, now: dt.datetime, chase: int = 0) -> None:
    """E-mail the referee a new link: the request itself (chase 0) or reminder number `chase`."""
    raw = _issue_link(session, reference, now=now)
    application = reference.application
    context = {
        "referee_name": reference.referee.name,
        "applicant_name": application.full_name,
        "link": f"{reference.link_prefix}{raw}",
        "expires_on": _day(now + dt.timedelta(days=link_days(session))),
        "requested_on": _day(reference.requested_at or now),
        "chase": chase,
    }
    if chase:
        subject = f"Reminder: a reference for {application.full_name}"
        template, key = "volunteers/reference_chase", f"volunteers.reference_chase:{reference.id}:" \
                                                      f"{reference.generation}:{chase}"
    else:
        subject = f"Please give a reference for {application.full_name}"
        template, key = "volunteers/reference_request", f"volunteers.reference_request:{reference.id}:" \
                                                        f"{reference.generation}"
    outbox.queue(session, to=reference.email, subject=subject, template=template, context=context,
                 dedupe_key=key, now=now)
    reference.last_sent_at = now


# ---------------------------------------------------------------------------------------------
# Requesting


def request_references(
    session: Session, application_id: int, *, link_prefix: str, actor: User, now: dt.datetime,
) -> list[Reference]:
    """Ask both referees for a reference: each gets an e-mail with a single-use link (`link_prefix` + token).

    Asking again sends nothing new for a referee already asked (or whose reference is recorded), so a
    double click is harmless; returns the application's references. Coordinators only; RuleViolation
    before the shortlist, once the application is closed, or when a referee is missing.
    """
    _require_manager(actor)
    application = _load_application(session, application_id)
    _require_requestable(application)
    referees = sorted(application.referees, key=lambda referee: referee.position)
    if len(referees) < 2:
        raise RuleViolation(f"Application {application.reference} does not name two referees")
    existing = {reference.position for reference in queries.list_references(session, application.id)}
    for referee in referees:
        if referee.position in existing:
            continue
        reference = Reference(
            application_id=application.id, referee_id=referee.id, position=referee.position,
            status=ReferenceStatus.REQUESTED, email=normalise_email(referee.email), link_prefix=link_prefix,
            requested_at=now, requested_by_id=actor.id, created_at=now,
        )
        session.add(reference)
        session.flush()
        _send_link(session, reference, now=now)
        audit.record(session, actor, "reference.requested", reference, at=now, reference=application.reference,
                     position=referee.position, email=reference.email)
    session.flush()
    return queries.list_references(session, application.id)


def resend_reference_request(
    session: Session, application_id: int, reference_id: int, email: str, *, link_prefix: str, actor: User,
    now: dt.datetime,
) -> Reference:
    """Send the request again, to `email` (a corrected address, or the same one): earlier links stop
    working and the chasing starts again from now. RuleViolation once the reference is in."""
    _require_manager(actor)
    application = _load_application(session, application_id)
    reference = queries.get_reference(session, application.id, reference_id)
    _require_requestable(application)
    if reference.is_received:
        raise RuleViolation("This reference has already been received: there is nothing to send")
    errors = _Errors()
    address = errors.text({"email": email}, "email", "Email address", 254,
                          missing="Enter the referee’s email address")
    if address and "email" not in errors.errors and not _EMAIL.match(address):
        errors.add("email", "Enter an email address in the correct format, like name@example.com")
    errors.raise_if_any()
    previous = reference.email
    _revoke_links(session, reference, now=now)
    reference.email = normalise_email(address)
    reference.link_prefix = link_prefix
    reference.generation += 1
    reference.chase_count = 0
    reference.missing_reported_at = None
    reference.requested_at = now
    session.flush()
    _send_link(session, reference, now=now)
    audit.record(session, actor, "reference.resent", reference, at=now, reference=application.reference,
                 position=reference.position, previous_email=previous, email=reference.email)
    return reference


# ---------------------------------------------------------------------------------------------
# The referee's answers


def check_link(session: Session, token: str, *, now: dt.datetime) -> Reference:
    """The reference a token may answer now; raises ReferenceLinkUnusable saying used, expired or unknown."""
    found = queries.find_link(session, token, now=now)
    if found.state is not LinkState.VALID:
        raise ReferenceLinkUnusable(found.state)
    return found.reference


def _answers(data: Mapping[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    answers: dict[str, Any] = {
        "referee_name": errors.text(data, "referee_name", "Your name", NAME_MAX, missing="Enter your name"),
        "known_for": errors.text(data, "known_for", "How long you have known them", KNOWN_FOR_MAX,
                                 missing="Enter how long you have known the applicant"),
        "capacity": errors.text(data, "capacity", "How you know them", CAPACITY_MAX,
                                missing="Enter how you know the applicant"),
        "suitability": errors.text(
            data, "suitability", "Your answer about suitability", TEXT_MAX,
            missing="Tell us how suitable the applicant is to work with people harmed by crime and people "
                    "who have offended"),
        "reliability": errors.text(data, "reliability", "Your answer about reliability", TEXT_MAX,
                                   missing="Tell us how reliable the applicant is"),
    }
    has_concerns = _yes_no(data.get("has_concerns"))
    if has_concerns is None:
        errors.add("has_concerns", "Select yes if you have any concerns about the applicant")
    concerns = errors.text(data, "concerns", "Your concerns", TEXT_MAX,
                           missing="Describe your concerns" if has_concerns else None)
    answers["has_concerns"] = has_concerns
    answers["concerns"] = concerns if has_concerns else None
    try:
        answers["would_recommend"] = WouldRecommend(clean_text(data.get("would_recommend")))
    except ValueError:
        errors.add("would_recommend", "Select whether you would recommend the applicant as a volunteer")
    if _yes_no(data.get("confirmed")) is not True:
        errors.add("confirmed", "Confirm that what you have written is true to the best of your knowledge")
    errors.raise_if_any()
    return answers


def submit_reference(session: Session, token: str, data: Mapping[str, Any], *, now: dt.datetime) -> Reference:
    """Store a referee's answers sent through their link, mark the reference received and tell the
    coordinator who asked. The link is spent: a second submission (double click, back button) raises
    ReferenceLinkUnusable(USED) and changes nothing. Raises ReferenceInvalid listing every problem."""
    reference = check_link(session, token, now=now)
    answers = _answers(data)
    # Claim the reference with a guarded update, so two submissions at once store one reference.
    claimed = session.execute(
        update(Reference)
        .where(Reference.id == reference.id, Reference.status == ReferenceStatus.REQUESTED)
        .values(status=ReferenceStatus.RECEIVED, received_at=now, received_by=ReceivedBy.FORM)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ReferenceLinkUnusable(LinkState.USED)
    session.refresh(reference)
    for name, value in answers.items():
        setattr(reference, name, value)
    session.flush()
    audit.record(session, None, "reference.received", reference, at=now,
                 reference=reference.application.reference, position=reference.position, via=ReceivedBy.FORM)
    application = reference.application
    for coordinator in _coordinators_to_tell(session, reference):
        outbox.queue(
            session, to=coordinator.email,
            subject=f"Reference received for {application.full_name} ({application.reference})",
            template="volunteers/reference_received",
            context={"name": coordinator.name, "applicant_name": application.full_name,
                     "reference": application.reference, "referee_name": reference.referee.name},
            dedupe_key=f"volunteers.reference_received:{reference.id}:{coordinator.id}", now=now,
        )
    return reference


# ---------------------------------------------------------------------------------------------
# The coordinator's part


def _decision(errors: _Errors, is_satisfactory: Any, note: Any) -> tuple[bool | None, str | None]:
    satisfactory = _yes_no(is_satisfactory)
    if satisfactory is None:
        errors.add("is_satisfactory", "Select whether the reference is satisfactory")
    text = errors.text({"note": note}, "note", "The note", NOTE_MAX,
                       missing="Enter a note saying why the reference is not satisfactory"
                       if satisfactory is False else None)
    return satisfactory, text


def _require_open_decision(application: Application) -> None:
    if application.status in CLOSED_STATUSES or application.status == ApplicationStatus.OFFERED:
        raise RuleViolation(
            f"Application {application.reference} is {application.status.label}: its references can no longer "
            "be changed"
        )


def decide_reference(
    session: Session, application_id: int, reference_id: int, *, is_satisfactory: Any, note: str | None,
    actor: User, now: dt.datetime,
) -> Reference:
    """Record a received reference as satisfactory or not, with a note (required when it is not).

    A decision may be changed (audited each time) until the offer is made or the application closed. Coordinators only;
    RuleViolation for a reference not yet received; ReferenceInvalid for a missing choice or note.
    """
    _require_manager(actor)
    application = _load_application(session, application_id)
    reference = queries.get_reference(session, application.id, reference_id)
    _require_open_decision(application)
    if not reference.is_received:
        raise RuleViolation("This reference has not been received yet: record it when it arrives")
    errors = _Errors()
    satisfactory, text = _decision(errors, is_satisfactory, note)
    errors.raise_if_any()
    previous = reference.is_satisfactory
    reference.is_satisfactory = satisfactory
    reference.decision_note = text
    reference.decided_at = now
    reference.decided_by_id = actor.id
    session.flush()
    audit.record(session, actor, "reference.decided", reference, at=now, reference=application.reference,
                 position=reference.position, satisfactory=satisfactory, previous=previous)
    return reference


def record_reference(
    session: Session, application_id: int, position: int, *, received_by: ReceivedBy | str, summary: str,
    is_satisfactory: Any, note: str | None, actor: User, now: dt.datetime,
) -> Reference:
    """Record a reference that came by post or phone, with a summary and the decision, for the referee at
    `position` (asked through the portal or not). Any links sent to that referee stop working.

    Coordinators only; RuleViolation if the application is not shortlisted or later, or the reference is
    already in; ReferenceInvalid for missing or too long answers.
    """
    _require_manager(actor)
    application = _load_application(session, application_id)
    _require_requestable(application)
    referee = next((referee for referee in application.referees if referee.position == position), None)
    if referee is None:
        raise NotFound("Referee not found")
    errors = _Errors()
    try:
        how = ReceivedBy(received_by)
    except ValueError:
        how = None
    if how not in (ReceivedBy.POST, ReceivedBy.PHONE):
        errors.add("received_by", "Select how the reference was received")
    text = errors.text({"summary": summary}, "summary", "The summary", TEXT_MAX,
                       missing="Enter a summary of what the referee said")
    satisfactory, note_text = _decision(errors, is_satisfactory, note)
    errors.raise_if_any()
    reference = session.scalar(
        select(Reference).where(Reference.application_id == application.id, Reference.position == position)
    )
    if reference is not None and reference.is_received:
        raise RuleViolation(f"The reference from {referee.name} has already been received")
    if reference is None:
        reference = Reference(application_id=application.id, referee_id=referee.id, position=position,
                              email=normalise_email(referee.email), created_at=now)
        session.add(reference)
    reference.status = ReferenceStatus.RECEIVED
    reference.received_at = now
    reference.received_by = how
    reference.referee_name = referee.name
    reference.summary = text
    reference.is_satisfactory = satisfactory
    reference.decision_note = note_text
    reference.decided_at = now
    reference.decided_by_id = actor.id
    session.flush()
    _revoke_links(session, reference, now=now)
    audit.record(session, actor, "reference.recorded", reference, at=now, reference=application.reference,
                 position=position, via=how, satisfactory=satisfactory)
    return reference


# ---------------------------------------------------------------------------------------------
# Chasing (a job: idempotent, safe on several machines at once)


@dataclass(frozen=True)
class ChaseReport:
    chased: int
    reported_missing: int


def _coordinators_to_tell(session: Session, reference: Reference) -> list[User]:
    """The coordinator who asked for the reference, or every coordinator when they no longer can."""
    if reference.requested_by is not None and is_coordinator(reference.requested_by):
        return [reference.requested_by]
    return list(
        session.scalars(
            select(User).join(UserRole).where(UserRole.role == Role.COORDINATOR, User.is_deactivated.is_(False))
            .order_by(User.id)
        )
    )


def chase_references(session: Session, *, now: dt.datetime) -> ChaseReport:
    """E-mail each referee who has not replied `chase_days` after the request (or the last reminder),
    at most MAX_CHASES times; `chase_days` after the last reminder, tell the coordinator once that the
    reference is still missing. Each e-mail is sent once however often this runs (row locks and
    dedupe keys). References of closed applications are not chased."""
    cutoff = now - dt.timedelta(days=chase_days(session))
    due = list(
        session.scalars(
            select(Reference)
            .join(Application, Application.id == Reference.application_id)
            .where(
                Reference.status == ReferenceStatus.REQUESTED,
                Reference.last_sent_at <= cutoff,
                Reference.missing_reported_at.is_(None),
                Application.status.not_in(CLOSED_STATUSES),
            )
            .order_by(Reference.id)
            .with_for_update(of=Reference, skip_locked=True)
        )
    )
    chased = reported = 0
    for reference in due:
        application = reference.application
        if reference.chase_count < MAX_CHASES:
            reference.chase_count += 1
            _send_link(session, reference, now=now, chase=reference.chase_count)
            audit.record(session, None, "reference.chased", reference, at=now, reference=application.reference,
                         position=reference.position, chase=reference.chase_count)
            chased += 1
            continue
        for coordinator in _coordinators_to_tell(session, reference):
            outbox.queue(
                session, to=coordinator.email,
                subject=f"Reference still missing for {application.full_name} ({application.reference})",
                template="volunteers/reference_missing",
                context={"name": coordinator.name, "applicant_name": application.full_name,
                         "reference": application.reference, "referee_name": reference.referee.name,
                         "referee_email": reference.email, "requested_on": _day(reference.requested_at or now),
                         "chases": reference.chase_count},
                dedupe_key=f"volunteers.reference_missing:{reference.id}:{reference.generation}:{coordinator.id}",
                now=now,
            )
        reference.missing_reported_at = now
        audit.record(session, None, "reference.reported_missing", reference, at=now,
                     reference=application.reference, position=reference.position)
        reported += 1
    session.flush()
    return ChaseReport(chased=chased, reported_missing=reported)
