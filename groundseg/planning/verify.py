"""Model-level plan verifier, independent of the solver code.

It rereads the plan's public tables against the :class:`Problem` and recomputes, with its
own code: one alternative per task, windows and durations, per-resource non-overlap and
transition times (vectorised agility model on interpolated attitudes), forbidden
combinations, all-or-nothing groups, the memory level under the plan's downlink volumes
(never above capacity, never below zero, each downlink volume achievable at its rate inside
its window, no two used downlinks of a resource at once), the budgets (radar time, energy)
and the objective. The geometry
(are the windows real passes?) is the mapping's business, not this module's.
"""
from __future__ import annotations

import math

import numpy as np

from .model import Problem

__all__ = ["verify_plan"]


def _att(p: Problem, a: int, s: float, end: bool) -> np.ndarray:
    q0, q1 = int(p.att_ptr[a]), int(p.att_ptr[a + 1])
    vals = (p.att_end_deg if end else p.att_start_deg)[q0:q1]
    ts = p.att_time_s[q0:q1]
    return np.array([np.interp(s, ts, vals[:, 0]), np.interp(s, ts, vals[:, 1])])


def verify_plan(p: Problem, plan, tol_s: float = 1e-6, tol_gbit: float = 1e-6) -> list[str]:
    """Violations of ``plan`` against ``p`` (empty list: the plan is valid)."""
    bad: list[str] = []
    acq = plan.acquisitions
    n = len(acq)
    chosen: dict[int, int] = {}
    starts: dict[int, float] = {}
    value = 0.0
    for i in range(n):
        tid = acq["target"][i]
        if tid not in p.task_index:
            bad.append(f"acquisitions[{i}]: unknown target {tid!r}")
            continue
        t = p.task_index[tid]
        j = int(acq["alternative"][i])
        if not 0 <= j < len(p.task_alts[t]):
            bad.append(f"acquisitions[{i}]: target {tid!r} has no alternative {j}")
            continue
        a = int(p.task_alts[t][j])
        if t in chosen:
            bad.append(f"acquisitions[{i}]: target {tid!r} scheduled twice")
            continue
        if not p.alt_valid[a]:
            bad.append(f"acquisitions[{i}]: alternative {j} of {tid!r} is unusable ({p.alt_issue[a]})")
        if int(acq["resource"][i]) != int(p.alt_resource[a]):
            bad.append(f"acquisitions[{i}]: resource {acq['resource'][i]} but the alternative is on {p.alt_resource[a]}")
        chosen[t] = a
        s = float(acq["start_s"][i])
        if p.alt_timed[a]:
            e, l, d = p.alt_earliest_s[a], p.alt_latest_end_s[a], p.alt_duration_s[a]
            if not math.isfinite(s):
                bad.append(f"acquisitions[{i}] {tid!r}: timed alternative without a start time")
                continue
            if s < e - tol_s or s + d > l + tol_s:
                bad.append(f"acquisitions[{i}] {tid!r}: [{s:.6f}, {s + d:.6f}] outside window [{e:.6f}, {l:.6f}]")
            if abs(float(acq["end_s"][i]) - (s + d)) > tol_s:
                bad.append(f"acquisitions[{i}] {tid!r}: end {acq['end_s'][i]} != start + duration {s + d}")
            starts[a] = s
        elif math.isfinite(s):
            bad.append(f"acquisitions[{i}] {tid!r}: untimed alternative with a start time")
        value += float(p.task_weight[t]) * float(p.alt_value_factor[a])

    value += _requests_value(p, chosen)
    if abs(value - plan.objective) > 1e-9 * max(1.0, abs(value)):
        bad.append(f"objective {plan.objective} but the acquisitions are worth {value}")
    if plan.upper_bound < plan.objective - 1e-9 * max(1.0, abs(plan.objective)):
        bad.append(f"upper bound {plan.upper_bound} below the objective {plan.objective}")

    # sequencing per resource
    sel = set(chosen.values())
    for r in range(p.n_resources):
        timed = sorted((starts[a], a) for a in sel if a in starts and p.alt_resource[a] == r)
        if len(timed) < 2:
            continue
        s = np.array([x[0] for x in timed])
        al = [x[1] for x in timed]
        d = p.alt_duration_s[al]
        end_att = np.array([_att(p, a, x, True) for x, a in timed])
        start_att = np.array([_att(p, a, x, False) for x, a in timed])
        tau = np.asarray(p.res_agility[r].transition_time_s(end_att[:-1], start_att[1:],
                                                     s[:-1] + d[:-1], s[1:]), dtype=float)
        slack = s[1:] - (s[:-1] + d[:-1] + tau)
        for k in np.flatnonzero(~(slack >= -tol_s)):  # NaN (no transition) fails too
            ta = p.task_id[p.alt_task[al[k]]]
            tb = p.task_id[p.alt_task[al[k + 1]]]
            bad.append(f"resource {r}: {tb!r} starts at {s[k + 1]:.6f}, before the end of {ta!r} "
                       f"({s[k] + d[k]:.6f}) plus the transition {tau[k]:.3f} s")

    for members in p.incompat:
        if all(a in sel for a in members):
            bad.append(f"forbidden combination chosen: {[p.alternative_id(a) for a in members]}")
    for g in p.groups:
        on = [t in chosen for t in g]
        if any(on) and not all(on):
            bad.append(f"group {[p.task_id[t] for t in g]} partly scheduled")

    bad += _verify_memory(p, plan, chosen, starts, tol_gbit, tol_s)
    bad += _verify_budgets(p, chosen)
    return bad


def _verify_budgets(p: Problem, chosen: dict) -> list[str]:
    """Each budget: the chosen alternatives of its resource whose window overlaps its span,
    and what they use of its quantity, recomputed from the alternatives' own ``uses``."""
    bad = []
    for k in range(len(p.budget_limit)):
        r, q = int(p.budget_resource[k]), p.budget_quantity[k]
        t0, t1 = float(p.budget_start_s[k]), float(p.budget_end_s[k])
        total = 0.0
        for a in chosen.values():
            if int(p.alt_resource[a]) != r:
                continue
            lo = p.alt_earliest_s[a] if p.alt_timed[a] else 0.0
            hi = p.alt_latest_end_s[a] if p.alt_timed[a] else 0.0
            if t0 <= hi and lo < t1:
                total += p.alt_uses[a].get(q, 0.0)
        if total > p.budget_limit[k] + 1e-9 * max(1.0, float(p.budget_limit[k])):
            bad.append(f"budget {p.budget_name[k]} (resource {r}, {q}): {total:g} used, "
                       f"limit {p.budget_limit[k]:g}")
    return bad


def _requests_value(p: Problem, chosen: dict) -> float:
    """Sum over requests of their curve (interpolated here) at the covered fraction."""
    total = 0.0
    for q, members in enumerate(p.request_tasks):
        f = min(1.0, float(sum(p.task_share[t] for t in members if t in chosen)))
        curve = p.request_curve[q]
        total += float(np.interp(f, curve.fractions, curve.values))
    return total


def _verify_memory(p, plan, chosen, starts, tol_gbit, tol_s) -> list[str]:
    bad = []
    dl = plan.downlinks
    use: dict[int, list[tuple[int, float]]] = {r: [] for r in range(p.n_resources)}
    for i in range(len(dl)):
        k = int(dl["downlink"][i])
        if not 0 <= k < p.n_downlinks:
            bad.append(f"downlinks[{i}]: no downlink {k} in the problem")
            continue
        r = int(p.dl_resource[k])
        if int(dl["resource"][i]) != r:
            bad.append(f"downlinks[{i}]: resource {dl['resource'][i]} but downlink {k} belongs to {r}")
        v = float(dl["drained_gbit"][i])
        if v < 0 or not math.isfinite(v):
            bad.append(f"downlinks[{i}]: drained volume {v}")
            continue
        if v > p.dl_rate_gbit_s[k] * (p.dl_end_s[k] - p.dl_start_s[k]) + tol_gbit:
            bad.append(f"downlinks[{i}]: {v} Gbit exceeds rate x duration of downlink {k}")
        use[r].append((k, v))
    for r in range(p.n_resources):
        ks = sorted(use[r], key=lambda kv: p.dl_start_s[kv[0]])
        for (k1, _), (k2, _) in zip(ks, ks[1:]):
            if p.dl_start_s[k2] < p.dl_end_s[k1] - tol_s:
                bad.append(f"resource {r}: downlinks {k1} and {k2} used at the same time")
        cap = float(p.res_capacity_gbit[r])
        level = float(p.res_initial_gbit[r])
        ready = level
        items = []
        for t, a in chosen.items():
            if p.alt_resource[a] != r:
                continue
            v = float(p.alt_data_gbit[a])
            if a in starts:
                items.append((starts[a], 1, v))
                items.append((starts[a] + p.alt_duration_s[a], 0, v))
            else:
                level += v
                ready += v
        if level > cap + tol_gbit:
            bad.append(f"resource {r}: {level:.6f} Gbit on board at the epoch, capacity {cap}")
            continue
        # step through time: between breakpoints a downlink drains at its rate while
        # anything is drainable, until its volume is reached
        bps = sorted({x[0] for x in items} | {float(p.dl_start_s[k]) for k, _ in ks}
                     | {float(p.dl_end_s[k]) for k, _ in ks})
        todo = {k: v for k, v in ks}
        done = {k: 0.0 for k, _ in ks}
        items.sort()
        ii = 0
        t_prev = -math.inf
        for t in bps:
            for k in todo:
                lo, hi = max(t_prev, p.dl_start_s[k]), min(t, p.dl_end_s[k])
                if hi > lo:
                    amount = min(ready, p.dl_rate_gbit_s[k] * (hi - lo), todo[k] - done[k])
                    if amount > 0:
                        done[k] += amount
                        ready -= amount
                        level -= amount
            while ii < len(items) and items[ii][0] <= t:
                _, kind, v = items[ii]
                if kind == 0:
                    ready += v
                else:
                    level += v
                    if level > cap + tol_gbit:
                        bad.append(f"resource {r}: memory {level:.6f} Gbit above capacity {cap} at t={t:.3f} s")
                ii += 1
            t_prev = t
        for k in todo:
            if done[k] < todo[k] - tol_gbit:
                bad.append(f"resource {r}: downlink {k} claims {todo[k]:.6f} Gbit but only "
                           f"{done[k]:.6f} Gbit was on board to drain")
        if level < -tol_gbit or ready < -tol_gbit:
            bad.append(f"resource {r}: memory below zero ({level:.6f} Gbit)")
    return bad
