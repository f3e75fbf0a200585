"""Polygon areas of interest on the WGS84 ellipsoid: validity, area, centroid and strips.

A polygon (a shell and holes, longitude / latitude in degrees) is handled in the Lambert
azimuthal equal-area projection of the ellipsoid centred on it (PROJ through ``pyproj``,
plane coordinates in km), as a GEOS polygon (``shapely``):

- **Validity** is GEOS's (OGC simple features, O(n log n)): a self-intersection, a ring
  touching itself, a hole outside its shell or crossing it is refused, and the message gives
  the longitude and latitude of the offending point (the crossing itself).
- **Area** is the plane area: the projection preserves area, so it is the ellipsoidal area of
  the polygon whose edges are straight in the projection (within 1e-6 of the geodesic
  polygon's for edges of a few tens of km; the tests compare with PROJ's geodesic area).
- **Centre** is the area centroid in the plane, mapped back to the ellipsoid; the projection
  is then re-centred there.
- **Strips** are bands one swath wide parallel to a direction of travel, clipped by GEOS.
  Within ``c`` km of the centre the projection's scale errs by at most ``(c / 2R)^2``
  (3e-5 at 100 km, 2e-3 at the 550 km limit), so band widths and strip lengths hold to that.
"""
from __future__ import annotations

import math
import re

import numpy as np
import shapely
from pyproj import Proj

from .earth import WGS84_A_KM, ecef_to_geodetic, geodetic_to_ecef
from .errors import GroundsegError

__all__ = ["Polygon", "PolygonError", "MAX_POLYGON_RADIUS_KM", "STRIP_BYTES", "check_lonlat"]

MAX_POLYGON_RADIUS_KM = 550.0
#: Bytes one strip costs down the line (aim points, their access windows, the strip's row),
#: measured on access searches of a day for 8 satellites (about 11 kB), rounded up.
STRIP_BYTES = 16_384
_REASON_RE = re.compile(r"(.*)\[(\S+) (\S+)\]")


class PolygonError(GroundsegError):
    """A polygon that cannot be used (the message names where it came from)."""


class Polygon:
    """One polygon (shell + holes) in the equal-area plane at its centroid (km).

    ``rings_lonlat``: list of ``(n, 2)`` longitude / latitude arrays (shell first, open:
    last vertex != first); ``area_km2``; ``latitude_deg`` / ``longitude_deg`` of the centroid;
    ``shape``: the shapely polygon in the plane.
    """

    def __init__(self, rings_lonlat, altitude_km: float, where: str):
        rings = []
        for k, ring in enumerate(rings_lonlat):
            ring = np.asarray(ring, dtype=float)[:, :2]
            if len(ring) >= 2 and np.all(ring[0] == ring[-1]):
                ring = ring[:-1]
            keep = np.ones(len(ring), dtype=bool)
            keep[1:] = np.any(ring[1:] != ring[:-1], axis=1)  # drop repeated vertices
            ring = ring[keep]
            what = "shell" if k == 0 else f"hole {k}"
            if len(ring) < 3:
                raise PolygonError(f"{where}: polygon {what} has fewer than 3 distinct vertices")
            check_lonlat(ring[:, 1], ring[:, 0], where)
            rings.append(ring)
        self.rings_lonlat = rings
        self.altitude_km = altitude_km
        shell = geodetic_to_ecef(np.radians(rings[0][:, 1]), np.radians(rings[0][:, 0]), 0.0)
        c = shell.mean(axis=0)
        if np.linalg.norm(c) < 0.5 * WGS84_A_KM or np.any(shell @ c <= 0):
            raise PolygonError(f"{where}: polygon spans more than a hemisphere")
        geo = ecef_to_geodetic(c)
        self._set_centre(float(geo.latitude_deg), float(geo.longitude_deg))
        radius_km = self._radius_km()
        if radius_km > MAX_POLYGON_RADIUS_KM:
            raise PolygonError(f"{where}: polygon reaches {radius_km:.0f} km from its centre "
                               f"(limit {MAX_POLYGON_RADIUS_KM:.0f} km): split it")
        self._check_valid(where)
        if not self.shape.area > 1e-9 * max(radius_km, 1e-3) ** 2:
            raise PolygonError(f"{where}: polygon has no area")
        centroid = self.shape.centroid
        lon, lat = self.lonlat([[centroid.x, centroid.y]])[0]
        self._set_centre(float(lat), float(lon))
        self.area_km2 = float(self.shape.area)

    def _set_centre(self, lat_deg: float, lon_deg: float) -> None:
        self.latitude_deg, self.longitude_deg = lat_deg, lon_deg
        self._proj = Proj(proj="laea", lat_0=lat_deg, lon_0=lon_deg, ellps="WGS84", units="km")
        plane = [np.stack(self._proj(r[:, 0], r[:, 1]), axis=1) for r in self.rings_lonlat]
        self.shape = shapely.Polygon(plane[0], plane[1:])

    def _check_valid(self, where: str) -> None:
        reason = shapely.is_valid_reason(self.shape)
        if reason == "Valid Geometry":
            return
        match = _REASON_RE.fullmatch(reason)
        what, at = (match.group(1), f" near {self._where(match)}") if match else (reason, "")
        if what == "Hole lies outside shell":
            shell = shapely.Polygon(self.shape.exterior)
            inside = shapely.contains(shell, shapely.polygons(list(self.shape.interiors)))
            k = int(np.flatnonzero(~inside)[0]) + 1 if not np.all(inside) else 1
            raise PolygonError(f"{where}: polygon hole {k} lies outside its shell")
        if what in ("Self-intersection", "Ring Self-intersection"):
            raise PolygonError(f"{where}: polygon self-intersects{at}")
        raise PolygonError(f"{where}: polygon is not valid: {what.lower()}{at}")

    def _where(self, match) -> str:
        lon, lat = self.lonlat([[float(match.group(2)), float(match.group(3))]])[0]
        return f"longitude {lon:.5f}, latitude {lat:.5f}"

    def lonlat(self, xy) -> np.ndarray:
        """Plane points ``(k, 2)`` km -> ``(k, 2)`` longitude, latitude in degrees."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        lon, lat = self._proj(xy[:, 0], xy[:, 1], inverse=True)
        return np.stack([lon, lat], axis=-1)

    def ecef_km(self, xy) -> np.ndarray:
        """Plane points ``(k, 2)`` km -> ECEF km ``(k, 3)`` at the polygon's altitude."""
        lonlat = np.radians(self.lonlat(xy))
        return geodetic_to_ecef(lonlat[:, 1], lonlat[:, 0], self.altitude_km)

    def _radius_km(self) -> float:
        return float(np.max(np.hypot(*shapely.get_coordinates(self.shape).T)))

    def strip_count(self, swath_km: float) -> float:
        """At least as many strips as :meth:`strips` makes for any heading (a float: an
        absurd swath gives an absurd count, not an overflow)."""
        return max(1.0, math.ceil(2.0 * self._radius_km() / swath_km))

    def _turned(self, heading_rad: float):
        """``(along, across, shape)``: the unit vectors of a direction of travel and of its
        right, and the polygon in those coordinates (bands and scenes become boxes)."""
        along = np.array([math.sin(heading_rad), math.cos(heading_rad)])
        across = np.array([along[1], -along[0]])
        return along, across, shapely.transform(self.shape, lambda xy: xy @ np.stack([along, across], axis=1))

    def scene_fraction(self, heading_rad: float, swath_km: float, length_km: float) -> float:
        """The fraction of the area inside one scene: ``swath_km`` across a direction of
        travel ``heading_rad`` and ``length_km`` along it, centred on the centre."""
        _, _, turned = self._turned(heading_rad)
        scene = shapely.box(-0.5 * length_km, -0.5 * swath_km, 0.5 * length_km, 0.5 * swath_km)
        return float(shapely.area(shapely.intersection(turned, scene)) / self.area_km2)

    def strips(self, heading_rad: float, swath_km: float):
        """Bands one swath wide parallel to ``heading_rad`` (azimuth of travel from north).

        Returns ``(start_xy (k, 2), end_xy (k, 2), area_km2 (k,))`` for the bands that hold
        part of the polygon; start -> end runs along the direction of travel.
        """
        along, across, turned = self._turned(heading_rad)
        s0, q0, s1, q1 = turned.bounds
        n = max(1, int(math.ceil((q1 - q0) / swath_km - 1e-9)))
        centres = 0.5 * (q0 + q1) + (np.arange(n) - 0.5 * (n - 1)) * swath_km
        bands = shapely.box(s0 - 1.0, centres - 0.5 * swath_km, s1 + 1.0, centres + 0.5 * swath_km)
        parts = shapely.intersection(turned, bands)
        area = shapely.area(parts)
        lo, _, hi, _ = shapely.bounds(parts).T      # NaN for bands that miss the polygon
        keep = (area > 1e-9 * self.area_km2) & np.isfinite(lo)
        qc, lo, hi = centres[keep], lo[keep], hi[keep]
        starts = lo[:, None] * along + qc[:, None] * across
        ends = hi[:, None] * along + qc[:, None] * across
        return starts.reshape(-1, 2), ends.reshape(-1, 2), area[keep]


def check_lonlat(lat, lon, where: str, error: type = PolygonError) -> None:
    """``error`` naming ``where`` and the first latitude outside [-90, 90] or longitude
    outside [-180, 180] (degrees, any shape; NaN is outside)."""
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    bad = ~(np.abs(lat) <= 90.0)
    if np.any(bad):
        raise error(f"{where}: latitude {lat[bad][0]:g} deg outside [-90, 90]")
    bad = ~(np.abs(lon) <= 180.0)
    if np.any(bad):
        raise error(f"{where}: longitude {lon[bad][0]:g} deg outside [-180, 180]")
