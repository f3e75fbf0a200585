"""Minimal-perturbation re-planning on small problems: each move on a case built for it, and
random problems where every re-plan passes the verifier, frozen acquisitions never move and
the urgent task is served whenever its best-ranked alternative fits beside the frozen ones."""
import math

import numpy as np
import pytest

from groundseg.planning import (Alternative, Budget, PlanningError, Problem, RateAccelerationAgility,
                                Resource, Task, replan, solve, verify_plan)
from groundseg.planning._search_state import State
from groundseg.planning.replan import load_plan

QUICK = RateAccelerationAgility(rate_deg_s=10.0, accel_deg_s2=10.0, settle_s=2.0)


def _alt(e, l, d=10.0, roll=0.0, r=0, uses=None):
    return Alternative(r, e, l, d, (roll, 0.0), uses=uses)


def _problem(tasks, budgets=()):
    return Problem(tasks, [Resource("S", agility=QUICK), Resource("T", agility=QUICK)],
                   agility=QUICK, budgets=budgets)


def _actions(res):
    return dict(zip(res.changes["task"], res.changes["action"]))


def test_insert_shift_remove():
    # insert: a free slot
    p = _problem([Task("A", 1.0, [_alt(0, 20)]), Task("U", 9.0, [_alt(100, 120)])])
    res = replan(p, {"A": (0, 0.0)}, "U")
    assert res.strategy == "insert" and _actions(res) == {"A": "kept", "U": "added"}
    # shift: U needs [50, 60]; B at 55 can wait until 80
    p = _problem([Task("B", 1.0, [_alt(55, 90)]), Task("U", 9.0, [_alt(50, 60)])])
    res = replan(p, {"B": (0, 55.0)}, "U")
    assert res.strategy == "shift" and _actions(res) == {"B": "moved", "U": "added"}
    assert verify_plan(p, res.plan) == [] and res.displaced_value == 0.0
    # remove: C (1) and D (5) block U; dropping the cheaper one is enough, and the other task's
    # second opportunity takes it back
    p = _problem([Task("C", 1.0, [_alt(50, 60), _alt(300, 310)]), Task("D", 5.0, [_alt(62, 72)]),
                  Task("U", 9.0, [_alt(45, 68, d=20)])])
    res = replan(p, {"C": (0, 50.0), "D": (0, 62.0)}, "U")
    acts = _actions(res)
    assert res.strategy == "remove" and acts["U"] == "added"
    assert acts["C"] == "moved" and acts["D"] == "dropped"   # D is in the way either way
    reasons = dict(zip(res.changes["task"], res.changes["reason"]))
    assert "another opportunity" in reasons["C"] and "gave way" in reasons["D"]
    assert verify_plan(p, res.plan) == []


def test_frozen_rank_and_budget():
    tasks = [Task("F", 1.0, [_alt(0, 10)]), Task("G", 2.0, [_alt(30, 40, r=1)]),
             Task("U", 9.0, [_alt(0, 12), _alt(25, 45, r=1), _alt(200, 210)])]
    p = _problem(tasks)
    current = {"F": (0, 0.0), "G": (0, 30.0)}
    # F is frozen (already commanded): the first choice is impossible; G's pass is next
    res = replan(p, current, "U", rank=[0, 1, 2], frozen_until_s=[5.0, -math.inf])
    assert res.alternative == 1 and _actions(res)["F"] == "kept" and _actions(res)["G"] == "dropped"
    # equal rank: the alternative that displaces nothing wins
    res = replan(p, current, "U", rank=[1, 1, 1], frozen_until_s=[5.0, -math.inf])
    assert res.alternative == 2 and res.strategy == "insert" and res.displaced_value == 0.0
    # a radar budget of 25 s: U (10 s) pushes out the cheaper of two 10 s acquisitions
    radar = {"radar_s": 10.0}
    p = _problem([Task("A", 1.0, [_alt(0, 10, uses=radar)]), Task("B", 3.0, [_alt(100, 110, uses=radar)]),
                  Task("U", 9.0, [_alt(1000, 1010, uses=radar)])],       # far from both in time
                 budgets=[Budget(0, 0.0, 1200.0, "radar_s", 25.0, "orbit")])
    res = replan(p, {"A": (0, 0.0), "B": (0, 100.0)}, "U")
    assert _actions(res) == {"A": "dropped", "B": "kept", "U": "added"} and verify_plan(p, res.plan) == []


def test_bad_current_plans():
    p = _problem([Task("A", 1.0, [_alt(0, 20)]), Task("U", 9.0, [_alt(100, 120)])])
    for current, message in (({"X": (0, 0.0)}, "unknown task"), ({"A": (3, 0.0)}, "no alternative"),
                             ({"A": (0, 50.0)}, "outside its window")):
        with pytest.raises(PlanningError, match=message):
            replan(p, current, "U")
    with pytest.raises(PlanningError, match="already in the plan"):
        replan(p, {"U": (0, 100.0)}, "U")
    with pytest.raises(PlanningError, match="unknown urgent"):
        replan(p, {}, "V")
    # a request with no opportunity at all leaves the plan as it is
    res = replan(p, {"A": (0, 0.0)}, "V", missing_ok=True)
    assert res.alternative == -1 and res.strategy == "none" and _actions(res) == {"A": "kept"}
    assert verify_plan(p, res.plan) == []
    overlap = _problem([Task("A", 1.0, [_alt(0, 20)]), Task("B", 1.0, [_alt(0, 20)])])
    with pytest.raises(PlanningError, match="does not satisfy"):
        load_plan(overlap, {"A": (0, 0.0), "B": (0, 5.0)})


def _random(seed):
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(14):
        alts = []
        for _ in range(int(rng.integers(1, 3))):
            d = float(rng.uniform(5, 20))
            e = float(rng.uniform(0, 900))
            r = int(rng.integers(2))
            alts.append(Alternative(r, e, e + float(rng.uniform(d, 80)), d,
                                    (float(rng.uniform(-40, 40)), float(rng.uniform(-15, 15))),
                                    data_gbit=float(rng.uniform(1, 5)),
                                    uses={"radar_s": d} if r == 1 else None))
        tasks.append(Task(f"T{t}", float(rng.integers(1, 10)), alts))
    urgent = [Alternative(int(rng.integers(2)), e, e + 40.0, 15.0, (float(rng.uniform(-30, 30)), 0.0),
                          data_gbit=4.0, uses={"radar_s": 15.0}) for e in rng.uniform(100, 800, 4)]
    tasks.append(Task("URGENT", 50.0, urgent))
    budgets = [Budget(1, 0.0, 500.0, "radar_s", 60.0), Budget(1, 500.0, 1000.0, "radar_s", 60.0)]
    resources = [Resource("A", memory_capacity_gbit=25.0), Resource("B", memory_capacity_gbit=20.0, agility=QUICK)]
    return Problem(tasks, resources, agility=None, budgets=budgets), rng


@pytest.mark.parametrize("seed", range(12))
def test_random_replans_verify(seed):
    p, rng = _random(seed)
    base = solve(p, method="greedy")
    current = {t: (int(j), float(s)) for t, j, s in zip(base.acquisitions["target"],
                                                       base.acquisitions["alternative"],
                                                       base.acquisitions["start_s"]) if t != "URGENT"}
    frozen = rng.uniform(0, 300, 2)
    rank = rng.integers(0, 3, 4).astype(float)
    res = replan(p, current, "URGENT", rank=rank, frozen_until_s=frozen)
    assert verify_plan(p, res.plan) == []
    acts = _actions(res)
    for tid, (j, s) in current.items():
        a = int(p.task_alts[p.task_index[tid]][j])
        if s < frozen[p.alt_resource[a]]:
            assert acts[tid] == "kept", tid                    # commanded: untouched
    # served whenever an alternative of the best rank fits next to the frozen acquisitions
    only_frozen = {tid: js for tid, js in current.items()
                   if js[1] < frozen[p.alt_resource[p.task_alts[p.task_index[tid]][js[0]]]]}
    u = p.task_index["URGENT"]
    for level in np.unique(rank):
        ok = [j for j in np.flatnonzero(rank == level)
              if load_plan(p, only_frozen).fits(int(p.task_alts[u][j]))]
        if ok:
            assert res.alternative in np.flatnonzero(rank == level), (level, res.alternative)
            assert acts["URGENT"] == "added"
            break
    else:
        assert res.alternative == -1 and "URGENT" not in acts
    assert isinstance(load_plan(p, {}), State)


# -- the request in a scenario's plan ------------------------------------------------------

@pytest.fixture(scope="module")
def running():
    """The bundled optical + SAR scenario and its (greedy) day plan, as plan.json."""
    import json

    from groundseg.mission_plan import plan_mission
    from sims.planning_inputs import fleet, plan_inputs
    from sims.scenario import bundled_scenario
    scenario = bundled_scenario("formosat8_sar")
    mission = plan_mission(plan_inputs(scenario), time_limit_s=1.0, method="greedy")
    return scenario, fleet(scenario), json.loads(mission.plan.to_json())


def _aoi():
    from groundseg.targets import Targets
    return Targets(["quake"], 0, 0, 0, 1.0, 10.0, 45.0, "mono", polygons=[[np.array(
        [[121.45, 23.85], [121.75, 23.85], [121.75, 24.15], [121.45, 24.15]])]])


def test_request_in_the_scenario_plan(running):
    from groundseg.response import ResponseError, ResponseSettings, onboard_from_plan
    from groundseg.response_plan import CHANGE_COLUMNS, replan_request
    scenario, fleet, plan = running
    window = (scenario.window.start, scenario.window.end)
    stations, targets = list(scenario.stations), scenario.load_targets()
    names = fleet.constellation.names
    # at night, cloudy: the radar serves it, and everything commanded before stays
    at = "2026-11-26T13:00:00Z"
    onboard = onboard_from_plan(plan, at, names, np.zeros(len(names)))
    new = replan_request(fleet, stations, targets, window, plan, _aoi(), at,
                         ResponseSettings(cloud_fraction=0.9), onboard)
    assert new.replan_s < 2.0
    p, model_plan = new.plan.problem, new.plan.plan
    assert verify_plan(p, model_plan) == []
    urgent = [a for a in new.plan.acquisitions if a["target_group"] == "quake"]
    assert len(urgent) == 1 and urgent[0]["sensor"] == "sar" and urgent[0]["satellite"].startswith("TSAR")
    assert tuple(new.changes.names) == CHANGE_COLUMNS
    acts = dict(zip(new.changes["task"], new.changes["action"]))
    assert acts["quake"] == "added" and set(acts.values()) <= {"kept", "moved", "dropped", "added"}
    for a in plan["acquisitions"]:
        tid = a["target"] if a["part"] in ("mono", "strip") else f"{a['target']}/{a['part']}"
        if a["start_utc"] < at:
            assert acts[tid] == "kept", tid                      # the past does not change
    assert new.result.alternative >= 0 and len(new.changes) >= len(plan["acquisitions"])
    assert any(line.startswith("re-plan: TSAR") for line in new.summary_lines())
    # a plan of other targets does not map onto the scenario
    other = dict(plan, acquisitions=[dict(plan["acquisitions"][0], target="nowhere")])
    with pytest.raises(ResponseError, match=r"acquisitions\[0\]: 'nowhere.* is not a task"):
        replan_request(fleet, stations, targets, window, other, _aoi(), at)
    # 20 min before the plan's end no command can go up in time: the plan stays as it is
    late = replan_request(fleet, stations, targets, window, plan, _aoi(), "2026-11-26T23:40:00Z")
    assert late.result.alternative == -1 and set(late.changes["action"]) == {"kept"}
    assert "fits nowhere" in late.summary_lines()[0]
    with pytest.raises(ResponseError, match="outside the plan's window"):
        replan_request(fleet, stations, targets, window, plan, _aoi(), "2026-11-28T00:00:00Z")
