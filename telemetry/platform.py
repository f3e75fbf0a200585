"""Operations platform: validate, quarantine, de-duplicate, decode, check limits, raise alarms, archive.

Pipeline of one batch (one archive transaction, SQLite or PostgreSQL)::

    bytes -> split (length, version, CRC) -> quarantine what fails -> drop idle packets
          -> PUS header / dictionary layout check -> drop duplicates (spacecraft, APID, seq count, time)
          -> per-APID 14-bit sequence gap count -> decode + calibrate -> limit checks -> alarms -> commit

Two ways in, one archive format:

- :class:`Platform` is fed bytes in-process, no sockets::

      from telemetry.platform import Platform
      p = Platform("ops.sqlite")                      # bundled dictionary by default
      p.ingest(rows.tobytes(), spacecraft="FS8-1")     # rows from Dictionary.encode(...)
      p.stats()["alarms_raised"]; p.archive.alarms().records(); p.close()

- :class:`PlatformServer` (in :mod:`telemetry.server`) listens on a ZeroMQ endpoint, recovers gaps
  from the sources and acknowledges what it has committed; it drives a :class:`Platform`.

Counters (``stats()``): packets_received = packets_archived + crc_errors + malformed + duplicates +
idle_packets, always (every unit the splitter cuts is counted once). ``missing_packets`` counts
packets missing between archived ones by the per-APID sequence count.

Limit checks run per (spacecraft, parameter) in time order; a packet older than the newest one
already checked is archived and decoded but not limit-checked (``late_unchecked``). The network
server holds messages that follow a gap until it is recovered, so replayed packets arrive in order.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .archive import Archive
from .dictionary import Dictionary
from .errors import ArchiveError
from .limits import REASONS, LimitChecker
from .packets import CRC_BYTES, CRC_ERROR, HEADER_BYTES, MALFORMED, PUS_VERSION, decode_headers, split_many

__all__ = ["Chunk", "Platform"]


@dataclass
class Chunk:
    """Bytes of concatenated packets from one spacecraft through one source."""

    payload: bytes
    spacecraft: str = "FS8-1"
    source: str = "local"
    recovered: bool = False


QUARANTINE_BYTES = 65542            # the largest CCSDS packet: what is kept of a longer bad unit


def _no_fault(point: str) -> None:
    pass


def _distinct(a: np.ndarray) -> list[int]:
    """Distinct values of an integer array (fast when all are equal)."""
    if a.size == 0:
        return []
    if (a == a[0]).all():
        return [int(a[0])]
    return np.unique(a).tolist()


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    key = a.astype(np.int64) * 4096 + b
    return [(k // 4096, k % 4096) for k in _distinct(key)]


def _storage_dtype(p) -> np.dtype:
    """Narrowest exact little-endian dtype for a parameter's engineering values."""
    if p.calibrated or (p.type == "float" and p.bits == 64):
        return np.dtype("<f8")
    if p.type == "float":
        return np.dtype("<f4")
    size = next(n for n in (1, 2, 4, 8) if p.bits <= 8 * n)
    return np.dtype(f"<{'i' if p.type == 'int' else 'u'}{size}")


class Platform:
    """In-process operations platform writing an :class:`Archive` (path or ``":memory:"``)."""

    def __init__(self, archive, dictionary: Dictionary | None = None, *, clock=time.time):
        self.archive = archive if isinstance(archive, Archive) else Archive(archive)
        self.dictionary = dictionary or Dictionary.bundled()
        self.clock = clock
        self._fault_hook = _no_fault
        self._stale = False             # in-memory state not reloaded after a failed batch
        with self.archive.write():
            if self.dictionary.text:
                self.archive.set_meta("dictionary", self.dictionary.text)
        self._load_state()

    def _load_state(self) -> None:
        """In-memory pipeline state from the archive (at start, and after a rolled-back batch)."""
        self.checker = LimitChecker()
        state = self.archive.meta("checker_state")
        if state:
            self.checker.restore(json.loads(state))
        seq_state = self.archive.meta("sequence_state")
        self._seq_last: dict[tuple[int, int], tuple[int, int]] = {
            (int(a), int(b)): tuple(v) for k, v in (json.loads(seq_state) if seq_state else {}).items()
            for a, b in [k.split(":")]}
        self._max_ticks: dict[tuple[int, int], int] = {}
        self._open: dict[tuple[str, str], int] = self.archive.open_alarm_ids()
        self.archive.forget_names()
        self._stale = False

    def close(self) -> None:
        self.archive.close()

    def stats(self) -> dict:
        return self.archive.stats()

    def acknowledge(self, alarm_id: int, operator: str, comment: str = "") -> dict:
        """Record an operator's acknowledgement (see :meth:`Archive.acknowledge_alarm`)."""
        return self.archive.acknowledge_alarm(alarm_id, operator, comment, now_s=self.clock())

    def ingest(self, data: bytes, *, spacecraft: str = "FS8-1", source: str = "local",
               recovered: bool = False) -> dict:
        """Process and commit one byte batch; returns this batch's counters."""
        return self.ingest_chunks([Chunk(bytes(data), spacecraft, source, recovered)])

    def ingest_chunks(self, chunks: list[Chunk], *, extra_counters: dict | None = None,
                      sources_state: dict[str, str] | None = None) -> dict:
        """Process chunks in one transaction. ``sources_state`` (source id -> JSON) and
        ``extra_counters`` are committed with the packets (used by the network server)."""
        arc = self.archive
        if self._stale:
            self._load_state()
        try:
            with arc.write():
                c = self._process(chunks)
                for k, v in (extra_counters or {}).items():
                    c[k] += v
                arc.add_counters(c)
                arc.save_sources(sources_state or {}, self.clock())
                arc.set_meta("checker_state", json.dumps(self.checker.state()))
                arc.set_meta("sequence_state", json.dumps({f"{a}:{b}": list(v) for (a, b), v in self._seq_last.items()}))
                self._fault_hook("in_transaction")
        except BaseException:
            self._stale = True
            try:
                self._load_state()
            except ArchiveError:            # the archive cannot be read now: before the next batch
                pass
            raise
        return dict(c)

    # -- the pipeline ------------------------------------------------------------------------
    def _process(self, chunks: list[Chunk]) -> Counter:
        now = self.clock()
        arc = self.archive
        c: Counter = Counter()
        quarantine: list[tuple] = []
        by_length: dict[int, list] = {}
        for ch, sp in zip(chunks, split_many([ch.payload for ch in chunks])):
            m = sp.status.size
            c["packets_received"] += m
            counts = sp.counts()
            c["crc_errors"] += counts["crc_error"]
            c["malformed"] += counts["malformed"]
            c["idle_packets"] += counts["idle"]
            for i in np.flatnonzero((sp.status == CRC_ERROR) | (sp.status == MALFORMED)):
                reason = "crc" if sp.status[i] == CRC_ERROR else "malformed"
                length = int(sp.length[i])
                if length > QUARANTINE_BYTES:
                    reason += f": {length} bytes, the first {QUARANTINE_BYTES} kept"
                quarantine.append((now, ch.spacecraft, ch.source, reason, sp.unit(i, QUARANTINE_BYTES)))
            sc_id = arc.name_id("spacecraft", ch.spacecraft)
            src_id = arc.name_id("source", ch.source)
            for _, rows in sp.groups():
                by_length.setdefault(rows.shape[1], []).append((rows, sc_id, src_id, ch.recovered, ch))
        groups = []
        for length, parts in by_length.items():
            rows = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
            k = rows.shape[0]
            sc = np.concatenate([np.full(p[0].shape[0], p[1], dtype=np.int64) for p in parts])
            src = np.concatenate([np.full(p[0].shape[0], p[2], dtype=np.int64) for p in parts])
            rec = np.concatenate([np.full(p[0].shape[0], p[3], dtype=bool) for p in parts])
            if length < HEADER_BYTES + CRC_BYTES:
                bad = np.ones(k, dtype=bool)
                reason = np.full(k, "too short for a PUS-C secondary header", dtype=object)
                h = None
            else:
                h = decode_headers(rows)
                bad = (h["type"] != 0) | (h["sec_flag"] != 1) | (h["pus_version"] != PUS_VERSION)
                reason = np.where(bad, "not a PUS-C TM packet", "").astype(object)
                for apid in _distinct(h["apid"]):
                    pt = self.dictionary.by_apid.get(int(apid))
                    sel = h["apid"] == apid
                    if pt is None:
                        c["unknown_apid"] += int(np.count_nonzero(sel & ~bad))
                        continue
                    wrong = sel & ~bad & ((length != pt.length) | (h["service"] != pt.service) |
                                          (h["subtype"] != pt.subtype))
                    reason[wrong] = f"layout: APID {int(apid):#x} is {pt.name} ({pt.length} bytes," \
                                    f" service {pt.service}/{pt.subtype})"
                    bad |= wrong
            for i in np.flatnonzero(bad):
                sc_name = arc.name_of(int(sc[i]))
                quarantine.append((now, sc_name, arc.name_of(int(src[i])), str(reason[i]), rows[i].tobytes()))
            c["malformed"] += int(np.count_nonzero(bad))
            if h is not None and not bad.all():
                keep = ~bad
                groups.append((rows[keep], sc[keep], src[keep], rec[keep], {k2: v[keep] for k2, v in h.items()}))
        arc.add_quarantine(quarantine)
        if groups:
            self._archive_valid(groups, now, c)
        return c

    def _archive_valid(self, groups, now: float, c: Counter) -> None:
        sc = np.concatenate([g[1] for g in groups])
        apid = np.concatenate([g[4]["apid"] for g in groups])
        seq = np.concatenate([g[4]["seq_count"] for g in groups])
        ticks = np.concatenate([g[4]["time_ticks"] for g in groups])
        gid = np.concatenate([np.full(g[0].shape[0], i) for i, g in enumerate(groups)])
        gpos = np.concatenate([np.arange(g[0].shape[0]) for g in groups])
        n = sc.size
        dup = np.zeros(n, dtype=bool)
        order = np.lexsort((seq, ticks, apid, sc))
        same = (np.diff(sc[order]) == 0) & (np.diff(apid[order]) == 0) & (np.diff(ticks[order]) == 0) & \
               (np.diff(seq[order]) == 0)
        dup[order[1:][same]] = True
        for s_id, a_id in _distinct_pairs(sc, apid):
            key = (s_id, a_id)
            if key not in self._max_ticks:
                self._max_ticks[key] = self.archive.last_ticks(*key)
            sel = (sc == s_id) & (apid == a_id) & ~dup
            late = sel & (ticks <= self._max_ticks[key])
            if late.any():
                t_have, s_have = self.archive.keys(s_id, a_id, int(ticks[late].min()), int(ticks[late].max()))
                have = set(zip(t_have.tolist(), s_have.tolist()))
                for i in np.flatnonzero(late):
                    if (int(ticks[i]), int(seq[i])) in have:
                        dup[i] = True
            if sel.any():
                self._max_ticks[key] = max(self._max_ticks[key], int(ticks[sel].max()))
        c["duplicates"] += int(np.count_nonzero(dup))
        new = np.flatnonzero(~dup)
        if new.size == 0:
            return
        new = new[np.lexsort((seq[new], ticks[new], apid[new], sc[new]))]
        src = np.concatenate([g[2] for g in groups])
        rec = np.concatenate([g[3] for g in groups])
        # one block per (spacecraft, apid, length group, source, recovered); ids are small integers
        block_key = (((sc[new] * 2048 + apid[new]) * 64 + gid[new]) * (1 << 24) + src[new]) * 2 + rec[new]
        blocks = []
        for key in _distinct(block_key):
            sel = new[block_key == key]
            s_id, a_id, g_id = int(sc[sel[0]]), int(apid[sel[0]]), int(gid[sel[0]])
            src_id, recovered = int(src[sel[0]]), int(rec[sel[0]])
            rows = groups[g_id][0]
            blocks.append((s_id, a_id, rows.shape[1], sel.size, int(ticks[sel[0]]), int(ticks[sel[-1]]), now, src_id,
                           recovered, ticks[sel].astype(np.int64).tobytes(), seq[sel].astype(np.uint16).tobytes(),
                           rows[gpos[sel]].tobytes()))
        self.archive.add_blocks(blocks)
        c["packets_archived"] += int(new.size)
        c["recovered_packets"] += int(np.count_nonzero(rec[new]))
        # per-APID 14-bit sequence count gaps among in-order packets
        for s_id, a_id in _distinct_pairs(sc[new], apid[new]):
            sel = new[(sc[new] == s_id) & (apid[new] == a_id)]
            last_t, last_s = self._seq_last.get((s_id, a_id), (-1, -1))
            sel = sel[ticks[sel] > last_t]
            if sel.size == 0:
                continue
            s_arr = seq[sel]
            prev = np.concatenate([[last_s], s_arr[:-1]]) if last_s >= 0 else s_arr[:-1]
            cur = s_arr if last_s >= 0 else s_arr[1:]
            c["sequence_gaps"] += int(np.count_nonzero((cur - prev - 1) % 16384 != 0))
            self._seq_last[(s_id, a_id)] = (int(ticks[sel[-1]]), int(s_arr[-1]))
        # decode, check, store segments, per (group, spacecraft)
        for g_index, g in enumerate(groups):
            pt_rows = new[gid[new] == g_index]
            if pt_rows.size == 0:
                continue
            for a_id in _distinct(apid[pt_rows]):
                pt = self.dictionary.by_apid.get(int(a_id))
                if pt is None:
                    continue
                sel_a = pt_rows[apid[pt_rows] == a_id]
                for s_id in _distinct(sc[sel_a]):
                    sel = sel_a[sc[sel_a] == s_id]
                    sel = sel[np.argsort(ticks[sel], kind="stable")]
                    self._decode_store(pt, int(s_id), g[0][gpos[sel]], ticks[sel] / 16777216.0, now, c)

    def _decode_store(self, pt, s_id: int, rows: np.ndarray, time_s: np.ndarray, now: float, c: Counter) -> None:
        sc_name = self.archive.name_of(s_id)
        raw = pt.decode_raw(rows)
        first = pt.parameters[0].name
        checked = time_s > self.checker.last_time(sc_name, first)
        c["late_unchecked"] += int(np.count_nonzero(~checked))
        latest_rows, values, severities = [], {}, {}
        seg_id = self.archive.add_segment(s_id, pt.name, time_s, now)
        for p in pt.parameters:
            value = p.calibrate(raw[p.name])
            sev = None
            if checked.any() and p.has_checks:
                t_c = time_s[checked]
                s_c, why, events = self.checker.check(sc_name, p, raw[p.name][checked], value[checked], t_c)
                for ev in events:
                    self._alarm(ev, c)
                if s_c.any():
                    sev = np.zeros(value.size, dtype=np.int8)
                    sev[checked] = s_c
                latest_rows.append((s_id, p.name, float(t_c[-1]), float(value[checked][-1]), int(s_c[-1]),
                                    REASONS[int(why[-1])]))
            elif checked.any():
                latest_rows.append((s_id, p.name, float(time_s[checked][-1]), float(value[checked][-1]), 0, ""))
            values[p.name] = value.astype(_storage_dtype(p))
            severities[p.name] = sev
        self.archive.add_values(s_id, seg_id, time_s, values, severities)
        self.archive.set_latest(latest_rows)

    def _alarm(self, ev, c: Counter) -> None:
        key = (ev.spacecraft, ev.parameter)
        if ev.event == "cleared" and key not in self._open:
            return
        if ev.event == "raised" or key not in self._open:
            self._open[key] = self.archive.raise_alarm(ev)
            c["alarms_raised"] += 1
            event = "raised"
        else:
            event = ev.event
        self.archive.update_alarm(self._open[key], event, ev)
        if event == "cleared":
            del self._open[key]
