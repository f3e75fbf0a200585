"""A pass prediction cut into independent tasks: grids per satellite, chunks, SGP4 states.

- **A grid per satellite.** Each satellite gets the longest step ``240 s / 2^k`` over which
  it sweeps at most 0.3 rad of its orbit at perigee (:func:`satellite_steps_s`): 240 s for
  LEO, MEO and GEO, 120 s for GTO and Molniya orbits, shorter only for more eccentric ones.
  Satellites sharing a step share a grid, so one eccentric object does not refine the grid
  of 30,000 others.
- **Chunks.** Each grid's satellites are cut into chunks whose arrays stay near 50 MB
  (``_MAX_ELEMENTS`` satellite x time x station elements); a chunk is one task: SGP4 on its
  grid, then :func:`groundseg.pass_search.chunk_passes`. A task reads nothing but its own
  satellites and the shared grid, stations and Sun samples, and every satellite's passes are
  computed on their own, so results do not depend on the chunking or on where a task runs
  (this process, threads, or a Dask worker: :mod:`groundseg.parallel`).
- **States.** SDP4's velocity leaves out the rates of its lunisolar periodic terms: for
  eccentric deep-space orbits (e >= 0.1) it is up to ~3 m/s off the derivative of SDP4's
  own position, which bends the quintic Hermite interpolation by ~90 m at 240 s. There the
  velocity at each grid time is the central difference of SDP4 positions 0.5 s either side
  (7 m at 120 s, as LEO's few metres at 240 s).
- **Transport.** sgp4's ``Satrec`` does not pickle: a task carries each satellite's
  initialisation fields, and the worker rebuilds it with ``sgp4init`` (bit-identical
  propagation for TLE and OMM records alike).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from .horizon import Horizons
from .orbits import SGP4_ERRORS
from .pass_search import PassGeometry, chunk_passes
from .revolutions import revolutions_at
from .timegrid import TimeGrid

__all__ = ["satellite_steps_s", "PassContext", "plan_tasks", "run_chunk", "aos_order", "MAX_STEP_S"]

MAX_STEP_S = 240.0
_PERIGEE_SWEEP_RAD = 0.3       # orbit angle swept at perigee in one step, at most
_MIN_STEP_S = MAX_STEP_S / 32
_MAX_ELEMENTS = 2_000_000      # satellites x times x stations per chunk (memory)
_DERIVED_VELOCITY_ECC = 0.1    # deep-space orbits at least this eccentric: velocity from positions
_JD_1949 = 2433281.5
_FIELDS = ("satnum", "jdsatepoch", "jdsatepochF", "bstar", "ndot", "nddot", "ecco", "argpo",
           "inclo", "mo", "no_kozai", "nodeo")


def satellite_steps_s(satrecs) -> np.ndarray:
    """Grid step per satellite ``(n_sat,)``: the longest ``240 s / 2^k`` (at least 7.5 s)
    over which it sweeps at most 0.3 rad at perigee, where its angular rate is
    ``n sqrt(1 + e) / (1 - e)^1.5``; 240 s for elements SGP4 cannot use."""
    n = np.array([s.no_kozai for s in satrecs], dtype=float) / 60.0        # rad/s
    e = np.array([s.ecco for s in satrecs], dtype=float)
    ok = (n > 0) & (e >= 0) & (e < 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(ok, n * np.sqrt(1 + e) / (1 - e) ** 1.5, 0.0)
        k = np.ceil(np.log2(np.maximum(rate * MAX_STEP_S / _PERIGEE_SWEEP_RAD, 1.0)))
    return np.maximum(MAX_STEP_S / 2.0 ** k, _MIN_STEP_S)


def _fields(satrec) -> tuple:
    return tuple(getattr(satrec, f) for f in _FIELDS) + (getattr(satrec, "revnum", 0),)


def _satrec(fields) -> Satrec:
    """A Satrec from :func:`_fields` (sgp4init with the original epoch split)."""
    (satnum, jd, jd_f, bstar, ndot, nddot, ecco, argpo, inclo, mo, no, nodeo, revnum) = fields
    s = Satrec()
    s.sgp4init(WGS72, "i", satnum, (jd - _JD_1949) + jd_f, bstar, ndot, nddot, ecco, argpo,
               inclo, mo, no, nodeo)
    s.revnum = revnum
    return s


def sgp4_states(satrecs, times: TimeGrid):
    """TEME ``r``, ``v`` ``(n_sat, n_time, 3)`` (NaN where SGP4 fails) and SGP4's error
    codes ``(n_sat, n_time)``; velocities of eccentric deep-space orbits from positions
    (module docstring)."""
    err, r, v = SatrecArray(satrecs).sgp4(times.jd, times.fr)
    fd = [i for i, s in enumerate(satrecs)
          if s.method == "d" and s.ecco >= _DERIVED_VELOCITY_ECC]
    if fd:
        sub = SatrecArray([satrecs[i] for i in fd])
        half = 0.5 / 86400.0
        e_p, r_p, _ = sub.sgp4(times.jd, times.fr + half)
        e_m, r_m, _ = sub.sgp4(times.jd, times.fr - half)
        v[fd] = r_p - r_m
        err[fd] = np.where(err[fd] != 0, err[fd], np.maximum(e_p, e_m))
    bad = err != 0
    if np.any(bad):
        r[bad] = np.nan
        v[bad] = np.nan
    return r, v, err


@dataclass
class PassContext:
    """What every task reads: the grids (one per step), the stations, the Sun's samples
    ``(times_s, (n, 3) km TEME)`` and the time tolerance."""

    grids: list
    sites: Horizons
    sun_teme: tuple
    tol_s: float


@dataclass
class ChunkTask:
    """One chunk: satellites ``index`` ``(m,)`` (positions in the job) on grid ``grid``;
    their ``fields`` (to rebuild Satrecs), ``names``, ``norad_ids``; ``states``: ``(r, v,
    status)`` when given (an ephemeris), else None (SGP4 runs in the task); ``satrecs``: the
    Satrecs themselves, used where the task runs in this process and dropped when it is
    pickled (Satrec does not pickle; a worker rebuilds them from ``fields``)."""

    grid: int
    index: np.ndarray
    fields: list
    names: list
    norad_ids: np.ndarray
    states: tuple | None = None
    satrecs: list | None = None

    def __getstate__(self):
        return {**self.__dict__, "satrecs": None}


def plan_tasks(satrecs, names, norad_ids, grids, grid_of_sat, n_site, chunk_size=None,
               states=None) -> list:
    """Chunks of the satellites on each grid (``grid_of_sat``: ``(n_sat,)`` index into
    ``grids``); ``states(index)`` gives ``(r, v, status)`` for an ephemeris."""
    tasks = []
    for g, times in enumerate(grids):
        idx = np.flatnonzero(grid_of_sat == g)
        size = chunk_size or max(1, _MAX_ELEMENTS // max(1, len(times) * n_site))
        for c0 in range(0, idx.size, size):
            sel = idx[c0:c0 + size]
            own = [satrecs[i] for i in sel]
            tasks.append(ChunkTask(g, sel, [_fields(s) for s in own], [names[i] for i in sel],
                                   np.asarray(norad_ids)[sel],
                                   None if states is None else states(sel), own))
    return tasks


def run_chunk(ctx: PassContext, task: ChunkTask):
    """The passes of one chunk (a dict of arrays, satellites as job positions, rows in
    (AOS, station, satellite) order) and its problems (``{position: (line, reason)}``)."""
    times = ctx.grids[task.grid]
    satrecs = task.satrecs or [_satrec(f) for f in task.fields]
    r, v, status = sgp4_states(satrecs, times) if task.states is None else task.states
    problems = _problem_lines(task.names, task.norad_ids, task.index, status, times)
    U_start, mean_rate = revolutions_at(satrecs, times.jd[0], times.fr[0])
    geo = PassGeometry(r, v, times.seconds, times.gmst_rad, times.gmst_rate_rad_s, ctx.sites,
                       times.polar_motion_matrix)
    revnum = np.array([s.revnum for s in satrecs], dtype=float)
    isolate = np.array([s.method == "d" or s.ecco > 0.12 for s in satrecs])
    part = chunk_passes(geo, status, revnum, ctx.sun_teme, U_start, mean_rate, ctx.tol_s,
                        isolate)
    part["sat"] = task.index[part["sat"]]
    counters = {key: part.pop(key) for key in ("unmatched", "candidates", "brackets")}
    order = aos_order(part["aos"], part["station"], part["sat"])         # the job's row order
    part = {key: value[order] for key, value in part.items()}
    part.update(counters)
    part["sgp4_calls"] = r.shape[0] * r.shape[1]
    return part, problems


def _problem_lines(names, norad_ids, index, status, times: TimeGrid) -> dict:
    lines = {}
    bad = np.flatnonzero(np.any(status != 0, axis=1))
    iso = times.iso() if bad.size else None
    for i in bad:
        j = int(np.flatnonzero(status[i])[0])
        code = int(status[i, j])
        n_bad = int(np.count_nonzero(status[i]))
        what = SGP4_ERRORS.get(code, f"sgp4 error {code}")
        lines[int(index[i])] = (f"{names[i]} ({norad_ids[i]}): {what} from {iso[j]} "
                                f"({n_bad} of {status.shape[1]} grid times failed); no passes "
                                f"predicted while propagation fails"), what
    return lines


def aos_order(aos, station, sat):
    """The permutation putting rows in (AOS, station, satellite) order. The rows come in
    runs already in AOS order (a task's rows, a pair's passes), which a stable sort by AOS
    merges; rows sharing their AOS with another (passes open at the window's start) are then
    put in (station, satellite) order among themselves."""
    order = np.argsort(aos, kind="stable")
    a = aos[order]
    same = a[1:] == a[:-1]
    tie = np.zeros(a.size, dtype=bool)
    tie[1:] = same
    tie[:-1] |= same
    i = np.flatnonzero(tie)
    if i.size:
        sub = order[i]
        order[i] = sub[np.lexsort((sat[sub], station[sub], aos[sub]))]
    return order
