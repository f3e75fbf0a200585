"""The console's JSON API (the contract is in the README, "Console"): one handler per route.

Every handler reads its query or body through the checks below: a value it cannot use is a
400 with ``{"error": "one line"}``; an unknown spacecraft, parameter or alarm is a 404. Reads
need a session (or ``--public-read``), state changes an operator's session and its CSRF token
(:mod:`telemetry.console.app` enforces both before a handler runs). Blocking work (SQLite, orbit
propagation, password hashing) runs in the thread pool, never on the event loop.
"""
from __future__ import annotations

import json
import math
import time

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from ..archive import iso_utc, parse_time
from ..errors import ArchiveError
from ..samples import bucket_width_s
from . import maplayers
from .errors import BadRequest, NotFound
from .sessions import COOKIE

__all__ = ["ROUTES", "MAX_BODY_BYTES", "MAX_BUCKETS"]

MAX_BODY_BYTES = 16 << 10
MAX_BUCKETS = 10_000
_PLAN_SPAN_S = 14 * 86400.0
_SAMPLES_SPAN_S = 100 * 365.25 * 86400.0


# -- checks of what a request carries -------------------------------------------------------------
def _time(request, name: str) -> float | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if len(text) > 64:
        raise BadRequest(f"{name}: not an ISO 8601 time")
    try:
        value = parse_time(text, name)
    except ArchiveError as exc:
        raise BadRequest(str(exc)) from None
    if not math.isfinite(value):
        raise BadRequest(f"{name}: not a finite time")
    return value


def _integer(request, name: str, default: int, lo: int, hi: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name}: not an integer: {text[:40]!r}") from None
    if not lo <= value <= hi:
        raise BadRequest(f"{name}: {value} outside {lo}..{hi}")
    return value


def _choice(request, name: str, choices: tuple, default: str) -> str:
    value = request.query_params.get(name) or default
    if value not in choices:
        raise BadRequest(f"{name}: {value[:40]!r}, expected one of {', '.join(choices)}")
    return value


def _window(request, back_s: float, ahead_s: float, max_span_s: float, now_s: float) -> tuple[float, float]:
    """``start`` / ``end`` of the query; by default from ``back_s`` before now to ``ahead_s`` after."""
    start, end = _time(request, "start"), _time(request, "end")
    if start is None and end is None:
        start, end = now_s - back_s, now_s + ahead_s
    elif start is None:
        start = end - back_s - ahead_s
    elif end is None:
        end = start + back_s + ahead_s
    if not end > start:
        raise BadRequest("end must be after start")
    if end - start > max_span_s:
        raise BadRequest(f"window of {end - start:g} s: at most {max_span_s:g} s")
    return start, end


async def _body(request) -> dict:
    """The request's JSON object, at most ``MAX_BODY_BYTES``."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        raise BadRequest(f"body larger than {MAX_BODY_BYTES} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise BadRequest(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        doc = json.loads(bytes(data) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body: not JSON") from None
    if not isinstance(doc, dict):
        raise BadRequest("body: expected a JSON object")
    return doc


def _text(doc: dict, name: str, limit: int, required: bool = False) -> str:
    value = doc.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(f"{name}: expected text of at most {limit} characters")
    if required and not value:
        raise BadRequest(f"{name}: required")
    return value


def _console(request):
    return request.app.state.console


# -- session ------------------------------------------------------------------------------------------
async def login(request):
    c = _console(request)
    doc = await _body(request)
    user, password = _text(doc, "user", 64, True), _text(doc, "password", 1024, True)
    client = request.client.host if request.client else "?"
    wait = max(c.user_throttle.blocked(user), c.address_throttle.blocked(client))
    if wait > 0:
        return JSONResponse({"error": f"too many failed logins: try again in {math.ceil(wait)} s"}, 429,
                            headers={"Retry-After": str(math.ceil(wait))})

    def check():
        with c.password_checks:
            return c.users.authenticate(user, password)
    role = await run_in_threadpool(check)
    if role is None:
        c.user_throttle.failed(user)
        c.address_throttle.failed(client)
        return JSONResponse({"error": "wrong user name or password"}, 401)
    c.user_throttle.succeeded(user)
    token, s = c.sessions.create(user, role)
    r = JSONResponse({"user": user, "role": role, "csrf_token": s.csrf_token})
    r.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/", secure=request.url.scheme == "https")
    return r


async def logout(request):
    c = _console(request)
    c.sessions.end(request.cookies.get(COOKIE))
    r = JSONResponse({"logged_out": True})
    r.delete_cookie(COOKIE, path="/")
    return r


async def session(request):
    """Who this browser is (user None when not logged in) and its CSRF token."""
    s, c = request.state.session, _console(request)
    if s is None:
        return JSONResponse({"user": None, "role": None, "csrf_token": None, "public_read": c.public_read})
    return JSONResponse({"user": s.user, "role": s.role, "csrf_token": s.csrf_token, "public_read": c.public_read})


# -- status, passes, map ----------------------------------------------------------------------------------
async def status(request):
    c = _console(request)
    return JSONResponse(await run_in_threadpool(c.status))


async def passes(request):
    c = _console(request)
    station = request.query_params.get("station") or None
    start, end = _time(request, "start"), _time(request, "end")
    if c.passes is None:
        raise NotFound("no constellation: start the console with --scenario")
    return JSONResponse(await run_in_threadpool(c.passes.passes, station, start, end))


async def contacts(request):
    c = _console(request)
    if c.passes is None:
        raise NotFound("no constellation: start the console with --scenario")
    station = request.query_params.get("station") or None
    return JSONResponse(await run_in_threadpool(c.passes.contacts, station))


async def stations(request):
    c = _console(request)
    return JSONResponse([] if c.passes is None else c.passes.stations_info())


async def track(request):
    c = _console(request)
    if c.passes is None:
        raise NotFound("no constellation: start the console with --scenario")
    start, end = _time(request, "start"), _time(request, "end")
    if start is None or end is None:
        raise BadRequest("start and end are required")
    sat, station = request.query_params.get("satellite", ""), request.query_params.get("station", "")
    return JSONResponse(await run_in_threadpool(c.passes.pointing, sat, station, start, end))


async def map_layers(request):
    c = _console(request)
    if c.passes is None:
        raise NotFound("no constellation: start the console with --scenario")

    def layers():
        now = c.clock.now_s()
        cons, sts = c.passes.constellation, c.passes.stations
        return {"time_s": now, "time_utc": str(iso_utc([now])[0]), "satellites": maplayers.tracks(cons, now),
                "stations": maplayers.visibility_contours(sts, maplayers.mean_altitude_km(cons, now)),
                "terminator": maplayers.terminator(now)}
    return JSONResponse(await run_in_threadpool(layers))


async def land(request):
    resolution = _choice(request, "resolution", ("crude", "low"), "low")
    return JSONResponse(await run_in_threadpool(maplayers.land, resolution),
                        headers={"Cache-Control": "private, max-age=86400"})


# -- telemetry ---------------------------------------------------------------------------------------------
async def parameters(request):
    c = _console(request)

    def read():
        d = c.dictionary
        params = [] if d is None else [
            {"name": p.name, "packet": pt.name, "unit": p.unit, "description": p.description, "type": p.type,
             "enumeration": {str(k): v for k, v in p.enumeration.items()},
             "limits": {lvl: [_finite(p.low[i]), _finite(p.high[i])] for i, lvl in
                        enumerate(("watch", "warning", "distress", "critical"))}}
            for pt in d.packets for p in pt.parameters]
        return {"spacecraft": c.view().spacecraft(), "parameters": params}
    return JSONResponse(await run_in_threadpool(read))


def _finite(x):
    return float(x) if math.isfinite(x) else None


async def latest(request):
    c = _console(request)
    sc = request.path_params["spacecraft"]

    def read():
        v = c.view()
        if sc not in v.spacecraft():
            raise NotFound(f"no spacecraft {sc!r} in the archive")
        return {"spacecraft": sc, "parameters": v.latest(sc)}
    return JSONResponse(await run_in_threadpool(read))


async def samples(request):
    """Buckets of one parameter (``Archive.samples``); the bucket width in ``X-Bucket-Width-S``."""
    c = _console(request)
    sc, name = request.path_params["spacecraft"], request.path_params["name"]
    buckets = _integer(request, "buckets", 500, 1, MAX_BUCKETS)
    now = c.clock.now_s()
    start, end = _window(request, 3600.0, 0.0, _SAMPLES_SPAN_S, now)

    def read():
        v = c.view()
        if sc not in v.spacecraft():
            raise NotFound(f"no spacecraft {sc!r} in the archive")
        if c.dictionary is not None and name not in c.dictionary.parameters:
            raise NotFound(f"no parameter {name!r} in the dictionary")
        try:
            width = bucket_width_s(start, end, buckets)
        except ArchiveError as exc:
            raise BadRequest(str(exc)) from None
        return v.archive.samples(sc, name, start, end, buckets).records(), width
    rows, width = await run_in_threadpool(read)
    return JSONResponse(rows, headers={"X-Bucket-Width-S": str(width)})


# -- alarms -------------------------------------------------------------------------------------------------
async def alarms(request):
    c = _console(request)
    state = _choice(request, "state", ("open", "all"), "open")
    return JSONResponse(await run_in_threadpool(c.view().alarms, state, None))


def _alarm_id(request) -> int:
    text = request.path_params["alarm_id"]
    if not text.isdigit() or len(text) > 18:
        raise BadRequest(f"alarm id {text[:30]!r}: expected a positive integer")
    return int(text)


async def acknowledge(request):
    c = _console(request)
    alarm_id = _alarm_id(request)
    doc = await _body(request)
    comment = _text(doc, "comment", 2000)
    user = request.state.session.user
    return JSONResponse(await run_in_threadpool(c.write, "acknowledge_alarm", alarm_id, user, comment))


async def shelve(request):
    c = _console(request)
    alarm_id = _alarm_id(request)
    doc = await _body(request)
    comment = _text(doc, "comment", 2000)
    duration = doc.get("duration_s")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not math.isfinite(duration) \
            or not 0 < duration <= 30 * 86400:
        raise BadRequest("duration_s: expected a number of seconds, more than 0 and at most 30 days")
    user = request.state.session.user
    return JSONResponse(await run_in_threadpool(c.write, "shelve_alarm", alarm_id, user, float(duration), comment))


async def actions(request):
    c = _console(request)
    limit = _integer(request, "limit", 200, 1, 10_000)

    def read():
        rows = c.view().archive.actions().records()
        return rows[-limit:][::-1]
    return JSONResponse(await run_in_threadpool(read))


# -- plan and links ------------------------------------------------------------------------------------------
async def plan(request):
    c = _console(request)
    now = c.clock.now_s()
    start, end = _window(request, 2 * 3600.0, 10 * 3600.0, _PLAN_SPAN_S, now)

    def read():
        out = c.plan.activities(start, end) if c.plan is not None else {
            "source": None, "loaded": False, "error": None, "activities": []}
        out["passes"] = [] if c.passes is None else c.passes.window_passes(start, end)
        out["start_s"], out["end_s"] = start, end
        return out
    return JSONResponse(await run_in_threadpool(read))


async def links(request):
    c = _console(request)
    return JSONResponse(await run_in_threadpool(lambda: c.view().links(time.time(), c.link_timeout_s)))


async def live(websocket):
    c = websocket.app.state.console
    await websocket.accept()
    await c.hub.serve(websocket)


ROUTES = [
    ("POST", "/api/login", login, "none"),
    ("POST", "/api/logout", logout, "none"),
    ("GET", "/api/session", session, "none"),
    ("GET", "/api/status", status, "read"),
    ("GET", "/api/passes", passes, "read"),
    ("GET", "/api/contacts", contacts, "read"),
    ("GET", "/api/stations", stations, "read"),
    ("GET", "/api/track", track, "read"),
    ("GET", "/api/map", map_layers, "read"),
    ("GET", "/api/land", land, "read"),
    ("GET", "/api/parameters", parameters, "read"),
    ("GET", "/api/parameters/{spacecraft}", latest, "read"),
    ("GET", "/api/parameters/{spacecraft}/{name}/samples", samples, "read"),
    ("GET", "/api/alarms", alarms, "read"),
    ("POST", "/api/alarms/{alarm_id}/acknowledge", acknowledge, "operate"),
    ("POST", "/api/alarms/{alarm_id}/shelve", shelve, "operate"),
    ("GET", "/api/actions", actions, "read"),
    ("GET", "/api/plan", plan, "read"),
    ("GET", "/api/links", links, "read"),
]
