"""What each satellite does when: a plan turned into activity intervals and an attitude history.

:func:`build_schedule` reads an :class:`~groundseg.planning.imaging.ImagingPlan` (and the
contact plan it was made with) and lays out, per satellite, in seconds from the window
start:

- **imaging**: the planned acquisitions ``[start, end)``, each recording
  ``data_gbit`` (the planner's volume); the attitude moves linearly from the
  acquisition's exact start attitude to its exact end attitude (roll, pitch from
  :mod:`groundseg.access`, local orbital frame).
- **slews**: before each acquisition the satellite slews from where it is to the start
  attitude, with the planner's own agility model object (``ImagingSpacecraft.agility``):
  the slew takes the model's transition time ``T`` and ends the planner's slew margin
  before the image starts (so it starts at the plan timeline's ``slew_start``). A
  satellite starts the window at nadir and returns to nadir after an acquisition when the
  gap to the next one leaves room for both slews and at least ``nadir_hold_s`` at nadir
  (and after the last one); otherwise it holds the last attitude, as the planner assumed.
  A slew that the exact attitudes make longer than the gap is flagged ``late``.
- **transmitting**: each downlink the plan uses (``drained_gbit > 0``), from the pass's
  AOS until the plan's ``drain_stop`` rounded up to the next step (capped at the LOS and
  at the satellite's next pass), at the pass rate ``min(station, transmitter)``.
- **contacts**: every pass the contact plan schedules (the station tracks the satellite;
  telemetry reports the downlink chain ``ARMED`` outside transmissions).

Slew profiles (attitude during a slew, per axis, for the angle ``d`` of the axis):
``RateAccelerationAgility`` (``rate_deg_s`` w, ``accel_deg_s2`` a): bang-coast-bang,
accelerate at a up to w (or half-way), coast, brake; the axis is still for the model's
settling time. ``PiecewiseAgility`` (a transition time only): the cubic smoothstep
``d (3 x^2 - 2 x^3)``, ``x = t / T``, over the whole transition time (peak rate
``1.5 d / T``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Schedule", "build_schedule", "slew_profile"]

_NADIR_HOLD_S = 60.0
_EPS_S = 1e-9


def _bang_coast_bang(d, w, a, tau):
    """Angle progressed and rate, per axis: ``d``, ``tau`` arrays of one shape (deg, s)."""
    theta = np.abs(d)
    sign = np.sign(d)
    tri = theta <= w * w / a
    ta = np.where(tri, np.sqrt(theta / a), w / a)
    top = np.where(tri, a * ta, w)
    total = np.where(tri, 2.0 * ta, theta / np.where(theta > 0, w, 1.0) + w / a)
    t = np.clip(tau, 0.0, total)
    up = t < ta
    down = t > total - ta
    pos = np.where(up, 0.5 * a * t * t,
                   np.where(down, theta - 0.5 * a * (total - t) ** 2, 0.5 * a * ta * ta + top * (t - ta)))
    rate = np.where(up, a * t, np.where(down, a * (total - t), top))
    rate = np.where((tau <= 0) | (tau >= total), 0.0, rate)
    pos = np.where(theta > 0, pos, 0.0)
    return sign * pos, sign * rate


def slew_profile(agility, d_roll_deg, d_pitch_deg, duration_s, tau_s):
    """Progress ``(roll, pitch)`` deg and rates deg/s at ``tau_s`` into a slew of
    ``(d_roll_deg, d_pitch_deg)`` taking ``duration_s`` (the model's transition time).
    Arrays broadcast; before 0 nothing moved, after the motion the full angle is reached."""
    dr, dp, T, tau = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in
                                           (d_roll_deg, d_pitch_deg, duration_s, tau_s)))
    if hasattr(agility, "rate_deg_s") and hasattr(agility, "accel_deg_s2"):
        w, a = float(agility.rate_deg_s), float(agility.accel_deg_s2)
        r, rr = _bang_coast_bang(dr, w, a, tau)
        p, pr = _bang_coast_bang(dp, w, a, tau)
        return r, p, rr, pr
    x = np.clip(tau / np.where(T > 0, T, 1.0), 0.0, 1.0)
    x = np.where(T > 0, x, 1.0)
    s = x * x * (3.0 - 2.0 * x)
    ds = np.where((tau > 0) & (tau < T), 6.0 * x * (1.0 - x) / np.where(T > 0, T, 1.0), 0.0)
    return dr * s, dp * s, dr * ds, dp * ds


@dataclass
class _Intervals:
    """Sorted, non-overlapping intervals of one kind for every satellite."""

    start: list          # per satellite: (k,) float arrays
    end: list
    ref: list            # per satellite: (k,) int index into the kind's table

    def locate(self, sat: int, t) -> np.ndarray:
        """Index into the kind's table of the interval holding each ``t`` ([start, end)), -1."""
        s, e = self.start[sat], self.end[sat]
        t = np.asarray(t, dtype=float)
        if s.size == 0:
            return np.full(t.shape, -1, dtype=np.int64)
        k = np.searchsorted(s, t, side="right") - 1
        kk = np.clip(k, 0, s.size - 1)
        inside = (k >= 0) & (t < e[kk])
        return np.where(inside, self.ref[sat][kk], -1)


def _intervals(n_sat, sat, start, end) -> _Intervals:
    sat = np.asarray(sat, dtype=np.int64)
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    out = _Intervals([], [], [])
    for s in range(n_sat):
        idx = np.flatnonzero(sat == s)
        idx = idx[np.argsort(start[idx], kind="stable")]
        out.start.append(start[idx])
        out.end.append(end[idx])
        out.ref.append(idx)
    return out


class Schedule:
    """Activity tables (dicts of ``(n,)`` columns, times in s from the window start):

    ``acquisitions``: sat, start_s, end_s, data_gbit, target, roll0/pitch0/roll1/pitch1_deg.
    ``slews``: sat, start_s, end_s, roll0/pitch0/roll1/pitch1_deg, to (``target`` or
    ``nadir``), target, late_s (how late the slew ends after the image starts, 0 if on time).
    ``transmissions``: sat, station, start_s, end_s, rate_mbps, planned_gbit, drain_stop_s,
    pass_end_s. ``contacts``: sat, station, start_s, end_s (scheduled passes).
    """

    def __init__(self, n_sat, window_s, agility, acquisitions, slews, transmissions, contacts):
        self.n_sat, self.window_s, self.agility = n_sat, float(window_s), agility
        self.acquisitions, self.slews = acquisitions, slews
        self.transmissions, self.contacts = transmissions, contacts
        self.imaging = _intervals(n_sat, acquisitions["sat"], acquisitions["start_s"], acquisitions["end_s"])
        self.slewing = _intervals(n_sat, slews["sat"], slews["start_s"], slews["end_s"])
        self.transmitting = _intervals(n_sat, transmissions["sat"], transmissions["start_s"],
                                       transmissions["end_s"])
        self.in_contact = _intervals(n_sat, contacts["sat"], contacts["start_s"], contacts["end_s"])

    def breakpoints(self) -> np.ndarray:
        """Every instant an activity starts or ends, in the window, sorted unique."""
        t = np.concatenate([self.acquisitions["start_s"], self.acquisitions["end_s"],
                            self.slews["start_s"], self.slews["end_s"],
                            self.transmissions["start_s"], self.transmissions["end_s"]])
        t = t[(t > 0) & (t < self.window_s)]
        return np.unique(t)

    def locate(self, kind: str, times_s) -> np.ndarray:
        """Row of ``kind`` (imaging, slewing, transmitting, in_contact) holding each time,
        -1 if none: ``(n_sat, n_time)`` int."""
        iv = getattr(self, kind)
        return np.stack([iv.locate(s, times_s) for s in range(self.n_sat)])

    def attitude(self, times_s):
        """Roll, pitch (deg) and their rates (deg/s) at ``times_s`` ``(n_time,)``: four
        ``(n_sat, n_time)`` arrays. Holds the attitude reached by the last activity."""
        t = np.asarray(times_s, dtype=float)
        n = t.size
        roll = np.zeros((self.n_sat, n))
        pitch = np.zeros((self.n_sat, n))
        roll_rate = np.zeros((self.n_sat, n))
        pitch_rate = np.zeros((self.n_sat, n))
        acq, sl = self.acquisitions, self.slews
        for s in range(self.n_sat):
            # The satellite's activities in time order: (start, kind 0 image / 1 slew, row).
            ia, isl = np.flatnonzero(acq["sat"] == s), np.flatnonzero(sl["sat"] == s)
            starts = np.concatenate([acq["start_s"][ia], sl["start_s"][isl]])
            if starts.size == 0:
                continue
            kind = np.concatenate([np.zeros(ia.size, np.int8), np.ones(isl.size, np.int8)])
            row = np.concatenate([ia, isl])
            order = np.lexsort((-kind, starts))          # at equal starts the slew first
            starts, kind, row = starts[order], kind[order], row[order]
            k = np.searchsorted(starts, t, side="right") - 1
            kk = np.clip(k, 0, starts.size - 1)
            is_img = (kind[kk] == 0) & (k >= 0)
            is_slew = (kind[kk] == 1) & (k >= 0)
            if ia.size:
                ri = np.where(is_img, row[kk], ia[0])
                t0, t1 = acq["start_s"][ri], acq["end_s"][ri]
                dur = np.where(t1 > t0, t1 - t0, 1.0)
                x = np.clip((t - t0) / dur, 0.0, 1.0)
                d_r = acq["roll1_deg"][ri] - acq["roll0_deg"][ri]
                d_p = acq["pitch1_deg"][ri] - acq["pitch0_deg"][ri]
                moving = is_img & (t < t1)
                roll[s] = np.where(is_img, acq["roll0_deg"][ri] + x * d_r, roll[s])
                pitch[s] = np.where(is_img, acq["pitch0_deg"][ri] + x * d_p, pitch[s])
                roll_rate[s] = np.where(moving, d_r / dur, roll_rate[s])
                pitch_rate[s] = np.where(moving, d_p / dur, pitch_rate[s])
            if isl.size:
                rs = np.where(is_slew, row[kk], isl[0])
                d_r = sl["roll1_deg"][rs] - sl["roll0_deg"][rs]
                d_p = sl["pitch1_deg"][rs] - sl["pitch0_deg"][rs]
                T = sl["end_s"][rs] - sl["start_s"][rs]
                pr, pp, vr, vp = slew_profile(self.agility, d_r, d_p, T, t - sl["start_s"][rs])
                roll[s] = np.where(is_slew, sl["roll0_deg"][rs] + pr, roll[s])
                pitch[s] = np.where(is_slew, sl["pitch0_deg"][rs] + pp, pitch[s])
                roll_rate[s] = np.where(is_slew, vr, roll_rate[s])
                pitch_rate[s] = np.where(is_slew, vp, pitch_rate[s])
        return roll, pitch, roll_rate, pitch_rate

    def activities(self) -> dict:
        """``sat``, ``start_s``, ``end_s``, ``kind`` (imaging, slew, downlink) columns."""
        a, s, x = self.acquisitions, self.slews, self.transmissions
        return {"sat": np.concatenate([a["sat"], s["sat"], x["sat"]]),
                "start_s": np.concatenate([a["start_s"], s["start_s"], x["start_s"]]),
                "end_s": np.concatenate([a["end_s"], s["end_s"], x["end_s"]]),
                "kind": np.array(["imaging"] * len(a["sat"]) + ["slew"] * len(s["sat"])
                                 + ["downlink"] * len(x["sat"]), dtype=object)}


def _slew_time(agility, a, b) -> float:
    return float(agility.transition_time_s(np.asarray(a, float), np.asarray(b, float)))


def build_schedule(imaging_plan, contacts, n_sat: int, window_s: float, step_s: float, *,
                   nadir_hold_s: float = _NADIR_HOLD_S) -> Schedule:
    """The :class:`Schedule` of an ImagingPlan (see the module docstring). ``contacts``:
    the ContactPlan the plan was made with (None: no contacts); ``step_s``: the simulation
    step (transmissions end at the first step boundary after the last bit)."""
    plan = imaging_plan.plan
    agility = imaging_plan.spacecraft.agility
    margin = float(imaging_plan.spacecraft.slew_margin_s)
    acq_t = plan.acquisitions
    exact = imaging_plan.acquisitions           # same rows, exact attitudes from the geometry
    n = len(acq_t)
    timed = np.isfinite(np.asarray(acq_t["start_s"], dtype=float)) if n else np.zeros(0, bool)
    rows = np.flatnonzero(timed)
    acq = {
        "sat": np.asarray(acq_t["resource"], dtype=np.int64)[rows] if n else np.zeros(0, np.int64),
        "start_s": np.asarray(acq_t["start_s"], dtype=float)[rows] if n else np.zeros(0),
        "end_s": np.asarray(acq_t["end_s"], dtype=float)[rows] if n else np.zeros(0),
        "data_gbit": np.asarray(acq_t["data_gbit"], dtype=float)[rows] if n else np.zeros(0),
        "target": np.array([str(acq_t["target"][i]) for i in rows], dtype=object),
        "roll0_deg": np.array([exact[i]["roll_start_deg"] for i in rows], dtype=float),
        "pitch0_deg": np.array([exact[i]["pitch_start_deg"] for i in rows], dtype=float),
        "roll1_deg": np.array([exact[i]["roll_end_deg"] for i in rows], dtype=float),
        "pitch1_deg": np.array([exact[i]["pitch_end_deg"] for i in rows], dtype=float),
    }
    sl = {k: [] for k in ("sat", "start_s", "end_s", "roll0_deg", "pitch0_deg", "roll1_deg",
                          "pitch1_deg", "to", "target", "late_s")}

    def add_slew(s, t0, a, b, to, target, due=math.inf):
        T = _slew_time(agility, a, b)
        t1 = min(t0 + T, window_s)
        if t1 - t0 <= _EPS_S:
            return
        for key, v in (("sat", s), ("start_s", t0), ("end_s", t1), ("roll0_deg", a[0]),
                       ("pitch0_deg", a[1]), ("roll1_deg", b[0]), ("pitch1_deg", b[1]),
                       ("to", to), ("target", target), ("late_s", max(0.0, t0 + T - due))):
            sl[key].append(v)

    nadir = (0.0, 0.0)
    for s in range(n_sat):
        idx = np.flatnonzero(acq["sat"] == s)
        idx = idx[np.argsort(acq["start_s"][idx], kind="stable")]
        here, free_from = nadir, 0.0
        for i in idx:
            t_img = float(acq["start_s"][i])
            b = (float(acq["roll0_deg"][i]), float(acq["pitch0_deg"][i]))
            if here != nadir:
                back = _slew_time(agility, here, nadir)
                from0 = _slew_time(agility, nadir, b)
                if free_from + back + nadir_hold_s <= t_img - margin - from0:
                    add_slew(s, free_from, here, nadir, "nadir", "")
                    here, free_from = nadir, free_from + back
            T = _slew_time(agility, here, b)
            t0 = max(free_from, t_img - margin - T)
            add_slew(s, t0, here, b, "target", str(acq["target"][i]), due=t_img)
            here = (float(acq["roll1_deg"][i]), float(acq["pitch1_deg"][i]))
            free_from = float(acq["end_s"][i])
        if here != nadir and free_from < window_s:
            add_slew(s, free_from, here, nadir, "nadir", "")
    slews = {k: np.asarray(v, dtype=object if k in ("to", "target") else
                           (np.int64 if k == "sat" else float)) for k, v in sl.items()}

    dl = plan.downlinks
    problem = imaging_plan.problem
    k = len(dl)
    idx = np.asarray(dl["downlink"], dtype=np.int64) if k else np.zeros(0, np.int64)
    start = np.asarray(dl["start_s"], dtype=float) if k else np.zeros(0)
    pass_end = np.asarray(dl["end_s"], dtype=float) if k else np.zeros(0)
    stop = np.asarray(dl["drain_stop_s"], dtype=float) if k else np.zeros(0)
    tx_end = np.minimum(pass_end, np.ceil(stop / step_s - 1e-9) * step_s)
    tx_end = np.maximum(tx_end, np.minimum(stop, pass_end))
    sat_tx = np.asarray(dl["resource"], dtype=np.int64) if k else np.zeros(0, np.int64)
    for sat in np.unique(sat_tx):                  # never into the satellite's next pass
        idx_s = np.flatnonzero(sat_tx == sat)
        idx_s = idx_s[np.argsort(start[idx_s])]
        tx_end[idx_s[:-1]] = np.minimum(tx_end[idx_s[:-1]], start[idx_s[1:]])
    tx = {"sat": np.asarray(dl["resource"], dtype=np.int64) if k else np.zeros(0, np.int64),
          "station": np.array([str(x) for x in dl["station"]], dtype=object) if k else np.zeros(0, object),
          "start_s": np.clip(start, 0.0, window_s), "end_s": np.clip(tx_end, 0.0, window_s),
          "rate_mbps": problem.dl_rate_gbit_s[idx] * 1000.0 if k else np.zeros(0),
          "planned_gbit": np.asarray(dl["drained_gbit"], dtype=float) if k else np.zeros(0),
          "drain_stop_s": stop, "pass_end_s": pass_end}

    c = {"sat": [], "station": [], "start_s": [], "end_s": []}
    if contacts is not None and len(contacts):
        p = contacts.passes
        epoch = imaging_plan.opportunities.epoch
        names = list(imaging_plan.opportunities.ephemeris.constellation.names)
        for i in np.flatnonzero(contacts.scheduled):
            c["sat"].append(names.index(str(p.satellite[i])))
            c["station"].append(str(p.station[i]))
            c["start_s"].append(float((p.aos_utc[i] - epoch) / np.timedelta64(1, "ns")) / 1e9)
            c["end_s"].append(float((p.los_utc[i] - epoch) / np.timedelta64(1, "ns")) / 1e9)
    cont = {"sat": np.asarray(c["sat"], dtype=np.int64), "station": np.asarray(c["station"], dtype=object),
            "start_s": np.clip(np.asarray(c["start_s"], dtype=float), 0, window_s),
            "end_s": np.clip(np.asarray(c["end_s"], dtype=float), 0, window_s)}
    return Schedule(n_sat, window_s, agility, acq, slews, tx, cont)
