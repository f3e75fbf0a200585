"""The console: one process that runs the operations platform and serves the web UI and the
JSON API over the same archive (Starlette on uvicorn).

Security model (README, "Console"):

- it binds to loopback unless told otherwise, and answers only requests whose ``Host`` is the
  address it serves (a DNS-rebinding page cannot read it);
- reading needs a session (``POST /api/login``), unless ``public_read``;
- a state-changing call needs a session of an ``operator`` or ``supervisor`` (releasing a
  critical command: a ``supervisor``), its CSRF token in ``X-CSRF-Token`` and, when the browser
  sends one, an ``Origin`` that is the console's own: anonymous -> 401, a viewer or a missing
  token -> 403;
- the websocket checks the session and the ``Origin`` at the handshake;
- every page carries a Content-Security-Policy that allows scripts, styles and connections
  only from the console itself (all assets are served from this package: no CDN);
- request bodies are at most 16 KiB; errors are one line of JSON, never a traceback.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from groundseg.errors import GroundsegError

from ..archive import Archive, iso_utc
from ..dictionary import Dictionary
from . import api, commands
from .archive_view import ArchiveView, alarm_summary
from .clock import WallClock
from .errors import ConsoleError, NotFound
from .live import Follower, Hub, PlatformThread
from .passes import PassWindow
from .plan import ContactsFile, PlanFile
from .sessions import COOKIE, LoginThrottle, Sessions
from .users import Users

__all__ = ["Console", "VIEWS"]

log = logging.getLogger("telemetry.console")

VIEWS = ("passes", "map", "telemetry", "alarms", "commands", "plan", "links")
#: Roles that may make a state-changing call: "operate" (acknowledge, shelve, submit a command) and
#: "supervise" (the second person who releases a critical command).
_ROLES_FOR = {"operate": ("operator", "supervisor"), "supervise": ("supervisor",)}
_NEEDS = {"operate": "an operator", "supervise": "a supervisor"}
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def _static_dir() -> str:
    return str(resources.files("telemetry.console").joinpath("static"))


class Console:
    """The console over ``archive`` (a path; created by the platform when ``listen`` is given).

    ``listen``/``keys``: run a :class:`~telemetry.server.PlatformServer` there; ``constellation``
    and ``stations`` (groundseg core objects): passes, map and plan; ``contacts``: the contact
    plan CSV the passes were scheduled with (else the console plans its own window); ``plan``: a
    plan timeline CSV (both read when they change); ``users``: a :class:`Users` (None: nobody can log
    in); ``public_read``: reading without login; ``clock``: :class:`WallClock` or
    :class:`ReplayClock`; ``platform_options``: more keyword arguments of the platform server;
    ``commands``: the archive holding the command history when it is not ``archive`` (the demo's).
    """

    def __init__(self, archive, *, listen: str | None = None, keys=None, dictionary: Dictionary | None = None,
                 constellation=None, stations=None, contacts=None, plan=None, users: Users | None = None,
                 public_read: bool = False, clock=None, link_timeout_s: float = 3.0, platform_options=None,
                 commands=None):
        self.archive_path = str(archive)
        self.commands_path = None if commands is None else str(commands)
        self.clock = clock or WallClock()
        self.users = users or Users.empty()
        self.public_read = bool(public_read)
        self.link_timeout_s = float(link_timeout_s)
        self.sessions = Sessions()
        self.user_throttle, self.address_throttle = LoginThrottle(max_failures=10), LoginThrottle(max_failures=100)
        self.password_checks = threading.BoundedSemaphore(2)
        self.hub = Hub()
        self.platform = None
        if listen is not None:
            from ..server import PlatformServer
            server = PlatformServer(listen, self.archive_path, dictionary, keys=keys, link_timeout_s=link_timeout_s,
                                    **(platform_options or {}))
            self.platform = PlatformThread(server, self._committed)
        probe = ArchiveView(self.archive_path, None)       # the archive must exist and be readable
        try:
            from ..monitor import _dictionary as archive_dictionary
            self.dictionary = archive_dictionary(probe.archive, dictionary)
        finally:
            probe.close()
        self.passes = None
        if constellation is not None:
            if not stations:
                raise ConsoleError("a constellation without stations: give stations too")
            self.passes = PassWindow(constellation, stations, self.clock,
                                     contacts=None if contacts is None else ContactsFile(contacts))
        self.plan = PlanFile(plan) if plan is not None else None
        self._local = threading.local()
        self._views: list[ArchiveView] = []
        self._views_lock = threading.Lock()
        self._writer: Archive | None = None
        self._write_lock = threading.Lock()
        self._commanding = None
        self._loop = None
        self.follower = Follower(self.archive_path, self.dictionary, clock=self.clock, passes=self.passes,
                                 publish=self._publish, link_timeout_s=self.link_timeout_s,
                                 poll_s=0.5 if self.platform is not None else 0.2)
        self.allowed_hosts: set[str] = set(_LOOPBACK)
        self.app = self._build_app()
        self._http = None

    # -- archive access ----------------------------------------------------------------------------------
    def view(self) -> ArchiveView:
        """This thread's read-only view of the archive."""
        v = getattr(self._local, "view", None)
        if v is None:
            v = self._local.view = ArchiveView(self.archive_path, self.dictionary)
            with self._views_lock:
                self._views.append(v)
        return v

    def write(self, method: str, alarm_id: int, *args) -> dict:
        """An operator action on alarm ``alarm_id`` (``acknowledge_alarm`` or ``shelve_alarm``)."""
        with self._write_lock:
            if self._writer is None:
                self._writer = Archive(self.archive_path, create=False)
            if not self._writer.execute("SELECT 1 FROM alarms WHERE id=?", (alarm_id,)):
                raise NotFound(f"no alarm with id {alarm_id}")
            return getattr(self._writer, method)(alarm_id, *args)

    def commanding(self, fn):
        """``fn(commanding)`` on the archive's :class:`~telemetry.commanding.Commanding` (one writer,
        the console's clock), serialised with the alarm actions."""
        with self._write_lock:
            if self._writer is None:
                self._writer = Archive(self.archive_path, create=False)
            if self._commanding is None:
                from ..commanding import Commanding
                where = self._writer if self.commands_path is None else Archive(self.commands_path, create=False)
                self._commanding = Commanding(where, clock=self.clock.now_s)
            return fn(self._commanding)

    def status(self) -> dict:
        import time
        v = self.view()
        wall = time.time()
        now = self.clock.now_s()
        summary = alarm_summary(v.alarms("open", wall))
        platform = None
        if self.platform is not None:
            platform = {"listening": self.platform.server.endpoint, "error": self.platform.error,
                        "degraded": self.platform.server.degraded}
        return {"time_utc": str(iso_utc([now])[0]), "spacecraft": v.spacecraft(),
                "packets_archived": v.counter("packets_archived"), "alarms_open": summary["open"],
                "alarms": summary, "time_s": now, "clock": self.clock.to_dict(), "platform": platform,
                "follower_error": self.follower.error, "archive": self.archive_path}

    # -- live ----------------------------------------------------------------------------------------------------
    def _committed(self) -> None:
        self.follower.wake.set()

    def _publish(self, texts: list[str]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self.hub.publish, texts)
            except RuntimeError:            # the loop closed meanwhile
                pass

    # -- the web app ----------------------------------------------------------------------------------------------
    def _build_app(self) -> Starlette:
        routes = [Route(path, self._guard(fn, need), methods=[method])
                  for method, path, fn, need in api.ROUTES + commands.ROUTES]
        routes.append(WebSocketRoute("/api/live", self._live))
        routes.append(Route("/api/{rest:path}", self._no_route, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]))
        index = FileResponse
        static = _static_dir()

        async def page(request):
            return index(f"{static}/index.html", media_type="text/html")
        routes.append(Route("/", page))
        for view in VIEWS + ("login",):
            routes.append(Route(f"/{view}", page))
            routes.append(Route(f"/{view}/{{rest:path}}", page))
        routes.append(Mount("/static", StaticFiles(directory=static), name="static"))
        app = Starlette(routes=routes, middleware=[Middleware(_SecurityHeaders, console=self),
                                                   Middleware(GZipMiddleware, minimum_size=2048)],
                        exception_handlers={Exception: _internal_error, 404: _not_found, 405: _not_allowed},
                        lifespan=self._lifespan)
        app.state.console = self
        return app

    @contextlib.asynccontextmanager
    async def _lifespan(self, app):
        self._loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            self._loop = None

    def _session(self, request):
        return self.sessions.get(request.cookies.get(COOKIE))

    def _origin_ok(self, headers) -> bool:
        origin = headers.get("origin")
        if origin is None:
            return True               # not a browser's cross-site request (browsers send Origin on POST)
        host = headers.get("host", "")
        return origin in (f"http://{host}", f"https://{host}")

    def _guard(self, fn, need: str):
        async def endpoint(request):
            s = self._session(request)
            request.state.session = s
            try:
                if need == "read" and s is None and not self.public_read:
                    return JSONResponse({"error": "log in first (POST /api/login)"}, 401)
                if need != "read" and request.method == "POST" and not self._origin_ok(request.headers):
                    return JSONResponse({"error": "cross-origin request refused"}, 403)
                if need in ("operate", "supervise"):
                    if s is None:
                        return JSONResponse({"error": "log in first (POST /api/login)"}, 401)
                    if s.role not in _ROLES_FOR[need]:
                        return JSONResponse({"error": f"{s.user} is a {s.role}: this needs {_NEEDS[need]}"}, 403)
                    if not self.sessions.csrf_ok(s, request.headers.get("x-csrf-token")):
                        return JSONResponse({"error": "missing or wrong X-CSRF-Token header"}, 403)
                return await fn(request)
            except GroundsegError as exc:
                status = getattr(exc, "status", 400)
                return JSONResponse({"error": _one_line(exc)}, status)
        return endpoint

    async def _live(self, websocket):
        s = self.sessions.get(websocket.cookies.get(COOKIE))
        if (s is None and not self.public_read) or not self._origin_ok(websocket.headers):
            await websocket.close(code=1008)
            return
        await api.live(websocket)

    async def _no_route(self, request):
        return JSONResponse({"error": f"no such API: {request.method} {request.url.path}"}, 404)

    # -- running -----------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the platform (when listening) and the live feed."""
        if self.platform is not None and not self.platform.is_alive():
            self.platform.start()
        if not self.follower.is_alive():
            self.follower.start()

    def serve_in_thread(self, host: str = "127.0.0.1", port: int = 8765) -> str:
        """Start everything and serve HTTP in a background thread; returns the base URL."""
        import uvicorn
        sock = _bind(host, port)
        bare = host.strip("[]")
        self.allowed_hosts |= {"*"} if bare in ("0.0.0.0", "::", "") else {host, bare}
        config = uvicorn.Config(self.app, log_level="warning", ws="websockets-sansio", lifespan="on",
                                access_log=False, server_header=False, ws_max_size=1 << 16, timeout_graceful_shutdown=2)
        self._http = uvicorn.Server(config)
        self.start()
        thread = threading.Thread(target=self._http.run, kwargs={"sockets": [sock]}, name="groundseg-console-http",
                                  daemon=True)
        thread.start()
        self._http_thread = thread
        while not self._http.started and thread.is_alive():
            threading.Event().wait(0.02)
        if not self._http.started:
            raise ConsoleError(f"the web server did not start on {host}:{port}")
        h, p = sock.getsockname()[:2]
        return f"http://{'[' + h + ']' if ':' in h else h}:{p}"

    @property
    def platform_endpoint(self) -> str | None:
        return None if self.platform is None else self.platform.server.endpoint

    def close(self) -> None:
        """Stop serving, the platform and the live feed; close the archive."""
        if self._http is not None:
            self._http.should_exit = True
            self._http_thread.join(10.0)
            self._http = None
        self.follower.stop()
        if self.follower.is_alive():
            self.follower.join(10.0)
        if self.platform is not None:
            self.platform.stop()
            if self.platform.is_alive():
                self.platform.join(30.0)
            else:
                self.platform.server.close()
        with self._views_lock:
            for v in self._views:
                try:
                    v.close()
                except Exception:
                    pass
            self._views.clear()
        if self._commanding is not None and self._commanding.archive is not self._writer:
            self._commanding.archive.close()
        self._commanding = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConsoleError(f"--http {host}:{port}: cannot listen: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _one_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:500]


async def _internal_error(request, exc):
    log.error("console: %s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": f"internal error ({type(exc).__name__}); the console logged it"}, 500)


async def _not_found(request, exc):
    return JSONResponse({"error": f"not found: {request.url.path}"}, 404)


async def _not_allowed(request, exc):
    return JSONResponse({"error": f"{request.method} is not allowed on {request.url.path}"}, 405)


class _SecurityHeaders:
    """Refuses requests for other hosts (DNS rebinding) and adds the security headers."""

    def __init__(self, app, console: Console):
        self.app, self.console = app, console

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", []))
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        allowed = self.console.allowed_hosts
        if "*" not in allowed and name not in allowed and name.strip("[]") not in allowed:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            response = JSONResponse({"error": f"host {host[:100]!r} is not served here"}, 400)
            return await response(scope, receive, send)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        api_path = scope["path"].startswith("/api/")
        extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                 (b"x-frame-options", b"DENY"),
                 (b"content-security-policy",
                  (f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                   f"connect-src 'self' ws://{host} wss://{host}; frame-ancestors 'none'; base-uri 'none'; "
                   f"form-action 'self'").encode("latin-1"))]
        if api_path:
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in have]
            await send(message)
        await self.app(scope, receive, send_with_headers)
