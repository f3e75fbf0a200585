"""Plan -> command load: each satellite's activities become PUS 11 time-tagged commands, held
for the last contact before they are due.

Activities come as the simulator derives them from a plan (:class:`sims.schedule.Schedule`'s
tables; times in seconds from ``epoch_s``, satellites as indices into ``names``)::

    slews          sat, start_s, roll1_deg, pitch1_deg      -> SLEW(roll_deg, pitch_deg) at start_s
    acquisitions   sat, start_s, end_s, roll1_deg, pitch1_deg
                   -> IMAGING_START(acquisition = row, roll_end_deg, pitch_end_deg) at start_s,
                      IMAGING_STOP(acquisition = row) at end_s
    transmissions  sat, station, start_s, end_s -> DOWNLINK_START(station) / DOWNLINK_STOP(station)

Each command is held (``not_before``) until the start of the last contact of its satellite that
begins before it is due (release time - :data:`~telemetry.commanding.MIN_LEAD_S`), so the
on-board schedule holds little and late plan changes still fit. The load is checked by running
the uplink rule (:func:`~telemetry.commanding_uplink.assign_uplinks`) on it: a command that does
not fit its contact (rate, length) is held for the contact before, and so on (with every
command due at the same instant, so that they reach the on-board schedule, which runs commands
of one release time in insertion order, in the load's order: stops, slew, starts); one with no
contact early enough is ``unassigned`` and never commanded. Every contact that takes load
commands ends with a SCHEDULE_REPORT (PUS 11,17), whose TM[11,13] answer the ground compares
with its model of the on-board schedule.

``load.json``::

    {"epoch_utc": str, "dictionary": str,
     "commands": [{"spacecraft", "name", "arguments", "release_utc" (null: on reception),
                   "release_unix_s" (the same, exact),
                   "not_before_utc", "station", "uplink_utc" (planned arrival), "activity"}],
     "unassigned": [{"spacecraft", "name", "arguments", "release_utc", "activity", "reason"}],
     "summary": {"commands", "unassigned", "contacts_used", "per_spacecraft": {name: n}}}
"""
from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path


from .commanding import MIN_LEAD_S, Commanding, iso_utc_ms
from .commanding_uplink import assign_uplinks, unix_s
from .errors import CommandError
from .tc import Telecommand
from .tc_dictionary import CommandDictionary

__all__ = ["LoadEntry", "CommandLoad", "build_load", "load_from_json"]


@dataclass
class LoadEntry:
    """One command of a load (``release_s`` None: executed on reception)."""

    spacecraft: str
    name: str
    arguments: dict
    release_s: float | None
    activity: str
    not_before_s: float | None = None
    station: str | None = None
    uplink_s: float | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        return {"spacecraft": self.spacecraft, "name": self.name, "arguments": self.arguments,
                "release_utc": iso_utc_ms(self.release_s), "release_unix_s": self.release_s,
                "not_before_utc": iso_utc_ms(self.not_before_s),
                "station": self.station, "uplink_utc": iso_utc_ms(self.uplink_s), "activity": self.activity}


@dataclass
class CommandLoad:
    """A command load: ``commands`` (assigned to a contact) and ``unassigned`` ones."""

    epoch_s: float
    commands: list = field(default_factory=list)
    unassigned: list = field(default_factory=list)
    dictionary: str = ""

    def summary(self) -> dict:
        per: dict[str, int] = {}
        for e in self.commands:
            per[e.spacecraft] = per.get(e.spacecraft, 0) + 1
        return {"commands": len(self.commands), "unassigned": len(self.unassigned),
                "contacts_used": len({(e.spacecraft, e.not_before_s) for e in self.commands}),
                "per_spacecraft": dict(sorted(per.items()))}

    def to_dict(self) -> dict:
        return {"epoch_utc": iso_utc_ms(self.epoch_s), "dictionary": self.dictionary,
                "commands": [e.to_dict() for e in self.commands],
                "unassigned": [dict(e.to_dict(), reason=e.reason) for e in self.unassigned],
                "summary": self.summary()}

    def to_json(self, path=None) -> str:
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def submit(self, commanding: Commanding, operator: str = "planner", origin: str = "load") -> list[int]:
        """Submit every assigned command (time-tagged, held until its contact); returns the ids."""
        return [commanding.submit(e.spacecraft, e.name, e.arguments, operator, release_time_s=e.release_s,
                                  not_before_s=e.not_before_s, origin=origin) for e in self.commands]


#: Commands due at one instant run in this order (an image ends before the next slew starts).
_AT_ONE_INSTANT = ("IMAGING_STOP", "DOWNLINK_STOP", "SLEW", "IMAGING_START", "DOWNLINK_START")


def _entries(activities: dict, names, epoch_s: float) -> list[LoadEntry]:
    out = []
    sl = activities["slews"]
    for i in range(len(sl["sat"])):
        out.append(LoadEntry(names[int(sl["sat"][i])], "SLEW", {"roll_deg": float(sl["roll1_deg"][i]),
                   "pitch_deg": float(sl["pitch1_deg"][i])}, epoch_s + float(sl["start_s"][i]), f"slew:{i}"))
    a = activities["acquisitions"]
    for i in range(len(a["sat"])):
        sc = names[int(a["sat"][i])]
        out.append(LoadEntry(sc, "IMAGING_START", {"acquisition": i, "roll_end_deg": float(a["roll1_deg"][i]),
                   "pitch_end_deg": float(a["pitch1_deg"][i])}, epoch_s + float(a["start_s"][i]), f"acquisition:{i}"))
        out.append(LoadEntry(sc, "IMAGING_STOP", {"acquisition": i}, epoch_s + float(a["end_s"][i]),
                             f"acquisition:{i}"))
    x = activities["transmissions"]
    for i in range(len(x["sat"])):
        sc, st = names[int(x["sat"][i])], str(x["station"][i])
        out.append(LoadEntry(sc, "DOWNLINK_START", {"station": st}, epoch_s + float(x["start_s"][i]), f"downlink:{i}"))
        out.append(LoadEntry(sc, "DOWNLINK_STOP", {"station": st}, epoch_s + float(x["end_s"][i]), f"downlink:{i}"))
    return sorted(out, key=lambda e: (e.spacecraft, e.release_s, _AT_ONE_INSTANT.index(e.name)))


def _size(d: CommandDictionary, e: LoadEntry) -> int:
    """Bytes of the uplinked telecommand (a PUS 11,4 around a time-tagged one)."""
    tc = d.build(e.name, e.arguments, seq_count=0)
    if e.release_s is None:
        return len(tc)
    return len(d.build("SCHEDULE_INSERT", {"release_time": e.release_s,
                                           "command": Telecommand(tc.apid, 0, tc.service, tc.subtype, tc.app_data)},
                       seq_count=0))


def build_load(activities: dict, names, epoch_s: float, contacts, rates: dict, *,
               dictionary: CommandDictionary | None = None) -> CommandLoad:
    """The command load of a plan's ``activities`` (module docstring) for ``contacts``
    (ContactWindow list, Unix seconds) at ``rates`` ({station: bit/s})."""
    d = dictionary or CommandDictionary.bundled()
    load = CommandLoad(float(epoch_s), dictionary=f"{d.name} {d.version}".strip())
    by_sc: dict[str, list] = {}
    for c in sorted(contacts):
        by_sc.setdefault(c.spacecraft, []).append(c)
    entries = []
    for e in _entries(activities, list(names), float(epoch_s)):
        try:
            d.command(e.name).validate(e.arguments)
        except CommandError as exc:
            e.reason = f"not commandable: {exc}"
            load.unassigned.append(e)
            continue
        entries.append(e)
    rows, choice = [], {}
    for k, e in enumerate(entries):
        cs = by_sc.get(e.spacecraft, [])
        j = bisect.bisect_left([c.start_s for c in cs], e.release_s - MIN_LEAD_S) - 1
        if j < 0:
            e.reason = "no contact before it is due"
            load.unassigned.append(e)
            continue
        choice[k] = j
        rows.append({"id": k, "spacecraft": e.spacecraft, "raw": bytes(_size(d, e)),
                     "deadline_s": e.release_s - MIN_LEAD_S, "not_before_s": cs[j].start_s})
    while True:
        placed = {u.command_id: u for u in assign_uplinks(rows, contacts, rates)}
        moved = {r["id"] for r in rows if r["id"] not in placed and choice[r["id"]] > 0}
        if not moved:
            break
        # commands due at one instant move together: the on-board schedule runs them in
        # insertion order, which must stay the load's order
        group: dict[tuple, int] = {}
        for r in rows:
            key = (r["spacecraft"], r["deadline_s"])
            group[key] = min(group.get(key, choice[r["id"]]), choice[r["id"]] - (r["id"] in moved))
        for r in rows:
            k = r["id"]
            choice[k] = group[(r["spacecraft"], r["deadline_s"])]
            r["not_before_s"] = by_sc[entries[k].spacecraft][choice[k]].start_s
    for r in rows:
        e, u = entries[r["id"]], placed.get(r["id"])
        if u is None:
            e.reason = "no contact with room before it is due"
            load.unassigned.append(e)
            continue
        e.not_before_s, e.station, e.uplink_s = r["not_before_s"], u.station, u.end_s
        load.commands.append(e)
    for sc, start, station in sorted({(e.spacecraft, e.not_before_s, e.station) for e in load.commands}):
        load.commands.append(LoadEntry(sc, "SCHEDULE_REPORT", {}, None, "load check", start, station))
    load.commands.sort(key=lambda e: (e.not_before_s, e.spacecraft, e.uplink_s is None, e.uplink_s or 0.0))
    return load


def load_from_json(path) -> CommandLoad:
    """Read a load.json back (for ``groundseg command`` to submit it)."""
    from groundseg.timegrid import parse_utc
    path = Path(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = [LoadEntry(c["spacecraft"], c["name"], dict(c["arguments"]),
                             _release_s(c, parse_utc),
                             str(c.get("activity", "")),
                             None if c.get("not_before_utc") is None else unix_s(parse_utc(c["not_before_utc"])[0]),
                             c.get("station"))
                   for c in doc["commands"]]
        epoch = unix_s(parse_utc(doc["epoch_utc"])[0])
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CommandError(f"{path}: not a command load ({type(exc).__name__}: {exc})") from None
    return CommandLoad(epoch, entries, [], str(doc.get("dictionary", "")))



def _release_s(c: dict, parse_utc) -> float | None:
    """Release time of a load.json command: the exact Unix seconds, else the ISO time."""
    if c.get("release_unix_s") is not None:
        t = float(c["release_unix_s"])
        if not math.isfinite(t):
            raise ValueError(f"release_unix_s {t} is not finite")
        return t
    return None if c.get("release_utc") is None else unix_s(parse_utc(c["release_utc"])[0])
