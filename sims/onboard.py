"""A simulated spacecraft's command handling: acceptance, PUS 1 reports, a bounded PUS 11
time-based schedule, execution, and the record of what was executed.

:class:`OnboardComputer` takes telecommand bytes at on-board times that never go backwards:

1. **acceptance**: the packet is decoded strictly (:func:`telemetry.tc.decode_tc`: length,
   header, CRC) and identified in the command dictionary (APID, service, subtype, function,
   every argument in range), then checked against on-board limits (the ``onboard_limit``
   training fault: a range stricter than the ground's). Failure: TM[1,2] with the failure
   code, quoting the first four bytes received as the request id; nothing else happens.
2. **start / completion**: a command is executed on reception, or, inside a PUS 11,4, inserted
   into the time-based schedule (at most ``schedule_capacity`` entries; full: completion
   failure ``schedule_full``; a release time already past: ``release_time_passed``) and
   executed at its release time. Start fails when the state does not allow the command
   (``not_allowed_in_mode``, ``payload_off``); a slew completes when it ends (the planner's
   agility model gives its duration), everything else at once.

Failure reports are always sent; success reports only for the stages the command's
acknowledgement flags ask for (ECSS-E-ST-70-41C). Reports are TM packets stamped with the
on-board time, collected in :meth:`take_reports`.

State: ``mode`` (SAFE, NOMINAL, IMAGING; starts NOMINAL), ``payload_on`` (starts on),
``transmitter`` (station or None), ``heaters``, the attitude (roll, pitch in the local orbital
frame; starts at nadir). SLEW, IMAGING_START and DOWNLINK_START are refused in SAFE mode; a
slew is refused while imaging or slewing; IMAGING_START needs the payload on; IMAGING_STOP
needs that acquisition running; MEMORY_DUMP needs the transmitter on. ``executed`` lists every
mission command that started (:class:`Execution`): the executed timeline.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from telemetry.errors import CommandError
from telemetry.tc import code_of, decode_tc, request_id_of, ACK_ACCEPTANCE, ACK_COMPLETION, ACK_START
from telemetry.tc_reports import ScheduleEntry, schedule_report, verification_report

from .errors import SimulationError

__all__ = ["DEFAULT_SCHEDULE_CAPACITY", "Execution", "OnboardComputer"]

#: Time-tagged commands the on-board schedule holds (assumption: a small OBC's PUS 11 table).
DEFAULT_SCHEDULE_CAPACITY = 256
_EPS_S = 1e-6              # CUC release times are 2**-24 s: activities that touch may overlap by that


@dataclass
class Execution:
    """One command that the spacecraft started (``ok``) or refused at start (``code``).

    ``start_s`` / ``end_s``: on-board times (a slew ends when it stops moving); ``attitude_deg``:
    (roll, pitch) when it started; ``settled``: no slew was still moving then."""

    name: str
    arguments: dict
    request_id: int
    time_tagged: bool
    start_s: float
    end_s: float
    ok: bool = True
    code: int | None = None
    attitude_deg: tuple = (0.0, 0.0)
    settled: bool = True


@dataclass(order=True)
class _Scheduled:
    release_s: float
    order: int
    tc: object = field(compare=False)
    cmd: object = field(compare=False)
    args: dict = field(compare=False)


class OnboardComputer:
    """Command handling of one spacecraft (see the module docstring).

    ``dictionary``: the :class:`~telemetry.tc_dictionary.CommandDictionary`; ``agility``: the
    planner's agility model (slew durations); ``limits``: {(command, argument): (lo, hi)}
    stricter on-board ranges; ``start_s``: the on-board clock's start (Unix s).
    """

    def __init__(self, name: str, dictionary, *, agility, start_s: float,
                 schedule_capacity: int = DEFAULT_SCHEDULE_CAPACITY, limits: dict | None = None):
        if schedule_capacity < 0:
            raise SimulationError(f"{name}: schedule capacity must be >= 0, got {schedule_capacity}")
        self.name, self.dictionary, self.agility = name, dictionary, agility
        self.capacity = int(schedule_capacity)
        self.limits = dict(limits or {})
        self.time_s = float(start_s)
        self.mode, self.payload_on, self.transmitter = "NOMINAL", True, None
        self.heaters = {"battery": False, "obc": False, "payload": False}
        self.attitude_deg = (0.0, 0.0)
        self.slew_end_s = -math.inf
        self.imaging: dict | None = None
        self.schedule: list[_Scheduled] = []
        self.executed: list[Execution] = []
        self.counters = {"received": 0, "rejected": 0, "scheduled": 0, "released": 0, "start_failed": 0}
        self._completions: list = []        # heap of (time, order, tc, Execution)
        self._order = 0
        self._tm_seq = 0
        self._outbox: list[bytes] = []

    # -- time -----------------------------------------------------------------------------------
    def advance(self, time_s: float) -> None:
        """Run the on-board schedule and pending completions up to ``time_s`` in time order."""
        while True:
            nxt_rel = self.schedule[0].release_s if self.schedule else math.inf
            nxt_done = self._completions[0][0] if self._completions else math.inf
            t = min(nxt_rel, nxt_done)
            if t > time_s:
                break
            self.time_s = max(self.time_s, t)
            if nxt_done <= nxt_rel:
                _, _, tc, ex = heapq.heappop(self._completions)
                self._report("completion", True, tc, ex.end_s)
            else:
                e = heapq.heappop(self.schedule)
                self.counters["released"] += 1
                self._execute(e.tc, e.cmd, e.args, e.release_s, time_tagged=True)
        self.time_s = max(self.time_s, float(time_s))

    # -- reception ------------------------------------------------------------------------------
    def receive(self, packet: bytes, time_s: float) -> None:
        """A telecommand received at ``time_s`` (the schedule runs up to then first)."""
        self.advance(time_s)
        t = self.time_s
        self.counters["received"] += 1
        try:
            tc = decode_tc(packet)
            cmd, args = self.dictionary.identify(tc)
            inner = None
            if cmd.name == "SCHEDULE_INSERT":
                inner = args["command"]
                icmd, iargs = self.dictionary.identify(inner)
                if icmd.service == 11:
                    raise CommandError("a schedule command cannot be time-tagged", code_of("illegal_data"))
                self._check_limits(icmd, iargs)
                inner = (inner, icmd, iargs)
            self._check_limits(cmd, args)
        except CommandError as exc:
            self.counters["rejected"] += 1
            rid = request_id_of(bytes(packet))
            if rid is not None:
                self._report("acceptance", False, None, t, code=exc.code if exc.code is not None
                             else code_of("illegal_data"), request_id=rid)
            return
        self._report("acceptance", True, tc, t)
        if inner is None:
            self._execute(tc, cmd, args, t, time_tagged=False)
            return
        self._report("start", True, tc, t)
        release = float(args["release_time"])
        if release <= t:
            self._report("completion", False, tc, t, code=code_of("release_time_passed"))
        elif len(self.schedule) >= self.capacity:
            self._report("completion", False, tc, t, code=code_of("schedule_full"))
        else:
            self._order += 1
            heapq.heappush(self.schedule, _Scheduled(release, self._order, *inner))
            self.counters["scheduled"] += 1
            self._report("completion", True, tc, t)

    def _check_limits(self, cmd, args: dict) -> None:
        for a, v in args.items():
            lim = self.limits.get((cmd.name, a))
            if lim is not None and not lim[0] <= v <= lim[1]:
                raise CommandError(f"{cmd.name}: {a} = {v} outside the on-board range {lim[0]}..{lim[1]}",
                                   code_of("rejected_argument"))

    # -- execution ------------------------------------------------------------------------------
    def _execute(self, tc, cmd, args: dict, t: float, *, time_tagged: bool) -> None:
        settled = self.slew_end_s <= t + _EPS_S
        ex = Execution(cmd.name, dict(args), tc.request_id, time_tagged, t, t, attitude_deg=self.attitude_deg,
                       settled=settled)
        code = self._refusal(cmd.name, args, settled)
        if code is not None:
            ex.ok, ex.code = False, code_of(code)
            self.counters["start_failed"] += 1
            if cmd.service != 11:
                self.executed.append(ex)
            self._report("start", False, tc, t, code=ex.code)
            return
        self._report("start", True, tc, t)
        failure = self._apply(cmd.name, args, t, tc, ex)
        if cmd.service != 11:
            self.executed.append(ex)
        if failure is not None:
            self._report("completion", False, tc, t, code=code_of(failure))
        elif ex.end_s > t:
            self._order += 1
            heapq.heappush(self._completions, (ex.end_s, self._order, tc, ex))
        else:
            self._report("completion", True, tc, t)

    def _refusal(self, name: str, args: dict, settled: bool) -> str | None:
        """Why the state does not allow ``name`` to start (a failure name), or None."""
        if name in ("SLEW", "IMAGING_START", "DOWNLINK_START", "MEMORY_DUMP") and self.mode == "SAFE":
            return "not_allowed_in_mode"
        if name == "SLEW" and (self.imaging is not None or not settled):
            return "not_allowed_in_mode"
        if name == "IMAGING_START":
            if not self.payload_on:
                return "payload_off"
            if self.imaging is not None:
                return "not_allowed_in_mode"
        if name == "IMAGING_STOP" and (self.imaging is None or self.imaging["acquisition"] != args["acquisition"]):
            return "not_allowed_in_mode"
        if name == "MEMORY_DUMP" and self.transmitter is None:
            return "not_allowed_in_mode"
        return None

    def _apply(self, name: str, args: dict, t: float, tc, ex: Execution) -> str | None:
        """Do ``name``; returns a failure name if it cannot complete."""
        if name == "SET_MODE":
            self.mode = args["mode"]
        elif name in ("PAYLOAD_ON", "PAYLOAD_OFF"):
            self.payload_on = name == "PAYLOAD_ON"
            if not self.payload_on:
                self.imaging = None
        elif name == "SLEW":
            to = (float(args["roll_deg"]), float(args["pitch_deg"]))
            duration = float(self.agility.transition_time_s(self.attitude_deg, to))
            ex.end_s = t + duration
            self.attitude_deg, self.slew_end_s = to, ex.end_s
        elif name == "IMAGING_START":
            self.imaging = {"acquisition": args["acquisition"], "start_s": t,
                            "end_deg": (float(args["roll_end_deg"]), float(args["pitch_end_deg"]))}
        elif name == "IMAGING_STOP":
            self.attitude_deg = self.imaging["end_deg"]
            self.imaging = None
        elif name == "DOWNLINK_START":
            self.transmitter = args["station"]
        elif name == "DOWNLINK_STOP":
            self.transmitter = None
        elif name in ("HEATER_ON", "HEATER_OFF"):
            self.heaters[args["heater"]] = name == "HEATER_ON"
        elif name == "SCHEDULE_RESET":
            self.schedule.clear()
        elif name == "SCHEDULE_DELETE":
            key = (args["source_id"], args["apid"], args["seq_count"])
            keep = [e for e in self.schedule if (e.tc.source_id, e.tc.apid, e.tc.seq_count) != key]
            if len(keep) == len(self.schedule):
                return "unknown_request"
            self.schedule = keep
            heapq.heapify(self.schedule)
        elif name == "SCHEDULE_REPORT":
            entries = [ScheduleEntry(e.release_s, e.tc.source_id, e.tc.apid, e.tc.seq_count) for e in self.schedule]
            self._outbox.append(schedule_report(entries, apid=self.dictionary.apid, seq_count=self._next_seq(),
                                                time_s=t, destination=tc.source_id))
        return None                      # MEMORY_DUMP, MEMORY_ERASE, RW_RESET: state the simulator does not model

    # -- reports --------------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._tm_seq = (self._tm_seq + 1) % (1 << 14)
        return self._tm_seq

    def _report(self, stage: str, ok: bool, tc, t: float, *, code: int | None = None,
                request_id: int | None = None) -> None:
        if ok and not tc.ack_flags & {"acceptance": ACK_ACCEPTANCE, "start": ACK_START,
                                      "completion": ACK_COMPLETION}[stage]:
            return
        rid = tc.request_id if request_id is None else request_id
        self._outbox.append(verification_report(stage, ok, rid, apid=self.dictionary.apid,
                                                seq_count=self._next_seq(), time_s=t, code=code,
                                                destination=0 if tc is None else tc.source_id))

    def take_reports(self) -> list[bytes]:
        """Report packets generated since the last call, in generation (time) order."""
        out, self._outbox = self._outbox, []
        return out

    def schedule_entries(self) -> list[ScheduleEntry]:
        """The on-board schedule now, in release order."""
        return sorted(ScheduleEntry(e.release_s, e.tc.source_id, e.tc.apid, e.tc.seq_count) for e in self.schedule)
