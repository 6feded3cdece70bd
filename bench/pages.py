"""Bench every GET page of every role at national size on PostgreSQL: median and p95 server time,
SQL statements and HTML size per page, against p95 <= 100 ms, <= 30 statements and <= 300 KB.

    .venv/bin/python bench/pages.py                      # national size (load once, then reused)
    .venv/bin/python bench/pages.py --scale 0.1          # a tenth of it
    .venv/bin/python bench/pages.py --reset              # drop the bench tables and load again
    .venv/bin/python bench/pages.py --only supervision   # pages whose role, endpoint or URL contains this
    .venv/bin/python bench/pages.py --runs 50            # timed calls per page (after 2 warm-up calls)

The database is PORTAL_BENCH_DATABASE_URL (default postgresql+psycopg://root@127.0.0.1:5432/bench_pages);
it is created if missing and never used for anything else. What is loaded is described in
bench/_pages_data.py; it is loaded once (a setting records the scale and the schema it was loaded
with) and reused by later runs, which create any index added to the models since; a different
--scale or a changed column asks for --reset.

The routes come from the app's url_map: every GET rule except static files, /dev, .ics/.csv/.xlsx
exports and file downloads (listed, not timed). `<int:...>` parts are filled with real ids from the
loaded data (`route_values`); rules it cannot fill are listed. Each role (admin, coordinator, trainer,
supervisor, volunteer facilitator, applicant) signs in through a Flask test client (server time, no
network) and every page is called once: pages answering 200 with HTML are timed, the rest are
counted as not for that role. A page slower than 1 s on its warm-up calls is timed 3 times, not
--runs times, so a national-size run ends; the line says so. The clock is pinned to the day the data
was made for. Exit status 1 if any page misses a target.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
import sys
from dataclasses import dataclass

import _pages_data as data
from _database import bench_parser, bench_url, load_once, prepare_schema
from _pages import HTML_TARGET_KB, STATEMENT_TARGET, signed_in, statements_and_kb, verdict
from _timing import TARGET_MS, percentile, samples_ms
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal.config import TestConfig
from portal.core import clock
from portal.core.db import Base
from portal.core.passwords import hash_password
from portal.extensions import db
from portal.factory import create_app

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/bench_pages"
LOADED_SETTING = "bench.pages_loaded"
SLOW_MS = 1000.0
SLOW_RUNS = 3
EXPORT_SUFFIXES = (".ics", ".csv", ".xlsx")
# Routes that send a stored file rather than a page.
FILE_ENDPOINTS = {"expenses.receipt", "training.coursework_file", "training.coursework_receipt",
                  "training.certificate", "static"}
ROLES = {
    "admin": "admin@example.org",
    "coordinator": "coordinator@example.org",
    "trainer": "trainer@example.org",
    "supervisor": None,  # a named supervisor from the data (see `supervisor_email`)
    "facilitator": "volunteer@example.org",
    "applicant": None,  # an applicant part-way through their form (see `applicant_email`)
}


def schema_fingerprint() -> str:
    """A digest of every table's columns and their types, so a reused database is known to hold
    what the models map (indexes are not in it: `add_missing_indexes` creates new ones)."""
    dialect = postgresql.dialect()
    columns = [f"{table.name}.{column.name} {column.type.compile(dialect=dialect)} {column.nullable}"
               for table in Base.metadata.sorted_tables for column in table.columns]
    return hashlib.sha256("\n".join(columns).encode()).hexdigest()[:16]


def add_missing_indexes(engine: Engine) -> None:
    """Create the models' indexes that a reused database lacks (added to the models since it was loaded)."""
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            try:
                index.create(engine, checkfirst=True)
            except DBAPIError as error:
                print(f"Could not create index {index.name}: {error.orig}", flush=True)


def prepare(engine: Engine, url: str, scale: float) -> None:
    """Load the data unless this scale and schema are loaded already (see the module docstring)."""
    wanted = {"scale": scale, "schema": schema_fingerprint()}

    def mismatch(loaded: dict) -> str:
        if loaded["scale"] != scale:
            return f"The bench database holds scale {loaded['scale']}; use --scale for that or --reset"
        return "The models changed since the bench data was loaded; use --reset to load again"

    sizes = ", ".join(f"{key} {value:,}" for key, value in data.sizes(scale).items())
    if not load_once(engine, LOADED_SETTING, wanted, existing=text("SELECT count(*) FROM users"), what="data",
                     mismatch=mismatch, loading=f"Loading {sizes}", reusing=f"Reusing the data loaded at scale {scale}",
                     load=lambda: data.load(engine, url, scale)):
        add_missing_indexes(engine)


def _one(session: Session, sql: str, **params) -> int | None:
    return session.scalar(text(sql), params)


def supervisor_email(session: Session) -> str | None:
    """A named supervisor who is not a coordinator: a demo one if any, else a bench one given the
    demo password (the bench loaders make accounts without passwords)."""
    row = session.execute(text(
        "SELECT u.id, u.email, u.password_hash FROM supervision_supervisors s JOIN users u ON u.id = s.user_id"
        " WHERE s.ended_at IS NULL AND NOT EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id"
        " AND r.role IN ('coordinator', 'admin')) ORDER BY u.password_hash IS NULL, u.id LIMIT 1")).first()
    if row is None:
        return None
    if row.password_hash is None:
        session.execute(text("UPDATE users SET password_hash = :hash WHERE id = :id"),
                        {"hash": hash_password(data.PASSWORD), "id": row.id})
        session.commit()
    return row.email


def applicant_email(session: Session) -> str | None:
    """The demo applicant with a draft application (the form's pages need one), else the main demo applicant."""
    return session.scalar(text(
        "SELECT u.email FROM volunteer_applications a JOIN users u ON u.id = a.user_id WHERE a.status = 'draft'"
        " AND u.password_hash IS NOT NULL ORDER BY a.id LIMIT 1")) or "applicant@example.org"


def route_values(session: Session, emails: dict[str, str | None]) -> dict[tuple, object]:
    """Real values for the rules' variable parts, keyed (role, endpoint, name) with None for "any":
    a case the facilitator holds (with its allocation, party and consent), a waiting case with needs,
    a full cohort, a submitted claim, the bulk proposal, and so on; each role's own records where a
    page shows only one's own (the facilitator's claim, booking, enrolment)."""
    user = {role: _one(session, "SELECT id FROM users WHERE email = :e", e=email)
            for role, email in emails.items() if email}
    me = user.get("facilitator")
    boss = user.get("supervisor")
    case = _one(session, "SELECT a.case_id FROM case_allocations a WHERE a.user_id = :u AND a.ends_on IS NULL"
                " ORDER BY EXISTS (SELECT 1 FROM consents c WHERE c.case_id = a.case_id) DESC, a.case_id DESC"
                " LIMIT 1", u=me)
    cohort = _one(session, "SELECT cohort_id FROM training_enrolments WHERE status = 'enrolled' GROUP BY cohort_id"
                  " HAVING count(*) >= :n ORDER BY cohort_id DESC LIMIT 1", n=data.COHORT_SIZE)
    assignment = _one(session, "SELECT id FROM training_assignments ORDER BY id LIMIT 1")
    work_cohort = _one(session, "SELECT cohort_id FROM training_assignments WHERE id = :a", a=assignment)
    application = _one(session, "SELECT application_id FROM volunteer_references GROUP BY application_id"
                       " ORDER BY count(*) DESC, application_id LIMIT 1")
    check = session.execute(text("SELECT id, volunteer_id FROM vetting_checks ORDER BY id LIMIT 1")).first()
    claim = _one(session, "SELECT id FROM expense_claims WHERE status = 'submitted' ORDER BY id DESC LIMIT 1")
    my_claim = _one(session, "SELECT id FROM expense_claims WHERE claimant_id = :u"
                    " ORDER BY status = 'draft' DESC, id DESC LIMIT 1", u=me)
    recorded = "SELECT b.id FROM supervision_bookings b JOIN supervision_records r ON r.booking_id = b.id"
    upcoming = ("SELECT s.id FROM supervision_slots s WHERE s.starts_at > :now AND s.status = 'open'"
                " AND NOT EXISTS (SELECT 1 FROM supervision_bookings b WHERE b.slot_id = s.id)")
    supervised = _one(session, "SELECT user_id FROM supervision_records GROUP BY user_id"
                      " ORDER BY count(*) DESC, user_id LIMIT 1")
    values: dict[tuple, object] = {
        (None, None, "case_id"): case,
        (None, None, "allocation_id"): _one(
            session, "SELECT id FROM case_allocations WHERE case_id = :c AND user_id = :u", c=case, u=me),
        (None, None, "party_id"): _one(session, "SELECT min(id) FROM parties WHERE case_id = :c", c=case),
        (None, None, "consent_id"): _one(session, "SELECT min(id) FROM consents WHERE case_id = :c", c=case),
        (None, "allocation.case", "case_id"): (waiting := _one(
            session, "SELECT min(c.id) FROM cases c JOIN allocation_case_needs n ON n.case_id = c.id"
            " WHERE c.status = 'awaiting_allocation'")),
        (None, "allocation.needs", "case_id"): waiting,
        (None, None, "offer_id"): _one(session, "SELECT min(id) FROM allocation_offers WHERE status = 'offered'"),
        ("facilitator", None, "offer_id"): _one(
            session, "SELECT max(id) FROM allocation_offers WHERE user_id = :u", u=me),
        (None, None, "proposal_id"): _one(session, "SELECT max(id) FROM allocation_proposals"),
        (None, None, "batch_id"): _one(
            session, "SELECT batch_id FROM expense_claims WHERE batch_id IS NOT NULL GROUP BY batch_id"
            " ORDER BY count(*) DESC, batch_id LIMIT 1"),
        (None, None, "claim_id"): claim,
        (None, None, "line_id"): _one(session, "SELECT min(id) FROM expense_lines WHERE claim_id = :c", c=claim),
        ("facilitator", None, "claim_id"): my_claim,
        ("facilitator", None, "line_id"): _one(
            session, "SELECT min(id) FROM expense_lines WHERE claim_id = :c", c=my_claim),
        (None, None, "kind"): "mileage",
        (None, None, "booking_id"): _one(session, recorded + " ORDER BY b.id DESC LIMIT 1"),
        (None, None, "record_id"): _one(session, "SELECT max(id) FROM supervision_records"),
        ("supervisor", None, "booking_id"): _one(
            session, recorded + " WHERE r.supervisor_id = :s ORDER BY b.id DESC LIMIT 1", s=boss),
        ("supervisor", None, "record_id"): _one(
            session, "SELECT max(id) FROM supervision_records WHERE supervisor_id = :s", s=boss),
        ("facilitator", None, "booking_id"): _one(
            session, "SELECT max(id) FROM supervision_bookings WHERE user_id = :u", u=me),
        ("facilitator", None, "record_id"): _one(
            session, "SELECT max(id) FROM supervision_records WHERE user_id = :u", u=me),
        (None, None, "slot_id"): _one(session, upcoming + " ORDER BY s.starts_at, s.id LIMIT 1", now=data.NOW),
        ("supervisor", None, "slot_id"): _one(
            session, upcoming + " AND s.supervisor_id = :s ORDER BY s.starts_at, s.id LIMIT 1", now=data.NOW, s=boss),
        (None, None, "user_id"): supervised,
        ("supervisor", "supervision.volunteer", "user_id"): _one(
            session, "SELECT max(user_id) FROM supervision_records WHERE supervisor_id = :s", s=boss),
        (None, None, "cohort_id"): cohort,
        (None, None, "day_number"): 1,
        (None, None, "course_id"): _one(session, "SELECT course_id FROM training_cohorts WHERE id = :c", c=cohort),
        (None, None, "enrolment_id"): _one(
            session, "SELECT min(id) FROM training_enrolments WHERE cohort_id = :c", c=cohort),
        ("facilitator", None, "enrolment_id"): _one(
            session, "SELECT max(id) FROM training_enrolments WHERE user_id = :u", u=me),
        (None, None, "assignment_id"): assignment,
        (None, "training.coursework_cohort", "cohort_id"): work_cohort,
        (None, "training.coursework_assignment_new", "cohort_id"): work_cohort,
        (None, "training.coursework_extension", "enrolment_id"): _one(
            session, "SELECT min(id) FROM training_enrolments WHERE cohort_id = :c", c=work_cohort),
        (None, "training.practical_record", "enrolment_id"): _one(
            session, "SELECT min(enrolment_id) FROM training_practical_assessments"),
        (None, None, "attempt_id"): _one(
            session, "SELECT min(id) FROM training_coursework_attempts"),
        (None, None, "practical_id"): _one(session, "SELECT min(id) FROM training_practical_assessments"),
        (None, None, "application_id"): application,
        (None, None, "position"): 1,
        (None, None, "reference_id"): _one(
            session, "SELECT min(id) FROM volunteer_references WHERE application_id = :a", a=application),
        (None, None, "section"): "personal_details",
        (None, "volunteers.slot_edit", "slot_id"): (interview_slot := _one(
            session, "SELECT max(id) FROM interview_slots WHERE status = 'open'")),
        (None, "volunteers.slot_cancel", "slot_id"): interview_slot,
        (None, "volunteers.interview_cancel", "booking_id"): (interview := _one(
            session, "SELECT max(b.id) FROM interview_bookings b JOIN interview_slots s ON s.id = b.slot_id"
            " WHERE b.status = 'booked' AND s.starts_at > :now", now=data.NOW)),
        (None, "volunteers.interview_change", "booking_id"): interview,
        (None, None, "check_id"): check.id if check else None,
        (None, None, "volunteer_id"): check.volunteer_id if check else None,
        (None, None, "kind_value"): "nppv",
    }
    return values


def lookup(values: dict[tuple, object], role: str, endpoint: str, name: str) -> object | None:
    for key in ((role, endpoint, name), (None, endpoint, name), (role, None, name), (None, None, name)):
        if values.get(key) is not None:
            return values[key]
    return None


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    arguments: tuple[str, ...]


def get_routes(app) -> tuple[list[Route], list[str]]:
    """The GET rules to time, and those left out (static, /dev, exports, file downloads) as text."""
    pages, left_out = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        if "GET" not in rule.methods:
            continue
        if (rule.endpoint in FILE_ENDPOINTS or rule.rule.startswith("/dev") or rule.endpoint.startswith("dev.")
                or rule.rule.endswith(EXPORT_SUFFIXES)):
            left_out.append(f"{rule.rule} ({rule.endpoint})")
            continue
        pages.append(Route(rule.endpoint, rule.rule, tuple(sorted(rule.arguments))))
    return pages, left_out


def build_url(app, route: Route, role: str, values: dict[tuple, object]) -> tuple[str | None, list[str]]:
    """The route's URL for `role` with real values, or None and the parts that could not be filled."""
    filled, missing = {}, []
    for name in route.arguments:
        value = lookup(values, role, route.endpoint, name)
        if value is None:
            missing.append(name)
        else:
            filled[name] = value
    if missing:
        return None, missing
    adapter = app.url_map.bind("localhost")
    return adapter.build(route.endpoint, filled, method="GET", force_external=False), []


@dataclass(frozen=True)
class PageResult:
    role: str
    url: str
    median_ms: float
    p95_ms: float
    runs: int
    slow: bool
    statements: int
    html_kb: float

    @property
    def failures(self) -> list[str]:
        return [what for what, passed in (
            (f"p95 {self.p95_ms:.0f} ms", self.p95_ms <= TARGET_MS),
            (f"{self.statements} statements", self.statements <= STATEMENT_TARGET),
            (f"{self.html_kb:.0f} KB", self.html_kb <= HTML_TARGET_KB),
        ) if not passed]

    def line(self) -> str:
        slow = f" (slow: {self.runs} runs)" if self.slow else ""
        return (f"{self.role:<11} {self.url:<58} {self.median_ms:8.1f} {self.p95_ms:8.1f}"
                f" {verdict(self.p95_ms <= TARGET_MS)} {self.statements:6d}"
                f" {verdict(self.statements <= STATEMENT_TARGET)}"
                f" {self.html_kb:7.1f} {verdict(self.html_kb <= HTML_TARGET_KB)}{slow}")


def time_page(client, engine: Engine, role: str, url: str, runs: int) -> PageResult:
    """Time one page that answered 200 (two warm-up calls, then `runs`, or SLOW_RUNS when slow),
    then count its statements and measure its HTML on one more call."""
    def get():
        return client.get(url)

    def ok(response) -> None:
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} as {role}")

    warmups = samples_ms(get, runs=2, warmup=0, check=ok)
    slow = max(warmups) > SLOW_MS
    if slow:
        runs = min(runs, SLOW_RUNS)
    samples = samples_ms(get, runs=runs, warmup=0, check=ok)
    return PageResult(role, url, statistics.median(samples), percentile(samples, 0.95), runs, slow,
                      *statements_and_kb(client, engine, url))


class LastError(logging.Handler):
    """Keeps the last exception the app logged (a 500 page's cause), instead of printing its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.message: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        self.message = f"{type(error).__name__}: {error}" if error else record.getMessage()


@dataclass
class Survey:
    """What one run found besides the timed pages."""

    unfilled: dict[str, list[str]]
    answers: dict[str, dict[str, str]]   # rule -> role -> status of the pages that were not timed
    downloads: list[str]
    errors: list[str]


def bench_role(app, engine: Engine, role: str, email: str, routes: list[Route], values: dict[tuple, object],
               only: str | None, runs: int, survey: Survey, last_error: LastError) -> list[PageResult]:
    client = signed_in(app, email, data.PASSWORD)
    results = []
    for route in routes:
        url, missing = build_url(app, route, role, values)
        if only and only not in f"{role} {route.endpoint} {url or route.rule}":
            continue
        if url is None:
            survey.unfilled.setdefault(route.rule, missing)
            continue
        try:
            last_error.message = None
            response = client.get(url)
            if response.status_code >= 500:
                raise RuntimeError(f"answered {response.status_code}: {last_error.message}")
            if response.status_code != 200:
                survey.answers.setdefault(route.rule, {})[role] = str(response.status_code)
                continue
            if response.mimetype != "text/html":
                survey.downloads.append(f"{role} {url} ({response.mimetype})")
                continue
            result = time_page(client, engine, role, url, runs)
        except Exception as error:  # noqa: BLE001 (a broken page is reported, and the bench goes on)
            survey.errors.append(f"{role} {url}: {type(error).__name__}: {error}")
            survey.answers.setdefault(route.rule, {})[role] = "error"
            print(f"{role:<11} {url:<58} ERROR {type(error).__name__}: {error}", flush=True)
            continue
        survey.answers.setdefault(route.rule, {})[role] = "200"
        print(result.line(), flush=True)
        results.append(result)
    return results


def report(results: list[PageResult], survey: Survey, left_out: list[str], *, subset: bool) -> int:
    """Print the summary; returns the exit status (1 if any page missed a target or failed)."""
    print(f"\n{len(results)} pages timed: {sum(r.p95_ms <= TARGET_MS for r in results)} within {TARGET_MS:.0f} ms"
          f" p95, {sum(r.statements <= STATEMENT_TARGET for r in results)} within {STATEMENT_TARGET} statements,"
          f" {sum(r.html_kb <= HTML_TARGET_KB for r in results)} within {HTML_TARGET_KB} KB")
    failed = [result for result in results if result.failures]
    if failed:
        print(f"\nTargets not met ({len(failed)} pages):")
        for result in sorted(failed, key=lambda result: -result.p95_ms):
            print(f"  {result.role:<11} {result.url}: {', '.join(result.failures)}"
                  f" (median {result.median_ms:.0f} ms)")
    if survey.errors:
        print(f"\nPages that failed ({len(survey.errors)}):")
        for error in survey.errors:
            print(f"  {error}")
    unreached = {rule: answers for rule, answers in survey.answers.items() if "200" not in answers.values()
                 and "error" not in answers.values()}
    if unreached and not subset:  # with --only, most roles never tried most rules
        print(f"\nRoutes no role could open with the ids chosen ({len(unreached)}; status per role):")
        for rule, answers in sorted(unreached.items()):
            print(f"  {rule}: " + ", ".join(f"{role} {status}" for role, status in answers.items()))
    if survey.unfilled:
        print(f"\nRoutes not filled (no value for their parts; {len(survey.unfilled)}):")
        for rule, missing in sorted(survey.unfilled.items()):
            print(f"  {rule}: {', '.join(missing)}")
    if survey.downloads:
        print(f"\nNot HTML (not timed): {'; '.join(survey.downloads)}")
    print(f"\nLeft out (static, /dev, exports, file downloads; {len(left_out)}): {'; '.join(left_out)}")
    return 1 if failed or survey.errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "fraction of national size (1.0 = 20,000 volunteers, 105,000 cases,"
                                   " 1,000,000 contact attempts and audit entries)",
                          runs=20, runs_help="timed calls per page, after 2 warm-up calls")
    parser.add_argument("--only", help="time only the pages whose role, endpoint or URL contains this")
    args = parser.parse_args(argv)
    url = bench_url(DEFAULT_URL)
    engine = prepare_schema(url, args.reset)
    prepare(engine, url, args.scale)
    engine.dispose()

    # Every page reads the clock: pin it to the day the data was made for.
    clock.now = lambda: data.NOW
    unlimited = "100000 per minute"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, EXPENSES_RECEIPT_DIR=data.RECEIPTS_DIR,
                     LOGIN_LIMIT_PER_ACCOUNT=unlimited, LOGIN_LIMIT_PER_ADDRESS=unlimited,
                     LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS=unlimited)
    last_error = LastError()
    app.logger.handlers = [last_error]
    app.logger.propagate = False
    with app.app_context():
        app_engine = db.engine
        emails = dict(ROLES, supervisor=supervisor_email(db.session), applicant=applicant_email(db.session))
        values = route_values(db.session, emails)
        db.session.remove()
    routes, left_out = get_routes(app)
    survey = Survey({}, {}, [], [])
    print(f"\n{len(routes)} GET routes; {args.runs} timed calls per page after 2 warm-up calls;"
          f" targets: p95 {TARGET_MS:.0f} ms, {STATEMENT_TARGET} statements, {HTML_TARGET_KB} KB")
    print(f"{'role':<11} {'page':<58} {'median':>8} {'p95':>8}      {'SQL':>6}      {'KB':>7}")
    results = []
    for role, email in emails.items():
        if email is None:
            print(f"{role}: no such account in the data, skipped", flush=True)
            continue
        results += bench_role(app, app_engine, role, email, routes, values, args.only, args.runs, survey,
                              last_error)
    return report(results, survey, left_out, subset=bool(args.only))


if __name__ == "__main__":
    sys.exit(main())
