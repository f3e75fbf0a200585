"""Requests valued by covered fraction: every engine against brute force on small problems
(convex, concave and S-shaped curves), the plan's per-request report, input checks."""
import json

import numpy as np
import pytest

from groundseg.planning import (Alternative, PiecewiseLinear, PlanningError, Problem, Request,
                                Task, solve, upper_bound, verify_plan)

from ._brute import brute_optimum, requests_value

CURVES = {
    "convex": PiecewiseLinear([0, 0.5, 0.8, 1], [0, 1, 3, 10]),
    "concave": PiecewiseLinear([0, 0.3, 1], [0, 6, 8]),
    "s_shaped": PiecewiseLinear([0, 0.4, 0.7, 1], [0, 1, 6, 7]),
    "linear": PiecewiseLinear.linear(5.0),
}


def request_problem(seed, kind, same_alternative=False):
    """Four strips of two requests and a pair of point targets on one resource, crowded."""
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(6):
        alts = []
        for j in range(2):
            d = float(rng.uniform(5, 15))
            w = float(rng.uniform(d, 70))
            e = float(rng.uniform(0, 150 - w))
            alts.append(Alternative(earliest_start_s=e, latest_end_s=e + w, duration_s=d,
                                    start_attitude_deg=(float(rng.uniform(-30, 30)), 20.0 * (1 - 2 * j))))
        group = "pair" if t in (4, 5) else None
        weight = 0.0 if t < 4 else float(rng.integers(1, 4))
        tasks.append(Task(f"T{t}", weight, alts, group=group))
    curve = CURVES[kind]
    requests = [Request("A", ["T0", "T1", "T2"], curve, shares=[0.5, 0.3, 0.2]),
                Request("B", ["T3"], curve.scaled(0.5))]
    return Problem(tasks, requests=requests, same_alternative_groups=same_alternative)


@pytest.mark.parametrize("kind", sorted(CURVES))
@pytest.mark.parametrize("seed", range(3))
def test_every_engine_against_brute_force(kind, seed):
    p = request_problem(seed, kind, same_alternative=seed == 1)
    best = brute_optimum(p)
    bound = upper_bound(p, time_limit_s=5)
    assert bound >= best - 1e-6
    exact = solve(p, method="milp", time_limit_s=30)
    assert exact.status == "optimal" and exact.objective == pytest.approx(best, abs=1e-6)
    for method, kw in (("greedy", {}), ("lns", {"iterations": 300}), ("auto", {"iterations": 300})):
        plan = solve(p, method=method, time_limit_s=30, **kw)
        assert verify_plan(p, plan) == [], method
        assert plan.objective <= best + 1e-6 and plan.upper_bound >= best - 1e-6, method
        # the objective is the acquisitions' value plus the requests' value at their coverage
        chosen = {p.task_index[x] for x in plan.acquisitions["target"]}
        assert plan.objective == pytest.approx(sum(plan.acquisitions["value"]) + requests_value(p, chosen))
    if seed == 1:  # the pair takes one alternative index for both members
        rows = dict(zip(exact.acquisitions["target"], exact.acquisitions["alternative"]))
        if "T4" in rows:
            assert rows["T4"] == rows["T5"]


def test_plan_reports_covered_fraction_and_value():
    p = request_problem(0, "convex")
    plan = solve(p, method="milp", time_limit_s=30)
    d = json.loads(plan.to_json())
    by = {r["request"]: r for r in d["requests"]}
    taken = set(plan.acquisitions["target"])
    f_a = sum(s for t, s in zip(["T0", "T1", "T2"], [0.5, 0.3, 0.2]) if t in taken)
    assert by["A"]["covered_fraction"] == pytest.approx(f_a)
    assert by["A"]["value"] == pytest.approx(float(np.interp(f_a, [0, 0.5, 0.8, 1], [0, 1, 3, 10])))
    assert by["A"]["tasks"] == 3 and by["A"]["scheduled"] == len(taken & {"T0", "T1", "T2"})


def test_verifier_recomputes_request_value():
    p = request_problem(2, "concave")
    plan = solve(p, method="greedy")
    plan.objective += 0.5
    assert any("worth" in b for b in verify_plan(p, plan))


@pytest.mark.parametrize("args, message", [
    (([0, 1], [1, 2]), "start at 0"),
    (([0, 0.5], [0, 1]), "from 0 to 1"),
    (([0, 0.6, 0.6, 1], [0, 1, 2, 3]), "increase"),
    (([0, 1], [0, float("nan")]), "finite"),
    (([0, 0.5, 1], [0, 2, 1]), "not decrease"),
])
def test_bad_curves(args, message):
    with pytest.raises(PlanningError, match=message):
        PiecewiseLinear(*args)


def test_bad_requests():
    tasks = [Task("a", 0.0, [Alternative()]), Task("b", 0.0, [Alternative()])]
    curve = PiecewiseLinear.linear()
    for reqs, message in (([Request("R", ["x"], curve)], "unknown task"),
                          ([Request("R", ["a"], curve), Request("S", ["a"], curve)], "already in a request"),
                          ([Request("R", ["a", "b"], curve, shares=[1, -1])], "shares"),
                          ([Request("R", [], curve)], "no tasks"),
                          ([Request("R", ["a"], [0, 1])], "PiecewiseLinear")):
        with pytest.raises(PlanningError, match=message):
            Problem(tasks, requests=reqs)
    with pytest.raises(PlanningError, match="names a group"):
        Problem(tasks, same_alternative_groups=["nope"])
