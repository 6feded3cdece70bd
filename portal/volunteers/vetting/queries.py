"""Reads of vetting: the rules in force, a volunteer's checks, the coordinators' dashboard, and the one
answer every module asks: `cleared_to_practise(session, user_id, on)`.

`get_*` raises NotFound, `find_*` returns None, `list_*` returns a list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.core import settings
from portal.core.errors import NotFound
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.vetting.models import (
    HELD_STATUSES,
    IN_PROGRESS_STATUSES,
    CheckKind,
    CheckStatus,
    CircumstanceReport,
    VettingCheck,
)
from portal.volunteers.vetting.rules import RULES_SETTING, CheckRule, long_date, rules_from_setting


def get_rules(session: Session) -> dict[CheckKind, CheckRule]:
    """The rules in force for every kind of check (the defaults, with the admin's changes)."""
    return rules_from_setting(settings.get_setting(session, RULES_SETTING))


# ---------------------------------------------------------------------------------------------
# Cleared to practise


@dataclass(frozen=True)
class Clearance:
    """Whether a person may practise on a date, and if not every reason why, in a coordinator's words.

    `applies` is False for a person with no volunteer record (staff, and accounts from before
    volunteer records existed): vetting is recorded only on volunteer records, so this module has no
    objection to them, and says so with cleared=True and no reasons.
    """

    cleared: bool
    reasons: list[str] = field(default_factory=list)
    applies: bool = True

    def __bool__(self) -> bool:
        return self.cleared


def _latest(checks: Iterable[VettingCheck], key) -> VettingCheck | None:
    ordered = sorted(checks, key=lambda check: (key(check), check.id))
    return ordered[-1] if ordered else None


def check_problem(kind: CheckKind, checks: Sequence[VettingCheck], on: dt.date) -> str | None:
    """Why the checks of one kind do not clear a volunteer on `on`, or None when one of them does."""
    mine = [check for check in checks if check.kind is kind]
    refused = _latest(
        (c for c in mine if c.status is CheckStatus.REFUSED and c.decided_on and c.decided_on <= on),
        key=lambda c: c.decided_on,
    )
    counting = [check for check in mine if check.counts_on(on)]
    # A refusal after the clearance that still counts (a renewal refused, say) outweighs it.
    if counting and not (refused and refused.decided_on >= max(check.cleared_on for check in counting)):
        return None
    expired = _latest(
        (c for c in mine if c.status in HELD_STATUSES and c.cleared_on and c.cleared_on <= on
         and c.expires_on is not None and c.expires_on <= on),
        key=lambda c: c.expires_on,
    )
    pending = _latest(
        (c for c in mine if c.status in IN_PROGRESS_STATUSES
         or (c.status in HELD_STATUSES and c.cleared_on and c.cleared_on > on)),
        key=lambda c: c.submitted_on or dt.date.min,
    )
    if refused and (expired is None or refused.decided_on >= expired.cleared_on):
        verb = "were" if kind is CheckKind.REFERENCES else "was"
        return f"{refused.title} {verb} refused on {long_date(refused.decided_on)}"
    if expired:
        if kind is CheckKind.NSV:
            message = f"{expired.title} review was due on {long_date(expired.expires_on)}"
        else:
            message = f"{expired.title} lapsed on {long_date(expired.expires_on)}"
        if pending is not None and pending.submitted_on:
            message += f" (renewal submitted on {long_date(pending.submitted_on)}, waiting for a decision)"
        return message
    if pending is not None:
        if pending.submitted_on and pending.submitted_on <= on:
            return f"{pending.title} submitted on {long_date(pending.submitted_on)}, waiting for a decision"
        return f"{pending.title} not yet cleared"
    withdrawn = _latest(
        (c for c in mine if c.status is CheckStatus.WITHDRAWN and c.decided_on and c.decided_on <= on),
        key=lambda c: c.decided_on,
    )
    if withdrawn is not None:
        verb = "were" if kind is CheckKind.REFERENCES else "was"
        return f"{withdrawn.title} {verb} withdrawn on {long_date(withdrawn.decided_on)}"
    return f"No {kind.label[0].lower()}{kind.label[1:]} recorded"


def clearance_of(
    checks: Sequence[VettingCheck], rules: Mapping[CheckKind, CheckRule], on: dt.date
) -> Clearance:
    """The answer of cleared_to_practise for a volunteer whose checks are already loaded."""
    reasons = [
        problem for kind, rule in rules.items() if rule.required
        if (problem := check_problem(kind, checks, on)) is not None
    ]
    return Clearance(cleared=not reasons, reasons=reasons)


def cleared_to_practise(session: Session, user_id: int, on: dt.date) -> Clearance:
    """Whether the person may practise on `on`: every required check cleared and in date that day.

    The one answer allocation, supervision and reports all use. A check counts from the day it was
    cleared up to, not including, its expiry (or review) date, whatever its stored status, so the
    answer is right before the daily job has marked it lapsed. Never raises for an unknown person:
    a person with no volunteer record is outside vetting (`Clearance.applies` is False).
    """
    volunteer = session.scalar(select(Volunteer).where(Volunteer.user_id == user_id))
    if volunteer is None:
        return Clearance(cleared=True, reasons=[], applies=False)
    return clearance_of(list_checks(session, volunteer.id), get_rules(session), on)


# ---------------------------------------------------------------------------------------------
# Checks


def get_check(session: Session, check_id: int) -> VettingCheck:
    """The check with this id; raises NotFound."""
    check = session.get(VettingCheck, check_id)
    if check is None:
        raise NotFound("Vetting check not found")
    return check


def list_checks(session: Session, volunteer_id: int) -> list[VettingCheck]:
    """Every check of the volunteer, history included, newest first."""
    return list(
        session.scalars(
            select(VettingCheck).where(VettingCheck.volunteer_id == volunteer_id)
            .order_by(VettingCheck.created_at.desc(), VettingCheck.id.desc())
        )
    )


def list_checks_by_volunteer(session: Session, volunteer_ids: Iterable[int]) -> dict[int, list[VettingCheck]]:
    """Every check of each volunteer (newest first), in one query; a volunteer with none maps to []."""
    found: dict[int, list[VettingCheck]] = {volunteer_id: [] for volunteer_id in volunteer_ids}
    if found:
        for check in session.scalars(
            select(VettingCheck).where(VettingCheck.volunteer_id.in_(found))
            .order_by(VettingCheck.created_at.desc(), VettingCheck.id.desc())
        ):
            found[check.volunteer_id].append(check)
    return found


@dataclass(frozen=True)
class KindSummary:
    """One kind of check on a volunteer's record: the check that matters now, and what to do next."""

    kind: CheckKind
    rule: CheckRule
    check: VettingCheck | None
    problem: str | None
    days_left: int | None
    next_step: str


def _current(mine: list[VettingCheck], on: dt.date) -> VettingCheck | None:
    counting = [check for check in mine if check.counts_on(on)]
    if counting:
        return _latest(counting, key=lambda c: c.expires_on or dt.date.max)
    live = [check for check in mine if check.status is not CheckStatus.WITHDRAWN]
    return _latest(live or mine, key=lambda c: c.created_at)


def _next_step(kind: CheckKind, rule: CheckRule, check: VettingCheck | None, problem: str | None,
               days_left: int | None, renewal_pending: bool) -> str:
    if check is None:
        return "Your coordinator will ask you for the forms to start this check." if rule.required \
            else "Not required for your role at the moment."
    if check.status is CheckStatus.REFUSED:
        return "Your coordinator will talk to you about this decision. You cannot take new cases."
    if problem and renewal_pending:
        return "Your renewal is with the vetting unit. You cannot take new cases until it is cleared."
    if problem and check.status in HELD_STATUSES:
        return ("Contact your coordinator today to renew it. You cannot take new cases until it is "
                "renewed, and your coordinator will review the cases you are working on.")
    if check.status in IN_PROGRESS_STATUSES:
        return "Waiting for a decision. Your coordinator will tell you when it is cleared."
    if days_left is not None and rule.reminder_days and days_left <= max(rule.reminder_days):
        return "Renewal due soon: send your coordinator your renewal forms now." if not renewal_pending \
            else "Your renewal has been sent for a decision."
    return "Nothing to do."


def summarise_checks(
    checks: Sequence[VettingCheck], rules: Mapping[CheckKind, CheckRule], on: dt.date
) -> list[KindSummary]:
    """Per kind (required kinds first): the check that matters on `on`, its problem and the next step."""
    summaries = []
    for kind, rule in sorted(rules.items(), key=lambda item: not item[1].required):
        mine = [check for check in checks if check.kind is kind]
        if not mine and not rule.required:
            continue
        current = _current(mine, on)
        problem = check_problem(kind, checks, on)
        days_left = (current.expires_on - on).days if current and current.expires_on else None
        renewal_pending = any(
            check.status in IN_PROGRESS_STATUSES and check is not current for check in mine
        ) or any(check.cleared_on and check.cleared_on > on for check in mine)
        summaries.append(KindSummary(
            kind, rule, current, problem, days_left,
            _next_step(kind, rule, current, problem, days_left, renewal_pending),
        ))
    return summaries


def list_circumstance_reports(session: Session, volunteer_id: int) -> list[CircumstanceReport]:
    """The volunteer's reported changes of circumstances, newest first (restricted data)."""
    return list(
        session.scalars(
            select(CircumstanceReport).where(CircumstanceReport.volunteer_id == volunteer_id)
            .order_by(CircumstanceReport.reported_at.desc(), CircumstanceReport.id.desc())
        )
    )


# ---------------------------------------------------------------------------------------------
# The coordinators' dashboard


@dataclass(frozen=True)
class DashboardRow:
    volunteer: Volunteer
    kind: CheckKind
    check: VettingCheck | None
    required: bool
    detail: str
    days_left: int | None = None
    pending: VettingCheck | None = None  # a renewal in progress, whose decision is the next step


@dataclass
class Dashboard:
    on: dt.date
    expiring_30: list[DashboardRow] = field(default_factory=list)
    expiring_60: list[DashboardRow] = field(default_factory=list)
    expiring_90: list[DashboardRow] = field(default_factory=list)
    lapsed: list[DashboardRow] = field(default_factory=list)
    missing: list[DashboardRow] = field(default_factory=list)
    waiting: list[DashboardRow] = field(default_factory=list)

    def groups(self) -> list[tuple[str, str, list[DashboardRow]]]:
        """(key, heading, rows) in the order the page and the CSV show them."""
        return [
            ("lapsed", "Lapsed or refused", self.lapsed),
            ("missing", "Missing", self.missing),
            ("expiring-30", "Expiring within 30 days", self.expiring_30),
            ("expiring-60", "Expiring in 31 to 60 days", self.expiring_60),
            ("expiring-90", "Expiring in 61 to 90 days", self.expiring_90),
            ("waiting", "Submitted and waiting for a decision", self.waiting),
        ]


def vetting_dashboard(session: Session, on: dt.date) -> Dashboard:
    """Every current volunteer's checks sorted into what needs a coordinator's attention on `on`.

    A check already renewed (a later check of its kind is cleared) is not listed as expiring.
    """
    volunteers = session.scalars(
        select(Volunteer).where(Volunteer.status != VolunteerStatus.LEFT)
        .options(selectinload(Volunteer.user))
    ).all()
    checks_by_volunteer = list_checks_by_volunteer(session, (volunteer.id for volunteer in volunteers))
    rules = get_rules(session)
    board = Dashboard(on=on)
    for volunteer in sorted(volunteers, key=lambda v: (v.name.casefold(), v.id)):
        checks = checks_by_volunteer[volunteer.id]
        for kind, rule in rules.items():
            mine = [check for check in checks if check.kind is kind]
            for check in mine:
                if check.status in IN_PROGRESS_STATUSES:
                    when = f"submitted on {long_date(check.submitted_on)}" if check.submitted_on else "not started"
                    board.waiting.append(DashboardRow(volunteer, kind, check, rule.required, when))
            problem = check_problem(kind, checks, on)
            counting = [check for check in mine if check.counts_on(on)]
            if counting and problem is None:
                current = _latest(counting, key=lambda c: c.expires_on or dt.date.max)
                if current.expires_on is None:
                    continue
                days_left = (current.expires_on - on).days
                if days_left > 90:
                    continue
                row = DashboardRow(volunteer, kind, current, rule.required,
                                   f"{rule.expiry_word} on {long_date(current.expires_on)}", days_left)
                target = board.expiring_30 if days_left <= 30 else board.expiring_60 if days_left <= 60 \
                    else board.expiring_90
                target.append(row)
                continue
            held_or_refused = [c for c in mine if c.status in HELD_STATUSES | {CheckStatus.REFUSED}]
            if held_or_refused:
                latest = _latest(held_or_refused, key=lambda c: c.created_at)
                pending = _latest((c for c in mine if c.status in IN_PROGRESS_STATUSES), key=lambda c: c.created_at)
                board.lapsed.append(DashboardRow(volunteer, kind, latest, rule.required, problem or "",
                                                 pending=pending))
            elif rule.required and not any(c.status in IN_PROGRESS_STATUSES for c in mine):
                board.missing.append(DashboardRow(volunteer, kind, None, rule.required, problem or ""))
    for group in (board.expiring_30, board.expiring_60, board.expiring_90):
        group.sort(key=lambda row: (row.days_left, row.volunteer.name.casefold()))
    return board


# ---------------------------------------------------------------------------------------------
# Many people at once (allocation asks about every candidate for a case)


def list_checks_by_user(session: Session, user_ids: Iterable[int]) -> dict[int, list[VettingCheck]]:
    """Every check (newest first) of each of these people who has a volunteer record, in one query.

    A volunteer with no checks maps to []; a person with no volunteer record is left out.
    """
    wanted = set(user_ids)
    found: dict[int, list[VettingCheck]] = {}
    if not wanted:
        return found
    rows = session.execute(
        select(Volunteer.user_id, VettingCheck)
        .outerjoin(VettingCheck, VettingCheck.volunteer_id == Volunteer.id)
        .where(Volunteer.user_id.in_(wanted))
        .order_by(Volunteer.user_id, VettingCheck.created_at.desc(), VettingCheck.id.desc())
    )
    for user_id, check in rows:
        mine = found.setdefault(user_id, [])
        if check is not None:
            mine.append(check)
    return found


def clearances(session: Session, user_ids: Iterable[int], on: dt.date) -> dict[int, Clearance]:
    """`cleared_to_practise(session, user_id, on)` for each of these people, in two queries (the rules
    and every check), whatever their number."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rules = get_rules(session)
    checks = list_checks_by_user(session, wanted)
    return {
        user_id: clearance_of(checks[user_id], rules, on) if user_id in checks
        else Clearance(cleared=True, reasons=[], applies=False)
        for user_id in wanted
    }


def lapsing_checks(
    checks: Sequence[VettingCheck], rules: Mapping[CheckKind, CheckRule], starts_on: dt.date, ends_on: dt.date
) -> list[str]:
    """Each required check that clears the volunteer on `starts_on` but no longer counts on `ends_on`
    because it expires (or its review falls due) in between, with no renewal counting by then:
    "Police vetting (NPPV2) expires on 4 January 2027"."""
    found = []
    for kind, rule in rules.items():
        mine = [check for check in checks if check.kind is kind]
        if not rule.required or any(check.counts_on(ends_on) for check in mine):
            continue
        # Counting on the first day but not the last, each of these has an expiry date in between.
        counting = [check for check in mine if check.counts_on(starts_on)]
        if counting:
            last = _latest(counting, key=lambda c: c.expires_on)
            found.append(f"{last.title} {rule.expiry_word} on {long_date(last.expires_on)}")
    return found


def lapses_between(
    session: Session, user_ids: Iterable[int], starts_on: dt.date, ends_on: dt.date
) -> dict[int, list[str]]:
    """`lapsing_checks` for each of these people who has a volunteer record, in two queries; a person
    with nothing lapsing maps to []."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rules = get_rules(session)
    return {
        user_id: lapsing_checks(checks, rules, starts_on, ends_on)
        for user_id, checks in list_checks_by_user(session, wanted).items()
    }
