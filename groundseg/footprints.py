"""Where a station can see a satellite: the ground contour of its visibility at one altitude.

For each azimuth ``az`` from the station, the station needs the satellite at least
``m(az) = max(min_elevation, mask(az))`` above its horizon (the same requirement as
:mod:`groundseg.passes`). Along the ray leaving the station at azimuth ``az`` and elevation
``m(az)``, the point at geodetic altitude ``h`` is where a satellite at altitude ``h`` is
exactly at the limit; its sub-satellite point is on the contour. A satellite at altitude
``h`` is visible exactly when its sub-satellite point lies inside the contour (the
elevation seen from the station falls as the ground distance grows, at every azimuth).

The range along the ray is found by Newton's method on the WGS84 ellipsoid (the derivative
of the geodetic altitude along the ray is the ray's component along the local normal),
from the spherical solution; it converges to micrometres in a few steps. On a sphere of
radius ``R`` the contour is a circle of geocentric radius
``arccos(R cos(m) / (R + h)) - m``.
"""
from __future__ import annotations

import numpy as np

from .earth import ecef_to_geodetic, enu_basis, geodetic_to_ecef
from .errors import GroundsegError, positive_number
from .stations import Station, mask_elevation_rad

__all__ = ["visibility_contour"]

_NEWTON_STEPS = 8


def visibility_contour(station: Station, altitude_km: float, *, n_azimuth: int = 180):
    """Sub-satellite points at which a satellite at geodetic ``altitude_km`` is exactly at
    the station's required elevation: ``(latitude_deg, longitude_deg)`` arrays
    ``(n_azimuth + 1,)``, azimuths ``0, 360 / n, ...`` clockwise from north, closed (the
    last point repeats the first). Longitudes in [-180, 180)."""
    if not isinstance(station, Station):
        raise GroundsegError(f"expected a Station, got {type(station).__name__}")
    h = positive_number(altitude_km, "satellite altitude (km)")
    if h > 1.0e6:
        raise GroundsegError(f"satellite altitude {h} km is beyond any orbit")
    if not (isinstance(n_azimuth, int) and 4 <= n_azimuth <= 100_000):
        raise GroundsegError(f"n_azimuth must be an integer in [4, 100000], got {n_azimuth!r}")
    lat, lon = np.radians(station.latitude_deg), np.radians(station.longitude_deg)
    r0 = geodetic_to_ecef(lat, lon, station.altitude_m / 1000.0)
    az = np.arange(n_azimuth) * (2.0 * np.pi / n_azimuth)
    el = mask_elevation_rad(station, az)
    enu = enu_basis(lat, lon)                                           # rows e, n, u
    local = np.column_stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)])
    ray = local @ enu                                                   # (n_az, 3) ECEF
    radius = float(np.linalg.norm(r0))
    b = ray @ r0                                 # |r0 + rho ray| = radius + h on a sphere
    rho = np.sqrt(b * b + (radius + h) ** 2 - radius * radius) - b
    for _ in range(_NEWTON_STEPS):
        g = ecef_to_geodetic(r0 + rho[:, None] * ray)
        normal = np.column_stack([np.cos(g.latitude_rad) * np.cos(g.longitude_rad),
                                  np.cos(g.latitude_rad) * np.sin(g.longitude_rad),
                                  np.sin(g.latitude_rad)])
        rho = rho + (h - g.altitude_km) / np.einsum("ij,ij->i", ray, normal)
    g = ecef_to_geodetic(r0 + rho[:, None] * ray)
    lat_deg = np.append(g.latitude_deg, g.latitude_deg[0])
    lon_deg = (np.append(g.longitude_deg, g.longitude_deg[0]) + 180.0) % 360.0 - 180.0
    return lat_deg, lon_deg
