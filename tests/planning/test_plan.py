"""Plan output (JSON contract, timeline, reasons) and the verifier catching broken plans."""
import csv
import io
import json
import math

import numpy as np
import pytest

from groundseg.planning import (Alternative, Downlink, Incompatibility, Plan, Problem, Resource,
                                Task, solve, verify_plan)
from groundseg.table import Table


def _alt(e, l, d=10.0, att=(0.0, 0.0), data=0.0, **kw):
    return Alternative(resource=0, earliest_start_s=e, latest_end_s=l, duration_s=d,
                       start_attitude_deg=att, data_gbit=data, **kw)


@pytest.fixture()
def problem():
    tasks = [
        Task("A", 3.0, [_alt(0, 60, data=6.0)]),
        Task("B", 2.0, [_alt(135, 190, att=(30.0, 0.0), data=6.0)]),
        Task("C", 1.0, [_alt(0, 60, att=(-30.0, 0.0), data=6.0)]),
        Task("E", 1.0, [_alt(300, 360, att=(10.0, 20.0))], group="stereo1"),
        Task("F", 1.0, [_alt(300, 360, att=(10.0, -20.0))], group="stereo1"),
        Task("G", 1.0, [_alt(400, 460)]),
        Task("H", 5.0, [_alt(500, 560)], group="stereo2"),
        Task("I", 1.0, [], group="stereo2", reason_if_none="sun"),
    ]
    return Problem(tasks, resources=[Resource("SAT1", memory_capacity_gbit=10.0)],
                   downlinks=[Downlink(0, 100.0, 110.0, 1.0, "TW"), Downlink(0, 105.0, 130.0, 1.0, "KR"),
                              Downlink(0, 200.0, 210.0, 1.0, "SV")],
                   incompatibilities=[Incompatibility((("G", 0), ("B", 0)))], epoch_utc="2026-11-26T00:00:00Z")


def test_plan_content_reasons_and_json_contract(problem):
    plan = solve(problem, time_limit_s=5)
    assert verify_plan(problem, plan) == []
    assert sorted(plan.acquisitions["target"]) == ["A", "B", "E", "F"]
    assert plan.objective == 7.0 and plan.status == "optimal" and plan.gap == 0.0
    reasons = dict(zip(plan.unscheduled["target"], plan.unscheduled["reason"]))
    assert reasons == {"C": "memory", "G": "conflict", "H": "group", "I": "sun"}
    # the overlapping downlinks: TW (10 Gbit possible) and KR (25 Gbit) cannot both be used
    assert list(problem.dl_usable) == [False, True, True]
    d = json.loads(plan.to_json())
    for key in ("objective", "upper_bound", "gap", "agility_model", "memory_capacity_gbit",
                "acquisitions", "downlinks", "unscheduled"):
        assert key in d
    assert d["agility_model"] == {"model": "piecewise"}
    assert d["memory_capacity_gbit"] == 10.0
    assert d["epoch_utc"] == "2026-11-26T00:00:00Z"
    assert {u["target"]: u["reason"] for u in d["unscheduled"]} == reasons
    acq = {a["target"]: a for a in d["acquisitions"]}
    assert acq["A"]["start_s"] == 0.0 and acq["A"]["end_s"] == 10.0 and acq["A"]["resource_name"] == "SAT1"
    assert d["downlinks"] == [{"downlink": 1, "resource": 0, "resource_name": "SAT1", "station": "KR",
                               "start_s": 105.0, "end_s": 130.0, "drained_gbit": 6.0, "drain_stop_s": 111.0},
                              {"downlink": 2, "resource": 0, "resource_name": "SAT1", "station": "SV",
                               "start_s": 200.0, "end_s": 210.0, "drained_gbit": 6.0, "drain_stop_s": 206.0}]


def test_timeline_rows(problem):
    plan = solve(problem, time_limit_s=5)
    rows = list(csv.DictReader(io.StringIO(plan.timeline_csv())))
    assert list(rows[0]) == ["resource", "resource_name", "time_s", "event", "target", "station",
                             "roll_deg", "pitch_deg", "data_gbit"]
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times)
    events = [(r["event"], r["target"] or r["station"]) for r in rows]
    # E and F have the same window and the same transition either way: either order
    first, second = [x for _, x in events[10::3]]
    assert {first, second} == {"E", "F"}
    assert events == [("slew_start", "A"), ("imaging_on", "A"), ("imaging_off", "A"),
                      ("downlink_start", "KR"), ("slew_start", "B"), ("downlink_stop", "KR"),
                      ("imaging_on", "B"), ("imaging_off", "B"),
                      ("downlink_start", "SV"), ("downlink_stop", "SV"),
                      ("slew_start", first), ("imaging_on", first), ("imaging_off", first),
                      ("slew_start", second), ("imaging_on", second), ("imaging_off", second)]
    by = {(r["event"], r["target"]): float(r["time_s"]) for r in rows}
    # just-in-time slews: E (roll 10, pitch 20) <-> F (10, -20): g = 40 -> 10 + 40 / 2 = 30 s
    assert by[("imaging_on", second)] - by[("slew_start", second)] == pytest.approx(30.0)
    assert by[("slew_start", second)] >= by[("imaging_off", first)] - 1e-9
    # the first slew starts from nadir: 0 deg -> 11.66 s
    assert by[("imaging_on", "A")] - by[("slew_start", "A")] == pytest.approx(11.66)


def _with(plan, acquisitions=None, downlinks=None, objective=None, upper_bound=None):
    def edit(table, changes):
        if changes is None:
            return table
        cols = {k: np.array(table[k], copy=True) for k in table.names}
        changes(cols)
        return Table(cols)
    return Plan(objective=plan.objective if objective is None else objective,
                upper_bound=plan.upper_bound if upper_bound is None else upper_bound,
                status=plan.status, solver=plan.solver, solve_time_s=0.0,
                acquisitions=edit(plan.acquisitions, acquisitions),
                downlinks=edit(plan.downlinks, downlinks), timeline=plan.timeline,
                unscheduled=plan.unscheduled, agility_model=plan.agility_model,
                memory_capacity_gbit=plan.memory_capacity_gbit)


def _row(plan, target):
    return list(plan.acquisitions["target"]).index(target)


def test_verifier_catches_broken_plans(problem):
    plan = solve(problem, time_limit_s=5)
    assert verify_plan(problem, plan) == []
    i_a, i_e, i_f = _row(plan, "A"), _row(plan, "E"), _row(plan, "F")

    def shift(i, ds):
        def f(c):
            c["start_s"][i] += ds
            c["end_s"][i] += ds
        return f

    cases = {
        "outside window": dict(acquisitions=shift(i_a, -1.0)),
        "plus the transition": dict(acquisitions=shift(max(i_e, i_f, key=lambda i: plan.acquisitions["start_s"][i]), -1.0)),
        "objective": dict(objective=plan.objective + 1),
        "upper bound": dict(upper_bound=plan.objective - 1, objective=plan.objective),
        "used at the same time": dict(downlinks=lambda c: c["downlink"].__setitem__(1, 0)),
        "was on board to drain": dict(downlinks=lambda c: c["drained_gbit"].__setitem__(0, 7.0)),
        "exceeds rate x duration": dict(downlinks=lambda c: c["drained_gbit"].__setitem__(1, 11.0)),
    }
    for message, change in cases.items():
        bad = verify_plan(problem, _with(plan, **change))
        assert any(message in b for b in bad), (message, bad)

    def add(target, alt, start, value):
        def f(c):
            for k in c:
                src = c[k][_row(plan, "A")]
                c[k] = list(c[k]) + [src]
            c["target"][-1] = target
            c["alternative"][-1] = alt
            c["start_s"][-1] = start
            c["end_s"][-1] = start + 10.0
        return f

    bad = verify_plan(problem, _with(plan, acquisitions=add("C", 0, 35.0, 1.0), objective=plan.objective + 1))
    assert any("above capacity" in b for b in bad), bad
    bad = verify_plan(problem, _with(plan, acquisitions=add("G", 0, 400.0, 1.0), objective=plan.objective + 1))
    assert any("forbidden combination" in b for b in bad), bad
    bad = verify_plan(problem, _with(plan, acquisitions=add("A", 0, 20.0, 3.0), objective=plan.objective + 3))
    assert any("scheduled twice" in b for b in bad), bad

    def drop_e(c):
        for k in c:
            c[k] = [v for j, v in enumerate(c[k]) if j != i_e]
    bad = verify_plan(problem, _with(plan, acquisitions=drop_e, objective=plan.objective - 1))
    assert any("partly scheduled" in b for b in bad), bad


def test_untimed_rows_have_no_times():
    p = Problem([Task(1, 2.0, [Alternative(data_gbit=1.0, label="13")])])
    plan = solve(p)
    row = plan.acquisitions.records()[0]
    assert row["start_s"] is None and row["end_s"] is None and row["label"] == "13"
    assert len(plan.timeline) == 0
    assert json.loads(plan.to_json())["memory_capacity_gbit"] is None
    assert math.isfinite(plan.gap)
