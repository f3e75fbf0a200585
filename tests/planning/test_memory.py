"""The solver-side memory code (simulate, the incremental Tracker) against a brute-force
fine-step simulation written here."""
import math

import numpy as np
import pytest

from groundseg.planning import _memory


def _fine(initial, acqs, dls, cap, dt=1e-3):
    """Time-stepped reference: reserve at start, drainable at end, drain while drainable."""
    if initial > cap + 1e-9:
        return False, []
    t_end = max([e for _, e, _ in acqs] + [e for _, e, _ in dls] + [0.0]) + 1.0
    m = q = initial
    drained = [0.0] * len(dls)
    started = [False] * len(acqs)
    ended = [False] * len(acqs)
    t = -1.0
    while t <= t_end:
        for k, (s, e, rate) in enumerate(dls):
            lo, hi = max(t, s), min(t + dt, e)
            if hi > lo and q > 0:
                amount = min(q, rate * (hi - lo))
                q -= amount
                m -= amount
                drained[k] += amount
        t += dt
        for i, (s, e, v) in enumerate(acqs):
            if not ended[i] and e <= t + 1e-12:
                ended[i] = True
                q += v
        for i, (s, e, v) in enumerate(acqs):
            if not started[i] and s <= t + 1e-12:
                started[i] = True
                m += v
                if m > cap + 1e-6:
                    return False, drained
    return True, drained


def _random_case(rng, n_acq=8, n_dl=3):
    t = 0.0
    acqs = []
    for _ in range(n_acq):
        t += rng.uniform(0.5, 4.0)
        d = rng.uniform(0.2, 2.0)
        acqs.append((round(t, 3), round(t + d, 3), float(rng.uniform(1, 6))))
        t += d
    dls = []
    u = 0.0
    for _ in range(n_dl):
        u += rng.uniform(1.0, 10.0)
        d = rng.uniform(1.0, 5.0)
        dls.append((round(u, 3), round(u + d, 3), float(rng.uniform(0.5, 3.0))))
        u += d
    return acqs, dls


def test_simulate_matches_fine_step_reference():
    rng = np.random.default_rng(0)
    agree = 0
    for _ in range(40):
        acqs, dls = _random_case(rng, n_acq=6, n_dl=2)
        cap = float(rng.uniform(6, 20))
        init = float(rng.uniform(0, 4))
        ok, drained, _, _ = _memory.simulate(init, [a[0] for a in acqs], [a[1] for a in acqs],
                                             [a[2] for a in acqs], [d[0] for d in dls],
                                             [d[1] for d in dls], [d[2] for d in dls], cap)
        ok_ref, drained_ref = _fine(init, acqs, dls, cap)
        assert ok == ok_ref
        if ok:
            agree += 1
            np.testing.assert_allclose(drained, drained_ref, atol=0.02)
    assert 5 < agree < 40  # both outcomes exercised


def test_tracker_matches_simulate_on_insertions():
    rng = np.random.default_rng(1)
    for _ in range(200):
        acqs, dls = _random_case(rng, n_acq=10, n_dl=4)
        cap = float(rng.uniform(8, 25))
        # the current sequence: a feasible subset; then insert one more and compare
        current = []
        tr = _memory.Tracker([d[0] for d in dls], [d[1] for d in dls], [d[2] for d in dls], cap)
        order = rng.permutation(len(acqs))
        for i in order:
            cand = sorted(current + [int(i)], key=lambda j: acqs[j][0])
            seq = cand
            st = [acqs[j][0] for j in seq]
            dur = {j: acqs[j][1] - acqs[j][0] for j in range(len(acqs))}
            data = {j: acqs[j][2] for j in range(len(acqs))}
            ok_ref = _memory.simulate(0.0, st, [acqs[j][1] for j in seq], [data[j] for j in seq],
                                      [d[0] for d in dls], [d[1] for d in dls], [d[2] for d in dls], cap)[0]
            cur_st = [acqs[j][0] for j in current]
            if tr.S and tr.ck[-1] is None:
                tr.check(0.0, current, cur_st, dur, data, t_first=math.inf, record_all=True)
            s = acqs[int(i)][0]
            ok = tr.check(0.0, seq, st, dur, data, t_first=s, t_last=acqs[int(i)][1])
            assert ok == ok_ref
            if ok:
                current = cand
                tr.invalidate_after(s)


@pytest.mark.parametrize("initial, ok", [(0.0, True), (10.0, True), (10.5, False)])
def test_initial_volume_counts(initial, ok):
    tr = _memory.Tracker([], [], [], 10.0)
    assert tr.check(initial, [], [], {}, {}) is ok
