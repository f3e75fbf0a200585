"""The command view's API over the archive's commanding (:class:`telemetry.commanding.Commanding`).

``GET /api/commands`` (counts, the queue, the newest history), ``GET /api/commands/dictionary``
(what can be sent), ``POST /api/commands`` (an operator submits: validated before anything is
stored; a normal command is released at once, a critical one waits) and
``POST /api/commands/{id}/release`` (a supervisor who did not submit it: the second person).
The console queues and releases; uplinking in contacts is the commanding uplink's job.
"""
from __future__ import annotations

import math

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from ..archive import parse_time
from ..errors import ArchiveError
from .api import _body, _console
from .errors import BadRequest

__all__ = ["ROUTES"]

_HISTORY_ROWS = 200


def _argument(a) -> dict:
    labels = list(a.enumeration.values()) if a.type == "enum" else None
    bounded = a.type in ("uint", "int", "float")
    return {"name": a.name, "type": a.type, "unit": a.unit, "description": a.description, "labels": labels,
            "minimum": a.minimum if bounded and math.isfinite(a.minimum) else None,
            "maximum": a.maximum if bounded and math.isfinite(a.maximum) else None}


async def dictionary(request):
    c = _console(request)

    def read(cmd):
        return {"commands": [{"name": d.name, "description": d.description, "critical": d.critical,
                              "arguments": [_argument(a) for a in d.arguments]}
                             for d in cmd.dictionary.commands.values() if d.service != 11]}
    return JSONResponse(await run_in_threadpool(c.commanding, read))


async def commands(request):
    c = _console(request)
    sc = request.query_params.get("spacecraft") or None
    if sc is not None and (len(sc) > 64 or not sc.isprintable()):
        raise BadRequest("spacecraft: expected a name of at most 64 printable characters")

    def read(cmd):
        history = cmd.history(sc).records()[-_HISTORY_ROWS:][::-1]
        return {"counts": cmd.counts(), "queue": cmd.queue(sc).records(), "history": history}
    return JSONResponse(await run_in_threadpool(c.commanding, read))


async def submit(request):
    c = _console(request)
    doc = await _body(request)
    sc, name, args = doc.get("spacecraft"), doc.get("name"), doc.get("arguments", {})
    if not isinstance(sc, str) or not isinstance(name, str) or not isinstance(args, dict):
        raise BadRequest('body: expected {"spacecraft": NAME, "name": COMMAND, "arguments": {...}}')
    when = doc.get("release_utc")
    release_s = None
    if when not in (None, ""):
        try:
            release_s = float(parse_time(str(when)[:64]))
        except (ArchiveError, ValueError):
            raise BadRequest("release_utc: not an ISO 8601 time") from None
    user = request.state.session.user
    cid = await run_in_threadpool(c.commanding, lambda cmd: cmd.submit(sc, name, args, user, release_time_s=release_s))
    row = await run_in_threadpool(c.commanding, lambda cmd: cmd.command(cid))
    return JSONResponse({"id": cid, "state": row["state"], "significance": row["significance"]})


async def release(request):
    c = _console(request)
    text = request.path_params["command_id"]
    if not text.isdigit() or len(text) > 18:
        raise BadRequest(f"command id {text[:20]!r}: expected a positive integer")
    cid = int(text)
    user = request.state.session.user

    def act(cmd):
        cmd.release(cid, user)
        return {"id": cid, "state": cmd.command(cid)["state"]}
    return JSONResponse(await run_in_threadpool(c.commanding, act))


ROUTES = [
    ("GET", "/api/commands", commands, "read"),
    ("GET", "/api/commands/dictionary", dictionary, "read"),
    ("POST", "/api/commands", submit, "operate"),
    ("POST", "/api/commands/{command_id}/release", release, "supervise"),
]
