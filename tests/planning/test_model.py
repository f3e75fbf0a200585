from itertools import combinations

import numpy as np
import pytest

from groundseg.errors import GroundsegError
from groundseg.planning import (Alternative, Downlink, Incompatibility, PlanningError, Problem,
                                Resource, Task, solve, verify_plan)


def _alt(e=0.0, l=100.0, d=10.0, **kw):
    return Alternative(earliest_start_s=e, latest_end_s=l, duration_s=d, **kw)


def test_errors_are_groundseg_errors_and_name_the_location():
    assert issubclass(PlanningError, GroundsegError) and issubclass(PlanningError, ValueError)
    with pytest.raises(PlanningError, match="empty task list"):
        Problem([])
    with pytest.raises(PlanningError, match=r"tasks\[1\].id: duplicate task id 'A' \(first at tasks\[0\]\)"):
        Problem([Task("A", 1, [_alt()]), Task("A", 1, [_alt()])])
    with pytest.raises(PlanningError, match=r"tasks\[0\] 'A'.weight"):
        Problem([Task("A", float("nan"), [_alt()])])
    with pytest.raises(PlanningError, match=r"tasks\[0\] 'A'.alternatives\[1\].duration_s"):
        Problem([Task("A", 1, [_alt(), _alt(d=-1)])])
    with pytest.raises(PlanningError, match=r"tasks\[0\] 'A'.alternatives\[0\]: give both"):
        Problem([Task("A", 1, [Alternative(earliest_start_s=0.0)])])
    with pytest.raises(PlanningError, match=r"alternatives\[0\].resource: index 3 out of range"):
        Problem([Task("A", 1, [_alt(resource=3)])], resources=[Resource()])
    with pytest.raises(PlanningError, match=r"incompatibilities\[0\]: unknown task id 'B'"):
        Problem([Task("A", 1, [_alt()])], incompatibilities=[Incompatibility((("A", 0), ("B", 0)))])
    with pytest.raises(PlanningError, match=r"incompatibilities\[0\]: task 'A' has no alternative 2"):
        Problem([Task("A", 1, [_alt()]), Task("B", 1, [_alt()])],
                incompatibilities=[Incompatibility((("A", 2), ("B", 0)))])
    with pytest.raises(PlanningError, match=r"downlinks\[0\].rate_gbit_s"):
        Problem([Task("A", 1, [_alt()])], downlinks=[Downlink(0, 0.0, 10.0, 0.0)])
    with pytest.raises(PlanningError, match=r"downlinks\[0\]: \[10.0, 0.0\]"):
        Problem([Task("A", 1, [_alt()])], downlinks=[Downlink(0, 10.0, 0.0, 1.0)])
    with pytest.raises(PlanningError, match=r"resources\[0\].memory_initial_gbit"):
        Problem([Task("A", 1, [_alt()])], resources=[Resource(memory_capacity_gbit=1, memory_initial_gbit=2)])
    with pytest.raises(PlanningError, match=r"attitude"):
        Problem([Task("A", 1, [_alt(start_attitude_deg=(0.0, float("inf")))])])
    with pytest.raises(PlanningError, match=r"attitude_times_s: expected finite increasing"):
        Problem([Task("A", 1, [_alt(start_attitude_deg=[(0, 0), (1, 1), (2, 2)],
                                    attitude_times_s=[0, 5, 5])])])


def test_short_windows_and_empty_alternatives_become_unscheduled_with_reasons():
    tasks = [
        Task("ok", 1.0, [_alt(0, 50, 10)]),
        Task("short", 2.0, [_alt(0, 5, 10), _alt(200, 205, 10)]),
        Task("none", 3.0, []),
        Task("dark", 4.0, [], reason_if_none="sun"),
        Task("huge", 5.0, [_alt(60, 200, 10, data_gbit=50.0)]),
    ]
    p = Problem(tasks, resources=[Resource(memory_capacity_gbit=20.0)])
    assert list(p.alt_valid) == [True, False, False, False]
    plan = solve(p, method="greedy")
    assert verify_plan(p, plan) == []
    reasons = dict(zip(plan.unscheduled["target"], plan.unscheduled["reason"]))
    assert reasons == {"short": "no_opportunity", "none": "no_opportunity", "dark": "sun",
                       "huge": "no_opportunity"}
    details = dict(zip(plan.unscheduled["target"], plan.unscheduled["detail"]))
    assert "shorter than the duration 10.000 s" in details["short"]
    assert "exceeds the memory capacity" in details["huge"]
    assert plan.objective == 1.0 and plan.upper_bound == 1.0 and plan.status == "optimal"


def test_from_columns_matches_object_construction():
    rng = np.random.default_rng(5)
    n_t, n_a = 6, 14
    alt_task = np.sort(rng.integers(0, n_t, size=n_a))
    e = rng.uniform(0, 100, size=n_a)
    l = e + rng.uniform(20, 60, size=n_a)
    d = rng.uniform(5, 15, size=n_a)
    s0 = rng.uniform(-30, 30, size=(n_a, 2))
    s1 = rng.uniform(-30, 30, size=(n_a, 2))
    res = rng.integers(0, 2, size=n_a)
    tasks = []
    for t in range(n_t):
        alts = [Alternative(resource=int(res[a]), earliest_start_s=e[a], latest_end_s=l[a],
                            duration_s=d[a], start_attitude_deg=[s0[a], s1[a]])
                for a in np.flatnonzero(alt_task == t)]
        tasks.append(Task(f"T{t}", float(t + 1), alts))
    p1 = Problem(tasks)
    p2 = Problem.from_columns(task_ids=[f"T{t}" for t in range(n_t)], task_weights=np.arange(1, n_t + 1),
                              alt_task=alt_task, alt_resource=res, alt_earliest_start_s=e,
                              alt_latest_end_s=l, alt_duration_s=d,
                              alt_start_attitude_deg=np.stack([s0, s1], axis=1))
    for a in range(n_a):
        for s in (e[a], e[a] + 3.0, l[a] - d[a]):
            assert p1.attitude_deg(a, s) == pytest.approx(p2.attitude_deg(a, s))
            assert p1.attitude_deg(a, s, end=True) == pytest.approx(p2.attitude_deg(a, s, end=True))
        # linear from the earliest to the latest start, held outside
        assert p1.attitude_deg(a, e[a] - 50) == pytest.approx(tuple(s0[a]))
        assert p1.attitude_deg(a, l[a]) == pytest.approx(tuple(s1[a]))
        mid = 0.5 * (e[a] + l[a] - d[a])
        assert p1.attitude_deg(a, mid) == pytest.approx(tuple(0.5 * (s0[a] + s1[a])))
    for name in ("alt_task", "alt_resource", "alt_earliest_s", "alt_latest_end_s", "alt_value"):
        np.testing.assert_allclose(getattr(p1, name), getattr(p2, name))


def test_sampled_attitude_interpolates():
    a = Alternative(earliest_start_s=0.0, latest_end_s=100.0, duration_s=10.0,
                    start_attitude_deg=[(0, 30), (10, 0), (10, -30)], attitude_times_s=[0, 40, 90],
                    end_attitude_deg=[(0, 20), (10, -10), (10, -40)])
    p = Problem([Task("A", 1.0, [a])])
    assert p.attitude_deg(0, 20.0) == pytest.approx((5.0, 15.0))
    assert p.attitude_deg(0, 65.0, end=True) == pytest.approx((10.0, -25.0))


def _brute_downlinks(start, end, rate):
    best, best_set = -1.0, None
    n = len(start)
    for k in range(n + 1):
        for sub in combinations(range(n), k):
            ok = all(end[i] <= start[j] or end[j] <= start[i] for i, j in combinations(sub, 2))
            vol = sum(rate[i] * (end[i] - start[i]) for i in sub)
            if ok and vol > best + 1e-12:
                best, best_set = vol, set(sub)
    return best


def test_usable_downlinks_are_a_best_non_overlapping_subset():
    rng = np.random.default_rng(2)
    for _ in range(30):
        n = int(rng.integers(1, 8))
        s = rng.uniform(0, 100, size=n)
        e = s + rng.uniform(1, 40, size=n)
        rate = rng.uniform(0.5, 2, size=n)
        p = Problem([Task("A", 1.0, [_alt()])],
                    downlinks=[Downlink(0, float(s[i]), float(e[i]), float(rate[i])) for i in range(n)])
        u = p.dl_usable
        for i, j in combinations(np.flatnonzero(u), 2):
            assert e[i] <= s[j] or e[j] <= s[i]
        assert float(np.sum(rate[u] * (e[u] - s[u]))) == pytest.approx(_brute_downlinks(s, e, rate))
