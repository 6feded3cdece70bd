"""The bulk proposal's figures for bench/allocation.py, on its loaded database: the time to propose
for every waiting case (median of 3 runs, target 2 s) and the proposal's total score against the
optimum of an independent solver (SciPy's HiGHS LP on the same edges, target: equal to 1e-6).

Each run is rolled back, so the bench database is left as it was loaded.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
from _allocation_data import NOW  # the bench data's clock, so that vetting and pauses line up
from scipy.optimize import linprog
from scipy.sparse import coo_array
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.allocation import bulk, solver
from portal.core.accounts import Role, User, UserRole
from portal.core.clock import to_london

PROPOSE_TARGET_S = 2.0
SCORE_TOLERANCE = 1e-6
RUNS = 3


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


def _coordinator(session: Session) -> User:
    return session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == Role.COORDINATOR)
        .order_by(User.id).limit(1)
    ).one()


def bulk_figures(session: Session) -> list[Figure]:
    """Time `bulk.propose` for the waiting cases and check its total against the LP optimum."""
    actor_id = _coordinator(session).id
    session.commit()
    seconds, proposal_total, staffed, considered = [], 0.0, 0, 0
    for _ in range(RUNS):
        session.expunge_all()
        started = time.perf_counter()
        proposal = bulk.propose(session, actor=session.get(User, actor_id), now=NOW)
        seconds.append(time.perf_counter() - started)
        proposal_total, staffed, considered = proposal.total_score, len(proposal.items), proposal.cases_considered
        session.rollback()
    median = statistics.median(seconds)
    print(f"  {considered:,} waiting cases, {staffed:,} staffed; runs: "
          + ", ".join(f"{value:.2f} s" for value in seconds), flush=True)

    started = time.perf_counter()
    inputs = bulk.build_input(session, today=to_london(NOW).date())
    built = time.perf_counter() - started
    started = time.perf_counter()
    solution = solver.solve(inputs.places, inputs.capacities, inputs.edges)
    solved = time.perf_counter() - started
    started = time.perf_counter()
    optimum = lp_optimum(inputs.places, inputs.capacities, inputs.edges)
    lp_seconds = time.perf_counter() - started
    session.rollback()
    print(f"  {len(inputs.pool):,} volunteers in the pool, {len(inputs.edges):,} edges; building them"
          f" {built:.2f} s, min-cost flow {solved * 1000:.0f} ms, HiGHS LP {lp_seconds * 1000:.0f} ms", flush=True)
    print(f"  proposal total {proposal_total:.2f}, min-cost flow {solution.total_score:.6f}, LP optimum"
          f" {optimum:.6f}", flush=True)

    gap = abs(solution.total_score - optimum)
    figures = [
        Figure(f"bulk proposal ({considered:,} waiting cases; median of {RUNS})", median, PROPOSE_TARGET_S, "s",
               median <= PROPOSE_TARGET_S),
        Figure("bulk proposal total score vs SciPy HiGHS LP optimum (absolute gap)", gap, SCORE_TOLERANCE, "",
               gap <= SCORE_TOLERANCE and abs(proposal_total - round(optimum, 2)) <= 0.005 + SCORE_TOLERANCE),
    ]
    for figure in figures:
        print(figure.line(), flush=True)
    return figures
