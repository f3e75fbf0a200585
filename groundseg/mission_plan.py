"""From orbits to an imaging plan in one call: the pipeline behind ``groundseg plan`` and the
simulation (``sims.pipeline.run_scenario``).

:func:`plan_mission` propagates once (SGP4 on one grid, shared by every station and target),
predicts the passes over every station, keeps a contact plan in which a satellite talks to one
station at a time, finds every imaging opportunity and plans acquisitions and downlinks::

    MissionInputs --propagate--> Ephemeris --> PassTable --> ContactPlan --+
                                          \\--> Opportunities -------------+--> ImagingPlan

What the inputs come from (command-line options, a scenario file) is the caller's business:
:class:`MissionInputs` is the plain bundle. Six hours of the bundled constellation, stations
and Taiwan targets, planned by the greedy heuristic:

>>> from groundseg import Constellation, Sensor, bundled_stations, bundled_targets
>>> start, end = "2026-11-26T00:00:00Z", "2026-11-26T06:00:00Z"
>>> inputs = MissionInputs(Constellation.formosat8(start), bundled_targets(), bundled_stations(),
...                        Sensor(), None, start, end)
>>> result = plan_mission(inputs, time_limit_s=1.0, method="greedy")
>>> len(result.passes), len(result.opportunities), len(result.plan.acquisitions) > 0
(96, 331, True)
"""
from __future__ import annotations

from dataclasses import dataclass

from .access import find_opportunities
from .contacts import plan_contacts
from .errors import GroundsegError
from .passes import passes_from_ephemeris
from .planning import ImagingSpacecraft, plan_imaging
from .timegrid import TimeGrid

__all__ = ["MissionInputs", "MissionPlan", "mission_geometry", "plan_mission"]


@dataclass(frozen=True)
class MissionInputs:
    """What the pipeline needs: a :class:`~groundseg.orbits.Constellation`, the
    :class:`~groundseg.targets.Targets`, the :class:`~groundseg.stations.Station` list, the
    :class:`~groundseg.access.Sensor`, the planner's
    :class:`~groundseg.planning.ImagingSpacecraft` (None: its defaults) and the window
    ``start`` / ``end`` (UTC: ``numpy.datetime64``, ISO 8601 text, ``datetime``). A mixed
    fleet (optical and SAR satellites) gives its :class:`~groundseg.fleet.Fleet` as
    ``fleet``: each satellite is then searched and planned with its own payload, and
    ``sensor`` / ``spacecraft`` are not used."""

    constellation: object
    targets: object
    stations: list
    sensor: object
    spacecraft: object
    start: object
    end: object
    fleet: object = None


@dataclass
class MissionPlan:
    """What :func:`plan_mission` made: ``ephemeris``, ``passes``, ``contacts`` (one station per
    satellite at a time), ``opportunities`` and the ``plan`` (an
    :class:`~groundseg.planning.ImagingPlan`; None until the planner has run)."""

    ephemeris: object
    passes: object
    contacts: object
    opportunities: object
    plan: object = None


def mission_geometry(inputs: MissionInputs, *, step_s: float = 60.0) -> MissionPlan:
    """The first half of :func:`plan_mission`: ephemeris, passes, contact plan, opportunities."""
    if not (isinstance(step_s, (int, float)) and step_s > 0):
        raise GroundsegError(f"step_s must be a positive number, got {step_s!r}")
    eph = inputs.constellation.propagate(TimeGrid.range(inputs.start, inputs.end, step_s))
    passes = passes_from_ephemeris(eph, inputs.stations)
    contacts = plan_contacts(passes, inputs.stations, satellite_exclusive=True)
    fleet = inputs.fleet
    opportunities = (fleet.opportunities(eph, inputs.targets) if fleet is not None else
                     find_opportunities(eph, inputs.targets, sensor=inputs.sensor))
    return MissionPlan(eph, passes, contacts, opportunities)


def plan_mission(inputs: MissionInputs, *, step_s: float = 60.0, time_limit_s: float = 20.0,
                 method: str = "auto", seed: int = 0, on_geometry=None) -> MissionPlan:
    """Propagate on a ``step_s`` grid over the window, then passes, contacts, opportunities and
    the imaging plan (``time_limit_s``, ``method``, ``seed``: see ``plan_imaging``).

    ``on_geometry(result)`` runs between the geometry and the planner (``result.plan`` is still
    None): for a progress line, warnings about satellites that failed to propagate (their states
    are NaN, so they have no pass and no opportunity), or to stop by raising.
    """
    if not (isinstance(time_limit_s, (int, float)) and time_limit_s > 0):
        raise GroundsegError(f"time_limit_s must be a positive number, got {time_limit_s!r}")
    result = mission_geometry(inputs, step_s=step_s)
    fleet = inputs.fleet
    if on_geometry is not None:
        on_geometry(result)
    options = dict(time_limit_s=time_limit_s, method=method, seed=seed)
    result.plan = (fleet.plan(result.opportunities, result.contacts, **options) if fleet is not None
                   else plan_imaging(result.opportunities, result.contacts,
                                     spacecraft=inputs.spacecraft or ImagingSpacecraft(), **options))
    return result
