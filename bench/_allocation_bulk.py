"""The bulk proposal's figures for bench/allocation.py, on its loaded database:

- the coordinator's POST of the bulk proposal through the Flask app (median of 3, target 2 s), with
  its SQL statements (the same in every run, however many cases wait);
- the review page of the proposal it made (first and last page, and the cases it could not staff)
  and the waiting list (first page, a filtered page, the last page): median and p95 of 10 calls
  against 100 ms, 30 statements and 300 KB;
- the proposal's total score against the optimum of an independent solver (SciPy's HiGHS LP on the
  same edges, target: equal to 1e-6).

The proposals the POSTs make are deleted afterwards (with their audit entries), so the bench
database is left as it was loaded.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
from _allocation_data import COORDINATOR_EMAIL, NOW, PASSWORD  # NOW: the bench data's clock
from _pages import bench_app, signed_in, time_page
from _timing import counting_statements
from scipy.optimize import linprog
from scipy.sparse import coo_array
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from portal.allocation import bulk, solver
from portal.allocation.models import AllocationProposal
from portal.core import clock
from portal.core.audit import AuditEntry
from portal.core.clock import to_london
from portal.extensions import db

PROPOSE_TARGET_S = 2.0
SCORE_TOLERANCE = 1e-6
RUNS = 3
PAGE_RUNS = 10


@dataclass(frozen=True)
class Figure:
    """One figure against its target (bench/allocation.py reads `.name` and `.passed`)."""

    name: str
    value: float
    target: float
    unit: str
    passed: bool

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.name}: {self.value:.6g}{unit} (target {self.target:g}{unit}) {verdict}"


def lp_optimum(places, capacities, edges) -> float:
    """The best total score by linear programming (x in [0, 1] per edge; per case at most its places
    and at most one new facilitator, per volunteer at most their capacity). Both families of rows are
    laminar, so the matrix is totally unimodular and the LP optimum is the assignment optimum."""
    if not edges:
        return 0.0
    n_cases = len(places)
    case = np.fromiter((edge.case for edge in edges), dtype=np.int64, count=len(edges))
    volunteer = np.fromiter((edge.volunteer for edge in edges), dtype=np.int64, count=len(edges))
    new = np.fromiter((edge.is_new for edge in edges), dtype=bool, count=len(edges))
    columns = np.arange(len(edges))
    rows = np.concatenate([case, n_cases + volunteer, n_cases + len(capacities) + case[new]])
    cols = np.concatenate([columns, columns, columns[new]])
    matrix = coo_array((np.ones(len(rows)), (rows, cols)), shape=(2 * n_cases + len(capacities), len(edges)))
    bounds = np.maximum(np.concatenate([places, capacities, np.ones(n_cases)]), 0)
    result = linprog(
        -np.fromiter((edge.score for edge in edges), dtype=np.float64, count=len(edges)),
        A_ub=matrix.tocsr(), b_ub=bounds, bounds=(0, 1), method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"HiGHS could not solve the LP: {result.message}")
    return float(-result.fun)


def post_figures(url: str) -> tuple[list, Engine]:
    """The POST of the bulk proposal through the app, then the pages; returns the figures and the app's
    engine. The proposals made are left for `bulk_figures` to delete."""
    app = bench_app(url, WTF_CSRF_ENABLED=False)
    client = signed_in(app, COORDINATOR_EMAIL, PASSWORD)
    with app.app_context():
        engine = db.engine
    seconds, cpu, statements, proposal_id = [], [], [], 0
    for _ in range(RUNS):
        with counting_statements(engine) as counted:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.post("/allocation/proposals", data={})
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        if response.status_code != 302 or "/allocation/proposals/" not in response.headers["Location"]:
            raise SystemExit(f"POST /allocation/proposals answered {response.status_code}")
        statements.append(counted.count)
        proposal_id = int(response.headers["Location"].rsplit("/", 1)[1])
    median = statistics.median(seconds)
    # The CPU time is this process's (the app's Python and numpy), without PostgreSQL's: on a busy
    # machine it shows what the request costs when the wall-clock time mostly shows the queue for a core.
    print("  POST /allocation/proposals: runs " + ", ".join(f"{value:.2f} s" for value in seconds)
          + "; app CPU " + ", ".join(f"{value:.2f} s" for value in cpu)
          + "; SQL statements " + ", ".join(str(count) for count in statements), flush=True)
    figures: list = [
        Figure(f"POST /allocation/proposals (median of {RUNS})", median, PROPOSE_TARGET_S, "s",
               median <= PROPOSE_TARGET_S),
        Figure("POST /allocation/proposals: SQL statements (target: the first run's, in every run)",
               statements[-1], statements[0], "", len(set(statements)) == 1),
    ]
    for figure in figures:
        print(figure.line(), flush=True)
    review = f"/allocation/proposals/{proposal_id}"
    with Session(engine) as session:
        items = len(session.get(AllocationProposal, proposal_id).items)
    pages = [
        (f"GET {review} (review, first page of {items:,} cases)", review),
        (f"GET {review}?page={max(1, -(-items // 50))} (last page)", f"{review}?page={max(1, -(-items // 50))}"),
        (f"GET {review}?show=unstaffed (cases it could not staff)", f"{review}?show=unstaffed"),
        ("GET /allocation/ (waiting list, first page)", "/allocation/"),
        ("GET /allocation/?needs=no&waited=10&district=Dover", "/allocation/?needs=no&waited=10&district=Dover"),
        ("GET /allocation/?page=1000000 (last page)", "/allocation/?page=1000000"),
    ]
    # One warm-up call, then PAGE_RUNS timed.
    figures.extend(time_page(client, engine, name, path, runs=PAGE_RUNS, warmup=1) for name, path in pages)
    return figures, engine


def _forget_proposals(engine, before: int) -> None:
    """Delete the proposals the POSTs made (their items go with them) and their audit entries."""
    with Session(engine) as session:
        made = list(session.scalars(select(AllocationProposal.id).where(AllocationProposal.id > before)))
        if made:
            session.execute(delete(AuditEntry).where(AuditEntry.subject_type == "allocation_proposals",
                                                     AuditEntry.subject_id.in_(made)))
            session.execute(delete(AllocationProposal).where(AllocationProposal.id.in_(made)))
        session.commit()


def bulk_figures(session: Session, url: str) -> list:
    """Time the POST of the bulk proposal and the pages, then check the proposal's total against
    the LP optimum."""
    before = session.scalar(select(func.coalesce(func.max(AllocationProposal.id), 0)))
    session.commit()
    real_now = clock.now
    clock.now = lambda: NOW  # the bench data's day, as the tests pin it
    try:
        figures, engine = post_figures(url)
    finally:
        clock.now = real_now
        _forget_proposals(session.get_bind(), before)

    started = time.perf_counter()
    inputs = bulk.build_input(session, today=to_london(NOW).date())
    built = time.perf_counter() - started
    started = time.perf_counter()
    solution = solver.solve_arrays(inputs.places, inputs.capacities, inputs.edge_case, inputs.edge_volunteer,
                                   inputs.edge_score, inputs.edge_new)
    solved = time.perf_counter() - started
    started = time.perf_counter()
    optimum = lp_optimum(inputs.places, inputs.capacities, inputs.edges)
    lp_seconds = time.perf_counter() - started
    session.rollback()
    print(f"  {len(inputs.views):,} waiting cases, {len(inputs.pool):,} volunteers in the pool,"
          f" {len(inputs.edge_case):,} edges; building them {built:.2f} s, min-cost flow {solved * 1000:.0f} ms,"
          f" HiGHS LP {lp_seconds * 1000:.0f} ms", flush=True)
    print(f"  min-cost flow total {solution.total_score:.6f}, LP optimum {optimum:.6f}", flush=True)
    gap = abs(solution.total_score - optimum)
    score = Figure("bulk proposal total score vs SciPy HiGHS LP optimum (absolute gap)", gap, SCORE_TOLERANCE, "",
                   gap <= SCORE_TOLERANCE)
    print(score.line(), flush=True)
    return [*figures, score]
