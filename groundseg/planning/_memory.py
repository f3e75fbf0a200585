"""On-board memory of one resource under a set of acquisitions (solver side).

Semantics (also in the package docstring): the level ``m`` and the drainable level ``q``
start at the initial volume plus the untimed data. An acquisition adds its data to ``m`` at
its start and to ``q`` at its end. During a downlink the recorder drains at the downlink
rate while ``q > 0``. At equal times, drains up to that time come first, then data becoming
drainable, then acquisition starts (where ``m <= capacity`` is checked).
"""
from __future__ import annotations

import math

import numpy as np

_EPS = 1e-9


def simulate(initial_gbit: float, acq_start, acq_end, acq_data, dl_start, dl_end, dl_rate,
             capacity_gbit: float, stop_at_violation: bool = True):
    """Greedy (as-early-as-possible) drain of one resource.

    ``acq_*``: (n,) acquisitions; ``dl_*``: (k,) non-overlapping downlinks.
    Returns ``(ok, drained (k,), drain_stop_s (k,), peak_gbit)``; ``ok`` is False when the
    level exceeds ``capacity_gbit`` (then, with ``stop_at_violation``, the rest is not
    simulated).
    """
    n = len(acq_start)
    k = len(dl_start)
    drained = np.zeros(k)
    stop = np.full(k, np.nan)
    m = q = float(initial_gbit)
    peak = m
    if m > capacity_gbit + _EPS:
        return False, drained, stop, peak
    if n == 0 and k == 0:
        return True, drained, stop, peak
    # event codes at equal times: 0 downlink start, 1 downlink end, 2 acq end, 3 acq start
    times = np.concatenate([np.asarray(dl_start, float), np.asarray(dl_end, float),
                            np.asarray(acq_end, float), np.asarray(acq_start, float)])
    codes = np.concatenate([np.zeros(k, np.int8), np.ones(k, np.int8),
                            np.full(n, 2, np.int8), np.full(n, 3, np.int8)])
    idx = np.concatenate([np.arange(k), np.arange(k), np.arange(n), np.arange(n)])
    order = np.lexsort((codes, times))
    data = np.asarray(acq_data, float)
    rates = np.asarray(dl_rate, float)
    t_prev = None
    active = -1
    ok = True
    for e in order.tolist():
        t = float(times[e])
        if active >= 0 and t_prev is not None and t > t_prev and q > 0.0:
            rate = rates[active]
            amount = min(q, rate * (t - t_prev))
            q -= amount
            m -= amount
            drained[active] += amount
            stop[active] = t_prev + amount / rate
        t_prev = t
        c = codes[e]
        i = int(idx[e])
        if c == 0:
            active = i
        elif c == 1:
            if active == i:
                active = -1
        elif c == 2:
            q += data[i]
        else:
            m += data[i]
            if m > peak:
                peak = m
            if m > capacity_gbit + _EPS:
                ok = False
                if stop_at_violation:
                    break
    return ok, drained, stop, peak


class Tracker:
    """Incremental memory check for one resource (same semantics as :func:`simulate`).

    Keeps the unperturbed state ``(m, q)`` just before each downlink start. A check of a
    modified sequence resumes from the last checkpoint before the first change, merges
    the three sorted event streams (acquisition starts, acquisition ends, downlinks; the
    acquisitions of one resource do not overlap, so their ends are sorted too), and stops
    as soon as it reaches a checkpoint after the last change with the same state: from
    there on the future is the current (feasible) one.
    """

    def __init__(self, dl_start, dl_end, dl_rate, capacity_gbit: float):
        self.S = [float(x) for x in dl_start]
        self.E = [float(x) for x in dl_end]
        self.R = [float(x) for x in dl_rate]
        self.cap = float(capacity_gbit) + _EPS
        self.ck: list = [None] * len(self.S)

    def invalidate_after(self, t: float) -> None:
        from bisect import bisect_right
        for k in range(bisect_right(self.S, t), len(self.S)):
            self.ck[k] = None

    def check(self, base: float, seq, st, dur, data, t_first: float = -math.inf,
              t_last: float = math.inf, record_all: bool = False) -> bool:
        """Is the sequence ``seq`` (alternatives) with starts ``st`` (sorted) feasible?

        ``t_first``/``t_last``: first start and last end that differ from the current
        sequence (record_all: ``seq`` *is* the current sequence; refresh every checkpoint).
        """
        from bisect import bisect_left, bisect_right
        S, E, R, ck = self.S, self.E, self.R, self.ck
        K = len(S)
        k0 = bisect_right(S, t_first) - 1
        while k0 >= 0 and ck[k0] is None:
            k0 -= 1
        if k0 >= 0:
            m, q = ck[k0]
            t0 = S[k0]
        else:
            m = q = float(base)
            t0 = -math.inf
            if m > self.cap:
                return False
        n = len(seq)
        i_s = bisect_left(st, t0)
        i_e = i_s
        while i_e > 0 and st[i_e - 1] + dur[seq[i_e - 1]] >= t0:
            i_e -= 1
        k = max(k0, 0)
        phase = 0  # 0: next downlink event is S[k]; 1: E[k]
        active = False
        t_prev = t0
        inf = math.inf
        while True:
            ts = st[i_s] if i_s < n else inf
            te = st[i_e] + dur[seq[i_e]] if i_e < n else inf
            td = (S[k] if phase == 0 else E[k]) if k < K else inf
            # order at equal times: downlink start/end, acquisition end, acquisition start
            if td <= te and td <= ts:
                if td == inf:
                    return True
                t, code = td, phase
            elif te <= ts:
                t, code = te, 2
            else:
                t, code = ts, 3
            if active and t > t_prev and q > 0.0:
                amount = R[k] * (t - t_prev)
                if amount > q:
                    amount = q
                q -= amount
                m -= amount
            t_prev = t
            if code == 0:
                if record_all or t <= t_first:
                    ck[k] = (m, q)
                elif t > t_last and ck[k] is not None:
                    mu, qu = ck[k]
                    if abs(m - mu) <= 1e-9 and abs(q - qu) <= 1e-9:
                        return True
                active = True
                phase = 1
            elif code == 1:
                active = False
                phase = 0
                k += 1
            elif code == 2:
                q += data[seq[i_e]]
                i_e += 1
            else:
                m += data[seq[i_s]]
                i_s += 1
                if m > self.cap:
                    return False
