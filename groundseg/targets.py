"""Imaging targets: points and polygon areas of interest, read from CSV or GeoJSON.

CSV (points only), one target a row, ``#`` comments and blank lines skipped::

    id,latitude_deg,longitude_deg,altitude_m,priority,min_sun_elevation_deg,max_off_nadir_deg,mode

The first four columns are required; the last four may be missing from the header or left
empty in a row, and then take the scenario defaults (:class:`TargetDefaults`). GeoJSON: a
``FeatureCollection`` (or one ``Feature``) of ``Point``, ``MultiPoint``, ``Polygon`` or
``MultiPolygon`` geometries (longitude, latitude[, altitude_m]) whose ``properties`` carry
the same keys (``id`` may also be the feature's ``id``; ``altitude_m`` defaults to the third
coordinate, else 0). Parts of a multi-geometry become targets ``<id>-1``, ``<id>-2``, ...

Values: latitude in [-90, 90], longitude in [-180, 180] degrees, ``priority`` > 0 (larger
is more important; the planner turns it into a weight), ``min_sun_elevation_deg`` in
[-90, 90], ``max_off_nadir_deg`` in (0, 90), ``mode`` ``mono`` or ``stereo``. Ids are
unique. A bad value, an empty file, a self-intersecting polygon, a hole outside its shell
raise :class:`TargetError` naming ``file:line`` (CSV) or ``file: feature N`` (GeoJSON).

Polygons are handled in the tangent plane at their centroid: plane coordinates are the
east / north offsets of the WGS84 surface points (an orthographic projection; distances and
areas shrink by less than 1e-4 within 100 km of the centroid, 0.4 % at the 550 km limit). A polygon is
imaged in **strips**: :meth:`Targets.strips` cuts it into bands one swath wide parallel to a
ground-track heading, each band's strip running from where the band enters the polygon to
where it leaves it (along the direction of travel), worth its share of the polygon's area.
"""
from __future__ import annotations

import csv
import io
import json
import math
import numbers
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .documents import parse_document
from .earth import (WGS84_A_KM, WGS84_E2, GroundPoints, ecef_to_geodetic, enu_basis,
                    geodetic_to_ecef)
from .errors import GroundsegError
from .table import Table

__all__ = ["TargetError", "TargetDefaults", "Targets", "Strips", "MODES",
           "load_targets", "parse_targets_csv", "parse_targets_geojson", "bundled_targets"]

MODES = ("mono", "stereo")
CSV_COLUMNS = ("id", "latitude_deg", "longitude_deg", "altitude_m", "priority",
               "min_sun_elevation_deg", "max_off_nadir_deg", "mode")
_OPTIONAL = CSV_COLUMNS[4:]
MAX_POLYGON_RADIUS_KM = 550.0
_MIN_ALT_M, _MAX_ALT_M = -500.0, 9000.0


class TargetError(GroundsegError):
    """A target or target file that cannot be used."""


@dataclass(frozen=True)
class TargetDefaults:
    """Scenario defaults for the optional target columns (degrees at the edges)."""

    priority: float = 1.0
    min_sun_elevation_deg: float = 10.0
    max_off_nadir_deg: float = 30.0
    mode: str = "mono"

    def __post_init__(self):
        _check_values(self.priority, self.min_sun_elevation_deg, self.max_off_nadir_deg,
                      self.mode, "target defaults")


def _check_values(priority, min_sun, max_off, mode, where):
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
               for v in (priority, min_sun, max_off)):
        raise TargetError(f"{where}: priority, min_sun_elevation_deg and max_off_nadir_deg "
                          "must be numbers")
    if not (math.isfinite(priority) and priority > 0):
        raise TargetError(f"{where}: priority {priority} must be a positive number")
    if not -90.0 <= min_sun <= 90.0:
        raise TargetError(f"{where}: min_sun_elevation_deg {min_sun} outside [-90, 90]")
    if not 0.0 < max_off < 90.0:
        raise TargetError(f"{where}: max_off_nadir_deg {max_off} outside (0, 90)")
    if mode not in MODES:
        raise TargetError(f"{where}: mode {mode!r} is not one of {', '.join(MODES)}")


# --------------------------------------------------------------------------------------
# Polygons in a local tangent plane
# --------------------------------------------------------------------------------------

def _surface_from_plane(origin, basis, xy):
    """Orthographic inverse: points ``origin + x E + y N + w U`` on the WGS84 ellipsoid
    (the root nearest the plane), for tangent-plane coordinates ``xy (k, 2)`` km."""
    e, n, u = basis
    q = origin + xy[:, :1] * e + xy[:, 1:] * n
    scale = np.array([1 / WGS84_A_KM, 1 / WGS84_A_KM, 1 / (WGS84_A_KM * math.sqrt(1 - WGS84_E2))])
    sq, su = q * scale, u * scale
    A = float(su @ su)
    B = sq @ su
    C = np.sum(sq * sq, axis=1) - 1.0
    w = (-B + np.sqrt(np.maximum(B * B - A * C, 0.0))) / A
    return q + w[:, None] * u


def _orient(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


def _self_intersections(rings_xy, scale_km):
    """First pair of crossing or touching edges among all rings, or None.

    ``rings_xy``: list of ``(n, 2)`` open rings (last vertex != first). Adjacent edges of a
    ring are exempt (they share a vertex) unless they fold back onto each other.
    """
    segs, ring_id, pos, ring_len = [], [], [], []
    for r, xy in enumerate(rings_xy):
        n = len(xy)
        segs.append(np.concatenate([xy, np.roll(xy, -1, axis=0)], axis=1))
        ring_id.append(np.full(n, r))
        pos.append(np.arange(n))
        ring_len.append(np.full(n, n))
    s = np.concatenate(segs)
    rid, ps, rl = np.concatenate(ring_id), np.concatenate(pos), np.concatenate(ring_len)
    eps = 1e-9 * scale_km * scale_km
    # Spikes: an edge that folds straight back onto the previous one.
    d = s[:, 2:] - s[:, :2]
    prev = np.concatenate([np.roll(d[rid == r], 1, axis=0) for r in range(len(rings_xy))])
    cross = prev[:, 0] * d[:, 1] - prev[:, 1] * d[:, 0]
    dot = np.sum(prev * d, axis=1)
    spike = (np.abs(cross) <= eps) & (dot < 0)
    if np.any(spike):
        i = int(np.flatnonzero(spike)[0])
        return int(rid[i]), int(ps[i]), int(rid[i]), int((ps[i] - 1) % rl[i]), s[i, :2]
    m = len(s)
    block = max(1, 250_000 // max(m, 1))
    for i0 in range(0, m, block):
        a = s[i0:i0 + block, None, :]
        b = s[None, :, :]
        o1 = _orient(a[..., 0], a[..., 1], a[..., 2], a[..., 3], b[..., 0], b[..., 1])
        o2 = _orient(a[..., 0], a[..., 1], a[..., 2], a[..., 3], b[..., 2], b[..., 3])
        o3 = _orient(b[..., 0], b[..., 1], b[..., 2], b[..., 3], a[..., 0], a[..., 1])
        o4 = _orient(b[..., 0], b[..., 1], b[..., 2], b[..., 3], a[..., 2], a[..., 3])
        proper = (o1 * o2 < 0) & (o3 * o4 < 0)
        # Touching: an endpoint lies on the other segment.
        touch = np.zeros_like(proper)
        for o, px, py, q in ((o1, b[..., 0], b[..., 1], a), (o2, b[..., 2], b[..., 3], a),
                             (o3, a[..., 0], a[..., 1], b), (o4, a[..., 2], a[..., 3], b)):
            on_line = np.abs(o) <= eps
            within = ((np.minimum(q[..., 0], q[..., 2]) - 1e-9 <= px)
                      & (px <= np.maximum(q[..., 0], q[..., 2]) + 1e-9)
                      & (np.minimum(q[..., 1], q[..., 3]) - 1e-9 <= py)
                      & (py <= np.maximum(q[..., 1], q[..., 3]) + 1e-9))
            touch |= on_line & within
        hit = proper | touch
        ii = np.arange(i0, min(i0 + block, m))[:, None]
        jj = np.arange(m)[None, :]
        same = rid[ii] == rid[jj]
        adjacent = same & ((np.abs(ps[ii] - ps[jj]) == 1) | (np.abs(ps[ii] - ps[jj]) == rl[ii] - 1))
        hit &= (jj > ii) & ~adjacent
        if np.any(hit):
            r, c = np.argwhere(hit)[0]
            i, j = i0 + r, c
            return int(rid[i]), int(ps[i]), int(rid[j]), int(ps[j]), s[i, :2]
    return None


def _shoelace(xy):
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _point_in_ring(px, py, ring):
    """Even-odd test of points ``(k,)`` against one open ring ``(n, 2)``."""
    x0, y0 = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    px, py = np.asarray(px)[:, None], np.asarray(py)[:, None]
    straddle = (y0 > py) != (y1 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
    return np.count_nonzero(straddle & (px < xc), axis=1) % 2 == 1


def _clip_half_plane(xy, value):
    """Sutherland-Hodgman: the part of ring ``xy (n, 2)`` where ``value (n,) >= 0``."""
    if len(xy) == 0:
        return xy
    nxt = np.roll(xy, -1, axis=0)
    vn = np.roll(value, -1)
    inside, inside_next = value >= 0, vn >= 0
    crosses = inside != inside_next
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(crosses, value / (value - vn), 0.0)
    out = np.empty((len(xy), 2, 2))
    out[:, 0] = xy
    out[:, 1] = xy + t[:, None] * (nxt - xy)
    keep = np.stack([inside, crosses], axis=1)
    return out[keep]


class _Polygon:
    """One polygon (shell + holes) in the tangent plane at its centroid (km).

    Plane coordinates are the east / north components (geodetic, at the centroid) of the
    vertices' offsets on the WGS84 ellipsoid; back to the ellipsoid along the local vertical.
    """

    def __init__(self, rings_lonlat, altitude_km, where):
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
                raise TargetError(f"{where}: polygon {what} has fewer than 3 distinct vertices")
            _check_lonlat(ring[:, 1], ring[:, 0], where)
            rings.append(ring)
        self.rings_lonlat = rings
        self.altitude_km = altitude_km
        self._points = [geodetic_to_ecef(np.radians(r[:, 1]), np.radians(r[:, 0]), 0.0) for r in rings]
        c = self._points[0].mean(axis=0)
        if np.linalg.norm(c) < 0.5 * WGS84_A_KM or np.any(self._points[0] @ c <= 0):
            raise TargetError(f"{where}: polygon spans more than a hemisphere")
        geo = ecef_to_geodetic(c)
        self._set_centre(float(geo.latitude_rad), float(geo.longitude_rad))
        radius_km = float(max(np.max(np.hypot(r[:, 0], r[:, 1])) for r in self.rings_xy))
        if radius_km > MAX_POLYGON_RADIUS_KM:
            raise TargetError(f"{where}: polygon reaches {radius_km:.0f} km from its centre "
                              f"(limit {MAX_POLYGON_RADIUS_KM:.0f} km): split it")
        hit = _self_intersections(self.rings_xy, max(radius_km, 1e-3))
        if hit is not None:
            r1, e1, r2, e2, xy0 = hit
            lon, lat = self.lonlat(xy0[None])[0]
            name = lambda r: "shell" if r == 0 else f"hole {r}"  # noqa: E731
            raise TargetError(f"{where}: polygon self-intersects: {name(r1)} edge {e1 + 1} meets "
                              f"{name(r2)} edge {e2 + 1} near longitude {lon:.5f}, latitude {lat:.5f}")
        shell = self.rings_xy[0]
        for k, hole in enumerate(self.rings_xy[1:], start=1):
            if not _point_in_ring(hole[:1, 0], hole[:1, 1], shell)[0]:
                raise TargetError(f"{where}: polygon hole {k} lies outside its shell")
        a = _shoelace(shell)
        if not abs(a) - sum(abs(_shoelace(h)) for h in self.rings_xy[1:]) > 1e-9:
            raise TargetError(f"{where}: polygon has no area")
        # Re-centre on the area centroid of the shell (one step is plenty).
        x, y = shell[:, 0], shell[:, 1]
        f = x * np.roll(y, -1) - np.roll(x, -1) * y
        cxy = np.array([[np.sum((x + np.roll(x, -1)) * f), np.sum((y + np.roll(y, -1)) * f)]]) / (6 * a)
        geo = ecef_to_geodetic(_surface_from_plane(self.origin, self.basis, cxy)[0])
        self._set_centre(float(geo.latitude_rad), float(geo.longitude_rad))
        self.area_km2 = abs(_shoelace(self.rings_xy[0])) - sum(abs(_shoelace(h)) for h in self.rings_xy[1:])

    def _set_centre(self, lat_rad, lon_rad):
        self.latitude_deg = math.degrees(lat_rad)
        self.longitude_deg = math.degrees(lon_rad)
        self.origin = geodetic_to_ecef(lat_rad, lon_rad, 0.0)
        self.basis = enu_basis(lat_rad, lon_rad)
        e, n = self.basis[0], self.basis[1]
        self.rings_xy = [np.stack([(p - self.origin) @ e, (p - self.origin) @ n], axis=1)
                         for p in self._points]

    def ecef_km(self, xy):
        """Tangent-plane points ``(k, 2)`` km -> ECEF km ``(k, 3)`` at the polygon altitude."""
        geo = ecef_to_geodetic(_surface_from_plane(self.origin, self.basis, np.asarray(xy, float).reshape(-1, 2)))
        return geodetic_to_ecef(geo.latitude_rad, geo.longitude_rad, self.altitude_km)

    def lonlat(self, xy):
        """Tangent-plane points ``(k, 2)`` km -> ``(k, 2)`` longitude, latitude in degrees."""
        geo = ecef_to_geodetic(_surface_from_plane(self.origin, self.basis, np.asarray(xy, float).reshape(-1, 2)))
        return np.stack([geo.longitude_deg, geo.latitude_deg], axis=-1)

    def strips(self, heading_rad, swath_km):
        """Bands one swath wide parallel to ``heading_rad`` (azimuth of travel from north).

        Returns ``(start_xy (k, 2), end_xy (k, 2), area_km2 (k,))`` for the bands that hold
        part of the polygon; start -> end runs along the direction of travel.
        """
        along = np.array([math.sin(heading_rad), math.cos(heading_rad)])
        across = np.array([along[1], -along[0]])  # to the right of the direction of travel
        q_all = np.concatenate([r @ across for r in self.rings_xy])
        q0, q1 = q_all.min(), q_all.max()
        n = max(1, int(math.ceil((q1 - q0) / swath_km - 1e-9)))
        centres = 0.5 * (q0 + q1) + (np.arange(n) - 0.5 * (n - 1)) * swath_km
        starts, ends, areas = [], [], []
        for qc in centres:
            area, s_lo, s_hi = 0.0, np.inf, -np.inf
            for k, ring in enumerate(self.rings_xy):
                q = ring @ across
                part = _clip_half_plane(ring, q - (qc - 0.5 * swath_km))
                if len(part):
                    part = _clip_half_plane(part, (qc + 0.5 * swath_km) - part @ across)
                if len(part) < 3:
                    continue
                a = abs(_shoelace(part))
                if k == 0:
                    area += a
                    s = part @ along
                    s_lo, s_hi = min(s_lo, s.min()), max(s_hi, s.max())
                else:
                    area -= a
            if area > 1e-9 * self.area_km2 and np.isfinite(s_lo):
                starts.append(s_lo * along + qc * across)
                ends.append(s_hi * along + qc * across)
                areas.append(area)
        return np.array(starts).reshape(-1, 2), np.array(ends).reshape(-1, 2), np.array(areas)


def _check_lonlat(lat, lon, where):
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    bad = ~(np.abs(lat) <= 90.0)
    if np.any(bad):
        raise TargetError(f"{where}: latitude {lat[bad][0]:g} deg outside [-90, 90]")
    bad = ~(np.abs(lon) <= 180.0)
    if np.any(bad):
        raise TargetError(f"{where}: longitude {lon[bad][0]:g} deg outside [-180, 180]")


# --------------------------------------------------------------------------------------
# Target sets
# --------------------------------------------------------------------------------------

class Targets:
    """Point and polygon targets as columns ``(n_target,)``.

    ``ids`` (list of str), ``kind`` (``'point'`` / ``'polygon'``), ``latitude_deg``,
    ``longitude_deg`` (the centroid for polygons), ``altitude_m``, ``priority``,
    ``min_sun_elevation_deg``, ``max_off_nadir_deg``, ``mode`` (``'mono'`` / ``'stereo'``),
    ``area_km2`` (0 for points), ``sources`` (where each came from, for messages).
    ``polygons[i]`` is the list of rings (``(n, 2)`` longitude / latitude in degrees, shell
    first) for polygon ``i``, None for a point. Build with :meth:`from_points`,
    :func:`load_targets`, :func:`parse_targets_csv`, :func:`parse_targets_geojson`.
    """

    def __init__(self, ids, latitude_deg, longitude_deg, altitude_m, priority,
                 min_sun_elevation_deg, max_off_nadir_deg, mode, polygons=None, sources=None):
        self.ids = [str(i) for i in ids]
        n = len(self.ids)
        if n == 0:
            raise TargetError("no targets")

        def col(x):
            try:
                return np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()
            except (TypeError, ValueError):
                raise TargetError(f"target columns take {n} numbers, got {x!r}"[:200]) from None
        self.latitude_deg = col(latitude_deg)
        self.longitude_deg = col(longitude_deg)
        self.altitude_m = col(altitude_m)
        self.priority = col(priority)
        self.min_sun_elevation_deg = col(min_sun_elevation_deg)
        self.max_off_nadir_deg = col(max_off_nadir_deg)
        mode = [mode] * n if isinstance(mode, str) else list(mode)
        self.mode = np.array([str(m).strip().lower() for m in mode], dtype=object)
        self.sources = list(sources) if sources is not None else [f"target {i!r}" for i in self.ids]
        raw = list(polygons) if polygons is not None else [None] * n
        if len(raw) != n or len(self.mode) != n or len(self.sources) != n:
            raise TargetError("target columns of unequal length")
        self._validate()
        self._polygons = []
        self.polygons = []
        for i, rings in enumerate(raw):
            if rings is None:
                self._polygons.append(None)
                self.polygons.append(None)
                continue
            poly = rings if isinstance(rings, _Polygon) else _Polygon(
                rings, self.altitude_m[i] / 1000.0, self.sources[i])
            self._polygons.append(poly)
            self.polygons.append(poly.rings_lonlat)
            self.latitude_deg[i] = poly.latitude_deg
            self.longitude_deg[i] = poly.longitude_deg
        self.kind = np.array(["point" if p is None else "polygon" for p in self._polygons], dtype=object)
        self.area_km2 = np.array([0.0 if p is None else p.area_km2 for p in self._polygons])

    def _validate(self):
        seen = {}
        for i, key in enumerate(self.ids):
            where = self.sources[i]
            if not key.strip():
                raise TargetError(f"{where}: empty target id")
            if key in seen:
                raise TargetError(f"{where}: target id {key!r} already used at {self.sources[seen[key]]}")
            seen[key] = i
        checks = [
            ("latitude_deg", lambda: np.abs(self.latitude_deg) <= 90.0),
            ("longitude_deg", lambda: np.abs(self.longitude_deg) <= 180.0),
            ("altitude_m", lambda: (self.altitude_m >= _MIN_ALT_M) & (self.altitude_m <= _MAX_ALT_M)),
            ("priority", lambda: self.priority > 0),
            ("min_sun_elevation_deg", lambda: np.abs(self.min_sun_elevation_deg) <= 90.0),
            ("max_off_nadir_deg", lambda: (self.max_off_nadir_deg > 0) & (self.max_off_nadir_deg < 90)),
            ("mode", lambda: np.isin(self.mode, MODES)),
        ]
        for name, ok in checks:
            bad = ~ok()
            if not np.any(bad):
                continue
            i = int(np.flatnonzero(bad)[0])
            where = self.sources[i]
            if name != "mode" and not np.isfinite(getattr(self, name)[i]):
                raise TargetError(f"{where}: {name} is not a finite number")
            if name == "altitude_m":
                raise TargetError(f"{where}: altitude_m {self.altitude_m[i]:g} outside "
                                  f"[{_MIN_ALT_M:g}, {_MAX_ALT_M:g}]")
            _check_lonlat(self.latitude_deg[i], self.longitude_deg[i], where)
            _check_values(self.priority[i], self.min_sun_elevation_deg[i],
                          self.max_off_nadir_deg[i], self.mode[i], where)

    @classmethod
    def from_points(cls, ids, latitude_deg, longitude_deg, altitude_m=0.0, *,
                    defaults: TargetDefaults = TargetDefaults(), priority=None,
                    min_sun_elevation_deg=None, max_off_nadir_deg=None, mode=None) -> "Targets":
        """Point targets from arrays; omitted columns take ``defaults``."""
        pick = lambda v, d: d if v is None else v  # noqa: E731
        return cls(ids, latitude_deg, longitude_deg, altitude_m,
                   pick(priority, defaults.priority),
                   pick(min_sun_elevation_deg, defaults.min_sun_elevation_deg),
                   pick(max_off_nadir_deg, defaults.max_off_nadir_deg),
                   pick(mode, defaults.mode))

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        n_poly = int(np.count_nonzero(self.kind == "polygon"))
        return f"Targets({len(self) - n_poly} points, {n_poly} polygons)"

    def index(self, target_id: str) -> int:
        try:
            return self.ids.index(str(target_id))
        except ValueError:
            raise TargetError(f"unknown target {target_id!r}") from None

    def take(self, index) -> "Targets":
        """The targets at ``index`` (indices or a boolean mask)."""
        try:
            idx = np.arange(len(self))[index]
        except IndexError as exc:
            raise TargetError(f"targets: {exc}") from None
        return Targets([self.ids[i] for i in idx], self.latitude_deg[idx], self.longitude_deg[idx],
                       self.altitude_m[idx], self.priority[idx], self.min_sun_elevation_deg[idx],
                       self.max_off_nadir_deg[idx], self.mode[idx],
                       [self._polygons[i] for i in idx], [self.sources[i] for i in idx])

    def points(self) -> GroundPoints:
        """Every target (polygon centroids) as :class:`GroundPoints` ``(n_target,)``."""
        return GroundPoints.from_degrees(self.latitude_deg, self.longitude_deg, self.altitude_m,
                                         names=self.ids)

    def table(self) -> Table:
        """Columns ``id,kind,latitude_deg,longitude_deg,altitude_m,priority,
        min_sun_elevation_deg,max_off_nadir_deg,mode,area_km2``."""
        return Table({"id": np.array(self.ids, dtype=object), "kind": self.kind,
                      "latitude_deg": self.latitude_deg, "longitude_deg": self.longitude_deg,
                      "altitude_m": self.altitude_m, "priority": self.priority,
                      "min_sun_elevation_deg": self.min_sun_elevation_deg,
                      "max_off_nadir_deg": self.max_off_nadir_deg, "mode": self.mode,
                      "area_km2": self.area_km2},
                     {"latitude_deg": ".6f", "longitude_deg": ".6f", "area_km2": ".3f"})

    def strips(self, index: int, heading_deg: float, swath_km: float) -> "Strips":
        """Strips of polygon ``index`` parallel to ``heading_deg`` (azimuth of travel), one
        ``swath_km`` wide; see :class:`Strips`."""
        if not 0 <= index < len(self):
            raise TargetError(f"no target at index {index} ({len(self)} targets)")
        poly = self._polygons[index]
        if poly is None:
            raise TargetError(f"target {self.ids[index]!r} is a point, not a polygon")
        if not swath_km > 0:
            raise TargetError(f"swath must be positive, got {swath_km} km")
        start, end, area = poly.strips(math.radians(heading_deg), swath_km)
        return Strips(index, heading_deg, swath_km, poly.ecef_km(start), poly.ecef_km(end),
                      poly.ecef_km(0.5 * (start + end)), np.linalg.norm(end - start, axis=1),
                      area, area / poly.area_km2)


@dataclass
class Strips:
    """Strips of one polygon: ``start_ecef_km``, ``end_ecef_km``, ``mid_ecef_km`` ``(k, 3)``
    (centre line, start -> end along the direction of travel), ``length_km``, ``area_km2``
    (part of the polygon inside the strip) and ``share`` (that area over the polygon's),
    all ``(k,)``; ``target`` index, ``heading_deg``, ``swath_km``."""

    target: int
    heading_deg: float
    swath_km: float
    start_ecef_km: np.ndarray
    end_ecef_km: np.ndarray
    mid_ecef_km: np.ndarray
    length_km: np.ndarray
    area_km2: np.ndarray
    share: np.ndarray

    def __len__(self) -> int:
        return len(self.length_km)


# --------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------

def _number(value, key, where) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TargetError(f"{where}: {key} {value!r} is not a number") from None
    if not math.isfinite(x):
        raise TargetError(f"{where}: {key} {value!r} is not finite")
    return x


def _optional(get, key, default, where):
    raw = get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    if key == "mode":
        if not isinstance(raw, str):
            raise TargetError(f"{where}: mode {raw!r} is not one of {', '.join(MODES)}")
        mode = raw.strip().lower()
        if mode not in MODES:
            raise TargetError(f"{where}: mode {raw!r} is not one of {', '.join(MODES)}")
        return mode
    return _number(raw, key, where)


class _Rows:
    def __init__(self):
        self.ids, self.lat, self.lon, self.alt, self.pri = [], [], [], [], []
        self.sun, self.off, self.mode, self.poly, self.src = [], [], [], [], []

    def add(self, target_id, lat, lon, alt, get, defaults, where, polygon=None):
        _check_lonlat(lat, lon, where)
        values = [_optional(get, k, getattr(defaults, k), where) for k in _OPTIONAL]
        _check_values(*values, where)
        self.ids.append(target_id)
        self.lat.append(lat)
        self.lon.append(lon)
        self.alt.append(alt)
        self.pri.append(values[0])
        self.sun.append(values[1])
        self.off.append(values[2])
        self.mode.append(values[3])
        self.poly.append(polygon)
        self.src.append(where)

    def targets(self, source) -> Targets:
        if not self.ids:
            raise TargetError(f"{source}: no targets")
        return Targets(self.ids, self.lat, self.lon, self.alt, self.pri, self.sun, self.off,
                       self.mode, self.poly, self.src)


def parse_targets_csv(text: str, source: str = "<string>",
                      defaults: TargetDefaults = TargetDefaults()) -> Targets:
    """Point targets from CSV text (header in the module docstring)."""
    reader = csv.reader(io.StringIO(text))
    rows = [(i + 1, row) for i, row in enumerate(reader)
            if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise TargetError(f"{source}: no targets")
    header = [h.strip() for h in rows[0][1]]
    missing = [k for k in CSV_COLUMNS[:4] if k not in header]
    if missing:
        raise TargetError(f"{source}:{rows[0][0]}: header lacks {', '.join(missing)} "
                          f"(expected {','.join(CSV_COLUMNS)}; the last four optional)")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise TargetError(f"{source}:{rows[0][0]}: unknown column(s) {', '.join(unknown)} "
                          f"(expected {','.join(CSV_COLUMNS)})")
    col = {k: header.index(k) for k in header}
    out = _Rows()
    for line, row in rows[1:]:
        where = f"{source}:{line}"
        if len(row) != len(header):
            raise TargetError(f"{where}: {len(row)} fields, header has {len(header)}")
        get = lambda k: row[col[k]].strip() if k in col else None  # noqa: E731
        out.add(get("id"), _number(get("latitude_deg"), "latitude_deg", where),
                _number(get("longitude_deg"), "longitude_deg", where),
                _number(get("altitude_m"), "altitude_m", where), get, defaults,
                f"{where} ({get('id')})")
    return out.targets(source)


def _positions(coords, depth, where):
    """Validate nested GeoJSON coordinate arrays of ``depth`` (1 = one position)."""
    if depth == 1:
        if (not isinstance(coords, list) or len(coords) not in (2, 3)
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords)):
            raise TargetError(f"{where}: a position must be [longitude, latitude(, altitude)], "
                              f"got {json.dumps(coords)[:60]}")
        return [float(c) for c in coords]
    if not isinstance(coords, list) or not coords:
        raise TargetError(f"{where}: empty or malformed coordinates")
    return [_positions(c, depth - 1, where) for c in coords]


def parse_targets_geojson(text: str, source: str = "<string>",
                          defaults: TargetDefaults = TargetDefaults()) -> Targets:
    """Point and polygon targets from GeoJSON text (see the module docstring)."""
    data = parse_document(text, source, TargetError, "JSON")
    if isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    elif isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list):
            raise TargetError(f"{source}: FeatureCollection without a features list")
    else:
        raise TargetError(f"{source}: expected a GeoJSON FeatureCollection or Feature")
    out = _Rows()
    for n, feat in enumerate(features, start=1):
        where = f"{source}: feature {n}"
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            raise TargetError(f"{where}: not a GeoJSON Feature")
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            raise TargetError(f"{where}: properties must be an object")
        target_id = props.get("id", feat.get("id"))
        if target_id is None or not str(target_id).strip():
            raise TargetError(f"{where}: no id (give properties.id or the feature id)")
        target_id = str(target_id).strip()
        where = f"{where} ({target_id})"
        geom = feat.get("geometry")
        if not isinstance(geom, dict):
            raise TargetError(f"{where}: no geometry")
        kind = geom.get("type")
        coords = geom.get("coordinates")
        if kind == "Point":
            parts = [_positions(coords, 1, where)]
        elif kind == "MultiPoint":
            parts = _positions(coords, 2, where)
        elif kind == "Polygon":
            parts = [_positions(coords, 3, where)]
        elif kind == "MultiPolygon":
            parts = _positions(coords, 4, where)
        else:
            raise TargetError(f"{where}: geometry {kind!r} is not supported "
                              f"(Point, MultiPoint, Polygon, MultiPolygon)")
        get = props.get
        for k, part in enumerate(parts, start=1):
            pid = target_id if len(parts) == 1 else f"{target_id}-{k}"
            pwhere = where if len(parts) == 1 else f"{where} part {k}"
            if kind in ("Point", "MultiPoint"):
                alt = props.get("altitude_m", part[2] if len(part) == 3 else 0.0)
                out.add(pid, part[1], part[0], _number(alt, "altitude_m", pwhere), get,
                        defaults, pwhere)
            else:
                for r, ring in enumerate(part):
                    if len(ring) < 4 or ring[0] != ring[-1]:
                        raise TargetError(f"{pwhere}: polygon ring {r + 1} must be closed "
                                          f"(first position = last) with at least 4 positions")
                alt = _number(props.get("altitude_m", 0.0), "altitude_m", pwhere)
                poly = _Polygon(part, alt / 1000.0, pwhere)
                out.add(pid, poly.latitude_deg, poly.longitude_deg, alt, get, defaults, pwhere,
                        polygon=poly)
    return out.targets(source)


def load_targets(path, defaults: TargetDefaults = TargetDefaults()) -> Targets:
    """Targets from a CSV or GeoJSON file (GeoJSON when it ends in .geojson/.json or starts
    with ``{``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TargetError(f"{path}: not a text file") from None
    if path.suffix.lower() in (".geojson", ".json") or text.lstrip().startswith("{"):
        return parse_targets_geojson(text, str(path), defaults)
    return parse_targets_csv(text, str(path), defaults)


def bundled_targets(defaults: TargetDefaults = TargetDefaults()) -> Targets:
    """The bundled Taiwan target set (approximate public-knowledge coordinates)."""
    name = "data/taiwan_targets.geojson"
    text = resources.files("groundseg").joinpath(name).read_text(encoding="utf-8")
    return parse_targets_geojson(text, f"groundseg/{name}", defaults)
