"""The passes the console shows: a rolling window of predicted passes, the contact plan's
decision on each, antenna pointing for the sky plot, and AOS / LOS events as the clock runs.

Passes come from :func:`groundseg.passes.predict_passes` (the ``groundseg passes`` search: the
same constellation and stations give the same AOS / TCA / LOS to its 1 ms tolerance). The
console keeps a window from ``back_s`` before to ``ahead_s`` after the clock and predicts the
next one when the clock nears its end. A request for an explicit window is predicted for
exactly that window, as ``groundseg passes --start --end`` would (spans up to ``MAX_SPAN_S``).

The contact plan: when a contact plan file is given (the plan the passes were scheduled with,
e.g. the demo's ``contacts.csv``, :class:`~telemetry.console.plan.ContactsFile`), each pass takes
the decision of the plan's pass of the same satellite and station whose AOS is within
``_MATCH_S`` (two passes of one satellite over one station are an orbit apart); passes outside
the plan are ``unplanned``. Without one (or until the file exists), the console plans its window
itself with :func:`groundseg.contacts.plan_contacts` (the ``groundseg contacts`` greedy planner)
and says so (``planned_by``).
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from groundseg.contacts import plan_contacts
from groundseg.passes import PASS_CSV_COLUMNS, PassTable, predict_passes
from groundseg.tracking import pointing_table

from .errors import BadRequest

__all__ = ["PassWindow", "MAX_SPAN_S", "datetime64_s", "seconds_of"]

MAX_SPAN_S = 7 * 86400.0
_MATCH_S = 60.0
_MAX_POINTING_ROWS = 720
_CACHE = 8
_OWN_PLAN = "planned by the console over its window (greedy, as groundseg contacts)"


def datetime64_s(t_s: float) -> np.datetime64:
    """Unix seconds -> ``datetime64[ns]``."""
    return np.datetime64(int(round(t_s * 1e9)), "ns")


def seconds_of(t) -> np.ndarray:
    """``datetime64`` array -> Unix seconds (float64)."""
    return np.asarray(t, dtype="datetime64[ns]").astype(np.int64) / 1e9


class PassWindow:
    """Passes of ``constellation`` over ``stations`` around ``clock.now_s()``; thread-safe."""

    def __init__(self, constellation, stations, clock, *, contacts=None,
                 back_s: float = 3 * 3600.0, ahead_s: float = 30 * 3600.0):
        self.constellation, self.stations, self.clock = constellation, list(stations), clock
        self.by_station = {s.name: s for s in self.stations}
        self.given = contacts
        self.back_s, self.ahead_s = float(back_s), float(ahead_s)
        self._lock = threading.Lock()
        self._window: tuple[float, float] | None = None
        self._passes: PassTable | None = None
        self._decisions: list[dict] = []
        self._exact: OrderedDict = OrderedDict()
        self.planned_by = _OWN_PLAN

    # -- the rolling window ---------------------------------------------------------------------
    def current(self) -> tuple[PassTable, list[dict], tuple[float, float]]:
        """(passes, their contact decisions, (start_s, end_s)) of the window around now."""
        now = self.clock.now_s()
        with self._lock:
            w = self._window
            changed, given = self.given.decisions() if self.given is not None else (False, {})
            if w is None or now < w[0] + 0.25 * self.back_s or now > w[1] - 6 * 3600.0:
                start = math.floor((now - self.back_s) / 3600.0) * 3600.0
                end = start + self.back_s + self.ahead_s
                passes = predict_passes(self.constellation, self.stations, datetime64_s(start), datetime64_s(end))
                self._passes, self._window = passes, (start, end)
                changed = True
            if changed:
                self._decisions = self._decide(self._passes, given)
            return self._passes, self._decisions, self._window

    def _decide(self, passes: PassTable, given: dict) -> list[dict]:
        """Per pass: ``{"antenna", "status", "reason"}`` (status scheduled | dropped | unplanned)."""
        if not given:
            self.planned_by = _OWN_PLAN
            plan = plan_contacts(passes, self.stations)
            p = plan.passes
            row = {(p.satellite[i], p.station[i], p.aos_utc[i]): i for i in range(len(plan))}
            return [{"antenna": int(plan.antenna[k]), "status": "scheduled" if plan.scheduled[k] else "dropped",
                     "reason": str(plan.reason[k] or "")}
                    for k in (row[(passes.satellite[i], passes.station[i], passes.aos_utc[i])] for i in range(len(passes)))]
        self.planned_by = f"from {self.given.path}"
        aos = seconds_of(passes.aos_utc)
        out = []
        for i in range(len(passes)):
            match = [d for t, d in given.get((str(passes.satellite[i]), str(passes.station[i])), ())
                     if abs(t - aos[i]) < _MATCH_S]
            out.append(match[0] if match else {"antenna": 0, "status": "unplanned", "reason": "not in the contact plan"})
        return out

    # -- queries --------------------------------------------------------------------------------
    def passes(self, station: str | None = None, start_s: float | None = None, end_s: float | None = None) -> list[dict]:
        """Passes as dicts with the keys of ``passes.csv``: the window's passes overlapping
        ``[now, now + 24 h]`` by default, else exactly ``groundseg passes`` for the given window."""
        if station is not None and station not in self.by_station:
            raise BadRequest(f"station {station!r}: not one of {', '.join(self.by_station)}")
        if start_s is None and end_s is None:
            passes, _, _ = self.current()
            now = self.clock.now_s()
            keep = (seconds_of(passes.los_utc) >= now) & (seconds_of(passes.aos_utc) <= now + 86400.0)
            passes = passes.take(keep)
        else:
            now = self.clock.now_s()
            start_s = now if start_s is None else start_s
            end_s = start_s + 86400.0 if end_s is None else end_s
            if not 0 < end_s - start_s <= MAX_SPAN_S:
                raise BadRequest(f"window {end_s - start_s:g} s: end must be after start, at most {MAX_SPAN_S:g} s later")
            passes = self._exact_window(start_s, end_s)
        if station is not None:
            passes = passes.select(station=station)
        return passes.records(PASS_CSV_COLUMNS)

    def _exact_window(self, start_s: float, end_s: float) -> PassTable:
        key = (start_s, end_s)
        with self._lock:
            hit = self._exact.get(key)
        if hit is None:
            hit = predict_passes(self.constellation, self.stations, datetime64_s(start_s), datetime64_s(end_s))
            with self._lock:
                self._exact[key] = hit
                while len(self._exact) > _CACHE:
                    self._exact.popitem(last=False)
        return hit

    def contacts(self, station: str | None = None) -> dict:
        """The window's passes from now on with the contact plan's decision on each."""
        if station is not None and station not in self.by_station:
            raise BadRequest(f"station {station!r}: not one of {', '.join(self.by_station)}")
        passes, decisions, (w0, w1) = self.current()
        now = self.clock.now_s()
        los = seconds_of(passes.los_utc)
        rows = []
        for rec, d, end in zip(passes.records(("satellite", "station", "aos_utc", "tca_utc", "los_utc",
                                                "duration_s", "max_elevation_deg")), decisions, los):
            if end < now - 600.0 or (station is not None and rec["station"] != station):
                continue
            rows.append({**rec, **d})
        return {"planned_by": self.planned_by, "window": [w0, w1], "contacts": rows}

    def window_passes(self, start_s: float, end_s: float) -> list[dict]:
        """Passes overlapping ``[start_s, end_s]`` for the plan's timeline: ``satellite``,
        ``station``, ``aos_s``, ``los_s`` and the contact decision (``unplanned`` outside the
        console's window, where no plan was made)."""
        passes, decisions, (w0, w1) = self.current()
        if not (w0 <= start_s and end_s <= w1):
            passes = self._exact_window(start_s, end_s)
            decisions = [{"antenna": 0, "status": "unplanned", "reason": "outside the console's window"}] * len(passes)
        aos, los = seconds_of(passes.aos_utc), seconds_of(passes.los_utc)
        return [{"satellite": str(passes.satellite[i]), "station": str(passes.station[i]), "aos_s": float(aos[i]),
                 "los_s": float(los[i]), **decisions[i]}
                for i in np.flatnonzero((los >= start_s) & (aos <= end_s))]

    def events(self, after_s: float, until_s: float) -> list[dict]:
        """AOS and LOS in ``(after_s, until_s]``, in time order."""
        passes, decisions, _ = self.current()
        out = []
        for kind, col in (("aos", passes.aos_utc), ("los", passes.los_utc)):
            t = seconds_of(col)
            for i in np.flatnonzero((t > after_s) & (t <= until_s)):
                if passes.truncated[i] in (("start", "both") if kind == "aos" else ("end", "both")):
                    continue                  # a window edge, not an event
                out.append({"event": kind, "time_s": float(t[i]), "satellite": str(passes.satellite[i]),
                            "station": str(passes.station[i]), "antenna": decisions[i]["antenna"],
                            "status": decisions[i]["status"]})
        return sorted(out, key=lambda e: e["time_s"])

    def pointing(self, satellite: str, station: str, start_s: float, end_s: float) -> dict:
        """Azimuth / elevation of one pass for the sky plot (at most ``_MAX_POINTING_ROWS`` rows)."""
        if station not in self.by_station:
            raise BadRequest(f"station {station!r}: not one of {', '.join(self.by_station)}")
        if satellite not in self.constellation.names:
            raise BadRequest(f"satellite {satellite!r}: not in the constellation")
        span = end_s - start_s
        if not 0 < span <= 6 * 3600.0:
            raise BadRequest(f"track window {span:g} s: end must be after start, at most 6 h later")
        step = max(1.0, math.ceil(span / (_MAX_POINTING_ROWS - 1)))
        t = pointing_table(self.constellation, satellite, self.by_station[station], datetime64_s(start_s),
                           datetime64_s(end_s), step_s=step)
        return {"satellite": satellite, "station": station, "time_s": seconds_of(t["time_utc"]).tolist(),
                "azimuth_deg": np.round(t["azimuth_deg"], 3).tolist(),
                "elevation_deg": np.round(t["elevation_deg"], 3).tolist()}

    def stations_info(self) -> list[dict]:
        """Each station with its horizon requirement every 2 degrees of azimuth (mask and minimum)."""
        az = np.arange(0.0, 360.0 + 1e-9, 2.0)
        return [{"name": s.name, "latitude_deg": s.latitude_deg, "longitude_deg": s.longitude_deg,
                 "altitude_m": s.altitude_m, "min_elevation_deg": s.min_elevation_deg, "antennas": s.antennas,
                 "mask_azimuth_deg": az.tolist(), "mask_elevation_deg": np.round(s.mask_elevation_deg(az), 3).tolist()}
                for s in self.stations]
