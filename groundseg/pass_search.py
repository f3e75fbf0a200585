"""The pass search: every pass of a chunk of satellites over every station, none missed.

A pass is a maximal interval where the elevation margin ``g`` of :mod:`groundseg.horizon`
is positive; AOS and LOS are its zeros, TCA the time of maximum *elevation* inside [AOS,
LOS] (not of maximum margin: with a mask the two differ).

Method and the completeness argument
------------------------------------
1. **Grid.** SGP4 states (TEME position, velocity) on a coarse grid (240 s in LEO) are the
   only SGP4 calls. Between samples the trajectory, in the Earth-fixed (PEF) frame, is the
   quintic Hermite polynomial matching position, velocity and SGP4's J2 gravity (with
   Coriolis and centrifugal terms) at both ends (:mod:`groundseg.interpolation`): a few
   metres from SGP4 at 240 s. Seen from a station, in its east / north / up frame, that is
   one polynomial per (interval, satellite, station) *row* (:class:`PassGeometry`).
2. **Prefilter** (:func:`groundseg.pass_screen.candidate_rows`). A row is examined when
   the samples allow the geocentric angle between satellite and station to reach the limit
   beyond which the satellite is below the station's lowest requirement, and do not prove it
   above the highest throughout (the argument is in :mod:`groundseg.pass_screen`).
3. **Crossings** (:func:`_crossings`). :func:`groundseg.events.find_crossings_in` splits each
   row until every piece shows a sign change of ``g`` or is proved empty, by the Lipschitz
   test (``|g(a)| + |g(b)| > L (b - a)`` with ``L = (|v| / rho)(1 + S / cos e)``: |v| a bound
   on the Earth-fixed speed, rho a lower bound of the range, ``1 + S / cos e`` the mask's
   speed-up) or the Bernstein one (:class:`_Pruner`). Pieces narrower than the tolerance
   (1 ms) stop the search, so every pass longer than that is found, however grazing.
   Brackets are refined by Newton steps kept inside the bracket (:mod:`groundseg.roots`).
   A bracket is taken to hold one zero. Without a mask that needs the elevation to turn
   twice inside one grid step (rise-set-rise within 240 s), which an LEO satellite cannot
   do: between two passes the elevation goes through its minimum far below the horizon.
   With a mask it can (a dip behind a building), so for masked stations the parts of each
   bracket beside its root are searched again until no new zero appears.
4. **TCA** (:func:`_tca`) is the highest root of d(elevation)/dt (a + to - change between
   the grid times inside [AOS, LOS], refined by Newton on the same polynomials), or AOS /
   LOS when the elevation only falls / rises in the pass (masks).

The margins above assume what SGP4 states are: smooth, bound by Earth gravity (see
:func:`groundseg.bounds.orbit_bounds`) and near the Hermite polynomials (a few metres).
Masks must be continuous and stay below about 89.9 deg.
"""
from __future__ import annotations

import functools

import numpy as np

from .bounds import OrbitBounds, orbit_bounds
from .events import find_crossings_in, windows
from .horizon import Horizons
from .interpolation import bernstein_coefficients, horner, quintic_terms, sgp4_gravity_km_s2
from .pass_screen import candidate_rows
from .revolutions import orbit_numbers
from .roots import cubic_root, refine_roots_newton
from .sun import sun_centre_visible

__all__ = ["PassGeometry", "chunk_passes", "CROSSING", "WINDOW_EDGE", "DATA_EDGE"]

_TWO_PI = 2.0 * np.pi
# What opens or closes a pass: a crossing of g, the window's start / end, the edge of valid data.
CROSSING, WINDOW_EDGE, DATA_EDGE = 0, 1, 2
# Rows computed at a time: the temporaries stay in cache (about twice as fast, same values).
_BLOCK_ROWS = 8192


def _blockwise(fn):
    """``fn(self, *arrays)`` run on ``_BLOCK_ROWS`` rows at a time (every argument ``(m,
    ...)``), its outputs (an array or a tuple of arrays) concatenated."""
    @functools.wraps(fn)
    def run(self, *args):
        m = len(args[0])
        if m <= _BLOCK_ROWS:
            return fn(self, *args)
        outs = [fn(self, *(a[b:b + _BLOCK_ROWS] for a in args)) for b in range(0, m, _BLOCK_ROWS)]
        if isinstance(outs[0], tuple):
            return tuple(np.concatenate(o) for o in zip(*outs))
        return np.concatenate(outs)
    return run


class PassGeometry:
    """A chunk of satellites on the grid in the Earth-fixed frame, and the stations.

    ``r``, ``v``: TEME ``(n_sat, n_time, 3)`` on ``grid_s`` ``(n_time,)``; ``theta``,
    ``omega``: GMST and its rate ``(n_time,)``; ``polar_motion``: ``(n_time, 3, 3)`` or None.
    Between grid times k and k+1 the satellite's pseudo-Earth-fixed (PEF) position is the
    quintic Hermite polynomial matching SGP4's position, velocity and a J2 acceleration
    (rotated, with Coriolis and centrifugal terms) at both ends; seen from station j in its
    east / north / up frame it is the same polynomial times a fixed matrix, so each
    (interval, satellite, station) row is one ``(6, 3)`` array of coefficients.
    """

    def __init__(self, r, v, grid_s, theta, omega, sites: Horizons, polar_motion):
        self.r, self.v = r, v
        self.grid_s = grid_s
        self.h = np.diff(grid_s)
        self.theta, self.omega = theta, omega
        self.sites = sites
        # PEF states component by component, ``states`` (9, n_s * n_t): position, velocity
        # (minus w x p), acceleration (minus Coriolis and centrifugal terms), rotated by GMST.
        c, s, w = np.cos(theta), np.sin(theta), omega
        n_s, n_t = r.shape[:2]
        self.n_sat, self.n_time = n_s, n_t
        states = np.empty((9, n_s, n_t))
        p3, v3, a3 = states[0:3], states[3:6], states[6:9]
        for out, x in ((p3, r), (v3, v)):
            np.add(c * x[..., 0], s * x[..., 1], out=out[0])
            np.subtract(c * x[..., 1], s * x[..., 0], out=out[1])
            out[2] = x[..., 2]
        a3[...] = sgp4_gravity_km_s2(p3, axis=0)              # rotates with the positions
        v3[0] += w * p3[1]
        v3[1] -= w * p3[0]
        w2 = w * w
        a3[0] += 2 * w * v3[1] + w2 * p3[0]
        a3[1] += w2 * p3[1] - 2 * w * v3[0]
        self.states = states.reshape(9, -1)
        self.p3 = p3                                                            # (3, n_s, n_t)
        # The polynomials' middles (3, n_s, n_t - 1): the quintic Hermite at tau = 1/2 is
        # (p0 + p1) / 2 + 5 h (v0 - v1) / 32 + h^2 (a0 + a1) / 64. Coefficients are made only
        # for the rows examined (:meth:`rows`).
        h = self.h
        self.mid3 = 0.5 * (p3[..., :-1] + p3[..., 1:]) \
            + (5.0 / 32.0) * h * (v3[..., :-1] - v3[..., 1:]) \
            + (h * h / 64.0) * (a3[..., :-1] + a3[..., 1:])
        # Station position and E, N, U rows in PEF at every grid time: W^T x (W: PEF -> ITRS),
        # as rows of (n_t * n_j, 12) and component by component, (12, n_t * n_j).
        vecs = np.concatenate([sites.ecef[:, None, :], sites.enu], axis=1)    # (n_j, 4, 3)
        if polar_motion is None:
            pef = np.broadcast_to(vecs, (len(grid_s),) + vecs.shape)
        else:
            pef = np.einsum("tji,nvj->tnvi", polar_motion, vecs)
        self.site_vectors = np.ascontiguousarray(pef).reshape(-1, 12)
        self.site_components = np.ascontiguousarray(self.site_vectors.T)
        self.site_up = self.site_components[[0, 1, 2, 9, 10, 11]]             # position, up

    @_blockwise
    def elevation_rate_sign(self, k, s, j):
        """A function with the sign of d(elevation)/dt at grid times k ``(m,)``, from the
        exact samples: ``(U.v) |d|^2 - (U.d)(d.v)`` with d the PEF vector from the station,
        v its rate and U the station's up (the ENU form of :func:`_elevation_rate_sign`)."""
        x = np.take(self.states[:6], s * self.n_time + k, axis=1)
        site = np.take(self.site_up, k * len(self.sites) + j, axis=1)
        d, v, up = x[:3] - site[:3], x[3:6], site[3:]
        dot = _dot3
        return dot(up, v) * dot(d, d) - dot(up, d) * dot(d, v)

    def _site(self, k, j):
        """Station position ``(m, 3)`` and E, N, U rows ``(m, 3, 3)`` (PEF) at grid times k."""
        x = np.take(self.site_vectors, k * len(self.sites) + j, axis=0)
        return x[:, :3], x[:, 3:].reshape(-1, 3, 3)

    def rows(self, k, s, j, ends: bool = False):
        """Coefficients ``(m, 6, 3)`` of the ENU polynomials of rows (interval k, sat s, station
        j); with ``ends`` also the ENU vectors and their d/dtau at both ends (the exact
        samples), ``(4, 3, m)``: tau = 0, its rate, tau = 1, its rate."""
        out = np.empty((k.size, 6, 3))
        vectors = np.empty((4, 3, k.size))
        for b in range(0, k.size, _BLOCK_ROWS):
            part = slice(b, b + _BLOCK_ROWS)
            self._rows(k[part], s[part], j[part], out[part], vectors[:, :, part])
        return (out, vectors) if ends else out

    def _rows(self, k, s, j, out, vectors):
        """:meth:`rows` on one block, into ``out`` and ``vectors``: the end states, from the
        station in its E, N, U axes, then the quintic's combinations of them, one ENU
        component at a time (long loops over the rows)."""
        i = s * self.n_time + k
        x0 = np.take(self.states, i, axis=1)                    # (9, m): p, v, a at tau = 0
        x1 = np.take(self.states, i + 1, axis=1)
        site = np.take(self.site_components, k * len(self.sites) + j, axis=1)      # (12, m)
        h = self.h[k]
        h2 = h * h
        x0[:3] -= site[:3]
        x1[:3] -= site[:3]
        for e in range(3):
            axis = site[3 + 3 * e:6 + 3 * e]

            def along(x, q):
                return x[3 * q] * axis[0] + x[3 * q + 1] * axis[1] + x[3 * q + 2] * axis[2]

            p0, p1 = along(x0, 0), along(x1, 0)
            V0, V1 = along(x0, 1) * h, along(x1, 1) * h
            A0, A1 = along(x0, 2) * h2, along(x1, 2) * h2
            vectors[0, e], vectors[1, e], vectors[2, e], vectors[3, e] = p0, V0, p1, V1
            for q, c in enumerate(quintic_terms(p0, V0, A0, p1, V1, A1)):
                out[:, q, e] = c

    def at_samples(self, k, s, j, velocity=False):
        """ENU vectors ``(m, 3)`` at grid times k (exact SGP4 states), and with ``velocity``
        their time derivatives."""
        P, M = self._site(k, j)
        x = np.take(self.states, s * self.n_time + k, axis=1).T
        d = np.einsum("mij,mj->mi", M, x[:, :3] - P)
        if not velocity:
            return d
        return d, np.einsum("mij,mj->mi", M, x[:, 3:6])


def _rotate_z(x, c, s):
    """Rotate vectors ``(..., 3)`` by angles with cosines / sines ``c``, ``s`` (TEME -> PEF)."""
    return np.stack([c * x[..., 0] + s * x[..., 1], -s * x[..., 0] + c * x[..., 1], x[..., 2]], -1)


def _norm(x):
    """Euclidean norm over the last axis (faster than numpy.linalg.norm for (..., 3))."""
    return np.sqrt(_dot(x, x))


def _dot(a, b):
    """Dot products over the last axis of ``(..., 3)`` vectors (a third of einsum's time)."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def _dot3(a, b):
    """Dot products over the first axis of ``(3, ...)`` vectors."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _look(d):
    """Elevation, azimuth (rad) and range of ENU vectors ``(m, 3)``."""
    e, n, u = d[:, 0], d[:, 1], d[:, 2]
    hor = np.hypot(e, n)
    return np.arctan2(u, hor), np.mod(np.arctan2(e, n), _TWO_PI), np.hypot(hor, u)


def _sin_elevation(d):
    """Sines of the elevations of ENU vectors ``(m, 3)``: they order as the elevations."""
    return d[:, 2] / _norm(d)


def _elevation_rate_sign(d, dd):
    """A function with the sign of d(elevation)/dt, from ENU position and its derivative."""
    return dd[:, 2] * _dot(d, d) - d[:, 2] * _dot(d, dd)


class _Rows:
    """Candidate rows (interval ``k``, satellite ``s``, station ``j``), each ``(m,)``, sorted
    by (k, s, j); ``C`` ``(m, 6, 3)`` their ENU polynomials in tau, ``ends`` ``(4, 3, m)``
    the ENU vectors and their d/dtau at tau = 0 and 1, ``t0``, ``h`` the intervals."""

    def __init__(self, geo: PassGeometry, k, s, j):
        self.geo, self.k, self.s, self.j = geo, k, s, j
        self.C, self.ends = geo.rows(k, s, j, ends=True)
        self.t0, self.h = geo.grid_s[k], geo.h[k]
        self.code = self._code(k, s, j)

    def __len__(self) -> int:
        return self.k.size

    def _code(self, k, s, j):
        return (k * self.geo.r.shape[0] + s) * len(self.geo.sites) + j

    def polynomials(self, k, s, j):
        """Coefficients ``(m, 6, 3)`` of any rows: the candidate's own (every interval a
        pass overlaps is a candidate, the prefilter being complete), built afresh if not."""
        want = self._code(k, s, j)
        if not len(self):
            return self.geo.rows(k, s, j)
        at = np.minimum(np.searchsorted(self.code, want), self.code.size - 1)
        out = np.take(self.C, at, axis=0)
        found = self.code[at] == want
        if not np.all(found):
            out[~found] = self.geo.rows(k[~found], s[~found], j[~found])
        return out

    def enu(self, rows, t, derivative=False):
        """ENU vector (and d/dtau) of ``rows`` at times ``t`` (s), ``(m, 3)``."""
        return horner(np.take(self.C, rows, axis=0), (t - self.t0[rows]) / self.h[rows],
                      derivative)

    @_blockwise
    def margin(self, rows, t):
        d, _, _ = self.enu(rows, t)
        return self.geo.sites.margin_enu(self.j[rows], d)

    @_blockwise
    def margin_and_rate(self, rows, t):
        h = self.h[rows]
        d, dd, _ = horner(np.take(self.C, rows, axis=0), (t - self.t0[rows]) / h, True)
        g, dg = self.geo.sites.margin_enu(self.j[rows], d, dd)
        return g, dg / h

    def refine(self, rows, a, b, ga, gb, tol_s):
        """Newton refinement of brackets; the first trial point of a bracket that is a whole
        row is the root of the cubic matching g and dg/dt at its samples."""
        x0 = None
        whole = (a == self.t0[rows]) & (b == self.t0[rows] + self.h[rows])
        if np.any(whole):
            i = np.flatnonzero(whole)
            E = np.take(self.ends, rows[i], axis=2)
            j, margin_enu = self.j[rows[i]], self.geo.sites.margin_enu
            _, d_a = margin_enu(j, E[0].T, E[1].T)
            _, d_b = margin_enu(j, E[2].T, E[3].T)
            x0 = np.full(rows.size, np.nan)
            x0[i] = self.t0[rows[i]] + self.h[rows[i]] * cubic_root(ga[i], gb[i], d_a, d_b)
        return refine_roots_newton(self.margin_and_rate, rows, a, b, ga, gb, x0=x0, tol_s=tol_s)


class _Pruner:
    """Bernstein test of rows: True where the satellite is provably below the station's
    lowest requirement, or provably above its highest, over a whole sub-interval.

    With s = sin(eps), el >= eps  <=>  u - s |d| >= 0. The curve d(t) on a sub-interval is a
    convex combination of its Bernstein control points. For s >= 0, {u >= s |d|} is a convex
    cone: every control point strictly inside proves the whole curve above. For s < 0 the
    same holds for the cone below. The other two cases use a linear bound: for any unit w,
    |d| >= d.w, so u - s (d.w) bounds u - s |d| from one side (above when s >= 0, below
    when s < 0) and is a degree-5 polynomial (w = d at mid-interval).
    """

    def __init__(self, rows: _Rows):
        sites = rows.geo.sites
        self.C, self.t0, self.h = rows.C, rows.t0, rows.h
        self.s_low = np.sin(sites.lowest - 1e-9)[rows.j]
        self.s_high = np.sin(sites.highest + 1e-9)[rows.j]

    @_blockwise
    def __call__(self, rows, a, b, ga, gb):
        out = np.zeros(rows.size, dtype=bool)
        low = (ga < 0) & (gb < 0)
        if np.any(low):
            i = np.flatnonzero(low)
            out[i] = self._test(rows[i], a[i], b[i], self.s_low[rows[i]], below=True)
        high = (ga > 0) & (gb > 0)
        if np.any(high):
            i = np.flatnonzero(high)
            out[i] = self._test(rows[i], a[i], b[i], self.s_high[rows[i]], below=False)
        return out

    def _test(self, rows, a, b, s, below: bool):
        C = np.take(self.C, rows, axis=0)
        ta = (a - self.t0[rows]) / self.h[rows]
        tb = (b - self.t0[rows]) / self.h[rows]
        B = np.moveaxis(bernstein_coefficients(C, ta, tb), 0, -1)              # (6, 3, m)
        e, n, u = B[:, 0], B[:, 1], B[:, 2]                                    # (6, m) each
        margin = u - s * np.sqrt(e * e + n * n + u * u)                        # u - s |b|
        cone = (s < 0) if below else (s >= 0)
        out = (margin.max(axis=0) < 0 if below else margin.min(axis=0) > 0) & cone
        lin = np.flatnonzero(~cone)
        if lin.size:
            # u - s (d.w): an upper bound of u - s |d| when s >= 0, a lower one when s < 0.
            mid, _, _ = horner(C[lin], 0.5 * (ta[lin] + tb[lin]))
            w = (mid / _norm(mid)[:, None]).T                                  # (3, m')
            Bl = B[:, :, lin]
            q = Bl[:, 2] - s[lin] * (Bl[:, 0] * w[0] + Bl[:, 1] * w[1] + Bl[:, 2] * w[2])
            out[lin] = q.max(axis=0) < 0 if below else q.min(axis=0) > 0
        return out


def chunk_passes(geo: PassGeometry, status, revnum, sun_teme, U_start, mean_rate, tol_s,
                 isolate=None):
    """Passes of one chunk of satellites over every station: a dict of arrays ``(n_pass,)``
    (chunk-local satellite indices) plus counters. ``status``: SGP4 error codes ``(n_sat,
    n_time)``; ``revnum``: the TLEs' revolution numbers; ``sun_teme``: ``(times_s, (n, 3) km)``
    samples of the Sun; ``U_start``, ``mean_rate``: see :mod:`groundseg.revolutions`;
    ``isolate``: bool ``(n_sat,)``, satellites whose brackets are searched again beside each
    root (item 3 of the module docstring)."""
    valid = (status == 0) & np.all(np.isfinite(geo.r), axis=-1)
    bounds = orbit_bounds(geo.r, geo.v, float(geo.h.max()))
    k, s, j = candidate_rows(geo, valid, bounds)
    rows = _Rows(geo, k, s, j)                  # once the prefilter's big arrays are freed
    cross = _crossings(rows, bounds, tol_s, isolate)
    n_j = len(geo.sites)
    ev = _edge_events(geo, valid)
    ev_pair = np.concatenate([rows.s[cross.rows] * n_j + rows.j[cross.rows], ev["pair"]])
    ev_kind = np.concatenate([np.full(len(cross), CROSSING, np.int8), ev["kind"]])
    ev_row = np.concatenate([cross.rows, np.full(ev["pair"].size, -1)])   # the row of a crossing
    w = windows(ev_pair, np.concatenate([cross.time_s, ev["time_s"]]),
                np.concatenate([cross.rising, ev["rising"]]))
    ps, pj = w.key // n_j, w.key % n_j
    aos, los = w.start_s, w.end_s
    peak = _tca(rows, ps, pj, aos, los, ev_row[w.start_event], ev_row[w.end_event], tol_s)
    return dict(sat=ps, station=pj, aos=aos, tca=peak["tca"], los=los, el_max=peak["el_max"],
                az_aos=peak["az_aos"], az_tca=peak["az_tca"], az_los=peak["az_los"],
                sunlit=_sunlit(geo, pj, peak["k_tca"], peak["tca"], peak["enu_tca"], sun_teme),
                orbit=orbit_numbers(revnum, geo.r, geo.v, geo.grid_s, ps, peak["k_aos"], aos,
                                    U_start, mean_rate),
                aos_kind=ev_kind[w.start_event], los_kind=ev_kind[w.end_event],
                unmatched=w.unmatched, candidates=len(rows), brackets=len(cross))


def _crossings(rows: _Rows, bounds: OrbitBounds, tol_s, isolate_sat=None):
    """Zeros of the margin in every candidate row (item 3 of the module docstring)."""
    sites = rows.geo.sites
    ss, jj, t0, h = rows.s, rows.j, rows.t0, rows.h
    d0, d1 = rows.ends[0].T, rows.ends[2].T              # tau = 0 and tau = 1
    rho0, rho1 = _norm(d0), _norm(d1)
    ga, gb = sites.margin_enu(jj, d0), sites.margin_enu(jj, d1)
    kk = rows.k
    speed = bounds.interval_speed_km_s[ss, kk]
    rho_lo = np.maximum(np.maximum(bounds.interval_radius_lo_km[ss, kk] - sites.radius[jj],
                                   0.5 * (rho0 + rho1) - speed * h / 2), 1.0)
    rate = 1.05 * speed / rho_lo * sites.rate_factor[jj]
    again = sites.masked[jj]
    if isolate_sat is not None:
        again = again | np.asarray(isolate_sat, dtype=bool)[ss]
    isolate = (lambda r: again[r]) if again.any() else None
    return find_crossings_in(rows.margin, np.arange(len(rows)), t0, t0 + h, ga, gb, rate,
                             tol_s=tol_s, prune=_Pruner(rows),
                             refine=lambda *br: rows.refine(*br, tol_s=tol_s), isolate=isolate)


def _runs(valid):
    """Starts and ends (inclusive) of runs of True per row: ``((row, k), (row, k))``."""
    pad = np.zeros((valid.shape[0], 1), dtype=bool)
    x = np.concatenate([pad, valid, pad], axis=1).astype(np.int8)
    d = np.diff(x, axis=1)
    s_row, s_k = np.nonzero(d == 1)
    e_row, e_k = np.nonzero(d == -1)
    return (s_row, s_k), (e_row, e_k - 1)


def _edge_events(geo: PassGeometry, valid) -> dict:
    """Rises at the start and sets at the end of each run of valid samples, where the
    satellite is already visible there: ``pair`` (sat * n_site + station), ``time_s``,
    ``rising``, ``kind`` (window edge or data edge), each ``(m,)``."""
    sites = geo.sites
    n_t = geo.grid_s.size
    (rs_row, rs_k), (re_row, re_k) = _runs(valid)
    starts, ends = rs_row * n_t + rs_k, re_row * n_t + re_k
    single = np.isin(starts, ends)                      # one valid sample: no pass
    last = ~np.isin(ends, starts)
    edge_s = np.concatenate([rs_row[~single], re_row[last]])
    edge_k = np.concatenate([rs_k[~single], re_k[last]])
    edge_start = np.concatenate([np.ones(int((~single).sum()), bool), np.zeros(int(last.sum()), bool)])
    e_idx, e_j = np.divmod(np.arange(edge_k.size * len(sites)), len(sites))
    ek, es, estart = edge_k[e_idx], edge_s[e_idx], edge_start[e_idx]
    el_e, az_e, _ = _look(geo.at_samples(ek, es, e_j))
    up = sites.margin(e_j, el_e, az_e) > 0
    ek, es, ej, estart = ek[up], es[up], e_j[up], estart[up]
    at_window = np.where(estart, ek == 0, ek == n_t - 1)
    return {"pair": es * len(sites) + ej, "time_s": geo.grid_s[ek], "rising": estart,
            "kind": np.where(at_window, WINDOW_EDGE, DATA_EDGE).astype(np.int8)}


def _tca(rows: _Rows, ps, pj, aos, los, aos_row, los_row, tol_s) -> dict:
    """Maximum elevation of each pass (item 4 of the module docstring): ``tca``, ``el_max``,
    ``az_aos`` / ``az_tca`` / ``az_los`` (rad), ``enu_tca`` ``(n_pass, 3)``, and the grid
    intervals ``k_aos``, ``k_tca`` holding AOS and TCA."""
    geo = rows.geo
    grid, n_t = geo.grid_s, geo.grid_s.size
    # Every grid interval the pass overlaps (a segment), as its own polynomial, clipped to it.
    kA = np.clip(_searchsorted(grid, aos, "right") - 1, 0, n_t - 2)
    kL = np.clip(_searchsorted(grid, los, "left") - 1, kA, n_t - 2)
    count = kL - kA + 1
    seg_pass = np.repeat(np.arange(aos.size), count)
    seg_first = np.cumsum(count) - count
    seg_last = seg_first + count - 1
    seg_k = kA[seg_pass] + (np.arange(seg_pass.size) - np.repeat(seg_first, count))
    sp, sj = ps[seg_pass], pj[seg_pass]
    s_t0, s_h = grid[seg_k], geo.h[seg_k]
    # d(elevation)/dt at AOS, at every grid time inside the pass (exact SGP4 samples) and at
    # LOS: a segment holds an elevation maximum where it goes from + to -.
    d_a, dd_a = _at_event(rows, aos, aos_row, seg_k[seg_first], sp[seg_first], sj[seg_first])
    d_l, dd_l = _at_event(rows, los, los_row, seg_k[seg_last], sp[seg_last], sj[seg_last])
    f_lo = geo.elevation_rate_sign(seg_k, sp, sj)
    f_lo[seg_first] = _elevation_rate_sign(d_a, dd_a)
    f_hi = np.empty_like(f_lo)
    f_hi[:-1] = f_lo[1:]
    f_hi[seg_last] = _elevation_rate_sign(d_l, dd_l)
    lo_t = s_t0.copy()
    lo_t[seg_first] = aos
    hi_t = np.minimum(s_t0 + s_h, los[seg_pass])
    _, az_a, _ = _look(d_a)
    _, az_l, _ = _look(d_l)
    # Candidates for the maximum: AOS, LOS and every refined root (compared by the sine of
    # their elevations; the angles of the best one only).
    sin_a, sin_l = _sin_elevation(d_a), _sin_elevation(d_l)
    higher = sin_l > sin_a
    tca = np.where(higher, los, aos)
    sin_t = np.where(higher, sin_l, sin_a)
    d_best = np.where(higher[:, None], d_l, d_a)
    peak = np.flatnonzero((f_lo > 0) & (f_hi <= 0))
    if peak.size:
        SC = rows.geo.rows(seg_k[peak], sp[peak], sj[peak])       # most are not candidates
        t_root = refine_roots_newton(_ElevationRate(SC, s_t0[peak], s_h[peak]),
                                     np.arange(peak.size), lo_t[peak], hi_t[peak],
                                     f_lo[peak], f_hi[peak], x0=0.5 * (aos + los)[seg_pass[peak]],
                                     tol_s=tol_s)
        d_root, _, _ = horner(SC, (t_root - s_t0[peak]) / s_h[peak])
        sin_root = _sin_elevation(d_root)
        # Highest root of each pass (usually the only one), if above both ends.
        pid = seg_pass[peak]                                  # nondecreasing
        top = np.arange(peak.size)
        if np.any(pid[1:] == pid[:-1]):
            order = np.lexsort((-sin_root, pid))
            first = np.ones(order.size, dtype=bool)
            first[1:] = pid[order][1:] != pid[order][:-1]
            top = order[first]
        pid = pid[top]
        better = sin_root[top] > sin_t[pid]
        pid, top = pid[better], top[better]
        tca[pid], d_best[pid] = t_root[top], d_root[top]
    el_t, az_t, _ = _look(d_best)
    k_t = np.clip(_searchsorted(grid, tca, "right") - 1, kA, kL)
    return dict(tca=tca, el_max=el_t, az_aos=az_a, az_tca=az_t, az_los=az_l, enu_tca=d_best,
                k_aos=kA, k_tca=k_t)


def _searchsorted(grid, t, side: str):
    """``np.searchsorted(grid, t, side)`` for an increasing ``grid`` of even steps but maybe
    the last (a time grid): from the step, then corrected by one where rounding put it off
    (a general search if that is not enough). A fifth of the binary search's time."""
    n = grid.size
    if n < 3:
        return np.searchsorted(grid, t, side=side)
    with np.errstate(invalid="ignore"):
        i = np.clip((t - grid[0]) / (grid[1] - grid[0]), -1, n).astype(np.int64) + 1
    i = np.clip(i, 0, n)
    below = grid[np.maximum(i - 1, 0)]             # grid[i - 1] must be < t (left) / <= t
    above = grid[np.minimum(i, n - 1)]             # grid[i] must be >= t (left) / > t
    if side == "left":
        bad = ((i > 0) & (below >= t)) | ((i < n) & (above < t))
    else:
        bad = ((i > 0) & (below > t)) | ((i < n) & (above <= t))
    bad |= np.isnan(t)
    if np.any(bad):
        i[bad] = np.searchsorted(grid, t[bad], side=side)
    return i


def _at_event(rows: _Rows, t, row, k, s, j):
    """ENU vector and derivative at AOS / LOS ``t``: on the crossing's own ``row``, or (window
    and data edges, ``row`` -1) on the polynomial of grid interval ``k`` of (``s``, ``j``)."""
    o = np.flatnonzero(row < 0)     # few: passes cut by the window or the data
    if o.size < t.size:             # every row on its crossing's, the few others replaced
        i = np.where(row < 0, row.max(), row) if o.size else row
        d, dd, _ = horner(np.take(rows.C, i, axis=0), (t - rows.t0[i]) / rows.h[i], True)
    else:
        d, dd = np.empty((t.size, 3)), np.empty((t.size, 3))
    if o.size:
        t0, h = rows.geo.grid_s[k[o]], rows.geo.h[k[o]]
        d[o], dd[o], _ = horner(rows.polynomials(k[o], s[o], j[o]), (t[o] - t0) / h, True)
    return d, dd


class _ElevationRate:
    """``(f, df/dt)`` with f of the sign of d(elevation)/dt, on polynomials ``C`` ``(m, 6, 3)``
    of intervals starting at ``t0`` of length ``h``: the function TCA is a root of."""

    def __init__(self, C, t0, h):
        self.C, self.t0, self.h = C, t0, h

    @_blockwise
    def __call__(self, rows, t):
        d, dd, d2 = horner(np.take(self.C, rows, axis=0), (t - self.t0[rows]) / self.h[rows],
                           True, True)
        dot_ddd = _dot(d, dd)
        rho2 = _dot(d, d)
        f = dd[:, 2] * rho2 - d[:, 2] * dot_ddd
        df = d2[:, 2] * rho2 + dd[:, 2] * dot_ddd - d[:, 2] * (_dot(dd, dd) + _dot(d, d2))
        return f, df / self.h[rows]


def _sunlit(geo: PassGeometry, j, k, t, enu, sun_teme):
    """Sun's centre above the Earth's limb seen from the satellite at ``t`` (in grid interval
    ``k``), whose ENU vector from station ``j`` is ``enu`` ``(m, 3)``."""
    P, M = geo._site(k, j)
    p = P + np.einsum("mi,mij->mj", enu, M)       # a matmul per row is a BLAS call each
    th = geo.theta[k] + geo.omega[k] * (t - geo.grid_s[k])
    sun = np.stack([np.interp(t, sun_teme[0], sun_teme[1][:, i]) for i in range(3)], axis=-1)
    return sun_centre_visible(p, _rotate_z(sun, np.cos(th), np.sin(th)))
