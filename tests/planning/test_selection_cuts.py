"""Separated time rows (``_selection.separate_time_rows``) stay valid: every verified plan
satisfies them and the bound never falls below the brute-force optimum."""

import numpy as np
import pytest

from groundseg.planning import (Alternative, Problem, Resource, Task, _selection, milp, solve,
                                upper_bound, verify_plan)
from groundseg.planning.synthetic import synthetic_problem

from ._brute import brute_optimum


def crowded(seed, n_tasks=7):
    """One resource, windows crowded enough for the time rows to bind."""
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(n_tasks):
        d = float(rng.uniform(5, 15))
        w = float(rng.uniform(d, d + 30))
        e = float(rng.uniform(0, 100))
        att = (float(rng.uniform(-20, 20)), float(rng.uniform(-10, 10)))
        tasks.append(Task(f"T{t}", float(rng.integers(1, 11)),
                          [Alternative(0, e, e + w, d, start_attitude_deg=att)]))
    return Problem(tasks, resources=[Resource("S0")])


def test_bound_above_brute_force_and_cuts_used():
    used = 0
    for seed in range(16):
        p = crowded(seed)
        m = _selection.build(p)
        before = len(m.rows)
        bound = milp.relaxation_bound(p, m, time_limit_s=5)
        used += len(m.rows) > before
        assert bound >= brute_optimum(p) - 1e-6, seed
        assert upper_bound(p, integer=True) >= brute_optimum(p) - 1e-6, seed
    assert used >= 4


@pytest.mark.parametrize("seed", [0, 1])
def test_verified_plans_satisfy_every_row(seed):
    p = synthetic_problem(n_resources=2, n_targets=200, horizon_s=43200.0, seed=seed)
    m = _selection.build(p)
    before = len(m.rows)
    milp.relaxation_bound(p, m, time_limit_s=5)
    assert len(m.rows) > before
    plan = solve(p, method="lns", time_limit_s=60, iterations=60, seed=seed)
    assert verify_plan(p, plan) == []
    x = m.point([int(p.task_alts[p.task_index[tid]][j])
                 for tid, j in zip(plan.acquisitions["target"], plan.acquisitions["alternative"])])
    A, lb, ub = m.rows.matrix(m.n_cols)
    assert np.all(A @ x <= ub + 1e-6)
    assert plan.upper_bound >= plan.objective - 1e-6
