"""Alarm states (ISA-18.2) and the operator actions on them, over an archive's tables (either back end).

An alarm row is one excursion of one (spacecraft, parameter): the platform raises it when the
severity leaves nominal and clears it when it returns (its *condition*: ``alarms.state`` raised
or cleared). Operators acknowledge and shelve. What an operator sees, at time ``now``:

    active_unacknowledged    condition active, not acknowledged
    active_acknowledged      condition active, acknowledged
    returned_unacknowledged  returned to normal before anyone acknowledged it: it stays (latched)
    shelved                  shelved by an operator until ``shelved_until`` (not expired yet); when
                             the shelf expires the alarm shows its state again
    closed                   returned to normal and acknowledged

``open`` is every state but closed, ordered for an operator: unacknowledged first (active, then
returned), then active_acknowledged, then shelved; within a state, highest severity first, then
newest. ``all`` is in the order alarms were raised. An alarm keeps its first acknowledgement (a second one changes nothing and
says so). Every operator action is a row of ``actions`` (time, operator, action, alarm, comment,
detail) written in the same transaction as its effect.
"""
from __future__ import annotations

import math
import time

from .errors import ArchiveError

__all__ = ["STATES", "MAX_SHELVE_S", "alarm_rows", "acknowledge_alarm", "shelve_alarm", "action_rows"]

STATES = ("active_unacknowledged", "returned_unacknowledged", "active_acknowledged", "shelved", "closed")
MAX_SHELVE_S = 30 * 86400.0
_COLUMNS = ("id", "spacecraft", "parameter", "state", "severity", "max_severity", "reason", "value", "raised_s",
            "cleared_s", "acknowledged_s", "operator", "comment", "shelved_until_s", "shelved_by")
ADDED_COLUMNS = {"comment": "TEXT", "shelved_until_s": "REAL", "shelved_by": "TEXT"}


def state_of(condition: str, acknowledged_s, shelved_until_s, now_s: float) -> str:
    """The displayed state of one alarm (see the module docstring)."""
    closed = condition == "cleared" and acknowledged_s is not None
    if shelved_until_s is not None and shelved_until_s > now_s and not closed:
        return "shelved"
    if condition == "raised":
        return "active_acknowledged" if acknowledged_s is not None else "active_unacknowledged"
    return "closed" if acknowledged_s is not None else "returned_unacknowledged"


def _select(archive, where: str = "", args=()) -> list[tuple]:
    have = archive._columns("alarms")
    cols = ", ".join(c if c in have else f"NULL AS {c}" for c in _COLUMNS)     # archives written before
    return archive.execute(f"SELECT {cols} FROM alarms {where} ORDER BY id", args)


def alarm_rows(archive, state: str = "all", now_s: float | None = None) -> list[dict]:
    """Alarms as dicts (``_COLUMNS`` plus ``state``, ``condition``): ``state`` "all" (by id) or "open"
    (the operator's order)."""
    if state not in ("all", "open"):
        raise ArchiveError(f"alarm state filter {state!r}: expected 'all' or 'open'")
    now = time.time() if now_s is None else now_s
    out = []
    for row in _select(archive):
        r = dict(zip(_COLUMNS, row))
        r["condition"] = "active" if r["state"] == "raised" else "normal"
        r["state"] = state_of(r["state"], r["acknowledged_s"], r["shelved_until_s"], now)
        if state == "all" or r["state"] != "closed":
            out.append(r)
    if state == "open":
        out.sort(key=lambda r: (STATES.index(r["state"]), -r["severity"], -r["raised_s"], -r["id"]))
    return out


def _check_operator(operator, comment) -> tuple[str, str]:
    if not isinstance(operator, str) or not operator.strip() or len(operator) > 64 or not operator.isprintable():
        raise ArchiveError(f"operator {operator!r}: give the operator's name (1-64 printable characters)")
    comment = "" if comment is None else comment
    if not isinstance(comment, str) or len(comment) > 2000:
        raise ArchiveError("comment: at most 2000 characters of text")
    return operator.strip(), comment


def _one(archive, alarm_id) -> dict:
    if type(alarm_id) is not int:
        raise ArchiveError(f"alarm id {alarm_id!r}: expected an integer")
    rows = _select(archive, "WHERE id=?", (alarm_id,))
    if not rows:
        raise ArchiveError(f"no alarm with id {alarm_id}")
    return dict(zip(_COLUMNS, rows[0]))


def _record(archive, now, operator, action, alarm_id, comment, detail) -> None:
    archive.execute("INSERT INTO actions(time_s, operator, action, alarm_id, comment, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    (now, operator, action, alarm_id, comment, detail))


def acknowledge_alarm(archive, alarm_id: int, operator: str, comment: str = "", now_s: float | None = None) -> dict:
    """Acknowledge an alarm (active or returned). Returns {"alarm": row, "already": bool}: with
    ``already`` the first acknowledgement is kept and this one only recorded as an action (the
    update takes only an unacknowledged row, so two operators at once cannot both be first)."""
    operator, comment = _check_operator(operator, comment)
    now = time.time() if now_s is None else now_s
    with archive.write():
        _one(archive, alarm_id)
        first = archive.execute("UPDATE alarms SET acknowledged_s=?, operator=?, comment=? WHERE id=? AND"
                                " acknowledged_s IS NULL RETURNING id", (now, operator, comment, alarm_id))
        if first:
            archive.execute("INSERT INTO alarm_events(alarm_id, event, severity, reason, time_s, value)"
                            " SELECT id, 'acknowledged', severity, ?, ?, value FROM alarms WHERE id=?",
                            (operator, now, alarm_id))
            detail = ""
        else:
            detail = f"already acknowledged by {_one(archive, alarm_id)['operator']}"
        _record(archive, now, operator, "acknowledge", alarm_id, comment, detail)
    row = next(r for r in alarm_rows(archive, "all", now) if r["id"] == alarm_id)
    return {"alarm": row, "already": not first}


def shelve_alarm(archive, alarm_id: int, operator: str, duration_s: float, comment: str = "",
                 now_s: float | None = None) -> dict:
    """Shelve an alarm for ``duration_s`` (0 < d <= 30 days); it shows again when the shelf
    expires. A closed alarm cannot be shelved. Returns {"alarm": row}."""
    operator, comment = _check_operator(operator, comment)
    if isinstance(duration_s, bool) or not isinstance(duration_s, (int, float)) or not math.isfinite(duration_s) \
            or not 0 < duration_s <= MAX_SHELVE_S:
        raise ArchiveError(f"shelve duration {duration_s!r} s: expected more than 0 and at most {MAX_SHELVE_S:g} s")
    now = time.time() if now_s is None else now_s
    with archive.write():
        a = _one(archive, alarm_id)
        if state_of(a["state"], a["acknowledged_s"], None, now) == "closed":
            raise ArchiveError(f"alarm {alarm_id} is closed (returned to normal and acknowledged): nothing to shelve")
        archive.execute("UPDATE alarms SET shelved_until_s=?, shelved_by=? WHERE id=?",
                        (now + duration_s, operator, alarm_id))
        _record(archive, now, operator, "shelve", alarm_id, comment, f"until {now + duration_s!r}")
    return {"alarm": next(r for r in alarm_rows(archive, "all", now) if r["id"] == alarm_id)}


def action_rows(archive) -> list[tuple]:
    """(id, time_s, operator, action, alarm_id, comment, detail) in order; none if the table is missing."""
    if not archive._columns("actions"):
        return []
    return archive.execute("SELECT id, time_s, operator, action, alarm_id, comment, detail FROM actions ORDER BY id")
