"""Case use cases: referral intake, records on a case, the status machine and its guards, allocation.

Every service takes the session first and `actor` and `now` (an aware datetime) as keywords; "today"
is `now`'s date in Europe/London. Services flush and never commit, write an audit entry in the same
transaction, and raise NotFound, PermissionDenied, RuleViolation or ValidationFailed (a RuleViolation
whose `reasons` are shown against the form).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.cases import permissions, signals
from portal.cases.errors import AllocationBlocked
from portal.cases.models import (
    INTERVENTION_SESSIONS,
    OPEN_STATUSES,
    PRINCIPAL_ROLES,
    ActionStatus,
    AgreementAction,
    Allocation,
    AllocationParty,
    AllocationRole,
    Case,
    CaseNote,
    CaseReferenceCounter,
    CaseSensitiveKind,
    CaseSession,
    CaseStatus,
    CaseStatusChange,
    ClosureReason,
    Consent,
    ConsentMethod,
    ConsentPurpose,
    ContactAttempt,
    ContactMethod,
    ContactOutcome,
    Feedback,
    InterventionType,
    JusticeStage,
    NoteVisibility,
    OffenceCategory,
    OutcomeAgreement,
    Party,
    PartyRole,
    ReferralSource,
    RiskAssessment,
    RiskRating,
    RiskStage,
    SensitiveKind,
    SessionType,
)
from portal.core import audit, numbering, settings
from portal.core.accounts import Role, User
from portal.core.audit import AuditEntry
from portal.core.clock import LONDON, add_working_days
from portal.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed, transition_error

S = CaseStatus

# Victims' Code 2020, Right 3.6: information about RJ within 5 working days, 1 with enhanced rights.
FIRST_CONTACT_WORKING_DAYS = 5
ENHANCED_RIGHTS_WORKING_DAYS = 1
NO_CONTACT_ATTEMPTS_SETTING = "cases.no_contact_minimum_attempts"
NO_CONTACT_ATTEMPTS_DEFAULT = 3

# Where a case may go next (rj-domain.md §1.17). The guards below decide whether it may go now.
CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.REFERRAL_RECEIVED: frozenset({S.TRIAGE, S.ON_HOLD}),
    S.TRIAGE: frozenset({S.CONTACTING, S.ON_HOLD, S.CLOSED}),
    S.CONTACTING: frozenset({S.ASSESSMENT, S.ON_HOLD, S.CLOSED}),
    S.ASSESSMENT: frozenset({S.AWAITING_ALLOCATION, S.ON_HOLD, S.CLOSED}),
    S.AWAITING_ALLOCATION: frozenset({S.ALLOCATED, S.ON_HOLD, S.CLOSED}),
    # Back to awaiting allocation when the facilitators leave before the intervention is over.
    S.ALLOCATED: frozenset({S.PREPARATION, S.AWAITING_ALLOCATION, S.ON_HOLD, S.CLOSED}),
    S.PREPARATION: frozenset({S.INTERVENTION, S.AWAITING_ALLOCATION, S.ON_HOLD, S.CLOSED}),
    S.INTERVENTION: frozenset(
        {S.MONITORING, S.FOLLOW_UP, S.PREPARATION, S.AWAITING_ALLOCATION, S.ON_HOLD, S.CLOSED}
    ),
    S.MONITORING: frozenset({S.FOLLOW_UP, S.ON_HOLD, S.CLOSED}),
    S.FOLLOW_UP: frozenset({S.ON_HOLD, S.CLOSED}),
    # A held case returns to the status it was held from (checked by a guard), or is closed.
    S.ON_HOLD: (OPEN_STATUSES - {S.ON_HOLD}) | {S.CLOSED},
    # Reopening: coordinators only, with a reason.
    S.CLOSED: frozenset({S.TRIAGE}),
}

R = ClosureReason
_DECLINED = frozenset({R.DECLINED_HARMED, R.DECLINED_RESPONSIBLE})
_WITHDRAWN = frozenset({R.WITHDRAWN_HARMED, R.WITHDRAWN_RESPONSIBLE})
_UNSUITABLE = frozenset({R.UNSUITABLE_RISK, R.UNSUITABLE_NO_RESPONSIBILITY, R.UNSUITABLE_SENSITIVE_COMPLEX})

# The closure reasons that make sense from each status, so the referrer reports stay truthful.
CLOSURE_REASONS: dict[CaseStatus, frozenset[ClosureReason]] = {
    S.REFERRAL_RECEIVED: frozenset(),
    S.TRIAGE: frozenset({R.INELIGIBLE, R.SIGNPOSTED_ELSEWHERE, R.OTHER_PARTY_NOT_IDENTIFIED}),
    S.CONTACTING: _DECLINED | {R.NO_CONTACT, R.SIGNPOSTED_ELSEWHERE, R.OTHER_PARTY_NOT_IDENTIFIED},
    S.ASSESSMENT: _DECLINED | _WITHDRAWN | _UNSUITABLE | {R.SIGNPOSTED_ELSEWHERE},
    S.AWAITING_ALLOCATION: _DECLINED | _WITHDRAWN | _UNSUITABLE,
    S.ALLOCATED: _DECLINED | _WITHDRAWN | _UNSUITABLE,
    S.PREPARATION: _DECLINED
    | _WITHDRAWN
    | {R.UNSUITABLE_RISK, R.UNSUITABLE_NO_RESPONSIBILITY, R.COMPLETED_PARTIAL},
    S.INTERVENTION: _WITHDRAWN | {R.UNSUITABLE_RISK},
    S.MONITORING: frozenset({R.AGREEMENT_NOT_FULFILLED}),
    S.FOLLOW_UP: frozenset({R.COMPLETED_DIRECT, R.COMPLETED_INDIRECT, R.COMPLETED_PARTIAL}),
}

ACTION_TRANSITIONS: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.OPEN: frozenset({ActionStatus.DONE, ActionStatus.NOT_DONE}),
    # Reopening an action corrects a mistake.
    ActionStatus.DONE: frozenset({ActionStatus.OPEN}),
    ActionStatus.NOT_DONE: frozenset({ActionStatus.OPEN}),
}

# Facilitators can be allocated from awaiting allocation on, and replaced at any later open stage.
ALLOCATABLE_STATUSES = frozenset(
    {S.AWAITING_ALLOCATION, S.ALLOCATED, S.PREPARATION, S.INTERVENTION, S.MONITORING, S.FOLLOW_UP}
)
BEFORE_INTERVENTION = frozenset(
    {S.REFERRAL_RECEIVED, S.TRIAGE, S.CONTACTING, S.ASSESSMENT, S.AWAITING_ALLOCATION, S.ALLOCATED,
     S.PREPARATION}
)
SESSION_STATUSES = frozenset({S.ALLOCATED, S.PREPARATION, S.INTERVENTION, S.MONITORING, S.FOLLOW_UP})
FEEDBACK_STATUSES = frozenset({S.INTERVENTION, S.MONITORING, S.FOLLOW_UP, S.CLOSED})


# ---------------------------------------------------------------------------------------------
# Input shapes (what a form or an import hands over)


@dataclass(frozen=True)
class ReferralDetails:
    """The referral as received. `is_sensitive` defaults to whether any sensitive kind is given."""

    source: ReferralSource
    received_on: dt.date
    offence_category: OffenceCategory
    justice_stage: JusticeStage
    district: str
    summary: str
    referrer_organisation: str | None = None
    referrer_name: str | None = None
    referrer_email: str | None = None
    referrer_phone: str | None = None
    crime_reference: str | None = None
    incident_on: dt.date | None = None
    victim_has_enhanced_rights: bool = False
    sensitive_kinds: frozenset[SensitiveKind] = field(default_factory=frozenset)
    is_sensitive: bool | None = None


@dataclass(frozen=True)
class PartyDetails:
    """A person on a case. `supports_party_id` links a supporter or parent/guardian to their party."""

    role: PartyRole
    name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    safe_contact_notes: str | None = None
    interpreter_language: str | None = None
    access_needs: str | None = None
    is_under_18: bool = False
    supports_party_id: int | None = None


@dataclass(frozen=True)
class ActionDetails:
    """One action of an outcome agreement; `owner` defaults to the owning party's name."""

    description: str
    due_on: dt.date
    owner: str = ""
    owner_party_id: int | None = None


# ---------------------------------------------------------------------------------------------
# Helpers


def _today(now: dt.datetime) -> dt.date:
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now.astimezone(LONDON).date()


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _load_case(session: Session, case_id: int, *, lock: bool = False) -> Case:
    query = select(Case).where(Case.id == case_id)
    if lock:
        # Serialises changes to one case (two coordinators allocating or moving it at once).
        query = query.with_for_update().execution_options(populate_existing=True)
    case = session.scalar(query)
    if case is None:
        raise NotFound(f"There is no case {case_id}")
    return case


def _load(session: Session, model: type, object_id: int, what: str):
    found = session.get(model, object_id)
    if found is None:
        raise NotFound(f"There is no {what} {object_id}")
    return found


def _require_open(case: Case, doing: str) -> None:
    if not case.is_open:
        raise RuleViolation(f"Case {case.reference} is closed: {doing} is not possible. Reopen it first")


def _party_on_case(session: Session, case: Case, party_id: int) -> Party:
    party = session.get(Party, party_id)
    if party is None or party.case_id != case.id:
        raise NotFound(f"There is no party {party_id} on case {case.reference}")
    return party


def _past_date_problem(day: dt.date | None, today: dt.date, what: str) -> str | None:
    if day is not None and day > today:
        return f"{what} cannot be in the future"
    return None


def _not_before_referral(day: dt.date, case: Case, what: str) -> str | None:
    if day < case.received_on:
        return f"{what} cannot be before the referral was received ({_long_date(case.received_on)})"
    return None


def _raise_problems(problems: Iterable[str | None], field_name: str | None = None) -> None:
    found = [problem for problem in problems if problem]
    if found:
        raise ValidationFailed(reasons=found, field=field_name)


def _actor_id(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


def _take_case_number(session: Session, year: int) -> int:
    return numbering.take_yearly_number(session, CaseReferenceCounter.__table__, year)


def format_reference(year: int, number: int) -> str:
    """The readable case reference, e.g. RJ-2026-00042."""
    return f"RJ-{year}-{number:05d}"


def first_contact_due_on(received_on: dt.date, *, enhanced_rights: bool) -> dt.date:
    """The Victims' Code date for first contact (England and Wales working days)."""
    days = ENHANCED_RIGHTS_WORKING_DAYS if enhanced_rights else FIRST_CONTACT_WORKING_DAYS
    return add_working_days(received_on, days)


def _referral_problems(details: ReferralDetails, today: dt.date) -> list[str]:
    problems = [
        _past_date_problem(details.received_on, today, "The date the referral was received"),
        _past_date_problem(details.incident_on, today, "The date of the incident"),
    ]
    if details.incident_on and details.incident_on > details.received_on:
        problems.append("The incident cannot be after the referral was received")
    if not _clean(details.district):
        problems.append("Enter the district")
    if not _clean(details.summary):
        problems.append("Enter a summary of the referral")
    if details.source is not ReferralSource.SELF_REFERRAL and not _clean(details.referrer_organisation):
        problems.append("Enter the referring organisation")
    if details.is_sensitive is False and details.sensitive_kinds:
        problems.append("A case with a sensitive or complex kind must be marked sensitive or complex")
    return [problem for problem in problems if problem]


def _apply_referral(case: Case, details: ReferralDetails) -> None:
    case.source = ReferralSource(details.source)
    case.referrer_organisation = _clean(details.referrer_organisation)
    case.referrer_name = _clean(details.referrer_name)
    case.referrer_email = _clean(details.referrer_email)
    case.referrer_phone = _clean(details.referrer_phone)
    case.crime_reference = _clean(details.crime_reference)
    case.received_on = details.received_on
    case.incident_on = details.incident_on
    case.offence_category = OffenceCategory(details.offence_category)
    case.justice_stage = JusticeStage(details.justice_stage)
    case.district = (details.district or "").strip()
    case.summary = (details.summary or "").strip()
    case.victim_has_enhanced_rights = details.victim_has_enhanced_rights
    kinds = {SensitiveKind(kind) for kind in details.sensitive_kinds}
    case.is_sensitive = bool(kinds) if details.is_sensitive is None else details.is_sensitive
    case.sensitive_kind_links = [
        link for link in case.sensitive_kind_links if link.kind in kinds
    ] + [CaseSensitiveKind(kind=kind) for kind in sorted(kinds - case.sensitive_kinds)]
    case.first_contact_due_on = first_contact_due_on(
        details.received_on, enhanced_rights=details.victim_has_enhanced_rights
    )


def _party_problems(details: PartyDetails) -> list[str]:
    problems = []
    if not _clean(details.name):
        problems.append("Enter the party's name")
    if details.supports_party_id is not None and PartyRole(details.role) in PRINCIPAL_ROLES:
        problems.append("Only a supporter or a parent or guardian can be linked to another party")
    return problems


def _new_party(details: PartyDetails, now: dt.datetime) -> Party:
    return Party(
        role=PartyRole(details.role),
        name=details.name.strip(),
        email=_clean(details.email),
        phone=_clean(details.phone),
        address=_clean(details.address),
        safe_contact_notes=_clean(details.safe_contact_notes),
        interpreter_language=_clean(details.interpreter_language),
        access_needs=_clean(details.access_needs),
        is_under_18=details.is_under_18,
        supports_party_id=details.supports_party_id,
        created_at=now,
    )


# ---------------------------------------------------------------------------------------------
# Referral intake and parties


def record_referral(
    session: Session,
    details: ReferralDetails,
    parties: Sequence[PartyDetails],
    *,
    actor: User | None,
    now: dt.datetime,
) -> Case:
    """Open a case from a referral, in status referral received, with its parties.

    Gives it the next reference of the year (RJ-2026-00042; safe when two are recorded at once) and
    the Victims' Code first-contact date. Raises ValidationFailed listing every problem (a date in
    the future, no referrer, no harmed person or person responsible, ...).
    """
    today = _today(now)
    problems = _referral_problems(details, today)
    for party in parties:
        problems.extend(_party_problems(party))
        if party.supports_party_id is not None:
            problems.append("Link supporters to their party after the referral is recorded")
    if not any(PartyRole(party.role) in PRINCIPAL_ROLES for party in parties):
        problems.append("A referral needs at least one harmed person or person responsible")
    _raise_problems(problems)

    case = Case(
        reference=format_reference(today.year, _take_case_number(session, today.year)),
        status=S.REFERRAL_RECEIVED,
        created_at=now,
        created_by_id=_actor_id(actor),
    )
    _apply_referral(case, details)
    case.parties = [_new_party(party, now) for party in parties]
    session.add(case)
    session.flush()
    session.add(
        CaseStatusChange(
            case_id=case.id, from_status=None, to_status=S.REFERRAL_RECEIVED, changed_at=now,
            changed_by_id=_actor_id(actor),
        )
    )
    audit.record(
        session, actor, "case.referral_recorded", case, at=now, reference=case.reference,
        source=case.source, referrer=case.referrer_organisation, parties=len(case.parties),
    )
    return case


def update_referral(
    session: Session, case_id: int, details: ReferralDetails, *, actor: User, now: dt.datetime
) -> Case:
    """Correct the referral details of an open case; the first-contact date is worked out again.

    Raises NotFound, RuleViolation for a closed case, ValidationFailed for bad details.
    """
    case = _load_case(session, case_id)
    _require_open(case, "changing the referral")
    _raise_problems(_referral_problems(details, _today(now)))
    if case.first_contact_on and case.first_contact_on < details.received_on:
        _raise_problems(["The referral cannot be received after the first contact was made"])
    before = {name: getattr(case, name) for name in _REFERRAL_FIELDS}
    kinds_before = case.sensitive_kinds
    _apply_referral(case, details)
    changed = [name for name in _REFERRAL_FIELDS if getattr(case, name) != before[name]]
    if case.sensitive_kinds != kinds_before:
        changed.append("sensitive_kinds")
    session.flush()
    audit.record(session, actor, "case.referral_updated", case, at=now, changed=changed)
    return case


_REFERRAL_FIELDS = (
    "source", "referrer_organisation", "referrer_name", "referrer_email", "referrer_phone",
    "crime_reference", "received_on", "incident_on", "offence_category", "justice_stage", "district",
    "summary", "victim_has_enhanced_rights", "is_sensitive", "first_contact_due_on",
)


def add_party(
    session: Session, case_id: int, details: PartyDetails, *, actor: User, now: dt.datetime
) -> Party:
    """Add a person to an open case. A supporter or parent/guardian may be linked to a harmed person
    or person responsible on the same case. Raises NotFound, RuleViolation, ValidationFailed."""
    case = _load_case(session, case_id)
    _require_open(case, "adding a party")
    problems = _party_problems(details)
    if details.supports_party_id is not None:
        supported = session.get(Party, details.supports_party_id)
        if supported is None or supported.case_id != case.id or not supported.is_principal:
            problems.append("A supporter must be linked to a harmed person or person responsible on this case")
    _raise_problems(problems)
    party = _new_party(details, now)
    case.parties.append(party)
    session.flush()
    audit.record(session, actor, "case.party_added", case, at=now, party_id=party.id, role=party.role)
    return party


def update_party(
    session: Session, party_id: int, details: PartyDetails, *, actor: User, now: dt.datetime
) -> Party:
    """Change a party's details (not the home-visit approval, which is set_home_visit_approval)."""
    party = _load(session, Party, party_id, "party")
    case = _load_case(session, party.case_id)
    _require_open(case, "changing a party")
    problems = _party_problems(details)
    if details.supports_party_id is not None:
        supported = session.get(Party, details.supports_party_id)
        if (
            supported is None or supported.case_id != case.id or not supported.is_principal
            or supported.id == party.id
        ):
            problems.append("A supporter must be linked to a harmed person or person responsible on this case")
    _raise_problems(problems)
    fresh = _new_party(details, now)
    changed = []
    for name in ("role", "name", "email", "phone", "address", "safe_contact_notes",
                 "interpreter_language", "access_needs", "is_under_18", "supports_party_id"):
        if getattr(party, name) != getattr(fresh, name):
            setattr(party, name, getattr(fresh, name))
            changed.append(name)
    session.flush()
    if "role" in changed:
        _refresh_consent_dates(session, case)
    # Field names only: the audit trail must not become a second copy of addresses.
    audit.record(session, actor, "case.party_updated", case, at=now, party_id=party.id, changed=changed)
    return party


def _refresh_consent_dates(session: Session, case: Case) -> None:
    """Work out the case's first-consent dates again from its consents (a party's role changed)."""
    firsts = dict(session.execute(
        select(Party.role, func.min(Consent.given_on))
        .join(Party, Consent.party_id == Party.id)
        .where(Consent.case_id == case.id, Consent.purpose == ConsentPurpose.PARTICIPATION,
               Party.role.in_(PRINCIPAL_ROLES))
        .group_by(Party.role)
    ).all())
    case.harmed_consented_on = firsts.get(PartyRole.HARMED_PERSON)
    case.responsible_consented_on = firsts.get(PartyRole.PERSON_RESPONSIBLE)
    session.flush()


def set_home_visit_approval(
    session: Session, party_id: int, approved: bool, *, actor: User, now: dt.datetime
) -> Party:
    """Approve (or withdraw approval of) a home visit to a party; while approved, the facilitators
    working with that party see the address. Coordinators only: raises PermissionDenied."""
    if not permissions.is_coordinator(actor):
        raise PermissionDenied("Only a coordinator can approve a home visit")
    party = _load(session, Party, party_id, "party")
    party.home_visit_approved = approved
    session.flush()
    audit.record(
        session, actor, "case.home_visit_approval_set", ("cases", party.case_id), at=now,
        party_id=party.id, approved=approved,
    )
    return party


# ---------------------------------------------------------------------------------------------
# Records on a case


def record_contact_attempt(
    session: Session,
    case_id: int,
    party_id: int,
    *,
    attempted_at: dt.datetime,
    method: ContactMethod,
    outcome: ContactOutcome,
    notes: str | None = None,
    actor: User,
    now: dt.datetime,
) -> ContactAttempt:
    """Log an attempt to reach a party. The first successful contact sets the case's
    `first_contact_on` (the earliest, if attempts are logged out of order).

    Raises ValidationFailed for a time in the future or before the referral was received.
    """
    case = _load_case(session, case_id)
    _require_open(case, "logging a contact attempt")
    party = _party_on_case(session, case, party_id)
    if attempted_at.tzinfo is None:
        raise ValueError("attempted_at must be timezone-aware")
    attempted_on = attempted_at.astimezone(LONDON).date()
    problems = [_not_before_referral(attempted_on, case, "A contact attempt")]
    if attempted_at > now:
        problems.insert(0, "A contact attempt cannot be in the future")
    _raise_problems(problems, "attempted_at")
    attempt = ContactAttempt(
        case_id=case.id, party_id=party.id, attempted_at=attempted_at, method=ContactMethod(method),
        outcome=ContactOutcome(outcome), notes=_clean(notes), recorded_by_id=_actor_id(actor),
        created_at=now,
    )
    session.add(attempt)
    if attempt.is_successful and (case.first_contact_on is None or attempted_on < case.first_contact_on):
        case.first_contact_on = attempted_on
    session.flush()
    audit.record(
        session, actor, "case.contact_attempt_recorded", case, at=now, attempt_id=attempt.id,
        party_id=party.id, method=attempt.method, outcome=attempt.outcome,
    )
    return attempt


def record_consent(
    session: Session,
    party_id: int,
    *,
    purpose: ConsentPurpose,
    given_on: dt.date,
    method: ConsentMethod,
    intervention_type: InterventionType | None = None,
    actor: User,
    now: dt.datetime,
) -> Consent:
    """Record a party's consent for a purpose (participation may name the intervention type).

    Raises ValidationFailed for a future date or a type on a purpose other than participation, and
    RuleViolation when the same consent is already current (so a double submission is harmless).
    """
    party = _load(session, Party, party_id, "party")
    case = _load_case(session, party.case_id)
    _require_open(case, "recording consent")
    purpose = ConsentPurpose(purpose)
    intervention_type = InterventionType(intervention_type) if intervention_type else None
    problems = [_past_date_problem(given_on, _today(now), "The date consent was given")]
    if intervention_type is not None and purpose is not ConsentPurpose.PARTICIPATION:
        problems.append("Only consent to take part can name an intervention type")
    _raise_problems(problems)
    duplicate = session.scalar(
        select(Consent.id).where(
            Consent.party_id == party.id,
            Consent.purpose == purpose,
            Consent.intervention_type.is_(None) if intervention_type is None
            else Consent.intervention_type == intervention_type,
            Consent.withdrawn_on.is_(None),
        )
    )
    if duplicate is not None:
        raise RuleViolation(f"{party.name} has already given this consent")
    consent = Consent(
        case_id=case.id, party=party, purpose=purpose, intervention_type=intervention_type,
        given_on=given_on, method=ConsentMethod(method), recorded_by_id=_actor_id(actor), created_at=now,
    )
    session.add(consent)
    if purpose is ConsentPurpose.PARTICIPATION:
        case.note_participation_consent(party.role, given_on)
    session.flush()
    audit.record(
        session, actor, "case.consent_recorded", case, at=now, consent_id=consent.id,
        party_id=party.id, purpose=purpose, intervention_type=intervention_type, method=consent.method,
    )
    return consent


def withdraw_consent(
    session: Session,
    consent_id: int,
    *,
    withdrawn_on: dt.date,
    reason: str | None = None,
    actor: User,
    now: dt.datetime,
) -> Consent:
    """Record that a party withdrew a consent (they may, at any time). The case is not moved:
    the coordinator decides what follows. Raises RuleViolation if already withdrawn and
    ValidationFailed for a date in the future or before the consent was given."""
    consent = _load(session, Consent, consent_id, "consent")
    case = _load_case(session, consent.case_id)
    if consent.withdrawn_on is not None:
        raise RuleViolation(f"This consent was already withdrawn on {_long_date(consent.withdrawn_on)}")
    problems = [_past_date_problem(withdrawn_on, _today(now), "The date consent was withdrawn")]
    if withdrawn_on < consent.given_on:
        problems.append("Consent cannot be withdrawn before it was given")
    _raise_problems(problems)
    consent.withdrawn_on = withdrawn_on
    consent.withdrawal_reason = _clean(reason)
    session.flush()
    audit.record(
        session, actor, "case.consent_withdrawn", case, at=now, consent_id=consent.id,
        party_id=consent.party_id, purpose=consent.purpose,
    )
    return consent


def record_risk_assessment(
    session: Session,
    case_id: int,
    *,
    stage: RiskStage,
    factors: str,
    rating: RiskRating,
    proceed: bool,
    assessed_on: dt.date,
    mitigations: str | None = None,
    police_intelligence: str | None = None,
    approved_by: User | None = None,
    actor: User,
    now: dt.datetime,
) -> RiskAssessment:
    """Record a risk assessment by `actor`. Police intelligence is kept apart from what
    facilitators see. An approver must be a coordinator. Raises ValidationFailed, RuleViolation."""
    case = _load_case(session, case_id)
    _require_open(case, "recording a risk assessment")
    problems = [_past_date_problem(assessed_on, _today(now), "The date of the risk assessment")]
    if not _clean(factors):
        problems.append("Describe the risk factors considered")
    _raise_problems(problems)
    if approved_by is not None and not permissions.is_coordinator(approved_by):
        raise RuleViolation("A risk assessment can only be approved by a coordinator")
    assessment = RiskAssessment(
        case_id=case.id, stage=RiskStage(stage), factors=factors.strip(), rating=RiskRating(rating),
        mitigations=_clean(mitigations), police_intelligence=_clean(police_intelligence),
        proceed=proceed, assessed_on=assessed_on, assessed_by_id=_actor_id(actor),
        approved_by_id=_actor_id(approved_by), created_at=now,
    )
    session.add(assessment)
    session.flush()
    audit.record(
        session, actor, "case.risk_assessed", case, at=now, assessment_id=assessment.id,
        stage=assessment.stage, rating=assessment.rating, proceed=proceed,
        approved=approved_by is not None,
    )
    return assessment


def approve_risk_assessment(
    session: Session, assessment_id: int, *, actor: User, now: dt.datetime
) -> RiskAssessment:
    """A coordinator signs off a risk assessment. Raises PermissionDenied for anyone else."""
    if not permissions.is_coordinator(actor):
        raise PermissionDenied("Only a coordinator can approve a risk assessment")
    assessment = _load(session, RiskAssessment, assessment_id, "risk assessment")
    if assessment.approved_by_id is not None:
        raise RuleViolation("This risk assessment is already approved")
    assessment.approved_by_id = actor.id
    session.flush()
    audit.record(
        session, actor, "case.risk_assessment_approved", ("cases", assessment.case_id), at=now,
        assessment_id=assessment.id,
    )
    return assessment


def add_note(
    session: Session,
    case_id: int,
    text: str,
    *,
    visibility: NoteVisibility = NoteVisibility.GENERAL,
    actor: User,
    now: dt.datetime,
) -> CaseNote:
    """Add a note to a case (also after closure). Coordinator-only notes are written by coordinators:
    raises PermissionDenied otherwise, and ValidationFailed for an empty note."""
    case = _load_case(session, case_id)
    visibility = NoteVisibility(visibility)
    if visibility is NoteVisibility.COORDINATOR_ONLY and not permissions.is_coordinator(actor):
        raise PermissionDenied("Only a coordinator can write a coordinator-only note")
    _raise_problems(["Enter the note" if not _clean(text) else None], "text")
    note = CaseNote(
        case_id=case.id, visibility=visibility, text=text.strip(), author_id=_actor_id(actor),
        written_at=now,
    )
    session.add(note)
    session.flush()
    audit.record(session, actor, "case.note_added", case, at=now, note_id=note.id, visibility=visibility)
    return note


def record_session(
    session: Session,
    case_id: int,
    *,
    session_type: SessionType,
    held_on: dt.date,
    duration_minutes: int,
    attendees: str,
    notes: str | None = None,
    actor: User,
    now: dt.datetime,
) -> CaseSession:
    """Log a preparation meeting, conference, shuttle exchange, letter or panel.

    Sessions are held by allocated facilitators, so the case must be allocated or later; an
    intervention session (anything but preparation) needs the case to be in intervention or later.
    """
    case = _load_case(session, case_id)
    _require_open(case, "logging a session")
    session_type = SessionType(session_type)
    if case.status not in SESSION_STATUSES:
        raise RuleViolation(
            f"Sessions are logged once a case is allocated; {case.reference} is {case.status.phrase}"
        )
    if session_type in INTERVENTION_SESSIONS and case.status in {S.ALLOCATED, S.PREPARATION}:
        raise RuleViolation(
            f"A {session_type.label} is logged once the case is in intervention;"
            f" {case.reference} is {case.status.phrase}"
        )
    problems = [
        _past_date_problem(held_on, _today(now), "The session date"),
        _not_before_referral(held_on, case, "A session"),
    ]
    if not 0 < duration_minutes <= 24 * 60:
        problems.append("The duration must be between 1 minute and 24 hours")
    if not _clean(attendees):
        problems.append("Say who attended")
    _raise_problems(problems)
    record = CaseSession(
        case_id=case.id, session_type=session_type, held_on=held_on,
        duration_minutes=duration_minutes, attendees=attendees.strip(), notes=_clean(notes),
        recorded_by_id=_actor_id(actor), created_at=now,
    )
    session.add(record)
    session.flush()
    audit.record(
        session, actor, "case.session_recorded", case, at=now, session_id=record.id,
        session_type=session_type, held_on=held_on,
    )
    signals.case_session_logged.send(record, session=session, actor=actor, now=now)
    return record


def choose_intervention_type(
    session: Session, case_id: int, intervention_type: InterventionType, *, actor: User,
    now: dt.datetime,
) -> Case:
    """Set the intervention the parties are being prepared for (before the intervention starts)."""
    case = _load_case(session, case_id)
    _require_open(case, "choosing the intervention")
    effective = case.status_before_hold if case.status is S.ON_HOLD else case.status
    if effective not in BEFORE_INTERVENTION:
        raise RuleViolation(
            f"The intervention type cannot change once the intervention has started"
            f" ({case.reference} is {case.status.phrase})"
        )
    case.intervention_type = InterventionType(intervention_type)
    session.flush()
    audit.record(
        session, actor, "case.intervention_type_chosen", case, at=now,
        intervention_type=case.intervention_type,
    )
    return case


def record_agreement(
    session: Session,
    case_id: int,
    *,
    agreed_on: dt.date,
    actions: Sequence[ActionDetails] = (),
    notes: str | None = None,
    actor: User,
    now: dt.datetime,
) -> OutcomeAgreement:
    """Record the outcome agreement reached in the intervention, with its actions (one per case).

    Raises RuleViolation outside intervention or when the case already has one.
    """
    case = _load_case(session, case_id, lock=True)
    if case.status is not S.INTERVENTION:
        raise RuleViolation(
            f"An outcome agreement is recorded during the intervention; {case.reference} is"
            f" {case.status.phrase}"
        )
    if case.agreement is not None:
        raise RuleViolation(f"{case.reference} already has an outcome agreement; add actions to it")
    problems = [
        _past_date_problem(agreed_on, _today(now), "The date of the agreement"),
        _not_before_referral(agreed_on, case, "The agreement"),
    ]
    for action in actions:
        problems.extend(_action_problems(session, case, action, agreed_on))
    _raise_problems(problems)
    new_actions = [_new_action(session, action) for action in actions]
    agreement = OutcomeAgreement(
        case=case, agreed_on=agreed_on, notes=_clean(notes), recorded_by_id=_actor_id(actor),
        created_at=now, actions=new_actions,
    )
    session.add(agreement)
    session.flush()
    audit.record(
        session, actor, "case.agreement_recorded", case, at=now, agreement_id=agreement.id,
        actions=len(agreement.actions),
    )
    return agreement


def _action_problems(
    session: Session, case: Case, action: ActionDetails, agreed_on: dt.date
) -> list[str]:
    problems = []
    if not _clean(action.description):
        problems.append("Describe the action")
    if action.due_on < agreed_on:
        problems.append("An action cannot be due before the agreement was made")
    if action.owner_party_id is not None:
        party = session.get(Party, action.owner_party_id)
        if party is None or party.case_id != case.id:
            problems.append("The owner of an action must be a party on this case")
    elif not _clean(action.owner):
        problems.append("Say who owns the action")
    return problems


def _new_action(session: Session, action: ActionDetails) -> AgreementAction:
    owner = _clean(action.owner)
    if owner is None and action.owner_party_id is not None:
        owner = session.get(Party, action.owner_party_id).name
    return AgreementAction(
        owner=owner, owner_party_id=action.owner_party_id, description=action.description.strip(),
        due_on=action.due_on, status=ActionStatus.OPEN,
    )


def add_action(
    session: Session, agreement_id: int, action: ActionDetails, *, actor: User, now: dt.datetime
) -> AgreementAction:
    """Add an action to an agreement while the case is in intervention or monitoring."""
    agreement = _load(session, OutcomeAgreement, agreement_id, "outcome agreement")
    case = _load_case(session, agreement.case_id)
    if case.status not in {S.INTERVENTION, S.MONITORING}:
        raise RuleViolation(
            f"Actions are added during intervention or monitoring; {case.reference} is {case.status.phrase}"
        )
    _raise_problems(_action_problems(session, case, action, agreement.agreed_on))
    record = _new_action(session, action)
    agreement.actions.append(record)
    session.flush()
    audit.record(session, actor, "case.action_added", case, at=now, action_id=record.id)
    return record


def set_action_status(
    session: Session, action_id: int, status: ActionStatus, *, actor: User, now: dt.datetime
) -> AgreementAction:
    """Mark an action done or not done (or open again). Raises RuleViolation naming both statuses."""
    action = _load(session, AgreementAction, action_id, "agreement action")
    case = _load_case(session, action.agreement.case_id)
    _require_open(case, "changing an action")
    status = ActionStatus(status)
    if status not in ACTION_TRANSITIONS[action.status]:
        raise RuleViolation(
            f"An agreement action cannot move from {action.status.label} to {status.label}"
        )
    previous = action.status
    action.status = status
    action.status_changed_on = _today(now)
    session.flush()
    audit.record(
        session, actor, "case.action_status_changed", case, at=now, action_id=action.id,
        previous=previous, status=status,
    )
    return action


def record_feedback(
    session: Session,
    party_id: int,
    *,
    satisfaction: int,
    given_on: dt.date,
    felt_safe: bool | None = None,
    felt_prepared: bool | None = None,
    would_recommend: bool | None = None,
    comments: str | None = None,
    actor: User,
    now: dt.datetime,
) -> Feedback:
    """Record one party's feedback (satisfaction 1 to 5), once the intervention has started.

    Raises ValidationFailed for a score outside 1–5 or a future date; RuleViolation when this
    party's feedback is already recorded.
    """
    party = _load(session, Party, party_id, "party")
    case = _load_case(session, party.case_id)
    if case.status not in FEEDBACK_STATUSES:
        raise RuleViolation(
            f"Feedback is collected from the intervention onwards; {case.reference} is {case.status.phrase}"
        )
    problems = [_past_date_problem(given_on, _today(now), "The date of the feedback")]
    if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        problems.insert(0, "Satisfaction must be a whole number from 1 to 5")
    _raise_problems(problems)
    if session.scalar(select(Feedback.id).where(Feedback.party_id == party.id)) is not None:
        raise RuleViolation(f"Feedback from {party.name} is already recorded")
    feedback = Feedback(
        case_id=case.id, party_id=party.id, satisfaction=satisfaction, felt_safe=felt_safe,
        felt_prepared=felt_prepared, would_recommend=would_recommend, comments=_clean(comments),
        given_on=given_on, recorded_by_id=_actor_id(actor), created_at=now,
    )
    session.add(feedback)
    session.flush()
    audit.record(
        session, actor, "case.feedback_recorded", case, at=now, feedback_id=feedback.id,
        party_id=party.id, satisfaction=satisfaction,
    )
    return feedback


# ---------------------------------------------------------------------------------------------
# The status machine


@dataclass(frozen=True)
class _Move:
    session: Session
    case: Case
    target: CaseStatus
    actor: User | None
    now: dt.datetime
    reason: str | None
    closure_reason: ClosureReason | None
    review_on: dt.date | None

    @property
    def today(self) -> dt.date:
        return _today(self.now)


def _current_allocations(case: Case) -> list[Allocation]:
    return [allocation for allocation in case.allocations if allocation.ends_on is None]


def _latest_assessment(session: Session, case: Case, stage: RiskStage) -> RiskAssessment | None:
    return session.scalar(
        select(RiskAssessment)
        .where(RiskAssessment.case_id == case.id, RiskAssessment.stage == stage)
        .order_by(RiskAssessment.assessed_on.desc(), RiskAssessment.id.desc())
        .limit(1)
    )


def _assessment_problem(session: Session, case: Case, stage: RiskStage) -> str | None:
    latest = _latest_assessment(session, case, stage)
    if latest is None:
        return f"it needs {'an' if stage is RiskStage.INITIAL else 'a'} {stage.label} risk assessment that says proceed"
    if not latest.proceed:
        return (
            f"the latest {stage.label} risk assessment ({_long_date(latest.assessed_on)})"
            " says not to proceed"
        )
    return None


def _participation_consents(
    session: Session, case: Case, intervention_type: InterventionType | None = None
) -> list[tuple[Consent, Party]]:
    query = (
        select(Consent, Party)
        .join(Party, Consent.party_id == Party.id)
        .where(
            Consent.case_id == case.id,
            Consent.purpose == ConsentPurpose.PARTICIPATION,
            Consent.withdrawn_on.is_(None),
            Party.role.in_(PRINCIPAL_ROLES),
        )
    )
    if intervention_type is not None:
        query = query.where(Consent.intervention_type == intervention_type)
    return [(consent, party) for consent, party in session.execute(query)]


def _guard_first_contact(move: _Move) -> list[str]:
    if move.case.first_contact_on is None:
        return ["nobody has been reached yet; log a successful contact attempt first"]
    return []


def _guard_ready_for_allocation(move: _Move) -> list[str]:
    problems = []
    consents = _participation_consents(move.session, move.case)
    if not any(consent.is_written for consent, _party in consents):
        problem = "it needs written consent to take part from the harmed person or the person responsible"
        verbal = [party.name for consent, party in consents if not consent.is_written]
        if verbal:
            problem += f" (the consent from {', '.join(sorted(set(verbal)))} is verbal: confirm it in writing)"
        problems.append(problem)
    problems.append(_assessment_problem(move.session, move.case, RiskStage.INITIAL))
    if not permissions.is_coordinator(move.actor):
        problems.append("only a coordinator can approve a case for allocation")
    return [problem for problem in problems if problem]


def _guard_has_allocation(move: _Move) -> list[str]:
    if not _current_allocations(move.case):
        return ["nobody is allocated yet; allocate a facilitator"]
    return []


def _guard_preparation_meeting(move: _Move) -> list[str]:
    held = move.session.scalar(
        select(CaseSession.id).where(
            CaseSession.case_id == move.case.id,
            CaseSession.session_type == SessionType.PREPARATION_MEETING,
        ).limit(1)
    )
    return [] if held is not None else ["no preparation meeting has been logged"]


def _guard_ready_for_intervention(move: _Move) -> list[str]:
    case = move.case
    chosen = case.intervention_type
    problems = []
    if chosen is None:
        problems.append("no intervention type has been chosen")
    else:
        consents = _participation_consents(move.session, case, chosen)
        for role in (PartyRole.HARMED_PERSON, PartyRole.PERSON_RESPONSIBLE):
            if not any(party.role is role and consent.is_written for consent, party in consents):
                problems.append(f"the {role.label} has not given written consent to a {chosen.label}")
    problems.append(_assessment_problem(move.session, case, RiskStage.PRE_INTERVENTION))
    if not _current_allocations(case):
        problems.append("nobody is allocated to facilitate it")
    return [problem for problem in problems if problem]


def _open_action_count(case: Case) -> int:
    return len(case.agreement.open_actions) if case.agreement is not None else 0


def _guard_monitoring(move: _Move) -> list[str]:
    if _open_action_count(move.case) == 0:
        return ["there is no outcome agreement with open actions to monitor"]
    return []


def _guard_intervention_done(move: _Move) -> list[str]:
    problems = []
    delivered = move.session.scalar(
        select(CaseSession.id).where(
            CaseSession.case_id == move.case.id, CaseSession.session_type.in_(INTERVENTION_SESSIONS)
        ).limit(1)
    )
    if delivered is None:
        problems.append("no conference, shuttle exchange, letter or panel has been logged")
    if open_actions := _open_action_count(move.case):
        problems.append(f"{open_actions} agreement action(s) are still open; move it to monitoring instead")
    return problems


def _guard_actions_finished(move: _Move) -> list[str]:
    if open_actions := _open_action_count(move.case):
        return [f"{open_actions} agreement action(s) are still open"]
    return []


def _guard_no_facilitators(move: _Move) -> list[str]:
    if current := _current_allocations(move.case):
        return [f"it still has {len(current)} current allocation(s); end them first"]
    return []


def _guard_reopen(move: _Move) -> list[str]:
    problems = []
    if not permissions.is_coordinator(move.actor):
        problems.append("only a coordinator can reopen a case")
    if not _clean(move.reason):
        problems.append("give the reason for reopening")
    return problems


_GUARDS: dict[tuple[CaseStatus, CaseStatus], Callable[[_Move], list[str]]] = {
    (S.CONTACTING, S.ASSESSMENT): _guard_first_contact,
    (S.ASSESSMENT, S.AWAITING_ALLOCATION): _guard_ready_for_allocation,
    (S.AWAITING_ALLOCATION, S.ALLOCATED): _guard_has_allocation,
    (S.ALLOCATED, S.PREPARATION): _guard_preparation_meeting,
    (S.PREPARATION, S.INTERVENTION): _guard_ready_for_intervention,
    (S.INTERVENTION, S.MONITORING): _guard_monitoring,
    (S.INTERVENTION, S.FOLLOW_UP): _guard_intervention_done,
    (S.MONITORING, S.FOLLOW_UP): _guard_actions_finished,
    (S.ALLOCATED, S.AWAITING_ALLOCATION): _guard_no_facilitators,
    (S.PREPARATION, S.AWAITING_ALLOCATION): _guard_no_facilitators,
    (S.INTERVENTION, S.AWAITING_ALLOCATION): _guard_no_facilitators,
    (S.CLOSED, S.TRIAGE): _guard_reopen,
}


def _labels(statuses: Iterable[CaseStatus]) -> str:
    ordered = [status.label for status in CaseStatus if status in set(statuses)]
    return ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " or " + ordered[-1]


def _guard_hold(move: _Move) -> list[str]:
    problems = []
    if not _clean(move.reason):
        problems.append("give the reason for the hold")
    if move.review_on is not None and move.review_on < move.today:
        problems.append("the review date cannot be in the past")
    return problems


def _guard_closure(move: _Move) -> list[str]:
    case = move.case
    from_status = case.status_before_hold if case.status is S.ON_HOLD else case.status
    allowed = CLOSURE_REASONS[from_status]
    if not allowed:
        return [f"a case that is {from_status.phrase} cannot be closed; move it to triage first"]
    if move.closure_reason is None:
        return ["a closure reason is needed"]
    reason = ClosureReason(move.closure_reason)
    if reason not in allowed:
        choices = "; ".join(item.label for item in ClosureReason if item in allowed)
        return [
            f"“{reason.label}” is not a reason to close a case that is {from_status.phrase}"
            f" (choose: {choices})"
        ]
    if reason is R.NO_CONTACT:
        needed = settings.get_setting(move.session, NO_CONTACT_ATTEMPTS_SETTING, NO_CONTACT_ATTEMPTS_DEFAULT)
        made = move.session.scalar(
            select(func.count(ContactAttempt.id)).where(
                ContactAttempt.case_id == case.id,
                ContactAttempt.outcome != ContactOutcome.CONTACT_MADE,
            )
        )
        if case.first_contact_on is not None:
            return ["a party has been reached, so the case cannot be closed for no contact"]
        if made < needed:
            return [f"closing for no contact needs {needed} unsuccessful contact attempts; {made} logged"]
    if reason is R.AGREEMENT_NOT_FULFILLED:
        actions = case.agreement.actions if case.agreement else []
        if not any(action.status is ActionStatus.NOT_DONE for action in actions):
            return ["no agreement action is marked not done"]
    return []


def _refusal(case: Case, target: CaseStatus, whys: list[str]) -> RuleViolation:
    prefix = str(transition_error("case", case.status.label, target.label))
    return RuleViolation(f"{prefix}: {'; '.join(whys)}", reasons=[f"{prefix}: {why}" for why in whys])


def _check_move(move: _Move) -> None:
    case, target = move.case, move.target
    if target is case.status:
        raise _refusal(case, target, [f"it is already {target.phrase}"])
    allowed = CASE_TRANSITIONS[case.status]
    if target not in allowed:
        raise _refusal(case, target, [f"from {case.status.label} a case can move to {_labels(allowed)}"])
    if case.status is S.ON_HOLD and target not in {case.status_before_hold, S.CLOSED}:
        raise _refusal(
            case, target,
            [f"it was put on hold from {case.status_before_hold.label} and can only return there or be closed"],
        )
    if target is S.ON_HOLD:
        whys = _guard_hold(move)
    elif target is S.CLOSED:
        whys = _guard_closure(move)
    else:
        guard = _GUARDS.get((case.status, target))
        whys = guard(move) if guard else []
    if whys:
        raise _refusal(case, target, whys)


def _change_status(
    session: Session, case: Case, target: CaseStatus, *, actor: User | None, now: dt.datetime,
    reason: str | None,
) -> None:
    previous = case.status
    case.status = target
    session.add(
        CaseStatusChange(
            case_id=case.id, from_status=previous, to_status=target, changed_at=now,
            changed_by_id=_actor_id(actor), reason=_clean(reason),
        )
    )
    session.flush()
    audit.record(
        session, actor, "case.status_changed", case, at=now, previous=previous, status=target,
        reason=_clean(reason),
    )
    signals.case_status_changed.send(case, session=session, previous=previous, actor=actor, now=now)


def move_case(
    session: Session,
    case_id: int,
    target: CaseStatus,
    *,
    actor: User,
    now: dt.datetime,
    reason: str | None = None,
    closure_reason: ClosureReason | None = None,
    review_on: dt.date | None = None,
) -> Case:
    """Move a case to `target` if CASE_TRANSITIONS allows it and its guards are met.

    - to awaiting allocation: written participation consent from a harmed person or person
      responsible, the latest initial risk assessment says proceed, and the actor is a coordinator;
    - to intervention: both parties' written consent to the chosen intervention type, the latest
      pre-intervention risk assessment says proceed, and a facilitator allocated;
    - to on hold: a `reason` (and optional `review_on`); from on hold only back where it was;
    - to closed: a `closure_reason` that fits the status (see close_case); reopening (closed to
      triage): a coordinator and a `reason`.

    Raises RuleViolation naming both statuses and every reason the move is refused.
    """
    case = _load_case(session, case_id, lock=True)
    target = CaseStatus(target)
    move = _Move(session, case, target, actor, now, reason, closure_reason, review_on)
    _check_move(move)
    if target is S.CLOSED:
        _close(move)
        return case
    if target is S.ON_HOLD:
        case.status_before_hold = case.status
        case.hold_reason = _clean(reason)
        case.hold_review_on = review_on
    elif case.status is S.ON_HOLD:
        case.status_before_hold = None
        case.hold_reason = None
        case.hold_review_on = None
    elif case.status is S.CLOSED:
        case.closure_reason = None
        case.closure_notes = None
        case.closed_on = None
    _change_status(session, case, target, actor=actor, now=now, reason=reason)
    return case


def close_case(
    session: Session,
    case_id: int,
    closure_reason: ClosureReason,
    *,
    actor: User,
    now: dt.datetime,
    notes: str | None = None,
) -> Case:
    """Close a case with a reason that fits its status (CLOSURE_REASONS) and end its allocations,
    which ends the facilitators' access. Records, notes and the audit trail are kept.

    `no contact` needs the configured number of unsuccessful attempts (setting
    cases.no_contact_minimum_attempts, default 3); `agreement not fulfilled` an action not done.
    Raises RuleViolation naming the status and why not.
    """
    case = _load_case(session, case_id, lock=True)
    move = _Move(session, case, S.CLOSED, actor, now, notes, closure_reason, None)
    _check_move(move)
    _close(move)
    return case


def _close(move: _Move) -> None:
    case, session = move.case, move.session
    reason = ClosureReason(move.closure_reason)
    case.status_before_hold = None
    case.hold_reason = None
    case.hold_review_on = None
    case.closure_reason = reason
    case.closure_notes = _clean(move.reason)
    case.closed_on = move.today
    _change_status(session, case, S.CLOSED, actor=move.actor, now=move.now, reason=reason.label)
    for allocation in _current_allocations(case):
        _end(session, allocation, reason="case closed", actor=move.actor, now=move.now)
    audit.record(session, move.actor, "case.closed", case, at=move.now, closure_reason=reason)
    signals.case_closed.send(case, session=session, reason=reason, actor=move.actor, now=move.now)


# ---------------------------------------------------------------------------------------------
# Allocation


def allocate_case(
    session: Session,
    case_id: int,
    user_id: int,
    role: AllocationRole,
    *,
    actor: User,
    now: dt.datetime,
    party_ids: Iterable[int] = (),
) -> Allocation:
    """Allocate a person to a case as lead or co-facilitator from today, working with `party_ids`
    (whose contact details they then see). The first allocation of a case awaiting allocation
    moves it to allocated.

    Sends `allocation_requested` so higher modules (vetting, training, supervision, capacity) can
    refuse; raises AllocationBlocked with every reason, this module's and theirs.
    """
    case = _load_case(session, case_id, lock=True)
    role = AllocationRole(role)
    today = _today(now)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no person {user_id}")
    party_ids = frozenset(party_ids)
    reasons = []
    if case.status not in ALLOCATABLE_STATUSES:
        reasons.append(
            f"{case.reference} is {case.status.phrase}: a case is allocated once it is awaiting allocation"
        )
    if user.is_deactivated:
        reasons.append(f"{user.name}'s account is deactivated")
    elif not user.has_role(Role.VOLUNTEER, Role.COORDINATOR):
        reasons.append(f"{user.name} is not a facilitator")
    current = _current_allocations(case)
    if any(allocation.user_id == user.id for allocation in current):
        reasons.append(f"{user.name} is already allocated to {case.reference}")
    leads = [allocation for allocation in current if allocation.role is AllocationRole.LEAD]
    if role is AllocationRole.LEAD and leads:
        reasons.append(f"{case.reference} already has a lead facilitator ({leads[0].user.name})")
    if party_ids - {party.id for party in case.parties}:
        reasons.append("The facilitator can only work with parties on this case")
    replies = signals.allocation_requested.send(
        case, session=session, user_id=user.id, role=role, on=today
    )
    reasons.extend(reply for _receiver, reply in replies if reply)
    if reasons:
        raise AllocationBlocked(reasons)

    allocation = Allocation(
        case=case, user_id=user.id, role=role, starts_on=today, allocated_by_id=_actor_id(actor),
        created_at=now,
    )
    allocation.party_links = [AllocationParty(party_id=party_id) for party_id in sorted(party_ids)]
    session.add(allocation)
    session.flush()
    audit.record(
        session, actor, "case.allocated", case, at=now, allocation_id=allocation.id,
        user_id=user.id, role=role, party_ids=sorted(party_ids),
    )
    if case.status is S.AWAITING_ALLOCATION:
        _change_status(
            session, case, S.ALLOCATED, actor=actor, now=now, reason=f"{user.name} allocated as {role.label}"
        )
    signals.case_allocated.send(allocation, session=session, actor=actor, now=now)
    return allocation


def set_allocation_parties(
    session: Session, allocation_id: int, party_ids: Iterable[int], *, actor: User, now: dt.datetime
) -> Allocation:
    """Replace the parties a current allocation works with (and so whose contact details it sees)."""
    allocation = _load(session, Allocation, allocation_id, "allocation")
    if allocation.ends_on is not None:
        raise RuleViolation("This allocation has ended")
    wanted = frozenset(party_ids)
    if wanted - {party.id for party in allocation.case.parties}:
        raise ValidationFailed("The facilitator can only work with parties on this case")
    allocation.party_links = [
        link for link in allocation.party_links if link.party_id in wanted
    ] + [AllocationParty(party_id=party_id) for party_id in sorted(wanted - allocation.party_ids)]
    session.flush()
    audit.record(
        session, actor, "case.allocation_parties_set", ("cases", allocation.case_id), at=now,
        allocation_id=allocation.id, party_ids=sorted(wanted),
    )
    return allocation


def _end(session: Session, allocation: Allocation, *, reason: str, actor: User | None, now: dt.datetime) -> None:
    allocation.ends_on = max(_today(now), allocation.starts_on)
    allocation.ended_reason = reason
    session.flush()
    audit.record(
        session, actor, "case.allocation_ended", ("cases", allocation.case_id), at=now,
        allocation_id=allocation.id, user_id=allocation.user_id, reason=reason,
    )
    signals.allocation_ended.send(allocation, session=session, actor=actor, now=now, reason=reason)


def end_allocation(
    session: Session, allocation_id: int, *, reason: str, actor: User, now: dt.datetime
) -> Allocation:
    """End an allocation today: the person's access to the case ends at once. The case keeps its
    status (allocate someone else, or move it back to awaiting allocation).
    Raises RuleViolation if it has already ended, ValidationFailed without a reason."""
    allocation = _load(session, Allocation, allocation_id, "allocation")
    _load_case(session, allocation.case_id, lock=True)
    if allocation.ends_on is not None:
        raise RuleViolation(f"This allocation already ended on {_long_date(allocation.ends_on)}")
    _raise_problems(["Give the reason the allocation ends" if not _clean(reason) else None], "reason")
    _end(session, allocation, reason=reason.strip(), actor=actor, now=now)
    return allocation


def flag_allocations_for_review(
    session: Session, user_id: int, reason: str, *, actor: User | None, now: dt.datetime
) -> list[Allocation]:
    """Mark the person's current allocations on open cases as needing a coordinator's review
    (their vetting lapsed, say), with `reason` in the coordinator's words. Each case's page and
    the coordinator home show the flag until a coordinator clears it; nothing else changes.

    Idempotent: an allocation already flagged for this same reason (cleared or not) is left as it
    is, so a job may call this every day. A different reason replaces the flag and needs a fresh
    review. Returns the allocations flagged by this call (empty when nothing changed); audits
    `case.allocation_flagged_for_review` on each case. `actor` is None for a job. Raises
    ValidationFailed for an empty reason.
    """
    reason = _clean(reason)
    _raise_problems(["Give the reason the allocations need review" if reason is None else None], "reason")
    if len(reason) > 300:
        reason = reason[:299] + "…"
    allocations = session.scalars(
        select(Allocation)
        .join(Case, Allocation.case_id == Case.id)
        .where(Allocation.user_id == user_id, Allocation.ends_on.is_(None), Case.status != S.CLOSED)
        .order_by(Allocation.id)
        .with_for_update(of=Allocation)
    ).all()
    flagged = []
    for allocation in allocations:
        if allocation.review_flagged_at is not None and allocation.review_reason == reason:
            continue
        allocation.review_reason = reason
        allocation.review_flagged_at = now
        allocation.review_cleared_at = None
        allocation.review_cleared_by_id = None
        flagged.append(allocation)
    session.flush()
    for allocation in flagged:
        audit.record(
            session, actor, "case.allocation_flagged_for_review", ("cases", allocation.case_id), at=now,
            allocation_id=allocation.id, user_id=allocation.user_id, reason=reason,
        )
    return flagged


def clear_allocation_review(
    session: Session, allocation_id: int, *, actor: User, now: dt.datetime
) -> Allocation:
    """A coordinator records that they reviewed a flagged allocation and the person stays on the
    case (to take them off, end the allocation instead). Raises PermissionDenied for anyone but a
    coordinator and RuleViolation when there is no flag to clear."""
    if not permissions.is_coordinator(actor):
        raise PermissionDenied("Only a coordinator can clear an allocation's review")
    allocation = _load(session, Allocation, allocation_id, "allocation")
    if allocation.review_flagged_at is None:
        raise RuleViolation("This allocation is not flagged for review")
    if allocation.review_cleared_at is not None:
        raise RuleViolation(
            f"This allocation's review was already cleared on {_long_date(_today(allocation.review_cleared_at))}"
        )
    if allocation.ends_on is not None:
        raise RuleViolation(f"This allocation ended on {_long_date(allocation.ends_on)}")
    allocation.review_cleared_at = now
    allocation.review_cleared_by_id = actor.id
    session.flush()
    audit.record(
        session, actor, "case.allocation_review_cleared", ("cases", allocation.case_id), at=now,
        allocation_id=allocation.id, user_id=allocation.user_id, reason=allocation.review_reason,
    )
    return allocation


# ---------------------------------------------------------------------------------------------
# Audited views


def record_case_viewed(
    session: Session, case: Case, viewer: User, *, restricted: bool, now: dt.datetime
) -> AuditEntry:
    """Audit that `viewer` opened the case page (`restricted`: with restricted details shown)."""
    return audit.record(
        session, viewer, "case.viewed", case, at=now, reference=case.reference, restricted=restricted
    )
