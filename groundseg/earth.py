"""WGS84 Earth: geodetic <-> ECEF, ground points, topocentric az / el / range / range-rate.

Everything here computes in km, km/s and radians. Shapes: satellite vectors
``(n_sat, n_time, 3)``, ground points ``(n_site,)``, topocentric results
``(n_sat, n_site, n_time)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import GroundsegError

__all__ = [
    "WGS84_A_KM", "WGS84_B_KM", "WGS84_F", "WGS84_E2", "EARTH_ROTATION_RAD_S", "MU_EARTH_KM3_S2",
    "J2_EARTH", "EARTH_MEAN_RADIUS_KM", "WGS72_A_KM", "WGS72_MU_KM3_S2", "WGS72_J2",
    "GroundPoints", "Geodetic", "Topocentric",
    "geodetic_to_ecef", "ecef_to_geodetic", "enu_basis", "topocentric",
]

WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
_EP2 = WGS84_E2 / (1.0 - WGS84_E2)
EARTH_ROTATION_RAD_S = 7.292115146706979e-5
MU_EARTH_KM3_S2 = 398600.4418
J2_EARTH = 1.08262668e-3
EARTH_MEAN_RADIUS_KM = 6371.0
# SGP4's own Earth (WGS72): what its states obey, e.g. for the acceleration that
# :mod:`groundseg.interpolation` matches between grid samples.
WGS72_A_KM = 6378.135
WGS72_MU_KM3_S2 = 398600.8
WGS72_J2 = 0.001082616


def _degrees(radians_field: str) -> property:
    """A read-only property: the field ``radians_field`` in degrees."""
    return property(lambda self: np.degrees(getattr(self, radians_field)),
                    doc=f"``{radians_field}`` in degrees.")


def geodetic_to_ecef(latitude_rad, longitude_rad, altitude_km) -> np.ndarray:
    """Geodetic WGS84 -> ECEF position in km, shape ``(..., 3)``."""
    lat = np.asarray(latitude_rad, dtype=float)
    lon = np.asarray(longitude_rad, dtype=float)
    h = np.asarray(altitude_km, dtype=float)
    sl, cl = np.sin(lat), np.cos(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sl * sl)
    x = (n + h) * cl * np.cos(lon)
    y = (n + h) * cl * np.sin(lon)
    z = (n * (1.0 - WGS84_E2) + h) * sl
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


@dataclass(frozen=True)
class Geodetic:
    """WGS84 geodetic coordinates; arrays of one shape."""

    latitude_rad: np.ndarray
    longitude_rad: np.ndarray
    altitude_km: np.ndarray

    latitude_deg = _degrees("latitude_rad")
    longitude_deg = _degrees("longitude_rad")


def ecef_to_geodetic(position_km) -> Geodetic:
    """ECEF position ``(..., 3)`` km -> WGS84 geodetic (Bowring, two iterations; sub-mm in LEO)."""
    r = np.asarray(position_km, dtype=float)
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    # Bowring's iteration on tan(parametric latitude), with square roots only.
    with np.errstate(divide="ignore", invalid="ignore"):
        tan_beta = z / ((1.0 - WGS84_F) * p)
        for _ in range(2):
            cb = 1.0 / np.sqrt(1.0 + tan_beta * tan_beta)
            sb = tan_beta * cb
            tan_lat = (z + _EP2 * WGS84_B_KM * (sb * sb * sb)) / (p - WGS84_E2 * WGS84_A_KM * (cb * cb * cb))
            tan_beta = (1.0 - WGS84_F) * tan_lat
    cl = 1.0 / np.sqrt(1.0 + tan_lat * tan_lat)
    sl = tan_lat * cl
    lat = np.arctan(tan_lat)
    polar = ~np.isfinite(tan_lat)
    if np.any(polar):
        lat = np.where(polar, np.copysign(np.pi / 2, z), lat)
        sl = np.where(polar, np.copysign(1.0, z), sl)
        cl = np.where(polar, 0.0, cl)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sl * sl)
    # Height formula that stays accurate at every latitude (including the poles).
    h = p * cl + z * sl - WGS84_A_KM * WGS84_A_KM / n
    return Geodetic(lat, lon, h)


def enu_basis(latitude_rad, longitude_rad) -> np.ndarray:
    """Rows east, north, up at each point: shape ``(..., 3, 3)``."""
    lat = np.asarray(latitude_rad, dtype=float)
    lon = np.asarray(longitude_rad, dtype=float)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    zero = np.zeros_like(sl * so)
    east = np.stack([-so + zero, co + zero, zero], axis=-1)
    north = np.stack([-sl * co, -sl * so, cl + zero], axis=-1)
    up = np.stack([cl * co, cl * so, sl + zero], axis=-1)
    return np.stack([east, north, up], axis=-2)


class GroundPoints:
    """Fixed points on the Earth (stations, targets, grid cells), shape ``(n,)``.

    Build from degrees and metres at the edge with :meth:`from_degrees`; inside, radians
    and km. ``ecef_km`` is ``(n, 3)``, ``enu`` is ``(n, 3, 3)`` (rows east, north, up).
    """

    def __init__(self, latitude_rad, longitude_rad, altitude_km, names=None):
        self.latitude_rad = np.atleast_1d(np.asarray(latitude_rad, dtype=float))
        self.longitude_rad = np.atleast_1d(np.asarray(longitude_rad, dtype=float))
        self.altitude_km = np.broadcast_to(
            np.atleast_1d(np.asarray(altitude_km, dtype=float)), self.latitude_rad.shape).copy()
        if self.latitude_rad.shape != self.longitude_rad.shape or self.latitude_rad.ndim != 1:
            raise GroundsegError("latitude and longitude must be 1-D arrays of one length")
        self.names = list(names) if names is not None else [str(i) for i in range(len(self))]
        self.ecef_km = geodetic_to_ecef(self.latitude_rad, self.longitude_rad, self.altitude_km)
        self.enu = enu_basis(self.latitude_rad, self.longitude_rad)

    @classmethod
    def from_degrees(cls, latitude_deg, longitude_deg, altitude_m=0.0, names=None) -> "GroundPoints":
        lat = np.atleast_1d(np.asarray(latitude_deg, dtype=float))
        lon = np.atleast_1d(np.asarray(longitude_deg, dtype=float))
        bad = ~((np.abs(lat) <= 90.0) & (np.abs(lon) <= 360.0))
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            label = names[i] if names is not None else f"point {i}"
            raise GroundsegError(f"{label}: latitude {lat[i]} / longitude {lon[i]} deg out of range")
        return cls(np.radians(lat), np.radians(lon),
                   np.asarray(altitude_m, dtype=float) / 1000.0, names)

    def __len__(self) -> int:
        return self.latitude_rad.shape[0]

    latitude_deg = _degrees("latitude_rad")
    longitude_deg = _degrees("longitude_rad")

    @property
    def up(self) -> np.ndarray:
        """Unit local vertical (geodetic), ``(n, 3)``."""
        return self.enu[:, 2, :]


@dataclass(frozen=True)
class Topocentric:
    """Look angles from ground points to satellites, each ``(n_sat, n_site, n_time)``."""

    azimuth_rad: np.ndarray
    elevation_rad: np.ndarray
    range_km: np.ndarray
    range_rate_km_s: np.ndarray

    azimuth_deg = _degrees("azimuth_rad")
    elevation_deg = _degrees("elevation_rad")


def topocentric(position_km, velocity_km_s, points: GroundPoints) -> Topocentric:
    """Az / el / range / range-rate of Earth-fixed satellite states from ground points.

    ``position_km``, ``velocity_km_s``: ITRS ``(n_sat, n_time, 3)``.
    Returns arrays ``(n_sat, n_site, n_time)``; azimuth in [0, 2 pi) from north through east.
    """
    r = np.asarray(position_km, dtype=float)
    v = np.asarray(velocity_km_s, dtype=float)
    d = r[:, None, :, :] - points.ecef_km[None, :, None, :]
    enu = np.einsum("sij,nstj->nsti", points.enu, d)
    rng = np.sqrt(np.einsum("...i,...i->...", d, d))
    east, north, up = enu[..., 0], enu[..., 1], enu[..., 2]
    az = np.mod(np.arctan2(east, north), 2 * np.pi)
    el = np.arcsin(np.clip(up / rng, -1.0, 1.0))
    rr = np.einsum("nsti,nti->nst", d, v) / rng
    return Topocentric(az, el, rng, rr)
