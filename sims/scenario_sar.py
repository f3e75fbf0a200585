"""The scenario's ``[sar]`` section: the radar of the ``sensor = "sar"`` satellite groups
(:mod:`groundseg.sar`) and what the planner needs to know about those satellites. The schema
is in :mod:`sims.scenario`; the reader's table class and the agility reader come from there.
"""
from __future__ import annotations

from dataclasses import dataclass

from groundseg.errors import GroundsegError

__all__ = ["SarSpec", "parse_sar"]


@dataclass(frozen=True)
class SarSpec:
    """``[sar]``: the radar (a :class:`groundseg.sar.SarSensor`) and what the planner needs to
    know about the SAR satellites: memory, initial volume, transmitter rate, agility model."""

    sensor: object
    memory_capacity_gbit: float
    initial_memory_gbit: float
    downlink_rate_mbps: float
    agility: object

    def to_dict(self) -> dict:
        sensor = self.sensor
        return {"look_side": sensor.look_side,
                "max_radar_on_s_per_orbit": sensor.max_radar_on_s_per_orbit,
                "radar_energy_wh_per_orbit": sensor.radar_energy_wh_per_orbit,
                "point_mode": sensor.point_mode, "area_mode": sensor.area_mode,
                "memory_capacity_gbit": self.memory_capacity_gbit,
                "initial_memory_gbit": self.initial_memory_gbit,
                "downlink_rate_mbps": self.downlink_rate_mbps,
                "modes": {m.name: {k: getattr(m, k) for k in _SAR_MODE_KEYS} for m in sensor.modes}}


_SAR_MODE_KEYS = ("swath_km", "scene_length_km", "scene_duration_s", "resolution_m",
                  "incidence_min_deg", "incidence_max_deg", "max_squint_deg", "data_rate_gbit_s",
                  "radar_power_w")


def parse_sar(node, spacecraft, agility_of) -> SarSpec | None:
    """``[sar]`` (``node``: the scenario reader's table, None when absent): the radar's modes
    (bundled ones changed or new ones added), its limits, and the SAR satellites' memory,
    transmitter and agility (``agility_of(table)``: the ``[spacecraft.agility]`` reader;
    default: the optical ``spacecraft``'s model)."""
    from dataclasses import replace

    from groundseg.sar import LOOK_SIDES, SAR_MODES, SarMode, SarSensor
    if node is None:
        return None
    n = node.number
    modes = {m.name: m for m in SAR_MODES}
    table = node.child("modes", "SAR modes")
    if table is not None:
        for name in list(table.data):
            entry = table.child(name, "a SAR mode")
            values = {k: entry.number(k, f"SAR mode {k}", required=name not in modes)
                      for k in _SAR_MODE_KEYS}
            entry.finish(_SAR_MODE_KEYS)
            try:
                modes[name] = (replace(modes[name], **{k: v for k, v in values.items() if v is not None})
                               if name in modes else SarMode(name, **values))
            except GroundsegError as exc:
                raise entry.error(str(exc), here=True) from None
        table.finish()
    side = node.string("look_side", f"one of {', '.join(LOOK_SIDES)}", default="both")
    kw = dict(
        max_radar_on_s_per_orbit=n("max_radar_on_s_per_orbit", "radar-on time per orbit, s",
                                   required=True, lo=0, lo_open=True),
        radar_energy_wh_per_orbit=n("radar_energy_wh_per_orbit", "radar energy per orbit, Wh",
                                    required=True, lo=0, lo_open=True),
        point_mode=node.string("point_mode", "SAR mode for point targets", default="spotlight"),
        area_mode=node.string("area_mode", "SAR mode for areas", default="stripmap"))
    try:
        sensor = SarSensor(tuple(modes.values()), side, **kw)
    except GroundsegError as exc:
        raise node.error(str(exc), here=True) from None
    capacity = n("memory_capacity_gbit", "on-board memory in Gbit", required=True, lo=0, lo_open=True)
    initial = n("initial_memory_gbit", "memory used at the start", default=0.0, lo=0)
    if initial > capacity:
        raise node.error(f"{initial:g} exceeds memory_capacity_gbit {capacity:g}", "initial_memory_gbit")
    rate = n("downlink_rate_mbps", "transmitter rate in Mbit/s", required=True, lo=0, lo_open=True)
    agility_node = node.child("agility", "slew model")
    agility = spacecraft.agility if agility_node is None else agility_of(agility_node)
    node.finish()
    return SarSpec(sensor, capacity, initial, rate, agility)
