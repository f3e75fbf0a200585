"""Re-optimise the acquisitions of one resource inside a time window (one pass).

A label search over sequences: a label is ``(value, start, alternative, tasks used)``;
extending it by ``b`` starts ``b`` as early as the transition allows
(:meth:`State.earliest_after`). Labels are expanded in order of start time and, per last
alternative, only a few labels survive: those not dominated (an earlier start and at least
the value). Lookahead is limited to ``horizon_s`` after the end of the last acquisition
(plus the next three candidates).
A heuristic (bounded fronts, earliest starts), used by the LNS and the constructive start.
"""
from __future__ import annotations

import heapq
import math
import time
from bisect import bisect_left, bisect_right

import numpy as np

_TOL = 1e-9


def _window(state, r: int, t0: float, t1: float):
    """Positions ``(i0, i1)`` of ``r``'s acquisitions starting in [t0, t1]."""
    st = state.seq_start[r]
    return bisect_left(st, t0), bisect_right(st, t1)


def best_sequence(state, r: int, cands, t0: float, t1: float, value=None,
                  front: int = 3, horizon_s: float = 90.0, deadline: float = math.inf):
    """Best ``[(alt, start_s), ...]`` of candidate alternatives ``cands`` (on resource
    ``r``, tasks unscheduled) to fill the gap of ``r`` between its acquisitions before
    ``t0`` and after ``t1`` (nothing of ``r`` may start inside [t0, t1]). ``value``:
    per-alternative value to maximise (default the problem's). At ``deadline``
    (``time.perf_counter()``) the best sequence found so far is returned."""
    seq, st = state.seq[r], state.seq_start[r]
    i0, i1 = _window(state, r, t0, t1)
    assert i0 == i1, "the window must be empty"
    prev = (seq[i0 - 1], st[i0 - 1]) if i0 > 0 else None
    succ = (seq[i0], st[i0]) if i0 < len(seq) else None
    value = value or state.value
    d, e, ls, task = state.duration_s, state.earliest_s, state.latest_start_s, state.task
    cands = sorted(cands, key=e.__getitem__)
    ce = [e[a] for a in cands]
    span = max((ls[a] - e[a] for a in cands), default=0.0)
    bit = {}
    for a in cands:
        bit.setdefault(task[a], 1 << len(bit))
    min_gap = state.min_transition_s
    ea = state.earliest_after
    fronts: dict[int, list] = {}
    heap: list = []
    best = (0.0, None)
    # label: (start, -value, id, alt, mask, parent)
    uid = 0

    def push(x, v, a, mask, parent):
        nonlocal uid, best
        if succ is not None:
            y = ea(a, x, succ[0], succ[1])
            if not y <= succ[1] + _TOL:
                return
        f = fronts.setdefault(a, [])
        for (fx, fv) in f:
            if fx <= x + _TOL and fv >= v - _TOL:
                return
        f[:] = [(fx, fv) for (fx, fv) in f if not (x <= fx + _TOL and v >= fv - _TOL)]
        if len(f) >= front:
            k = min(range(len(f)), key=lambda j: f[j][1])
            if f[k][1] >= v:
                return
            del f[k]
        f.append((x, v))
        uid += 1
        lab = (x, -v, uid, a, mask, parent)
        heapq.heappush(heap, lab)
        if v > best[0]:
            best = (v, lab)

    for j, b in enumerate(cands):
        if prev is None:
            x = e[b] if e[b] <= ls[b] + _TOL else math.inf
        else:
            x = ea(prev[0], prev[1], b, e[b])
        if x != math.inf:
            push(x, value[b], b, bit[task[b]], None)
    count = 0
    while heap:
        count += 1
        if count % 256 == 0 and time.perf_counter() > deadline:
            break
        lab = heapq.heappop(heap)
        x, negv, _, a, mask, _ = lab
        if (x, -negv) not in fronts.get(a, ()):
            continue  # dominated after it was queued
        v = -negv
        end = x + d[a]
        lo = end + min_gap
        j0 = bisect_left(ce, lo - span)
        # the next few candidates are always tried, however far (sparse passes)
        j1 = max(bisect_right(ce, end + horizon_s), min(len(cands), bisect_right(ce, lo) + 3))
        for j in range(j0, j1):
            b = cands[j]
            if ls[b] < lo - _TOL or mask & bit[task[b]]:
                continue
            y = ea(a, x, b, e[b])
            if y != math.inf:
                push(y, v + value[b], b, mask | bit[task[b]], lab)
    out = []
    lab = best[1]
    while lab is not None:
        out.append((lab[3], lab[0]))
        lab = lab[5]
    return out[::-1]


def place_sequence(state, r: int, items, t0: float, t1: float) -> bool:
    """Insert ``items`` ``[(alt, start_s)]`` (time order) into the empty window [t0, t1]
    of ``r`` they were planned for, each as early as its placed predecessor allows,
    skipping those that became infeasible or forbidden. False (state partly changed: the
    caller restores) when the successor outside the window can no longer follow."""
    i0, _ = _window(state, r, t0, t1)
    seq, st = state.seq[r], state.seq_start[r]
    prev = (seq[i0 - 1], st[i0 - 1]) if i0 > 0 else None
    i = i0
    for a, _ in items:
        if state.chosen[state.task[a]] != -1 or not state.valid[a]:
            continue
        if (state.alt_incompat[a] and state.incompatible(a)) or not state.budgets_ok(a):
            continue
        x = state.earliest_s[a] if prev is None else state.earliest_after(prev[0], prev[1], a, state.earliest_s[a])
        if x == math.inf:
            continue
        state._place(a, (i, x, []))
        prev = (a, x)
        i += 1
    if prev is not None and i < len(seq):
        y = state.earliest_after(prev[0], prev[1], seq[i], st[i])
        if not y <= st[i] + _TOL:
            return False
    return True


def passes(p, gap_s: float = 300.0) -> list[tuple[int, float, float]]:
    """``(resource, t0, t1)`` per pass, in time order: the valid timed alternatives of a
    resource split where no window covers ``gap_s`` seconds."""
    out = []
    ok = p.alt_valid & p.alt_timed
    for r in range(p.n_resources):
        a = np.flatnonzero(ok & (p.alt_resource == r))
        if a.size == 0:
            continue
        o = np.argsort(p.alt_earliest_s[a], kind="stable")
        e = p.alt_earliest_s[a][o]
        reach = np.maximum.accumulate(p.alt_latest_end_s[a][o])
        cut = np.flatnonzero(e[1:] > reach[:-1] + gap_s) + 1
        for lo, hi in zip(np.r_[0, cut], np.r_[cut, a.size]):
            out.append((r, float(e[lo]), float(reach[hi - 1])))
    out.sort(key=lambda x: x[1])
    return out


def drop_partial_groups(state) -> None:
    """Remove the members of groups that are only partly scheduled."""
    for g in state.groups:
        n = sum(1 for u in g if state.chosen[u] >= 0)
        if 0 < n < len(g):
            state.remove_group_of(g[0])


def construct_by_pass(p, state, deadline: float, front: int = 6) -> None:
    """Fill ``state`` pass by pass in time order with :func:`best_sequence` (each pass's
    gaps between what is already scheduled are left alone: only empty passes are
    filled), stopping at ``deadline`` (``time.perf_counter()``)."""
    alts_of = {}
    ok = p.alt_valid & p.alt_timed
    for r, t0, t1 in passes(p):
        if time.perf_counter() >= deadline:
            break
        i0, i1 = _window(state, r, t0, t1)
        if i0 != i1:
            continue
        if r not in alts_of:
            alts_of[r] = np.flatnonzero(ok & (p.alt_resource == r)).tolist()
        cands = [a for a in alts_of[r] if t0 <= state.earliest_s[a] <= t1
                 and state.chosen[state.task[a]] == -1]
        items = best_sequence(state, r, cands, t0, t1, front=front, deadline=deadline)
        snap = state.snapshot()
        if not place_sequence(state, r, items, t0, t1) or not state.memory_ok(r):
            state.restore(snap)
    drop_partial_groups(state)
