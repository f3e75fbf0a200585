"""Brute-force references for small problems, written from the model's definition only
(no solver code): enumerate every choice of alternatives, every order per resource."""
from __future__ import annotations

import itertools
import math

import numpy as np


def piecewise_s(droll, dpitch):
    """Liu et al. (2017), written from the paper's table: the tests' one agility reference."""
    g = abs(droll) + abs(dpitch)
    if g <= 10:
        return 11.66
    if g <= 30:
        return 5 + g / 1.5
    if g <= 60:
        return 10 + g / 2
    if g <= 90:
        return 16 + g / 2.5
    return 22 + g / 3


def _sequence_ok(p, alts, tau):
    """Some order of ``alts`` (constant attitudes) fits their windows (earliest starts)."""
    for order in itertools.permutations(alts):
        t_free = -math.inf
        prev = None
        ok = True
        for a in order:
            s = p.alt_earliest_s[a]
            if prev is not None:
                s = max(s, t_free + tau(prev, a))
            if s > p.alt_latest_start_s[a] + 1e-9:
                ok = False
                break
            t_free = s + p.alt_duration_s[a]
            prev = a
        if ok:
            return True
    return False


def _memory_ok(p, r, alts):
    """Memory when no window meets a downlink: each acquisition's segment is fixed."""
    cap = p.res_capacity_gbit[r]
    if not math.isfinite(cap):
        return True
    level = p.res_initial_gbit[r] + sum(p.alt_data_gbit[a] for a in alts if not p.alt_timed[a])
    timed = [a for a in alts if p.alt_timed[a]]
    ks = sorted(np.flatnonzero((p.dl_resource == r) & p.dl_usable), key=lambda k: p.dl_start_s[k])
    done = set()
    for k in ks:
        seg = [a for a in timed if a not in done and p.alt_latest_end_s[a] <= p.dl_start_s[k]]
        level += sum(p.alt_data_gbit[a] for a in seg)
        done.update(seg)
        if level > cap + 1e-9:
            return False
        level -= min(level, p.dl_rate_gbit_s[k] * (p.dl_end_s[k] - p.dl_start_s[k]))
    level += sum(p.alt_data_gbit[a] for a in timed if a not in done)
    return level <= cap + 1e-9


def _curve(fractions, values, f):
    """A piecewise-linear curve at ``f``, segment by segment."""
    for k in range(1, len(fractions)):
        if f <= fractions[k] + 1e-12:
            return values[k - 1] + (values[k] - values[k - 1]) * (f - fractions[k - 1]) / (fractions[k] - fractions[k - 1])
    return values[-1]


def requests_value(p, chosen_tasks):
    total = 0.0
    for q, members in enumerate(p.request_tasks):
        f = min(1.0, sum(p.task_share[t] for t in members if t in chosen_tasks))
        c = p.request_curve[q]
        total += _curve(list(c.fractions), list(c.values), f)
    return total


def brute_optimum(p, transition=piecewise_s, pair_transition=None, resource_transition=None):
    """Best objective of ``p`` (constant attitudes, no window meeting a downlink);
    ``pair_transition(from_att, to_att)`` replaces ``transition(droll, dpitch)`` if given,
    ``resource_transition[r](from_att, to_att)`` on resource ``r`` if given."""
    def tau(a, b):
        r0, p0 = p.att_end_deg[p.att_ptr[a]]
        r1, p1 = p.att_start_deg[p.att_ptr[b]]
        if resource_transition is not None:
            return resource_transition[int(p.alt_resource[a])]((r0, p0), (r1, p1))
        if pair_transition is not None:
            return pair_transition((r0, p0), (r1, p1))
        return transition(r1 - r0, p1 - p0)

    options = []
    for t in range(p.n_tasks):
        options.append([None] + [int(a) for a in p.task_alts[t] if p.alt_valid[a]])
    best = 0.0
    cache = {}
    for choice in itertools.product(*options):
        chosen = [a for a in choice if a is not None]
        value = sum(p.alt_value[a] for a in chosen)
        if len(p.request_tasks):
            value += requests_value(p, {t for t, a in enumerate(choice) if a is not None})
        if value <= best + 1e-12:
            continue
        sel = set(chosen)
        if any(all(a in sel for a in m) for m in p.incompat):
            continue
        if any(len({choice[t] is None for t in g}) > 1 for g in p.groups):
            continue
        ok = True
        for r in range(p.n_resources):
            on_r = tuple(sorted(a for a in chosen if p.alt_resource[a] == r))
            if on_r not in cache:
                timed = [a for a in on_r if p.alt_timed[a]]
                cache[on_r] = _sequence_ok(p, timed, tau) and _memory_ok(p, r, on_r)
            if not cache[on_r]:
                ok = False
                break
        if ok:
            best = value
    return best


def _attitude(p, a, s, end):
    """(roll, pitch) of alternative ``a`` started at ``s``: the samples interpolated
    linearly, held constant outside (the model's definition)."""
    q0, q1 = int(p.att_ptr[a]), int(p.att_ptr[a + 1])
    vals = (p.att_end_deg if end else p.att_start_deg)[q0:q1]
    ts = p.att_time_s[q0:q1]
    return np.interp(s, ts, vals[:, 0]), np.interp(s, ts, vals[:, 1])


def piecewise_s_array(droll, dpitch):
    """:func:`piecewise_s` on arrays."""
    g = np.abs(droll) + np.abs(dpitch)
    return np.where(g <= 10, 11.66, np.where(g <= 30, 5 + g / 1.5, np.where(
        g <= 60, 10 + g / 2, np.where(g <= 90, 16 + g / 2.5, 22 + g / 3))))


def _earliest_start(p, a, s_a, b, transition, step_s=0.01):
    """Earliest start of ``b`` after ``a`` started at ``s_a`` (None if none in ``b``'s
    window): the first feasible start on a ``step_s`` grid, refined by bisection."""
    end = s_a + p.alt_duration_s[a]
    ra, pa = _attitude(p, a, s_a, True)
    lo = max(p.alt_earliest_s[b], end)
    hi = p.alt_latest_start_s[b]
    if lo > hi + 1e-9:
        return None

    def ok(y):
        rb, pb = _attitude(p, b, y, False)
        return y >= end + transition(np.asarray(rb) - ra, np.asarray(pb) - pa) - 1e-9

    grid = np.append(np.arange(lo, hi, step_s), hi)
    hits = np.flatnonzero(ok(grid))
    if hits.size == 0:
        return None
    y1 = grid[hits[0]]
    if hits[0] == 0:
        return y1
    y0 = grid[hits[0] - 1]
    for _ in range(50):
        m = 0.5 * (y0 + y1)
        y0, y1 = (y0, m) if ok(m) else (m, y1)
    return y1


def brute_optimum_timed(p, transition=piecewise_s_array):
    """Best objective of ``p`` (one resource, attitudes that may vary with the start time,
    no memory limit): every choice of alternatives, sequenced by a dynamic programme over
    subsets keeping each subset's earliest start per last acquisition. Exact when starting
    an acquisition earlier never delays the next one (attitude rates times the model's
    slope below 1, as for the Liu model at agile-imaging rates)."""
    options = [[None] + [int(a) for a in p.task_alts[t] if p.alt_valid[a]] for t in range(p.n_tasks)]
    alts = sorted({a for opts in options for a in opts if a is not None})
    index = {a: i for i, a in enumerate(alts)}
    # earliest[(mask, last)] = earliest start of `last` after the alternatives in mask
    earliest = {}
    for a in alts:
        earliest[(1 << index[a], a)] = float(p.alt_earliest_s[a])
    for size in range(2, p.n_tasks + 1):
        for (mask, last), s in list(earliest.items()):
            if bin(mask).count("1") != size - 1:
                continue
            used = {int(p.alt_task[alts[i]]) for i in range(len(alts)) if mask >> i & 1}
            for b in alts:
                if int(p.alt_task[b]) in used:
                    continue
                y = _earliest_start(p, last, s, b, transition)
                key = (mask | 1 << index[b], b)
                if y is not None and y < earliest.get(key, math.inf):
                    earliest[key] = y
    feasible = {mask for mask, _ in earliest} | {0}
    best = 0.0
    for mask in feasible:
        chosen = [alts[i] for i in range(len(alts)) if mask >> i & 1]
        tasks = {int(p.alt_task[a]) for a in chosen}
        if any(all(a in chosen for a in m) for m in p.incompat):
            continue
        if any(len({t in tasks for t in g}) > 1 for g in p.groups):
            continue
        value = sum(p.alt_value[a] for a in chosen)
        if len(p.request_tasks):
            value += requests_value(p, tasks)
        best = max(best, value)
    return best
