"""Ground commanding: submit -> validate -> queue -> release -> uplink -> verify, all archived.

Library API (the command line uses it; the web console's command view calls the same)::

    from telemetry.commanding import Commanding
    c = Commanding("ops.sqlite")                     # the telemetry archive: a path, a URL or an Archive
    cid = c.submit("FS8-1", "SLEW", {"roll_deg": 10.0, "pitch_deg": 0.0}, operator="alice")
    c.submit("FS8-1", "IMAGING_STOP", {"acquisition": 7}, operator="planner",
             release_time_s=t)                       # a PUS 11 time-tagged command
    c.release(cid, operator="bob")                   # a critical command: a second person
    c.queue()                                        # Table: commands not yet uplinked
    c.history(spacecraft="FS8-1")                    # Table: HISTORY_COLUMNS
    c.command(cid)                                   # one command, its bytes and stages
    c.counts()                                       # commands per state

Rules, in order:

- **submit** validates before anything is stored: an unknown command, an unknown or missing
  argument, a value of the wrong type or out of range raises
  :class:`~telemetry.errors.CommandError` with one line, and nothing is queued or sent.
- **queue / release**: a normal command is released by its submitter at once; a critical one
  waits (``queued``) until :meth:`release` by a different operator. Release builds the bytes
  (sequence counts that no command still awaiting reports uses) and archives them.
- **uplink** (:mod:`telemetry.commanding_uplink`) takes released commands only inside contacts,
  at the station's rate; :meth:`mark_uplinked` records when and from where. A time-tagged
  command must reach the spacecraft :data:`MIN_LEAD_S` before its release time, else it
  ``expired`` (never uplinked).
- **verify**: PUS 1 reports are matched by request id. Stages and their reference times:
  acceptance from the uplink; for a time-tagged command ``scheduled`` (the PUS 11,4 completion)
  from the uplink, then start and completion from the release time; otherwise start and
  completion from the uplink. A report inside ``[reference, reference + window]`` gives OK or
  NOK (failure code); none by the end of the window (:meth:`on_clock`) or a later one gives
  TIMEOUT. Only the stages the dictionary lists are verified; once a stage is not OK the later
  ones do not apply. A command whose stages are all resolved is ``verified`` (all OK) or
  ``failed``.
"""
from __future__ import annotations

import json
import math
import time

import numpy as np

from groundseg.table import Table
from groundseg.timegrid import format_utc

from .archive import Archive
from .commanding_store import FINAL_STATES, CommandStore
from .errors import CommandError
from .tc import ACK_ACCEPTANCE, MAX_TC_BYTES, Telecommand, failure_name
from .tc_dictionary import CommandDictionary
from .tc_reports import ScheduleEntry, VerificationReport

__all__ = ["Commanding", "HISTORY_COLUMNS", "MIN_LEAD_S", "STATES", "iso_utc_ms"]

HISTORY_COLUMNS = ("id", "spacecraft", "name", "arguments", "submitted_utc", "submitted_by", "released_by",
                   "uplinked_utc", "station", "acceptance", "start", "completion")
STATES = ("queued", "released", "uplinked", "verified", "failed", "expired")
#: A time-tagged command reaches the spacecraft at least this long before its release time.
MIN_LEAD_S = 5.0
_INSERT = "SCHEDULE_INSERT"
_MAX_NAME = 64


def iso_utc_ms(time_s) -> str | None:
    """Unix seconds -> ISO 8601 UTC with milliseconds and Z (None stays None)."""
    if time_s is None:
        return None
    return format_utc(np.datetime64(int(round(float(time_s) * 1e9)), "ns"))[0]


def _name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME or "/" in value \
            or not value.isprintable():
        raise CommandError(f"{what} must be a printable name of 1..{_MAX_NAME} characters without '/', "
                           f"got {value!r}")
    return value.strip()


class Commanding:
    """The commanding service of one archive (see the module docstring).

    ``archive``: an :class:`~telemetry.archive.Archive`, or where one is (an SQLite path or a
    ``postgresql://`` URL; not created when ``create`` is false); ``clock``: the mission clock
    (Unix seconds; the simulator's in a simulation); ``source_id``: this ground application's
    PUS source id.
    """

    def __init__(self, archive, dictionary: CommandDictionary | None = None, *, source_id: int = 1,
                 clock=time.time, create: bool = True):
        self.dictionary = dictionary or CommandDictionary.bundled()
        self.dictionary.command(_INSERT)
        self.source_id, self.clock = int(source_id), clock
        self.archive = archive if isinstance(archive, Archive) else Archive(archive, create=create)
        self._own_archive = not isinstance(archive, Archive)
        self.store = CommandStore(self.archive)     # the archive created the tables

    def close(self) -> None:
        if self._own_archive:
            self.archive.close()

    # -- operators ----------------------------------------------------------------------------
    def submit(self, spacecraft: str, name: str, arguments: dict, operator: str, *,
               release_time_s: float | None = None, not_before_s: float | None = None,
               origin: str = "operator") -> int:
        """Validate and queue a command; returns its id. CommandError (one line) if it is not valid."""
        spacecraft = _name(spacecraft, "spacecraft")
        operator = _name(operator, "operator")
        cmd = self.dictionary.command(name)
        values = cmd.validate(arguments)
        args_json = {k: (v.encode().hex() if isinstance(v, Telecommand) else v) for k, v in values.items()}
        if release_time_s is not None:
            if cmd.service == 11:
                raise CommandError(f"{name}: a schedule command cannot itself be time-tagged")
            tag = next(a for a in self.dictionary.command(_INSERT).arguments if a.type == "time")
            release_time_s = tag.check(release_time_s, name)
        if not_before_s is not None and not math.isfinite(float(not_before_s)):
            raise CommandError(f"not_before_s must be finite, got {not_before_s!r}")
        now = float(self.clock())
        row = {"spacecraft": spacecraft, "name": cmd.name, "arguments": args_json, "significance": cmd.significance,
               "release_time_s": release_time_s, "not_before_s": not_before_s, "origin": str(origin),
               "state": "queued", "submitted_s": now, "submitted_by": operator}
        with self.store.transaction():
            cid = self.store.insert(row)
            if not cmd.critical:
                self._release(cid, operator, now)
        return cid

    def release(self, command_id: int, operator: str) -> None:
        """Release a queued (critical) command; the releasing operator must not be its submitter."""
        operator = _name(operator, "operator")
        with self.store.transaction():
            row = self.store.get(command_id)
            if row is None:
                raise CommandError(f"no command with id {command_id}")
            if row["state"] != "queued":
                raise CommandError(f"command {command_id} ({row['name']}) is {row['state']}, not waiting for release")
            if operator == row["submitted_by"]:
                raise CommandError(f"command {command_id} ({row['name']}) is critical: it must be released by "
                                   f"someone other than its submitter {row['submitted_by']}")
            self._release(command_id, operator, float(self.clock()))

    def _release(self, cid: int, operator: str, now: float) -> None:
        row = self.store.get(cid)
        d = self.dictionary
        timed = row["release_time_s"] is not None
        seqs = self.store.take_sequence(row["spacecraft"], d.apid, 2 if timed else 1, lambda s: self.store.
                                        request_id_in_use(row["spacecraft"], Telecommand(d.apid, s, 0, 0).request_id))
        if len(seqs) < (2 if timed else 1):
            raise CommandError(f"{row['spacecraft']}: every sequence count is held by a command awaiting reports")
        values = dict(row["arguments"])
        cmd = d.command(row["name"])
        for a in cmd.arguments:
            if a.type == "telecommand":
                values[a.name] = bytes.fromhex(values[a.name])
        tc = d.build(row["name"], values, seq_count=seqs[0], source_id=self.source_id)
        inner = None
        if timed:
            inner = Telecommand(tc.apid, seqs[1], tc.service, tc.subtype, tc.app_data, tc.source_id,
                                tc.ack_flags & ~ACK_ACCEPTANCE)
            tc = d.build(_INSERT, {"release_time": row["release_time_s"], "command": inner},
                         seq_count=seqs[0], source_id=self.source_id)
        if len(tc) > MAX_TC_BYTES:
            raise CommandError(f"command {cid}: {len(tc)} bytes exceed {MAX_TC_BYTES}")
        if not self.store.update(cid, only_from="queued", state="released", released_s=now, released_by=operator,
                                 apid=tc.apid, request_id=tc.request_id, raw=tc.encode(),
                                 inner_request_id=None if inner is None else inner.request_id):
            raise CommandError(f"command {cid} ({row['name']}) was released by someone else meanwhile")

    # -- views --------------------------------------------------------------------------------
    def command(self, command_id: int) -> dict:
        """One command (all columns) with ``stages`` {stage: (result, code, time_s)}."""
        row = self.store.get(command_id)
        if row is None:
            raise CommandError(f"no command with id {command_id}")
        row["stages"] = self.store.stages([command_id]).get(int(command_id), {})
        return row

    def queue(self, spacecraft: str | None = None) -> Table:
        """Commands not yet uplinked: id, spacecraft, name, state (queued: waits for release;
        released: waits for a contact), significance, submitted_by, release_utc, not_before_utc."""
        rows = self.store.select(states=("queued", "released"), spacecraft=spacecraft)
        return Table({"id": [r["id"] for r in rows], "spacecraft": [r["spacecraft"] for r in rows],
                      "name": [r["name"] for r in rows], "state": [r["state"] for r in rows],
                      "significance": [r["significance"] for r in rows],
                      "submitted_by": [r["submitted_by"] for r in rows],
                      "release_utc": [iso_utc_ms(r["release_time_s"]) for r in rows],
                      "not_before_utc": [iso_utc_ms(r["not_before_s"]) for r in rows]})

    def counts(self) -> dict[str, int]:
        """Number of commands per state (every state of :data:`STATES`)."""
        out = {s: 0 for s in STATES}
        for r in self.store.select():
            out[r["state"]] += 1
        return out

    def history(self, spacecraft: str | None = None) -> Table:
        """Every command in id order, :data:`HISTORY_COLUMNS`; a stage reads OK, NOK:<failure>,
        TIMEOUT, PENDING (not resolved yet) or - (does not apply)."""
        rows = self.store.select(spacecraft=spacecraft)
        stages = self.store.stages([r["id"] for r in rows])
        cols: dict[str, list] = {c: [] for c in HISTORY_COLUMNS}
        for r in rows:
            args = dict(r["arguments"])
            if r["release_time_s"] is not None:
                args["release_utc"] = iso_utc_ms(r["release_time_s"])
            shown = self._shown_stages(r, stages.get(r["id"], {}))
            for k, v in (("id", r["id"]), ("spacecraft", r["spacecraft"]), ("name", r["name"]),
                         ("arguments", json.dumps(args, separators=(",", ":"))),
                         ("submitted_utc", iso_utc_ms(r["submitted_s"])), ("submitted_by", r["submitted_by"]),
                         ("released_by", r["released_by"]), ("uplinked_utc", iso_utc_ms(r["uplinked_s"])),
                         ("station", r["station"]), *shown.items()):
                cols[k].append(v)
        return Table(cols)

    def _shown_stages(self, row: dict, got: dict) -> dict[str, str]:
        expected = [s for s, _, _ in self._expected(row)]
        out = {}
        blocked = False
        for stage in expected:
            res = got.get(stage)
            if res is None:
                out[stage] = "-" if blocked or row["state"] in FINAL_STATES or row["uplinked_s"] is None \
                    else "PENDING"
            else:
                out[stage] = res[0] if res[0] != "NOK" else f"NOK:{failure_name(res[1])}"
            blocked = blocked or (res is not None and res[0] != "OK")
        if "scheduled" in out:
            sched = out.pop("scheduled")
            if sched.startswith(("NOK", "TIMEOUT")):
                out["start"] = sched
        return {s: out.get(s, "-") for s in ("acceptance", "start", "completion")}

    # -- uplink -------------------------------------------------------------------------------
    def pending_uplinks(self, spacecraft: str | None = None) -> list[dict]:
        """Released commands waiting for a contact (id order), each with ``deadline_s`` (the
        latest arrival: release time - MIN_LEAD_S, or inf)."""
        rows = self.store.select(states=("released",), spacecraft=spacecraft)
        for r in rows:
            r["deadline_s"] = math.inf if r["release_time_s"] is None else r["release_time_s"] - MIN_LEAD_S
        return rows

    def mark_uplinked(self, command_id: int, station: str, time_s: float) -> None:
        """The command's last bit reached the spacecraft at ``time_s`` from ``station``."""
        with self.store.transaction():
            self.store.update(command_id, state="uplinked", uplinked_s=float(time_s), station=station)

    def expire(self, now_s: float) -> int:
        """Released time-tagged commands whose deadline is before ``now_s`` become ``expired``."""
        n = 0
        with self.store.transaction():
            for r in self.pending_uplinks():
                if r["deadline_s"] < now_s:
                    n += self.store.update(r["id"], only_from="released", state="expired")
        return n

    # -- verification -------------------------------------------------------------------------
    def _expected(self, row: dict) -> list[tuple[str, float | None, float]]:
        """(stage, reference time, window) in order for one command."""
        cmd = self.dictionary.command(row["name"])
        up = row["uplinked_s"]
        if row["release_time_s"] is None:
            return [(s, up, cmd.verifiers[s]) for s in ("acceptance", "start", "completion") if s in cmd.verifiers]
        outer = self.dictionary.command(_INSERT).verifiers
        out = [("acceptance", up, outer["acceptance"])]
        if "completion" in outer:
            out.append(("scheduled", up, outer["completion"]))
        out += [(s, row["release_time_s"], cmd.verifiers[s]) for s in ("start", "completion") if s in cmd.verifiers]
        return out

    def verified_by_s(self, command_id: int, uplinked_s: float) -> float:
        """When every verifier window of a command uplinked at ``uplinked_s`` has closed."""
        row = dict(self.store.get(command_id) or {}, uplinked_s=float(uplinked_s))
        if "name" not in row:
            raise CommandError(f"no command with id {command_id}")
        return max(ref + w for _, ref, w in self._expected(row))

    def on_reports(self, spacecraft: str, reports) -> dict[str, int]:
        """Match PUS 1 reports of one spacecraft to commands; returns counts of ``matched``,
        ``late`` (after the window: TIMEOUT), ``unmatched`` (no command awaits that request id)."""
        c = {"matched": 0, "late": 0, "unmatched": 0}
        with self.store.transaction():
            for rep in reports:
                if not isinstance(rep, VerificationReport):
                    continue
                hit = self.store.by_request(spacecraft, rep.request_id)
                if hit is None:
                    c["unmatched"] += 1
                    continue
                row, inner = hit
                timed = row["release_time_s"] is not None
                if inner:
                    stage = rep.stage if rep.stage != "acceptance" else None
                elif timed:
                    stage = {"acceptance": "acceptance", "completion": "scheduled"}.get(rep.stage)
                else:
                    stage = rep.stage
                window = {s: (ref, w) for s, ref, w in self._expected(row)}
                if stage not in window:
                    c["unmatched"] += 1
                    continue
                got = self.store.stages([row["id"]]).get(row["id"], {})
                if stage in got:
                    continue
                ref, w = window[stage]
                if rep.time_s > ref + w + 1e-6:
                    c["late"] += self.store.set_stage(row["id"], stage, "TIMEOUT", None, ref + w)
                else:
                    c["matched"] += self.store.set_stage(row["id"], stage, "OK" if rep.ok else "NOK", rep.code,
                                                         rep.time_s)
                self._settle(row)
        return c

    def on_clock(self, now_s: float) -> int:
        """Stages whose window ended before ``now_s`` without a report become TIMEOUT (every report
        up to ``now_s`` must have been given to :meth:`on_reports` first); returns how many."""
        n = 0
        with self.store.transaction():
            rows = self.store.select(states=("uplinked",))
            stages = self.store.stages([r["id"] for r in rows])
            for row in rows:
                got = stages.get(row["id"], {})
                for stage, ref, w in self._expected(row):
                    res = got.get(stage)
                    if res is None:
                        if ref + w < now_s:
                            n += self.store.set_stage(row["id"], stage, "TIMEOUT", None, ref + w)
                        break
                    if res[0] != "OK":
                        break
                self._settle(row)
        return n

    def _settle(self, row: dict) -> None:
        got = self.store.stages([row["id"]]).get(row["id"], {})
        for stage, _, _ in self._expected(row):
            res = got.get(stage)
            if res is None:
                return
            if res[0] != "OK":
                self.store.update(row["id"], only_from="uplinked", state="failed")
                return
        self.store.update(row["id"], only_from="uplinked", state="verified")

    # -- the on-board schedule ----------------------------------------------------------------
    def schedule_model(self, spacecraft: str, now_s: float) -> list[ScheduleEntry]:
        """What the ground believes is in ``spacecraft``'s on-board schedule at ``now_s``: its
        time-tagged commands on board by ``now_s`` (not reported rejected) whose release time
        is after ``now_s``."""
        out = []
        rows = self.store.select(states=("uplinked", "verified", "failed"), spacecraft=spacecraft)
        stages = self.store.stages([r["id"] for r in rows])
        for r in rows:
            if r["release_time_s"] is None or r["release_time_s"] <= now_s or r["uplinked_s"] > now_s:
                continue
            got = stages.get(r["id"], {})
            if any(got.get(s, ("OK",))[0] != "OK" for s in ("acceptance", "scheduled")):
                continue
            rid = int(r["inner_request_id"])
            out.append(ScheduleEntry(float(r["release_time_s"]), self.source_id, (rid >> 16) & 0x7FF, rid & 0x3FFF))
        return sorted(out)
