"""Constellations, SGP4 over satellites x times in one call, frames, Hermite interpolation.

``Constellation.propagate(times)`` evaluates sgp4's ``SatrecArray`` once for every
(satellite, time) and returns an :class:`Ephemeris` holding TEME arrays
``(n_sat, n_time, 3)`` (km, km/s) plus sgp4's per-element error codes. Failed elements
are NaN; nothing raises mid-batch. Other frames are derived from those arrays:

- ITRS: TEME rotated by GMST-1982 with UT1, then by polar motion (both from the IERS data
  described in :mod:`groundseg.timegrid`), velocity with the ``omega x r`` term. This is
  AIAA 2006-6753's TEME -> ITRF and what skyfield computes with the same timescale.
- GCRS: skyfield's TEME -> GCRS rotation.
- geodetic WGS84 and ground tracks.

Between grid samples the state is smooth: :func:`hermite` interpolates cubic Hermite
polynomials from positions and velocities (sub-metre at 60 s spacing in LEO). Interpolate
in TEME (inertial) and rotate afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Sequence

import numpy as np
from sgp4.api import SatrecArray

from . import budget
from . import catalog as _catalog
from .earth import (EARTH_ROTATION_RAD_S, J2_EARTH, MU_EARTH_KM3_S2, WGS84_A_KM, Geodetic,
                    GroundPoints, Topocentric, ecef_to_geodetic, topocentric)
from .errors import GroundsegError
from .interpolation import hermite
from .table import Table
from .timegrid import TimeGrid, _datetime64_from_jd, _float_array, format_utc

__all__ = [
    "Constellation", "Ephemeris", "SGP4_ERRORS", "WARN_AGE_DAYS", "STALE_AGE_DAYS", "as_timegrid",
    "hermite",
    "teme_to_itrs", "sun_synchronous_inclination_deg",
]

SGP4_ERRORS = {
    0: "ok",
    1: "mean eccentricity out of range 0 <= e < 1",
    2: "mean motion below zero",
    3: "perturbed eccentricity out of range 0 <= e <= 1",
    4: "semi-latus rectum below zero",
    5: "epoch elements are sub-orbital",
    6: "satellite has decayed",
    7: "state is not a finite number",
}
DECAYED = 6
NON_FINITE = 7
#: Element age (days between epoch and window start) beyond which commands warn, and beyond
#: which pass predictions list the satellite among their problems.
WARN_AGE_DAYS, STALE_AGE_DAYS = 14.0, 90.0
_MIN_PER_DAY = 1440.0
#: Bytes per (satellite, time) state: TEME r and v (float64) and sgp4's status byte, rounded up.
STATE_BYTES = 56
_TROPICAL_YEAR_S = 365.2421897 * 86400.0


def as_timegrid(times) -> TimeGrid:
    """A TimeGrid from a TimeGrid, UTC instants, or a ``(jd, fr)`` tuple of arrays."""
    if isinstance(times, TimeGrid):
        return times
    if isinstance(times, tuple) and len(times) == 2 and not isinstance(times[0], str):
        return TimeGrid.from_jd(*times)
    return TimeGrid.from_utc(times)


def teme_to_itrs(position_km, velocity_km_s, gmst_rad, gmst_rate_rad_s=EARTH_ROTATION_RAD_S,
                 polar_motion=None):
    """Rotate TEME states ``(n_sat, n_time, 3)`` to ITRS.

    ``gmst_rad``: ``(n_time,)``; ``polar_motion``: ``(n_time, 3, 3)`` pseudo-Earth-fixed ->
    ITRS matrices, or None. Velocity includes ``-omega x r``. Per time, r' = M r and
    v' = M v + N r with M = W R3(gmst), N = -omega W S R3(gmst), S the cross-product matrix
    of the z axis; applied as one batched matrix product over time (the results are
    time-major arrays seen through ``(n_sat, n_time, 3)`` views).
    """
    r = np.asarray(position_km, dtype=float)
    v = np.asarray(velocity_km_s, dtype=float)
    theta = np.broadcast_to(np.asarray(gmst_rad, dtype=float), r.shape[-2:-1])
    w = np.broadcast_to(np.asarray(gmst_rate_rad_s, dtype=float), theta.shape)
    c, s = np.cos(theta), np.sin(theta)
    zero, one = np.zeros_like(c), np.ones_like(c)
    R3 = np.stack([np.stack([c, s, zero], -1), np.stack([-s, c, zero], -1),
                   np.stack([zero, zero, one], -1)], -2)
    # -omega S R3: rows (omega * R3[1], -omega * R3[0], 0).
    N = np.stack([w[:, None] * R3[:, 1], -w[:, None] * R3[:, 0], np.zeros_like(R3[:, 0])], -2)
    if polar_motion is not None:
        R3 = np.matmul(polar_motion, R3)
        N = np.matmul(polar_motion, N)
    rt = np.swapaxes(r, -3, -2) if r.ndim == 3 else r
    vt = np.swapaxes(v, -3, -2) if v.ndim == 3 else v
    MT, NT = np.swapaxes(R3, -1, -2), np.swapaxes(N, -1, -2)
    out_r = np.matmul(rt, MT)
    out_v = np.matmul(vt, MT) + np.matmul(rt, NT)
    if r.ndim == 3:
        out_r, out_v = np.swapaxes(out_r, 0, 1), np.swapaxes(out_v, 0, 1)
    return out_r, out_v


def sun_synchronous_inclination_deg(altitude_km: float, eccentricity: float = 0.0) -> float:
    """Inclination whose J2 nodal regression follows the mean Sun (deg)."""
    a = WGS84_A_KM + altitude_km
    n = np.sqrt(MU_EARTH_KM3_S2 / a**3)
    rate = 2 * np.pi / _TROPICAL_YEAR_S
    cos_i = -rate / (1.5 * n * J2_EARTH * (WGS84_A_KM / a) ** 2 / (1 - eccentricity**2) ** 2)
    if not -1.0 <= cos_i <= 1.0:
        raise GroundsegError(f"no sun-synchronous orbit at altitude {altitude_km} km")
    return float(np.degrees(np.arccos(cos_i)))


def _mean_motion_rev_day(altitude_km: float) -> float:
    a = WGS84_A_KM + altitude_km
    return float(np.sqrt(MU_EARTH_KM3_S2 / a**3) * 86400.0 / (2 * np.pi))


def _check_count(n, first_norad_id) -> None:
    """Before building ``n`` records: their NORAD ids must fit a TLE (up to 339999)."""
    for name, value in (("satellite count", n), ("first NORAD id", first_norad_id)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise GroundsegError(f"{name} must be an integer, got {value!r}")
    if first_norad_id + n - 1 > 339999:
        raise GroundsegError(f"{n} satellites from NORAD id {first_norad_id} pass 339999, "
                             "the last id a TLE holds")


class Constellation:
    """A set of satellites propagated together (sgp4 ``SatrecArray``).

    ``names`` (list of str), ``norad_ids`` (int64 ``(n_sat,)``), ``satrecs``. Build with
    :meth:`from_file`, :meth:`from_records`, :meth:`walker`, :meth:`sun_synchronous`,
    :meth:`formosat8`, :meth:`synthetic_catalogue`. ``catalog_errors`` lists records a file reader rejected.
    """

    def __init__(self, records: Sequence, catalog_errors: Sequence = ()):
        self.records = list(records)
        self.names = [r.name or str(r.norad_id) for r in self.records]
        self.norad_ids = np.array([r.norad_id for r in self.records], dtype=np.int64)
        self.satrecs = [r.satrec for r in self.records]
        self.catalog_errors = list(catalog_errors)
        self._array = SatrecArray(self.satrecs) if self.satrecs else None

    # -- constructors -----------------------------------------------------
    @classmethod
    def from_records(cls, records) -> "Constellation":
        records = list(records)
        if not all(isinstance(r, _catalog.CatalogRecord) for r in records):
            raise GroundsegError("from_records needs CatalogRecord objects (see groundseg.catalog)")
        return cls(records)

    @classmethod
    def from_file(cls, path, *, strict: bool = False) -> "Constellation":
        """From a TLE or OMM (JSON / CSV / XML) file; the format is detected from content."""
        cat = _catalog.load_catalog(path, strict=strict)
        if not cat.records:
            detail = f": {cat.errors[0]}" if cat.errors else ""
            raise GroundsegError(f"{path}: no valid satellite records{detail}")
        return cls(cat.records, cat.errors)

    from_tle_file = from_file
    from_omm = from_file

    @classmethod
    def walker(cls, inclination_deg: float, total: int, planes: int, phasing: int,
               altitude_km: float, epoch, *, raan0_deg: float = 0.0,
               first_norad_id: int = 90001, name_prefix: str = "WALKER",
               eccentricity: float = 0.0, arg_perigee_deg: float = 0.0) -> "Constellation":
        """Walker delta ``i:T/P/F``: ``planes`` planes evenly spread over 360 deg of RAAN,
        ``total / planes`` satellites per plane, phase offset ``phasing * 360 / total`` deg
        between adjacent planes."""
        _check_count(total, first_norad_id)
        if total <= 0 or planes <= 0 or total % planes:
            raise GroundsegError(f"Walker T/P/F needs T a positive multiple of P (T={total}, P={planes})")
        if not 0 <= phasing < planes:
            raise GroundsegError(f"Walker phasing F must be in 0..P-1 (F={phasing}, P={planes})")
        per_plane = total // planes
        elements = []
        for p in range(planes):
            for k in range(per_plane):
                elements.append(dict(
                    raan_deg=raan0_deg + 360.0 * p / planes,
                    mean_anomaly_deg=360.0 * k / per_plane + 360.0 * phasing * p / total,
                ))
        return cls._from_circular(elements, inclination_deg, altitude_km, epoch,
                                  first_norad_id, name_prefix, eccentricity, arg_perigee_deg)

    @classmethod
    def sun_synchronous(cls, n: int, altitude_km: float, epoch, *, ltan_h: float | None = None,
                        ltdn_h: float | None = None, planes: int = 1, phasing: int = 0,
                        plane_spacing_h: float | None = None, solar_time: str = "mean",
                        first_norad_id: int = 90001, name_prefix: str = "SSO",
                        eccentricity: float = 0.0, arg_perigee_deg: float = 0.0) -> "Constellation":
        """``n`` satellites in sun-synchronous orbit(s) at ``altitude_km``.

        The first plane's node is at local time ``ltan_h`` (ascending) or ``ltdn_h``
        (descending; LTAN = LTDN + 12 h), in hours; further planes are ``plane_spacing_h``
        apart in local time (default: 12 h / planes, spanning the day side). Inclination from
        J2; RAAN = right ascension of the Sun + 15 deg/h x (LTAN - 12 h) at epoch, with the
        mean Sun (``solar_time='mean'``, the usual mission definition) or the true Sun.
        """
        if (ltan_h is None) == (ltdn_h is None):
            raise GroundsegError("give exactly one of ltan_h / ltdn_h")
        ltan = ltan_h if ltan_h is not None else (ltdn_h + 12.0) % 24.0
        if not 0.0 <= ltan < 24.0:
            raise GroundsegError(f"local time of node must be in [0, 24) h, got {ltan}")
        _check_count(n, first_norad_id)
        if n <= 0 or planes <= 0 or n % planes:
            raise GroundsegError(f"{n} satellites cannot be split evenly over {planes} planes")
        spacing = 12.0 / planes if plane_spacing_h is None else plane_spacing_h
        sun_ra = _sun_right_ascension_deg(epoch, solar_time)
        inc = sun_synchronous_inclination_deg(altitude_km, eccentricity)
        per_plane = n // planes
        elements = []
        for p in range(planes):
            raan = sun_ra + 15.0 * (ltan + p * spacing - 12.0)
            for k in range(per_plane):
                elements.append(dict(
                    raan_deg=raan % 360.0,
                    mean_anomaly_deg=360.0 * k / per_plane + 360.0 * phasing * p / n,
                ))
        return cls._from_circular(elements, inc, altitude_km, epoch,
                                  first_norad_id, name_prefix, eccentricity, arg_perigee_deg)

    @classmethod
    def formosat8(cls, epoch) -> "Constellation":
        """The bundled FORMOSAT-8-like constellation, generated at ``epoch``.

        A synthetic approximation, not operational elements: 8 satellites evenly phased in
        one sun-synchronous plane at 561 km, descending node at 10:30 mean local time,
        NORAD ids 99801-99808 (a range no real object of this kind uses), names FS8-1..8.
        """
        return cls.sun_synchronous(8, 561.0, epoch, ltdn_h=10.5, first_norad_id=99801,
                                   name_prefix="FS8-")

    @classmethod
    def synthetic_catalogue(cls, n: int, epoch, *, seed: int = 0,
                            first_norad_id: int = 100001) -> "Constellation":
        """``n`` objects with the public catalogue's mix of LEO, MEO, GEO and HEO orbits
        (:mod:`groundseg.synthetic_catalogue`), all with epoch ``epoch``; depends only on
        ``seed``."""
        from .synthetic_catalogue import synthetic_catalogue
        grid = as_timegrid(epoch if not isinstance(epoch, TimeGrid) else epoch[:1])
        return cls(synthetic_catalogue(n, float(grid.jd[0]), float(grid.fr[0]), seed=seed,
                                       first_norad_id=first_norad_id))

    @classmethod
    def _from_circular(cls, elements, inclination_deg, altitude_km, epoch, first_norad_id,
                       name_prefix, eccentricity, arg_perigee_deg):
        grid = as_timegrid(epoch if not isinstance(epoch, TimeGrid) else epoch[:1])
        jd, fr = float(grid.jd[0]), float(grid.fr[0])
        mm = _mean_motion_rev_day(altitude_km)
        sep = "" if name_prefix.endswith(("-", "_", " ")) else "-"
        records = [
            _catalog.record_from_elements(
                norad_id=first_norad_id + i, name=f"{name_prefix}{sep}{i + 1}",
                epoch_jd=jd, epoch_fr=fr, inclination_deg=inclination_deg,
                raan_deg=e["raan_deg"] % 360.0, eccentricity=eccentricity,
                arg_perigee_deg=arg_perigee_deg, mean_anomaly_deg=e["mean_anomaly_deg"] % 360.0,
                mean_motion_rev_day=mm)
            for i, e in enumerate(elements)
        ]
        return cls(records)

    # -- container behaviour ------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return f"Constellation({len(self)} satellites)"

    def index(self, name_or_id) -> int:
        """Position of a satellite given its name or NORAD id (str or int)."""
        key = str(name_or_id).strip()
        for i, (name, nid) in enumerate(zip(self.names, self.norad_ids)):
            if key == name or key == str(nid):
                return i
        lowered = key.lower()
        for i, name in enumerate(self.names):
            if lowered == name.lower():
                return i
        raise GroundsegError(f"unknown satellite {name_or_id!r} (have: {', '.join(self.names[:8])}"
                             f"{', ...' if len(self) > 8 else ''})")

    def subset(self, selection: Iterable) -> "Constellation":
        """A constellation of the chosen satellites (names, ids or positions)."""
        idx = [s if isinstance(s, (int, np.integer)) else self.index(s) for s in selection]
        return Constellation([self.records[i] for i in idx])

    def epochs(self) -> np.ndarray:
        """Element epochs, ``datetime64[ns]`` ``(n_sat,)``."""
        jd = np.array([s.jdsatepoch for s in self.satrecs], dtype=float)
        fr = np.array([s.jdsatepochF for s in self.satrecs], dtype=float)
        return _datetime64_from_jd(jd, fr)

    def stale_elements(self, at, more_than_days: float) -> list[str]:
        """One line per satellite whose elements are more than ``more_than_days`` from the
        instant ``at`` (before or after): SGP4's error grows by kilometres a day, so such
        predictions are not to be trusted. See :data:`WARN_AGE_DAYS`, :data:`STALE_AGE_DAYS`."""
        t = as_timegrid(at).datetime64()[0]
        age = (t - self.epochs()) / np.timedelta64(1, "D")
        iso = format_utc(self.epochs(), "s")
        return [f"{self.names[i]} ({self.norad_ids[i]}): elements of {iso[i]} are "
                f"{abs(age[i]):.0f} days {'before' if age[i] > 0 else 'after'} the window "
                "start: predictions are unreliable"
                for i in np.flatnonzero(np.abs(age) > more_than_days)]

    def to_tle(self) -> str:
        return _catalog.format_tle(self.records)

    def to_omm(self, fmt: str = "json") -> str:
        return _catalog.format_omm(self.records, fmt=fmt)

    # -- propagation --------------------------------------------------------
    def propagate(self, times=None, *, minutes_since_epoch=None,
                  bytes_per_state: float = STATE_BYTES) -> "Ephemeris":
        """SGP4 for every satellite at every time: an :class:`Ephemeris` ``(n_sat, n_time, 3)``.

        ``times``: TimeGrid, UTC instants, or ``(jd, fr)``. Or ``minutes_since_epoch``
        ``(n_time,)`` when every satellite shares one epoch. ``bytes_per_state``: what the
        job holds per (satellite, time), checked against the memory budget first
        (:class:`~groundseg.budget.BudgetError` with subject ``propagate``).
        """
        if minutes_since_epoch is not None:
            if times is not None:
                raise GroundsegError("give times or minutes_since_epoch, not both")
            times = self._times_since_epoch(minutes_since_epoch)
        grid = as_timegrid(times)
        if self._array is None:
            raise GroundsegError("constellation is empty")
        self.require_memory(len(grid), bytes_per_state)
        err, r, v = self._array.sgp4(grid.jd, grid.fr)
        return Ephemeris(self, grid, r, v, err)

    def require_memory(self, n_time: int, bytes_per_state: float = STATE_BYTES) -> None:
        """:class:`~groundseg.budget.BudgetError` (subject ``propagate``) when ``n_time`` states
        of every satellite, ``bytes_per_state`` each, do not fit the memory budget: what
        :meth:`propagate` checks, to be asked before a time grid is made."""
        budget.require(len(self) * n_time * max(bytes_per_state, STATE_BYTES), "propagate",
                       f"{len(self)} satellites x {n_time:,} times")

    def propagate_pieces(self, start, end, step_s: float, bytes_per_state: float = STATE_BYTES):
        """The ephemeris over ``TimeGrid.range(start, end, step_s)`` as pieces in
        satellite-major order, each within a chunk of the memory budget
        (:func:`groundseg.budget.chunk_items` of ``bytes_per_state``, what the caller holds per
        state): groups of satellites over the whole window, or, when one satellite's window
        alone is too much, one satellite at a time over consecutive stretches of it."""
        if self._array is None:
            raise GroundsegError("constellation is empty")
        per_piece = budget.chunk_items(bytes_per_state)
        n_time = TimeGrid.range_size(start, end, step_s)
        if n_time <= per_piece:
            grid = TimeGrid.range(start, end, step_s)
            k = max(1, per_piece // n_time)
            for i0 in range(0, len(self), k):
                yield self.subset(range(i0, min(len(self), i0 + k))).propagate(grid)
            return
        for i in range(len(self)):
            one = self.subset([i])
            for grid in TimeGrid.range_pieces(start, end, step_s, per_piece):
                yield one.propagate(grid)

    def _times_since_epoch(self, minutes) -> TimeGrid:
        jds = {(s.jdsatepoch, s.jdsatepochF) for s in self.satrecs}
        if len(jds) != 1:
            raise GroundsegError("minutes since epoch needs satellites with one common epoch")
        (jd, fr), = jds
        minutes = _float_array(minutes, "minutes since epoch")
        return TimeGrid(np.full(minutes.shape, jd), fr + minutes / _MIN_PER_DAY)


def _sun_right_ascension_deg(epoch, solar_time: str) -> float:
    grid = as_timegrid(epoch)[:1]
    if solar_time == "mean":
        # Mean Sun: local mean time at Greenwich is UT, so RA(mean Sun) = GMST - 15 (UT - 12 h).
        ut_h = (grid.fr[0] + (grid.jd[0] - 0.5) % 1.0) * 24.0
        return float(np.degrees(grid.gmst_rad[0]) - 15.0 * (ut_h - 12.0)) % 360.0
    if solar_time == "true":
        from .sun import sun_position_km
        s = sun_position_km(grid, "teme")[0]
        return float(np.degrees(np.arctan2(s[1], s[0]))) % 360.0
    raise GroundsegError(f"solar_time must be 'mean' or 'true', got {solar_time!r}")


@dataclass
class Ephemeris:
    """Propagated states: TEME ``position_km`` / ``velocity_km_s`` ``(n_sat, n_time, 3)``,
    sgp4 error codes ``status`` ``(n_sat, n_time)`` (0 ok; failed elements are NaN)."""

    constellation: Constellation
    times: TimeGrid
    position_km: np.ndarray
    velocity_km_s: np.ndarray
    status: np.ndarray

    def __post_init__(self):
        # sgp4 may report success for elements that overflow (a mean motion of 1e308).
        self.status[(self.status == 0) & ~np.all(np.isfinite(self.position_km), axis=-1)] = NON_FINITE
        bad = self.status != 0
        if np.any(bad):
            self.position_km[bad] = np.nan
            self.velocity_km_s[bad] = np.nan

    @property
    def shape(self) -> tuple[int, int]:
        return self.status.shape

    @property
    def ok(self) -> np.ndarray:
        """True where SGP4 succeeded, ``(n_sat, n_time)``."""
        return self.status == 0

    @property
    def decayed(self) -> np.ndarray:
        """Satellites that SGP4 reports decayed at any grid time, ``(n_sat,)``."""
        return np.any(self.status == DECAYED, axis=1)

    def errors(self) -> list[str]:
        """One line per satellite with failed elements: name, count, first time and sgp4 reason."""
        lines = []
        iso = None
        for i in np.flatnonzero(np.any(self.status != 0, axis=1)):
            j = int(np.flatnonzero(self.status[i])[0])
            iso = iso or self.times.iso()
            code = int(self.status[i, j])
            lines.append(f"{self.constellation.names[i]} ({self.constellation.norad_ids[i]}): "
                         f"{int(np.count_nonzero(self.status[i]))} of {self.shape[1]} times failed "
                         f"from {iso[j]}: {SGP4_ERRORS.get(code, code)}")
        return lines

    # -- frames -------------------------------------------------------------
    @cached_property
    def _itrs(self):
        return teme_to_itrs(self.position_km, self.velocity_km_s, self.times.gmst_rad,
                            self.times.gmst_rate_rad_s, self.times.polar_motion_matrix)

    def itrs(self) -> tuple[np.ndarray, np.ndarray]:
        """Earth-fixed position km and velocity km/s, each ``(n_sat, n_time, 3)``."""
        return self._itrs

    def gcrs(self) -> tuple[np.ndarray, np.ndarray]:
        """GCRS position km and velocity km/s (skyfield's TEME rotation), ``(n_sat, n_time, 3)``."""
        from skyfield.sgp4lib import TEME
        R = TEME.rotation_at(self.times.skyfield_time)  # (3, 3, n_time): GCRS -> TEME
        if R.ndim == 2:
            R = R[:, :, None]
        r = np.einsum("jit,stj->sti", R, self.position_km)
        v = np.einsum("jit,stj->sti", R, self.velocity_km_s)
        return r, v

    @cached_property
    def _geodetic(self) -> Geodetic:
        return ecef_to_geodetic(self.itrs()[0])

    def geodetic(self) -> Geodetic:
        """Sub-satellite WGS84 latitude / longitude (rad) and altitude (km), ``(n_sat, n_time)``."""
        return self._geodetic

    def topocentric(self, points: GroundPoints) -> Topocentric:
        """Look angles from ground points, ``(n_sat, n_site, n_time)``."""
        r, v = self.itrs()
        return topocentric(r, v, points)

    def table(self, frame: str = "teme") -> Table:
        """Rows per (satellite, time), satellite-major; failed elements are left out.

        Columns: ``satellite,norad_id,time_utc,x_km,y_km,z_km,vx_km_s,vy_km_s,vz_km_s`` for
        ``teme`` / ``itrs``; ``satellite,norad_id,time_utc,latitude_deg,longitude_deg,altitude_km``
        for ``geodetic``.
        """
        n_sat, n_time = self.shape
        s_idx, t_idx = np.nonzero(self.ok)
        cols = {
            "satellite": np.array(self.constellation.names, dtype=object)[s_idx],
            "norad_id": self.constellation.norad_ids[s_idx],
            "time_utc": self.times.datetime64()[t_idx],
        }
        if frame == "geodetic":
            geo = self.geodetic()
            cols["latitude_deg"] = np.degrees(geo.latitude_rad[s_idx, t_idx])
            cols["longitude_deg"] = np.degrees(geo.longitude_rad[s_idx, t_idx])
            cols["altitude_km"] = geo.altitude_km[s_idx, t_idx]
            fmt = {"latitude_deg": ".7f", "longitude_deg": ".7f", "altitude_km": ".6f"}
        elif frame in ("teme", "itrs"):
            r, v = (self.position_km, self.velocity_km_s) if frame == "teme" else self.itrs()
            for i, axis in enumerate("xyz"):
                cols[f"{axis}_km"] = r[s_idx, t_idx, i]
            for i, axis in enumerate("xyz"):
                cols[f"v{axis}_km_s"] = v[s_idx, t_idx, i]
            fmt = {f"{a}_km": ".6f" for a in "xyz"} | {f"v{a}_km_s": ".9f" for a in "xyz"}
        else:
            raise GroundsegError(f"unknown frame {frame!r}: use teme, itrs or geodetic")
        return Table(cols, fmt)

    # -- interpolation --------------------------------------------------------
    def interpolate(self, seconds, satellites=None) -> tuple[np.ndarray, np.ndarray]:
        """TEME states at ``seconds`` since the first grid time (Hermite between samples).

        ``satellites``: indices ``(n_sel,)`` (default all). ``seconds``: ``(m,)`` shared by the
        selected satellites, or ``(n_sel, m)``. Returns ``(n_sel, m, 3)`` position, velocity.
        """
        sats = np.arange(self.shape[0]) if satellites is None else np.asarray(satellites)
        n_sat = self.shape[0]
        if sats.size and (sats.dtype.kind not in "iu" or np.any((sats < 0) | (sats >= n_sat))):
            raise GroundsegError(f"satellites must be indices in 0..{n_sat - 1}")
        grid_s = self.times.seconds
        if grid_s.size < 2:
            raise GroundsegError("interpolation needs at least two grid times")
        t = _float_array(seconds, "seconds")
        t = np.broadcast_to(t, (sats.size,) + t.shape[-1:]) if t.ndim == 1 else t
        k = np.clip(np.searchsorted(grid_s, t, side="right") - 1, 0, grid_s.size - 2)
        h = grid_s[k + 1] - grid_s[k]
        tau = (t - grid_s[k]) / h
        s = sats[:, None]
        return hermite(self.position_km[s, k], self.velocity_km_s[s, k],
                       self.position_km[s, k + 1], self.velocity_km_s[s, k + 1], h, tau)

