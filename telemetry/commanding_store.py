"""Command history tables in the telemetry archive: every SQL statement of commanding lives here.

Tables (:class:`telemetry.archive.Archive` creates them with its own; every statement is plain
SQL that SQLite and PostgreSQL both take, run through :meth:`Archive.execute`)::

    commands(id, spacecraft, name, arguments, significance, release_time_s, not_before_s, origin,
             state, submitted_s, submitted_by, released_s, released_by, apid, request_id,
             inner_request_id, raw, uplinked_s, station)
        one row per command an operator or a load submitted. ``arguments``: JSON of the argument
        values; ``release_time_s``: the PUS 11 time tag (NULL: executed on reception);
        ``not_before_s``: earliest uplink (a load holds commands until the last contact before
        they are due); ``state``: queued (waits for a second person's release), released
        (waits for a contact), uplinked, verified, failed, expired (its release time came before
        a contact could take it); ``request_id``: the uplinked TC's packet id and sequence
        control (u32), ``inner_request_id``: the time-tagged command's inside a PUS 11,4;
        ``raw``: the bytes uplinked; ``uplinked_s``, ``station``: when the last bit reached the
        spacecraft, and from where
    command_stages(command_id, stage, result, code, time_s)
        verifier results: stage acceptance | scheduled (PUS 11 insertion) | start | completion;
        result OK | NOK (with the PUS 1 failure ``code``) | TIMEOUT; ``time_s``: the report's
        on-board time (TIMEOUT: the end of the window)
    command_sequence(spacecraft, apid, next_seq)    the next 14-bit packet sequence count

Times are Unix seconds (UTC) of the mission clock (simulated or real).

Concurrency (several ground processes on one archive): writes run in :meth:`Archive.write`
transactions, which on SQLite exclude each other (``BEGIN IMMEDIATE``) and on PostgreSQL run at
READ COMMITTED, each statement seeing what was committed before it. So that both give the same
results, every read-then-write is made safe by the write itself: a sequence counter is read by an
upsert that locks its row until the transaction ends (the next taker waits, then reads the
advanced count and sees the commands its holder released); a state changes only from the state it
was read in (``UPDATE ... WHERE state = ?``: the loser of a race changes nothing and is told); a
verifier stage keeps its first result (``ON CONFLICT DO NOTHING``).
"""
from __future__ import annotations

import json

__all__ = ["SCHEMA", "FINAL_STATES", "CommandStore"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS commands(id INTEGER PRIMARY KEY, spacecraft TEXT NOT NULL, name TEXT NOT NULL,
    arguments TEXT NOT NULL, significance TEXT NOT NULL, release_time_s REAL, not_before_s REAL,
    origin TEXT NOT NULL, state TEXT NOT NULL, submitted_s REAL NOT NULL, submitted_by TEXT NOT NULL,
    released_s REAL, released_by TEXT, apid INTEGER, request_id INTEGER, inner_request_id INTEGER, raw BLOB,
    uplinked_s REAL, station TEXT);
CREATE INDEX IF NOT EXISTS commands_state ON commands(state, spacecraft);
CREATE INDEX IF NOT EXISTS commands_request ON commands(spacecraft, request_id, state);
CREATE INDEX IF NOT EXISTS commands_inner ON commands(spacecraft, inner_request_id, state);
CREATE TABLE IF NOT EXISTS command_stages(command_id INTEGER NOT NULL, stage TEXT NOT NULL, result TEXT NOT NULL,
    code INTEGER, time_s REAL, PRIMARY KEY(command_id, stage));
CREATE TABLE IF NOT EXISTS command_sequence(spacecraft TEXT NOT NULL, apid INTEGER NOT NULL,
    next_seq INTEGER NOT NULL, PRIMARY KEY(spacecraft, apid));
"""

FINAL_STATES = ("verified", "failed", "expired")
_COLUMNS = ("id", "spacecraft", "name", "arguments", "significance", "release_time_s", "not_before_s", "origin",
            "state", "submitted_s", "submitted_by", "released_s", "released_by", "apid", "request_id",
            "inner_request_id", "raw", "uplinked_s", "station")
_SELECT = "SELECT " + ", ".join(_COLUMNS) + " FROM commands"


def _row(r) -> dict:
    d = dict(zip(_COLUMNS, r))
    d["arguments"] = json.loads(d["arguments"])
    return d


class CommandStore:
    """The commanding tables of one :class:`~telemetry.archive.Archive`."""

    def __init__(self, archive):
        self.archive = archive

    def _sql(self, sql: str, args=()) -> list[tuple]:
        """One statement's rows; database errors as one-line ArchiveError."""
        try:
            return self.archive.execute(sql, args)
        except self.archive._errors as exc:
            raise self.archive._error(exc) from None

    def transaction(self):
        """A write transaction (:meth:`Archive.write`): committed at the end of the block, rolled
        back on any exception."""
        return self.archive.write()

    def insert(self, row: dict) -> int:
        cols = [c for c in _COLUMNS if c != "id" and c in row]
        values = [json.dumps(row[c]) if c == "arguments" else row[c] for c in cols]
        return int(self.archive._insert_id(f"INSERT INTO commands({', '.join(cols)}) VALUES"
                                           f" ({', '.join('?' * len(cols))})", values))

    def update(self, command_id: int, *, only_from: str | None = None, **fields) -> bool:
        """Set ``fields`` of a command (only if its state is ``only_from``, when given); whether it
        was changed."""
        sets = ", ".join(f"{k} = ?" for k in fields)
        sql, args = f"UPDATE commands SET {sets} WHERE id = ?", [*fields.values(), int(command_id)]
        if only_from is not None:
            sql, args = sql + " AND state = ?", args + [only_from]
        return bool(self._sql(sql + " RETURNING id", args))

    def get(self, command_id: int) -> dict | None:
        r = self._sql(_SELECT + " WHERE id = ?", (int(command_id),))
        return _row(r[0]) if r else None

    def select(self, *, states=None, spacecraft: str | None = None) -> list[dict]:
        """Commands in id order, optionally of some states and one spacecraft."""
        where, args = [], []
        if states is not None:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            args += list(states)
        if spacecraft is not None:
            where.append("spacecraft = ?")
            args.append(spacecraft)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [_row(r) for r in self._sql(sql, args)]

    def by_request(self, spacecraft: str, request_id: int) -> tuple[dict, bool] | None:
        """(command, is the inner time-tagged command) awaiting reports with that request id."""
        r = self._sql("SELECT id FROM commands WHERE spacecraft = ? AND request_id = ? AND state = 'uplinked'"
                      " UNION ALL SELECT id FROM commands WHERE spacecraft = ? AND inner_request_id = ? AND"
                      " state = 'uplinked' ORDER BY id DESC LIMIT 1",
                      (spacecraft, int(request_id), spacecraft, int(request_id)))
        row = self.get(r[0][0]) if r else None
        return None if row is None else (row, row["request_id"] != int(request_id))

    def set_stage(self, command_id: int, stage: str, result: str, code: int | None, time_s: float | None) -> bool:
        """Record a verifier stage's result unless the stage has one already; whether it was recorded."""
        return bool(self._sql("INSERT INTO command_stages(command_id, stage, result, code, time_s) VALUES"
                              " (?, ?, ?, ?, ?) ON CONFLICT(command_id, stage) DO NOTHING RETURNING command_id",
                              (int(command_id), stage, result, code, time_s)))

    def stages(self, command_ids=None) -> dict[int, dict[str, tuple]]:
        """{command id: {stage: (result, code, time_s)}}."""
        sql = "SELECT command_id, stage, result, code, time_s FROM command_stages"
        args: list = []
        if command_ids is not None:
            ids = [int(i) for i in command_ids]
            if not ids:
                return {}
            sql += f" WHERE command_id IN ({', '.join('?' * len(ids))})"
            args = ids
        out: dict[int, dict[str, tuple]] = {}
        for cid, stage, result, code, t in self._sql(sql, args):
            out.setdefault(cid, {})[stage] = (result, code, t)
        return out

    def request_id_in_use(self, spacecraft: str, request_id: int) -> bool:
        """Whether a command that may still get reports has that request id."""
        live = "state IN ('released', 'uplinked')"
        return bool(self._sql(f"SELECT 1 FROM commands WHERE spacecraft = ? AND request_id = ? AND {live} UNION ALL"
                              f" SELECT 1 FROM commands WHERE spacecraft = ? AND inner_request_id = ? AND {live}"
                              " LIMIT 1", (spacecraft, int(request_id), spacecraft, int(request_id))))

    def take_sequence(self, spacecraft: str, apid: int, n: int, skip) -> list[int]:
        """``n`` consecutive-ish 14-bit sequence counts for (spacecraft, apid), none in ``skip``
        (a predicate on a count); inside the caller's transaction, which holds the counter (the
        upsert locks its row) until it ends: two transactions never take the same count."""
        seq = int(self._sql("INSERT INTO command_sequence(spacecraft, apid, next_seq) VALUES (?, ?, 0)"
                            " ON CONFLICT(spacecraft, apid) DO UPDATE SET next_seq = command_sequence.next_seq"
                            " RETURNING next_seq", (spacecraft, int(apid)))[0][0])
        out = []
        for _ in range(1 << 14):
            if len(out) == n:
                break
            if not skip(seq):
                out.append(seq)
            seq = (seq + 1) % (1 << 14)
        if len(out) == n:
            self._sql("UPDATE command_sequence SET next_seq = ? WHERE spacecraft = ? AND apid = ?",
                      (seq, spacecraft, int(apid)))
        return out
