"""Who is asking: login sessions, CSRF tokens and the login throttle, in memory.

A login creates a session: a random 256-bit token sent as an HttpOnly, SameSite=Strict cookie,
and a separate random CSRF token returned in the login's JSON. A state-changing request must
carry the session cookie *and* the CSRF token in ``X-CSRF-Token``; another site can make a
browser send the cookie but cannot read the token. Sessions end on logout, after
``idle_s`` without a request, or ``max_s`` after login; the store is bounded (the oldest
session goes first). Sessions live in memory: a restarted console asks everyone to log in again.

Failed logins are throttled per user name (10 a minute: guessing one user's password) and per
client address (100 a minute: spraying many; higher, since every user behind a proxy or on
this machine shares one address): past that, attempts are refused (429) until the window has
passed. The console also runs at most two password checks (32 MiB each) at once.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

__all__ = ["Session", "Sessions", "LoginThrottle", "COOKIE"]

COOKIE = "groundseg_session"


@dataclass
class Session:
    user: str
    role: str
    csrf_token: str
    created_s: float
    seen_s: float


class Sessions:
    """Session tokens -> :class:`Session` (thread-safe)."""

    def __init__(self, *, idle_s: float = 12 * 3600.0, max_s: float = 7 * 86400.0, max_sessions: int = 10_000,
                 clock=time.monotonic):
        self.idle_s, self.max_s, self.max_sessions = float(idle_s), float(max_s), int(max_sessions)
        self._clock = clock
        self._by_token: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, user: str, role: str) -> tuple[str, Session]:
        now = self._clock()
        token = secrets.token_urlsafe(32)
        s = Session(user, role, secrets.token_urlsafe(32), now, now)
        with self._lock:
            while len(self._by_token) >= self.max_sessions:
                self._by_token.popitem(last=False)
            self._by_token[token] = s
        return token, s

    def get(self, token) -> Session | None:
        """The live session of ``token`` (touched), or None."""
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            return None
        now = self._clock()
        with self._lock:
            s = self._by_token.get(token)
            if s is None:
                return None
            if now - s.seen_s > self.idle_s or now - s.created_s > self.max_s:
                del self._by_token[token]
                return None
            s.seen_s = now
            self._by_token.move_to_end(token)
            return s

    def end(self, token) -> None:
        with self._lock:
            self._by_token.pop(token, None)

    def end_user(self, user: str) -> None:
        with self._lock:
            for t in [t for t, s in self._by_token.items() if s.user == user]:
                del self._by_token[t]

    @staticmethod
    def csrf_ok(session: Session, header) -> bool:
        return isinstance(header, str) and hmac.compare_digest(header.encode(), session.csrf_token.encode())


class LoginThrottle:
    """Counts failed logins per key (user name, client address) over a sliding window."""

    def __init__(self, *, max_failures: int = 10, window_s: float = 60.0, max_keys: int = 100_000,
                 clock=time.monotonic):
        self.max_failures, self.window_s, self.max_keys = int(max_failures), float(window_s), int(max_keys)
        self._clock = clock
        self._failures: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque:
        q = self._failures.get(key)
        if q is None:
            return deque()
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> float:
        """Seconds to wait before another attempt for any of ``keys`` (0: go ahead)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for k in keys:
                q = self._recent(k, now)
                if len(q) >= self.max_failures:
                    wait = max(wait, self.window_s - (now - q[0]))
        return wait

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for k in keys:
                q = self._failures.pop(k, None) or deque()
                q.append(now)
                while len(q) > self.max_failures:
                    q.popleft()
                self._failures[k] = q
                while len(self._failures) > self.max_keys:
                    self._failures.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
