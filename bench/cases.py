"""Bench the case pages at volume: 100,000 cases, their parties and 1,000,000 contact attempts on
PostgreSQL, then each page's server time (median and p95 of 30 calls) against 100 ms.

    .venv/bin/python bench/cases.py                # full volume
    .venv/bin/python bench/cases.py --scale 0.1    # 10,000 cases and 100,000 attempts
    .venv/bin/python bench/cases.py --reset        # drop the bench tables and load again

The database is PORTAL_BENCH_DATABASE_URL (default
postgresql+psycopg://root@127.0.0.1:5432/bench_cases); it is created if missing and never used for
anything else. Rows are loaded with COPY (a minute or two for the full volume) and only once: a
second run with the same --scale reuses them. Pages are called through a Flask test client (server
time, no network), signed in as a coordinator (case list, case page, reports) and as a
facilitator (their case page); routes that do not exist yet are skipped with a note.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections.abc import Iterable, Iterator

from _database import bench_parser, bench_url, load_once, prepare_schema, timed_copy, vacuum_analyze
from _pages import PASSWORD, bench_app, expect_ok, signed_in
from _timing import Timing, measure, report
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound as NoRoute

from portal.cases import queries
from portal.cases.models import (
    Case,
    CaseStatus,
    ClosureReason,
    ContactMethod,
    ContactOutcome,
    InterventionType,
    JusticeStage,
    OffenceCategory,
    PartyRole,
    ReferralSource,
)
from portal.cases.services import first_contact_due_on, format_reference
from portal.core import account_services
from portal.core.accounts import Role, User, find_user_by_email
from portal.core.passwords import hash_password

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/bench_cases"
FULL_CASES = 100_000
ATTEMPTS_PER_CASE = 10
LOADED_SETTING = "bench.cases_loaded"
COORDINATOR = "bench-coordinator@example.org"
FACILITATOR = "bench-facilitator@example.org"
TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
DISTRICTS = ["Basildon", "Braintree", "Brentwood", "Castle Point", "Chelmsford", "Colchester",
             "Epping Forest", "Harlow", "Maldon", "Rochford", "Tendring", "Uttlesford",
             "Southend-on-Sea", "Thurrock"]
REFERRERS = ["Essex Police", "Probation Service, East of England", "Essex Youth Justice Service",
             "Chelmsford Magistrates' Court", "Essex Victim Care Hub", "Colne Valley Homes",
             "Southend Youth Justice Service", "British Transport Police"]
STATUS_WEIGHTS = {
    CaseStatus.REFERRAL_RECEIVED: 3, CaseStatus.TRIAGE: 3, CaseStatus.CONTACTING: 5,
    CaseStatus.ASSESSMENT: 5, CaseStatus.AWAITING_ALLOCATION: 4, CaseStatus.ALLOCATED: 4,
    CaseStatus.PREPARATION: 4, CaseStatus.INTERVENTION: 3, CaseStatus.MONITORING: 3,
    CaseStatus.FOLLOW_UP: 2, CaseStatus.ON_HOLD: 3, CaseStatus.CLOSED: 61,
}


def _people(session: Session) -> tuple[int, int]:
    password_hash = hash_password(PASSWORD)
    ids = []
    for email, name, roles in (
        (COORDINATOR, "Bench Coordinator", [Role.COORDINATOR]),
        (FACILITATOR, "Bench Facilitator", [Role.VOLUNTEER]),
    ):
        user = find_user_by_email(session, email) or account_services.create_user(
            session, email=email, name=name, roles=roles, password_hash=password_hash, now=NOW
        )
        ids.append(user.id)
    session.commit()
    return ids[0], ids[1]


def load(engine: Engine, cases: int, coordinator_id: int, facilitator_id: int, *, first_id: int = 1,
         numbers: dict[int, int] | None = None) -> None:
    """Bulk-load `cases` cases (2 parties each), 10 contact attempts per case, status changes,
    consents, agreements, feedback, and 25 current allocations for the bench facilitator.

    Case ids run from `first_id` and party ids from 2 * first_id - 1 (so another loader's cases
    1 .. first_id - 1 with parties 2 * id - 1 and 2 * id keep theirs); reference numbers continue from
    `numbers` (year -> last number taken). The reference counters are inserted, so none may exist yet."""
    rng = random.Random(2026)
    statuses = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=cases)
    closure_reasons = list(ClosureReason)
    days = (TODAY - dt.date(2021, 1, 1)).days
    numbers = dict(numbers or {})
    case_rows, party_rows, change_rows, consent_rows = [], [], [], []
    agreement_rows, action_rows, feedback_rows = [], [], []
    started = time.perf_counter()
    for case_id, status in enumerate(statuses, start=first_id):
        received = TODAY - dt.timedelta(days=rng.randint(0, days))
        numbers[received.year] = number = numbers.get(received.year, 0) + 1
        enhanced = rng.random() < 0.1
        due = first_contact_due_on(received, enhanced_rights=enhanced)
        contacted = None if status in (CaseStatus.REFERRAL_RECEIVED, CaseStatus.TRIAGE) or rng.random() < 0.1 \
            else min(received + dt.timedelta(days=rng.randint(0, 12)), TODAY)
        closed = status is CaseStatus.CLOSED
        closed_on = min(received + dt.timedelta(days=rng.randint(10, 200)), TODAY) if closed else None
        intervened = status in (CaseStatus.INTERVENTION, CaseStatus.MONITORING, CaseStatus.FOLLOW_UP) or (
            closed and rng.random() < 0.35)
        kind = rng.choice(list(InterventionType)) if intervened else None
        case_rows.append((
            case_id, format_reference(received.year, number), status.value,
            CaseStatus.TRIAGE.value if status is CaseStatus.ON_HOLD else None,
            "Awaiting sentence" if status is CaseStatus.ON_HOLD else None,
            rng.choice(list(ReferralSource)).value, rng.choice(REFERRERS), received,
            rng.choice(list(OffenceCategory)).value, rng.choice(list(JusticeStage)).value,
            rng.choice(DISTRICTS), enhanced, rng.random() < 0.12,
            "Bench referral: theft of a bicycle from outside the station", kind.value if kind else None,
            due, contacted, rng.choice(closure_reasons).value if closed else None, closed_on,
            NOW, coordinator_id,
        ))
        harmed_id, responsible_id = 2 * case_id - 1, 2 * case_id
        for party_id, role in ((harmed_id, PartyRole.HARMED_PERSON), (responsible_id, PartyRole.PERSON_RESPONSIBLE)):
            party_rows.append((party_id, case_id, role.value, f"Bench Person {party_id}", "07700 900123",
                               f"{party_id} High Street, Chelmsford CM1 1AA", False, False, NOW))
        at = dt.datetime.combine(received, dt.time(9), tzinfo=dt.UTC)
        change_rows.append((case_id, None, CaseStatus.REFERRAL_RECEIVED.value, at, coordinator_id))
        if kind:
            change_rows.append((case_id, CaseStatus.PREPARATION.value, CaseStatus.INTERVENTION.value,
                                at + dt.timedelta(days=rng.randint(20, 90)), coordinator_id))
        if contacted and rng.random() < 0.6:
            consent_rows.append((case_id, harmed_id, "participation", kind.value if kind else None,
                                 contacted, "written", NOW))
            if kind:
                consent_rows.append((case_id, responsible_id, "participation", kind.value, contacted, "written", NOW))
            # The first-consent dates the consent service keeps on the case.
            case_rows[-1] += (contacted, contacted if kind else None)
        else:
            case_rows[-1] += (None, None)
        if kind and rng.random() < 0.7:
            agreement_id = len(agreement_rows) + 1
            agreed = min(received + dt.timedelta(days=rng.randint(30, 120)), TODAY)
            agreement_rows.append((agreement_id, case_id, agreed, NOW))
            for number_in_agreement in range(rng.randint(1, 3)):
                done = closed or rng.random() < 0.5
                action_rows.append((agreement_id, "Bench Person", f"Action {number_in_agreement + 1}",
                                    agreed + dt.timedelta(days=30), "done" if done else "open",
                                    agreed + dt.timedelta(days=20) if done else None))
            if rng.random() < 0.6:
                feedback_rows.append((case_id, harmed_id, rng.randint(2, 5), agreed + dt.timedelta(days=5), NOW))
    print(f"  generated {cases:,} cases in memory in {time.perf_counter() - started:.1f} s", flush=True)

    def timed(table: str, columns: list[str], rows: Iterable[tuple]) -> None:
        timed_copy(engine, table, columns, rows)

    timed("cases", ["id", "reference", "status", "status_before_hold", "hold_reason", "source",
                    "referrer_organisation", "received_on", "offence_category", "justice_stage", "district",
                    "victim_has_enhanced_rights", "is_sensitive", "summary", "intervention_type",
                    "first_contact_due_on", "first_contact_on", "closure_reason", "closed_on", "created_at",
                    "created_by_id", "harmed_consented_on", "responsible_consented_on"], case_rows)
    timed("parties", ["id", "case_id", "role", "name", "phone", "address", "is_under_18",
                      "home_visit_approved", "created_at"], party_rows)
    timed("case_status_changes", ["case_id", "from_status", "to_status", "changed_at", "changed_by_id"],
          change_rows)
    timed("consents", ["case_id", "party_id", "purpose", "intervention_type", "given_on", "method",
                       "created_at"], consent_rows)
    timed("outcome_agreements", ["id", "case_id", "agreed_on", "created_at"], agreement_rows)
    timed("agreement_actions", ["agreement_id", "owner", "description", "due_on", "status",
                                "status_changed_on"], action_rows)
    timed("feedback", ["case_id", "party_id", "satisfaction", "given_on", "created_at"], feedback_rows)

    methods, outcomes = [m.value for m in ContactMethod], [o.value for o in ContactOutcome]

    def attempts() -> Iterator[tuple]:
        for row in case_rows:
            case_id, received = row[0], row[7]
            base = dt.datetime.combine(received, dt.time(10), tzinfo=dt.UTC)
            for number in range(ATTEMPTS_PER_CASE):
                yield (case_id, 2 * case_id - 1 + number % 2, base + dt.timedelta(hours=7 * number),
                       methods[number % len(methods)], outcomes[(case_id + number) % len(outcomes)],
                       coordinator_id, NOW)

    timed("contact_attempts", ["case_id", "party_id", "attempted_at", "method", "outcome",
                               "recorded_by_id", "created_at"], attempts())

    # The bench facilitator leads 25 open cases, working with the harmed person.
    open_cases = [row[0] for row in case_rows if row[2] in ("allocated", "preparation", "intervention")][:25]
    with engine.begin() as connection:
        for case_id in open_cases:
            allocation_id = connection.scalar(text(
                "INSERT INTO case_allocations (case_id, user_id, role, starts_on, created_at)"
                " VALUES (:case_id, :user_id, 'lead', :starts_on, :now) RETURNING id"),
                {"case_id": case_id, "user_id": facilitator_id, "starts_on": TODAY - dt.timedelta(days=30),
                 "now": NOW})
            connection.execute(text(
                "INSERT INTO case_allocation_parties (allocation_id, party_id) VALUES (:a, :p)"),
                {"a": allocation_id, "p": 2 * case_id - 1})
        for year, last in numbers.items():
            connection.execute(text("INSERT INTO case_reference_counters (year, last_number) VALUES (:y, :n)"),
                               {"y": year, "n": last})
        for table in ("cases", "parties", "outcome_agreements"):
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                                    f" (SELECT max(id) FROM {table}))"))
    vacuum_analyze(engine)


def _route_exists(app, path: str) -> bool:
    try:
        app.url_map.bind("localhost").match(path, method="GET")
    except NoRoute:
        return False
    return True


def bench_pages(url: str, case_id: int, facilitator_case_id: int, results: list[Timing], runs: int) -> None:
    app = bench_app(url)
    coordinator, facilitator = signed_in(app, COORDINATOR), signed_in(app, FACILITATOR)
    report = "kind=quarter&year=2026&quarter=3&referrer=Essex+Police"
    pages = [
        ("GET /cases/ (first page)", coordinator, "/cases/"),
        ("GET /cases/ (filtered: status, district)", coordinator, "/cases/?status=contacting&district=Harlow"),
        ("GET /cases/ (overdue)", coordinator, "/cases/?overdue=y"),
        ("GET /cases/ (page 2000)", coordinator, "/cases/?page=2000"),
        (f"GET /cases/{case_id} (case page)", coordinator, f"/cases/{case_id}"),
        ("GET /cases/reports (quarter, one referrer)", coordinator, f"/cases/reports?{report}"),
        ("GET /cases/reports (year, all referrers)", coordinator, "/cases/reports?kind=year&year=2025"),
        ("GET /cases/reports.csv (quarter, one referrer)", coordinator, f"/cases/reports.csv?{report}"),
        ("GET /cases/mine", facilitator, "/cases/mine"),
        (f"GET /cases/mine/{facilitator_case_id} (facilitator case page)", facilitator,
         f"/cases/mine/{facilitator_case_id}"),
    ]
    for name, client, path in pages:
        if not _route_exists(app, path.split("?")[0]):
            print(f"{name}: skipped, no such route yet", flush=True)
            continue
        results.append(measure(name, lambda client=client, path=path: client.get(path), check=expect_ok,
                               runs=runs))


def bench_queries(engine: Engine, case_id: int, coordinator_id: int, facilitator_id: int,
                  facilitator_case_id: int, results: list[Timing], runs: int) -> None:
    with Session(engine) as session:
        facilitator = session.get(User, facilitator_id)
        coordinator = session.get(User, coordinator_id)

        def case_page_data():
            session.expire_all()
            queries.get_case(session, case_id)
            queries.list_case_timeline(session, case_id, viewer=coordinator)
            queries.list_case_views(session, case_id)

        def fresh(call):
            def run():
                session.expire_all()
                return call()
            return run

        calls = [
            ("list_cases (first page)", lambda: queries.list_cases(session, today=TODAY)),
            ("list_cases (status + district)", lambda: queries.list_cases(
                session, queries.CaseFilter(status=CaseStatus.CONTACTING, district="Harlow"), today=TODAY)),
            ("list_cases (overdue)", lambda: queries.list_cases(
                session, queries.CaseFilter(overdue=True), today=TODAY)),
            ("list_cases (referrer, page 50)", lambda: queries.list_cases(
                session, queries.CaseFilter(referrer="Essex Police"), today=TODAY, page=50)),
            ("case page data (get_case + timeline + views)", case_page_data),
            ("referrer_report (month, all)", lambda: queries.referrer_report(
                session, queries.ReportPeriod.month(2026, 10))),
            ("referrer_report (quarter, one referrer)", lambda: queries.referrer_report(
                session, queries.ReportPeriod.quarter(2026, 3), referrer="Essex Police")),
            ("referrer_report (year, all)", lambda: queries.referrer_report(
                session, queries.ReportPeriod.year(2025))),
            ("list_my_cases", lambda: queries.list_my_cases(session, facilitator, on=TODAY)),
            ("get_case_for_facilitator", lambda: queries.get_case_for_facilitator(
                session, facilitator_case_id, facilitator, on=TODAY)),
        ]
        for name, call in calls:
            results.append(measure(name, fresh(call), runs=runs))


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "fraction of the full volume (1.0 = 100,000 cases, 1,000,000 attempts)", runs=30)
    args = parser.parse_args(argv)
    url = bench_url(DEFAULT_URL)
    cases = max(100, int(FULL_CASES * args.scale))

    engine = prepare_schema(url, args.reset)
    with Session(engine) as session:
        coordinator_id, facilitator_id = _people(session)
    load_once(engine, LOADED_SETTING, cases, existing=select(func.count(Case.id)), what="cases",
              mismatch=lambda loaded: f"The bench database holds {loaded:,} cases; use --scale for that or --reset",
              loading=f"Loading {cases:,} cases and {cases * ATTEMPTS_PER_CASE:,} contact attempts",
              reusing=f"Reusing {cases:,} cases already loaded",
              load=lambda: load(engine, cases, coordinator_id, facilitator_id))

    with Session(engine) as session:
        facilitator_case_id = session.scalar(text(
            "SELECT case_id FROM case_allocations WHERE user_id = :u AND ends_on IS NULL ORDER BY id LIMIT 1"),
            {"u": facilitator_id})
        case_id = session.scalar(select(func.max(Case.id)))

    results: list[Timing] = []
    print(f"\nPages through the Flask test client ({args.runs} calls each, after 2 warm-up calls)")
    bench_pages(url, case_id, facilitator_case_id, results, args.runs)
    print(f"\nQueries on a plain Session ({args.runs} calls each)")
    bench_queries(engine, case_id, coordinator_id, facilitator_id, facilitator_case_id, results, args.runs)
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
