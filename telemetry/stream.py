"""ZeroMQ telemetry streams: the wire format (this docstring is its reference), validation, sources.

Sources PUB-connect to the platform's SUB endpoint (the platform binds). No pickle; every field
below is checked by :func:`decode_message` / :func:`parse_heartbeat` before it is used, and a
frame that fails is counted under its reason (``rejected.<reason>``) and dropped.

Stream message (PUB -> SUB), exactly 4 frames::

    0 topic      UTF-8, at most 96 bytes
                 "tm/<spacecraft>/<APID: 3 lowercase hex digits>"   data
                 "hb/<spacecraft>/<source id>"                      heartbeat
                 spacecraft: 1-32 printable characters, no "/"
    1 header     24 bytes, big-endian struct ">BBHQQI":
                 version (2), kind (1 data, 2 heartbeat; 3 = replayed data, replay socket only),
                 flags (0),
                 sequence (data: this message's number in its source, 1 .. 2**63 - 1;
                           heartbeat: the last data sequence sent, 0 .. 2**63 - 1),
                 send time (u64 ns since 1970-01-01 UTC),
                 packet count (data: 1 .. max_packets (10,000); heartbeat: 0)
    2 source id  UTF-8, 1-64 bytes, printable, no "/": "<name>-<24 hex digits>", the hex digits a
                 random nonce drawn when the source process starts; name: the source's key name
                 (with keys: required, it is what binds the id to the key), else its spacecraft
    3 body       data: 1 .. max_message_bytes (1 MiB) of CCSDS packets, concatenated
                 heartbeat: a UTF-8 JSON object of at most 4096 bytes, exactly
                   {"replay": endpoint (str, <= 256), "spacecraft": str (= the topic's),
                    "token": 32 lowercase hex digits, "sent_packets": int 0 .. 2**63 - 1}
                   (no floats, NaN or nesting)

Replay and acknowledgement (the platform's DEALER -> the source's ROUTER at its replay endpoint)::

    platform -> source  [b"REPLAY", source id, ">QQ" first, last, token]   first <= last
                        [b"ACK", source id, ">Q" sequence, token]
    source -> platform  [b"DATA", topic, header (kind 3), source id, body]  per message held
                        in [first, last] (the stream message, kind 3), then
                        [b"DONE", source id, ">QQ" first, last, ">Q" last sent,
                         JSON [[a, b], ...]: ranges within [first, min(last, last sent)] it no
                         longer holds (sequences above "last sent" were never sent)]

``ACK s``: every message <= s is archived or declared lost in a committed transaction; the
source frees them and may exit once its last message is acknowledged. A source ignores a
request whose source id or token is not its own (the token travels only in its heartbeats) and
an ACK beyond its last sent sequence.

Security: with a key directory (:mod:`telemetry.keys`), the platform's SUB is a CurveZMQ server
accepting only allow-listed client keys, and it takes a message's identity from the key of its
connection: a source id must start with the key's name and "-"; the topic's spacecraft (live
or replayed) must be one the key may publish; the platform connects only to replay endpoints the key's ``replay`` patterns
allow. A source's replay ROUTER is a CurveZMQ server accepting only the platform's key, so only
the platform can acknowledge. Without keys (plain TCP, development): anyone who reaches the
endpoint can publish under any name, and the first heartbeat of a source id binds its replay
endpoint and token (someone who knows an id before the platform has committed it can claim
it); but a message never makes another message of the same sequence be dropped unseen (its
packets are still compared with the archive, packet by packet),
the platform connects only to loopback / ipc / inproc replay endpoints (or the patterns given
as ``allow_replay``), and a forged ACK needs the source's token.

Limits and flow control: frames above ``max_message_bytes`` are refused by ZeroMQ
(``ZMQ_MAXMSGSIZE``: the peer is disconnected). PUB SNDHWM 10,000 messages on a source absorbs
a stalled platform; the platform's SUB RCVHWM is small (``rcvhwm`` messages per connection), so
its memory stays bounded in bytes; what a full queue drops is a sequence gap and comes back through
replay. A source keeps at most ``buffer_messages`` messages and ``buffer_bytes`` of packets for
replay (``evicted`` counts what fell out unacknowledged).
"""
from __future__ import annotations

import json
import secrets
import struct
import time
from typing import NamedTuple

import zmq

from .errors import StreamError
from .keys import SourceKeys
from .tracker import MAX_SEQ

__all__ = ["HEADER", "KIND_DATA", "KIND_HEARTBEAT", "KIND_REPLAY", "MAX_MESSAGE_BYTES", "MAX_PACKETS",
           "Message", "encode_message", "decode_message", "parse_heartbeat", "parse_done", "Source"]

HEADER = struct.Struct(">BBHQQI")
_RANGE = struct.Struct(">QQ")
_SEQ = struct.Struct(">Q")
WIRE_VERSION = 2
KIND_DATA, KIND_HEARTBEAT, KIND_REPLAY = 1, 2, 3
MAX_MESSAGE_BYTES = 1 << 20
MAX_PACKETS = 10_000
MAX_TOPIC_BYTES = 96
MAX_SOURCE_ID_BYTES = 64
MAX_HEARTBEAT_BYTES = 4096
_HB_FIELDS = {"replay": str, "spacecraft": str, "token": str, "sent_packets": int}
_HEX = frozenset("0123456789abcdef")


def valid_name(text: str, max_len: int) -> bool:
    """1..max_len printable characters without '/'."""
    return 0 < len(text) <= max_len and text.isprintable() and "/" not in text


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` if it is tcp://, ipc:// or inproc:// with an address; StreamError otherwise."""
    if not isinstance(endpoint, str) or "://" not in endpoint or len(endpoint) > 256:
        raise StreamError(f"endpoint {endpoint!r}: expected tcp://HOST:PORT, ipc://PATH or inproc://NAME")
    scheme, rest = endpoint.split("://", 1)
    if scheme not in ("tcp", "ipc", "inproc") or not rest:
        raise StreamError(f"endpoint {endpoint!r}: unsupported transport {scheme!r}")
    return endpoint


# -- envelope --------------------------------------------------------------------------------
class Message(NamedTuple):
    """A validated stream message; ``apid`` is None for a heartbeat."""

    kind: int
    seq: int
    send_ns: int
    n_packets: int
    spacecraft: str
    apid: int | None
    source_id: str
    body: object          # bytes-like


def encode_message(topic: str, kind: int, seq: int, source_id: str, body: bytes, n_packets: int,
                   send_ns: int | None = None) -> list[bytes]:
    """The four frames of a stream message."""
    send_ns = time.time_ns() if send_ns is None else send_ns
    return [topic.encode("utf-8"), HEADER.pack(WIRE_VERSION, kind, 0, seq, send_ns, n_packets),
            source_id.encode("utf-8"), body]


def _text(frame, max_bytes: int) -> str | None:
    if len(frame) > max_bytes:
        return None
    try:
        return bytes(frame).decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode_message(frames, *, max_message_bytes: int = MAX_MESSAGE_BYTES, max_packets: int = MAX_PACKETS,
                   replayed: bool = False) -> Message | str:
    """A :class:`Message`, or the reason (a short word) the frames are not a valid one.

    ``frames``: 4 bytes-like objects. ``replayed``: the frames of a DATA reply from a replay
    socket (kind 3, a data topic)."""
    if len(frames) != 4:
        return "frames"
    if len(frames[1]) != HEADER.size:
        return "header"
    version, kind, flags, seq, send_ns, n_packets = HEADER.unpack(bytes(frames[1]))
    if version != WIRE_VERSION:
        return "version"
    if flags:
        return "flags"
    if kind not in (KIND_DATA, KIND_HEARTBEAT, KIND_REPLAY) or (kind == KIND_REPLAY) != replayed:
        return "kind"
    if seq > MAX_SEQ or (kind != KIND_HEARTBEAT and seq < 1):
        return "sequence"
    if (kind == KIND_HEARTBEAT) != (n_packets == 0) or n_packets > max_packets:
        return "packet_count"
    sid = _text(frames[2], MAX_SOURCE_ID_BYTES)
    if sid is None or not valid_name(sid, MAX_SOURCE_ID_BYTES):
        return "source_id"
    body = frames[3]
    size = len(body)
    if size > (MAX_HEARTBEAT_BYTES if kind == KIND_HEARTBEAT else max_message_bytes) or \
            (kind != KIND_HEARTBEAT and size == 0):
        return "body_size"
    topic = _text(frames[0], MAX_TOPIC_BYTES)
    parts = topic.split("/") if topic is not None else []
    if len(parts) != 3 or not valid_name(parts[1], 32):
        return "topic"
    if kind != KIND_HEARTBEAT:
        if parts[0] != "tm" or len(parts[2]) != 3 or not set(parts[2]) <= _HEX:
            return "topic"
        return Message(kind, seq, send_ns, n_packets, parts[1], int(parts[2], 16), sid, body)
    if parts[0] != "hb" or parts[2] != sid:
        return "topic"
    return Message(kind, seq, send_ns, n_packets, parts[1], None, sid, body)


def _no_float(text):
    raise ValueError(f"not an integer: {text}")


def _small_int(text: str) -> int:
    if len(text) > 19:
        raise ValueError("integer too long")
    return int(text)


def parse_heartbeat(body, spacecraft: str) -> dict | str:
    """The heartbeat JSON object (validated), or the reason it is not one."""
    if len(body) > MAX_HEARTBEAT_BYTES:
        return "heartbeat_size"
    try:
        info = json.loads(bytes(body), parse_float=_no_float, parse_int=_small_int, parse_constant=_no_float)
    except (ValueError, RecursionError):
        return "heartbeat_json"
    if not isinstance(info, dict) or set(info) != set(_HB_FIELDS):
        return "heartbeat_fields"
    for key, kind in _HB_FIELDS.items():
        if type(info[key]) is not kind:
            return "heartbeat_fields"
    if not 0 <= info["sent_packets"] <= MAX_SEQ or info["spacecraft"] != spacecraft:
        return "heartbeat_fields"
    if len(info["token"]) != 32 or not set(info["token"]) <= _HEX:
        return "heartbeat_fields"
    try:
        check_endpoint(info["replay"])
    except StreamError:
        return "heartbeat_fields"
    return info


def parse_done(frames, source_id: str) -> tuple[int, int, int, list] | str:
    """[b"DONE", source id, first/last, last sent, JSON ranges] -> (first, last, last sent, ranges),
    or the reason it is not a valid DONE of ``source_id``."""
    if len(frames) != 5 or frames[1] != source_id.encode() or len(frames[2]) != _RANGE.size \
            or len(frames[3]) != _SEQ.size or len(frames[4]) > 65536:
        return "replay_done"
    first, last = _RANGE.unpack(frames[2])
    last_sent = _SEQ.unpack(frames[3])[0]
    try:
        ranges = json.loads(frames[4], parse_float=_no_float, parse_int=_small_int, parse_constant=_no_float)
    except (ValueError, RecursionError):
        return "replay_done"
    top = min(last, last_sent)
    if last_sent > MAX_SEQ or not 1 <= first <= last or not isinstance(ranges, list) or len(ranges) > 1024 or not all(
            isinstance(r, list) and len(r) == 2 and all(type(x) is int for x in r) and first <= r[0] <= r[1] <= top
            for r in ranges):
        return "replay_done"
    return first, last, last_sent, ranges


# -- source ----------------------------------------------------------------------------------
class Source:
    """A telemetry source: publishes packets, keeps a replay buffer, heartbeats, waits for acks.

    ``send(body, apid, n_packets)`` publishes one message; call ``poll()`` often (``send`` does)
    to serve replay requests and acks; ``close()`` waits until every message is acknowledged or
    ``linger_s`` has passed, and returns the counters. ``keys``: a key directory (or
    :class:`~telemetry.keys.SourceKeys`) holding ``key_name``'s secret key (default: the
    spacecraft name). ``context``: share one with an in-process PlatformServer to use
    ``inproc://`` endpoints.
    """

    def __init__(self, connect: str, *, spacecraft: str = "FS8-1", replay: str = "tcp://127.0.0.1:*",
                 keys=None, key_name: str | None = None, linger_s: float = 30.0, heartbeat_s: float = 0.5,
                 buffer_messages: int = 200_000, buffer_bytes: int = 256 << 20, sndhwm: int = 10_000,
                 source_id: str | None = None, max_message_bytes: int = MAX_MESSAGE_BYTES,
                 reconnect_ms: int = 100, context: zmq.Context | None = None):
        check_endpoint(connect)
        check_endpoint(replay)
        if not valid_name(str(spacecraft), 32):
            raise StreamError(f"spacecraft {spacecraft!r}: expected 1-32 printable characters without '/'")
        self.spacecraft = spacecraft
        self.keys = keys if isinstance(keys, SourceKeys) or keys is None else SourceKeys(keys, key_name or spacecraft)
        name = self.keys.name if self.keys is not None else spacecraft
        self.source_id = source_id or f"{name}-{secrets.token_hex(12)}"
        if not valid_name(self.source_id, MAX_SOURCE_ID_BYTES) or len(self.source_id.encode()) > MAX_SOURCE_ID_BYTES:
            raise StreamError(f"source id {self.source_id!r}: expected 1-64 bytes, printable, without '/'")
        self.token = secrets.token_hex(16)
        self.linger_s, self.heartbeat_s = float(linger_s), float(heartbeat_s)
        self.buffer_messages, self.buffer_bytes = int(buffer_messages), int(buffer_bytes)
        self.max_message_bytes = int(max_message_bytes)
        self._buffered_bytes = 0
        self._own_ctx = context is None
        self.ctx = context or zmq.Context()
        self._auth = None
        try:
            self.pub = self.ctx.socket(zmq.PUB)
            self.pub.setsockopt(zmq.SNDHWM, sndhwm)
            self.pub.setsockopt(zmq.LINGER, 2000)
            self.pub.setsockopt(zmq.RECONNECT_IVL, reconnect_ms)
            self.pub.setsockopt(zmq.RECONNECT_IVL_MAX, max(reconnect_ms, 2000))
            self.router = self.ctx.socket(zmq.ROUTER)
            self.router.setsockopt(zmq.SNDHWM, 100_000)
            self.router.setsockopt(zmq.LINGER, 0)
            self.router.setsockopt(zmq.MAXMSGSIZE, 4096)
            if self.keys is not None:
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
        self._buffer: list = []
        self._head = 0                      # index in _buffer of message _base
        self.counters = {"sent_messages": 0, "sent_packets": 0, "replayed_messages": 0, "replay_requests": 0,
                         "evicted": 0, "acks": 0, "unavailable_requested": 0, "rejected_requests": 0}
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

    def _held(self, seq: int) -> list:
        return self._buffer[self._head + seq - self._base]

    def _free_first(self) -> None:
        self._buffered_bytes -= len(self._buffer[self._head][3])
        self._buffer[self._head] = None
        self._head += 1
        self._base += 1
        if self._head > 4096 and self._head * 2 > len(self._buffer):
            del self._buffer[:self._head]
            self._head = 0

    def send(self, body: bytes, apid: int, n_packets: int) -> int:
        """Publish one message of ``n_packets`` packets of one APID; returns its sequence number."""
        if not 0 < len(body) <= self.max_message_bytes or not 0 < n_packets <= MAX_PACKETS or not 0 <= apid <= 0x7FF:
            raise StreamError(f"message of {len(body)} bytes, {n_packets} packets, APID {apid}: need 1 .. "
                              f"{self.max_message_bytes} bytes, 1 .. {MAX_PACKETS} packets, APID 0 .. 2047")
        self.seq += 1
        frames = encode_message(f"tm/{self.spacecraft}/{apid:03x}", KIND_DATA, self.seq, self.source_id,
                                body, n_packets)
        self._buffer.append(frames)
        self._buffered_bytes += len(body)
        while len(self._buffer) - self._head > self.buffer_messages or self._buffered_bytes > self.buffer_bytes:
            self._free_first()
            self.counters["evicted"] += 1
        self.pub.send_multipart(frames, copy=False)
        self.counters["sent_messages"] += 1
        self.counters["sent_packets"] += n_packets
        self.poll()
        return self.seq

    def heartbeat(self) -> None:
        body = json.dumps({"replay": self.replay_endpoint, "spacecraft": self.spacecraft, "token": self.token,
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
            for _ in range(10_000):
                try:
                    frames = self.router.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                self._serve(frames)
            if time.monotonic() >= deadline:
                return

    def _serve(self, frames: list[bytes]) -> None:
        """One request from the replay socket: [identity, command, source id, argument, token]."""
        if len(frames) != 5 or frames[2] != self.source_id.encode() or \
                not secrets.compare_digest(frames[4], self.token.encode()):
            self.counters["rejected_requests"] += 1
            return
        ident, cmd, arg = frames[0], frames[1], frames[3]
        if cmd == b"ACK" and len(arg) == _SEQ.size:
            seq = _SEQ.unpack(arg)[0]
            if seq > self.seq:                      # beyond what was sent: not from the platform
                self.counters["rejected_requests"] += 1
                return
            self.counters["acks"] += 1
            if seq > self.acked:
                self.acked = seq
                while self._base <= seq and self._head < len(self._buffer):
                    self._free_first()
                self._base = max(self._base, seq + 1)
        elif cmd == b"REPLAY" and len(arg) == _RANGE.size:
            first, last = _RANGE.unpack(arg)
            if not 1 <= first <= last:
                self.counters["rejected_requests"] += 1
                return
            self.counters["replay_requests"] += 1
            top = min(last, self.seq)
            unavailable = []
            if first < self._base and first <= top:
                unavailable.append([first, min(top, self._base - 1)])
                self.counters["unavailable_requested"] += unavailable[0][1] - first + 1
            for s in range(max(first, self._base), top + 1):
                f = self._held(s)
                header = HEADER.unpack(f[1])
                hdr = HEADER.pack(header[0], KIND_REPLAY, header[2], header[3], header[4], header[5])
                self.router.send_multipart([ident, b"DATA", f[0], hdr, f[2], f[3]], copy=False)
                self.counters["replayed_messages"] += 1
            self.router.send_multipart([ident, b"DONE", self.source_id.encode(), _RANGE.pack(first, last),
                                        _SEQ.pack(self.seq), json.dumps(unavailable).encode()])
        else:
            self.counters["rejected_requests"] += 1

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
