"""End to end: a scenario -> passes, contacts, imaging plan, simulation, telemetry, pictures.

:func:`run_scenario` is what ``groundseg demo`` and ``groundseg sim run`` do:

1. :func:`groundseg.mission_plan.plan_mission` on the scenario's planning inputs
   (:func:`sims.planning_inputs.plan_inputs`): SGP4 once on a 60 s grid over the window (the
   planning ephemeris), passes over every station, a contact plan with one station per
   satellite at a time, imaging opportunities and the imaging plan (time limit
   ``time_limit_s``);
2. the plan commanded (:func:`sims.command_loop.command_loop`): its activities become a PUS 11
   command load held for the last contact before each is due, uplinked in the contacts to
   simulated spacecraft that accept, schedule, execute and report (PUS 1); the command history
   goes to the archive;
3. the simulation (:func:`sims.runner.simulate`) on the scenario's step, flying what the
   spacecraft executed (what was never uplinked does not happen);
4. housekeeping packets every ``hk_period_s`` per satellite (:mod:`sims.housekeeping`,
   faults applied, encoded with the bundled dictionary) streamed over ZeroMQ
   (:mod:`sims.link`) to an in-process platform writing ``telemetry.sqlite`` (or to a
   platform at ``publish``);
5. a coverage / revisit run over the scenario's ``[coverage]`` region if it has one;
6. the files and pictures below, and ``summary.json``.

Output directory::

    passes.csv      every pass (the groundseg passes contract)
    contacts.csv    the contact plan (the groundseg contacts contract)
    plan.json       the imaging plan (the groundseg plan contract)
    timeline.csv    the plan's command timeline
    load.json       the command load (telemetry.commanding_load)
    events.csv      simulated events (sims.runner.EVENT_COLUMNS)
    telemetry.sqlite  the platform's archive: packets, decoded values, alarms, command history
                    (with ``publish``, the platform there keeps the telemetry and
                    ``commands.sqlite`` the command history)
    summary.json    what happened, in numbers (see summary())
    ground_tracks.png, pass_gantt.png, plan_timeline.png, memory_battery.png,
    revisit_map.png (with a [coverage] region) and coverage_cells.csv
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from groundseg.timegrid import format_utc

from .errors import SimulationError

__all__ = ["ScenarioRun", "run_scenario", "human_summary", "PLANNING_STEP_S"]

#: Grid of the planning ephemeris (passes, access); the simulation interpolates it.
PLANNING_STEP_S = 60.0
_TRACK_HOURS = 3.0


@dataclass
class ScenarioRun:
    """Everything :func:`run_scenario` made: inputs, intermediate results, files, summary."""

    scenario: object
    ephemeris: object = None
    passes: object = None
    contacts: object = None
    opportunities: object = None
    plan: object = None
    simulation: object = None
    housekeeping: list = field(default_factory=list)
    telemetry: dict | None = None
    coverage: object = None
    commanding: object = None
    files: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def _utc(t) -> str:
    return format_utc(t)[0]


def run_scenario(scenario, output_dir, *, time_limit_s: float = 10.0, method: str = "auto",
                 seed: int = 0, telemetry: bool = True, publish: str | None = None, keys=None,
                 linger_s: float = 30.0,
                 realtime: float | None = None, coverage: bool | None = None,
                 plots: bool = True, commanding: bool = True, log=None) -> ScenarioRun:
    """Run ``scenario`` end to end into ``output_dir`` (see the module docstring).

    ``commanding``: fly what the commanded spacecraft executed (False: fly the plan as planned);
    ``telemetry``: stream housekeeping (to an in-process platform, or to ``publish``; ``keys``
    and ``linger_s``: as :func:`sims.link.stream_packets` takes them);
    ``realtime``: pace it at that factor of real time (None: as fast as possible);
    ``coverage``: None = when the scenario has a ``[coverage]`` region; ``log``: a
    function taking progress lines (None: quiet).
    """
    from groundseg.mission_plan import plan_mission

    from .planning_inputs import plan_inputs
    from .runner import simulate

    if not (isinstance(time_limit_s, (int, float)) and time_limit_s > 0):
        raise SimulationError(f"planner time limit must be positive, got {time_limit_s}")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = log or (lambda _msg: None)
    run = ScenarioRun(scenario)
    clock = time.perf_counter()
    t_start = clock

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        run.timings_s[name] = round(now - clock, 3)
        clock = now

    def geometry_done(m):
        problems = m.ephemeris.errors()
        if problems:
            raise SimulationError(f"{scenario.source}: propagation failed: {problems[0]}")
        lap("geometry")
        say(f"geometry: {len(m.passes)} passes, {int(m.contacts.scheduled.sum())} contacts, "
            f"{len(m.opportunities)} imaging opportunities; planning ({time_limit_s:g} s limit) ...")

    step_s = min(PLANNING_STEP_S, max(scenario.window.duration_s, 1.0))
    mission = plan_mission(plan_inputs(scenario), step_s=step_s, time_limit_s=time_limit_s,
                           method=method, seed=seed, on_geometry=geometry_done)
    lap("planning")
    run.ephemeris, run.passes, run.contacts = mission.ephemeris, mission.passes, mission.contacts
    run.opportunities, run.plan = mission.opportunities, mission.plan
    executed = None
    if commanding:
        executed = _commanding(run, out, publish, say)
        lap("commanding")
    run.simulation = sim = simulate(scenario, run.ephemeris, run.passes, run.contacts, run.plan, executed)
    lap("simulation")

    run.passes.to_csv(out / "passes.csv")
    run.contacts.to_csv(out / "contacts.csv")
    run.plan.to_json(out / "plan.json")
    run.plan.timeline_csv(out / "timeline.csv")
    sim.events_csv(out / "events.csv")
    run.files.update({k: out / k for k in ("passes.csv", "contacts.csv", "plan.json",
                                           "timeline.csv", "events.csv")})

    if telemetry:
        _telemetry(run, out, publish, realtime, say, keys=keys, linger_s=linger_s)
        lap("telemetry")
    if coverage is None:
        coverage = scenario.coverage.region_deg is not None
    if coverage:
        _coverage(run, out)
        lap("coverage")
    if plots:
        _pictures(run, out)
        lap("pictures")
    run.timings_s["total"] = round(time.perf_counter() - t_start, 3)
    run.summary = summary(run, time_limit_s)
    path = out / "summary.json"
    path.write_text(json.dumps(run.summary, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    run.files["summary.json"] = path
    return run


def _commanding(run: ScenarioRun, out: Path, publish, say):
    """Command the plan into a fresh archive; returns the executed Schedule."""
    from .command_loop import command_loop
    from .schedule import build_schedule

    sc = run.scenario
    planned = build_schedule(run.plan, run.contacts, len(sc.constellation), sc.window.duration_s,
                             sc.window.step_s)
    archive = out / ("commands.sqlite" if publish else "telemetry.sqlite")
    for suffix in ("", "-wal", "-shm"):
        Path(str(archive) + suffix).unlink(missing_ok=True)
    run.commanding = command_loop(sc, planned, run.contacts, archive, log=say)
    run.commanding.load.to_json(out / "load.json")
    run.files["load.json"] = out / "load.json"
    run.files[archive.name] = archive
    return run.commanding.schedule


def _telemetry(run: ScenarioRun, out: Path, publish, realtime, say, **link) -> None:
    from telemetry import Archive, Dictionary

    from .housekeeping import apply_faults, housekeeping_values
    from .link import stream_packets
    from .runner import housekeeping_state

    sc = run.scenario
    sim = run.simulation
    stride = max(1, int(round(sc.hk_period_s / sc.window.step_s)))
    state = housekeeping_state(sim, stride)
    orbit_rate = float(np.median([s.no_kozai for s in sc.constellation.satrecs])) / 60.0
    seed = sc.telemetry.seed if sc.telemetry else 0
    values = housekeeping_values(state, hk_period_s=sc.hk_period_s, orbit_rate_rad_s=orbit_rate,
                                 seed=seed)
    apply_faults(values, sc.faults, state["time_s"])
    run.housekeeping = values
    d = Dictionary.bundled()
    unix0 = (sc.window.start - np.datetime64("1970-01-01T00:00:00", "ns")) / np.timedelta64(1, "ns") / 1e9
    times = unix0 + state["time_s"]
    rows = [d.encode("HK", v, time_s=times) for v in values]
    archive = None if publish else out / "telemetry.sqlite"
    result = stream_packets(rows, list(sc.constellation.names), apid=d.packet("HK").apid,
                            hk_period_s=sc.hk_period_s, archive=archive, dictionary=d,
                            publish=publish, realtime=realtime, log=say,
                            fresh=run.commanding is None, **link)
    if archive is not None:
        a = Archive(archive, readonly=True)
        try:
            result["alarms"] = a.alarms().records()
            result["stats"] = a.stats()
        finally:
            a.close()
        run.files["telemetry.sqlite"] = archive
    run.telemetry = result


def _coverage(run: ScenarioRun, out: Path) -> None:
    from .coverage import AccessConstraints, CoverageGrid, coverage
    sc = run.scenario
    cov = sc.coverage
    if cov.region_deg is None:
        raise SimulationError(f"{sc.source}: coverage: the scenario has no [coverage] region_deg")
    lat0, lat1, lon0, lon1 = cov.region_deg
    grid = CoverageGrid(lat0, lat1, lon0, lon1, cov.resolution_deg or 0.1)
    cons = AccessConstraints(sc.spacecraft.field_of_regard_deg, sc.spacecraft.min_sun_elevation_deg)
    start, end = sc.coverage_window()
    res = coverage(sc.constellation, grid, start, end, cons, step_s=cov.step_s or 60.0)
    run.coverage = res
    res.cells_table().to_csv(out / "coverage_cells.csv")
    run.files["coverage_cells.csv"] = out / "coverage_cells.csv"


def _pictures(run: ScenarioRun, out: Path) -> None:
    from groundseg.footprints import visibility_contour

    from . import plots
    from .planning_inputs import mean_altitude_km
    sc, sim, eph = run.scenario, run.simulation, run.ephemeris
    names = list(sc.constellation.names)
    start = sc.window.start
    geo = eph.geodetic()
    n_track = int(np.searchsorted(eph.times.seconds, _TRACK_HOURS * 3600.0, side="right"))
    hours = min(_TRACK_HOURS, sc.window.duration_s / 3600.0)
    altitude_km = mean_altitude_km(sc.constellation)
    targets = sc.targets.load()
    run.files["ground_tracks.png"] = plots.ground_tracks(
        out / "ground_tracks.png", geo.longitude_deg[:, :n_track], geo.latitude_deg[:, :n_track],
        names, times=eph.times.datetime64()[:n_track],
        stations=[(s.name, s.latitude_deg, s.longitude_deg) for s in sc.stations],
        visibility=[visibility_contour(s, altitude_km) for s in sc.stations],
        visibility_label=f"station visibility at {altitude_km:.0f} km (minimum elevation and mask)",
        targets=(targets.latitude_deg, targets.longitude_deg),
        title=f"Ground tracks, first {hours:g} h from {_utc(start)[:16]}Z")
    c = run.contacts
    p = c.passes
    if len(p):
        run.files["pass_gantt.png"] = plots.pass_gantt(
            out / "pass_gantt.png", p.station, p.satellite, p.aos_utc, p.los_utc,
            scheduled=c.scheduled, stations=[s.name for s in sc.stations], satellites=names,
            title="Passes per station")
    act = sim.schedule.activities()
    if act["sat"].size:
        acq = sim.schedule.acquisitions
        target = np.concatenate([np.asarray(acq["target"], dtype=object),
                                 np.full(act["sat"].size - len(acq["sat"]), "", dtype=object)])
        t0 = start + np.rint(act["start_s"] * 1e9).astype("timedelta64[ns]")
        t1 = start + np.rint(act["end_s"] * 1e9).astype("timedelta64[ns]")
        run.files["plan_timeline.png"] = plots.plan_timeline(
            out / "plan_timeline.png", np.array(names, dtype=object)[act["sat"]], t0, t1,
            act["kind"], target=target, rows=names, title="Plan per satellite")
    model = sc.spacecraft
    t = start + np.rint(sim.time_s * 1e9).astype("timedelta64[ns]")
    run.files["memory_battery.png"] = plots.resources(
        out / "memory_battery.png", t, sim.memory_gbit, sim.charge_wh, names,
        sunlit=sim.sunlit.T, memory_capacity_gbit=model.memory_capacity_gbit,
        battery_capacity_wh=model.battery_capacity_wh,
        min_charge_wh=model.min_charge_fraction * model.battery_capacity_wh,
        title="Battery and memory per satellite, simulated")
    if run.coverage is not None:
        res = run.coverage
        cov = sc.coverage
        days = (res.end - res.start) / np.timedelta64(1, "s") / 86400.0
        run.files["revisit_map.png"] = plots.revisit_map(
            out / "revisit_map.png", res.latitude_deg, res.longitude_deg,
            {"mean revisit (h)": res.mean_revisit_s / 3600.0,
             "95th-percentile revisit (h)": res.p95_revisit_s / 3600.0,
             "maximum revisit (h)": res.max_revisit_s / 3600.0},
            resolution_deg=cov.resolution_deg, region=cov.region_deg,
            title=f"Revisit over {days:g} d")


def summary(run: ScenarioRun, time_limit_s: float) -> dict:
    """The ``summary.json`` contract: scenario, counts, plan quality, data, power,
    bookkeeping, telemetry and alarms, coverage, files, timings (plain JSON values)."""
    sc, sim, plan = run.scenario, run.simulation, run.plan
    names = list(sc.constellation.names)
    p = plan.plan
    fl = sim.fleet
    sched = sim.schedule
    soc = sim.state_of_charge()
    i_min = np.unravel_index(int(np.argmin(soc)), soc.shape)
    planned_acq_bit = sched.acquisitions["data_gbit"] * 1e9
    planned_tx_bit = sched.transmissions["planned_gbit"] * 1e9

    def worst(a):
        return float(np.max(np.abs(a))) if np.size(a) else 0.0

    def num(x):
        return None if x is None or not math.isfinite(x) else float(x)

    out = {
        "scenario": {"name": sc.name, "source": sc.source, **sc.window.to_dict(),
                     "satellites": len(names), "stations": [s.name for s in sc.stations],
                     "targets": sc.targets.source},
        "passes": len(run.passes),
        "contacts": run.contacts.summary(),
        "plan": {"acquisitions": len(plan.acquisitions), "downlinks": len(p.downlinks),
                 "unscheduled_targets": len(plan.to_dict()["unscheduled"]),
                 "objective": p.objective, "upper_bound": num(p.upper_bound), "gap": num(p.gap),
                 "status": p.status, "solver": p.solver, "time_limit_s": time_limit_s,
                 "solve_time_s": round(p.solve_time_s, 3),
                 "agility_model": sc.spacecraft.agility.to_dict()},
        "data": {
            "imaged_gbit": float(fl.memory.accepted_bit.sum() / 1e9),
            "downlinked_gbit": float(fl.memory.drained_bit.sum() / 1e9),
            "planned_downlink_gbit": float(planned_tx_bit.sum() / 1e9),
            "rejected_gbit": float(fl.memory.rejected_bit.sum() / 1e9),
            "on_board_at_end_gbit": [float(x) for x in fl.memory.stored_bit / 1e9],
            "peak_memory_gbit": float(sim.memory_gbit.max()),
        },
        "power": {
            "min_state_of_charge": float(soc[i_min]),
            "min_state_of_charge_satellite": names[i_min[1]],
            "min_state_of_charge_utc": _utc(sc.window.start + np.timedelta64(int(round(sim.time_s[i_min[0]] * 1e9)), "ns")),
            "unserved_wh": float(fl.power.unserved_j.sum() / 3600.0),
        },
        "bookkeeping": {
            "energy_balance_max_error_j": worst(fl.power.balance_error_j()),
            "memory_balance_max_error_bit": int(worst(fl.memory.balance_error_bit())),
            "acquisition_vs_plan_max_bit": worst(sim.recorded_bit - planned_acq_bit),
            "downlink_vs_plan_max_bit": worst(sim.drained_bit - planned_tx_bit),
            "late_slews": int(np.count_nonzero(sched.slews["late_s"] > 0)),
            "substeps": sim.substeps,
            "ledger": sim.ledger(),
        },
        "events": {e: int(np.count_nonzero(sim.events["event"] == e))
                   for e in dict.fromkeys(sim.events["event"].tolist())},
        "faults": [f.to_dict() for f in sc.faults],
    }
    if run.commanding is not None:
        out["commanding"] = run.commanding.summary()
    if run.telemetry is not None:
        t = run.telemetry
        tel = {"destination": t["destination"], "sent_packets": t["sent_packets"],
               "acknowledged": t["acknowledged"], "duration_s": round(t["duration_s"], 3),
               "hk_period_s": sc.hk_period_s}
        if "stats" in t:
            st = t["stats"]
            tel.update(packets_archived=st.get("packets_archived", 0),
                       alarms_raised=st.get("alarms_raised", 0),
                       missing_packets=st.get("missing_packets", 0))
            tel["alarms"] = [{"spacecraft": a["spacecraft"], "parameter": a["parameter"],
                              "reason": a["reason"], "max_severity": _severity(a["max_severity"]),
                              "raised_utc": a["raised_utc"], "state": a["state"]}
                             for a in t["alarms"]]
        out["telemetry"] = tel
    if run.coverage is not None:
        out["coverage"] = run.coverage.summary()
    out["files"] = sorted(p.name for p in run.files.values()) + ["summary.json"]
    out["timings_s"] = dict(run.timings_s)
    return out


def _severity(code) -> str:
    from telemetry import SEVERITIES
    return SEVERITIES[int(code)] if code is not None and 0 <= int(code) < len(SEVERITIES) else str(code)


def human_summary(run: ScenarioRun) -> str:
    """A few lines for a person: what ran, what came out, where it is."""
    s = run.summary
    sc = s["scenario"]
    pl = s["plan"]
    d = s["data"]
    pw = s["power"]
    bk = s["bookkeeping"]
    gap = "-" if pl["gap"] is None else f"{100 * pl['gap']:.1f} %"
    ub = "-" if pl["upper_bound"] is None else f"{pl['upper_bound']:.1f}"
    lines = [
        f"{sc['name']}: {sc['satellites']} satellites, {len(sc['stations'])} stations, "
        f"{sc['start_utc'][:16]}Z .. {sc['end_utc'][:16]}Z ({sc['duration_h']:g} h, step {sc['step_s']:g} s)",
        f"passes    {s['passes']}; contacts scheduled {s['contacts']['scheduled']}, "
        f"dropped {s['contacts']['dropped']}",
        f"plan      {pl['acquisitions']} acquisitions, {pl['downlinks']} downlinks; objective "
        f"{pl['objective']:.1f}, upper bound {ub}, gap {gap} ({pl['solver']}, "
        f"{pl['time_limit_s']:g} s time limit)",
        f"data      imaged {d['imaged_gbit']:.1f} Gbit, downlinked {d['downlinked_gbit']:.1f} Gbit "
        f"(plan: {d['planned_downlink_gbit']:.1f}), peak on board {d['peak_memory_gbit']:.1f} Gbit",
        f"power     minimum battery state of charge {100 * pw['min_state_of_charge']:.1f} % "
        f"({pw['min_state_of_charge_satellite']}), unserved {pw['unserved_wh']:.1f} Wh",
        f"ledgers   energy closes to {bk['energy_balance_max_error_j']:.1e} J, memory to "
        f"{bk['memory_balance_max_error_bit']} bit; vs plan: {bk['acquisition_vs_plan_max_bit']:.0f} bit "
        f"per acquisition, {bk['downlink_vs_plan_max_bit']:.0f} bit per downlink",
    ]
    cm = s.get("commanding")
    if cm is not None:
        lines.append(
            f"commands  {cm['commands_planned']} planned ({cm['not_commandable']} with no contact before they "
            f"are due), {cm['uplinked']} uplinked, {cm['verified']} verified, {cm['failed']} failed; "
            f"acquisitions executed {cm['acquisitions_executed']} of {cm['acquisitions_planned']}, "
            f"downlinks {cm['downlinks_executed']} of {cm['downlinks_planned']}")
    tel = s.get("telemetry")
    if tel is not None:
        if "packets_archived" in tel:
            alarms = tel["alarms"]
            lines.append(f"telemetry {tel['packets_archived']} packets archived "
                         f"({tel['sent_packets']} sent), {len(alarms)} alarms raised"
                         + (":" if alarms else ""))
            for a in alarms:
                lines.append(f"          {a['raised_utc'][:19]}Z {a['spacecraft']} {a['parameter']} "
                             f"({a['reason']}, {a['max_severity']})")
        else:
            lines.append(f"telemetry {tel['sent_packets']} packets published to {tel['destination']}"
                         f" ({'all acknowledged' if tel['acknowledged'] else 'NOT all acknowledged'})")
    if "coverage" in s:
        cv = s["coverage"]
        worst = cv.get("max_revisit_h_over_cells")
        mean = cv.get("mean_revisit_h_over_cells")
        lines.append(f"coverage  {cv.get('cells')} cells ({cv.get('cells_accessed')} accessed) over "
                     f"{cv['window']['duration_h'] / 24:g} d: worst revisit median "
                     f"{'-' if not worst else format(worst['median'], '.1f')} h, max "
                     f"{'-' if not worst else format(worst['max'], '.1f')} h; mean revisit median "
                     f"{'-' if not mean else format(mean['median'], '.1f')} h")
    lines.append(f"wrote     {len(s['files'])} files in {s['timings_s']['total']:.1f} s: "
                 + ", ".join(s["files"]))
    return "\n".join(lines)
