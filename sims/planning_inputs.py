"""A scenario as planning inputs: the spacecraft the planner sees, the sensor, target defaults.

- :func:`imaging_spacecraft`: :class:`groundseg.planning.ImagingSpacecraft` with the
  scenario's memory, initial volume, imaging data rate, transmitter rate and agility model
  (the very object the simulation flies).
- :func:`sensor`: :class:`groundseg.access.Sensor` with the GSD (at nadir, from the
  constellation's mean altitude), swath and point-target image length.
- :func:`target_defaults`: the field of regard and the minimum Sun elevation for targets
  that do not give their own (10 deg when the scenario has none).
- :func:`plan_inputs`: the scenario as :class:`groundseg.mission_plan.MissionInputs`, with
  the overrides ``groundseg plan --scenario FILE`` takes from its options.
- :func:`fleet`: the scenario's satellites as a :class:`groundseg.fleet.Fleet`: the optical
  ones with the ``[spacecraft]`` imager, the ``sensor = "sar"`` ones with the ``[sar]`` radar.
"""
from __future__ import annotations

import numpy as np

from groundseg.earth import MU_EARTH_KM3_S2, WGS84_A_KM

__all__ = ["imaging_spacecraft", "sensor", "target_defaults", "plan_inputs", "mean_altitude_km",
           "fleet"]


def imaging_spacecraft(model):
    """The planner's view of a :class:`~sims.spacecraft.SpacecraftModel`."""
    from groundseg.planning import ImagingSpacecraft
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


def plan_inputs(scenario, *, start=None, end=None, constellation=None, stations=None,
                targets_path=None, max_off_nadir_deg=None, min_sun_elevation_deg=None):
    """The scenario as :class:`~groundseg.mission_plan.MissionInputs`; each argument given
    replaces the scenario's: the window, the constellation, the stations, a targets file (read
    with the scenario's target defaults) and the two target limits. A scenario with SAR
    satellites brings its :func:`fleet` (unless another constellation replaces its own).

    >>> from sims.scenario import bundled_scenario
    >>> inputs = plan_inputs(bundled_scenario(), max_off_nadir_deg=25.0)
    >>> len(inputs.constellation), len(inputs.targets), [s.name for s in inputs.stations][:3]
    (8, 110, ['Hsinchu', 'Taoyuan', 'Tainan'])
    >>> sorted(set(inputs.targets.max_off_nadir_deg.tolist()))   # one target gives its own
    [25.0, 40.0]
    """
    from groundseg.mission_plan import MissionInputs
    from groundseg.targets import load_targets
    sc = scenario.spacecraft
    defaults = target_defaults(sc, max_off_nadir_deg=max_off_nadir_deg,
                               min_sun_elevation_deg=min_sun_elevation_deg)
    targets = (load_targets(targets_path, defaults) if targets_path is not None
               else scenario.targets.load(defaults))
    mixed = scenario.sar is not None and constellation in (None, scenario.constellation)
    constellation = scenario.constellation if constellation is None else constellation
    return MissionInputs(
        constellation=constellation, targets=targets,
        stations=list(scenario.stations) if stations is None else list(stations),
        sensor=sensor(sc, constellation), spacecraft=imaging_spacecraft(sc),
        start=scenario.window.start if start is None else start,
        end=scenario.window.end if end is None else end,
        fleet=fleet(scenario) if mixed else None)


def fleet(scenario, constellation=None):
    """The scenario's :class:`~groundseg.fleet.Fleet` (``constellation``: the scenario's, or
    one with the same satellites in the same order)."""
    from groundseg.fleet import Fleet, Payload
    from groundseg.planning import ImagingSpacecraft
    constellation = scenario.constellation if constellation is None else constellation
    kinds = np.array(scenario.satellite_sensors, dtype=object)
    if len(kinds) != len(constellation):
        from .errors import ScenarioError
        raise ScenarioError(f"{scenario.source}: {len(constellation)} satellites given for the "
                            f"scenario's {len(kinds)}")
    payloads = []
    optical = tuple(np.flatnonzero(kinds == "optical").tolist())
    if optical:
        payloads.append(Payload(sensor(scenario.spacecraft, constellation.subset(list(optical))),
                                imaging_spacecraft(scenario.spacecraft), optical))
    radar = tuple(np.flatnonzero(kinds == "sar").tolist())
    if radar:
        sar = scenario.sar
        point_mode = sar.sensor.mode(sar.sensor.point_mode)
        payloads.append(Payload(sar.sensor, ImagingSpacecraft(
            memory_capacity_gbit=sar.memory_capacity_gbit, initial_memory_gbit=sar.initial_memory_gbit,
            image_data_rate_gbit_s=point_mode.data_rate_gbit_s,
            downlink_rate_mbps=sar.downlink_rate_mbps, agility=sar.agility), radar))
    return Fleet(constellation, payloads)
