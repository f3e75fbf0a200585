"""The simulated fleet's uplink: telecommands over ZeroMQ reach a spacecraft only in contact.

:class:`FleetUplink` binds a ROUTER at ``listen`` (the :mod:`telemetry.tc_link` wire format,
CurveZMQ with a key directory) in front of one :class:`~sims.onboard.OnboardComputer` per
satellite, and keeps the fleet's clock:

- **virtual time** (``realtime=None``): the clock follows the ground, never backwards: a TC
  arrives at the time its frame says (or now, if that is past), a CLOCK message advances it;
- **real time** (``realtime=F``): the clock runs ``F`` times faster than the wall clock from
  ``start_s``; a TC arrives when its frame does.

A TC radiated by station S reaches satellite X at time t only if the contact plan has S
tracking X at t (``contacts``) and no ``uplink_loss`` fault covers t; otherwise it is dropped
before the on-board software sees it (``dropped`` says why). Before anything happens at time
t, every on-board computer runs its schedule up to t. Reports go back as TM messages to every
ground peer heard from (the most recent :data:`MAX_PEERS`); the answer to a CLOCK follows every
report generated up to that time.
"""
from __future__ import annotations

import bisect
import math
import threading
import time
from collections import OrderedDict

import zmq

from telemetry.errors import StreamError
from telemetry.stream import check_endpoint
from telemetry.tc_link import (CLOCK_BODY, FLEET_KEY, KINDS_UP, MAX_TM_BODY_BYTES, decode_link, encode_link,
                               link_socket)
from telemetry.tc import MAX_TC_BYTES, request_id_of

from .errors import SimulationError

__all__ = ["FleetUplink", "MAX_PEERS"]

MAX_PEERS = 8


class FleetUplink:
    """The fleet's uplink endpoint (see the module docstring).

    ``computers``: {satellite name: OnboardComputer}; ``contacts``: ContactWindow-like objects
    (``spacecraft``, ``station``, ``start_s``, ``end_s``); ``losses``: (satellite, start_s,
    end_s) intervals in which uplinked commands are lost; ``on_reports``: called with (satellite,
    report packets) before they go to the ground peers (to publish them as telemetry too)."""

    def __init__(self, listen: str, computers: dict, contacts, *, start_s: float, realtime: float | None = None,
                 keys=None, key_name: str = FLEET_KEY, context: zmq.Context | None = None, losses=(),
                 on_reports=None):
        check_endpoint(listen)
        if realtime is not None and not 0 < realtime <= 1e6:
            raise SimulationError(f"--realtime must be in (0, 1e6], got {realtime:g}")
        self.computers = dict(computers)
        self._contacts: dict[tuple[str, str], tuple[list, list]] = {}
        for c in sorted(contacts, key=lambda c: c.start_s):     # one station tracks one pass at a time
            starts, ends = self._contacts.setdefault((c.spacecraft, c.station), ([], []))
            starts.append(float(c.start_s))
            ends.append(float(c.end_s))
        self.losses = [(str(s), float(a), float(b)) for s, a, b in losses]
        self.time_s, self.realtime, self.on_reports = float(start_s), realtime, on_reports
        self._start_s, self._wall0 = float(start_s), time.monotonic()
        self.received: list[tuple[str, str, float, int]] = []
        self.dropped: list[tuple[str, str, float, str]] = []
        self.bad_messages = 0
        self._peers: OrderedDict[bytes, None] = OrderedDict()
        self._own_ctx = context is None
        self.ctx = context or zmq.Context()
        self._auth = None
        try:
            self.sock, self._auth = link_socket(self.ctx, zmq.ROUTER, MAX_TC_BYTES, listen, keys, key_name)
        except BaseException as exc:
            self.close()
            if isinstance(exc, StreamError):
                raise SimulationError(f"cannot listen for the uplink: {exc}") from None
            raise
        self.endpoint = self.sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.ready = threading.Event()

    # -- the loop -------------------------------------------------------------------------------
    def serve(self, stop: threading.Event | None = None, *, until_s: float = math.inf, poll_s: float = 0.05,
              on_poll=None) -> None:
        """Answer the ground until ``stop`` is set or the fleet's clock reaches ``until_s``;
        ``on_poll`` is called every ``poll_s`` at most (to keep telemetry sources served)."""
        stop = stop or threading.Event()
        self.ready.set()
        while not stop.is_set() and self.time_s < until_s:
            if on_poll is not None:
                on_poll()
            if self.realtime is not None:
                self._advance(self._wall_time())
            if self.sock.poll(int(poll_s * 1000)):
                for _ in range(1000):
                    try:
                        frames = self.sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self._handle(frames)

    def _wall_time(self) -> float:
        return max(self.time_s, self._start_s + self.realtime * (time.monotonic() - self._wall0))

    def _advance(self, t: float) -> None:
        if t < self.time_s:
            return
        self.time_s = t
        for obc in self.computers.values():
            obc.advance(t)
        self._flush()

    def _handle(self, frames: list) -> None:
        if len(frames) != 5:
            self.bad_messages += 1
            return
        ident = frames[0]
        m = decode_link(frames[1:], KINDS_UP, MAX_TC_BYTES)
        if m is None:
            self.bad_messages += 1
            return
        self._peers.pop(ident, None)
        self._peers[ident] = None
        while len(self._peers) > MAX_PEERS:
            self._peers.popitem(last=False)
        kind, t, route, body = m
        now = self._wall_time() if self.realtime is not None else max(self.time_s, t)
        self._advance(now)
        if kind == b"CLOCK":
            self.sock.send_multipart([ident, *encode_link(b"CLOCK", self.time_s, "",
                                                          CLOCK_BODY.pack(self.realtime or 0.0))])
            return
        spacecraft, _, station = route.partition("/")
        reason = self._refused(spacecraft, station, self.time_s)
        if reason is not None:
            self.dropped.append((spacecraft, station, self.time_s, reason))
            return
        self.computers[spacecraft].receive(body, self.time_s)
        self.received.append((spacecraft, station, self.time_s, request_id_of(body) or 0))
        self._flush()

    def _refused(self, spacecraft: str, station: str, t: float) -> str | None:
        if spacecraft not in self.computers:
            return "unknown_spacecraft"
        starts, ends = self._contacts.get((spacecraft, station), ([], []))
        i = bisect.bisect_right(starts, t) - 1
        if i < 0 or ends[i] < t:
            return "no_contact"
        if any(s == spacecraft and a <= t < b for s, a, b in self.losses):
            return "uplink_loss"
        return None

    def _flush(self) -> None:
        for name, obc in self.computers.items():
            packets = obc.take_reports()
            if packets and self.on_reports is not None:
                self.on_reports(name, list(packets))
            while packets:
                body, size = [], 0
                while packets and size + len(packets[0]) <= MAX_TM_BODY_BYTES:
                    size += len(packets[0])
                    body.append(packets.pop(0))
                if not body:                       # one report larger than a message: cannot happen
                    packets.pop(0)
                    continue
                msg = encode_link(b"TM", self.time_s, name, b"".join(body))
                for ident in self._peers:
                    self.sock.send_multipart([ident, *msg])

    def start(self) -> "FleetUplink":
        """Serve in a background thread (until :meth:`close`)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.serve, args=(self._stop,), name="groundseg-fleet-uplink",
                                        daemon=True)
        self._thread.start()
        self.ready.wait(5.0)
        return self

    def close(self) -> None:
        if getattr(self, "_thread", None) is not None:
            self._stop.set()
            self._thread.join(10.0)
            self._thread = None
        if hasattr(self, "sock"):
            self.sock.close(0)
        if self._auth is not None:
            self._auth.stop()
        if self._own_ctx:
            self.ctx.term()
