"""Coverage and revisit: access intervals for every (ground cell, satellite), then per-cell
revisit statistics and coverage over time; single process or chunked over dask.

Access. A cell is accessible from a satellite when the off-nadir angle of the cell seen
from the satellite (angle at the satellite between the geocentric nadir and the line of
sight) is at most ``max_off_nadir_deg`` and the cell is on the visible side of the Earth;
optionally the Sun's elevation at the cell is at least ``min_sun_elevation_deg``. With
the satellite at radius r and the cell at geocentric radius R, the off-nadir angle is a
monotonic function of the geocentric angle psi between them (plane triangle
Earth-centre, satellite, cell), so the condition is exactly ``psi <= lambda(r, R)``::

    lambda = asin(r sin(eta_max) / R) - eta_max     (or acos(R / r), the horizon, when the
                                                     field of regard reaches past it)

The search works on ``g(t) = lambda(r(t), R) - psi(t)``, whose rate is bounded:
``|dpsi/dt| <= |r x v| / r^2 + omega_E`` and ``|dlambda/dt| <= max|dlambda/dr| max|dr/dt|``
(both taken per satellite from the propagated grid, with a 2 % / 10 % margin; cell radii
bounded by the polar radius and the equator + 10 km). That bound L makes the search
complete (the architecture's "grid that cannot miss a pass"): SGP4 runs once on a coarse
grid (``step_s``, default 60 s); every sample with ``psi <= lambda_max + L h / 2`` is a
*hit*; a zero of g can only lie in a grid interval next to a hit. Those intervals go
through the Lipschitz bisection of :func:`groundseg.events.find_crossings` (in
:func:`_unit_crossings`, specialised to intervals already sorted in time, which spares
find_crossings' general sort: a third of the run time here) and
:func:`groundseg.events.refine_roots`, evaluating g on cubic-Hermite-interpolated TEME
states rotated to the Earth-fixed frame (GMST interpolated linearly, polar motion held at
its mid-window value: a few cm per day), to ``tol_s`` (default 0.1 s: revisit is reported
in hours). No access longer than ``tol_s`` is missed; what the search cannot settle is
the model itself: the Hermite states are within ~0.4 m of SGP4 at 60 s, so a grazing
access shorter than about a second may come or go with the step.

Hits are found without a dense cells x satellites x times array: for a regular grid, each
sub-satellite sample rasterises its cap of radius ``lambda_max + L h / 2`` onto the
grid's rows and columns; arbitrary points use a dense dot product. Sun elevation (rate
<= omega_E + the Sun's own motion) is then searched the same way inside each off-nadir
interval, which it can only shorten or split.

Off-nadir here is measured from the geocentric nadir (the direction to the Earth's
centre), which differs from the geodetic nadir by up to 0.19 deg.

Metrics, per cell (the intervals of all satellites are merged first, so simultaneous
accesses count once for revisit):

- ``accesses``: number of (satellite, access interval) pairs in the window.
- revisit gaps: from the end of one merged access interval to the start of the next.
  The window edges are censored: the time before the first access and after the last
  one are not gaps (``first_access_utc`` reports the first). A cell with fewer than two
  merged intervals has no revisit statistics (empty fields).
- ``mean_revisit_h``, ``max_revisit_h``, ``p95_revisit_h``: mean, maximum and 95th
  percentile (linear interpolation between order statistics, numpy's default) of the gaps.
- ``first_access_utc``: start of the first access (the window start if one is under way).

Coverage over time (``summary.json``): on a time axis every ``curve_step_s``, the fraction
of cells accessed at least once since the window start (``cumulative``), and the fraction
under access at that instant (``instantaneous``); ``*_area`` weights cells by their area.

Dask. The cells are cut into blocks of whole grid rows (``chunk_cells``) and the
satellites into blocks (``chunk_sats``); one task per (cell block, satellite block) finds
access intervals, one task per cell block merges them and computes the metrics, so only
per-cell results travel back. Every series is searched on its own, with bounds that do
not depend on the chunk, so results do not depend on the chunking or the backend:
single-process and dask runs are bit-identical (workers on the same CPU type). Remote
workers need this package importable. Big regular grids oversample the poles (a 1-degree
row has 360 cells at any latitude), where polar orbits give every cell an access on
nearly every orbit: most of a global run's work is there.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from groundseg.earth import (EARTH_ROTATION_RAD_S, WGS84_A_KM, WGS84_F, enu_basis,
                             geodetic_to_ecef)
from groundseg.events import refine_roots
from groundseg.sun import sun_position_km
from groundseg.table import Table
from groundseg.timegrid import TimeGrid, format_utc, parse_utc

from .errors import SimulationError

__all__ = ["AccessConstraints", "CoverageGrid", "CoverageResult", "coverage", "CELL_COLUMNS"]

CELL_COLUMNS = ("latitude_deg", "longitude_deg", "accesses", "mean_revisit_h", "max_revisit_h",
                "p95_revisit_h", "first_access_utc")
_SUN_RATE_RAD_S = EARTH_ROTATION_RAD_S * 1.01 + 5e-7
_SUN_TIME_SCALE_S = 1000.0
_RASTER_MARGIN_RAD = 1e-5
_BATCH_ROWS = 1 << 13
# Bounds on the geocentric radius of any cell (the polar radius; the equator + 10 km), so
# the rate bounds depend on the satellite only and results on no chunking.
_MAX_CELL_ALTITUDE_KM = 10.0
_CELL_RADIUS_MIN_KM = WGS84_A_KM * (1.0 - WGS84_F)
_CELL_RADIUS_MAX_KM = WGS84_A_KM + _MAX_CELL_ALTITUDE_KM
_TWO_PI = 2.0 * np.pi


# --- inputs -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AccessConstraints:
    """``max_off_nadir_deg`` in (0, 90); ``min_sun_elevation_deg`` in [-90, 90] or None."""

    max_off_nadir_deg: float = 45.0
    min_sun_elevation_deg: float | None = None

    def __post_init__(self):
        if not 0.0 < self.max_off_nadir_deg < 90.0:
            raise SimulationError(f"max off-nadir angle {self.max_off_nadir_deg} deg must be in (0, 90)")
        s = self.min_sun_elevation_deg
        if s is not None and not -90.0 <= s <= 90.0:
            raise SimulationError(f"minimum Sun elevation {s} deg must be in [-90, 90]")

    def to_dict(self) -> dict:
        return {"max_off_nadir_deg": self.max_off_nadir_deg,
                "min_sun_elevation_deg": self.min_sun_elevation_deg}


@dataclass(frozen=True)
class CoverageGrid:
    """Cell centres of a regular latitude / longitude grid (geodetic, on the ellipsoid).

    Rows ``latitude_deg`` ``(n_rows,)`` ascending from ``lat_min + r/2``; columns
    ``longitude_deg`` ``(n_cols,)`` from ``lon_min + r/2`` (``lon_max < lon_min`` crosses
    the antimeridian; longitudes are reported in [-180, 180)). Cells are numbered
    row-major: ``cell = row * n_cols + col``. Every cell whose centre lies in the region
    is kept (a span that is not a multiple of r leaves a strip under r/2 uncovered); a
    span narrower than r gets one cell at its middle.
    """

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    resolution_deg: float

    def __post_init__(self):
        r = self.resolution_deg
        if not (np.isfinite(r) and 0.0 < r <= 90.0):
            raise SimulationError(f"resolution {r} deg must be in (0, 90]")
        if not -90.0 <= self.lat_min < self.lat_max <= 90.0:
            raise SimulationError(f"region latitudes {self.lat_min}, {self.lat_max}: need "
                                  f"-90 <= LAT_MIN < LAT_MAX <= 90")
        if not (-360.0 <= self.lon_min <= 360.0 and -360.0 <= self.lon_max <= 360.0):
            raise SimulationError(f"region longitudes {self.lon_min}, {self.lon_max} out of range")
        if self.lon_span_deg <= 0 or self.lon_span_deg > 360.0 + 1e-9:
            raise SimulationError(f"region longitudes {self.lon_min}, {self.lon_max}: span must "
                                  f"be in (0, 360] deg")

    @classmethod
    def globe(cls, resolution_deg: float) -> "CoverageGrid":
        return cls(-90.0, 90.0, -180.0, 180.0, resolution_deg)

    @classmethod
    def parse(cls, text: str, resolution_deg: float) -> "CoverageGrid":
        """From ``"LAT_MIN,LAT_MAX,LON_MIN,LON_MAX"``."""
        try:
            values = [float(x) for x in str(text).split(",")]
        except ValueError:
            values = []
        if len(values) != 4 or not all(np.isfinite(values)):
            raise SimulationError(f"region {text!r}: expected LAT_MIN,LAT_MAX,LON_MIN,LON_MAX in degrees")
        return cls(*values, resolution_deg)

    @property
    def lon_span_deg(self) -> float:
        span = self.lon_max - self.lon_min
        if span <= 0 and self.lon_max != self.lon_min:
            span += 360.0
        return span

    @property
    def latitude_deg(self) -> np.ndarray:
        return _centres(self.lat_min, self.lat_max - self.lat_min, self.resolution_deg)

    @property
    def longitude_deg(self) -> np.ndarray:
        lon = _centres(self.lon_min, self.lon_span_deg, self.resolution_deg)
        return (lon + 180.0) % 360.0 - 180.0

    @property
    def shape(self) -> tuple[int, int]:
        return self.latitude_deg.size, self.longitude_deg.size

    def __len__(self) -> int:
        n_rows, n_cols = self.shape
        return n_rows * n_cols

    def cell_area_weights(self) -> np.ndarray:
        """Relative cell areas ``(n_rows,)`` (sin lat_top - sin lat_bottom, spherical)."""
        half = 0.5 * self.resolution_deg
        lat = self.latitude_deg
        top = np.radians(np.minimum(lat + half, 90.0))
        bottom = np.radians(np.maximum(lat - half, -90.0))
        return np.sin(top) - np.sin(bottom)

    def to_dict(self) -> dict:
        return {"lat_min": self.lat_min, "lat_max": self.lat_max, "lon_min": self.lon_min,
                "lon_max": self.lon_max, "resolution_deg": self.resolution_deg,
                "rows": self.shape[0], "columns": self.shape[1]}


def _centres(lo: float, span: float, step: float) -> np.ndarray:
    if span < step:
        return np.array([lo + 0.5 * span])
    n = int(math.floor(span / step + 0.5 + 1e-9))
    return lo + (np.arange(n) + 0.5) * step


# --- what tasks receive -------------------------------------------------------------------

@dataclass
class _Frame:
    """Shared over tasks: time grid ``(T,)``, GMST (unwrapped) ``(T,)``, polar motion W0,
    Sun TEME ``(T, 3)``."""

    grid_s: np.ndarray
    theta_rad: np.ndarray
    w0: np.ndarray
    sun_teme_km: np.ndarray

    @property
    def h_s(self) -> np.ndarray:
        return np.diff(self.grid_s)

    @property
    def window_s(self) -> float:
        return float(self.grid_s[-1])


@dataclass
class _SatBlock:
    index: np.ndarray        # (S,) satellite numbers in the constellation
    r_km: np.ndarray         # (S, T, 3) TEME
    v_km_s: np.ndarray       # (S, T, 3) TEME


@dataclass
class _CellBlock:
    """Cells ``offset .. offset + n - 1``: either whole grid rows (``rows_deg`` x
    ``cols_deg``, raster search, regular column spacing ``step_deg``) or points."""

    offset: int
    lat_deg: np.ndarray      # (n,) per cell
    lon_deg: np.ndarray      # (n,)
    alt_km: np.ndarray       # (n,)
    weight: np.ndarray       # (n,) relative area
    rows_deg: np.ndarray | None = None
    cols_deg: np.ndarray | None = None
    step_deg: float | None = None

    def __len__(self) -> int:
        return self.lat_deg.size


@dataclass
class _Cells:
    """Cell geometry in the pseudo-Earth-fixed frame (ITRS rotated by W0^T)."""

    pos_km: np.ndarray       # (n, 3)
    unit: np.ndarray         # (n, 3)
    radius_km: np.ndarray    # (n,)
    up: np.ndarray           # (n, 3)


def _cells(block: _CellBlock, frame: _Frame) -> _Cells:
    lat, lon = np.radians(block.lat_deg), np.radians(block.lon_deg)
    pos = geodetic_to_ecef(lat, lon, block.alt_km) @ frame.w0
    up = enu_basis(lat, lon)[:, 2, :] @ frame.w0
    radius = np.linalg.norm(pos, axis=-1)
    return _Cells(pos, pos / radius[:, None], radius, up)


# --- geometry ---------------------------------------------------------------------------

def _rotate(r, theta):
    """TEME -> pseudo-Earth-fixed: rotate ``r`` ``(..., 3)`` by GMST ``theta`` ``(...)``."""
    c, s = np.cos(theta), np.sin(theta)
    x, y = r[..., 0], r[..., 1]
    return np.stack([c * x + s * y, c * y - s * x, r[..., 2]], axis=-1)


def _lambda(r_km, cell_r_km, eta):
    """Largest geocentric angle psi at which the off-nadir angle is <= eta (rad)."""
    x = r_km * np.sin(eta) / cell_r_km
    with np.errstate(invalid="ignore"):
        return np.where(x < 1.0, np.arcsin(np.minimum(x, 1.0)) - eta,
                        np.arccos(np.minimum(cell_r_km / r_km, 1.0)))


def _dlambda_dr_bound(r_lo, r_hi, cell_lo, cell_hi, eta) -> float:
    """max |d lambda / d r| over the corners of the (r, R) box (rad/km). Within 2.5 deg of
    the branch point (field of regard at the horizon) the derivative is capped."""
    best = 0.0
    for r in (r_lo, r_hi):
        for R in (cell_lo, cell_hi):
            x = min(r * math.sin(eta) / R, 0.999)
            best = max(best, math.sin(eta) / R / math.sqrt(1.0 - x * x))
            if r > R * 1.0001:
                best = max(best, R / (r * math.sqrt(r * r - R * R)))
    return best


def _hermite_coefficients(r, v, h):
    """Cubic coefficients in tau for each grid interval: ``(S, T-1, 4, 3)``."""
    p0, p1 = r[:, :-1], r[:, 1:]
    hv0, hv1 = v[:, :-1] * h[None, :, None], v[:, 1:] * h[None, :, None]
    a2 = -3.0 * p0 - 2.0 * hv0 + 3.0 * p1 - hv1
    a3 = 2.0 * p0 + hv0 - 2.0 * p1 + hv1
    return np.stack([p0, hv0, a2, a3], axis=2)


@dataclass
class _SatGeometry:
    rn: np.ndarray           # (S, T) km
    unit: np.ndarray         # (S, T, 3) Earth-fixed
    lat: np.ndarray          # (S, T) geocentric
    lon: np.ndarray          # (S, T)
    rate: np.ndarray         # (S,) bound on |dg/dt|, rad/s
    reach: np.ndarray        # (S,) lambda_max + rate * h_max / 2, rad
    coef: np.ndarray         # (S, T-1, 4, 3)
    valid_end_s: np.ndarray  # (S,) last sample before SGP4 first fails (e.g. decay)


def _sat_geometry(sats: _SatBlock, frame: _Frame, cells: _Cells, eta: float) -> _SatGeometry:
    r, v = sats.r_km, sats.v_km_s
    r_pef = _rotate(r, frame.theta_rad[None, :])
    rn = np.linalg.norm(r, axis=-1)
    unit = r_pef / rn[..., None]
    with np.errstate(invalid="ignore"):
        ang = np.linalg.norm(np.cross(r, v), axis=-1) / rn**2
        rdot = np.abs(np.einsum("sti,sti->st", r, v)) / rn
    ok_t = np.isfinite(rn)
    first_bad = np.where(ok_t.all(axis=1), rn.shape[1], np.argmin(ok_t, axis=1))
    valid_end = np.where(first_bad > 0, frame.grid_s[np.maximum(first_bad - 1, 0)], frame.grid_s[0])
    rates, reaches = [], []
    h_max = float(frame.h_s.max())
    c_lo, c_hi = _CELL_RADIUS_MIN_KM, _CELL_RADIUS_MAX_KM   # the same for every cell block
    for i in range(len(r)):
        ok = np.isfinite(rn[i]) & np.isfinite(ang[i]) & np.isfinite(rdot[i])
        if not ok.any():
            rates.append(np.nan), reaches.append(np.nan)
            continue
        r_lo, r_hi = float(rn[i, ok].min()), float(rn[i, ok].max())
        dl = _dlambda_dr_bound(r_lo, r_hi, c_lo, c_hi, eta)
        rate = (1.02 * float(ang[i, ok].max()) + EARTH_ROTATION_RAD_S
                + dl * (1.1 * float(rdot[i, ok].max()) + 1e-3))
        rates.append(rate)
        reaches.append(float(_lambda(r_hi, c_lo, eta)) + 0.5 * rate * h_max)
    lat = np.arcsin(np.clip(unit[..., 2], -1.0, 1.0))
    lon = np.arctan2(unit[..., 1], unit[..., 0])
    return _SatGeometry(rn, unit, lat, lon, np.array(rates), np.array(reaches),
                        _hermite_coefficients(r, v, frame.h_s), valid_end)


def _ranges(starts, counts):
    """Concatenated ``arange(start, start + count)`` for each pair (int64)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    base = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts)
    return base + np.arange(total, dtype=np.int64)


def _raster_hits(block: _CellBlock, cells: _Cells, geo: _SatGeometry):
    """Every (cell, sat, time) sample with psi <= reach, via the grid's rows and columns.

    Returns candidate triples (cell, sat, k); a superset (exact test done by the caller).
    """
    S, T = geo.lat.shape
    rows = np.radians(block.rows_deg)
    n_rows, n_cols = rows.size, block.cols_deg.size
    # Geocentric latitude of each row (all cells of a row share it).
    row_lat = np.arcsin(np.clip(cells.unit[::n_cols, 2], -1.0, 1.0))
    order = np.argsort(row_lat)
    row_lat_sorted = row_lat[order]
    reach = np.repeat(geo.reach, T) + _RASTER_MARGIN_RAD
    lat_s, lon_s = geo.lat.ravel(), geo.lon.ravel()
    ok = np.isfinite(reach) & np.isfinite(lat_s)
    samples = np.flatnonzero(ok)
    lo = np.searchsorted(row_lat_sorted, lat_s[samples] - reach[samples], "left")
    hi = np.searchsorted(row_lat_sorted, lat_s[samples] + reach[samples], "right")
    cnt = hi - lo
    sample = np.repeat(samples, cnt)
    row = order[_ranges(lo, cnt)]
    phi, phi_s, lam = row_lat[row], lat_s[sample], reach[sample]
    den = np.cos(phi) * np.cos(phi_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (np.cos(lam) - np.sin(phi) * np.sin(phi_s)) / den
    x = np.where(den > 1e-12, x, -2.0)
    half = np.arccos(np.clip(x, -1.0, 1.0))
    step = np.radians(block.step_deg)
    lon0 = np.radians(block.cols_deg[0])
    full = half >= np.pi - step
    a = np.mod(lon_s[sample] - half - lon0, _TWO_PI)
    eps = 1e-9
    j1_lo = np.ceil(a / step - eps).astype(np.int64)
    j1_hi = np.floor((a + 2 * half) / step + eps).astype(np.int64)
    j2_lo = np.zeros_like(j1_lo)
    j2_hi = np.floor((a + 2 * half - _TWO_PI) / step + eps).astype(np.int64)
    j1_lo, j1_hi = np.where(full, 0, j1_lo), np.where(full, n_cols - 1, np.minimum(j1_hi, n_cols - 1))
    j2_hi = np.where(full, -1, np.minimum(j2_hi, n_cols - 1))
    c1 = np.maximum(j1_hi - j1_lo + 1, 0)
    c2 = np.maximum(j2_hi - j2_lo + 1, 0)
    cells_1 = np.repeat(row * n_cols, c1) + _ranges(j1_lo, c1)
    cells_2 = np.repeat(row * n_cols, c2) + _ranges(j2_lo, c2)
    cell = np.concatenate([cells_1, cells_2])
    smp = np.concatenate([np.repeat(sample, c1), np.repeat(sample, c2)])
    return cell, smp // T, smp % T


def _dense_hits(cells: _Cells, geo: _SatGeometry, max_elements: int = 4_000_000):
    """Every (cell, sat, time) sample with cos psi >= cos reach, by dot products."""
    S, T, _ = geo.unit.shape
    out_c, out_s, out_k = [], [], []
    per = max(1, max_elements // max(1, T * len(cells.unit)))
    for s0 in range(0, S, per):
        u = geo.unit[s0:s0 + per]                          # (s, T, 3)
        cos = np.einsum("ci,sti->cst", cells.unit, u)
        with np.errstate(invalid="ignore"):
            hit = cos >= np.cos(geo.reach[s0:s0 + per])[None, :, None]
        c, s, k = np.nonzero(hit)
        out_c.append(c), out_s.append(s + s0), out_k.append(k)
    return tuple(np.concatenate(x).astype(np.int64) for x in (out_c, out_s, out_k))


def _pair_intervals(inside0, t_begin, t_end, ev_pair, ev_t, ev_rise):
    """Intervals from crossings: each pair starts inside or outside at ``t_begin`` and
    ends at ``t_end`` (arrays over pairs); events (pair, time, rising), sorted by pair
    then time, switch the state. Consecutive events in one direction (a zero found twice)
    count once. Returns (pair, start, end), sorted by pair then start."""
    init = np.flatnonzero(inside0)
    pair = np.concatenate([init, ev_pair])
    order = np.argsort(pair, kind="stable")   # two sorted runs: the initial states go first
    pair = pair[order]
    t = np.concatenate([t_begin[init], ev_t])[order]
    rise = np.concatenate([np.ones(init.size, bool), ev_rise])[order]
    prev = np.zeros(pair.size, bool)
    prev[1:] = rise[:-1] & (pair[1:] == pair[:-1])
    eff = rise != prev
    pair, t, rise = pair[eff], t[eff], rise[eff]
    last = np.ones(pair.size, bool)
    last[:-1] = pair[1:] != pair[:-1]
    still = last & rise
    end_pair = np.concatenate([pair[~rise], pair[still]])
    end_t = np.concatenate([t[~rise], t_end[pair[still]]])
    o = np.argsort(end_pair, kind="stable")
    return pair[rise], t[rise], end_t[o]


def _interval_fn(geo: _SatGeometry, cells: _Cells, eta: float, pc, ps, pk, frame: _Frame):
    """g(rows, tau) on candidate intervals (cell ``pc``, sat ``ps``, grid interval ``pk``):
    the TEME Hermite cubic at ``tau`` in [0, 1], rotated by the GMST interpolated linearly.

    Everything a row needs is gathered once into ``(19, m)`` (the cubic's 12 coefficients,
    the cell's unit vector and radius, cos / sin of GMST at the interval start and its
    increment), so an evaluation reads one column per row; the small rotation over the
    interval (<= 0.3 deg at 60 s) uses its Taylor series, exact to double precision."""
    S, n_int = geo.coef.shape[:2]
    flat = ps * n_int + pk
    th = frame.theta_rad
    data = np.concatenate([
        geo.coef.reshape(S * n_int, 12)[flat].T, cells.unit[pc].T, cells.radius_km[pc][None],
        np.cos(th[pk])[None], np.sin(th[pk])[None], (th[pk + 1] - th[pk])[None]])
    horizon = bool(np.nanmax(geo.rn) * math.sin(eta) >= _CELL_RADIUS_MIN_KM)
    sin_eta = math.sin(eta)
    if float(np.max(np.abs(data[18]), initial=0.0)) > 0.05:
        raise SimulationError("search step too long for the Earth-rotation series (max ~600 s)")

    def fn(rows, tau):
        a = np.take(data, rows, axis=1)
        x = ((a[9] * tau + a[6]) * tau + a[3]) * tau + a[0]
        y = ((a[10] * tau + a[7]) * tau + a[4]) * tau + a[1]
        z = ((a[11] * tau + a[8]) * tau + a[5]) * tau + a[2]
        p = a[18] * tau
        p2 = p * p
        cp = 1.0 - p2 * (0.5 - p2 * (1.0 / 24.0 - p2 / 720.0))
        sp = p * (1.0 - p2 * (1.0 / 6.0 - p2 * (1.0 / 120.0 - p2 / 5040.0)))
        ct = a[16] * cp - a[17] * sp
        st = a[17] * cp + a[16] * sp
        rn = np.sqrt(x * x + y * y + z * z)
        cos_psi = ((ct * x + st * y) * a[12] + (ct * y - st * x) * a[13] + z * a[14]) / rn
        psi = np.arccos(np.clip(cos_psi, -1.0, 1.0))
        if horizon:
            return _lambda(rn, a[15], eta) - psi
        return np.arcsin(rn * sin_eta / a[15]) - eta - psi

    return fn


def _unit_crossings(fn, ga, gb, rate, tol, span=None):
    """Zeros of many series on tau in [0, span] (default 1), none missed: row r has
    g(0) = ``ga[r]``, g(span) = ``gb[r]`` and ``|dg/dtau| <= rate[r]``.

    The completeness argument and bisection of :func:`groundseg.events.find_crossings`,
    specialised to rows that are unit intervals already sorted in time: sub-intervals
    stay in order, so the result needs no general sort. Brackets are refined with
    :func:`groundseg.events.refine_roots` to ``tol``. Returns (rows, tau, rising), sorted
    by row then tau."""
    r = np.arange(ga.size)
    a = np.zeros(ga.size)
    b = np.ones(ga.size) if span is None else np.asarray(span, dtype=float).copy()
    rounds = []
    while r.size:
        with np.errstate(invalid="ignore"):
            sign = (ga * gb <= 0) & ~((ga == 0) & (gb == 0))
            keep = ~sign & (np.abs(ga) + np.abs(gb) <= rate * (b - a)) & (b - a > tol)
        if np.any(sign):
            rounds.append((r[sign], a[sign], b[sign], ga[sign], gb[sign]))
        if not np.any(keep):
            break
        r, a, b, ga, gb, rate = r[keep], a[keep], b[keep], ga[keep], gb[keep], rate[keep]
        m = 0.5 * (a + b)
        gm = fn(r, m)
        both = lambda x, y: np.stack([x, y], axis=1).ravel()  # noqa: E731  (keeps time order)
        r, rate = np.repeat(r, 2), np.repeat(rate, 2)
        a, b, ga, gb = both(a, m), both(m, b), both(ga, gm), both(gm, gb)
    if not rounds:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
    r, a, b, ga, gb = (np.concatenate(x) for x in zip(*rounds))
    if len(rounds) > 1:   # merge the rounds (each sorted): a stable sort on row, start
        o = np.lexsort((a, r))
        r, a, b, ga, gb = r[o], a[o], b[o], ga[o], gb[o]
    tau = refine_roots(fn, r, a, b, ga, gb, tol_s=tol)
    return r, tau, np.where(ga != gb, gb > ga, ga <= 0)


def _sample_g(geo: _SatGeometry, cells: _Cells, c, s, k, eta, cos_psi=None):
    """g at grid samples for (cell, sat, k) triples ``(m,)``."""
    if cos_psi is None:
        cos_psi = np.einsum("mi,mi->m", geo.unit[s, k], cells.unit[c])
    return _lambda(geo.rn[s, k], cells.radius_km[c], eta) - np.arccos(np.clip(cos_psi, -1.0, 1.0))


def _off_nadir_intervals(frame: _Frame, sats: _SatBlock, block: _CellBlock, cells: _Cells,
                         eta: float, tol_s: float):
    """Access intervals (cell, sat, start_s, end_s) under the off-nadir constraint."""
    geo = _sat_geometry(sats, frame, cells, eta)
    S, T = geo.lat.shape
    if block.rows_deg is not None:
        c, s, k = _raster_hits(block, cells, geo)
    else:
        c, s, k = _dense_hits(cells, geo)
    cos_psi = np.einsum("mi,mi->m", geo.unit[s, k], cells.unit[c])
    with np.errstate(invalid="ignore"):
        hit = cos_psi >= np.cos(geo.reach[s])
    key = (c[hit] * S + s[hit]) * T + k[hit]
    order = np.argsort(key)
    key = key[order]
    c, s, k, cos_psi = (x[hit][order] for x in (c, s, k, cos_psi))
    if key.size == 0:
        return _empty_intervals()
    g = _sample_g(geo, cells, c, s, k, eta, cos_psi)
    # Pairs (cell, sat) with a hit; only they can have access.
    pair_key = key // T
    new = np.ones(key.size, bool)
    new[1:] = pair_key[1:] != pair_key[:-1]
    pair_of_hit = np.cumsum(new) - 1
    pair_c, pair_s = c[new], s[new]
    n_pairs = pair_c.size
    inside0 = np.zeros(n_pairs, bool)
    inside0[pair_of_hit[(k == 0) & (g >= 0)]] = True
    # A zero of g lies in an interval next to a hit: k (after) or k - 1 (before, unless
    # sample k - 1 is itself a hit, which proposes that interval already).
    next_hit = np.zeros(key.size, bool)
    next_hit[:-1] = key[1:] == key[:-1] + 1
    prev_hit = np.zeros(key.size, bool)
    prev_hit[1:] = next_hit[:-1]
    fwd = k < T - 1
    back = (k >= 1) & ~prev_hit
    g_next = np.empty(key.size)
    g_next[:-1] = g[1:]
    lone = fwd & ~next_hit
    g_next[lone] = _sample_g(geo, cells, c[lone], s[lone], k[lone] + 1, eta)
    g_prev = np.full(key.size, np.nan)
    g_prev[back] = _sample_g(geo, cells, c[back], s[back], k[back] - 1, eta)
    # Interleave (back, forward) per hit: the proposals come out sorted by (pair, k).
    use = np.stack([back, fwd], axis=1).ravel()
    pk = np.stack([k - 1, k], axis=1).ravel()[use]
    g0 = np.stack([g_prev, g], axis=1).ravel()[use]
    g1 = np.stack([g, g_next], axis=1).ravel()[use]
    prow = np.repeat(np.arange(key.size), 2)[use]
    h = frame.h_s
    rate = geo.rate[s[prow]] * h[pk]
    with np.errstate(invalid="ignore"):
        cand = (np.abs(g0) + np.abs(g1) <= rate) | (g0 * g1 <= 0)
    prow, pk, g0, g1, rate = prow[cand], pk[cand], g0[cand], g1[cand], rate[cand]
    # In batches of rows (every row is searched on its own, so batching changes nothing
    # but the memory a step touches).
    out = []
    for b0 in range(0, prow.size, _BATCH_ROWS):
        sl = slice(b0, b0 + _BATCH_ROWS)
        fn = _interval_fn(geo, cells, eta, c[prow[sl]], s[prow[sl]], pk[sl], frame)
        r_b, tau_b, rise_b = _unit_crossings(fn, g0[sl], g1[sl], rate[sl], tol_s / float(h.max()))
        out.append((r_b + b0, tau_b, rise_b))
    rows, tau, rising = (np.concatenate(x) for x in zip(*out)) if out else \
        (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    ev_t = frame.grid_s[pk[rows]] + tau * h[pk[rows]]
    pair, start, end = _pair_intervals(inside0, np.full(n_pairs, frame.grid_s[0]),
                                       geo.valid_end_s[pair_s], pair_of_hit[prow[rows]],
                                       ev_t, rising)
    return pair_c[pair], pair_s[pair], start, end


def _empty_intervals():
    z = np.zeros(0)
    return np.zeros(0, np.int64), np.zeros(0, np.int64), z, z.copy()


def _sun_margin_fn(frame: _Frame, cells: _Cells, min_el_rad: float):
    def margin(c, t):
        th = np.interp(t, frame.grid_s, frame.theta_rad)
        sun = np.stack([np.interp(t, frame.grid_s, frame.sun_teme_km[:, i]) for i in range(3)], -1)
        d = _rotate(sun, th) - cells.pos_km[c]
        sin_el = np.einsum("mi,mi->m", d, cells.up[c]) / np.sqrt(np.einsum("mi,mi->m", d, d))
        return np.arcsin(np.clip(sin_el, -1.0, 1.0)) - min_el_rad
    return margin


def _sun_filter(frame: _Frame, cells: _Cells, min_el_deg: float, tol_s: float, c, s, t0, t1):
    """The parts of the intervals during which the Sun is at least ``min_el_deg`` high."""
    if c.size == 0:
        return c, s, t0, t1
    margin = _sun_margin_fn(frame, cells, np.radians(min_el_deg))
    dur = t1 - t0
    m0, m1 = margin(c, t0), margin(c, t1)
    # Time in units of a fixed scale, so the tolerance does not depend on the chunk.
    scale = _SUN_TIME_SCALE_S
    with np.errstate(invalid="ignore"):
        cand = np.flatnonzero((np.abs(m0) + np.abs(m1) <= _SUN_RATE_RAD_S * dur) | (m0 * m1 <= 0))

    def fn(rows, tau):
        i = cand[rows]
        return margin(c[i], t0[i] + tau * scale)

    sub, tau, rising = _unit_crossings(fn, m0[cand], m1[cand],
                                       np.full(cand.size, _SUN_RATE_RAD_S * scale),
                                       tol_s / scale, span=dur[cand] / scale)
    rows = cand[sub]
    ev_t = np.clip(t0[rows] + tau * scale, t0[rows], t1[rows])
    pair, start, end = _pair_intervals(m0 >= 0, t0, t1, rows, ev_t, rising)
    return c[pair], s[pair], start, end


_MALLOC_TUNED = False


def _tune_malloc() -> None:
    """Undo a tiny glibc trim threshold in this process (dask's nanny sets
    ``MALLOC_TRIM_THRESHOLD_=65536`` for its workers, which makes the search's many
    short-lived arrays page-fault on every allocation: about 3x slower). Raises the trim
    and mmap thresholds to 64 / 16 MiB, once, and only where that variable is set low."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        if int(os.environ.get("MALLOC_TRIM_THRESHOLD_", "0")) >= 1 << 26 or \
                "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
            return
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 26)   # M_TRIM_THRESHOLD
        libc.mallopt(-3, 1 << 24)   # M_MMAP_THRESHOLD
    except (OSError, ValueError, AttributeError):  # pragma: no cover - not glibc
        pass


def _chunk_intervals(frame: _Frame, sats: _SatBlock, block: _CellBlock,
                     constraints: AccessConstraints, tol_s: float):
    """Task: access intervals of one (cell block, satellite block).

    Returns (cell, satellite, start_s, end_s), cells and satellites as global numbers,
    sorted by cell, satellite, start.
    """
    _tune_malloc()
    cells = _cells(block, frame)
    eta = math.radians(constraints.max_off_nadir_deg)
    c, s, t0, t1 = _off_nadir_intervals(frame, sats, block, cells, eta, tol_s)
    if constraints.min_sun_elevation_deg is not None:
        c, s, t0, t1 = _sun_filter(frame, cells, constraints.min_sun_elevation_deg, tol_s,
                                   c, s, t0, t1)
    order = np.lexsort((t0, s, c))
    return (c[order] + block.offset, sats.index[s[order]], t0[order], t1[order])


# --- metrics ------------------------------------------------------------------------------

def _block_metrics(block: _CellBlock, parts, window_s: float, axis_s: np.ndarray):
    """Task: per-cell metrics of one cell block from its interval parts (one per sat block)."""
    n = len(block)
    cell = np.concatenate([p[0] for p in parts]) - block.offset
    start = np.concatenate([p[2] for p in parts])
    end = np.concatenate([p[3] for p in parts])
    accesses = np.bincount(cell, minlength=n)
    order = np.lexsort((start, cell))
    cell, start, end = cell[order], start[order], end[order]
    first = np.full(n, np.nan)
    mean = np.full(n, np.nan)
    worst = np.full(n, np.nan)
    p95 = np.full(n, np.nan)
    inst = np.zeros(axis_s.size, np.int64)
    inst_area = np.zeros(axis_s.size)
    if cell.size:
        big = 2.0 * window_s + 10.0
        run = np.maximum.accumulate(end + cell * big) - cell * big
        new_cell = np.ones(cell.size, bool)
        new_cell[1:] = cell[1:] != cell[:-1]
        prev_end = np.empty(cell.size)
        prev_end[0] = -np.inf
        prev_end[1:] = run[:-1]
        opens = new_cell | (start > prev_end)
        # Merged intervals: each opens at an 'opens' row and closes at the running max
        # just before the next opening of the same cell (or the cell's last row).
        m_cell, m_start = cell[opens], start[opens]
        last_row = np.concatenate([np.flatnonzero(opens)[1:] - 1, [cell.size - 1]])
        m_end = run[last_row]
        first[m_cell[np.r_[True, m_cell[1:] != m_cell[:-1]]]] = \
            m_start[np.r_[True, m_cell[1:] != m_cell[:-1]]]
        same = m_cell[1:] == m_cell[:-1]
        gap_cell = m_cell[1:][same]
        gap = (m_start[1:] - m_end[:-1])[same]
        if gap.size:
            count = np.bincount(gap_cell, minlength=n)
            has = count > 0
            mean[has] = (np.bincount(gap_cell, weights=gap, minlength=n)[has] / count[has])
            o = np.lexsort((gap, gap_cell))
            gs = gap[o]
            begin = np.concatenate([[0], np.cumsum(count)[:-1]])
            cells_with = np.flatnonzero(has)
            b, m = begin[cells_with], count[cells_with]
            worst[cells_with] = gs[b + m - 1]
            q = 0.95 * (m - 1)
            lo = np.floor(q).astype(np.int64)
            hi = np.minimum(lo + 1, m - 1)
            p95[cells_with] = gs[b + lo] + (q - lo) * (gs[b + hi] - gs[b + lo])
        w = block.weight[m_cell]
        so, eo = np.argsort(m_start, kind="stable"), np.argsort(m_end, kind="stable")
        ws, we = np.concatenate([[0.0], np.cumsum(w[so])]), np.concatenate([[0.0], np.cumsum(w[eo])])
        i_s = np.searchsorted(m_start[so], axis_s, "right")
        i_e = np.searchsorted(m_end[eo], axis_s, "left")
        inst = i_s - i_e
        inst_area = ws[i_s] - we[i_e]
    seen = np.isfinite(first)
    fo = np.argsort(np.where(seen, first, np.inf), kind="stable")
    k = np.searchsorted(np.where(seen, first, np.inf)[fo], axis_s, "right")
    wc = np.concatenate([[0.0], np.cumsum(block.weight[fo])])
    return {"accesses": accesses, "first_s": first, "mean_s": mean, "max_s": worst, "p95_s": p95,
            "cum": k.astype(np.int64), "cum_area": wc[k], "inst": inst.astype(np.int64),
            "inst_area": inst_area, "intervals": int(cell.size)}


# --- driver -------------------------------------------------------------------------------

class _Progress:
    """A one-line progress indicator on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, label: str, enabled: bool):
        self.total, self.label, self.done = total, label, 0
        self.enabled = enabled and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.t0 = time.perf_counter()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.enabled:
            pct = 100.0 * self.done / max(self.total, 1)
            sys.stderr.write(f"\r{self.label}: {self.done}/{self.total} tasks ({pct:3.0f} %) "
                             f"{time.perf_counter() - self.t0:6.1f} s")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _prepare(constellation, start, end, step_s: float):
    if not step_s > 0:
        raise SimulationError(f"search step must be positive, got {step_s} s")
    grid = TimeGrid.range(start, end, step_s)
    if len(grid) < 2:
        raise SimulationError("the window must be longer than zero")
    eph = constellation.propagate(grid)
    pm = grid.polar_motion_matrix
    w0 = np.eye(3) if pm is None else pm[len(grid) // 2]
    frame = _Frame(grid.seconds.copy(), np.unwrap(grid.gmst_rad), w0, sun_position_km(grid, "teme"))
    return grid, eph, frame


def _sat_blocks(eph, chunk_sats: int) -> list[_SatBlock]:
    n = eph.shape[0]
    return [_SatBlock(np.arange(i, min(i + chunk_sats, n)), eph.position_km[i:i + chunk_sats].copy(),
                      eph.velocity_km_s[i:i + chunk_sats].copy()) for i in range(0, n, chunk_sats)]


def _grid_blocks(grid: CoverageGrid, chunk_cells: int) -> list[_CellBlock]:
    lat, lon = grid.latitude_deg, grid.longitude_deg
    n_cols = lon.size
    rows_per = max(1, chunk_cells // n_cols)
    weights = grid.cell_area_weights()
    blocks = []
    for r0 in range(0, lat.size, rows_per):
        rows = lat[r0:r0 + rows_per]
        la, lo = np.repeat(rows, n_cols), np.tile(lon, rows.size)
        blocks.append(_CellBlock(r0 * n_cols, la, lo, np.zeros(la.size),
                                 np.repeat(weights[r0:r0 + rows_per], n_cols), rows_deg=rows,
                                 cols_deg=lon, step_deg=grid.resolution_deg))
    return blocks


def _point_blocks(lat, lon, alt_km, chunk_cells: int) -> list[_CellBlock]:
    return [_CellBlock(i, lat[i:i + chunk_cells], lon[i:i + chunk_cells], alt_km[i:i + chunk_cells],
                       np.ones(min(chunk_cells, lat.size - i)))
            for i in range(0, lat.size, chunk_cells)]


def _run_tasks(frame, sat_blocks, cell_blocks, constraints, tol_s, axis_s, client, progress,
               keep_intervals=False):
    """Run the interval tasks and the per-block metric tasks, in process or on dask."""
    n_tasks = len(cell_blocks) * (len(sat_blocks) + 1)
    bar = _Progress(n_tasks, "coverage", progress)
    results, intervals = [], []
    try:
        if client is None:
            for block in cell_blocks:
                parts = []
                for sats in sat_blocks:
                    parts.append(_chunk_intervals(frame, sats, block, constraints, tol_s))
                    bar.advance()
                results.append(_block_metrics(block, parts, frame.window_s, axis_s))
                bar.advance()
                if keep_intervals:
                    intervals.extend(parts)
        else:
            from distributed import as_completed
            frame_f = client.scatter(frame, broadcast=True)
            sat_f = [client.scatter(sb) for sb in sat_blocks]
            futures, metric_f, part_f = [], [], []
            for block in cell_blocks:
                parts = [client.submit(_chunk_intervals, frame_f, sf, block, constraints, tol_s,
                                       pure=False) for sf in sat_f]
                m = client.submit(_block_metrics, block, parts, frame.window_s, axis_s, pure=False)
                futures.extend(parts)
                futures.append(m)
                metric_f.append(m)
                part_f.extend(parts)
            for _ in as_completed(futures):
                bar.advance()
            results = client.gather(metric_f)
            if keep_intervals:
                intervals = client.gather(part_f)
    finally:
        bar.close()
    return results, intervals


@dataclass
class CoverageResult:
    """Per-cell metrics ``(n_cell,)`` (seconds; NaN where undefined) and the summary.

    ``latitude_deg``, ``longitude_deg``, ``accesses``, ``first_access_s`` (since the window
    start), ``mean_revisit_s``, ``max_revisit_s``, ``p95_revisit_s``; ``grid`` is the
    :class:`CoverageGrid` (None for arbitrary points); ``curve`` the coverage over time.
    """

    start: np.datetime64
    end: np.datetime64
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    accesses: np.ndarray
    first_access_s: np.ndarray
    mean_revisit_s: np.ndarray
    max_revisit_s: np.ndarray
    p95_revisit_s: np.ndarray
    curve: dict
    info: dict
    grid: CoverageGrid | None = None
    intervals: tuple | None = field(default=None, repr=False)

    def cells_table(self) -> Table:
        """The ``cells.csv`` table: columns :data:`CELL_COLUMNS`, hours and ISO UTC."""
        seen = np.isfinite(self.first_access_s)
        first = np.full(self.accesses.size, np.datetime64("NaT"), dtype="datetime64[ns]")
        first[seen] = self.start + (self.first_access_s[seen] * 1e9).round().astype("timedelta64[ns]")
        return Table({
            "latitude_deg": self.latitude_deg, "longitude_deg": self.longitude_deg,
            "accesses": self.accesses.astype(np.int64),
            "mean_revisit_h": self.mean_revisit_s / 3600.0,
            "max_revisit_h": self.max_revisit_s / 3600.0,
            "p95_revisit_h": self.p95_revisit_s / 3600.0,
            "first_access_utc": first,
        }, {"latitude_deg": ".6f", "longitude_deg": ".6f", "mean_revisit_h": ".6f",
            "max_revisit_h": ".6f", "p95_revisit_h": ".6f"})

    def as_grid(self, values) -> np.ndarray:
        """Per-cell values reshaped to the grid ``(n_rows, n_cols)``."""
        if self.grid is None:
            raise SimulationError("these cells are not a regular grid")
        return np.asarray(values).reshape(self.grid.shape)

    def summary(self) -> dict:
        """JSON-ready summary (see the module docstring for the definitions)."""
        def stats(x):
            x = x[np.isfinite(x)]
            if not x.size:
                return None
            return {"mean": float(x.mean()), "median": float(np.median(x)),
                    "p95": float(np.percentile(x, 95)), "max": float(x.max())}

        def hours(d):
            return None if d is None else {k: v / 3600.0 for k, v in d.items()}

        seen = np.isfinite(self.first_access_s)
        return {
            "window": {"start_utc": format_utc(self.start)[0], "end_utc": format_utc(self.end)[0],
                       "duration_h": float((self.end - self.start) / np.timedelta64(1, "s")) / 3600.0},
            **self.info,
            "cells": int(self.accesses.size),
            "cells_accessed": int(seen.sum()),
            "cells_never_accessed": int((~seen).sum()),
            "accesses": int(self.accesses.sum()),
            "mean_revisit_h_over_cells": hours(stats(self.mean_revisit_s)),
            "max_revisit_h_over_cells": hours(stats(self.max_revisit_s)),
            "p95_revisit_h_over_cells": hours(stats(self.p95_revisit_s)),
            "time_to_first_access_h_over_cells": hours(stats(self.first_access_s)),
            "coverage_fraction": self.curve,
            "definitions": {
                "accesses": "number of (satellite, access interval) pairs per cell",
                "revisit gap": "end of one access to the start of the next, intervals of all "
                               "satellites merged; time before the first and after the last "
                               "access not counted (censored window edges)",
                "p95": "95th percentile, linear interpolation between order statistics",
                "cumulative": "fraction of cells accessed at least once since the window start",
                "instantaneous": "fraction of cells under access at that instant",
                "_area": "the same, cells weighted by area",
            },
        }

    def write(self, directory) -> tuple[Path, Path]:
        """Write ``cells.csv`` and ``summary.json`` into ``directory`` (created if needed)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        cells, summary = out / "cells.csv", out / "summary.json"
        self.cells_table().to_csv(cells)
        summary.write_text(json.dumps(self.summary(), indent=1) + "\n", encoding="utf-8")
        return cells, summary


def _axis(window_s: float, curve_step_s: float | None) -> np.ndarray:
    step = curve_step_s or (600.0 if window_s <= 2 * 86400 else window_s / 288.0)
    axis = np.arange(0.0, window_s, step)
    return np.append(axis, window_s)


def coverage(constellation, grid, start, end, constraints: AccessConstraints | None = None, *,
             step_s: float = 60.0, tol_s: float = 0.1, client=None, chunk_cells: int = 4096,
             chunk_sats: int = 25, progress: bool = False, curve_step_s: float | None = None,
             keep_intervals: bool = False, backend_label: str | None = None) -> CoverageResult:
    """Coverage and revisit of ``grid`` by ``constellation`` over ``[start, end]`` (UTC).

    ``grid``: a :class:`CoverageGrid` (raster search) or ``(latitude_deg, longitude_deg)``
    arrays of points (dense search). ``client``: a ``dask.distributed.Client`` or None (in
    process). ``step_s``: the SGP4 grid of the complete search; ``tol_s``: the precision
    of access start and end times. ``keep_intervals``: also return the raw intervals
    (cell, satellite, start_s, end_s).
    """
    constraints = constraints or AccessConstraints()
    if chunk_cells < 1 or chunk_sats < 1:
        raise SimulationError("chunk sizes must be at least 1")
    if not tol_s > 0:
        raise SimulationError(f"tolerance must be positive, got {tol_s} s")
    t_start = time.perf_counter()
    start64, end64 = parse_utc(start)[0], parse_utc(end)[0]
    if end64 <= start64:
        raise SimulationError(f"end {format_utc(end64)[0]} must be after start {format_utc(start64)[0]}")
    _, eph, frame = _prepare(constellation, start64, end64, step_s)
    if isinstance(grid, CoverageGrid):
        blocks = _grid_blocks(grid, chunk_cells)
        lat = np.concatenate([b.lat_deg for b in blocks])
        lon = np.concatenate([b.lon_deg for b in blocks])
        cover_grid = grid
    else:
        lat, lon = (np.atleast_1d(np.asarray(x, dtype=float)) for x in grid)
        if lat.shape != lon.shape or lat.ndim != 1 or lat.size == 0:
            raise SimulationError("points: latitude and longitude must be 1-D arrays of one length")
        if np.any(np.abs(lat) > 90) or np.any(~np.isfinite(lon)):
            raise SimulationError("points: latitude must be in [-90, 90] and longitude finite")
        blocks = _point_blocks(lat, lon, np.zeros(lat.size), chunk_cells)
        cover_grid = None
    sat_blocks = _sat_blocks(eph, chunk_sats)
    axis_s = _axis(frame.window_s, curve_step_s)
    results, parts = _run_tasks(frame, sat_blocks, blocks, constraints, tol_s, axis_s, client,
                                progress, keep_intervals)
    cat = lambda key: np.concatenate([r[key] for r in results])  # noqa: E731
    weights_total = float(np.sum([b.weight.sum() for b in blocks]))
    cum = np.sum([r["cum"] for r in results], axis=0)
    cum_area = np.sum([r["cum_area"] for r in results], axis=0)
    inst = np.sum([r["inst"] for r in results], axis=0)
    inst_area = np.sum([r["inst_area"] for r in results], axis=0)
    n = lat.size
    axis_t = start64 + (axis_s * 1e9).round().astype("timedelta64[ns]")
    curve = {"time_utc": format_utc(axis_t), "cumulative": (cum / n).tolist(),
             "cumulative_area": (cum_area / weights_total).tolist(),
             "instantaneous": (inst / n).tolist(),
             "instantaneous_area": (inst_area / weights_total).tolist()}
    if backend_label is None:
        backend_label = "single-process" if client is None else f"dask ({_client_label(client)})"
    info = {
        "region": cover_grid.to_dict() if cover_grid is not None else None,
        "satellites": len(constellation),
        "constraints": constraints.to_dict(),
        "search": {"step_s": step_s, "tol_s": tol_s, "chunk_cells": chunk_cells,
                   "chunk_sats": chunk_sats, "tasks": len(blocks) * (len(sat_blocks) + 1)},
        "propagation_errors": eph.errors(),
        "backend": backend_label,
        "elapsed_s": None,
    }
    result = CoverageResult(
        start64, end64, lat, (lon + 180.0) % 360.0 - 180.0, cat("accesses"), cat("first_s"),
        cat("mean_s"), cat("max_s"), cat("p95_s"), curve, info, cover_grid)
    if keep_intervals:
        raw = tuple(np.concatenate([p[i] for p in parts]) for i in range(4)) \
            if parts else _empty_intervals()
        order = np.lexsort((raw[2], raw[1], raw[0]))
        result.intervals = tuple(x[order] for x in raw)
    info["elapsed_s"] = round(time.perf_counter() - t_start, 3)
    return result


def _client_label(client) -> str:
    try:
        return str(client.scheduler.address)
    except AttributeError:  # pragma: no cover
        return type(client).__name__
