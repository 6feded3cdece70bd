"""Reads of vetting: the rules in force, a volunteer's checks, the coordinators' dashboard, and the one
answer every module asks: `cleared_to_practise(session, user_id, on)`.

`get_*` raises NotFound, `find_*` returns None, `list_*` returns a list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, String, and_, case, func, literal, null, or_, select, true, tuple_, union_all
from sqlalchemy.orm import Session, contains_eager, selectinload

from portal.core import search, settings, versions
from portal.core.accounts import User
from portal.core.errors import NotFound
from portal.core.paging import PageWindow
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.vetting.models import (
    HELD_STATUSES,
    IN_PROGRESS_STATUSES,
    VETTING_VERSION,
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

# (key, heading) of each group, in the order the page and the CSV show them.
DASHBOARD_GROUPS = (
    ("lapsed", "Lapsed or refused"),
    ("missing", "Missing"),
    ("expiring-30", "Expiring within 30 days"),
    ("expiring-60", "Expiring in 31 to 60 days"),
    ("expiring-90", "Expiring in 61 to 90 days"),
    ("waiting", "Submitted and waiting for a decision"),
)
GROUP_HEADINGS = dict(DASHBOARD_GROUPS)
# Each expiring group and the days left (first, last) of the checks in it.
EXPIRING = (("expiring-30", 1, 30), ("expiring-60", 31, 60), ("expiring-90", 61, 90))


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

    def group(self, key: str) -> list[DashboardRow]:
        return getattr(self, key.replace("-", "_"))

    def groups(self) -> list[tuple[str, str, list[DashboardRow]]]:
        """(key, heading, rows) in the order the page and the CSV show them."""
        return [(key, heading, self.group(key)) for key, heading in DASHBOARD_GROUPS]


def _waiting_row(volunteer: Volunteer, rule: CheckRule, check: VettingCheck) -> DashboardRow:
    when = f"submitted on {long_date(check.submitted_on)}" if check.submitted_on else "not started"
    return DashboardRow(volunteer, rule.kind, check, rule.required, when)


def _dashboard_row(
    volunteer: Volunteer, rule: CheckRule, checks: Sequence[VettingCheck], on: dt.date
) -> tuple[str, DashboardRow] | None:
    """The group (lapsed, missing or expiring) and row of one volunteer's checks of one kind on `on`,
    or None when they need no attention. Checks in progress are listed apart ("waiting")."""
    kind = rule.kind
    mine = [check for check in checks if check.kind is kind]
    problem = check_problem(kind, checks, on)
    counting = [check for check in mine if check.counts_on(on)]
    if counting and problem is None:
        current = _latest(counting, key=lambda c: c.expires_on or dt.date.max)
        if current.expires_on is None:
            return None
        days_left = (current.expires_on - on).days
        key = next((key for key, _first, last in EXPIRING if days_left <= last), None)
        if key is None:
            return None
        return key, DashboardRow(volunteer, kind, current, rule.required,
                                 f"{rule.expiry_word} on {long_date(current.expires_on)}", days_left)
    held_or_refused = [c for c in mine if c.status in HELD_STATUSES | {CheckStatus.REFUSED}]
    if held_or_refused:
        latest = _latest(held_or_refused, key=lambda c: c.created_at)
        pending = _latest((c for c in mine if c.status in IN_PROGRESS_STATUSES), key=lambda c: c.created_at)
        return "lapsed", DashboardRow(volunteer, kind, latest, rule.required, problem or "", pending=pending)
    if rule.required and not any(c.status in IN_PROGRESS_STATUSES for c in mine):
        return "missing", DashboardRow(volunteer, kind, None, rule.required, problem or "")
    return None


def vetting_dashboard(session: Session, on: dt.date) -> Dashboard:
    """Every current volunteer's checks sorted into what needs a coordinator's attention on `on`.

    A check already renewed (a later check of its kind is cleared) is not listed as expiring. Loads
    every current volunteer and check: the rules in Python, which `dashboard_counts`, `dashboard_page`
    and `dashboard_rows` (what the pages and the export use) are tested to agree with.
    """
    volunteers = session.scalars(
        select(Volunteer).where(Volunteer.status != VolunteerStatus.LEFT)
        .options(selectinload(Volunteer.user))
    ).all()
    checks_by_volunteer: dict[int, list[VettingCheck]] = {volunteer.id: [] for volunteer in volunteers}
    for check in session.scalars(
        select(VettingCheck).join(Volunteer, VettingCheck.volunteer_id == Volunteer.id)
        .where(Volunteer.status != VolunteerStatus.LEFT)
        .order_by(VettingCheck.created_at.desc(), VettingCheck.id.desc())
    ):
        checks_by_volunteer[check.volunteer_id].append(check)
    rules = get_rules(session)
    board = Dashboard(on=on)
    for volunteer in sorted(volunteers, key=lambda v: (v.name.casefold(), v.id)):
        checks = checks_by_volunteer[volunteer.id]
        for kind, rule in rules.items():
            for check in checks:
                if check.kind is kind and check.status in IN_PROGRESS_STATUSES:
                    board.waiting.append(_waiting_row(volunteer, rule, check))
            found = _dashboard_row(volunteer, rule, checks, on)
            if found is not None:
                board.group(found[0]).append(found[1])
    for group in (board.expiring_30, board.expiring_60, board.expiring_90):
        group.sort(key=lambda row: (row.days_left, row.volunteer.name.casefold()))
    return board


@dataclass(frozen=True)
class DashboardFilter:
    """What a coordinator narrows the dashboard to: one kind of check, required checks only, and
    volunteers whose name or e-mail address contains `search` (plain text, ignoring case)."""

    kind: CheckKind | None = None
    required_only: bool = False
    search: str = ""


@dataclass(frozen=True)
class DashboardPage:
    """One page of one group of the dashboard, with every group's count under the same filter."""

    on: dt.date
    group: str
    rows: list[DashboardRow]
    counts: dict[str, int]
    page: int
    per_page: int

    @property
    def heading(self) -> str:
        return GROUP_HEADINGS[self.group]

    @property
    def total(self) -> int:
        return self.counts[self.group]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position of the page's first row in its group (1 for the first row)."""
        return (self.page - 1) * self.per_page + 1

    def groups(self) -> list[tuple[str, str, int]]:
        """(key, heading, count) of every group, in the page's order."""
        return [(key, heading, self.counts[key]) for key, heading in DASHBOARD_GROUPS]


# "Never expires" as a date, so that the latest expiry of a kind's counting checks is one maximum.
NEVER = dt.date(9999, 12, 31)
# Statuses that keep a kind of check off the missing list: cleared once, refused, or in progress.
RECORDED_STATUSES = HELD_STATUSES | {CheckStatus.REFUSED} | IN_PROGRESS_STATUSES


def _required(rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter) -> list[CheckKind]:
    """The required kinds of check the filters leave in view (only these can be missing)."""
    return [kind for kind, rule in rules.items() if rule.required and filters.kind in (None, kind)]


def _position(kind_column, rules: Mapping[CheckKind, CheckRule]):
    """The kind's place in the rules' order, for sorting a volunteer's rows as the Python dashboard does."""
    return case({kind.value: position for position, kind in enumerate(rules)}, value=kind_column, else_=len(rules))


def _searched(query: Select, filters: DashboardFilter) -> Select:
    """`query` (which has the volunteers' accounts joined) narrowed to names or e-mail addresses holding
    the search text, matched as plain text ignoring case (% and _ are not wildcards; trigram indexes serve
    it on PostgreSQL)."""
    if not filters.search:
        return query
    return query.where(or_(search.contains(User.name, filters.search), search.contains(User.email, filters.search)))


def _current_checks(query: Select, rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter, *,
                    accounts: bool = False) -> Select:
    """`query` (over vetting checks) narrowed to the checks of volunteers who have not left, and by
    `filters`; their accounts are joined when searching, or when `accounts` asks."""
    query = query.join(Volunteer, VettingCheck.volunteer_id == Volunteer.id) \
        .where(Volunteer.status != VolunteerStatus.LEFT)
    if filters.kind is not None:
        query = query.where(VettingCheck.kind == filters.kind)
    if filters.required_only:
        query = query.where(VettingCheck.kind.in_([kind for kind, rule in rules.items() if rule.required]))
    if filters.search or accounts:
        query = _searched(query.join(User, Volunteer.user_id == User.id), filters)
    return query


def _kind_facts(on: dt.date, rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter, only=None):
    """Per volunteer and kind of check (each pair with at least one check; `only`: those pairs alone),
    the few facts the dashboard's rules read, in one GROUP BY: the latest refusal decided by `on`, the
    latest clearance and the latest expiry (NEVER for none) of the checks counting on `on`, how many
    checks were cleared or refused, and how many are in progress. `_dashboard_row` reads the same
    facts from the checks themselves."""
    check = VettingCheck
    counting = and_(check.status.in_(HELD_STATUSES), check.cleared_on.is_not(None), check.cleared_on <= on,
                    or_(check.expires_on.is_(None), check.expires_on > on))
    query = select(
        check.volunteer_id, check.kind,
        func.max(check.decided_on).filter(check.status == CheckStatus.REFUSED, check.decided_on <= on)
        .label("refused_on"),
        func.max(check.cleared_on).filter(counting).label("cleared_on"),
        func.max(func.coalesce(check.expires_on, NEVER)).filter(counting).label("expires_on"),
        func.count().filter(check.status.in_(HELD_STATUSES | {CheckStatus.REFUSED})).label("held_or_refused"),
        func.count().filter(check.status.in_(IN_PROGRESS_STATUSES)).label("in_progress"),
    )
    query = _current_checks(query, rules, filters)
    if only is not None:
        query = query.where(tuple_(check.volunteer_id, check.kind).in_(only))
    return query.group_by(check.volunteer_id, check.kind).subquery("facts")


def _group_of(facts, on: dt.date, rules: Mapping[CheckKind, CheckRule]):
    """The dashboard group of a pair from its facts (NULL: nothing to attend to); `_dashboard_row` in SQL.
    Checks in progress are counted apart ("waiting"), one row each."""
    # The kind clears the volunteer on `on`: a check counts, and no refusal came on or after its clearance.
    cleared = and_(facts.c.cleared_on.is_not(None),
                   or_(facts.c.refused_on.is_(None), facts.c.refused_on < facts.c.cleared_on))
    required = facts.c.kind.in_([kind for kind, rule in rules.items() if rule.required])
    return case(
        (cleared, case(*((facts.c.expires_on <= on + dt.timedelta(days=last), literal(key))
                         for key, _first, last in EXPIRING), else_=null())),
        (facts.c.held_or_refused > 0, literal("lapsed")),
        (and_(required, facts.c.in_progress == 0), literal("missing")),
        else_=null(),
    )


def dashboard_counts(
    session: Session, on: dt.date, rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter = DashboardFilter()
) -> dict[str, int]:
    """How many rows each group of `vetting_dashboard(session, on)` holds (narrowed by `filters`), in
    one aggregate statement whatever the number of volunteers: {"lapsed": 3, "missing": 0, ...}.

    A required kind with no check at all is missing: those are counted as every current volunteer's
    required kinds less the kinds they have checks of.

    Without a search, the answer is kept in memory until a vetting check or a volunteer record changes
    (`versions.cached`; the "vetting" version is bumped by every flush of either): the aggregate reads
    every check, and the coordinator home asks for it on every visit."""
    if filters.search:
        return _dashboard_counts(session, on, rules, filters)
    key = ("dashboard_counts", on, tuple(rules.items()), filters)
    return dict(versions.cached(session, VETTING_VERSION, key,
                                lambda: _dashboard_counts(session, on, rules, filters)))


def _dashboard_counts(
    session: Session, on: dt.date, rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter
) -> dict[str, int]:
    facts = _kind_facts(on, rules, filters)
    required = _required(rules, filters)
    pairs = select(
        _group_of(facts, on, rules).label("grp"), facts.c.in_progress,
        case((facts.c.kind.in_(required), 1), else_=0).label("required"),
    ).subquery("pairs")
    volunteers = select(func.count()).select_from(Volunteer).where(Volunteer.status != VolunteerStatus.LEFT)
    if filters.search:
        volunteers = _searched(volunteers.join(User, Volunteer.user_id == User.id), filters)
    grouped = [key for key in GROUP_HEADINGS if key != "waiting"]
    row = session.execute(select(
        *(func.coalesce(func.sum(case((pairs.c.grp == key, 1), else_=0)), 0) for key in grouped),
        func.coalesce(func.sum(pairs.c.in_progress), 0), func.coalesce(func.sum(pairs.c.required), 0),
        volunteers.scalar_subquery(),
    )).one()
    counts = dict(zip(grouped, map(int, row[:len(grouped)]), strict=True))
    waiting, required_with_checks, current_volunteers = map(int, row[len(grouped):])
    counts["missing"] += current_volunteers * len(required) - required_with_checks
    counts["waiting"] = waiting
    return {key: counts[key] for key in GROUP_HEADINGS}


def dashboard_page(
    session: Session, on: dt.date, rules: Mapping[CheckKind, CheckRule], *, group: str | None = None,
    filters: DashboardFilter = DashboardFilter(), page: int = 1, per_page: int = 50,
) -> DashboardPage:
    """One page of one group of the dashboard on `on`, narrowed by `filters`, with every group's count.

    `group` None means the first group (in the page's order) that has rows; a page past the last is
    the last. The rows are those `vetting_dashboard` puts in the group, in name order (expiring groups
    soonest first); the page runs the same few statements however many volunteers there are.
    """
    counts = dashboard_counts(session, on, rules, filters)
    if group not in GROUP_HEADINGS:
        group = next((key for key, _heading in DASHBOARD_GROUPS if counts[key]), DASHBOARD_GROUPS[0][0])
    window = PageWindow.of(counts[group], page, per_page)
    rows = _group_rows(session, on, rules, filters, group, window.offset, window.per_page) if counts[group] else []
    return DashboardPage(on=on, group=group, rows=rows, counts=counts, page=window.page, per_page=window.per_page)


def dashboard_rows(
    session: Session, on: dt.date, rules: Mapping[CheckKind, CheckRule], group: str, *,
    filters: DashboardFilter = DashboardFilter(), batch: int = 500,
) -> list[DashboardRow]:
    """Every row of one group of the dashboard on `on` (the export), in the pages' order; the checks
    behind the rows are read `batch` volunteers at a time."""
    return _group_rows(session, on, rules, filters, group, 0, None, batch=batch)


def _group_rows(session: Session, on: dt.date, rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter,
                group: str, offset: int, limit: int | None, *, batch: int = 500) -> list[DashboardRow]:
    if group == "waiting":
        return _waiting_rows(session, rules, filters, offset, limit)
    if group == "missing":
        return _missing_rows(session, on, rules, filters, offset, limit, batch)
    return _checked_rows(session, on, rules, filters, group, offset, limit, batch)


def _checks_in_batches(session: Session, volunteer_ids: Iterable[int], batch: int) -> dict[int, list[VettingCheck]]:
    """`list_checks_by_volunteer`, `batch` volunteers a query (an export may hold thousands)."""
    wanted = list(dict.fromkeys(volunteer_ids))
    found: dict[int, list[VettingCheck]] = {}
    for start in range(0, len(wanted), batch):
        found.update(list_checks_by_volunteer(session, wanted[start:start + batch]))
    return found


def _candidates(on: dt.date, group: str) -> Select:
    """(volunteer, kind) of checks whose pair may be in `group` (lapsed or expiring): a superset found
    without grouping every check. An expiring pair's counting check expires in the group's days; a
    lapsed pair has a cleared check that does not count on `on`, or a refusal."""
    check = VettingCheck
    if group == "lapsed":
        where = or_(and_(check.status.in_(HELD_STATUSES),
                         or_(check.cleared_on.is_(None), check.cleared_on > on, check.expires_on <= on)),
                    check.status == CheckStatus.REFUSED)
    else:
        first, last = next((first, last) for key, first, last in EXPIRING if key == group)
        where = and_(check.status.in_(HELD_STATUSES), check.expires_on >= on + dt.timedelta(days=first),
                     check.expires_on <= on + dt.timedelta(days=last))
    return select(check.volunteer_id, check.kind).where(where)


def _checked_rows(session: Session, on: dt.date, rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter,
                  group: str, offset: int, limit: int | None, batch: int) -> list[DashboardRow]:
    """Rows of the lapsed or an expiring group, built by `_dashboard_row` from each volunteer's checks."""
    facts = _kind_facts(on, rules, filters, only=_candidates(on, group))
    order = [func.lower(User.name), Volunteer.id, _position(facts.c.kind, rules)]
    if group != "lapsed":
        order.insert(0, facts.c.expires_on)
    # contains_eager: each volunteer holds its account, which the page shows (a plain join would leave
    # it to the identity map, which may drop it before the template asks).
    found = session.execute(
        select(Volunteer, facts.c.kind).join(facts, facts.c.volunteer_id == Volunteer.id).join(Volunteer.user)
        .options(contains_eager(Volunteer.user)).where(_group_of(facts, on, rules) == group)
        .order_by(*order).offset(offset).limit(limit)
    ).all()
    checks = _checks_in_batches(session, (volunteer.id for volunteer, _kind in found), batch)
    rows = []
    for volunteer, kind in found:
        classified = _dashboard_row(volunteer, rules[CheckKind(kind)], checks[volunteer.id], on)
        if classified is not None:
            rows.append(classified[1])
    return rows


def _missing_rows(session: Session, on: dt.date, rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter,
                  offset: int, limit: int | None, batch: int) -> list[DashboardRow]:
    """Rows of required kinds with no check cleared, refused or in progress, by name."""
    required = _required(rules, filters)
    if not required:
        return []
    kinds = union_all(*(
        select(literal(kind.value, String(20)).label("kind"), literal(position).label("position"))
        for position, kind in enumerate(rules) if kind in required
    )).subquery("kinds")
    recorded = select(VettingCheck.id).where(
        VettingCheck.volunteer_id == Volunteer.id, VettingCheck.kind == kinds.c.kind,
        VettingCheck.status.in_(RECORDED_STATUSES),
    ).exists()
    query = (
        select(Volunteer, kinds.c.kind).join(Volunteer.user).join(kinds, true())
        .options(contains_eager(Volunteer.user))
        .where(Volunteer.status != VolunteerStatus.LEFT, ~recorded)
    )
    found = session.execute(
        _searched(query, filters).order_by(func.lower(User.name), Volunteer.id, kinds.c.position)
        .offset(offset).limit(limit)
    ).all()
    checks = _checks_in_batches(session, (volunteer.id for volunteer, _kind in found), batch)
    return [DashboardRow(volunteer, CheckKind(kind), None, True,
                         check_problem(CheckKind(kind), checks[volunteer.id], on) or "")
            for volunteer, kind in found]


def _waiting_rows(session: Session, rules: Mapping[CheckKind, CheckRule], filters: DashboardFilter,
                  offset: int, limit: int | None) -> list[DashboardRow]:
    """Rows of the checks in progress, by name."""
    query = _current_checks(select(VettingCheck, Volunteer), rules, filters, accounts=True) \
        .where(VettingCheck.status.in_(IN_PROGRESS_STATUSES))
    found = session.execute(
        query.options(contains_eager(Volunteer.user))
        .order_by(func.lower(User.name), Volunteer.id, _position(VettingCheck.kind, rules),
                  VettingCheck.created_at.desc(), VettingCheck.id.desc())
        .offset(offset).limit(limit)
    ).all()
    return [_waiting_row(volunteer, rules[check.kind], check) for check, volunteer in found]


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
