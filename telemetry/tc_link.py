"""The uplink over ZeroMQ: telecommands to a (simulated) fleet, command reports back, one clock.

The fleet binds a ROUTER at its uplink endpoint; a ground station connects a DEALER
(:class:`GroundLink`). Wire format, no pickle; every message is 4 frames::

    0 kind     b"TC" | b"CLOCK" (ground -> fleet)      b"TM" | b"CLOCK" (fleet -> ground)
    1 header   10 bytes, big-endian ">BBQ": version (1), flags (0),
               time (u64 ns since 1970-01-01 UTC): TC: when the last bit reaches the spacecraft;
               CLOCK from the ground: advance the fleet's clock to this time (0: just tell me);
               TM / CLOCK from the fleet: the fleet's time when sent
    2 route    UTF-8: TC "<spacecraft>/<station>" (the station radiating it); TM "<spacecraft>"; CLOCK ""
    3 body     TC: one telecommand packet (telemetry.tc); TM: concatenated report packets
               (telemetry.tc_reports); CLOCK from the fleet: ">d" its real-time factor (0: virtual
               time, driven by the ground's TC and CLOCK times)

Ordering is the guarantee the ground relies on: the fleet answers a CLOCK after every report
it generated up to that time, on the same connection, so when :meth:`GroundLink.clock` returns,
every report up to that time is in :meth:`GroundLink.drain`.

Security: with a key directory (:mod:`telemetry.keys`: ``groundseg telemetry keys --dir DIR``,
then ``--source fleet --spacecraft '*'``) the fleet's ROUTER is a CurveZMQ server with the
``fleet`` key pair that accepts only the keys in ``authorized_platforms`` (the platform's, which
the ground uses), as the sources' replay endpoints do; the ground's DEALER trusts the fleet's
public key from ``authorized_clients``. Every frame is validated (sizes first) before use; a message
that is not valid is counted and dropped.
"""
from __future__ import annotations

import struct
import time

import zmq

from .errors import CommandError, StreamError
from .keys import PlatformKeys, SourceKeys
from .stream import check_endpoint

__all__ = ["LINK_HEADER", "CLOCK_BODY", "KINDS_UP", "KINDS_DOWN", "MAX_ROUTE_BYTES", "MAX_TM_BODY_BYTES", "encode_link", "decode_link",
           "time_ns", "link_socket", "GroundLink", "FLEET_KEY"]

LINK_HEADER = struct.Struct(">BBQ")
CLOCK_BODY = struct.Struct(">d")
#: The key name (:mod:`telemetry.keys`) of a simulated fleet: its uplink and its report sources.
FLEET_KEY = "fleet"
_VERSION = 1
MAX_ROUTE_BYTES = 160
MAX_TM_BODY_BYTES = 1 << 20
KINDS_UP = (b"TC", b"CLOCK")
KINDS_DOWN = (b"TM", b"CLOCK")


def time_ns(time_s: float) -> int:
    return max(0, int(round(float(time_s) * 1e9)))


def encode_link(kind: bytes, time_s: float, route: str = "", body: bytes = b"") -> list[bytes]:
    """The four frames of a link message."""
    return [kind, LINK_HEADER.pack(_VERSION, 0, time_ns(time_s)), route.encode("utf-8"), body]


def decode_link(frames: list, kinds, max_body: int) -> tuple[bytes, float, str, bytes] | None:
    """(kind, time_s, route, body) of a valid message of one of ``kinds``, else None."""
    if len(frames) != 4 or frames[0] not in kinds or len(frames[1]) != LINK_HEADER.size \
            or len(frames[2]) > MAX_ROUTE_BYTES or len(frames[3]) > max_body:
        return None
    version, _flags, ns = LINK_HEADER.unpack(frames[1])
    if version != _VERSION:
        return None
    try:
        route = frames[2].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return frames[0], ns / 1e9, route, frames[3]


def link_socket(ctx: zmq.Context, kind: int, max_message: int, endpoint: str, keys=None,
                key_name: str = FLEET_KEY):
    """A link socket with its options, bound (the fleet's ROUTER: a CurveZMQ server with the
    source key pair ``key_name`` and a ZAP handler for ``authorized_platforms``) or connected
    (the ground's DEALER: the platform's key pair, trusting ``key_name``'s public key from
    ``authorized_clients``) to ``endpoint``; returns (socket, authenticator or None). ``keys``:
    a key directory (:mod:`telemetry.keys`). StreamError if the endpoint or keys cannot be used."""
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 1000)
    sock.setsockopt(zmq.MAXMSGSIZE, max_message + 1024)
    sock.setsockopt(zmq.RCVHWM, 100_000)
    sock.setsockopt(zmq.SNDHWM, 100_000)
    server = kind == zmq.ROUTER
    auth = None
    try:
        if keys is not None:
            if server:
                ks = SourceKeys(keys, key_name)
                auth = ks.start_authenticator(ctx)
                sock.curve_server = True
            else:
                ks = PlatformKeys(keys)
                fleet = next((i.public_key for i in ks.identities.values() if i.name == key_name), None)
                if fleet is None:
                    raise StreamError(f"{ks.allowed_dir}: no key of {key_name!r} (groundseg telemetry keys --dir "
                                      f"{ks.directory} --source {key_name} --spacecraft '*')")
                sock.curve_serverkey = fleet.encode()
            sock.curve_secretkey = ks.secret
            sock.curve_publickey = ks.public
        (sock.bind if server else sock.connect)(endpoint)
    except BaseException as exc:
        sock.close(0)
        if auth is not None:
            auth.stop()
        if isinstance(exc, zmq.ZMQError):
            raise StreamError(f"{endpoint}: {exc}") from None
        raise
    return sock, auth


class GroundLink:
    """A ground station's connection to a fleet's uplink endpoint.

    ``send_tc`` radiates one telecommand; ``clock`` advances (or reads) the fleet's clock and
    waits for its answer, collecting reports meanwhile; ``drain`` returns the collected
    ``(spacecraft, time_s, packets)`` TM messages. ``keys``: a key directory (CurveZMQ).
    """

    def __init__(self, endpoint: str, *, keys=None, key_name: str = FLEET_KEY, context: zmq.Context | None = None,
                 timeout_s: float = 30.0):
        check_endpoint(endpoint)
        self.endpoint, self.timeout_s = endpoint, float(timeout_s)
        self._own_ctx = context is None
        self.ctx = context or zmq.Context()
        try:
            self.sock, _ = link_socket(self.ctx, zmq.DEALER, MAX_TM_BODY_BYTES, endpoint, keys, key_name)
        except BaseException:
            self.close()
            raise
        self._inbox: list[tuple[str, float, bytes]] = []
        self.bad_messages = 0
        self.fleet_time_s = 0.0
        self.realtime_factor = 0.0

    def send_tc(self, spacecraft: str, station: str, time_s: float, packet: bytes) -> None:
        """Radiate ``packet`` to ``spacecraft`` from ``station``; it arrives at ``time_s``."""
        if not 0 < len(packet) <= 65542:
            raise CommandError(f"a telecommand of {len(packet)} bytes cannot be radiated")
        self.sock.send_multipart(encode_link(b"TC", time_s, f"{spacecraft}/{station}", bytes(packet)))

    def clock(self, advance_to_s: float | None = None, timeout_s: float | None = None) -> float:
        """Advance the fleet's clock to ``advance_to_s`` (None: read it); returns the fleet's time
        once it answered (every report up to then is in :meth:`drain`)."""
        self.sock.send_multipart(encode_link(b"CLOCK", advance_to_s or 0.0))
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0 or not self.sock.poll(int(wait * 1000) + 1):
                raise StreamError(f"{self.endpoint}: the fleet did not answer within "
                                  f"{self.timeout_s if timeout_s is None else timeout_s:g} s")
            if self._receive_one():
                return self.fleet_time_s

    def poll(self, timeout_s: float = 0.0) -> None:
        """Collect whatever the fleet sent, waiting up to ``timeout_s`` for the first message."""
        if not self.sock.poll(int(timeout_s * 1000)):
            return
        while self.sock.poll(0):
            self._receive_one()

    def _receive_one(self) -> bool:
        """Read one message; True if it was a CLOCK answer."""
        m = decode_link(self.sock.recv_multipart(), KINDS_DOWN, MAX_TM_BODY_BYTES)
        if m is None:
            self.bad_messages += 1
            return False
        kind, t, route, body = m
        if kind == b"TM":
            self._inbox.append((route, t, body))
            return False
        if len(body) != CLOCK_BODY.size:
            self.bad_messages += 1
            return False
        self.fleet_time_s, self.realtime_factor = t, CLOCK_BODY.unpack(body)[0]
        return True

    def drain(self) -> list[tuple[str, float, bytes]]:
        """TM messages received so far: (spacecraft, fleet time, concatenated packets)."""
        self.poll(0.0)
        out, self._inbox = self._inbox, []
        return out

    def close(self) -> None:
        if hasattr(self, "sock"):
            self.sock.close(0)
        if self._own_ctx:
            self.ctx.term()
