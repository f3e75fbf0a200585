"""Pure selection problems (SPOT5-like: untimed alternatives, forbidden pairs and triples,
a capacity, groups) against brute force."""
import numpy as np
import pytest

from groundseg.planning import (Alternative, Incompatibility, Problem, Resource, Task, solve,
                                upper_bound, verify_plan)

from ._brute import brute_optimum


def random_selection(seed, n=8):
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(n):
        k = int(rng.integers(1, 4))
        alts = [Alternative(resource=0, data_gbit=float(rng.choice([1.0, 2.0, 4.0])), label=str(v))
                for v in range(k)]
        tasks.append(Task(t, float(rng.choice([1, 2, 1000, 2000])), alts,
                          group="g" if t in (6, 7) and seed % 3 == 0 else None))
    inc = []
    for _ in range(int(rng.integers(4, 12))):
        arity = 2 if rng.random() < 0.7 else 3
        ts = rng.choice(n, size=arity, replace=False)
        members = tuple((int(t), int(rng.integers(len(tasks[t].alternatives)))) for t in ts)
        inc.append(Incompatibility(members))
    cap = float(rng.uniform(4, 12)) if seed % 2 else float("inf")
    return Problem(tasks, resources=[Resource("SAT", memory_capacity_gbit=cap)], incompatibilities=inc)


@pytest.mark.parametrize("seed", range(30))
def test_selection_against_brute_force(seed):
    p = random_selection(seed)
    best = brute_optimum(p)
    plan = solve(p, method="milp", time_limit_s=10)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(best)
    assert verify_plan(p, plan) == []
    for method in ("greedy", "lns", "auto"):
        other = solve(p, method=method, time_limit_s=60, iterations=20, seed=seed)
        assert verify_plan(p, other) == []
        assert other.objective <= best + 1e-9
        assert other.upper_bound >= best - 1e-9
    assert upper_bound(p) >= best - 1e-9
    assert upper_bound(p, integer=True) == pytest.approx(best)


def test_reasons_for_selection_problems():
    # A and B cannot be taken together; C does not fit in the memory left by A
    tasks = [Task("A", 10.0, [Alternative(data_gbit=3.0)]),
             Task("B", 1.0, [Alternative(data_gbit=0.0)]),
             Task("C", 1.0, [Alternative(data_gbit=2.0)])]
    p = Problem(tasks, resources=[Resource(memory_capacity_gbit=4.0)],
                incompatibilities=[Incompatibility((("A", 0), ("B", 0)))])
    plan = solve(p)
    assert list(plan.acquisitions["target"]) == ["A"]
    reasons = dict(zip(plan.unscheduled["target"], plan.unscheduled["reason"]))
    assert reasons == {"B": "conflict", "C": "memory"}


def test_nothing_to_schedule():
    p = Problem([Task("A", 1.0, []), Task("B", 2.0, [], reason_if_none="sun")])
    for method in ("auto", "greedy", "lns", "milp"):
        plan = solve(p, method=method, time_limit_s=1)
        assert plan.objective == 0.0 and plan.upper_bound == 0.0 and plan.gap == 0.0
        assert list(plan.unscheduled["reason"]) == ["no_opportunity", "sun"]
