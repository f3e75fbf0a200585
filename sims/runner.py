"""The simulation runner: fly a plan, time-stepped and vectorised over satellites.

:func:`simulate` takes a scenario, the ephemeris the plan was made on, the pass table, the
contact plan and the imaging plan, and steps every satellite together:

1. States on the simulation grid (``window.step_s``) by Hermite interpolation of the
   planning ephemeris (no further SGP4 call); the visible fraction of the solar disc
   (:func:`groundseg.sun.sunlit_fraction`) on the same states.
2. The plan becomes activity intervals and an attitude history
   (:func:`sims.schedule.build_schedule`, with the planner's own agility model).
3. Time is cut at every grid instant *and* at every activity boundary (acquisition,
   slew and transmission starts and ends), so within each sub-step every satellite has
   one mode: IMAGING, SLEW, DOWNLINK (transmitting at nadir) or IDLE, plus the
   transmitter state. :meth:`sims.spacecraft.Fleet.step` does the power and memory
   bookkeeping of each sub-step (the Sun interpolated at its middle): imaging fills the
   memory at the imaging data rate, so an acquisition records the planner's
   ``data_gbit``; transmitting drains complete images at the pass rate.
4. State is recorded at every grid instant; events are listed with UTC times.

The memory the simulation tracks agrees with the planner's accounting
(:mod:`groundseg.planning._memory`: an image is reserved at its start, drainable at its
end, drained as early as possible at the downlink rate): per acquisition and per downlink
within a few bits (whole bits here, floating-point Gbit there). The energy and data
ledgers close exactly (bits) and to rounding (joules).

Events (``events.csv``, ordered by time then satellite): ``time_utc, time_s, satellite,
event, detail`` with ``event`` one of ``aos``, ``los`` (every pass; detail: station and
``scheduled`` / ``dropped``), ``eclipse_entry``, ``eclipse_exit`` (umbra),
``slew_start``, ``slew_end`` (detail: target or ``nadir``), ``acquisition_start``,
``acquisition_end`` (target, Gbit), ``downlink_start``, ``downlink_stop`` (station; at
the stop the Gbit drained), ``fault_start``, ``fault_end`` (kind and parameter).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from groundseg.sun import eclipse_intervals, sun_position_km, sunlit_fraction
from groundseg.table import Table
from groundseg.timegrid import TimeGrid

from .errors import SimulationError
from .schedule import Schedule, build_schedule
from .spacecraft import DOWNLINK, IDLE, IMAGING, SLEW, Fleet

__all__ = ["Simulation", "simulate", "housekeeping_state", "EVENT_COLUMNS"]

EVENT_COLUMNS = ("time_utc", "time_s", "satellite", "event", "detail")


@dataclass
class Simulation:
    """What :func:`simulate` produced.

    ``times`` (TimeGrid, ``n_t`` instants of the simulation grid), ``time_s`` ``(n_t,)``;
    state at the grid instants ``(n_t, n_sat)``: ``charge_wh``, ``memory_gbit``, ``mode``
    (int codes of :mod:`sims.spacecraft`), ``transmitting`` (bool), ``load_w``;
    ``sunlit`` ``(n_sat, n_t)``; TEME ``position_km`` / ``velocity_km_s``
    ``(n_sat, n_t, 3)``; ``schedule``; ``fleet`` (ledgers); per acquisition of the
    schedule ``recorded_bit`` and per transmission ``drained_bit`` ``(int64)``;
    ``events`` (a Table, :data:`EVENT_COLUMNS`); ``substeps`` (number of Fleet steps).
    """

    scenario: object
    times: TimeGrid
    time_s: np.ndarray
    charge_wh: np.ndarray
    memory_gbit: np.ndarray
    mode: np.ndarray
    transmitting: np.ndarray
    load_w: np.ndarray
    sunlit: np.ndarray
    position_km: np.ndarray
    velocity_km_s: np.ndarray
    schedule: Schedule
    fleet: Fleet
    recorded_bit: np.ndarray
    drained_bit: np.ndarray
    events: Table
    substeps: int

    @property
    def names(self) -> list[str]:
        return list(self.scenario.constellation.names)

    def state_of_charge(self) -> np.ndarray:
        """Charge / capacity at the grid instants ``(n_t, n_sat)``."""
        return self.charge_wh / self.scenario.spacecraft.battery_capacity_wh

    def ledger(self) -> dict:
        """Energy (Wh) and data (bit) ledgers per satellite plus their closing errors."""
        out = self.fleet.ledger()
        out["energy_balance_error_j"] = self.fleet.power.balance_error_j().tolist()
        out["memory_balance_error_bit"] = self.fleet.memory.balance_error_bit().tolist()
        return out

    def events_csv(self, path=None) -> str:
        return self.events.to_csv(path)


def _load_w(model, imaging, slewing, transmitting) -> np.ndarray:
    """The power model's load for activity masks (any shape): idle plus each mode's share."""
    L = model.loads_w
    return (L["idle"] + (L["imaging"] - L["idle"]) * imaging
            + (L["slew"] - L["idle"]) * (slewing & ~imaging)
            + (L["downlink"] - L["idle"]) * transmitting)


def simulate(scenario, ephemeris, passes, contacts, imaging_plan, schedule: Schedule | None = None) -> Simulation:
    """Fly ``imaging_plan`` (an ImagingPlan made on ``ephemeris`` with ``contacts``, the
    contact plan of ``passes``) over the scenario's window (see the module docstring); with
    ``schedule`` (what the spacecraft executed, :func:`sims.executed.executed_schedule`), fly
    that instead of the plan's activities."""
    window = scenario.window
    times = window.time_grid()
    t = np.asarray(times.seconds, dtype=float)
    T = float(t[-1])
    eph_t = ephemeris.times.seconds_since(times.jd[0], times.fr[0])
    if abs(eph_t[0]) > 1e-6 or eph_t[-1] < T - 1e-6:
        raise SimulationError("the ephemeris must start at the window start and cover the window")
    n_sat = len(scenario.constellation)
    model = scenario.spacecraft
    pos, vel = ephemeris.interpolate(t)
    if not np.all(np.isfinite(pos)):
        bad = sorted({scenario.constellation.names[i] for i in np.flatnonzero(~np.isfinite(pos).all(axis=(1, 2)))})
        raise SimulationError(f"propagation failed in the window for {', '.join(bad)} "
                              "(decayed or bad elements): cannot simulate them")
    # The Sun on the planning grid, interpolated (it moves ~1 deg a day: nano-radians)
    sun_eph = sun_position_km(ephemeris.times, "teme")
    sun_km = np.stack([np.interp(t, eph_t, sun_eph[:, i]) for i in range(3)], axis=-1)
    sun = sunlit_fraction(pos, sun_km)                                   # (n_sat, n_t)
    if schedule is None:
        schedule = build_schedule(imaging_plan, contacts, n_sat, T, window.step_s)

    # Sub-steps: grid instants and activity boundaries.
    b = np.unique(np.concatenate([t, schedule.breakpoints()]))
    a0, a1 = b[:-1], b[1:]
    dt = a1 - a0
    mid = 0.5 * (a0 + a1)
    img = schedule.locate("imaging", mid)
    slw = schedule.locate("slewing", mid)
    txr = schedule.locate("transmitting", mid)
    imaging, slewing, tx = img >= 0, slw >= 0, txr >= 0
    mode = np.where(imaging, IMAGING, np.where(slewing, SLEW, np.where(tx, DOWNLINK, IDLE)))
    rate = np.zeros(img.shape)
    if schedule.transmissions["sat"].size:
        rate = np.where(tx, schedule.transmissions["rate_mbps"][np.maximum(txr, 0)], 0.0)
    acq_end = schedule.acquisitions["end_s"]
    image_end = imaging & (a1[None, :] >= acq_end[np.maximum(img, 0)] - 1e-9) \
        if acq_end.size else np.zeros(img.shape, dtype=bool)
    sun_mid = np.stack([np.interp(mid, t, sun[s]) for s in range(n_sat)])
    grid_end = np.zeros(a1.size, dtype=bool)
    grid_end[np.searchsorted(a1, t[1:])] = True

    fleet = Fleet(model, n_sat)
    n_t = t.size
    charge = np.empty((n_t, n_sat))
    memory = np.empty((n_t, n_sat))
    charge[0], memory[0] = fleet.charge_wh, fleet.memory_gbit
    out = fleet.run_steps(dt, mode.T, sun_mid.T, rate.T, tx.T, image_end.T, record=grid_end)
    charge[1:], memory[1:] = out["charge_wh"], out["memory_gbit"]
    drained, accepted = out["drained_bit"], out["accepted_bit"]

    n_acq = schedule.acquisitions["sat"].size
    n_tx = schedule.transmissions["sat"].size
    recorded = np.bincount(img.T[imaging.T], weights=accepted[imaging.T], minlength=n_acq) \
        if n_acq else np.zeros(0)
    drained_tx = np.bincount(txr.T[tx.T], weights=drained[tx.T], minlength=n_tx) \
        if n_tx else np.zeros(0)
    # state at the grid instants (the activity starting there)
    g_img = schedule.locate("imaging", t) >= 0
    g_slw = schedule.locate("slewing", t) >= 0
    g_tx = schedule.locate("transmitting", t) >= 0
    g_mode = np.where(g_img, IMAGING, np.where(g_slw, SLEW, np.where(g_tx, DOWNLINK, IDLE)))
    load = _load_w(model, g_img, g_slw, g_tx)
    events = _events(scenario, schedule, passes, contacts, ephemeris, drained_tx)
    return Simulation(scenario, times, t, charge, memory, g_mode.T.astype(np.int8), g_tx.T,
                      load.T, sun, pos, vel, schedule, fleet,
                      np.rint(recorded).astype(np.int64), np.rint(drained_tx).astype(np.int64),
                      events, int(a1.size))


def _events(scenario, schedule: Schedule, passes, contacts, ephemeris, drained_bit) -> Table:
    names = list(scenario.constellation.names)
    T = schedule.window_s
    rows: list[tuple[float, int, str, str]] = []
    epoch = scenario.window.start

    def sec(x):
        return (np.asarray(x) - epoch) / np.timedelta64(1, "ns") / 1e9

    if passes is not None and len(passes):
        status = {}
        if contacts is not None:
            p = contacts.passes
            for i in range(len(p)):
                status[(str(p.satellite[i]), str(p.station[i]), str(p.aos_utc[i]))] = \
                    "scheduled" if contacts.scheduled[i] else f"dropped ({contacts.reason[i]})"
        aos, los = sec(passes.aos_utc), sec(passes.los_utc)
        for i in range(len(passes)):
            sat, st = str(passes.satellite[i]), str(passes.station[i])
            how = status.get((sat, st, str(passes.aos_utc[i])), "")
            s = names.index(sat)
            if passes.truncated[i] not in ("start", "both"):
                rows.append((float(aos[i]), s, "aos", f"{st} {how}".strip()))
            if passes.truncated[i] not in ("end", "both"):
                rows.append((float(los[i]), s, "los", f"{st} {how}".strip()))
    sats, e0, e1 = eclipse_intervals(ephemeris)
    for s, x0, x1 in zip(sats.tolist(), e0.tolist(), e1.tolist()):
        if x0 > 0:
            rows.append((x0, s, "eclipse_entry", "umbra"))
        if x1 < T:
            rows.append((x1, s, "eclipse_exit", "umbra"))
    sl = schedule.slews
    for i in range(sl["sat"].size):
        what = "nadir" if sl["to"][i] == "nadir" else str(sl["target"][i])
        rows.append((float(sl["start_s"][i]), int(sl["sat"][i]), "slew_start", what))
        rows.append((float(sl["end_s"][i]), int(sl["sat"][i]), "slew_end", what))
    a = schedule.acquisitions
    for i in range(a["sat"].size):
        rows.append((float(a["start_s"][i]), int(a["sat"][i]), "acquisition_start", str(a["target"][i])))
        rows.append((float(a["end_s"][i]), int(a["sat"][i]), "acquisition_end",
                     f"{a['target'][i]} {a['data_gbit'][i]:.6f} Gbit"))
    x = schedule.transmissions
    for i in range(x["sat"].size):
        rows.append((float(x["start_s"][i]), int(x["sat"][i]), "downlink_start", str(x["station"][i])))
        rows.append((float(min(x["drain_stop_s"][i], T)), int(x["sat"][i]), "downlink_stop",
                     f"{x['station'][i]} {drained_bit[i] / 1e9:.6f} Gbit"))
    for f in scenario.faults:
        detail = f"{f.kind} {f.parameter}"
        rows.append((f.start_s, f.satellite_index, "fault_start", detail))
        if f.end_s is not None and f.end_s < T:
            rows.append((f.end_s, f.satellite_index, "fault_end", detail))
    rows.sort(key=lambda r: (r[0], r[1]))
    ts = np.array([r[0] for r in rows], dtype=float)
    return Table({"time_utc": epoch + np.rint(ts * 1e9).astype("timedelta64[ns]"),
                  "time_s": ts,
                  "satellite": np.array([names[r[1]] for r in rows], dtype=object),
                  "event": np.array([r[2] for r in rows], dtype=object),
                  "detail": np.array([r[3] for r in rows], dtype=object)},
                 {"time_s": ".3f"})


def housekeeping_state(sim: Simulation, stride: int) -> dict:
    """The simulated state every ``stride`` grid steps, as :func:`sims.housekeeping.
    housekeeping_values` takes it (``(n_sat, n)`` arrays, ``time_s`` ``(n,)``)."""
    if not (isinstance(stride, (int, np.integer)) and stride >= 1):
        raise SimulationError(f"housekeeping stride must be >= 1, got {stride}")
    k = np.arange(0, sim.time_s.size, stride)
    t = sim.time_s[k]
    sched = sim.schedule
    model = sim.scenario.spacecraft
    roll, pitch, roll_rate, pitch_rate = sched.attitude(t)
    img = sched.locate("imaging", t) >= 0
    slw = sched.locate("slewing", t) >= 0
    tx = sched.locate("transmitting", t) >= 0
    contact = sched.locate("in_contact", t) >= 0
    sun = sim.sunlit[:, k]
    return {
        "time_s": t,
        "soc": sim.state_of_charge()[k].T,
        "load_w": _load_w(model, img, slw, tx),
        "generated_w": model.solar_array_power_w * sun,
        "charge_efficiency": model.charge_efficiency,
        "sunlit": sun,
        "memory_fraction": sim.memory_gbit[k].T / model.memory_capacity_gbit,
        "imaging": img, "slewing": slw, "transmitting": tx, "in_contact": contact,
        "roll_deg": roll, "pitch_deg": pitch, "roll_rate_deg_s": roll_rate,
        "pitch_rate_deg_s": pitch_rate,
        "position_km": sim.position_km[:, k], "velocity_km_s": sim.velocity_km_s[:, k],
    }
