"""The telemetry archive's tables, the same on both back ends (stable; other tools read them),
written once in SQLite's types (telemetry/archive_postgres.py maps them to PostgreSQL's)::


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
    sample_tiles(spacecraft, parameter, width_s, tile, n, vmin, vmax, vsum)
        per epoch-aligned interval [tile * width_s, (tile + 1) * width_s) of each tile width, the
        count, min, max and sum of a parameter's finite values: time-bucketed queries
        (:meth:`Archive.samples`, telemetry/samples.py) read these, not the values
    latest(spacecraft, parameter, time_s, value, severity, reason)
    alarms(id, spacecraft, parameter, state, severity, max_severity, reason, value,
           raised_s, cleared_s, acknowledged_s, operator, comment, shelved_until_s, shelved_by)
        state: the condition, raised|cleared; what operators see is in telemetry/alarms.py
    alarm_events(id, alarm_id, event, severity, reason, time_s, value)
    actions(id, time_s, operator, action, alarm_id, comment, detail)    every operator action
    quarantine(id, received_s, spacecraft, source, reason, raw)     raw: at most 65,542 bytes of the unit
    counters(name, value)      sources(source_id, state JSON, committed_s)      meta(key, value)
    commands, command_stages, command_sequence    the command history (telemetry/commanding_store.py)
"""
from __future__ import annotations

from . import alarms as _alarms

__all__ = ["COUNTERS", "SCHEMA", "ADDED_COLUMNS"]

COUNTERS = ("packets_received", "packets_archived", "crc_errors", "malformed", "duplicates", "idle_packets",
            "unknown_apid", "gaps", "missing_messages", "recovered_packets", "recovered_messages",
            "messages_received", "sequence_gaps", "alarms_raised", "late_unchecked", "rejected_messages",
            "duplicate_messages", "sequence_jumps", "skipped_messages", "released_out_of_order")
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS names(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, UNIQUE(kind, name));
CREATE TABLE IF NOT EXISTS packet_blocks(id INTEGER PRIMARY KEY, spacecraft INTEGER NOT NULL,
    apid INTEGER NOT NULL, length INTEGER NOT NULL, n INTEGER NOT NULL, t_first_ticks INTEGER NOT NULL,
    t_last_ticks INTEGER NOT NULL, received_s REAL NOT NULL, source INTEGER, recovered INTEGER NOT NULL,
    time_ticks BLOB NOT NULL, seq_count BLOB NOT NULL, raw BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS packet_blocks_q ON packet_blocks(spacecraft, apid, t_last_ticks);
CREATE INDEX IF NOT EXISTS packet_blocks_r ON packet_blocks(received_s);
CREATE INDEX IF NOT EXISTS packet_blocks_t ON packet_blocks(t_first_ticks);
CREATE TABLE IF NOT EXISTS segments(id INTEGER PRIMARY KEY, spacecraft INTEGER NOT NULL, packet TEXT NOT NULL,
    t_first_s REAL NOT NULL, t_last_s REAL NOT NULL, n INTEGER NOT NULL, received_s REAL NOT NULL,
    time_s BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS segments_t ON segments(spacecraft, t_first_s);
CREATE TABLE IF NOT EXISTS segment_values(parameter TEXT NOT NULL, segment_id INTEGER NOT NULL, dtype TEXT NOT NULL,
    value BLOB NOT NULL, severity BLOB, PRIMARY KEY(parameter, segment_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sample_tiles(spacecraft INTEGER NOT NULL, parameter TEXT NOT NULL, width_s INTEGER NOT NULL,
    tile INTEGER NOT NULL, n INTEGER NOT NULL, vmin REAL NOT NULL, vmax REAL NOT NULL, vsum REAL NOT NULL,
    PRIMARY KEY(spacecraft, parameter, width_s, tile)) WITHOUT ROWID;
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
CREATE TABLE IF NOT EXISTS sources(source_id TEXT PRIMARY KEY, state TEXT NOT NULL, committed_s REAL);
CREATE TABLE IF NOT EXISTS actions(id INTEGER PRIMARY KEY, time_s REAL NOT NULL, operator TEXT NOT NULL,
    action TEXT NOT NULL, alarm_id INTEGER, comment TEXT, detail TEXT);
"""
#: Columns added since the first archives: added when an older archive is opened for writing.
ADDED_COLUMNS = {"alarms": _alarms.ADDED_COLUMNS, "sources": {"committed_s": "REAL"}}
