"""The dashboard's SQL (`dashboard_counts`, `dashboard_page`, `dashboard_rows`) sorts checks exactly as
its Python rules (`vetting_dashboard`, `check_problem`) do: on the edge cases one by one, and on any
population Hypothesis makes of volunteers, kinds, statuses and dates around the 30/60/90-day and lapse
boundaries."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from portal.core import settings as stored_settings
from portal.volunteers.profiles.models import VolunteerStatus
from portal.volunteers.vetting import queries
from portal.volunteers.vetting.models import CheckKind, CheckStatus
from portal.volunteers.vetting.rules import DEFAULT_RULES, RULES_SETTING, rules_as_setting
from tests.volunteers.vetting.builders import NOW, TODAY, add_check, make_volunteer

GROUPS = [key for key, _heading in queries.DASHBOARD_GROUPS]
NPPV, NSV, DBS, REFERENCES = CheckKind.NPPV, CheckKind.NSV, CheckKind.DBS, CheckKind.REFERENCES
CLEARED, LAPSED, REFUSED = CheckStatus.CLEARED, CheckStatus.LAPSED, CheckStatus.REFUSED
SUBMITTED, NOT_STARTED, WITHDRAWN = CheckStatus.SUBMITTED, CheckStatus.NOT_STARTED, CheckStatus.WITHDRAWN


def days(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


def row_key(row: queries.DashboardRow) -> tuple:
    """Everything a dashboard row shows, as something sortable."""
    return (row.volunteer.id, row.kind.value, row.check.id if row.check else 0, row.pending.id if row.pending else 0,
            row.required, row.detail, -1 if row.days_left is None else row.days_left)


def sql_groups(session: Session, filters: queries.DashboardFilter | None = None,
               per_page: int = 10_000) -> dict[str, list]:
    """Every group's rows through the SQL pages, page after page."""
    rules = queries.get_rules(session)
    filters = filters or queries.DashboardFilter()
    found = {}
    for key in GROUPS:
        rows, page = [], 1
        while True:
            board = queries.dashboard_page(session, TODAY, rules, group=key, filters=filters, page=page,
                                           per_page=per_page)
            rows.extend(board.rows)
            if page >= board.pages:
                break
            page += 1
        assert board.total == len(rows), key
        found[key] = rows
    return found


def python_groups(session: Session) -> dict[str, list]:
    board = queries.vetting_dashboard(session, TODAY)
    return {key: rows for key, _heading, rows in board.groups()}


# ---------------------------------------------------------------------------------------------
# The edge cases, one volunteer each

# (what, [(kind, status, cleared, expires, decided, submitted)], volunteer status, groups the volunteer is in)
EDGES = [
    ("expires in 30 days", [(NPPV, CLEARED, -335, 30, None, None)], None, {"expiring-30"}),
    ("expires tomorrow", [(NPPV, CLEARED, -364, 1, None, None)], None, {"expiring-30"}),
    ("expires in 31 days", [(NPPV, CLEARED, -334, 31, None, None)], None, {"expiring-60"}),
    ("expires in 60 days", [(NPPV, CLEARED, -305, 60, None, None)], None, {"expiring-60"}),
    ("expires in 61 days", [(NPPV, CLEARED, -304, 61, None, None)], None, {"expiring-90"}),
    ("expires in 90 days", [(NPPV, CLEARED, -275, 90, None, None)], None, {"expiring-90"}),
    ("expires in 91 days", [(NPPV, CLEARED, -274, 91, None, None)], None, set()),
    ("expires today: lapsed", [(NPPV, CLEARED, -365, 0, None, None)], None, {"lapsed"}),
    ("marked lapsed by the job", [(NPPV, LAPSED, -366, -1, None, None)], None, {"lapsed"}),
    ("refused after the clearance", [(NPPV, CLEARED, -10, 355, None, None), (NPPV, REFUSED, None, None, -5, -20)],
     None, {"lapsed"}),
    ("refused the day it was cleared", [(NPPV, CLEARED, -10, 20, None, None), (NPPV, REFUSED, None, None, -10, -30)],
     None, {"lapsed"}),
    ("refused the day before the clearance",
     [(NPPV, CLEARED, -10, 20, None, None), (NPPV, REFUSED, None, None, -11, -30)], None, {"expiring-30"}),
    ("refusal dated tomorrow does not count yet",
     [(NPPV, CLEARED, -10, 20, None, None), (NPPV, REFUSED, None, None, 1, -30)], None, {"expiring-30"}),
    ("lapsed with a renewal submitted",
     [(NPPV, CLEARED, -400, -35, None, None), (NPPV, SUBMITTED, None, None, None, -3)], None, {"lapsed", "waiting"}),
    ("renewed: the new clearance counts", [(NPPV, CLEARED, -360, 5, None, None), (NPPV, CLEARED, -2, 363, None, None)],
     None, set()),
    ("withdrawn only, required", [(NPPV, WITHDRAWN, None, None, -4, -30)], None, {"missing"}),
    ("withdrawn only, not required", [(NSV, WITHDRAWN, None, None, -4, -30), (NPPV, CLEARED, -30, 335, None, None)],
     None, set()),
    ("nothing recorded", [], None, {"missing"}),
    ("not started only", [(NPPV, NOT_STARTED, None, None, None, None)], None, {"waiting"}),
    ("cleared tomorrow: not yet counting", [(NPPV, CLEARED, 1, 366, None, None)], None, {"lapsed"}),
    ("references never expire", [(REFERENCES, CLEARED, -900, None, None, None), (NPPV, CLEARED, -30, 335, None, None)],
     None, set()),
    ("one counting check never expires", [(DBS, CLEARED, -30, 10, None, None), (DBS, CLEARED, -20, None, None, None),
                                          (NPPV, CLEARED, -30, 335, None, None)], None, set()),
    ("not required but lapsed", [(NSV, CLEARED, -2000, -3, None, None), (NPPV, CLEARED, -30, 335, None, None)],
     None, {"lapsed"}),
    ("left: never listed", [(NPPV, CLEARED, -400, -35, None, None), (NPPV, SUBMITTED, None, None, None, -3)],
     VolunteerStatus.LEFT, set()),
]


def test_each_edge_case_falls_in_the_same_groups_in_sql_and_python(session):
    volunteers = {}
    for what, checks, status, _groups in EDGES:
        volunteer = make_volunteer(session, name=what.capitalize(), status=status or VolunteerStatus.ACTIVE)
        # Every volunteer has references, so only the kinds in the case can be missing.
        add_check(session, volunteer, REFERENCES, CLEARED, cleared_on=days(-900))
        for kind, check_status, cleared, expires, decided, submitted in checks:
            add_check(session, volunteer, kind, check_status,
                      cleared_on=None if cleared is None else days(cleared),
                      expires_on=None if expires is None else days(expires),
                      decided_on=None if decided is None else days(decided),
                      submitted_on=None if submitted is None else days(submitted))
        volunteers[volunteer.id] = what
    for found in (sql_groups(session), python_groups(session)):
        groups_of = {what: set() for what in volunteers.values()}
        for key, rows in found.items():
            for row in rows:
                groups_of[volunteers[row.volunteer.id]].add(key)
        assert groups_of == {what: groups for what, _checks, _status, groups in EDGES}


# ---------------------------------------------------------------------------------------------
# Any population

OFFSETS = [-800, -400, -366, -365, -364, -91, -90, -61, -60, -31, -30, -11, -10, -1, 0, 1, 29, 30, 31, 59, 60,
           61, 89, 90, 91, 365, 400]
NAMES = ["Amara Okafor", "Rhys Pritchard", "Zoë Ní Bhriain", "Seán O'Brien", "Owain Evans", "amara okafor",
         "Jo 100% Smith", "Kim_Lee"]
# Weighted towards what the rules weigh against each other: clearances, refusals, renewals in progress.
STATUSES = [CLEARED, CLEARED, CLEARED, LAPSED, REFUSED, REFUSED, SUBMITTED, NOT_STARTED, WITHDRAWN]
VOLUNTEER_STATUSES = [VolunteerStatus.ACTIVE] * 3 + list(VolunteerStatus)


@st.composite
def people(draw) -> list:
    """Volunteers (name, status, checks) whose dates come from a few boundary days, so that clearances,
    expiries and refusals often fall on the same day, the day before or the day after each other."""
    pool = draw(st.lists(st.sampled_from(OFFSETS), min_size=2, max_size=5, unique=True))
    day = st.one_of(st.none(), st.sampled_from(pool).map(days))
    kinds = draw(st.lists(st.sampled_from(list(CheckKind)), min_size=1, max_size=4, unique=True))
    check = st.tuples(st.sampled_from(kinds), st.sampled_from(STATUSES), day, day, day, day, st.integers(0, 3))
    return draw(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VOLUNTEER_STATUSES),
                                   st.lists(check, max_size=6)), min_size=1, max_size=8))


filters = st.builds(queries.DashboardFilter, kind=st.one_of(st.none(), st.sampled_from(list(CheckKind))),
                    required_only=st.booleans(),
                    search=st.sampled_from(["", "okafor", "o'b", "100%", "_", "ní", "example.org", "zz"]))


def _matches(row: queries.DashboardRow, narrowed: queries.DashboardFilter) -> bool:
    search = narrowed.search.lower()
    return ((narrowed.kind is None or row.kind is narrowed.kind) and (row.required or not narrowed.required_only)
            and (search in row.volunteer.name.lower() or search in row.volunteer.user.email.lower()))


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(population=people(), required=st.sets(st.sampled_from(list(CheckKind))), narrowed=filters,
       per_page=st.sampled_from([1, 3, 50]))
def test_sql_counts_and_pages_equal_the_python_dashboard_on_any_population(
    session, population, required, narrowed, per_page
):
    try:
        stored_settings.set_setting(session, RULES_SETTING, rules_as_setting(
            {kind: replace(rule, required=kind in required) for kind, rule in DEFAULT_RULES.items()}))
        for name, status, volunteer_checks in population:
            volunteer = make_volunteer(session, name=name, status=status)
            for kind, check_status, cleared, expires, decided, submitted, minutes in volunteer_checks:
                add_check(session, volunteer, kind, check_status, cleared_on=cleared, expires_on=expires,
                          decided_on=decided, submitted_on=submitted, created_at=NOW - dt.timedelta(minutes=minutes))
        expected = python_groups(session)
        rules = queries.get_rules(session)

        assert queries.dashboard_counts(session, TODAY, rules) == {key: len(rows) for key, rows in expected.items()}
        found = sql_groups(session, per_page=per_page)
        assert {key: sorted(map(row_key, rows)) for key, rows in found.items()} == \
            {key: sorted(map(row_key, rows)) for key, rows in expected.items()}
        # The export's rows, their checks read a few volunteers at a time, in the pages' order.
        assert {key: list(map(row_key, queries.dashboard_rows(session, TODAY, rules, key, batch=per_page)))
                for key in GROUPS} == {key: list(map(row_key, rows)) for key, rows in found.items()}

        wanted = {key: sorted(row_key(row) for row in rows if _matches(row, narrowed))
                  for key, rows in expected.items()}
        assert queries.dashboard_counts(session, TODAY, rules, narrowed) == \
            {key: len(rows) for key, rows in wanted.items()}
        assert {key: sorted(map(row_key, rows)) for key, rows in sql_groups(session, narrowed).items()} == wanted
    finally:
        session.rollback()


@pytest.mark.parametrize("page, first", [(1, 1), (2, 51), (3, 101), (99, 101)])
def test_a_group_is_served_fifty_rows_a_page_and_a_page_past_the_end_is_the_last(session, page, first):
    for number in range(120):
        make_volunteer(session, name=f"Volunteer {number:03d}")
    board = queries.dashboard_page(session, TODAY, queries.get_rules(session), group="missing", page=page,
                                   filters=queries.DashboardFilter(kind=NPPV))
    assert (board.total, board.pages, board.first) == (120, 3, first)
    assert [row.volunteer.name for row in board.rows] == [f"Volunteer {number:03d}"
                                                          for number in range(first - 1, min(first + 49, 120))]


def test_with_no_group_asked_for_the_first_group_with_rows_is_shown(session):
    volunteer = make_volunteer(session, name="Owain Evans")
    add_check(session, volunteer, NPPV, CLEARED, cleared_on=days(-340), expires_on=days(25))
    add_check(session, volunteer, REFERENCES, CLEARED, cleared_on=days(-900))
    rules = queries.get_rules(session)
    assert queries.dashboard_page(session, TODAY, rules).group == "expiring-30"
    assert queries.dashboard_page(session, TODAY, rules, group="nonsense").group == "expiring-30"
    assert queries.dashboard_page(session, TODAY, rules, group="lapsed").rows == []
