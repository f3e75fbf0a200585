"""Dense agile instances: groundseg against a randomized greedy insertion, side by side.

    python benchmarks/bench_dense.py [--seeds 0 1 2 3 4] [--time-limit 60] [--cpu-time]

The generator (``dense_instance``) makes one satellite over one dense pass: 100-400 requests
(polygons of 2-5 strips, point targets, stereo pairs) giving 300-600 strips over 2,400 s;
each strip can be imaged in either direction (start and end roll swapped), its pitch sweeps
from +30 to -30 deg over its ~110 s window, so the Liu transition times between consecutive
strips run from 11.66 s to about 60 s and depend on the order and the start times. A polygon
is worth ``priority * v(f)`` of its covered area fraction ``f`` with the convex curve
``v = (0, 0.15, 0.45, 1)`` at ``f = (0, 0.5, 0.8, 1)``; a point ``priority``; a stereo pair
``priority`` when both views come from one direction (a group with the same alternative).

Both methods get the same budget in this one process: ``groundseg.planning.solve`` with
``time_limit_s``, and a plain randomized greedy insertion (requests in priority order with
noise, each strip inserted at the first position of the sequence where it fits in either
direction, pushing successors within their windows) restarted until the same time has
passed, keeping its best. With ``--cpu-time`` the baseline's budget is the process CPU time
groundseg used (fair on a loaded machine). Every plan is scored by ``check``, written here
from the instance arrays only: windows, per-pair transitions recomputed from the attitudes,
groups and their direction, and the true objective with the request curves.

Goal (issue 15): on every seed, groundseg >= 1.05 x the baseline's best, and groundseg's gap
to its upper bound <= 10 %.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.planning._brute import piecewise_s  # noqa: E402  (the tests' agility reference)

HORIZON_S = 2400.0
WINDOW_S = 110.0
PITCH_DEG = 30.0
CURVE_F = (0.0, 0.5, 0.8, 1.0)
CURVE_V = (0.0, 0.15, 0.45, 1.0)


# -- the instance ---------------------------------------------------------------------------

def dense_instance(seed: int) -> dict:
    """Plain arrays: per strip ``request``, ``window`` (2,), ``duration``, ``roll`` (2,) start
    and end roll of direction 0 (direction 1 swaps them), ``share``; per request ``kind``
    (0 polygon, 1 point, 2 stereo), ``priority``, ``strips``. Stereo strips carry ``view``
    (+1 fore: pitch >= 15 deg, -1 aft: pitch <= -15 deg)."""
    rng = np.random.default_rng(seed)
    while True:
        n_req = int(rng.integers(100, 401))
        kind = rng.choice(3, size=n_req, p=[0.45, 0.4, 0.15])
        n_strips = np.where(kind == 0, rng.integers(2, 6, size=n_req), np.where(kind == 1, 1, 2))
        if 300 <= n_strips.sum() <= 600:
            break
    req_strips, strips = [], []
    for q in range(n_req):
        centre = rng.uniform(WINDOW_S, HORIZON_S - WINDOW_S)
        roll = rng.uniform(-45.0, 45.0)
        ids = []
        if kind[q] == 0:
            area = rng.uniform(0.5, 1.5, size=n_strips[q])
            for k in range(n_strips[q]):
                # adjacent strips: side by side across track, slightly staggered along it
                t = centre + rng.uniform(-20, 20)
                r = float(np.clip(roll + 2.5 * (k - n_strips[q] / 2), -48, 48))
                ids.append(len(strips))
                strips.append((q, t, r, float(area[k] / area.sum()), 0))
        else:
            views = (0,) if kind[q] == 1 else (1, -1)
            for v in views:
                ids.append(len(strips))
                strips.append((q, centre, float(roll), 1.0 / len(views), v))
        req_strips.append(ids)
    n = len(strips)
    out = {"n_requests": n_req, "kind": kind, "priority": rng.integers(1, 11, size=n_req).astype(float),
           "strips": req_strips, "request": np.array([s[0] for s in strips]),
           "share": np.array([s[3] for s in strips]), "view": np.array([s[4] for s in strips])}
    dur = rng.uniform(5.0, 15.0, size=n)
    centre = np.array([s[1] for s in strips])
    lo, hi = centre - WINDOW_S / 2, centre + WINDOW_S / 2
    sweep = 2 * PITCH_DEG / WINDOW_S                      # deg of pitch per s
    # stereo views: the part of the window with |pitch| >= 15 deg at both ends
    fore = out["view"] == 1
    aft = out["view"] == -1
    hi = np.where(fore, lo + (PITCH_DEG - 15.0) / sweep, hi)
    lo = np.where(aft, centre + 15.0 / sweep - 0, lo)
    hi = np.maximum(hi, lo + dur)
    half = rng.uniform(1.0, 5.0, size=n)
    roll = np.array([s[2] for s in strips])
    out.update(window=np.stack([lo, hi], 1), duration=dur, centre=centre,
               roll=np.stack([roll - half, roll + half], 1))
    return out


def pitch_deg(inst, i, t):
    """Pitch (deg) looking at strip ``i``'s centre at time ``t``: +30 at window start of a
    full window, 0 overhead, -30 at its end."""
    return PITCH_DEG * (inst["centre"][i] - t) / (WINDOW_S / 2)


def attitudes(inst, i, direction, s):
    """(start (roll, pitch), end (roll, pitch)) of strip ``i`` imaged in ``direction`` from ``s``."""
    r0, r1 = inst["roll"][i] if direction == 0 else inst["roll"][i][::-1]
    d = inst["duration"][i]
    return (r0, pitch_deg(inst, i, s)), (r1, pitch_deg(inst, i, s + d))


def liu_s(a, b):
    """Liu et al. (2017) transition time between attitudes: the tests' reference, not groundseg's."""
    return piecewise_s(b[0] - a[0], b[1] - a[1])


def curve(f):
    return float(np.interp(f, CURVE_F, CURVE_V))


# -- the independent checker --------------------------------------------------------------------

def check(inst, plan) -> float:
    """True objective of ``plan`` = [(strip, direction, start_s)]; AssertionError on any
    violation (window, transition, a strip twice, stereo pair split or in two directions)."""
    plan = sorted(plan, key=lambda x: x[2])
    seen = set()
    prev = None
    for i, dirn, s in plan:
        assert i not in seen, f"strip {i} twice"
        seen.add(i)
        lo, hi = inst["window"][i]
        d = inst["duration"][i]
        assert lo - 1e-6 <= s and s + d <= hi + 1e-6, f"strip {i} outside its window"
        start, end = attitudes(inst, i, dirn, s)
        if prev is not None:
            need = prev[0] + liu_s(prev[1], start)
            assert s >= need - 1e-6, f"strip {i} starts {need - s:.6f} s too early"
        prev = (s + d, end)
    dirs = {i: dirn for i, dirn, _ in plan}
    total = 0.0
    for q in range(inst["n_requests"]):
        ids = inst["strips"][q]
        on = [i in seen for i in ids]
        if inst["kind"][q] == 2:
            assert all(on) or not any(on), f"stereo request {q} split"
            if all(on):
                assert dirs[ids[0]] == dirs[ids[1]], f"stereo request {q} in two directions"
                total += inst["priority"][q]
        elif inst["kind"][q] == 1:
            total += inst["priority"][q] * on[0]
        else:
            f = min(1.0, sum(inst["share"][i] for i, o in zip(ids, on) if o))
            total += inst["priority"][q] * curve(f)
    return total


# -- groundseg --------------------------------------------------------------------------------

def to_problem(inst):
    from groundseg.planning import Alternative, PiecewiseLinear, Problem, Request, Task
    tasks, requests = [], []
    for q in range(inst["n_requests"]):
        ids = inst["strips"][q]
        prio = float(inst["priority"][q])
        for i in ids:
            lo, hi = (float(x) for x in inst["window"][i])
            d = float(inst["duration"][i])
            alts = []
            for dirn in (0, 1):
                ls = hi - d
                s0, e0 = attitudes(inst, i, dirn, lo)
                s1, e1 = attitudes(inst, i, dirn, ls)
                alts.append(Alternative(earliest_start_s=lo, latest_end_s=hi, duration_s=d,
                                        start_attitude_deg=[s0, s1] if ls > lo else s0,
                                        end_attitude_deg=[e0, e1] if ls > lo else e0,
                                        label=str(dirn)))
            weight = prio if inst["kind"][q] == 1 else prio / 2 if inst["kind"][q] == 2 else 0.0
            tasks.append(Task(i, weight, alts, group=f"S{q}" if inst["kind"][q] == 2 else None))
        if inst["kind"][q] == 0:
            requests.append(Request(f"P{q}", list(ids), PiecewiseLinear(CURVE_F, CURVE_V).scaled(prio),
                                    shares=[float(inst["share"][i]) for i in ids]))
    return Problem(tasks, requests=requests, same_alternative_groups=True)


def groundseg_plan(inst, time_limit_s, seed=0):
    from groundseg.planning import solve
    p = to_problem(inst)
    plan = solve(p, time_limit_s=time_limit_s, seed=seed)
    acq = plan.acquisitions
    out = [(int(t), int(a), float(s)) for t, a, s in zip(acq["target"], acq["alternative"], acq["start_s"])]
    return out, plan


# -- the baseline: randomized greedy insertion -------------------------------------------------

def _earliest(inst, prev, i, dirn, lo):
    """Earliest start >= lo of (i, dirn) after ``prev`` = (end_s, end attitude), or inf."""
    hi = inst["window"][i][1] - inst["duration"][i]
    x = max(lo, inst["window"][i][0])
    for _ in range(50):
        if x > hi + 1e-9:
            return math.inf
        if prev is None:
            return x
        start, _ = attitudes(inst, i, dirn, x)
        need = prev[0] + liu_s(prev[1], start)
        if need <= x + 1e-9:
            return x
        x = need
    return math.inf


def _insert(inst, seq, i, dirn):
    """Insert (i, dirn) into ``seq`` [(i, dirn, s)] at the feasible position that delays
    its successors least (cheapest insertion), pushing them within their windows; the new
    sequence or None."""
    best, best_cost = None, math.inf
    for pos in range(len(seq) + 1):
        prev = None
        if pos > 0:
            j, dj, sj = seq[pos - 1]
            prev = (sj + inst["duration"][j], attitudes(inst, j, dj, sj)[1])
            if sj > inst["window"][i][1]:
                break
        s = _earliest(inst, prev, i, dirn, inst["window"][i][0])
        if s == math.inf:
            continue
        new = seq[:pos] + [(i, dirn, s)]
        ok, cost = True, 0.0
        for j, dj, sj in seq[pos:]:
            a, b, sa = new[-1]
            prev = (sa + inst["duration"][a], attitudes(inst, a, b, sa)[1])
            x = _earliest(inst, prev, j, dj, sj)
            if x == math.inf:
                ok = False
                break
            if x <= sj:  # nothing further moves
                new += seq[len(new) - 1:]
                break
            cost += x - sj
            new.append((j, dj, x))
        if ok and cost < best_cost:
            best, best_cost = new, cost
            if cost == 0.0:
                break
    return best


def baseline(inst, budget, rng, clock=time.perf_counter):
    """Best plan of randomized greedy insertion restarts within ``budget`` of ``clock``."""
    t_end = clock() + budget
    best, best_val, runs = [], 0.0, 0
    while clock() < t_end:
        runs += 1
        order = np.argsort(-inst["priority"] * rng.uniform(0.5, 1.5, size=inst["n_requests"]))
        seq = []
        for q in order:
            ids = list(inst["strips"][q])
            stereo = inst["kind"][q] == 2
            dirs = [0, 1] if rng.random() < 0.5 else [1, 0]
            if stereo:
                for dirn in dirs:
                    trial = seq
                    for i in ids:
                        trial = _insert(inst, trial, i, dirn) if trial is not None else None
                    if trial is not None:
                        seq = trial
                        break
                continue
            for i in ids:
                for dirn in dirs:
                    trial = _insert(inst, seq, i, dirn)
                    if trial is not None:
                        seq = trial
                        break
            if clock() >= t_end:
                break
        val = check(inst, seq)
        if val > best_val:
            best, best_val = seq, val
    return best, best_val, runs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--cpu-time", action="store_true",
                    help="give the baseline the CPU time groundseg used (a loaded machine)")
    args = ap.parse_args(argv)
    print(f"dense agile instances, {args.time_limit:g} s each; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"{'seed':>4} {'req':>4} {'strips':>6} {'groundseg':>10} {'bound':>9} {'gap':>6} "
          f"{'baseline':>9} {'runs':>5} {'ratio':>6}  goal")
    ok_all = True
    for seed in args.seeds:
        inst = dense_instance(seed)
        c0, w0 = time.process_time(), time.perf_counter()
        plan, gp = groundseg_plan(inst, args.time_limit, seed)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        ours = check(inst, plan)
        assert abs(ours - gp.objective) <= 1e-6 * max(1.0, ours), (ours, gp.objective)
        gap = (gp.upper_bound - ours) / gp.upper_bound
        if args.cpu_time:
            _, base, runs = baseline(inst, cpu, np.random.default_rng(seed), clock=time.process_time)
        else:
            _, base, runs = baseline(inst, wall, np.random.default_rng(seed))
        ratio = ours / base if base > 0 else math.inf
        ok = ratio >= 1.05 and gap <= 0.10
        ok_all &= ok
        print(f"{seed:>4} {inst['n_requests']:>4} {len(inst['request']):>6} {ours:>10.2f} "
              f"{gp.upper_bound:>9.2f} {100 * gap:>5.1f}% {base:>9.2f} {runs:>5} {ratio:>6.3f}  "
              f"{'met' if ok else 'NOT met'}  ({wall:.1f} s wall, {cpu:.1f} s CPU)", flush=True)
    print("goal (>= 1.05 x baseline and gap <= 10 % on every seed):", "met" if ok_all else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
