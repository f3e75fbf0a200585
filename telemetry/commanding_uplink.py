"""Uplink: released commands go up only inside contacts of the contact plan, at the station's rate.

Each telecommand travels in one TC transfer frame (5-byte header, 2-byte frame error control)
inside one CLTU (2-byte start sequence, BCH(63,56) code blocks of 7 data bytes + 1 parity byte,
8-byte tail): :func:`radiated_bits`. At ``rate_bps`` a command occupies the link for
``radiated_bits / rate_bps`` seconds.

:func:`assign_uplinks` is the rule, per spacecraft, contact by contact in time order: from the
contact's start (or ``now_s``), repeatedly send the command with the earliest deadline among
those released and not held (``not_before_s``), as long as its last bit arrives before both the
contact's end and its deadline (a time-tagged command's release time minus ``MIN_LEAD_S``); a
command that no longer fits waits for the next contact, one whose deadline passes is left out
(the service marks it ``expired``). Earliest-deadline-first within a contact meets every deadline
that any order could meet for commands available at the contact's start.

:class:`UplinkSession` drives a :class:`~telemetry.commanding.Commanding` and a
:class:`~telemetry.tc_link.GroundLink` through the contacts: virtual time (the fleet's clock
follows the ground's times, as fast as possible) or real time (the fleet's clock runs at a
factor of real time; the session sends each command when its last bit would arrive and records
its own estimate of the fleet's time then: the link's latency times the factor must stay well
below the verifier windows, e.g. 10 s at 100x is 100 ms of latency).
"""
from __future__ import annotations

import csv
import heapq
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .commanding import Commanding
from .errors import CommandError
from .tc_reports import ScheduleReport, decode_report

__all__ = ["DEFAULT_UPLINK_RATE_BPS", "ContactWindow", "Uplink", "radiated_bits", "contact_windows",
           "read_contacts_csv", "uplink_rates", "assign_uplinks", "UplinkSession", "compare_schedule", "unix_s"]

#: Uplink rate of a station that does not say (assumption: an S-band TC link at 64 kbit/s).
DEFAULT_UPLINK_RATE_BPS = 64_000.0


@dataclass(frozen=True, order=True)
class ContactWindow:
    """A scheduled contact: ``station`` tracks ``spacecraft`` over ``[start_s, end_s]`` (Unix s)."""

    start_s: float
    end_s: float
    spacecraft: str
    station: str


@dataclass(frozen=True)
class Uplink:
    """When a command goes up: radiated from ``start_s``, last bit on board at ``end_s``."""

    command_id: int
    spacecraft: str
    station: str
    start_s: float
    end_s: float


def radiated_bits(n_bytes: int) -> int:
    """Bits on the air for one telecommand packet of ``n_bytes`` (one frame, one CLTU)."""
    frame = n_bytes + 7
    return 8 * (2 + 8 * math.ceil(frame / 7) + 8)


def contact_windows(contact_plan) -> list[ContactWindow]:
    """The scheduled passes of a :class:`groundseg.contacts.ContactPlan`, in time order."""
    p = contact_plan.passes
    out = []
    for i in np.flatnonzero(contact_plan.scheduled):
        out.append(ContactWindow(unix_s(p.aos_utc[i]), unix_s(p.los_utc[i]), str(p.satellite[i]), str(p.station[i])))
    return sorted(out)


def unix_s(t) -> float:
    """A UTC instant (datetime64 or ISO text read by numpy) -> Unix seconds."""
    return float((np.datetime64(t, "ns") - np.datetime64(0, "ns")) / np.timedelta64(1, "ns")) / 1e9


def read_contacts_csv(path) -> list[ContactWindow]:
    """The scheduled rows of a contacts.csv (the ``groundseg contacts`` contract), in time order."""
    from groundseg.errors import TimeError
    from groundseg.timegrid import parse_utc
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    reader = csv.DictReader(text.splitlines())
    need = {"satellite", "station", "aos_utc", "los_utc", "status"}
    missing = need - set(reader.fieldnames or ())
    if missing:
        raise CommandError(f"{path}:1: missing column(s) {sorted(missing)} (a groundseg contacts.csv?)")
    out = []
    for line, row in enumerate(reader, start=2):
        if row.get("status") != "scheduled":
            continue
        try:
            aos, los = (unix_s(parse_utc(row[k])[0]) for k in ("aos_utc", "los_utc"))
        except (TimeError, TypeError, ValueError):
            raise CommandError(f"{path}:{line}: aos_utc / los_utc must be ISO 8601 UTC times") from None
        if not aos < los or not row["satellite"] or not row["station"]:
            raise CommandError(f"{path}:{line}: a contact needs a satellite, a station and aos < los")
        out.append(ContactWindow(aos, los, row["satellite"], row["station"]))
    return sorted(out)


def uplink_rates(stations) -> dict[str, float]:
    """{station: uplink rate, bit/s} from each station's ``uplink_rate_kbps`` (its TOML entry),
    else :data:`DEFAULT_UPLINK_RATE_BPS`."""
    out = {}
    for s in stations:
        kbps = (getattr(s, "extra", None) or {}).get("uplink_rate_kbps")
        if kbps is None:
            out[s.name] = DEFAULT_UPLINK_RATE_BPS
            continue
        if isinstance(kbps, bool) or not isinstance(kbps, (int, float)) or not 0 < kbps < math.inf:
            raise CommandError(f"station {s.name}: uplink_rate_kbps must be a positive number, got {kbps!r}")
        out[s.name] = float(kbps) * 1000.0
    return out


def assign_uplinks(pending: list[dict], contacts: list[ContactWindow], rates: dict[str, float], *,
                   now_s: float = -math.inf) -> list[Uplink]:
    """When each pending command goes up (the module's rule); ``pending``: rows with ``id``,
    ``spacecraft``, ``raw``, ``deadline_s``, ``not_before_s``. Sorted by arrival time."""
    by_sc: dict[str, list[dict]] = {}
    for r in pending:
        by_sc.setdefault(r["spacecraft"], []).append(r)
    out: list[Uplink] = []
    for sc, rows in by_sc.items():
        held = sorted(rows, key=lambda r: (_not_before(r), r["id"]))
        k = 0
        ready: list[tuple[float, int, dict]] = []
        for c in (c for c in contacts if c.spacecraft == sc and c.end_s > now_s):
            rate = rates.get(c.station, DEFAULT_UPLINK_RATE_BPS)
            p = max(c.start_s, now_s)
            while True:
                while k < len(held) and _not_before(held[k]) <= p:
                    heapq.heappush(ready, (held[k]["deadline_s"], held[k]["id"], held[k]))
                    k += 1
                while ready and ready[0][0] < p:
                    heapq.heappop(ready)                     # its deadline passed: expires
                if not ready:
                    if k < len(held) and _not_before(held[k]) < c.end_s:
                        p = _not_before(held[k])
                        continue
                    break
                deadline, _, r = ready[0]
                end = p + radiated_bits(len(r["raw"])) / rate
                if end > c.end_s:
                    break                                    # waits for the next contact
                heapq.heappop(ready)
                if end <= deadline:
                    out.append(Uplink(r["id"], sc, c.station, p, end))
                    p = end
        # whatever is left in ``ready`` or ``held`` found no contact
    return sorted(out, key=lambda u: (u.end_s, u.command_id))


def _packets_of(body: bytes):
    """The packets of a TM message by their length fields (a message is framed: whatever does
    not fit is yielded as one piece, which the strict decoder refuses)."""
    o, n = 0, len(body)
    while o < n:
        length = ((body[o + 4] << 8) | body[o + 5]) + 7 if o + 6 <= n else n - o
        yield body[o:o + length]
        o += max(length, 1)


def _not_before(row: dict) -> float:
    return -math.inf if row["not_before_s"] is None else float(row["not_before_s"])


def compare_schedule(model, report: ScheduleReport, tolerance_s: float = 1e-6) -> dict:
    """The ground's model of an on-board schedule against what the spacecraft reported:
    ``missing`` (expected, not on board) and ``unexpected`` (on board, not expected) entries."""
    def key(e):
        return (e.source_id, e.apid, e.seq_count)
    on_board = {key(e): e for e in report.entries}
    expected = {key(e): e for e in model}
    missing = [e for k, e in expected.items() if k not in on_board
               or abs(on_board[k].release_time_s - e.release_time_s) > tolerance_s]
    unexpected = [e for k, e in on_board.items() if k not in expected
                  or abs(expected[k].release_time_s - e.release_time_s) > tolerance_s]
    return {"time_s": report.time_s, "expected": len(expected), "reported": len(on_board),
            "missing": missing, "unexpected": unexpected, "match": not missing and not unexpected}


@dataclass
class UplinkSession:
    """Uplink released commands through ``link`` in ``contacts`` and verify them.

    ``run(until_s)`` sends every command :func:`assign_uplinks` places before ``until_s``,
    feeds the reports to ``commanding``, advances the clock to ``until_s`` and settles
    timeouts. Counters: ``uplinked``, ``reports``, ``bad_reports``, ``schedule_checks`` (one
    :func:`compare_schedule` result per PUS 11 report).
    """

    commanding: Commanding
    link: object
    contacts: list
    rates: dict
    now_s: float = -math.inf
    uplinked: int = 0
    reports: int = 0
    bad_reports: int = 0
    unmatched_reports: int = 0
    schedule_checks: list = field(default_factory=list)

    def run(self, until_s: float, *, batch: int = 256) -> dict:
        fleet_t = self.link.clock()
        realtime = self.link.realtime_factor > 0
        self.now_s = max(self.now_s, fleet_t)
        plan = [u for u in assign_uplinks(self.commanding.pending_uplinks(), self.contacts, self.rates,
                                          now_s=self.now_s) if u.end_s <= until_s]
        t_ref, wall_ref = fleet_t, time.monotonic()
        done: list[Uplink] = []
        for u in plan:
            if realtime:                 # the frame leaves when its last bit would reach the spacecraft
                self._wait_until(u.end_s, t_ref, wall_ref)
                u = Uplink(u.command_id, u.spacecraft, u.station, u.start_s,
                           max(u.end_s, t_ref + self.link.realtime_factor * (time.monotonic() - wall_ref)))
            row = self.commanding.store.get(u.command_id)
            self.link.send_tc(u.spacecraft, u.station, u.end_s, row["raw"])
            done.append(u)
            if len(done) >= batch:
                self._record(done)
        self._record(done)
        if realtime:
            self._wait_until(until_s, t_ref, wall_ref)
            end = self.link.clock()
        else:
            end = self.link.clock(until_s)
        self._ingest()
        self.commanding.on_clock(end)
        self.commanding.expire(end)
        self.now_s = end
        return {"uplinked": self.uplinked, "reports": self.reports, "bad_reports": self.bad_reports,
                "unmatched_reports": self.unmatched_reports, "clock_s": end}

    def _record(self, done: list) -> None:
        with self.commanding.store.transaction():
            for u in done:
                self.commanding.store.update(u.command_id, state="uplinked", uplinked_s=u.end_s, station=u.station)
        self.uplinked += len(done)
        done.clear()
        self._ingest()

    def _wait_until(self, t_s: float, t_ref: float, wall_ref: float) -> None:
        factor = self.link.realtime_factor
        while True:
            left = (t_s - t_ref) / factor - (time.monotonic() - wall_ref)
            if left <= 0:
                return
            self.link.poll(min(left, 0.2))
            self._ingest()

    def _ingest(self) -> None:
        for spacecraft, _t, body in self.link.drain():
            reports = []
            for packet in _packets_of(body):
                try:
                    reports.append(decode_report(packet))
                except CommandError:
                    self.bad_reports += 1
            self.reports += len(reports)
            c = self.commanding.on_reports(spacecraft, reports)
            self.unmatched_reports += c["unmatched"]
            for rep in reports:
                if isinstance(rep, ScheduleReport):
                    model = self.commanding.schedule_model(spacecraft, rep.time_s)
                    self.schedule_checks.append(dict(compare_schedule(model, rep), spacecraft=spacecraft))
