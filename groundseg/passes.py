"""Pass prediction for a whole constellation over a whole station network, provably complete.

:func:`predict_passes` finds every pass of every satellite over every station in one
vectorised call: SGP4 runs once per (satellite, grid time) on a coarse grid, and everything
after that works on interpolated states (no further SGP4 call). This module holds the API
and the result table; the search and its completeness argument are in
:mod:`groundseg.pass_search`, the antenna tracking (pointing, Doppler) in
:mod:`groundseg.tracking`.

A pass over a station is a maximal interval where the satellite's elevation clears the
station's requirement ``m(az) = max(min_elevation, mask(az))`` (mask: linear in azimuth
between its points, wrapping at 360 deg). AOS and LOS are the crossings of
``g(t) = el(t) - m(az(t))``; TCA is the time of maximum *elevation* inside [AOS, LOS] (not
of maximum margin ``g``: with a mask the two differ).

Failed SGP4 elements (decayed satellites, bad elements) never raise: the satellite's
problems are listed in ``PassTable.problems``; a pass running into a propagation failure
ends there, its ``truncated`` flag says ``end`` and its ``status`` says why.

Wire format (``PassTable.to_csv`` / ``to_json``, the ``groundseg passes`` contract):
``satellite,norad_id,station,aos_utc,tca_utc,los_utc,duration_s,max_elevation_deg,
aos_azimuth_deg,tca_azimuth_deg,los_azimuth_deg,sunlit_at_tca,truncated`` with times ISO
8601 UTC with milliseconds and a Z, ``sunlit_at_tca`` true/false (the Sun's centre above
the Earth's limb seen from the satellite, a sphere of equatorial radius, as skyfield's
``is_sunlit``), ``truncated`` one of ``none|start|end|both``; rows ordered by AOS.
``columns="all"`` appends ``orbit_number`` (revolution number at epoch from the TLE plus
ascending-node crossings since, at AOS) and ``status`` (``ok`` or why a pass was cut).
"""
from __future__ import annotations

import os

import numpy as np

from .errors import GroundsegError, positive_number
from .horizon import Horizons, prepare_stations
from .orbits import STALE_AGE_DAYS, Constellation, Ephemeris
from .parallel import run_tasks, trim_memory
from .pass_jobs import (MAX_STEP_S, PassContext, aos_order, plan_tasks, run_chunk,
                        satellite_steps_s)
from .pass_search import CROSSING, DATA_EDGE
from .sun import sun_position_km
from .table import Table, Tabular, pa
from .timegrid import TimeGrid, format_utc, parse_utc
from .tracking import POINTING_COLUMNS, SPEED_OF_LIGHT_KM_S, pointing_table

__all__ = [
    "PassTable", "predict_passes", "passes_from_ephemeris", "pointing_table", "default_step_s",
    "PASS_CSV_COLUMNS", "PASS_COLUMNS", "POINTING_COLUMNS", "SPEED_OF_LIGHT_KM_S",
]

PASS_CSV_COLUMNS = (
    "satellite", "norad_id", "station", "aos_utc", "tca_utc", "los_utc", "duration_s",
    "max_elevation_deg", "aos_azimuth_deg", "tca_azimuth_deg", "los_azimuth_deg",
    "sunlit_at_tca", "truncated",
)
PASS_COLUMNS = PASS_CSV_COLUMNS + ("orbit_number", "status")
_FORMATS = {
    "duration_s": ".3f", "max_elevation_deg": ".4f", "aos_azimuth_deg": ".4f",
    "tca_azimuth_deg": ".4f", "los_azimuth_deg": ".4f",
}
_TRUNCATED = np.array(["none", "start", "end", "both"], dtype=object)   # by 1 (start) + 2 (end)
_BLOCK_ROWS = 1_000_000         # pass rows merged at a time as tasks finish (~80 MB)
_MAX_ELEMENTS = 6_000_000       # satellites x times x stations per chunk (memory)
_PARALLEL_ELEMENTS = 1_000_000   # below this, one thread
_SUN_STEP_S = 6 * 3600.0        # Sun samples for the sunlit flag (see _run)
_TRIM_ROWS = 100_000            # fewer rows leave too little freed heap to trim (~0.5 ms a trim)


# ---------------------------------------------------------------------------------------
# The pass table
# ---------------------------------------------------------------------------------------
class PassTable(Tabular):
    """Passes as column arrays, one row per (satellite, station, pass), ordered by AOS.

    ``satellite`` (str), ``norad_id`` (int64), ``station`` (str), ``satellite_index`` /
    ``station_index`` (int64, positions in the inputs), ``aos_utc`` / ``tca_utc`` /
    ``los_utc`` (``datetime64[ns]``), ``duration_s``, ``max_elevation_deg``,
    ``aos_azimuth_deg`` / ``tca_azimuth_deg`` / ``los_azimuth_deg`` (float64),
    ``orbit_number`` (int64, -1 if unknown), ``sunlit_at_tca`` (bool), ``truncated``
    (``none|start|end|both``), ``status`` (``ok`` or the reason a pass was cut), all ``(n,)``.
    ``problems``: one line per satellite whose propagation failed. ``start`` / ``end``: the
    window (``datetime64[ns]``). See the module docstring for the CSV / JSON contract.
    ``codes``: optional ``{column: (index (n,), labels)}`` for string columns that are
    ``labels[index]``, from which :meth:`table` builds them without a Python string each.
    """

    _ARRAYS = ("satellite", "norad_id", "station", "satellite_index", "station_index",
               "aos_utc", "tca_utc", "los_utc", "duration_s", "max_elevation_deg",
               "aos_azimuth_deg", "tca_azimuth_deg", "los_azimuth_deg", "orbit_number",
               "sunlit_at_tca", "truncated", "status")

    def __init__(self, columns: dict, problems=(), start=None, end=None, stats=None, codes=None):
        n = len(columns["aos_utc"])
        for name in self._ARRAYS:
            value = np.asarray(columns[name])
            if value.shape != (n,):
                raise GroundsegError(f"column {name} has shape {value.shape}, expected ({n},)")
            setattr(self, name, value)
        self.problems = list(problems)
        self.start, self.end = start, end
        self.stats = dict(stats or {})
        self._codes = dict(codes or {})

    def __len__(self) -> int:
        return self.aos_utc.shape[0]

    def __repr__(self) -> str:
        return f"PassTable({len(self)} passes, {len(self.problems)} problems)"

    def take(self, index) -> "PassTable":
        """Rows selected by an index array or boolean mask."""
        try:
            cols = {k: getattr(self, k)[index] for k in self._ARRAYS}
        except IndexError as exc:
            raise GroundsegError(f"pass rows: {exc}") from None
        codes = {k: (i[index], labels) for k, (i, labels) in self._codes.items()}
        return PassTable(cols, self.problems, self.start, self.end, self.stats, codes)

    def select(self, satellite=None, station=None) -> "PassTable":
        """Rows of one satellite (name or NORAD id) and / or one station (name)."""
        keep = np.ones(len(self), dtype=bool)
        if satellite is not None:
            key = str(satellite)
            keep &= (self.satellite == key) | (self.norad_id.astype(str) == key)
        if station is not None:
            keep &= self.station == str(station)
        return self.take(keep)

    def table(self, columns=PASS_CSV_COLUMNS) -> Table:
        """The rows as a :class:`groundseg.table.Table`; ``columns="all"`` adds
        ``orbit_number`` and ``status``."""
        if isinstance(columns, str):
            if columns != "all":
                raise GroundsegError(f"columns must be a list of names or 'all', got {columns!r}")
            columns = PASS_COLUMNS
        cols = {}
        for name in columns:
            if name not in PASS_COLUMNS:
                raise GroundsegError(f"unknown pass column {name!r}")
            if name in self._codes:
                index, labels = self._codes[name]
                cols[name] = pa.array(labels, pa.string()).take(pa.array(index))
            else:
                cols[name] = getattr(self, name)
        return Table(cols, _FORMATS)

    def to_csv(self, path=None, columns=PASS_CSV_COLUMNS) -> str:
        """CSV text (the contract of the module docstring); also written to ``path``."""
        return self.table(columns).to_csv(path)

    def to_json(self, path=None, columns=PASS_CSV_COLUMNS, indent=None) -> str:
        """JSON list of row objects (same keys as the CSV); also written to ``path``."""
        return self.table(columns).to_json(path, indent=indent)

    def records(self, columns=PASS_COLUMNS) -> list[dict]:
        return self.table(columns).records()


def default_step_s(constellation: Constellation) -> float:
    """The shortest of the satellites' grid steps (:func:`groundseg.pass_jobs.satellite_steps_s`:
    240 s for LEO, MEO and GEO, 120 s for GTO and Molniya orbits)."""
    if not constellation.satrecs:
        return MAX_STEP_S
    return float(satellite_steps_s(constellation.satrecs).min())


def _run(satrecs, names, norad_ids, grids, grid_of_sat, stations, *, tol_s, chunk_size,
         workers, client=None, progress=None, states=None):
    """Shared driver: the satellites on ``grids`` (``grid_of_sat`` ``(n_sat,)``), in chunks
    (:mod:`groundseg.pass_jobs`) run in this process (``workers`` threads: NumPy and the root
    finders release the GIL for most of the work; SGP4 itself does not) or on a Dask
    ``client``; ``states(index)``: ``(r, v, status)`` of an ephemeris, else SGP4 runs."""
    tol_s = positive_number(tol_s, "time tolerance tol_s")
    if chunk_size is not None:
        chunk_size = _count(chunk_size, "chunk_size")
    if workers is not None:
        workers = _count(workers, "workers")
    sites = Horizons(stations)
    for times in grids:
        if len(times) < 2 or not times.seconds[-1] > 0:
            raise GroundsegError("the window must have positive length")
    span = grids[0].seconds[-1]
    # The Sun's direction turns 0.04 deg an hour, smoothly: 6-hour samples, linearly
    # interpolated, stay within 1e-7 rad of it (checked against 1-minute samples over 30 days).
    sun_times = TimeGrid.from_seconds(grids[0].datetime64()[0], np.unique(np.append(
        np.arange(0.0, span, _SUN_STEP_S), span)))
    ctx = PassContext(grids, sites, (sun_times.seconds, sun_position_km(sun_times, "teme")), tol_s)
    if workers is None:
        work = sum(len(g) * np.count_nonzero(grid_of_sat == i) for i, g in enumerate(grids))
        workers = _default_threads(work * len(sites))
    if chunk_size is None and workers > 1 and client is None:
        # One chunk per thread where memory allows (and 16 satellites per chunk): on 100 x 10
        # x 3 days, 4 chunks on 2 threads took 0.17-0.19 s, 2 chunks 0.14-0.16 s.
        by_memory = _MAX_ELEMENTS // max(1, max(len(g) for g in grids) * len(sites))
        by_workers = -(-len(satrecs) // workers)
        chunk_size = max(1, min(by_memory, max(by_workers, 16)))
    tasks = plan_tasks(satrecs, names, norad_ids, grids, grid_of_sat, len(sites), chunk_size,
                       states)
    parts = _Parts()
    run_tasks(run_chunk, tasks, shared=(ctx,), client=client, progress=progress,
              threads=workers, consume=parts.add)
    return _assemble(parts.columns(), names, norad_ids, stations, grids[0], parts.problems,
                     parts.stats)


def _default_threads(elements: int) -> int:
    """Threads for a job of ``elements`` (satellite x time x station): one for small jobs,
    and one while the CPUs are busy (1-minute load average within half a CPU of their
    number): SGP4 holds the GIL, and a thread descheduled while holding it stalls the
    others, so two threads sharing busy CPUs took longer than one (medians 0.36-0.42 s
    against 0.24-0.29 s on the benchmark's 100 x 10 x 3 days at load 3 on 2 CPUs)."""
    cpus = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):      # pragma: no cover - no load average here
        load = 0.0
    if elements < _PARALLEL_ELEMENTS or load > cpus - 0.5:
        return 1
    return min(4, cpus)


class _Parts:
    """The tasks' rows as they arrive, merged into blocks of about ``_BLOCK_ROWS`` (each
    task's message is freed once merged), then into one array per column: resident memory
    stays near the rows' own size."""

    def __init__(self):
        self.pending, self.blocks, self.rows = [], [], 0
        self.problems = {}
        self.stats = dict(candidate_intervals=0, brackets=0, unmatched=0, sgp4_calls=0)

    def add(self, _index, result) -> None:
        part, problems = result
        self.problems.update(problems)
        part["candidate_intervals"] = part.pop("candidates")
        for key in self.stats:
            self.stats[key] += part.pop(key)
        self.pending.append(part)
        self.rows += part["aos"].size
        if self.rows >= _BLOCK_ROWS:
            self._merge()

    def _merge(self) -> None:
        if self.pending:
            self.blocks.append(_concatenate(self.pending))
            if self.rows >= _TRIM_ROWS:
                trim_memory()
            self.rows = 0

    def columns(self) -> dict:
        self._merge()
        big = sum(block["aos"].size for block in self.blocks) >= _TRIM_ROWS
        return _concatenate(self.blocks, trim=big)


def _concatenate(parts: list, trim: bool = False) -> dict:
    """One dict of columns from a list of them, emptying the list column by column (with
    ``trim``, the heap trimmed after each: the parts' arrays own their memory)."""
    out = {}
    for key in list(parts[0]):
        out[key] = np.concatenate([p.pop(key) for p in parts])
        if trim:
            trim_memory()
    parts.clear()
    return out


def _count(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise GroundsegError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def _assemble(cols, names, norad_ids, stations, times: TimeGrid, problems, stats) -> PassTable:
    """The table from the tasks' columns (each task's rows already in AOS order), one column
    at a time: memory stays near the table's own size."""
    order = aos_order(cols["aos"], cols["station"], cols["sat"])
    big = order.size >= _TRIM_ROWS
    for key in cols:
        cols[key] = cols[key][order]
    del order
    if big:
        trim_memory()
    start = times.datetime64()[0].astype("datetime64[ns]").astype(np.int64)

    def utc(key):
        ns = cols.pop(key) * 1e9
        np.round(ns, out=ns)
        out = ns.astype(np.int64)
        out += start
        return out.view("datetime64[ns]")

    sat, station = cols.pop("sat"), cols.pop("station")
    cut_start = cols["aos_kind"] == DATA_EDGE
    cut_end = cols["los_kind"] == DATA_EDGE
    code = (cols.pop("aos_kind") != CROSSING).view(np.uint8)            # 1 start + 2 end
    code += (cols.pop("los_kind") != CROSSING).view(np.uint8) << 1
    truncated = _TRUNCATED[code]
    status = np.full(sat.size, "ok", dtype=object)
    for i in np.flatnonzero(cut_start | cut_end):
        why = problems.get(int(sat[i]), ("", "propagation failed"))[1]
        status[i] = f"cut by propagation failure: {why}"
    del cut_start, cut_end
    station_names = [s.name for s in stations]
    out = dict(
        satellite=np.array(names, dtype=object)[sat],
        norad_id=np.asarray(norad_ids, dtype=np.int64)[sat],
        station=np.array(station_names, dtype=object)[station],
        satellite_index=sat.astype(np.int64, copy=False),
        station_index=station.astype(np.int64, copy=False),
        duration_s=cols["los"] - cols["aos"],
        aos_utc=utc("aos"), tca_utc=utc("tca"), los_utc=utc("los"),
        max_elevation_deg=np.degrees(cols["el_max"], out=cols.pop("el_max")),
        aos_azimuth_deg=np.degrees(cols["az_aos"], out=cols.pop("az_aos")),
        tca_azimuth_deg=np.degrees(cols["az_tca"], out=cols.pop("az_tca")),
        los_azimuth_deg=np.degrees(cols["az_los"], out=cols.pop("az_los")),
        orbit_number=cols.pop("orbit"), sunlit_at_tca=cols.pop("sunlit").astype(bool, copy=False),
        truncated=truncated, status=status,
    )
    lines = [problems[k][0] for k in sorted(problems)]
    if stats.get("unmatched"):
        lines.append(f"{stats['unmatched']} visibility crossings could not be paired into passes")
    codes = {"satellite": (sat, list(names)), "station": (station, station_names),
             "truncated": (code, list(_TRUNCATED))}
    return PassTable(out, lines, times.datetime64()[0], times.datetime64()[-1], stats, codes)


def _window(start, end):
    t0 = parse_utc(start)[0]
    t1 = parse_utc(end)[0]
    if t1 < t0:
        raise GroundsegError(f"end {format_utc(t1)[0]} is before start {format_utc(t0)[0]}")
    if t1 == t0:
        raise GroundsegError(f"window {format_utc(t0)[0]} .. {format_utc(t1)[0]} has zero length")
    return t0, t1


def predict_passes(constellation: Constellation, stations, start, end, *,
                   min_elevation_deg: float | None = None, step_s: float | None = None,
                   tol_s: float = 1e-3, chunk_size: int | None = None,
                   workers: int | None = None, client=None, progress=None) -> PassTable:
    """Every pass of every satellite over every station between ``start`` and ``end``.

    ``stations``: :class:`~groundseg.stations.Station` objects (each with its minimum
    elevation and optional mask); ``min_elevation_deg`` overrides every station's minimum
    (masks still apply). ``step_s``: one coarse SGP4 grid for every satellite (default: each
    satellite its own, :func:`groundseg.pass_jobs.satellite_steps_s`); ``tol_s``: time
    tolerance of AOS / TCA / LOS. Satellites are processed in chunks (``chunk_size``,
    default: whatever keeps the per-chunk arrays around 50 MB), on ``workers`` threads or on
    a ``dask.distributed`` ``client`` (same results); ``progress(done, total)`` is called as
    chunks finish. Returns a :class:`PassTable`; satellites whose propagation fails are
    listed in ``.problems`` instead of raising.
    """
    if not isinstance(constellation, Constellation):
        raise GroundsegError(f"expected a Constellation, got {type(constellation).__name__}")
    if len(constellation) == 0:
        raise GroundsegError("constellation is empty")
    stations = prepare_stations(stations, min_elevation_deg)
    t0, t1 = _window(start, end)
    satrecs = constellation.satrecs
    if step_s is None:
        steps = satellite_steps_s(satrecs)
    else:
        try:
            step = float(step_s)
        except (TypeError, ValueError):
            step = float("nan")
        if not 0 < step <= 600:
            raise GroundsegError(f"grid step must be in (0, 600] s, got {step_s}")
        steps = np.full(len(satrecs), step)
    values, grid_of_sat = np.unique(-steps, return_inverse=True)       # longest step first
    grids = [TimeGrid.range(t0, t1, -x) for x in values]
    table = _run(satrecs, constellation.names, constellation.norad_ids, grids,
                 grid_of_sat.reshape(-1), stations, tol_s=tol_s, chunk_size=chunk_size,
                 workers=workers, client=client, progress=progress)
    table.problems[:0] = constellation.stale_elements(t0, STALE_AGE_DAYS)
    return table


def passes_from_ephemeris(ephemeris: Ephemeris, stations, *, min_elevation_deg=None,
                          tol_s: float = 1e-3, chunk_size: int | None = None,
                          workers: int | None = None, client=None, progress=None) -> PassTable:
    """Passes over the span of an existing :class:`~groundseg.orbits.Ephemeris` (no SGP4 call).

    The ephemeris grid must be increasing with steps of at most 240 s (the interpolation's
    accuracy); the window is its first to last time. Options as :func:`predict_passes`.
    """
    if not isinstance(ephemeris, Ephemeris):
        raise GroundsegError(f"expected an Ephemeris, got {type(ephemeris).__name__}")
    stations = prepare_stations(stations, min_elevation_deg)
    times = ephemeris.times
    grid = times.seconds
    if len(times) < 2:
        raise GroundsegError("pass prediction needs an ephemeris with at least two times")
    steps = np.diff(grid)
    if np.any(steps <= 0):
        raise GroundsegError("ephemeris times must be strictly increasing")
    if steps.max() > MAX_STEP_S + 1e-6:
        raise GroundsegError(f"ephemeris grid step {steps.max():g} s is too coarse for pass "
                             f"prediction (at most {MAX_STEP_S:g} s)")
    c = ephemeris.constellation

    def states(index):
        return (ephemeris.position_km[index], ephemeris.velocity_km_s[index],
                ephemeris.status[index])

    return _run(c.satrecs, c.names, c.norad_ids, [times], np.zeros(len(c), dtype=np.int64),
                stations, tol_s=tol_s, chunk_size=chunk_size, workers=workers, client=client,
                progress=progress, states=states)
