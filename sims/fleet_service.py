"""``groundseg sim spacecraft``: the scenario's satellites as a standalone fleet that takes
commands and sends telemetry.

:func:`run_fleet` computes the scenario's contact plan (as ``groundseg demo`` does: SGP4 on a
60 s grid, passes over every station, one station per satellite at a time), puts one
:class:`~sims.onboard.OnboardComputer` per satellite (with the scenario's commanding faults)
behind a :class:`~sims.uplink.FleetUplink` at ``listen``, and serves until the fleet's clock
reaches the window's end (virtual time: the ground drives it; real time: ``realtime`` times
faster than the wall clock) or ``stop`` is set. With ``publish``, every PUS 1 / PUS 11 report
also goes to the operations platform there as telemetry (one :class:`telemetry.Source` per
satellite, acknowledged). With ``keys`` (a key directory), the uplink and those sources use the
``fleet`` key (``groundseg telemetry keys --dir DIR --source fleet --spacecraft '*'``). Returns
what the fleet received, dropped and executed.
"""
from __future__ import annotations

import threading

import numpy as np

from telemetry.commanding_uplink import unix_s

from .command_loop import onboard_computers
from .errors import SimulationError
from .uplink import FleetUplink

__all__ = ["contact_plan_of", "run_fleet"]

def contact_plan_of(scenario):
    """(ephemeris on the planning grid, passes, contact plan) of a scenario's window, as
    ``groundseg demo`` computes them."""
    from groundseg.mission_plan import mission_geometry

    from .pipeline import PLANNING_STEP_S
    from .planning_inputs import plan_inputs

    w = scenario.window
    m = mission_geometry(plan_inputs(scenario), step_s=min(PLANNING_STEP_S, max(w.duration_s, 1.0)))
    problems = m.ephemeris.errors()
    if problems:
        raise SimulationError(f"{scenario.source}: propagation failed: {problems[0]}")
    return m.ephemeris, m.passes, m.contacts


def run_fleet(scenario, listen: str, *, publish: str | None = None, realtime: float | None = None, keys=None,
              stop: threading.Event | None = None, log=None) -> dict:
    """Serve the scenario's fleet at ``listen`` (module docstring)."""
    from telemetry import Source
    from telemetry.commanding_uplink import contact_windows
    from telemetry.tc_link import FLEET_KEY

    say = log or (lambda _m: None)
    _, passes, contacts = contact_plan_of(scenario)
    windows = contact_windows(contacts)
    computers, losses = onboard_computers(scenario)
    epoch = unix_s(scenario.window.start)
    sources: dict = {}
    fleet = None
    try:
        if publish is not None:
            for name in computers:
                sources[name] = Source(publish, spacecraft=name, keys=keys, key_name=FLEET_KEY)

        def forward(name, packets):
            if name in sources:
                sources[name].send(b"".join(packets), computers[name].dictionary.apid, len(packets))
        fleet = FleetUplink(listen, computers, windows, start_s=epoch, realtime=realtime, keys=keys,
                            losses=losses, on_reports=forward)
        say(f"fleet: {len(computers)} satellites, {len(windows)} contacts; taking commands on {fleet.endpoint}"
            + (f", telemetry to {publish}" if publish else "")
            + (f", {realtime:g}x real time" if realtime else ", virtual time (the ground's clock)"))
        fleet.serve(stop, until_s=epoch + scenario.window.duration_s,
                    on_poll=lambda: [s.poll(0.0) for s in sources.values()])
    finally:
        closed = {n: s.close() for n, s in sources.items()}
        if fleet is not None:
            fleet.close()
    reasons: dict[str, int] = {}
    for d in fleet.dropped:
        reasons[d[3]] = reasons.get(d[3], 0) + 1
    return {"endpoint": fleet.endpoint, "clock_utc": str(np.datetime64(int(fleet.time_s * 1e9), "ns")) + "Z",
            "received": len(fleet.received), "dropped": reasons, "bad_messages": fleet.bad_messages,
            "executed": {n: sum(e.ok for e in c.executed) for n, c in computers.items()},
            "reports_published": sum(c["sent_packets"] for c in closed.values()),
            "reports_acknowledged": all(c["all_acked"] for c in closed.values()) if closed else None,
            "passes": len(passes)}
