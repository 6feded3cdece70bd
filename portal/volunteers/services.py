"""Volunteer application use cases: start, save sections, submit, withdraw, shortlist, reject, reminders.

Every service takes the session first and `actor` and `now` (an aware datetime) as keywords; "today"
is `now`'s date in Europe/London. Services flush and never commit, audit every state change in the
same transaction, queue mail through the outbox, and raise NotFound, PermissionDenied, RuleViolation,
or ValidationFailed (SectionInvalid / ApplicationIncomplete, whose reasons are shown against the form).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core import audit, numbering, outbox, settings
from portal.core.accounts import User, normalise_email
from portal.core.clock import LONDON
from portal.core.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed, transition_error
from portal.core.validation import FieldErrors, clean_text, too_long
from portal.volunteers import permissions, signals
from portal.volunteers.errors import ApplicationIncomplete, SectionInvalid
from portal.volunteers.models import (
    ACTIVE_STATUSES,
    DAY_PERIODS,
    EQUALITY_QUESTIONS,
    OPTIONAL_SECTIONS,
    REQUIRED_SECTIONS,
    WEEKDAYS,
    Application,
    ApplicationNote,
    ApplicationReferenceCounter,
    ApplicationSection,
    ApplicationStatus,
    EqualityMonitoring,
    Referee,
)

S = ApplicationStatus
Section = ApplicationSection

# Where an application may go next. Rejected and withdrawn are final.
APPLICATION_TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.SHORTLISTED, S.REJECTED, S.WITHDRAWN}),
    S.SHORTLISTED: frozenset({S.INTERVIEW_BOOKED, S.REJECTED, S.WITHDRAWN}),
    # Back to shortlisted when the interview is cancelled.
    S.INTERVIEW_BOOKED: frozenset({S.INTERVIEWED, S.SHORTLISTED, S.REJECTED, S.WITHDRAWN}),
    S.INTERVIEWED: frozenset({S.OFFERED, S.REJECTED, S.WITHDRAWN}),
    S.OFFERED: frozenset({S.WITHDRAWN}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
# These moves have their own services because they carry more than a status change.
_DEDICATED_MOVES = {S.SUBMITTED: "submit_application", S.REJECTED: "reject_application",
                    S.WITHDRAWN: "withdraw_application"}

MINIMUM_AGE = 18
DISTRICTS_SETTING = "volunteers.districts"
# Essex's districts (the demo service); each service sets its own list.
DEFAULT_DISTRICTS = (
    "Basildon", "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Colchester", "Epping Forest",
    "Harlow", "Maldon", "Rochford", "Southend-on-Sea", "Tendring", "Thurrock", "Uttlesford",
)
DRAFT_RETENTION_SETTING = "volunteers.draft_retention_days"
DRAFT_RETENTION_DEFAULT_DAYS = 90
CLOSED_RETENTION_SETTING = "volunteers.closed_application_retention_days"
CLOSED_RETENTION_DEFAULT_DAYS = 365
NOTE_MAX = 5000
# A second identical note from the same person within this window is the same click, not a new note.
NOTE_REPEAT_WINDOW = dt.timedelta(minutes=2)
REJECTION_MESSAGE_SETTING = "volunteers.rejection_message"
DEFAULT_REJECTION_MESSAGE = (
    "We received many more applications than we have places on our next training course, and we have "
    "not been able to take yours further this time. This is not a judgement of you or of the care you "
    "would bring. Thank you for the time and thought you gave to your application."
)

NAME_MAX = 100
TEXT_MAX = 2000
REASON_MAX = 1000


# ---------------------------------------------------------------------------------------------
# Postcodes, names and other small validators


# The Royal Mail format: an outward code (area letters never Q, V or X first, never I, J or Z second)
# then the inward code (a digit and two letters, never C, I, K, M, O or V); GIR 0AA is the one exception.
_POSTCODE = re.compile(
    r"^(GIR0AA|(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_postcode(raw: str) -> str | None:
    """A UK postcode in its standard form ("sw1a1aa" -> "SW1A 1AA"), or None if it is not one."""
    compact = re.sub(r"\s+", "", raw or "").upper()
    if not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


# Letters in any alphabet, separated by single spaces, apostrophes, hyphens or full stops.
_NAME = re.compile(r"^[^\W\d_]+(?:(?:[ '’\-]|\. ?)[^\W\d_]+)*\.?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_PHONE_CHARACTERS = re.compile(r"^[0-9 ()+\-]+$")


def _text(
    errors: FieldErrors, data: Mapping[str, Any], field: str, what: str, *, required: bool = True,
    max_length: int = TEXT_MAX, missing: str | None = None,
) -> str | None:
    value = clean_text(data.get(field))
    if not value:
        if required:
            errors.add(field, missing or f"Enter {what}")
        return None
    if len(value) > max_length:
        errors.add(field, too_long(f"{what[0].upper()}{what[1:]}", max_length, value))
    return value


def _name(errors: FieldErrors, data: Mapping[str, Any], field: str, what: str, *, required: bool = True) -> str | None:
    value = _text(errors, data, field, what, required=required, max_length=NAME_MAX)
    if value and field not in errors.errors and not _NAME.match(value):
        errors.add(
            field,
            f"{what[0].upper()}{what[1:]} must only include letters, spaces, hyphens, apostrophes and full stops",
        )
    return value


def _email(errors: FieldErrors, data: Mapping[str, Any], field: str, what: str) -> str | None:
    value = _text(errors, data, field, what, max_length=254)
    if value and field not in errors.errors and not _EMAIL.match(value):
        errors.add(field, f"Enter {what} in the correct format, like name@example.com")
        return None
    return normalise_email(value) if value else None


def _phone(errors: FieldErrors, data: Mapping[str, Any], field: str) -> str | None:
    value = _text(errors, data, field, "a telephone number", max_length=30)
    if value and field not in errors.errors:
        digits = re.sub(r"\D", "", value)
        if digits.startswith("44"):
            digits = "0" + digits[2:]
        if not _PHONE_CHARACTERS.match(value) or not digits.startswith("0") or len(digits) not in (10, 11):
            errors.add(field, "Enter a UK telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")
    return value


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, Mapping):
        try:
            return dt.date(int(value["year"]), int(value["month"]), int(value["day"]))
        except (KeyError, TypeError, ValueError):
            return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _london_today(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def _date_of_birth_problem(date_of_birth: dt.date, today: dt.date) -> str | None:
    if date_of_birth >= today:
        return "Date of birth must be in the past"
    if date_of_birth.year < 1900:
        return "Date of birth must be after 1900"
    if age_on(date_of_birth, today) < MINIMUM_AGE:
        return f"You must be {MINIMUM_AGE} or over to volunteer with us"
    return None


def _is_yes(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = clean_text(value).lower()
    if text in {"yes", "y", "true", "1", "on"}:
        return True
    if text in {"no", "n", "false", "0"}:
        return False
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (clean_text(p) for p in value.split(",")) if part]
    return [part for part in (clean_text(p) for p in value) if part]


def configured_districts(session: Session) -> list[str]:
    """The districts applicants may choose from (a setting; Essex's districts by default)."""
    return list(settings.get_setting(session, DISTRICTS_SETTING, list(DEFAULT_DISTRICTS)))


# ---------------------------------------------------------------------------------------------
# Section validation: each returns the cleaned values or raises SectionInvalid with every message


def _personal_details(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    full_name = _name(errors, data, "full_name", "your full name")
    preferred_name = _name(errors, data, "preferred_name", "your preferred name", required=False)
    raw_date = data.get("date_of_birth")
    date_of_birth = _date(raw_date)
    if raw_date in (None, "") or (isinstance(raw_date, Mapping) and not any(raw_date.values())):
        errors.add("date_of_birth", "Enter your date of birth")
    elif date_of_birth is None:
        errors.add("date_of_birth", "Date of birth must be a real date")
    elif problem := _date_of_birth_problem(date_of_birth, _london_today(now)):
        errors.add("date_of_birth", problem)
    errors.raise_if_any()
    application.full_name = full_name
    application.preferred_name = preferred_name
    application.date_of_birth = date_of_birth


def _contact_details(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    email = _email(errors, data, "email", "your email address")
    phone = _phone(errors, data, "phone")
    line_1 = _text(errors, data, "address_line_1", "the first line of your address", max_length=100,
                   missing="Enter your building and street")
    line_2 = _text(errors, data, "address_line_2", "the second line of your address", required=False,
                   max_length=100)
    town = _text(errors, data, "town", "your town or city", max_length=60)
    raw_postcode = clean_text(data.get("postcode"))
    postcode = normalise_postcode(raw_postcode)
    if not raw_postcode:
        errors.add("postcode", "Enter your postcode")
    elif postcode is None:
        errors.add("postcode", "Enter a full UK postcode, like AA1 1AA")
    errors.raise_if_any()
    application.email = email
    application.phone = phone
    application.address_line_1 = line_1
    application.address_line_2 = line_2
    application.town = town
    application.postcode = postcode


def _districts(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    allowed = configured_districts(session)
    chosen = set(_as_list(data.get("districts")))
    unknown = sorted(chosen - set(allowed))
    if not chosen:
        errors.add("districts", "Select at least one district you can volunteer in")
    elif unknown:
        errors.add("districts", f"Select districts from the list (not {', '.join(unknown)})")
    errors.raise_if_any()
    application.districts = [district for district in allowed if district in chosen]


def _availability(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    raw = data.get("availability")
    if not isinstance(raw, Mapping):
        raw = {day: data.get(day) for day in WEEKDAYS}
    unknown_days = sorted(set(raw) - set(WEEKDAYS))
    availability: dict[str, list[str]] = {}
    for day in WEEKDAYS:
        periods = set(_as_list(raw.get(day)))
        if periods - set(DAY_PERIODS):
            errors.add(day, f"Choose morning, afternoon or evening for {day.capitalize()}")
        chosen = [period for period in DAY_PERIODS if period in periods]
        if chosen:
            availability[day] = chosen
    if unknown_days:
        errors.add("availability", f"Choose days of the week (not {', '.join(unknown_days)})")
    if not availability and not errors.errors:
        errors.add("availability", "Select at least one time when you are usually available")
    errors.raise_if_any()
    application.availability = availability


def _languages(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    languages: list[str] = []
    for language in _as_list(data.get("languages")):
        if language.casefold() not in {known.casefold() for known in languages}:
            languages.append(language)
    if not languages:
        errors.add("languages", "Enter at least one language you speak")
    elif len(languages) > 10:
        errors.add("languages", "Enter 10 languages or fewer")
    elif too_long := [language for language in languages if len(language) > 50]:
        errors.add("languages", f"Each language must be 50 characters or fewer (not “{too_long[0]}”)")
    errors.raise_if_any()
    application.languages = languages


def _experience(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    experience = _text(errors, data, "experience", "your relevant experience",
                       missing="Tell us about your relevant experience, paid or unpaid")
    errors.raise_if_any()
    application.experience = experience


def _motivation(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    motivation = _text(errors, data, "motivation", "why you want to volunteer",
                       missing="Tell us why you want to volunteer with us")
    errors.raise_if_any()
    application.motivation = motivation


def _referees(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    referees = []
    for position in (1, 2):
        ordinal = "first" if position == 1 else "second"
        prefix = f"referee_{position}_"
        name = _name(errors, data, f"{prefix}name", f"the {ordinal} referee’s name")
        email = _email(errors, data, f"{prefix}email", f"the {ordinal} referee’s email address")
        relationship = _text(errors, data, f"{prefix}relationship", f"how you know the {ordinal} referee",
                             max_length=100)
        referees.append((position, name, email, relationship))
    emails = [referee[2] for referee in referees if referee[2]]
    if len(emails) == 2 and emails[0] == emails[1]:
        errors.add("referee_2_email", "Your two referees must have different email addresses")
    for position, _referee_name, email, _relationship in referees:
        if email and application.email and email == application.email:
            errors.add(f"referee_{position}_email", "A referee cannot be you: enter someone else’s email address")
    errors.raise_if_any()
    by_position = {referee.position: referee for referee in application.referees}
    for position, name, email, relationship in referees:
        referee = by_position.get(position)
        if referee is None:
            application.referees.append(
                Referee(position=position, name=name, email=email, relationship_to_applicant=relationship)
            )
        else:
            referee.name, referee.email, referee.relationship_to_applicant = name, email, relationship


def _convictions(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    answer = _is_yes(data.get("has_unspent_convictions"))
    details = None
    if answer is None:
        errors.add("has_unspent_convictions", "Select yes if you have any unspent convictions")
    elif answer:
        details = _text(errors, data, "convictions_details", "details of your unspent convictions",
                        missing="Give details of your unspent convictions")
    errors.raise_if_any()
    application.has_unspent_convictions = answer
    application.convictions_details = details


def _equality(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    answers: dict[str, str | None] = {}
    for question, choices in EQUALITY_QUESTIONS.items():
        value = clean_text(data.get(question)) or None
        if value is not None and value not in choices:
            errors.add(question, "Select one of the options, or “Prefer not to say”")
        answers[question] = value
    errors.raise_if_any()
    record = None
    if application.equality_link:
        record = session.scalar(select(EqualityMonitoring).where(EqualityMonitoring.link == application.equality_link))
    if record is None:
        record = EqualityMonitoring(link=uuid.uuid4().hex, recorded_on=_london_today(now).replace(day=1))
        session.add(record)
        application.equality_link = record.link
    for question, value in answers.items():
        setattr(record, question, value)


def _agreements(session: Session, application: Application, data: Mapping[str, Any], now: dt.datetime):
    errors = FieldErrors(SectionInvalid)
    if not _is_yes(data.get("privacy_notice_agreed")):
        errors.add("privacy_notice_agreed", "Confirm that you have read and agree to the privacy notice")
    if not _is_yes(data.get("commitment_agreed")):
        errors.add("commitment_agreed", "Confirm that you can volunteer with us for at least 12 months")
    errors.raise_if_any()
    application.privacy_notice_agreed_at = application.privacy_notice_agreed_at or now
    application.commitment_agreed_at = application.commitment_agreed_at or now


_SAVERS = {
    Section.PERSONAL_DETAILS: _personal_details,
    Section.CONTACT_DETAILS: _contact_details,
    Section.DISTRICTS: _districts,
    Section.AVAILABILITY: _availability,
    Section.LANGUAGES: _languages,
    Section.EXPERIENCE: _experience,
    Section.MOTIVATION: _motivation,
    Section.REFEREES: _referees,
    Section.CONVICTIONS: _convictions,
    Section.EQUALITY: _equality,
    Section.AGREEMENTS: _agreements,
}


# ---------------------------------------------------------------------------------------------
# The task list


@dataclass(frozen=True)
class Task:
    """One line of the task list: `status` is "completed", "not started" or "optional"."""

    section: ApplicationSection
    status: str

    @property
    def is_complete(self) -> bool:
        return self.status == "completed"


def _section_complete(application: Application, section: ApplicationSection) -> bool:
    a = application
    match section:
        case Section.PERSONAL_DETAILS:
            return bool(a.full_name and a.date_of_birth)
        case Section.CONTACT_DETAILS:
            return bool(a.email and a.phone and a.address_line_1 and a.town and a.postcode)
        case Section.DISTRICTS:
            return bool(a.districts)
        case Section.AVAILABILITY:
            return bool(a.availability)
        case Section.LANGUAGES:
            return bool(a.languages)
        case Section.EXPERIENCE:
            return bool(a.experience)
        case Section.MOTIVATION:
            return bool(a.motivation)
        case Section.REFEREES:
            return len(a.referees) == 2
        case Section.CONVICTIONS:
            return a.has_unspent_convictions is not None
        case Section.EQUALITY:
            return a.equality_link is not None
        case Section.AGREEMENTS:
            return bool(a.privacy_notice_agreed_at and a.commitment_agreed_at)
    raise ValueError(section)  # pragma: no cover


def task_list(application: Application) -> list[Task]:
    """Every section in order with whether it is complete (optional sections say so until answered)."""
    tasks = []
    for section in Section:
        if _section_complete(application, section):
            status = "completed"
        else:
            status = "optional" if section in OPTIONAL_SECTIONS else "not started"
        tasks.append(Task(section, status))
    return tasks


def incomplete_sections(application: Application) -> list[ApplicationSection]:
    """The required sections still to complete, in task-list order."""
    return [section for section in REQUIRED_SECTIONS if not _section_complete(application, section)]


# ---------------------------------------------------------------------------------------------
# Services


def _load(session: Session, application_id: int, *, for_update: bool = False) -> Application:
    query = select(Application).where(Application.id == application_id)
    if for_update:
        query = query.with_for_update()
    application = session.scalar(query)
    if application is None:
        raise NotFound("Application not found")
    return application


def _load_visible(session: Session, application_id: int, actor: User, *, for_update: bool = False) -> Application:
    application = _load(session, application_id, for_update=for_update)
    # Someone else's application is "not found", so ids in URLs reveal nothing.
    if not permissions.can_view_application(actor, application):
        raise NotFound("Application not found")
    return application


def _take_number(session: Session, year: int) -> int:
    return numbering.take_yearly_number(session, ApplicationReferenceCounter.__table__, year)


def format_reference(year: int, number: int) -> str:
    """The readable application reference, e.g. APP-2026-00017."""
    return f"APP-{year}-{number:05d}"


def _move(
    session: Session, application: Application, target: ApplicationStatus, *, actor: User | None,
    now: dt.datetime, **details: Any,
) -> None:
    current = application.status
    if target not in APPLICATION_TRANSITIONS[current]:
        raise transition_error("application", current.value, target.value)
    application.status = target
    application.status_changed_at = now
    application.updated_at = now
    session.flush()
    audit.record(
        session, actor, f"application.{target.value}", application, at=now,
        reference=application.reference, from_status=current, to_status=target, **details,
    )


def change_status(
    session: Session, application: Application, target: ApplicationStatus, *, actor: User | None,
    now: dt.datetime, **details: Any,
) -> None:
    """Move `application` to `target` along APPLICATION_TRANSITIONS, audited with `details`.

    For the volunteers module's own sub-packages (interviews, references, profiles), whose services
    have already checked who may make the move; raises RuleViolation for a move the table forbids.
    """
    _move(session, application, target, actor=actor, now=now, **details)


def _find_draft(session: Session, user: User) -> Application | None:
    return session.scalar(
        select(Application).where(Application.user_id == user.id, Application.status == S.DRAFT)
    )


def start_application(session: Session, user: User, *, now: dt.datetime) -> Application:
    """The applicant's draft application, started now if they have none (a second call returns it).

    Raises PermissionDenied unless `user` holds the applicant role, and RuleViolation when they
    already have a submitted application in progress.
    """
    if not permissions.can_start_application(user):
        raise PermissionDenied("Only applicants can start an application")
    existing = _find_draft(session, user)
    if existing is not None:
        return existing
    in_progress = session.scalar(
        select(Application).where(Application.user_id == user.id, Application.status.in_(ACTIVE_STATUSES))
    )
    if in_progress is not None:
        raise RuleViolation(
            f"You already have an application in progress ({in_progress.reference}, {in_progress.status.label})"
        )
    year = _london_today(now).year
    application = Application(
        reference=format_reference(year, _take_number(session, year)),
        user_id=user.id,
        status=S.DRAFT,
        full_name=user.name,
        email=user.email,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    try:
        with session.begin_nested():
            session.add(application)
    except IntegrityError:
        # A second request started a draft at the same moment: theirs is the draft.
        existing = _find_draft(session, user)
        if existing is None:
            raise
        return existing
    audit.record(session, user, "application.started", application, at=now, reference=application.reference)
    return application


def save_section(
    session: Session, application_id: int, section: ApplicationSection | str, data: Mapping[str, Any], *,
    actor: User, now: dt.datetime,
) -> Application:
    """Validate and store one section of a draft. Raises SectionInvalid listing every problem,
    RuleViolation once the application is submitted, NotFound for anyone but its applicant."""
    application = _load_visible(session, application_id, actor)
    if not permissions.is_owner(actor, application):
        raise NotFound("Application not found")
    if not application.is_draft:
        raise RuleViolation(
            f"Application {application.reference} is {application.status.label} and can no longer be changed"
        )
    section = Section(section)
    _SAVERS[section](session, application, data, now)
    application.updated_at = now
    session.flush()
    audit.record(session, actor, "application.section_saved", application, at=now, section=section)
    return application


def _confirmation_context(application: Application) -> dict[str, Any]:
    return {"name": application.display_name, "reference": application.reference}


def submit_application(session: Session, application_id: int, *, actor: User, now: dt.datetime) -> Application:
    """Submit a complete draft and queue a confirmation e-mail giving its reference.

    Submitting again (double click, back button) returns the application unchanged and sends nothing.
    Raises ApplicationIncomplete naming the sections still to do, RuleViolation when the applicant
    is under 18 on the day or the application was withdrawn, NotFound for anyone but the applicant.
    """
    application = _load_visible(session, application_id, actor, for_update=True)
    if not permissions.is_owner(actor, application):
        raise NotFound("Application not found")
    if application.status != S.DRAFT:
        if application.submitted_at is not None:
            return application
        raise transition_error("application", application.status.value, S.SUBMITTED.value)
    missing = incomplete_sections(application)
    if missing:
        raise ApplicationIncomplete([section.label for section in missing])
    problem = _date_of_birth_problem(application.date_of_birth, _london_today(now))
    if problem:
        raise ValidationFailed(problem, field="date_of_birth")
    _move(session, application, S.SUBMITTED, actor=actor, now=now)
    application.submitted_at = now
    session.flush()
    outbox.queue(
        session,
        to=application.email,
        subject=f"We have received your application {application.reference}",
        template="volunteers/application_submitted",
        context=_confirmation_context(application),
        dedupe_key=f"volunteers.application_submitted:{application.id}",
        now=now,
    )
    return application


def withdraw_application(
    session: Session, application_id: int, *, actor: User, now: dt.datetime, reason: str | None = None,
) -> Application:
    """Withdraw an application at any stage (the applicant, or a coordinator on their behalf).

    Withdrawing again returns it unchanged. Raises RuleViolation once it is rejected.
    """
    application = _load_visible(session, application_id, actor, for_update=True)
    if application.status == S.WITHDRAWN:
        return application
    reason = clean_text(reason) or None
    if reason and len(reason) > REASON_MAX:
        raise ValidationFailed(
            too_long("The reason", REASON_MAX, reason),
            field="reason",
        )
    _move(session, application, S.WITHDRAWN, actor=actor, now=now, reason=reason)
    application.withdrawal_reason = reason
    session.flush()
    return application


def _require_coordinator(actor: User) -> None:
    if not permissions.can_review_applications(actor):
        raise PermissionDenied("Only coordinators can decide on applications")


def shortlist_application(session: Session, application_id: int, *, actor: User, now: dt.datetime) -> Application:
    """Shortlist a submitted application for interview (coordinators only)."""
    _require_coordinator(actor)
    application = _load(session, application_id, for_update=True)
    _move(session, application, S.SHORTLISTED, actor=actor, now=now)
    return application


def reject_application(
    session: Session, application_id: int, reason: str, *, actor: User, now: dt.datetime,
) -> Application:
    """Reject an application with a reason kept on record, and queue a kind e-mail to the applicant.

    The e-mail's message is the `volunteers.rejection_message` setting; the internal reason is not sent.
    Raises PermissionDenied for anyone but a coordinator, ValidationFailed without a reason.
    """
    _require_coordinator(actor)
    application = _load(session, application_id, for_update=True)
    reason = clean_text(reason)
    if not reason:
        raise ValidationFailed("Enter the reason for rejecting the application", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            too_long("The reason", REASON_MAX, reason),
            field="reason",
        )
    _move(session, application, S.REJECTED, actor=actor, now=now, reason=reason)
    application.rejection_reason = reason
    session.flush()
    outbox.queue(
        session,
        to=application.email or application.user.email,
        subject=f"Your application {application.reference}",
        template="volunteers/application_rejected",
        context={
            **_confirmation_context(application),
            "message": settings.get_setting(session, REJECTION_MESSAGE_SETTING, DEFAULT_REJECTION_MESSAGE),
        },
        dedupe_key=f"volunteers.application_rejected:{application.id}",
        now=now,
    )
    return application


def move_application(
    session: Session, application_id: int, target: ApplicationStatus | str, *, actor: User, now: dt.datetime,
) -> Application:
    """Move an application along the interview stages (coordinators only): shortlisted, interview
    booked, interviewed, offered. Submitting, rejecting and withdrawing have their own services."""
    _require_coordinator(actor)
    target = S(target)
    if target in _DEDICATED_MOVES:
        raise RuleViolation(f"Use {_DEDICATED_MOVES[target]} to move an application to {target.label}")
    application = _load(session, application_id, for_update=True)
    _move(session, application, target, actor=actor, now=now)
    return application


# ---------------------------------------------------------------------------------------------
# Jobs: reminders and expiry of drafts (idempotent, safe to run on several machines at once)


def draft_retention_days(session: Session) -> int:
    return int(settings.get_setting(session, DRAFT_RETENTION_SETTING, DRAFT_RETENTION_DEFAULT_DAYS))


def remind_stale_drafts(session: Session, *, now: dt.datetime, after_days: int = 30) -> int:
    """E-mail one reminder for each draft untouched for `after_days`; returns how many were queued.

    Each draft is reminded once in its life, however often the job runs.
    """
    cutoff = now - dt.timedelta(days=after_days)
    drafts = list(
        session.scalars(
            select(Application)
            .where(Application.status == S.DRAFT, Application.updated_at <= cutoff,
                   Application.last_reminded_at.is_(None))
            .order_by(Application.id)
            .with_for_update(skip_locked=True)
        )
    )
    retention = draft_retention_days(session)
    for application in drafts:
        deleted_on = (application.updated_at + dt.timedelta(days=retention)).astimezone(LONDON).date()
        outbox.queue(
            session,
            to=application.email or application.user.email,
            subject=f"Your application {application.reference} is waiting for you",
            template="volunteers/draft_reminder",
            context={**_confirmation_context(application), "deleted_on": f"{deleted_on:%-d %B %Y}"},
            dedupe_key=f"volunteers.draft_reminder:{application.id}",
            now=now,
        )
        application.last_reminded_at = now
        audit.record(session, None, "application.draft_reminded", application, at=now,
                     reference=application.reference)
    session.flush()
    return len(drafts)


def delete_expired_drafts(session: Session, *, now: dt.datetime, after_days: int | None = None) -> int:
    """Delete drafts untouched for `after_days` (the retention setting by default), with their
    referees and equality answers; returns how many were deleted."""
    days = draft_retention_days(session) if after_days is None else after_days
    cutoff = now - dt.timedelta(days=days)
    drafts = list(
        session.scalars(
            select(Application)
            .where(Application.status == S.DRAFT, Application.updated_at <= cutoff)
            .order_by(Application.id)
            .with_for_update(skip_locked=True)
        )
    )
    links = [application.equality_link for application in drafts if application.equality_link]
    if links:
        session.execute(delete(EqualityMonitoring).where(EqualityMonitoring.link.in_(links)))
    for application in drafts:
        audit.record(session, None, "application.draft_deleted", ("volunteer_applications", application.id),
                     at=now, reference=application.reference, last_updated_at=application.updated_at)
        session.delete(application)
    session.flush()
    return len(drafts)


def closed_retention_days(session: Session) -> int:
    return int(settings.get_setting(session, CLOSED_RETENTION_SETTING, CLOSED_RETENTION_DEFAULT_DAYS))


def erasure_date(session: Session, application: Application) -> dt.date | None:
    """The day a rejected or withdrawn application's personal data will be erased (London date)."""
    if application.status not in (S.REJECTED, S.WITHDRAWN):
        return None
    erase_at = application.status_changed_at + dt.timedelta(days=closed_retention_days(session))
    return erase_at.astimezone(LONDON).date()


_PERSONAL_FIELDS = (
    "full_name", "preferred_name", "date_of_birth", "email", "phone", "address_line_1", "address_line_2",
    "town", "postcode", "experience", "motivation", "has_unspent_convictions", "convictions_details",
    "rejection_reason", "withdrawal_reason",
)


def anonymise_closed_applications(session: Session, *, now: dt.datetime, after_days: int | None = None) -> int:
    """Erase the personal data of applications rejected or withdrawn more than `after_days` ago (the
    setting volunteers.closed_application_retention_days by default); returns how many were erased.

    What stays is what the anonymous statistics need: reference, status, dates, districts and
    availability. Referees, notes and equality answers are deleted; the interview and reference
    records are erased by their own modules on the `application_anonymised` signal. Safe to run
    often and on several machines (locked rows are skipped).
    """
    days = closed_retention_days(session) if after_days is None else after_days
    cutoff = now - dt.timedelta(days=days)
    applications = list(
        session.scalars(
            select(Application)
            .where(Application.status.in_((S.REJECTED, S.WITHDRAWN)), Application.anonymised_at.is_(None),
                   Application.status_changed_at <= cutoff)
            .order_by(Application.id)
            .with_for_update(skip_locked=True)
        )
    )
    for application in applications:
        if application.equality_link:
            session.execute(delete(EqualityMonitoring).where(EqualityMonitoring.link == application.equality_link))
            application.equality_link = None
        session.execute(delete(ApplicationNote).where(ApplicationNote.application_id == application.id))
        application.referees.clear()
        for field in _PERSONAL_FIELDS:
            setattr(application, field, None)
        application.languages = []
        application.anonymised_at = now
        session.flush()
        signals.application_anonymised.send(application, session=session, now=now)
        audit.record(session, None, "application.anonymised", application, at=now, reference=application.reference)
    session.flush()
    return len(applications)


# ---------------------------------------------------------------------------------------------
# Coordinator notes


def add_application_note(
    session: Session, application_id: int, text: str, *, actor: User, now: dt.datetime,
) -> ApplicationNote:
    """Add a coordinator's note to a submitted application (never shown to the applicant).

    The same text from the same person within two minutes returns the earlier note, so a double
    click adds one. Raises ValidationFailed(field="text") for an empty or too long note.
    """
    _require_coordinator(actor)
    application = _load(session, application_id, for_update=True)
    if application.is_draft:
        raise NotFound("Application not found")
    text = clean_text(text)
    if not text:
        raise ValidationFailed("Enter the note", field="text")
    if len(text) > NOTE_MAX:
        raise ValidationFailed(
            too_long("The note", NOTE_MAX, text),
            field="text",
        )
    repeat = session.scalar(
        select(ApplicationNote).where(
            ApplicationNote.application_id == application.id, ApplicationNote.author_id == actor.id,
            ApplicationNote.text == text, ApplicationNote.written_at >= now - NOTE_REPEAT_WINDOW,
        )
    )
    if repeat is not None:
        return repeat
    note = ApplicationNote(application_id=application.id, text=text, author_id=actor.id, written_at=now)
    session.add(note)
    session.flush()
    audit.record(session, actor, "application.note_added", application, at=now, note_id=note.id,
                 reference=application.reference)
    return note
