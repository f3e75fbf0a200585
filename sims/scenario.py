"""Scenarios: one TOML file describes a constellation study.

Units are part of every key name; a key the schema does not know is an error (with a
suggestion: ``swath_m`` -> did you mean ``swath_km``?). Paths are relative to the scenario
file. Every error is a :class:`~sims.errors.ScenarioError` reading
``FILE: key.path: what is wrong``. Schema::

    [scenario]                         # optional
    name = "FORMOSAT-8-like"           # default: the file's stem
    description = "..."

    [window]
    start = 2026-11-26T00:00:00Z       # TOML date-time or ISO 8601 string, UTC
    duration_h = 24.0                  # or: end = <date-time>  (exactly one of the two)
    step_s = 10.0                      # simulation step (> 0)

    [[satellites]]                     # one or more groups (one [satellites] table also works)
    kind = "bundled"                   # "bundled" | "file" | "walker" | "sso"
    name = "formosat8"                 #   bundled: the constellation's name
    # file:   path = "fleet.tle"       #   TLE or OMM (JSON / CSV / XML), select = [names or ids]
    # walker: inclination_deg, total, planes, phasing = 0, altitude_km, raan0_deg = 0
    # sso:    count, altitude_km, ltdn_h | ltan_h, planes = 1, phasing = 0
    # walker / sso: epoch (default: window start), first_norad_id, name_prefix
    sensor = "optical"                 # any kind: "optical" (default: [spacecraft]) or "sar" ([sar])

    [stations]                         # at least one station in the end
    bundled = true                     # the bundled network (groundseg/data/stations.toml)
    file = "stations.toml"             # and/or a CSV / TOML station file
    use = ["Hsinchu", "Svalbard"]      # optional: keep only these (unknown names are errors)
    [[stations.station]]               # and/or inline stations, keys as groundseg.stations:
    name = "..."                       #   latitude_deg, longitude_deg, altitude_m,
                                       #   min_elevation_deg, mask, antennas, setup_time_s,
                                       #   downlink_rate_mbps

    [targets]
    file = "bundled:taiwan"            # default; or a path (resolved lazily, see TargetsSpec)

    [spacecraft]                       # sims.spacecraft.SpacecraftModel
    swath_km = 10.0                    # > 0
    field_of_regard_deg = 45.0         # largest off-nadir angle, (0, 90)
    gsd_m = 1.0                        # optional: GSD at nadir (default 1)
    min_sun_elevation_deg = 10.0       # optional, at the target
    scene_duration_s = 10.0            # optional: one point-target image (default 10)
    memory_capacity_gbit = 512.0       # > 0
    initial_memory_gbit = 0.0          # default 0, <= capacity
    image_data_rate_gbit_s = 0.6       # while imaging; or image_volume_gbit + image_duration_s
    downlink_rate_mbps = 300.0         # transmitter; a pass runs at min(this, station rate)
    solar_array_power_w = 300.0        # >= 0
    battery_capacity_wh = 500.0        # > 0
    initial_charge_fraction = 1.0      # [0, 1], default 1
    min_charge_fraction = 0.3          # [0, 1], default 0 (the depth-of-discharge limit)
    charge_efficiency = 0.92           # (0, 1], default 1
    [spacecraft.agility]               # optional; the planner's models (groundseg.planning.agility)
    model = "piecewise"                # default: Liu et al. 2017, no parameters; or
    # model = "rate_acceleration"      #   per axis bang-coast-bang, then settling:
    # rate_deg_s = 1.5                 #   largest rate (required)
    # accel_deg_s2 = 0.3               #   acceleration (required)
    # settle_s = 8.0                   #   default 0
    [spacecraft.loads_w]               # every mode: idle, imaging, downlink, slew (each >= idle)
    idle = 90.0

    [sar]                              # required with a sensor = "sar" group (groundseg.sar)
    look_side = "both"                 # "left" | "right" | "both"
    max_radar_on_s_per_orbit = 180.0   # duty cycle, > 0
    radar_energy_wh_per_orbit = 50.0   # radar energy per orbit, > 0
    point_mode = "spotlight"           # the mode plans use for point targets
    area_mode = "stripmap"             # ... and for polygons
    memory_capacity_gbit = 256.0       # > 0
    initial_memory_gbit = 0.0          # default 0, <= capacity
    downlink_rate_mbps = 300.0         # transmitter
    [sar.agility]                      # optional, as [spacecraft.agility] (default: piecewise)
    [sar.modes.spotlight]              # optional: change a bundled mode (spotlight, stripmap,
    incidence_min_deg = 22.0           #   scansar) or add one: swath_km, scene_length_km,
                                       #   scene_duration_s, resolution_m, incidence_min_deg,
                                       #   incidence_max_deg, max_squint_deg, data_rate_gbit_s,
                                       #   radar_power_w (a new mode gives them all)

    [telemetry]                        # optional: the housekeeping the runner emits
    hk_period_s = 10.0                 # a multiple of window.step_s (default: the step)
    seed = 0                           # sensor noise

    [[faults]]                         # optional, any number (sims.faults)
    kind = "battery_cell_drop"         # | "wheel_overspeed" | "stuck_temperature"
    satellite = "FS8-3"                # name or NORAD id
    start = 2026-11-26T01:00:00Z       # or start_s = 3600 (seconds after the window start)
    duration_s = 600                   # optional (default: to the end of the window)
    cells_lost = 1                     # battery_cell_drop: 1..7
    # wheel_overspeed: wheel = 1..4, speed_rpm = 7000, ramp_s = 60
    # stuck_temperature: sensor = "battery_temp" | "obc_temp" | "payload_temp"

    [coverage]                         # optional defaults for `groundseg coverage --scenario`
    region_deg = [21.5, 25.5, 119.0, 122.5]   # lat_min, lat_max, lon_min, lon_max
    resolution_deg = 0.1
    step_s = 60.0
    duration_h = 168.0                 # optional: coverage window (default: the window's)

Use :func:`load_scenario` (a file) or :func:`bundled_scenario` (``formosat8``).
"""
from __future__ import annotations

import datetime as _dt
import difflib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from groundseg import budget
from groundseg.documents import parse_document
from groundseg.errors import GroundsegError
from groundseg.orbits import Constellation
from groundseg.stations import Station, bundled_stations, load_stations, station_from_mapping
from groundseg.timegrid import TimeGrid, format_utc, parse_utc

from .errors import ScenarioError, SimulationError
from .faults import BATTERY_CELLS, FAULT_KINDS, TEMPERATURE_SENSORS, Fault
from .scenario_sar import SarSpec, parse_sar
from .spacecraft import AGILITY_MODELS, MODES, SpacecraftModel

__all__ = ["Scenario", "Window", "SatelliteGroup", "TargetsSpec", "CoverageDefaults", "TelemetrySpec",
           "SarSpec",
           "load_scenario", "parse_scenario", "bundled_scenario", "bundled_scenario_path",
           "BUNDLED_SCENARIOS", "BUNDLED_TARGETS"]

BUNDLED_SCENARIOS = ("formosat8", "formosat8_sar")
BUNDLED_CONSTELLATIONS = ("formosat8",)
#: ``bundled:NAME`` target sets -> file stem in ``groundseg/data`` (any extension).
BUNDLED_TARGETS = {"taiwan": "taiwan_targets"}

_UNITS = {
    "_km": "kilometres", "_m": "metres", "_deg": "degrees", "_s": "seconds", "_h": "hours",
    "_w": "watts", "_wh": "watt-hours", "_gbit": "gigabits", "_gbit_s": "gigabits per second",
    "_mbps": "megabits per second", "_deg_s": "degrees per second",
    "_deg_s2": "degrees per second squared", "_fraction": "a fraction 0..1",
}


def _unit_of(key: str) -> str | None:
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if key.endswith(suffix):
            return _UNITS[suffix]
    return None


class _Node:
    """One TOML table being read: knows its file and key path, tracks the keys it used."""

    def __init__(self, data, source: str, path: str):
        self.source, self.path = source, path
        if not isinstance(data, dict):
            raise self.error(f"must be a table, got {_kind(data)}", here=True)
        self.data = data
        self.known: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, message: str, key: str | None = None, here: bool = False) -> ScenarioError:
        where = self.path if here or key is None else self.key(key)
        return ScenarioError(f"{self.source}: {where}: {message}" if where else f"{self.source}: {message}")

    def has(self, key: str) -> bool:
        self.known.add(key)
        return key in self.data

    def raw(self, key: str, default=None):
        self.known.add(key)
        return self.data.get(key, default)

    def missing(self, key: str, what: str) -> ScenarioError:
        """The error for a required key that is absent, pointing at a look-alike key if any."""
        strays = [k for k in self.data if k not in self.known]
        close = difflib.get_close_matches(key, strays, n=1, cutoff=0.6)
        hint = ""
        if close:
            hint = f"; found {close[0]!r} instead"
            if _unit_of(key) and _unit_of(close[0]) != _unit_of(key):
                hint += f" (units are part of key names: {key} is in {_unit_of(key)})"
        return self.error(f"missing ({what}){hint}", key)

    def number(self, key: str, what: str, *, default=None, required=False, lo=None, hi=None,
               lo_open=False, hi_open=False) -> float | None:
        self.known.add(key)
        if key not in self.data:
            if required:
                raise self.missing(key, what)
            return default
        value = self.raw(key)
        unit = _unit_of(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            unit_text = f" of {unit}" if unit else ""
            hint = " (units are part of the key name: write the bare number)" if isinstance(value, str) else ""
            raise self.error(f"must be a number{unit_text}, got {_kind(value)} {value!r}{hint}", key)
        x = float(value)
        if not np.isfinite(x):
            raise self.error(f"must be finite, got {value!r}", key)
        if lo is not None and (x < lo or (lo_open and x == lo)):
            raise self.error(f"{value!r} must be {'>' if lo_open else '>='} {lo:g} ({what})", key)
        if hi is not None and (x > hi or (hi_open and x == hi)):
            raise self.error(f"{value!r} must be {'<' if hi_open else '<='} {hi:g} ({what})", key)
        return x

    def integer(self, key: str, what: str, *, default=None, required=False, lo=None) -> int | None:
        self.known.add(key)
        if key not in self.data:
            if required:
                raise self.missing(key, what)
            return default
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"must be an integer, got {_kind(value)} {value!r}", key)
        if lo is not None and value < lo:
            raise self.error(f"{value} must be >= {lo} ({what})", key)
        return value

    def string(self, key: str, what: str, *, default=None, required=False) -> str | None:
        self.known.add(key)
        if key not in self.data:
            if required:
                raise self.missing(key, what)
            return default
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"must be a non-empty string, got {_kind(value)} {value!r}", key)
        return value.strip()

    def boolean(self, key: str, what: str, *, default=None) -> bool | None:
        self.known.add(key)
        if key not in self.data:
            return default
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(f"must be true or false, got {_kind(value)} {value!r}", key)
        return value

    def time(self, key: str, what: str, *, required=False):
        self.known.add(key)
        if key not in self.data:
            if required:
                raise self.missing(key, what)
            return None
        value = self.raw(key)
        if isinstance(value, _dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=_dt.timezone.utc)
        elif isinstance(value, _dt.date):
            value = _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc)
        elif not isinstance(value, str):
            raise self.error(f"must be a UTC date-time, got {_kind(value)} {value!r}", key)
        try:
            return parse_utc(value)[0]
        except GroundsegError as exc:
            raise self.error(str(exc), key) from None

    def child(self, key: str, what: str, *, required=False) -> "_Node | None":
        self.known.add(key)
        if key not in self.data:
            if required:
                raise self.missing(key, f"table: {what}")
            return None
        return _Node(self.raw(key), self.source, self.key(key))

    def finish(self, allowed=None) -> None:
        """Unknown keys are errors, with a suggestion when one is close."""
        known = set(allowed) if allowed is not None else self.known
        for key in self.data:
            if key in known:
                continue
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = ""
            if close:
                unit = _unit_of(close[0])
                hint = f"; did you mean {close[0]!r}" + (f" (in {unit})" if unit else "") + "?"
            elif known:
                hint = f" (known: {', '.join(sorted(known))})"
            raise self.error(f"unknown key{hint}", key)


def _kind(value) -> str:
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


# --- sections ---------------------------------------------------------------------------

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


@dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario. ``constellation`` is built, ``stations`` resolved."""

    name: str
    description: str
    source: str
    window: Window
    satellite_groups: tuple[SatelliteGroup, ...]
    constellation: Constellation
    stations: tuple[Station, ...]
    targets: TargetsSpec
    spacecraft: SpacecraftModel
    coverage: CoverageDefaults
    telemetry: TelemetrySpec | None = None
    faults: tuple[Fault, ...] = ()
    sar: SarSpec | None = None

    @property
    def satellite_sensors(self) -> tuple[str, ...]:
        """The sensor of each satellite of ``constellation`` (``optical`` / ``sar``)."""
        return tuple(g.sensor for g in self.satellite_groups for _ in range(g.count))

    def station(self, name: str) -> Station:
        for s in self.stations:
            if s.name == name:
                return s
        raise ScenarioError(f"{self.source}: unknown station {name!r} "
                            f"(have: {', '.join(s.name for s in self.stations)})")

    def downlink_rate_mbps(self, station) -> float:
        """The rate of a pass over ``station`` (a Station or name): the lower of the
        station's and the transmitter's rate."""
        s = self.station(station) if isinstance(station, str) else station
        rate = self.spacecraft.downlink_rate_mbps
        return rate if s.downlink_rate_mbps is None else min(rate, s.downlink_rate_mbps)

    def time_grid(self) -> TimeGrid:
        return self.window.time_grid()

    def coverage_window(self) -> tuple:
        """(start, end) of coverage runs: the window start plus ``[coverage] duration_h``,
        else the window."""
        hours = self.coverage.duration_h
        if hours is None:
            return self.window.start, self.window.end
        return self.window.start, self.window.start + np.timedelta64(int(round(hours * 3600e9)), "ns")

    def load_targets(self):
        """The scenario's targets; columns a target leaves empty take the spacecraft's
        field of regard and minimum Sun elevation (10 deg when the scenario has none)."""
        from groundseg.targets import TargetDefaults
        sp = self.spacecraft
        sun = 10.0 if sp.min_sun_elevation_deg is None else sp.min_sun_elevation_deg
        return self.targets.load(TargetDefaults(min_sun_elevation_deg=sun,
                                                max_off_nadir_deg=sp.field_of_regard_deg))

    def fleet(self):
        """A fresh :class:`~sims.spacecraft.Fleet` for every satellite of the scenario."""
        from .spacecraft import Fleet
        return Fleet(self.spacecraft, len(self.constellation))

    def to_dict(self) -> dict:
        """A JSON-ready summary of what the scenario resolved to."""
        return {
            "name": self.name, "description": self.description, "source": self.source,
            "window": self.window.to_dict(),
            "satellites": [{"name": n, "norad_id": int(i)} for n, i in
                           zip(self.constellation.names, self.constellation.norad_ids)],
            "satellite_groups": [{"kind": g.kind, "count": g.count, "sensor": g.sensor,
                                  **g.parameters} for g in self.satellite_groups],
            "stations": [{"name": s.name, "latitude_deg": s.latitude_deg,
                          "longitude_deg": s.longitude_deg, "altitude_m": s.altitude_m,
                          "min_elevation_deg": s.min_elevation_deg, "antennas": s.antennas,
                          "downlink_rate_mbps": self.downlink_rate_mbps(s)} for s in self.stations],
            "targets": self.targets.source,
            "spacecraft": self.spacecraft.to_dict(),
            "coverage": {"region_deg": list(self.coverage.region_deg) if self.coverage.region_deg else None,
                         "resolution_deg": self.coverage.resolution_deg,
                         "step_s": self.coverage.step_s, "duration_h": self.coverage.duration_h},
            "telemetry": {"hk_period_s": self.hk_period_s,
                          "seed": self.telemetry.seed if self.telemetry else 0},
            "faults": [f.to_dict() for f in self.faults],
            "sar": self.sar.to_dict() if self.sar else None,
        }

    @property
    def hk_period_s(self) -> float:
        """Housekeeping period: ``[telemetry] hk_period_s``, else the window step."""
        return self.telemetry.hk_period_s if self.telemetry else self.window.step_s


# --- loading ----------------------------------------------------------------------------

def bundled_scenario_path(name: str = "formosat8") -> Path:
    if name not in BUNDLED_SCENARIOS:
        raise ScenarioError(f"unknown bundled scenario {name!r} (have: {', '.join(BUNDLED_SCENARIOS)})")
    return Path(str(resources.files("sims").joinpath(f"scenarios/{name}.toml")))


def bundled_scenario(name: str = "formosat8") -> Scenario:
    """The bundled scenario (default: the FORMOSAT-8-like study)."""
    return load_scenario(bundled_scenario_path(name))


def load_scenario(path) -> Scenario:
    """Read and validate a scenario file (see the module docstring for the schema)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file") from None
    return parse_scenario(text, source=str(path), base_dir=path.parent)


def parse_scenario(text: str, *, source: str = "<string>", base_dir=".") -> Scenario:
    """A scenario from TOML text; relative paths resolve against ``base_dir``."""
    data = parse_document(text, source, ScenarioError, "TOML")
    base_dir = Path(base_dir)
    root = _Node(data, source, "")
    meta = root.child("scenario", "name and description")
    name = Path(source).stem if source != "<string>" else "scenario"
    description = ""
    if meta is not None:
        name = meta.string("name", "scenario name", default=name)
        description = meta.raw("description", "")
        if not isinstance(description, str):
            raise meta.error("must be a string", "description")
        meta.finish()
    window = _window(root.child("window", "start, duration_h or end, step_s", required=True))
    groups, constellation = _satellites(root, window, base_dir)
    stations = _stations(root.child("stations", "bundled, file, use, station", required=True), base_dir)
    targets = _targets(root.child("targets", "file"), base_dir, source)
    spacecraft = _spacecraft(root.child("spacecraft", "the spacecraft model", required=True))
    coverage = _coverage(root.child("coverage", "region_deg, resolution_deg, step_s"))
    telemetry = _telemetry(root.child("telemetry", "hk_period_s, seed"), window)
    _check_simulation_size(root, window, constellation)
    faults = _faults(root, window, constellation)
    sar = parse_sar(root.child("sar", "the SAR payload"), spacecraft, _agility)
    if (sar is None) != all(g.sensor == "optical" for g in groups):
        raise (root.error("missing table (the SAR payload of the sensor = \"sar\" satellite "
                          "groups)", "sar") if sar is None else
               root.error("no satellite group has sensor = \"sar\"", "sar"))
    root.finish(["scenario", "window", "satellites", "stations", "targets", "spacecraft", "coverage",
                 "telemetry", "faults", "sar"])
    return Scenario(name=name, description=description, source=source, window=window,
                    satellite_groups=tuple(groups), constellation=constellation,
                    stations=tuple(stations), targets=targets, spacecraft=spacecraft,
                    coverage=coverage, telemetry=telemetry, faults=tuple(faults), sar=sar)


#: Windows up to a leap year (TLE elements are not propagated further in earnest).
_MAX_DURATION_H = 366 * 24.0
#: Bytes a simulation run holds per (satellite, step): states, power, memory, attitude and
#: housekeeping (about 110 measured without telemetry), rounded up.
_SIM_STATE_BYTES = 256


def _check_simulation_size(root: _Node, window: Window, constellation: Constellation) -> None:
    """A run's memory against the budget before anything is built for it."""
    n_time = window.duration_s / window.step_s + 2
    try:
        budget.require(len(constellation) * n_time * _SIM_STATE_BYTES, "",
                       f"{len(constellation)} satellites x {n_time:.3g} steps")
    except budget.BudgetError as exc:
        raise root.error(f"{window.step_s:g} s: {exc.detail}", "window.step_s") from None


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


def _spacecraft(node: _Node) -> SpacecraftModel:
    n = node.number
    kw = dict(
        swath_km=n("swath_km", "imaging swath width in km", required=True, lo=0, lo_open=True),
        field_of_regard_deg=n("field_of_regard_deg", "largest off-nadir angle in degrees",
                              required=True, lo=0, lo_open=True, hi=90, hi_open=True),
        gsd_m=n("gsd_m", "ground sample distance in metres", lo=0, lo_open=True),
        scene_duration_s=n("scene_duration_s", "length of one point-target image, s", default=10.0,
                           lo=0, lo_open=True),
        min_sun_elevation_deg=n("min_sun_elevation_deg", "Sun elevation at the target",
                                lo=-90, hi=90),
        memory_capacity_gbit=n("memory_capacity_gbit", "on-board memory in Gbit", required=True,
                               lo=0, lo_open=True),
        initial_memory_gbit=n("initial_memory_gbit", "memory used at the start", default=0.0, lo=0),
        downlink_rate_mbps=n("downlink_rate_mbps", "transmitter rate in Mbit/s", required=True,
                             lo=0, lo_open=True),
        solar_array_power_w=n("solar_array_power_w", "array power in sunlight, W", required=True, lo=0),
        battery_capacity_wh=n("battery_capacity_wh", "battery capacity in Wh", required=True,
                              lo=0, lo_open=True),
        initial_charge_fraction=n("initial_charge_fraction", "charge at the start / capacity",
                                  default=1.0, lo=0, hi=1),
        min_charge_fraction=n("min_charge_fraction", "depth-of-discharge limit / capacity",
                              default=0.0, lo=0, hi=1),
        charge_efficiency=n("charge_efficiency", "battery charge efficiency", default=1.0,
                            lo=0, lo_open=True, hi=1),
    )
    rate = n("image_data_rate_gbit_s", "data rate while imaging, Gbit/s", lo=0)
    volume = n("image_volume_gbit", "data volume of one image, Gbit", lo=0, lo_open=True)
    duration = n("image_duration_s", "length of one image, s", lo=0, lo_open=True)
    if (rate is None) == (volume is None):
        raise node.error("give exactly one of image_data_rate_gbit_s and image_volume_gbit "
                         "(with image_duration_s)", here=True)
    if volume is not None:
        if duration is None:
            raise node.error("missing (image_volume_gbit needs the image length in s)",
                             "image_duration_s")
        rate = volume / duration
    elif duration is not None:
        raise node.error("only meaningful with image_volume_gbit", "image_duration_s")
    kw["image_data_rate_gbit_s"] = rate
    if kw["initial_memory_gbit"] > kw["memory_capacity_gbit"]:
        raise node.error(f"{kw['initial_memory_gbit']:g} exceeds memory_capacity_gbit "
                         f"{kw['memory_capacity_gbit']:g}", "initial_memory_gbit")
    kw["agility"] = _agility(node.child("agility", "slew model"))
    loads = node.child("loads_w", f"power per mode: {', '.join(MODES)}", required=True)
    kw["loads_w"] = {m: loads.number(m, f"load in mode {m}, W", required=True, lo=0) for m in MODES}
    for m in MODES[1:]:
        if kw["loads_w"][m] < kw["loads_w"]["idle"]:
            raise loads.error(f"{kw['loads_w'][m]:g} W is below idle {kw['loads_w']['idle']:g} W "
                              "(every mode adds equipment to the idle platform)", m)
    loads.finish()
    node.finish()
    try:
        return SpacecraftModel(**kw)
    except SimulationError as exc:  # pragma: no cover - the checks above come first
        raise node.error(str(exc), here=True) from None


def _agility(node: _Node | None):
    """The planner's agility model (:mod:`groundseg.planning.agility`); default piecewise."""
    from groundseg.planning.agility import PiecewiseAgility, RateAccelerationAgility
    if node is None:
        return PiecewiseAgility()
    model = node.string("model", f"one of {', '.join(AGILITY_MODELS)}", default="piecewise")
    if model not in AGILITY_MODELS:
        raise node.error(f"unknown agility model {model!r} (known: {', '.join(AGILITY_MODELS)})",
                         "model")
    if model == "piecewise":
        strays = [k for k in node.data if k != "model"]
        if strays:
            raise node.error("unknown key (the piecewise model of Liu et al. 2017 takes no "
                             "parameters; rate_deg_s / accel_deg_s2 / settle_s belong to "
                             "model = \"rate_acceleration\")", strays[0])
        return PiecewiseAgility()
    rate = node.number("rate_deg_s", "largest slew rate per axis, deg/s", required=True, lo=0,
                       lo_open=True)
    accel = node.number("accel_deg_s2", "slew acceleration per axis, deg/s2", required=True, lo=0,
                        lo_open=True)
    settle = node.number("settle_s", "settling time after a slew, s", default=0.0, lo=0)
    node.finish(set(AGILITY_MODELS[model]) | {"model"})
    return RateAccelerationAgility(rate_deg_s=rate, accel_deg_s2=accel, settle_s=settle)


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


def _faults(root: _Node, window: Window, constellation: Constellation) -> list[Fault]:
    if not root.has("faults"):
        return []
    raw = root.raw("faults")
    if not isinstance(raw, list):
        raise root.error("must be an array of tables ([[faults]])", "faults")
    names = list(constellation.names)
    ids = [int(i) for i in constellation.norad_ids]
    out = []
    for i, entry in enumerate(raw):
        node = _Node(entry, root.source, f"faults[{i}]")
        kind = node.string("kind", f"one of {', '.join(FAULT_KINDS)}", required=True)
        if kind not in FAULT_KINDS:
            raise node.error(f"unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)})", "kind")
        sat = node.raw("satellite")
        node.known.add("satellite")
        if sat is None:
            raise node.missing("satellite", "satellite name or NORAD id")
        if isinstance(sat, bool) or not isinstance(sat, (str, int)):
            raise node.error(f"must be a satellite name or NORAD id, got {_kind(sat)} {sat!r}",
                             "satellite")
        if isinstance(sat, int) or (isinstance(sat, str) and sat.strip().isdigit()
                                    and sat.strip() not in names):
            index = ids.index(int(sat)) if int(sat) in ids else None
        else:
            index = names.index(sat.strip()) if sat.strip() in names else None
        if index is None:
            shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
            raise node.error(f"unknown satellite {sat!r} (have: {shown})", "satellite")
        start = node.time("start", "fault start, UTC")
        offset = node.number("start_s", "fault start, seconds after the window start")
        if (start is None) == (offset is None):
            raise node.error("give exactly one of start (UTC) and start_s (seconds after the "
                             "window start)", here=True)
        if start is not None:
            offset = float((start - window.start) / np.timedelta64(1, "ns")) / 1e9
            where, shown = "start", format_utc(start)[0]
        else:
            where, shown = "start_s", f"{offset:g} s"
        if offset < 0 or offset >= window.duration_s:
            raise node.error(f"{shown} is outside the window {format_utc(window.start)[0]} .. "
                             f"{format_utc(window.end)[0]} ({window.duration_s:g} s)", where)
        duration = node.number("duration_s", "fault length, s", lo=0, lo_open=True)
        params = {}
        for key, default in FAULT_KINDS[kind].items():
            if key == "sensor":
                value = node.string(key, "temperature sensor", default=default)
                if value not in TEMPERATURE_SENSORS:
                    raise node.error(f"unknown sensor {value!r} (known: "
                                     f"{', '.join(TEMPERATURE_SENSORS)})", key)
            elif key == "cells_lost":
                value = node.integer(key, "cells lost", default=default, lo=1)
                if value >= BATTERY_CELLS:
                    raise node.error(f"{value} must be < {BATTERY_CELLS} (cells in the string)", key)
            elif key == "wheel":
                value = node.integer(key, "reaction wheel 1..4", default=default, lo=1)
                if value > 4:
                    raise node.error(f"{value} must be 1..4 (reaction wheels)", key)
            elif key == "ramp_s":
                value = node.number(key, "time to reach the runaway speed, s", default=default,
                                    lo=0, lo_open=True)
            elif key in ("command", "argument"):
                value = node.string(key, f"{key} name of the command dictionary", default=default)
            elif key in ("minimum", "maximum"):
                value = node.number(key, "on-board range bound", default=default)
            elif key == "entries":
                value = node.integer(key, "on-board schedule entries", default=default, lo=0)
            else:
                value = node.number(key, "runaway wheel speed, rpm", default=default)
            params[key] = value
        if kind == "onboard_limit":
            _onboard_limit(node, params)
        node.finish({"kind", "satellite", "start", "start_s", "duration_s", *FAULT_KINDS[kind]})
        out.append(Fault(kind, names[index], index, offset,
                         None if duration is None else offset + duration, params))
    return out


def _onboard_limit(node: _Node, p: dict) -> None:
    """An on-board range must name a numeric argument of the bundled command dictionary."""
    from telemetry.errors import CommandError
    from telemetry.tc_dictionary import CommandDictionary
    try:
        cmd = CommandDictionary.bundled().command(p["command"])
    except CommandError as exc:
        raise node.error(str(exc), "command") from None
    arg = next((a for a in cmd.arguments if a.name == p["argument"]), None)
    if arg is None or arg.type not in ("uint", "int", "float"):
        raise node.error(f"{p['argument']!r} is not a numeric argument of {cmd.name}", "argument")
    if not p["minimum"] <= p["maximum"]:
        raise node.error(f"minimum {p['minimum']:g} is above maximum {p['maximum']:g}", "minimum")


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
