"""Coverage geometry: access intervals of every (ground cell, satellite) of one block pair.

A cell is accessible from a satellite when the off-nadir angle of the cell seen from the
satellite (angle at the satellite between the geocentric nadir and the line of sight) is at
most ``max_off_nadir_deg`` and the cell is on the visible side of the Earth; optionally the
Sun's elevation at the cell is at least ``min_sun_elevation_deg``. That is the off-nadir
bound of :mod:`groundseg.bounds` (``psi <= off_nadir_limit_rad``), searched by the kernel of
:mod:`groundseg.visibility` and so complete: no access longer than ``tol_s`` is missed.
What the search cannot settle is the model itself: the Hermite states are within ~0.4 m of
SGP4 at 60 s, so a grazing access shorter than about a second may come or go with the step.

What makes it fast for many cells (the imaging-access search, :mod:`groundseg.access_search`,
is the same search tuned for few targets):

- **Frame.** Cubic Hermite polynomials of TEME states rotated to the Earth-fixed frame by
  GMST interpolated linearly (its small rotation over an interval by its Taylor series),
  polar motion held at its mid-window value W0 and applied to the cells instead (a few cm
  per day).
- **Hits without a dense array** for a regular grid: each sub-satellite sample rasterises
  its cap of radius ``reach`` onto the grid's rows and columns (:func:`_raster_hits`);
  arbitrary points use :func:`groundseg.visibility.dense_hits`.
- **Bounds per satellite only**, with cell radii bounded by the polar radius and the equator
  + 10 km, so results depend on no chunking: the same for any (cell block, satellite block)
  split, in one process or on dask.

Off-nadir here is measured from the geocentric nadir (the direction to the Earth's centre),
which differs from the geodetic nadir by up to 0.19 deg.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bounds import SUN_ELEVATION_RATE_RAD_S, OffNadirBound, orbit_bounds
from .earth import WGS84_A_KM, WGS84_B_KM, enu_basis, geodetic_to_ecef
from .errors import GroundsegError
from .interpolation import cubic_coefficients
from .sun import sun_position_km
from .timegrid import TimeGrid
from .visibility import angle_windows, condition_windows, dense_hits, reach_rad

__all__ = ["CoverageFrame", "SatelliteBlock", "CellBlock", "block_intervals"]

_RASTER_MARGIN_RAD = 1e-5
_BATCH_ROWS = 1 << 13              # candidate intervals searched together (memory touched)
_MAX_ROTATION_RAD = 0.05           # GMST step the Taylor series in _interval_margin covers
# Bounds on the geocentric radius of any cell (the polar radius; the equator + 10 km), so
# the rate bounds depend on the satellite only and results on no chunking.
_MAX_CELL_ALTITUDE_KM = 10.0
_CELL_RADIUS_MIN_KM = WGS84_B_KM
_CELL_RADIUS_MAX_KM = WGS84_A_KM + _MAX_CELL_ALTITUDE_KM
_TWO_PI = 2.0 * np.pi


@dataclass
class CoverageFrame:
    """Shared by every block: time grid ``(T,)``, GMST (unwrapped) ``(T,)``, polar motion
    W0 ``(3, 3)``, Sun TEME ``(T, 3)``."""

    grid_s: np.ndarray
    theta_rad: np.ndarray
    w0: np.ndarray
    sun_teme_km: np.ndarray

    @classmethod
    def from_grid(cls, grid: TimeGrid) -> "CoverageFrame":
        pm = grid.polar_motion_matrix
        w0 = np.eye(3) if pm is None else pm[len(grid) // 2]
        return cls(grid.seconds.copy(), np.unwrap(grid.gmst_rad), w0, sun_position_km(grid, "teme"))

    @property
    def h_s(self) -> np.ndarray:
        return np.diff(self.grid_s)

    @property
    def window_s(self) -> float:
        return float(self.grid_s[-1])


@dataclass
class SatelliteBlock:
    """Satellites ``index`` ``(S,)`` (numbers in the constellation) with TEME states
    ``r_km``, ``v_km_s`` ``(S, T, 3)`` on the frame's grid."""

    index: np.ndarray
    r_km: np.ndarray
    v_km_s: np.ndarray


@dataclass
class CellBlock:
    """Cells ``offset .. offset + n - 1``: either whole grid rows (``rows_deg`` x
    ``cols_deg``, raster search, regular column spacing ``step_deg``) or points. Per cell
    ``(n,)``: ``lat_deg``, ``lon_deg``, ``alt_km``, ``weight`` (relative area)."""

    offset: int
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray
    weight: np.ndarray
    rows_deg: np.ndarray | None = None
    cols_deg: np.ndarray | None = None
    step_deg: float | None = None

    def __len__(self) -> int:
        return self.lat_deg.size


@dataclass
class _Cells:
    """Cell geometry in the pseudo-Earth-fixed frame (ITRS rotated by W0^T), ``(n, ...)``."""

    pos_km: np.ndarray
    unit: np.ndarray
    radius_km: np.ndarray
    up: np.ndarray


def _cells(block: CellBlock, frame: CoverageFrame) -> _Cells:
    lat, lon = np.radians(block.lat_deg), np.radians(block.lon_deg)
    pos = geodetic_to_ecef(lat, lon, block.alt_km) @ frame.w0
    up = enu_basis(lat, lon)[:, 2, :] @ frame.w0
    radius = np.linalg.norm(pos, axis=-1)
    return _Cells(pos, pos / radius[:, None], radius, up)


def _rotate(r, theta):
    """TEME -> pseudo-Earth-fixed: rotate ``r`` ``(..., 3)`` by GMST ``theta`` ``(...)``."""
    c, s = np.cos(theta), np.sin(theta)
    x, y = r[..., 0], r[..., 1]
    return np.stack([c * x + s * y, c * y - s * x, r[..., 2]], axis=-1)


@dataclass
class _SatGeometry:
    rn: np.ndarray           # (S, T) km
    unit: np.ndarray         # (S, T, 3) Earth-fixed
    lat: np.ndarray          # (S, T) geocentric
    lon: np.ndarray          # (S, T)
    rate: np.ndarray         # (S,) bound on |dg/dt|, rad/s
    reach: np.ndarray        # (S,) largest psi of a hit, rad
    horizon: bool            # the limit's horizon branch can be reached
    coef: np.ndarray         # (S, T-1, 4, 3)
    valid_end_s: np.ndarray  # (S,) last sample before SGP4 first fails (e.g. decay)


def _sat_geometry(sats: SatelliteBlock, frame: CoverageFrame, bound: OffNadirBound) -> _SatGeometry:
    r, v = sats.r_km, sats.v_km_s
    rn = np.linalg.norm(r, axis=-1)
    unit = _rotate(r, frame.theta_rad[None, :]) / rn[..., None]
    ok_t = np.isfinite(rn)
    first_bad = np.where(ok_t.all(axis=1), rn.shape[1], np.argmin(ok_t, axis=1))
    valid_end = np.where(first_bad > 0, frame.grid_s[np.maximum(first_bad - 1, 0)], frame.grid_s[0])
    h_max = float(frame.h_s.max())
    ob = orbit_bounds(r, v, h_max)
    c_lo, c_hi = _CELL_RADIUS_MIN_KM, _CELL_RADIUS_MAX_KM   # the same for every cell block
    with np.errstate(invalid="ignore"):
        rate = ob.angle_rate_rad_s + bound.slope_rad_km(ob.radius_lo_km, ob.radius_hi_km, c_lo,
                                                        c_hi) * ob.radial_speed_km_s
        reach = reach_rad(bound.limit_rad(ob.radius_hi_km, c_lo), rate, h_max)
        horizon = bool(np.nanmax(ob.radius_hi_km, initial=0.0) * math.sin(bound.off_nadir_rad)
                       >= c_lo)
    lat = np.arcsin(np.clip(unit[..., 2], -1.0, 1.0))
    lon = np.arctan2(unit[..., 1], unit[..., 0])
    h = frame.h_s[None, :]
    return _SatGeometry(rn, unit, lat, lon, rate, reach, horizon,
                        cubic_coefficients(r[:, :-1], v[:, :-1], r[:, 1:], v[:, 1:], h), valid_end)


def _ranges(starts, counts):
    """Concatenated ``arange(start, start + count)`` for each pair (int64)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    base = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts)
    return base + np.arange(total, dtype=np.int64)


def _raster_hits(block: CellBlock, cells: _Cells, geo: _SatGeometry):
    """Every (cell, sat, time) sample with psi <= reach, via the grid's rows and columns.

    Returns candidate triples (cell, sat, k); a superset (exact test done by the caller).
    """
    S, T = geo.lat.shape
    n_cols = block.cols_deg.size
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


def _interval_margin(geo: _SatGeometry, cells: _Cells, bound: OffNadirBound, frame: CoverageFrame):
    """``make(pc, ps, pk)``: g(rows, tau) on intervals (cell ``pc``, sat ``ps``, grid
    interval ``pk``), the TEME Hermite cubic at ``tau`` in [0, 1] rotated by the GMST
    interpolated linearly.

    Everything a row needs is gathered once into ``(19, m)`` (the cubic's 12 coefficients,
    the cell's unit vector and radius, cos / sin of GMST at the interval start and its
    increment), so an evaluation reads one column per row; the small rotation over the
    interval (<= 0.3 deg at 60 s) uses its Taylor series, exact to double precision."""
    S, n_int = geo.coef.shape[:2]
    th = frame.theta_rad

    def make(pc, ps, pk):
        flat = ps * n_int + pk
        data = np.concatenate([
            geo.coef.reshape(S * n_int, 12)[flat].T, cells.unit[pc].T, cells.radius_km[pc][None],
            np.cos(th[pk])[None], np.sin(th[pk])[None], (th[pk + 1] - th[pk])[None]])
        if float(np.max(np.abs(data[18]), initial=0.0)) > _MAX_ROTATION_RAD:
            raise GroundsegError("search step too long for the Earth-rotation series (max ~600 s)")

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
            return bound.margin_rad(rn, a[15], np.arccos(np.clip(cos_psi, -1.0, 1.0)),
                                    horizon=geo.horizon)
        return fn
    return make


def _off_nadir_intervals(frame: CoverageFrame, sats: SatelliteBlock, block: CellBlock,
                         cells: _Cells, bound: OffNadirBound, tol_s: float):
    """Access intervals (cell, sat, start_s, end_s) under the off-nadir constraint."""
    geo = _sat_geometry(sats, frame, bound)
    if block.rows_deg is not None:
        c, s, k = _raster_hits(block, cells, geo)
    else:
        with np.errstate(invalid="ignore"):
            c, s, k = dense_hits(cells.unit, geo.unit, np.cos(geo.reach)[None, :])
    cos_psi = np.einsum("mi,mi->m", geo.unit[s, k], cells.unit[c])
    with np.errstate(invalid="ignore"):
        hit = cos_psi >= np.cos(geo.reach[s])
    c, s, k, cos_psi = c[hit], s[hit], k[hit], cos_psi[hit]

    def sample_margin(cc, ss, kk, cos=None):
        if cos is None:
            cos = np.einsum("mi,mi->m", geo.unit[ss, kk], cells.unit[cc])
        return bound.margin_rad(geo.rn[ss, kk], cells.radius_km[cc],
                                np.arccos(np.clip(cos, -1.0, 1.0)))

    return angle_windows(c, s, k, sample_margin(c, s, k, cos_psi), geo.rate[s], frame.grid_s,
                         sample_margin, _interval_margin(geo, cells, bound, frame),
                         geo.valid_end_s, tol_s, batch_rows=_BATCH_ROWS)


def _sun_filter(frame: CoverageFrame, cells: _Cells, min_el_deg: float, tol_s: float, c, s, t0, t1):
    """The parts of the intervals during which the Sun is at least ``min_el_deg`` high."""
    min_el = np.radians(min_el_deg)

    def margin(i, t):
        th = np.interp(t, frame.grid_s, frame.theta_rad)
        sun = np.stack([np.interp(t, frame.grid_s, frame.sun_teme_km[:, j]) for j in range(3)], -1)
        d = _rotate(sun, th) - cells.pos_km[c[i]]
        sin_el = np.einsum("mi,mi->m", d, cells.up[c[i]]) / np.sqrt(np.einsum("mi,mi->m", d, d))
        return np.arcsin(np.clip(sin_el, -1.0, 1.0)) - min_el

    w, start, end = condition_windows(margin, t0, t1, SUN_ELEVATION_RATE_RAD_S, tol_s)
    return c[w], s[w], start, end


def block_intervals(frame: CoverageFrame, sats: SatelliteBlock, block: CellBlock,
                    max_off_nadir_deg: float, min_sun_elevation_deg: float | None, tol_s: float):
    """Access intervals of one (cell block, satellite block): ``(cell, satellite, start_s,
    end_s)`` ``(m,)``, cells and satellites as global numbers, sorted by cell, satellite,
    start."""
    cells = _cells(block, frame)
    bound = OffNadirBound(math.radians(max_off_nadir_deg))
    c, s, t0, t1 = _off_nadir_intervals(frame, sats, block, cells, bound, tol_s)
    if min_sun_elevation_deg is not None:
        c, s, t0, t1 = _sun_filter(frame, cells, min_sun_elevation_deg, tol_s, c, s, t0, t1)
    order = np.lexsort((t0, s, c))
    return (c[order] + block.offset, sats.index[s[order]], t0[order], t1[order])
