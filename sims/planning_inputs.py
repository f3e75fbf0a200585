"""A scenario as planning inputs: the spacecraft the planner sees, the sensor, target defaults.

- :func:`imaging_spacecraft`: :class:`groundseg.planning.imaging.ImagingSpacecraft` with the
  scenario's memory, initial volume, imaging data rate, transmitter rate and agility model
  (the very object the simulation flies).
- :func:`sensor`: :class:`groundseg.access.Sensor` with the GSD (at nadir, from the
  constellation's mean altitude), swath and point-target image length.
- :func:`target_defaults`: the field of regard and the minimum Sun elevation for targets
  that do not give their own (10 deg when the scenario has none).
- :func:`plan_inputs_from_args`: the ``groundseg plan --scenario FILE`` hook
  (``groundseg._cli_common.scenario_loader``); ``--tle``, ``--targets``, ``--stations``,
  ``--start`` / ``--end``, ``--max-off-nadir``, ``--min-sun-elevation`` and ``--satellite``
  override the scenario.
"""
from __future__ import annotations

import numpy as np

from groundseg.earth import MU_EARTH_KM3_S2, WGS84_A_KM

from .errors import SimulationError

__all__ = ["imaging_spacecraft", "sensor", "target_defaults", "plan_inputs",
           "plan_inputs_from_args", "mean_altitude_km"]


def imaging_spacecraft(model):
    """The planner's view of a :class:`~sims.spacecraft.SpacecraftModel`."""
    from groundseg.planning.imaging import ImagingSpacecraft
    return ImagingSpacecraft(memory_capacity_gbit=model.memory_capacity_gbit,
                             initial_memory_gbit=model.initial_memory_gbit,
                             image_data_rate_gbit_s=model.image_data_rate_gbit_s,
                             downlink_rate_mbps=model.downlink_rate_mbps,
                             agility=model.agility)


def mean_altitude_km(constellation) -> float:
    """Median altitude of the satellites' mean semi-major axes (from the mean motion), km."""
    n_rad_s = np.array([s.no_kozai for s in constellation.satrecs]) / 60.0
    a_km = (MU_EARTH_KM3_S2 / n_rad_s ** 2) ** (1.0 / 3.0)
    return float(np.median(a_km) - WGS84_A_KM)


def sensor(model, constellation=None):
    """The imager: ``gsd_m`` (default 1 m) at nadir from the constellation's mean altitude
    (561 km without a constellation), ``swath_km``, ``scene_duration_s``."""
    from groundseg.access import Sensor
    altitude = 561.0 if constellation is None else mean_altitude_km(constellation)
    return Sensor(gsd_nadir_m=1.0 if model.gsd_m is None else model.gsd_m,
                  reference_altitude_km=altitude, swath_km=model.swath_km,
                  scene_duration_s=model.scene_duration_s)


def target_defaults(model, *, max_off_nadir_deg=None, min_sun_elevation_deg=None):
    """Defaults for targets' optional columns: the field of regard and the Sun limit
    (arguments override the model's)."""
    from groundseg.targets import TargetDefaults
    sun = model.min_sun_elevation_deg if min_sun_elevation_deg is None else min_sun_elevation_deg
    return TargetDefaults(
        min_sun_elevation_deg=10.0 if sun is None else float(sun),
        max_off_nadir_deg=model.field_of_regard_deg if max_off_nadir_deg is None
        else float(max_off_nadir_deg))


def plan_inputs(scenario) -> dict:
    """Planning inputs of a scenario: ``constellation``, ``targets``, ``sensor``,
    ``stations``, ``spacecraft`` (ImagingSpacecraft), ``start``, ``end``."""
    sc = scenario.spacecraft
    targets = scenario.targets.load(target_defaults(sc))
    return {"constellation": scenario.constellation, "targets": targets,
            "sensor": sensor(sc, scenario.constellation), "stations": list(scenario.stations),
            "spacecraft": imaging_spacecraft(sc), "start": scenario.window.start,
            "end": scenario.window.end}


def plan_inputs_from_args(args) -> dict:
    """``groundseg plan --scenario FILE``: :func:`plan_inputs`, then the command-line options
    override (``args`` from ``groundseg._cli_planning``)."""
    from groundseg._cli_common import constellation_from_args, window
    from groundseg.errors import GroundsegError
    from groundseg.stations import load_stations
    from groundseg.targets import load_targets

    from .scenario import bundled_scenario, load_scenario
    path = args.scenario
    scenario = bundled_scenario() if path in ("bundled", "formosat8") else load_scenario(path)
    sc = scenario.spacecraft
    if (args.start is None) != (args.end is None):
        raise SimulationError("give both --start and --end, or neither (the scenario's window)")
    start, end = (window(args) if args.start is not None
                  else (scenario.window.start, scenario.window.end))
    defaults = target_defaults(sc, max_off_nadir_deg=args.max_off_nadir,
                               min_sun_elevation_deg=args.min_sun_elevation)
    targets = load_targets(args.targets, defaults) if args.targets else \
        scenario.targets.load(defaults)
    constellation = constellation_from_args(args, start) if args.tle else scenario.constellation
    if getattr(args, "satellite", None):
        constellation = constellation.subset(args.satellite)
    stations = load_stations(args.stations) if getattr(args, "stations", None) else \
        list(scenario.stations)
    if getattr(args, "step", None) is None:
        args.step = 60.0
    if not args.step > 0:
        raise GroundsegError(f"--step must be positive, got {args.step}")
    return {"constellation": constellation, "targets": targets,
            "sensor": sensor(sc, constellation), "stations": stations,
            "spacecraft": imaging_spacecraft(sc), "start": start, "end": end}
