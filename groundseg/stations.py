"""Ground stations: definitions, horizon masks, CSV / TOML files, the bundled network.

CSV header: ``name,latitude_deg,longitude_deg,altitude_m[,min_elevation_deg]``.
TOML: one ``[[station]]`` table each with those keys plus optional ``mask`` (a list of
``[azimuth_deg, elevation_deg]`` points, linear in azimuth between them and wrapping at
360), ``antennas`` (default 1), ``setup_time_s`` (time to re-point an antenna between two
tracks, default 60) and ``downlink_rate_mbps``.

The bundled network (Hsinchu, Taoyuan, Tainan, Svalbard, Troll) uses approximate public
coordinates, not surveyed antenna positions.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from . import budget
from .documents import document_number, parse_document
from .earth import GroundPoints
from .errors import StationError

__all__ = ["Station", "load_stations", "parse_stations_csv", "parse_stations_toml",
           "bundled_stations", "station_points", "mask_elevation_rad", "validate_station",
           "station_from_mapping"]

MIN_MASK_DEG, MAX_MASK_DEG = -5.0, 90.0
#: Bytes one antenna costs its station's contact planning (free times, assignments), rounded up.
ANTENNA_BYTES = 64


@dataclass(frozen=True)
class Station:
    """One ground station. Angles in degrees, altitude in metres (file units)."""

    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0
    min_elevation_deg: float = 5.0
    mask: tuple[tuple[float, float], ...] = ()
    antennas: int = 1
    setup_time_s: float = 60.0
    downlink_rate_mbps: float | None = None
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    def mask_elevation_deg(self, azimuth_deg) -> np.ndarray:
        """Horizon elevation (deg) the satellite must clear at ``azimuth_deg``: the larger of
        ``min_elevation_deg`` and the mask."""
        return np.degrees(mask_elevation_rad(self, np.radians(azimuth_deg)))


def mask_elevation_rad(station: Station, azimuth_rad) -> np.ndarray:
    """The station's required elevation (rad) at the given azimuths (rad), any shape."""
    az = np.asarray(azimuth_rad, dtype=float)
    floor = np.radians(station.min_elevation_deg)
    if not station.mask:
        return np.full(az.shape, floor)
    pts = np.radians(np.array(station.mask, dtype=float))
    order = np.argsort(pts[:, 0])
    xp, fp = pts[order, 0], pts[order, 1]
    # Close the loop: linear between the last point and the first one + 360 deg.
    xp = np.concatenate([xp[-1:] - 2 * np.pi, xp, xp[:1] + 2 * np.pi])
    fp = np.concatenate([fp[-1:], fp, fp[:1]])
    return np.maximum(np.interp(np.mod(az, 2 * np.pi), xp, fp), floor)


def validate_station(station: Station, where: str) -> Station:
    """``station`` itself if every field is in range, else a StationError naming ``where``."""
    if not station.name:
        raise StationError(f"{where}: station without a name")
    if not -90.0 <= station.latitude_deg <= 90.0:
        raise StationError(f"{where}: latitude {station.latitude_deg} deg outside [-90, 90]")
    if not -180.0 <= station.longitude_deg <= 360.0:
        raise StationError(f"{where}: longitude {station.longitude_deg} deg outside [-180, 360]")
    if not MIN_MASK_DEG <= station.min_elevation_deg <= MAX_MASK_DEG:
        raise StationError(f"{where}: minimum elevation {station.min_elevation_deg} deg outside "
                           f"[{MIN_MASK_DEG:g}, {MAX_MASK_DEG:g}]")
    for az, el in station.mask:
        if not 0.0 <= az <= 360.0:
            raise StationError(f"{where}: mask azimuth {az} deg outside [0, 360]")
        if not MIN_MASK_DEG <= el <= MAX_MASK_DEG:
            raise StationError(f"{where}: mask elevation {el} deg outside "
                               f"[{MIN_MASK_DEG:g}, {MAX_MASK_DEG:g}]")
    if station.antennas < 1:
        raise StationError(f"{where}: antennas must be at least 1, got {station.antennas}")
    try:
        budget.require(station.antennas * ANTENNA_BYTES, f"antennas {station.antennas}",
                       f"{station.antennas:,} antennas at {station.name}")
    except budget.BudgetError as exc:
        raise StationError(f"{where}: {exc}") from None
    if station.setup_time_s < 0:
        raise StationError(f"{where}: setup_time_s must not be negative")
    if station.downlink_rate_mbps is not None and station.downlink_rate_mbps <= 0:
        raise StationError(f"{where}: downlink_rate_mbps must be positive")
    return station


def _number(value, key: str, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise StationError(f"{where}: {key} {value!r} is not a number") from None
    if not np.isfinite(x):
        raise StationError(f"{where}: {key} {value!r} is not finite")
    return x


def parse_stations_csv(text: str, source: str = "<string>") -> list[Station]:
    """Stations from CSV text (header ``name,latitude_deg,longitude_deg,altitude_m[,min_elevation_deg]``)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    rows = [(i + 1, row) for i, row in enumerate(reader) if row and any(c.strip() for c in row)
            and not row[0].lstrip().startswith("#")]
    if not rows:
        raise StationError(f"{source}: no stations")
    header = [h.strip() for h in rows[0][1]]
    required = ["name", "latitude_deg", "longitude_deg", "altitude_m"]
    missing = [k for k in required if k not in header]
    if missing:
        raise StationError(f"{source}:{rows[0][0]}: header lacks {', '.join(missing)} "
                           f"(expected name,latitude_deg,longitude_deg,altitude_m[,min_elevation_deg])")
    col = {k: header.index(k) for k in header}
    out = []
    for line, row in rows[1:]:
        where = f"{source}:{line}"
        optional = {"min_elevation_deg"}
        needed = 1 + max(col[k] for k in col if k not in optional)
        if len(row) < needed or len(row) > len(header):
            raise StationError(f"{where}: {len(row)} fields, header has {len(header)}")
        get = lambda k: row[col[k]].strip() if col[k] < len(row) else ""  # noqa: E731
        kwargs = dict(
            name=get("name"),
            latitude_deg=_number(get("latitude_deg"), "latitude_deg", where),
            longitude_deg=_number(get("longitude_deg"), "longitude_deg", where),
            altitude_m=_number(get("altitude_m"), "altitude_m", where),
        )
        if "min_elevation_deg" in col and get("min_elevation_deg"):
            kwargs["min_elevation_deg"] = _number(get("min_elevation_deg"), "min_elevation_deg", where)
        out.append(validate_station(Station(**kwargs), where))
    return _unique(out, source)


_TOML_KEYS = {"name", "latitude_deg", "longitude_deg", "altitude_m", "min_elevation_deg", "mask",
              "antennas", "setup_time_s", "downlink_rate_mbps"}


def station_from_mapping(entry: dict, where: str) -> Station:
    """A Station from a TOML / JSON table (keys as in the module docstring)."""
    if not isinstance(entry, dict):
        raise StationError(f"{where}: a station must be a table")
    for key in ("name", "latitude_deg", "longitude_deg"):
        if key not in entry:
            raise StationError(f"{where}: missing key {key!r}")
    def number(key, default=None):
        return document_number(entry.get(key, default), f"{where}: {key}", StationError)

    mask = entry.get("mask", ())
    if not (isinstance(mask, list) or mask == ()) or not all(
            isinstance(p, list) and len(p) == 2 for p in mask):
        raise StationError(f"{where}: mask must be a list of [azimuth_deg, elevation_deg] pairs")
    mask = tuple((document_number(az, f"{where}: mask azimuth", StationError),
                  document_number(el, f"{where}: mask elevation", StationError)) for az, el in mask)
    antennas = entry.get("antennas", 1)
    if not isinstance(antennas, int) or isinstance(antennas, bool):
        raise StationError(f"{where}: antennas must be an integer, got {antennas!r}")
    rate = entry.get("downlink_rate_mbps")
    name = entry["name"]
    if not isinstance(name, str):
        raise StationError(f"{where}: name must be a string, got {name!r}")
    station = Station(
        name=name.strip(),
        latitude_deg=number("latitude_deg"),
        longitude_deg=number("longitude_deg"),
        altitude_m=number("altitude_m", 0.0),
        min_elevation_deg=number("min_elevation_deg", 5.0),
        mask=mask,
        antennas=antennas,
        setup_time_s=number("setup_time_s", 60.0),
        downlink_rate_mbps=None if rate is None else number("downlink_rate_mbps"),
        extra={k: v for k, v in entry.items() if k not in _TOML_KEYS},
    )
    return validate_station(station, where)


def parse_stations_toml(text: str, source: str = "<string>") -> list[Station]:
    """Stations from TOML text with ``[[station]]`` tables."""
    data = parse_document(text, source, StationError, "TOML")
    entries = data.get("station")
    if not isinstance(entries, list) or not entries:
        raise StationError(f"{source}: no [[station]] tables")
    return _unique([station_from_mapping(e, f"{source}: station {i + 1}")
                    for i, e in enumerate(entries)], source)


def _unique(stations: list[Station], source: str) -> list[Station]:
    seen = set()
    for s in stations:
        if s.name in seen:
            raise StationError(f"{source}: station name {s.name!r} appears twice")
        seen.add(s.name)
    return stations


def load_stations(path) -> list[Station]:
    """Stations from a CSV or TOML file (TOML when the name ends in .toml or it has [[station]])."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise StationError(f"{path}: not a text file") from None
    if path.suffix.lower() == ".toml" or "[[station]]" in text:
        return parse_stations_toml(text, str(path))
    return parse_stations_csv(text, str(path))


def bundled_stations() -> list[Station]:
    """Hsinchu, Taoyuan, Tainan, Svalbard, Troll (approximate coordinates)."""
    text = resources.files("groundseg").joinpath("data/stations.toml").read_text(encoding="utf-8")
    return parse_stations_toml(text, "groundseg/data/stations.toml")


def station_points(stations) -> GroundPoints:
    """The stations as :class:`GroundPoints` ``(n_site,)``."""
    return GroundPoints.from_degrees([s.latitude_deg for s in stations],
                                     [s.longitude_deg for s in stations],
                                     [s.altitude_m for s in stations],
                                     names=[s.name for s in stations])
