"""The operations console: the platform, a web UI and a JSON API over one archive.

``groundseg console`` (and ``groundseg demo --console``) run a :class:`Console`: it listens
for telemetry (a :class:`~telemetry.server.PlatformServer`), follows what the archive commits
and serves six views (passes, map, telemetry, alarms, plan, links) and the API of the README's
"Console" section to browsers, over Starlette on uvicorn. Modules: ``app`` (the console, its
security), ``api`` (the routes), ``live`` (platform thread, follower, websocket hub),
``archive_view`` (what is read from the archive), ``passes`` (pass window, contact plan,
pointing), ``maplayers`` (tracks, visibility contours, terminator, land), ``plan`` (plan
timeline), ``clock`` (wall or replay clock), ``users`` (users file, scrypt hashes),
``sessions`` (sessions, CSRF, login throttle); ``static/`` holds the page, its scripts and
styles (written here: nothing is fetched from elsewhere).

Programmatic use::

    from telemetry.console import Console, Users
    c = Console("ops.sqlite", listen="tcp://127.0.0.1:5555", constellation=..., stations=...,
                users=Users("users.json"))
    url = c.serve_in_thread("127.0.0.1", 8765)     # ... c.close()
"""
from .app import VIEWS, Console
from .clock import ReplayClock, WallClock
from .errors import BadRequest, ConsoleError, NotFound
from .users import ROLES, UserError, Users, add_user

__all__ = ["Console", "VIEWS", "ReplayClock", "WallClock", "ConsoleError", "BadRequest", "NotFound", "Users",
           "UserError", "ROLES", "add_user"]
