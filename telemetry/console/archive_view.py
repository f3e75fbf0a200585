"""What the console reads from the archive: latest values, alarm summary, links, and what was
committed since the last look (the live feed).

Only committed rows are read, through a read-only connection of its own (one per thread: database
connections are not shared between threads), in the portable SQL of :class:`~telemetry.archive.Archive`
(either back end). The live feed follows the archive's increasing
row ids (segments, alarm events, actions, packet blocks, quarantine), so it works the same
whether the platform runs in the console's process or in another one writing the same file,
and it never shows what a rolled-back batch held.

Bounds: one look reads at most ``max_segments`` new segments (the rest on the next look); when
they hold more than ``max_samples`` samples (a bulk import, not live operations) only each
segment's last sample is sent, marked ``thinned``.
"""
from __future__ import annotations

import functools
import json

import numpy as np

from ..archive import Archive, iso_utc
from ..dictionary import SEVERITIES

__all__ = ["ArchiveView", "alarm_summary"]

_LINK_FIELDS = ("highest", "sent_packets", "last_seen_s", "spacecraft")


def alarm_summary(records: list[dict]) -> dict:
    """Open alarms (records of ``Archive.alarms("open")``): counts and the highest severity of
    those not shelved (what the global indicator shows)."""
    showing = [r for r in records if r["state"] != "shelved"]
    top = max((int(r["severity"]) for r in showing), default=0)
    return {"open": len(records), "unacknowledged": sum(r["state"].endswith("_unacknowledged") for r in records),
            "shelved": len(records) - len(showing), "highest_severity": SEVERITIES[top] if showing else None}


def _errors(method):
    """Database errors of a read as one-line ArchiveError naming the archive."""
    @functools.wraps(method)
    def wrapped(self, *args, **kw):
        try:
            return method(self, *args, **kw)
        except self.archive._errors as exc:
            raise self.archive._error(exc) from None
    return wrapped


class ArchiveView:
    """Reads of one archive file for the console (not thread-safe: one per thread)."""

    def __init__(self, path, dictionary, *, max_segments: int = 2000, max_samples: int = 20_000):
        self.archive = Archive(path, readonly=True)
        self.sql = self.archive.execute
        self.dictionary = dictionary
        self._order = {p: i for i, p in enumerate(dictionary.parameters)} if dictionary else {}
        self.max_segments, self.max_samples = int(max_segments), int(max_samples)
        self._packet_params = {pt.name: [p.name for p in pt.parameters] for pt in dictionary.packets} if dictionary else {}
        self._last = {}
        self._source_totals: dict[str, dict] = {}

    def close(self) -> None:
        self.archive.close()

    # -- snapshots --------------------------------------------------------------------------------
    @_errors
    def spacecraft(self) -> list[str]:
        return [r[0] for r in self.sql("SELECT name FROM names WHERE kind='spacecraft' ORDER BY name")]

    @_errors
    def counter(self, name: str) -> int:
        rows = self.sql("SELECT value FROM counters WHERE name=?", (name,))
        return int(rows[0][0]) if rows else 0

    @_errors
    def latest(self, spacecraft: str) -> list[dict]:
        """The latest value of every parameter of ``spacecraft`` with its limit state, in the
        dictionary's order."""
        rows = self.sql("SELECT l.parameter, l.time_s, l.value, l.severity, l.reason FROM latest l"
                        " JOIN names n ON n.id = l.spacecraft WHERE n.name = ? AND n.kind = 'spacecraft'", (spacecraft,))
        rows.sort(key=lambda r: (self._order.get(r[0], len(self._order)), r[0]))
        out = []
        for name, t, value, sev, reason in rows:
            sev = int(sev or 0)
            out.append({"name": name, "time_utc": None if t is None else str(iso_utc([t])[0]), "time_s": t,
                        "value": value if value is None or np.isfinite(value) else None,
                        "state": SEVERITIES[sev] if 0 <= sev < len(SEVERITIES) else "nominal", "reason": reason or ""})
        return out

    @_errors
    def alarms(self, state: str, now_s: float) -> list[dict]:
        return self.archive.alarms(state, now_s=now_s).records()

    @_errors
    def links(self, now_s: float, link_timeout_s: float) -> list[dict]:
        """Per source: spacecraft, up / silent, last heard, messages, missing, packets and rate
        (last 10 s), recovered packets, CRC errors and other quarantined units."""
        rates = dict(self.sql(
            "SELECT n.name, SUM(b.n) FROM packet_blocks b JOIN names n ON n.id = b.source"
            " WHERE b.received_s >= ? GROUP BY n.name", (now_s - 10.0,)))
        out = []
        for sid, state in self.sql("SELECT source_id, state FROM sources ORDER BY source_id LIMIT 1000"):
            try:
                st = json.loads(state)
                info = {k: st.get(k) for k in _LINK_FIELDS}
                missing = sum(int(b) - int(a) + 1 for a, b in st.get("missing", []))
                seen = float(info["last_seen_s"] or 0.0)
            except (ValueError, TypeError, AttributeError, RecursionError):
                out.append({"source": sid, "status": "unreadable"})
                continue
            tot = self._source_totals.get(sid, {})
            out.append({"source": sid, "spacecraft": info["spacecraft"] or "",
                        "status": "connected" if now_s - seen < link_timeout_s else "silent",
                        "last_heard_utc": str(iso_utc([seen])[0]) if seen else None,
                        "silent_s": round(max(0.0, now_s - seen), 1) if seen else None,
                        "messages": info["highest"], "missing_messages": missing,
                        "packets": tot.get("packets", 0), "recovered_packets": tot.get("recovered", 0),
                        "rate_per_s": round((rates.get(sid) or 0) / 10.0, 2),
                        "crc_errors": tot.get("crc", 0), "quarantined": tot.get("quarantined", 0)})
        return out

    # -- the live feed ------------------------------------------------------------------------------
    def _max_id(self, table: str) -> int:
        return int(self.sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0])

    @_errors
    def start_following(self) -> None:
        """Remember where the archive ends now; totals per source from what is there."""
        for table in ("segments", "alarm_events", "actions", "packet_blocks", "quarantine"):
            self._last[table] = self._max_id(table)
        self._source_totals.clear()
        self._count_blocks(0, self._last["packet_blocks"])
        self._count_quarantine(0, self._last["quarantine"])

    def _count_blocks(self, after: int, upto: int) -> None:
        for sid, n, rec in self.sql(
                "SELECT n.name, SUM(b.n), SUM(b.n * b.recovered) FROM packet_blocks b JOIN names n ON n.id = b.source"
                " WHERE b.id > ? AND b.id <= ? GROUP BY n.name", (after, upto)):
            t = self._source_totals.setdefault(sid, {})
            t["packets"] = t.get("packets", 0) + int(n)
            t["recovered"] = t.get("recovered", 0) + int(rec)

    def _count_quarantine(self, after: int, upto: int) -> None:
        for sid, crc, n in self.sql(
                "SELECT source, SUM(CASE WHEN reason LIKE 'crc%' THEN 1 ELSE 0 END), COUNT(*) FROM quarantine"
                " WHERE id > ? AND id <= ? GROUP BY source", (after, upto)):
            t = self._source_totals.setdefault(str(sid), {})
            t["crc"] = t.get("crc", 0) + int(crc)
            t["quarantined"] = t.get("quarantined", 0) + int(n)

    @_errors
    def new_counts(self) -> None:
        """Fold newly committed packet blocks and quarantined units into the per-source totals."""
        for table, fold in (("packet_blocks", self._count_blocks), ("quarantine", self._count_quarantine)):
            top = self._max_id(table)
            if top > self._last[table]:
                fold(self._last[table], top)
                self._last[table] = top

    @_errors
    def new_samples(self) -> tuple[list[dict], list[tuple[float, float]]]:
        """Parameter messages for the segments committed since the last call, in commit order, and
        (last packet time, received time) per segment (for a replay clock)."""
        last = self._last["segments"]
        segs = self.sql(
            "SELECT s.id, n.name, s.packet, s.time_s, s.received_s, s.t_last_s FROM segments s"
            " JOIN names n ON n.id = s.spacecraft WHERE s.id > ? ORDER BY s.id LIMIT ?",
            (last, self.max_segments))
        if not segs:
            return [], []
        top = segs[-1][0]
        names = sorted({p for s in segs for p in self._packet_params.get(s[2], [])})
        values: dict[int, dict] = {}
        if names:
            marks = ",".join("?" * len(names))
            for prm, sid, dtype, blob, sev in self.sql(
                    f"SELECT parameter, segment_id, dtype, value, severity FROM segment_values"
                    f" WHERE parameter IN ({marks}) AND segment_id > ? AND segment_id <= ?", (*names, last, top)):
                values.setdefault(sid, {})[prm] = (np.frombuffer(blob, dtype=np.dtype(dtype)),
                                                   None if sev is None else np.frombuffer(sev, dtype=np.int8))
        times = [np.frombuffer(s[3], dtype=np.float64) for s in segs]
        thin = sum(t.size for t in times) > self.max_samples
        out, seen = [], []
        for (sid, sc, packet, _, received, t_last), t in zip(segs, times):
            seen.append((float(t_last), float(received)))
            vals = values.get(sid, {})
            for j in ([t.size - 1] if thin else range(t.size)):
                msg = {"type": "parameter", "spacecraft": sc, "packet": packet, "time_s": float(t[j]),
                       "time_utc": str(iso_utc([t[j]])[0]), "values": {}}
                for prm, (v, sev) in vals.items():
                    x = float(v[j])
                    s = 0 if sev is None else int(sev[j])
                    msg["values"][prm] = {"value": x if np.isfinite(x) else None,
                                          "state": SEVERITIES[s] if 0 <= s < len(SEVERITIES) else "nominal"}
                if thin:
                    msg["thinned"] = True
                out.append(msg)
        self._last["segments"] = top
        return out, seen

    @_errors
    def changed_alarms(self) -> set[int]:
        """Ids of alarms raised, changed, cleared, acknowledged or shelved since the last call."""
        ids: set[int] = set()
        for table, column in (("alarm_events", "alarm_id"), ("actions", "alarm_id")):
            top = self._max_id(table)
            if top > self._last[table]:
                ids.update(int(r[0]) for r in self.sql(
                    f"SELECT DISTINCT {column} FROM {table} WHERE id > ? AND id <= ? AND {column} IS NOT NULL",
                    (self._last[table], top)))
                self._last[table] = top
        return ids

