import numpy as np
import pytest

from telemetry.dictionary import Parameter
from telemetry.limits import REASONS, LimitChecker


def _param(**kw):
    p = Parameter(name="x", type="int", bits=16, bit_offset=0)
    p.low = np.array([-10.0, -20.0, np.nan, -40.0])
    p.high = np.array([10.0, 20.0, 30.0, 40.0])
    for k, v in kw.items():
        setattr(p, k, v)
    return p


def _reference(p, raw, values):
    """Sample-by-sample reference of the documented semantics."""
    n = len(values)
    inst = []
    for v, r in zip(values, raw):
        s = 0
        for k in range(4):
            if (not np.isnan(p.low[k]) and v < p.low[k]) or (not np.isnan(p.high[k]) and v > p.high[k]):
                s = k + 1
        s = max(s, p.state_severity.get(int(r), 0))
        inst.append(s)
    out = []
    run = 0
    for i in range(n):
        window = [inst[j] if j >= 0 else 0 for j in range(i - p.persistence + 1, i + 1)]
        s = min(window)
        run = run + 1 if i > 0 and raw[i] == raw[i - 1] else 1
        if p.frozen_samples and run >= p.frozen_samples:
            s = max(s, p.frozen_severity)
        if np.isfinite(p.step_max) and i > 0 and abs(values[i] - values[i - 1]) > p.step_max:
            s = max(s, p.step_severity)
        out.append(s)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("persistence", [1, 3])
def test_matches_reference_in_any_batching(seed, persistence):
    rng = np.random.default_rng(seed)
    n = 400
    raw = np.cumsum(rng.choice([-6, -1, 0, 0, 0, 1, 6], n)).astype(np.int64)
    raw[rng.random(n) < 0.05] = 0
    p = _param(persistence=persistence, frozen_samples=5, frozen_severity=2, step_max=8.0, step_severity=3,
               state_severity={7: 1})
    values = raw.astype(np.float64)
    t = np.arange(n, dtype=np.float64)
    expected = _reference(p, raw, values)
    for cuts in ([n], sorted(rng.choice(np.arange(1, n), 7, replace=False).tolist()) + [n]):
        chk = LimitChecker()
        got, events, start = [], [], 0
        for end in cuts:
            s, why, ev = chk.check("SC", p, raw[start:end], values[start:end], t[start:end])
            assert ((s == 0) == (why == 0)).all()
            got += s.tolist()
            events += ev
            start = end
        assert got == expected
        # the alarm events are exactly the severity changes
        prev = [0] + expected[:-1]
        changes = [i for i in range(n) if expected[i] != prev[i]]
        assert [e.time_s for e in events] == [float(i) for i in changes]
        for e in events:
            i = int(e.time_s)
            kind = "raised" if prev[i] == 0 else "cleared" if expected[i] == 0 else \
                "escalated" if expected[i] > prev[i] else "downgraded"
            assert e.event == kind and e.severity == expected[i]
            assert (e.reason == "") == (expected[i] == 0) and e.reason in REASONS


def test_state_round_trip_continues_identically():
    p = _param(persistence=3, frozen_samples=4, frozen_severity=2, step_max=5.0, step_severity=4)
    rng = np.random.default_rng(9)
    raw = np.cumsum(rng.integers(-4, 5, 300))
    a = LimitChecker()
    s1 = a.check("SC", p, raw[:150], raw[:150].astype(float), np.arange(150.0))[0]
    b = LimitChecker()
    b.restore(a.state())
    s2 = b.check("SC", p, raw[150:], raw[150:].astype(float), np.arange(150.0, 300))[0]
    full = LimitChecker().check("SC", p, raw, raw.astype(float), np.arange(300.0))[0]
    assert np.concatenate([s1, s2]).tolist() == full.tolist()
