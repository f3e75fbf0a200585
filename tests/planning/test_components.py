"""Component sweeps of selection plans (settle, fill, price) against brute force and LP slopes."""
import time

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from groundseg.planning import Alternative, Incompatibility, Problem, Resource, Task, milp, solve, verify_plan
from groundseg.planning import _components, _highs

from ._brute import brute_optimum
from .test_selection import random_selection


def _feasible(model, x) -> bool:
    A, lo, hi = model.rows.matrix(model.n_cols)
    ax = A @ x
    return bool(np.all(ax >= lo - 1e-9) and np.all(ax <= hi + 1e-9))


@pytest.mark.parametrize("seed", range(5))
def test_row_prices_are_the_slopes_of_the_lp_optimum(seed):
    rng = np.random.default_rng(seed)
    n, m = 12, 4
    values = rng.uniform(1, 10, n)
    A = rng.uniform(0, 5, (m, n))
    b = A.sum(axis=1) * rng.uniform(0.2, 0.6, m)
    lp = _highs.MipModel(values, csr_matrix(A), np.full(m, -np.inf), b, np.zeros(n), np.ones(n), np.zeros(n))
    assert lp.solve(10).optimal
    prices = lp.row_prices()

    def optimum(rhs):  # scipy's HiGHS wrapper, minimising -values
        return -linprog(-values, A_ub=A, b_ub=rhs, bounds=[(0, 1)] * n, method="highs").fun

    h = 1e-5
    for i in range(m):
        up, down = b.copy(), b.copy()
        up[i] += h
        down[i] -= h
        # one-sided slopes bracket the dual at a breakpoint; away from one they agree
        slopes = sorted([(optimum(up) - optimum(b)) / h, (optimum(b) - optimum(down)) / h])
        assert slopes[0] - 1e-6 <= prices[i] <= slopes[1] + 1e-6


def _room_trade():
    """A heavy photograph on either of two cameras (4 or 2 Gbit), a light one (2 Gbit),
    4 Gbit of memory: with the heavy one on the first camera the memory is full."""
    tasks = [Task("H", 1000.0, [Alternative(data_gbit=4.0, label="a"), Alternative(data_gbit=2.0, label="b")]),
             Task("L", 1.0, [Alternative(data_gbit=2.0)])]
    return Problem(tasks, resources=[Resource("SAT", memory_capacity_gbit=4.0)])


def test_priced_components_free_room_that_a_fill_cannot():
    p = _room_trade()
    model, mip = milp.selection_mip(p)
    start = model.point(np.array([p.task_alts[0][0], -1]))
    assert model.values @ start == 1000
    deadline = time.perf_counter() + 10
    # the fill alone: the heavy photograph keeps its value either way, the light one finds no room
    assert model.values @ _components.polish_components(p, model, mip, start, deadline) == 1000
    x = _components.price_components(p, model, mip, start, deadline)
    assert model.values @ x == brute_optimum(p) == 1001
    assert _feasible(model, x)


@pytest.mark.parametrize("seed", [1, 3, 5, 7, 9, 11])
def test_priced_components_never_lose_value_nor_pass_the_optimum(seed):
    p = random_selection(seed)          # odd seeds: a memory limit
    model, mip = milp.selection_mip(p)
    if mip.high is None:
        pytest.skip("no tiers")
    best = brute_optimum(p)
    for start in (np.zeros(model.n_cols), mip.maximize_high(10, np.zeros(model.n_cols)).x):
        x = _components.price_components(p, model, mip, start, time.perf_counter() + 10)
        assert _feasible(model, x)
        assert model.values @ start - 1e-9 <= model.values @ x <= best + 1e-9


def _two_kinds(seed):
    """Tasks 0-4 record data (a memory limit binds them), tasks 5-9 none; forbidden
    combinations only within each kind, so the second kind's components are free."""
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(10):
        k = int(rng.integers(1, 4))
        alts = [Alternative(resource=0, data_gbit=float(rng.choice([1.0, 2.0, 4.0])) if t < 5 else 0.0,
                            label=str(v)) for v in range(k)]
        tasks.append(Task(t, float(rng.choice([1, 2, 1000, 2000])), alts))
    inc = []
    for _ in range(int(rng.integers(6, 14))):
        kind = range(5) if rng.random() < 0.5 else range(5, 10)
        ts = rng.choice(list(kind), size=2 if rng.random() < 0.7 else 3, replace=False)
        inc.append(Incompatibility(tuple((int(t), int(rng.integers(len(tasks[t].alternatives)))) for t in ts)))
    return Problem(tasks, resources=[Resource("SAT", memory_capacity_gbit=float(rng.uniform(3, 8)))],
                   incompatibilities=inc)


@pytest.mark.parametrize("seed", range(8))
def test_settled_components_are_held_at_a_choice_that_keeps_the_optimum(seed):
    p = _two_kinds(seed)
    model, mip = milp.selection_mip(p)
    x = _components.settle_components(p, model, mip, np.zeros(model.n_cols), time.perf_counter() + 10)
    assert _feasible(model, x)
    task = p.alt_task[model.alts]
    held = model.lb == model.ub
    # the memory row couples the recording tasks unless they form one component
    recorders_alone = np.unique(_components.task_components(p)[:5]).size == 1
    assert np.all(held[task >= 5]) and np.all(held[task < 5] == recorders_alone)
    assert np.all(x[held] == model.lb[held])
    # the best plan with those columns held is the best plan of the problem
    res = mip.solve(10)
    assert res.optimal and res.objective == pytest.approx(brute_optimum(p))


@pytest.mark.parametrize("seed", range(8))
def test_search_around_settled_components_keeps_plans_valid(seed):
    p = _two_kinds(seed)
    best = brute_optimum(p)
    assert solve(p, method="auto", time_limit_s=60).objective == pytest.approx(best)
    plan = solve(p, method="auto", time_limit_s=60, iterations=20, seed=seed)
    assert verify_plan(p, plan) == [] and plan.objective <= best + 1e-9
