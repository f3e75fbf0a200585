"""Disaster response: how soon each satellite can image an area, and deliver the image.

A request arrives at ``at`` for an area of interest (a point, or a polygon imaged at its
centroid). For every satellite and sensor mode that can image it within ``horizon_h`` hours,
the option with the earliest delivery (:func:`response_options`):

1. **Command.** A command load is ready ``order_lead_min`` after the request and goes up in
   the satellite's first contact (the contact plan) with ``uplink_s`` left after that; the
   acquisition cannot start earlier (a satellite that cannot be told in time cannot image).
2. **Acquisition.** In an access window of the satellite's own sensor (optical: off-nadir
   within the area's limit and the Sun high enough, i.e. daylight; SAR: incidence band, look
   side, no Sun), as close to the best time (least off-nadir, zero Doppler) as the command
   allows.
3. **Delivery.** On-board data go down first in, first out, at ``min(station, transmitter)``
   rate in the satellite's contacts: what the current plan has on board at the request, and
   what it records before the image ends, goes first. The image is delivered at the end of the
   contact in which its last bit goes down, plus ``processing_h``. An image that would not fit
   in memory when it starts is no option.
4. **Coverage.** The fraction of the area inside the scene (swath across the ground track,
   scene length along it, centred on the centroid; :meth:`groundseg.targets.Targets.scene_fraction`). Optical options are multiplied by the clear-sky fraction ``1 - cloud`` and left
   out when the cloud cover exceeds ``max_cloud_fraction``.

``options.csv`` (:data:`OPTION_COLUMNS`) is sorted by delivery, then by coverage. Times are
UTC; hours count from the request. With the current plan, :mod:`groundseg.response_plan` puts
the request into it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .access import find_opportunities, pointing
from .contacts import plan_contacts
from .errors import GroundsegError
from .imaging_geometry import ImagingGeometry, geodetic_up
from .passes import passes_from_ephemeris
from .sar_access import find_sar_opportunities, sar_look
from .table import Table
from .targets import Targets
from .timegrid import TimeGrid, format_utc, parse_utc

__all__ = ["ResponseError", "ResponseSettings", "ResponseOptions", "OnBoardData",
           "OPTION_COLUMNS", "response_options", "onboard_from_plan", "aoi_point", "command_times",
           "sensor_searches", "contact_links", "delivery", "expected_coverage"]

OPTION_COLUMNS = ("satellite", "sensor", "mode", "start_utc", "end_utc", "off_nadir_deg",
                  "incidence_deg", "look_side", "sun_elevation_deg", "coverage_fraction",
                  "first_downlink_station", "delivery_utc", "hours_to_image", "hours_to_delivery")
_FORMATS = {"off_nadir_deg": ".3f", "incidence_deg": ".3f", "sun_elevation_deg": ".3f",
            "coverage_fraction": ".4f", "hours_to_image": ".3f", "hours_to_delivery": ".3f"}
_OPTICAL_MODE = "mono"


class ResponseError(GroundsegError):
    """A request, area or current plan that cannot be used."""


@dataclass(frozen=True)
class ResponseSettings:
    """``horizon_h`` (72), ``processing_h`` (ground processing after the downlink, 1 h),
    ``order_lead_min`` (from the request to a command load ready to send, 30 min), ``uplink_s``
    (contact time the load needs, 60 s), ``cloud_fraction`` over the area (0..1) and
    ``max_cloud_fraction`` (0.7: optical options are left out above it), ``orbit_direction``
    (SAR: ``ascending``, ``descending`` or ``both``), ``step_s`` (propagation grid, 60).
    The defaults are planning assumptions."""

    horizon_h: float = 72.0
    processing_h: float = 1.0
    order_lead_min: float = 30.0
    uplink_s: float = 60.0
    cloud_fraction: float = 0.0
    max_cloud_fraction: float = 0.7
    orbit_direction: str = "both"
    step_s: float = 60.0

    def __post_init__(self):
        for key in ("horizon_h", "step_s"):
            _number(getattr(self, key), key, lo=0, open_lo=True)
        for key in ("processing_h", "order_lead_min", "uplink_s"):
            _number(getattr(self, key), key, lo=0)
        _number(self.cloud_fraction, "cloud fraction", lo=0, hi=1)
        _number(self.max_cloud_fraction, "max cloud fraction", lo=0, hi=1)
        if self.horizon_h > 24 * 31:
            raise ResponseError(f"horizon_h must be at most a month, got {self.horizon_h:g}")


def _number(value, name, lo=None, hi=None, open_lo=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ResponseError(f"{name} must be a finite number, got {value!r}")
    if (lo is not None and (value < lo or (open_lo and value == lo))) or (hi is not None and value > hi):
        bounds = f"{'>' if open_lo else '>='} {lo:g}" if hi is None else f"in [{lo:g}, {hi:g}]"
        raise ResponseError(f"{name} must be {bounds}, got {value!r}")
    return float(value)


@dataclass
class OnBoardData:
    """What the current plan has on each satellite: ``backlog_gbit`` ``(n_sat,)`` on board at
    the request and, per satellite, the acquisitions still to come: ``items[s]`` =
    ``(start_s, end_s, gbit)`` arrays (the volume is held from the start and can go down from
    the end). Times are seconds from an origin at which the request arrives at ``request_s``
    (0: from the request)."""

    backlog_gbit: np.ndarray
    items: list = field(default_factory=list)
    request_s: float = 0.0

    @classmethod
    def empty(cls, initial_gbit) -> "OnBoardData":
        b = np.asarray(initial_gbit, dtype=float)
        return cls(b, [(np.zeros(0), np.zeros(0), np.zeros(0)) for _ in b])

    def shifted(self, dt_s: float) -> "OnBoardData":
        """The same data with times counted from ``dt_s`` seconds earlier."""
        return OnBoardData(self.backlog_gbit, [(a + dt_s, b + dt_s, v) for a, b, v in self.items],
                           self.request_s + dt_s)


def _plan_time(value, where) -> np.datetime64:
    if not isinstance(value, str):
        raise ResponseError(f"{where}: expected an ISO 8601 UTC string, got {value!r}"[:200])
    try:
        return parse_utc(value)[0]
    except GroundsegError as exc:
        raise ResponseError(f"{where}: {exc}") from None


def _plan_rows(plan: dict, key: str, source: str, names: dict, fields_: tuple):
    rows = plan.get(key, [])
    if not isinstance(rows, list):
        raise ResponseError(f"{source}: {key}: expected a list")
    out = []
    for i, row in enumerate(rows):
        where = f"{source}: {key}[{i}]"
        if not isinstance(row, dict):
            raise ResponseError(f"{where}: expected an object")
        sat = row.get("satellite")
        if not isinstance(sat, str) or sat not in names:
            raise ResponseError(f"{where}.satellite: {sat!r} is not a satellite of the scenario"[:300])
        t0 = _plan_time(row.get(fields_[0]), f"{where}.{fields_[0]}")
        t1 = _plan_time(row.get(fields_[1]), f"{where}.{fields_[1]}")
        gbit = row.get("data_gbit")
        if isinstance(gbit, bool) or not isinstance(gbit, (int, float)) or not (0 <= gbit < 1e9):
            raise ResponseError(f"{where}.data_gbit: expected a number >= 0, got {gbit!r}"[:300])
        if t1 < t0:
            raise ResponseError(f"{where}: {fields_[1]} is before {fields_[0]}")
        out.append((names[sat], t0, t1, float(gbit)))
    return out


def onboard_from_plan(plan: dict, at, satellite_names, initial_gbit, source: str = "plan.json") -> OnBoardData:
    """The current plan (the ``plan.json`` contract of ``groundseg plan``) as
    :class:`OnBoardData` at the request time ``at``: ``initial_gbit`` ``(n_sat,)`` plus what
    was recorded before ``at`` less what its downlinks drained by then (linearly from a
    downlink's start to its ``drain_stop_utc``); acquisitions ending after ``at`` are items."""
    if not isinstance(plan, dict):
        raise ResponseError(f"{source}: expected a JSON object")
    at = np.datetime64(parse_utc(at)[0], "ns")
    names = {str(n): i for i, n in enumerate(satellite_names)}
    backlog = np.array(initial_gbit, dtype=float)
    items = [[] for _ in names]
    for s, t0, t1, gbit in _plan_rows(plan, "acquisitions", source, names, ("start_utc", "end_utc")):
        if t1 <= at:
            backlog[s] += gbit
        else:
            items[s].append((_seconds(t0, at), _seconds(t1, at), gbit))
    for s, t0, t1, gbit in _plan_rows(plan, "downlinks", source, names, ("start_utc", "drain_stop_utc")):
        span = _seconds(t1, t0)
        done = 1.0 if t1 <= at else (0.0 if t0 >= at else _seconds(at, t0) / max(span, 1e-9))
        backlog[s] -= gbit * done
    packed = []
    for rows in items:
        rows.sort()
        a = np.array(rows, dtype=float).reshape(-1, 3)
        packed.append((a[:, 0], a[:, 1], a[:, 2]))
    return OnBoardData(np.maximum(backlog, 0.0), packed)


def _seconds(t, t0) -> float:
    return float((np.datetime64(t, "ns") - np.datetime64(t0, "ns")) / np.timedelta64(1, "ns")) / 1e9


def _drain_curve(contacts_s, rates, ready_s, gbit):
    """Cumulative volume drained, first in first out, over the contacts ``(k, 2)`` at
    ``rates`` ``(k,)`` Gbit/s, of data ready at ``ready_s`` ``(n,)``: breakpoints ``(times,
    cumulative)``, piecewise linear and non-decreasing."""
    order = np.argsort(ready_s, kind="stable")
    ready, cum = ready_s[order], np.cumsum(gbit[order])
    times, done = [-1e300], [0.0]
    drained = 0.0
    for (c0, c1), rate in zip(contacts_s, rates):
        t = c0
        while t < c1:
            j = int(np.searchsorted(ready, t, side="right"))
            avail = (cum[j - 1] if j else 0.0) - drained
            nxt = ready[j] if j < ready.size else math.inf
            if avail <= 1e-12:
                if nxt >= c1:
                    break
                t = nxt
                continue
            amount = min(avail, rate * (min(c1, nxt) - t))
            times += [t, t + amount / rate]
            done += [drained, drained + amount]
            drained += amount
            t += amount / rate
    return np.array(times), np.array(done)


def _reach(times, done, need) -> float:
    """First time the cumulative volume reaches ``need`` (inf if never)."""
    k = int(np.searchsorted(done, need - 1e-9, side="left"))
    if k >= done.size:
        return math.inf
    if k == 0 or done[k] == done[k - 1]:
        return float(times[k])
    f = (need - done[k - 1]) / (done[k] - done[k - 1])
    return float(times[k - 1] + f * (times[k] - times[k - 1]))


@dataclass
class ResponseOptions:
    """The options (:data:`OPTION_COLUMNS`, sorted by delivery) and what they rest on:
    ``table``; per row ``satellite_index``, ``start_s``, ``end_s``, ``delivery_s``
    (seconds from the request); ``at`` (datetime64), ``aoi`` (the area's one target),
    ``settings``, ``dropped_optical`` (options left out for clouds) and ``infeasible``
    (windows lost to the command lead or to memory, per reason)."""

    table: Table
    satellite_index: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    delivery_s: np.ndarray
    at: np.datetime64
    aoi: Targets
    settings: ResponseSettings
    dropped_optical: int = 0
    infeasible: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.table)

    def to_csv(self, path=None) -> str:
        return self.table.to_csv(path)

    def best(self, sensor: str | None = None) -> int | None:
        """Row of the earliest delivery (of ``sensor``: ``optical`` / ``sar``), or None."""
        rows = np.arange(len(self)) if sensor is None else np.flatnonzero(self.table["sensor"] == sensor)
        return int(rows[0]) if rows.size else None

    def summary_lines(self) -> list[str]:
        """What a duty officer reads first: the fastest option, optical against SAR."""
        t = self.table
        aoi = self.aoi
        kind = "point" if aoi.kind[0] == "point" else f"polygon {aoi.area_km2[0]:,.0f} km2"
        s = self.settings
        lines = [f"request {format_utc(self.at)[0]}: {aoi.ids[0]} ({kind} at "
                 f"{aoi.latitude_deg[0]:.3f} N {aoi.longitude_deg[0]:.3f} E), next "
                 f"{s.horizon_h:g} h, cloud cover {s.cloud_fraction:.2f}"]
        i = self.best()
        if i is None:
            return lines + ["no satellite can image it in the horizon"]
        lines.append(f"fastest: {t['satellite'][i]} {t['sensor'][i]} {t['mode'][i]}: image "
                     f"{format_utc(t['start_utc'][i])[0]} (+{t['hours_to_image'][i]:.1f} h), delivered "
                     f"{format_utc(t['delivery_utc'][i])[0]} (+{t['hours_to_delivery'][i]:.1f} h) via "
                     f"{t['first_downlink_station'][i]}, {100 * t['coverage_fraction'][i]:.0f} % "
                     f"of the area")
        first_image = int(np.argmin(t["hours_to_image"]))
        lines.append(f"first image: {t['satellite'][first_image]} {t['mode'][first_image]} at "
                     f"+{t['hours_to_image'][first_image]:.1f} h")
        for sensor in ("optical", "sar"):
            j = self.best(sensor)
            if j is None:
                why = (f" ({self.dropped_optical} left out: cloud cover {s.cloud_fraction:.2f} > "
                       f"{s.max_cloud_fraction:.2f})" if sensor == "optical" and self.dropped_optical else "")
                lines.append(f"{sensor}: no option{why}")
                continue
            lines.append(f"{sensor}: best {t['satellite'][j]} {t['mode'][j]}, image "
                         f"+{t['hours_to_image'][j]:.1f} h, delivery +{t['hours_to_delivery'][j]:.1f} h"
                         f" ({int(np.sum(t['sensor'] == sensor))} options)")
        lost = ", ".join(f"{n} {k}" for k, n in self.infeasible.items() if n)
        if lost:
            lines.append(f"windows lost: {lost}")
        return lines


def aoi_point(aoi: Targets, target_id: str | None = None, priority=None) -> Targets:
    """The area's centroid as a point target with the area's limits (and ``target_id``,
    ``priority`` if given)."""
    return Targets([target_id or aoi.ids[0]], aoi.latitude_deg[:1], aoi.longitude_deg[:1],
                   aoi.altitude_m[:1], aoi.priority[:1] if priority is None else priority,
                   aoi.min_sun_elevation_deg[:1], aoi.max_off_nadir_deg[:1], "mono")


def command_times(links, ready_s: float, uplink_s: float) -> np.ndarray:
    """Per satellite ``(n_sat,)``: the end of the first command uplink, ``uplink_s`` long, in
    a contact of ``links`` (:func:`contact_links`) no earlier than ``ready_s`` (inf if none)."""
    out = np.full(len(links), math.inf)
    for s, (span, _, _) in enumerate(links):
        ok = np.flatnonzero(span[:, 1] - np.maximum(span[:, 0], ready_s) >= uplink_s)
        if ok.size:
            out[s] = max(span[ok[0], 0], ready_s) + uplink_s
    return out


def sensor_searches(fleet, ephemeris, point: Targets, settings: ResponseSettings):
    """Every payload's opportunities on ``point``, optical and each SAR mode:
    ``[(sensor, mode, Opportunities, swath_km, scene_length_km or None, data rate or None)]``
    (SAR parts carry ``data_rate_gbit_s`` and ``radar_power_w`` columns for the planner)."""
    out = []
    for p in fleet.payloads:
        if p.kind == "optical":
            opp = find_opportunities(ephemeris, point, sensor=p.sensor, satellites=p.satellites)
            out.append(("optical", _OPTICAL_MODE, opp, p.sensor.swath_km, None, None))
            continue
        for mode in p.sensor.modes:
            opp = find_sar_opportunities(ephemeris, point, sensor=p.sensor, mode=mode.name,
                                         satellites=p.satellites,
                                         orbit_direction=settings.orbit_direction)
            opp.columns["data_rate_gbit_s"] = np.full(len(opp), mode.data_rate_gbit_s)
            opp.columns["radar_power_w"] = np.full(len(opp), mode.radar_power_w)
            out.append(("sar", mode.name, opp, mode.swath_km, mode.scene_length_km,
                        mode.data_rate_gbit_s))
    return out


def expected_coverage(aoi: Targets, sensors, heading_deg, swath_km, length_km,
                      cloud_fraction: float) -> np.ndarray:
    """The part of the area inside scenes ``swath_km`` x ``length_km`` along ``heading_deg``
    centred on it (:meth:`~groundseg.targets.Targets.scene_fraction`), optical ones
    (``sensors``: ``optical`` / ``sar`` per scene) times the clear-sky fraction; all ``(m,)``."""
    n = len(sensors)
    cover = np.array([aoi.scene_fraction(0, float(h), float(w), float(L)) for h, w, L in
                      zip(heading_deg, np.broadcast_to(swath_km, n), np.broadcast_to(length_km, n))])
    return np.where(np.asarray(sensors, dtype=object) == "optical", cover * (1.0 - cloud_fraction), cover)


def contact_links(contacts, at, n_sat, transmitter_mbps):
    """Per satellite: scheduled contacts ``(k, 2)`` s from ``at``, rates Gbit/s, station names."""
    p = contacts.passes
    rate = {s.name: s.downlink_rate_mbps for s in contacts.stations}
    out = []
    for s in range(n_sat):
        k = np.flatnonzero(contacts.scheduled & (np.asarray(p.satellite_index) == s))
        k = k[np.argsort(p.aos_utc[k])]
        span = np.stack([(p.aos_utc[k] - at) / np.timedelta64(1, "s"),
                         (p.los_utc[k] - at) / np.timedelta64(1, "s")], -1).reshape(-1, 2)
        mbps = np.array([min(transmitter_mbps[s], rate.get(str(p.station[i])) or transmitter_mbps[s])
                         for i in k])
        out.append((span.astype(float), mbps / 1000.0, [str(p.station[i]) for i in k]))
    return out


def response_options(fleet, stations, aoi: Targets, at, settings: ResponseSettings = ResponseSettings(),
                     onboard: OnBoardData | None = None) -> ResponseOptions:
    """Every satellite's and mode's fastest option for ``aoi`` (one target: a point or a
    polygon) requested at ``at`` (module docstring). ``fleet``: a
    :class:`~groundseg.fleet.Fleet`; ``stations``: the network; ``onboard``: the current
    plan's data (:func:`onboard_from_plan`; default: each spacecraft's initial volume)."""
    if not isinstance(aoi, Targets) or len(aoi) != 1:
        raise ResponseError("the area of interest must be one point or one polygon")
    if not isinstance(settings, ResponseSettings):
        raise ResponseError("settings must be a ResponseSettings")
    try:
        at = np.datetime64(parse_utc(at)[0], "ns")
    except GroundsegError as exc:
        raise ResponseError(f"request time: {exc}") from None
    n_sat = len(fleet)
    spacecraft = [fleet.payload_of(s).spacecraft for s in range(n_sat)]
    if onboard is None:
        onboard = OnBoardData.empty([sc.initial_memory_gbit for sc in spacecraft])
    end = at + np.timedelta64(int(round(settings.horizon_h * 3600e9)), "ns")
    eph = fleet.constellation.propagate(TimeGrid.range(at, end, settings.step_s))
    passes = passes_from_ephemeris(eph, stations)
    contacts = plan_contacts(passes, stations, satellite_exclusive=True)
    links = contact_links(contacts, at, n_sat, [sc.downlink_rate_mbps for sc in spacecraft])
    command_s = command_times(links, settings.order_lead_min * 60.0, settings.uplink_s)
    point = aoi_point(aoi)
    rows = []
    lost = {"command": 0, "memory": 0, "downlink": 0}
    geo = ImagingGeometry(eph)
    for sensor, mode, opp, swath, length, rate in sensor_searches(fleet, geo, point, settings):
        c = opp.columns
        geo = opp.geometry
        for i in range(len(opp)):
            s = int(c["satellite_index"][i])
            dur = float(c["duration_s"][i])
            lo = max(float(c["start_s"][i]), command_s[s])
            hi = float(c["end_s"][i]) - dur
            if lo > hi + 1e-9:
                lost["command"] += 1
                continue
            t0 = min(max(float(c["best_s"][i]) - 0.5 * dur, lo), hi)
            gbit = dur * (rate if rate is not None else spacecraft[s].image_data_rate_gbit_s)
            got = delivery(links[s], onboard, s, t0, t0 + dur, gbit,
                            spacecraft[s].memory_capacity_gbit)
            if isinstance(got, str):
                lost[got] += 1
                continue
            done_s, station = got
            along = length if length is not None else geo.ground_speed_km_s[s] * dur
            rows.append((s, sensor, mode, t0, t0 + dur, done_s + settings.processing_h * 3600.0,
                         station, float(c["heading_deg"][i]), swath, along,
                         c["look_side"][i] if sensor == "sar" else ""))
    fastest = {}                # the earliest delivery per satellite and mode
    for r in rows:
        key = (r[0], r[2])
        if key not in fastest or (r[5], r[3]) < (fastest[key][5], fastest[key][3]):
            fastest[key] = r
    best = list(fastest.values())
    dropped = 0
    if settings.cloud_fraction > settings.max_cloud_fraction:
        dropped = sum(1 for r in best if r[1] == "optical")
        best = [r for r in best if r[1] != "optical"]
    cover = expected_coverage(aoi, [r[1] for r in best], [r[7] for r in best], [r[8] for r in best],
                              [r[9] for r in best], settings.cloud_fraction)
    order = sorted(range(len(best)), key=lambda i: (best[i][5], -cover[i], best[i][3], best[i][0]))
    return _options(geo, point, aoi, at, settings, [best[i] for i in order], cover[order],
                    dropped, lost)


def delivery(link, onboard: OnBoardData, s: int, t0: float, t1: float, gbit: float, capacity: float):
    """``(delivered_s, station)`` of an image recorded ``t0``..``t1`` on satellite ``s``, or
    why not (``memory``, ``downlink``)."""
    span, rates, names = link
    a0, a1, v = onboard.items[s]
    plan_ready = np.concatenate([[onboard.request_s], a1])
    plan_gbit = np.concatenate([[onboard.backlog_gbit[s]], v])
    times, done = _drain_curve(span, rates, plan_ready, plan_gbit)
    held = onboard.backlog_gbit[s] + v[a0 <= t0].sum() - np.interp(t0, times, done)
    if held + gbit > capacity + 1e-9:
        return "memory"
    ready = np.concatenate([plan_ready, [t1]])
    volume = np.concatenate([plan_gbit, [gbit]])
    need = plan_gbit[plan_ready <= t1].sum() + gbit
    times, done = _drain_curve(span, rates, ready, volume)
    finish = _reach(times, done, need)
    if not math.isfinite(finish):
        return "downlink"
    k = int(np.searchsorted(span[:, 1], finish - 1e-9, side="left"))
    return float(span[k, 1]), names[k]


def _options(geo, point, aoi, at, settings, best, cover, dropped, lost) -> ResponseOptions:
    """The option rows as the :class:`ResponseOptions` table."""
    n = len(best)
    sat = np.array([r[0] for r in best], dtype=np.int64)
    t0 = np.array([r[3] for r in best], dtype=float)
    t1 = np.array([r[4] for r in best], dtype=float)
    delivered = np.array([r[5] for r in best], dtype=float)
    mid = 0.5 * (t0 + t1)
    aim = np.repeat(point.points().ecef_km, n, axis=0)
    off = pointing(geo, sat, mid, aim)["off_nadir_deg"] if n else np.zeros(0)
    r, v = geo.state(sat, mid)
    incidence = np.degrees(sar_look(r, v, aim)[0]) if n else np.zeros(0)
    sun = np.degrees(np.arcsin(np.clip(np.einsum("ij,ij->i", geo.sun_unit(mid, aim), geodetic_up(aim)),
                                       -1, 1))) if n else np.zeros(0)
    sensor = np.array([r[1] for r in best], dtype=object)

    def utc(x):
        return at + (np.asarray(x, dtype=float) * 1e9).round().astype("timedelta64[ns]")
    names = np.array(geo.ephemeris.constellation.names, dtype=object)
    table = Table({
        "satellite": names[sat], "sensor": sensor,
        "mode": np.array([r[2] for r in best], dtype=object),
        "start_utc": utc(t0), "end_utc": utc(t1), "off_nadir_deg": off,
        "incidence_deg": incidence, "look_side": np.array([r[10] for r in best], dtype=object),
        "sun_elevation_deg": sun, "coverage_fraction": cover,
        "first_downlink_station": np.array([r[6] for r in best], dtype=object),
        "delivery_utc": utc(delivered), "hours_to_image": t0 / 3600.0,
        "hours_to_delivery": delivered / 3600.0}, _FORMATS)
    return ResponseOptions(table, sat, t0, t1, delivered, at, aoi, settings, dropped, lost)
