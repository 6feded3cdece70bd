"""The bulk proposal's optimiser: give cases facilitators so that the total score is as high as possible.

Pure (no database): the bulk proposal turns cases, volunteers and eligible pairings into the plain
numbers below, and turns the answer back into proposal items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from ortools.graph.python import min_cost_flow

SCALE = 100  # scores carry 2 decimal places (scoring.combine), so score × 100 is a whole number


class Edge(NamedTuple):
    """An eligible pairing: `volunteer` may take `case` for `score`; `is_new` marks a new facilitator.
    (A named tuple: the bulk proposal makes tens of thousands of them.)"""

    case: int
    volunteer: int
    score: float
    is_new: bool = False


@dataclass(frozen=True)
class Solution:
    """Who takes each case (`people[case]`, best score first; staffed cases only) and the total score,
    summed from the edges' own float scores."""

    people: dict[int, list[int]] = field(default_factory=dict)
    total_score: float = 0.0
    chosen: list[Edge] = field(default_factory=list)


def solve(places: Sequence[int], capacities: Sequence[int], edges: Sequence[Edge]) -> Solution:
    """The assignment with the highest total score such that case c gets at most `places[c]` people,
    volunteer v takes at most `capacities[v]` cases, nobody twice on one case, and at most one new
    facilitator per case (two new facilitators are never put together). Places may stay unfilled.

    Solved exactly as a min-cost flow (OR-Tools): source → volunteer (capacity, cost 0) → case
    (1, −score × 100), or for a new facilitator → the case's "new" node (1, −score × 100) → case
    (1, 0); case → sink (places, 0); and a source → sink bypass (cost 0) that carries whatever is not
    worth placing, so the flow maximises the score instead of being forced through bad pairings.
    Every constraint is an arc capacity, so the constraint matrix is a network matrix (totally
    unimodular) and the flow polytope has integral vertices: the integral optimum the solver returns
    is also the optimum of the LP relaxation, with no rounding of the assignment. Costs are the
    scores × 100 rounded to whole numbers, which is exact for scores with 2 decimal places (what
    `scoring.combine` gives); other scores are optimal to within 0.005 per pairing. Edges with a score
    of 0 or less are never chosen (they add nothing). A pairing listed twice counts once, at its best
    score. Negative capacities or places count as 0. Raises ValueError for an edge naming an unknown
    case or volunteer, RuntimeError if the flow solver fails.
    """
    columns = [np.fromiter((edge[i] for edge in edges), dtype=np.float64, count=len(edges)) for i in range(4)]
    return solve_arrays(places, capacities, columns[0].astype(np.int64), columns[1].astype(np.int64), columns[2],
                        columns[3] != 0)


def solve_arrays(places: Sequence[int], capacities: Sequence[int], case: np.ndarray, volunteer: np.ndarray,
                 score: np.ndarray, is_new: np.ndarray) -> Solution:
    """`solve` for edges given as four parallel arrays (what `Edge`'s fields would be), without
    making an object per edge: the bulk proposal has hundreds of thousands of them."""
    n_cases, n_volunteers = len(places), len(capacities)
    if not len(case):
        return Solution()
    case, volunteer = np.asarray(case, dtype=np.int64), np.asarray(volunteer, dtype=np.int64)
    score, is_new = np.asarray(score, dtype=np.float64), np.asarray(is_new, dtype=bool)
    unknown = (case < 0) | (case >= n_cases) | (volunteer < 0) | (volunteer >= n_volunteers)
    if unknown.any():
        bad = int(np.flatnonzero(unknown)[0])
        edge = Edge(int(case[bad]), int(volunteer[bad]), float(score[bad]), bool(is_new[bad]))
        raise ValueError(f"Edge {edge} names an unknown case or volunteer")
    # Best score first within each pairing, then keep the first of each pairing; drop scores <= 0.
    order = np.lexsort((-score, volunteer, case))
    first = np.ones(len(order), dtype=bool)
    first[1:] = (case[order][1:] != case[order][:-1]) | (volunteer[order][1:] != volunteer[order][:-1])
    keep = order[first & (score[order] > 0)]
    if not len(keep):
        return Solution()

    places_arr = np.maximum(np.asarray(places, dtype=np.int64), 0)
    capacity_arr = np.maximum(np.asarray(capacities, dtype=np.int64), 0)
    # Nodes: 0 source, 1 sink, then volunteers, cases, and each case's "new facilitator" node.
    source, sink = 0, 1
    volunteer_node = 2 + np.arange(n_volunteers, dtype=np.int64)
    case_node = 2 + n_volunteers + np.arange(n_cases, dtype=np.int64)
    new_node = 2 + n_volunteers + n_cases + np.arange(n_cases, dtype=np.int64)

    edge_case, edge_volunteer, edge_new = case[keep], volunteer[keep], is_new[keep]
    edge_cost = -np.rint(score[keep] * SCALE)

    supply = int(min(capacity_arr.sum(), places_arr.sum()))
    if supply == 0:
        return Solution()
    tails = np.concatenate([
        np.full(n_volunteers, source), volunteer_node[edge_volunteer], new_node, case_node, [source],
    ])
    heads = np.concatenate([
        volunteer_node, np.where(edge_new, new_node[edge_case], case_node[edge_case]), case_node,
        np.full(n_cases, sink), [sink],
    ])
    capacities_all = np.concatenate([
        np.minimum(capacity_arr, supply), np.ones(len(keep), dtype=np.int64), np.ones(n_cases, dtype=np.int64),
        places_arr, [supply],
    ])
    costs = np.concatenate([
        np.zeros(n_volunteers, dtype=np.int64), edge_cost.astype(np.int64), np.zeros(n_cases, dtype=np.int64),
        np.zeros(n_cases, dtype=np.int64), [0],
    ])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacities_all, costs
    )
    supplies = np.zeros(2 + n_volunteers + 2 * n_cases, dtype=np.int64)
    supplies[source], supplies[sink] = supply, -supply
    flow.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"The min-cost flow solver failed with status {status}")

    edge_arcs = arcs[n_volunteers:n_volunteers + len(keep)]
    used = keep[flow.flows(edge_arcs) > 0]
    chosen = sorted(
        (Edge(int(case[i]), int(volunteer[i]), float(score[i]), bool(is_new[i])) for i in used.tolist()),
        key=lambda e: (e.case, -e.score, e.volunteer),
    )
    people: dict[int, list[int]] = {}
    for edge in chosen:
        people.setdefault(edge.case, []).append(edge.volunteer)
    return Solution(people=people, total_score=sum(edge.score for edge in chosen), chosen=chosen)
