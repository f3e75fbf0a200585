"""The live side of the console: the platform thread, the follower that turns what it commits
into typed messages, and the hub that sends them to every connected browser.

Threads: the :class:`~telemetry.server.PlatformServer` loop (when the console listens for
telemetry) wakes the :class:`Follower` after each commit; without a platform in this process
the follower looks every ``poll_s``. The follower reads the archive (:class:`ArchiveView`),
checks the pass table for AOS / LOS, and hands JSON texts to the event loop, where the
:class:`Hub` queues them for each websocket client.

Messages (``WS /api/live``), one JSON object per frame:

- ``{"type": "parameter", "spacecraft", "packet", "time_utc", "time_s", "values": {NAME:
  {"value", "state"}}}``: one packet's decoded values and limit states, as committed;
- ``{"type": "alarm", "alarm": RECORD | absent, "summary": {"open", "unacknowledged",
  "shelved", "highest_severity"}}``: an alarm raised, changed, cleared, acknowledged or
  shelved (RECORD as ``GET /api/alarms``), or only the summary when a shelf expired;
- ``{"type": "pass", "event": "aos" | "los", "satellite", "station", "time_utc", "antenna",
  "status"}``: a pass starts or ends on the console's clock;
- ``{"type": "link", "source", "spacecraft", "status": "connected" | "silent", ...}``: a
  source's counters changed (``GET /api/links`` rows), at most once a second.

A client that cannot keep up (``max_queue`` messages waiting) is disconnected with code 1013
(try again later) rather than letting its queue grow; the page reconnects and reloads. A
packet the platform rejects, a source that goes silent or a browser that goes away changes
nothing for the others.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

from ..archive import iso_utc
from .archive_view import ArchiveView, alarm_summary

__all__ = ["Hub", "Follower", "PlatformThread"]

log = logging.getLogger("telemetry.console")


class _Client:
    def __init__(self, max_queue: int):
        self.queue: asyncio.Queue = asyncio.Queue(max_queue)
        self.overflow = False


class Hub:
    """Websocket clients and their queues (used on the event loop only)."""

    def __init__(self, max_queue: int = 20_000):
        self.max_queue = int(max_queue)
        self.clients: set[_Client] = set()
        self.sent = 0
        self.disconnected_slow = 0

    def publish(self, texts: list[str]) -> None:
        for c in list(self.clients):
            if c.overflow:
                continue
            if c.queue.qsize() + len(texts) > self.max_queue:
                c.overflow = True
                c.queue.put_nowait(None)       # wakes the sender, which closes the socket
                continue
            for t in texts:
                c.queue.put_nowait(t)

    async def serve(self, websocket) -> None:
        """Send queued messages to ``websocket`` until it closes (or falls behind)."""
        client = _Client(self.max_queue + 1)
        self.clients.add(client)

        async def sender():
            while True:
                text = await client.queue.get()
                if text is None:
                    self.disconnected_slow += 1
                    await websocket.close(code=1013)
                    return
                await websocket.send_text(text)
                self.sent += 1

        async def receiver():
            while True:
                msg = await websocket.receive()
                if msg["type"] == "websocket.disconnect":
                    return

        tasks = [asyncio.ensure_future(sender()), asyncio.ensure_future(receiver())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.clients.discard(client)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


class Follower(threading.Thread):
    """Reads what the archive committed and publishes messages (see the module docstring)."""

    def __init__(self, archive_path, dictionary, *, clock, passes, publish, link_timeout_s: float = 3.0,
                 poll_s: float = 0.25):
        super().__init__(name="groundseg-console-follower", daemon=True)
        self.archive_path, self.dictionary = archive_path, dictionary
        self.clock, self.passes, self.publish = clock, passes, publish
        self.link_timeout_s, self.poll_s = float(link_timeout_s), float(poll_s)
        self.wake = threading.Event()
        self.stop_event = threading.Event()
        self.started_following = threading.Event()
        self.error: str | None = None
        self._links: dict[str, dict] = {}
        self._summary = None
        self._next_links = 0.0
        self._pass_mark = None

    def stop(self) -> None:
        self.stop_event.set()
        self.wake.set()

    def run(self) -> None:
        view = None
        while not self.stop_event.is_set():
            try:
                if view is None:
                    view = ArchiveView(self.archive_path, self.dictionary)
                    view.start_following()
                    self.started_following.set()
                texts = [json.dumps(m, allow_nan=False) for m in self._look(view)]
                if texts:
                    self.publish(texts)
                self.error = None
            except Exception as exc:            # the archive may be briefly unreadable: keep going
                message = f"{type(exc).__name__}: {exc}"
                if message != self.error:
                    log.warning("console: reading %s: %s", self.archive_path, message)
                self.error = message
                if view is not None and not self.started_following.is_set():
                    view.close()
                    view = None
                self.stop_event.wait(1.0)
            self.wake.wait(self.poll_s)
            self.wake.clear()
        if view is not None:
            view.close()

    def _look(self, view: ArchiveView) -> list[dict]:
        out, seen = view.new_samples()
        for t_last, received in seen:
            self.clock.observe(t_last, received)
        wall = time.time()
        changed = view.changed_alarms()
        if changed or wall >= self._next_links:
            summary = alarm_summary(view.alarms("open", wall))
            if changed:
                for rec in view.alarms("all", wall):
                    if rec["id"] in changed:
                        out.append({"type": "alarm", "alarm": rec, "summary": summary})
            elif summary != self._summary:
                out.append({"type": "alarm", "summary": summary})
            self._summary = summary
        if wall >= self._next_links:
            self._next_links = wall + 1.0
            view.new_counts()
            for link in view.links(wall, self.link_timeout_s):
                key = link["source"]
                if self._links.get(key) != link:
                    self._links[key] = link
                    out.append({"type": "link", **link})
        if self.passes is not None:
            now = self.clock.now_s()
            if self._pass_mark is None or now < self._pass_mark:
                self._pass_mark = now
            for e in self.passes.events(self._pass_mark, now):
                out.append({"type": "pass", **e, "time_utc": str(iso_utc([e["time_s"]])[0])})
            self._pass_mark = now
        return out


class PlatformThread(threading.Thread):
    """Runs a :class:`~telemetry.server.PlatformServer` (already bound) until stopped; after each
    commit calls ``on_commit()``. A failure is kept in ``error`` (the console keeps serving)."""

    def __init__(self, server, on_commit):
        super().__init__(name="groundseg-console-platform", daemon=True)
        self.server = server
        self.on_commit = on_commit
        self.stop_event = threading.Event()
        self.error: str | None = None
        self.summary: dict | None = None

    def run(self) -> None:
        try:
            self.summary = self.server.run(stop=self.stop_event, on_commit=lambda _s: self.on_commit())
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("console: the telemetry platform stopped: %s", self.error)
        finally:
            self.server.close()

    def stop(self) -> None:
        self.stop_event.set()
