"""Shared pieces of the console tests: users, an HTTP client (real sockets), archives with alarms."""
import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
PASSWORDS = {"alice": "alice-password-1", "victor": "victor-password-1", "sam": "sam-password-1"}
ROLES = {"alice": "operator", "victor": "viewer", "sam": "supervisor"}


@pytest.fixture(scope="session")
def users_file(tmp_path_factory):
    from telemetry.console import add_user
    path = tmp_path_factory.mktemp("users") / "users.json"
    for name, role in ROLES.items():
        add_user(path, name, role, PASSWORDS[name])
    return path


class Client:
    """A browser-like HTTP client over real sockets: keeps the session cookie and CSRF token."""

    def __init__(self, base: str):
        u = urlsplit(base)
        self.base, self.host, self.port = base, u.hostname, u.port
        self.cookie: str | None = None
        self.csrf: str | None = None

    def request(self, method: str, path: str, body=None, *, headers=None, raw: bytes | None = None,
                csrf: bool = True):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = {"Accept": "application/json"}
        if self.cookie:
            h["Cookie"] = self.cookie
        if method != "GET" and csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        payload = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("groundseg_session="):
                self.cookie = v.split(";", 1)[0]
        conn.close()
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = payload.decode("utf-8", "replace")
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), doc

    def login(self, user: str) -> dict:
        status, _, doc = self.request("POST", "/api/login", {"user": user, "password": PASSWORDS[user]})
        assert status == 200, doc
        self.csrf = doc["csrf_token"]
        return doc


def hk_rows(d, n, *, t0, seq0=0, **overrides):
    """n nominal HK packets at 1 Hz from ``t0`` with overrides {name: (n,) array}."""
    from telemetry.publisher import housekeeping_values
    values = housekeeping_values(np.arange(n), seed=1)
    values.update(overrides)
    return d.encode("HK", values, time_s=t0 + np.arange(n), seq_start=seq0)


def groundseg(*args, input_text=None, timeout=300) -> subprocess.CompletedProcess:
    """Run ``groundseg`` (module form, this checkout first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "groundseg.cli", *map(str, args)], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, input=input_text, timeout=timeout)


def launch_chromium(playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
