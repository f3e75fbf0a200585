"""ZeroMQ telemetry streams: envelope, CurveZMQ keys, sources with replay buffers, gap tracking.

Sources PUB-connect to the platform's SUB endpoint (the platform binds). Wire format, no pickle:

Stream message (PUB -> SUB), 4 frames::

    0 topic      ASCII  "tm/<spacecraft>/<apid as 3 hex digits>"  (data)
                        "hb/<spacecraft>/<source id>"             (heartbeat)
    1 header     24 bytes, big-endian struct ">BBHQQI":
                 version (1), kind (1 data, 2 heartbeat, 3 replayed data), flags (0),
                 sequence (u64: data: this message's per-source number, from 1;
                           heartbeat: the last data sequence sent, 0 = none yet),
                 send time (u64 ns since 1970-01-01 UTC), packet count (u32)
    2 source id  UTF-8, at most 64 bytes; a new id per source process
    3 body       data: the CCSDS packets, concatenated (one APID per message)
                 heartbeat: UTF-8 JSON {"replay": endpoint, "public_key": Z85 or null,
                                        "spacecraft": name, "sent_packets": n}

Replay and acknowledgement (platform DEALER -> the source's ROUTER, bound at its replay endpoint)::

    request  [b"REPLAY", source id, ">QQ" first, last]   -> the source answers with
             [b"DATA", header, source id, body] per message it still holds (kind 3), then
             [b"DONE", source id, ">QQ" first, last, JSON list of [a, b] ranges it no longer holds]
    ack      [b"ACK", source id, ">Q" sequence]  every message <= sequence is archived (or
             declared lost); the source frees them and may exit once its last message is acked.

Security: with a key directory (``generate_keys``) the platform's SUB is a CurveZMQ server that
accepts only client keys in ``DIR/authorized_clients``; a source's replay ROUTER is a CurveZMQ
server that accepts only keys in ``DIR/authorized_platforms``. Without keys, plain TCP.

High-water marks are set on purpose: PUB SNDHWM and SUB RCVHWM 10,000 messages (about 1 M
packets at 100 packets a message) absorb a stalled commit; anything dropped beyond that is a
sequence gap and comes back through replay. A source keeps at most ``buffer_messages`` messages
and ``buffer_bytes`` of packets for replay (``evicted`` counts what fell out unacknowledged).
"""
from __future__ import annotations

import json
import shutil
import struct
import time
import uuid
from collections import deque
from pathlib import Path

import zmq

from .errors import StreamError

__all__ = ["HEADER", "KIND_DATA", "KIND_HEARTBEAT", "KIND_REPLAY", "generate_keys", "KeySet", "load_keys",
           "encode_message", "decode_message", "Source", "SourceTracker"]

HEADER = struct.Struct(">BBHQQI")
_RANGE = struct.Struct(">QQ")
_SEQ = struct.Struct(">Q")
WIRE_VERSION = 1
KIND_DATA, KIND_HEARTBEAT, KIND_REPLAY = 1, 2, 3


# -- keys -----------------------------------------------------------------------------------
def generate_keys(directory) -> dict[str, str]:
    """Write server and client CurveZMQ key pairs and the allow-lists into ``directory``.

    Files: server.key / server.key_secret, client.key / client.key_secret,
    authorized_clients/client.key (read by the platform), authorized_platforms/server.key (read
    by sources). Returns {role: public key file}.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    import zmq.auth
    server_pub, _ = zmq.auth.create_certificates(str(d), "server")
    client_pub, _ = zmq.auth.create_certificates(str(d), "client")
    for sub, pub in (("authorized_clients", client_pub), ("authorized_platforms", server_pub)):
        (d / sub).mkdir(exist_ok=True)
        shutil.copy(pub, d / sub / Path(pub).name)
    return {"server": str(server_pub), "client": str(client_pub)}


class KeySet:
    """Key material of one role read from a key directory."""

    def __init__(self, directory, role: str):
        import zmq.auth
        d = Path(directory)
        secret = d / f"{role}.key_secret"
        if not secret.is_file():
            raise StreamError(f"{secret}: missing (run 'groundseg telemetry keys --dir {d}')")
        try:
            self.public, self.secret = zmq.auth.load_certificate(str(secret))
            other = "client" if role == "server" else "server"
            self.peer_public = zmq.auth.load_certificate(str(d / f"{other}.key"))[0] if (d / f"{other}.key").is_file() else None
        except (OSError, ValueError) as exc:
            raise StreamError(f"{secret}: unreadable key file ({exc})") from None
        self.directory = d
        self.allowed_dir = d / ("authorized_clients" if role == "server" else "authorized_platforms")
        if not self.allowed_dir.is_dir():
            raise StreamError(f"{self.allowed_dir}: missing allow-list directory")
        self.allowed = set()
        for f in self.allowed_dir.glob("*.key"):
            try:
                self.allowed.add(zmq.auth.load_certificate(str(f))[0])
            except (OSError, ValueError) as exc:
                raise StreamError(f"{f}: unreadable public key ({exc})") from None

    def start_authenticator(self, ctx: zmq.Context):
        """Start a ZAP handler in ``ctx`` that accepts only the allow-listed keys."""
        from zmq.auth.thread import ThreadAuthenticator
        auth = ThreadAuthenticator(ctx)
        auth.start()
        auth.configure_curve(domain="*", location=str(self.allowed_dir))
        return auth


def load_keys(directory, role: str) -> KeySet | None:
    """KeySet for ``role`` ('server' or 'client'), or None if ``directory`` is None."""
    return None if directory is None else KeySet(directory, role)


# -- envelope --------------------------------------------------------------------------------
def encode_message(topic: str, kind: int, seq: int, source_id: str, body: bytes, n_packets: int,
                   send_ns: int | None = None) -> list[bytes]:
    """The four frames of a stream message."""
    send_ns = time.time_ns() if send_ns is None else send_ns
    return [topic.encode("ascii"), HEADER.pack(WIRE_VERSION, kind, 0, seq, send_ns, n_packets),
            source_id.encode("utf-8"), body]


def decode_message(frames: list[bytes]) -> tuple[str, int, int, int, int, str, bytes] | None:
    """(topic, kind, seq, send_ns, n_packets, source_id, body), or None if not a valid message."""
    if len(frames) != 4 or len(frames[1]) != HEADER.size or len(frames[2]) > 64:
        return None
    version, kind, _flags, seq, send_ns, n_packets = HEADER.unpack(frames[1])
    if version != WIRE_VERSION or kind not in (KIND_DATA, KIND_HEARTBEAT, KIND_REPLAY):
        return None
    try:
        topic = frames[0].decode("ascii")
        source_id = frames[2].decode("utf-8")
    except UnicodeDecodeError:
        return None
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] not in ("tm", "hb") or not source_id:
        return None
    return topic, kind, seq, send_ns, n_packets, source_id, frames[3]


def _check_endpoint(endpoint: str) -> str:
    if not isinstance(endpoint, str) or "://" not in endpoint:
        raise StreamError(f"endpoint {endpoint!r}: expected tcp://HOST:PORT, ipc://PATH or inproc://NAME")
    scheme, rest = endpoint.split("://", 1)
    if scheme not in ("tcp", "ipc", "inproc") or not rest:
        raise StreamError(f"endpoint {endpoint!r}: unsupported transport {scheme!r}")
    return endpoint


# -- source ----------------------------------------------------------------------------------
class Source:
    """A telemetry source: publishes packets, keeps a replay buffer, heartbeats, waits for acks.

    ``send(body, apid, n_packets)`` publishes one message; call ``poll()`` often (``send`` does)
    to serve replay requests and acks; ``close()`` waits until every message is acknowledged or
    ``linger_s`` has passed, and returns the counters. ``context``: share one with an in-process
    PlatformServer to use ``inproc://`` endpoints.
    """

    def __init__(self, connect: str, *, spacecraft: str = "FS8-1", replay: str = "tcp://127.0.0.1:*",
                 keys=None, linger_s: float = 30.0, heartbeat_s: float = 0.5,
                 buffer_messages: int = 200_000, buffer_bytes: int = 256 << 20, sndhwm: int = 10_000,
                 source_id: str | None = None,
                 context: zmq.Context | None = None):
        _check_endpoint(connect)
        _check_endpoint(replay)
        self.spacecraft = spacecraft
        self.source_id = source_id or f"{spacecraft}-{uuid.uuid4().hex[:12]}"
        self.linger_s, self.heartbeat_s = float(linger_s), float(heartbeat_s)
        self.buffer_messages, self.buffer_bytes = int(buffer_messages), int(buffer_bytes)
        self._buffered_bytes = 0
        self.keys = keys if isinstance(keys, KeySet) or keys is None else KeySet(keys, "client")
        self._own_ctx = context is None
        self.ctx = context or zmq.Context()
        self._auth = None
        try:
            self.pub = self.ctx.socket(zmq.PUB)
            self.pub.setsockopt(zmq.SNDHWM, sndhwm)
            self.pub.setsockopt(zmq.LINGER, 2000)
            self.pub.setsockopt(zmq.RECONNECT_IVL, 100)
            self.pub.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
            self.router = self.ctx.socket(zmq.ROUTER)
            self.router.setsockopt(zmq.SNDHWM, 100_000)
            self.router.setsockopt(zmq.LINGER, 0)
            if self.keys is not None:
                if self.keys.peer_public is None:
                    raise StreamError(f"{self.keys.directory}: server.key (the platform's public key) missing")
                self.pub.curve_secretkey = self.keys.secret
                self.pub.curve_publickey = self.keys.public
                self.pub.curve_serverkey = self.keys.peer_public
                self._auth = self.keys.start_authenticator(self.ctx)
                self.router.curve_server = True
                self.router.curve_secretkey = self.keys.secret
                self.router.curve_publickey = self.keys.public
            self.router.bind(replay)
            self.replay_endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
            self.pub.connect(connect)
        except zmq.ZMQError as exc:
            self._teardown()
            raise StreamError(f"{connect} / {replay}: {exc}") from None
        self.seq = 0
        self.acked = 0
        self._base = 1
        self._buffer: deque = deque()
        self.counters = {"sent_messages": 0, "sent_packets": 0, "replayed_messages": 0, "replay_requests": 0,
                         "evicted": 0, "acks": 0, "unavailable_requested": 0}
        self._next_hb = 0.0
        self.poll()

    def _teardown(self) -> None:
        for s in ("pub", "router"):
            if hasattr(self, s):
                getattr(self, s).close(0)
        if self._auth is not None:
            self._auth.stop()
        if self._own_ctx:
            self.ctx.term()

    def send(self, body: bytes, apid: int, n_packets: int) -> int:
        """Publish one message of ``n_packets`` packets of one APID; returns its sequence number."""
        self.seq += 1
        frames = encode_message(f"tm/{self.spacecraft}/{apid:03x}", KIND_DATA, self.seq, self.source_id,
                                body, n_packets)
        self._buffer.append(frames)
        self._buffered_bytes += len(body)
        while len(self._buffer) > self.buffer_messages or self._buffered_bytes > self.buffer_bytes:
            self._buffered_bytes -= len(self._buffer.popleft()[3])
            self._base += 1
            self.counters["evicted"] += 1
        self.pub.send_multipart(frames, copy=False)
        self.counters["sent_messages"] += 1
        self.counters["sent_packets"] += n_packets
        self.poll()
        return self.seq

    def heartbeat(self) -> None:
        body = json.dumps({"replay": self.replay_endpoint, "spacecraft": self.spacecraft,
                           "public_key": self.keys.public.decode() if self.keys else None,
                           "sent_packets": self.counters["sent_packets"]}).encode()
        self.pub.send_multipart(encode_message(f"hb/{self.spacecraft}/{self.source_id}", KIND_HEARTBEAT,
                                               self.seq, self.source_id, body, 0))
        self._next_hb = time.monotonic() + self.heartbeat_s

    def poll(self, timeout_s: float = 0.0) -> None:
        """Serve replay requests and acks for up to ``timeout_s``; send a heartbeat when due."""
        deadline = time.monotonic() + timeout_s
        while True:
            if time.monotonic() >= self._next_hb:
                self.heartbeat()
            wait_ms = max(0, min(deadline, self._next_hb) - time.monotonic()) * 1000
            if not self.router.poll(int(wait_ms) if timeout_s else 0):
                if time.monotonic() >= deadline:
                    return
                continue
            while True:
                try:
                    frames = self.router.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                self._serve(frames)
            if time.monotonic() >= deadline:
                return

    def _serve(self, frames: list[bytes]) -> None:
        if len(frames) < 4 or frames[2].decode("utf-8", "replace") != self.source_id:
            return
        ident, cmd = frames[0], frames[1]
        if cmd == b"ACK" and len(frames[3]) == _SEQ.size:
            seq = min(_SEQ.unpack(frames[3])[0], self.seq)
            self.counters["acks"] += 1
            if seq > self.acked:
                self.acked = seq
                while self._buffer and self._base <= seq:
                    self._buffered_bytes -= len(self._buffer.popleft()[3])
                    self._base += 1
        elif cmd == b"REPLAY" and len(frames[3]) == _RANGE.size:
            first, last = _RANGE.unpack(frames[3])
            last = min(last, self.seq)
            self.counters["replay_requests"] += 1
            unavailable = []
            if first < self._base:
                unavailable.append([first, min(last, self._base - 1)])
                self.counters["unavailable_requested"] += min(last, self._base - 1) - first + 1
            for s in range(max(first, self._base), last + 1):
                f = self._buffer[s - self._base]
                header = HEADER.unpack(f[1])
                hdr = HEADER.pack(header[0], KIND_REPLAY, header[2], header[3], header[4], header[5])
                self.router.send_multipart([ident, b"DATA", hdr, f[2], f[3]], copy=False)
                self.counters["replayed_messages"] += 1
            self.router.send_multipart([ident, b"DONE", self.source_id.encode(), _RANGE.pack(first, last),
                                        json.dumps(unavailable).encode()])

    @property
    def all_acked(self) -> bool:
        return self.acked >= self.seq

    def close(self, linger_s: float | None = None) -> dict:
        """Wait for acknowledgement of everything sent (at most ``linger_s``), then close."""
        linger = self.linger_s if linger_s is None else linger_s
        deadline = time.monotonic() + linger
        self.heartbeat()
        while not self.all_acked and time.monotonic() < deadline:
            self.poll(min(0.05, max(0.0, deadline - time.monotonic())))
        out = dict(self.counters, acked=self.acked, last_seq=self.seq, all_acked=self.all_acked,
                   source_id=self.source_id)
        self._teardown()
        return out


# -- platform-side tracking of one source ----------------------------------------------------
class SourceTracker:
    """Per-source message sequence state on the platform: gaps, recovery, acknowledgement.

    ``highest``: the highest sequence seen; ``missing``: ranges [a, b] not yet received;
    ``watermark()``: every sequence <= it is received or declared lost (what is acknowledged).
    """

    def __init__(self, source_id: str, *, highest: int = 0, missing=None, replay: str | None = None,
                 public_key: str | None = None, spacecraft: str = ""):
        self.source_id = source_id
        self.highest = highest
        self.missing: list[list[int]] = [list(r) for r in (missing or [])]
        self.replay, self.public_key, self.spacecraft = replay, public_key, spacecraft
        self.last_seen = time.monotonic()
        self.requested: dict[tuple[int, int], tuple[float, int]] = {}  # range -> (time, tries)
        self.held: dict[int, tuple] = {}     # platform side: messages received after a gap
        self.held_order: list[int] = []      # heap of their sequence numbers
        self.sent_packets = 0

    def watermark(self) -> int:
        return self.missing[0][0] - 1 if self.missing else self.highest

    def on_data(self, seq: int) -> tuple[bool, int]:
        """A live message: (is new, number of new gaps)."""
        self.last_seen = time.monotonic()
        if seq == self.highest + 1:
            self.highest = seq
            return True, 0
        if seq > self.highest + 1:
            self.missing.append([self.highest + 1, seq - 1])
            self.highest = seq
            return True, 1
        return self._fill(seq), 0

    def on_heartbeat(self, last_seq: int) -> int:
        """A heartbeat announcing ``last_seq``: number of new (tail) gaps."""
        self.last_seen = time.monotonic()
        if last_seq > self.highest:
            self.missing.append([self.highest + 1, last_seq])
            self.highest = last_seq
            return 1
        return 0

    def on_recovered(self, seq: int) -> bool:
        return self._fill(seq)

    def _fill(self, seq: int) -> bool:
        for i, (a, b) in enumerate(self.missing):
            if a <= seq <= b:
                if a == b:
                    del self.missing[i]
                elif seq == a:
                    self.missing[i][0] = a + 1
                elif seq == b:
                    self.missing[i][1] = b - 1
                else:
                    self.missing[i:i + 1] = [[a, seq - 1], [seq + 1, b]]
                return True
        return False

    def lose(self, first: int, last: int) -> int:
        """Declare [first, last] unrecoverable; returns how many were still missing."""
        lost = 0
        out = []
        for a, b in self.missing:
            lo, hi = max(a, first), min(b, last)
            if lo > hi:
                out.append([a, b])
                continue
            lost += hi - lo + 1
            if a < lo:
                out.append([a, lo - 1])
            if hi < b:
                out.append([hi + 1, b])
        self.missing = out
        return lost

    def to_json(self) -> str:
        return json.dumps({"highest": self.highest, "missing": self.missing, "replay": self.replay,
                           "public_key": self.public_key, "spacecraft": self.spacecraft,
                           "last_seen_s": time.time() - (time.monotonic() - self.last_seen),
                           "sent_packets": self.sent_packets})

    @classmethod
    def from_json(cls, source_id: str, text: str) -> "SourceTracker":
        d = json.loads(text)
        return cls(source_id, highest=int(d["highest"]), missing=d["missing"], replay=d.get("replay"),
                   public_key=d.get("public_key"), spacecraft=d.get("spacecraft", ""))
