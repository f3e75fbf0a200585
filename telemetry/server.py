"""The networked operations platform: a ZeroMQ SUB endpoint in front of a :class:`Platform`.

Loop (one thread): receive stream messages -> hold the ones that follow a gap of their source
until the gap is recovered or declared lost (so packets reach the limit checks in time order)
-> batch (up to ``batch_packets`` or ``batch_s``)
-> ``Platform.ingest_chunks`` commits packets, counters and per-source state in one transaction
-> acknowledge to each source the sequence below which everything is committed -> ask sources
for missing message ranges (per-source sequence gaps, tail gaps announced by heartbeats) ->
declare a range lost when its source says it no longer holds it, or after ``replay_tries``
unanswered requests. On start the per-source state is read back from the archive, so a platform
restarted within the sources' linger time recovers everything they sent while it was down.

Programmatic use::

    server = PlatformServer("tcp://127.0.0.1:5555", "ops.sqlite", keys="keys/")
    summary = server.run(duration_s=60, idle_exit_s=5)   # or run(stop=threading.Event())
"""
from __future__ import annotations

import heapq
import json
import threading
import time
from collections import Counter

import numpy as np
import zmq

from .dictionary import Dictionary
from .errors import StreamError
from .platform import Chunk, Platform
from .stream import (_RANGE, _SEQ, KIND_DATA, KIND_HEARTBEAT, SourceTracker, _check_endpoint, decode_message,
                     load_keys)

__all__ = ["PlatformServer"]


class PlatformServer:
    """Listens on ``listen``, archives into ``archive`` (path, ``":memory:"`` or a Platform).

    Pass ``context`` (shared with the sources) to use ``inproc://`` endpoints in one process;
    a context carries one ZAP handler, so with keys give each side its own context."""

    def __init__(self, listen: str, archive, dictionary: Dictionary | None = None, *, keys=None,
                 batch_packets: int = 20_000, batch_s: float = 0.05, replay_timeout_s: float = 2.0,
                 replay_tries: int = 5, replay_chunk: int = 2000, link_timeout_s: float = 3.0,
                 rcvhwm: int = 10_000, hold_messages: int = 50_000, context: zmq.Context | None = None):
        _check_endpoint(listen)
        self.platform = archive if isinstance(archive, Platform) else Platform(archive, dictionary)
        self.batch_packets, self.batch_s = batch_packets, batch_s
        self.replay_timeout_s, self.replay_tries, self.replay_chunk = replay_timeout_s, replay_tries, replay_chunk
        self.link_timeout_s = link_timeout_s
        self.hold_messages = hold_messages
        self._chunks: list = []
        self._sends: list = []
        self._n_batch = 0
        self.keys = load_keys(keys, "server") if keys is not None and not hasattr(keys, "secret") else keys
        self._own_ctx = context is None
        self.ctx = context or zmq.Context()
        self._auth = None
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.RCVHWM, rcvhwm)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"tm/")
        self.sub.setsockopt(zmq.SUBSCRIBE, b"hb/")
        try:
            if self.keys is not None:
                self._auth = self.keys.start_authenticator(self.ctx)
                self.sub.curve_server = True
                self.sub.curve_secretkey = self.keys.secret
                self.sub.curve_publickey = self.keys.public
            self.sub.bind(listen)
        except zmq.ZMQError as exc:
            self.close()
            raise StreamError(f"{listen}: cannot listen: {exc}") from None
        self.endpoint = self.sub.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.trackers: dict[str, SourceTracker] = {}
        for sid, state in self.platform.archive.db.execute("SELECT source_id, state FROM sources"):
            self.trackers[sid] = SourceTracker.from_json(sid, state)
        self._dealers: dict[str, zmq.Socket] = {}
        self._poller = zmq.Poller()
        self._poller.register(self.sub, zmq.POLLIN)
        self.latency_s: list[np.ndarray] = []
        self.counters: Counter = Counter()
        self._pending: Counter = Counter()
        self._dirty: set[str] = set()
        self._stop = threading.Event()
        self.ready = threading.Event()
        self.last_activity = time.monotonic()
        self.heard = False

    # -- plumbing -------------------------------------------------------------------------------
    def close(self) -> None:
        for d in getattr(self, "_dealers", {}).values():
            d.close(0)
        self.sub.close(0)
        if self._auth is not None:
            self._auth.stop()
            self._auth = None
        if self._own_ctx:
            self.ctx.term()

    def stop(self) -> None:
        self._stop.set()

    def _dealer(self, tr: SourceTracker) -> zmq.Socket | None:
        d = self._dealers.get(tr.source_id)
        if d is not None or not tr.replay:
            return d
        d = self.ctx.socket(zmq.DEALER)
        d.setsockopt(zmq.LINGER, 0)
        d.setsockopt(zmq.RCVHWM, 200_000)
        if self.keys is not None:
            if not tr.public_key or tr.public_key.encode() not in self.keys.allowed:
                d.close(0)
                return None
            d.curve_secretkey = self.keys.secret
            d.curve_publickey = self.keys.public
            d.curve_serverkey = tr.public_key.encode()
        try:
            d.connect(tr.replay)
        except zmq.ZMQError:
            d.close(0)
            return None
        self._dealers[tr.source_id] = d
        self._poller.register(d, zmq.POLLIN)
        return d

    def _tracker(self, source_id: str) -> SourceTracker:
        tr = self.trackers.get(source_id)
        if tr is None:
            tr = self.trackers[source_id] = SourceTracker(source_id)
        return tr

    # -- receive ------------------------------------------------------------------------------
    def _on_stream(self, frames) -> None:
        msg = decode_message(frames)
        if msg is None:
            self._pending["rejected_messages"] += 1
            return
        topic, kind, seq, send_ns, n_packets, sid, body = msg
        _, spacecraft, _ = topic.split("/")
        tr = self._tracker(sid)
        self._dirty.add(sid)
        if kind == KIND_HEARTBEAT:
            try:
                info = json.loads(body)
                tr.replay, tr.public_key = info.get("replay"), info.get("public_key")
                tr.spacecraft = str(info.get("spacecraft", spacecraft))
                tr.sent_packets = int(info.get("sent_packets", 0))
            except (ValueError, TypeError, AttributeError):
                self._pending["rejected_messages"] += 1
                return
            self._pending["gaps"] += tr.on_heartbeat(seq)
            self._dealer(tr)
            return
        if kind != KIND_DATA:
            self._pending["rejected_messages"] += 1
            return
        tr.spacecraft = spacecraft
        is_new, gaps = tr.on_data(seq)
        self._pending["gaps"] += gaps
        self._pending["messages_received"] += 1
        if not is_new:
            self._pending["duplicate_messages"] += 1
            return
        self._deliver(tr, seq, (Chunk(bytes(body), spacecraft, sid, False), send_ns, n_packets))

    def _deliver(self, tr: SourceTracker, seq: int, item: tuple) -> None:
        """Process a message now if every earlier one of its source is in (or lost), else hold it
        so that packets reach the limit checks in order; at most ``hold_messages`` are held."""
        if seq <= tr.watermark():
            self._append(item)
            self._release(tr)
            return
        tr.held[seq] = item
        heapq.heappush(tr.held_order, seq)
        if len(tr.held) > self.hold_messages:
            first = heapq.heappop(tr.held_order)
            self._append(tr.held.pop(first))
            self._pending["released_out_of_order"] += 1

    def _release(self, tr: SourceTracker) -> None:
        w = tr.watermark()
        while tr.held_order and tr.held_order[0] <= w:
            self._append(tr.held.pop(heapq.heappop(tr.held_order)))

    def _append(self, item: tuple) -> None:
        chunk, send_ns, n_packets = item
        self._chunks.append(chunk)
        self._sends.append(send_ns)
        self._n_batch += n_packets

    def _on_dealer(self, sid: str, frames) -> None:
        tr = self.trackers.get(sid)
        if tr is None or len(frames) < 4:
            return
        if frames[0] == b"DATA":
            msg = decode_message([b"tm/" + tr.spacecraft.encode() + b"/000", frames[1], frames[2], frames[3]])
            if msg is None or msg[5] != sid:
                self._pending["rejected_messages"] += 1
                return
            _, _, seq, send_ns, n_packets, _, body = msg
            self._dirty.add(sid)
            if tr.on_recovered(seq):
                self._pending["recovered_messages"] += 1
                self._pending["messages_received"] += 1
                self._deliver(tr, seq, (Chunk(bytes(body), tr.spacecraft, sid, True), send_ns, n_packets))
            return
        if frames[0] == b"DONE" and len(frames) == 4 and len(frames[2]) == _RANGE.size:
            first, last = _RANGE.unpack(frames[2])
            self._dirty.add(sid)
            try:
                for a, b in json.loads(frames[3]):
                    self._pending["missing_messages"] += tr.lose(int(a), int(b))
            except (ValueError, TypeError):
                self._pending["rejected_messages"] += 1
            tr.requested.pop((first, last), None)
            self._release(tr)

    # -- commit, ack, recover -------------------------------------------------------------------
    def _commit(self) -> None:
        states = {sid: self.trackers[sid].to_json() for sid in self._dirty}
        extra = dict(self._pending)
        self.platform.ingest_chunks(self._chunks, extra_counters=extra, sources_state=states)
        done_ns = time.time_ns()
        if self._sends:
            self.latency_s.append((done_ns - np.asarray(self._sends, dtype=np.int64)) / 1e9)
        self._chunks, self._sends, self._n_batch = [], [], 0
        self.counters.update(extra)
        self._pending.clear()
        self._dirty.clear()
        for sid in states:
            self._ack(self.trackers[sid])

    def _ack(self, tr: SourceTracker) -> None:
        d = self._dealer(tr)
        if d is not None:
            try:
                d.send_multipart([b"ACK", tr.source_id.encode(), _SEQ.pack(tr.watermark())], zmq.NOBLOCK)
            except zmq.Again:
                pass

    def _recover(self) -> None:
        """Ask sources for missing ranges, at most ``replay_chunk`` messages a request. A request
        still in flight covers its range; a range whose request went unanswered ``replay_tries``
        times in a row (no progress), or whose source has no replay endpoint and has been silent,
        is declared lost."""
        now = time.monotonic()
        for tr in self.trackers.values():
            if not tr.missing:
                tr.requested.clear()
                continue
            tr.requested = {k: v for k, v in tr.requested.items()
                            if any(a <= k[1] and k[0] <= b for a, b in tr.missing)}
            d = self._dealer(tr)
            budget = self.replay_chunk * 4
            for a, b in [list(r) for r in tr.missing]:
                s = a
                while s <= b and budget > 0:
                    live = [k for k, (t, _) in tr.requested.items() if k[0] <= s <= k[1] and now - t < self.replay_timeout_s]
                    if live:
                        s = max(k[1] for k in live) + 1
                        continue
                    e = min(b, s + self.replay_chunk - 1)
                    tries = max([n for k, (_, n) in tr.requested.items() if k[0] == s] or [0])
                    if d is None or tries >= self.replay_tries:
                        if d is None and now - tr.last_seen < self.replay_timeout_s * self.replay_tries:
                            break
                        self._pending["missing_messages"] += tr.lose(s, e)
                        self._dirty.add(tr.source_id)
                        self._release(tr)
                        s = e + 1
                        continue
                    try:
                        d.send_multipart([b"REPLAY", tr.source_id.encode(), _RANGE.pack(s, e)], zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    for k in [k for k in tr.requested if k[0] == s]:
                        del tr.requested[k]
                    tr.requested[(s, e)] = (now, tries + 1)
                    budget -= e - s + 1
                    s = e + 1

    # -- run ----------------------------------------------------------------------------------
    def run(self, *, duration_s: float | None = None, idle_exit_s: float | None = None,
            stop: threading.Event | None = None, on_commit=None) -> dict:
        """Serve until ``stop`` is set, ``duration_s`` passes, or -- once a source has been heard --
        nothing arrived for ``idle_exit_s`` with no gap open. Returns a summary (counters, archive
        stats, latency percentiles)."""
        stop = stop or self._stop
        t_start = time.monotonic()
        next_maint = 0.0
        next_ack = time.monotonic() + 1.0
        batch_start = None
        self.ready.set()
        try:
            while not stop.is_set():
                now = time.monotonic()
                if duration_s is not None and now - t_start >= duration_s:
                    break
                if idle_exit_s is not None and self.heard and not self._chunks and \
                        now - self.last_activity >= idle_exit_s and not any(t.missing for t in self.trackers.values()):
                    break
                timeout = 50 if batch_start is None else max(0, int((batch_start + self.batch_s - now) * 1000))
                events = dict(self._poller.poll(timeout))
                if self.sub in events:
                    for _ in range(2000):
                        try:
                            frames = self.sub.recv_multipart(zmq.NOBLOCK)
                        except zmq.Again:
                            break
                        self.last_activity = time.monotonic()
                        self.heard = True
                        self._on_stream(frames)
                        if self._n_batch >= self.batch_packets:
                            break
                for sid, d in list(self._dealers.items()):
                    if d in events:
                        for _ in range(5000):
                            try:
                                frames = d.recv_multipart(zmq.NOBLOCK)
                            except zmq.Again:
                                break
                            self.last_activity = time.monotonic()
                            self._on_dealer(sid, frames)
                now = time.monotonic()
                if (self._chunks or self._pending or self._dirty) and batch_start is None:
                    batch_start = now
                if batch_start is not None and (self._n_batch >= self.batch_packets or now - batch_start >= self.batch_s):
                    self._commit()
                    if on_commit is not None:
                        on_commit(self)
                    batch_start = None
                if now >= next_maint:
                    self._recover()
                    next_maint = now + 0.1
                if now >= next_ack:
                    for tr in self.trackers.values():
                        if now - tr.last_seen < self.link_timeout_s * 10:
                            self._ack(tr)
                    next_ack = now + 0.5
            if self._chunks or self._pending or self._dirty:
                self._commit()
        finally:
            self.ready.clear()
        return self.summary()

    def links(self) -> list[dict]:
        """Per source: id, spacecraft, up (heard within link_timeout_s), highest, watermark, missing."""
        now = time.monotonic()
        return [{"source": t.source_id, "spacecraft": t.spacecraft, "up": now - t.last_seen < self.link_timeout_s,
                 "highest": t.highest, "acked": t.watermark(), "missing": sum(b - a + 1 for a, b in t.missing)}
                for t in self.trackers.values()]

    def summary(self) -> dict:
        lat = np.concatenate(self.latency_s) if self.latency_s else np.zeros(0)
        out = self.platform.stats()
        out["latency_p50_ms"] = float(np.percentile(lat, 50) * 1e3) if lat.size else None
        out["latency_p99_ms"] = float(np.percentile(lat, 99) * 1e3) if lat.size else None
        out["latency_messages"] = int(lat.size)
        return out
