"""Antenna tracking: azimuth / elevation / range / range rate and Doppler of one satellite
from one station, row by row through a pass (``groundseg track``).

SGP4 is evaluated at every row (a pass is short), so range rate is SGP4's own. The azimuth
is also given unwrapped through north (what an az/el mount follows) and rows near the zenith
are flagged (``keyhole``: an az/el mount cannot follow there).
"""
from __future__ import annotations

import numpy as np

from .errors import GroundsegError, positive_number
from .horizon import prepare_stations
from .orbits import Constellation, teme_to_itrs
from .stations import Station, station_points
from .table import Table
from .timegrid import TimeGrid, format_utc, parse_utc

__all__ = ["pointing_table", "POINTING_COLUMNS", "SPEED_OF_LIGHT_KM_S"]

SPEED_OF_LIGHT_KM_S = 299792.458
POINTING_COLUMNS = (
    "time_utc", "azimuth_deg", "azimuth_unwrapped_deg", "elevation_deg", "range_km",
    "range_rate_km_s", "azimuth_rate_deg_s", "elevation_rate_deg_s", "received_frequency_hz",
    "doppler_shift_hz", "keyhole",
)
_FORMATS = {"azimuth_deg": ".4f", "azimuth_unwrapped_deg": ".4f", "elevation_deg": ".4f",
            "range_km": ".4f", "range_rate_km_s": ".7f", "azimuth_rate_deg_s": ".5f",
            "elevation_rate_deg_s": ".5f", "received_frequency_hz": ".3f",
            "doppler_shift_hz": ".3f"}
_TWO_PI = 2.0 * np.pi


def pointing_table(constellation: Constellation, satellite, station: Station, start, end, *,
                   step_s: float = 1.0, frequency_hz: float | None = None,
                   keyhole_elevation_deg: float = 85.0) -> Table:
    """Antenna pointing for one satellite from one station, every ``step_s`` from ``start``
    to ``end`` (both included; times on whole multiples of ``step_s`` in between).

    Columns (:data:`POINTING_COLUMNS`): ``time_utc``, ``azimuth_deg`` [0, 360),
    ``azimuth_unwrapped_deg`` (continuous through north, starting in [0, 360)),
    ``elevation_deg``, ``range_km``, ``range_rate_km_s`` (positive receding),
    ``azimuth_rate_deg_s``, ``elevation_rate_deg_s``, ``received_frequency_hz`` =
    f (1 - range_rate / c) (one-way downlink, first order) and ``doppler_shift_hz`` =
    received - carrier (both empty without ``frequency_hz``), ``keyhole`` (true where
    elevation >= ``keyhole_elevation_deg``).
    """
    step_s = positive_number(step_s, "step")
    if frequency_hz is not None:
        frequency_hz = positive_number(frequency_hz, "carrier frequency")
    try:
        keyhole_elevation_deg = float(keyhole_elevation_deg)
    except (TypeError, ValueError):
        raise GroundsegError(f"keyhole elevation must be a number of degrees, "
                             f"got {keyhole_elevation_deg!r}") from None
    if not isinstance(constellation, Constellation):
        raise GroundsegError(f"expected a Constellation, got {type(constellation).__name__}")
    station = prepare_stations([station])[0]
    idx = constellation.index(satellite)
    times = _rows(start, end, step_s)
    eph = constellation.subset([idx]).propagate(times)
    r, v = teme_to_itrs(eph.position_km, eph.velocity_km_s, times.gmst_rad,
                        times.gmst_rate_rad_s, times.polar_motion_matrix)
    cols = _look_angles(r[0], v[0], station)
    if frequency_hz is None:
        received = np.full(cols["range_rate_km_s"].shape, np.nan)
    else:
        received = frequency_hz * (1.0 - cols["range_rate_km_s"] / SPEED_OF_LIGHT_KM_S)
    cols = {"time_utc": times.datetime64(), **cols,
            "received_frequency_hz": received,
            "doppler_shift_hz": received - (frequency_hz if frequency_hz is not None else np.nan),
            "keyhole": cols["elevation_deg"] >= keyhole_elevation_deg}
    return Table(cols, _FORMATS)


def _rows(start, end, step_s: float) -> TimeGrid:
    """Row times: ``start``, whole multiples of ``step_s`` (UTC) in between, ``end``."""
    t0 = parse_utc(start)[0]
    t1 = parse_utc(end)[0]
    if t1 < t0:
        raise GroundsegError(f"end {format_utc(t1)[0]} is before start {format_utc(t0)[0]}")
    span = (t1 - t0).astype("timedelta64[ns]").astype(np.int64) / 1e9
    t0_s = t0.astype("datetime64[ns]").astype(np.int64) / 1e9
    first = np.ceil(t0_s / step_s) * step_s - t0_s
    inner = np.arange(first, span, step_s)
    offsets = np.unique(np.concatenate([[0.0], inner[inner > 1e-6], [span]]))
    return TimeGrid.from_seconds(t0, offsets)


def _look_angles(r, v, station: Station) -> dict:
    """Azimuth (wrapped and unwrapped), elevation (deg), range, range rate and the angle
    rates of ITRS states ``(n, 3)`` seen from ``station``: columns ``(n,)``."""
    pts = station_points([station])
    d = r - pts.ecef_km[0]
    E, N, U = pts.enu[0]
    e, n, u = d @ E, d @ N, d @ U
    ve, vn, vu = v @ E, v @ N, v @ U
    hor2 = e * e + n * n
    hor = np.sqrt(hor2)
    rng = np.sqrt(hor2 + u * u)
    rr = (e * ve + n * vn + u * vu) / rng
    az = np.mod(np.arctan2(e, n), _TWO_PI)
    el = np.arctan2(u, hor)
    with np.errstate(invalid="ignore", divide="ignore"):
        az_rate = (n * ve - e * vn) / hor2
        el_rate = (vu * hor - u * (e * ve + n * vn) / hor) / (rng * rng)
    unwrapped = np.unwrap(az) if az.size else az
    ok = np.isfinite(az)
    if np.any(ok):
        unwrapped = unwrapped - _TWO_PI * np.floor(unwrapped[ok][0] / _TWO_PI)
    return {"azimuth_deg": np.degrees(az), "azimuth_unwrapped_deg": np.degrees(unwrapped),
            "elevation_deg": np.degrees(el), "range_km": rng, "range_rate_km_s": rr,
            "azimuth_rate_deg_s": np.degrees(az_rate), "elevation_rate_deg_s": np.degrees(el_rate)}
