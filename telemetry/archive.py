"""The telemetry archive: one SQLite file in WAL mode.

Tables (stable; other tools read them)::

    names(id, kind, name)                     kind 'spacecraft' or 'source'
    packet_blocks(id, spacecraft, apid, length, n, t_first_ticks, t_last_ticks, received_s, source,
                  recovered, time_ticks, seq_count, raw)
        raw packets of one (spacecraft, APID, length) in blocks: time_ticks int64 (n,), seq_count
        uint16 (n,) and raw (n * length bytes) as BLOBs, sorted by time; the platform guarantees
        that (spacecraft, apid, time_ticks, seq_count) -- the duplicate key -- is unique
    segments(id, spacecraft, packet, t_first_s, t_last_s, n, received_s, time_s)
    segment_values(parameter, segment_id, dtype, value, severity)
        decoded parameters in blocks: a segment holds the packet times (float64 BLOB) of one packet
        type and spacecraft, and per parameter the engineering values (BLOB of NumPy ``dtype``,
        e.g. '<f8', '<i2') and limit severities (int8 BLOB, NULL when all nominal)
    latest(spacecraft, parameter, time_s, value, severity, reason)
    alarms(id, spacecraft, parameter, state, severity, max_severity, reason, value,
           raised_s, cleared_s, acknowledged_s, operator, comment, shelved_until_s, shelved_by)
        state: the condition, raised|cleared; what operators see is in telemetry/alarms.py
    alarm_events(id, alarm_id, event, severity, reason, time_s, value)
    actions(id, time_s, operator, action, alarm_id, comment, detail)    every operator action
    quarantine(id, received_s, spacecraft, source, reason, raw)     raw: at most 65,542 bytes of the unit
    counters(name, value)      sources(source_id, state JSON)      meta(key, value)
    commands, command_stages, command_sequence    the command history (telemetry/commanding_store.py)

Everything a batch produces is written in one transaction; the platform acknowledges and displays
only what has been committed. WAL with synchronous=NORMAL: a committed transaction survives a
killed process (kill -9); after a power loss the last transactions may be lost. Readers see one
snapshot per call (``stats`` reads its counters and rows in one read transaction). Every SQLite
error of a damaged, unreadable or unwritable archive reaches callers as one-line
:class:`ArchiveError`; a read-only archive (file or directory) is read as such.
Times are Unix seconds (UTC); CUC ``time_ticks`` are 2**-24 s.
"""
from __future__ import annotations

import functools
import os
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from groundseg.table import Table

from . import alarms as _alarms
from . import commanding_store
from .errors import ArchiveError

__all__ = ["Archive", "COUNTERS", "iso_utc", "parse_time"]

COUNTERS = ("packets_received", "packets_archived", "crc_errors", "malformed", "duplicates", "idle_packets",
            "unknown_apid", "gaps", "missing_messages", "recovered_packets", "recovered_messages",
            "messages_received", "sequence_gaps", "alarms_raised", "late_unchecked", "rejected_messages",
            "duplicate_messages", "sequence_jumps", "skipped_messages", "released_out_of_order")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS names(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, UNIQUE(kind, name));
CREATE TABLE IF NOT EXISTS packet_blocks(id INTEGER PRIMARY KEY, spacecraft INTEGER NOT NULL,
    apid INTEGER NOT NULL, length INTEGER NOT NULL, n INTEGER NOT NULL, t_first_ticks INTEGER NOT NULL,
    t_last_ticks INTEGER NOT NULL, received_s REAL NOT NULL, source INTEGER, recovered INTEGER NOT NULL,
    time_ticks BLOB NOT NULL, seq_count BLOB NOT NULL, raw BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS packet_blocks_q ON packet_blocks(spacecraft, apid, t_last_ticks);
CREATE INDEX IF NOT EXISTS packet_blocks_r ON packet_blocks(received_s);
CREATE TABLE IF NOT EXISTS segments(id INTEGER PRIMARY KEY, spacecraft INTEGER NOT NULL, packet TEXT NOT NULL,
    t_first_s REAL NOT NULL, t_last_s REAL NOT NULL, n INTEGER NOT NULL, received_s REAL NOT NULL,
    time_s BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS segment_values(parameter TEXT NOT NULL, segment_id INTEGER NOT NULL, dtype TEXT NOT NULL,
    value BLOB NOT NULL, severity BLOB, PRIMARY KEY(parameter, segment_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest(spacecraft INTEGER NOT NULL, parameter TEXT NOT NULL, time_s REAL, value REAL,
    severity INTEGER, reason TEXT, PRIMARY KEY(spacecraft, parameter));
CREATE TABLE IF NOT EXISTS alarms(id INTEGER PRIMARY KEY, spacecraft TEXT NOT NULL, parameter TEXT NOT NULL,
    state TEXT NOT NULL, severity INTEGER NOT NULL, max_severity INTEGER NOT NULL, reason TEXT, value REAL,
    raised_s REAL NOT NULL, cleared_s REAL, acknowledged_s REAL, operator TEXT, comment TEXT, shelved_until_s REAL,
    shelved_by TEXT);
CREATE TABLE IF NOT EXISTS alarm_events(id INTEGER PRIMARY KEY, alarm_id INTEGER NOT NULL, event TEXT NOT NULL,
    severity INTEGER NOT NULL, reason TEXT, time_s REAL NOT NULL, value REAL);
CREATE TABLE IF NOT EXISTS quarantine(id INTEGER PRIMARY KEY, received_s REAL NOT NULL, spacecraft TEXT,
    source TEXT, reason TEXT NOT NULL, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sources(source_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actions(id INTEGER PRIMARY KEY, time_s REAL NOT NULL, operator TEXT NOT NULL,
    action TEXT NOT NULL, alarm_id INTEGER, comment TEXT, detail TEXT);
"""


def utc_us(time_s) -> np.ndarray:
    """Unix seconds (n,) -> ``datetime64[us]`` (n,), NaT where NaN."""
    us = np.round(np.asarray(time_s, dtype=np.float64) * 1e6)
    out = np.where(np.isfinite(us), us, 0).astype(np.int64).view("datetime64[us]")
    out[~np.isfinite(us)] = np.datetime64("NaT")
    return out


def iso_utc(time_s) -> np.ndarray:
    """Unix seconds (n,) -> ISO 8601 UTC strings with microseconds and 'Z'."""
    return np.char.add(np.datetime_as_string(utc_us(time_s), unit="us"), "Z")


def parse_time(text: str, what: str = "time") -> float:
    """ISO 8601 (UTC if no offset) -> Unix seconds; ArchiveError naming ``what`` if unreadable."""
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ArchiveError(f"{what}: not an ISO 8601 time: {text!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


_ALARM_FIELDS = ("id", "spacecraft", "parameter", "state", "condition", "severity", "max_severity", "reason", "value",
                 "raised_utc", "cleared_utc", "acknowledged_utc", "operator", "comment", "shelved_until_utc",
                 "shelved_by")
_ALARM_TIMES = ("raised", "cleared", "acknowledged", "shelved_until")


def _alarm_table(rows: list[dict]) -> Table:
    """Alarm rows of telemetry/alarms.py as a Table of ``_ALARM_FIELDS`` (times to the microsecond)."""
    cols = {}
    for k in _ALARM_FIELDS:
        if k.endswith("_utc"):
            cols[k] = utc_us([np.nan if r[k[:-4] + "_s"] is None else r[k[:-4] + "_s"] for r in rows])
        else:
            cols[k] = [r[k] for r in rows]
    return Table(cols, {t + "_utc": "us" for t in _ALARM_TIMES})


def _describe(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", "") or ""
    for prefix, what in (("SQLITE_CORRUPT", "damaged archive"), ("SQLITE_NOTADB", "not a telemetry archive"),
                         ("SQLITE_FULL", "disk full"), ("SQLITE_READONLY", "cannot write (read-only)"),
                         ("SQLITE_IOERR", "I/O error"), ("SQLITE_CANTOPEN", "cannot open")):
        if name.startswith(prefix):
            return f"{what} ({exc})"
    return str(exc)


def _sql_errors(method):
    """Turn SQLite errors of a public method into ArchiveError naming the archive."""
    @functools.wraps(method)
    def wrapped(self, *args, **kw):
        try:
            return method(self, *args, **kw)
        except sqlite3.Error as exc:
            raise ArchiveError(f"{self.path}: {_describe(exc)}") from None
    return wrapped


class Archive:
    """An archive file: created if missing unless ``readonly`` or ``create=False``."""

    def __init__(self, path, *, readonly: bool = False, create: bool = True):
        self.path = str(path)
        memory = self.path == ":memory:"
        if (readonly or not create) and not memory and not Path(self.path).exists():
            raise ArchiveError(f"{self.path}: no such archive")
        try:
            self.db = self._connect(readonly and not memory)
            self.db.execute("PRAGMA busy_timeout=30000")
            if not readonly:
                mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal" and not memory:
                    raise ArchiveError(f"{self.path}: cannot switch the archive to WAL mode ({mode})")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(_SCHEMA)
                have = {r[1] for r in self.db.execute("PRAGMA table_info(alarms)")}
                for column, kind in _alarms.ADDED_COLUMNS.items():     # archives written before
                    if column not in have:
                        self.db.execute(f"ALTER TABLE alarms ADD COLUMN {column} {kind}")
                commanding_store.create_tables(self.db)
            self.db.execute("SELECT count(*) FROM packet_blocks").fetchone()
        except sqlite3.DatabaseError as exc:
            target = Path(self.path)
            if not readonly and not memory and target.exists() and \
                    not (os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)):
                raise ArchiveError(f"{self.path}: cannot write (read-only or immutable file or directory)") from None
            raise ArchiveError(f"{self.path}: {_describe(exc)}") from None
        self._names: dict[tuple[str, str], int] = {}

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        """A connection; read-only ones fall back to ``immutable`` in a read-only directory (SQLite
        cannot make its shared-memory file there) when no write-ahead log is waiting."""
        kw = dict(timeout=30.0, isolation_level=None, check_same_thread=False)
        if not readonly:
            return sqlite3.connect(self.path, **kw)
        uri = Path(self.path).resolve().as_uri()
        try:
            db = sqlite3.connect(uri + "?mode=ro", uri=True, **kw)
            db.execute("SELECT 1 FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            wal = Path(self.path + "-wal")
            if (wal.exists() and wal.stat().st_size > 0) or os.access(Path(self.path).parent, os.W_OK):
                raise
        return sqlite3.connect(uri + "?immutable=1", uri=True, **kw)

    def close(self) -> None:
        self.db.close()

    # -- writing (used by the platform inside its transaction) ---------------------------------
    def name_id(self, kind: str, name: str) -> int:
        key = (kind, name)
        if key not in self._names:
            if len(self._names) >= 10_000:          # a cache: source names come and go
                self._names.clear()
            self.db.execute("INSERT OR IGNORE INTO names(kind, name) VALUES (?, ?)", key)
            self._names[key] = self.db.execute("SELECT id FROM names WHERE kind=? AND name=?", key).fetchone()[0]
        return self._names[key]

    def forget_names(self) -> None:
        """Drop the name -> id cache (after a rolled-back transaction)."""
        self._names.clear()

    def name_of(self, ident: int) -> str:
        row = self.db.execute("SELECT name FROM names WHERE id=?", (ident,)).fetchone()
        return row[0] if row else "?"

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @_sql_errors
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    # -- reading ----------------------------------------------------------------------------
    @_sql_errors
    def counters(self) -> dict[str, int]:
        c = {name: 0 for name in COUNTERS}
        c.update(dict(self.db.execute("SELECT name, value FROM counters")))
        return c

    def keys(self, spacecraft: int, apid: int, lo_ticks: int | None = None, hi_ticks: int | None = None):
        """(time_ticks (n,) int64, seq_count (n,) int64) archived for one stream, sorted by time."""
        sql = "SELECT time_ticks, seq_count FROM packet_blocks WHERE spacecraft=? AND apid=?"
        args: list = [spacecraft, apid]
        if lo_ticks is not None:
            sql += " AND t_last_ticks >= ? AND t_first_ticks <= ?"
            args += [lo_ticks, hi_ticks]
        t, s = [], []
        for tb, sb in self.db.execute(sql, args):
            t.append(np.frombuffer(tb, dtype=np.int64))
            s.append(np.frombuffer(sb, dtype=np.uint16).astype(np.int64))
        if not t:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        t, s = np.concatenate(t), np.concatenate(s)
        order = np.lexsort((s, t))
        return t[order], s[order]

    def _stream_keys(self, spacecraft: int, apid: int):
        """(time_ticks, seq_count) of one stream in time order, a run of overlapping blocks at a time
        (memory: the largest such run, not the stream)."""
        spans = self.db.execute("SELECT id, t_first_ticks, t_last_ticks FROM packet_blocks WHERE spacecraft=? AND apid=?"
                                " ORDER BY t_first_ticks, id", (spacecraft, apid)).fetchall()
        run: list[int] = []
        end = None
        for ident, first, last in spans + [(None, None, None)]:
            if run and (ident is None or first > end):
                t, s = [], []
                for i in run:
                    tb, sb = self.db.execute("SELECT time_ticks, seq_count FROM packet_blocks WHERE id=?", (i,)).fetchone()
                    t.append(np.frombuffer(tb, dtype=np.int64))
                    s.append(np.frombuffer(sb, dtype=np.uint16).astype(np.int64))
                t, s = (np.concatenate(t), np.concatenate(s)) if len(run) > 1 else (t[0], s[0])
                order = np.lexsort((s, t)) if len(run) > 1 else slice(None)
                yield t[order], s[order]
                run, end = [], None
            if ident is not None:
                run.append(ident)
                end = last if end is None else max(end, last)

    def missing_packets(self) -> int:
        """Packets missing between archived packets of each (spacecraft, APID) stream, counted from
        the 14-bit sequence count in time order (wrap-around aware; gaps over 16383 undercount)."""
        total = 0
        for sc, apid in self.db.execute("SELECT DISTINCT spacecraft, apid FROM packet_blocks").fetchall():
            last = None
            for _, s in self._stream_keys(sc, apid):
                if last is not None:
                    s = np.concatenate([[last], s])
                total += int(np.sum((s[1:] - s[:-1] - 1) % 16384))
                last = int(s[-1])
        return total

    @_sql_errors
    def stats(self, *, now_s: float | None = None) -> dict:
        """Counters plus ``missing_packets``, ``open_alarms`` (not closed), ``unacknowledged_alarms``,
        ``quarantined`` and ``archived_rows``, all from one read transaction (one snapshot)."""
        now = time.time() if now_s is None else now_s
        self.db.execute("BEGIN")
        try:
            s = self.counters()
            s["missing_packets"] = self.missing_packets()
            rows = _alarms.alarm_rows(self.db, "open", now)
            s["open_alarms"] = len(rows)
            s["unacknowledged_alarms"] = sum(r["state"].endswith("_unacknowledged") for r in rows)
            s["quarantined"] = self.db.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            s["archived_rows"] = self.db.execute("SELECT COALESCE(SUM(n), 0) FROM packet_blocks").fetchone()[0]
        finally:
            self.db.execute("COMMIT")
        return s

    @_sql_errors
    def packets(self, *, apid: int | None = None, start_s: float | None = None, end_s: float | None = None,
                spacecraft: str | None = None) -> Table:
        """Archived packets: time_utc, spacecraft, apid, seq_count, length, recovered, raw_hex."""
        lo = None if start_s is None else int(round(start_s * 16777216))
        hi = None if end_s is None else int(round(end_s * 16777216))
        where, args = [], []
        if apid is not None:
            where.append("b.apid = ?")
            args.append(int(apid))
        if spacecraft is not None:
            where.append("n.name = ?")
            args.append(spacecraft)
        if lo is not None:
            where.append("b.t_last_ticks >= ?")
            args.append(lo)
        if hi is not None:
            where.append("b.t_first_ticks <= ?")
            args.append(hi)
        sql = ("SELECT n.name, b.apid, b.length, b.recovered, b.time_ticks, b.seq_count, b.raw FROM packet_blocks b"
               " JOIN names n ON n.id = b.spacecraft" + (" WHERE " + " AND ".join(where) if where else ""))
        cols: dict[str, list] = {k: [] for k in ("ticks", "spacecraft", "apid", "seq_count", "length", "recovered", "raw")}
        for name, a, length, rec, tb, sb, raw in self.db.execute(sql, args):
            t = np.frombuffer(tb, dtype=np.int64)
            keep = np.ones(t.size, dtype=bool)
            if lo is not None:
                keep &= t >= lo
            if hi is not None:
                keep &= t <= hi
            idx = np.flatnonzero(keep)
            cols["ticks"].append(t[idx])
            cols["seq_count"].append(np.frombuffer(sb, dtype=np.uint16)[idx].astype(np.int64))
            cols["spacecraft"] += [name] * idx.size
            cols["apid"] += [a] * idx.size
            cols["length"] += [length] * idx.size
            cols["recovered"] += [rec] * idx.size
            cols["raw"] += [raw[i * length:(i + 1) * length].hex() for i in idx.tolist()]
        ticks = np.concatenate(cols["ticks"]) if cols["ticks"] else np.zeros(0, dtype=np.int64)
        seq = np.concatenate(cols["seq_count"]) if cols["seq_count"] else np.zeros(0, dtype=np.int64)
        order = np.lexsort((seq, np.array(cols["apid"], dtype=np.int64), ticks))

        def pick(v):
            return [v[i] for i in order.tolist()]
        return Table({"time_utc": utc_us(ticks[order] / 16777216.0), "spacecraft": pick(cols["spacecraft"]),
                      "apid": pick(cols["apid"]), "seq_count": seq[order], "length": pick(cols["length"]),
                      "recovered": pick(cols["recovered"]), "raw_hex": pick(cols["raw"])}, {"time_utc": "us"})

    @_sql_errors
    def parameter_arrays(self, name: str, *, start_s=None, end_s=None, spacecraft: str | None = None):
        """(spacecraft names (n,), time_s (n,), value (n,), severity (n,)) sorted by spacecraft, time."""
        sql = ("SELECT n.name, s.time_s, v.dtype, v.value, v.severity FROM segment_values v"
               " JOIN segments s ON s.id = v.segment_id JOIN names n ON n.id = s.spacecraft WHERE v.parameter = ?")
        args: list = [name]
        if start_s is not None:
            sql += " AND s.t_last_s >= ?"
            args.append(start_s)
        if end_s is not None:
            sql += " AND s.t_first_s <= ?"
            args.append(end_s)
        if spacecraft is not None:
            sql += " AND n.name = ?"
            args.append(spacecraft)
        scs, ts, vs, ss = [], [], [], []
        for sc, t, dtype, v, sev in self.db.execute(sql, args):
            t = np.frombuffer(t, dtype=np.float64)
            scs.append(np.full(t.size, sc, dtype=object))
            ts.append(t)
            vs.append(np.frombuffer(v, dtype=np.dtype(dtype)).astype(np.float64))
            ss.append(np.zeros(t.size, dtype=np.int8) if sev is None else np.frombuffer(sev, dtype=np.int8))
        if not ts:
            return (np.zeros(0, dtype=object), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int8))
        sc, t, v, s = (np.concatenate(a) for a in (scs, ts, vs, ss))
        keep = np.ones(t.size, dtype=bool)
        if start_s is not None:
            keep &= t >= start_s
        if end_s is not None:
            keep &= t <= end_s
        sc, t, v, s = sc[keep], t[keep], v[keep], s[keep]
        order = np.lexsort((t, sc.astype(str)))
        return sc[order], t[order], v[order], s[order]

    @_sql_errors
    def parameter_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT parameter FROM segment_values ORDER BY parameter")]

    @_sql_errors
    def alarms(self, state: str = "all", *, now_s: float | None = None) -> Table:
        """Alarms, ``state`` "all" or "open" (not closed), unacknowledged first (telemetry/alarms.py):
        id, spacecraft, parameter, state (one of ``telemetry.alarms.STATES``), condition (active |
        normal), severity, max_severity, reason, value, raised_utc, cleared_utc, acknowledged_utc,
        operator (who acknowledged), comment, shelved_until_utc, shelved_by."""
        return _alarm_table(_alarms.alarm_rows(self.db, state, now_s))

    @_sql_errors
    def acknowledge_alarm(self, alarm_id: int, operator: str, comment: str = "", *, now_s: float | None = None) -> dict:
        """Acknowledge alarm ``alarm_id`` as ``operator``: {"alarm": record as in :meth:`alarms`,
        "already": bool} (an alarm keeps its first acknowledgement). Recorded in ``actions``."""
        out = _alarms.acknowledge_alarm(self.db, alarm_id, operator, comment, now_s)
        return {"alarm": _alarm_table([out["alarm"]]).records()[0], "already": out["already"]}

    @_sql_errors
    def shelve_alarm(self, alarm_id: int, operator: str, duration_s: float, comment: str = "", *,
                     now_s: float | None = None) -> dict:
        """Shelve alarm ``alarm_id`` for ``duration_s``: {"alarm": record}. Recorded in ``actions``."""
        row = _alarms.shelve_alarm(self.db, alarm_id, operator, duration_s, comment, now_s)["alarm"]
        return {"alarm": _alarm_table([row]).records()[0]}

    @_sql_errors
    def actions(self) -> Table:
        """Operator actions in order: id, time_utc, operator, action, alarm_id, comment, detail."""
        rows = _alarms.action_rows(self.db)
        cols = list(zip(*rows)) if rows else [[] for _ in range(7)]
        return Table({"id": cols[0], "time_utc": utc_us(cols[1]), "operator": cols[2], "action": cols[3],
                      "alarm_id": cols[4], "comment": cols[5], "detail": cols[6]}, {"time_utc": "us"})
