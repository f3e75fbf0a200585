"""Small random timed problems: the exact MILP equals brute force, the heuristic and the LNS
never exceed it, every bound is above it, and the verifier accepts every plan."""
import numpy as np
import pytest

from groundseg.planning import (Alternative, Downlink, Incompatibility, Problem, Resource, Task,
                                solve, upper_bound, verify_plan)

from ._brute import brute_optimum


def random_problem(seed, n_tasks=6, memory=True, extras=True):
    rng = np.random.default_rng(seed)
    n_res = int(rng.integers(1, 3))
    tasks = []
    for t in range(n_tasks):
        alts = []
        for _ in range(int(rng.integers(1, 3))):
            block = 0.0 if rng.random() < 0.5 else 200.0  # windows avoid the downlink [160, 190]
            d = float(rng.uniform(5, 20))
            w = float(rng.uniform(d, 90))
            e = block + float(rng.uniform(0, 150 - w))
            alts.append(Alternative(resource=int(rng.integers(n_res)), earliest_start_s=e,
                                    latest_end_s=e + w, duration_s=d,
                                    start_attitude_deg=(float(rng.uniform(-40, 40)), float(rng.uniform(-20, 20))),
                                    end_attitude_deg=(float(rng.uniform(-40, 40)), float(rng.uniform(-20, 20))),
                                    data_gbit=float(rng.uniform(1, 6)),
                                    value_factor=float(rng.uniform(0.5, 1.0))))
        group = "G" if extras and t in (0, 1) and rng.random() < 0.5 else None
        tasks.append(Task(f"T{t}", float(rng.integers(1, 11)), alts, group=group))
    incompat = []
    if extras and rng.random() < 0.6:
        incompat.append(Incompatibility((("T2", 0), ("T3", 0))))
    cap = float(rng.uniform(8, 20)) if memory else float("inf")
    resources = [Resource(f"S{r}", memory_capacity_gbit=cap) for r in range(n_res)]
    downlinks = [Downlink(r, 160.0, 190.0, float(rng.uniform(0.1, 0.4)), "X") for r in range(n_res)]
    return Problem(tasks, resources=resources, downlinks=downlinks, incompatibilities=incompat)


@pytest.mark.parametrize("seed", range(24))
def test_small_random_against_brute_force(seed):
    p = random_problem(seed)
    best = brute_optimum(p)
    exact = solve(p, method="milp", time_limit_s=20)
    assert verify_plan(p, exact) == []
    assert exact.objective <= best + 1e-6
    assert exact.upper_bound >= best - 1e-6
    if exact.status == "optimal":
        assert exact.objective == pytest.approx(best, abs=1e-6)
    for method, steps in (("greedy", None), ("lns", 200), ("auto", 200)):
        plan = solve(p, method=method, time_limit_s=60, seed=seed, iterations=steps)
        assert verify_plan(p, plan) == [], method
        assert plan.objective <= best + 1e-6, method
        assert plan.upper_bound >= best - 1e-6, method
        assert 0.0 <= plan.gap <= 1.0
    assert upper_bound(p) >= best - 1e-6


def test_exact_engine_proves_most_small_instances():
    proven = 0
    for seed in range(100, 112):
        p = random_problem(seed)
        plan = solve(p, method="milp", time_limit_s=20)
        assert verify_plan(p, plan) == [] and plan.upper_bound >= brute_optimum(p) - 1e-6
        if plan.status == "optimal":
            assert plan.objective == pytest.approx(brute_optimum(p), abs=1e-6)
            proven += 1
    assert proven >= 9


def test_lns_reaches_brute_force_on_most_instances():
    hits = 0
    for seed in range(200, 210):
        p = random_problem(seed, n_tasks=6, extras=False)
        plan = solve(p, method="lns", time_limit_s=60, iterations=300, seed=seed)
        best = brute_optimum(p)
        assert verify_plan(p, plan) == [] and plan.objective <= best + 1e-6
        hits += plan.objective == pytest.approx(best, abs=1e-6)
    assert hits >= 8
