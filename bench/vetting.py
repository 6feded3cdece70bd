"""Bench the vetting pages at national size: 20,000 volunteers with about 55,000 vetting checks on
PostgreSQL, then the coordinator home (with its vetting panel) and the vetting dashboard's views:
server time (median and p95 of 30 calls) against 100 ms, SQL statements against 30 and HTML against
300 KB; the CSV export (every row of every group, not a page) is timed and reported without a target.

    .venv/bin/python bench/vetting.py                # full volume
    .venv/bin/python bench/vetting.py --scale 0.1    # 2,000 volunteers
    .venv/bin/python bench/vetting.py --reset        # drop the bench tables and load again

The database is PORTAL_BENCH_DATABASE_URL (default
postgresql+psycopg://root@127.0.0.1:5432/bench_vetting); it is created if missing and never used for
anything else. Rows are loaded once (Core inserts, well under a minute) and reused by later runs with
the same --scale. The clock is pinned to 23 November 2026, the day the data was made for, so every
run sorts the same checks into the same groups. Pages are called through a Flask test client (server
time, no network), signed in as a coordinator. Cases are not loaded: the coordinator home's case
panels run on empty tables here (bench/cases.py measures cases at volume).

What is loaded, from a fixed seed: volunteers 75% active, 8% training, 7% vetting, 5% paused and 5%
left; police vetting cleared over the last 13 months (so about 8% expire in each 30 days and 1 in 13
has lapsed), 40% with last year's check kept as history, 6% of the lapsed and expiring with a renewal
submitted, 0.5% refused after a clearance, 0.5% withdrawn; volunteers still in vetting have theirs
submitted or not started; references for 97%; an enhanced DBS check for 30% (36 months, some on the
Update Service) and national security vetting for 10% (reviewed after 60 months).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time

from _database import bench_parser, bench_url, insert_rows, load_once, prepare_schema, reset_sequences, vacuum_analyze
from _pages import (
    HTML_TARGET_KB,
    PASSWORD,
    STATEMENT_TARGET,
    PageFigures,
    bench_app,
    expect_ok,
    signed_in,
    summary,
    time_page,
)
from _timing import TARGET_MS, Timing, measure, report
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal.core import clock, versions
from portal.core.accounts import Role, User, UserRole
from portal.core.passwords import hash_password
from portal.extensions import db
from portal.volunteers.profiles.models import Volunteer, VolunteerStatus
from portal.volunteers.vetting import queries
from portal.volunteers.vetting.models import VETTING_VERSION, CheckKind, CheckStatus, VettingCheck
from portal.volunteers.vetting.rules import add_months

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/bench_vetting"
FULL_VOLUNTEERS = 20_000
LOADED_SETTING = "bench.vetting_loaded"
COORDINATOR = "bench-coordinator@example.org"
TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
STATUS_MIX = {
    VolunteerStatus.ACTIVE: 75, VolunteerStatus.TRAINING: 8, VolunteerStatus.VETTING: 7,
    VolunteerStatus.PAUSED: 5, VolunteerStatus.LEFT: 5,
}
FIRST = ["Amira", "Bryn", "Chidi", "Dee", "Eilidh", "Farah", "Gareth", "Hana", "Imran", "Jess", "Kofi",
         "Lena", "Marek", "Niamh", "Olu", "Priya", "Rhys", "Siân", "Tomasz", "Zoë"]
LAST = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Green", "Hughes", "Khan", "Lewis", "Morgan",
        "Nowak", "O'Brien", "Patel", "Roberts", "Smith", "Taylor", "Walsh", "Williams", "Wright", "Young"]


def _check(volunteer_id: int, kind: CheckKind, status: CheckStatus, *, level: str | None = None,
           cleared_on: dt.date | None = None, expires_on: dt.date | None = None, submitted_on: dt.date | None = None,
           decided_on: dt.date | None = None, created_at: dt.datetime = NOW, update_service: bool = False) -> dict:
    return dict(volunteer_id=volunteer_id, kind=kind, status=status, level=level, cleared_on=cleared_on,
                expires_on=expires_on, submitted_on=submitted_on, decided_on=decided_on, update_service=update_service,
                reference_last4="7K2Q" if cleared_on else None, decision_maker="Bench Force Vetting Unit",
                created_at=created_at, updated_at=created_at)


def _police_vetting(rng: random.Random, number: int, status: VolunteerStatus) -> list[dict]:
    if status is VolunteerStatus.VETTING:
        if rng.random() < 0.7:
            return [_check(number, CheckKind.NPPV, CheckStatus.SUBMITTED, level="NPPV2",
                           submitted_on=TODAY - dt.timedelta(days=rng.randint(1, 60)))]
        return [_check(number, CheckKind.NPPV, CheckStatus.NOT_STARTED, level="NPPV2")]
    cleared_on = TODAY - dt.timedelta(days=rng.randint(1, 395))
    expires_on = add_months(cleared_on, 12)
    at = dt.datetime.combine(cleared_on, dt.time(9), tzinfo=dt.UTC)
    rows = []
    if rng.random() < 0.4:  # last year's check, renewed
        earlier = add_months(cleared_on, -12)
        rows.append(_check(number, CheckKind.NPPV, CheckStatus.LAPSED, level="NPPV2", cleared_on=earlier,
                           expires_on=cleared_on, created_at=at - dt.timedelta(days=365)))
    lapsed = expires_on <= TODAY
    rows.append(_check(number, CheckKind.NPPV, CheckStatus.LAPSED if lapsed else CheckStatus.CLEARED, level="NPPV2",
                       cleared_on=cleared_on, expires_on=expires_on, submitted_on=cleared_on - dt.timedelta(days=21),
                       created_at=at))
    if (expires_on - TODAY).days <= 90 and rng.random() < 0.06:
        rows.append(_check(number, CheckKind.NPPV, CheckStatus.SUBMITTED, level="NPPV2",
                           submitted_on=TODAY - dt.timedelta(days=rng.randint(1, 30)), created_at=NOW))
    elif rng.random() < 0.005:
        rows.append(_check(number, CheckKind.NPPV, CheckStatus.REFUSED, level="NPPV3",
                           submitted_on=cleared_on, decided_on=TODAY - dt.timedelta(days=rng.randint(0, 20)),
                           created_at=NOW))
    elif rng.random() < 0.005:
        rows.append(_check(number, CheckKind.NPPV, CheckStatus.WITHDRAWN, level="NPPV3",
                           submitted_on=cleared_on, decided_on=TODAY - dt.timedelta(days=rng.randint(0, 20)),
                           created_at=NOW))
    return rows


def volunteer_checks(rng: random.Random, number: int, status: VolunteerStatus) -> list[dict]:
    """One volunteer's vetting checks (rows for `insert(VettingCheck)`), from the mix in the module
    docstring; `number` is the volunteer's id. Also used by bench/pages.py."""
    checks = _police_vetting(rng, number, status)
    if rng.random() < 0.97:
        checks.append(_check(number, CheckKind.REFERENCES, CheckStatus.CLEARED,
                             cleared_on=TODAY - dt.timedelta(days=rng.randint(30, 900))))
    if rng.random() < 0.3:
        cleared_on = TODAY - dt.timedelta(days=rng.randint(1, 1200))
        checks.append(_check(number, CheckKind.DBS, CheckStatus.CLEARED, level="ENHANCED_BARRED",
                             cleared_on=cleared_on, expires_on=add_months(cleared_on, 36),
                             update_service=rng.random() < 0.3))
    if rng.random() < 0.1:
        cleared_on = TODAY - dt.timedelta(days=rng.randint(1, 1900))
        checks.append(_check(number, CheckKind.NSV, CheckStatus.CLEARED, level="CTC", cleared_on=cleared_on,
                             expires_on=add_months(cleared_on, 60)))
    return checks


def load(engine: Engine, volunteers: int, password_hash: str) -> None:
    """Load the coordinator and `volunteers` volunteers with their checks (see the module docstring)."""
    rng = random.Random(2026)
    users = [dict(id=1, email=COORDINATOR, name="Bench Coordinator", password_hash=password_hash,
                  is_deactivated=False, created_at=NOW)]
    roles = [dict(user_id=1, role=Role.COORDINATOR, granted_at=NOW)]
    volunteer_rows, checks = [], []
    statuses = rng.choices(list(STATUS_MIX), weights=list(STATUS_MIX.values()), k=volunteers)
    for number, status in enumerate(statuses, start=1):
        user_id = number + 1
        users.append(dict(id=user_id, email=f"volunteer{number}@bench.example.org",
                          name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", password_hash=None, is_deactivated=False,
                          created_at=NOW - dt.timedelta(days=500)))
        roles.append(dict(user_id=user_id, role=Role.VOLUNTEER, granted_at=NOW))
        volunteer_rows.append(dict(id=number, user_id=user_id, status=status, created_at=NOW - dt.timedelta(days=500)))
        checks.extend(volunteer_checks(rng, number, status))
    with engine.begin() as connection:
        insert_rows(connection, User, users)
        insert_rows(connection, UserRole, roles)
        insert_rows(connection, Volunteer, volunteer_rows)
        insert_rows(connection, VettingCheck, checks)
        reset_sequences(connection, ("users", "volunteers", "vetting_checks"))
    vacuum_analyze(engine)


def bench_pages(url: str, runs: int) -> list[PageFigures]:
    app = bench_app(url)
    client = signed_in(app, COORDINATOR)
    with app.app_context():
        engine = db.engine
    with Session(engine) as session:
        counts = queries.dashboard_counts(session, TODAY, queries.get_rules(session))
    last_expiring = max(1, -(-counts["expiring-30"] // 50))
    pages = [
        ("GET /coordinator (home with the vetting panel)", "/coordinator"),
        ("GET /volunteering/vetting (first group with rows)", "/volunteering/vetting"),
        *((f"GET /volunteering/vetting?group={key}", f"/volunteering/vetting?group={key}")
          for key, _heading in queries.DASHBOARD_GROUPS),
        (f"GET /volunteering/vetting?group=expiring-30&page={last_expiring} (last page)",
         f"/volunteering/vetting?group=expiring-30&page={last_expiring}"),
        ("GET /volunteering/vetting?group=lapsed&kind=nppv&required=yes",
         "/volunteering/vetting?group=lapsed&kind=nppv&required=yes"),
        ("GET /volunteering/vetting?group=missing&search=patel", "/volunteering/vetting?group=missing&search=patel"),
    ]
    figures = [time_page(client, engine, name, path, runs=runs) for name, path in pages]
    # An export, not a page: timed and reported, with no target.
    samples, size, rows = [], 0, 0
    for _ in range(3):
        started = time.perf_counter()
        response = client.get("/volunteering/vetting/export.csv")
        samples.append((time.perf_counter() - started) * 1000)
        expect_ok(response)
        size, rows = len(response.data), len(response.data.splitlines()) - 1
    print(f"GET /volunteering/vetting/export.csv (every row): median {statistics.median(samples):.0f} ms of 3,"
          f" {size / 1024:,.0f} KB of CSV, {rows:,} rows (no target)", flush=True)
    return figures


def bench_queries(engine: Engine, runs: int) -> list[Timing]:
    results = []
    with Session(engine) as session:
        rules = queries.get_rules(session)
        results.append(measure("dashboard_counts (the home panel's one aggregate)",
                               lambda: queries.dashboard_counts(session, TODAY, rules), runs=runs))
        for key, _heading in queries.DASHBOARD_GROUPS:
            def page(key=key):
                session.expire_all()
                return queries.dashboard_page(session, TODAY, rules, group=key)
            results.append(measure(f"dashboard_page(group={key})", page, runs=runs))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "fraction of the full volume (1.0 = 20,000)", runs=30)
    args = parser.parse_args(argv)
    url = bench_url(DEFAULT_URL)
    volunteers = max(100, int(FULL_VOLUNTEERS * args.scale))
    # Every page reads the clock: pin it to the day the data was made for.
    clock.now = lambda: NOW

    engine = prepare_schema(url, args.reset)
    load_once(engine, LOADED_SETTING, volunteers, existing=select(func.count(Volunteer.id)), what="volunteers",
              mismatch=lambda loaded: f"The bench database holds {loaded:,} volunteers;"
                                      " use --scale for that or --reset",
              loading=f"Loading {volunteers:,} volunteers with their vetting checks",
              reusing=f"Reusing {volunteers:,} volunteers already loaded",
              load=lambda: load(engine, volunteers, hash_password(PASSWORD)))
    with Session(engine) as session:
        # The load wrote with Core, past the ORM flush that changes the vetting data's version: say so, as
        # any bulk write must, so the counts are kept in memory between page views as in service.
        versions.bump(session, VETTING_VERSION)
        session.commit()
        checks = session.scalar(select(func.count(VettingCheck.id)))
        counts = queries.dashboard_counts(session, TODAY, queries.get_rules(session))
    print(f"{checks:,} checks; on {TODAY:%-d %B %Y} the groups hold "
          + ", ".join(f"{key} {number:,}" for key, number in counts.items()))

    print(f"\nPages through the Flask test client ({args.runs} calls each, after 2 warm-up calls);"
          f" targets: p95 {TARGET_MS:.0f} ms, {STATEMENT_TARGET} statements, {HTML_TARGET_KB} KB")
    pages = bench_pages(url, args.runs)
    print(f"\nQueries on a plain Session ({args.runs} calls each)")
    timings = bench_queries(engine, args.runs)
    print(f"\nPages: {summary(pages)}")
    return report([*pages, *timings])


if __name__ == "__main__":
    sys.exit(main())
