"""The plan commanded: command load, uplink in the contacts, on-board execution, executed timeline.

:func:`command_loop` closes the loop in one process, over the same ZeroMQ wire format a
standalone fleet uses (``groundseg sim spacecraft``):

1. the planned activities (:class:`~sims.schedule.Schedule`) become a PUS 11 command load
   (:func:`telemetry.commanding_load.build_load`) held for the last contact before each is due;
2. the load is submitted to the ground's :class:`~telemetry.commanding.Commanding` on the
   telemetry archive, and an :class:`~telemetry.commanding_uplink.UplinkSession` sends it
   through the scheduled contacts at the stations' uplink rates, in virtual time;
3. one :class:`~sims.onboard.OnboardComputer` per satellite behind a
   :class:`~sims.uplink.FleetUplink` accepts, schedules and executes the commands and reports
   (PUS 1, PUS 11); the ground verifies every stage;
4. what was executed becomes the Schedule the runner flies (:func:`sims.executed.executed_schedule`).

Commanding faults of the scenario (:mod:`sims.faults`): ``uplink_loss`` (commands arriving in
the fault's interval are lost), ``onboard_limit`` (a stricter on-board range for one argument
of one command), ``schedule_capacity`` (a smaller on-board schedule).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import zmq

from telemetry.commanding_uplink import unix_s

from .errors import SimulationError
from .executed import executed_schedule
from .faults import COMMAND_FAULT_KINDS
from .onboard import DEFAULT_SCHEDULE_CAPACITY, OnboardComputer
from .uplink import FleetUplink

__all__ = ["CommandRun", "command_loop", "onboard_computers"]


@dataclass
class CommandRun:
    """What :func:`command_loop` did: the ``load``, the executed ``schedule`` and its
    ``comparison`` with the plan, the ground's command ``counts`` per state, ``fleet``
    (received, dropped per reason), ``schedule_checks`` (PUS 11 reports against the model)."""

    load: object
    schedule: object
    comparison: dict
    counts: dict
    fleet: dict
    schedule_checks: list = field(default_factory=list)
    computers: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """The ``commanding`` section of ``summary.json``."""
        load = self.load
        planned = sum(1 for e in load.commands if e.release_s is not None) + len(load.unassigned)
        c = self.counts
        tagged = [e for e in load.commands if e.release_s is not None]
        a = self.comparison["acquisitions"]
        return {
            "commands_planned": planned, "not_commandable": len(load.unassigned),
            "commands_submitted": sum(c.values()), "uplinked": c["uplinked"] + c["verified"] + c["failed"],
            "verified": c["verified"], "failed": c["failed"], "expired": c["expired"],
            "time_tagged": len(tagged),
            "acquisitions_planned": a["planned"], "acquisitions_executed": a["executed"],
            "acquisitions_off_target": a["off_target"],
            "acquisitions_not_executed": [int(i) for i in a["missing"]],
            "downlinks_planned": self.comparison["downlinks"]["planned"],
            "downlinks_executed": self.comparison["downlinks"]["executed"],
            "max_deviation_from_plan_s": self.comparison["max_deviation_s"],
            "schedule_reports": len(self.schedule_checks),
            "schedule_reports_matching": sum(1 for x in self.schedule_checks if x["match"]),
            "dropped_uplinks": self.fleet["dropped"],
        }


def onboard_computers(scenario, faults=None, dictionary=None) -> tuple[dict, list]:
    """One OnboardComputer per satellite of ``scenario`` with its commanding faults applied;
    returns (computers, uplink losses as (satellite, start_s, end_s) Unix seconds)."""
    from telemetry.tc_dictionary import CommandDictionary
    d = dictionary or CommandDictionary.bundled()
    epoch = unix_s(scenario.window.start)
    faults = [f for f in (scenario.faults if faults is None else faults) if f.kind in COMMAND_FAULT_KINDS]
    capacity = {n: DEFAULT_SCHEDULE_CAPACITY for n in scenario.constellation.names}
    limits: dict[str, dict] = {n: {} for n in scenario.constellation.names}
    losses = []
    for f in faults:
        p = f.parameters
        if f.kind == "schedule_capacity":
            capacity[f.satellite] = int(p["entries"])
        elif f.kind == "onboard_limit":
            limits[f.satellite][(p["command"], p["argument"])] = (float(p["minimum"]), float(p["maximum"]))
        else:
            end = scenario.window.duration_s if f.end_s is None else f.end_s
            losses.append((f.satellite, epoch + f.start_s, epoch + end))
    computers = {n: OnboardComputer(n, d, agility=scenario.spacecraft.agility, start_s=epoch,
                                    schedule_capacity=capacity[n], limits=limits[n])
                 for n in scenario.constellation.names}
    return computers, losses


def command_loop(scenario, planned, contacts, archive, *, faults=None, operator: str = "planner",
                 log=None) -> CommandRun:
    """Command ``planned`` (the plan's Schedule) through ``contacts`` (a ContactPlan's scheduled
    passes, or ContactWindow objects), archiving in ``archive`` (a path), and return what was
    executed (module docstring). ``faults``: the commanding faults (default: the scenario's)."""
    from telemetry.commanding import Commanding
    from telemetry.commanding_load import build_load
    from telemetry.commanding_uplink import UplinkSession, contact_windows, uplink_rates
    from telemetry.tc_link import GroundLink

    say = log or (lambda _m: None)
    names = list(scenario.constellation.names)
    epoch = unix_s(scenario.window.start)
    end = epoch + scenario.window.duration_s
    windows = contact_windows(contacts) if hasattr(contacts, "passes") else sorted(contacts)
    rates = uplink_rates(scenario.stations)
    activities = {"slews": planned.slews, "acquisitions": planned.acquisitions,
                  "transmissions": planned.transmissions}
    load = build_load(activities, names, epoch, windows, rates)
    computers, losses = onboard_computers(scenario, faults)
    ctx = zmq.Context()
    fleet = link = ground = None
    try:
        fleet = FleetUplink(f"inproc://groundseg-uplink-{uuid.uuid4().hex[:10]}", computers, windows,
                            start_s=epoch, context=ctx, losses=losses).start()
        ground = Commanding(archive, clock=lambda: epoch)
        load.submit(ground, operator)
        link = GroundLink(fleet.endpoint, context=ctx)
        session = UplinkSession(ground, link, windows, rates)
        say(f"commanding: {len(load.commands)} commands held for {load.summary()['contacts_used']} contacts "
            f"({len(load.unassigned)} not commandable); uplinking ...")
        session.run(end)
        counts = ground.counts()
        checks = list(session.schedule_checks)
    except zmq.ZMQError as exc:
        raise SimulationError(f"commanding link: {exc}") from None
    finally:
        if link is not None:
            link.close()
        if fleet is not None:
            fleet.close()
        if ground is not None:
            ground.close()
        ctx.term()
    reasons: dict[str, int] = {}
    for d in fleet.dropped:
        reasons[d[3]] = reasons.get(d[3], 0) + 1
    executed, comparison = executed_schedule(planned, {n: c.executed for n, c in computers.items()}, names,
                                             epoch, scenario)
    return CommandRun(load, executed, comparison, counts, {"received": len(fleet.received), "dropped": reasons},
                      checks, computers)
