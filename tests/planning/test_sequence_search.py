"""Pass re-optimisation (``_sequence_search``): sequences it builds are feasible (verifier), never beat
brute force, and reach it on most small single-resource instances; the pass-by-pass start
and the LNS that uses it give verified plans."""
import math

import numpy as np
import pytest

from groundseg.planning import (Alternative, Problem, Resource, Task, solve, verify_plan)
from groundseg.planning import _sequence_search
from groundseg.planning._search_state import State
from groundseg.planning.greedy import Ordering, construct
from groundseg.planning.solve import build_plan
from groundseg.planning.synthetic import synthetic_problem

from ._brute import brute_optimum


def one_pass(seed, n_tasks=7):
    """One resource, one pass, constant attitudes, unlimited memory."""
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(n_tasks):
        d = float(rng.uniform(5, 15))
        w = float(rng.uniform(d, 80))
        e = float(rng.uniform(0, 150 - w))
        att = (float(rng.uniform(-30, 30)), float(rng.uniform(-20, 20)))
        tasks.append(Task(f"T{t}", float(rng.integers(1, 11)),
                          [Alternative(0, e, e + w, d, start_attitude_deg=att)]))
    return Problem(tasks, resources=[Resource("S0")])


def _plan_of(p, state):
    return build_plan(p, state, math.inf, "feasible", "test", 0.0)


@pytest.mark.parametrize("seed", range(12))
def test_best_sequence_feasible_and_below_brute_force(seed):
    p = one_pass(seed)
    state = State(p)
    items = _sequence_search.best_sequence(state, 0, list(range(p.n_alts)), -math.inf, math.inf, front=8)
    assert _sequence_search.place_sequence(state, 0, items, -math.inf, math.inf)
    plan = _plan_of(p, state)
    assert verify_plan(p, plan) == []
    assert plan.objective <= brute_optimum(p) + 1e-9


def test_best_sequence_reaches_brute_force_on_most_instances():
    hits = 0
    for seed in range(100, 112):
        p = one_pass(seed)
        state = State(p)
        items = _sequence_search.best_sequence(state, 0, list(range(p.n_alts)), -math.inf, math.inf, front=8)
        _sequence_search.place_sequence(state, 0, items, -math.inf, math.inf)
        hits += state.objective == pytest.approx(brute_optimum(p), abs=1e-9)
    assert hits >= 10


def test_gap_between_fixed_acquisitions():
    p = one_pass(3, n_tasks=7)
    state = State(p)
    construct(p, state)
    seq = list(state.seq[0])
    assert len(seq) >= 3
    # empty the middle of the sequence and fill it again: neighbours stay feasible
    mid = state.seq_start[0][1:-1]
    for a in seq[1:-1]:
        state.remove_task(state.task[a])
    t0, t1 = mid[0] - 1e-6, mid[-1] + 1e-6
    cands = [a for a in range(p.n_alts) if state.chosen[state.task[a]] == -1]
    items = _sequence_search.best_sequence(state, 0, cands, t0, t1, front=4)
    assert _sequence_search.place_sequence(state, 0, items, t0, t1)
    assert verify_plan(p, _plan_of(p, state)) == []


def test_passes_split_resources_at_gaps():
    p = synthetic_problem(n_resources=2, n_targets=120, horizon_s=86400.0, seed=2)
    ps = _sequence_search.passes(p)
    assert [x[1] for x in ps] == sorted(x[1] for x in ps)
    ok = p.alt_valid & p.alt_timed
    for a in np.flatnonzero(ok):
        r = p.alt_resource[a]
        inside = [x for x in ps if x[0] == r and x[1] <= p.alt_earliest_s[a] <= x[2]]
        assert len(inside) == 1


@pytest.mark.parametrize("seed", [0, 1])
def test_construct_by_pass_and_lns_verify(seed):
    p = synthetic_problem(n_resources=3, n_targets=300, horizon_s=86400.0, seed=seed,
                          memory_capacity_gbit=60.0)
    state = State(p)
    _sequence_search.construct_by_pass(p, state, math.inf)  # to completion
    construct(p, state, Ordering(p))
    assert verify_plan(p, _plan_of(p, state)) == []
    plan = solve(p, method="lns", time_limit_s=60, iterations=30, seed=seed)
    assert verify_plan(p, plan) == []
    assert plan.objective <= plan.upper_bound + 1e-6
