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

Polygons (:mod:`groundseg.polygons`) are handled in the equal-area projection centred on
them, through GEOS: validity in O(n log n), a self-intersection reported where the edges
cross, areas on the ellipsoid, no polygon reaching more than 550 km from its centre. A polygon is
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

from . import budget
from .documents import document_number, parse_document
from .earth import GroundPoints
from .errors import GroundsegError
from .polygons import STRIP_BYTES, Polygon, PolygonError, check_lonlat
from .table import Table

__all__ = ["TargetError", "TargetDefaults", "Targets", "Strips", "MODES",
           "load_targets", "parse_targets_csv", "parse_targets_geojson", "bundled_targets"]

MODES = ("mono", "stereo")
CSV_COLUMNS = ("id", "latitude_deg", "longitude_deg", "altitude_m", "priority",
               "min_sun_elevation_deg", "max_off_nadir_deg", "mode")
_OPTIONAL = CSV_COLUMNS[4:]
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


def _polygon(rings, altitude_km, where) -> Polygon:
    try:
        return Polygon(rings, altitude_km, where)
    except PolygonError as exc:
        raise TargetError(str(exc)) from None


def _check_lonlat(lat, lon, where):
    check_lonlat(lat, lon, where, TargetError)


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
            poly = rings if isinstance(rings, Polygon) else _polygon(
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

    def _polygon(self, index: int, swath_km: float) -> Polygon:
        if not 0 <= index < len(self):
            raise TargetError(f"no target at index {index} ({len(self)} targets)")
        poly = self._polygons[index]
        if poly is None:
            raise TargetError(f"target {self.ids[index]!r} is a point, not a polygon")
        if not 0 < swath_km < math.inf:
            raise TargetError(f"swath must be a positive number of km, got {swath_km}")
        return poly

    def scene_fraction(self, index: int, heading_deg: float, swath_km: float,
                       length_km: float) -> float:
        """The part of target ``index`` inside one scene ``swath_km`` x ``length_km`` along
        ``heading_deg`` centred on it: the fraction of a polygon's area, 1 for a point."""
        if not 0 <= index < len(self):
            raise TargetError(f"no target at index {index} ({len(self)} targets)")
        if self._polygons[index] is None:
            return 1.0
        return self._polygon(index, swath_km).scene_fraction(math.radians(heading_deg), swath_km,
                                                               length_km)

    def strip_count(self, index: int, swath_km: float) -> float:
        """At least as many strips as :meth:`strips` makes of polygon ``index`` for any
        heading, found without making them."""
        return self._polygon(index, swath_km).strip_count(swath_km)

    def strips(self, index: int, heading_deg: float, swath_km: float) -> "Strips":
        """Strips of polygon ``index`` parallel to ``heading_deg`` (azimuth of travel), one
        ``swath_km`` wide; see :class:`Strips`."""
        poly = self._polygon(index, swath_km)
        n = poly.strip_count(swath_km)
        budget.require(n * STRIP_BYTES, f"swath_km {swath_km:g}",
                       f"{n:.3g} strips of target {self.ids[index]!r}")
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
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
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
        def get(key, props=props, where=where):
            value = props.get(key)
            if key == "mode" or value is None:
                return value
            return document_number(value, f"{where}: {key}", TargetError)

        for k, part in enumerate(parts, start=1):
            pid = target_id if len(parts) == 1 else f"{target_id}-{k}"
            pwhere = where if len(parts) == 1 else f"{where} part {k}"
            if kind in ("Point", "MultiPoint"):
                alt = get("altitude_m")
                alt = alt if alt is not None else part[2] if len(part) == 3 else 0.0
                out.add(pid, part[1], part[0], _number(alt, "altitude_m", pwhere), get,
                        defaults, pwhere)
            else:
                for r, ring in enumerate(part):
                    if len(ring) < 4 or ring[0] != ring[-1]:
                        raise TargetError(f"{pwhere}: polygon ring {r + 1} must be closed "
                                          f"(first position = last) with at least 4 positions")
                alt = _number(get("altitude_m") or 0.0, "altitude_m", pwhere)
                poly = _polygon(part, alt / 1000.0, pwhere)
                out.add(pid, poly.latitude_deg, poly.longitude_deg, alt, get, defaults, pwhere,
                        polygon=poly)
    return out.targets(source)


def load_targets(path, defaults: TargetDefaults = TargetDefaults()) -> Targets:
    """Targets from a CSV or GeoJSON file (GeoJSON when it ends in .geojson/.json or starts
    with ``{``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
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
