"""The offer (an interviewed applicant with two satisfactory references becomes a volunteer in vetting),
and what a volunteer keeps current for allocation: availability, districts, case limit, languages,
driving, dates away, conflicts of interest, a pause; and the experience level coordinators set.

Services take the session first and `actor` and `now` as keywords, flush and never commit, audit every
change and queue mail through the outbox; they raise NotFound, PermissionDenied and RuleViolation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import audit, outbox
from portal.core.accounts import Role, User, UserRole
from portal.core.clock import LONDON
from portal.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from portal.core.validation import FieldErrors, clean_text, too_long
from portal.volunteers import services as application_services
from portal.volunteers.models import DAY_PERIODS, WEEKDAYS, Application, ApplicationStatus, InterviewOutcome
from portal.volunteers.profiles import availability, permissions
from portal.volunteers.profiles.models import (
    ConflictKind,
    ConflictOfInterest,
    ExperienceLevel,
    Volunteer,
    VolunteerAbsence,
    VolunteerStatus,
)
from portal.volunteers.references import queries as reference_queries
from portal.volunteers.vetting import queries as vetting_queries
from portal.volunteers.vetting import services as vetting_services
from portal.volunteers.vetting.models import CheckKind, CheckStatus
from portal.volunteers.vetting.rules import long_date


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
    VETTING (districts, availability with its weekly mask, languages and phone copied from the
    application), they gain the volunteer role (keeping their other roles), and they are e-mailed what
    happens next.

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
    _set_availability(volunteer, application.availability or {})
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


# ---------------------------------------------------------------------------------------------
# What a volunteer keeps current: availability, districts, case limit, languages, driving, dates away,
# conflicts of interest and a pause; and the coordinators' experience level.

CASES_AT_ONCE_MIN, CASES_AT_ONCE_MAX = 1, 10
LANGUAGES_MAX, LANGUAGE_LENGTH_MAX = 10, 60
ABSENCE_NOTE_MAX = 200
CONFLICT_NAME_MAX, CONFLICT_DETAILS_MAX = 200, 1000
PAUSE_REASON_MAX = 300


class PreferencesInvalid(ValidationFailed):
    """Preferences, dates away, a conflict, a pause or an experience level failed validation.

    `errors` maps each form field to its messages (in the order checked); `reasons` lists them all and
    `field` names the first field with an error.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        reasons = [message for messages in errors.values() for message in messages]
        super().__init__(reasons=reasons, field=next(iter(errors), None))


@dataclass(frozen=True)
class PreferenceDetails:
    """What a volunteer keeps current for allocation. `availability` is {day: [periods]}; `languages`
    is a list or one comma-separated text; `max_cases` and `drives` are None when not answered."""

    availability: Mapping[str, Iterable[str]]
    districts: Iterable[str]
    max_cases: int | None
    languages: Iterable[str] | str
    drives: bool | None


def _london_today(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()


def _one_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _set_availability(volunteer: Volunteer, pattern: Mapping[str, Iterable[str]]) -> None:
    """Set the weekly pattern and its 21-bit mask together, so the two never disagree (allocation
    matches times on the mask in SQL; pages read the pattern). Unknown days or periods raise ValueError."""
    mask = availability.to_mask(pattern)
    volunteer.availability = availability.from_mask(mask)
    volunteer.availability_mask = mask


def _own_volunteer(session: Session, user_id: int, *, lock: bool = False) -> Volunteer:
    query = select(Volunteer).where(Volunteer.user_id == user_id)
    volunteer = session.scalar(query.with_for_update() if lock else query)
    if volunteer is None:
        raise NotFound("Volunteer not found")
    return volunteer


def _require_changer(actor: User, volunteer: Volunteer) -> None:
    if not permissions.can_change_preferences(actor, volunteer):
        raise PermissionDenied("Only the volunteer or a coordinator can change these details")


def _as_texts(value: Iterable[str] | str | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [text for text in (clean_text(item) for item in items) if text]


def _check_availability(raw: Mapping[str, Iterable[str]] | None, errors: FieldErrors) -> dict[str, list[str]]:
    raw = raw or {}
    unknown_days = sorted(str(day) for day in raw if day not in WEEKDAYS)
    if unknown_days:
        errors.add("availability", f"Choose days of the week (not {', '.join(unknown_days)})")
    pattern: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        periods = set(_as_texts(raw.get(day)))
        if periods - set(DAY_PERIODS):
            errors.add(day, f"Choose morning, afternoon or evening for {day.capitalize()}")
        chosen = [period for period in DAY_PERIODS if period in periods]
        if chosen:
            pattern[day] = chosen
    if not pattern and not errors.errors:
        errors.add("availability", "Choose at least one time you are available, or pause your volunteering instead")
    return pattern


def _check_districts(session: Session, raw: Iterable[str], errors: FieldErrors) -> list[str]:
    allowed = application_services.configured_districts(session)
    chosen = set(_as_texts(raw))
    unknown = sorted(chosen - set(allowed))
    if not chosen:
        errors.add("districts", "Choose at least one district you work in")
    elif unknown:
        errors.add("districts", f"Choose districts from the list (not {', '.join(unknown)})")
    return [district for district in allowed if district in chosen]


def _check_languages(raw: Iterable[str] | str, errors: FieldErrors) -> list[str]:
    languages: list[str] = []
    for language in _as_texts(raw):
        if language.casefold() not in {known.casefold() for known in languages}:
            languages.append(language)
    if not languages:
        errors.add("languages", "Enter at least one language you speak")
    elif len(languages) > LANGUAGES_MAX:
        errors.add("languages", f"Enter {LANGUAGES_MAX} languages or fewer")
    elif too_long_ones := [language for language in languages if len(language) > LANGUAGE_LENGTH_MAX]:
        errors.add("languages",
                   f"Each language must be {LANGUAGE_LENGTH_MAX} characters or fewer (not “{too_long_ones[0]}”)")
    return languages


def update_preferences(
    session: Session, user_id: int, details: PreferenceDetails, *, actor: User, now: dt.datetime,
) -> Volunteer:
    """Replace the volunteer's weekly availability (pattern and mask together), districts (from the
    configured list, kept in its order), most cases at once (1 to 10), languages (tidied, each once
    whatever its case, at most 10 of up to 60 characters) and whether they drive, and note when they
    last confirmed them. Saving the same answers again changes nothing but that time.

    Raises PreferencesInvalid with every message, NotFound when the person has no volunteer record,
    PermissionDenied for anyone but the volunteer or a coordinator.
    """
    volunteer = _own_volunteer(session, user_id)
    _require_changer(actor, volunteer)
    errors = FieldErrors(PreferencesInvalid)
    pattern = _check_availability(details.availability, errors)
    districts = _check_districts(session, details.districts, errors)
    if details.max_cases is None:
        errors.add("max_cases", "Enter the most cases you will hold at once")
    elif not CASES_AT_ONCE_MIN <= details.max_cases <= CASES_AT_ONCE_MAX:
        errors.add("max_cases",
                   f"The most cases at once must be between {CASES_AT_ONCE_MIN} and {CASES_AT_ONCE_MAX}")
    languages = _check_languages(details.languages, errors)
    if details.drives is None:
        errors.add("drives", "Select yes if you can drive to meetings")
    errors.raise_if_any()
    before = {"availability": volunteer.availability_mask, "districts": list(volunteer.districts or []),
              "max_cases": volunteer.max_cases, "languages": list(volunteer.languages or []),
              "drives": volunteer.drives}
    _set_availability(volunteer, pattern)
    volunteer.districts = districts
    volunteer.max_cases = details.max_cases
    volunteer.languages = languages
    volunteer.drives = bool(details.drives)
    volunteer.preferences_updated_at = now
    session.flush()
    after = {"availability": volunteer.availability_mask, "districts": districts, "max_cases": volunteer.max_cases,
             "languages": languages, "drives": volunteer.drives}
    audit.record(session, actor, "volunteers.preferences_updated", volunteer, at=now,
                 changed={name: after[name] for name in after if after[name] != before[name]})
    return volunteer


def add_absence(
    session: Session, user_id: int, starts_on: dt.date | None, ends_on: dt.date | None, note: str | None, *,
    actor: User, now: dt.datetime,
) -> VolunteerAbsence:
    """Record dates the volunteer is away (both days included): from today or later, at most a year
    long, not overlapping dates already recorded. The same dates sent twice give the same record.

    Raises PreferencesInvalid, NotFound, PermissionDenied.
    """
    volunteer = _own_volunteer(session, user_id, lock=True)  # two tabs cannot add overlapping dates
    _require_changer(actor, volunteer)
    errors = FieldErrors(PreferencesInvalid)
    today = _london_today(now)
    text = clean_text(note) or None
    if starts_on is None:
        errors.add("starts_on", "Enter the first day you are away")
    elif starts_on < today:
        errors.add("starts_on", "The first day you are away must be today or in the future")
    if ends_on is None:
        errors.add("ends_on", "Enter the last day you are away")
    elif starts_on is not None and ends_on < starts_on:
        errors.add("ends_on", "The last day you are away must be the same as or after the first day")
    elif starts_on is not None and ends_on >= _one_year_after(starts_on):
        errors.add("ends_on", "Dates away must be a year or shorter. To stop for longer, pause your volunteering")
    if text and len(text) > ABSENCE_NOTE_MAX:
        errors.add("note", too_long("The note", ABSENCE_NOTE_MAX, text))
    errors.raise_if_any()
    overlapping = session.scalars(
        select(VolunteerAbsence).where(VolunteerAbsence.volunteer_id == volunteer.id,
                                       VolunteerAbsence.starts_on <= ends_on, VolunteerAbsence.ends_on >= starts_on)
        .order_by(VolunteerAbsence.starts_on)
    ).all()
    for absence in overlapping:
        if (absence.starts_on, absence.ends_on) == (starts_on, ends_on):
            return absence
    if overlapping:
        first = overlapping[0]
        errors.add("starts_on", f"These dates overlap your time away from {long_date(first.starts_on)} "
                                f"to {long_date(first.ends_on)}")
        errors.raise_if_any()
    absence = VolunteerAbsence(volunteer_id=volunteer.id, starts_on=starts_on, ends_on=ends_on, note=text,
                               created_at=now)
    session.add(absence)
    session.flush()
    audit.record(session, actor, "volunteers.absence_added", absence, at=now, volunteer_id=volunteer.id,
                 starts_on=starts_on, ends_on=ends_on)
    return absence


def remove_absence(session: Session, user_id: int, absence_id: int, *, actor: User, now: dt.datetime) -> None:
    """Delete one of the volunteer's own dates away. Raises NotFound for another volunteer's (or an
    unknown) id, PermissionDenied."""
    volunteer = _own_volunteer(session, user_id)
    _require_changer(actor, volunteer)
    absence = session.get(VolunteerAbsence, absence_id)
    if absence is None or absence.volunteer_id != volunteer.id:
        raise NotFound("Dates away not found")
    audit.record(session, actor, "volunteers.absence_removed", ("volunteer_absences", absence.id), at=now,
                 volunteer_id=volunteer.id, starts_on=absence.starts_on, ends_on=absence.ends_on)
    session.delete(absence)
    session.flush()


def declare_conflict(
    session: Session, user_id: int, kind: ConflictKind | str | None, name: str | None, details: str | None, *,
    actor: User, now: dt.datetime,
) -> ConflictOfInterest:
    """Record, privately, a person or place the volunteer must not work with, and e-mail every
    coordinator that a declaration was made (never what it says). Declaring the same current conflict
    again returns it and sends nothing.

    Raises PreferencesInvalid (no kind; a name that is empty or only punctuation; text too long),
    NotFound, PermissionDenied.
    """
    volunteer = _own_volunteer(session, user_id)
    _require_changer(actor, volunteer)
    errors = FieldErrors(PreferencesInvalid)
    try:
        chosen = ConflictKind(kind)
    except ValueError:
        chosen = None
        errors.add("kind", "Select whether it is a person or a place")
    who = clean_text(name)
    about = clean_text(details) or None
    if not any(character.isalnum() for character in who):
        errors.add("name", "Enter the name of the person or place")
    elif len(who) > CONFLICT_NAME_MAX:
        errors.add("name", too_long("The name", CONFLICT_NAME_MAX, who))
    if about and len(about) > CONFLICT_DETAILS_MAX:
        errors.add("details", too_long("The details", CONFLICT_DETAILS_MAX, about))
    errors.raise_if_any()
    current = session.scalars(select(ConflictOfInterest).where(
        ConflictOfInterest.volunteer_id == volunteer.id, ConflictOfInterest.kind == chosen,
        ConflictOfInterest.withdrawn_at.is_(None))).all()
    for conflict in current:
        if conflict.name.casefold() == who.casefold() and conflict.details == about:
            return conflict
    conflict = ConflictOfInterest(volunteer_id=volunteer.id, kind=chosen, name=who, details=about, declared_at=now)
    session.add(conflict)
    session.flush()
    # The audit log is open to admins; the name stays with the declaration, where only coordinators look.
    audit.record(session, actor, "volunteers.conflict_declared", conflict, at=now, volunteer_id=volunteer.id,
                 kind=chosen)
    recipients = vetting_services.coordinator_emails(session)
    if recipients:
        outbox.queue(
            session, to=recipients, subject=f"{volunteer.name} has declared a conflict of interest",
            template="volunteers/conflict_declared",
            context={"volunteer_name": volunteer.name, "kind": chosen.label,
                     "declared_on": long_date(_london_today(now))},
            dedupe_key=f"volunteers.conflict_declared:{conflict.id}", now=now,
        )
    return conflict


def withdraw_conflict(
    session: Session, user_id: int, conflict_id: int, *, actor: User, now: dt.datetime,
) -> ConflictOfInterest:
    """Mark one of the volunteer's own declarations withdrawn (kept for the record); withdrawing it
    again changes nothing. Raises NotFound for another volunteer's (or an unknown) id, PermissionDenied."""
    volunteer = _own_volunteer(session, user_id)
    _require_changer(actor, volunteer)
    conflict = session.get(ConflictOfInterest, conflict_id)
    if conflict is None or conflict.volunteer_id != volunteer.id:
        raise NotFound("Conflict of interest not found")
    if conflict.withdrawn_at is None:
        conflict.withdrawn_at = now
        session.flush()
        audit.record(session, actor, "volunteers.conflict_withdrawn", conflict, at=now, volunteer_id=volunteer.id)
    return conflict


def pause_volunteering(
    session: Session, user_id: int, until: dt.date | None, reason: str | None, *, actor: User, now: dt.datetime,
) -> Volunteer:
    """Take no new case offers up to and including `until` (today to a year from today). The
    volunteer's lifecycle status is the coordinators' and does not change. Pausing again moves the date.

    Raises PreferencesInvalid, NotFound, PermissionDenied.
    """
    volunteer = _own_volunteer(session, user_id)
    _require_changer(actor, volunteer)
    errors = FieldErrors(PreferencesInvalid)
    today = _london_today(now)
    text = clean_text(reason) or None
    if until is None:
        errors.add("until", "Enter the last day of your pause")
    elif until < today:
        errors.add("until", "The last day of your pause must be today or in the future")
    elif until > _one_year_after(today):
        errors.add("until", f"The last day of your pause must be on or before {long_date(_one_year_after(today))}")
    if text and len(text) > PAUSE_REASON_MAX:
        errors.add("reason", too_long("The reason", PAUSE_REASON_MAX, text))
    errors.raise_if_any()
    if (volunteer.paused_until, volunteer.pause_reason) == (until, text):
        return volunteer
    volunteer.paused_until = until
    volunteer.pause_reason = text
    session.flush()
    audit.record(session, actor, "volunteers.paused", volunteer, at=now, until=until)
    return volunteer


def resume_volunteering(session: Session, user_id: int, *, actor: User, now: dt.datetime) -> Volunteer:
    """End the volunteer's pause now (nothing happens when they are not paused). Raises NotFound,
    PermissionDenied."""
    volunteer = _own_volunteer(session, user_id)
    _require_changer(actor, volunteer)
    if volunteer.paused_until is None:
        return volunteer
    until = volunteer.paused_until
    volunteer.paused_until = None
    volunteer.pause_reason = None
    session.flush()
    audit.record(session, actor, "volunteers.resumed", volunteer, at=now, was_paused_until=until)
    return volunteer


def set_experience(
    session: Session, volunteer_id: int, level: ExperienceLevel | str | None, *, actor: User, now: dt.datetime,
) -> Volunteer:
    """Set how much casework the facilitator is ready for. Coordinators only, and never their own
    (a volunteer cannot claim "trained for sensitive and complex cases"). Setting the same level again
    changes nothing.

    Raises PermissionDenied, NotFound, PreferencesInvalid for a missing or unknown level.
    """
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("Volunteer not found")
    if not permissions.can_set_experience(actor, volunteer):
        raise PermissionDenied("Only coordinators can set a volunteer's experience level")
    try:
        chosen = ExperienceLevel(level)
    except ValueError:
        raise PreferencesInvalid({"experience": ["Select an experience level"]}) from None
    if volunteer.experience is chosen:
        return volunteer
    before = volunteer.experience
    volunteer.experience = chosen
    session.flush()
    audit.record(session, actor, "volunteers.experience_changed", volunteer, at=now, before=before, after=chosen)
    return volunteer
