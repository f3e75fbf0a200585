"""Coverage and revisit: access intervals for every (ground cell, satellite), then per-cell
revisit statistics and coverage over time; single process or chunked over dask.

Access (the geometry, its completeness argument and its definitions) is
:mod:`groundseg.coverage`: a cell is accessible when its off-nadir angle from the satellite
is at most ``max_off_nadir_deg`` (and the Sun at least ``min_sun_elevation_deg`` above it);
SGP4 runs once on a coarse grid (``step_s``, default 60 s) and no access longer than
``tol_s`` (default 0.1 s: revisit is reported in hours) is missed.

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
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from groundseg import budget
from groundseg.coverage import CellBlock, CoverageFrame, SatelliteBlock, block_intervals
from groundseg.parallel import TaskRunner, client_label
from groundseg.table import Table
from groundseg.timegrid import TimeGrid, format_utc, parse_utc

from .errors import SimulationError

__all__ = ["AccessConstraints", "CoverageGrid", "CoverageResult", "coverage", "CELL_COLUMNS"]

CELL_COLUMNS = ("latitude_deg", "longitude_deg", "accesses", "mean_revisit_h", "max_revisit_h",
                "p95_revisit_h", "first_access_utc")


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
        rows = max(1.0, (self.lat_max - self.lat_min) / r)
        cols = max(1.0, self.lon_span_deg / r)
        budget.require(rows * cols * _CELL_BYTES, f"resolution_deg {r:g}",
                       f"{rows:.3g} x {cols:.3g} cells")

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


# --- tasks --------------------------------------------------------------------------------

#: Bytes per cell (its centre, statistics, output row) and per (satellite, grid time) (the
#: ephemeris, its copy in satellite blocks, the frame), estimated for the budget.
_CELL_BYTES = 1024
_STATE_BYTES = 160


def _chunk_intervals(frame: CoverageFrame, sats: SatelliteBlock, block: CellBlock,
                     constraints: AccessConstraints, tol_s: float):
    """Task: access intervals of one (cell block, satellite block),
    :func:`groundseg.coverage.block_intervals`."""
    return block_intervals(frame, sats, block, constraints.max_off_nadir_deg,
                           constraints.min_sun_elevation_deg, tol_s)


# --- metrics ------------------------------------------------------------------------------

def _block_metrics(block: CellBlock, parts, window_s: float, axis_s: np.ndarray):
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

def _prepare(constellation, start, end, step_s: float):
    if not step_s > 0:
        raise SimulationError(f"search step must be positive, got {step_s} s")
    constellation.require_memory(TimeGrid.range_size(start, end, step_s), _STATE_BYTES)
    grid = TimeGrid.range(start, end, step_s)
    if len(grid) < 2:
        raise SimulationError("the window must be longer than zero")
    eph = constellation.propagate(grid, bytes_per_state=_STATE_BYTES)
    return grid, eph, CoverageFrame.from_grid(grid)


def _sat_blocks(eph, chunk_sats: int) -> list[SatelliteBlock]:
    n = eph.shape[0]
    return [SatelliteBlock(np.arange(i, min(i + chunk_sats, n)), eph.position_km[i:i + chunk_sats].copy(),
                      eph.velocity_km_s[i:i + chunk_sats].copy()) for i in range(0, n, chunk_sats)]


def _grid_blocks(grid: CoverageGrid, chunk_cells: int) -> list[CellBlock]:
    lat, lon = grid.latitude_deg, grid.longitude_deg
    n_cols = lon.size
    rows_per = max(1, chunk_cells // n_cols)
    weights = grid.cell_area_weights()
    blocks = []
    for r0 in range(0, lat.size, rows_per):
        rows = lat[r0:r0 + rows_per]
        la, lo = np.repeat(rows, n_cols), np.tile(lon, rows.size)
        blocks.append(CellBlock(r0 * n_cols, la, lo, np.zeros(la.size),
                                 np.repeat(weights[r0:r0 + rows_per], n_cols), rows_deg=rows,
                                 cols_deg=lon, step_deg=grid.resolution_deg))
    return blocks


def _point_blocks(lat, lon, alt_km, chunk_cells: int) -> list[CellBlock]:
    return [CellBlock(i, lat[i:i + chunk_cells], lon[i:i + chunk_cells], alt_km[i:i + chunk_cells],
                       np.ones(min(chunk_cells, lat.size - i)))
            for i in range(0, lat.size, chunk_cells)]


def _run_tasks(frame, sat_blocks, cell_blocks, constraints, tol_s, axis_s, client, progress,
               keep_intervals=False):
    """Run the interval tasks and the per-block metric tasks, in process or on dask
    (:class:`groundseg.parallel.TaskRunner`); the metric task of a cell block takes its
    interval parts where they are, so only per-cell results travel back."""
    runner = TaskRunner(client, progress, len(cell_blocks) * (len(sat_blocks) + 1))
    frame_f = runner.share(frame)
    sat_f = [runner.share(sb, broadcast=False) for sb in sat_blocks]
    metric_f, part_f = [], []
    for block in cell_blocks:
        parts = [runner.submit(_chunk_intervals, frame_f, sf, block, constraints, tol_s)
                 for sf in sat_f]
        metric_f.append(runner.submit(_block_metrics, block, parts, frame.window_s, axis_s))
        if keep_intervals:
            part_f.extend(parts)
    results = runner.gather(metric_f)
    return results, (runner.gather(part_f) if keep_intervals else [])


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

    def write(self, directory, format: str = "csv") -> tuple[Path, Path]:
        """Write ``cells.csv`` (or ``cells.parquet``) and ``summary.json`` into ``directory``
        (created if needed)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        cells, summary = out / f"cells.{format}", out / "summary.json"
        self.cells_table().write(cells, format)
        summary.write_text(json.dumps(self.summary(), indent=1) + "\n", encoding="utf-8")
        return cells, summary


def _axis(window_s: float, curve_step_s: float | None) -> np.ndarray:
    step = curve_step_s or (600.0 if window_s <= 2 * 86400 else window_s / 288.0)
    axis = np.arange(0.0, window_s, step)
    return np.append(axis, window_s)


def coverage(constellation, grid, start, end, constraints: AccessConstraints | None = None, *,
             step_s: float = 60.0, tol_s: float = 0.1, client=None, chunk_cells: int = 4096,
             chunk_sats: int = 25, progress=None, curve_step_s: float | None = None,
             keep_intervals: bool = False, backend_label: str | None = None) -> CoverageResult:
    """Coverage and revisit of ``grid`` by ``constellation`` over ``[start, end]`` (UTC).

    ``grid``: a :class:`CoverageGrid` (raster search) or ``(latitude_deg, longitude_deg)``
    arrays of points (dense search). ``client``: a ``dask.distributed.Client`` or None (in
    process). ``step_s``: the SGP4 grid of the complete search; ``tol_s``: the precision
    of access start and end times. ``progress(done, total)``: called as tasks finish.
    ``keep_intervals``: also return the raw intervals (cell, satellite, start_s, end_s).
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
        backend_label = "single-process" if client is None else f"dask ({client_label(client)})"
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
            if parts else (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        order = np.lexsort((raw[2], raw[1], raw[0]))
        result.intervals = tuple(x[order] for x in raw)
    info["elapsed_s"] = round(time.perf_counter() - t_start, 3)
    return result
