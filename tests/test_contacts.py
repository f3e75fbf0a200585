"""Contact plans: decisions and reasons on hand-made cases, feasibility and optimality
against an exhaustive search on small random cases."""
import itertools
import json

import numpy as np
import pytest

from groundseg.contacts import (CONTACT_COLUMNS, parse_priorities, plan_contacts, quality_of)
from groundseg.errors import GroundsegError
from groundseg.orbits import Constellation
from groundseg.passes import PassTable, predict_passes
from groundseg.stations import Station

T0 = np.datetime64("2026-11-26T00:00:00", "ns")


def _passes(rows):
    """rows: (satellite, station, aos_s, los_s, max_elevation_deg)."""
    sat, st, aos, los, el = (list(x) for x in zip(*rows))
    names = sorted(set(sat))
    stations = sorted(set(st))
    aos = T0 + (np.array(aos, dtype=float) * 1e9).astype("timedelta64[ns]")
    los = T0 + (np.array(los, dtype=float) * 1e9).astype("timedelta64[ns]")
    n = len(rows)
    return PassTable(dict(
        satellite=np.array(sat, dtype=object),
        norad_id=np.array([90000 + names.index(s) for s in sat], dtype=np.int64),
        station=np.array(st, dtype=object),
        satellite_index=np.array([names.index(s) for s in sat], dtype=np.int64),
        station_index=np.array([stations.index(s) for s in st], dtype=np.int64),
        aos_utc=aos, tca_utc=aos + (los - aos) // 2, los_utc=los,
        duration_s=(los - aos) / np.timedelta64(1, "s"),
        max_elevation_deg=np.array(el, dtype=float), aos_azimuth_deg=np.zeros(n),
        tca_azimuth_deg=np.zeros(n), los_azimuth_deg=np.zeros(n),
        orbit_number=np.zeros(n, dtype=np.int64), sunlit_at_tca=np.ones(n, dtype=bool),
        truncated=np.full(n, "none", dtype=object), status=np.full(n, "ok", dtype=object)))


def _by_sat(plan):
    return {s: (bool(ok), why, conf) for s, ok, why, conf in
            zip(plan.passes.satellite, plan.scheduled, plan.reason, plan.conflicts_with)}


def test_reasons_on_a_hand_made_station():
    st = [Station("G", 0, 0, antennas=1, setup_time_s=60.0)]
    p = _passes([
        ("A", "G", 0, 600, 40),        # priority 1, best quality
        ("B", "G", 300, 900, 40),      # priority 2, overlaps A
        ("C", "G", 100, 400, 10),      # priority 1, overlaps A, worse
        ("D", "G", 630, 1000, 40),     # fits after A only without the 60 s set-up
        ("E", "G", 1100, 1500, 30),    # fits after A with the set-up
        ("F", "G", 2000, 2020, 60),    # too short
    ])
    plan = plan_contacts(p, st, priorities={"A": 1, "C": 1}, min_duration_s=30)
    got = _by_sat(plan)
    assert got["A"] == (True, "", "")
    assert got["B"] == (False, "below_priority", "A")
    assert got["C"] == (False, "antenna_busy", "A")
    assert got["D"] == (False, "setup_time", "A")
    assert got["E"][0] and got["F"] == (False, "too_short", "")
    assert list(plan.priority[plan.passes.satellite == "B"]) == [2]      # unlisted: one below
    lines = plan.to_csv().splitlines()
    assert lines[0] == ",".join(CONTACT_COLUMNS)
    assert json.loads(plan.to_json())[0]["status"] in ("scheduled", "dropped")
    assert plan.summary() == {"scheduled": 2, "dropped": 4, "too_short": 1, "satellite_busy": 0,
                              "below_priority": 1, "antenna_busy": 1, "setup_time": 1}


def test_two_antennas_and_satellite_exclusive():
    st = [Station("G", 0, 0, antennas=2, setup_time_s=0.0), Station("H", 1, 1, setup_time_s=0.0)]
    p = _passes([("A", "G", 0, 500, 50), ("B", "G", 100, 600, 40), ("C", "G", 200, 700, 30),
                 ("A", "H", 50, 550, 60)])
    plan = plan_contacts(p, st)
    got = {(s, n): ok for s, n, ok in zip(plan.passes.satellite, plan.passes.station, plan.scheduled)}
    assert got == {("A", "G"): True, ("B", "G"): True, ("C", "G"): False, ("A", "H"): True}
    assert sorted(plan.antenna[plan.scheduled & (plan.passes.station == "G")]) == [1, 2]
    excl = plan_contacts(p, st, satellite_exclusive=True)
    got = {(s, n): (ok, why, c) for s, n, ok, why, c in zip(
        excl.passes.satellite, excl.passes.station, excl.scheduled, excl.reason, excl.conflicts_with)}
    assert got[("A", "G")] == (False, "satellite_busy", "H")      # the better A pass wins
    assert got[("C", "G")][0]                                      # and C gets the antenna


def _feasible(plan, stations):
    by = {s.name: s for s in stations}
    aos = plan.passes.aos_utc.astype(np.int64) / 1e9
    los = plan.passes.los_utc.astype(np.int64) / 1e9
    for name, s in by.items():
        sel = plan.scheduled & (plan.passes.station == name)
        assert set(plan.antenna[sel]) <= set(range(1, s.antennas + 1))
        for a in range(1, s.antennas + 1):
            i = np.flatnonzero(sel & (plan.antenna == a))
            i = i[np.argsort(aos[i])]
            assert np.all(aos[i][1:] >= los[i][:-1] + s.setup_time_s - 1e-6)
    assert np.all(plan.antenna[~plan.scheduled] == 0)


def _exhaustive(p, stations, prio):
    """Lexicographic optimum by enumerating every subset (tiny cases only)."""
    by = {s.name: s for s in stations}
    n = len(p)
    q = quality_of(p)
    aos = p.aos_utc.astype(np.int64) / 1e9
    los = p.los_utc.astype(np.int64) / 1e9
    best = None
    for mask in itertools.product([0, 1], repeat=n):
        sel = np.flatnonzero(mask)
        ok = True
        for name, s in by.items():
            i = sel[p.station[sel] == name]
            for t in aos[i]:
                if np.count_nonzero((aos[i] <= t) & (los[i] + s.setup_time_s > t)) > s.antennas:
                    ok = False
        if ok:
            key = tuple(q[sel][prio[sel] == level].sum() for level in sorted(set(prio)))
            if best is None or key > best:
                best = key
    return best


def test_greedy_is_feasible_and_bounded_by_the_exact_optimum():
    rng = np.random.default_rng(8)
    for trial in range(6):
        stations = [Station("G", 0, 0, antennas=int(rng.integers(1, 3)), setup_time_s=60.0),
                    Station("H", 0, 1, antennas=1, setup_time_s=120.0)]
        rows = []
        for k in range(11):
            aos = float(rng.uniform(0, 3000))
            rows.append((f"S{k % 5}", "G" if k % 3 else "H", aos, aos + float(rng.uniform(60, 700)),
                         float(rng.uniform(5, 90))))
        p = _passes(rows)
        prio = {f"S{k}": int(rng.integers(1, 3)) for k in range(5)}
        plan = plan_contacts(p, stations, priorities=prio)
        _feasible(plan, stations)
        opt = plan.optimality("milp")
        brute = _exhaustive(plan.passes, stations, plan.priority)
        np.testing.assert_allclose(opt["best_quality"], brute, rtol=1e-6, atol=1e-6)
        assert np.all(opt["greedy_quality"] <= opt["best_quality"] + 1e-6)
        lp = plan.optimality("lp")
        assert np.all(lp["best_quality"] >= opt["best_quality"] - 1e-6)


def test_plan_from_predicted_passes_of_a_crowded_constellation():
    c = Constellation.walker(53.0, 24, 3, 1, 550.0, "2026-11-26T00:00:00Z")
    stations = [Station("Mid", 35.0, 10.0, antennas=2, setup_time_s=90.0),
                Station("Near", 36.0, 11.0, antennas=1, setup_time_s=60.0)]
    passes = predict_passes(c, stations, "2026-11-26T00:00:00Z", "2026-11-26T12:00:00Z")
    plan = plan_contacts(passes, stations, priorities={"WALKER-1": 1}, satellite_exclusive=True)
    assert len(plan) == len(passes) and plan.summary()["dropped"] > 0
    _feasible(plan, stations)
    opt = plan.optimality("lp")
    assert np.all(opt["ratio"] <= 1 + 1e-9) and np.all(opt["ratio"] > 0.5)


def test_priority_input_errors():
    assert parse_priorities("satellite,priority\n# c\nFS8-1,1\n99802,2\n") == {"FS8-1": 1, "99802": 2}
    with pytest.raises(GroundsegError, match=":2: priority 'x'"):
        parse_priorities("satellite,priority\nA,x\n", "p.csv")
    with pytest.raises(GroundsegError, match="header"):
        parse_priorities("sat,prio\nA,1\n")
    p = _passes([("A", "G", 0, 100, 10)])
    with pytest.raises(GroundsegError, match="without passes"):
        plan_contacts(p, [Station("G", 0, 0)], priorities={"Z": 1})
    with pytest.raises(GroundsegError, match="not given"):
        plan_contacts(p, [Station("X", 0, 0)])
    with pytest.raises(GroundsegError, match=">= 1"):
        plan_contacts(p, [Station("G", 0, 0)], priorities={"A": 0})
