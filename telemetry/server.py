"""The networked operations platform: a ZeroMQ SUB endpoint in front of a :class:`Platform`.

One thread, one loop (:meth:`PlatformServer.step`): receive stream messages (wire format and
checks in :mod:`telemetry.stream`) -> hold the ones that follow a gap of their source until it is
recovered or declared lost (so packets reach the limit checks in time order) -> batch (up to
``batch_packets`` packets or ``batch_s``; bytes bounded) -> ``Platform.ingest_chunks`` commits
packets, counters and per-source state in one transaction -> acknowledge to each source the
sequence below which everything is committed -> ask sources for missing ranges -> declare a
range lost when its source says it no longer holds it, or after ``replay_tries`` unanswered
requests, or when its source has been silent that long.

What may be acknowledged: only ``SourceTracker.committed``, set when the transaction that holds
the messages (and the source's state, with held messages saved as missing) has committed; never
the in-memory view. A platform killed at any point and restarted from the archive therefore
asks again for everything it had not committed, and the sources still hold it.

Memory: the batch is bounded by ``memory_bytes`` / 2, held messages by ``memory_bytes`` / 2
(beyond, the oldest held message of the biggest holder is processed out of order, never dropped);
ZeroMQ queues hold at most ``rcvhwm`` messages per connection (each frame at most
``max_message_bytes``: ``ZMQ_MAXMSGSIZE``); at most ``max_sources`` sources are tracked in memory
(idle, fully committed ones are evicted; their state stays in the archive and is read back when
they speak again), ``max_dealers`` replay connections are open, and packets are archived under
at most ``max_spacecraft`` spacecraft names (each has limit-check state for good).

Archive faults: a commit that fails because the archive cannot be written (full disk, I/O
error, read-only, a lost connection to PostgreSQL) rolls the batch back, forgets the uncommitted in-memory state (its messages
are asked for again later), logs a warning (logger ``telemetry``), stops reading and
acknowledging (sources keep their buffers) and retries every ``retry_s``; a damaged archive
raises :class:`~telemetry.errors.ArchiveError`.

Programmatic use::

    server = PlatformServer("tcp://127.0.0.1:5555", "ops.sqlite", keys="keys/")
    summary = server.run(duration_s=60, idle_exit_s=5)   # or run(stop=threading.Event()), or step()
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict, deque

import numpy as np
import zmq

from .dictionary import Dictionary
from .errors import ArchiveError, StreamError
from .keys import LOOPBACK_REPLAY, PlatformKeys, endpoint_allowed
from .platform import Chunk, Platform, _no_fault
from .stream import (_RANGE, _SEQ, KIND_HEARTBEAT, MAX_MESSAGE_BYTES, MAX_PACKETS, check_endpoint, decode_message,
                     parse_done, parse_heartbeat)
from .tracker import SourceTracker

__all__ = ["PlatformServer", "FAULT_POINTS"]

log = logging.getLogger("telemetry")

FAULT_POINTS = ("receive", "heartbeat", "deliver", "before_commit", "in_transaction", "after_commit", "after_ack",
                "replay_request", "replay_data", "replay_done")


class PlatformServer:
    """Listens on ``listen``, archives into ``archive`` (path, ``":memory:"`` or a Platform).

    ``keys``: key directory (or :class:`~telemetry.keys.PlatformKeys`): CurveZMQ, identities from
    keys. ``allow_replay``: endpoint patterns the platform may connect to without keys (besides
    loopback, ipc and inproc). Pass ``context`` (shared with the sources) to use ``inproc://``
    endpoints in one process; a context carries one ZAP handler, so with keys give each side its
    own. ``_fault_hook(point)`` is called at each of ``FAULT_POINTS`` (tests kill the platform
    there)."""

    def __init__(self, listen: str, archive, dictionary: Dictionary | None = None, *, keys=None, allow_replay=(),
                 batch_packets: int = 20_000, batch_s: float = 0.05, memory_bytes: int = 64 << 20,
                 max_message_bytes: int = MAX_MESSAGE_BYTES, max_packets: int = MAX_PACKETS, rcvhwm: int = 100,
                 sequence_window: int = 1_000_000, max_sources: int = 10_000, max_dealers: int = 256,
                 max_spacecraft: int = 100,
                 replay_timeout_s: float = 2.0, replay_tries: int = 5, replay_chunk: int = 500,
                 link_timeout_s: float = 3.0, ack_s: float = 0.5, retry_s: float = 1.0,
                 context: zmq.Context | None = None,
                 _fault_hook=None):
        check_endpoint(listen)
        self.platform = archive if isinstance(archive, Platform) else Platform(archive, dictionary)
        self.batch_packets, self.batch_s = int(batch_packets), float(batch_s)
        self.batch_bytes = self.hold_bytes = int(memory_bytes) // 2
        self.max_message_bytes, self.max_packets = int(max_message_bytes), int(max_packets)
        self.window, self.max_sources, self.max_dealers = int(sequence_window), int(max_sources), int(max_dealers)
        self.max_spacecraft = int(max_spacecraft)
        self._spacecraft = set(self.platform.archive.spacecraft_names(self.max_spacecraft))
        self.replay_timeout_s, self.replay_tries, self.replay_chunk = replay_timeout_s, replay_tries, replay_chunk
        self.link_timeout_s, self.ack_s, self.retry_s = link_timeout_s, ack_s, retry_s
        self.allow_replay = tuple(LOOPBACK_REPLAY) + tuple(allow_replay)
        self._hook = _fault_hook or _no_fault
        self.platform._fault_hook = self._hook
        self.keys = keys if keys is None or isinstance(keys, PlatformKeys) else PlatformKeys(keys)
        self._own_ctx = context is None
        self.ctx = context or zmq.Context()
        self._auth = None
        self._dealers: OrderedDict[str, zmq.Socket] = OrderedDict()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.RCVHWM, rcvhwm)
        self.sub.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
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
        self.trackers: OrderedDict[str, SourceTracker] = OrderedDict()     # least recently heard first
        self._poller = zmq.Poller()
        self._poller.register(self.sub, zmq.POLLIN)
        self.latency_s: deque[np.ndarray] = deque(maxlen=10_000)     # send-to-commit, the last commits
        self.counters: Counter = Counter()
        self._reset_batch()
        self._held_bytes = 0
        self._stop = threading.Event()
        self.ready = threading.Event()
        self.last_activity = time.monotonic()
        self.heard = False
        self.degraded: str | None = None          # why the archive cannot be written, while it cannot
        self._next_try = self._next_maint = self._next_ack = 0.0
        self._batch_start: float | None = None
        self.commits = 0

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

    def _reset_batch(self) -> None:
        self._chunks: list = []
        self._sends: list = []
        self._n_batch = self._batch_bytes = 0
        self._pending: Counter = Counter()
        self._dirty: set[str] = set()

    def _reject(self, reason: str) -> None:
        self._pending["rejected_messages"] += 1
        self._pending["rejected." + reason] += 1

    def _dealer(self, tr: SourceTracker) -> zmq.Socket | None:
        d = self._dealers.get(tr.source_id)
        if d is not None:
            self._dealers.move_to_end(tr.source_id)
            return d
        if not tr.replay or (self.keys is not None and not tr.owner):
            return None
        while len(self._dealers) >= self.max_dealers:
            old = self._dealers.popitem(last=False)[1]
            self._poller.unregister(old)
            old.close(0)
        d = self.ctx.socket(zmq.DEALER)
        d.setsockopt(zmq.LINGER, 0)
        d.setsockopt(zmq.RCVHWM, 2 * self.replay_chunk + 16)
        d.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        if self.keys is not None:
            d.curve_secretkey = self.keys.secret
            d.curve_publickey = self.keys.public
            d.curve_serverkey = tr.owner.encode()
        try:
            d.connect(tr.replay)
        except zmq.ZMQError:
            d.close(0)
            return None
        self._dealers[tr.source_id] = d
        self._poller.register(d, zmq.POLLIN)
        return d

    def _tracker(self, sid: str, owner: str | None, spacecraft: str) -> SourceTracker | str:
        """The source's tracker (from memory, the archive, or new), or why the message is refused."""
        tr = self.trackers.get(sid)
        if tr is None:
            try:
                state = self.platform.archive.source_state(sid)
            except ArchiveError as exc:
                if not exc.transient:
                    raise
                self._archive_failed(exc)          # asked for again when the archive is back
                return "archive_unavailable"
            if state is not None:
                try:
                    tr = SourceTracker.from_json(sid, state, window=self.window)
                except (ValueError, TypeError, RecursionError):
                    self._pending["bad_saved_state"] += 1
            if tr is None:
                tr = SourceTracker(sid, owner=owner, spacecraft=spacecraft, window=self.window)
            if len(self.trackers) >= self.max_sources and not self._evict():
                return "too_many_sources"
            self.trackers[sid] = tr
        if tr.owner != owner:
            return "source_id_of_another_key"
        tr.spacecraft = tr.spacecraft or spacecraft          # shown by the monitor; packets carry their own
        self.trackers.move_to_end(sid)
        return tr

    def _known_spacecraft(self, name: str) -> bool:
        """Whether packets may be archived under ``name``: at most ``max_spacecraft`` names (each
        costs per-stream state for ever)."""
        if name not in self._spacecraft:
            if len(self._spacecraft) >= self.max_spacecraft:
                return False
            self._spacecraft.add(name)
        return True

    def _evict(self) -> bool:
        """Forget the least recently heard source whose state is committed and complete."""
        for sid, tr in self.trackers.items():
            if sid not in self._dirty and not tr.held and not tr.missing and tr.committed == tr.highest:
                del self.trackers[sid]
                d = self._dealers.pop(sid, None)
                if d is not None:
                    self._poller.unregister(d)
                    d.close(0)
                return True
        return False

    # -- receive ------------------------------------------------------------------------------
    def _on_stream(self, frames: list) -> None:
        self._hook("receive")
        owner = ident = None
        if self.keys is not None:
            try:
                owner = frames[0].get("User-Id")
            except zmq.ZMQError:
                owner = None
            ident = self.keys.identities.get(owner)
            if ident is None:
                return self._reject("unknown_key")
        msg = decode_message([f.buffer for f in frames], max_message_bytes=self.max_message_bytes,
                             max_packets=self.max_packets)
        if isinstance(msg, str):
            return self._reject(msg)
        if ident is not None and not ident.may_publish(msg.spacecraft):
            return self._reject("spacecraft_not_allowed")
        if not self._known_spacecraft(msg.spacecraft):
            return self._reject("too_many_spacecraft")
        if ident is not None and not msg.source_id.startswith(ident.name + "-"):
            return self._reject("source_id_of_another_key")
        tr = self._tracker(msg.source_id, owner, msg.spacecraft)
        if isinstance(tr, str):
            return self._reject(tr)
        if msg.kind == KIND_HEARTBEAT:
            return self._on_heartbeat(tr, msg, ident)
        new, gaps, lost = tr.on_data(msg.seq)
        self._sequence_moved(tr, gaps, lost)
        self._pending["messages_received"] += 1
        item = (Chunk(bytes(msg.body), msg.spacecraft, msg.source_id, False), msg.send_ns, msg.n_packets)
        if new:
            self._deliver(tr, msg.seq, item)
        else:   # a sequence already seen: its packets still meet the archive's duplicate check
            self._pending["duplicate_messages"] += 1
            self._append(item)

    def _on_heartbeat(self, tr: SourceTracker, msg, ident) -> None:
        self._hook("heartbeat")
        info = parse_heartbeat(msg.body, msg.spacecraft)
        if isinstance(info, str):
            return self._reject(info)
        if tr.replay is None:
            allowed = ident.replay if ident is not None else self.allow_replay
            if not endpoint_allowed(info["replay"], allowed):
                return self._reject("replay_not_allowed")
            tr.replay, tr.token = info["replay"], info["token"]
        elif (tr.replay, tr.token) != (info["replay"], info["token"]):
            return self._reject("heartbeat_changed")
        tr.sent_packets = info["sent_packets"]
        self._sequence_moved(tr, *tr.on_heartbeat(msg.seq))
        self._dealer(tr)

    def _sequence_moved(self, tr: SourceTracker, gaps: int, lost: int) -> None:
        self._dirty.add(tr.source_id)
        if gaps:
            self._pending["gaps"] += gaps
        if lost:                                # a jump beyond the window: never asked for
            self._pending["skipped_messages"] += lost
            self._pending["sequence_jumps"] += 1

    def _deliver(self, tr: SourceTracker, seq: int, item: tuple) -> None:
        """Process a message now if every earlier one of its source is in (or lost), else hold it
        so that packets reach the limit checks in order; held bytes are bounded."""
        if seq <= tr.watermark():
            self._append(item)
            self._release(tr)
            return
        size = len(item[0].payload)
        tr.hold(seq, item, size)
        self._held_bytes += size
        while self._held_bytes > self.hold_bytes:
            biggest = max((t for t in self.trackers.values() if t.held), key=lambda t: t.held_bytes)
            _, first, size = biggest.pop_held()
            self._held_bytes -= size
            self._append(first)
            self._pending["released_out_of_order"] += 1

    def _release(self, tr: SourceTracker) -> None:
        while (popped := tr.pop_held(tr.watermark())) is not None:
            self._held_bytes -= popped[2]
            self._append(popped[1])

    def _append(self, item: tuple) -> None:
        self._hook("deliver")
        chunk, send_ns, n_packets = item
        self._chunks.append(chunk)
        self._sends.append(send_ns)
        self._n_batch += n_packets
        self._batch_bytes += len(chunk.payload)

    def _on_dealer(self, sid: str, frames: list[bytes]) -> None:
        tr = self.trackers.get(sid)
        if tr is None:
            return
        tr.waiting_since = None
        if frames and frames[0] == b"DATA":
            self._hook("replay_data")
            msg = decode_message(frames[1:], max_message_bytes=self.max_message_bytes, max_packets=self.max_packets,
                                 replayed=True)
            if isinstance(msg, str) or msg.source_id != sid:
                return self._reject("replay_" + (msg if isinstance(msg, str) else "source_id"))
            ident = self.keys.identities.get(tr.owner) if self.keys is not None else None
            if self.keys is not None and (ident is None or not ident.may_publish(msg.spacecraft)):
                return self._reject("replay_spacecraft_not_allowed")
            if not self._known_spacecraft(msg.spacecraft):
                return self._reject("too_many_spacecraft")
            if tr.on_recovered(msg.seq):
                self._dirty.add(sid)
                self._pending["recovered_messages"] += 1
                self._pending["messages_received"] += 1
                self._deliver(tr, msg.seq, (Chunk(bytes(msg.body), msg.spacecraft, sid, True), msg.send_ns,
                                            msg.n_packets))
            return
        if frames and frames[0] == b"DONE":
            self._hook("replay_done")
            done = parse_done(frames, sid)
            if isinstance(done, str):
                return self._reject(done)
            first, last, last_sent, ranges = done
            if tr.requested.get(first, (None,))[0] != last:
                return self._reject("replay_done_unrequested")
            del tr.requested[first]
            self._dirty.add(sid)
            if last_sent < last and not tr.never_sent(last_sent):
                ranges.append([max(first, last_sent + 1), last])
            for a, b in ranges:
                self._pending["missing_messages"] += tr.lose(a, b)
            self._release(tr)
            return
        self._reject("replay_reply")

    # -- commit, ack, recover -------------------------------------------------------------------
    def _commit(self) -> None:
        self._hook("before_commit")
        views = {sid: self.trackers[sid].committed_view() for sid in self._dirty if sid in self.trackers}
        extra = dict(self._pending)
        try:
            self.platform.ingest_chunks(self._chunks, extra_counters=extra,
                                        sources_state={sid: v[0] for sid, v in views.items()})
        except ArchiveError as exc:
            if not exc.transient:
                raise
            self._archive_failed(exc)
            return
        self._hook("after_commit")
        self.commits += 1
        done_ns = time.time_ns()
        if self._sends:
            self.latency_s.append((done_ns - np.asarray(self._sends, dtype=np.int64)) / 1e9)
        self.counters.update(extra)
        self._reset_batch()
        for sid, (_, committed) in views.items():
            tr = self.trackers[sid]
            tr.committed = committed
            self._ack(tr)
        self._hook("after_ack")

    def _archive_failed(self, exc: Exception) -> None:
        """The archive cannot be written: forget what was not committed; stop reading and acking."""
        if self.degraded is None:
            log.warning("archive %s cannot be written (%s): not acknowledging, sources keep their data;"
                        " retrying every %g s", self.platform.archive.path, exc, self.retry_s)
        self.degraded = str(exc)
        self.counters["archive_write_failures"] += 1
        for sid in set(self._dirty) | {s for s, t in self.trackers.items() if t.held}:
            self.trackers.pop(sid, None)             # read back from the archive when it speaks again
        self._held_bytes = sum(t.held_bytes for t in self.trackers.values())
        self._reset_batch()
        self._next_try = time.monotonic() + self.retry_s

    def _try_archive(self) -> None:
        arc = self.platform.archive
        try:
            with arc.write():
                arc.set_meta("last_write_check_s", repr(time.time()))
        except ArchiveError as exc:
            if not exc.transient:
                raise
            self._next_try = time.monotonic() + self.retry_s
            return
        log.warning("archive %s writable again: resuming", self.platform.archive.path)
        self.degraded = None
        now = time.monotonic()
        for tr in self.trackers.values():      # not read while waiting: not silent
            tr.last_seen, tr.waiting_since = now, None

    def _ack(self, tr: SourceTracker) -> None:
        if tr.committed < 1 or tr.token is None:
            return
        d = self._dealer(tr)
        if d is not None:
            try:
                d.send_multipart([b"ACK", tr.source_id.encode(), _SEQ.pack(tr.committed), tr.token.encode()],
                                 zmq.NOBLOCK)
            except zmq.Again:
                pass

    def _recover(self, now: float) -> None:
        """Ask sources for missing ranges, ``replay_chunk`` messages a request, at most
        ``2 * replay_chunk`` in flight per source. A request unanswered ``replay_tries`` times in a
        row is declared lost; so is everything missing of a source silent that long, or whose replay
        socket has not answered anything for that long."""
        silent_s = self.replay_timeout_s * self.replay_tries
        for tr in list(self.trackers.values()):
            if not tr.missing:
                tr.requested.clear()
                continue
            if now - tr.last_seen > silent_s or (tr.waiting_since is not None and now - tr.waiting_since > silent_s):
                self._lose(tr, 1, tr.highest)            # the source is gone, or does not answer replays
                tr.waiting_since = None
                continue
            d = self._dealer(tr) if tr.token else None
            if d is None:
                continue
            for s in [s for s, (e, _, _) in tr.requested.items() if not tr.overlaps(s, e)]:
                del tr.requested[s]
            budget = 2 * self.replay_chunk - sum(e - s + 1 for s, (e, t, _) in tr.requested.items()
                                                 if now - t < self.replay_timeout_s)
            for a, b in list(tr.missing):
                s = a
                while s <= b and budget > 0:
                    e, t, tries = tr.requested.get(s, (min(b, s + self.replay_chunk - 1), 0.0, 0))
                    if now - t < self.replay_timeout_s:
                        s = e + 1
                        continue
                    e = min(b, s + self.replay_chunk - 1)
                    if tries >= self.replay_tries:
                        tr.requested.pop(s, None)
                        self._lose(tr, s, e)
                        s = e + 1
                        continue
                    try:
                        d.send_multipart([b"REPLAY", tr.source_id.encode(), _RANGE.pack(s, e), tr.token.encode()],
                                         zmq.NOBLOCK)
                    except zmq.Again:
                        budget = 0
                        break
                    self._hook("replay_request")
                    tr.requested[s] = (e, now, tries + 1)
                    tr.waiting_since = tr.waiting_since or now
                    budget -= e - s + 1
                    s = e + 1
                if budget <= 0:
                    break

    def _lose(self, tr: SourceTracker, first: int, last: int) -> None:
        self._pending["missing_messages"] += tr.lose(first, last)
        self._dirty.add(tr.source_id)
        self._release(tr)

    # -- run ----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Something received is not committed yet, or a gap is open, or the archive is failing."""
        return bool(self._chunks or self._pending or self._dirty or self._held_bytes or self.degraded or
                    any(t.missing for t in self.trackers.values()))

    def step(self, timeout_ms: int = 50) -> None:
        """One turn of the loop: wait up to ``timeout_ms`` for input (less if a commit is due),
        receive, commit when due, ask for missing ranges, re-send acknowledgements (every ``ack_s``)."""
        now = time.monotonic()
        if self.degraded is not None:
            if now >= self._next_try:
                self._try_archive()
            else:
                time.sleep(min(timeout_ms / 1000.0, self._next_try - now))
            return
        if self._batch_start is not None:
            timeout_ms = max(0, min(timeout_ms, int((self._batch_start + self.batch_s - now) * 1000)))
        events = dict(self._poller.poll(timeout_ms))
        if self.sub in events:
            for _ in range(2000):
                try:
                    frames = self.sub.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    break
                self.last_activity = time.monotonic()
                self.heard = True
                self._on_stream(frames)
                if self._n_batch >= self.batch_packets or self._batch_bytes >= self.batch_bytes:
                    break
        for sid, d in list(self._dealers.items()):
            if d in events:
                for _ in range(4 * self.replay_chunk):
                    try:
                        frames = d.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.last_activity = time.monotonic()
                    self._on_dealer(sid, frames)
        now = time.monotonic()
        if (self._chunks or self._pending or self._dirty) and self._batch_start is None:
            self._batch_start = now
        if self._batch_start is not None and (self._n_batch >= self.batch_packets or self._batch_bytes >= self.batch_bytes
                                              or now - self._batch_start >= self.batch_s):
            self._batch_start = None
            self._commit()
            if self.degraded is not None:
                return
        if now >= self._next_maint:
            self._recover(now)
            self._next_maint = now + 0.1
        if now >= self._next_ack:
            for tr in self.trackers.values():
                if now - tr.last_seen < self.link_timeout_s * 10:
                    self._ack(tr)
            self._next_ack = now + self.ack_s

    def run(self, *, duration_s: float | None = None, idle_exit_s: float | None = None,
            stop: threading.Event | None = None, on_commit=None) -> dict:
        """Serve until ``stop`` is set, ``duration_s`` passes, or -- once a source has been heard --
        nothing arrived for ``idle_exit_s`` and nothing is pending. Returns a summary (counters,
        archive stats, latency percentiles)."""
        stop = stop or self._stop
        t_start = time.monotonic()
        self.ready.set()
        n_commits = self.commits
        try:
            while not stop.is_set():
                now = time.monotonic()
                if duration_s is not None and now - t_start >= duration_s:
                    break
                if idle_exit_s is not None and self.heard and now - self.last_activity >= idle_exit_s and not self.busy:
                    break
                self.step()
                if on_commit is not None and self.commits != n_commits:
                    n_commits = self.commits
                    on_commit(self)
            if self.degraded is None and (self._chunks or self._pending or self._dirty):
                self._commit()
        finally:
            self.ready.clear()
        return self.summary()

    def links(self) -> list[dict]:
        """Per source: id, spacecraft, up (heard within link_timeout_s), highest, acked, missing."""
        now = time.monotonic()
        return [{"source": t.source_id, "spacecraft": t.spacecraft, "up": now - t.last_seen < self.link_timeout_s,
                 "highest": t.highest, "acked": t.committed, "missing": t.n_missing()}
                for t in self.trackers.values()]

    def summary(self) -> dict:
        lat = np.concatenate(self.latency_s) if self.latency_s else np.zeros(0)
        out = self.platform.stats()
        out["latency_p50_ms"] = float(np.percentile(lat, 50) * 1e3) if lat.size else None
        out["latency_p99_ms"] = float(np.percentile(lat, 99) * 1e3) if lat.size else None
        out["latency_messages"] = int(lat.size)
        if self.degraded is not None:
            out["archive_error"] = self.degraded
        return out
