"""The bulk proposal's solver against brute force and against an independent LP solver (SciPy HiGHS)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import coo_array

from portal.allocation.solver import Edge, solve


def random_instance(seed: int, n_cases: int, n_volunteers: int, per_case: int):
    """Places 1–2, capacities 0–3, `per_case` eligible volunteers per case with 2-decimal scores;
    about a third of the volunteers are new."""
    rng = random.Random(seed)
    places = [rng.choice((1, 2, 2)) for _ in range(n_cases)]
    capacities = [rng.choice((0, 1, 1, 2, 2, 3)) for _ in range(n_volunteers)]
    is_new = [rng.random() < 0.35 for _ in range(n_volunteers)]
    edges = [
        Edge(case, volunteer, round(rng.uniform(5, 100), 2), is_new[volunteer])
        for case in range(n_cases)
        for volunteer in rng.sample(range(n_volunteers), min(per_case, n_volunteers))
    ]
    return places, capacities, edges


def brute_force(places, capacities, edges) -> float:
    """The best total by trying every feasible choice of people for every case."""
    by_case: dict[int, list[Edge]] = {}
    for edge in edges:
        by_case.setdefault(edge.case, []).append(edge)
    options = []
    for case in range(len(places)):
        mine = by_case.get(case, [])
        choices = [()]
        choices += [(a,) for a in mine] if places[case] >= 1 else []
        if places[case] >= 2:
            choices += [(a, b) for i, a in enumerate(mine) for b in mine[i + 1:] if not (a.is_new and b.is_new)]
        options.append(choices)
    left = list(capacities)
    best = 0.0

    def search(case: int, total: float) -> None:
        nonlocal best
        if case == len(options):
            best = max(best, total)
            return
        for choice in options[case]:
            if all(left[edge.volunteer] > 0 for edge in choice):
                for edge in choice:
                    left[edge.volunteer] -= 1
                search(case + 1, total + sum(edge.score for edge in choice))
                for edge in choice:
                    left[edge.volunteer] += 1

    search(0, 0.0)
    return best


def lp_optimum(places, capacities, edges) -> float:
    """The optimum of the LP relaxation (x in [0, 1] per edge), solved by HiGHS. The case rows, and
    the "new" rows inside them, form one laminar family and the volunteer rows another, so the matrix
    is totally unimodular: this LP optimum is the integral optimum too."""
    n_cases, n_edges = len(places), len(edges)
    rows, cols = [], []
    for j, edge in enumerate(edges):
        rows += [edge.case, n_cases + edge.volunteer]
        cols += [j, j]
        if edge.is_new:
            rows.append(n_cases + len(capacities) + edge.case)
            cols.append(j)
    matrix = coo_array((np.ones(len(rows)), (rows, cols)), shape=(2 * n_cases + len(capacities), n_edges))
    bounds = np.concatenate([places, capacities, np.ones(n_cases)])
    result = linprog(
        -np.array([edge.score for edge in edges]), A_ub=matrix.tocsr(), b_ub=np.maximum(bounds, 0),
        bounds=(0, 1), method="highs",
    )
    assert result.status == 0, result.message
    return -result.fun


def assert_feasible(solution, places, capacities, edges) -> None:
    new = {(edge.case, edge.volunteer): edge.is_new for edge in edges}
    per_volunteer = Counter(volunteer for people in solution.people.values() for volunteer in people)
    for volunteer, taken in per_volunteer.items():
        assert taken <= capacities[volunteer]
    for case, people in solution.people.items():
        assert len(people) == len(set(people)) <= places[case]
        assert sum(new[(case, volunteer)] for volunteer in people) <= 1
        assert all((case, volunteer) in new for volunteer in people)


@pytest.mark.parametrize("seed", range(25))
def test_solver_matches_brute_force_on_small_instances(seed):
    places, capacities, edges = random_instance(seed, n_cases=4, n_volunteers=5, per_case=4)

    solution = solve(places, capacities, edges)

    assert solution.total_score == pytest.approx(brute_force(places, capacities, edges), abs=1e-6)
    assert_feasible(solution, places, capacities, edges)


@pytest.mark.parametrize("seed", range(3))
def test_solver_matches_the_scipy_lp_optimum_on_medium_instances(seed):
    places, capacities, edges = random_instance(100 + seed, n_cases=200, n_volunteers=300, per_case=25)

    solution = solve(places, capacities, edges)

    assert solution.total_score == pytest.approx(lp_optimum(places, capacities, edges), abs=1e-6)
    assert_feasible(solution, places, capacities, edges)


def test_two_new_facilitators_are_never_put_together_even_when_they_score_best():
    # Case 0 needs two; volunteers 0 and 1 are new and score best, volunteer 2 is experienced.
    edges = [Edge(0, 0, 90.0, True), Edge(0, 1, 80.0, True), Edge(0, 2, 10.0, False)]

    solution = solve([2], [1, 1, 1], edges)

    assert solution.people == {0: [0, 2]}
    assert solution.total_score == pytest.approx(100.0)


def test_capacity_is_never_exceeded_and_the_better_use_of_a_volunteer_wins():
    # Volunteer 0 can take one case: it goes where it adds most (case 1), and case 0 takes volunteer 1.
    edges = [Edge(0, 0, 50.0), Edge(1, 0, 60.0), Edge(0, 1, 45.0)]

    solution = solve([1, 1], [1, 1], edges)

    assert solution.people == {0: [1], 1: [0]}
    assert solution.total_score == pytest.approx(105.0)


def test_unfillable_places_stay_empty_rather_than_forcing_a_pairing():
    edges = [Edge(0, 0, 40.0), Edge(1, 1, 0.0)]

    solution = solve([2, 1], [1, 1], edges)

    assert solution.people == {0: [0]}
    assert solution.total_score == pytest.approx(40.0)


def test_zero_or_negative_capacities_and_no_edges_give_an_empty_solution():
    assert solve([2], [0, -3], [Edge(0, 0, 50.0), Edge(0, 1, 60.0)]).people == {}
    assert solve([], [], []).total_score == 0.0
    assert solve([1], [1], []).people == {}


def test_a_pairing_listed_twice_counts_once_at_its_best_score():
    solution = solve([2], [2], [Edge(0, 0, 30.0), Edge(0, 0, 70.0)])

    assert solution.people == {0: [0]}
    assert solution.total_score == pytest.approx(70.0)


def test_an_edge_naming_an_unknown_case_or_volunteer_is_refused():
    with pytest.raises(ValueError, match="unknown case or volunteer"):
        solve([1], [1], [Edge(0, 3, 10.0)])
