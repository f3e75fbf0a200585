"""The executed timeline: what the spacecraft did with the commands they received, as the
:class:`~sims.schedule.Schedule` the runner flies (instead of the plan's).

From each satellite's :class:`~sims.onboard.Execution` records (on-board times, Unix s):

- **acquisitions**: IMAGING_START and IMAGING_STOP of one acquisition number, both started;
  from the start's to the stop's time, from the attitude at the start to the commanded end
  attitude. Volume and target are the planned row's (the acquisition number is its row); an
  image taken before the slew settled or away from the planned start attitude (1e-6 deg) is
  flown but counted ``off_target``.
- **slews**: every SLEW that started, from the attitude then to the commanded one, over the
  on-board transition time (clipped to the window); its target is the planned slew's with the
  same satellite, end attitude and start (within 1 ms), else nadir / unplanned; ``late_s``: how
  long it still moved after the next image started.
- **transmissions**: a DOWNLINK_START and the next DOWNLINK_STOP of the same satellite
  (or the window's end), at the pass rate ``min(station, transmitter)``; planned volume, drain
  stop and pass end come from the planned downlink starting within 1 ms, if any.

:func:`executed_schedule` also compares with the plan: per kind ``planned``, ``executed``,
``missing`` (planned rows that did not happen) and the largest time difference of the rows
that did (``max_deviation_s``; 2**-24 s CUC time tags make it tens of nanoseconds).
"""
from __future__ import annotations

import numpy as np

from .schedule import Schedule

__all__ = ["executed_schedule"]

_MATCH_S = 1e-3
_ATTITUDE_DEG = 1e-6


def _by_sat(executions: dict, names: list[str], name: str) -> list[list]:
    return [[e for e in executions.get(n, []) if e.name == name and e.ok] for n in names]


def executed_schedule(planned: Schedule, executions: dict, names, epoch_s: float, scenario) -> tuple[Schedule, dict]:
    """(the Schedule of what was executed, the comparison with ``planned``); ``executions``:
    {satellite name: [Execution]}; times of the Schedule are seconds from ``epoch_s``."""
    names = list(names)
    T = planned.window_s
    rel = float(epoch_s)

    # acquisitions
    pa = planned.acquisitions
    starts, stops = _by_sat(executions, names, "IMAGING_START"), _by_sat(executions, names, "IMAGING_STOP")
    acq = {k: [] for k in pa}
    off_target, dev, missing_acq = 0, [0.0], []
    for i in range(len(pa["sat"])):
        s = int(pa["sat"][i])
        a = next((e for e in starts[s] if e.arguments["acquisition"] == i), None)
        b = next((e for e in stops[s] if e.arguments["acquisition"] == i), None)
        if a is None or b is None:
            missing_acq.append(i)
            continue
        r0, p0 = a.attitude_deg
        if not a.settled or abs(r0 - pa["roll0_deg"][i]) > _ATTITUDE_DEG or abs(p0 - pa["pitch0_deg"][i]) > _ATTITUDE_DEG:
            off_target += 1
        row = {"sat": s, "start_s": a.start_s - rel, "end_s": b.start_s - rel, "data_gbit": pa["data_gbit"][i],
               "target": pa["target"][i], "roll0_deg": r0, "pitch0_deg": p0,
               "roll1_deg": a.arguments["roll_end_deg"], "pitch1_deg": a.arguments["pitch_end_deg"]}
        dev += [abs(row["start_s"] - pa["start_s"][i]), abs(row["end_s"] - pa["end_s"][i])]
        for k in acq:
            acq[k].append(row[k])

    # slews
    ps = planned.slews
    sl = {k: [] for k in ps}
    matched_slews = set()
    for s, execs in enumerate(_by_sat(executions, names, "SLEW")):
        for e in execs:
            t0 = e.start_s - rel
            to = (float(e.arguments["roll_deg"]), float(e.arguments["pitch_deg"]))
            j = next((j for j in np.flatnonzero(ps["sat"] == s) if abs(ps["start_s"][j] - t0) < _MATCH_S
                      and (ps["roll1_deg"][j], ps["pitch1_deg"][j]) == to), None)
            if j is not None:
                matched_slews.add(int(j))
                dev.append(abs(ps["start_s"][j] - t0))
            row = {"sat": s, "start_s": t0, "end_s": min(e.end_s - rel, T), "roll0_deg": e.attitude_deg[0],
                   "pitch0_deg": e.attitude_deg[1], "roll1_deg": to[0], "pitch1_deg": to[1],
                   "to": ps["to"][j] if j is not None else ("nadir" if to == (0.0, 0.0) else "target"),
                   "target": ps["target"][j] if j is not None else "",
                   "late_s": max(0.0, e.end_s - min((x.start_s for x in starts[s] if x.start_s >= e.start_s),
                                                    default=np.inf))}
            for k in sl:
                sl[k].append(row[k])

    # transmissions
    px = planned.transmissions
    tx = {k: [] for k in px}
    on = _by_sat(executions, names, "DOWNLINK_START")
    off = _by_sat(executions, names, "DOWNLINK_STOP")
    matched_tx = set()
    for s in range(len(names)):
        for e in on[s]:
            t0 = e.start_s - rel
            station = e.arguments["station"]
            stop = next((x for x in off[s] if x.start_s >= e.start_s and x.arguments["station"] == station), None)
            t1 = T if stop is None else min(stop.start_s - rel, T)
            j = next((j for j in np.flatnonzero(px["sat"] == s) if abs(px["start_s"][j] - t0) < _MATCH_S
                      and px["station"][j] == station), None)
            if j is not None:
                matched_tx.add(int(j))
                dev += [abs(px["start_s"][j] - t0), abs(px["end_s"][j] - t1)]
            row = {"sat": s, "station": station, "start_s": t0, "end_s": t1,
                   "rate_mbps": scenario.downlink_rate_mbps(station),
                   "planned_gbit": px["planned_gbit"][j] if j is not None else 0.0,
                   "drain_stop_s": px["drain_stop_s"][j] if j is not None else t1,
                   "pass_end_s": px["pass_end_s"][j] if j is not None else t1}
            for k in tx:
                tx[k].append(row[k])

    def table(cols, like):
        return {k: np.asarray(v, dtype=like[k].dtype) if len(v) else like[k][:0] for k, v in cols.items()}

    sched = Schedule(planned.n_sat, T, planned.agility, table(acq, pa), table(sl, ps), table(tx, px),
                     planned.contacts)
    report = {
        "acquisitions": {"planned": len(pa["sat"]), "executed": len(acq["sat"]), "off_target": off_target,
                         "missing": missing_acq},
        "slews": {"planned": len(ps["sat"]), "executed": len(sl["sat"]),
                  "missing": sorted(set(range(len(ps["sat"]))) - matched_slews)},
        "downlinks": {"planned": len(px["sat"]), "executed": len(tx["sat"]),
                      "missing": sorted(set(range(len(px["sat"]))) - matched_tx)},
        "max_deviation_s": float(max(dev)),
    }
    return sched, report
