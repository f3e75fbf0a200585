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

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from groundseg import budget
from groundseg.documents import parse_document
from groundseg.orbits import Constellation
from groundseg.stations import Station
from groundseg.timegrid import TimeGrid

from ._scenario_node import _Node
from ._scenario_sections import (BUNDLED_TARGETS, CoverageDefaults, SatelliteGroup, TargetsSpec,
                                 TelemetrySpec, Window, _coverage, _satellites, _stations,
                                 _targets, _telemetry, _window)
from ._scenario_spacecraft import _agility, _faults, _spacecraft
from .errors import ScenarioError
from .faults import Fault
from .scenario_sar import SarSpec, parse_sar
from .spacecraft import SpacecraftModel

__all__ = ["Scenario", "Window", "SatelliteGroup", "TargetsSpec", "CoverageDefaults", "TelemetrySpec",
           "SarSpec",
           "load_scenario", "parse_scenario", "bundled_scenario", "bundled_scenario_path",
           "BUNDLED_SCENARIOS", "BUNDLED_TARGETS"]

BUNDLED_SCENARIOS = ("formosat8", "formosat8_sar")

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
