"""The generic pieces under the pass search (polynomial bounds, Newton refinement, pruned
and isolated crossings), against brute force."""
import numpy as np
from numpy.polynomial import polynomial as P

from groundseg.events import find_crossings, find_crossings_in
from groundseg.interpolation import bernstein_coefficients, horner, polynomial_bounds
from groundseg.roots import cubic_root, refine_roots, refine_roots_newton


def _poly(c, t):
    return sum(c[:, k, None] * t**k for k in range(c.shape[1]))


def test_polynomial_bounds_enclose_dense_samples():
    rng = np.random.default_rng(3)
    c = rng.normal(size=(500, 6, 2))
    a = rng.uniform(-1, 1, 500)
    b = a + rng.uniform(1e-3, 2, 500)
    lo, hi = polynomial_bounds(c, a, b)
    t = a[:, None] + (b - a)[:, None] * np.linspace(0, 1, 401)[None]
    v = np.stack([_poly(c[:, :, i], t) for i in range(2)], axis=-1)
    assert np.all(v.min(axis=1) >= lo - 1e-12) and np.all(v.max(axis=1) <= hi + 1e-12)
    # Tight for narrow intervals: the hull converges to the range (O(width^2)).
    narrow = (b - a) < 0.05
    assert np.all((hi - lo)[narrow] - (v.max(axis=1) - v.min(axis=1))[narrow] < 1e-2)
    # Linear in the polynomial, and the end coefficients are the end values.
    B = bernstein_coefficients(c[:, :, :1], a, b)[:, :, 0]
    np.testing.assert_allclose(B[:, 0], _poly(c[:, :, 0], a[:, None])[:, 0], atol=1e-9)
    np.testing.assert_allclose(B[:, -1], _poly(c[:, :, 0], b[:, None])[:, 0], atol=1e-9)


def test_horner_values_and_derivatives_match_numpy():
    rng = np.random.default_rng(5)
    for n_coef in (1, 2, 4, 6):
        c = rng.normal(size=(200, n_coef, 3))
        tau = rng.uniform(-0.5, 1.5, 200)
        got = horner(c, tau, derivative=True, second=True)
        for order in range(3):
            want = np.array([[P.polyval(tau[m], P.polyder(c[m, :, i], order)) for i in range(3)]
                             for m in range(200)])
            np.testing.assert_allclose(got[order], want, rtol=1e-12, atol=1e-12)
    value, d1, d2 = horner(c, tau)
    assert d1 is None and d2 is None and value.shape == (200, 3)


def test_cubic_root_where_its_newton_steps_leave_the_interval():
    """A cubic whose end value is small beside a steep slope, and its mirror image: three
    Newton steps from the secant leave (0, 1); the point returned is the cubic's root in (0,
    1) (numpy's roots) to the bisection's 1e-4, NaN for NaN coefficients."""
    g0, g1 = np.array([-1.0, 1e-3]), np.array([1e-3, -1.0])
    d0, d1 = np.array([0.0, 40.0]), np.array([-40.0, 0.0])
    x = cubic_root(g0, g1, d0, d1)
    for i in range(2):
        c2 = 3 * (g1[i] - g0[i]) - 2 * d0[i] - d1[i]
        c3 = 2 * (g0[i] - g1[i]) + d0[i] + d1[i]
        r = P.polyroots([g0[i], d0[i], c2, c3])
        r = r[(abs(r.imag) < 1e-12) & (r.real > 0) & (r.real < 1)].real
        assert np.min(np.abs(r - x[i])) < 1e-4, (i, x[i], r)
    assert np.isnan(cubic_root(np.array([np.nan]), np.array([1.0]), np.zeros(1), np.zeros(1)))[0]


def test_newton_refinement_reaches_tolerance_in_few_calls():
    rng = np.random.default_rng(4)
    n = 1000
    w = rng.uniform(0.5, 2.0, n)
    off = rng.uniform(-0.5, 0.5, n)        # brackets below hold exactly one root
    calls = []

    def f(rows, t):
        calls.append(rows.size)
        return np.sin(w[rows] * t) - off[rows], w[rows] * np.cos(w[rows] * t)

    root = np.arcsin(off) / w
    a, b = root - rng.uniform(0.01, 0.6, n), root + rng.uniform(0.01, 0.6, n)
    rows = np.arange(n)
    t = refine_roots_newton(f, rows, a, b, f(rows, a)[0], f(rows, b)[0], tol_s=1e-6)
    assert np.abs(t - root).max() <= 1e-6
    assert len(calls) <= 2 + 12
    # Illinois agrees.
    t2 = refine_roots(lambda r, x: f(r, x)[0], rows, a, b, f(rows, a)[0], f(rows, b)[0], tol_s=1e-6)
    assert np.abs(t2 - root).max() <= 1e-6


def test_prune_and_isolate_keep_every_zero():
    """Three zeros inside one interval (a dip) are all found with ``isolate``; a prune that
    proves emptiness only where it is true changes nothing."""
    rng = np.random.default_rng(5)
    n = 200
    # g(t) = (t - r1)(t - r2)(t - r3) scaled: three zeros in [0, 10].
    r = np.sort(rng.uniform(0.5, 9.5, (n, 3)), axis=1)
    r[:, 1] = r[:, 0] + rng.uniform(0.01, 0.5, n)     # close pairs: a short dip
    r[:, 2] = np.maximum(r[:, 2], r[:, 1] + 0.01)

    def g(rows, t):
        return (t - r[rows, 0]) * (t - r[rows, 1]) * (t - r[rows, 2])

    rows = np.arange(n)
    a, b = np.zeros(n), np.full(n, 10.0)
    L = np.full(n, 300.0)                       # |g'| <= 3 * 10^2 on [0, 10]

    def prune(rw, lo, hi, glo, ghi):
        # Exact emptiness test: no root strictly inside.
        inside = (r[rw] > lo[:, None]) & (r[rw] < hi[:, None])
        return ~inside.any(axis=1)

    plain = find_crossings_in(g, rows, a, b, g(rows, a), g(rows, b), L, tol_s=1e-6)
    assert len(plain) == n                      # one zero per sign-change bracket
    full = find_crossings_in(g, rows, a, b, g(rows, a), g(rows, b), L, tol_s=1e-6,
                             prune=prune, isolate=lambda rw: np.ones(rw.size, bool))
    assert len(full) == 3 * n
    found = full.time_s.reshape(n, 3)
    assert np.abs(found - r).max() < 1e-5
    assert list(full.rising.reshape(n, 3)[0]) == [True, False, True]


def test_find_crossings_unchanged_by_the_refactor():
    rng = np.random.default_rng(6)
    n = 50
    amp, w, ph = rng.uniform(0.5, 2, n), rng.uniform(0.001, 0.004, n), rng.uniform(0, 6, n)
    off = amp * rng.uniform(0.95, 1.0005, n)

    def g(rows, t):
        return amp[rows] * np.sin(w[rows] * t + ph[rows]) - off[rows]

    grid = np.arange(0.0, 20000.0, 120.0)
    rows = np.arange(n)
    cross = find_crossings(g, grid, g(rows[:, None], grid[None]), amp * w, tol_s=1e-3)
    fine = np.arange(0.0, grid[-1], 0.01)
    for i in range(n):
        s = g(np.full(fine.size, i), fine) > 0
        ref = fine[1:][s[1:] != s[:-1]]
        mine = cross.time_s[cross.rows == i]
        assert mine.size == ref.size and (ref.size == 0 or np.abs(mine - ref).max() < 0.02)
