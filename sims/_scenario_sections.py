"""The scenario's sections (window, satellites, stations, targets, telemetry, coverage): their
values and readers. The schema is in :mod:`sims.scenario`."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from groundseg.errors import GroundsegError
from groundseg.orbits import Constellation
from groundseg.stations import Station, bundled_stations, load_stations, station_from_mapping
from groundseg.timegrid import TimeGrid, format_utc

from ._scenario_node import _Node
from .errors import ScenarioError

BUNDLED_CONSTELLATIONS = ("formosat8",)
#: ``bundled:NAME`` target sets -> file stem in ``groundseg/data`` (any extension).
BUNDLED_TARGETS = {"taiwan": "taiwan_targets"}
#: Windows up to a leap year (TLE elements are not propagated further in earnest).
_MAX_DURATION_H = 366 * 24.0


@dataclass(frozen=True)
class Window:
    """Simulation window: UTC ``start`` / ``end`` (``datetime64[ns]``) and ``step_s``."""

    start: np.datetime64
    end: np.datetime64
    step_s: float

    @property
    def duration_s(self) -> float:
        return float((self.end - self.start) / np.timedelta64(1, "ns")) / 1e9

    def time_grid(self, step_s: float | None = None) -> TimeGrid:
        """Instants from start to end every ``step_s`` (default the window's), end included."""
        return TimeGrid.range(self.start, self.end, step_s or self.step_s)

    def to_dict(self) -> dict:
        return {"start_utc": format_utc(self.start)[0], "end_utc": format_utc(self.end)[0],
                "duration_h": self.duration_s / 3600.0, "step_s": self.step_s}


@dataclass(frozen=True)
class SatelliteGroup:
    """One ``[[satellites]]`` entry: ``kind`` and its parameters, ``count`` satellites, the
    ``sensor`` they carry (``optical`` or ``sar``)."""

    kind: str
    parameters: dict
    count: int
    sensor: str = "optical"


@dataclass(frozen=True)
class TargetsSpec:
    """The target set: ``source`` is ``bundled:NAME`` or a path (relative to ``base_dir``).

    Resolved only when asked (:meth:`path`), so a scenario loads before the target file
    exists; the file's format belongs to :mod:`groundseg.targets`.
    """

    source: str
    base_dir: Path
    where: str = ""

    @property
    def bundled_name(self) -> str | None:
        return self.source.split(":", 1)[1] if self.source.startswith("bundled:") else None

    def path(self) -> Path:
        """The target file; :class:`ScenarioError` if it does not exist."""
        name = self.bundled_name
        if name is None:
            p = (self.base_dir / self.source)
            if not p.is_file():
                raise ScenarioError(f"{self.where}: target file {p} does not exist")
            return p
        stem = BUNDLED_TARGETS[name]
        data = resources.files("groundseg").joinpath("data")
        found = sorted(Path(str(e)) for e in data.iterdir() if e.name.split(".")[0] == stem) \
            if data.is_dir() else []
        if not found:
            raise ScenarioError(f"{self.where}: the bundled target set {name!r} "
                                f"(groundseg/data/{stem}.*) is not installed")
        return found[0]

    def load(self, defaults=None):
        """The targets (:func:`groundseg.targets.load_targets`), with ``defaults`` for the
        optional columns (a :class:`groundseg.targets.TargetDefaults`)."""
        from groundseg.targets import TargetDefaults, load_targets
        try:
            return load_targets(self.path(), defaults or TargetDefaults())
        except GroundsegError as exc:
            raise ScenarioError(f"{self.where}: {exc}") from None


@dataclass(frozen=True)
class CoverageDefaults:
    """``[coverage]``: region ``(lat_min, lat_max, lon_min, lon_max)`` deg, resolution, step,
    and the length of the coverage window from the scenario's start (None: the window)."""

    region_deg: tuple[float, float, float, float] | None = None
    resolution_deg: float | None = None
    step_s: float | None = None
    duration_h: float | None = None


@dataclass(frozen=True)
class TelemetrySpec:
    """``[telemetry]``: housekeeping every ``hk_period_s`` (a multiple of the step), noise seed."""

    hk_period_s: float
    seed: int = 0


def _window(node: _Node) -> Window:
    start = node.time("start", "window start, UTC", required=True)
    end = node.time("end", "window end, UTC")
    if node.has("duration_h") == (end is not None):
        raise node.error("give exactly one of duration_h and end", here=True)
    if end is None:
        hours = node.number("duration_h", "window length in hours", lo=0, lo_open=True,
                            hi=_MAX_DURATION_H)
        end = start + np.timedelta64(int(round(hours * 3600e9)), "ns")
    elif end <= start:
        raise node.error(f"{format_utc(end)[0]} is not after start {format_utc(start)[0]}", "end")
    step = node.number("step_s", "simulation step in seconds", required=True, lo=0, lo_open=True)
    node.finish()
    return Window(start, end, step)


_GROUP_KEYS = {
    "bundled": {"kind", "name", "sensor"},
    "file": {"kind", "path", "select", "sensor"},
    "walker": {"kind", "inclination_deg", "total", "planes", "phasing", "altitude_km", "raan0_deg",
               "epoch", "first_norad_id", "name_prefix", "sensor"},
    "sso": {"kind", "count", "altitude_km", "ltdn_h", "ltan_h", "planes", "phasing", "epoch",
            "first_norad_id", "name_prefix", "sensor"},
}
_SENSORS = ("optical", "sar")


def _satellites(root: _Node, window: Window, base_dir: Path):
    if not root.has("satellites"):
        raise root.error("missing table (satellites: bundled, file, walker or sso)", "satellites")
    raw = root.raw("satellites")
    entries = raw if isinstance(raw, list) else [raw]
    if not entries:
        raise root.error("no satellite groups", "satellites")
    groups, records = [], []
    for i, entry in enumerate(entries):
        path = f"satellites[{i}]" if isinstance(raw, list) else "satellites"
        node = _Node(entry, root.source, path)
        group, constellation = _satellite_group(node, window, base_dir)
        groups.append(group)
        records.extend(constellation.records)
    seen: dict[int, str] = {}
    for r in records:
        if r.norad_id in seen:
            raise root.error(f"NORAD id {r.norad_id} appears twice ({seen[r.norad_id]} and "
                             f"{r.name}); give the groups different first_norad_id", "satellites")
        seen[r.norad_id] = r.name
    return groups, Constellation(records)


def _satellite_group(node: _Node, window: Window, base_dir: Path):
    kind = node.string("kind", "bundled, file, walker or sso", required=True)
    if kind not in _GROUP_KEYS:
        raise node.error(f"unknown kind {kind!r} (bundled, file, walker or sso)", "kind")
    params: dict = {}
    try:
        if kind == "bundled":
            name = node.string("name", "bundled constellation name", default="formosat8")
            if name not in BUNDLED_CONSTELLATIONS:
                raise node.error(f"unknown bundled constellation {name!r} "
                                 f"(have: {', '.join(BUNDLED_CONSTELLATIONS)})", "name")
            params["name"] = name
            c = Constellation.formosat8(window.start)
        elif kind == "file":
            rel = node.string("path", "TLE or OMM file, relative to the scenario", required=True)
            p = base_dir / rel
            if not p.is_file():
                raise node.error(f"file {p} does not exist", "path")
            c = Constellation.from_file(p)
            if c.catalog_errors:
                raise node.error(f"{p}: {len(c.catalog_errors)} bad record(s), first: "
                                 f"{c.catalog_errors[0]}", "path")
            select = node.raw("select")
            if select is not None:
                if not isinstance(select, list) or not select:
                    raise node.error("must be a non-empty array of names or NORAD ids", "select")
                try:
                    c = c.subset(select)
                except GroundsegError as exc:
                    raise node.error(str(exc), "select") from None
            params.update(path=str(p), select=select)
        else:
            epoch = node.time("epoch", "element epoch, UTC")
            epoch = window.start if epoch is None else epoch
            common = dict(
                first_norad_id=node.integer("first_norad_id", "first NORAD id", default=90001, lo=1),
                name_prefix=node.string("name_prefix", "satellite name prefix",
                                        default="WALKER" if kind == "walker" else "SSO"),
            )
            alt = node.number("altitude_km", "orbit altitude in km", required=True, lo=100.0, hi=40000.0)
            if kind == "walker":
                args = dict(
                    inclination_deg=node.number("inclination_deg", "inclination", required=True,
                                                lo=0.0, hi=180.0),
                    total=node.integer("total", "number of satellites T", required=True, lo=1),
                    planes=node.integer("planes", "number of planes P", required=True, lo=1),
                    phasing=node.integer("phasing", "phasing F", default=0, lo=0),
                    altitude_km=alt,
                )
                raan0 = node.number("raan0_deg", "RAAN of the first plane", default=0.0)
                c = Constellation.walker(**args, epoch=epoch, raan0_deg=raan0, **common)
                params.update(args, raan0_deg=raan0)
            else:
                ltdn = node.number("ltdn_h", "local time of descending node, hours", lo=0.0, hi=24.0,
                                   hi_open=True)
                ltan = node.number("ltan_h", "local time of ascending node, hours", lo=0.0, hi=24.0,
                                   hi_open=True)
                if (ltdn is None) == (ltan is None):
                    raise node.error("give exactly one of ltdn_h and ltan_h", here=True)
                args = dict(
                    n=node.integer("count", "number of satellites", required=True, lo=1),
                    altitude_km=alt,
                    planes=node.integer("planes", "number of planes", default=1, lo=1),
                    phasing=node.integer("phasing", "phasing", default=0, lo=0),
                )
                c = Constellation.sun_synchronous(**args, epoch=epoch, ltdn_h=ltdn, ltan_h=ltan,
                                                  **common)
                params.update(args, ltdn_h=ltdn, ltan_h=ltan)
            params.update(common, epoch=format_utc(epoch)[0])
    except GroundsegError as exc:
        raise node.error(str(exc), here=True) from None
    sensor = node.string("sensor", "optical or sar", default="optical")
    if sensor not in _SENSORS:
        raise node.error(f"unknown sensor {sensor!r} (optical or sar)", "sensor")
    node.finish(_GROUP_KEYS[kind])
    return SatelliteGroup(kind, params, len(c), sensor), c


def _stations(node: _Node, base_dir: Path) -> list[Station]:
    stations: list[Station] = []
    try:
        if node.boolean("bundled", "use the bundled network", default=False):
            stations.extend(bundled_stations())
        rel = node.string("file", "station file, relative to the scenario")
        if rel is not None:
            p = base_dir / rel
            if not p.is_file():
                raise node.error(f"file {p} does not exist", "file")
            stations.extend(load_stations(p))
        inline = node.raw("station", [])
        if not isinstance(inline, list):
            raise node.error("must be an array of tables ([[stations.station]])", "station")
        for i, entry in enumerate(inline):
            stations.append(station_from_mapping(entry, f"{node.source}: {node.key('station')}[{i}]"))
    except GroundsegError as exc:
        message = str(exc)
        if not message.startswith(node.source):
            message = f"{node.source}: stations: {message}"
        raise ScenarioError(message) from None
    names = [s.name for s in stations]
    for n in names:
        if names.count(n) > 1:
            raise node.error(f"station {n!r} is defined twice", here=True)
    use = node.raw("use")
    if use is not None:
        if not isinstance(use, list) or not use or not all(isinstance(u, str) for u in use):
            raise node.error("must be a non-empty array of station names", "use")
        unknown = [u for u in use if u not in names]
        if unknown:
            raise node.error(f"unknown station {unknown[0]!r} (have: {', '.join(names) or 'none'})",
                             "use")
        stations = [s for s in stations if s.name in use]
    if not stations:
        raise node.error("no stations (set bundled = true, file = ..., or [[stations.station]])",
                         here=True)
    node.finish(["bundled", "file", "station", "use"])
    return stations


def _targets(node: _Node | None, base_dir: Path, source: str) -> TargetsSpec:
    if node is None:
        return TargetsSpec("bundled:taiwan", base_dir, f"{source}: targets.file")
    value = node.string("file", "bundled:NAME or a path", default="bundled:taiwan")
    node.finish()
    spec = TargetsSpec(value, base_dir, f"{source}: {node.key('file')}")
    name = spec.bundled_name
    if name is not None and name not in BUNDLED_TARGETS:
        raise node.error(f"unknown bundled target set {name!r} (have: {', '.join(BUNDLED_TARGETS)})",
                         "file")
    return spec


def _telemetry(node: _Node | None, window: Window) -> TelemetrySpec | None:
    if node is None:
        return None
    period = node.number("hk_period_s", "housekeeping period, s", default=window.step_s, lo=0,
                         lo_open=True)
    ratio = period / window.step_s
    if abs(ratio - round(ratio)) > 1e-9 * max(1.0, ratio) or round(ratio) < 1:
        raise node.error(f"{period:g} s is not a whole multiple of window.step_s "
                         f"{window.step_s:g} s", "hk_period_s")
    seed = node.integer("seed", "sensor noise seed", default=0, lo=0)
    node.finish()
    return TelemetrySpec(float(round(ratio) * window.step_s), int(seed))


def _coverage(node: _Node | None) -> CoverageDefaults:
    if node is None:
        return CoverageDefaults()
    region = node.raw("region_deg")
    if region is not None:
        if (not isinstance(region, list) or len(region) != 4
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in region)):
            raise node.error("must be [lat_min, lat_max, lon_min, lon_max] in degrees", "region_deg")
        lat0, lat1, lon0, lon1 = (float(x) for x in region)
        if not -90 <= lat0 < lat1 <= 90 or not -360 <= lon0 <= 360 or not -360 <= lon1 <= 360:
            raise node.error(f"{region} is not [lat_min < lat_max in -90..90, lon_min, lon_max]",
                             "region_deg")
        region = (lat0, lat1, lon0, lon1)
    res = node.number("resolution_deg", "grid resolution in degrees", lo=0, lo_open=True, hi=90)
    if region is not None and res is not None:
        from .coverage import CoverageGrid
        try:
            CoverageGrid(*region, res)
        except GroundsegError as exc:
            raise node.error(getattr(exc, "detail", str(exc)), "resolution_deg") from None
    step = node.number("step_s", "coverage search grid step, s", lo=0, lo_open=True)
    hours = node.number("duration_h", "coverage window from the scenario start, h", lo=0,
                        lo_open=True, hi=_MAX_DURATION_H)
    node.finish()
    return CoverageDefaults(region, res, step, hours)
