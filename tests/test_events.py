"""The vectorised crossing finder against brute-force dense sampling."""
import numpy as np

from groundseg.events import find_crossings
from groundseg.roots import refine_roots


def _family(rng, n):
    amp = rng.uniform(0.5, 2.0, n)
    w = rng.uniform(0.001, 0.004, n)       # rad/s: periods of 26 to 105 min
    phase = rng.uniform(0, 2 * np.pi, n)
    # Offsets near the amplitude give grazing, short excursions above zero.
    offset = amp * rng.uniform(0.95, 1.0005, n)

    def g(rows, t):
        return amp[rows] * np.sin(w[rows] * t + phase[rows]) - offset[rows]

    return g, amp * w


def test_no_crossing_is_missed_even_when_grazing():
    rng = np.random.default_rng(1)
    n = 300
    g, rate = _family(rng, n)
    grid = np.arange(0.0, 86400.0 + 1, 120.0)   # coarse: 2 min
    rows = np.arange(n)
    values = g(rows[:, None], grid[None, :])
    cross = find_crossings(g, grid, values, rate, tol_s=1e-3)

    fine = np.arange(0.0, 86400.0, 0.05)
    for i in rng.choice(n, 60, replace=False):
        dense = g(np.full(fine.shape, i), fine)
        sign = dense > 0
        ref = fine[1:][np.diff(sign.astype(int)) != 0]
        ours = cross.time_s[cross.rows == i]
        assert ours.size == ref.size, (i, ours.size, ref.size)
        if ref.size:
            assert np.abs(ours - ref).max() <= 0.05 + 1e-3
    # Roots are exact to the tolerance.
    assert np.abs(g(cross.rows, cross.time_s)).max() < rate.max() * 1e-3


def test_refine_roots_reaches_tolerance():
    f = lambda rows, t: np.cos(t) - t * rows  # noqa: E731
    rows = np.array([1.0, 0.5, 2.0])
    a, b = np.zeros(3), np.full(3, 1.5)
    t = refine_roots(f, rows, a, b, f(rows, a), f(rows, b), tol_s=1e-9)
    assert np.abs(f(rows, t)).max() < 1e-8


def test_windows_from_shuffled_and_repeated_events_match_brute_force():
    """windows() against the runs of random boolean series: events shuffled, zeros found
    twice (a second rise just after a rise, a second set just before a set), series inside
    at the start either told by a rise at 0 or left to ``opens_s``."""
    from groundseg.events import windows
    rng = np.random.default_rng(9)
    n_key, n_t = 200, 400
    state = np.cumsum(rng.random((n_key, n_t)) < 0.05, axis=1) % 2 == 1
    state ^= rng.random(n_key)[:, None] < 0.5
    end = float(n_t)
    keys, times, rising, ref, told = [], [], [], [], set()
    for k in range(n_key):
        s = state[k]
        change = np.flatnonzero(s[1:] != s[:-1]) + 1
        for i in change:
            keys.append(k), times.append(float(i)), rising.append(bool(s[i]))
            if rng.random() < 0.3:            # found twice, inside the same run
                keys.append(k), times.append(i + (0.25 if s[i] else -0.25)), rising.append(bool(s[i]))
        if s[0] and rng.random() < 0.5:
            keys.append(k), times.append(0.0), rising.append(True)
            told.add(k)
        starts = np.concatenate([[0] if s[0] else [], change[s[change]]])
        ends = np.concatenate([change[~s[change]], [n_t] if s[-1] else []])
        ref += [(k, float(a), float(b)) for a, b in zip(starts, ends)]
    order = rng.permutation(len(keys))
    w = windows(np.array(keys)[order], np.array(times)[order], np.array(rising)[order],
                opens_s=lambda k: np.zeros(k.shape), closes_s=lambda k: np.full(k.shape, end))
    assert list(zip(w.key.tolist(), w.start_s.tolist(), w.end_s.tolist())) == ref
    assert w.unmatched == 0
    # Without opens_s / closes_s the windows open at the start or at the end are left out.
    w2 = windows(np.array(keys), np.array(times), np.array(rising))
    closed = [(k, a, b) for k, a, b in ref if b < end and (a > 0 or k in told)]
    assert list(zip(w2.key.tolist(), w2.start_s.tolist(), w2.end_s.tolist())) == closed
    # Each of the others has one event that found no partner (or none at all).
    assert w2.unmatched == sum((a > 0 or k in told) + (b < end) for k, a, b in ref
                               if (k, a, b) not in closed)
