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
