"""The Lagrangian path bound: never below the optimum (brute force on small dense agile
problems: attitudes sweeping with the start time, both directions, convex, concave and
S-shaped request curves, stereo groups taking one direction), its earliest starts never
above the search state's, and tighter than the LP relaxation on a dense pass."""
import time

import numpy as np
import pytest

from groundseg.planning import (Alternative, PiecewiseLinear, Problem, Request, Task,
                                TransitionFunction, solve)
from groundseg.planning import _path_bound, _time_graph, milp
from groundseg.planning._search_state import State

from ._brute import brute_optimum, brute_optimum_timed, piecewise_s

CURVES = {
    "convex": PiecewiseLinear([0, 0.5, 0.8, 1], [0, 1.5, 4.5, 10]),
    "concave": PiecewiseLinear([0, 0.3, 1], [0, 6, 8]),
    "s_shaped": PiecewiseLinear([0, 0.4, 0.7, 1], [0, 1, 6, 7]),
}


def dense_problem(seed, curve, n_strips=3, horizon_s=120.0, window_s=70.0, stereo=True, agility=None):
    """Strips of one polygon (request with ``curve``), a point target and, with ``stereo``,
    a fore/aft pair in one direction; every strip either way (start and end roll swapped),
    pitch sweeping 20 -> -20 deg over its window, one satellite."""
    rng = np.random.default_rng(seed)
    tasks = []

    def strip(tid, weight, lo, hi, roll, half, pitch0, pitch1, group=None):
        d = float(rng.uniform(5, 12))
        alts = []
        for sign in (1, -1):
            r0, r1 = roll - sign * half, roll + sign * half
            span = hi - lo
            start = [(r0, pitch0), (r0, pitch0 + (pitch1 - pitch0) * (span - d) / span)]
            end = [(r1, pitch0 - (pitch0 - pitch1) * d / span), (r1, pitch1)]
            alts.append(Alternative(earliest_start_s=lo, latest_end_s=hi, duration_s=d,
                                    start_attitude_deg=start, end_attitude_deg=end))
        tasks.append(Task(tid, weight, alts, group=group))

    centre = rng.uniform(40, horizon_s - 40)
    roll = rng.uniform(-30, 30)
    for k in range(n_strips):
        c = centre + rng.uniform(-15, 15)
        strip(f"P{k}", 0.0, c - window_s / 2, c + window_s / 2, roll + 3.0 * k, rng.uniform(1, 4), 20, -20)
    c = rng.uniform(40, horizon_s - 40)
    strip("T", float(rng.integers(1, 6)), c - window_s / 2, c + window_s / 2, rng.uniform(-30, 30), 2.0, 20, -20)
    if stereo:
        c = rng.uniform(50, horizon_s - 50)
        r = rng.uniform(-30, 30)
        strip("F", 2.0, c - window_s / 2, c - 5, r, 1.5, 20, 3, group="S")
        strip("A", 2.0, c + 5, c + window_s / 2, r, 1.5, -3, -20, group="S")
    shares = rng.uniform(0.5, 1.5, n_strips)
    req = Request("P", [f"P{k}" for k in range(n_strips)], curve, shares=list(shares / shares.sum()))
    return Problem(tasks, requests=[req], same_alternative_groups=stereo, agility=agility)


@pytest.mark.parametrize("kind", sorted(CURVES))
@pytest.mark.parametrize("seed", range(4))
def test_never_below_the_optimum(kind, seed):
    p = dense_problem(seed, CURVES[kind], stereo=seed % 2 == 0)
    best = brute_optimum_timed(p)
    bound = _path_bound.path_bound(p, time.perf_counter() + 30, max_iterations=200)
    assert bound >= best - 1e-6
    plan = solve(p, method="lns", time_limit_s=30, iterations=200)
    assert best - 1e-6 <= plan.upper_bound and plan.objective <= best + 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_constant_attitudes_any_model(seed):
    """With constant attitudes every model is exact in the graph, even one with no
    declared slope (a user function here)."""
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(6):
        e = float(rng.uniform(0, 100))
        tasks.append(Task(f"T{t}", float(rng.integers(1, 6)), [
            Alternative(earliest_start_s=e, latest_end_s=e + float(rng.uniform(15, 50)),
                        duration_s=float(rng.uniform(4, 10)),
                        start_attitude_deg=(float(rng.uniform(-40, 40)), float(rng.uniform(-20, 20))))
            for _ in range(2)]))
    fn = TransitionFunction(lambda a, b: 3.0 + 0.5 * np.abs(np.asarray(a) - np.asarray(b)).sum(axis=-1),
                            min_transition_s=3.0)
    p = Problem(tasks, agility=fn)
    best = brute_optimum(p, pair_transition=lambda a, b: 3.0 + 0.5 * (abs(a[0] - b[0]) + abs(a[1] - b[1])))
    bound = _path_bound.path_bound(p, time.perf_counter() + 30, max_iterations=200)
    assert bound >= best - 1e-6


def test_earliest_starts_never_above_the_search_state():
    """The graph's lower bounds on a successor's start, against the search state's
    earliest feasible start (its own fixed-point search), on random pairs."""
    p = dense_problem(5, CURVES["convex"], n_strips=8, horizon_s=400.0, window_s=110.0)
    state, es = State(p), _time_graph.EarliestStart(p)
    rng = np.random.default_rng(0)
    a = rng.choice(p.n_alts, 3000)
    b = rng.choice(p.n_alts, 3000)
    x = p.alt_earliest_s[a] + rng.uniform(0, 1, 3000) * (p.alt_latest_start_s[a] - p.alt_earliest_s[a])
    lb = es.lower_bound(a, x, b)
    ref = np.array([state.earliest_after(int(i), float(s), int(j), float(p.alt_earliest_s[j]))
                    for i, s, j in zip(a, x, b)])
    ok = np.isfinite(ref)
    assert ok.sum() > 300
    assert np.all(lb[ok] <= ref[ok] + 1e-9)
    assert np.all(ref[ok] - lb[ok] < 0.1)  # the Liu model's declared slope makes it tight


def test_tighter_than_the_lp_on_a_dense_pass():
    """Forty strips crossing one 600 s pass: transitions of 12-40 s, which the LP's time
    rows see as 11.66 s."""
    rng = np.random.default_rng(3)
    tasks = []
    for t in range(40):
        c = float(rng.uniform(60, 540))
        roll = float(rng.uniform(-40, 40))
        d = float(rng.uniform(5, 12))
        start = [(roll, 30.0), (roll, 30.0 - 60.0 * (110 - d) / 110)]
        end = [(roll, 30.0 - 60.0 * d / 110), (roll, -30.0)]
        tasks.append(Task(t, float(rng.integers(1, 11)), [Alternative(
            earliest_start_s=c - 55, latest_end_s=c + 55, duration_s=d,
            start_attitude_deg=start, end_attitude_deg=end)]))
    p = Problem(tasks)
    lp = milp.relaxation_bound(p)
    path = _path_bound.path_bound(p, time.perf_counter() + 30, max_iterations=100)
    plan = solve(p, method="lns", time_limit_s=30, iterations=300)
    assert plan.objective <= path < 0.9 * lp


@pytest.mark.parametrize("seed", range(3))
def test_each_satellite_its_own_model(seed):
    """Two satellites, the second far more agile (its own model): the graph's earliest
    starts stay below the search state's on both, and the bound above a brute force that
    sequences each satellite with its own model."""
    from groundseg.planning import Resource
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(6):
        e = float(rng.uniform(0, 40))
        att = (float(rng.uniform(-40, 40)), float(rng.uniform(-20, 20)))
        tasks.append(Task(t, float(rng.integers(1, 6)), [
            Alternative(resource=r, earliest_start_s=e, latest_end_s=e + 30.0, duration_s=5.0,
                        start_attitude_deg=att) for r in (0, 1)]))
    fast = TransitionFunction(lambda a, b: 1.0 + 0.05 * np.abs(np.asarray(a) - np.asarray(b)).sum(axis=-1),
                              min_transition_s=1.0)
    p = Problem(tasks, resources=[Resource("slow"), Resource("fast", agility=fast)])
    state = State(p)
    for r in (0, 1):
        es = _time_graph.EarliestStart(p, p.res_agility[r])
        on = np.flatnonzero(p.alt_resource == r)
        a, b = rng.choice(on, 300), rng.choice(on, 300)
        x = p.alt_earliest_s[a] + rng.uniform(0, 1, 300) * (p.alt_latest_start_s[a] - p.alt_earliest_s[a])
        lb = es.lower_bound(a, x, b)
        ref = np.array([state.earliest_after(int(i), float(s), int(j), float(p.alt_earliest_s[j]))
                        for i, s, j in zip(a, x, b)])
        ok = np.isfinite(ref)
        assert ok.sum() > 30 and np.all(lb[ok] <= ref[ok] + 1e-9)
    best = brute_optimum(p, resource_transition=[
        lambda a, b: piecewise_s(b[0] - a[0], b[1] - a[1]),
        lambda a, b: 1.0 + 0.05 * (abs(a[0] - b[0]) + abs(a[1] - b[1]))])
    bound = _path_bound.path_bound(p, time.perf_counter() + 30, max_iterations=200)
    assert bound >= best - 1e-6


def _graph_paths_best(g, profit, distinct):
    """Best profit of a path of ``g`` by depth-first search over alternative sequences,
    each alternative reached at its earliest state (waiting allowed, edges monotone):
    a far pair (released before the target's first slab) to bucket 0, unchecked; with
    ``distinct``, no task twice within two steps that are both edges."""
    slab = np.repeat(np.arange(g.n_slabs), np.diff(g.slab_ptr))
    by_bucket = [sorted(np.flatnonzero(g.state_alt == a), key=lambda s: g.state_x[s])
                 for a in range(g.alts.size)]
    bucket = {int(s): k for st in by_bucket for k, s in enumerate(st)}
    release = {}
    for i in range(g.n_slabs):
        for a in g.release_alt[g.release_ptr[i]:g.release_ptr[i + 1]]:
            release.setdefault(int(a), i)  # released before slab i
    out_edges = {}
    for s, t in zip(g.edge_src.tolist(), g.edge_tgt.tolist()):
        out_edges.setdefault(s, []).append(t)
    best = 0.0

    def arrive(a, k):
        """Earliest bucket of each successor alternative from ``a`` at bucket ``k``:
        ``{b: (bucket, far)}``."""
        nxt = {}
        for s in by_bucket[a][k:]:
            for t in out_edges.get(int(s), ()):
                b = int(g.state_alt[t])
                if b not in nxt or bucket[t] < nxt[b][0]:
                    nxt[b] = (bucket[t], False)
        r = release.get(a)
        if r is not None:
            for b in range(g.alts.size):
                if g.alt_resource[b] == g.alt_resource[a] and slab[by_bucket[b][0]] >= r:
                    nxt[b] = (0, True)
        return nxt

    def dfs(a, k, value, prev_task, far_in):
        nonlocal best
        best = max(best, value)
        for b, (j, far) in arrive(a, k).items():
            if distinct and not far and not far_in and g.alt_task[b] == prev_task:
                continue
            dfs(b, j, value + profit[b], g.alt_task[a], far)

    for a in range(g.alts.size):
        dfs(a, 0, profit[a], -1, True)
    return best


@pytest.mark.parametrize("horizon_s, window_s", [(150.0, 60.0), (300.0, 50.0)])  # far pairs
@pytest.mark.parametrize("seed", range(4))
def test_sweep_against_a_search_over_graph_paths(seed, horizon_s, window_s):
    """The sweep's best path (plain, and without ``t, u, t``) against a depth-first
    search over the graph's paths, random profits; the path it returns earns its value
    and, without ``t, u, t``, has none."""
    p = dense_problem(seed, CURVES["convex"], n_strips=3, horizon_s=horizon_s, window_s=window_s)
    g = _time_graph.build(p, delta_s=3.0)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        profit = rng.normal(1.0, 1.5, g.alts.size)
        for distinct in (False, True):
            sw = _path_bound.Sweep(g, profit, distinct)
            value, path = sw.best_path(g, 0)
            assert value == pytest.approx(_graph_paths_best(g, profit, distinct), abs=1e-9)
            assert value == pytest.approx(profit[path].sum() if path else 0.0, abs=1e-9)
            task = g.alt_task[path]
            if distinct:
                assert not np.any(task[2:] == task[:-2])
