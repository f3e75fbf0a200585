"""Mutable partial solution shared by the constructive heuristic and the LNS.

Per resource the timed acquisitions are kept as a list sorted by start time. Inserting an
alternative looks for a position whose predecessor lets it start inside its window, then
pushes the following acquisitions later as far as the transitions require (each stays in
its window or the insertion is refused). Untimed alternatives only touch memory.
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right

import numpy as np

from . import _memory
from .requests import task_nominal_value

_TOL = 1e-9
_MAX_ITER = 60


class State:
    """Which alternative each task uses and when (``chosen[t] = -1`` when unscheduled)."""

    def __init__(self, p):
        self.p = p
        nt, na, nr = p.n_tasks, p.n_alts, p.n_resources
        self.chosen = [-1] * nt
        self.start = [math.nan] * nt
        self.selected = [False] * na
        self.seq: list[list[int]] = [[] for _ in range(nr)]
        self.seq_start: list[list[float]] = [[] for _ in range(nr)]
        self.untimed_gbit = [0.0] * nr
        self.objective = 0.0
        # static columns as Python lists: scalar access is several times faster than numpy
        self.earliest_s = p.alt_earliest_s.tolist()
        self.latest_start_s = p.alt_latest_start_s.tolist()
        self.duration_s = p.alt_duration_s.tolist()
        self.data_gbit = p.alt_data_gbit.tolist()
        self.resource = p.alt_resource.tolist()
        self.task = p.alt_task.tolist()
        # ``gain``: what choosing an alternative earns directly; ``value``: the ranking value
        # of the heuristics (plus its task's share of its request's total value)
        self.gain = p.alt_value.tolist()
        self.value = (p.alt_value + task_nominal_value(p)[p.alt_task]).tolist()
        self.task_request = p.task_request.tolist()
        self.task_share = p.task_share.tolist()
        self.curves = list(p.request_curve)
        self.req_fraction = [0.0] * len(self.curves)
        self.req_value = [0.0] * len(self.curves)
        self.timed = p.alt_timed.tolist()
        self.valid = p.alt_valid.tolist()
        self.alt_incompat = p.alt_incompat
        self.incompat = p.incompat
        self.task_group = p.task_group.tolist()
        self.groups = [g.tolist() for g in p.groups]
        self.task_alts = [a.tolist() for a in p.task_alts]
        self.transitions = p._res_transition
        self.min_transition_s = float(p.min_transition_s)
        self.alt_budgets = p.alt_budgets
        self.budget_limit = p.budget_limit.tolist()
        self.budget_used = [0.0] * len(self.budget_limit)
        self.capacity_gbit = p.res_capacity_gbit.tolist()
        self.initial_gbit = p.res_initial_gbit.tolist()
        self.mem_limited = [math.isfinite(c) for c in self.capacity_gbit]
        self.check_memory = True
        dl = []
        for r in range(nr):
            k = np.flatnonzero((p.dl_resource == r) & p.dl_usable)
            k = k[np.argsort(p.dl_start_s[k], kind="stable")]
            dl.append((k, p.dl_start_s[k], p.dl_end_s[k], p.dl_rate_gbit_s[k]))
        self.dl = dl
        self.mem = [_memory.Tracker(dl[r][1], dl[r][2], dl[r][3], self.capacity_gbit[r])
                    if self.mem_limited[r] else None for r in range(nr)]
        self._init_attitudes()

    def _init_attitudes(self):
        p = self.p
        ptr = p.att_ptr
        counts = np.diff(ptr)
        first = ptr[:-1]
        self.att_multi = (counts > 2).tolist()
        self.att_const = (counts == 1).tolist()
        t0 = p.att_time_s[first]
        two = counts == 2
        second = np.where(two, first + 1, first)
        t1 = p.att_time_s[second]
        span = np.where(two, t1 - t0, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(span > 0, 1.0 / np.where(span > 0, span, 1.0), 0.0)
        s0 = p.att_start_deg[first]
        s1 = p.att_start_deg[second]
        e0 = p.att_end_deg[first]
        e1 = p.att_end_deg[second]
        self.sample_ptr = ptr.tolist()
        self.sample_time_s = p.att_time_s.tolist()
        self.sample_start_roll_deg, self.sample_start_pitch_deg = p.att_start_deg[:, 0].tolist(), p.att_start_deg[:, 1].tolist()
        self.sample_end_roll_deg, self.sample_end_pitch_deg = p.att_end_deg[:, 0].tolist(), p.att_end_deg[:, 1].tolist()
        self.att_time0_s = t0.tolist()
        self.att_span_s = span.tolist()
        self.start_roll0_deg = s0[:, 0].tolist()
        self.start_pitch0_deg = s0[:, 1].tolist()
        self.end_roll0_deg = e0[:, 0].tolist()
        self.end_pitch0_deg = e0[:, 1].tolist()
        self.start_roll_rate_deg_s = ((s1[:, 0] - s0[:, 0]) * inv).tolist()
        self.start_pitch_rate_deg_s = ((s1[:, 1] - s0[:, 1]) * inv).tolist()
        self.end_roll_rate_deg_s = ((e1[:, 0] - e0[:, 0]) * inv).tolist()
        self.end_pitch_rate_deg_s = ((e1[:, 1] - e0[:, 1]) * inv).tolist()

    # -- attitude and transitions ----------------------------------------------------------

    def _multi_att(self, a: int, x: float, r: list, q: list):
        """Piecewise-linear attitude of ``a`` (more than two samples) at start time ``x``
        from the flat sample lists ``r``, ``q`` (roll, pitch); held constant outside.
        ``Problem.attitude_deg`` in plain Python: np.interp per call dominated the search."""
        t = self.sample_time_s
        i0, i1 = self.sample_ptr[a], self.sample_ptr[a + 1] - 1
        if x <= t[i0]:
            return r[i0], q[i0]
        if x >= t[i1]:
            return r[i1], q[i1]
        i = bisect_right(t, x, i0, i1) - 1
        f = (x - t[i]) / (t[i + 1] - t[i])
        return r[i] + (r[i + 1] - r[i]) * f, q[i] + (q[i + 1] - q[i]) * f

    def start_att(self, a: int, x: float):
        if self.att_multi[a]:
            return self._multi_att(a, x, self.sample_start_roll_deg, self.sample_start_pitch_deg)
        u = x - self.att_time0_s[a]
        if u < 0.0:
            u = 0.0
        elif u > self.att_span_s[a]:
            u = self.att_span_s[a]
        return self.start_roll0_deg[a] + self.start_roll_rate_deg_s[a] * u, self.start_pitch0_deg[a] + self.start_pitch_rate_deg_s[a] * u

    def end_att(self, a: int, x: float):
        if self.att_multi[a]:
            return self._multi_att(a, x, self.sample_end_roll_deg, self.sample_end_pitch_deg)
        u = x - self.att_time0_s[a]
        if u < 0.0:
            u = 0.0
        elif u > self.att_span_s[a]:
            u = self.att_span_s[a]
        return self.end_roll0_deg[a] + self.end_roll_rate_deg_s[a] * u, self.end_pitch0_deg[a] + self.end_pitch_rate_deg_s[a] * u

    def earliest_after(self, pa: int, ps: float, b: int, lo: float) -> float:
        """Earliest start ``x >= lo`` of ``b`` after ``pa`` started at ``ps`` (inf if none
        within ``b``'s window): fixed-point iteration on ``x = end + transition(x)``,
        accelerated by secant steps (the residual is piecewise linear in ``x``)."""
        end = ps + self.duration_s[pa]
        er, ep = self.end_att(pa, ps)
        x = lo
        if x < end + self.min_transition_s:
            x = end + self.min_transition_s
        ls = self.latest_start_s[b]
        hi = ls + _TOL
        if x > hi:
            return math.inf
        trans = self.transitions[self.resource[b]]
        if self.att_const[b]:
            need = end + trans(er, ep, self.start_roll0_deg[b], self.start_pitch0_deg[b], end, x)
            if need > x:
                x = need
            if x > hi:
                return math.inf
            return x if x <= ls else ls
        x_prev = -1.0
        h_prev = -1.0
        for _ in range(_MAX_ITER):
            if x > hi:
                return math.inf
            sr, sp = self.start_att(b, x)
            need = end + trans(er, ep, sr, sp, end, x)
            h = need - x
            if h <= _TOL:
                if h_prev > 0.0 and h < -1e-6:
                    # overshot (the transition shrinks as b starts later): regula falsi
                    # between the last infeasible and this feasible start
                    lo_x, lo_h, hi_x, hi_h = x_prev, h_prev, x, h
                    for _ in range(40):
                        m = lo_x + lo_h * (hi_x - lo_x) / (lo_h - hi_h)
                        if not lo_x < m < hi_x:
                            m = 0.5 * (lo_x + hi_x)
                        sr, sp = self.start_att(b, m)
                        hm = end + trans(er, ep, sr, sp, end, m) - m
                        if hm <= _TOL:
                            hi_x, hi_h = m, hm
                            if hm > -1e-9:
                                break
                        else:
                            lo_x, lo_h = m, hm
                        if hi_x - lo_x < 1e-9:
                            break
                    x = hi_x
                return x if x <= ls else ls
            x_new = need
            if h_prev > h:
                xs = x + h * (x - x_prev) / (h_prev - h)
                if xs > x_new:
                    x_new = xs
            x_prev, h_prev = x, h
            x = x_new
        return math.inf

    # -- feasibility checks ----------------------------------------------------------------

    def incompatible(self, a: int) -> bool:
        """True when choosing ``a`` would complete a forbidden combination."""
        sel = self.selected
        for c in self.alt_incompat[a]:
            for b in self.incompat[c]:
                if b != a and not sel[b]:
                    break
            else:
                return True
        return False

    def budgets_ok(self, a: int) -> bool:
        """Would choosing ``a`` keep every budget it spends of within its limit?"""
        used, limit = self.budget_used, self.budget_limit
        return all(used[k] + amount <= limit[k] + _TOL for k, amount in self.alt_budgets[a])

    def _spend(self, a: int, sign: float) -> None:
        for k, amount in self.alt_budgets[a]:
            self.budget_used[k] += sign * amount

    def find_slot(self, a: int):
        """``(position, start_s, shifts)`` for inserting timed ``a``, or None: the
        earliest slot that pushes nothing, else the earliest feasible slot.

        ``shifts``: list of (position after insertion, new start) for pushed successors.
        """
        r = self.resource[a]
        seq = self.seq[r]
        st = self.seq_start[r]
        e = self.earliest_s[a]
        ls = self.latest_start_s[a]
        i_lo = bisect_left(st, e)
        i_hi = bisect_right(st, ls)
        if i_lo > 0:
            i_lo -= 1
        min_gap = self.min_transition_s
        fallback = None  # the first slot that pushes others; one that does not is preferred
        for i in range(i_lo, i_hi + 1):
            if i > 0:
                pa = seq[i - 1]
                if st[i - 1] + self.duration_s[pa] + min_gap > ls + _TOL:
                    break
                s = self.earliest_after(pa, st[i - 1], a, e)
                if s == math.inf:
                    continue
            else:
                s = e
            shifts = []
            pa, ps = a, s
            j = i
            ok = True
            n = len(seq)
            while j < n:
                b = seq[j]
                sb = st[j]
                need = self.earliest_after(pa, ps, b, sb)
                if need <= sb + _TOL and need != math.inf:
                    break
                if need == math.inf:
                    ok = False
                    break
                shifts.append((j + 1, need))
                pa, ps = b, need
                j += 1
            if ok:
                if not shifts:
                    return i, s, shifts
                if fallback is None:
                    fallback = (i, s, shifts)
        return fallback

    def memory_ok(self, r: int, extra_untimed: float = 0.0) -> bool:
        """Memory of resource ``r`` stays within capacity with the current acquisitions
        and ``extra_untimed`` more Gbit on board from the epoch."""
        tr = self.mem[r]
        if tr is None or not self.check_memory:
            return True
        base = self.initial_gbit[r] + self.untimed_gbit[r] + extra_untimed
        return tr.check(base, self.seq[r], self.seq_start[r], self.duration_s, self.data_gbit)

    # -- mutation --------------------------------------------------------------------------

    def _place(self, a: int, slot) -> None:
        t = self.task[a]
        self.chosen[t] = a
        self.selected[a] = True
        self.objective += self.gain[a]
        self._spend(a, 1.0)
        q = self.task_request[t]
        if q >= 0:
            self._cover(q, self.task_share[t])
        r = self.resource[a]
        if slot is None:
            self.untimed_gbit[r] += self.data_gbit[a]
            self._touch(r, -math.inf)
            return
        i, s, shifts = slot
        self._touch(r, s)
        self.seq[r].insert(i, a)
        self.seq_start[r].insert(i, s)
        self.start[t] = s
        st = self.seq_start[r]
        seq = self.seq[r]
        for j, x in shifts:
            st[j] = x
            self.start[self.task[seq[j]]] = x

    def _feasible(self, a: int, memory: bool):
        """``(True, slot)`` when ``a`` can be inserted now (slot None for untimed), else
        ``(False, None)``; groups ignored, nothing changed."""
        if not self.valid[a] or self.chosen[self.task[a]] != -1:
            return False, None
        if self.alt_incompat[a] and self.incompatible(a):
            return False, None
        if self.alt_budgets[a] and not self.budgets_ok(a):
            return False, None
        r = self.resource[a]
        if self.timed[a]:
            slot = self.find_slot(a)
            if slot is None:
                return False, None
            if memory and self.mem_limited[r] and (self.data_gbit[a] > 0 or slot[2]):
                if not self._memory_ok_slot(r, a, slot):
                    return False, None
            return True, slot
        if memory and self.mem_limited[r] and self.data_gbit[a] > 0:
            if not self.memory_ok(r, extra_untimed=self.data_gbit[a]):
                return False, None
        return True, None

    def try_insert(self, a: int, memory: bool = True) -> bool:
        """Insert alternative ``a`` (task not yet scheduled, groups ignored) if feasible."""
        ok, slot = self._feasible(a, memory)
        if ok:
            self._place(a, slot)
        return ok

    def fits(self, a: int, memory: bool = True) -> bool:
        """Could ``a`` be inserted now (groups ignored)? Nothing is changed."""
        return self._feasible(a, memory)[0]

    def remove_task(self, t: int) -> None:
        a = self.chosen[t]
        if a < 0:
            return
        self.chosen[t] = -1
        self.selected[a] = False
        self.objective -= self.gain[a]
        self._spend(a, -1.0)
        q = self.task_request[t]
        if q >= 0:
            self._cover(q, -self.task_share[t])
        r = self.resource[a]
        if not self.timed[a]:
            self.untimed_gbit[r] -= self.data_gbit[a]
            self._touch(r, -math.inf)
            return
        self.start[t] = math.nan
        seq = self.seq[r]
        i = seq.index(a)
        self._touch(r, self.seq_start[r][i])
        del seq[i]
        del self.seq_start[r][i]
        self._repair_after_removal(r, i)

    def _repair_after_removal(self, r: int, i: int) -> None:
        """Restore transitions after removing position ``i`` of resource ``r``: the new
        neighbours are normally compatible already (transitions obey a triangle
        inequality); otherwise push later, and drop (with its group) what cannot be pushed
        or, if pushing moved data past a downlink, what breaks the memory."""
        seq = self.seq[r]
        st = self.seq_start[r]
        pushed = []
        while 0 < i < len(seq):
            pa, ps = seq[i - 1], st[i - 1]
            b = seq[i]
            need = self.earliest_after(pa, ps, b, st[i])
            if need <= st[i] + _TOL:
                break
            if need == math.inf:
                self.remove_group_of(self.task[b])
                return
            st[i] = need
            self.start[self.task[b]] = need
            pushed.append(self.task[b])
            i += 1
        if pushed and self.mem[r] is not None:
            pushed.sort(key=lambda t: self.value[self.chosen[t]])
            while pushed and not self.memory_ok(r):
                t = pushed.pop(0)
                if self.chosen[t] >= 0:
                    self.remove_group_of(t)

    def _cover(self, q: int, share: float) -> None:
        """Request ``q`` gains ``share`` of coverage (or loses it): the objective changes by
        the exact change of the request's value."""
        f = self.req_fraction[q] + share
        f = 0.0 if f < 1e-12 else min(f, 1.0)
        self.req_fraction[q] = f
        v = self.curves[q](f)
        self.objective += v - self.req_value[q]
        self.req_value[q] = v

    def request_gain(self, t: int) -> float:
        """Exact change of the objective's request part if task ``t`` were added."""
        q = self.task_request[t]
        if q < 0:
            return 0.0
        return self.curves[q](self.req_fraction[q] + self.task_share[t]) - self.req_value[q]

    def snapshot(self):
        return (list(self.chosen), list(self.start), list(self.selected),
                [list(s) for s in self.seq], [list(s) for s in self.seq_start],
                list(self.untimed_gbit), self.objective,
                [None if tr is None else list(tr.ck) for tr in self.mem],
                list(self.req_fraction), list(self.req_value), list(self.budget_used))

    def restore(self, snap) -> None:
        (self.chosen, self.start, self.selected, seq, seq_start, self.untimed_gbit,
         self.objective) = (list(snap[0]), list(snap[1]), list(snap[2]),
                            [list(s) for s in snap[3]], [list(s) for s in snap[4]],
                            list(snap[5]), snap[6])
        self.seq, self.seq_start = seq, seq_start
        for tr, ck in zip(self.mem, snap[7]):
            if tr is not None:
                tr.ck = list(ck)
        self.req_fraction, self.req_value = list(snap[8]), list(snap[9])
        self.budget_used = list(snap[10])

    def insert_task(self, t: int, alt_order=None, memory: bool = True) -> bool:
        """Schedule task ``t`` (and, if it belongs to a group, every task of the group)
        with the first feasible alternatives in ``alt_order`` (a callable task -> list)."""
        if self.chosen[t] >= 0:
            return True
        g = self.task_group[t]
        order = alt_order or (lambda u: self.task_alts[u])
        if g < 0:
            for a in order(t):
                if self.try_insert(a, memory):
                    return True
            return False
        members = [u for u in self.groups[g] if self.chosen[u] == -1]
        if not members:
            return False
        snap = self.snapshot()
        for u in members:
            for a in order(u):
                if self.try_insert(a, memory):
                    break
            else:
                self.restore(snap)
                return False
        return True

    def remove_group_of(self, t: int) -> list[int]:
        """Remove task ``t`` and the rest of its group; returns the removed tasks."""
        g = self.task_group[t]
        tasks = [t] if g < 0 else list(self.groups[g])
        out = []
        for u in tasks:
            if self.chosen[u] >= 0:
                self.remove_task(u)
                out.append(u)
        return out

    def compact(self) -> None:
        """Move every timed acquisition as early as its predecessor allows (keeps the order;
        a resource is left untouched if its compacted form would break a window)."""
        for r in range(len(self.seq)):
            seq, st = self.seq[r], self.seq_start[r]
            if not seq:
                continue
            new = [0.0] * len(seq)
            ok = True
            for j, a in enumerate(seq):
                if j == 0:
                    x = self.earliest_s[a]
                else:
                    x = self.earliest_after(seq[j - 1], new[j - 1], a, self.earliest_s[a])
                if x == math.inf:
                    ok = False
                    break
                new[j] = x
            if ok and all(new[j] <= new[j + 1] for j in range(len(new) - 1)):
                if self.mem_limited[r] and not self.memory_ok_starts(r, new):
                    continue
                self._touch(r, -math.inf)
                self.seq_start[r] = new
                for a, x in zip(seq, new):
                    self.start[self.task[a]] = x

    def _memory_ok_slot(self, r: int, a: int, slot) -> bool:
        tr = self.mem[r]
        if tr is None or not self.check_memory:
            return True
        i, s, shifts = slot
        seq = self.seq[r]
        st = self.seq_start[r]
        base = self.initial_gbit[r] + self.untimed_gbit[r]
        if tr.S and tr.ck[-1] is None and tr.S[-1] > s:
            tr.check(base, seq, st, self.duration_s, self.data_gbit, t_first=math.inf, record_all=True)
        seq2 = seq[:i] + [a] + seq[i:]
        st2 = st[:i] + [s] + st[i:]
        t_last = s + self.duration_s[a]
        for j, x in shifts:
            st2[j] = x
            end = x + self.duration_s[seq2[j]]
            if end > t_last:
                t_last = end
        return tr.check(base, seq2, st2, self.duration_s, self.data_gbit, t_first=s, t_last=t_last)

    def memory_ok_starts(self, r: int, starts) -> bool:
        tr = self.mem[r]
        if tr is None:
            return True
        base = self.initial_gbit[r] + self.untimed_gbit[r]
        return tr.check(base, self.seq[r], starts, self.duration_s, self.data_gbit)

    def _touch(self, r: int, t: float) -> None:
        tr = self.mem[r]
        if tr is not None:
            tr.invalidate_after(t)

    def scheduled_tasks(self) -> list[int]:
        return [t for t, a in enumerate(self.chosen) if a >= 0]
