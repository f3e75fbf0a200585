"""The telemetry archive: one interface, two back ends (an SQLite file, or a PostgreSQL database).

``Archive(target)`` opens ``target``: a ``postgresql://`` (or ``postgres://``) URL selects
PostgreSQL (:mod:`telemetry.archive_postgres`, psycopg 3, COPY for bulk ingest), anything else is
an SQLite file in WAL mode (:mod:`telemetry.archive_sqlite`, the embedded default). Both hold the
same tables with the same meaning (telemetry/schema.py; stable, other tools read them).

Everything a batch produces is written in one transaction (:meth:`Archive.write`); the platform
acknowledges and displays only what has been committed. A committed transaction survives a killed
process (kill -9) on both: SQLite in WAL with synchronous=NORMAL (after a power loss the last
transactions may be lost), PostgreSQL with its write-ahead log (``synchronous_commit`` as the
server has it). Readers see one snapshot per call (:meth:`Archive.snapshot`: ``stats`` reads its
counters and rows in one read transaction). Every database error reaches callers as a one-line
:class:`ArchiveError` naming the archive (a PostgreSQL URL without its password); ``transient``
says whether it may go away (full disk, I/O error, lost connection, read-only): the platform
then stops acknowledging and retries. Times are Unix seconds (UTC); CUC ``time_ticks`` are 2**-24 s.

Where the SQL is: every query and write of these tables is here, in SQL that both back ends take
(``?`` parameters). What differs -- connections, transactions, types, bulk loading, the meaning of errors --
is in each back end's module, and nowhere else. That is why this module is a little over 600
lines: the archive's SQL stays in one place (the schema in schema.py, the export pieces in pieces.py).
"""
from __future__ import annotations

import contextlib
import functools
import math
import time
from datetime import datetime, timezone

import numpy as np

from groundseg.table import Table

from . import alarms as _alarms
from . import commanding_store
from . import samples as _samples
from .errors import ArchiveError
from .pieces import concat, gather, merge_by_time, tables
from .schema import ADDED_COLUMNS, COUNTERS, SCHEMA

__all__ = ["Archive", "COUNTERS", "iso_utc", "parse_time", "is_url"]

COUNTER_MAX = (1 << 63) - 1
TICKS_PER_S = 16777216


def is_url(target) -> bool:
    """Whether ``target`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in ("postgresql", "postgres")


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


def _within(t: np.ndarray, lo, hi) -> np.ndarray:
    """Indices of ``t`` (n,) in [lo, hi] (either bound None: open)."""
    keep = np.ones(t.size, dtype=bool)
    if lo is not None:
        keep &= t >= lo
    if hi is not None:
        keep &= t <= hi
    return np.flatnonzero(keep)


def _db_errors(method):
    """Turn a back end's database errors in a public method into one-line ArchiveError."""
    @functools.wraps(method)
    def wrapped(self, *args, **kw):
        try:
            return method(self, *args, **kw)
        except self._errors as exc:
            raise self._error(exc) from None
    return wrapped


class Archive:
    """An archive: an SQLite file (created if missing unless ``readonly`` or ``create=False``) or a
    PostgreSQL URL (its tables created likewise). ``readonly`` never writes."""

    _errors: tuple = ()

    def __new__(cls, target=None, *args, **kw):
        if cls is Archive:
            if is_url(str(target)):
                from .archive_postgres import PostgresArchive as cls
            else:
                from .archive_sqlite import SQLiteArchive as cls
        return super().__new__(cls)

    # -- what each back end provides -----------------------------------------------------------
    def execute(self, sql: str, args=()) -> list[tuple]:
        """Run one statement (``?`` parameters) and return its rows (none for most writes)."""
        raise NotImplementedError

    def _iterate(self, sql: str, args=()):
        """Rows of a query, read as they are consumed (memory: a few rows, not the result)."""
        raise NotImplementedError

    def _executemany(self, sql: str, rows) -> None:
        raise NotImplementedError

    def _insert_id(self, sql: str, args) -> int:
        """Run an INSERT into a table with an ``id`` key; the new row's id."""
        raise NotImplementedError

    def _bulk(self, table: str, columns: tuple, rows: list) -> None:
        """Insert many rows (SQLite: executemany; PostgreSQL: COPY)."""
        raise NotImplementedError

    def _begin(self, write: bool) -> None:
        raise NotImplementedError

    def _end(self, commit: bool) -> None:
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError

    def _columns(self, table: str) -> set[str]:
        """Column names of ``table`` (empty if it does not exist)."""
        raise NotImplementedError

    def _error(self, exc) -> ArchiveError:
        """A driver error as one-line ArchiveError (``transient`` set when it may go away)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- opening, transactions ----------------------------------------------------------------
    def _setup(self, readonly: bool) -> None:
        """Create the tables, add the columns of older archives and build missing tiles (not when
        ``readonly``); then check that the archive reads."""
        if not readonly:
            self._create(SCHEMA + commanding_store.SCHEMA)
            for table, added in ADDED_COLUMNS.items():
                have = self._columns(table)
                for column, kind in added.items():
                    if column not in have:
                        self.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            if self.meta("sample_tiles") is None:
                self._backfill_tiles()
        self.execute("SELECT count(*) FROM packet_blocks")
        self._names: dict[tuple[str, str], int] = {}

    def _create(self, schema: str) -> None:
        for statement in schema.split(";"):
            if statement.strip():
                self.execute(statement)

    @contextlib.contextmanager
    def write(self):
        """A write transaction: committed at the end of the block, rolled back on any exception;
        database errors leave as :class:`ArchiveError`."""
        try:
            self._begin(True)
            try:
                yield self
            except BaseException:
                if self.in_transaction:
                    self._end(False)
                raise
            self._end(True)
        except self._errors as exc:
            raise self._error(exc) from None

    @contextlib.contextmanager
    def snapshot(self):
        """A read transaction: every query in the block sees the same committed state."""
        self._begin(False)
        try:
            yield self
        finally:
            if self.in_transaction:
                self._end(True)

    # -- writing (inside a write transaction) --------------------------------------------------
    def name_id(self, kind: str, name: str) -> int:
        key = (kind, name)
        if key not in self._names:
            if len(self._names) >= 10_000:          # a cache: source names come and go
                self._names.clear()
            self.execute("INSERT INTO names(kind, name) VALUES (?, ?) ON CONFLICT(kind, name) DO NOTHING", key)
            self._names[key] = self.execute("SELECT id FROM names WHERE kind=? AND name=?", key)[0][0]
        return self._names[key]

    def forget_names(self) -> None:
        """Drop the name -> id cache (after a rolled-back transaction)."""
        self._names.clear()

    def name_of(self, ident: int) -> str:
        rows = self.execute("SELECT name FROM names WHERE id=?", (int(ident),))
        return rows[0][0] if rows else "?"

    @_db_errors
    def spacecraft_names(self, limit: int) -> list[str]:
        return [r[0] for r in self.execute("SELECT name FROM names WHERE kind='spacecraft' ORDER BY id LIMIT ?",
                                           (int(limit),))]

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (key, value))

    @_db_errors
    def meta(self, key: str) -> str | None:
        rows = self.execute("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def add_counters(self, counts: dict) -> None:
        """Add to the counters, saturating at 2**63 - 1."""
        self._executemany("INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value ="
                          " CASE WHEN counters.value > ? - excluded.value THEN ? ELSE counters.value + excluded.value"
                          " END", [(k, min(int(v), COUNTER_MAX), COUNTER_MAX, COUNTER_MAX)
                                   for k, v in counts.items() if v])

    def save_sources(self, states: dict[str, str], now_s: float) -> None:
        self._executemany("INSERT INTO sources(source_id, state, committed_s) VALUES (?, ?, ?) ON CONFLICT(source_id)"
                          " DO UPDATE SET state = excluded.state, committed_s = excluded.committed_s",
                          [(sid, st, now_s) for sid, st in states.items()])

    @_db_errors
    def source_state(self, source_id: str) -> str | None:
        rows = self.execute("SELECT state FROM sources WHERE source_id=?", (source_id,))
        return rows[0][0] if rows else None

    def add_quarantine(self, rows: list[tuple]) -> None:
        """(received_s, spacecraft, source, reason, raw bytes) rows."""
        self._bulk("quarantine", ("received_s", "spacecraft", "source", "reason", "raw"), rows)

    def last_ticks(self, spacecraft: int, apid: int) -> int:
        """The latest archived packet time of a stream, -1 if none."""
        t = self.execute("SELECT MAX(t_last_ticks) FROM packet_blocks WHERE spacecraft=? AND apid=?",
                         (int(spacecraft), int(apid)))[0][0]
        return -1 if t is None else int(t)

    def add_blocks(self, blocks: list[tuple]) -> None:
        """Packet blocks: (spacecraft, apid, length, n, t_first_ticks, t_last_ticks, received_s, source,
        recovered, time_ticks bytes, seq_count bytes, raw bytes)."""
        self._bulk("packet_blocks", ("spacecraft", "apid", "length", "n", "t_first_ticks", "t_last_ticks",
                                     "received_s", "source", "recovered", "time_ticks", "seq_count", "raw"), blocks)

    def add_segment(self, spacecraft: int, packet: str, time_s: np.ndarray, received_s: float) -> int:
        """A segment of packet times (sorted) of one packet type; its id."""
        return self._insert_id("INSERT INTO segments(spacecraft, packet, t_first_s, t_last_s, n, received_s, time_s)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?)", (int(spacecraft), packet, float(time_s[0]),
                                                                float(time_s[-1]), int(time_s.size), received_s,
                                                                time_s.tobytes()))

    def add_values(self, spacecraft: int, segment_id: int, time_s: np.ndarray, values: dict, severities: dict) -> None:
        """A segment's values ({parameter: (n,) array in its storage dtype}) and severities
        ({parameter: (n,) int8 or None}), and their tiles."""
        self._bulk("segment_values", ("parameter", "segment_id", "dtype", "value", "severity"),
                   [(name, segment_id, v.dtype.str, v.tobytes(), None if severities[name] is None else
                     severities[name].tobytes()) for name, v in values.items()])
        self.add_tiles(spacecraft, list(values), time_s, np.stack([v.astype(np.float64) for v in values.values()]))

    def add_tiles(self, spacecraft: int, parameters: list[str], time_s: np.ndarray, values: np.ndarray) -> None:
        """Merge the tiles of ``values`` (n_parameter, n) at sorted ``time_s`` (n,) into ``sample_tiles``."""
        rows = []
        for width, tile, n, lo, hi, total in _samples.tiles(time_s, values):
            for k, name in enumerate(parameters):
                has = np.flatnonzero(n[k])
                rows += zip([int(spacecraft)] * has.size, [name] * has.size, [width] * has.size, tile[has].tolist(),
                            n[k, has].tolist(), lo[k, has].tolist(), hi[k, has].tolist(), total[k, has].tolist())
        self._executemany(
            "INSERT INTO sample_tiles(spacecraft, parameter, width_s, tile, n, vmin, vmax, vsum) VALUES"
            " (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(spacecraft, parameter, width_s, tile) DO UPDATE SET"
            " n = sample_tiles.n + excluded.n, vsum = sample_tiles.vsum + excluded.vsum,"
            " vmin = CASE WHEN excluded.vmin < sample_tiles.vmin THEN excluded.vmin ELSE sample_tiles.vmin END,"
            " vmax = CASE WHEN excluded.vmax > sample_tiles.vmax THEN excluded.vmax ELSE sample_tiles.vmax END", rows)

    def _backfill_tiles(self) -> None:
        """Tiles of an archive written before them, from its values, segment by segment."""
        with self.write():
            for seg_id, sc, tb in self.execute("SELECT id, spacecraft, time_s FROM segments ORDER BY id"):
                names, values = [], []
                for name, dtype, v in self.execute("SELECT parameter, dtype, value FROM segment_values"
                                                   " WHERE segment_id = ?", (seg_id,)):
                    names.append(name)
                    values.append(np.frombuffer(v, dtype=np.dtype(dtype)).astype(np.float64))
                t = np.frombuffer(tb, dtype=np.float64)
                order = np.argsort(t, kind="stable")
                if names:
                    self.add_tiles(sc, names, t[order], np.stack(values)[:, order])
            self.set_meta("sample_tiles", "1")

    def set_latest(self, rows: list[tuple]) -> None:
        """(spacecraft, parameter, time_s, value, severity, reason) rows."""
        self._executemany("INSERT INTO latest(spacecraft, parameter, time_s, value, severity, reason) VALUES"
                          " (?, ?, ?, ?, ?, ?) ON CONFLICT(spacecraft, parameter) DO UPDATE SET time_s = excluded.time_s,"
                          " value = excluded.value, severity = excluded.severity, reason = excluded.reason", rows)

    @_db_errors
    def open_alarm_ids(self) -> dict[tuple[str, str], int]:
        """{(spacecraft, parameter): id} of the alarms whose condition is active."""
        return {(sc, prm): i for i, sc, prm in self.execute("SELECT id, spacecraft, parameter FROM alarms"
                                                            " WHERE state='raised'")}

    def raise_alarm(self, ev) -> int:
        """A new alarm for a limit event (telemetry.limits.AlarmEvent); its id."""
        return self._insert_id("INSERT INTO alarms(spacecraft, parameter, state, severity, max_severity, reason, value,"
                               " raised_s) VALUES (?, ?, 'raised', ?, ?, ?, ?, ?)",
                               (ev.spacecraft, ev.parameter, ev.severity, ev.severity, ev.reason, ev.value, ev.time_s))

    def update_alarm(self, alarm_id: int, event: str, ev) -> None:
        """An alarm's condition cleared, or its severity changed; and the event, recorded."""
        if event == "cleared":
            self.execute("UPDATE alarms SET state='cleared', cleared_s=? WHERE id=?", (ev.time_s, alarm_id))
        elif event != "raised":
            self.execute("UPDATE alarms SET severity=?, max_severity=CASE WHEN max_severity < ? THEN ? ELSE"
                         " max_severity END, reason=?, value=? WHERE id=?",
                         (ev.severity, ev.severity, ev.severity, ev.reason, ev.value, alarm_id))
        self.execute("INSERT INTO alarm_events(alarm_id, event, severity, reason, time_s, value) VALUES"
                     " (?, ?, ?, ?, ?, ?)", (alarm_id, event, ev.severity, ev.reason, ev.time_s, ev.value))

    # -- reading ----------------------------------------------------------------------------
    @_db_errors
    def counters(self) -> dict[str, int]:
        c = {name: 0 for name in COUNTERS}
        c.update(dict(self.execute("SELECT name, value FROM counters")))
        return c

    def keys(self, spacecraft: int, apid: int, lo_ticks: int | None = None, hi_ticks: int | None = None):
        """(time_ticks (n,) int64, seq_count (n,) int64) archived for one stream, sorted by time."""
        sql = "SELECT time_ticks, seq_count FROM packet_blocks WHERE spacecraft=? AND apid=?"
        args: list = [int(spacecraft), int(apid)]
        if lo_ticks is not None:
            sql += " AND t_last_ticks >= ? AND t_first_ticks <= ?"
            args += [int(lo_ticks), int(hi_ticks)]
        t, s = [], []
        for tb, sb in self.execute(sql, args):
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
        spans = self.execute("SELECT id, t_first_ticks, t_last_ticks FROM packet_blocks WHERE spacecraft=? AND apid=?"
                             " ORDER BY t_first_ticks, id", (spacecraft, apid))
        run: list[int] = []
        end = None
        for ident, first, last in spans + [(None, None, None)]:
            if run and (ident is None or first > end):
                t, s = [], []
                for i in run:
                    tb, sb = self.execute("SELECT time_ticks, seq_count FROM packet_blocks WHERE id=?", (i,))[0]
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
        for sc, apid in self.execute("SELECT DISTINCT spacecraft, apid FROM packet_blocks"):
            last = None
            for _, s in self._stream_keys(sc, apid):
                if last is not None:
                    s = np.concatenate([[last], s])
                total += int(np.sum((s[1:] - s[:-1] - 1) % 16384))
                last = int(s[-1])
        return total

    @_db_errors
    def stats(self, *, now_s: float | None = None) -> dict:
        """Counters plus ``missing_packets``, ``open_alarms`` (not closed), ``unacknowledged_alarms``,
        ``quarantined`` and ``archived_rows``, all from one read transaction (one snapshot)."""
        now = time.time() if now_s is None else now_s
        with self.snapshot():
            s = self.counters()
            s["missing_packets"] = self.missing_packets()
            rows = _alarms.alarm_rows(self, "open", now)
            s["open_alarms"] = len(rows)
            s["unacknowledged_alarms"] = sum(r["state"].endswith("_unacknowledged") for r in rows)
            s["quarantined"] = self.execute("SELECT count(*) FROM quarantine")[0][0]
            s["archived_rows"] = int(self.execute("SELECT COALESCE(SUM(n), 0) FROM packet_blocks")[0][0])
        return s

    @_db_errors
    def packet_pieces(self, *, apid: int | None = None, start_s: float | None = None, end_s: float | None = None,
                      spacecraft: str | None = None):
        """:meth:`packets` as consecutive Tables of about ``PIECE_ROWS`` (telemetry/pieces.py) rows (memory: a piece and
        the blocks open at its time, however big the archive)."""
        lo = None if start_s is None else int(round(start_s * TICKS_PER_S))
        hi = None if end_s is None else int(round(end_s * TICKS_PER_S))
        where, args = [], []
        for test, value in (("b.apid = ?", apid), ("n.name = ?", spacecraft), ("b.t_last_ticks >= ?", lo),
                            ("b.t_first_ticks <= ?", hi)):
            if value is not None:
                where.append(test)
                args.append(value)
        rows = self._iterate("SELECT n.name, b.apid, b.length, b.recovered, b.time_ticks, b.seq_count, b.raw FROM"
                             " packet_blocks b JOIN names n ON n.id = b.spacecraft" +
                             (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY b.t_first_ticks, b.id",
                             args)

        def blocks():
            for name, a, length, rec, tb, sb, raw in rows:
                t = np.frombuffer(tb, dtype=np.int64)
                idx = _within(t, lo, hi)
                if idx.size:
                    yield (t[idx], np.frombuffer(sb, dtype=np.uint16)[idx].astype(np.int64), name, a, length, rec,
                           np.frombuffer(raw, dtype=np.uint8).reshape(-1, length)[idx])
        yield from tables(merge_by_time(blocks(), lambda b: b[0]), _packet_table)

    def packets(self, **query) -> Table:
        """Archived packets in time order (then APID, sequence count): time_utc, spacecraft, apid,
        seq_count, length, recovered, raw_hex. ``apid``, ``start_s``, ``end_s``, ``spacecraft``
        (name) select."""
        return concat(list(self.packet_pieces(**query)))

    @_db_errors
    def value_pieces(self, name: str, *, start_s=None, end_s=None, spacecraft: str | None = None):
        """One parameter's values by spacecraft (name order), then time, in pieces of about
        ``PIECE_ROWS`` (telemetry/pieces.py): (spacecraft names (n,), time_s (n,), value (n,), severity (n,) int8)."""
        names = self.execute("SELECT DISTINCT n.name, n.id FROM names n JOIN segments s ON s.spacecraft = n.id"
                             " WHERE n.kind = 'spacecraft'" + (" AND n.name = ?" if spacecraft is not None else "") +
                             " ORDER BY n.name", [spacecraft] if spacecraft is not None else [])
        for sc_name, sc_id in names:
            sql = ("SELECT s.time_s, v.dtype, v.value, v.severity FROM segment_values v JOIN segments s ON"
                   " s.id = v.segment_id WHERE v.parameter = ? AND s.spacecraft = ?")
            args: list = [name, sc_id]
            if start_s is not None:
                sql += " AND s.t_last_s >= ?"
                args.append(float(start_s))
            if end_s is not None:
                sql += " AND s.t_first_s <= ?"
                args.append(float(end_s))

            def blocks(rows=self._iterate(sql + " ORDER BY s.t_first_s, s.id", args)):
                for t, dtype, v, sev in rows:
                    t = np.frombuffer(t, dtype=np.float64)
                    keep = _within(t, start_s, end_s)
                    if keep.size:
                        order = keep[np.argsort(t[keep], kind="stable")]
                        yield (t[order], np.frombuffer(v, dtype=np.dtype(dtype)).astype(np.float64)[order],
                               np.zeros(t.size, np.int8)[order] if sev is None else
                               np.frombuffer(sev, dtype=np.int8)[order])
            for piece in gather(merge_by_time(blocks(), lambda b: b[0])):
                t = np.concatenate([b[0][i] for b, i in piece])
                order = np.argsort(t, kind="stable")
                yield (np.full(t.size, sc_name, dtype=object), t[order],
                       np.concatenate([b[1][i] for b, i in piece])[order],
                       np.concatenate([b[2][i] for b, i in piece])[order])

    def parameter_arrays(self, name: str, **query):
        """(spacecraft names (n,), time_s (n,), value (n,), severity (n,)) sorted by spacecraft, time;
        ``start_s``, ``end_s`` (inclusive), ``spacecraft`` select."""
        pieces = list(self.value_pieces(name, **query))
        if not pieces:
            return (np.zeros(0, dtype=object), np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int8))
        return tuple(np.concatenate(cols) for cols in zip(*pieces))

    @_db_errors
    def parameter_names(self) -> list[str]:
        return [r[0] for r in self.execute("SELECT DISTINCT parameter FROM segment_values ORDER BY parameter")]

    @_db_errors
    def samples(self, spacecraft: str, parameter: str, start_s: float, end_s: float, buckets: int) -> Table:
        """One parameter of one spacecraft in at most ``buckets`` time buckets over [start_s, end_s):
        time_utc (bucket start), min, max, mean, count; buckets without a finite value are left out.
        Bucket widths and alignment: telemetry/samples.py (1 s to days, whole buckets aligned to the
        epoch); from the tiles in SQL for widths of 5 minutes or more, else from the values."""
        width = _samples.bucket_width_s(float(start_s), float(end_s), buckets)
        first, stop = math.floor(start_s / width), math.ceil(end_s / width)
        tile_w = _samples.tile_width_s(width)
        if tile_w is None:
            _, t, v, _ = self.parameter_arrays(parameter, start_s=first * width, end_s=stop * width,
                                               spacecraft=spacecraft)
            b, lo, hi, total, n = _samples.buckets(t, v, width, first, stop)
        else:
            if self.meta("sample_tiles") is None:
                raise ArchiveError(f"{self.path}: written before time buckets existed: open it once for writing"
                                   " (e.g. groundseg telemetry ack or platform) to build them")
            k = width // tile_w
            rows = self.execute(
                "SELECT (t.tile - CAST(? AS BIGINT)) / CAST(? AS BIGINT), MIN(t.vmin), MAX(t.vmax), SUM(t.vsum),"
                " SUM(t.n) FROM sample_tiles t"
                " JOIN names s ON s.id = t.spacecraft AND s.kind = 'spacecraft' WHERE s.name = ? AND t.parameter = ?"
                " AND t.width_s = ? AND t.tile >= ? AND t.tile < ? GROUP BY 1 ORDER BY 1",
                (first * k, k, spacecraft, parameter, tile_w, first * k, stop * k))
            cols = list(zip(*rows)) if rows else [[]] * 5
            b = first + np.asarray(cols[0], dtype=np.int64)
            lo, hi, total = (np.asarray(c, dtype=np.float64) for c in cols[1:4])
            n = np.asarray(cols[4], dtype=np.int64)
        return Table({"time_utc": utc_us(b * float(width)), "min": lo, "max": hi,
                      "mean": total / np.maximum(n, 1), "count": n}, {"time_utc": "us"})

    @_db_errors
    def sample_span(self, spacecraft: str, parameter: str) -> tuple[float, float] | None:
        """(start_s, end_s) of the whole tiles (5 min) holding a spacecraft's values of ``parameter``."""
        w = _samples.TILE_WIDTHS_S[0]
        lo, hi = self.execute("SELECT MIN(t.tile), MAX(t.tile) FROM sample_tiles t JOIN names s ON s.id = t.spacecraft"
                              " AND s.kind = 'spacecraft' WHERE s.name = ? AND t.parameter = ? AND t.width_s = ?",
                              (spacecraft, parameter, w))[0]
        return None if lo is None else (float(lo * w), float((hi + 1) * w))

    @_db_errors
    def alarms(self, state: str = "all", *, now_s: float | None = None) -> Table:
        """Alarms, ``state`` "all" or "open" (not closed), unacknowledged first (telemetry/alarms.py):
        id, spacecraft, parameter, state (one of ``telemetry.alarms.STATES``), condition (active |
        normal), severity, max_severity, reason, value, raised_utc, cleared_utc, acknowledged_utc,
        operator (who acknowledged), comment, shelved_until_utc, shelved_by."""
        return _alarm_table(_alarms.alarm_rows(self, state, now_s))

    @_db_errors
    def acknowledge_alarm(self, alarm_id: int, operator: str, comment: str = "", *, now_s: float | None = None) -> dict:
        """Acknowledge alarm ``alarm_id`` as ``operator``: {"alarm": record as in :meth:`alarms`,
        "already": bool} (an alarm keeps its first acknowledgement). Recorded in ``actions``."""
        out = _alarms.acknowledge_alarm(self, alarm_id, operator, comment, now_s)
        return {"alarm": _alarm_table([out["alarm"]]).records()[0], "already": out["already"]}

    @_db_errors
    def shelve_alarm(self, alarm_id: int, operator: str, duration_s: float, comment: str = "", *,
                     now_s: float | None = None) -> dict:
        """Shelve alarm ``alarm_id`` for ``duration_s``: {"alarm": record}. Recorded in ``actions``."""
        row = _alarms.shelve_alarm(self, alarm_id, operator, duration_s, comment, now_s)["alarm"]
        return {"alarm": _alarm_table([row]).records()[0]}

    @_db_errors
    def actions(self) -> Table:
        """Operator actions in order: id, time_utc, operator, action, alarm_id, comment, detail."""
        rows = _alarms.action_rows(self)
        cols = list(zip(*rows)) if rows else [[] for _ in range(7)]
        return Table({"id": cols[0], "time_utc": utc_us(cols[1]), "operator": cols[2], "action": cols[3],
                      "alarm_id": cols[4], "comment": cols[5], "detail": cols[6]}, {"time_utc": "us"})

    # -- what the monitor shows --------------------------------------------------------------
    def recent_sources(self, limit: int) -> tuple[list[tuple], int]:
        """(source_id, state JSON) of the ``limit`` most recently committed sources; how many in all."""
        order = "committed_s DESC, source_id" if "committed_s" in self._columns("sources") else "source_id"
        return (self.execute(f"SELECT source_id, state FROM sources ORDER BY {order} LIMIT ?", (int(limit),)),
                self.execute("SELECT count(*) FROM sources")[0][0])

    def packets_since(self, received_s: float) -> int:
        return int(self.execute("SELECT COALESCE(SUM(n), 0) FROM packet_blocks WHERE received_s >= ?",
                                (received_s,))[0][0])

    def latest_values(self) -> list[tuple]:
        """(spacecraft name, parameter, time_s, value, severity, reason) by spacecraft name."""
        return self.execute("SELECT n.name, l.parameter, l.time_s, l.value, l.severity, l.reason FROM latest l"
                            " JOIN names n ON n.id = l.spacecraft ORDER BY n.name")


def _packet_table(piece) -> Table:
    """Packet blocks' selected rows (a piece) as one Table in (time, APID, sequence count) order."""
    cols = [[b[k][i] if k in (0, 1, 6) else np.full(i.size, b[k], dtype=object) for b, i in piece] for k in range(7)]
    ticks, seq, name, apid, length, rec = (np.concatenate(c) if c else np.zeros(0, dtype=object) for c in cols[:6])
    apid = apid.astype(np.int64)
    raw = [r.tobytes().hex() for c in cols[6] for r in c]
    order = np.lexsort((seq, apid, ticks)) if piece else np.zeros(0, dtype=np.int64)
    return Table({"time_utc": utc_us(ticks[order].astype(np.float64) / TICKS_PER_S),
                  "spacecraft": name[order].tolist(), "apid": apid[order], "seq_count": seq[order].astype(np.int64),
                  "length": length[order].astype(np.int64), "recovered": rec[order].astype(np.int64),
                  "raw_hex": [raw[i] for i in order.tolist()]}, {"time_utc": "us"})
