"""Bench the admin pages at national size: 1,000,000 audit entries and 20,000 people on PostgreSQL, then
the audit log (newest page, a page deep in the oldest entries, filtered views) and the people list:
server time (median and p95 of 30 calls) against 100 ms, SQL statements against 30, HTML against 300 KB.

    .venv/bin/python bench/audit.py                # full volume
    .venv/bin/python bench/audit.py --scale 0.1    # 100,000 entries and 2,000 people
    .venv/bin/python bench/audit.py --reset        # drop the bench tables and load again

The database is PORTAL_BENCH_DATABASE_URL (default
postgresql+psycopg://root@127.0.0.1:5432/bench_audit); it is created if missing and never used for
anything else. Rows are loaded with COPY (about a minute for the full volume) and only once: a second
run with the same --scale reuses them. Pages are called through a Flask test client (server time, no
network), signed in as an admin.

What is loaded, from a fixed seed: people with volunteer roles (every tenth a coordinator too, every
fiftieth deactivated); audit entries spread evenly over three years to 7 December 2026, ids in time
order as the portal writes them; a third are case views, a fifth sign-ins, a tenth contact attempts,
the rest spread over every other action the portal defines; the actor is a random person (none for
a fifth of the failed sign-ins).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from collections.abc import Iterator

from _database import bench_parser, bench_url, load_once, prepare_schema, reset_sequences, timed_copy, vacuum_analyze
from _pages import HTML_TARGET_KB, PASSWORD, STATEMENT_TARGET, PageFigures, bench_app, signed_in, time_page
from _timing import TARGET_MS, report
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal.core import account_services
from portal.core.accounts import Role, find_user_by_email
from portal.core.audit import AuditEntry
from portal.core.audit_actions import ACTIONS
from portal.core.passwords import hash_password
from portal.extensions import db

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/bench_audit"
FULL_ENTRIES = 1_000_000
FULL_PEOPLE = 20_000
LOADED_SETTING = "bench.audit_loaded"
ADMIN = "bench-admin@example.org"
NOW = dt.datetime(2026, 12, 7, 18, 0, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=3 * 365)
WEIGHTED = {"case.viewed": 33, "auth.signed_in": 20, "case.contact_attempt_recorded": 10}
FIRST_NAMES = ["Aisha", "Ben", "Carys", "Dev", "Eleanor", "Femi", "Gareth", "Hannah", "Imran", "Jess", "Kofi",
               "Lowri", "Mohammed", "Niamh", "Olu", "Priya", "Rhys", "Sian", "Tom", "Yasmin"]
SURNAMES = ["Smith", "Jones", "Williams", "Taylor", "Davies", "Evans", "Thomas", "Roberts", "Khan", "Patel",
            "Hughes", "Lewis", "Morgan", "Okafor", "Walker", "Wright", "Clarke", "Hall", "Shah", "Begum"]


def _admin(session: Session) -> int:
    user = find_user_by_email(session, ADMIN) or account_services.create_user(
        session, email=ADMIN, name="Bench Admin", roles=[Role.ADMIN], password_hash=hash_password(PASSWORD),
        now=NOW,
    )
    session.commit()
    return user.id


def load(engine: Engine, entries: int, people: int, first_user_id: int, first_entry_id: int) -> None:
    """COPY `people` people (ids from `first_user_id`) with their roles, then `entries` audit entries
    (ids from `first_entry_id`)."""
    rng = random.Random(2026)
    user_ids = range(first_user_id, first_user_id + people)

    def users() -> Iterator[tuple]:
        for number, user_id in enumerate(user_ids):
            name = f"{FIRST_NAMES[number % 20]} {SURNAMES[(number // 20) % 20]} {number:05d}"
            yield (user_id, f"bench.person{number:05d}@example.org", name, "not-a-password-hash",
                   number % 50 == 0, f"bench-token-{user_id}", NOW - SPAN)

    def roles() -> Iterator[tuple]:
        for number, user_id in enumerate(user_ids):
            yield user_id, Role.VOLUNTEER.value, NOW - SPAN
            if number % 10 == 0:
                yield user_id, Role.COORDINATOR.value, NOW - SPAN

    others = [action for action in ACTIONS if action not in WEIGHTED]
    share = (100 - sum(WEIGHTED.values())) / len(others)
    actions = list(WEIGHTED) + others
    weights = list(WEIGHTED.values()) + [share] * len(others)
    step = SPAN / entries
    start = NOW - SPAN

    def audit_rows() -> Iterator[tuple]:
        chosen = rng.choices(actions, weights=weights, k=entries)
        for number, action in enumerate(chosen):
            actor = rng.choice(user_ids)
            area = action.split(".")[0]
            if area in ("case", "cases"):
                subject, details = ("cases", rng.randint(1, 105_000)), {"restricted": rng.random() < 0.1}
            elif area in ("auth", "user"):
                subject, details = ("users", actor), {}
                if action == "auth.sign_in_failed" and rng.random() < 0.2:
                    actor = None
            else:
                subject, details = (area, rng.randint(1, 20_000)), {"note": "bench"}
            yield (first_entry_id + number, start + step * number, actor, action, *subject, json.dumps(details))

    timed_copy(engine, "users", ["id", "email", "name", "password_hash", "is_deactivated", "session_token",
                                 "created_at"], users())
    timed_copy(engine, "user_roles", ["user_id", "role", "granted_at"], roles())
    timed_copy(engine, "audit_entries", ["id", "at", "actor_id", "action", "subject_type", "subject_id", "details"],
               audit_rows())
    with engine.begin() as connection:
        reset_sequences(connection, ["users", "audit_entries"])
    vacuum_analyze(engine)


def bench_pages(url: str, pages: list[tuple[str, str]], runs: int) -> list[PageFigures]:
    app = bench_app(url)
    client = signed_in(app, ADMIN)
    with app.app_context():
        engine = db.engine
    return [time_page(client, engine, name, path, runs=runs) for name, path in pages]


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "fraction of the full volume (1.0 = 1,000,000 entries, 20,000 people)", runs=30)
    args = parser.parse_args(argv)
    url = bench_url(DEFAULT_URL)
    entries = max(1_000, int(FULL_ENTRIES * args.scale))
    people = max(100, int(FULL_PEOPLE * args.scale))

    engine = prepare_schema(url, args.reset)

    def load_people_and_entries() -> None:
        with Session(engine) as session:
            admin_id = _admin(session)
            last_entry = session.scalar(select(func.max(AuditEntry.id))) or 0
        load(engine, entries, people, admin_id + 1, last_entry + 1)

    # The admin's account writes an audit entry of its own: more than one entry is someone else's.
    load_once(engine, LOADED_SETTING, entries,
              existing=select(func.count()).select_from(select(AuditEntry.id).offset(1).limit(1).subquery()),
              what="audit entries",
              mismatch=lambda loaded: f"The bench database holds {loaded:,} entries; use --scale for that or --reset",
              loading=f"Loading {people:,} people and {entries:,} audit entries",
              reusing=f"Reusing {entries:,} entries already loaded", load=load_people_and_entries)
    with Session(engine) as session:
        oldest = session.scalar(select(func.min(AuditEntry.id)))
        person_id = session.scalar(select(AuditEntry.actor_id).where(AuditEntry.id == oldest + 1_000))
    middle = NOW - SPAN / 2

    deep = oldest + 2_000  # "Older" followed almost to the start of the log
    dates = (f"from_date={middle.day}&from_date={middle.month}&from_date={middle.year}"
             f"&to_date={middle.day}&to_date={middle.month}&to_date={middle.year}")
    pages = [
        ("GET /admin/audit (newest page)", "/admin/audit"),
        ("GET /admin/audit (deep: before an entry near the oldest)", f"/admin/audit?before={deep}"),
        ("GET /admin/audit (newer than an entry near the oldest)", f"/admin/audit?after={deep}"),
        ("GET /admin/audit (action, rare)", "/admin/audit?action=vetting.rules_changed"),
        ("GET /admin/audit (action, deep)", f"/admin/audit?action=case.viewed&before={deep + 50_000}"),
        ("GET /admin/audit (who: one person's e-mail)", "/admin/audit?actor=bench.person00042@"),
        ("GET /admin/audit (object: one case)", "/admin/audit?subject_type=cases&subject_id=4242"),
        ("GET /admin/audit (one day, 18 months ago)", f"/admin/audit?{dates}"),
        ("GET /admin/people (first page)", "/admin/people"),
        ("GET /admin/people (page 300)", "/admin/people?page=300"),
        ("GET /admin/people (search a surname, coordinators)", "/admin/people?search=okafor&role=coordinator"),
        (f"GET /admin/people/{person_id} (person page, recent entries)", f"/admin/people/{person_id}"),
        ("GET /admin", "/admin"),
    ]
    print(f"\nPages through the Flask test client ({args.runs} calls each, after 2 warm-up calls);"
          f" targets: p95 {TARGET_MS:.0f} ms, {STATEMENT_TARGET} statements, {HTML_TARGET_KB} KB")
    results = bench_pages(url, pages, args.runs)
    return report(results, within="within every target")


if __name__ == "__main__":
    sys.exit(main())
