"""Vetting use cases: record a check, a renewal or a decision; change the rules; report a change of
circumstances; the daily reminders-and-lapses job.

Every service takes the session first and `actor` and `now` (an aware datetime) as keywords; "today"
is `now`'s date in Europe/London. Services flush and never commit, audit every change in the same
transaction, queue mail through the outbox, and raise NotFound, RuleViolation or CheckInvalid (whose
`errors` map form fields to messages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.cases import services as case_services
from portal.core import audit, outbox, settings
from portal.core.accounts import Role, User, UserRole
from portal.core.clock import LONDON
from portal.core.errors import NotFound
from portal.core.validation import FieldErrors, too_long
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.vetting import queries, signals
from portal.volunteers.vetting.errors import CheckInvalid
from portal.volunteers.vetting.models import (
    DBS_WORKFORCES,
    HELD_STATUSES,
    IN_PROGRESS_STATUSES,
    LEVELS,
    CheckKind,
    CheckStatus,
    CircumstanceKind,
    CircumstanceReport,
    VettingCheck,
)
from portal.volunteers.vetting.rules import (
    RULES_SETTING,
    CheckRule,
    computed_expiry,
    due_reminder,
    long_date,
    rules_as_setting,
)

C = CheckStatus
NOTES_MAX = 2000
DECISION_MAKER_MAX = 200
DETAILS_MAX = 2000

# Where a check may go next. A lapsed, refused or withdrawn check is history: record a new check.
CHECK_TRANSITIONS: dict[CheckStatus, frozenset[CheckStatus]] = {
    C.NOT_STARTED: frozenset({C.SUBMITTED, C.CLEARED, C.REFUSED, C.WITHDRAWN}),
    C.SUBMITTED: frozenset({C.CLEARED, C.REFUSED, C.WITHDRAWN}),
    C.CLEARED: frozenset({C.LAPSED, C.WITHDRAWN}),
    C.LAPSED: frozenset(),
    C.REFUSED: frozenset(),
    C.WITHDRAWN: frozenset(),
}
# A new check starts in one of these (lapsed is only ever reached by the daily job).
RECORDABLE_STATUSES = (C.NOT_STARTED, C.SUBMITTED, C.CLEARED, C.REFUSED)


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


@dataclass(frozen=True)
class CheckDetails:
    """What a coordinator records about one check. Leave `expires_on` None to use the rule's date;
    a different date needs `expiry_override_reason`."""

    kind: CheckKind
    status: CheckStatus
    level: str | None = None
    submitted_on: dt.date | None = None
    cleared_on: dt.date | None = None
    decided_on: dt.date | None = None
    expires_on: dt.date | None = None
    expiry_override_reason: str | None = None
    reference_last4: str | None = None
    decision_maker: str | None = None
    notes: str | None = None
    dbs_workforce: str | None = None
    update_service: bool = False
    update_service_checked_on: dt.date | None = None


def _overlaps(start: dt.date, end: dt.date | None, other: VettingCheck) -> bool:
    other_end = other.expires_on or dt.date.max
    return start < other_end and (end or dt.date.max) > other.cleared_on


def _validate(
    details: CheckDetails, rule: CheckRule, *, today: dt.date, others: list[VettingCheck],
    renews: VettingCheck | None, expiry: dt.date | None, check_id: int | None = None,
) -> None:
    errors = FieldErrors(CheckInvalid)
    kind, status = details.kind, details.status
    levels = [value for value, _words in LEVELS[kind]]
    if levels and details.level not in levels:
        errors.add("level", "Choose the level of the check")
    for name, value, words in (("submitted_on", details.submitted_on, "The date submitted"),
                               ("cleared_on", details.cleared_on, "The date cleared"),
                               ("decided_on", details.decided_on, "The date of the decision"),
                               ("update_service_checked_on", details.update_service_checked_on,
                                "The date of the Update Service check")):
        if value is not None and value > today:
            errors.add(name, f"{words} must be today or in the past")
    if status is C.SUBMITTED and details.submitted_on is None:
        errors.add("submitted_on", "Enter the date the check was submitted")
    if status in HELD_STATUSES and details.cleared_on is None:
        errors.add("cleared_on", "Enter the date the check was cleared")
    if status in (C.REFUSED, C.WITHDRAWN) and details.decided_on is None:
        errors.add("decided_on", f"Enter the date the check was {status.label}")
    if details.submitted_on and details.cleared_on and details.cleared_on < details.submitted_on:
        errors.add("cleared_on", "The date cleared must be the same as or after the date submitted")
    if details.submitted_on and details.decided_on and details.decided_on < details.submitted_on:
        errors.add("decided_on", "The date of the decision must be the same as or after the date submitted")
    if details.expires_on is not None and details.expires_on != expiry:
        if details.cleared_on and details.expires_on <= details.cleared_on:
            errors.add("expires_on", f"The {rule.expiry_word.replace('expires', 'expiry')} date must be after "
                                     "the date cleared")
        if not _clean(details.expiry_override_reason):
            computed = f" from {long_date(expiry)}" if expiry else ""
            errors.add("expiry_override_reason",
                       f"Give the reason for changing the {rule.expiry_word.replace('expires', 'expiry')} "
                       f"date{computed}")
    last4 = (details.reference_last4 or "").replace(" ", "")
    if len(last4) > 4:
        errors.add("reference_last4", "Enter only the last 4 characters of the certificate or reference "
                                      "number, never the whole number")
    elif last4 and not last4.isalnum():
        errors.add("reference_last4", "The last 4 characters must be letters or numbers")
    if len(details.notes or "") > NOTES_MAX:
        errors.add("notes", too_long("Notes", NOTES_MAX))
    if len(details.decision_maker or "") > DECISION_MAKER_MAX:
        errors.add("decision_maker", too_long("The decision-maker", DECISION_MAKER_MAX))
    if kind is CheckKind.DBS:
        if details.dbs_workforce and details.dbs_workforce not in {value for value, _ in DBS_WORKFORCES}:
            errors.add("dbs_workforce", "Choose the workforce the DBS check was for")
        if details.update_service_checked_on and not details.update_service:
            errors.add("update_service_checked_on", "Only give an Update Service check date for a certificate "
                                                    "subscribed to the Update Service")
        if (details.update_service_checked_on and details.cleared_on
                and details.update_service_checked_on < details.cleared_on):
            errors.add("update_service_checked_on", "The Update Service check must be on or after the date the "
                                                    "certificate was issued")
    if renews is not None:
        if renews.kind is not kind:
            errors.add("kind", f"A renewal of {renews.title_in_sentence} must be the same kind of check")
        if details.cleared_on and renews.cleared_on and details.cleared_on <= renews.cleared_on:
            errors.add("cleared_on", f"A renewal must be cleared after the check it renews (cleared on "
                                     f"{long_date(renews.cleared_on)})")
        renewal = next((other for other in others if other.renews_id == renews.id
                        and other.status in HELD_STATUSES | IN_PROGRESS_STATUSES), None)
        if renewal is not None and renewal.status in HELD_STATUSES:
            errors.add("kind", f"The {renews.title_in_sentence} cleared on {long_date(renews.cleared_on)} "
                               "has already been renewed")
        elif renewal is not None:
            errors.add("kind", f"A renewal of the {renews.title_in_sentence} cleared on "
                               f"{long_date(renews.cleared_on)} is already in progress: record the decision on "
                               "that one instead")
    same_kind = [other for other in others if other.kind is kind]
    if status in IN_PROGRESS_STATUSES:
        for other in same_kind:
            if other.status in IN_PROGRESS_STATUSES:
                when = f", submitted on {long_date(other.submitted_on)}" if other.submitted_on else ""
                errors.add("status", f"A check of this kind is already in progress ({other.title_in_sentence}"
                                     f"{when}): record the decision on that one instead")
                break
    if status in HELD_STATUSES and details.cleared_on:
        for other in same_kind:
            # A check may overlap the one it renews, and (when corrected later) its own renewal.
            if other.status in HELD_STATUSES and other.cleared_on and (renews is None or other.id != renews.id) \
                    and (check_id is None or other.renews_id != check_id) \
                    and _overlaps(details.cleared_on, expiry if details.expires_on is None else details.expires_on,
                                  other):
                until = f", in date until {long_date(other.expires_on - dt.timedelta(days=1))}" \
                    if other.expires_on else ""
                errors.add("cleared_on", f"This overlaps the {other.title_in_sentence} cleared on "
                                         f"{long_date(other.cleared_on)}{until}. To record a renewal, use "
                                         "“Record a renewal” on that check")
                break
    errors.raise_if_any()


def _apply(check: VettingCheck, details: CheckDetails, expiry: dt.date | None) -> None:
    check.level = details.level if LEVELS[details.kind] else None
    check.status = details.status
    check.submitted_on = details.submitted_on
    # A withdrawn clearance keeps its dates for the history; it no longer counts (counts_on).
    check.cleared_on = details.cleared_on if details.status in HELD_STATUSES | {C.WITHDRAWN} else None
    check.decided_on = details.decided_on if details.status in (C.REFUSED, C.WITHDRAWN) else None
    overridden = details.expires_on is not None and details.expires_on != expiry
    check.expires_on = (details.expires_on if overridden else expiry) if check.cleared_on else None
    check.expiry_override_reason = _clean(details.expiry_override_reason) if overridden else None
    check.reference_last4 = _clean((details.reference_last4 or "").replace(" ", "").upper())
    check.decision_maker = _clean(details.decision_maker)
    check.notes = _clean(details.notes)
    is_dbs = details.kind is CheckKind.DBS
    check.dbs_workforce = details.dbs_workforce if is_dbs else None
    check.update_service = bool(details.update_service) if is_dbs else False
    check.update_service_checked_on = details.update_service_checked_on if is_dbs else None


def _load_volunteer(session: Session, volunteer_id: int) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("Volunteer not found")
    return volunteer


def _expiry(rule: CheckRule, details: CheckDetails) -> dt.date | None:
    return computed_expiry(rule, details.cleared_on, update_service=details.update_service,
                           update_service_checked_on=details.update_service_checked_on)


def _audit_fields(check: VettingCheck) -> dict:
    # Never the notes: they may describe an offence. The last four characters are already minimal.
    return {"volunteer_id": check.volunteer_id, "kind": check.kind, "level": check.level,
            "status": check.status, "submitted_on": check.submitted_on, "cleared_on": check.cleared_on,
            "decided_on": check.decided_on, "expires_on": check.expires_on,
            "expiry_override_reason": check.expiry_override_reason, "renews_id": check.renews_id}


def _flag_if_no_longer_cleared(session: Session, check: VettingCheck, *, actor: User | None,
                               now: dt.datetime) -> None:
    """A refusal or withdrawal that leaves the volunteer uncleared puts their current cases in front
    of a coordinator at once, as a lapse does."""
    if check.status not in (C.REFUSED, C.WITHDRAWN):
        return
    rules = queries.get_rules(session)
    if not rules[check.kind].required:
        return
    problem = queries.check_problem(check.kind, queries.list_checks(session, check.volunteer_id), _today(now))
    if problem is not None:
        case_services.flag_allocations_for_review(session, check.volunteer.user_id, problem, actor=actor, now=now)
        signals.clearance_lost.send(check.volunteer, session=session, user_id=check.volunteer.user_id,
                                    reason=problem, now=now)


def record_check(
    session: Session, volunteer_id: int, details: CheckDetails, *, actor: User, now: dt.datetime,
    renews_id: int | None = None,
) -> VettingCheck:
    """Record a new check for the volunteer (a renewal when `renews_id` names the check it renews;
    the old check stays as it was). The expiry comes from the rules unless overridden with a reason.

    Raises NotFound, CheckInvalid (impossible dates, an overlapping duplicate, a second check in
    progress of one kind, a whole certificate number).
    """
    volunteer = _load_volunteer(session, volunteer_id)
    if details.status not in RECORDABLE_STATUSES:
        raise CheckInvalid({"status": [f"A new check cannot start as {details.status.label}"]})
    renews = None
    if renews_id is not None:
        renews = session.get(VettingCheck, renews_id)
        if renews is None or renews.volunteer_id != volunteer.id:
            raise NotFound("Vetting check not found")
    rule = queries.get_rules(session)[details.kind]
    expiry = _expiry(rule, details)
    others = queries.list_checks(session, volunteer.id)
    _validate(details, rule, today=_today(now), others=others, renews=renews, expiry=expiry)
    if renews is None:
        # A later check of a kind continues its history, even when not recorded as a renewal.
        held = [other for other in others if other.kind is details.kind and other.status in HELD_STATUSES]
        renews = max(held, key=lambda other: (other.cleared_on, other.id)) if held else None
    check = VettingCheck(volunteer_id=volunteer.id, kind=details.kind, renews_id=renews.id if renews else None,
                         recorded_by_id=actor.id if actor else None, created_at=now, updated_at=now)
    _apply(check, details, expiry)
    session.add(check)
    session.flush()
    audit.record(session, actor, "vetting.check_recorded" if renews_id is None else "vetting.check_renewed",
                 check, at=now, **_audit_fields(check))
    _flag_if_no_longer_cleared(session, check, actor=actor, now=now)
    return check


def update_check(
    session: Session, check_id: int, details: CheckDetails, *, actor: User, now: dt.datetime
) -> VettingCheck:
    """Record a decision on a check or correct it (its kind never changes). Status moves follow
    CHECK_TRANSITIONS; a lapsed check whose expiry is corrected to a later date counts again.

    Raises NotFound, CheckInvalid.
    """
    check = session.get(VettingCheck, check_id, with_for_update=True)
    if check is None:
        raise NotFound("Vetting check not found")
    if details.kind is not check.kind:
        raise CheckInvalid({"kind": ["The kind of a check cannot change: record a new check instead"]})
    target = details.status
    today = _today(now)
    if target is not check.status and target not in CHECK_TRANSITIONS[check.status]:
        raise CheckInvalid({"status": [
            f"A check cannot move from {check.status.label} to {target.label}"
            + (": record a new check instead" if check.status in (C.LAPSED, C.REFUSED, C.WITHDRAWN) else "")
        ]})
    rule = queries.get_rules(session)[check.kind]
    expiry = _expiry(rule, details)
    others = [other for other in queries.list_checks(session, check.volunteer_id) if other.id != check.id]
    renews = check.renews if target in HELD_STATUSES else None
    _validate(details, rule, today=today, others=others, renews=renews, expiry=expiry, check_id=check.id)
    before = _audit_fields(check)
    _apply(check, details, expiry)
    if check.status is C.LAPSED and check.expires_on and check.expires_on > today:
        check.status = C.CLEARED
        check.lapsed_at = None
    if check.status is C.CLEARED and check.expires_on and check.reminded_days is not None \
            and check.expires_on != before["expires_on"]:
        check.reminded_days = None  # a new expiry date gets its own reminders
    check.updated_at = now
    session.flush()
    after = _audit_fields(check)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    audit.record(session, actor, "vetting.check_updated", check, at=now, changes=changes,
                 volunteer_id=check.volunteer_id)
    if "status" in changes:
        _flag_if_no_longer_cleared(session, check, actor=actor, now=now)
    return check


def set_rules(session: Session, rules: Mapping[CheckKind, CheckRule], *, actor: User, now: dt.datetime) -> None:
    """Store the rules for every kind of check (which are required, how long each lasts, when
    reminders go). Existing checks keep their expiry dates. Raises CheckInvalid."""
    errors = FieldErrors(CheckInvalid)
    for kind, rule in rules.items():
        if rule.months is not None and not 1 <= rule.months <= 120:
            errors.add(f"{kind.value}-months", f"{kind.label}: the period must be between 1 and 120 months")
        if any(not 1 <= days <= 365 for days in rule.reminder_days):
            errors.add(f"{kind.value}-reminder_days",
                       f"{kind.label}: reminders must be between 1 and 365 days before expiry")
        if rule.update_service_months is not None and not 1 <= rule.update_service_months <= 60:
            errors.add(f"{kind.value}-update_service_months",
                       f"{kind.label}: the Update Service period must be between 1 and 60 months")
    errors.raise_if_any()
    before = settings.get_setting(session, RULES_SETTING)
    stored = rules_as_setting({**queries.get_rules(session), **rules})
    settings.set_setting(session, RULES_SETTING, stored)
    audit.record(session, actor, "vetting.rules_changed", ("settings", None), at=now, before=before, after=stored)


# ---------------------------------------------------------------------------------------------
# Changes of circumstances


def coordinator_emails(session: Session) -> list[str]:
    """The e-mail addresses of every active coordinator (vetting alerts go to all of them)."""
    return list(session.scalars(
        select(User.email).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.COORDINATOR, User.is_deactivated.is_(False)).order_by(User.email)
    ))


def report_circumstances(
    session: Session, volunteer_id: int, kind: CircumstanceKind, details: str, *, changed_on: dt.date | None,
    actor: User, now: dt.datetime,
) -> CircumstanceReport:
    """Keep the volunteer's report of a change of circumstances and alert the coordinators (the
    e-mail says only that a report was made, never its details). Raises CheckInvalid."""
    volunteer = _load_volunteer(session, volunteer_id)
    errors = FieldErrors(CheckInvalid)
    text = _clean(details)
    if text is None:
        errors.add("details", "Tell us what has changed")
    elif len(text) > DETAILS_MAX:
        errors.add("details", too_long("What has changed", DETAILS_MAX))
    if changed_on is not None and changed_on > _today(now):
        errors.add("changed_on", "The date of the change must be today or in the past")
    errors.raise_if_any()
    report = CircumstanceReport(volunteer_id=volunteer.id, kind=CircumstanceKind(kind), details=text,
                                changed_on=changed_on, reported_at=now)
    session.add(report)
    session.flush()
    audit.record(session, actor, "vetting.circumstances_reported", report, at=now, volunteer_id=volunteer.id,
                 kind=report.kind)
    recipients = coordinator_emails(session)
    if recipients:
        outbox.queue(
            session, to=recipients, subject=f"{volunteer.name} has reported a change of circumstances",
            template="volunteers/vetting_circumstances",
            context={"volunteer_name": volunteer.name, "kind": report.kind.label,
                     "reported_on": long_date(_today(now))},
            dedupe_key=f"vetting.circumstances:{report.id}", now=now,
        )
    return report


# ---------------------------------------------------------------------------------------------
# The daily job: reminders and lapses (idempotent; safe on several machines at once)


@dataclass
class VettingRun:
    reminded: int = 0
    lapsed: int = 0
    flagged: int = 0
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"reminded {self.reminded}, lapsed {self.lapsed}, allocations flagged {self.flagged}"


def _what_to_do(rule: CheckRule) -> str:
    if rule.required:
        return ("You cannot be given new cases until it is renewed, and your coordinator will review the cases "
                "you are working on with you. Please contact your coordinator today: they will send you the "
                "renewal forms.")
    return "It is not required for your role at the moment, but please contact your coordinator about renewing it."


def _lapse(session: Session, check: VettingCheck, rules: Mapping[CheckKind, CheckRule], coordinators: list[str],
           *, now: dt.datetime, today: dt.date, run: VettingRun) -> None:
    check.status = C.LAPSED
    check.lapsed_at = now
    check.updated_at = now
    audit.record(session, None, "vetting.check_lapsed", check, at=now, volunteer_id=check.volunteer_id,
                 expires_on=check.expires_on)
    run.lapsed += 1
    if check.volunteer.status is VolunteerStatus.LEFT:
        return  # no longer volunteering: nothing to tell or to review
    others = [other for other in queries.list_checks(session, check.volunteer_id) if other.id != check.id]
    if any(other.kind is check.kind and other.counts_on(today) for other in others):
        return  # already renewed: nothing lapses in practice
    rule = rules[check.kind]
    volunteer = check.volunteer
    word = "review was due" if check.kind is CheckKind.NSV else "lapsed"
    reason = f"{check.title} {word} on {long_date(check.expires_on)}"
    context = {"volunteer_name": volunteer.name, "check": check.title_in_sentence, "reason": reason,
               "what_to_do": _what_to_do(rule), "required": rule.required}
    outbox.queue(session, to=volunteer.user.email, subject=f"Your {check.title_in_sentence} has lapsed",
                 template="volunteers/vetting_lapsed", context=context,
                 dedupe_key=f"vetting.lapsed:{check.id}:volunteer", now=now)
    if coordinators:
        outbox.queue(session, to=coordinators, subject=f"{volunteer.name}: {reason}",
                     template="volunteers/vetting_lapsed_coordinator", context=context,
                     dedupe_key=f"vetting.lapsed:{check.id}:coordinators", now=now)
    if rule.required:
        flagged = case_services.flag_allocations_for_review(session, volunteer.user_id, reason, actor=None, now=now)
        run.flagged += len(flagged)
        signals.clearance_lost.send(volunteer, session=session, user_id=volunteer.user_id, reason=reason, now=now)
    run.details.append(reason)


def _remind(session: Session, check: VettingCheck, lead: int, rule: CheckRule, coordinators: list[str],
            *, now: dt.datetime, today: dt.date, run: VettingRun) -> None:
    volunteer = check.volunteer
    context = {"volunteer_name": volunteer.name, "check": check.title_in_sentence, "days": lead,
               "days_left": (check.expires_on - today).days, "expires_on": long_date(check.expires_on),
               "expiry_word": rule.expiry_word, "required": rule.required}
    outbox.queue(session, to=volunteer.user.email,
                 subject=f"Your {check.title_in_sentence} {rule.expiry_word} on {long_date(check.expires_on)}",
                 template="volunteers/vetting_reminder", context=context,
                 dedupe_key=f"vetting.reminder:{check.id}:{lead}:volunteer", now=now)
    if coordinators:
        outbox.queue(session, to=coordinators,
                     subject=f"{volunteer.name}: {check.title_in_sentence} {rule.expiry_word} on "
                             f"{long_date(check.expires_on)}",
                     template="volunteers/vetting_reminder_coordinator", context=context,
                     dedupe_key=f"vetting.reminder:{check.id}:{lead}:coordinators", now=now)
    check.reminded_days = lead
    audit.record(session, None, "vetting.reminder_sent", check, at=now, volunteer_id=check.volunteer_id,
                 days=lead, expires_on=check.expires_on)
    run.reminded += 1


def send_vetting_reminders(session: Session, *, now: dt.datetime) -> VettingRun:
    """The daily vetting job. Marks cleared checks whose expiry (or review) date has come as lapsed,
    tells the volunteer what to do and the coordinators, and flags the volunteer's current
    allocations for review when the check is required; then e-mails the volunteer and the
    coordinators 60, 30 and 7 days (the rule's lead times) before a check expires.

    Each reminder and each lapse notice is sent once however often the job runs; rows are claimed
    with FOR UPDATE SKIP LOCKED, so two machines running it at once never both act on one check.
    """
    today = _today(now)
    rules = queries.get_rules(session)
    coordinators = coordinator_emails(session)
    run = VettingRun()
    expired = session.scalars(
        select(VettingCheck)
        .where(VettingCheck.status == C.CLEARED, VettingCheck.expires_on <= today)
        .order_by(VettingCheck.id).with_for_update(skip_locked=True)
    ).all()
    for check in expired:
        _lapse(session, check, rules, coordinators, now=now, today=today, run=run)
    longest = max((max(rule.reminder_days) for rule in rules.values() if rule.reminder_days), default=0)
    if longest:
        due = session.scalars(
            select(VettingCheck)
            .where(VettingCheck.status == C.CLEARED, VettingCheck.expires_on > today,
                   VettingCheck.expires_on <= today + dt.timedelta(days=longest))
            .order_by(VettingCheck.id).with_for_update(skip_locked=True)
        ).all()
        for check in due:
            rule = rules[check.kind]
            lead = due_reminder(rule.reminder_days, check.expires_on, today, check.reminded_days)
            if lead is None or check.volunteer.status is VolunteerStatus.LEFT:
                continue
            renewed = session.scalar(
                select(VettingCheck.id).where(
                    VettingCheck.volunteer_id == check.volunteer_id, VettingCheck.kind == check.kind,
                    VettingCheck.status == C.CLEARED, VettingCheck.cleared_on > check.cleared_on,
                ).limit(1)
            )
            if renewed is not None:
                check.reminded_days = lead  # renewed already: no reminder needed
                continue
            _remind(session, check, lead, rule, coordinators, now=now, today=today, run=run)
    session.flush()
    return run
