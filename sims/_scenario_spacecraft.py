"""The scenario's ``[spacecraft]`` model, agility model and ``[[faults]]``. The schema is in
:mod:`sims.scenario`."""
from __future__ import annotations

import numpy as np

from groundseg.orbits import Constellation
from groundseg.timegrid import format_utc

from ._scenario_node import _kind, _Node
from ._scenario_sections import Window
from .errors import SimulationError
from .faults import BATTERY_CELLS, FAULT_KINDS, TEMPERATURE_SENSORS, Fault
from .spacecraft import AGILITY_MODELS, MODES, SpacecraftModel


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
