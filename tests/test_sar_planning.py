"""Planning with SAR resources: budgets (radar-on time, energy per orbit) and a transition model
per resource, against brute force written from the model's definition; the verifier catches
every kind of violation."""
import itertools

import numpy as np
import pytest

from groundseg.planning import (Alternative, Budget, Downlink, PiecewiseAgility, PlanningError,
                                Problem, RateAccelerationAgility, Resource, Task, solve,
                                verify_plan)
from tests.planning._brute import _memory_ok, _sequence_ok, piecewise_s

SLOW = RateAccelerationAgility(rate_deg_s=1.0, accel_deg_s2=0.1, settle_s=10.0)


def _slow_s(droll, dpitch):
    """Bang-coast-bang per axis (written from the definition): the slower axis, plus settling."""
    def axis(angle):
        a, w = 0.1, 1.0
        angle = abs(angle)
        if angle <= w * w / a:
            return 2 * np.sqrt(angle / a)
        return angle / w + w / a
    return max(axis(droll), axis(dpitch)) + 10.0


def random_problem(seed, n_tasks=7):
    """Two resources (resource 1 slow, with radar budgets per 'orbit' of 175 s), constant
    attitudes, windows clear of the downlink at [160, 190]."""
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(n_tasks):
        alts = []
        for _ in range(int(rng.integers(1, 3))):
            block = 0.0 if rng.random() < 0.5 else 200.0
            d = float(rng.uniform(5, 15))
            w = float(rng.uniform(d, 80))
            e = block + float(rng.uniform(0, 150 - w))
            r = int(rng.integers(2))
            alts.append(Alternative(
                resource=r, earliest_start_s=e, latest_end_s=e + w, duration_s=d,
                start_attitude_deg=(float(rng.uniform(-35, 35)), float(rng.uniform(-10, 10))),
                data_gbit=float(rng.uniform(1, 4)), value_factor=float(rng.uniform(0.6, 1.0)),
                uses={"radar_s": d, "radar_wh": 1200 * d / 3600} if r == 1 else None))
        tasks.append(Task(f"T{t}", float(rng.integers(1, 11)), alts))
    budgets = [Budget(1, 0.0, 175.0, "radar_s", float(rng.uniform(12, 30)), "orbit-1"),
               Budget(1, 175.0, 350.0, "radar_s", float(rng.uniform(12, 30)), "orbit-2"),
               Budget(1, 0.0, 350.0, "radar_wh", float(rng.uniform(6, 14)), "day-energy")]
    resources = [Resource("OPT", memory_capacity_gbit=12.0),
                 Resource("SAR", memory_capacity_gbit=10.0, agility=SLOW)]
    downlinks = [Downlink(r, 160.0, 190.0, 0.3, "X") for r in range(2)]
    return Problem(tasks, resources, downlinks, agility=PiecewiseAgility(), budgets=budgets)


def brute_optimum(p):
    """Best objective: every choice of alternatives; budgets summed from the definition (the
    window overlaps the span); sequencing with each resource's own model."""
    def tau_of(r):
        def tau(a, b):
            r0, p0 = p.att_end_deg[p.att_ptr[a]]
            r1, p1 = p.att_start_deg[p.att_ptr[b]]
            return (piecewise_s if r == 0 else _slow_s)(r1 - r0, p1 - p0)
        return tau
    options = [[None] + [int(a) for a in p.task_alts[t] if p.alt_valid[a]] for t in range(p.n_tasks)]
    best = 0.0
    for choice in itertools.product(*options):
        chosen = [a for a in choice if a is not None]
        value = sum(p.alt_value[a] for a in chosen)
        if value <= best + 1e-12:
            continue
        ok = True
        for k in range(len(p.budget_limit)):
            spent = sum(p.alt_uses[a].get(p.budget_quantity[k], 0.0) for a in chosen
                        if p.alt_resource[a] == p.budget_resource[k]
                        and p.budget_start_s[k] <= p.alt_latest_end_s[a]
                        and p.alt_earliest_s[a] < p.budget_end_s[k])
            ok &= spent <= p.budget_limit[k] + 1e-9
        for r in range(p.n_resources):
            on_r = [a for a in chosen if p.alt_resource[a] == r]
            ok = ok and _sequence_ok(p, on_r, tau_of(r)) and _memory_ok(p, r, on_r)
        if ok:
            best = value
    return best


@pytest.mark.parametrize("seed", range(10))
def test_budgets_and_own_agility_against_brute_force(seed):
    p = random_problem(seed)
    best = brute_optimum(p)
    exact = solve(p, method="milp", time_limit_s=20)
    assert verify_plan(p, exact) == []
    assert exact.objective <= best + 1e-6 and exact.upper_bound >= best - 1e-6
    if exact.status == "optimal":
        assert exact.objective == pytest.approx(best, abs=1e-6)
    for method, steps in (("greedy", None), ("lns", 150)):
        plan = solve(p, method=method, time_limit_s=30, seed=seed, iterations=steps)
        assert verify_plan(p, plan) == [], method
        assert plan.objective <= best + 1e-6 and plan.upper_bound >= best - 1e-6, method


def _two(agility=None, limit=100.0, uses=10.0):
    """Two acquisitions on one resource, 60 deg of roll apart, 30 s between them."""
    tasks = [Task("A", 1.0, [Alternative(0, 0.0, 10.0, 10.0, (30.0, 0.0), uses={"radar_s": uses})]),
             Task("B", 2.0, [Alternative(0, 40.0, 50.0, 10.0, (-30.0, 0.0), uses={"radar_s": uses})])]
    return Problem(tasks, [Resource("S", agility=agility)],
                   budgets=[Budget(0, 0.0, 100.0, "radar_s", limit, "orbit")])


def test_verifier_uses_the_resources_model_and_the_budgets():
    quick = RateAccelerationAgility(rate_deg_s=10.0, accel_deg_s2=10.0)
    fast_plan = solve(_two(agility=quick), method="milp")
    assert len(fast_plan.acquisitions) == 2                 # a quick resource takes both
    slow = _two(SLOW)
    for p in (_two(), slow):             # piecewise: 60 deg takes 40 s > 30 s; slow: longer
        plan = solve(p, method="milp")
        assert len(plan.acquisitions) == 1 and verify_plan(p, plan) == []
    # the quick resource's plan on the slow resource breaks the transition
    bad = verify_plan(slow, fast_plan)
    assert any("plus the transition" in b for b in bad)
    # a budget of 15 s: one 10 s acquisition only, whichever fits the sequence
    tight = _two(agility=quick, limit=15.0)
    plan = solve(tight, method="greedy")
    assert len(plan.acquisitions) == 1 and verify_plan(tight, plan) == []
    assert plan.unscheduled["reason"][0] == "budget"
    assert any("budget orbit" in b for b in verify_plan(tight, fast_plan))
    # an alternative that alone exceeds a budget is unusable, with the reason
    alone = _two(limit=5.0)
    assert not alone.alt_valid.any() and "more than budget orbit" in alone.alt_issue[0]


def test_bad_budgets():
    task = [Task("A", 1.0, [Alternative(0, 0.0, 10.0, 5.0, uses={"radar_s": 5.0})])]
    for budget, message in ((Budget(3, 0, 10, "radar_s", 1), "resource"),
                            (Budget(0, 10, 0, "radar_s", 1), "finite interval"),
                            (Budget(0, 0, 10, "", 1), "quantity"),
                            (Budget(0, 0, 10, "radar_s", float("nan")), "limit")):
        with pytest.raises(PlanningError, match=message):
            Problem(task, budgets=[budget])
    with pytest.raises(PlanningError, match="uses"):
        Problem([Task("A", 1.0, [Alternative(0, 0.0, 10.0, 5.0, uses={"radar_s": -1})])])
